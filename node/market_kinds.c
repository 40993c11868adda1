/*
 * market_kinds.c - offers on the network: the offer gossip kind (32)
 * feeding the node's market_book (asset registration checked against
 * the ledger store), sync by asset, the book persisted in the data dir,
 * and the control commands behind `gpuhour offer publish`, `market
 * list|match` and `asset register`.
 *
 * Threads: the worker thread only (the book is not thread-safe).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "market/market.h"
#include "node/priv.h"

#define NM_SYNC_ASSETS 4096 /* assets in one frontier */
#define NM_SYNC_ASK    256  /* assets in one range request */
#define NM_LIST_MAX    1024
#define NM_SEEN        1024 /* arrival times remembered (market-seen) */

struct node_market {
	node         *n;
	node_ledger  *l;
	ledger_store *s;
	market_book  *book;
	char          path[1024 + 8];
	int           dirty;
	uint64_t      dropped;    /* offers refused from gossip */
	uint64_t      throughput; /* measured, milli-tokens/s; 0: none */
	uint32_t      max_tokens; /* the jobs' per-prompt token limit */
	struct {
		gh_hash  id;
		uint64_t us;
	} seen[NM_SEEN]; /* when each recent offer first came */
	uint32_t seen_next;
};

/* ------------------------------------------------------------------ */
/* Request encodings. */

int
node_offer_req_encode(const node_offer_req *r, gh_writer *w)
{
	if (r->n_models > MARKET_MODELS_MAX) {
		return (GH_ETOOLONG);
	}
	gh_put_header(w, NODE_WIRE_VERSION, 0x31);
	gh_put_fixed(w, r->asset, 32);
	gh_put_u64(w, r->price);
	gh_put_u8(w, r->billing);
	gh_put_u32(w, r->capacity);
	gh_put_u64(w, r->avail_from);
	gh_put_u64(w, r->avail_until);
	gh_put_u64(w, r->min_lease);
	gh_put_u64(w, r->max_lease);
	gh_put_cstr(w, MARKET_REGION_MAX, r->region);
	gh_put_u32(w, r->n_models);
	for (uint32_t i = 0; i < r->n_models; i++) {
		gh_put_fixed(w, r->models[i].b, 32);
	}
	gh_put_cstr(w, MARKET_ENERGY_MAX, r->energy);
	gh_put_u64(w, r->power_price);
	gh_put_u64(w, r->expiry);
	return (gh_writer_err(w));
}

int
node_offer_req_decode(const uint8_t *p, size_t n, node_offer_req *r)
{
	gh_reader rd;
	uint8_t   type;
	int       rv;

	memset(r, 0, sizeof(*r));
	gh_reader_init(&rd, p, n);
	if ((rv = gh_get_header(&rd, NODE_WIRE_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != 0x31) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&rd, r->asset, 32)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->price)) != GH_OK
	    || (rv = gh_get_u8(&rd, &r->billing)) != GH_OK
	    || (rv = gh_get_u32(&rd, &r->capacity)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->avail_from)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->avail_until)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->min_lease)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->max_lease)) != GH_OK
	    || (rv = gh_get_cstr(
	            &rd, MARKET_REGION_MAX, r->region, sizeof(r->region)))
	        != GH_OK
	    || (rv = gh_get_u32(&rd, &r->n_models)) != GH_OK) {
		return (rv);
	}
	if (r->n_models > MARKET_MODELS_MAX) {
		return (GH_ETOOLONG);
	}
	for (uint32_t i = 0; i < r->n_models; i++) {
		if ((rv = gh_get_fixed(&rd, r->models[i].b, 32)) != GH_OK) {
			return (rv);
		}
	}
	if ((rv = gh_get_cstr(
	         &rd, MARKET_ENERGY_MAX, r->energy, sizeof(r->energy)))
	        != GH_OK
	    || (rv = gh_get_u64(&rd, &r->power_price)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->expiry)) != GH_OK) {
		return (rv);
	}
	return (gh_reader_end(&rd));
}

