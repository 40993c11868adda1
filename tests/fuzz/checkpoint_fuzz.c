/*
 * checkpoint_fuzz.c - libFuzzer target for the checkpoint and evidence
 * decoders: no crash, canonical round trip, and the signature and
 * evidence checks run on whatever decodes.
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
	static ledger_evidence ev;
	ledger_checkpoint      cp;
	uint8_t                buf[LEDGER_CHECKPOINT_LEN];
	uint8_t               *enc = NULL;
	size_t                 n   = 0;

	if (ledger_checkpoint_decode(data, size, &cp) == GH_OK) {
		fuzz_check(size == LEDGER_CHECKPOINT_LEN);
		ledger_checkpoint_encode(&cp, buf);
		fuzz_check(memcmp(buf, data, size) == 0);
		(void) ledger_checkpoint_verify(&cp);
	}
	if (ledger_evidence_decode(data, size, &ev) == GH_OK) {
		fuzz_check(ledger_evidence_encode(&ev, &enc, &n) == GH_OK);
		fuzz_check(n == size && memcmp(enc, data, n) == 0);
		free(enc);
		(void) ledger_evidence_check(&ev);
	}
	return (0);
}
