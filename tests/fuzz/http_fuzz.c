/* http_fuzz.c - libFuzzer target for the HTTP API's router: hostile
 * methods and request-targets (paths, ids, query parameters) against an
 * order book and the metrics page; every answer is a status and a body,
 * never a crash. */
#include <stdlib.h>
#include <string.h>

#include "node/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	node_web_ctx c;
	node_web_res r;
	market_book *b = NULL;
	char        *in;
	char        *sp;

	/* "METHOD URI": the first space splits them. */
	if ((in = malloc(size + 1)) == NULL) {
		return (0);
	}
	memcpy(in, data, size);
	in[size] = '\0';
	memset(&c, 0, sizeof(c));
	if (market_book_new(&b) != GH_OK) {
		free(in);
		return (0);
	}
	c.src.book = b;
	if ((sp = strchr(in, ' ')) != NULL) {
		*sp = '\0';
	}
	if (node_web_serve(&c, sp ? in : "GET", sp ? sp + 1 : in, &r)
	    == GH_OK) {
		if (r.status < 200 || r.status > 599 || r.body == NULL
		    || r.ctype == NULL) {
			abort();
		}
		free(r.body);
	}
	market_book_free(b);
	free(in);
	return (0);
}
