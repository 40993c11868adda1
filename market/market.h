/*
 * market.h - the exchange: offers, the order book and matching, renter
 * receipts and escrow arithmetic.  Prefix market_.  Imports base/ (and
 * ledger/ for the ledger kinds the market adds).
 *
 * Threads: an offer or receipt value may be used from any thread.  A
 * market_book is not thread-safe: one thread owns it (the node's market
 * thread); market_book_ingest_batch verifies signatures on several
 * threads internally but returns only when done.
 */
#ifndef GH_MARKET_H
#define GH_MARKET_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "ledger/ledger.h"

/* ------------------------------------------------------------------ */
/* Offers: node-signed, gossiped, not in the ledger.                  */

#define MARKET_OFFER_VERSION 1
#define MARKET_OFFER_TYPE    1
#define MARKET_GPU_MODEL_MAX 64 /* bytes of the GPU model name */
#define MARKET_REGION_MAX    32
#define MARKET_ENERGY_MAX    32
#define MARKET_MODELS_MAX    16   /* model hashes served per offer */
#define MARKET_OFFER_MAX     2048 /* encoded bytes, checked before decoding */

typedef struct {
	uint8_t b[32];
} market_asset_id;

typedef enum {
	MARKET_BILLING_RESERVED = 1, /* per second of lease time */
	MARKET_BILLING_METERED  = 2, /* per attested device-second */
} market_billing;

typedef struct {
	gh_ed_pub       node;  /* the provider's node key: the signer */
	market_asset_id asset; /* registered by ASSET_REGISTER */
	uint64_t        seq;   /* a higher seq replaces a lower one */
	char            gpu_model[MARKET_GPU_MODEL_MAX + 1];
	uint64_t        memory_mib;
	uint64_t        throughput; /* measured, milli-tokens per second */
	/* Job limit: prompt + generated tokens per prompt the node runs
	 * (its engine's context, or its configured limit); 0: no jobs. */
	uint32_t max_tokens;
	uint64_t price;      /* micro-units per GPU-hour */
	uint8_t  billing;    /* market_billing */
	uint32_t capacity;   /* concurrent leases; 0 withdraws */
	uint64_t avail_from; /* unix seconds */
	uint64_t avail_until;
	uint64_t min_lease; /* seconds */
	uint64_t max_lease;
	char     region[MARKET_REGION_MAX + 1];
	uint32_t n_models;
	gh_hash  models[MARKET_MODELS_MAX];
	char     energy_source[MARKET_ENERGY_MAX + 1]; /* "" = none */
	uint64_t power_price; /* micro-units per kWh; 0 = none */
	uint64_t expiry;      /* unix seconds */
	gh_sig   sig;
} market_offer;

/* Encodes the whole offer, signature included.  *p is malloc'd. */
int market_offer_encode(const market_offer *o, uint8_t **p, size_t *n);
/*
 * Decodes an offer from untrusted bytes.  GH_ELIMIT over
 * MARKET_OFFER_MAX; GH_ETRUNC, GH_ETRAILING, GH_ETOOLONG, GH_EVERSION,
 * GH_ETYPE, GH_ENONCANON as the canonical encoding says.  Does not
 * check the signature (market_offer_verify) or the figures
 * (market_offer_check).
 */
int market_offer_decode(const uint8_t *p, size_t n, market_offer *o);
/* The hash the node signs (everything but the signature); also the
 * offer's id. */
int market_offer_id(const market_offer *o, gh_hash *id);
/* Signs o with the node key and sets o->node to its public key. */
int market_offer_sign(market_offer *o, const gh_ed_key *node);
/* GH_OK or GH_EBADSIG. */
int market_offer_verify(const market_offer *o);
/*
 * Checks the figures at time now: GH_EWINDOW when expired or the
 * availability window is empty or over, GH_EINVAL for a bad billing,
 * zero price with capacity, min_lease > max_lease, or a model list that
 * is not strictly ascending (one encoding per set).
 */
int market_offer_check(const market_offer *o, uint64_t now);

/* ------------------------------------------------------------------ */
/* The order book.                                                    */

typedef struct market_book market_book;

/*
 * Asks the ledger whether asset is registered with node as its node
 * key: GH_OK if so, GH_ENOENT otherwise.  Called on the book's thread.
 */
typedef int (*market_asset_fn)(
    void *arg, const market_asset_id *asset, const gh_ed_pub *node);

typedef struct {
	uint64_t accepted;     /* new offers */
	uint64_t replaced;     /* a higher seq replaced an offer */
	uint64_t withdrawn;    /* capacity 0 removed an offer */
	uint64_t malformed;    /* failed to decode */
	uint64_t bad_sig;      /* signature did not verify */
	uint64_t expired;      /* expired or outside its window */
	uint64_t invalid;      /* other bad figures */
	uint64_t unregistered; /* asset not registered to that node */
	uint64_t replayed;     /* seq not above the one held */
} market_book_stats;

