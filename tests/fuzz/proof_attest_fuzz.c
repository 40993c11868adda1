/* proof_attest_fuzz.c - libFuzzer target for the utilization proof
 * decoder and its structural checks. */
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	attest_proof p;
	uint8_t     *q = NULL;
	size_t       n;
	const char  *why;

	if (attest_proof_decode(data, size, &p) != GH_OK) {
		return (0);
	}
	if (attest_proof_encode(&p, &q, &n) != GH_OK || n != size
	    || memcmp(q, data, n) != 0) {
		abort();
	}
	free(q);
	(void) attest_proof_check(&p, 1000000000000ULL, &why);
	(void) attest_proof_verify_sig(&p);
	attest_proof_clear(&p);
	return (0);
}
