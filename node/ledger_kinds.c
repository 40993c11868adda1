/*
 * ledger_kinds.c - the ledger on the node: certified entries,
 * equivocation proofs and checkpoints as gossip kinds, sync of
 * certificates by applied position, vote requests answered by committee
 * members, and the control commands through which the CLI reads the
 * ledger and submits signed entries (the node collects 2f+1 votes over
 * the network, builds the certificate and gossips it).
 *
 * Threads: everything here runs on the node's worker thread; the store
 * is thread-safe and commits on its own writer thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/ledger.h"
#include "node/priv.h"

#define NL_SYNC_BATCH 512 /* certificates per range reply */
#define NL_PEERS      64  /* sync cursors kept */
#define NL_QUEUE      512 /* certificates queued before a flush */
#define NL_HIST_MAX   4096
#define NL_SEEN       4096 /* arrival times remembered (ledger-seen) */

typedef struct {
	gh_ed_pub pub;
	uint64_t  cursor;
	int       used;
} nl_cursor;

struct node_ledger {
	node          *n;
	ledger_store  *s;
	ledger_genesis g;
	gh_hash        netid;
	gh_ed_pub      pub;
	int            validator;
	uint64_t       cp_size; /* size of our last signed checkpoint */
	nl_cursor      cur[NL_PEERS];
	uint32_t       cur_next;
	ledger_cert  **q; /* queued certificates (flush ingests them) */
	size_t         nq;
	uint64_t       dropped; /* certificates the store refused */
	int            closing; /* node_run returned: no more replies */
	int            own;     /* publishing a proof this store made */
	struct {
		gh_hash  h;
		uint64_t us;
	} seen[NL_SEEN]; /* when each recent certificate first came */
	uint32_t   seen_next;
	node_idmap verified; /* payload ids whose certificate verified in
	                       nl_cert_prepare (this range only) */
	unsigned threads;
};

/* ------------------------------------------------------------------ */
/* ledger-info encoding. */

int
node_ledger_info_encode(const node_ledger_info *i, gh_writer *w)
{
	gh_put_header(w, NODE_WIRE_VERSION, 0x30);
	gh_put_fixed(w, i->netid.b, 32);
	gh_put_u64(w, i->applied);
	gh_put_u64(w, i->pending);
	gh_put_u64(w, i->equivs);
	gh_put_fixed(w, i->state.b, 32);
	gh_put_u64(w, i->log_size);
	gh_put_fixed(w, i->log_root, 32);
	gh_put_u8(w, i->validator);
	gh_put_u32(w, i->checkpoints);
	return (gh_writer_err(w));
}

int
node_ledger_info_decode(const uint8_t *p, size_t n, node_ledger_info *i)
{
	gh_reader r;
	uint8_t   type;
	int       rv;

	memset(i, 0, sizeof(*i));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, NODE_WIRE_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != 0x30) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&r, i->netid.b, 32)) != GH_OK
	    || (rv = gh_get_u64(&r, &i->applied)) != GH_OK
	    || (rv = gh_get_u64(&r, &i->pending)) != GH_OK
	    || (rv = gh_get_u64(&r, &i->equivs)) != GH_OK
	    || (rv = gh_get_fixed(&r, i->state.b, 32)) != GH_OK
	    || (rv = gh_get_u64(&r, &i->log_size)) != GH_OK
	    || (rv = gh_get_fixed(&r, i->log_root, 32)) != GH_OK
	    || (rv = gh_get_u8(&r, &i->validator)) != GH_OK
	    || (rv = gh_get_u32(&r, &i->checkpoints)) != GH_OK) {
		return (rv);
	}
	if (i->validator > 1) {
		return (GH_ENONCANON);
	}
	return (gh_reader_end(&r));
}

/* ------------------------------------------------------------------ */
/* Certificates (kind 17). */

static int
nl_cert_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	node_ledger *l = arg;
	ledger_cert *c;
	int          rv;

	(void) waits;
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_cert_decode(p, n, c)) != GH_OK) {
		goto out;
	}
	rv = ledger_store_has(l->s, &c->hash);
	if (rv == GH_OK || rv == GH_EPENDING) {
		rv = GH_EEXIST;
		goto out;
	}
	if (rv != GH_ENOENT) {
		goto out;
	}
	for (size_t i = 0; i < l->nq; i++) {
		if (memcmp(l->q[i]->hash.b, c->hash.b, 32) == 0) {
			rv = GH_EEXIST;
			goto out;
		}
	}
	/* Network, author signature, 2f+1 distinct committee votes:
	 * checked now, or already for these very bytes by prepare. */
	if (l->verified.count > 0) {
		gh_hash  id;
		uint32_t v;
		node_item_id(NODE_KIND_CERT, p, n, &id);
		if (node_idmap_get(&l->verified, &id, &v) == GH_OK) {
			rv = GH_OK;
			goto out;
		}
	}
	rv = ledger_cert_verify(&l->g, c);
out:
	free(c);
	return (rv);
}

typedef struct {
	node_ledger          *l;
	const uint8_t *const *p;
	const size_t         *n;
	uint32_t              count;
	uint32_t              next;
	uint8_t              *ok;
	pthread_mutex_t       mu;
} nl_prep;

