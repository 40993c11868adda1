/*
 * log.c - the transparency log in LMDB: the hash of every complete
 * subtree is stored under (level, index), so appending costs one leaf
 * hash and on average one node hash, and the root of any past size or a
 * proof costs O(log n) lookups.  Also the checkpoint and evidence tables
 * and the standalone ledger_logdb handle.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/log.h"

#define LEDGER_LOG_FORMAT   1
#define LEDGER_LOG_LEAF_MAX 1024
#define LEDGER_LOG_KEYLEN   9 /* u8 level, u64 index */

/* Stored evidence and checkpoint records are ours, but read back as
 * untrusted bytes: this bounds them. */
#define LEDGER_EVIDENCE_MAX 8192

struct ledger_log {
	MDB_dbi nodes;
	MDB_dbi meta;
	MDB_dbi index;
	MDB_dbi cps;
	MDB_dbi evidence;
};

int
ledger_log_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (GH_OK);
	case MDB_NOTFOUND:
		return (GH_ENOENT);
	case MDB_KEYEXIST:
		return (GH_EEXIST);
	case MDB_MAP_FULL:
		return (GH_EFULL);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_DBI:
	case MDB_BAD_VALSIZE:
		return (GH_ECORRUPT);
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL:
	case MDB_DBS_FULL:
	case MDB_TLS_FULL:
		return (GH_ELIMIT);
	case MDB_MAP_RESIZED:
		return (GH_EBUSY);
	case MDB_BAD_TXN:
	case MDB_BAD_RSLOT:
		return (GH_EINTERNAL);
	default:
		return (rc > 0 ? gh_err_from_errno(rc) : GH_EIO);
	}
}

static int ledger_log_check_size(ledger_log *log, MDB_txn *txn);

int
ledger_log_open(MDB_txn *txn, ledger_log **out)
{
	static const char *const names[] = { "log_nodes", "log_meta",
		"log_index", "log_checkpoints", "log_evidence" };
	ledger_log              *log     = NULL;
	MDB_dbi                 *dbi[5];
	MDB_val                  k, v;
	uint8_t                  fmt = LEDGER_LOG_FORMAT;
	int                      rc, r = GH_EINTERNAL;

	*out = NULL;
	if ((log = calloc(1, sizeof(*log))) == NULL) {
		return (GH_ENOMEM);
	}
	dbi[0] = &log->nodes;
	dbi[1] = &log->meta;
	dbi[2] = &log->index;
	dbi[3] = &log->cps;
	dbi[4] = &log->evidence;
	for (int i = 0; i < 5; i++) {
		rc = mdb_dbi_open(txn, names[i], MDB_CREATE, dbi[i]);
		if (rc == EACCES) {
			r = GH_ENOENT; /* read-only and never created */
			goto out;
		}
		if (rc != 0) {
			r = ledger_log_mdb_err(rc);
			goto out;
		}
	}
	k.mv_data = "format";
	k.mv_size = 6;
	rc        = mdb_get(txn, log->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		v.mv_data = &fmt;
		v.mv_size = 1;
		rc        = mdb_put(txn, log->meta, &k, &v, 0);
		if (rc == EACCES) {
			rc = 0; /* a read-only transaction: nothing to mark */
		}
	} else if (rc == 0
	    && (v.mv_size != 1
	        || *(const uint8_t *) v.mv_data != LEDGER_LOG_FORMAT)) {
		r = GH_ECORRUPT;
		goto out;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		r = ledger_log_mdb_err(rc);
		goto out;
	}
	if ((r = ledger_log_check_size(log, txn)) != GH_OK) {
		goto out;
	}
	*out = log;
	log  = NULL;
	r    = GH_OK;
out:
	free(log);
	return (r);
}

void
ledger_log_close(ledger_log *log)
{
	free(log);
}

/* ------------------------------------------------------------------ */
/* Nodes. */

static void
ledger_log_key(uint8_t key[LEDGER_LOG_KEYLEN], unsigned level, uint64_t idx)
{
	key[0] = (uint8_t) level;
	gh_be64_put(key + 1, idx);
}

