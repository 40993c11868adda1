/*
 * ledger.h - the ledger: entries, genesis, votes and certificates, the
 * state machine, the LMDB store, and the RFC 6962 transparency log.
 * Prefix ledger_.  Imports base/ only.
 */
#ifndef GH_LEDGER_H
#define GH_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ================================================================== */
/* Entries, genesis, votes, certificates, state, store.               */
/* (ledger core: entry.c, genesis.c, vote.c, state.c, store.c)        */
/* ================================================================== */

/* ledger core declarations go here */

/* ================================================================== */
/* Transparency log: RFC 6962 Merkle tree, proofs, checkpoints.       */
/* (merkle.c, log.c, checkpoint.c)                                    */
/* ================================================================== */

/*
 * The log numbers certified entries in the order this node applied them
 * and keeps an RFC 6962 / RFC 9162 Merkle tree over them: SHA-256, leaf
 * hash H(0x00 || leaf), node hash H(0x01 || left || right).  A leaf is
 * the 32-byte hash of a certified entry.  Every complete subtree's hash
 * is stored, so the root of any past size and both kinds of proof cost
 * O(log n) lookups.
 *
 * Pure functions below (hashing, verifiers, encoders) are thread-safe and
 * need no store: an auditor verifies proofs offline with them.
 */

/* A SHA-256 Merkle tree hash (leaf, interior node or root). */
typedef struct {
	uint8_t b[32];
} ledger_mhash;

/* Version and type bytes of the log's canonical encodings. */
#define LEDGER_LOG_VERSION 1
enum {
	LEDGER_TYPE_INCLUSION   = 0x60, /* inclusion proof */
	LEDGER_TYPE_CONSISTENCY = 0x61, /* consistency proof */
	LEDGER_TYPE_CHECKPOINT  = 0x62, /* signed checkpoint */
	LEDGER_TYPE_EVIDENCE    = 0x63, /* two contradicting checkpoints */
	LEDGER_TYPE_BUNDLE      = 0x64, /* entry + inclusion + checkpoint */
};

/* Most hashes in a proof: a tree below 2^64 leaves needs at most 64 for
 * an inclusion proof and 65 for a consistency proof. */
#define LEDGER_PROOF_MAX 65

/* leaf hash H(0x00 || p[0..n)). */
void ledger_merkle_leaf(const void *p, size_t n, ledger_mhash *out);
/* node hash H(0x01 || l || r). */
void ledger_merkle_node(
    const ledger_mhash *l, const ledger_mhash *r, ledger_mhash *out);
/* The root of the empty tree: SHA-256 of the empty string. */
void ledger_merkle_empty(ledger_mhash *out);

/* Inclusion proof of leaf `index` in the tree of `size` leaves: n
 * sibling hashes, from the leaf's sibling up (RFC 9162 2.1.3). */
typedef struct {
	uint64_t     index;
	uint64_t     size;
	uint32_t     n;
	ledger_mhash path[LEDGER_PROOF_MAX];
} ledger_inclusion;

/* Consistency proof from the tree of `first` leaves to the tree of
 * `second` leaves (RFC 9162 2.1.4).  first == 0 or first == second have
 * an empty proof. */
typedef struct {
	uint64_t     first;
	uint64_t     second;
	uint32_t     n;
	ledger_mhash path[LEDGER_PROOF_MAX];
} ledger_consistency;

/*
 * RFC 9162 2.1.3.2: GH_OK when p proves that the leaf with hash `leaf`
 * (ledger_merkle_leaf of the entry hash) is at p->index in the tree whose
 * root is `root`; GH_EBADSIG when it does not verify (any index, size or
 * hash changed), GH_EINVAL for a proof longer than LEDGER_PROOF_MAX.
 */
int ledger_inclusion_verify(const ledger_inclusion *p,
    const ledger_mhash *leaf, const ledger_mhash *root);
/*
 * RFC 9162 2.1.4.2: GH_OK when p proves that the tree of p->first leaves
 * with root `first_root` is a prefix of the tree of p->second leaves with
 * root `second_root`; GH_EBADSIG otherwise.  first == second needs an
 * empty proof and equal roots; first == 0 an empty proof and the empty
 * root.
 */
int ledger_consistency_verify(const ledger_consistency *p,
    const ledger_mhash *first_root, const ledger_mhash *second_root);

