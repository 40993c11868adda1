/* priv.h - private to ledger/: object keys and encodings, rules. */
#ifndef GH_LEDGER_PRIV_H
#define GH_LEDGER_PRIV_H

#include <lmdb.h>

#include "ledger/ledger.h"

#define LEDGER_TAG_LOT     "gpuhour/lot/v1"
#define LEDGER_TAG_BINDING "gpuhour/asset-binding/v1"
#define LEDGER_TAG_STATE   "gpuhour/state/v1"

/* Type bytes of the non-entry encodings. */
enum {
	LEDGER_T_VOTE    = 0x40,
	LEDGER_T_CERT    = 0x41,
	LEDGER_T_EQUIV   = 0x42,
	LEDGER_T_OBJECT  = 0x43,
	LEDGER_T_GENESIS = 0x44,
};

/* An object's key in the objects database: type byte then id. */
#define LEDGER_OBJKEY_LEN 33
void ledger_objkey(uint8_t type, const uint8_t id[32], uint8_t out[33]);
/* The global totals object ("minted"). */
#define LEDGER_OBJ_GLOBAL 0x7f

/* The named databases of one environment. */
typedef struct {
	MDB_dbi entries; /* entry hash -> certificate bytes */
	MDB_dbi chains;  /* objkey || seq (be64) -> entry hash */
	MDB_dbi objects; /* objkey -> object encoding */
	MDB_dbi pending; /* entry hash -> certificate bytes */
	MDB_dbi votes;   /* validator || objkey || version -> entry bytes */
	MDB_dbi equivs;  /* objkey -> equivocation proof */
	MDB_dbi applied; /* position (be64) -> entry hash */
	MDB_dbi meta;    /* "netid", "genesis" */
} ledger_dbs;

/* The object versions an entry consumes, its own chain first (out has
 * room for 1 + LEDGER_CONSUMES_MAX); returns how many. */
uint32_t ledger_entry_objvers(const ledger_entry *e, ledger_objver *out);

/* Maps an LMDB return code into gh_err. */
int ledger_mdb_err(int rc);

/*
 * The rules.  check: GH_OK when e (whose signature was checked by the
 * caller) applies to the state in txn now; validator nonzero applies a
 * validator's stricter view (a gap or a pool total above ours is
 * refused rather than pending).  apply: check then write the effects.
 * Both work inside txn (apply needs a write txn).
 */
int ledger_rules_check(MDB_txn *txn, const ledger_dbs *db,
    const ledger_genesis *g, const gh_hash *netid, const ledger_entry *e,
    const gh_hash *h);
int ledger_rules_apply(MDB_txn *txn, const ledger_dbs *db,
    const ledger_genesis *g, const gh_hash *netid, const ledger_entry *e,
    const gh_hash *h);
/* Whether a rules error means "wait for more entries" for a certified
 * entry (missing predecessor, funds, object, pool total). */
int ledger_rules_waits(int err);

int ledger_state_hash_txn(MDB_txn *txn, const ledger_dbs *db, gh_hash *out);
int ledger_invariants_txn(
    MDB_txn *txn, const ledger_dbs *db, char *why, size_t cap);

/* Object encodings (stored values). */
int ledger_account_get(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], ledger_account *a);
int ledger_asset_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_asset *a);
int ledger_lot_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_lot *l);
int ledger_lot_decode(const uint8_t *p, size_t n, ledger_lot *l);
int ledger_lease_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_lease *l);
int ledger_lease_decode(const uint8_t *p, size_t n, ledger_lease *l);
int ledger_loan_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_loan *l);
int ledger_loan_decode(const uint8_t *p, size_t n, ledger_loan *l);
int ledger_proof_get(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    ledger_proof_rec *pr);

/* The store's environment, databases and log (ledger/query.c). */
struct ledger_log;
MDB_env           *ledger_store_env(ledger_store *s);
const ledger_dbs  *ledger_store_dbs(const ledger_store *s);
struct ledger_log *ledger_store_log(ledger_store *s);

/* The store's environment, databases and log (ledger/query.c). */
struct ledger_log;
MDB_env           *ledger_store_env(ledger_store *s);
const ledger_dbs  *ledger_store_dbs(const ledger_store *s);
struct ledger_log *ledger_store_log(ledger_store *s);

#endif
