/* offer_test.c - offers: encoding, signatures, every rejection. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/market/market_util.h"

static gh_ed_key *
node_key(uint8_t b)
{
	uint8_t    seed[32];
	gh_ed_key *k = NULL;

	memset(seed, b, 32);
	return (gh_ed_key_from_seed(seed, &k) == GH_OK ? k : NULL);
}

TEST(offer_roundtrip_and_signature)
{
	market_offer o, t;
	gh_ed_key   *k = node_key(1);
	uint8_t     *p = NULL, *q = NULL;
	size_t       n, m;

	CHECK(k != NULL);
	mu_offer(&o, 3);
	o.n_models = 2;
	memset(o.models[1].b, 9, 32);
	snprintf(o.energy_source, sizeof(o.energy_source), "hydro");
	o.power_price = 42000;
	CHECK_OK(market_offer_sign(&o, k));
	CHECK_OK(market_offer_verify(&o));
	CHECK_OK(market_offer_check(&o, MU_NOW));
	CHECK_OK(market_offer_encode(&o, &p, &n));
	CHECK_OK(market_offer_decode(p, n, &t));
	CHECK_OK(market_offer_verify(&t));
	CHECK_OK(market_offer_encode(&t, &q, &m));
	CHECK_EQ(n, m);
	CHECK_MEM(p, q, n);
	CHECK_STR(t.energy_source, "hydro");
	/* Any changed field breaks the signature. */
	t.price++;
	CHECK_ERR(market_offer_verify(&t), GH_EBADSIG);
	free(p);
	free(q);
	gh_ed_key_free(k);
}

TEST(offer_check_rejections)
{
	market_offer o;

	mu_offer(&o, 1);
	CHECK_OK(market_offer_check(&o, MU_NOW));
	o.expiry = MU_NOW;
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EWINDOW);
	mu_offer(&o, 1);
	o.avail_until = o.avail_from;
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EWINDOW);
	mu_offer(&o, 1);
	o.billing = 3;
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EINVAL);
	mu_offer(&o, 1);
	o.price = 0;
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EINVAL);
	mu_offer(&o, 1);
	o.min_lease = o.max_lease + 1;
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EINVAL);
	mu_offer(&o, 1);
	o.n_models = 2; /* models[1] == 0 < models[0]: not ascending */
	memset(o.models[0].b, 1, 32);
	CHECK_ERR(market_offer_check(&o, MU_NOW), GH_EINVAL);
	mu_offer(&o, 1);
	o.capacity = 0;
	o.price    = 0; /* a withdrawal needs no terms */
	CHECK_OK(market_offer_check(&o, MU_NOW));
}

TEST(offer_decoder_bitflip_truncation_and_limits)
{
	market_offer o, t;
	gh_ed_key   *k = node_key(2);
	uint8_t     *p = NULL;
	uint8_t      big[MARKET_OFFER_MAX + 1];
	size_t       n;

	mu_offer(&o, 5);
	CHECK_OK(market_offer_sign(&o, k));
	CHECK_OK(market_offer_encode(&o, &p, &n));
	for (size_t i = 0; i < n; i++) {
		CHECK_ERR(market_offer_decode(p, i, &t), GH_ETRUNC);
	}
	for (size_t i = 0; i < n * 8; i++) {
		p[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (market_offer_decode(p, n, &t) == GH_OK) {
			/* It decoded, so it must not verify as the original
			 * node's offer. */
			CHECK(market_offer_verify(&t) == GH_EBADSIG);
		}
		p[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	memset(big, 0, sizeof(big));
	CHECK_ERR(market_offer_decode(big, sizeof(big), &t), GH_ELIMIT);
	/* A model count over its maximum is refused before reading. */
	o.n_models = MARKET_MODELS_MAX + 1;
	{
		uint8_t *q = NULL;
		size_t   m;
		CHECK(market_offer_encode(&o, &q, &m) != GH_OK);
	}
	free(p);
	gh_ed_key_free(k);
}
