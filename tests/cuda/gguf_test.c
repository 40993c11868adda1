/* gguf_test.c - the GGUF reader and writer, hostile files. */
#include <stdlib.h>

#include "cuda/cuda.h"
#include "tests/harness.h"

/* ---- a hand-made GGUF, field by field ----------------------------- */

typedef struct {
	uint8_t *p;
	size_t   n, cap;
} buf;

static void
b_put(buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p   = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
b_le(buf *b, uint64_t v, int n)
{
	uint8_t x[8];
	for (int i = 0; i < n; i++) {
		x[i] = (uint8_t) (v >> (8 * i));
	}
	b_put(b, x, (size_t) n);
}

static void
b_str(buf *b, const char *s)
{
	b_le(b, strlen(s), 8);
	b_put(b, s, strlen(s));
}

typedef struct {
	const char *name;
	uint32_t    type;
	uint64_t    d0, d1;
	uint64_t    off;
} raw_tensor;

/* A file with an alignment pair and the given tensors, data_len bytes
 * of data (8-aligned copy). */
static uint8_t *
raw_file(
    uint32_t version, const raw_tensor *t, int nt, size_t data_len, size_t *n)
{
	buf      b = { 0 };
	uint8_t *out;

	b_le(&b, 0x46554747u, 4);
	b_le(&b, version, 4);
	b_le(&b, (uint64_t) nt, 8);
	b_le(&b, 1, 8);
	b_str(&b, "general.alignment");
	b_le(&b, GPU_GGUF_U32, 4);
	b_le(&b, 32, 4);
	for (int i = 0; i < nt; i++) {
		b_str(&b, t[i].name);
		b_le(&b, 2, 4);
		b_le(&b, t[i].d0, 8);
		b_le(&b, t[i].d1, 8);
		b_le(&b, t[i].type, 4);
		b_le(&b, t[i].off, 8);
	}
	while (b.n % 32 != 0) {
		b_le(&b, 0, 1);
	}
	for (size_t i = 0; i < data_len; i++) {
		b_le(&b, i & 0x7f, 1);
	}
	out = aligned_alloc(64, (b.n + 63) / 64 * 64);
	memcpy(out, b.p, b.n);
	*n = b.n;
	free(b.p);
	return (out);
}

static int
parse(const uint8_t *p, size_t n, char *err)
{
	gpu_gguf *g  = NULL;
	int       rv = gpu_gguf_parse(p, n, &g, err, 200);
	gpu_gguf_free(g);
	return (rv);
}

TEST(gguf_handmade_files_accepted_and_rejected)
{
	char       err[200];
	size_t     n;
	uint8_t   *p;
	gpu_gguf  *g     = NULL;
	raw_tensor ok[2] = { { "a", GPU_TYPE_F32, 4, 2, 0 },
		{ "b", GPU_TYPE_Q8_0, 32, 1, 32 } };

	p = raw_file(3, ok, 2, 32 + 34, &n);
	CHECK_OK(gpu_gguf_parse(p, n, &g, err, sizeof(err)));
	CHECK_EQ(gpu_gguf_tensor_count(g), 2);
	CHECK(gpu_gguf_tensor(g, "b") != NULL);
	CHECK_EQ(gpu_gguf_tensor(g, "b")->nbytes, 34);
	CHECK(gpu_gguf_tensor(g, "c") == NULL);
	gpu_gguf_free(g);
	/* Every truncation is an error. */
	for (size_t k = 0; k < n; k++) {
		uint8_t *q = aligned_alloc(64, 4096);
		memcpy(q, p, k);
		CHECK(parse(q, k, err) != GH_OK);
		free(q);
	}
	/* An unaligned buffer is refused before reading. */
	CHECK_ERR(gpu_gguf_parse(p + 1, n - 1, &g, err, 200), GH_EINVAL);
	free(p);

	/* Version 2 reads too; 1 and 4 do not. */
	p = raw_file(2, ok, 2, 66, &n);
	CHECK_OK(parse(p, n, err));
	free(p);
	p = raw_file(1, ok, 2, 66, &n);
	CHECK_ERR(parse(p, n, err), GH_EVERSION);
	free(p);
	p = raw_file(4, ok, 2, 66, &n);
	CHECK_ERR(parse(p, n, err), GH_EVERSION);
	free(p);

	/* Data past the end. */
	p = raw_file(3, ok, 2, 65, &n);
	CHECK_ERR(parse(p, n, err), GH_ETRUNC);
	CHECK(strstr(err, "past the end") != NULL);
	free(p);

	/* Overlapping tensors. */
	raw_tensor ov[2] = { { "a", GPU_TYPE_F32, 16, 2, 0 },
		{ "b", GPU_TYPE_F32, 4, 1, 128 } };
	p                = raw_file(3, ov, 2, 256, &n);
	CHECK_OK(parse(p, n, err));
	free(p);
	ov[1].off = 96;
	p         = raw_file(3, ov, 2, 256, &n);
	CHECK_ERR(parse(p, n, err), GH_ECORRUPT);
	CHECK(strstr(err, "overlap") != NULL);
	free(p);

	/* Misaligned offset. */
	ov[1].off = 136;
	p         = raw_file(3, ov, 2, 256, &n);
	CHECK_ERR(parse(p, n, err), GH_ECORRUPT);
	CHECK(strstr(err, "misaligned") != NULL);
	free(p);

	/* A type the engine does not run, named in the error. */
	raw_tensor q4[1] = { { "w", 2, 32, 1, 0 } };
	p                = raw_file(3, q4, 1, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_EUNSUPPORTED);
	CHECK(strstr(err, "Q4_0") != NULL);
	free(p);
	q4[0].type = 99;
	p          = raw_file(3, q4, 1, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_EUNSUPPORTED);
	free(p);

	/* Q8_0 rows must be whole blocks. */
	raw_tensor qb[1] = { { "w", GPU_TYPE_Q8_0, 48, 2, 0 } };
	p                = raw_file(3, qb, 1, 256, &n);
	CHECK_ERR(parse(p, n, err), GH_ECORRUPT);
	free(p);

	/* Duplicate names; huge dimensions whose product overflows. */
	raw_tensor dup[2] = { { "a", GPU_TYPE_F32, 4, 1, 0 },
		{ "a", GPU_TYPE_F32, 4, 1, 32 } };
	p                 = raw_file(3, dup, 2, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_ECORRUPT);
	free(p);
	raw_tensor huge[1]
	    = { { "h", GPU_TYPE_F32, 1ull << 35, 1ull << 35, 0 } };
	p = raw_file(3, huge, 1, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_ECORRUPT);
	free(p);
	huge[0].d0 = 1ull << 30;
	huge[0].d1 = 1;
	p          = raw_file(3, huge, 1, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_ETRUNC);
	free(p);
	huge[0].d0  = 8;
	huge[0].off = UINT64_MAX - 31;
	p           = raw_file(3, huge, 1, 64, &n);
	CHECK_ERR(parse(p, n, err), GH_ETRUNC);
	free(p);
}

TEST(gguf_huge_counts_and_bad_metadata)
{
	char     err[200];
	size_t   n;
	uint8_t *p;
	uint64_t v;

	/* Counts far beyond the file. */
	p = raw_file(3, NULL, 0, 0, &n);
	CHECK_OK(parse(p, n, err));
	for (int field = 0; field < 2; field++) {
		uint64_t vals[] = { 1ull << 62, UINT64_MAX, 5000, 60000 };
		for (int i = 0; i < 4; i++) {
			uint8_t *q = aligned_alloc(64, (n + 63) / 64 * 64);
			memcpy(q, p, n);
			for (int k = 0; k < 8; k++) {
				q[8 + 8 * field + k]
				    = (uint8_t) (vals[i] >> (8 * k));
			}
			int rv = parse(q, n, err);
			CHECK(rv == GH_ELIMIT || rv == GH_ETRUNC);
			free(q);
		}
	}
	free(p);

	/* A string length past the end, a bad value type, a bad bool, an
	 * array of a billion strings, a bad alignment. */
	struct {
		const char *what;
		int         want;
	} cases[] = { { "strlen", GH_ETRUNC }, { "vtype", GH_ECORRUPT },
		{ "bool", GH_ECORRUPT }, { "array", GH_ELIMIT },
		{ "arrtrunc", GH_ETRUNC }, { "align", GH_ECORRUPT },
		{ "dupkey", GH_ECORRUPT }, { "nested", GH_EUNSUPPORTED } };
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		buf b   = { 0 };
		int two = strcmp(cases[c].what, "dupkey") == 0;
		b_le(&b, 0x46554747u, 4);
		b_le(&b, 3, 4);
		b_le(&b, 0, 8);
		b_le(&b, two ? 2 : 1, 8);
		const char *w = cases[c].what;
		if (strcmp(w, "strlen") == 0) {
			b_le(&b, 200, 8);
			b_put(&b, "k", 1);
		} else if (strcmp(w, "vtype") == 0) {
			b_str(&b, "k");
			b_le(&b, 13, 4);
		} else if (strcmp(w, "bool") == 0) {
			b_str(&b, "k");
			b_le(&b, GPU_GGUF_BOOL, 4);
			b_le(&b, 2, 1);
		} else if (strcmp(w, "array") == 0) {
			b_str(&b, "k");
			b_le(&b, GPU_GGUF_ARRAY, 4);
			b_le(&b, GPU_GGUF_STRING, 4);
			b_le(&b, 1000000000ull, 8);
		} else if (strcmp(w, "arrtrunc") == 0) {
			b_str(&b, "k");
			b_le(&b, GPU_GGUF_ARRAY, 4);
			b_le(&b, GPU_GGUF_U32, 4);
			b_le(&b, 1000, 8);
			b_le(&b, 7, 4);
		} else if (strcmp(w, "align") == 0) {
			b_str(&b, "general.alignment");
			b_le(&b, GPU_GGUF_U32, 4);
			b_le(&b, 12, 4);
		} else if (strcmp(w, "dupkey") == 0) {
			for (int k = 0; k < 2; k++) {
				b_str(&b, "k");
				b_le(&b, GPU_GGUF_U8, 4);
				b_le(&b, 1, 1);
			}
		} else {
			b_str(&b, "k");
			b_le(&b, GPU_GGUF_ARRAY, 4);
			b_le(&b, GPU_GGUF_ARRAY, 4);
			b_le(&b, 1, 8);
		}
		while (b.n % 32 != 0 || b.n < 128) {
			b_le(&b, 0, 1);
		}
		uint8_t *q = aligned_alloc(64, b.n);
		memcpy(q, b.p, b.n);
		int rv = parse(q, b.n, err);
		if (rv != cases[c].want) {
			fprintf(stderr, "case %s: %s\n", w, gh_strerror(rv));
		}
		CHECK_EQ(rv, cases[c].want);
		free(q);
		free(b.p);
	}

	/* Metadata lookups by type. */
	gpu_gguf_writer *w;
	gpu_gguf        *g = NULL;
	CHECK_OK(gpu_gguf_writer_new(&w));
	gpu_gguf_writer_u32(w, "u", 7);
	gpu_gguf_writer_f32(w, "f", 1.5f);
	gpu_gguf_writer_str(w, "s", "hello");
	int32_t ints[3] = { -1, 2, 3 };
	gpu_gguf_writer_arr_i32(w, "ai", ints, 3);
	CHECK_OK(gpu_gguf_writer_take(w, &p, &n));
	gpu_gguf_writer_free(w);
	CHECK_OK(gpu_gguf_parse(p, n, &g, err, sizeof(err)));
	CHECK_OK(gpu_gguf_get_u64(g, "u", &v));
	CHECK_EQ(v, 7);
	float f;
	CHECK_OK(gpu_gguf_get_f32(g, "f", &f));
	CHECK(f == 1.5f);
	CHECK_ERR(gpu_gguf_get_u64(g, "f", &v), GH_ETYPE);
	CHECK_ERR(gpu_gguf_get_u64(g, "nope", &v), GH_ENOENT);
	const char *s;
	size_t      sn;
	CHECK_OK(gpu_gguf_get_str(g, "s", &s, &sn));
	CHECK(sn == 5 && memcmp(s, "hello", 5) == 0);
	int64_t iv;
	CHECK_OK(gpu_gguf_arr_i64(g, "ai", 0, &iv));
	CHECK(iv == -1);
	CHECK_ERR(gpu_gguf_arr_i64(g, "ai", 3, &iv), GH_EINVAL);
	CHECK_ERR(gpu_gguf_arr_str(g, "ai", 0, &s, &sn), GH_ETYPE);
	gpu_gguf_free(g);
	free(p);
}

