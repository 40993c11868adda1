/* query.c - reads for the network: applied positions (sync), single
 * certificates, the store's transparency log and its checkpoints. */
#include <stdlib.h>
#include <string.h>

#include "ledger/log.h"
#include "ledger/priv.h"

int
ledger_store_applied(ledger_store *s, uint64_t *count)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	int         rc;

	*count = 0;
	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, &txn))
	        != MDB_SUCCESS
	    || (rc = mdb_cursor_open(txn, ledger_store_dbs(s)->applied, &cur))
	        != MDB_SUCCESS) {
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_SUCCESS) {
		if (k.mv_size != 8) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		*count = gh_be64_get(k.mv_data) + 1;
	} else if (rc == MDB_NOTFOUND) {
		rc = MDB_SUCCESS;
	}
out:
	mdb_cursor_close(cur);
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	return (ledger_mdb_err(rc));
}

int
ledger_store_applied_each(ledger_store *s, uint64_t from, uint32_t max,
    int (*fn)(void *arg, uint64_t pos, const uint8_t *p, size_t n), void *arg)
{
	const ledger_dbs *db  = ledger_store_dbs(s);
	MDB_txn          *txn = NULL;
	MDB_cursor       *cur = NULL;
	uint8_t           key[8];
	MDB_val           k    = { 8, key }, v, ck, cv;
	uint32_t          sent = 0;
	int               rc;

	gh_be64_put(key, from);
	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, &txn))
	        != MDB_SUCCESS
	    || (rc = mdb_cursor_open(txn, db->applied, &cur)) != MDB_SUCCESS) {
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS && sent < max;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || v.mv_size != 32) {
			rc = MDB_CORRUPTED;
			goto out;
		}
		ck = v;
		if ((rc = mdb_get(txn, db->entries, &ck, &cv))
		    != MDB_SUCCESS) {
			rc = rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc;
			goto out;
		}
		sent++;
		if (fn(arg, gh_be64_get(k.mv_data), cv.mv_data, cv.mv_size)
		    != 0) {
			break;
		}
	}
	if (rc == MDB_NOTFOUND || sent == max) {
		rc = MDB_SUCCESS;
	}
out:
	mdb_cursor_close(cur);
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	return (ledger_mdb_err(rc));
}

int
ledger_store_cert_get(
    ledger_store *s, const gh_hash *entry, uint8_t **p, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_val  k   = { 32, (void *) entry->b }, v;
	int      rc;
	int      rv;

	*p = NULL;
	*n = 0;
	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, &txn))
	    != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	rc = mdb_get(txn, ledger_store_dbs(s)->entries, &k, &v);
	if (rc != MDB_SUCCESS) {
		rv = rc == MDB_NOTFOUND ? GH_ENOENT : ledger_mdb_err(rc);
	} else if ((*p = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
		rv = GH_ENOMEM;
	} else {
		memcpy(*p, v.mv_data, v.mv_size);
		*n = v.mv_size;
		rv = GH_OK;
	}
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_log_head(ledger_store *s, uint64_t *size, ledger_mhash *root)
{
	MDB_txn *txn = NULL;
	int      rc;
	int      rv;

	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, &txn))
	    != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	if ((rv = ledger_log_size(ledger_store_log(s), txn, size)) == GH_OK) {
		rv = ledger_log_root(ledger_store_log(s), txn, *size, root);
	}
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_checkpoint_add(
    ledger_store *s, const ledger_checkpoint *cp, int *outcome)
{
	MDB_txn *txn = NULL;
	int      rc;
	int      rv;

	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, 0, &txn))
	    != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	rv = ledger_log_checkpoint_add(ledger_store_log(s), txn, cp,
	    ledger_store_netid(s), NULL, outcome);
	if (rv != GH_OK) {
		mdb_txn_abort(txn);
		return (rv);
	}
	rc = mdb_txn_commit(txn);
	return (ledger_mdb_err(rc));
}

int
ledger_store_checkpoint_get(
    ledger_store *s, const gh_ed_pub *validator, ledger_checkpoint *out)
{
	MDB_txn *txn = NULL;
	int      rc;
	int      rv;

	if ((rc = mdb_txn_begin(ledger_store_env(s), NULL, MDB_RDONLY, &txn))
	    != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	rv = ledger_log_checkpoint_get(
	    ledger_store_log(s), txn, validator, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_lot_consumes(
    ledger_store *s, ledger_entry *e, const ledger_id *lot)
{
	ledger_lot  l;
	ledger_loan ln;
	int         rv;

	if ((rv = ledger_store_lot(s, lot, &l)) != GH_OK) {
		return (rv);
	}
	e->nconsumes           = 1;
	e->consumes[0].type    = LEDGER_OBJ_LOT;
	e->consumes[0].id      = *lot;
	e->consumes[0].version = l.version;
	if (l.pledged) {
		if ((rv = ledger_store_loan(s, &l.loan, &ln)) != GH_OK) {
			return (rv);
		}
		e->nconsumes           = 2;
		e->consumes[1].type    = LEDGER_OBJ_LOAN;
		e->consumes[1].id      = l.loan;
		e->consumes[1].version = ln.version;
	}
	return (GH_OK);
}

uint64_t
ledger_lot_accrued(const ledger_lot *l, const ledger_asset *as)
{
	gh_u128 acc
	    = (gh_u128) l->amount * (as->paid_in - l->cursor) + l->carry;

	if (as->supply == 0) {
		return (0);
	}
	acc /= as->supply;
	return (acc > UINT64_MAX ? UINT64_MAX : (uint64_t) acc);
}
