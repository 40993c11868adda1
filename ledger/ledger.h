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
/* (ledger core: entry.c, genesis.c, state.c, store.c)                */
/* ================================================================== */

/*
 * Threads: the encoders, decoders and verifiers below are pure and
 * thread-safe; the store's functions may be called from any thread (one
 * writer thread inside the store serialises its writes).  Decoders read
 * untrusted bytes and never trust a length they have not checked.
 */

/*
 * Objects.  Every object of the ledger has a type, a 32-byte id and a
 * version; an entry names the versions it consumes.  Accounts and node
 * chains are identified by their public key, assets by the hash of their
 * ASSET_REGISTER entry, share lots by a hash derived from the entry that
 * created them.
 */
typedef struct {
	uint8_t b[32];
} ledger_id;

typedef enum {
	LEDGER_OBJ_ACCOUNT = 1, /* an account's chain and balance */
	LEDGER_OBJ_NODE    = 2, /* a node's chain */
	LEDGER_OBJ_ASSET   = 3, /* an asset and its revenue pool */
	LEDGER_OBJ_LOT     = 4, /* a share lot */
	LEDGER_OBJ_LEASE   = 5, /* a lease (market issue) */
	LEDGER_OBJ_LOAN    = 6, /* a loan */
	LEDGER_OBJ_PROOF   = 7, /* a recorded utilization proof (never
	                           consumed; id from node and proof hash) */
} ledger_obj_type;

/* (type, id, version): one consumed object version. */
typedef struct {
	uint8_t   type;
	ledger_id id;
	uint64_t  version;
} ledger_objver;

/* Entry kinds: the type byte of an entry's encoding. */
typedef enum {
	LEDGER_MINT           = 1,
	LEDGER_TRANSFER       = 2,
	LEDGER_ASSET_REGISTER = 3,
	LEDGER_SHARE_TRANSFER = 4,
	LEDGER_REVENUE_CLAIM  = 5,
	LEDGER_LEASE_OPEN     = 6,
	LEDGER_LEASE_DRAW     = 7,
	LEDGER_LEASE_CLOSE    = 8,
	LEDGER_LEASE_EXPIRE   = 9,
	LEDGER_PROOF          = 10,
	LEDGER_LOAN_OFFER     = 11,
	LEDGER_LOAN_TAKE      = 12,
	LEDGER_LOAN_REPAY     = 13,
	LEDGER_LOAN_SEIZE     = 14,
	LEDGER_LOAN_CANCEL    = 15,
	LEDGER_KIND_MAX       = 15,
} ledger_kind;

/* Who signs an entry: an account (BIP340) or a node (Ed25519). */
typedef enum {
	LEDGER_SCHEME_ACCOUNT = 1,
	LEDGER_SCHEME_NODE    = 2,
} ledger_scheme;

#define LEDGER_ENTRY_VERSION 1
#define LEDGER_CONSUMES_MAX  4    /* object versions one entry consumes */
#define LEDGER_HW_MAX        256  /* ASSET_REGISTER hardware text */
#define LEDGER_ENTRY_MAX     1024 /* encoded entry, bytes */
#define LEDGER_NETNAME_MAX   64
#define LEDGER_ADDR_MAX      128
#define LEDGER_COMMITTEE_MAX 64 /* validators in a genesis */
#define LEDGER_VOTE_SIZE     (2 + 32 + 32 + 32 + 64)
#define LEDGER_CERT_MAX      (8 + LEDGER_ENTRY_MAX + LEDGER_COMMITTEE_MAX * 96)
#define LEDGER_EQUIV_MAX     (8 + 2 * LEDGER_ENTRY_MAX)

/* TRANSFER destinations: an account, or an asset's revenue pool (a
 * direct payment into it besides lease draws; a pool only grows). */
typedef enum {
	LEDGER_DEST_ACCOUNT = 1,
	LEDGER_DEST_POOL    = 2,
} ledger_dest;

/* Kind-specific bodies.  Fields are what is encoded, in order. */
typedef struct {
	gh_acct_pub to;
	uint64_t    amount;
} ledger_body_mint;

