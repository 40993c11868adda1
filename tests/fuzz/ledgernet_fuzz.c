/*
 * ledgernet_fuzz.c - libFuzzer target for the decoders that the ledger
 * on the node adds (node/ledger_kinds.c): the ledger-info reply.  What
 * decodes must re-encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	node_ledger_info i;
	gh_writer        w;

	if (node_ledger_info_decode(data, size, &i) != GH_OK) {
		return (0);
	}
	gh_writer_init(&w);
	if (node_ledger_info_encode(&i, &w) != GH_OK || w.len != size
	    || memcmp(w.p, data, size) != 0) {
		abort();
	}
	gh_writer_free(&w);
	return (0);
}
