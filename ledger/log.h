/*
 * log.h - private to ledger/: the transparency log inside a caller's
 * LMDB transaction, so the store can append certified entries to the log
 * in the same write transaction that applies them.
 *
 * Databases (in the store's environment, which needs maxdbs >= 32):
 *   log_nodes        u8 level || u64 index (big-endian) -> 32-byte hash of
 *                    the complete subtree of 2^level leaves starting at
 *                    leaf index * 2^level (level 0: the leaf hashes)
 *   log_meta         "size" -> u64 leaf count; "format" -> u8 1
 *   log_index        leaf hash (32) -> u64 index
 *   log_checkpoints  validator public key (32) -> latest checkpoint
 *   log_evidence     validator (32) || SHA-256 of the encoding (32) ->
 *                    evidence encoding
 *
 * Threads: a ledger_log handle holds only database handles; after
 * ledger_log_open's transaction has committed it may be used from any
 * thread with any transaction of that environment.  Writes need the
 * (single) write transaction.  Errors from LMDB are mapped: MDB_MAP_FULL
 * -> GH_EFULL (the transaction must then be aborted), damaged stored
 * bytes -> GH_ECORRUPT.
 */
#ifndef GH_LEDGER_LOG_H
#define GH_LEDGER_LOG_H

#include <lmdb.h>

#include "ledger/ledger.h"

typedef struct ledger_log ledger_log;

/*
 * Opens (creating when txn is a write transaction) the log's databases.
 * The caller commits txn before using *out in another transaction (an
 * LMDB rule for new database handles).  *out is the caller's:
 * ledger_log_close, after the environment's last use of it.
 */
int  ledger_log_open(MDB_txn *txn, ledger_log **out);
void ledger_log_close(ledger_log *log); /* accepts NULL */

/* Maps an LMDB or errno code into gh_err. */
int ledger_log_mdb_err(int rc);

/*
 * Appends one leaf (the leaf data: a 32-byte entry hash; n <= 1024) in
 * the write transaction txn; *index (may be NULL) gets its number.
 * Costs one leaf hash and on average one node hash.  GH_EEXIST when the
 * same leaf is already in the log (nothing written).  On GH_EFULL or any
 * LMDB error the caller aborts txn.
 */
int ledger_log_append(ledger_log *log, MDB_txn *txn, const uint8_t *leaf,
    size_t n, uint64_t *index);
/*
 * Appends count entry hashes (32-byte leaves) in txn, as count calls of
 * ledger_log_append but reading the tree's right edge once: the batch
 * path for the store and ledger_logdb_append.  *first (may be NULL) gets
 * the first one's index.  GH_EEXIST as above; on any error the caller
 * aborts txn (part of the batch may have been written into it).
 */
int ledger_log_append_many(ledger_log *log, MDB_txn *txn,
    const gh_hash *entries, size_t count, uint64_t *first);
/* The number of leaves. */
int ledger_log_size(ledger_log *log, MDB_txn *txn, uint64_t *size);
/* The root of the first `size` leaves; GH_ENOENT when size > the log's. */
int ledger_log_root(
    ledger_log *log, MDB_txn *txn, uint64_t size, ledger_mhash *root);
/* The leaf hash at index (GH_ENOENT beyond the log). */
int ledger_log_leaf(
    ledger_log *log, MDB_txn *txn, uint64_t index, ledger_mhash *leaf);
/* The index of the leaf whose leaf data is leaf[0..n) (GH_ENOENT). */
int ledger_log_find(ledger_log *log, MDB_txn *txn, const uint8_t *leaf,
    size_t n, uint64_t *index);
/* Inclusion proof of leaf index in the tree of size leaves: GH_ENOENT
 * when size > the log's, GH_EINVAL when index >= size. */
int ledger_log_inclusion(ledger_log *log, MDB_txn *txn, uint64_t index,
    uint64_t size, ledger_inclusion *out);
/* Consistency proof from first to second leaves: GH_ENOENT when second
 * > the log's, GH_EINVAL when first > second. */
int ledger_log_consistency(ledger_log *log, MDB_txn *txn, uint64_t first,
    uint64_t second, ledger_consistency *out);

/* Checkpoints and evidence (see ledger_logdb_checkpoint_add). */
int ledger_log_checkpoint_add(ledger_log *log, MDB_txn *txn,
    const ledger_checkpoint *cp, const gh_hash *network,
    const ledger_consistency *proof, int *outcome);
int ledger_log_checkpoint_get(ledger_log *log, MDB_txn *txn,
    const gh_ed_pub *validator, ledger_checkpoint *out);
int ledger_log_checkpoints(
    ledger_log *log, MDB_txn *txn, ledger_checkpoint **out, size_t *n);
int ledger_log_evidence(
    ledger_log *log, MDB_txn *txn, ledger_evidence **out, size_t *n);

#endif /* GH_LEDGER_LOG_H */