static void *
nl_prep_main(void *arg)
{
	nl_prep     *w = arg;
	ledger_cert *c = malloc(sizeof(*c));

	if (c == NULL) {
		return (NULL);
	}
	for (;;) {
		uint32_t i;
		pthread_mutex_lock(&w->mu);
		i = w->next++;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->count) {
			break;
		}
		if (ledger_cert_decode(w->p[i], w->n[i], c) == GH_OK
		    && ledger_store_has(w->l->s, &c->hash) == GH_ENOENT
		    && ledger_cert_verify(&w->l->g, c) == GH_OK) {
			w->ok[i] = 1;
		}
	}
	free(c);
	return (NULL);
}

/* A sync range: the certificates' signatures checked on all cores;
 * validate then skips the ones that verified. */
static void
nl_cert_prepare(
    void *arg, const uint8_t *const *p, const size_t *n, uint32_t count)
{
	node_ledger *l = arg;
	nl_prep      w;
	pthread_t    th[16];
	unsigned     nth = 0;

	node_idmap_fini(&l->verified);
	memset(&l->verified, 0, sizeof(l->verified));
	if (count < 8 || node_idmap_init(&l->verified, count) != GH_OK) {
		return;
	}
	memset(&w, 0, sizeof(w));
	w.l     = l;
	w.p     = p;
	w.n     = n;
	w.count = count;
	if ((w.ok = calloc(count, 1)) == NULL) {
		return;
	}
	pthread_mutex_init(&w.mu, NULL);
	for (unsigned i = 1; i < l->threads && i < 16; i++) {
		if (pthread_create(&th[nth], NULL, nl_prep_main, &w) == 0) {
			nth++;
		}
	}
	nl_prep_main(&w);
	for (unsigned i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
	}
	pthread_mutex_destroy(&w.mu);
	for (uint32_t i = 0; i < count; i++) {
		gh_hash id;
		if (w.ok[i]) {
			node_item_id(NODE_KIND_CERT, p[i], n[i], &id);
			(void) node_idmap_put(&l->verified, &id, 1);
		}
	}
	free(w.ok);
}

static int
nl_is_draw(const ledger_entry *e)
{
	return (e->kind == LEDGER_LEASE_DRAW || e->kind == LEDGER_LEASE_CLOSE);
}

/* What queued certificate i, a DRAW or CLOSE by this node, pays into
 * the asset's pool (fee excluded), by the ledger's own split, from the
 * lease as it stands before the batch; 0 for anything else. */
static uint64_t
nl_revenue_of(node_ledger *l, size_t i)
{
	const ledger_entry *e = &l->q[i]->entry;
	ledger_lease        ls;
	uint64_t            drawn = 0, escrow = UINT64_MAX;
	uint64_t            draw, fee, to_pool;
	int                 rv;

	if (!nl_is_draw(e) || e->body.lease_draw.receipt_seq == 0
	    || memcmp(e->author, l->pub.b, 32) != 0) {
		return (0);
	}
	rv = ledger_store_lease(l->s, &e->body.lease_draw.lease, &ls);
	if (rv == GH_OK) {
		drawn  = ls.drawn;
		escrow = ls.escrow;
	} else if (rv != GH_ENOENT) {
		return (0); /* ENOENT: opened in this batch, nothing drawn */
	}
	/* An earlier draw on the same lease in this batch applies first
	 * (receipts are cumulative). */
	for (size_t k = 0; k < i; k++) {
		const ledger_entry *o = &l->q[k]->entry;
		if (nl_is_draw(o)
		    && memcmp(o->body.lease_draw.lease.b,
		           e->body.lease_draw.lease.b, 32)
		        == 0
		    && o->body.lease_draw.receipt_amount > drawn) {
			drawn = o->body.lease_draw.receipt_amount;
		}
	}
	if (ledger_draw_split(escrow, drawn, e->body.lease_draw.receipt_amount,
	        l->g.fee_bps, &draw, &fee, &to_pool)
	    != GH_OK) {
		return (0);
	}
	return (to_pool);
}

/* /metrics after a batch: entries applied (those this batch unlocked
 * from the pending table included), certification latency (apply time
 * less the entry's own time), this node's proofs and revenue. */
static void
nl_metrics_batch(
    node_ledger *l, const int *res, const uint64_t *rev, uint64_t before)
{
	node_metrics *m = node_metrics_of(l->n);
	uint64_t      after, now = node_now_us();

	if (ledger_store_applied(l->s, &after) == GH_OK && after > before) {
		node_metrics_add(m, NODE_M_CERTIFIED, after - before);
	}
	for (size_t i = 0; i < l->nq; i++) {
		const ledger_entry *e = &l->q[i]->entry;
		uint64_t            t;
		if (res[i] != GH_OK) {
			continue;
		}
		t = e->time > UINT64_MAX / 1000000 ? UINT64_MAX
		                                   : e->time * 1000000;
		node_metrics_cert_latency(m, now > t ? now - t : 0);
		if (memcmp(e->author, l->pub.b, 32) != 0) {
			continue;
		}
		if (e->kind == LEDGER_PROOF) {
			node_metrics_add(m, NODE_M_PROOFS, 1);
		}
		if (rev != NULL && rev[i] > 0) {
			node_metrics_add(m, NODE_M_REVENUE, rev[i]);
		}
	}
}