typedef struct {
	uint8_t   dest; /* ledger_dest */
	ledger_id to;   /* account public key or asset id */
	uint64_t  amount;
} ledger_body_transfer;

typedef struct {
	gh_ed_pub node;     /* the GPU's node key, bound to the owner */
	gh_sig    node_sig; /* node's signature over (network, owner) */
	uint64_t  supply;   /* share supply S, > 0 */
	char      hw[LEDGER_HW_MAX + 1];
} ledger_body_asset_register;

typedef struct {
	ledger_id   lot; /* consumed: also in the entry's consumes */
	gh_acct_pub to;
	uint64_t    amount;
	uint64_t    pool_total; /* R' at which the seller's accrual settles */
} ledger_body_share_transfer;

typedef struct {
	ledger_id lot;
	uint64_t  pool_total; /* R' */
} ledger_body_revenue_claim;

/*
 * LEASE_OPEN (renter's account): escrow = ceil((expiry - start) * price
 * / 3600) moves from the renter's balance into a new lease object whose
 * id is the entry's hash.  node must be the asset's registered node;
 * offer/offer_seq are for reference only.
 */
typedef struct {
	ledger_id asset;
	gh_ed_pub node;        /* provider's node key (the asset's) */
	gh_ed_pub receipt_key; /* Ed25519 key that signs the receipts */
	ledger_id offer;       /* hash of the offer (reference) */
	uint64_t  offer_seq;
	uint64_t  price;   /* micro-units per GPU-hour, > 0 */
	uint8_t   billing; /* 1 reserved, 2 metered (as market_billing) */
	uint64_t  start;   /* unix seconds */
	uint64_t  expiry;  /* unix seconds, > start */
} ledger_body_lease_open;

/*
 * LEASE_DRAW and LEASE_CLOSE (provider's node): the renter's receipt
 * (lease, seq, cumulative amount) signed by the lease's receipt key, in
 * market_receipt's format.  A CLOSE with seq 0 carries no receipt
 * (amount 0, signature all zero): it draws nothing more and refunds.
 */
typedef struct {
	ledger_id lease;
	uint64_t  receipt_seq;
	uint64_t  receipt_amount; /* cumulative amount of the receipt */
	gh_sig    receipt_sig;
} ledger_body_lease_draw;

typedef struct {
	ledger_id id; /* the lease (EXPIRE) or loan (TAKE, SEIZE, CANCEL) */
} ledger_body_ref;

typedef struct {
	ledger_id lease; /* a lease whose node is the author */
	gh_hash   proof; /* hash (id) of the utilization proof */
	uint64_t  tokens;
	uint64_t  device_ns;
} ledger_body_proof;

/* LOAN_OFFER (lender): amount locked from the lender's balance into a
 * new loan object (id: the entry's hash). */
typedef struct {
	gh_acct_pub borrower;
	ledger_id   lot;
	uint64_t    amount;   /* lent, > 0 */
	uint64_t    due;      /* sum due, > 0 */
	uint64_t    maturity; /* unix seconds, > expiry */
	uint64_t    expiry;   /* offer expiry, unix seconds */
} ledger_body_loan_offer;

typedef struct {
	ledger_id loan;
	uint64_t  amount; /* > 0, <= what is owed */
} ledger_body_loan_repay;

/*
 * A decoded entry.  The author's chain object (account or node, by
 * scheme) is consumed implicitly at version seq - 1; consumes[] lists
 * the other object versions.
 */
typedef struct {
	uint8_t       kind;   /* ledger_kind */
	uint8_t       scheme; /* ledger_scheme */
	gh_hash       netid;
	uint8_t       author[32];
	uint64_t      seq;  /* >= 1 */
	gh_hash       prev; /* hash of entry seq-1; zero for seq 1 */
	uint64_t      time; /* author's clock, seconds */
	uint32_t      nconsumes;
	ledger_objver consumes[LEDGER_CONSUMES_MAX];
	union {
		ledger_body_mint           mint;
		ledger_body_transfer       transfer;
		ledger_body_asset_register asset;
		ledger_body_share_transfer share;
		ledger_body_revenue_claim  claim;
		ledger_body_lease_open     lease_open;
		ledger_body_lease_draw     lease_draw;
		ledger_body_ref            ref;
		ledger_body_proof          proof;
		ledger_body_loan_offer     loan_offer;
		ledger_body_loan_repay     loan_repay;
	} body;
	gh_sig sig;
} ledger_entry;