TEST(gguf_half_conversion_exact)
{
	/* Every half survives half -> float -> half. */
	for (uint32_t h = 0; h < 65536; h++) {
		float f = gpu_f16_to_f32((uint16_t) h);
		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0) {
			CHECK(f != f);
			continue;
		}
		CHECK_EQ(gpu_f32_to_f16(f), h);
	}
	CHECK_EQ(gpu_f32_to_f16(1e6f), 0x7c00);
	CHECK_EQ(gpu_f32_to_f16(65519.0f), 0x7bff);
	CHECK_EQ(gpu_f32_to_f16(65520.0f), 0x7c00);
	CHECK_EQ(gpu_f32_to_f16(1e-9f), 0);
	CHECK(gpu_f16_to_f32(0x3c00) == 1.0f);
	CHECK(gpu_f16_to_f32(0x0001) == 0x1p-24f);
}

/* Bit flips and truncations of a whole test model: each result is an
 * error or a model that opens; never a crash (ASan watches). */
TEST_T(gguf_model_bitflips_and_truncations, 300)
{
	gpu_test_spec s;
	uint8_t      *p, *q;
	size_t        n;
	char          err[200];
	uint64_t      rs     = 42;
	int           errors = 0;

	gpu_test_spec_default(&s);
	s.n_layer = 1;
	s.n_embd  = 32;
	s.n_ff    = 32;
	s.wtype   = GPU_TYPE_Q8_0;
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	q = aligned_alloc(64, (n + 63) / 64 * 64);
	for (int i = 0; i < 3000; i++) {
		gpu_model *m = NULL;
		memcpy(q, p, n);
		size_t k = n;
		if (i % 3 == 0) {
			k = th_rand(&rs) % n;
		} else {
			/* Flip a bit, mostly in the header and metadata. */
			size_t at = th_rand(&rs) % (i % 2 ? 16384 : n);
			q[at % n] ^= (uint8_t) (1u << (th_rand(&rs) % 8));
		}
		int rv = gpu_model_from_memory(q, k, 0, &m, err, sizeof(err));
		if (rv == GH_OK) {
			gpu_ctx *c = NULL;
			int32_t  t = 1;
			float *lg = malloc(4 * gpu_model_info_get(m)->n_vocab);
			if (gpu_ctx_new(m, GPU_BACKEND_CPU, 4, 1, &c, err, 200)
			    == GH_OK) {
				(void) gpu_ctx_forward(
				    c, &t, 1, lg, 0, NULL, NULL);
			}
			gpu_ctx_free(c);
			free(lg);
		} else {
			errors++;
		}
		gpu_model_close(m);
	}
	CHECK(errors > 1000);
	free(q);
	free(p);
}