/* A stored node that must exist: missing or malformed is damage. */
static int
ledger_log_node_get(ledger_log *log, MDB_txn *txn, unsigned level,
    uint64_t idx, ledger_mhash *out)
{
	uint8_t key[LEDGER_LOG_KEYLEN];
	MDB_val k, v;
	int     rc;

	ledger_log_key(key, level, idx);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc        = mdb_get(txn, log->nodes, &k, &v);
	if (rc == MDB_NOTFOUND) {
		return (GH_ECORRUPT);
	}
	if (rc != 0) {
		return (ledger_log_mdb_err(rc));
	}
	if (v.mv_size != 32) {
		return (GH_ECORRUPT);
	}
	memcpy(out->b, v.mv_data, 32);
	return (GH_OK);
}

static int
ledger_log_node_put(ledger_log *log, MDB_txn *txn, unsigned level,
    uint64_t idx, const ledger_mhash *h)
{
	uint8_t key[LEDGER_LOG_KEYLEN];
	MDB_val k, v;

	ledger_log_key(key, level, idx);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	v.mv_data = (void *) h->b;
	v.mv_size = 32;
	return (ledger_log_mdb_err(mdb_put(txn, log->nodes, &k, &v, 0)));
}

int
ledger_log_size(ledger_log *log, MDB_txn *txn, uint64_t *size)
{
	MDB_val k, v;
	int     rc;

	*size     = 0;
	k.mv_data = "size";
	k.mv_size = 4;
	rc        = mdb_get(txn, log->meta, &k, &v);
	if (rc == MDB_NOTFOUND) {
		return (GH_OK);
	}
	if (rc != 0) {
		return (ledger_log_mdb_err(rc));
	}
	if (v.mv_size != 8) {
		return (GH_ECORRUPT);
	}
	*size = gh_be64_get(v.mv_data);
	return (GH_OK);
}

static int
ledger_log_size_put(ledger_log *log, MDB_txn *txn, uint64_t size)
{
	uint8_t b[8];
	MDB_val k, v;

	gh_be64_put(b, size);
	k.mv_data = "size";
	k.mv_size = 4;
	v.mv_data = b;
	v.mv_size = 8;
	return (ledger_log_mdb_err(mdb_put(txn, log->meta, &k, &v, 0)));
}

/* The stored size must match the last stored leaf: a cheap check at open
 * that the meta record and the nodes belong together. */
static int
ledger_log_check_size(ledger_log *log, MDB_txn *txn)
{
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	uint8_t     key[LEDGER_LOG_KEYLEN];
	uint64_t    size;
	int         rc, r;

	if ((r = ledger_log_size(log, txn, &size)) != GH_OK) {
		return (r);
	}
	if ((rc = mdb_cursor_open(txn, log->nodes, &cur)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	ledger_log_key(key, 1, 0);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	rc        = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == 0) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	} else if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	}
	if (rc == MDB_NOTFOUND) {
		r = size == 0 ? GH_OK : GH_ECORRUPT;
	} else if (rc != 0) {
		r = ledger_log_mdb_err(rc);
	} else if (k.mv_size != LEDGER_LOG_KEYLEN
	    || ((const uint8_t *) k.mv_data)[0] != 0) {
		r = size == 0 ? GH_OK : GH_ECORRUPT;
	} else {
		r = size != 0
		        && gh_be64_get((const uint8_t *) k.mv_data + 1)
		            == size - 1
		    ? GH_OK
		    : GH_ECORRUPT;
	}
	mdb_cursor_close(cur);
	return (r);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t
ledger_log_split(uint64_t n)
{
	return (((uint64_t) 1) << (63 - __builtin_clzll(n - 1)));
}

/*
 * MTH of leaves [lo, lo + n), n >= 1, from stored complete subtrees.
 * The ranges proofs ask for start at a multiple of their size's
 * power-of-two ceiling, so this takes O(log n) lookups.
 */