/* The scheme that signs each kind (node for PROOF, LEASE_DRAW and
 * LEASE_CLOSE, account otherwise); 0 for an unknown kind. */
int         ledger_kind_scheme(int kind);
const char *ledger_kind_name(int kind); /* static string; "?" if unknown */

/*
 * Canonical encoding.  encode: *p is malloc'd (caller frees), GH_EINVAL
 * for an entry that no decoder would accept.  decode: parses untrusted
 * bytes; rejects trailing bytes, unknown kinds and versions, a scheme
 * that does not sign that kind, and any non-canonical field
 * (GH_ETRUNC, GH_ETRAILING, GH_EVERSION, GH_ETYPE, GH_ENONCANON,
 * GH_ETOOLONG).  Signatures are not checked by decode.
 */
int ledger_entry_encode(const ledger_entry *e, uint8_t **p, size_t *n);
int ledger_entry_decode(const uint8_t *p, size_t n, ledger_entry *e);
/* The entry's id: the tagged hash of its encoding without the signature
 * (what the author signs). */
void ledger_entry_hash(const ledger_entry *e, gh_hash *out);
/* Signs with the author key (the key must match e->author: GH_EBADKEY
 * otherwise); fills e->sig. */
int ledger_entry_sign_account(ledger_entry *e, const gh_acct_key *k);
int ledger_entry_sign_node(ledger_entry *e, const gh_ed_key *k);
/* GH_OK or GH_EBADSIG. */
int ledger_entry_verify_sig(const ledger_entry *e);
/* The node's binding signature of an ASSET_REGISTER: over (network id,
 * owner account). */
void ledger_asset_binding_hash(
    const gh_hash *netid, const uint8_t owner[32], gh_hash *out);

/* Derived ids: the owner's first lot of an asset (index 0) and the lot a
 * SHARE_TRANSFER creates for its buyer (index 1), from the entry hash. */
void ledger_lot_id(const gh_hash *entry, uint32_t index, ledger_id *out);

/* ------------------------------------------------------------------ */
/* Genesis. */

typedef struct {
	gh_ed_pub key;
	char      addr[LEDGER_ADDR_MAX + 1];
} ledger_validator;

typedef struct {
	char             network[LEDGER_NETNAME_MAX + 1];
	uint32_t         n; /* committee size, 3f+1 */
	ledger_validator committee[LEDGER_COMMITTEE_MAX];
	gh_acct_pub      issuer;
	gh_acct_pub      treasury;
	uint32_t         fee_bps;      /* protocol fee, <= 10000 */
	uint64_t         lease_grace;  /* seconds */
	uint64_t         clock_margin; /* seconds */
} ledger_genesis;

#define LEDGER_GENESIS_TEXT_MAX 65536

/*
 * Parses the text genesis file ("key value" lines, '#' comments; see
 * ledger_genesis_format).  GH_EINVAL with *line set to the offending
 * line (1-based) on a malformed file; checks n = 3f+1, distinct
 * validators, fee <= 10000 bps.
 */
int ledger_genesis_parse(
    const char *text, size_t n, ledger_genesis *g, unsigned *line);
/* Writes the text form; *out malloc'd, NUL-terminated. */
int ledger_genesis_format(const ledger_genesis *g, char **out);
/* Network id: tagged hash of the canonical binary encoding. */
void ledger_genesis_netid(const ledger_genesis *g, gh_hash *out);
/* f and the quorum 2f+1 of the committee. */
uint32_t ledger_genesis_quorum(const ledger_genesis *g);
/* Index of a validator key in the committee, or -1. */
int ledger_genesis_member(const ledger_genesis *g, const gh_ed_pub *k);
/* Reads and parses a genesis file. */
int ledger_genesis_load(const char *path, ledger_genesis *g, unsigned *line);

