/* lease.c - escrow and draw arithmetic, renter receipts as the ledger
 * checks them, and derived ids for proof records.  Pure functions. */
#include <string.h>

#include "ledger/priv.h"

/* market_receipt's format: version 1, type 2 (market/market.h). */
#define LEDGER_RECEIPT_VERSION 1
#define LEDGER_RECEIPT_TYPE    2
#define LEDGER_TAG_PROOFOBJ    "gpuhour/proof-record/v1"

int
ledger_escrow_amount(uint64_t seconds, uint64_t price, uint64_t *out)
{
	gh_u128 v = (gh_u128) seconds * price;

	/* Round up: a lease never locks less than it may owe.  v + 3599
	 * cannot wrap: v < 2^128 - 2^64. */
	v = (v + 3599) / 3600;
	if (v > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*out = (uint64_t) v;
	return (GH_OK);
}

int
ledger_draw_split(uint64_t escrow, uint64_t drawn, uint64_t receipt_amount,
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

int
ledger_receipt_verify(const ledger_id *lease, uint64_t seq, uint64_t amount,
    const gh_ed_pub *key, const gh_sig *sig)
{
	uint8_t buf[2 + 32 + 8 + 8 + 32];
	gh_hash h;

	buf[0] = LEDGER_RECEIPT_VERSION;
	buf[1] = LEDGER_RECEIPT_TYPE;
	memcpy(buf + 2, lease->b, 32);
	gh_be64_put(buf + 34, seq);
	gh_be64_put(buf + 42, amount);
	memcpy(buf + 50, key->b, 32);
	gh_hash_tagged(GH_TAG_RECEIPT, buf, sizeof(buf), &h);
	return (gh_ed_verify(key, &h, sig));
}

void
ledger_proof_obj_id(
    const gh_ed_pub *node, const gh_hash *proof, ledger_id *out)
{
	uint8_t buf[64];
	gh_hash h;

	memcpy(buf, node->b, 32);
	memcpy(buf + 32, proof->b, 32);
	gh_hash_tagged(LEDGER_TAG_PROOFOBJ, buf, sizeof(buf), &h);
	memcpy(out->b, h.b, 32);
}