static void
nl_flush(void *arg)
{
	node_ledger *l = arg;
	int         *res;
	uint64_t    *rev = NULL, before = 0;

	if (l->nq == 0) {
		return;
	}
	/* Revenue needs the leases as they were before the batch. */
	for (size_t i = 0; i < l->nq; i++) {
		uint64_t v = nl_revenue_of(l, i);
		if (v > 0 && rev == NULL
		    && (rev = calloc(l->nq, sizeof(*rev))) == NULL) {
			break;
		}
		if (v > 0) {
			rev[i] = v;
		}
	}
	if (ledger_store_applied(l->s, &before) != GH_OK) {
		before = UINT64_MAX;
	}
	if ((res = calloc(l->nq, sizeof(*res))) != NULL) {
		/* Every queued certificate passed ledger_cert_verify in
		 * nl_cert_validate (or was built here from checked votes). */
		if (ledger_store_ingest_checked(l->s, l->q, l->nq, res)
		    != GH_OK) {
			l->dropped += l->nq;
		} else {
			for (size_t i = 0; i < l->nq; i++) {
				if (res[i] != GH_OK && res[i] != GH_EPENDING
				    && res[i] != GH_EEXIST) {
					l->dropped++;
				}
			}
			nl_metrics_batch(l, res, rev, before);
		}
		free(res);
	}
	free(rev);
	for (size_t i = 0; i < l->nq; i++) {
		free(l->q[i]);
	}
	l->nq = 0;
}

static int
nl_cert_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	node_ledger *l = arg;
	ledger_cert *c;
	int          rv;

	/* The store keeps its own pending table for entries.  An asset's
	 * registration is committed at once and named in *unlocks: offers
	 * for it may be waiting in the node's unchecked table. */
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_cert_decode(p, n, c)) != GH_OK) {
		free(c);
		return (rv);
	}
	l->seen[l->seen_next % NL_SEEN].h  = c->hash;
	l->seen[l->seen_next % NL_SEEN].us = node_now_us();
	l->seen_next++;
	l->q[l->nq++] = c;
	if (c->entry.kind == LEDGER_ASSET_REGISTER) {
		*unlocks = c->hash;
		nl_flush(l);
	} else if (l->nq == NL_QUEUE) {
		nl_flush(l);
	}
	return (GH_OK);
}

/* Frontier: [32] the node's key, u64 applied count. */
static int
nl_cert_frontier(void *arg, gh_writer *out)
{
	node_ledger *l = arg;
	uint64_t     count;
	int          rv;

	nl_flush(l);
	if ((rv = ledger_store_applied(l->s, &count)) != GH_OK) {
		return (rv);
	}
	gh_put_fixed(out, l->pub.b, 32);
	gh_put_u64(out, count);
	return (gh_writer_err(out));
}

/* A peer's cursor; a new one starts a little before our own count
 * (orders differ by little; a gap is refilled by the rescan). */
static nl_cursor *
nl_cursor_get(node_ledger *l, const gh_ed_pub *pub, uint64_t mine)
{
	nl_cursor *c;

	for (int i = 0; i < NL_PEERS; i++) {
		if (l->cur[i].used
		    && memcmp(l->cur[i].pub.b, pub->b, 32) == 0) {
			return (&l->cur[i]);
		}
	}
	c = &l->cur[l->cur_next++ % NL_PEERS];
	memset(c, 0, sizeof(*c));
	c->used   = 1;
	c->pub    = *pub;
	c->cursor = mine > 4 * NL_SYNC_BATCH ? mine - 4 * NL_SYNC_BATCH : 0;
	return (c);
}

/*
 * Range request: u64 from (a position in the peer's applied order),
 * u32 max.  Each peer's applied order is a valid order to apply in, so
 * a node that is behind walks it from a cursor it keeps per peer; when
 * the cursor has passed the peer's count and this node is still behind
 * (a lost reply), it walks again from the start (what it has is
 * dropped cheaply as known).
 */