/* ------------------------------------------------------------------ */
/* Votes and certificates. */

/* A validator's vote: its signature over (network id, entry hash). */
typedef struct {
	gh_hash   netid;
	gh_hash   entry;
	gh_ed_pub validator;
	gh_sig    sig;
} ledger_vote;

void ledger_vote_hash(
    const gh_hash *netid, const gh_hash *entry, gh_hash *out);
/* Encoding of exactly LEDGER_VOTE_SIZE bytes. */
int ledger_vote_encode(const ledger_vote *v, uint8_t out[LEDGER_VOTE_SIZE]);
int ledger_vote_decode(const uint8_t *p, size_t n, ledger_vote *v);
int ledger_vote_verify(const ledger_vote *v); /* GH_OK or GH_EBADSIG */

/*
 * A certificate: an entry and the votes of distinct committee members,
 * sorted by validator key.  Encoded as header, entry bytes (u32 length),
 * vote count, then (validator key, signature) pairs.
 */
typedef struct {
	ledger_entry entry;
	gh_hash      hash; /* ledger_entry_hash(&entry), filled by decode */
	uint32_t     nvotes;
	gh_ed_pub    voter[LEDGER_COMMITTEE_MAX];
	gh_sig       vsig[LEDGER_COMMITTEE_MAX];
} ledger_cert;

/*
 * Builds a certificate from an entry and votes (any order; sorted here).
 * GH_EINVAL if a vote is for another entry or network, GH_EQUORUM when
 * fewer than the quorum of distinct members voted.
 */
int ledger_cert_build(const ledger_genesis *g, const ledger_entry *e,
    const ledger_vote *votes, size_t nvotes, ledger_cert *out);
int ledger_cert_encode(const ledger_cert *c, uint8_t **p, size_t *n);
int ledger_cert_decode(const uint8_t *p, size_t n, ledger_cert *c);
/*
 * Checks a certificate against the genesis: network id (GH_ENETID), the
 * author's signature (GH_EBADSIG), and at least 2f+1 valid votes by
 * distinct committee members (GH_EQUORUM for too few, duplicates or
 * non-members; GH_EBADSIG for a bad vote signature).
 */
int ledger_cert_verify(const ledger_genesis *g, const ledger_cert *c);

/*
 * Equivocation proof: two entries signed by one key that consume one
 * object version.  verify: GH_OK when the pair is a proof; fills *obj
 * with the object version they both consume.
 */
int ledger_equiv_verify(const gh_hash *netid, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, ledger_objver *obj);
int ledger_equiv_encode(const uint8_t *a, size_t an, const uint8_t *b,
    size_t bn, uint8_t **p, size_t *n);
/* Splits a proof into its two entries (views into p). */
int ledger_equiv_decode(const uint8_t *p, size_t n, const uint8_t **a,
    size_t *an, const uint8_t **b, size_t *bn);

/* ------------------------------------------------------------------ */
/* State objects as read from a store. */

typedef struct {
	uint64_t seq; /* version: seq of the last applied entry */
	gh_hash  head;
	uint64_t balance; /* 0 for node chains */
} ledger_account;

typedef struct {
	gh_acct_pub owner;
	gh_ed_pub   node;
	uint64_t    supply;   /* S */
	uint64_t    paid_in;  /* R */
	uint64_t    paid_out; /* P */
	char        hw[LEDGER_HW_MAX + 1];
} ledger_asset;

typedef struct {
	ledger_id   asset;
	gh_acct_pub holder;
	uint64_t    amount; /* a */
	uint64_t    cursor; /* c */
	uint64_t    carry;  /* r < S */
	uint64_t    version;
	uint8_t     pledged; /* 1 while a taken loan holds it */
	ledger_id   loan;    /* that loan (zero when not pledged) */
} ledger_lot;

typedef enum {
	LEDGER_LEASE_ACTIVE  = 1,
	LEDGER_LEASE_CLOSED  = 2, /* by the provider (LEASE_CLOSE) */
	LEDGER_LEASE_EXPIRED = 3, /* by the renter (LEASE_EXPIRE) */
} ledger_lease_state;