/*
 * Canonical encodings: version, type, u64 index/first, u64 size/second,
 * u8 count, count x 32 bytes.  Encoders hand *out (free()) to the caller;
 * GH_EINVAL when n > LEDGER_PROOF_MAX.  Decoders take untrusted bytes and
 * return GH_ETRUNC, GH_ETRAILING, GH_EVERSION, GH_ETYPE or GH_ETOOLONG
 * (count over the maximum); they do not verify the proof.
 */
int ledger_inclusion_encode(
    const ledger_inclusion *p, uint8_t **out, size_t *n);
int ledger_inclusion_decode(const uint8_t *p, size_t n, ledger_inclusion *out);
int ledger_consistency_encode(
    const ledger_consistency *p, uint8_t **out, size_t *n);
int ledger_consistency_decode(
    const uint8_t *p, size_t n, ledger_consistency *out);

/*
 * A checkpoint: a validator's signed statement that its log had `size`
 * entries with `root` at `time` (seconds), on network `network`.  The
 * signature is gh_ed_sign over gh_hash_tagged(GH_TAG_CHECKPOINT, the
 * encoding without the signature).  Encoding: version, type, network 32,
 * u64 size, root 32, u64 time, validator 32, signature 64.
 */
typedef struct {
	gh_hash      network;
	uint64_t     size;
	ledger_mhash root;
	uint64_t     time;
	gh_ed_pub    validator;
	gh_sig       sig;
} ledger_checkpoint;

#define LEDGER_CHECKPOINT_LEN (2 + 32 + 8 + 32 + 8 + 32 + 64)

/* Sets cp->validator to key's public key and signs; the other fields are
 * the caller's.  key is borrowed. */
void ledger_checkpoint_sign(ledger_checkpoint *cp, const gh_ed_key *key);
/* GH_OK or GH_EBADSIG. */
int ledger_checkpoint_verify(const ledger_checkpoint *cp);
/* The hash that is signed. */
void ledger_checkpoint_hash(const ledger_checkpoint *cp, gh_hash *out);
/* Encodes into out (LEDGER_CHECKPOINT_LEN bytes). */
void ledger_checkpoint_encode(
    const ledger_checkpoint *cp, uint8_t out[LEDGER_CHECKPOINT_LEN]);
/* Decodes untrusted bytes (the signature is not checked). */
int ledger_checkpoint_decode(
    const uint8_t *p, size_t n, ledger_checkpoint *out);

/*
 * Evidence of a split view: two checkpoints of one validator that cannot
 * both be true, `a` with the smaller (or equal) size.
 *   SAME_SIZE     same size, different roots;
 *   TIME          a.size < b.size but a.time > b.time (the log shrank in
 *                 time);
 *   INCONSISTENT  a.size < b.size and `proof`, the consistency proof that
 *                 came with them, does not link a.root to b.root.
 * The first two need nobody's word; the third is as strong as the source
 * of the proof (the validator itself should be the one to send it).
 */
typedef enum {
	LEDGER_EV_SAME_SIZE    = 1,
	LEDGER_EV_TIME         = 2,
	LEDGER_EV_INCONSISTENT = 3,
} ledger_evidence_kind;

typedef struct {
	uint8_t            kind; /* ledger_evidence_kind */
	ledger_checkpoint  a;
	ledger_checkpoint  b;
	ledger_consistency proof; /* LEDGER_EV_INCONSISTENT only */
} ledger_evidence;

/* Checks that ev is evidence: same validator and network, both
 * signatures valid, and the contradiction its kind names.  GH_OK,
 * GH_EBADSIG (a signature) or GH_EINVAL (no contradiction). */
int ledger_evidence_check(const ledger_evidence *ev);
/* Encoding: version, type, u8 kind, checkpoint a, checkpoint b (fixed
 * length each), then for INCONSISTENT a u32-length consistency proof. */
int ledger_evidence_encode(
    const ledger_evidence *ev, uint8_t **out, size_t *n);
int ledger_evidence_decode(const uint8_t *p, size_t n, ledger_evidence *out);

/*
 * A proof bundle, what `gpuhour ledger proof` writes: an entry hash, its
 * inclusion proof, and the root it leads to, signed by a checkpoint when
 * has_checkpoint (then root == cp.root and proof.size == cp.size).
 */
