/* leases.c - leases on the node: see leases.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "market/market.h"
#include "node/leases.h"
#include "node/priv.h"

#define NLS_TICK_MS   500
#define NLS_SLOTS_MAX 4096 /* leases tracked (ours, either side) */

enum {
	NLS_NEW     = 0, /* provider: not decided yet */
	NLS_SERVED  = 1,
	NLS_REFUSED = 2, /* closing at zero */
	NLS_ENDED   = 3, /* closed or expired: nothing more to do */
};

typedef struct {
	ledger_id id;
	int       provider; /* 1: our node serves it; 0: we pay it */
	int       state;    /* NLS_* (provider) */
	int       busy;     /* an entry or a receipt for it is out */
	/* Provider: the best receipt held, and draws. */
	market_receipt best;
	int            has_best;
	uint32_t       since_draw;
	uint64_t       last_draw; /* unix seconds */
	/* Renter: what was sent. */
	uint64_t sent_seq, sent_amount, used_ns, last_sent;
} nls_slot;

struct node_leases {
	node         *n;
	ledger_store *s;
	node_market  *m;
	node_own     *o;
	gh_ed_pub     pub;
	char          dir[PATH_MAX]; /* <data_dir>/node/leases */
	uint32_t      draw_every, draw_s, receipt_s;
	nls_slot     *slots;
	uint32_t      nslots;
	int           loaded;
};

/* ------------------------------------------------------------------ */
/* Slots and their files. */

static void
nls_path(const node_leases *ls, const ledger_id *id, const char *ext,
    char *out, size_t cap)
{
	char hex[65];

	gh_hex_encode(id->b, 32, hex);
	snprintf(out, cap, "%s/%s.%s", ls->dir, hex, ext);
}

/* Provider: the best receipt, as market_receipt bytes. */
static int
nls_save_best(node_leases *ls, nls_slot *sl)
{
	char     path[PATH_MAX + 80];
	uint8_t *p = NULL;
	size_t   n;
	int      rv;

	nls_path(ls, &sl->id, "receipt", path, sizeof(path));
	if ((rv = market_receipt_encode(&sl->best, &p, &n)) == GH_OK) {
		rv = gh_file_write_atomic(path, p, n, 0600);
	}
	free(p);
	return (rv);
}

/* Renter: u64 seq, u64 amount, u64 device ns. */
static int
nls_save_sent(node_leases *ls, nls_slot *sl)
{
	char    path[PATH_MAX + 80];
	uint8_t b[24];

	nls_path(ls, &sl->id, "sent", path, sizeof(path));
	gh_be64_put(b, sl->sent_seq);
	gh_be64_put(b + 8, sl->sent_amount);
	gh_be64_put(b + 16, sl->used_ns);
	return (gh_file_write_atomic(path, b, sizeof(b), 0600));
}

static void
nls_load(node_leases *ls, nls_slot *sl)
{
	char     path[PATH_MAX + 80];
	uint8_t *p = NULL;
	size_t   n;

	/* Both: a renter may use the provider's own node. */
	nls_path(ls, &sl->id, "receipt", path, sizeof(path));
	if (gh_file_read(path, MARKET_RECEIPT_MAX, &p, &n) == GH_OK
	    && market_receipt_decode(p, n, &sl->best) == GH_OK
	    && memcmp(sl->best.lease.b, sl->id.b, 32) == 0) {
		sl->has_best = 1;
	}
	free(p);
	p = NULL;
	nls_path(ls, &sl->id, "sent", path, sizeof(path));
	if (gh_file_read(path, 24, &p, &n) == GH_OK && n == 24) {
		sl->sent_seq    = gh_be64_get(p);
		sl->sent_amount = gh_be64_get(p + 8);
		sl->used_ns     = gh_be64_get(p + 16);
	}
	free(p);
}

