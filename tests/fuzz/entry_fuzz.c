/* entry_fuzz.c - libFuzzer target for the entry decoder: whatever
 * decodes re-encodes to the same bytes and hashes without fault. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ledger_entry e;
	uint8_t     *p = NULL;
	size_t       n;
	gh_hash      h;

	gh_init();
	if (ledger_entry_decode(data, size, &e) != GH_OK) {
		return (0);
	}
	if (ledger_entry_encode(&e, &p, &n) != GH_OK || n != size
	    || memcmp(p, data, n) != 0) {
		abort();
	}
	ledger_entry_hash(&e, &h);
	(void) ledger_entry_verify_sig(&e);
	free(p);
	return (0);
}