int
node_market_query_encode(const node_market_query *q, gh_writer *w)
{
	gh_put_header(w, NODE_WIRE_VERSION, 0x32);
	gh_put_cstr(w, MARKET_GPU_MODEL_MAX, q->gpu_model);
	gh_put_u64(w, q->min_memory_mib);
	gh_put_u64(w, q->max_price);
	gh_put_cstr(w, MARKET_REGION_MAX, q->region);
	gh_put_u64(w, q->hours);
	gh_put_bool(w, q->has_model);
	gh_put_fixed(w, q->model.b, 32);
	gh_put_u8(w, q->billing);
	gh_put_u32(w, q->max);
	return (gh_writer_err(w));
}

int
node_market_query_decode(const uint8_t *p, size_t n, node_market_query *q)
{
	gh_reader r;
	uint8_t   type;
	int       has;
	int       rv;

	memset(q, 0, sizeof(*q));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, NODE_WIRE_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != 0x32) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_cstr(
	         &r, MARKET_GPU_MODEL_MAX, q->gpu_model, sizeof(q->gpu_model)))
	        != GH_OK
	    || (rv = gh_get_u64(&r, &q->min_memory_mib)) != GH_OK
	    || (rv = gh_get_u64(&r, &q->max_price)) != GH_OK
	    || (rv = gh_get_cstr(
	            &r, MARKET_REGION_MAX, q->region, sizeof(q->region)))
	        != GH_OK
	    || (rv = gh_get_u64(&r, &q->hours)) != GH_OK
	    || (rv = gh_get_bool(&r, &has)) != GH_OK
	    || (rv = gh_get_fixed(&r, q->model.b, 32)) != GH_OK
	    || (rv = gh_get_u8(&r, &q->billing)) != GH_OK
	    || (rv = gh_get_u32(&r, &q->max)) != GH_OK) {
		return (rv);
	}
	q->has_model = (uint8_t) has;
	if (q->max == 0 || q->max > NM_LIST_MAX) {
		return (GH_EINVAL);
	}
	return (gh_reader_end(&r));
}

/* ------------------------------------------------------------------ */
/* The offer kind. */

static int
nm_asset_ok(void *arg, const market_asset_id *asset, const gh_ed_pub *nk)
{
	node_market *m = arg;
	ledger_asset a;
	ledger_id    id;

	memcpy(id.b, asset->b, 32);
	if (ledger_store_asset(m->s, &id, &a) != GH_OK
	    || memcmp(a.node.b, nk->b, 32) != 0) {
		return (GH_ENOENT);
	}
	return (GH_OK);
}

static int
nm_offer_judge(node_market *m, const uint8_t *p, size_t n)
{
	market_offer *o = malloc(sizeof(*o));
	market_offer *h = malloc(sizeof(*h));
	int           rv;

	if (o == NULL || h == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if (n > MARKET_OFFER_MAX) {
		rv = GH_ELIMIT;
		goto out;
	}
	if ((rv = market_offer_decode(p, n, o)) != GH_OK
	    || (rv = market_offer_verify(o)) != GH_OK) {
		goto out;
	}
	if (o->capacity > 0
	    && (rv = market_offer_check(o, gh_time_now())) != GH_OK) {
		goto out;
	}
	if ((rv = nm_asset_ok(m, &o->asset, &o->node)) != GH_OK) {
		goto out;
	}
	if (market_book_get(m->book, &o->asset, h) == GH_OK
	    && h->seq >= o->seq) {
		rv = GH_EEXIST;
	}
out:
	free(o);
	free(h);
	return (rv);
}

static int
nm_offer_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	node_market *m = arg;
	int          rv;

	rv = nm_offer_judge(m, p, n);
	if (rv == GH_ENOENT && n <= MARKET_OFFER_MAX) {
		/* The asset's registration may not have reached us yet:
		 * wait for it (the certificate kind names it when applied);
		 * a wrong binding stays refused once it is here. */
		market_offer *o = malloc(sizeof(*o));
		ledger_asset  a;
		ledger_id     id;
		if (o != NULL && market_offer_decode(p, n, o) == GH_OK) {
			memcpy(id.b, o->asset.b, 32);
			if (ledger_store_asset(m->s, &id, &a) == GH_ENOENT) {
				memcpy(waits->b, o->asset.b, 32);
				rv = GH_EPENDING;
			}
		}
		free(o);
	}
	if (rv != GH_OK && rv != GH_EEXIST && rv != GH_EPENDING) {
		m->dropped++;
	}
	return (rv);
}

