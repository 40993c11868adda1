/* seeds_test.c - the fuzz seed corpora decode: a seed that no longer
 * matches the format would make the fuzzers start from noise. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/market/market_util.h"

TEST(market_fuzz_seeds_decode)
{
	uint8_t       *p = NULL;
	size_t         n;
	market_offer   o;
	market_receipt r;
	char           path[4096];

	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/offer_fuzz/offer1",
	    th_src());
	CHECK_OK(gh_file_read(path, 4096, &p, &n));
	CHECK_OK(market_offer_decode(p, n, &o));
	CHECK_OK(market_offer_verify(&o));
	free(p);
	snprintf(path, sizeof(path),
	    "%s/tests/fuzz/corpus/receipt_fuzz/receipt1", th_src());
	CHECK_OK(gh_file_read(path, 4096, &p, &n));
	CHECK_OK(market_receipt_decode(p, n, &r));
	CHECK_OK(market_receipt_verify(&r, &r.key));
	free(p);
}
