/* escrow.c - lease escrow and draw arithmetic in integer micro-units.
 * One copy: the ledger's (ledger/lease.c), which the rules use. */
#include "ledger/ledger.h"
#include "market/market.h"

int
market_escrow_amount(uint64_t seconds, uint64_t price, uint64_t *out)
{
	return (ledger_escrow_amount(seconds, price, out));
}

int
market_draw_split(uint64_t escrow, uint64_t drawn, uint64_t receipt_amount,
    uint32_t fee_bps, uint64_t *draw, uint64_t *fee, uint64_t *to_pool)
{
	return (ledger_draw_split(
	    escrow, drawn, receipt_amount, fee_bps, draw, fee, to_pool));
}

int
market_metered_amount(uint64_t device_ns, uint64_t price, uint64_t *out)
{
	const gh_u128 ns_per_hour = (gh_u128) 3600 * 1000000000u;
	gh_u128       v           = (gh_u128) device_ns * price;

	v = v / ns_per_hour + (v % ns_per_hour != 0);
	if (v > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*out = (uint64_t) v;
	return (GH_OK);
}
