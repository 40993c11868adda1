/* cert_fuzz.c - libFuzzer target for the certificate decoder: whatever
 * decodes re-encodes to the same bytes; verification never faults. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ledger_cert    c;
	static ledger_genesis g;
	uint8_t              *p = NULL;
	size_t                n;

	gh_init();
	if (ledger_cert_decode(data, size, &c) != GH_OK) {
		return (0);
	}
	if (ledger_cert_encode(&c, &p, &n) != GH_OK || n != size
	    || memcmp(p, data, n) != 0) {
		abort();
	}
	free(p);
	/* A committee of the certificate's first voters. */
	memset(&g, 0, sizeof(g));
	g.n = c.nvotes >= 4 ? 4 : 1;
	for (uint32_t i = 0; i < g.n && i < c.nvotes; i++) {
		g.committee[i].key = c.voter[i];
	}
	(void) ledger_cert_verify(&g, &c);
	return (0);
}