typedef struct {
	gh_acct_pub renter;
	ledger_id   asset;
	gh_ed_pub   node;
	gh_ed_pub   receipt_key;
	ledger_id   offer;
	uint64_t    offer_seq;
	uint64_t    price;
	uint8_t     billing;
	uint8_t     state; /* ledger_lease_state */
	uint64_t    start;
	uint64_t    expiry;
	uint64_t    escrow;   /* locked at open */
	uint64_t    drawn;    /* paid out of escrow by draws (fee included) */
	uint64_t    last_seq; /* seq of the latest receipt drawn on */
	uint64_t    fees;     /* of drawn, what went to the treasury */
	uint64_t    refunded; /* returned to the renter at the end */
	uint64_t    version;
} ledger_lease;

typedef enum {
	LEDGER_LOAN_OFFERED   = 1,
	LEDGER_LOAN_TAKEN     = 2, /* the lot is pledged */
	LEDGER_LOAN_REPAID    = 3,
	LEDGER_LOAN_SEIZED    = 4,
	LEDGER_LOAN_CANCELLED = 5,
} ledger_loan_state;

typedef struct {
	gh_acct_pub lender;
	gh_acct_pub borrower;
	ledger_id   lot;
	uint64_t    amount;
	uint64_t    due;
	uint64_t    maturity;
	uint64_t    expiry;
	uint8_t     state;     /* ledger_loan_state */
	uint64_t    owed;      /* due less what was repaid; due until taken */
	uint64_t    by_claims; /* repaid by the lot's revenue claims */
	uint64_t    by_repay;  /* repaid by LOAN_REPAY */
	uint64_t    taken_at;  /* time of LOAN_TAKE */
	uint64_t    version;
} ledger_loan;

/* A recorded utilization proof (LEDGER_OBJ_PROOF). */
typedef struct {
	ledger_id lease;
	gh_ed_pub node;
	gh_hash   proof;
	uint64_t  tokens;
	uint64_t  device_ns;
	uint64_t  time; /* the PROOF entry's time */
} ledger_proof_rec;

/*
 * Escrow and draw arithmetic (integer micro-units, u128 products,
 * checked).  escrow: ceil(seconds * price / 3600), GH_EOVERFLOW when it
 * does not fit.  draw_split: the part of receipt_amount not yet drawn,
 * less floor(draw * fee_bps / 10000) to the treasury, the rest to the
 * pool; GH_ECONFLICT when receipt_amount < drawn, GH_EFUNDS when it is
 * above escrow, GH_EINVAL for fee_bps > 10000.  Pure, thread-safe.
 */
int ledger_escrow_amount(uint64_t seconds, uint64_t price, uint64_t *out);
int ledger_draw_split(uint64_t escrow, uint64_t drawn, uint64_t receipt_amount,
    uint32_t fee_bps, uint64_t *draw, uint64_t *fee, uint64_t *to_pool);
/*
 * Verifies a renter receipt (market_receipt's format: version 1, type 2,
 * lease, seq, amount, key, signed by key over gh_hash_tagged(
 * GH_TAG_RECEIPT, that body)).  GH_OK or GH_EBADSIG.
 */
int ledger_receipt_verify(const ledger_id *lease, uint64_t seq,
    uint64_t amount, const gh_ed_pub *key, const gh_sig *sig);
/* The id of a proof object: tagged hash of (node, proof hash). */
void ledger_proof_obj_id(
    const gh_ed_pub *node, const gh_hash *proof, ledger_id *out);

/* ------------------------------------------------------------------ */
/* Store: LMDB environment in <datadir>/ledger/. */

typedef struct ledger_store ledger_store;

typedef struct {
	uint64_t map_size; /* bytes; 0 = LEDGER_MAP_SIZE_DEFAULT */
	unsigned threads;  /* signature-check threads; 0 = online CPUs */
	int      no_sync;  /* tests only: MDB_NOSYNC */
	/* Another process (a node) owns the store: open it read-only, with
	 * no writer thread; every write function then fails (GH_EPERM).
	 * GH_ENOENT when that process has not created the store yet. */
	int read_only;
} ledger_store_opts;