/* An empty book; free with market_book_free (accepts NULL). */
int  market_book_new(market_book **out);
void market_book_free(market_book *b);
/* Offers held (withdrawn and replaced ones are gone). */
size_t market_book_size(const market_book *b);
void   market_book_stats_get(const market_book *b, market_book_stats *out);

/*
 * Takes one encoded offer from gossip or a file.  Returns GH_OK when
 * the book changed, otherwise the reason it was dropped (and counted):
 * GH_ELIMIT/decode errors, GH_EBADSIG, GH_EWINDOW, GH_EINVAL, GH_ENOENT
 * (unregistered), GH_ESEQ (replayed or stale seq).  assets may be NULL
 * to skip the registration check (tests, offline tools).
 */
int market_book_ingest(market_book *b, const uint8_t *p, size_t n,
    uint64_t now, market_asset_fn assets, void *arg);
/*
 * As market_book_ingest for n offers: decoding and signature checks run
 * on all cores, then the offers enter the book in the given order.
 * results[i] (may be NULL) receives each offer's outcome.  Returns GH_OK
 * or GH_ENOMEM.
 */
int market_book_ingest_batch(market_book *b, const uint8_t *const *p,
    const size_t *n, size_t count, uint64_t now, market_asset_fn assets,
    void *arg, int *results);
/* Drops offers expired at now; returns how many. */
size_t market_book_expire(market_book *b, uint64_t now);
/* The offer for asset, copied into *out; GH_ENOENT if none. */
int market_book_get(
    const market_book *b, const market_asset_id *asset, market_offer *out);

/* What a renter asks for; zero / empty fields do not constrain. */
typedef struct {
	const char    *gpu_model; /* exact name */
	uint64_t       min_memory_mib;
	uint64_t       max_price; /* per GPU-hour */
	const char    *region;    /* exact name */
	uint64_t       hours;     /* lease length the offer must allow */
	const gh_hash *model;     /* a model hash the offer must serve */
	uint8_t        billing;   /* market_billing, 0 = either */
} market_filter;

/*
 * The best offers for f at time now, at most max of them, in order:
 * lowest price first, then highest throughput, then largest memory, then
 * lowest offer id (so every node ranks one book the same way).  Offers
 * are copied into out; *count is set.  GH_ENOMEM only for a book of more
 * than 64 buckets (GPU model, region, billing, memory) when memory is
 * short.
 */
int market_book_match(const market_book *b, const market_filter *f,
    uint64_t now, market_offer *out, size_t max, size_t *count);

/* Saves the book's offers to path atomically / loads them back (each
 * offer re-checked as if from gossip, expired ones dropped). */
int market_book_save(const market_book *b, const char *path);
int market_book_load(market_book *b, const char *path, uint64_t now,
    market_asset_fn assets, void *arg);

/* ------------------------------------------------------------------ */
/* Receipts: the renter's payment-channel state for one lease.        */

#define MARKET_RECEIPT_VERSION 1
#define MARKET_RECEIPT_TYPE    2
#define MARKET_RECEIPT_MAX     256

typedef struct {
	uint8_t b[32];
} market_lease_id;

typedef struct {
	market_lease_id lease;
	uint64_t        seq;    /* strictly increasing per lease */
	uint64_t        amount; /* cumulative micro-units owed */
	gh_ed_pub       key;    /* the lease's receipt key (LEASE_OPEN) */
	gh_sig          sig;
} market_receipt;

int market_receipt_encode(const market_receipt *r, uint8_t **p, size_t *n);
int market_receipt_decode(const uint8_t *p, size_t n, market_receipt *r);
int market_receipt_sign(market_receipt *r, const gh_ed_key *key);
/* GH_OK or GH_EBADSIG; key must equal the lease's receipt key. */
int market_receipt_verify(const market_receipt *r, const gh_ed_pub *key);
/*
 * Whether the provider should keep r over the best it holds (best may
 * be NULL): r must be for lease, signed by key, its seq above best's,
 * its amount no lower than best's and never above escrow.  GH_OK to
 * keep; GH_EINVAL (other lease), GH_EBADSIG, GH_ESEQ (not newer),
 * GH_ECONFLICT (amount went down), GH_EFUNDS (above the escrow).
 */
int market_receipt_accept(const market_receipt *best, const market_receipt *r,
    const market_lease_id *lease, const gh_ed_pub *key, uint64_t escrow);

/* ------------------------------------------------------------------ */
/* Escrow arithmetic: integer micro-units, checked, no floating point. */

/* What a lease of seconds at price per GPU-hour locks:
 * ceil(seconds * price / 3600).  GH_EOVERFLOW if it does not fit. */
