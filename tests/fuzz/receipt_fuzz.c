/* receipt_fuzz.c - libFuzzer target for the receipt decoder. */
#include <stdlib.h>
#include <string.h>

#include "market/market.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	market_receipt r;
	uint8_t       *p = NULL;
	size_t         n;

	if (market_receipt_decode(data, size, &r) == GH_OK) {
		if (market_receipt_encode(&r, &p, &n) != GH_OK || n != size
		    || memcmp(p, data, n) != 0) {
			abort();
		}
		free(p);
		(void) market_receipt_verify(&r, &r.key);
	}
	return (0);
}