#define LEDGER_MAP_SIZE_DEFAULT ((uint64_t) 64 << 30)

/*
 * Opens (creating when absent) the store of datadir for the network of
 * g.  A store made for another genesis is GH_ENETID; damaged bytes are
 * GH_ECORRUPT.  Starts the writer thread.  Close with
 * ledger_store_close (accepts NULL).  One store per environment per
 * process.  All functions below are thread-safe unless noted.
 */
int  ledger_store_open(const char *datadir, const ledger_genesis *g,
     const ledger_store_opts *o, ledger_store **out);
void ledger_store_close(ledger_store *s);
const ledger_genesis *ledger_store_genesis(const ledger_store *s);
const gh_hash        *ledger_store_netid(const ledger_store *s);

/*
 * Validator: checks an encoded entry against this store's state (rules,
 * signature, network, clock within the margin of now) and, unless this
 * validator already voted for another entry on one of the object
 * versions it consumes, records the vote durably (committed to disk)
 * and only then fills *vote.  Voting again for the same entry returns
 * the same vote.  GH_ECONFLICT for a conflicting entry: when it is
 * signed by the same key, the equivocation proof is stored and the
 * object frozen; later entries on it get GH_EFROZEN.  validator is
 * borrowed for the call (one thread at a time per key handle).
 */
int ledger_store_vote(ledger_store *s, const gh_ed_key *validator,
    const uint8_t *entry, size_t n, uint64_t now, ledger_vote *vote);

/*
 * The entry a validator voted for on an object version (its chain:
 * type LEDGER_OBJ_ACCOUNT or LEDGER_OBJ_NODE, version seq - 1), so that
 * an author that crashed after collecting votes re-certifies that entry
 * instead of signing a second one.  *p malloc'd (caller frees);
 * GH_ENOENT when it did not vote there.
 */
int ledger_store_voted(ledger_store *s, const gh_ed_pub *validator,
    const ledger_objver *ov, uint8_t **p, size_t *n);

/*
 * Single-process devnet: has each of the nv local validator keys vote
 * on e (ledger_store_vote with now) and builds the certificate into
 * *out.  Returns GH_OK, or the first refusal when fewer than the quorum
 * voted (GH_EQUORUM if every key voted but too few are members).
 */
int ledger_store_certify(ledger_store *s, gh_ed_key *const *validators,
    size_t nv, const ledger_entry *e, uint64_t now, ledger_cert *out);

/*
 * Checks an entry against the state without voting: GH_OK when it would
 * apply now.  Same errors as the rules (ledger_store_vote).
 */
int ledger_store_check(
    ledger_store *s, const uint8_t *entry, size_t n, uint64_t now);

/*
 * Ingests n certificates: verifies them on the worker threads, then
 * applies them in one batch on the writer thread and waits for the
 * commit.  res[i] is GH_OK (applied), GH_EPENDING (kept until its
 * preconditions hold, then applied), GH_EEXIST (already known) or the
 * error that refused it.  Returns GH_OK unless the batch could not be
 * committed (GH_EFULL for a full map, GH_EIO).
 */
int ledger_store_ingest(
    ledger_store *s, ledger_cert *const *certs, size_t n, int *res);

/* Reads. GH_ENOENT when absent. */
int ledger_store_account(
    ledger_store *s, const uint8_t id[32], int node, ledger_account *out);
int ledger_store_asset(
    ledger_store *s, const ledger_id *id, ledger_asset *out);
int ledger_store_lot(ledger_store *s, const ledger_id *id, ledger_lot *out);
/* Calls fn for every lot of an asset (in id order); fn returns nonzero
 * to stop. */
int ledger_store_lots(ledger_store *s, const ledger_id *asset,
    int (*fn)(void *arg, const ledger_id *id, const ledger_lot *lot),
    void *arg);
int ledger_store_lease(
    ledger_store *s, const ledger_id *id, ledger_lease *out);
