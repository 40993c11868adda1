/*
 * sample_codec.h - a sample object with every field kind of the canonical
 * encoding, decoded the way every real decoder is; shared by the unit
 * test of the reader and its fuzz target.
 */
#ifndef GH_TESTS_SAMPLE_CODEC_H
#define GH_TESTS_SAMPLE_CODEC_H

#include <string.h>

#include "base/base.h"

/* A sample object with every field kind, encoded and decoded by the
 * test the way every real decoder does it. */
#define SAMPLE_NAME_MAX 16
#define SAMPLE_BLOB_MAX 40
typedef struct {
	uint8_t  type;
	uint8_t  u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int      flag;
	uint8_t  fixed[8];
	char     name[SAMPLE_NAME_MAX + 1];
	uint8_t  blob[SAMPLE_BLOB_MAX];
	uint32_t blob_len;
} sample;

static inline int
sample_encode(const sample *s, uint8_t **p, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_header(&w, 1, s->type);
	gh_put_u8(&w, s->u8);
	gh_put_u16(&w, s->u16);
	gh_put_u32(&w, s->u32);
	gh_put_u64(&w, s->u64);
	gh_put_bool(&w, s->flag);
	gh_put_fixed(&w, s->fixed, 8);
	gh_put_cstr(&w, SAMPLE_NAME_MAX, s->name);
	gh_put_str(&w, SAMPLE_BLOB_MAX, s->blob, s->blob_len);
	return (gh_writer_take(&w, p, n));
}

static inline int
sample_decode(const uint8_t *p, size_t n, sample *s)
{
	gh_reader      r;
	const uint8_t *b;
	int            rv;

	memset(s, 0, sizeof(*s));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, 1, &s->type)) != GH_OK) {
		return (rv);
	}
	if (s->type != 7) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_u8(&r, &s->u8)) != GH_OK
	    || (rv = gh_get_u16(&r, &s->u16)) != GH_OK
	    || (rv = gh_get_u32(&r, &s->u32)) != GH_OK
	    || (rv = gh_get_u64(&r, &s->u64)) != GH_OK
	    || (rv = gh_get_bool(&r, &s->flag)) != GH_OK
	    || (rv = gh_get_fixed(&r, s->fixed, 8)) != GH_OK
	    || (rv = gh_get_cstr(
	            &r, SAMPLE_NAME_MAX, s->name, sizeof(s->name)))
	        != GH_OK
	    || (rv = gh_get_str(&r, SAMPLE_BLOB_MAX, &b, &s->blob_len))
	        != GH_OK) {
		return (rv);
	}
	memcpy(s->blob, b, s->blob_len);
	return (gh_reader_end(&r));
}

#endif
