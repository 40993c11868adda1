/* browse.c - read-only queries over the store for the node's HTTP API and
 * the owner's reports: each in one read-only transaction of its own. */
#include <stdlib.h>
#include <string.h>

#include "ledger/log.h"
#include "ledger/priv.h"

static int
ledger_q_begin(ledger_store *s, MDB_txn **txn)
{
	return (ledger_mdb_err(
	    mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, txn)));
}

int
ledger_store_assets(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_asset *a),
    void *arg)
{
	const ledger_dbs *db  = ledger_store_dbs(s);
	MDB_txn          *txn = NULL;
	MDB_cursor       *cur = NULL;
	MDB_val           k, v;
	uint8_t           start = LEDGER_OBJ_ASSET;
	ledger_asset     *a     = NULL;
	int               rc, rv;

	if ((a = malloc(sizeof(*a))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		free(a);
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, db->objects, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	k.mv_size = 1;
	k.mv_data = &start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		ledger_id id;
		if (k.mv_size != LEDGER_OBJKEY_LEN
		    || ((uint8_t *) k.mv_data)[0] != LEDGER_OBJ_ASSET) {
			break;
		}
		memcpy(id.b, (uint8_t *) k.mv_data + 1, 32);
		if ((rv = ledger_asset_get(txn, db, &id, a)) != GH_OK) {
			goto out;
		}
		if (fn(arg, &id, a) != 0) {
			break;
		}
	}
	rv = GH_OK;
out:
	free(a);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_walk(ledger_store *s, uint64_t from, int reverse,
    int (*fn)(void *arg, uint64_t pos, const ledger_cert *c), void *arg)
{
	const ledger_dbs *db  = ledger_store_dbs(s);
	MDB_txn          *txn = NULL;
	MDB_cursor       *cur = NULL;
	MDB_val           k, v, ev;
	uint8_t           kb[8];
	ledger_cert      *c = NULL;
	MDB_cursor_op     op;
	int               rc, rv;

	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		free(c);
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, db->applied, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	gh_be64_put(kb, from);
	k.mv_size = 8;
	k.mv_data = kb;
	if (!reverse) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		/* The last position <= from. */
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
		} else if (rc == 0
		    && (k.mv_size != 8 || gh_be64_get(k.mv_data) > from)) {
			rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
		}
	}
	op = reverse ? MDB_PREV : MDB_NEXT;
	for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, op)) {
		if (k.mv_size != 8 || v.mv_size != 32) {
			rv = GH_ECORRUPT;
			goto out;
		}
		if ((rc = mdb_get(txn, db->entries, &v, &ev)) != 0) {
			rv = rc == MDB_NOTFOUND ? GH_ECORRUPT
			                        : ledger_mdb_err(rc);
			goto out;
		}
		if (ledger_cert_decode(ev.mv_data, ev.mv_size, c) != GH_OK) {
			rv = GH_ECORRUPT;
			goto out;
		}
		if (fn(arg, gh_be64_get(k.mv_data), c) != 0) {
			break;
		}
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	rv = GH_OK;
out:
	free(c);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_entry(ledger_store *s, const gh_hash *h, ledger_cert *out)
{
	MDB_txn *txn = NULL;
	MDB_val  k, v;
	int      rc, rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	k.mv_size = 32;
	k.mv_data = (void *) h->b;
	rc        = mdb_get(txn, ledger_store_dbs(s)->entries, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rv = GH_ENOENT;
	} else if (rc != 0) {
		rv = ledger_mdb_err(rc);
	} else if (ledger_cert_decode(v.mv_data, v.mv_size, out) != GH_OK) {
		rv = GH_ECORRUPT;
	} else {
		rv = GH_OK;
	}
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_size(ledger_store *s, uint64_t *size)
{
	MDB_txn *txn = NULL;
	int      rv;

	*size = 0;
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_size(ledger_store_log(s), txn, size);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_find(ledger_store *s, const gh_hash *h, uint64_t *index)
{
	MDB_txn *txn = NULL;
	int      rv;

	*index = 0;
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_find(ledger_store_log(s), txn, h->b, 32, index);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_inclusion(
    ledger_store *s, uint64_t index, uint64_t size, ledger_inclusion *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_inclusion(ledger_store_log(s), txn, index, size, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_checkpoints(
    ledger_store *s, ledger_checkpoint **out, size_t *n)
{
	MDB_txn *txn = NULL;
	int      rv;

	*out = NULL;
	*n   = 0;
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_checkpoints(ledger_store_log(s), txn, out, n);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_root(ledger_store *s, uint64_t size, ledger_mhash *root)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(root, 0, sizeof(*root));
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_log_root(ledger_store_log(s), txn, size, root);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_bundle(ledger_store *s, const gh_hash *h, ledger_bundle *out)
{
	const ledger_genesis *g   = ledger_store_genesis(s);
	ledger_log           *log = ledger_store_log(s);
	ledger_checkpoint    *cps = NULL;
	MDB_txn              *txn = NULL;
	ledger_mhash          root;
	gh_hash               netid;
	uint64_t              index;
	size_t                n = 0, best = SIZE_MAX;
	int                   rv;

	memset(out, 0, sizeof(*out));
	ledger_genesis_netid(g, &netid);
	if ((rv = ledger_q_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_log_find(log, txn, h->b, 32, &index)) != GH_OK
	    || (rv = ledger_log_checkpoints(log, txn, &cps, &n)) != GH_OK) {
		goto out;
	}
	/* Only a checkpoint of this very log will do: another node may have
	 * applied concurrent entries in another order. */
	for (size_t i = 0; i < n; i++) {
		if (cps[i].size <= index
		    || (best != SIZE_MAX && cps[i].size >= cps[best].size)
		    || memcmp(cps[i].network.b, netid.b, 32) != 0
		    || ledger_genesis_member(g, &cps[i].validator) < 0
		    || ledger_log_root(log, txn, cps[i].size, &root) != GH_OK
		    || memcmp(root.b, cps[i].root.b, 32) != 0) {
			continue;
		}
		best = i;
	}
	if (best == SIZE_MAX) {
		rv = GH_EPENDING;
		goto out;
	}
	out->entry          = *h;
	out->has_checkpoint = 1;
	out->cp             = cps[best];
	out->root           = cps[best].root;
	if ((rv = ledger_log_inclusion(
	         log, txn, index, cps[best].size, &out->proof))
	    == GH_OK) {
		rv = ledger_bundle_verify(out);
	}
out:
	mdb_txn_abort(txn);
	free(cps);
	return (rv);
}
