/*
 * http.c - the read-only HTTP API (JSON under /api/v1/), the dashboard
 * (/) and /metrics, on nng's HTTP server.  nng's handler callback only
 * queues the request and wakes the worker, which answers it (ledger
 * reads are short read-only LMDB transactions); with no worker (tests)
 * the callback answers itself.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "node/web.h"

#define NODE_WEB_URI_MAX   2048
#define NODE_WEB_LIST_MAX  1000 /* items per list reply */
#define NODE_WEB_LIST_DEF  100
#define NODE_WEB_SCAN_MAX  1000000 /* entries one list request reads */
#define NODE_WEB_QUEUE_MAX 256

/* ------------------------------------------------------------------ */
/* Replies. */

static void
node_web_hex(FILE *f, const uint8_t *p, size_t n)
{
	char h[129];

	while (n > 0) {
		size_t k = n > 64 ? 64 : n;
		gh_hex_encode(p, k, h);
		fputs(h, f);
		p += k;
		n -= k;
	}
}

static void
node_web_jstr(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char) *s;
		if (ch == '"' || ch == '\\') {
			fprintf(f, "\\%c", ch);
		} else if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
		} else {
			fputc(ch, f);
		}
	}
	fputc('"', f);
}

typedef struct {
	FILE    *f;
	char    *p;
	size_t   n;
	int      status;
	uint64_t now;
} node_web_req;