static int
nl_cert_plan(void *arg, const uint8_t *theirs, size_t n, gh_writer *req)
{
	node_ledger *l = arg;
	gh_reader    r;
	gh_ed_pub    pub;
	uint64_t     count, mine, from;
	nl_cursor   *c;
	int          rv;

	gh_reader_init(&r, theirs, n);
	if ((rv = gh_get_fixed(&r, pub.b, 32)) != GH_OK
	    || (rv = gh_get_u64(&r, &count)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	nl_flush(l);
	if ((rv = ledger_store_applied(l->s, &mine)) != GH_OK) {
		return (rv);
	}
	if (count <= mine) {
		return (GH_OK);
	}
	c    = nl_cursor_get(l, &pub, mine);
	from = c->cursor >= count ? 0 : c->cursor;
	c->cursor
	    = from + NL_SYNC_BATCH < count ? from + NL_SYNC_BATCH : count;
	gh_put_u64(req, from);
	gh_put_u32(req, NL_SYNC_BATCH);
	return (gh_writer_err(req));
}

typedef struct {
	node_items_writer iw;
	gh_writer        *out;
} nl_range_ctx;

static int
nl_range_one(void *arg, uint64_t pos, const uint8_t *p, size_t n)
{
	nl_range_ctx *rc = arg;

	(void) pos;
	node_items_put(&rc->iw, NODE_KIND_CERT, p, n);
	return (rc->out->len > NODE_BODY_MAX / 2);
}

static int
nl_cert_range(
    void *arg, const uint8_t *req, size_t n, uint32_t max, gh_writer *out)
{
	node_ledger *l = arg;
	gh_reader    r;
	uint64_t     from;
	uint32_t     want;
	nl_range_ctx rc;
	int          rv;

	gh_reader_init(&r, req, n);
	if ((rv = gh_get_u64(&r, &from)) != GH_OK
	    || (rv = gh_get_u32(&r, &want)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	if (want > max) {
		want = max;
	}
	if (want > NL_SYNC_BATCH) {
		want = NL_SYNC_BATCH;
	}
	nl_flush(l);
	rc.out = out;
	node_items_start(&rc.iw, out);
	rv = ledger_store_applied_each(l->s, from, want, nl_range_one, &rc);
	node_items_end(&rc.iw);
	return (rv != GH_OK ? rv : gh_writer_err(out));
}

/* ------------------------------------------------------------------ */
/* Equivocation proofs (kind 16). */

static int
nl_equiv_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	node_ledger   *l = arg;
	const uint8_t *a, *b;
	size_t         an, bn;
	ledger_objver  ov;
	uint8_t       *old = NULL;
	size_t         oldn;
	int            rv;

	(void) waits;
	if ((rv = ledger_equiv_decode(p, n, &a, &an, &b, &bn)) != GH_OK
	    || (rv = ledger_equiv_verify(&l->netid, a, an, b, bn, &ov))
	        != GH_OK) {
		return (rv);
	}
	rv = ledger_store_equivocation(l->s, ov.type, &ov.id, &old, &oldn);
	free(old);
	if (rv == GH_OK) {
		/* Known; unless this validator found it just now and
		 * gossips it (the node's seen cache stops the echo). */
		return (l->own ? GH_OK : GH_EEXIST);
	}
	return (rv == GH_ENOENT ? GH_OK : rv);
}

static int
nl_equiv_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	node_ledger *l = arg;

	(void) unlocks;
	nl_flush(l);
	return (ledger_store_equiv_add(l->s, p, n));
}

/* ------------------------------------------------------------------ */
/* Checkpoints (kind 19). */

static int
nl_cp_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	node_ledger      *l = arg;
	ledger_checkpoint cp, old;
	int               rv;

	(void) waits;
	if ((rv = ledger_checkpoint_decode(p, n, &cp)) != GH_OK) {
		return (rv);
	}
	if (memcmp(cp.network.b, l->netid.b, 32) != 0) {
		return (GH_ENETID);
	}
	if (ledger_genesis_member(&l->g, &cp.validator) < 0) {
		return (GH_EPERM);
	}
	if ((rv = ledger_checkpoint_verify(&cp)) != GH_OK) {
		return (rv);
	}
	rv = ledger_store_checkpoint_get(l->s, &cp.validator, &old);
	if (rv == GH_OK && old.size == cp.size
	    && memcmp(old.root.b, cp.root.b, 32) == 0) {
		return (GH_EEXIST);
	}
	return (rv == GH_OK || rv == GH_ENOENT ? GH_OK : rv);
}

static int
nl_cp_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	node_ledger      *l = arg;
	ledger_checkpoint cp;
	int               outcome = 0;
	int               rv;

	(void) unlocks;
	if ((rv = ledger_checkpoint_decode(p, n, &cp)) != GH_OK) {
		return (rv);
	}
	rv = ledger_store_checkpoint_add(l->s, &cp, &outcome);
	if (rv == GH_OK && outcome == LEDGER_CP_EVIDENCE) {
		node_log(1, "warn",
		    "msg=\"contradicting checkpoints: evidence stored\"");
	}
	return (rv);
}

/* Timer: a validator signs its log's head when it has grown. */
static void
nl_cp_timer(void *arg)
{
	node_ledger      *l = arg;
	ledger_checkpoint cp;
	uint8_t           buf[LEDGER_CHECKPOINT_LEN];
	gh_hash           id;

	if (!l->validator) {
		return;
	}
	nl_flush(l);
	memset(&cp, 0, sizeof(cp));
	if (ledger_store_log_head(l->s, &cp.size, &cp.root) != GH_OK
	    || cp.size == 0 || cp.size == l->cp_size) {
		return;
	}
	cp.network = l->netid;
	cp.time    = gh_time_now();
	ledger_checkpoint_sign(&cp, node_key_get(l->n));
	ledger_checkpoint_encode(&cp, buf);
	if (node_publish(l->n, NODE_KIND_CHECKPOINT, buf, sizeof(buf), &id)
	    == GH_OK) {
		l->cp_size = cp.size;
	}
}

/* ------------------------------------------------------------------ */
/* Vote requests (request kind 16): the body is an encoded entry; the
 * reply a vote (LEDGER_VOTE_SIZE bytes). */

static void
nl_equiv_gossip(node_ledger *l, const uint8_t *p, size_t n)
{
	ledger_entry e;
	ledger_id    id;
	uint8_t     *proof = NULL;
	size_t       pn;
	gh_hash      h;

	if (ledger_entry_decode(p, n, &e) != GH_OK) {
		return;
	}
	memcpy(id.b, e.author, 32);
	if (ledger_store_equivocation(l->s,
	        e.scheme == LEDGER_SCHEME_NODE ? LEDGER_OBJ_NODE
	                                       : LEDGER_OBJ_ACCOUNT,
	        &id, &proof, &pn)
	    == GH_OK) {
		l->own = 1;
		(void) node_publish(
		    l->n, NODE_KIND_EQUIVOCATION, proof, pn, &h);
		l->own = 0;
	}
	free(proof);
}

static int
nl_req_vote(void *arg, const gh_ed_pub *peer, const uint8_t *req, size_t n,
    gh_writer *out)
{
	node_ledger *l = arg;
	ledger_vote  v;
	uint8_t      buf[LEDGER_VOTE_SIZE];
	int          rv;

	(void) peer;
	if (!l->validator) {
		return (GH_EPERM);
	}
	nl_flush(l);
	rv = ledger_store_vote(
	    l->s, node_key_get(l->n), req, n, gh_time_now(), &v);
	if (rv == GH_ECONFLICT) {
		nl_equiv_gossip(l, req, n);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_vote_encode(&v, buf)) != GH_OK) {
		return (rv);
	}
	gh_put_fixed(out, buf, sizeof(buf));
	return (gh_writer_err(out));
}

