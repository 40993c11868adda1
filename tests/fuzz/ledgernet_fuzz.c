/*
 * ledgernet_fuzz.c - libFuzzer target for the decoders that the ledger
 * and the market on the node add (node/ledger_kinds.c,
 * node/market_kinds.c): the ledger-info reply, the offer-publish
 * request and the market-list query.  The first byte picks one; what
 * decodes must re-encode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "node/node.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(const uint8_t *p, size_t n, gh_writer *w)
{
	if (gh_writer_err(w) != GH_OK || w->len != n
	    || (n > 0 && memcmp(w->p, p, n) != 0)) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p;
	size_t         n;
	gh_writer      w;

	if (size < 1) {
		return (0);
	}
	p = data + 1;
	n = size - 1;
	gh_writer_init(&w);
	switch (data[0] % 3) {
	case 0: {
		node_ledger_info i;
		if (node_ledger_info_decode(p, n, &i) == GH_OK) {
			(void) node_ledger_info_encode(&i, &w);
			same(p, n, &w);
		}
		break;
	}
	case 1: {
		node_offer_req r;
		if (node_offer_req_decode(p, n, &r) == GH_OK) {
			(void) node_offer_req_encode(&r, &w);
			same(p, n, &w);
		}
		break;
	}
	default: {
		node_market_query q;
		if (node_market_query_decode(p, n, &q) == GH_OK) {
			(void) node_market_query_encode(&q, &w);
			same(p, n, &w);
		}
		break;
	}
	}
	gh_writer_free(&w);
	return (0);
}