int ledger_store_loan(ledger_store *s, const ledger_id *id, ledger_loan *out);
int ledger_store_proof(
    ledger_store *s, const ledger_id *id, ledger_proof_rec *out);
/* Calls fn for every lease / loan (in id order); fn returns nonzero to
 * stop. */
int ledger_store_leases(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_lease *l),
    void *arg);
int ledger_store_loans(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_loan *l),
    void *arg);
/* Calls fn for each entry of a chain from seq 1 upward (cert bytes are
 * borrowed for the call). */
int ledger_store_chain(ledger_store *s, const uint8_t id[32], int node,
    int (*fn)(void *arg, uint64_t seq, const ledger_cert *c), void *arg);
/* Whether an entry is known: GH_OK when applied, GH_EPENDING when
 * waiting in the pending table, GH_ENOENT otherwise. */
int ledger_store_has(ledger_store *s, const gh_hash *entry);
/* Number of applied entries, pending entries, equivocation proofs. */
int ledger_store_counts(
    ledger_store *s, uint64_t *applied, uint64_t *pending, uint64_t *equivs);
/* Equivocation proof for an object (malloc'd, caller frees), or
 * GH_ENOENT. */
int ledger_store_equivocation(ledger_store *s, uint8_t type,
    const ledger_id *id, uint8_t **p, size_t *n);
/*
 * Stores an equivocation proof received from elsewhere (gossip) after
 * checking it (GH_EINVAL, GH_EBADSIG, GH_ENETID when it is not one);
 * the object it names is frozen here from then on.  GH_OK also when a
 * proof for that object was already stored.
 */
int ledger_store_equiv_add(ledger_store *s, const uint8_t *p, size_t n);
/* Calls fn for every stored equivocation proof (bytes borrowed for the
 * call); fn returns nonzero to stop. */
int ledger_store_equivs(ledger_store *s,
    int (*fn)(void *arg, const ledger_objver *obj, const uint8_t *p, size_t n),
    void *arg);
/* Hash of the whole state (every object, in key order). */
int ledger_store_state_hash(ledger_store *s, gh_hash *out);
/* Checks the invariants on the current state: credits conserved
 * (minted = balances + lease escrow + loan funds locked + pools), lots
 * sum to supply, every pool's accrual equation.  GH_ECORRUPT with a
 * message in why (cap bytes) on a violation. */
int ledger_store_invariants(ledger_store *s, char *why, size_t cap);

/*
 * Replays every applied entry from genesis in the order applied,
 * checking each certificate and signature, recomputing the state and
 * checking the invariants, then compares the recomputed state with the
 * stored one.  On a problem returns its error, sets *pos to the
 * 0-based position of the entry (UINT64_MAX when not tied to one) and
 * writes a message into why.  Replays into a scratch environment under
 * $TMPDIR (else /tmp), removed afterwards; reads the store in one read
 * transaction and changes nothing.
 */
int ledger_store_verify(ledger_store *s, uint64_t *pos, char *why, size_t cap);

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
/* A bundle someone else made, as proof that entry is in a log of
 * network g: it names entry, has a checkpoint signed for g's network by
 * a member of g's committee, and verifies.  GH_OK, GH_EPROTO (another
 * entry, network or signer, no checkpoint) or GH_EBADSIG. */
int ledger_bundle_check(
    const ledger_bundle *b, const ledger_genesis *g, const gh_hash *entry);
int ledger_bundle_encode(const ledger_bundle *b, uint8_t **out, size_t *n);
int ledger_bundle_decode(const uint8_t *p, size_t n, ledger_bundle *out);

/* ------------------------------------------------------------------ */
/* Read-only queries of the store (browse.c): the node's HTTP API and owner
 * reports. Each runs in one read-only transaction of its own; callbacks get
 * borrowed values valid for the call and return nonzero to stop.  Any
 * thread. */

/*
 * The objects a SHARE_TRANSFER or REVENUE_CLAIM on lot consumes, at
 * their current versions, into e->consumes: the lot, and its loan while
 * it is pledged.
 */