static int
ledger_log_mth(
    ledger_log *log, MDB_txn *txn, uint64_t lo, uint64_t n, ledger_mhash *out)
{
	ledger_mhash l, r;
	uint64_t     k;
	int          rv;

	if ((n & (n - 1)) == 0 && (lo & (n - 1)) == 0) {
		unsigned level = (unsigned) __builtin_ctzll(n);
		return (
		    ledger_log_node_get(log, txn, level, lo >> level, out));
	}
	k = ledger_log_split(n);
	if ((rv = ledger_log_mth(log, txn, lo, k, &l)) != GH_OK
	    || (rv = ledger_log_mth(log, txn, lo + k, n - k, &r)) != GH_OK) {
		return (rv);
	}
	ledger_merkle_node(&l, &r, out);
	return (GH_OK);
}

int
ledger_log_append(ledger_log *log, MDB_txn *txn, const uint8_t *leaf, size_t n,
    uint64_t *index)
{
	ledger_mhash h, sib;
	uint8_t      ib[8];
	MDB_val      k, v;
	uint64_t     size, idx;
	unsigned     level;
	int          rv;

	if (index != NULL) {
		*index = 0;
	}
	if (n > LEDGER_LOG_LEAF_MAX || (leaf == NULL && n != 0)) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_log_size(log, txn, &size)) != GH_OK) {
		return (rv);
	}
	if (size == UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	ledger_merkle_leaf(leaf, n, &h);
	gh_be64_put(ib, size);
	k.mv_data = h.b;
	k.mv_size = 32;
	v.mv_data = ib;
	v.mv_size = 8;
	if ((rv = ledger_log_mdb_err(
	         mdb_put(txn, log->index, &k, &v, MDB_NOOVERWRITE)))
	    != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_log_node_put(log, txn, 0, size, &h)) != GH_OK) {
		return (rv);
	}
	/* Each completed pair of subtrees completes their parent. */
	for (idx = size, level = 0; (idx & 1) != 0; idx >>= 1, level++) {
		if ((rv = ledger_log_node_get(log, txn, level, idx - 1, &sib))
		    != GH_OK) {
			return (rv);
		}
		ledger_merkle_node(&sib, &h, &h);
		if ((rv = ledger_log_node_put(
		         log, txn, level + 1, idx >> 1, &h))
		    != GH_OK) {
			return (rv);
		}
	}
	if ((rv = ledger_log_size_put(log, txn, size + 1)) != GH_OK) {
		return (rv);
	}
	if (index != NULL) {
		*index = size;
	}
	return (GH_OK);
}

/* One entry of a batch's index, sorted by leaf hash before the puts so
 * that consecutive inserts walk neighbouring pages of the B-tree. */
typedef struct {
	ledger_mhash h;
	uint64_t     index;
} ledger_log_ix;

static int
ledger_log_ix_cmp(const void *a, const void *b)
{
	return (memcmp(((const ledger_log_ix *) a)->h.b,
	    ((const ledger_log_ix *) b)->h.b, 32));
}