/* ------------------------------------------------------------------ */
/* Submission: collect votes, certify, gossip. */

/* Sends req (request kind) to each committee member but this node until
 * *stop is set; *outstanding counts the requests that went out, for
 * each of which cb(arg, ...) will run once.  A member this node is not
 * connected to is skipped.  Worker thread. */
static void
nl_ask_committee(node_ledger *l, uint8_t kind, const uint8_t *req, size_t len,
    node_reply_fn cb, void *arg, uint32_t *outstanding, const int *stop)
{
	for (uint32_t i = 0; i < l->g.n && !*stop; i++) {
		const gh_ed_pub *m = &l->g.committee[i].key;
		if (memcmp(m->b, l->pub.b, 32) == 0) {
			continue;
		}
		(*outstanding)++;
		if (node_request(l->n, m, kind, req, len, cb, arg) != GH_OK) {
			(*outstanding)--;
		}
	}
}

typedef struct {
	node *n;
	void *token;
} nl_ctl_token;

typedef struct {
	node_ledger     *l;
	node_ledger_done done;
	void            *arg;
	uint8_t         *entry;
	size_t           len;
	ledger_entry     e;
	gh_hash          h;
	ledger_vote      votes[LEDGER_COMMITTEE_MAX];
	uint32_t         nv;
	uint32_t         outstanding;
	int              finished;
	int              err; /* the first refusal */
} nl_submit;

static void
nl_submit_finish(nl_submit *sb, int status)
{
	sb->finished = 1;
	if (sb->l->closing) {
		return;
	}
	sb->done(sb->arg, status, &sb->h, sb->nv);
}

static void
nl_submit_free(nl_submit *sb)
{
	free(sb->entry);
	free(sb);
}

/* Builds, applies and gossips the certificate once 2f+1 voted. */
static void
nl_submit_certify(nl_submit *sb)
{
	node_ledger *l = sb->l;
	ledger_cert *c = malloc(sizeof(*c));
	uint8_t     *p = NULL;
	size_t       n;
	gh_hash      id;
	int          rv;

	if (c == NULL) {
		nl_submit_finish(sb, GH_ENOMEM);
		return;
	}
	rv = ledger_cert_build(&l->g, &sb->e, sb->votes, sb->nv, c);
	if (rv == GH_OK) {
		rv = ledger_cert_encode(c, &p, &n);
	}
	if (rv == GH_OK) {
		rv = node_publish(l->n, NODE_KIND_CERT, p, n, &id);
		rv = rv == GH_EEXIST ? GH_OK : rv;
	}
	nl_flush(l);
	if (rv == GH_OK) {
		rv = ledger_store_has(l->s, &sb->h);
		/* Pending here: certified, waiting for what it follows. */
		rv = rv == GH_EPENDING ? GH_OK : rv;
	}
	free(p);
	free(c);
	nl_submit_finish(sb, rv);
}

static void
nl_submit_vote(nl_submit *sb, int err, const uint8_t *body, size_t n)
{
	node_ledger *l = sb->l;
	ledger_vote  v;

	if (err == GH_OK) {
		err = ledger_vote_decode(body, n, &v);
	}
	if (err == GH_OK
	    && (memcmp(v.entry.b, sb->h.b, 32) != 0
	        || memcmp(v.netid.b, l->netid.b, 32) != 0
	        || ledger_genesis_member(&l->g, &v.validator) < 0)) {
		err = GH_EPROTO;
	}
	if (err == GH_OK) {
		err = ledger_vote_verify(&v);
	}
	for (uint32_t i = 0; err == GH_OK && i < sb->nv; i++) {
		if (memcmp(sb->votes[i].validator.b, v.validator.b, 32) == 0) {
			err = GH_EEXIST;
		}
	}
	if (err == GH_OK && sb->nv < LEDGER_COMMITTEE_MAX) {
		sb->votes[sb->nv++] = v;
	} else if (sb->err == GH_OK) {
		sb->err = err;
	}
	if (!sb->finished && sb->nv >= ledger_genesis_quorum(&l->g)) {
		nl_submit_certify(sb);
	}
}

/* One reference fewer; the last one finishes and frees. */
static void
nl_submit_release(nl_submit *sb)
{
	sb->outstanding--;
	if (sb->outstanding == 0) {
		if (!sb->finished) {
			/* With some votes given, the entry is not refused:
			 * it waits for more (its author must not sign
			 * another for that position). */
			if (sb->err != GH_OK) {
				node_log(0, "info",
				    "msg=\"entry not certified\" votes=%u "
				    "first_refusal=\"%s\"",
				    (unsigned) sb->nv, gh_strerror(sb->err));
			}
			nl_submit_finish(sb,
			    sb->nv > 0 || sb->err == GH_OK ? GH_EQUORUM
			                                   : sb->err);
		}
		nl_submit_free(sb);
	}
}

static void
nl_submit_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	nl_submit *sb = arg;

	if (!sb->finished) {
		nl_submit_vote(sb, err, body, n);
	}
	nl_submit_release(sb);
}

