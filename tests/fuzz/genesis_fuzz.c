/* genesis_fuzz.c - libFuzzer target for the genesis text parser: what
 * parses formats back to text that parses to the same network id. */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static ledger_genesis g, g2;
	char                 *text = NULL;
	unsigned              line;
	gh_hash               a, b;

	gh_init();
	if (ledger_genesis_parse((const char *) data, size, &g, &line)
	    != GH_OK) {
		return (0);
	}
	if (ledger_genesis_format(&g, &text) != GH_OK
	    || ledger_genesis_parse(text, strlen(text), &g2, &line) != GH_OK) {
		abort();
	}
	ledger_genesis_netid(&g, &a);
	ledger_genesis_netid(&g2, &b);
	if (memcmp(a.b, b.b, 32) != 0) {
		abort();
	}
	free(text);
	return (0);
}