static int
nm_offer_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	node_market *m = arg;
	int          rv;

	(void) unlocks;
	rv = market_book_ingest(m->book, p, n, gh_time_now(), nm_asset_ok, m);
	if (rv == GH_OK) {
		market_offer *o = malloc(sizeof(*o));
		m->dirty        = 1;
		if (o != NULL && market_offer_decode(p, n, o) == GH_OK
		    && market_offer_id(o, &m->seen[m->seen_next % NM_SEEN].id)
		        == GH_OK) {
			m->seen[m->seen_next % NM_SEEN].us = node_now_us();
			m->seen_next++;
		}
		free(o);
	}
	/* A withdrawal of an offer not held is not an error. */
	return (rv == GH_ENOENT || rv == GH_ESEQ ? GH_OK : rv);
}

/* Every offer of the book, ranked (the empty filter), malloc'd. */
static int
nm_all(node_market *m, market_offer **out, size_t *count)
{
	market_filter f;
	size_t        max = market_book_size(m->book);
	int           rv;

	memset(&f, 0, sizeof(f));
	*out   = NULL;
	*count = 0;
	if (max == 0) {
		return (GH_OK);
	}
	if ((*out = calloc(max, sizeof(**out))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = market_book_match(
	         m->book, &f, gh_time_now(), *out, max, count))
	    != GH_OK) {
		free(*out);
		*out = NULL;
	}
	return (rv);
}

/* Frontier: u32 count, count * ([32] asset, u64 seq). */
static int
nm_offer_frontier(void *arg, gh_writer *out)
{
	node_market  *m = arg;
	market_offer *all;
	size_t        cnt;
	int           rv;

	if ((rv = nm_all(m, &all, &cnt)) != GH_OK) {
		return (rv);
	}
	if (cnt > NM_SYNC_ASSETS) {
		cnt = NM_SYNC_ASSETS;
	}
	gh_put_u32(out, (uint32_t) cnt);
	for (size_t i = 0; i < cnt; i++) {
		gh_put_fixed(out, all[i].asset.b, 32);
		gh_put_u64(out, all[i].seq);
	}
	free(all);
	return (gh_writer_err(out));
}

/* Range request: u32 count (<= NM_SYNC_ASK), count * [32] asset. */
static int
nm_offer_plan(void *arg, const uint8_t *theirs, size_t n, gh_writer *req)
{
	node_market  *m = arg;
	market_offer *h = malloc(sizeof(*h));
	gh_reader     r;
	gh_writer     body;
	uint32_t      cnt, ask = 0;
	int           rv;

	if (h == NULL) {
		return (GH_ENOMEM);
	}
	gh_reader_init(&r, theirs, n);
	gh_writer_init(&body);
	if ((rv = gh_get_u32(&r, &cnt)) != GH_OK) {
		goto out;
	}
	if (cnt > NM_SYNC_ASSETS) {
		rv = GH_ETOOLONG;
		goto out;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		market_asset_id a;
		uint64_t        seq;
		if ((rv = gh_get_fixed(&r, a.b, 32)) != GH_OK
		    || (rv = gh_get_u64(&r, &seq)) != GH_OK) {
			goto out;
		}
		if (ask < NM_SYNC_ASK
		    && (market_book_get(m->book, &a, h) != GH_OK
		        || h->seq < seq)) {
			gh_put_fixed(&body, a.b, 32);
			ask++;
		}
	}
	if ((rv = gh_reader_end(&r)) != GH_OK) {
		goto out;
	}
	if (ask > 0) {
		gh_put_u32(req, ask);
		gh_put_fixed(req, body.p, body.len);
	}
	rv = gh_writer_err(&body) != GH_OK ? gh_writer_err(&body)
	                                   : gh_writer_err(req);
out:
	gh_writer_free(&body);
	free(h);
	return (rv);
}

