/*
 * ann.c - the announce kind: per-author chains of signed texts, stored
 * in LMDB.  It is the network's own test kind and the model of how a
 * ledger kind plugs in: validate (pending on a missing predecessor),
 * apply (unlocking its successors), and the three sync functions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/priv.h"

#define NODE_ANN_SYNC_AUTHORS 1024 /* authors in one frontier */
#define NODE_ANN_SYNC_ASK     64   /* authors in one range request */

struct node_ann_store {
	MDB_env *env;
	MDB_dbi  items; /* author||seq -> u64 recv_us || announcement */
	MDB_dbi  heads; /* author -> u64 seq || [32] hash */
};

int
node_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (GH_OK);
	case MDB_NOTFOUND:
		return (GH_ENOENT);
	case MDB_KEYEXIST:
		return (GH_EEXIST);
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
		return (GH_EFULL);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
		return (GH_ECORRUPT);
	case ENOMEM:
		return (GH_ENOMEM);
	default:
		return (GH_EIO);
	}
}

int
node_ann_store_open(MDB_env *env, node_ann_store **out)
{
	node_ann_store *s;
	MDB_txn        *txn = NULL;
	int             rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (GH_ENOMEM);
	}
	s->env = env;
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0
	    || (rc = mdb_dbi_open(txn, "ann", MDB_CREATE, &s->items)) != 0
	    || (rc = mdb_dbi_open(txn, "annhead", MDB_CREATE, &s->heads))
	        != 0) {
		mdb_txn_abort(txn);
		free(s);
		return (node_mdb_err(rc));
	}
	if ((rc = mdb_txn_commit(txn)) != 0) {
		free(s);
		return (node_mdb_err(rc));
	}
	*out = s;
	return (GH_OK);
}

void
node_ann_store_free(node_ann_store *s)
{
	free(s);
}

static int
node_ann_head_txn(MDB_txn *txn, node_ann_store *s, const gh_ed_pub *a,
    uint64_t *seq, gh_hash *h)
{
	MDB_val k = { 32, (void *) a->b };
	MDB_val v;
	int     rc;

	if ((rc = mdb_get(txn, s->heads, &k, &v)) != 0) {
		return (node_mdb_err(rc));
	}
	if (v.mv_size != 40) {
		return (GH_ECORRUPT);
	}
	*seq = gh_be64_get(v.mv_data);
	memcpy(h->b, (uint8_t *) v.mv_data + 8, 32);
	return (GH_OK);
}

int
node_ann_store_head(
    node_ann_store *s, const gh_ed_pub *a, uint64_t *seq, gh_hash *h)
{
	MDB_txn *txn = NULL;
	int      rc;
	int      rv;

	*seq = 0;
	memset(h, 0, sizeof(*h));
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		return (node_mdb_err(rc));
	}
	rv = node_ann_head_txn(txn, s, a, seq, h);
	mdb_txn_abort(txn);
	return (rv);
}

static int
node_ann_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	node_ann_store      *s = arg;
	node_ann             a;
	uint64_t             hseq;
	gh_hash              hh;
	static const gh_hash zero;
	int                  rv;

	if ((rv = node_ann_decode(p, n, &a)) != GH_OK) {
		return (rv);
	}
	if (a.seq == 1 && memcmp(a.prev.b, zero.b, 32) != 0) {
		return (GH_ENONCANON);
	}
	if ((rv = node_ann_verify(&a)) != GH_OK) {
		return (rv);
	}
	rv = node_ann_store_head(s, &a.author, &hseq, &hh);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if (a.seq <= hseq) {
		return (GH_EEXIST);
	}
	if (a.seq > hseq + 1) {
		*waits = a.prev;
		return (GH_EPENDING);
	}
	if (a.seq > 1 && sodium_memcmp(a.prev.b, hh.b, 32) != 0) {
		return (GH_EPREV);
	}
	return (GH_OK);
}

static int
node_ann_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	node_ann_store *s = arg;
	node_ann        a;
	MDB_txn        *txn = NULL;
	uint8_t         key[40];
	uint8_t         head[40];
	uint8_t        *val = NULL;
	MDB_val         k, v;
	int             rc;
	int             rv;

	if ((rv = node_ann_decode(p, n, &a)) != GH_OK) {
		return (rv);
	}
	if ((val = malloc(n + 8)) == NULL) {
		return (GH_ENOMEM);
	}
	node_ann_hash(&a, unlocks);
	memcpy(key, a.author.b, 32);
	gh_be64_put(key + 32, a.seq);
	gh_be64_put(val, node_now_us());
	memcpy(val + 8, p, n);
	gh_be64_put(head, a.seq);
	memcpy(head + 8, unlocks->b, 32);
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0) {
		goto out;
	}
	k = (MDB_val) { 40, key };
	v = (MDB_val) { n + 8, val };
	if ((rc = mdb_put(txn, s->items, &k, &v, 0)) != 0) {
		goto out;
	}
	k = (MDB_val) { 32, a.author.b };
	v = (MDB_val) { 40, head };
	if ((rc = mdb_put(txn, s->heads, &k, &v, 0)) != 0) {
		goto out;
	}
	rc  = mdb_txn_commit(txn);
	txn = NULL;