int
ledger_log_append_many(ledger_log *log, MDB_txn *txn, const gh_hash *entries,
    size_t count, uint64_t *first)
{
	ledger_mhash   frontier[64], h;
	ledger_log_ix *ix  = NULL;
	MDB_cursor    *cur = NULL;
	uint8_t        ib[8];
	MDB_val        k, v;
	uint64_t       size, idx;
	unsigned       level;
	int            rc, rv = GH_OK;

	if (first != NULL) {
		*first = 0;
	}
	if (count > 0 && entries == NULL) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_log_size(log, txn, &size)) != GH_OK) {
		return (rv);
	}
	if (count > UINT64_MAX - size || count > SIZE_MAX / sizeof(*ix)) {
		return (GH_EOVERFLOW);
	}
	if (first != NULL) {
		*first = size;
	}
	if (count == 0) {
		return (GH_OK);
	}
	if ((ix = malloc(count * sizeof(*ix))) == NULL) {
		return (GH_ENOMEM);
	}
	/* The right edge: for each set bit b of size, the complete subtree
	 * of 2^b leaves that ends at size.  Appends then read nothing. */
	for (level = 0; level < 64; level++) {
		if ((size >> level) & 1) {
			rv = ledger_log_node_get(log, txn, level,
			    (size >> level) - 1, &frontier[level]);
			if (rv != GH_OK) {
				goto out;
			}
		}
	}
	for (size_t i = 0; i < count; i++, size++) {
		ledger_merkle_leaf(entries[i].b, sizeof(entries[i].b), &h);
		ix[i].h     = h;
		ix[i].index = size;
		if ((rv = ledger_log_node_put(log, txn, 0, size, &h))
		    != GH_OK) {
			goto out;
		}
		for (idx = size, level = 0; (idx & 1) != 0;
		     idx >>= 1, level++) {
			ledger_merkle_node(&frontier[level], &h, &h);
			rv = ledger_log_node_put(
			    log, txn, level + 1, idx >> 1, &h);
			if (rv != GH_OK) {
				goto out;
			}
		}
		frontier[level] = h;
	}
	qsort(ix, count, sizeof(*ix), ledger_log_ix_cmp);
	if ((rc = mdb_cursor_open(txn, log->index, &cur)) != 0) {
		rv = ledger_log_mdb_err(rc);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		if (i > 0 && memcmp(ix[i].h.b, ix[i - 1].h.b, 32) == 0) {
			rv = GH_EEXIST; /* twice in the batch */
			goto out;
		}
		gh_be64_put(ib, ix[i].index);
		k.mv_data = ix[i].h.b;
		k.mv_size = 32;
		v.mv_data = ib;
		v.mv_size = 8;
		rc        = mdb_cursor_put(cur, &k, &v, MDB_NOOVERWRITE);
		if ((rv = ledger_log_mdb_err(rc)) != GH_OK) {
			goto out;
		}
	}
	rv = ledger_log_size_put(log, txn, size);
out:
	if (cur != NULL) {
		mdb_cursor_close(cur);
	}
	free(ix);
	return (rv);
}

int
ledger_log_root(
    ledger_log *log, MDB_txn *txn, uint64_t size, ledger_mhash *root)
{
	uint64_t cur;
	int      rv;

	memset(root, 0, sizeof(*root));
	if ((rv = ledger_log_size(log, txn, &cur)) != GH_OK) {
		return (rv);
	}
	if (size > cur) {
		return (GH_ENOENT);
	}
	if (size == 0) {
		ledger_merkle_empty(root);
		return (GH_OK);
	}
	return (ledger_log_mth(log, txn, 0, size, root));
}

int
ledger_log_leaf(
    ledger_log *log, MDB_txn *txn, uint64_t index, ledger_mhash *leaf)
{
	uint64_t cur;
	int      rv;

	memset(leaf, 0, sizeof(*leaf));
	if ((rv = ledger_log_size(log, txn, &cur)) != GH_OK) {
		return (rv);
	}
	if (index >= cur) {
		return (GH_ENOENT);
	}
	return (ledger_log_node_get(log, txn, 0, index, leaf));
}