int
node_ledger_submit(node_ledger *l, const uint8_t *req, size_t len,
    node_ledger_done done, void *arg)
{
	nl_submit *sb = NULL;
	int        rv;

	if ((sb = calloc(1, sizeof(*sb))) == NULL) {
		return (GH_ENOMEM);
	}
	sb->l    = l;
	sb->done = done;
	sb->arg  = arg;
	if ((rv = ledger_entry_decode(req, len, &sb->e)) != GH_OK
	    || (rv = ledger_entry_verify_sig(&sb->e)) != GH_OK) {
		goto fail;
	}
	if (memcmp(sb->e.netid.b, l->netid.b, 32) != 0) {
		rv = GH_ENETID;
		goto fail;
	}
	ledger_entry_hash(&sb->e, &sb->h);
	if ((sb->entry = malloc(len)) == NULL) {
		rv = GH_ENOMEM;
		goto fail;
	}
	memcpy(sb->entry, req, len);
	sb->len = len;
	nl_flush(l);
	if (ledger_store_has(l->s, &sb->h) == GH_OK) {
		sb->finished = 1;
		done(arg, GH_OK, &sb->h, 0);
		nl_submit_free(sb);
		return (GH_OK);
	}
	/* Hold one reference while the requests go out. */
	sb->outstanding = 1;
	if (l->validator) {
		ledger_vote v;
		int         vr = ledger_store_vote(
		            l->s, node_key_get(l->n), req, len, gh_time_now(), &v);
		uint8_t buf[LEDGER_VOTE_SIZE];
		if (vr == GH_OK) {
			vr = ledger_vote_encode(&v, buf);
		}
		if (vr == GH_ECONFLICT) {
			nl_equiv_gossip(l, req, len);
		}
		nl_submit_vote(sb, vr, buf, sizeof(buf));
	}
	/* A member not connected is one vote fewer (GH_EQUORUM if too few
	 * remain). */
	nl_ask_committee(l, NODE_REQ_VOTE, req, len, nl_submit_reply, sb,
	    &sb->outstanding, &sb->finished);
	/* Drops the hold (not a vote: a refusal reports its own reason). */
	nl_submit_release(sb);
	return (GH_OK);
fail:
	nl_submit_free(sb);
	return (rv);
}

/* The control command's completion: the reply is the entry hash. */
static void
nl_ctl_submit_done(void *arg, int status, const gh_hash *h, uint32_t votes)
{
	nl_ctl_token *t = arg;

	(void) votes;
	node_ctl_finish(t->n, t->token, status, status == GH_OK ? h->b : NULL,
	    status == GH_OK ? 32 : 0);
	free(t);
}

static int
nl_ctl_submit(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger  *l = arg;
	nl_ctl_token *t;
	int           rv;

	(void) out;
	if ((t = malloc(sizeof(*t))) == NULL) {
		return (GH_ENOMEM);
	}
	t->n     = n;
	t->token = node_ctl_defer(n);
	if ((rv = node_ledger_submit(l, req, len, nl_ctl_submit_done, t))
	    != GH_OK) {
		node_ctl_finish(n, t->token, rv, NULL, 0);
		free(t);
	}
	return (GH_EPENDING);
}

/* ------------------------------------------------------------------ */
/* Reads. */

static int
nl_ctl_info(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger      *l = arg;
	node_ledger_info  i;
	ledger_mhash      root;
	ledger_checkpoint cp;
	int               rv;

	(void) n;
	(void) req;
	(void) len;
	nl_flush(l);
	memset(&i, 0, sizeof(i));
	i.netid     = l->netid;
	i.validator = (uint8_t) l->validator;
	if ((rv = ledger_store_counts(l->s, &i.applied, &i.pending, &i.equivs))
	        != GH_OK
	    || (rv = ledger_store_state_hash(l->s, &i.state)) != GH_OK
	    || (rv = ledger_store_log_head(l->s, &i.log_size, &root))
	        != GH_OK) {
		return (rv);
	}
	memcpy(i.log_root, root.b, 32);
	for (uint32_t k = 0; k < l->g.n; k++) {
		if (ledger_store_checkpoint_get(
		        l->s, &l->g.committee[k].key, &cp)
		    == GH_OK) {
			i.checkpoints++;
		}
	}
	return (node_ledger_info_encode(&i, out));
}

/* Request: u8 node (0 account, 1 node chain), [32] id.  Reply: u64
 * seq, [32] head, u64 balance. */
static int
nl_ctl_account(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger   *l = arg;
	ledger_account a;
	int            rv;

	(void) n;
	if (len != 33 || req[0] > 1) {
		return (GH_EINVAL);
	}
	nl_flush(l);
	if ((rv = ledger_store_account(l->s, req + 1, req[0], &a)) != GH_OK) {
		return (rv);
	}
	gh_put_u64(out, a.seq);
	gh_put_fixed(out, a.head.b, 32);
	gh_put_u64(out, a.balance);
	return (gh_writer_err(out));
}

typedef struct {
	gh_writer *out;
	uint32_t   count;
} nl_hist;

static int
nl_hist_one(void *arg, uint64_t seq, const ledger_cert *c)
{
	nl_hist *hs = arg;
	uint8_t *p  = NULL;
	size_t   n;

	(void) seq;
	if (hs->count >= NL_HIST_MAX || hs->out->len > NODE_CTL_MAX / 2
	    || ledger_cert_encode(c, &p, &n) != GH_OK) {
		return (1);
	}
	gh_put_str(hs->out, LEDGER_CERT_MAX, p, n);
	hs->count++;
	free(p);
	return (0);
}

