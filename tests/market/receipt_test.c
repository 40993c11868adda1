/* receipt_test.c - receipts and escrow arithmetic. */
#include <stdlib.h>

#include "tests/harness.h"
#include "market/market.h"

static void
receipt(market_receipt *r, const gh_ed_key *k, uint8_t lease, uint64_t seq,
    uint64_t amount)
{
	memset(r, 0, sizeof(*r));
	memset(r->lease.b, lease, 32);
	r->seq    = seq;
	r->amount = amount;
	(void) market_receipt_sign(r, k);
}

TEST(receipt_roundtrip_and_monotonicity)
{
	uint8_t         seed[32] = { 7 };
	gh_ed_key      *k = NULL, *other = NULL;
	gh_ed_pub       pub;
	market_receipt  r1, r2, r3, bad, t;
	market_lease_id lease;
	uint8_t        *p = NULL;
	size_t          n;

	CHECK_OK(gh_ed_key_from_seed(seed, &k));
	seed[0] = 8;
	CHECK_OK(gh_ed_key_from_seed(seed, &other));
	gh_ed_key_pub(k, &pub);
	memset(lease.b, 1, 32);
	receipt(&r1, k, 1, 1, 100);
	receipt(&r2, k, 1, 2, 250);
	CHECK_OK(market_receipt_encode(&r2, &p, &n));
	CHECK_OK(market_receipt_decode(p, n, &t));
	CHECK_MEM(&t, &r2, sizeof(t));
	for (size_t i = 0; i < n; i++) {
		CHECK_ERR(market_receipt_decode(p, i, &t), GH_ETRUNC);
	}
	free(p);

	CHECK_OK(market_receipt_accept(NULL, &r1, &lease, &pub, 1000));
	CHECK_OK(market_receipt_accept(&r1, &r2, &lease, &pub, 1000));
	/* not newer */
	CHECK_ERR(
	    market_receipt_accept(&r2, &r1, &lease, &pub, 1000), GH_ESEQ);
	CHECK_ERR(
	    market_receipt_accept(&r2, &r2, &lease, &pub, 1000), GH_ESEQ);
	/* amount going down */
	receipt(&r3, k, 1, 3, 200);
	CHECK_ERR(
	    market_receipt_accept(&r2, &r3, &lease, &pub, 1000), GH_ECONFLICT);
	/* above the escrow, exactly at it */
	receipt(&r3, k, 1, 3, 1001);
	CHECK_ERR(
	    market_receipt_accept(&r2, &r3, &lease, &pub, 1000), GH_EFUNDS);
	receipt(&r3, k, 1, 3, 1000);
	CHECK_OK(market_receipt_accept(&r2, &r3, &lease, &pub, 1000));
	/* another lease, another key, a tampered amount */
	receipt(&bad, k, 2, 4, 300);
	CHECK_ERR(
	    market_receipt_accept(&r2, &bad, &lease, &pub, 1000), GH_EINVAL);
	receipt(&bad, other, 1, 4, 300);
	CHECK_ERR(
	    market_receipt_accept(&r2, &bad, &lease, &pub, 1000), GH_EBADSIG);
	receipt(&bad, k, 1, 4, 300);
	bad.amount = 900;
	CHECK_ERR(
	    market_receipt_accept(&r2, &bad, &lease, &pub, 1000), GH_EBADSIG);
	gh_ed_key_free(k);
	gh_ed_key_free(other);
}

TEST(escrow_arithmetic_at_u64_edges)
{
	uint64_t v, d, f, pool;

	CHECK_OK(market_escrow_amount(3600, 2500000, &v));
	CHECK_EQ(v, 2500000);
	CHECK_OK(market_escrow_amount(1, 3600, &v));
	CHECK_EQ(v, 1);
	CHECK_OK(market_escrow_amount(1, 1, &v)); /* rounds up */
	CHECK_EQ(v, 1);
	CHECK_OK(market_escrow_amount(0, UINT64_MAX, &v));
	CHECK_EQ(v, 0);
	CHECK_OK(market_escrow_amount(3600, UINT64_MAX, &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK_ERR(market_escrow_amount(3601, UINT64_MAX, &v), GH_EOVERFLOW);
	CHECK_ERR(
	    market_escrow_amount(UINT64_MAX, UINT64_MAX, &v), GH_EOVERFLOW);

	CHECK_OK(market_draw_split(1000, 200, 700, 250, &d, &f, &pool));
	CHECK_EQ(d, 500);
	CHECK_EQ(f, 12); /* floor(500 * 2.5%) */
	CHECK_EQ(pool, 488);
	CHECK_OK(market_draw_split(
	    UINT64_MAX, 0, UINT64_MAX, 10000, &d, &f, &pool));
	CHECK_EQ(f, UINT64_MAX);
	CHECK_EQ(pool, 0);
	CHECK_OK(
	    market_draw_split(UINT64_MAX, 1, UINT64_MAX, 9999, &d, &f, &pool));
	CHECK_EQ(d + 0, UINT64_MAX - 1);
	CHECK_EQ(f + pool, d);
	/* never more than the receipt or the escrow */
	CHECK_ERR(
	    market_draw_split(1000, 0, 1001, 0, &d, &f, &pool), GH_EFUNDS);
	CHECK_ERR(
	    market_draw_split(1000, 700, 600, 0, &d, &f, &pool), GH_ECONFLICT);
	CHECK_EQ(d, 0);
	CHECK_ERR(
	    market_draw_split(1000, 0, 10, 10001, &d, &f, &pool), GH_EINVAL);
	CHECK_OK(market_draw_split(1000, 700, 700, 100, &d, &f, &pool));
	CHECK_EQ(d, 0);
}