int market_escrow_amount(uint64_t seconds, uint64_t price, uint64_t *out);
/* What a metered lease owes for device_ns nanoseconds of attested
 * device time: ceil(device_ns * price / 3.6e12).  GH_EOVERFLOW if it
 * does not fit. */
int market_metered_amount(uint64_t device_ns, uint64_t price, uint64_t *out);
/*
 * Splits a draw: the part of receipt_amount not yet drawn, capped at the
 * escrow, less the protocol fee floor(draw * fee_bps / 10000) to the
 * treasury; the rest goes to the asset's pool.  GH_ECONFLICT when
 * receipt_amount < drawn (receipts are monotone), GH_EFUNDS when it is
 * above escrow, GH_EINVAL for fee_bps > 10000.
 */
int market_draw_split(uint64_t escrow, uint64_t drawn, uint64_t receipt_amount,
    uint32_t fee_bps, uint64_t *draw, uint64_t *fee, uint64_t *to_pool);

/* ------------------------------------------------------------------ */
/* Owner report: what an asset earned and how busy it was, computed   */
/* from the ledger (report.c).                                        */

#define MARKET_REPORT_BUCKETS_MAX 1024

typedef struct {
	ledger_id asset;
	uint64_t  registered;  /* time of the ASSET_REGISTER entry */
	uint64_t  now;         /* end of the period */
	uint64_t  supply;      /* S */
	uint64_t  revenue;     /* R: paid into the pool, micro-units */
	uint64_t  paid_out;    /* P: claimed by share holders */
	uint64_t  pool_direct; /* paid in by TRANSFER to the pool */
	uint64_t  leases;      /* LEASE_OPEN entries for the asset */
	uint64_t  leases_open; /* not yet closed or expired */
	uint64_t  lease_s;     /* seconds leased (LEASE_OPEN expiry - start) */
	uint64_t  escrowed;    /* escrow those leases locked */
	uint64_t  drawn;       /* receipt amounts drawn (draws, closes) */
	uint64_t  proofs;      /* PROOF entries on the asset's leases */
	uint64_t  tokens;
	uint64_t  device_ns; /* attested device time */
	int       has_energy;
	uint64_t  energy_mj; /* energy used, millijoules */
	/* Utilization over time: device time per bucket of bucket_s
	 * seconds, the last bucket ending at now. */
	uint64_t bucket_s;
	uint32_t nbuckets;
	uint64_t bucket_ns[MARKET_REPORT_BUCKETS_MAX];
	/* Private: the asset's lease ids (LEASE_OPEN hashes), sorted. */
	ledger_id *lease_ids;
	uint64_t  *lease_drawn;
	uint8_t   *lease_done;
	size_t     nlease, caplease;
} market_report;

/*
 * Starts a report for asset at time now with nbuckets buckets of
 * bucket_s seconds (nbuckets <= MARKET_REPORT_BUCKETS_MAX, 0 for none).
 * Free with market_report_clear.  Any thread (caller memory).
 */
int  market_report_init(market_report *r, const ledger_id *asset, uint64_t now,
     uint64_t bucket_s, uint32_t nbuckets);
void market_report_clear(market_report *r);
/* Feeds one applied entry (entries must come in applied order; entries
 * of other assets are ignored).  h is the entry's hash. */
int market_report_add(
    market_report *r, const ledger_entry *e, const gh_hash *h);
/* Sets the pool figures from the asset object (authoritative R, P). */
void market_report_asset(market_report *r, const ledger_asset *a);
/*
 * The whole report from a store: the asset object and every applied
 * entry in one pass.  GH_ENOENT when the asset is not registered.
 */
int market_report_build(ledger_store *s, const ledger_id *asset, uint64_t now,
    uint64_t bucket_s, uint32_t nbuckets, market_report *r);

/* Derived figures (presentation; the ledger itself has no floats). */
typedef struct {
	double utilization;          /* device time / period, 0..1 */
	double gpu_hours_sold;       /* leased GPU-hours */
	double gpu_hours_used;       /* attested device hours */
	double revenue;              /* units (micro-units / 1e6) */
	double revenue_per_gpu_hour; /* per sold hour; -1: none sold */
	double energy_kwh;           /* -1: unknown */
	double revenue_per_kwh;      /* -1: unknown */
	double power_cost;           /* -1: unknown (no energy or price) */
	double margin;               /* revenue - power cost; as above */
} market_report_figures;

/* power_price: micro-units per kWh (0: none given). */
void market_report_figures_get(
    const market_report *r, uint64_t power_price, market_report_figures *f);
/*
 * The report as one JSON object (what `asset report --json` prints and
 * the HTTP API serves).  *out malloc'd, NUL-terminated (caller frees).
 */
int market_report_json(
    const market_report *r, uint64_t power_price, char **out, size_t *n);

#endif /* GH_MARKET_H */