/* Request as ledger-account.  Reply: u32 count, count * str cert. */
static int
nl_ctl_history(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger *l = arg;
	nl_hist      hs;
	size_t       at;
	int          rv;

	(void) n;
	if (len != 33 || req[0] > 1) {
		return (GH_EINVAL);
	}
	nl_flush(l);
	at = out->len;
	gh_put_u32(out, 0);
	hs.out   = out;
	hs.count = 0;
	rv       = ledger_store_chain(l->s, req + 1, req[0], nl_hist_one, &hs);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if (gh_writer_err(out) == GH_OK) {
		gh_be32_put(out->p + at, hs.count);
	}
	return (gh_writer_err(out));
}

/* Request: [32] entry hash; status GH_OK (applied), GH_EPENDING or
 * GH_ENOENT, empty body. */
static int
nl_ctl_has(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger *l = arg;
	gh_hash      h;

	(void) n;
	(void) out;
	if (len != 32) {
		return (GH_EINVAL);
	}
	nl_flush(l);
	memcpy(h.b, req, 32);
	return (ledger_store_has(l->s, &h));
}

/* Request: [32] entry hash.  Reply: u64 unix microseconds when its
 * certificate first reached this node (recent ones only; GH_ENOENT). */
static int
nl_ctl_seen(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger *l = arg;

	(void) n;
	if (len != 32) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 0; i < NL_SEEN && i < l->seen_next; i++) {
		if (memcmp(l->seen[i].h.b, req, 32) == 0) {
			gh_put_u64(out, l->seen[i].us);
			return (gh_writer_err(out));
		}
	}
	return (GH_ENOENT);
}

/* Reply: u64 position (UINT64_MAX: none), cstr message.  The status is
 * the verification's result. */
static int
nl_ctl_verify(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger *l   = arg;
	uint64_t     pos = UINT64_MAX;
	char         why[512];
	int          rv;

	(void) n;
	(void) req;
	(void) len;
	(void) out;
	nl_flush(l);
	why[0] = '\0';
	rv     = ledger_store_verify(l->s, &pos, why, sizeof(why));
	if (rv != GH_OK) {
		node_log(
		    0, "warn", "msg=\"ledger verify failed\" why=\"%s\"", why);
	}
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Inclusion bundles (request kind 18, control command ledger-prove). */

/* Writes to out the bundle of entry h from this node's log (GH_ENOENT:
 * not in it; GH_EPENDING: under no checkpoint of it yet). */
static int
nl_bundle_put(node_ledger *l, const uint8_t *h, gh_writer *out)
{
	ledger_bundle b;
	gh_hash       eh;
	uint8_t      *enc = NULL;
	size_t        len;
	int           rv;

	nl_flush(l);
	memcpy(eh.b, h, 32);
	if ((rv = ledger_store_log_bundle(l->s, &eh, &b)) != GH_OK
	    || (rv = ledger_bundle_encode(&b, &enc, &len)) != GH_OK) {
		return (rv);
	}
	gh_put_fixed(out, enc, len);
	free(enc);
	return (gh_writer_err(out));
}

/* Request: [32] entry hash.  Reply: its bundle from this node's log. */
static int
nl_req_log_proof(void *arg, const gh_ed_pub *peer, const uint8_t *req,
    size_t n, gh_writer *out)
{
	(void) peer;
	return (n == 32 ? nl_bundle_put(arg, req, out) : GH_EINVAL);
}

typedef struct {
	node_ledger *l;
	void        *token;
	gh_hash      h;
	uint32_t     outstanding;
	int          finished;
	int          err; /* the best refusal: GH_EPENDING over GH_ENOENT */
} nl_prove;

/* Whether a peer's reply is a bundle for p->h under a checkpoint of a
 * committee member of this network that verifies. */
static int
nl_prove_check(const nl_prove *p, const uint8_t *body, size_t n)
{
	ledger_bundle b;
	int           rv;

	if ((rv = ledger_bundle_decode(body, n, &b)) != GH_OK) {
		return (rv);
	}
	return (ledger_bundle_check(&b, &p->l->g, &p->h));
}

static void
nl_prove_reply(void *arg, int err, const uint8_t *body, size_t n)
{
	nl_prove *p = arg;

	if (!p->finished && err == GH_OK) {
		err = nl_prove_check(p, body, n);
		if (err == GH_OK && !p->l->closing) {
			p->finished = 1;
			node_ctl_finish(p->l->n, p->token, GH_OK, body, n);
		}
	}
	if (err == GH_EPENDING
	    || (err == GH_ENOENT && p->err != GH_EPENDING)) {
		p->err = err;
	}
	if (--p->outstanding == 0) {
		if (!p->finished && !p->l->closing) {
			node_ctl_finish(p->l->n, p->token, p->err, NULL, 0);
		}
		free(p);
	}
}

/*
 * Request: [32] entry hash, then optionally [1] flags (bit 0: skip this
 * node's own log).  Reply: a bundle proving the entry under a signed
 * checkpoint: from this node's log when one of its checkpoints matches
 * it, else the first one a committee member sends for its own log.
 * GH_ENOENT: no log has it; GH_EPENDING: under no checkpoint yet.
 */
static int
nl_ctl_prove(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ledger *l = arg;
	nl_prove    *p;
	int          rv = GH_ENOENT;

	if ((len != 32 && len != 33) || (len == 33 && (req[32] & ~1u))) {
		return (GH_EINVAL);
	}
	if (len == 32 || !(req[32] & 1)) {
		rv = nl_bundle_put(l, req, out);
		if (rv != GH_ENOENT && rv != GH_EPENDING) {
			return (rv);
		}
	}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		return (GH_ENOMEM);
	}
	p->l   = l;
	p->err = rv;
	memcpy(p->h.b, req, 32);
	p->token       = node_ctl_defer(n);
	p->outstanding = 1; /* held while the requests go out */
	nl_ask_committee(l, NODE_REQ_LOG_PROOF, req, 32, nl_prove_reply, p,
	    &p->outstanding, &p->finished);
	nl_prove_reply(p, GH_ECANCELED, NULL, 0); /* drops the hold */
	return (GH_EPENDING);
}

