/* vote_fuzz.c - libFuzzer target for the vote decoder and the
 * equivocation-proof decoder. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ledger_vote    v;
	uint8_t        out[LEDGER_VOTE_SIZE];
	const uint8_t *a, *b;
	size_t         an, bn;

	gh_init();
	if (ledger_vote_decode(data, size, &v) == GH_OK) {
		ledger_vote_encode(&v, out);
		if (size != sizeof(out) || memcmp(out, data, size) != 0) {
			abort();
		}
		(void) ledger_vote_verify(&v);
	}
	if (ledger_equiv_decode(data, size, &a, &an, &b, &bn) == GH_OK) {
		gh_hash netid;
		memset(&netid, 0, sizeof(netid));
		(void) ledger_equiv_verify(&netid, a, an, b, bn, NULL);
	}
	return (0);
}
