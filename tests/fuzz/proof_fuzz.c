/*
 * proof_fuzz.c - libFuzzer target for the proof decoders (inclusion,
 * consistency, bundle): no crash, no leak, and whatever decodes
 * re-encodes to the same bytes; the verifiers run on it too.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_check(int cond)
{
	if (!cond) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ledger_inclusion   ip;
	static ledger_consistency cp;
	static ledger_bundle      b;
	ledger_mhash              r1, r2;
	uint8_t                  *enc = NULL;
	size_t                    n   = 0;

	memset(&r1, 0xa5, sizeof(r1));
	ledger_merkle_empty(&r2);
	if (ledger_inclusion_decode(data, size, &ip) == GH_OK) {
		fuzz_check(ledger_inclusion_encode(&ip, &enc, &n) == GH_OK);
		fuzz_check(n == size && memcmp(enc, data, n) == 0);
		free(enc);
		enc = NULL;
		(void) ledger_inclusion_verify(&ip, &r1, &r2);
	}
	if (ledger_consistency_decode(data, size, &cp) == GH_OK) {
		fuzz_check(ledger_consistency_encode(&cp, &enc, &n) == GH_OK);
		fuzz_check(n == size && memcmp(enc, data, n) == 0);
		free(enc);
		enc = NULL;
		(void) ledger_consistency_verify(&cp, &r1, &r2);
		(void) ledger_consistency_verify(&cp, &r2, &r2);
	}
	if (ledger_bundle_decode(data, size, &b) == GH_OK) {
		fuzz_check(ledger_bundle_encode(&b, &enc, &n) == GH_OK);
		fuzz_check(n == size && memcmp(enc, data, n) == 0);
		free(enc);
		enc = NULL;
		(void) ledger_bundle_verify(&b);
	}
	return (0);
}
