/* book_test.c - the order book: admission, ordering, filters, restart. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/market/market_util.h"

static gh_ed_key *
book_node(void)
{
	uint8_t    seed[32] = { 42 };
	gh_ed_key *k        = NULL;

	(void) gh_ed_key_from_seed(seed, &k);
	return (k);
}

/* Signs o, encodes it and ingests it. */
static int
put(market_book *b, market_offer *o, const gh_ed_key *k, market_asset_fn fn,
    void *arg)
{
	uint8_t *p = NULL;
	size_t   n;
	int      rv;

	if ((rv = market_offer_sign(o, k)) != GH_OK
	    || (rv = market_offer_encode(o, &p, &n)) != GH_OK) {
		return (rv);
	}
	rv = market_book_ingest(b, p, n, MU_NOW, fn, arg);
	free(p);
	return (rv);
}

/* Registered assets: those whose first byte is even. */
static int
even_assets(void *arg, const market_asset_id *a, const gh_ed_pub *node)
{
	(void) arg;
	(void) node;
	return ((a->b[15] & 1) == 0 ? GH_OK : GH_ENOENT);
}

TEST(book_admission_replace_replay_withdraw_and_counts)
{
	market_book      *b = NULL;
	gh_ed_key        *k = book_node();
	market_offer      o, got;
	market_book_stats st;
	uint8_t           junk[10] = { 1, 1, 0 };

	CHECK_OK(market_book_new(&b));
	mu_offer(&o, 2);
	CHECK_OK(put(b, &o, k, even_assets, NULL));
	CHECK_EQ(market_book_size(b), 1);
	/* the same seq again: a replay */
	CHECK_ERR(put(b, &o, k, even_assets, NULL), GH_ESEQ);
	/* a higher seq replaces */
	o.seq   = 2;
	o.price = 5;
	CHECK_OK(put(b, &o, k, even_assets, NULL));
	CHECK_OK(market_book_get(b, &o.asset, &got));
	CHECK_EQ(got.price, 5);
	CHECK_EQ(market_book_size(b), 1);
	/* unregistered asset */
	mu_offer(&o, 3);
	CHECK_ERR(put(b, &o, k, even_assets, NULL), GH_ENOENT);
	/* expired */
	mu_offer(&o, 4);
	o.expiry = MU_NOW - 1;
	CHECK_ERR(put(b, &o, k, even_assets, NULL), GH_EWINDOW);
	/* bad signature */
	{
		uint8_t *p = NULL;
		size_t   n;
		mu_offer(&o, 6);
		CHECK_OK(market_offer_sign(&o, k));
		o.price++;
		CHECK_OK(market_offer_encode(&o, &p, &n));
		CHECK_ERR(market_book_ingest(b, p, n, MU_NOW, NULL, NULL),
		    GH_EBADSIG);
		free(p);
	}
	/* malformed */
	CHECK(market_book_ingest(b, junk, sizeof(junk), MU_NOW, NULL, NULL)
	    != GH_OK);
	/* invalid figures */
	mu_offer(&o, 8);
	o.min_lease = 0;
	CHECK_ERR(put(b, &o, k, NULL, NULL), GH_EINVAL);
	/* withdrawal */
	mu_offer(&o, 2);
	o.seq      = 3;
	o.capacity = 0;
	CHECK_OK(put(b, &o, k, even_assets, NULL));
	CHECK_EQ(market_book_size(b), 0);
	CHECK_ERR(market_book_get(b, &o.asset, &got), GH_ENOENT);
	market_book_stats_get(b, &st);
	CHECK_EQ(st.accepted, 1);
	CHECK_EQ(st.replaced, 1);
	CHECK_EQ(st.withdrawn, 1);
	CHECK_EQ(st.replayed, 1);
	CHECK_EQ(st.unregistered, 1);
	CHECK_EQ(st.expired, 1);
	CHECK_EQ(st.bad_sig, 1);
	CHECK_EQ(st.malformed, 1);
	CHECK_EQ(st.invalid, 1);
	market_book_free(b);
	gh_ed_key_free(k);
}

/* The rank the book promises, written out plainly. */
static int
rank_cmp(const market_offer *x, const market_offer *y)
{
	gh_hash a, b;

	if (x->price != y->price) {
		return (x->price < y->price ? -1 : 1);
	}
	if (x->throughput != y->throughput) {
		return (x->throughput > y->throughput ? -1 : 1);
	}
	if (x->memory_mib != y->memory_mib) {
		return (x->memory_mib > y->memory_mib ? -1 : 1);
	}
	(void) market_offer_id(x, &a);
	(void) market_offer_id(y, &b);
	return (memcmp(a.b, b.b, 32));
}

static int
filter_ok(const market_offer *o, const market_filter *f)
{
	if (f->gpu_model && strcmp(f->gpu_model, o->gpu_model) != 0) {
		return (0);
	}
	if (f->region && strcmp(f->region, o->region) != 0) {
		return (0);
	}
	if (o->memory_mib < f->min_memory_mib
	    || (f->max_price && o->price > f->max_price)
	    || (f->billing && o->billing != f->billing)
	    || o->expiry <= MU_NOW) {
		return (0);
	}
	if (f->hours
	    && (f->hours * 3600 < o->min_lease
	        || f->hours * 3600 > o->max_lease
	        || o->avail_until - MU_NOW < f->hours * 3600)) {
		return (0);
	}
	if (f->model && memcmp(f->model->b, o->models[0].b, 32) != 0) {
		return (0);
	}
	return (1);
}