static int
nm_offer_range(
    void *arg, const uint8_t *req, size_t n, uint32_t max, gh_writer *out)
{
	node_market      *m = arg;
	market_offer     *h = malloc(sizeof(*h));
	node_items_writer iw;
	gh_reader         r;
	uint32_t          cnt, sent = 0;
	int               rv;

	if (h == NULL) {
		return (GH_ENOMEM);
	}
	gh_reader_init(&r, req, n);
	if ((rv = gh_get_u32(&r, &cnt)) != GH_OK) {
		goto out;
	}
	if (cnt > NM_SYNC_ASK) {
		rv = GH_ETOOLONG;
		goto out;
	}
	if (gh_reader_left(&r) != (size_t) cnt * 32) {
		rv = GH_ENONCANON;
		goto out;
	}
	node_items_start(&iw, out);
	for (uint32_t i = 0; i < cnt && sent < max; i++) {
		market_asset_id a;
		uint8_t        *p = NULL;
		size_t          len;
		(void) gh_get_fixed(&r, a.b, 32);
		if (market_book_get(m->book, &a, h) != GH_OK
		    || market_offer_encode(h, &p, &len) != GH_OK) {
			continue;
		}
		node_items_put(&iw, NODE_KIND_OFFER, p, len);
		free(p);
		sent++;
	}
	node_items_end(&iw);
	rv = gh_writer_err(out);
out:
	free(h);
	return (rv);
}