TEST(gguf_model_errors_name_what_is_missing)
{
	gpu_gguf_writer *w;
	uint8_t         *p;
	size_t           n;
	gpu_model       *m = NULL;
	char             err[256];

	/* Another architecture. */
	CHECK_OK(gpu_gguf_writer_new(&w));
	gpu_gguf_writer_str(w, "general.architecture", "gpt2");
	CHECK_OK(gpu_gguf_writer_take(w, &p, &n));
	gpu_gguf_writer_free(w);
	CHECK_ERR(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)),
	    GH_EUNSUPPORTED);
	CHECK(strstr(err, "gpt2") != NULL);

	/* A llama file missing its hyper-parameters. */
	CHECK_OK(gpu_gguf_writer_new(&w));
	gpu_gguf_writer_str(w, "general.architecture", "llama");
	gpu_gguf_writer_u32(w, "llama.context_length", 64);
	CHECK_OK(gpu_gguf_writer_take(w, &p, &n));
	gpu_gguf_writer_free(w);
	CHECK_ERR(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)),
	    GH_EUNSUPPORTED);
	CHECK(strstr(err, "llama.embedding_length") != NULL);

	/* A whole model without one tensor: rebuild the test model's
	 * metadata by hand is long, so drop the tensor's name instead. */
	gpu_test_spec s;
	gpu_test_spec_default(&s);
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	uint8_t *at = memmem(p, n, "blk.1.ffn_up.weight", 19);
	CHECK(at != NULL);
	at[6] = 'X';
	CHECK_ERR(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)),
	    GH_EUNSUPPORTED);
	CHECK(strstr(err, "blk.1.ffn_up.weight") != NULL);
}

