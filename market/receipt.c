/* receipt.c - renter receipts: the payment-channel state of a lease. */
#include <string.h>

#include "market/market.h"

static void
market_receipt_put_body(gh_writer *w, const market_receipt *r)
{
	gh_put_header(w, MARKET_RECEIPT_VERSION, MARKET_RECEIPT_TYPE);
	gh_put_fixed(w, r->lease.b, 32);
	gh_put_u64(w, r->seq);
	gh_put_u64(w, r->amount);
	gh_put_fixed(w, r->key.b, 32);
}

int
market_receipt_encode(const market_receipt *r, uint8_t **p, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	market_receipt_put_body(&w, r);
	gh_put_fixed(&w, r->sig.b, 64);
	return (gh_writer_take(&w, p, n));
}

int
market_receipt_decode(const uint8_t *p, size_t n, market_receipt *r)
{
	gh_reader rd;
	uint8_t   type;
	int       rv;

	memset(r, 0, sizeof(*r));
	if (n > MARKET_RECEIPT_MAX) {
		return (GH_ELIMIT);
	}
	gh_reader_init(&rd, p, n);
	if ((rv = gh_get_header(&rd, MARKET_RECEIPT_VERSION, &type))
	    != GH_OK) {
		return (rv);
	}
	if (type != MARKET_RECEIPT_TYPE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&rd, r->lease.b, 32)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->seq)) != GH_OK
	    || (rv = gh_get_u64(&rd, &r->amount)) != GH_OK
	    || (rv = gh_get_fixed(&rd, r->key.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(&rd, r->sig.b, 64)) != GH_OK
	    || (rv = gh_reader_end(&rd)) != GH_OK) {
		memset(r, 0, sizeof(*r));
		return (rv);
	}
	return (GH_OK);
}

static int
market_receipt_hash(const market_receipt *r, gh_hash *h)
{
	gh_writer w;
	int       rv;

	gh_writer_init(&w);
	market_receipt_put_body(&w, r);
	if ((rv = gh_writer_err(&w)) == GH_OK) {
		gh_hash_tagged(GH_TAG_RECEIPT, w.p, w.len, h);
	}
	gh_writer_free(&w);
	return (rv);
}

int
market_receipt_sign(market_receipt *r, const gh_ed_key *key)
{
	gh_hash h;
	int     rv;

	gh_ed_key_pub(key, &r->key);
	if ((rv = market_receipt_hash(r, &h)) != GH_OK) {
		return (rv);
	}
	gh_ed_sign(key, &h, &r->sig);
	return (GH_OK);
}

int
market_receipt_verify(const market_receipt *r, const gh_ed_pub *key)
{
	gh_hash h;
	int     rv;

	if (sodium_memcmp(r->key.b, key->b, 32) != 0) {
		return (GH_EBADSIG);
	}
	if ((rv = market_receipt_hash(r, &h)) != GH_OK) {
		return (rv);
	}
	return (gh_ed_verify(key, &h, &r->sig));
}

int
market_receipt_accept(const market_receipt *best, const market_receipt *r,
    const market_lease_id *lease, const gh_ed_pub *key, uint64_t escrow)
{
	int rv;

	if (memcmp(r->lease.b, lease->b, 32) != 0) {
		return (GH_EINVAL);
	}
	if ((rv = market_receipt_verify(r, key)) != GH_OK) {
		return (rv);
	}
	if (r->amount > escrow) {
		return (GH_EFUNDS);
	}
	if (best != NULL) {
		if (r->seq <= best->seq) {
			return (GH_ESEQ);
		}
		if (r->amount < best->amount) {
			return (GH_ECONFLICT);
		}
	}
	return (GH_OK);
}