int
ledger_log_find(ledger_log *log, MDB_txn *txn, const uint8_t *leaf, size_t n,
    uint64_t *index)
{
	ledger_mhash h;
	MDB_val      k, v;
	int          rc;

	*index = 0;
	if (n > LEDGER_LOG_LEAF_MAX || (leaf == NULL && n != 0)) {
		return (GH_EINVAL);
	}
	ledger_merkle_leaf(leaf, n, &h);
	k.mv_data = h.b;
	k.mv_size = 32;
	if ((rc = mdb_get(txn, log->index, &k, &v)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	if (v.mv_size != 8) {
		return (GH_ECORRUPT);
	}
	*index = gh_be64_get(v.mv_data);
	return (GH_OK);
}

/* Reverses the n hashes of a path collected top-down. */
static void
ledger_log_reverse(ledger_mhash *p, uint32_t n)
{
	for (uint32_t i = 0; i < n / 2; i++) {
		ledger_mhash t = p[i];
		p[i]           = p[n - 1 - i];
		p[n - 1 - i]   = t;
	}
}

int
ledger_log_inclusion(ledger_log *log, MDB_txn *txn, uint64_t index,
    uint64_t size, ledger_inclusion *out)
{
	uint64_t cur, lo = 0, m = index, n = size, k;
	uint32_t cnt = 0;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_log_size(log, txn, &cur)) != GH_OK) {
		return (rv);
	}
	if (size > cur) {
		return (GH_ENOENT);
	}
	if (index >= size) {
		return (GH_EINVAL);
	}
	/* RFC 6962 PATH(m, D[n]), walked from the root down. */
	while (n > 1) {
		if (cnt >= LEDGER_PROOF_MAX) {
			return (GH_EINTERNAL);
		}
		k = ledger_log_split(n);
		if (m < k) {
			rv = ledger_log_mth(
			    log, txn, lo + k, n - k, &out->path[cnt++]);
			n = k;
		} else {
			rv = ledger_log_mth(
			    log, txn, lo, k, &out->path[cnt++]);
			lo += k;
			m -= k;
			n -= k;
		}
		if (rv != GH_OK) {
			memset(out, 0, sizeof(*out));
			return (rv);
		}
	}
	ledger_log_reverse(out->path, cnt);
	out->index = index;
	out->size  = size;
	out->n     = cnt;
	return (GH_OK);
}

int
ledger_log_consistency(ledger_log *log, MDB_txn *txn, uint64_t first,
    uint64_t second, ledger_consistency *out)
{
	uint64_t cur, lo = 0, m = first, n = second, k;
	uint32_t cnt  = 0;
	int      orig = 1, rv = GH_OK;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_log_size(log, txn, &cur)) != GH_OK) {
		return (rv);
	}
	if (second > cur) {
		return (GH_ENOENT);
	}
	if (first > second) {
		return (GH_EINVAL);
	}
	/* RFC 6962 SUBPROOF(m, D[n], true), from the root down. */
	while (first != 0 && m != 0) {
		if (cnt >= LEDGER_PROOF_MAX) {
			return (GH_EINTERNAL);
		}
		if (m == n) {
			if (!orig) {
				rv = ledger_log_mth(
				    log, txn, lo, n, &out->path[cnt++]);
			}
			break;
		}
		k = ledger_log_split(n);
		if (m <= k) {
			rv = ledger_log_mth(
			    log, txn, lo + k, n - k, &out->path[cnt++]);
			n = k;
		} else {
			rv = ledger_log_mth(
			    log, txn, lo, k, &out->path[cnt++]);
			lo += k;
			m -= k;
			n -= k;
			orig = 0;
		}
		if (rv != GH_OK) {
			break;
		}
	}
	if (rv != GH_OK) {
		memset(out, 0, sizeof(*out));
		return (rv);
	}
	ledger_log_reverse(out->path, cnt);
	out->first  = first;
	out->second = second;
	out->n      = cnt;
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Checkpoints and evidence. */

