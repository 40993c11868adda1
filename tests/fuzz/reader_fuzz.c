/*
 * reader_fuzz.c - libFuzzer target for the canonical reader.
 *
 * Two passes over each input: the sample object with every field kind
 * (accepted inputs must re-encode to the same bytes), and a small
 * interpreter where the first bytes choose a sequence of gets with
 * various maxima, so every reader function meets hostile lengths.
 */
#include <stdlib.h>

#include "tests/base/sample_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
reader_program(const uint8_t *data, size_t size)
{
	gh_reader      r;
	size_t         nops = size < 8 ? size : 8;
	const uint8_t *p;
	uint32_t       n;
	char           buf[65];
	uint8_t        fixed[32];
	uint64_t       u64;
	uint32_t       u32;
	uint16_t       u16;
	uint8_t        u8;
	int            b;

	gh_reader_init(&r, data + nops, size - nops);
	for (size_t i = 0; i < nops; i++) {
		size_t before = gh_reader_left(&r);
		int    rv;
		switch (data[i] % 9) {
		case 0:
			rv = gh_get_u8(&r, &u8);
			break;
		case 1:
			rv = gh_get_u16(&r, &u16);
			break;
		case 2:
			rv = gh_get_u32(&r, &u32);
			break;
		case 3:
			rv = gh_get_u64(&r, &u64);
			break;
		case 4:
			rv = gh_get_bool(&r, &b);
			break;
		case 5:
			rv = gh_get_fixed(&r, fixed, data[i] % 33);
			break;
		case 6:
			rv = gh_get_str(&r, data[i], &p, &n);
			if (rv == GH_OK && n > data[i]) {
				abort();
			}
			break;
		case 7:
			rv = gh_get_cstr(&r, 64, buf, sizeof(buf));
			break;
		default:
			rv = gh_get_header(&r, 1, &u8);
			break;
		}
		/* A failed get must leave the reader where it was. */
		if (rv != GH_OK && gh_reader_left(&r) != before) {
			abort();
		}
		if (gh_reader_left(&r) > before) {
			abort();
		}
	}
	(void) gh_reader_end(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sample   s;
	uint8_t *p = NULL;
	size_t   n;

	if (sample_decode(data, size, &s) == GH_OK) {
		if (sample_encode(&s, &p, &n) != GH_OK || n != size
		    || memcmp(p, data, n) != 0) {
			abort(); /* accepted but not canonical */
		}
		free(p);
	}
	reader_program(data, size);
	return (0);
}
