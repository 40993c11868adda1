/* market_bench.c - match latency on a 100k-offer book; offer ingest
 * beside the signature-verification bound on all cores. */
#include <stdlib.h>

#include "tests/bench/bench.h"
#include "tests/market/market_util.h"

#define MB_BOOK    100000
#define MB_QUERIES 20000
#define MB_INGEST  20000

static int
mb_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
	return (x < y ? -1 : x > y);
}

/* Signed, encoded offers for assets base..base+n-1. */
static int
mb_offers(
    const gh_ed_key *k, uint64_t base, size_t n, uint8_t **p, size_t *len)
{
	int rv = GH_OK;

#pragma omp parallel for schedule(static)
	for (size_t i = 0; i < n; i++) {
		market_offer o;
		mu_offer(&o, base + i);
		if (market_offer_sign(&o, k) != GH_OK
		    || market_offer_encode(&o, &p[i], &len[i]) != GH_OK) {
			rv = GH_ENOMEM;
		}
	}
	return (rv);
}

BENCH(market, match)
{
	market_book *b        = NULL;
	gh_ed_key   *k        = NULL;
	uint8_t      seed[32] = { 5 };
	uint8_t    **p        = calloc(MB_BOOK, sizeof(*p));
	size_t      *len      = calloc(MB_BOOK, sizeof(*len));
	uint64_t    *ns       = calloc(MB_QUERIES, sizeof(*ns));
	market_offer res[10];
	uint64_t     rng       = 7;
	const char  *models[]  = { "H100", "A100", "RTX4090", "L40S" };
	const char  *regions[] = { "eu-west", "us-east", "ap-south" };

	if (p == NULL || len == NULL || ns == NULL
	    || gh_ed_key_from_seed(seed, &k) != GH_OK
	    || market_book_new(&b) != GH_OK
	    || mb_offers(k, 0, MB_BOOK, p, len) != GH_OK
	    || market_book_ingest_batch(b, (const uint8_t *const *) p, len,
	           MB_BOOK, MU_NOW, NULL, NULL, NULL)
	        != GH_OK
	    || market_book_size(b) != MB_BOOK) {
		fprintf(stderr, "market bench: setup failed\n");
		exit(1);
	}
	for (size_t q = 0; q < MB_QUERIES; q++) {
		market_filter f;
		gh_hash       m;
		size_t        got;
		uint64_t      t0;

		memset(&f, 0, sizeof(f));
		uint64_t r = rng = rng * 6364136223846793005ULL + 1;
		if (r & 1) {
			f.gpu_model = models[(r >> 8) % 4];
		}
		if (r & 2) {
			f.region = regions[(r >> 16) % 3];
		}
		if (r & 4) {
			f.min_memory_mib = 24576 + 8192 * ((r >> 24) % 7);
		}
		if (r & 8) {
			f.max_price = 1000000 + 10000 * ((r >> 32) % 500);
		}
		if (r & 16) {
			f.hours = 1 + (r >> 40) % 200;
		}
		if (r & 32) {
			memset(m.b, (int) ((r >> 48) % 5), 32);
			f.model = &m;
		}
		t0 = gh_mono_ns();
		(void) market_book_match(b, &f, MU_NOW, res, 10, &got);
		ns[q] = gh_mono_ns() - t0;
	}
	qsort(ns, MB_QUERIES, sizeof(*ns), mb_cmp_u64);
	bench_report("market", "match_p50", (double) ns[MB_QUERIES / 2] / 1e3,
	    "us", 0, 0);
	bench_report("market", "match_p99",
	    (double) ns[MB_QUERIES * 99 / 100] / 1e3, "us", 100, 1);
	for (size_t i = 0; i < MB_BOOK; i++) {
		free(p[i]);
	}
	free(p);
	free(len);
	free(ns);
	market_book_free(b);
	gh_ed_key_free(k);
}

BENCH(market, offer_ingest)
{
	market_book  *b        = NULL;
	gh_ed_key    *k        = NULL;
	uint8_t       seed[32] = { 6 };
	uint8_t     **p        = calloc(MB_INGEST, sizeof(*p));
	size_t       *len      = calloc(MB_INGEST, sizeof(*len));
	market_offer *o        = calloc(MB_INGEST, sizeof(*o));
	gh_hash      *id       = calloc(MB_INGEST, sizeof(*id));
	double        t0, t_verify, t_ingest;
	int           bad = 0;

	if (p == NULL || len == NULL || o == NULL || id == NULL
	    || gh_ed_key_from_seed(seed, &k) != GH_OK
	    || market_book_new(&b) != GH_OK
	    || mb_offers(k, 1000000, MB_INGEST, p, len) != GH_OK) {
		fprintf(stderr, "market bench: setup failed\n");
		exit(1);
	}
	for (size_t i = 0; i < MB_INGEST; i++) {
		(void) market_offer_decode(p[i], len[i], &o[i]);
		(void) market_offer_id(&o[i], &id[i]);
	}
	/* The bound: the signature checks alone, on all cores. */
	t0 = bench_now();
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : bad)
	for (size_t i = 0; i < MB_INGEST; i++) {
		bad += gh_ed_verify(&o[i].node, &id[i], &o[i].sig) != GH_OK;
	}
	t_verify = bench_now() - t0;
	t0       = bench_now();
	(void) market_book_ingest_batch(b, (const uint8_t *const *) p, len,
	    MB_INGEST, MU_NOW, NULL, NULL, NULL);
	t_ingest = bench_now() - t0;
	if (bad != 0 || market_book_size(b) != MB_INGEST) {
		fprintf(stderr, "market bench: ingest lost offers\n");
		exit(1);
	}
	bench_report("market", "offer_ingest", MB_INGEST / t_ingest,
	    "offers/s", MB_INGEST / t_verify, 1);
	for (size_t i = 0; i < MB_INGEST; i++) {
		free(p[i]);
	}
	free(p);
	free(len);
	free(o);
	free(id);
	market_book_free(b);
	gh_ed_key_free(k);
}
