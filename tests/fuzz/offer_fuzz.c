/* offer_fuzz.c - libFuzzer target for the offer decoder and the book's
 * admission of hostile offers. */
#include <stdlib.h>
#include <string.h>

#include "market/market.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	market_offer o;
	market_book *b = NULL;
	uint8_t     *p = NULL;
	size_t       n;

	if (market_offer_decode(data, size, &o) == GH_OK) {
		/* Accepted bytes are the one canonical encoding. */
		if (market_offer_encode(&o, &p, &n) != GH_OK || n != size
		    || memcmp(p, data, n) != 0) {
			abort();
		}
		free(p);
		(void) market_offer_check(&o, 1800000000ULL);
	}
	if (market_book_new(&b) == GH_OK) {
		(void) market_book_ingest(
		    b, data, size, 1800000000ULL, NULL, NULL);
		market_book_free(b);
	}
	return (0);
}