typedef struct {
	gh_hash           entry;
	ledger_mhash      root;
	ledger_inclusion  proof;
	int               has_checkpoint;
	ledger_checkpoint cp;
} ledger_bundle;

/* Verifies offline: the checkpoint's signature (if any) and the entry's
 * inclusion under root.  GH_OK or GH_EBADSIG. */
int ledger_bundle_verify(const ledger_bundle *b);
int ledger_bundle_encode(const ledger_bundle *b, uint8_t **out, size_t *n);
int ledger_bundle_decode(const uint8_t *p, size_t n, ledger_bundle *out);

/*
 * The standalone log store: an LMDB environment of its own (the CLI,
 * tests and benchmarks; the node's store uses ledger/log.h inside its own
 * transactions on the same databases).  A handle may be used from any
 * thread; appends are serialised by LMDB's writer lock.
 */
typedef struct ledger_logdb ledger_logdb;

#define LEDGER_LOGDB_MAP_DEFAULT (((uint64_t) 1) << 36) /* 64 GiB */

/*
 * Opens (creating if needed, mode 0700) the LMDB environment in folder
 * dir (<datadir>/ledger) with map size map_size (0: the default).
 * *out is the caller's: ledger_logdb_close.  GH_ECORRUPT for a damaged
 * or foreign store.
 */
int  ledger_logdb_open(const char *dir, uint64_t map_size, ledger_logdb **out);
void ledger_logdb_close(ledger_logdb *db); /* accepts NULL */

/*
 * Appends count entry hashes in one transaction; *first (may be NULL)
 * gets the index of the first.  All or nothing: GH_EEXIST when one is
 * already in the log (or twice in the batch), GH_EFULL when the map is
 * full (nothing appended: reopen with a larger map size).
 */
int ledger_logdb_append(
    ledger_logdb *db, const gh_hash *entries, size_t count, uint64_t *first);
int ledger_logdb_size(ledger_logdb *db, uint64_t *size);
/* The root of the tree of the first `size` leaves (GH_ENOENT when size is
 * beyond the log). */
int ledger_logdb_root(ledger_logdb *db, uint64_t size, ledger_mhash *root);
/* The index of an entry (GH_ENOENT) and the entry at an index. */
int ledger_logdb_find(ledger_logdb *db, const gh_hash *entry, uint64_t *index);
int ledger_logdb_leaf(ledger_logdb *db, uint64_t index, ledger_mhash *leaf);
/* Proofs at a past or present size (GH_ENOENT / GH_EINVAL when the sizes
 * or index are out of range). */
int ledger_logdb_inclusion(
    ledger_logdb *db, uint64_t index, uint64_t size, ledger_inclusion *out);
int ledger_logdb_consistency(ledger_logdb *db, uint64_t first, uint64_t second,
    ledger_consistency *out);

/*
 * Records a checkpoint received from a validator.  The signature is
 * checked (GH_EBADSIG) and, when network is not NULL, the network id
 * (GH_ENETID); the caller checks that the validator is in the committee.
 * proof, when not NULL, is a consistency proof between this checkpoint
 * and the validator's latest one (smaller size first; GH_EINVAL if its
 * sizes are not those two).  *outcome (may be NULL) gets one of:
 */
enum {
	LEDGER_CP_LATEST   = 1, /* now the validator's latest */
	LEDGER_CP_IGNORED  = 2, /* older than or the same as the latest */
	LEDGER_CP_EVIDENCE = 3, /* contradicts the latest: evidence stored */
};
int ledger_logdb_checkpoint_add(ledger_logdb *db, const ledger_checkpoint *cp,
    const gh_hash *network, const ledger_consistency *proof, int *outcome);
/* The latest checkpoint of a validator (GH_ENOENT). */
int ledger_logdb_checkpoint_get(
    ledger_logdb *db, const gh_ed_pub *validator, ledger_checkpoint *out);
/* All latest checkpoints / all evidence, in key order; *out is malloc'd
 * (free()), NULL when *n is 0. */
int ledger_logdb_checkpoints(
    ledger_logdb *db, ledger_checkpoint **out, size_t *n);
int ledger_logdb_evidence(ledger_logdb *db, ledger_evidence **out, size_t *n);

#endif /* GH_LEDGER_H */