static int
ledger_log_cp_read(const MDB_val *v, ledger_checkpoint *out)
{
	if (ledger_checkpoint_decode(v->mv_data, v->mv_size, out) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_log_checkpoint_get(ledger_log *log, MDB_txn *txn,
    const gh_ed_pub *validator, ledger_checkpoint *out)
{
	MDB_val k, v;
	int     rc;

	memset(out, 0, sizeof(*out));
	k.mv_data = (void *) validator->b;
	k.mv_size = 32;
	if ((rc = mdb_get(txn, log->cps, &k, &v)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	return (ledger_log_cp_read(&v, out));
}

static int
ledger_log_cp_put(ledger_log *log, MDB_txn *txn, const ledger_checkpoint *cp)
{
	uint8_t enc[LEDGER_CHECKPOINT_LEN];
	MDB_val k, v;

	ledger_checkpoint_encode(cp, enc);
	k.mv_data = (void *) cp->validator.b;
	k.mv_size = 32;
	v.mv_data = enc;
	v.mv_size = sizeof(enc);
	return (ledger_log_mdb_err(mdb_put(txn, log->cps, &k, &v, 0)));
}

static int
ledger_log_evidence_put(
    ledger_log *log, MDB_txn *txn, const ledger_evidence *ev)
{
	uint8_t *enc = NULL;
	size_t   n   = 0;
	uint8_t  key[64];
	MDB_val  k, v;
	int      rv;

	if ((rv = ledger_evidence_encode(ev, &enc, &n)) != GH_OK) {
		return (rv);
	}
	memcpy(key, ev->a.validator.b, 32);
	gh_sha256(enc, n, key + 32);
	k.mv_data = key;
	k.mv_size = sizeof(key);
	v.mv_data = enc;
	v.mv_size = n;
	rv        = ledger_log_mdb_err(mdb_put(txn, log->evidence, &k, &v, 0));
	free(enc);
	return (rv);
}

int
ledger_log_checkpoint_add(ledger_log *log, MDB_txn *txn,
    const ledger_checkpoint *cp, const gh_hash *network,
    const ledger_consistency *proof, int *outcome)
{
	ledger_checkpoint        old;
	ledger_evidence          ev;
	const ledger_checkpoint *lo, *hi;
	int                      rv;

	if (outcome != NULL) {
		*outcome = 0;
	}
	if (network != NULL
	    && memcmp(network->b, cp->network.b, sizeof(network->b)) != 0) {
		return (GH_ENETID);
	}
	if ((rv = ledger_checkpoint_verify(cp)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_checkpoint_get(log, txn, &cp->validator, &old);
	if (rv == GH_ENOENT) {
		if (proof != NULL) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_log_cp_put(log, txn, cp)) == GH_OK
		    && outcome != NULL) {
			*outcome = LEDGER_CP_LATEST;
		}
		return (rv);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	/* The stored one was checked when it came in; a different network
	 * for one validator key is a caller error, not evidence. */
	if (memcmp(old.network.b, cp->network.b, 32) != 0) {
		return (GH_ENETID);
	}
	lo = cp->size <= old.size ? cp : &old;
	hi = lo == cp ? &old : cp;
	if (proof != NULL
	    && (proof->first != lo->size || proof->second != hi->size)) {
		return (GH_EINVAL);
	}
	memset(&ev, 0, sizeof(ev));
	if (cp->size == old.size) {
		if (memcmp(cp->root.b, old.root.b, 32) != 0) {
			ev.kind     = LEDGER_EV_SAME_SIZE;
			int cpfirst = memcmp(cp->root.b, old.root.b, 32) < 0;
			ev.a        = cpfirst ? *cp : old;
			ev.b        = cpfirst ? old : *cp;
		} else if (cp->time > old.time) {
			rv = ledger_log_cp_put(log, txn, cp);
			if (rv == GH_OK && outcome != NULL) {
				*outcome = LEDGER_CP_LATEST;
			}
			return (rv);
		}
	} else if (lo->time > hi->time) {
		ev.kind = LEDGER_EV_TIME;
		ev.a    = *lo;
		ev.b    = *hi;
	} else if (proof != NULL
	    && ledger_consistency_verify(proof, &lo->root, &hi->root)
	        != GH_OK) {
		ev.kind  = LEDGER_EV_INCONSISTENT;
		ev.a     = *lo;
		ev.b     = *hi;
		ev.proof = *proof;
	} else if (cp == hi) {
		rv = ledger_log_cp_put(log, txn, cp);
		if (rv == GH_OK && outcome != NULL) {
			*outcome = LEDGER_CP_LATEST;
		}
		return (rv);
	}
	if (ev.kind == 0) {
		if (outcome != NULL) {
			*outcome = LEDGER_CP_IGNORED;
		}
		return (GH_OK);
	}
	if ((rv = ledger_evidence_check(&ev)) != GH_OK) {
		return (GH_EINTERNAL); /* we built it: a bug */
	}
	if ((rv = ledger_log_evidence_put(log, txn, &ev)) == GH_OK
	    && outcome != NULL) {
		*outcome = LEDGER_CP_EVIDENCE;
	}
	return (rv);
}

/* Collects every record of dbi through decode into a growing array. */
static int
ledger_log_collect(MDB_txn *txn, MDB_dbi dbi, size_t elem,
    int (*decode)(const MDB_val *, void *), void **out, size_t *n)
{
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	uint8_t    *arr = NULL, *na;
	size_t      cnt = 0, cap = 0;
	int         rc, r        = GH_EINTERNAL;

	*out = NULL;
	*n   = 0;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			if ((na = realloc(arr, cap * elem)) == NULL) {
				r = GH_ENOMEM;
				goto out;
			}
			arr = na;
		}
		if ((r = decode(&v, arr + cnt * elem)) != GH_OK) {
			goto out;
		}
		cnt++;
	}
	if (rc != MDB_NOTFOUND) {
		r = ledger_log_mdb_err(rc);
		goto out;
	}
	*out = cnt ? arr : NULL;
	*n   = cnt;
	if (cnt == 0) {
		free(arr);
	}
	arr = NULL;
	r   = GH_OK;
out:
	mdb_cursor_close(cur);
	free(arr);
	return (r);
}

static int
ledger_log_cp_decode(const MDB_val *v, void *out)
{
	return (ledger_log_cp_read(v, out));
}

static int
ledger_log_ev_decode(const MDB_val *v, void *out)
{
	if (v->mv_size > LEDGER_EVIDENCE_MAX
	    || ledger_evidence_decode(v->mv_data, v->mv_size, out) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_log_checkpoints(
    ledger_log *log, MDB_txn *txn, ledger_checkpoint **out, size_t *n)
{
	void *p  = NULL;
	int   rv = ledger_log_collect(
	      txn, log->cps, sizeof(**out), ledger_log_cp_decode, &p, n);

	*out = p;
	return (rv);
}

int
ledger_log_evidence(
    ledger_log *log, MDB_txn *txn, ledger_evidence **out, size_t *n)
{
	void *p  = NULL;
	int   rv = ledger_log_collect(
	      txn, log->evidence, sizeof(**out), ledger_log_ev_decode, &p, n);

	*out = p;
	return (rv);
}

/* ------------------------------------------------------------------ */
/* The standalone handle. */

struct ledger_logdb {
	MDB_env    *env;
	ledger_log *log;
};

int
ledger_logdb_open(const char *dir, uint64_t map_size, ledger_logdb **out)
{
	ledger_logdb *db  = NULL;
	MDB_txn      *txn = NULL;
	int           rc, r = GH_EINTERNAL;

	*out = NULL;
	if (map_size == 0) {
		map_size = LEDGER_LOGDB_MAP_DEFAULT;
	}
	if ((r = gh_mkdir_p(dir, 0700)) != GH_OK) {
		return (r);
	}
	if ((db = calloc(1, sizeof(*db))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rc = mdb_env_create(&db->env)) != 0
	    || (rc = mdb_env_set_maxdbs(db->env, 32)) != 0
	    || (rc = mdb_env_set_mapsize(db->env, (size_t) map_size)) != 0
	    || (rc = mdb_env_open(db->env, dir, MDB_NOTLS, 0600)) != 0) {
		r = ledger_log_mdb_err(rc);
		goto out;
	}
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0) {
		r = ledger_log_mdb_err(rc);
		goto out;
	}
	if ((r = ledger_log_open(txn, &db->log)) != GH_OK) {
		goto out;
	}
	rc  = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		r = ledger_log_mdb_err(rc);
		goto out;
	}
	*out = db;
	db   = NULL;
	r    = GH_OK;
out:
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	ledger_logdb_close(db);
	return (r);
}

void
ledger_logdb_close(ledger_logdb *db)
{
	if (db == NULL) {
		return;
	}
	if (db->env != NULL) {
		mdb_env_close(db->env);
	}
	ledger_log_close(db->log);
	free(db);
}

/* Runs read-only work in a fresh read transaction. */
static int
ledger_logdb_rd(ledger_logdb *db, MDB_txn **txn)
{
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);

	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(db->env, 0)) == 0) {
			rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, txn);
		}
	}
	return (ledger_log_mdb_err(rc));
}