static int
node_web_err(node_web_req *q, int status, const char *msg)
{
	/* Drop what was written so far: the error is the whole body. */
	fflush(q->f);
	rewind(q->f);
	fprintf(q->f, "{\"error\":");
	node_web_jstr(q->f, msg);
	fprintf(q->f, ",\"status\":%d}", status);
	q->status = status;
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Parameters. */

/* The value of query parameter name (NULL when absent); URL-decoding is
 * not needed: every value is a number or hex. */
static int
node_web_param(const char *query, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	while (query != NULL && *query != '\0') {
		const char *amp = strchr(query, '&');
		size_t      len = amp ? (size_t) (amp - query) : strlen(query);
		if (len > nl && strncmp(query, name, nl) == 0
		    && query[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl >= cap) {
				return (-1);
			}
			memcpy(out, query + nl + 1, vl);
			out[vl] = '\0';
			return (1);
		}
		query = amp ? amp + 1 : NULL;
	}
	return (0);
}

/* A u64 parameter: 1 found, 0 absent, -1 malformed or out of range. */
static int
node_web_u64(const char *query, const char *name, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	char     v[24];
	uint64_t x = 0;
	int      r = node_web_param(query, name, v, sizeof(v));

	if (r <= 0) {
		return (r);
	}
	if (v[0] == '\0' || strlen(v) > 19) {
		return (-1);
	}
	for (const char *s = v; *s != '\0'; s++) {
		if (*s < '0' || *s > '9') {
			return (-1);
		}
		x = x * 10 + (uint64_t) (*s - '0');
	}
	if (x < lo || x > hi) {
		return (-1);
	}
	*out = x;
	return (1);
}

/* 64 hex digits, exactly. */
static int
node_web_id(const char *s, size_t n, uint8_t out[32])
{
	char buf[65];

	if (n != 64) {
		return (GH_EINVAL);
	}
	memcpy(buf, s, 64);
	buf[64] = '\0';
	return (gh_hex_decode(buf, out, 32));
}

/* ------------------------------------------------------------------ */
/* Endpoints. */

static void
node_web_asset_obj(FILE *f, const ledger_id *id, const ledger_asset *a)
{
	fprintf(f, "{\"id\":\"");
	node_web_hex(f, id->b, 32);
	fprintf(f, "\",\"owner\":\"");
	node_web_hex(f, a->owner.b, 32);
	fprintf(f, "\",\"node\":\"");
	node_web_hex(f, a->node.b, 32);
	fprintf(f,
	    "\",\"supply\":%llu,\"pool\":{\"paid_in\":%llu,\"paid_out\":%llu,"
	    "\"balance\":%llu},\"hw\":",
	    (unsigned long long) a->supply, (unsigned long long) a->paid_in,
	    (unsigned long long) a->paid_out,
	    (unsigned long long) (a->paid_in - a->paid_out));
	node_web_jstr(f, a->hw);
	fputc('}', f);
}

typedef struct {
	FILE    *f;
	uint64_t left;
	uint64_t count;
	uint64_t pool; /* lots: the asset's R and S for the accrual */
	uint64_t supply;
} node_web_list;

static int
node_web_assets_each(void *arg, const ledger_id *id, const ledger_asset *a)
{
	node_web_list *l = arg;

	if (l->left == 0) {
		return (1);
	}
	fputs(l->count ? "," : "", l->f);
	node_web_asset_obj(l->f, id, a);
	l->left--;
	l->count++;
	return (0);
}

static int
node_web_lots_each(void *arg, const ledger_id *id, const ledger_lot *lot)
{
	node_web_list *l       = arg;
	uint64_t       accrued = 0;
	gh_u128        t;

	if (l->left == 0) {
		return (1);
	}
	/* floor((a (R - c) + r) / S): what the holder may claim now. */
	if (l->supply > 0 && l->pool >= lot->cursor) {
		t = ((gh_u128) lot->amount * (l->pool - lot->cursor)
		        + lot->carry)
		    / l->supply;
		accrued = t > UINT64_MAX ? UINT64_MAX : (uint64_t) t;
	}
	fputs(l->count ? "," : "", l->f);
	fprintf(l->f, "{\"id\":\"");
	node_web_hex(l->f, id->b, 32);
	fprintf(l->f, "\",\"holder\":\"");
	node_web_hex(l->f, lot->holder.b, 32);
	fprintf(l->f,
	    "\",\"amount\":%llu,\"share\":%.9f,\"cursor\":%llu,"
	    "\"carry\":%llu,\"accrued\":%llu,\"earned_total\":%llu,"
	    "\"version\":%llu}",
	    (unsigned long long) lot->amount,
	    l->supply ? (double) lot->amount / (double) l->supply : 0.0,
	    (unsigned long long) lot->cursor, (unsigned long long) lot->carry,
	    (unsigned long long) accrued,
	    (unsigned long long) (l->supply
	            ? (uint64_t) ((gh_u128) lot->amount * l->pool / l->supply)
	            : 0),
	    (unsigned long long) lot->version);
	l->left--;
	l->count++;
	return (0);
}

static int
node_web_asset(node_web_req *q, const node_web_ctx *c, const ledger_id *id)
{
	ledger_asset  a;
	node_web_list l;
	int           rv;

	if ((rv = ledger_store_asset(c->src.store, id, &a)) == GH_ENOENT) {
		return (node_web_err(q, 404, "no such asset"));
	}
	if (rv != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	node_web_asset_obj(q->f, id, &a);
	fseek(q->f, -1, SEEK_CUR); /* reopen the object for the lots */
	fprintf(q->f, ",\"lots\":[");
	memset(&l, 0, sizeof(l));
	l.f      = q->f;
	l.left   = NODE_WEB_LIST_MAX;
	l.pool   = a.paid_in;
	l.supply = a.supply;
	if ((rv = ledger_store_lots(c->src.store, id, node_web_lots_each, &l))
	    != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "]}");
	return (GH_OK);
}

static int
node_web_report(node_web_req *q, const node_web_ctx *c, const ledger_id *id,
    const char *query)
{
	market_report *r      = NULL;
	uint64_t       bucket = 3600, n = 24, price = 0;
	char          *js;
	size_t         jn;
	int            rv;

	if (node_web_u64(query, "bucket", 60, 86400 * 7, &bucket) < 0
	    || node_web_u64(query, "buckets", 0, MARKET_REPORT_BUCKETS_MAX, &n)
	        < 0
	    || node_web_u64(query, "power_price", 0, UINT64_MAX, &price) < 0) {
		return (node_web_err(
		    q, 400, "bad bucket, buckets or power_price"));
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		return (GH_ENOMEM);
	}
	rv = market_report_build(
	    c->src.store, id, q->now, bucket, (uint32_t) n, r);
	if (rv == GH_ENOENT) {
		free(r);
		return (node_web_err(q, 404, "no such asset"));
	}
	if (rv != GH_OK) {
		free(r);
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	rv = market_report_json(r, price, &js, &jn);
	market_report_clear(r);
	free(r);
	if (rv != GH_OK) {
		return (rv);
	}
	fwrite(js, 1, jn, q->f);
	free(js);
	return (GH_OK);
}

/* Proofs: a scan of the applied entries, newest first. */
typedef struct {
	FILE          *f;
	uint64_t       left, count, scanned;
	const uint8_t *asset; /* NULL: any */
	int            kind;  /* LEDGER_PROOF */
	ledger_store  *s;
} node_web_scan;

static void
node_web_entry_head(FILE *f, uint64_t pos, const ledger_cert *c)
{
	fprintf(f, "{\"entry\":\"");
	node_web_hex(f, c->hash.b, 32);
	fprintf(f, "\",\"kind\":\"%s\",\"author\":\"",
	    ledger_kind_name(c->entry.kind));
	node_web_hex(f, c->entry.author, 32);
	fprintf(f,
	    "\",\"seq\":%llu,\"time\":%llu,\"log_index\":%llu,"
	    "\"votes\":%u",
	    (unsigned long long) c->entry.seq,
	    (unsigned long long) c->entry.time, (unsigned long long) pos,
	    c->nvotes);
}

static int
node_web_scan_each(void *arg, uint64_t pos, const ledger_cert *c)
{
	node_web_scan      *sc = arg;
	const ledger_entry *e  = &c->entry;

	if (sc->left == 0 || ++sc->scanned > NODE_WEB_SCAN_MAX) {
		return (1);
	}
	if (e->kind != sc->kind) {
		return (0);
	}
	{
		ledger_proof_rec pr;
		ledger_id        pid;
		gh_ed_pub        npub;
		int              sig_ok, recorded;
		if (sc->asset != NULL) {
			/* The proof's lease must belong to the asset. */
			ledger_lease l;
			if (ledger_store_lease(sc->s, &e->body.proof.lease, &l)
			        != GH_OK
			    || memcmp(l.asset.b, sc->asset, 32) != 0) {
				return (0);
			}
		}
		sig_ok = ledger_entry_verify_sig(e) == GH_OK;
		memcpy(npub.b, e->author, 32);
		ledger_proof_obj_id(&npub, &e->body.proof.proof, &pid);
		recorded = ledger_store_proof(sc->s, &pid, &pr) == GH_OK;
		fputs(sc->count ? "," : "", sc->f);
		node_web_entry_head(sc->f, pos, c);
		fprintf(sc->f, ",\"lease\":\"");
		node_web_hex(sc->f, e->body.proof.lease.b, 32);
		fprintf(sc->f, "\",\"proof\":\"");
		node_web_hex(sc->f, e->body.proof.proof.b, 32);
		fprintf(sc->f,
		    "\",\"tokens\":%llu,\"device_ns\":%llu,"
		    "\"verification\":{\"signature\":%s,\"certified\":true,"
		    "\"in_log\":true,\"recorded\":%s,\"audit\":null}}",
		    (unsigned long long) e->body.proof.tokens,
		    (unsigned long long) e->body.proof.device_ns,
		    sig_ok ? "true" : "false", recorded ? "true" : "false");
	}
	sc->left--;
	sc->count++;
	return (0);
}

static int
node_web_scan_list(node_web_req *q, const node_web_ctx *c, const char *query,
    int kind, const char *field)
{
	node_web_scan sc;
	char          hex[80];
	uint8_t       asset[32];
	uint64_t      limit = NODE_WEB_LIST_DEF;
	int           r, rv;

	memset(&sc, 0, sizeof(sc));
	if (node_web_u64(query, "limit", 1, NODE_WEB_LIST_MAX, &limit) < 0) {
		return (node_web_err(q, 400, "bad limit"));
	}
	if ((r = node_web_param(query, "asset", hex, sizeof(hex))) < 0
	    || (r == 1 && node_web_id(hex, strlen(hex), asset) != GH_OK)) {
		return (node_web_err(q, 400, "bad asset id"));
	}
	sc.f     = q->f;
	sc.left  = limit;
	sc.asset = r == 1 ? asset : NULL;
	sc.kind  = kind;
	sc.s     = c->src.store;
	fprintf(q->f, "{\"%s\":[", field);
	if ((rv = ledger_store_walk(
	         c->src.store, UINT64_MAX, 1, node_web_scan_each, &sc))
	    != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "],\"count\":%llu,\"truncated\":%s}",
	    (unsigned long long) sc.count,
	    sc.scanned > NODE_WEB_SCAN_MAX ? "true" : "false");
	return (GH_OK);
}

/* Leases: the ledger's lease objects (id order). */
typedef struct {
	FILE          *f;
	uint64_t       left, count;
	const uint8_t *asset; /* NULL: any */
	int            state; /* ledger_lease_state; 0: any */
} node_web_leases;

static const char *
node_web_lease_state(int st)
{
	switch (st) {
	case LEDGER_LEASE_ACTIVE:
		return ("active");
	case LEDGER_LEASE_CLOSED:
		return ("closed");
	case LEDGER_LEASE_EXPIRED:
		return ("expired");
	default:
		return ("unknown");
	}
}

static int
node_web_leases_each(void *arg, const ledger_id *id, const ledger_lease *l)
{
	node_web_leases *lw = arg;

	if (lw->left == 0) {
		return (1);
	}
	if ((lw->asset != NULL && memcmp(l->asset.b, lw->asset, 32) != 0)
	    || (lw->state != 0 && l->state != lw->state)) {
		return (0);
	}
	fputs(lw->count ? "," : "", lw->f);
	fprintf(lw->f, "{\"lease\":\"");
	node_web_hex(lw->f, id->b, 32);
	fprintf(lw->f, "\",\"asset\":\"");
	node_web_hex(lw->f, l->asset.b, 32);
	fprintf(lw->f, "\",\"renter\":\"");
	node_web_hex(lw->f, l->renter.b, 32);
	fprintf(lw->f, "\",\"node\":\"");
	node_web_hex(lw->f, l->node.b, 32);
	fprintf(lw->f, "\",\"offer\":\"");
	node_web_hex(lw->f, l->offer.b, 32);
	fprintf(lw->f,
	    "\",\"state\":\"%s\",\"price\":%llu,\"billing\":\"%s\","
	    "\"start\":%llu,\"expiry\":%llu,\"hours\":%.6f,"
	    "\"escrow\":%llu,\"drawn\":%llu,\"fees\":%llu,"
	    "\"refunded\":%llu,\"version\":%llu}",
	    node_web_lease_state(l->state), (unsigned long long) l->price,
	    l->billing == 2 ? "metered" : "reserved",
	    (unsigned long long) l->start, (unsigned long long) l->expiry,
	    l->expiry > l->start ? (double) (l->expiry - l->start) / 3600.0
	                         : 0.0,
	    (unsigned long long) l->escrow, (unsigned long long) l->drawn,
	    (unsigned long long) l->fees, (unsigned long long) l->refunded,
	    (unsigned long long) l->version);
	lw->left--;
	lw->count++;
	return (0);
}

static int
node_web_leases_list(node_web_req *q, const node_web_ctx *c, const char *query)
{
	node_web_leases lw;
	char            hex[80], st[16];
	uint8_t         asset[32];
	uint64_t        limit = NODE_WEB_LIST_DEF;
	int             r, rs, rv;

	memset(&lw, 0, sizeof(lw));
	if (node_web_u64(query, "limit", 1, NODE_WEB_LIST_MAX, &limit) < 0) {
		return (node_web_err(q, 400, "bad limit"));
	}
	if ((r = node_web_param(query, "asset", hex, sizeof(hex))) < 0
	    || (r == 1 && node_web_id(hex, strlen(hex), asset) != GH_OK)) {
		return (node_web_err(q, 400, "bad asset id"));
	}
	if ((rs = node_web_param(query, "state", st, sizeof(st))) < 0) {
		return (node_web_err(q, 400, "bad state"));
	}
	if (rs == 1) {
		if (strcmp(st, "active") == 0) {
			lw.state = LEDGER_LEASE_ACTIVE;
		} else if (strcmp(st, "closed") == 0) {
			lw.state = LEDGER_LEASE_CLOSED;
		} else if (strcmp(st, "expired") == 0) {
			lw.state = LEDGER_LEASE_EXPIRED;
		} else if (strcmp(st, "all") != 0) {
			return (node_web_err(
			    q, 400, "state: active, closed, expired or all"));
		}
	}
	lw.f     = q->f;
	lw.left  = limit;
	lw.asset = r == 1 ? asset : NULL;
	fprintf(q->f, "{\"leases\":[");
	if ((rv = ledger_store_leases(c->src.store, node_web_leases_each, &lw))
	    != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "],\"count\":%llu}", (unsigned long long) lw.count);
	return (GH_OK);
}

static void
node_web_offer_obj(FILE *f, const market_offer *o)
{
	gh_hash id;

	fprintf(f, "{\"id\":\"");
	if (market_offer_id(o, &id) == GH_OK) {
		node_web_hex(f, id.b, 32);
	}
	fprintf(f, "\",\"asset\":\"");
	node_web_hex(f, o->asset.b, 32);
	fprintf(f, "\",\"node\":\"");
	node_web_hex(f, o->node.b, 32);
	fprintf(
	    f, "\",\"seq\":%llu,\"gpu_model\":", (unsigned long long) o->seq);
	node_web_jstr(f, o->gpu_model);
	fprintf(f,
	    ",\"memory_mib\":%llu,\"throughput_milli_tps\":%llu,"
	    "\"price\":%llu,\"billing\":\"%s\",\"capacity\":%u,"
	    "\"avail_from\":%llu,\"avail_until\":%llu,\"min_lease\":%llu,"
	    "\"max_lease\":%llu,\"region\":",
	    (unsigned long long) o->memory_mib,
	    (unsigned long long) o->throughput, (unsigned long long) o->price,
	    o->billing == MARKET_BILLING_METERED ? "metered" : "reserved",
	    o->capacity, (unsigned long long) o->avail_from,
	    (unsigned long long) o->avail_until,
	    (unsigned long long) o->min_lease,
	    (unsigned long long) o->max_lease);
	node_web_jstr(f, o->region);
	fprintf(f, ",\"energy_source\":");
	node_web_jstr(f, o->energy_source);
	fprintf(f, ",\"power_price\":%llu,\"expiry\":%llu}",
	    (unsigned long long) o->power_price,
	    (unsigned long long) o->expiry);
}

static int
node_web_offers(node_web_req *q, const node_web_ctx *c, const char *query)
{
	market_filter flt;
	market_offer *o     = NULL;
	uint64_t      limit = NODE_WEB_LIST_DEF;
	size_t        n     = 0;
	int           rv;

	if (node_web_u64(query, "limit", 1, NODE_WEB_LIST_MAX, &limit) < 0) {
		return (node_web_err(q, 400, "bad limit"));
	}
	memset(&flt, 0, sizeof(flt));
	if ((o = calloc(limit, sizeof(*o))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = market_book_match(c->src.book, &flt, q->now, o, limit, &n))
	    != GH_OK) {
		free(o);
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "{\"offers\":[");
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", q->f);
		node_web_offer_obj(q->f, &o[i]);
	}
	fprintf(q->f, "],\"count\":%zu,\"book_size\":%zu}", n,
	    market_book_size(c->src.book));
	free(o);
	return (GH_OK);
}

static int
node_web_account(
    node_web_req *q, const node_web_ctx *c, const uint8_t id[32], int is_node)
{
	ledger_account a;
	int            rv;

	rv = ledger_store_account(c->src.store, id, is_node, &a);
	if (rv == GH_ENOENT) {
		return (node_web_err(q, 404, "no such account"));
	}
	if (rv != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "{\"id\":\"");
	node_web_hex(q->f, id, 32);
	fprintf(q->f, "\",\"type\":\"%s\",\"seq\":%llu,\"head\":\"",
	    is_node ? "node" : "account", (unsigned long long) a.seq);
	node_web_hex(q->f, a.head.b, 32);
	fprintf(q->f, "\",\"balance\":%llu}", (unsigned long long) a.balance);
	return (GH_OK);
}

/* The log's size and root, read one after the other (the log only
 * grows: the root is that of the size read). */
static int
node_web_head(ledger_store *s, uint64_t *size, ledger_mhash *root)
{
	int rv;

	if ((rv = ledger_store_log_size(s, size)) != GH_OK) {
		return (rv);
	}
	return (ledger_store_log_root(s, *size, root));
}

static void
node_web_cp_obj(FILE *f, const ledger_checkpoint *cp)
{
	uint8_t enc[LEDGER_CHECKPOINT_LEN];

	fprintf(f, "{\"validator\":\"");
	node_web_hex(f, cp->validator.b, 32);
	fprintf(
	    f, "\",\"size\":%llu,\"root\":\"", (unsigned long long) cp->size);
	node_web_hex(f, cp->root.b, 32);
	fprintf(f, "\",\"time\":%llu,\"signature_ok\":%s,\"encoding\":\"",
	    (unsigned long long) cp->time,
	    ledger_checkpoint_verify(cp) == GH_OK ? "true" : "false");
	ledger_checkpoint_encode(cp, enc);
	node_web_hex(f, enc, sizeof(enc));
	fprintf(f, "\"}");
}

static int
node_web_log(node_web_req *q, const node_web_ctx *c)
{
	ledger_checkpoint *cps = NULL;
	ledger_mhash       root;
	uint64_t           size;
	size_t             n;
	int                rv;

	if ((rv = node_web_head(c->src.store, &size, &root)) != GH_OK
	    || (rv = ledger_store_log_checkpoints(c->src.store, &cps, &n))
	        != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	fprintf(q->f, "{\"size\":%llu,\"root\":\"", (unsigned long long) size);
	node_web_hex(q->f, root.b, 32);
	fprintf(q->f, "\",\"checkpoints\":[");
	for (size_t i = 0; i < n; i++) {
		fputs(i ? "," : "", q->f);
		node_web_cp_obj(q->f, &cps[i]);
	}
	fprintf(q->f, "]}");
	free(cps);
	return (GH_OK);
}

static int
node_web_log_proof(node_web_req *q, const node_web_ctx *c, const gh_hash *h,
    const char *query)
{
	ledger_bundle    b;
	ledger_inclusion inc;
	ledger_mhash     root, leaf;
	uint64_t         size = 0, index, cur;
	int              r, rv, signed_cp = 0;

	if ((rv = node_web_head(c->src.store, &cur, &root)) != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	if ((r = node_web_u64(query, "size", 1, cur, &size)) < 0) {
		return (node_web_err(q, 400, "bad size (1 to the log size)"));
	}
	if ((rv = ledger_store_log_find(c->src.store, h, &index))
	    == GH_ENOENT) {
		return (node_web_err(q, 404, "entry not in the log"));
	}
	if (rv != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	if (r == 0) {
		/* The smallest checkpoint that covers the entry and signs
		 * this log's own root (ledger_store_log_bundle), else the
		 * current head (unsigned). */
		signed_cp
		    = ledger_store_log_bundle(c->src.store, h, &b) == GH_OK;
		size = signed_cp ? b.cp.size : cur;
	}
	if (index >= size) {
		return (node_web_err(q, 400, "entry is not within that size"));
	}
	if ((rv = ledger_store_log_inclusion(c->src.store, index, size, &inc))
	        != GH_OK
	    || (rv = ledger_store_log_root(c->src.store, size, &root))
	        != GH_OK) {
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	ledger_merkle_leaf(h->b, 32, &leaf);
	fprintf(q->f, "{\"entry\":\"");
	node_web_hex(q->f, h->b, 32);
	fprintf(q->f, "\",\"index\":%llu,\"size\":%llu,\"root\":\"",
	    (unsigned long long) index, (unsigned long long) size);
	node_web_hex(q->f, root.b, 32);
	fprintf(q->f, "\",\"path\":[");
	for (uint32_t i = 0; i < inc.n; i++) {
		fprintf(q->f, "%s\"", i ? "," : "");
		node_web_hex(q->f, inc.path[i].b, 32);
		fputc('"', q->f);
	}
	fprintf(q->f, "],\"verified\":%s,\"checkpoint\":",
	    ledger_inclusion_verify(&inc, &leaf, &root) == GH_OK ? "true"
	                                                         : "false");
	if (signed_cp) {
		node_web_cp_obj(q->f, &b.cp);
	} else {
		fputs("null", q->f);
	}
	fputc('}', q->f);
	return (GH_OK);
}

static int
node_web_entry(node_web_req *q, const node_web_ctx *c, const gh_hash *h)
{
	ledger_cert *cert;
	uint64_t     index = 0;
	int          rv;

	if ((cert = malloc(sizeof(*cert))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_store_entry(c->src.store, h, cert)) == GH_ENOENT) {
		free(cert);
		return (node_web_err(q, 404, "no such entry"));
	}
	if (rv != GH_OK
	    || (rv = ledger_store_log_find(c->src.store, h, &index))
	        != GH_OK) {
		free(cert);
		return (node_web_err(q, 500, gh_strerror(rv)));
	}
	node_web_entry_head(q->f, index, cert);
	fprintf(q->f, ",\"signature_ok\":%s}",
	    ledger_entry_verify_sig(&cert->entry) == GH_OK ? "true" : "false");
	free(cert);
	return (GH_OK);
}

static int
node_web_status(node_web_req *q, const node_web_ctx *c)
{
	node_status st;
	uint64_t    applied = 0, pending = 0, equivs = 0;

	if (c->status == NULL) {
		return (node_web_err(q, 503, "no node"));
	}
	c->status(c->arg, &st);
	fprintf(q->f, "{\"node\":\"");
	node_web_hex(q->f, st.pub.b, 32);
	fprintf(q->f, "\",\"network\":\"");
	node_web_hex(q->f, st.netid.b, 32);
	fprintf(q->f, "\",\"listen\":");
	node_web_jstr(q->f, st.listen);
	fprintf(q->f,
	    ",\"uptime_ms\":%llu,\"peers_active\":%u,\"peers_known\":%u,"
	    "\"peers_banned\":%u,\"items\":%llu,\"unchecked\":%u",
	    (unsigned long long) st.uptime_ms, st.peers_active, st.peers_known,
	    st.peers_banned, (unsigned long long) st.items, st.unchecked);
	if (c->src.store != NULL
	    && ledger_store_counts(c->src.store, &applied, &pending, &equivs)
	        == GH_OK) {
		fprintf(q->f, ",\"ledger\":{\"height\":%llu,\"pending\":%llu}",
		    (unsigned long long) applied,
		    (unsigned long long) pending);
	} else {
		fprintf(q->f, ",\"ledger\":null");
	}
	fprintf(q->f, ",\"book\":%s,\"time\":%llu}",
	    c->src.book != NULL ? "true" : "false",
	    (unsigned long long) q->now);
	return (GH_OK);
}

/* Splits "/a/b/c" after prefix into segments (views into path). */
typedef struct {
	const char *p[6];
	size_t      n[6];
	int         count;
} node_web_segs;

static int
node_web_split(const char *path, node_web_segs *s)
{
	memset(s, 0, sizeof(*s));
	while (*path == '/') {
		path++;
	}
	while (*path != '\0') {
		const char *sl = strchr(path, '/');
		size_t      l  = sl ? (size_t) (sl - path) : strlen(path);
		if (s->count == 6) {
			return (GH_ETOOLONG);
		}
		s->p[s->count]   = path;
		s->n[s->count++] = l;
		path += l;
		while (*path == '/') {
			path++;
		}
	}
	return (GH_OK);
}

static int
node_web_is(const node_web_segs *s, int i, const char *w)
{
	return (i < s->count && s->n[i] == strlen(w)
	    && strncmp(s->p[i], w, s->n[i]) == 0);
}

static int
node_web_api(node_web_req *q, const node_web_ctx *c, const node_web_segs *s,
    const char *query)
{
	uint8_t id[32];
	gh_hash h;

	/* s->p[0..1] are "api", "v1". */
	if (s->count == 3 && node_web_is(s, 2, "status")) {
		return (node_web_status(q, c));
	}
	if (node_web_is(s, 2, "offers")) {
		if (c->src.book == NULL) {
			return (node_web_err(
			    q, 503, "no order book on this node"));
		}
		if (s->count == 3) {
			return (node_web_offers(q, c, query));
		}
		if (s->count == 4) {
			market_offer    o;
			market_asset_id a;
			if (node_web_id(s->p[3], s->n[3], a.b) != GH_OK) {
				return (node_web_err(q, 400, "bad asset id"));
			}
			if (market_book_get(c->src.book, &a, &o) != GH_OK) {
				return (node_web_err(
				    q, 404, "no offer for that asset"));
			}
			node_web_offer_obj(q->f, &o);
			return (GH_OK);
		}
		return (node_web_err(q, 404, "no such endpoint"));
	}
	if (c->src.store == NULL) {
		return (node_web_err(q, 503, "no ledger store on this node"));
	}
	if (node_web_is(s, 2, "assets")) {
		if (s->count == 3) {
			node_web_list l;
			uint64_t      limit = NODE_WEB_LIST_DEF;
			int           rv;
			if (node_web_u64(
			        query, "limit", 1, NODE_WEB_LIST_MAX, &limit)
			    < 0) {
				return (node_web_err(q, 400, "bad limit"));
			}
			memset(&l, 0, sizeof(l));
			l.f    = q->f;
			l.left = limit;
			fprintf(q->f, "{\"assets\":[");
			if ((rv = ledger_store_assets(
			         c->src.store, node_web_assets_each, &l))
			    != GH_OK) {
				return (node_web_err(q, 500, gh_strerror(rv)));
			}
			fprintf(q->f, "],\"count\":%llu}",
			    (unsigned long long) l.count);
			return (GH_OK);
		}
		if (s->count < 4 || s->count > 5
		    || node_web_id(s->p[3], s->n[3], id) != GH_OK) {
			return (node_web_err(q,
			    s->count < 4 || s->count > 5 ? 404 : 400,
			    s->count < 4 || s->count > 5 ? "no such endpoint"
			                                 : "bad asset id"));
		}
		if (s->count == 4) {
			return (node_web_asset(q, c, (const ledger_id *) id));
		}
		if (node_web_is(s, 4, "report")) {
			return (node_web_report(
			    q, c, (const ledger_id *) id, query));
		}
		return (node_web_err(q, 404, "no such endpoint"));
	}
	if ((node_web_is(s, 2, "accounts") || node_web_is(s, 2, "nodes"))
	    && s->count == 4) {
		if (node_web_id(s->p[3], s->n[3], id) != GH_OK) {
			return (
			    node_web_err(q, 400, "bad key (64 hex digits)"));
		}
		return (
		    node_web_account(q, c, id, node_web_is(s, 2, "nodes")));
	}
	if (node_web_is(s, 2, "leases") && s->count == 3) {
		return (node_web_leases_list(q, c, query));
	}
	if (node_web_is(s, 2, "proofs") && s->count == 3) {
		return (
		    node_web_scan_list(q, c, query, LEDGER_PROOF, "proofs"));
	}
	if (node_web_is(s, 2, "entries") && s->count == 4) {
		if (node_web_id(s->p[3], s->n[3], h.b) != GH_OK) {
			return (node_web_err(q, 400, "bad entry hash"));
		}
		return (node_web_entry(q, c, &h));
	}
	if (node_web_is(s, 2, "log")) {
		if (s->count == 3
		    || (s->count == 4 && node_web_is(s, 3, "checkpoints"))) {
			return (node_web_log(q, c));
		}
		if (s->count == 5 && node_web_is(s, 3, "proof")) {
			if (node_web_id(s->p[4], s->n[4], h.b) != GH_OK) {
				return (
				    node_web_err(q, 400, "bad entry hash"));
			}
			return (node_web_log_proof(q, c, &h, query));
		}
	}
	return (node_web_err(q, 404, "no such endpoint"));
}

int
node_web_serve(const node_web_ctx *c, const char *method, const char *uri,
    node_web_res *res)
{
	node_web_req  q;
	node_web_segs s;
	char          path[NODE_WEB_URI_MAX + 1];
	const char   *query = NULL;
	char         *qm;
	int           rv = GH_OK;

	memset(res, 0, sizeof(*res));
	memset(&q, 0, sizeof(q));
	q.status = 200;
	q.now    = c->now != NULL ? c->now(c->arg) : gh_time_now();
	if ((q.f = open_memstream(&q.p, &q.n)) == NULL) {
		return (GH_ENOMEM);
	}
	res->ctype = "application/json";
	if (strlen(uri) > NODE_WEB_URI_MAX) {
		node_web_err(&q, 414, "request-target too long");
		goto out;
	}
	memcpy(path, uri, strlen(uri) + 1);
	if ((qm = strchr(path, '?')) != NULL) {
		*qm   = '\0';
		query = qm + 1;
	}
	if (path[0] != '/') {
		node_web_err(&q, 400, "bad request-target");
		goto out;
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		node_web_err(&q, 405, "read-only API: GET only");
		goto out;
	}
	if (strcmp(path, "/metrics") == 0) {
		res->ctype = "text/plain; version=0.0.4; charset=utf-8";
		rv         = node_web_metrics(c, q.f);
		goto out;
	}
	if (node_web_split(path, &s) != GH_OK) {
		node_web_err(&q, 404, "no such endpoint");
		goto out;
	}
	if (s.count >= 2 && node_web_is(&s, 0, "api")
	    && node_web_is(&s, 1, "v1")) {
		rv = node_web_api(&q, c, &s, query);
		goto out;
	}
	{
		const char *want
		    = strcmp(path, "/") == 0 ? "/index.html" : path;
		for (size_t i = 0; i < node_web_nfiles; i++) {
			if (strcmp(node_web_files[i].path, want) == 0) {
				res->ctype = node_web_files[i].ctype;
				fwrite(node_web_files[i].data, 1,
				    node_web_files[i].len, q.f);
				goto out;
			}
		}
	}
	node_web_err(&q, 404, "no such page");
out:
	if (fclose(q.f) != 0 || q.p == NULL) {
		free(q.p);
		return (GH_ENOMEM);
	}
	if (rv != GH_OK) {
		free(q.p);
		return (rv);
	}
	res->status = q.status;
	res->body   = q.p;
	res->len    = q.n;
	if (q.status != 200) {
		res->ctype = "application/json";
	}
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* The server. */

typedef struct node_http_job {
	nng_aio              *aio;
	char                 *method;
	char                 *uri;
	struct node_http_job *next;
} node_http_job;

struct node_http {
	node_web_ctx      ctx;
	nng_http_server  *srv;
	nng_http_handler *hd;
	pthread_mutex_t   mu;
	node_http_job    *head, *tail;
	uint32_t          queued;
	int               closing;
	uint32_t          busy; /* nng callbacks running (node_http_cb) */
	pthread_cond_t    idle; /* busy dropped to 0 */
};

static void
node_http_answer(
    node_http *h, nng_aio *aio, const char *method, const char *uri)
{
	nng_http_res *res = NULL;
	node_web_res  wr;
	int           rv;

	if ((rv = nng_http_res_alloc(&res)) != 0) {
		nng_aio_finish(aio, rv);
		return;
	}
	if (method == NULL) {
		/* Refused before routing: closing or queue full. */
		memset(&wr, 0, sizeof(wr));
		wr.status = 503;
		wr.ctype  = "application/json";
		wr.body   = strdup("{\"error\":\"busy\",\"status\":503}");
		wr.len    = wr.body ? strlen(wr.body) : 0;
	} else if (node_web_serve(&h->ctx, method, uri, &wr) != GH_OK) {
		nng_http_res_free(res);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	node_metrics_add(h->ctx.metrics, NODE_M_HTTP_REQS, 1);
	if (wr.status >= 400) {
		node_metrics_add(h->ctx.metrics, NODE_M_HTTP_ERRS, 1);
	}
	(void) nng_http_res_set_status(res, (uint16_t) wr.status);
	(void) nng_http_res_set_header(res, "Content-Type", wr.ctype);
	(void) nng_http_res_set_header(res, "Cache-Control", "no-store");
	(void) nng_http_res_set_header(
	    res, "X-Content-Type-Options", "nosniff");
	if (method != NULL && strcmp(method, "HEAD") == 0) {
		char cl[32];
		snprintf(cl, sizeof(cl), "%zu", wr.len);
		(void) nng_http_res_set_header(res, "Content-Length", cl);
	} else if (wr.body != NULL
	    && nng_http_res_copy_data(res, wr.body, wr.len) != 0) {
		free(wr.body);
		nng_http_res_free(res);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	free(wr.body);
	nng_aio_set_output(aio, 0, res);
	nng_aio_finish(aio, 0);
}

/* nng's thread: queue the request for the worker and wake it. */
static void
node_http_cb_body(node_http *h, nng_aio *aio, nng_http_req *req)
{
	node_http_job *j = NULL;
	int            refuse;

	if (h->ctx.wake == NULL) {
		node_http_answer(h, aio, nng_http_req_get_method(req),
		    nng_http_req_get_uri(req));
		return;
	}
	if ((j = calloc(1, sizeof(*j))) != NULL) {
		j->aio    = aio;
		j->method = strdup(nng_http_req_get_method(req));
		j->uri    = strdup(nng_http_req_get_uri(req));
	}
	pthread_mutex_lock(&h->mu);
	refuse = h->closing || h->queued >= NODE_WEB_QUEUE_MAX || j == NULL
	    || j->method == NULL || j->uri == NULL;
	if (!refuse) {
		if (h->tail != NULL) {
			h->tail->next = j;
		} else {
			h->head = j;
		}
		h->tail = j;
		h->queued++;
		/* Under the lock: close cannot pass while we wake. */
		h->ctx.wake(h->ctx.arg);
	}
	pthread_mutex_unlock(&h->mu);
	if (refuse) {
		if (j != NULL) {
			free(j->method);
			free(j->uri);
			free(j);
		}
		node_http_answer(h, aio, NULL, NULL);
	}
}

static void
node_http_cb(nng_aio *aio)
{
	nng_http_req     *req = nng_aio_get_input(aio, 0);
	nng_http_handler *hd  = nng_aio_get_input(aio, 1);
	node_http        *h   = nng_http_handler_get_data(hd);

	/* Counted, so that close frees nothing a callback still uses. */
	pthread_mutex_lock(&h->mu);
	h->busy++;
	pthread_mutex_unlock(&h->mu);
	node_http_cb_body(h, aio, req);
	pthread_mutex_lock(&h->mu);
	if (--h->busy == 0) {
		pthread_cond_broadcast(&h->idle);
	}
	pthread_mutex_unlock(&h->mu);
}

void
node_http_poll(node_http *h)
{
	for (;;) {
		node_http_job *j;
		if (h == NULL) {
			return;
		}
		pthread_mutex_lock(&h->mu);
		if ((j = h->head) != NULL) {
			h->head = j->next;
			if (h->head == NULL) {
				h->tail = NULL;
			}
			h->queued--;
		}
		pthread_mutex_unlock(&h->mu);
		if (j == NULL) {
			return;
		}
		node_http_answer(h, j->aio, j->method, j->uri);
		free(j->method);
		free(j->uri);
		free(j);
	}
}

int
node_http_open(const char *addr, const node_web_ctx *c, node_http **out)
{
	node_http *h   = NULL;
	nng_url   *url = NULL;
	char       u[NODE_ADDR_MAX + 16];
	int        rv;

	*out = NULL;
	if (snprintf(u, sizeof(u), "http://%s", addr) >= (int) sizeof(u)) {
		return (GH_ETOOLONG);
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		return (GH_ENOMEM);
	}
	h->ctx = *c;
	pthread_mutex_init(&h->mu, NULL);
	pthread_cond_init(&h->idle, NULL);
	if ((rv = nng_url_parse(&url, u)) != 0
	    || (rv = nng_http_server_hold(&h->srv, url)) != 0
	    || (rv = nng_http_handler_alloc(&h->hd, "/", node_http_cb)) != 0
	    || (rv = nng_http_handler_set_method(h->hd, NULL)) != 0
	    || (rv = nng_http_handler_set_tree(h->hd)) != 0
	    || (rv = nng_http_handler_set_data(h->hd, h, NULL)) != 0
	    || (rv = nng_http_server_add_handler(h->srv, h->hd)) != 0) {
		goto fail;
	}
	h->hd = NULL; /* the server owns it now */
	if ((rv = nng_http_server_start(h->srv)) != 0) {
		goto fail;
	}
	nng_url_free(url);
	*out = h;
	return (GH_OK);
fail:
	if (url != NULL) {
		nng_url_free(url);
	}
	if (h->hd != NULL) {
		nng_http_handler_free(h->hd);
	}
	if (h->srv != NULL) {
		nng_http_server_release(h->srv);
	}
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->idle);
	free(h);
	return (node_nng_err(rv));
}

void
node_http_close(node_http *h)
{
	node_http_job *j;

	if (h == NULL) {
		return;
	}
	pthread_mutex_lock(&h->mu);
	h->closing = 1;
	j          = h->head;
	h->head = h->tail = NULL;
	h->queued         = 0;
	pthread_mutex_unlock(&h->mu);
	while (j != NULL) {
		node_http_job *next = j->next;
		node_http_answer(h, j->aio, NULL, NULL);
		free(j->method);
		free(j->uri);
		free(j);
		j = next;
	}
	/* The queue is answered (a handler's aio must be finished before
	 * the server stops its connection); then no new requests, and no
	 * callback still running. */
	nng_http_server_stop(h->srv);
	pthread_mutex_lock(&h->mu);
	while (h->busy > 0) {
		pthread_cond_wait(&h->idle, &h->mu);
	}
	pthread_mutex_unlock(&h->mu);
	nng_http_server_release(h->srv);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->idle);
	free(h);
}
