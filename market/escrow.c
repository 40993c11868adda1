/* escrow.c - lease escrow and draw arithmetic in integer micro-units. */
#include "market/market.h"

int
market_escrow_amount(uint64_t seconds, uint64_t price, uint64_t *out)
{
	gh_u128 v = (gh_u128) seconds * price;

	/* Round up: a lease never locks less than it may owe. */
	v = (v + 3599) / 3600;
	if (v > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*out = (uint64_t) v;
	return (GH_OK);
}

int
market_draw_split(uint64_t escrow, uint64_t drawn, uint64_t receipt_amount,
    uint32_t fee_bps, uint64_t *draw, uint64_t *fee, uint64_t *to_pool)
{
	uint64_t d, f;

	*draw = *fee = *to_pool = 0;
	if (fee_bps > 10000) {
		return (GH_EINVAL);
	}
	if (receipt_amount > escrow || drawn > escrow) {
		return (GH_EFUNDS);
	}
	if (receipt_amount < drawn) {
		return (GH_ECONFLICT);
	}
	d        = receipt_amount - drawn;
	f        = (uint64_t) (((gh_u128) d * fee_bps) / 10000);
	*draw    = d;
	*fee     = f;
	*to_pool = d - f;
	return (GH_OK);
}