int ledger_store_lot_consumes(
    ledger_store *s, ledger_entry *e, const ledger_id *lot);
/* What a lot could claim now: floor((a (R - c) + r) / S).  Pure. */
uint64_t ledger_lot_accrued(const ledger_lot *l, const ledger_asset *as);

/* Every asset, in id order. */
int ledger_store_assets(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_asset *a),
    void *arg);
/*
 * Applied entries by position: forward from position `from`, or (when
 * reverse) backward from `from` (UINT64_MAX: from the newest).  pos is
 * the entry's position in the applied order, which is also its index in
 * the transparency log.
 */
int ledger_store_walk(ledger_store *s, uint64_t from, int reverse,
    int (*fn)(void *arg, uint64_t pos, const ledger_cert *c), void *arg);
/* One applied entry's certificate by entry hash (GH_ENOENT). */
int ledger_store_entry(ledger_store *s, const gh_hash *h, ledger_cert *out);
/* The number of leaves of the store's log. */
int ledger_store_log_size(ledger_store *s, uint64_t *size);
/* The root of the first size leaves (GH_ENOENT beyond the log). */
int ledger_store_log_root(ledger_store *s, uint64_t size, ledger_mhash *root);
/* The log index of an entry (GH_ENOENT). */
int ledger_store_log_find(ledger_store *s, const gh_hash *h, uint64_t *index);
/* Inclusion proof of index in the tree of size leaves (GH_ENOENT,
 * GH_EINVAL as ledger_logdb_inclusion). */
int ledger_store_log_inclusion(
    ledger_store *s, uint64_t index, uint64_t size, ledger_inclusion *out);
/* Latest checkpoint of each validator; *out malloc'd (free()), NULL
 * when *n is 0. */
int ledger_store_log_checkpoints(
    ledger_store *s, ledger_checkpoint **out, size_t *n);
/*
 * A bundle for entry h from this log: its inclusion under the smallest
 * stored checkpoint that covers it, is signed by a committee member for
 * this network, and has this log's own root at its size (each node
 * numbers entries in its own order of application, so a checkpoint of
 * another node's log may not match).  GH_ENOENT: not in the log;
 * GH_EPENDING: in it, under no such checkpoint yet.
 */
int ledger_store_log_bundle(
    ledger_store *s, const gh_hash *h, ledger_bundle *out);

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

/* ------------------------------------------------------------------ */
/* Queries for the network (query.c): sync by applied position, the
 * store's own transparency log and checkpoints.  Thread-safe. */

/*
 * As ledger_store_ingest for certificates the caller has already checked
 * with ledger_cert_verify against this store's genesis (the node checks
 * each one as it arrives, to score its sender): the signatures are not
 * checked again.  Certificates that were not verified must never come
 * here.
 */
int ledger_store_ingest_checked(
    ledger_store *s, ledger_cert *const *certs, size_t n, int *res);
/* Number of applied entries (the next applied position). */
int ledger_store_applied(ledger_store *s, uint64_t *count);
/* Calls fn with the certificate bytes of applied positions from, from+1,
 * ... (at most max, stopping early when fn returns nonzero); bytes are
 * borrowed for the call. */
int ledger_store_applied_each(ledger_store *s, uint64_t from, uint32_t max,
    int (*fn)(void *arg, uint64_t pos, const uint8_t *p, size_t n), void *arg);
/* The certificate bytes of an applied entry (malloc'd), or GH_ENOENT. */
int ledger_store_cert_get(
    ledger_store *s, const gh_hash *entry, uint8_t **p, size_t *n);
/* The store's log: its size and root. */
int ledger_store_log_head(ledger_store *s, uint64_t *size, ledger_mhash *root);
/* Records a validator's checkpoint in the store's log (see
 * ledger_logdb_checkpoint_add; network checked against the store's). */
int ledger_store_checkpoint_add(
    ledger_store *s, const ledger_checkpoint *cp, int *outcome);
int ledger_store_checkpoint_get(
    ledger_store *s, const gh_ed_pub *validator, ledger_checkpoint *out);

#endif /* GH_LEDGER_H */