static nls_slot *
nls_find(node_leases *ls, const ledger_id *id)
{
	for (uint32_t i = 0; i < ls->nslots; i++) {
		if (memcmp(ls->slots[i].id.b, id->b, 32) == 0) {
			return (&ls->slots[i]);
		}
	}
	return (NULL);
}

/* The slot of a lease of ours (either side); NULL when it is not ours
 * or the table is full. */
static nls_slot *
nls_get(node_leases *ls, const ledger_id *id, const ledger_lease *l)
{
	nls_slot *sl = nls_find(ls, id);
	int       provider;

	if (sl != NULL) {
		return (sl);
	}
	provider = memcmp(l->node.b, ls->pub.b, 32) == 0;
	if (!provider && memcmp(l->receipt_key.b, ls->pub.b, 32) != 0) {
		return (NULL);
	}
	if (ls->nslots >= NLS_SLOTS_MAX) {
		/* Reuse an ended one. */
		for (uint32_t i = 0; i < ls->nslots; i++) {
			if (ls->slots[i].state == NLS_ENDED
			    && !ls->slots[i].busy) {
				sl = &ls->slots[i];
				break;
			}
		}
		if (sl == NULL) {
			return (NULL);
		}
	} else {
		sl = &ls->slots[ls->nslots++];
	}
	memset(sl, 0, sizeof(*sl));
	sl->id       = *id;
	sl->provider = provider;
	sl->state    = l->state == LEDGER_LEASE_ACTIVE ? NLS_NEW : NLS_ENDED;
	if (sl->state == NLS_NEW && !ls->loaded) {
		/* Active at start-up: it was decided before. */
		sl->state = NLS_SERVED;
	}
	nls_load(ls, sl);
	return (sl);
}

/* ------------------------------------------------------------------ */
/* Provider. */

typedef struct {
	node_leases *ls;
	ledger_id    id;
} nls_ctx;

static void
nls_entry_done(void *arg, int status, const gh_hash *h)
{
	nls_ctx  *c  = arg;
	nls_slot *sl = nls_find(c->ls, &c->id);
	char      hex[65];

	(void) h;
	gh_hex_encode(c->id.b, 32, hex);
	if (status != GH_OK) {
		node_log(0, "warn",
		    "msg=\"lease entry refused\" lease=%s err=\"%s\"", hex,
		    gh_strerror(status));
	}
	if (sl != NULL) {
		sl->busy = 0;
	}
	free(c);
}