out:
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	free(val);
	return (node_mdb_err(rc));
}

/* Frontier: u32 count, then count * ([32] author, u64 head seq). */
static int
node_ann_frontier(void *arg, gh_writer *out)
{
	node_ann_store *s   = arg;
	MDB_txn        *txn = NULL;
	MDB_cursor     *cur = NULL;
	MDB_val         k, v;
	size_t          at  = out->len;
	uint32_t        cnt = 0;
	int             rc;

	gh_put_u32(out, 0);
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0
	    || (rc = mdb_cursor_open(txn, s->heads, &cur)) != 0) {
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	     rc == 0 && cnt < NODE_ANN_SYNC_AUTHORS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 32 || v.mv_size != 40) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		gh_put_fixed(out, k.mv_data, 32);
		gh_put_u64(out, gh_be64_get(v.mv_data));
		cnt++;
	}
	rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	if (rc == 0 && gh_writer_err(out) == GH_OK) {
		gh_be32_put(out->p + at, cnt);
	}
	return (rc != 0 ? node_mdb_err(rc) : gh_writer_err(out));
}

/* Range request: u32 count (<= 64), count * ([32] author, u64 from). */
static int
node_ann_plan(void *arg, const uint8_t *theirs, size_t n, gh_writer *req)
{
	node_ann_store *s = arg;
	gh_reader       r;
	gh_writer       body;
	uint32_t        cnt;
	uint32_t        ask = 0;
	int             rv;

	gh_reader_init(&r, theirs, n);
	gh_writer_init(&body);
	if ((rv = gh_get_u32(&r, &cnt)) != GH_OK) {
		goto out;
	}
	if (cnt > NODE_ANN_SYNC_AUTHORS) {
		rv = GH_ETOOLONG;
		goto out;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		gh_ed_pub a;
		uint64_t  seq, mine;
		gh_hash   h;
		if ((rv = gh_get_fixed(&r, a.b, 32)) != GH_OK
		    || (rv = gh_get_u64(&r, &seq)) != GH_OK) {
			goto out;
		}
		rv = node_ann_store_head(s, &a, &mine, &h);
		if (rv != GH_OK && rv != GH_ENOENT) {
			goto out;
		}
		if (seq > mine && ask < NODE_ANN_SYNC_ASK) {
			gh_put_fixed(&body, a.b, 32);
			gh_put_u64(&body, mine + 1);
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
	return (rv);
}

static int
node_ann_range(
    void *arg, const uint8_t *req, size_t n, uint32_t max, gh_writer *out)
{
	node_ann_store   *s = arg;
	node_items_writer iw;
	gh_reader         r;
	MDB_txn          *txn = NULL;
	MDB_cursor       *cur = NULL;
	uint32_t          cnt;
	uint32_t          sent = 0;
	int               rc   = 0;
	int               rv;

	gh_reader_init(&r, req, n);
	if ((rv = gh_get_u32(&r, &cnt)) != GH_OK) {
		return (rv);
	}
	if (cnt > NODE_ANN_SYNC_ASK) {
		return (GH_ETOOLONG);
	}
	if (gh_reader_left(&r) != (size_t) cnt * 40) {
		return (GH_ENONCANON);
	}
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0
	    || (rc = mdb_cursor_open(txn, s->items, &cur)) != 0) {
		goto out;
	}
	node_items_start(&iw, out);
	for (uint32_t i = 0; i < cnt && sent < max; i++) {
		uint8_t key[40];
		MDB_val k = { 40, key };
		MDB_val v;
		(void) gh_get_fixed(&r, key, 40);
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		     rc == 0 && sent < max && out->len < NODE_BODY_MAX / 2;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size != 40
			    || memcmp(k.mv_data, key, 32) != 0) {
				break;
			}
			if (v.mv_size < 8) {
				rc = MDB_CORRUPTED;
				goto out;
			}
			node_items_put(&iw, NODE_KIND_ANNOUNCE,
			    (uint8_t *) v.mv_data + 8, v.mv_size - 8);
			sent++;
		}
		if (rc != 0 && rc != MDB_NOTFOUND) {
			goto out;
		}
		rc = 0;
	}
	node_items_end(&iw);
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rc != 0 ? node_mdb_err(rc) : gh_writer_err(out));
}

void
node_ann_kind_fill(node_ann_store *s, node_kind *k)
{
	memset(k, 0, sizeof(*k));
	k->kind     = NODE_KIND_ANNOUNCE;
	k->name     = "announce";
	k->max_len  = 512;
	k->priority = 0;
	k->arg      = s;
	k->validate = node_ann_validate;
	k->apply    = node_ann_apply;
	k->frontier = node_ann_frontier;
	k->plan     = node_ann_plan;
	k->range    = node_ann_range;
}

int
node_ann_store_each(
    node_ann_store *s, uint32_t max, node_ann_each_fn fn, void *arg)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	uint32_t    cnt = 0;
	int         rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0
	    || (rc = mdb_cursor_open(txn, s->items, &cur)) != 0) {
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && cnt < max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (v.mv_size < 8) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		fn(arg, (uint8_t *) v.mv_data + 8, v.mv_size - 8,
		    gh_be64_get(v.mv_data));
		cnt++;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (node_mdb_err(rc));
}