static void
nm_timer(void *arg)
{
	node_market *m = arg;
	int          rv;

	if (market_book_expire(m->book, gh_time_now()) > 0) {
		m->dirty = 1;
	}
	if (m->dirty) {
		if ((rv = market_book_save(m->book, m->path)) != GH_OK) {
			node_log(0, "error",
			    "msg=\"cannot save the offer book\" err=\"%s\"",
			    gh_strerror(rv));
		} else {
			m->dirty = 0;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Control commands. */

/* Reply: [32] offer id, str offer. */
static int
nm_ctl_publish(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_market   *m = arg;
	node_offer_req q;
	market_offer  *o = calloc(1, sizeof(*o));
	market_offer  *h = calloc(1, sizeof(*h));
	uint8_t       *p = NULL;
	size_t         pn;
	gh_hash        id, item;
	int            gpu;
	int            rv;

	if (o == NULL || h == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if ((rv = node_offer_req_decode(req, len, &q)) != GH_OK) {
		goto out;
	}
	memcpy(o->asset.b, q.asset, 32);
	/* The hardware figures are the node's own. */
	(void) node_hw_describe(
	    o->gpu_model, sizeof(o->gpu_model), &o->memory_mib, &gpu);
	o->throughput  = m->throughput; /* measured here, never typed in */
	o->max_tokens  = m->max_tokens;
	o->price       = q.price;
	o->billing     = q.billing;
	o->capacity    = q.capacity;
	o->avail_from  = q.avail_from;
	o->avail_until = q.avail_until;
	o->min_lease   = q.min_lease;
	o->max_lease   = q.max_lease;
	snprintf(o->region, sizeof(o->region), "%s", q.region);
	o->n_models = q.n_models;
	memcpy(o->models, q.models, sizeof(o->models));
	snprintf(o->energy_source, sizeof(o->energy_source), "%s", q.energy);
	o->power_price = q.power_price;
	o->expiry      = q.expiry;
	/* seq: above the one held and the clock's, so a restarted node
	 * that lost its book still replaces its old offer. */
	o->seq = gh_time_now();
	if (market_book_get(m->book, &o->asset, h) == GH_OK
	    && h->seq >= o->seq) {
		o->seq = h->seq + 1;
	}
	if ((rv = market_offer_sign(o, node_key_get(n))) != GH_OK
	    || (rv = market_offer_id(o, &id)) != GH_OK
	    || (rv = market_offer_encode(o, &p, &pn)) != GH_OK) {
		goto out;
	}
	if ((rv = nm_offer_judge(m, p, pn)) != GH_OK) {
		goto out; /* the reason, to the CLI */
	}
	if ((rv = node_publish(n, NODE_KIND_OFFER, p, pn, &item)) != GH_OK) {
		goto out;
	}
	gh_put_fixed(out, id.b, 32);
	gh_put_str(out, MARKET_OFFER_MAX, p, pn);
	rv = gh_writer_err(out);
out:
	free(p);
	free(o);
	free(h);
	return (rv);
}

/* Reply: u32 count, count * str offer (ranked). */
static int
nm_ctl_list(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_market      *m = arg;
	node_market_query q;
	market_filter     f;
	market_offer     *res;
	size_t            cnt = 0;
	int               rv;

	(void) n;
	if ((rv = node_market_query_decode(req, len, &q)) != GH_OK) {
		return (rv);
	}
	memset(&f, 0, sizeof(f));
	f.gpu_model      = q.gpu_model[0] ? q.gpu_model : NULL;
	f.min_memory_mib = q.min_memory_mib;
	f.max_price      = q.max_price;
	f.region         = q.region[0] ? q.region : NULL;
	f.hours          = q.hours;
	f.model          = q.has_model ? &q.model : NULL;
	f.billing        = q.billing;
	if ((res = calloc(q.max, sizeof(*res))) == NULL) {
		return (GH_ENOMEM);
	}
	rv = market_book_match(m->book, &f, gh_time_now(), res, q.max, &cnt);
	if (rv == GH_OK) {
		gh_put_u32(out, (uint32_t) cnt);
		for (size_t i = 0; i < cnt && rv == GH_OK; i++) {
			uint8_t *p = NULL;
			size_t   pn;
			if ((rv = market_offer_encode(&res[i], &p, &pn))
			    == GH_OK) {
				gh_put_str(out, MARKET_OFFER_MAX, p, pn);
			}
			free(p);
		}
	}
	free(res);
	return (rv != GH_OK ? rv : gh_writer_err(out));
}

/* Reply: u64 offers held, u64 accepted, u64 replaced, u64 withdrawn,
 * u64 expired, u64 dropped from gossip. */
static int
nm_ctl_stats(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_market      *m = arg;
	market_book_stats st;

	(void) n;
	(void) req;
	(void) len;
	market_book_stats_get(m->book, &st);
	gh_put_u64(out, market_book_size(m->book));
	gh_put_u64(out, st.accepted);
	gh_put_u64(out, st.replaced);
	gh_put_u64(out, st.withdrawn);
	gh_put_u64(out, st.expired);
	gh_put_u64(out, m->dropped);
	return (gh_writer_err(out));
}

/* Request: [32] offer id.  Reply: u64 unix microseconds when it first
 * reached this node's book (recent ones only; GH_ENOENT). */
static int
nm_ctl_seen(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_market *m = arg;

	(void) n;
	if (len != 32) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 0; i < NM_SEEN && i < m->seen_next; i++) {
		if (memcmp(m->seen[i].id.b, req, 32) == 0) {
			gh_put_u64(out, m->seen[i].us);
			return (gh_writer_err(out));
		}
	}
	return (GH_ENOENT);
}

/* Request: [32] owner account.  Reply: [32] node key, [64] the node's
 * binding signature over (network, owner), cstr hardware (from the
 * machine, never from the caller). */
static int
nm_ctl_bind(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_market *m = arg;
	gh_hash      bh;
	gh_sig       sig;
	gh_ed_pub    pub;
	char         model[LEDGER_HW_MAX + 1];
	char         hw[LEDGER_HW_MAX + 1];
	uint64_t     mem;
	int          gpu;

	if (len != 32) {
		return (GH_EINVAL);
	}
	ledger_asset_binding_hash(ledger_store_netid(m->s), req, &bh);
	gh_ed_sign(node_key_get(n), &bh, &sig);
	node_pub(n, &pub);
	(void) node_hw_describe(model, sizeof(model), &mem, &gpu);
	snprintf(hw, sizeof(hw),
	    "%.200s; memory %llu MiB; %s; throughput %llu mtok/s", model,
	    (unsigned long long) mem, gpu ? "gpu" : "no gpu",
	    (unsigned long long) m->throughput);
	gh_put_fixed(out, pub.b, 32);
	gh_put_fixed(out, sig.b, 64);
	gh_put_cstr(out, LEDGER_HW_MAX, hw);
	return (gh_writer_err(out));
}

/* ------------------------------------------------------------------ */

void
node_market_set_engine(node_market *m, uint64_t mtps, uint32_t max_tokens)
{
	m->throughput = mtps;
	m->max_tokens = max_tokens;
}

int
node_market_attach(
    node *n, const node_config *c, node_ledger *l, node_market **out)
{
	node_market *m = NULL;
	node_kind    k;
	int          rv;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		return (GH_ENOMEM);
	}
	m->n = n;
	m->l = l;
	m->s = node_ledger_store(l);
	if (c->book[0] != '\0') {
		snprintf(m->path, sizeof(m->path), "%s", c->book);
	} else {
		snprintf(
		    m->path, sizeof(m->path), "%.1000s/book", c->data_dir);
	}
	if ((rv = market_book_new(&m->book)) != GH_OK) {
		goto fail;
	}
	rv = market_book_load(m->book, m->path, gh_time_now(), nm_asset_ok, m);
	if (rv != GH_OK && rv != GH_ENOENT) {
		/* A damaged book is rebuilt from gossip. */
		node_log(0, "warn",
		    "msg=\"offer book unreadable; rebuilt from gossip\" "
		    "err=\"%s\"",
		    gh_strerror(rv));
		market_book_free(m->book);
		m->book = NULL;
		if ((rv = market_book_new(&m->book)) != GH_OK) {
			goto fail;
		}
	}
	memset(&k, 0, sizeof(k));
	k.kind     = NODE_KIND_OFFER;
	k.name     = "offer";
	k.max_len  = MARKET_OFFER_MAX;
	k.arg      = m;
	k.validate = nm_offer_validate;
	k.apply    = nm_offer_apply;
	k.frontier = nm_offer_frontier;
	k.plan     = nm_offer_plan;
	k.range    = nm_offer_range;
	if ((rv = node_register_kind(n, &k)) != GH_OK) {
		goto fail;
	}
	{
		static const struct {
			const char *name;
			int (*fn)(void *, node *, const uint8_t *, size_t,
			    gh_writer *);
		} cmds[] = {
			{ "offer-publish", nm_ctl_publish },
			{ "market-list", nm_ctl_list },
			{ "market-stats", nm_ctl_stats },
			{ "asset-bind", nm_ctl_bind },
			{ "market-seen", nm_ctl_seen },
		};
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			node_ctl_cmd cc = { cmds[i].name, m, cmds[i].fn };
			if ((rv = node_register_ctl(n, &cc)) != GH_OK) {
				goto fail;
			}
		}
	}
	if ((rv = node_register_timer(n, 1000, nm_timer, m)) != GH_OK) {
		goto fail;
	}
	*out = m;
	return (GH_OK);
fail:
	node_market_free(m);
	return (rv);
}

void
node_market_free(node_market *m)
{
	if (m == NULL) {
		return;
	}
	if (m->dirty && m->book != NULL) {
		(void) market_book_save(m->book, m->path);
	}
	market_book_free(m->book);
	free(m);
}

struct market_book *
node_market_book(node_market *m)
{
	return (m == NULL ? NULL : m->book);
}