TEST(book_match_equals_brute_force_on_random_books)
{
	market_book  *b = NULL;
	gh_ed_key    *k = book_node();
	market_offer *all;
	market_offer  res[20];
	uint64_t      rng = 99;
	size_t        n   = 3000;

	CHECK_OK(market_book_new(&b));
	all = calloc(n, sizeof(*all));
	CHECK(all != NULL);
	for (size_t i = 0; i < n; i++) {
		mu_offer(&all[i], i);
		/* many equal prices, to exercise the tie-breaks */
		all[i].price      = 1000 + th_rand(&rng) % 20;
		all[i].throughput = 1000 * (th_rand(&rng) % 3);
		all[i].max_lease  = 3600 * (1 + th_rand(&rng) % 48);
		all[i].expiry     = MU_NOW + 1 + th_rand(&rng) % 1000;
		CHECK_OK(put(b, &all[i], k, NULL, NULL));
	}
	/* some replaced, some withdrawn */
	for (size_t i = 0; i < n; i += 7) {
		all[i].seq++;
		all[i].capacity = i % 2 ? 0 : 2;
		all[i].price    = 1000 + th_rand(&rng) % 20;
		CHECK_OK(put(b, &all[i], k, NULL, NULL));
	}
	for (int q = 0; q < 200; q++) {
		market_filter f;
		gh_hash       m;
		size_t        got, want = 0;
		const char   *models[] = { "H100", "A100", "RTX4090", "L40S" };
		const char   *regions[]
		    = { "eu-west", "us-east", "ap-south", "nowhere" };
		market_offer exp[20];

		memset(&f, 0, sizeof(f));
		if (th_rand(&rng) % 2) {
			f.gpu_model = models[th_rand(&rng) % 4];
		}
		if (th_rand(&rng) % 2) {
			f.region = regions[th_rand(&rng) % 4];
		}
		if (th_rand(&rng) % 2) {
			f.max_price = 1000 + th_rand(&rng) % 25;
		}
		if (th_rand(&rng) % 3 == 0) {
			f.min_memory_mib = 24576 + 8192 * (th_rand(&rng) % 7);
		}
		if (th_rand(&rng) % 3 == 0) {
			f.hours = 1 + th_rand(&rng) % 60;
		}
		if (th_rand(&rng) % 4 == 0) {
			f.billing = (uint8_t) (1 + th_rand(&rng) % 2);
		}
		if (th_rand(&rng) % 4 == 0) {
			memset(m.b, (int) (th_rand(&rng) % 5), 32);
			f.model = &m;
		}
		CHECK_OK(market_book_match(b, &f, MU_NOW, res, 20, &got));
		/* brute force: best 20 by insertion into a sorted array */
		for (size_t i = 0; i < n; i++) {
			const market_offer *o = &all[i];
			size_t              j;
			if (o->capacity == 0 || !filter_ok(o, &f)) {
				continue;
			}
			for (j = want; j > 0 && rank_cmp(o, &exp[j - 1]) < 0;
			     j--) {
				if (j < 20) {
					exp[j] = exp[j - 1];
				}
			}
			if (j < 20) {
				exp[j] = *o;
			}
			if (want < 20) {
				want++;
			}
		}
		CHECK_EQ(got, want);
		for (size_t i = 0; i < got; i++) {
			CHECK_MEM(res[i].asset.b, exp[i].asset.b, 32);
		}
	}
	free(all);
	market_book_free(b);
	gh_ed_key_free(k);
}

TEST(book_expire_save_and_load)
{
	market_book  *b = NULL, *c = NULL;
	gh_ed_key    *k = book_node();
	market_offer  o, res[8];
	market_filter f;
	size_t        got;
	const char   *path = th_path(0, "book");

	CHECK_OK(market_book_new(&b));
	for (uint64_t i = 0; i < 100; i++) {
		mu_offer(&o, i);
		o.expiry = MU_NOW + 10 + i;
		CHECK_OK(put(b, &o, k, NULL, NULL));
	}
	CHECK_EQ(market_book_expire(b, MU_NOW + 10 + 49), 50);
	CHECK_EQ(market_book_size(b), 50);
	CHECK_OK(market_book_save(b, path));
	CHECK_OK(market_book_new(&c));
	CHECK_OK(market_book_load(c, path, MU_NOW + 10 + 59, NULL, NULL));
	CHECK_EQ(market_book_size(c), 40);
	memset(&f, 0, sizeof(f));
	CHECK_OK(market_book_match(c, &f, MU_NOW + 10 + 59, res, 8, &got));
	CHECK_EQ(got, 8);
	for (size_t i = 1; i < got; i++) {
		CHECK(res[i - 1].price <= res[i].price);
	}
	/* a damaged file is refused with a clear error */
	CHECK_EQ(th_sh(NULL, "printf 'xx' > %s", path), 0);
	CHECK_ERR(market_book_load(c, path, MU_NOW, NULL, NULL), GH_ECORRUPT);
	market_book_free(b);
	market_book_free(c);
	gh_ed_key_free(k);
}

TEST(book_match_merges_many_buckets_in_rank_order)
{
	market_book  *b = NULL;
	gh_ed_key    *k = book_node();
	market_offer  o, res[10];
	market_filter f;
	size_t        got;

	CHECK_OK(market_book_new(&b));
	/* 200 offers in 100 regions: more buckets than the merge's stack */
	for (uint64_t i = 0; i < 200; i++) {
		mu_offer(&o, i);
		snprintf(o.region, sizeof(o.region), "r%03d", (int) (i % 100));
		o.price = 1000 + (i * 37) % 200;
		CHECK_OK(put(b, &o, k, NULL, NULL));
	}
	memset(&f, 0, sizeof(f));
	CHECK_OK(market_book_match(b, &f, MU_NOW, res, 10, &got));
	CHECK_EQ(got, 10);
	for (size_t i = 0; i < got; i++) {
		CHECK_EQ(res[i].price, 1000 + i);
	}
	market_book_free(b);
	gh_ed_key_free(k);
}