TEST(gguf_model_open_maps_files_and_refuses_bad_ones)
{
	gpu_test_spec s;
	uint8_t      *p;
	size_t        n;
	gpu_model    *m = NULL;
	char          err[256];
	gh_hash       h1, h2;

	gpu_test_spec_default(&s);
	s.wtype = GPU_TYPE_F16;
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	CHECK_OK(gh_file_write_atomic(th_path(0, "m.gguf"), p, n, 0644));
	CHECK_OK(gh_file_write_atomic(th_path(1, "t.gguf"), p, n / 2, 0644));
	CHECK_OK(gpu_model_open(th_path(0, "m.gguf"), &m, err, sizeof(err)));
	CHECK_EQ(gpu_model_info_get(m)->file_bytes, n);
	CHECK_EQ(gpu_model_info_get(m)->wtype, GPU_TYPE_F16);
	CHECK_OK(gpu_model_hash(m, &h1));
	gpu_model_close(m);
	/* The same bytes in memory hash the same. */
	CHECK_OK(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)));
	CHECK_OK(gpu_model_hash(m, &h2));
	CHECK_MEM(h1.b, h2.b, 32);
	gpu_model_close(m);
	m = NULL;
	CHECK_ERR(
	    gpu_model_open(th_path(2, "none.gguf"), &m, err, sizeof(err)),
	    GH_ENOENT);
	CHECK_ERR(
	    gpu_model_open(th_tmpdir(), &m, err, sizeof(err)), GH_EINVAL);
	CHECK_ERR(gpu_model_open(th_path(1, "t.gguf"), &m, err, sizeof(err)),
	    GH_ETRUNC);
	CHECK(m == NULL);
}