int
ledger_logdb_append(
    ledger_logdb *db, const gh_hash *entries, size_t count, uint64_t *first)
{
	MDB_txn *txn = NULL;
	uint64_t idx = 0;
	int      rc, r;

	if (first != NULL) {
		*first = 0;
	}
	if (count > 0 && entries == NULL) {
		return (GH_EINVAL);
	}
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	if ((r = ledger_log_append_many(db->log, txn, entries, count, &idx))
	    != GH_OK) {
		goto out;
	}
	rc  = mdb_txn_commit(txn);
	txn = NULL;
	if ((r = ledger_log_mdb_err(rc)) != GH_OK) {
		goto out;
	}
	if (first != NULL) {
		*first = idx;
	}
out:
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	return (r);
}

int
ledger_logdb_size(ledger_logdb *db, uint64_t *size)
{
	MDB_txn *txn;
	int      r;

	*size = 0;
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_size(db->log, txn, size);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_root(ledger_logdb *db, uint64_t size, ledger_mhash *root)
{
	MDB_txn *txn;
	int      r;

	memset(root, 0, sizeof(*root));
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_root(db->log, txn, size, root);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_find(ledger_logdb *db, const gh_hash *entry, uint64_t *index)
{
	MDB_txn *txn;
	int      r;

	*index = 0;
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_find(db->log, txn, entry->b, sizeof(entry->b), index);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_leaf(ledger_logdb *db, uint64_t index, ledger_mhash *leaf)
{
	MDB_txn *txn;
	int      r;

	memset(leaf, 0, sizeof(*leaf));
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_leaf(db->log, txn, index, leaf);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_inclusion(
    ledger_logdb *db, uint64_t index, uint64_t size, ledger_inclusion *out)
{
	MDB_txn *txn;
	int      r;

	memset(out, 0, sizeof(*out));
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_inclusion(db->log, txn, index, size, out);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_consistency(
    ledger_logdb *db, uint64_t first, uint64_t second, ledger_consistency *out)
{
	MDB_txn *txn;
	int      r;

	memset(out, 0, sizeof(*out));
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_consistency(db->log, txn, first, second, out);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_checkpoint_add(ledger_logdb *db, const ledger_checkpoint *cp,
    const gh_hash *network, const ledger_consistency *proof, int *outcome)
{
	MDB_txn *txn = NULL;
	int      rc, r;

	if (outcome != NULL) {
		*outcome = 0;
	}
	if ((rc = mdb_txn_begin(db->env, NULL, 0, &txn)) != 0) {
		return (ledger_log_mdb_err(rc));
	}
	r = ledger_log_checkpoint_add(
	    db->log, txn, cp, network, proof, outcome);
	if (r != GH_OK) {
		mdb_txn_abort(txn);
		if (outcome != NULL) {
			*outcome = 0;
		}
		return (r);
	}
	if ((r = ledger_log_mdb_err(mdb_txn_commit(txn))) != GH_OK
	    && outcome != NULL) {
		*outcome = 0;
	}
	return (r);
}

int
ledger_logdb_checkpoint_get(
    ledger_logdb *db, const gh_ed_pub *validator, ledger_checkpoint *out)
{
	MDB_txn *txn;
	int      r;

	memset(out, 0, sizeof(*out));
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_checkpoint_get(db->log, txn, validator, out);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_checkpoints(ledger_logdb *db, ledger_checkpoint **out, size_t *n)
{
	MDB_txn *txn;
	int      r;

	*out = NULL;
	*n   = 0;
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_checkpoints(db->log, txn, out, n);
	mdb_txn_abort(txn);
	return (r);
}

int
ledger_logdb_evidence(ledger_logdb *db, ledger_evidence **out, size_t *n)
{
	MDB_txn *txn;
	int      r;

	*out = NULL;
	*n   = 0;
	if ((r = ledger_logdb_rd(db, &txn)) != GH_OK) {
		return (r);
	}
	r = ledger_log_evidence(db->log, txn, out, n);
	mdb_txn_abort(txn);
	return (r);
}