/* Queues a DRAW or CLOSE on our chain (r NULL: close at zero). */
static int
nls_act(node_leases *ls, nls_slot *sl, const ledger_lease *l, int kind,
    const market_receipt *r)
{
	ledger_entry e;
	nls_ctx     *c;
	int          rv;

	memset(&e, 0, sizeof(e));
	e.kind                  = (uint8_t) kind;
	e.nconsumes             = 1;
	e.consumes[0].type      = LEDGER_OBJ_LEASE;
	e.consumes[0].id        = sl->id;
	e.consumes[0].version   = l->version;
	e.body.lease_draw.lease = sl->id;
	if (r != NULL) {
		e.body.lease_draw.receipt_seq    = r->seq;
		e.body.lease_draw.receipt_amount = r->amount;
		e.body.lease_draw.receipt_sig    = r->sig;
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	c->ls    = ls;
	c->id    = sl->id;
	sl->busy = 1;
	if ((rv = node_own_submit(ls->o, &e, nls_entry_done, c)) != GH_OK) {
		sl->busy = 0;
		free(c);
	}
	return (rv);
}

/* Whether a new lease fits the node's live offer and a free unit. */
static int
nls_decide(node_leases *ls, const ledger_lease *l, uint64_t now)
{
	market_offer    of;
	market_asset_id a;
	uint32_t        served = 0;
	uint64_t        len    = l->expiry - l->start;

	memcpy(a.b, l->asset.b, 32);
	if (market_book_get(node_market_book(ls->m), &a, &of) != GH_OK
	    || memcmp(of.node.b, ls->pub.b, 32) != 0 || of.capacity == 0
	    || now >= l->expiry || l->price < of.price
	    || l->billing != of.billing
	    || (of.min_lease > 0 && len < of.min_lease)
	    || (of.max_lease > 0 && len > of.max_lease)) {
		return (NLS_REFUSED);
	}
	for (uint32_t i = 0; i < ls->nslots; i++) {
		const nls_slot *o = &ls->slots[i];
		ledger_lease    ol;
		if (!o->provider || o->state != NLS_SERVED
		    || ledger_store_lease(ls->s, &o->id, &ol) != GH_OK
		    || ol.state != LEDGER_LEASE_ACTIVE
		    || memcmp(ol.asset.b, l->asset.b, 32) != 0) {
			continue;
		}
		served++;
	}
	return (served < of.capacity ? NLS_SERVED : NLS_REFUSED);
}

static void
nls_provider_tick(
    node_leases *ls, nls_slot *sl, const ledger_lease *l, uint64_t now)
{
	const ledger_genesis *g = ledger_store_genesis(ls->s);
	uint64_t              close_by;

	if (sl->busy) {
		return;
	}
	if (sl->state == NLS_NEW) {
		sl->state = nls_decide(ls, l, now);
		if (sl->state == NLS_REFUSED) {
			node_log(0, "info",
			    "msg=\"lease refused: no free "
			    "capacity or terms outside the "
			    "offer; closing at zero\"");
		}
	}
	close_by = l->expiry + g->lease_grace;
	if (sl->state == NLS_REFUSED) {
		if (now <= close_by) {
			(void) nls_act(ls, sl, l, LEDGER_LEASE_CLOSE, NULL);
		}
		return;
	}
	if (now >= l->expiry) {
		if (now <= close_by) {
			int fresh = sl->has_best && sl->best.seq > l->last_seq;
			(void) nls_act(ls, sl, l, LEDGER_LEASE_CLOSE,
			    fresh ? &sl->best : NULL);
		}
		return;
	}
	if (sl->has_best && sl->best.seq > l->last_seq
	    && sl->best.amount > l->drawn
	    && (sl->since_draw >= ls->draw_every
	        || (ls->draw_s > 0 && now >= sl->last_draw + ls->draw_s))) {
		if (nls_act(ls, sl, l, LEDGER_LEASE_DRAW, &sl->best)
		    == GH_OK) {
			sl->since_draw = 0;
			sl->last_draw  = now;
		}
	}
}

/* NODE_REQ_LEASE: a receipt from the renter's node. */
static int
nls_req_receipt(void *arg, const gh_ed_pub *peer, const uint8_t *req, size_t n,
    gh_writer *out)
{
	node_leases    *ls = arg;
	market_receipt  r;
	market_lease_id lid;
	ledger_lease    l;
	ledger_id       id;
	nls_slot       *sl;
	int             rv;

	(void) peer;
	(void) out;
	if ((rv = market_receipt_decode(req, n, &r)) != GH_OK) {
		return (rv);
	}
	memcpy(id.b, r.lease.b, 32);
	if ((rv = ledger_store_lease(ls->s, &id, &l)) != GH_OK) {
		return (rv);
	}
	if (memcmp(l.node.b, ls->pub.b, 32) != 0) {
		return (GH_EPERM);
	}
	if (l.state != LEDGER_LEASE_ACTIVE) {
		return (GH_ECLOSED);
	}
	if ((sl = nls_get(ls, &id, &l)) == NULL) {
		return (GH_EFULL);
	}
	if (sl->has_best && r.seq == sl->best.seq
	    && memcmp(r.sig.b, sl->best.sig.b, 64) == 0) {
		return (GH_OK); /* the same receipt again */
	}
	memcpy(lid.b, id.b, 32);
	if ((rv = market_receipt_accept(sl->has_best ? &sl->best : NULL, &r,
	         &lid, &l.receipt_key, l.escrow))
	    != GH_OK) {
		return (rv);
	}
	sl->best     = r;
	sl->has_best = 1;
	sl->since_draw++;
	if ((rv = nls_save_best(ls, sl)) != GH_OK) {
		return (rv);
	}
	nls_provider_tick(ls, sl, &l, gh_time_now());
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Renter. */

typedef struct {
	node_leases *ls;
	ledger_id    id;
	node        *n;
	void        *token; /* a lease-pay waiting for the answer */
	uint64_t     seq, amount;
} nls_send;

static void
nls_sent(void *arg, int err, const uint8_t *body, size_t n)
{
	nls_send *s  = arg;
	nls_slot *sl = nls_find(s->ls, &s->id);

	(void) body;
	(void) n;
	if (sl != NULL) {
		sl->busy = 0;
		if (err == GH_OK) {
			sl->last_sent = gh_time_now();
		}
	}
	if (s->token != NULL) {
		gh_writer w;
		gh_writer_init(&w);
		gh_put_u64(&w, s->seq);
		gh_put_u64(&w, s->amount);
		node_ctl_finish(s->n, s->token, err, err == GH_OK ? w.p : NULL,
		    err == GH_OK ? w.len : 0);
		gh_writer_free(&w);
	}
	free(s);
}

/* Signs a receipt for amount (cumulative) and sends it; the new state
 * is on disk first. */
static int
nls_send_receipt(node_leases *ls, nls_slot *sl, const ledger_lease *l,
    uint64_t amount, void *token)
{
	market_receipt r;
	nls_send      *s = NULL;
	uint8_t       *p = NULL;
	size_t         n;
	int            rv;

	if (amount > l->escrow) {
		amount = l->escrow;
	}
	if (amount < sl->sent_amount) {
		return (GH_ECONFLICT);
	}
	memset(&r, 0, sizeof(r));
	memcpy(r.lease.b, sl->id.b, 32);
	r.seq    = sl->sent_seq + 1;
	r.amount = amount;
	if ((rv = market_receipt_sign(&r, node_key_get(ls->n))) != GH_OK
	    || (rv = market_receipt_encode(&r, &p, &n)) != GH_OK) {
		goto out;
	}
	sl->sent_seq    = r.seq;
	sl->sent_amount = amount;
	if ((rv = nls_save_sent(ls, sl)) != GH_OK) {
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	s->ls     = ls;
	s->id     = sl->id;
	s->n      = ls->n;
	s->token  = token;
	s->seq    = r.seq;
	s->amount = amount;
	sl->busy  = 1;
	if (memcmp(l->node.b, ls->pub.b, 32) == 0) {
		/* The renter uses the provider's own node: no network. */
		rv = nls_req_receipt(ls, &ls->pub, p, n, NULL);
		nls_sent(s, rv, NULL, 0);
		rv = GH_OK;
	} else if ((rv = node_request(
	                ls->n, &l->node, NODE_REQ_LEASE, p, n, nls_sent, s))
	    != GH_OK) {
		sl->busy = 0;
		free(s);
	}
out:
	free(p);
	return (rv);
}

static void
nls_renter_tick(
    node_leases *ls, nls_slot *sl, const ledger_lease *l, uint64_t now)
{
	uint64_t until, owed;

	if (sl->busy || ls->receipt_s == 0
	    || l->billing != MARKET_BILLING_RESERVED || now < l->start
	    || now < sl->last_sent + ls->receipt_s) {
		return;
	}
	until = now < l->expiry ? now : l->expiry;
	if (market_escrow_amount(until - l->start, l->price, &owed) != GH_OK
	    || owed <= sl->sent_amount) {
		return;
	}
	(void) nls_send_receipt(ls, sl, l, owed, NULL);
}

/* lease-pay: see leases.h. */
static int
nls_ctl_pay(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_leases *ls = arg;
	gh_reader    r;
	ledger_id    id;
	ledger_lease l;
	nls_slot    *sl;
	uint8_t      mode;
	uint64_t     v, amount;
	void        *token;
	int          rv;

	(void) out;
	gh_reader_init(&r, req, len);
	if ((rv = gh_get_fixed(&r, id.b, 32)) != GH_OK
	    || (rv = gh_get_u8(&r, &mode)) != GH_OK
	    || (rv = gh_get_u64(&r, &v)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	if (mode > NODE_LEASES_PAY_DEVICE_NS) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_store_lease(ls->s, &id, &l)) != GH_OK) {
		return (rv);
	}
	if (memcmp(l.receipt_key.b, ls->pub.b, 32) != 0) {
		return (GH_EPERM); /* this node does not sign its receipts */
	}
	if (l.state != LEDGER_LEASE_ACTIVE) {
		return (GH_ECLOSED);
	}
	if ((sl = nls_get(ls, &id, &l)) == NULL) {
		return (GH_EFULL);
	}
	if (sl->busy) {
		return (GH_EBUSY);
	}
	if (mode == NODE_LEASES_PAY_DEVICE_NS) {
		if (l.billing != MARKET_BILLING_METERED) {
			return (GH_EINVAL);
		}
		if ((rv = gh_add_u64(sl->used_ns, v, &sl->used_ns)) != GH_OK
		    || (rv = market_metered_amount(
		            sl->used_ns, l.price, &amount))
		        != GH_OK) {
			return (rv);
		}
	} else {
		amount = v;
	}
	if (amount > l.escrow) {
		return (GH_EFUNDS);
	}
	token = node_ctl_defer(n);
	if ((rv = nls_send_receipt(ls, sl, &l, amount, token)) != GH_OK) {
		node_ctl_finish(n, token, rv, NULL, 0);
	}
	return (GH_EPENDING);
}

/* ------------------------------------------------------------------ */
/* The tick. */

typedef struct {
	node_leases *ls;
	uint64_t     now;
} nls_scan;

static int
nls_one(void *arg, const ledger_id *id, const ledger_lease *l)
{
	nls_scan *sc = arg;
	nls_slot *sl;

	if (memcmp(l->node.b, sc->ls->pub.b, 32) != 0
	    && memcmp(l->receipt_key.b, sc->ls->pub.b, 32) != 0) {
		return (0);
	}
	if ((sl = nls_get(sc->ls, id, l)) == NULL) {
		return (0);
	}
	if (l->state != LEDGER_LEASE_ACTIVE) {
		sl->state = NLS_ENDED;
		return (0);
	}
	if (sl->provider) {
		nls_provider_tick(sc->ls, sl, l, sc->now);
	}
	if (memcmp(l->receipt_key.b, sc->ls->pub.b, 32) == 0) {
		nls_renter_tick(sc->ls, sl, l, sc->now);
	}
	return (0);
}

static void
nls_tick(void *arg)
{
	node_leases *ls = arg;
	nls_scan     sc;

	sc.ls  = ls;
	sc.now = gh_time_now();
	(void) ledger_store_leases(ls->s, nls_one, &sc);
	ls->loaded = 1;
}

/* ------------------------------------------------------------------ */
/* Jobs. */

int
node_leases_job_ok(void *arg, const uint8_t lease[32], const gh_ed_pub *renter,
    char *why, size_t whycap)
{
	node_leases *ls = arg;
	ledger_id    id;
	ledger_lease l;
	nls_slot    *sl;
	uint64_t     now = gh_time_now();

	memcpy(id.b, lease, 32);
	if (ledger_store_lease(ls->s, &id, &l) != GH_OK) {
		snprintf(why, whycap, "no lease with this id on the ledger");
		return (GH_ENOENT);
	}
	if (memcmp(l.node.b, ls->pub.b, 32) != 0) {
		snprintf(why, whycap, "the lease is not served by this node");
		return (GH_EPERM);
	}
	if (memcmp(l.receipt_key.b, renter->b, 32) != 0) {
		snprintf(why, whycap,
		    "the job does not come from the lease's renter node");
		return (GH_EPERM);
	}
	if (l.state != LEDGER_LEASE_ACTIVE || now < l.start
	    || now >= l.expiry) {
		snprintf(why, whycap, "the lease is not active now");
		return (GH_EWINDOW);
	}
	if ((sl = nls_get(ls, &id, &l)) == NULL) {
		snprintf(why, whycap, "too many leases");
		return (GH_EFULL);
	}
	if (sl->state == NLS_NEW) {
		nls_provider_tick(ls, sl, &l, now);
	}
	if (sl->state != NLS_SERVED) {
		snprintf(why, whycap,
		    "the lease was refused (no free capacity or terms "
		    "outside the offer)");
		return (GH_EPERM);
	}
	return (GH_OK);
}

void
node_leases_proved(void *arg, const attest_transcript *t)
{
	node_leases *ls = arg;

	for (uint32_t i = 0; i < t->n_results; i++) {
		const attest_proof *q = &t->results[i].proof;
		ledger_entry        e;
		int                 rv;

		memset(&e, 0, sizeof(e));
		e.kind = LEDGER_PROOF;
		memcpy(e.body.proof.lease.b, q->lease, 32);
		if ((rv = attest_proof_id(q, &e.body.proof.proof)) == GH_OK) {
			e.body.proof.tokens    = (uint64_t) q->n_in + q->n_out;
			e.body.proof.device_ns = q->device_ns;
			rv = node_own_submit(ls->o, &e, NULL, NULL);
		}
		if (rv != GH_OK) {
			node_log(0, "warn",
			    "msg=\"proof not recorded\" err=\"%s\"",
			    gh_strerror(rv));
		}
	}
}

/* ------------------------------------------------------------------ */
/* Attach. */

int
node_leases_attach(node *n, const node_config *c, node_ledger *l,
    node_market *m, node_own *o, node_leases **out)
{
	node_leases  *ls = NULL;
	node_req_kind rk;
	node_ctl_cmd  cc;
	int           rv;

	*out = NULL;
	if ((ls = calloc(1, sizeof(*ls))) == NULL
	    || (ls->slots = calloc(NLS_SLOTS_MAX, sizeof(*ls->slots)))
	        == NULL) {
		rv = GH_ENOMEM;
		goto fail;
	}
	ls->n          = n;
	ls->s          = node_ledger_store(l);
	ls->m          = m;
	ls->o          = o;
	ls->draw_every = c->draw_every_receipts;
	ls->draw_s     = c->draw_every_s;
	ls->receipt_s  = c->receipt_every_s;
	node_pub(n, &ls->pub);
	if (snprintf(ls->dir, sizeof(ls->dir), "%s/node/leases", c->data_dir)
	    >= (int) sizeof(ls->dir)) {
		rv = GH_ETOOLONG;
		goto fail;
	}
	if ((rv = gh_mkdir_p(ls->dir, 0700)) != GH_OK) {
		goto fail;
	}
	memset(&rk, 0, sizeof(rk));
	rk.kind    = NODE_REQ_LEASE;
	rk.name    = "lease";
	rk.max_req = MARKET_RECEIPT_MAX;
	rk.arg     = ls;
	rk.handle  = nls_req_receipt;
	memset(&cc, 0, sizeof(cc));
	cc.name   = "lease-pay";
	cc.arg    = ls;
	cc.handle = nls_ctl_pay;
	if ((rv = node_register_request(n, &rk)) != GH_OK
	    || (rv = node_register_ctl(n, &cc)) != GH_OK
	    || (rv = node_register_timer(n, NLS_TICK_MS, nls_tick, ls))
	        != GH_OK) {
		goto fail;
	}
	*out = ls;
	return (GH_OK);
fail:
	node_leases_free(ls);
	return (rv);
}

void
node_leases_free(node_leases *ls)
{
	if (ls == NULL) {
		return;
	}
	free(ls->slots);
	free(ls);
}
