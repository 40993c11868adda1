/*
 * netmsg_fuzz.c - libFuzzer target for every decoder of node/: the
 * first byte picks one, the rest is its input.  What a decoder accepts
 * must re-encode to the same bytes (where the object has an encoder),
 * and list walkers must walk what their checker accepted.
 */
#include <string.h>
#include <stdlib.h>

#include "node/priv.h"

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
	switch (data[0] % 12) {
	case 0: {
		node_env e;
		if (node_env_decode(p, n, &e) == GH_OK) {
			(void) node_env_verify(&e);
		}
		break;
	}
	case 1: {
		node_hello h;
		if (node_hello_decode(p, n, &h) == GH_OK) {
			(void) node_hello_encode(&h, &w);
			same(p, n, &w);
		}
		break;
	}
	case 2: {
		node_item it;
		if (node_item_decode(p, n, &it) == GH_OK) {
			(void) node_item_encode(&it, &w);
			same(p, n, &w);
		}
		break;
	}
	case 3: {
		node_digest_req d;
		if (node_digest_req_decode(p, n, &d) == GH_OK) {
			(void) node_digest_req_encode(&d, &w);
			same(p, n, &w);
		}
		break;
	}
	case 4: {
		node_digest d;
		if (node_digest_decode(p, n, &d) == GH_OK) {
			(void) node_digest_encode(&d, &w);
			same(p, n, &w);
		}
		break;
	}
	case 5: {
		const uint8_t *ids;
		uint32_t       c;
		(void) node_ids_decode(p, n, NODE_IWANT_MAX, &ids, &c);
		break;
	}
	case 6: {
		node_items_iter it;
		node_item       item;
		uint32_t        walked = 0;
		if (node_items_begin(p, n, NODE_ITEMS_MAX, &it) == GH_OK) {
			uint32_t want = it.left;
			while (node_items_next(&it, &item) == GH_OK) {
				walked++;
			}
			if (walked != want) {
				abort();
			}
		}
		break;
	}
	case 7: {
		uint16_t       st;
		const uint8_t *b;
		uint32_t       bl;
		(void) node_reply_decode(p, n, &st, &b, &bl);
		(void) node_ctl_rep_decode(p, n, &st, &b, &bl);
		break;
	}
	case 8: {
		node_status s;
		if (node_status_decode(p, n, &s) == GH_OK) {
			(void) node_status_encode(&s, &w);
			same(p, n, &w);
		}
		break;
	}
	case 9: {
		gh_reader     r;
		node_peer_row pr;
		node_msg_row  mr;
		gh_reader_init(&r, p, n);
		while (node_peer_row_decode(&r, &pr) == GH_OK) { }
		gh_reader_init(&r, p, n);
		while (node_msg_row_decode(&r, &mr) == GH_OK) { }
		break;
	}
	case 10: {
		node_ann a;
		if (node_ann_decode(p, n, &a) == GH_OK) {
			(void) node_ann_encode(&a, &w);
			same(p, n, &w);
			(void) node_ann_verify(&a);
		}
		break;
	}
	default: {
		char           cmd[NODE_CMD_MAX + 1];
		const uint8_t *b;
		uint32_t       bl;
		node_config    c;
		char           err[128];
		(void) node_ctl_req_decode(p, n, cmd, sizeof(cmd), &b, &bl);
		node_config_default(&c);
		(void) node_config_parse(
		    (const char *) p, n, &c, err, sizeof(err));
		break;
	}
	}
	gh_writer_free(&w);
	return (0);
}
