/* bytes_test.c - the canonical reader and writer. */
#include <stdlib.h>

#include "tests/harness.h"

#include "tests/base/sample_codec.h"

static void
sample_fill(sample *s)
{
	memset(s, 0, sizeof(*s));
	s->type = 7;
	s->u8   = 0xfe;
	s->u16  = 0xbeef;
	s->u32  = 0xdeadbeef;
	s->u64  = 0x0123456789abcdefULL;
	s->flag = 1;
	memcpy(s->fixed, "abcdefgh", 8);
	strcpy(s->name, "gpu-hour");
	s->blob_len = 5;
	memcpy(s->blob, "\x00\x01\x02\x03\x04", 5);
}

TEST(bytes_roundtrip_every_field)
{
	sample   s, t;
	uint8_t *p = NULL, *q = NULL;
	size_t   n, m;

	sample_fill(&s);
	CHECK_OK(sample_encode(&s, &p, &n));
	CHECK_EQ(n, 2 + 1 + 2 + 4 + 8 + 1 + 8 + 4 + 8 + 4 + 5);
	/* Big-endian on the wire. */
	CHECK(p[0] == 1 && p[1] == 7 && p[2] == 0xfe && p[3] == 0xbe
	    && p[4] == 0xef && p[5] == 0xde && p[9] == 0x01 && p[16] == 0xef);
	CHECK_OK(sample_decode(p, n, &t));
	CHECK_OK(sample_encode(&t, &q, &m));
	CHECK_EQ(n, m);
	CHECK_MEM(p, q, n);
	CHECK_EQ(t.u64, s.u64);
	CHECK_STR(t.name, "gpu-hour");
	free(p);
	free(q);
}

TEST(bytes_rejects_truncation_everywhere)
{
	sample   s, t;
	uint8_t *p = NULL;
	size_t   n;

	sample_fill(&s);
	CHECK_OK(sample_encode(&s, &p, &n));
	for (size_t k = 0; k < n; k++) {
		int rv = sample_decode(p, k, &t);
		CHECK(rv == GH_ETRUNC);
	}
	free(p);
}

TEST(bytes_rejects_trailing_version_type_long_bool)
{
	sample   s, t;
	uint8_t *p = NULL;
	uint8_t  buf[256];
	size_t   n;

	sample_fill(&s);
	CHECK_OK(sample_encode(&s, &p, &n));
	memcpy(buf, p, n);
	buf[n] = 0;
	CHECK_ERR(sample_decode(buf, n + 1, &t), GH_ETRAILING);
	buf[0] = 2;
	CHECK_ERR(sample_decode(buf, n, &t), GH_EVERSION);
	buf[0] = 1;
	buf[1] = 8;
	CHECK_ERR(sample_decode(buf, n, &t), GH_ETYPE);
	buf[1]  = 7;
	buf[17] = 2; /* the bool */
	CHECK_ERR(sample_decode(buf, n, &t), GH_ENONCANON);
	buf[17] = 1;
	/* name length above its maximum, though the bytes are there */
	gh_be32_put(buf + 26, SAMPLE_NAME_MAX + 1);
	CHECK_ERR(sample_decode(buf, n, &t), GH_ETOOLONG);
	/* a huge length must not be trusted */
	gh_be32_put(buf + 26, 0xffffffffu);
	CHECK_ERR(sample_decode(buf, n, &t), GH_ETOOLONG);
	/* a NUL inside a text field is not canonical */
	gh_be32_put(buf + 26, 8);
	buf[31] = 0;
	CHECK_ERR(sample_decode(buf, n, &t), GH_ENONCANON);
	free(p);
}

TEST(bytes_writer_rejects_overlong_and_is_sticky)
{
	gh_writer w;
	uint8_t  *p;
	size_t    n;
	uint8_t   big[SAMPLE_BLOB_MAX + 1] = { 0 };

	gh_writer_init(&w);
	gh_put_u8(&w, 1);
	gh_put_str(&w, SAMPLE_BLOB_MAX, big, sizeof(big));
	gh_put_u64(&w, 5);
	CHECK_ERR(gh_writer_err(&w), GH_ETOOLONG);
	CHECK_ERR(gh_writer_take(&w, &p, &n), GH_ETOOLONG);
	CHECK(p == NULL);
	gh_writer_free(&w);
}

TEST(bytes_bitflip_pass_never_accepts_a_different_encoding)
{
	/* Every single-bit flip and every truncation either fails cleanly
	 * or decodes to something that re-encodes to exactly the input. */
	sample   s, t;
	uint8_t *p = NULL;
	size_t   n;
	int      accepted = 0;

	sample_fill(&s);
	CHECK_OK(sample_encode(&s, &p, &n));
	for (size_t i = 0; i < n * 8; i++) {
		uint8_t *q = NULL;
		size_t   m;
		p[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (sample_decode(p, n, &t) == GH_OK) {
			accepted++;
			CHECK_OK(sample_encode(&t, &q, &m));
			CHECK_EQ(m, n);
			CHECK_MEM(p, q, n);
			free(q);
		}
		p[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	/* Flips in plain integer fields are valid encodings of other
	 * values; flips in lengths, header and bool are not. */
	CHECK(accepted > 0 && accepted < (int) (n * 8));
	free(p);
}

TEST(bytes_be_helpers_and_hex)
{
	uint8_t b[8];
	char    hex[17];
	uint8_t back[8];

	gh_be64_put(b, 0x0102030405060708ULL);
	CHECK(b[0] == 1 && b[7] == 8);
	CHECK_EQ(gh_be64_get(b), 0x0102030405060708ULL);
	gh_hex_encode(b, 8, hex);
	CHECK_STR(hex, "0102030405060708");
	CHECK_OK(gh_hex_decode("0102030405060708", back, 8));
	CHECK_MEM(back, b, 8);
	CHECK_OK(gh_hex_decode("ABCDEFabcdef0000", back, 8));
	CHECK_ERR(gh_hex_decode("01020304050607", back, 8), GH_EINVAL);
	CHECK_ERR(gh_hex_decode("01020304050607zz", back, 8), GH_EINVAL);
}

TEST(bytes_checked_arithmetic)
{
	uint64_t v;

	CHECK_ERR(gh_add_u64(UINT64_MAX, 1, &v), GH_EOVERFLOW);
	CHECK_OK(gh_add_u64(UINT64_MAX - 1, 1, &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK_ERR(gh_sub_u64(0, 1, &v), GH_EOVERFLOW);
	CHECK_ERR(gh_mul_u64(1ULL << 32, 1ULL << 32, &v), GH_EOVERFLOW);
	CHECK_OK(gh_muldiv_u64(UINT64_MAX, UINT64_MAX, UINT64_MAX, &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK_ERR(gh_muldiv_u64(UINT64_MAX, 2, 1, &v), GH_EOVERFLOW);
	CHECK_ERR(gh_muldiv_u64(1, 1, 0, &v), GH_EINVAL);
	CHECK_OK(gh_muldiv_u64(7, 3, 2, &v));
	CHECK_EQ(v, 10);
}

TEST(err_strings_are_distinct_and_present)
{
	for (int i = 0; i < GH_ERR_COUNT; i++) {
		CHECK(strcmp(gh_strerror(i), "unknown error") != 0);
		for (int j = 0; j < i; j++) {
			CHECK(strcmp(gh_strerror(i), gh_strerror(j)) != 0);
		}
	}
	CHECK_STR(gh_strerror(GH_ERR_COUNT), "unknown error");
	CHECK_STR(gh_strerror(-1), "unknown error");
}