/* ------------------------------------------------------------------ */
/* Attach. */

int
node_ledger_attach(node *n, const node_config *c, node_ledger **out)
{
	node_ledger  *l = NULL;
	unsigned      line;
	node_kind     k;
	node_req_kind rk;
	int           rv;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL
	    || (l->q = calloc(NL_QUEUE, sizeof(*l->q))) == NULL) {
		rv = GH_ENOMEM;
		goto fail;
	}
	l->n = n;
	if ((rv = ledger_genesis_load(c->genesis, &l->g, &line)) != GH_OK) {
		goto fail;
	}
	ledger_genesis_netid(&l->g, &l->netid);
	if ((rv = ledger_store_open(c->data_dir, &l->g, NULL, &l->s))
	    != GH_OK) {
		goto fail;
	}
	node_pub(n, &l->pub);
	l->validator = ledger_genesis_member(&l->g, &l->pub) >= 0;
	{
		long ncpu  = sysconf(_SC_NPROCESSORS_ONLN);
		l->threads = ncpu > 0 ? (unsigned) ncpu : 1;
	}

	memset(&k, 0, sizeof(k));
	k.kind     = NODE_KIND_CERT;
	k.name     = "cert";
	k.max_len  = LEDGER_CERT_MAX;
	k.arg      = l;
	k.validate = nl_cert_validate;
	k.apply    = nl_cert_apply;
	k.frontier = nl_cert_frontier;
	k.plan     = nl_cert_plan;
	k.range    = nl_cert_range;
	k.flush    = nl_flush;
	k.prepare  = nl_cert_prepare;
	if ((rv = node_register_kind(n, &k)) != GH_OK) {
		goto fail;
	}
	memset(&k, 0, sizeof(k));
	k.kind     = NODE_KIND_EQUIVOCATION;
	k.name     = "equivocation";
	k.max_len  = LEDGER_EQUIV_MAX;
	k.priority = 1;
	k.arg      = l;
	k.validate = nl_equiv_validate;
	k.apply    = nl_equiv_apply;
	if ((rv = node_register_kind(n, &k)) != GH_OK) {
		goto fail;
	}
	memset(&k, 0, sizeof(k));
	k.kind     = NODE_KIND_CHECKPOINT;
	k.name     = "checkpoint";
	k.max_len  = LEDGER_CHECKPOINT_LEN;
	k.arg      = l;
	k.validate = nl_cp_validate;
	k.apply    = nl_cp_apply;
	if ((rv = node_register_kind(n, &k)) != GH_OK) {
		goto fail;
	}
	memset(&rk, 0, sizeof(rk));
	rk.kind    = NODE_REQ_VOTE;
	rk.name    = "vote";
	rk.max_req = LEDGER_ENTRY_MAX;
	rk.arg     = l;
	rk.handle  = nl_req_vote;
	if ((rv = node_register_request(n, &rk)) != GH_OK) {
		goto fail;
	}
	rk.kind    = NODE_REQ_LOG_PROOF;
	rk.name    = "log-proof";
	rk.max_req = 32;
	rk.handle  = nl_req_log_proof;
	if ((rv = node_register_request(n, &rk)) != GH_OK) {
		goto fail;
	}
	{
		static const struct {
			const char *name;
			int (*fn)(void *, node *, const uint8_t *, size_t,
			    gh_writer *);
		} cmds[] = {
			{ "ledger-info", nl_ctl_info },
			{ "ledger-account", nl_ctl_account },
			{ "ledger-history", nl_ctl_history },
			{ "ledger-has", nl_ctl_has },
			{ "ledger-submit", nl_ctl_submit },
			{ "ledger-verify", nl_ctl_verify },
			{ "ledger-seen", nl_ctl_seen },
			{ "ledger-prove", nl_ctl_prove },
		};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			node_ctl_cmd cc = { cmds[i].name, l, cmds[i].fn };
			if ((rv = node_register_ctl(n, &cc)) != GH_OK) {
				goto fail;
			}
		}
	}
	if ((rv = node_register_timer(
	         n, c->checkpoint_s * 1000u, nl_cp_timer, l))
	    != GH_OK) {
		goto fail;
	}
	*out = l;
	return (GH_OK);
fail:
	node_ledger_free(l);
	return (rv);
}

struct ledger_store *
node_ledger_store(node_ledger *l)
{
	return (l->s);
}

void
node_ledger_stop(node_ledger *l)
{
	if (l != NULL) {
		nl_flush(l);
		l->closing = 1;
	}
}

void
node_ledger_free(node_ledger *l)
{
	if (l == NULL) {
		return;
	}
	if (l->q != NULL) {
		if (l->s != NULL) {
			nl_flush(l);
		}
		for (size_t i = 0; i < l->nq; i++) {
			free(l->q[i]);
		}
		free(l->q);
	}
	node_idmap_fini(&l->verified);
	ledger_store_close(l->s);
	free(l);
}
