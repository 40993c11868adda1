/* tokenizer_test.c - SentencePiece encode/decode and sampling. */
#include <math.h>
#include <stdlib.h>

#include "cuda/cuda.h"
#include "tests/harness.h"

static gpu_model *
tok_model(void)
{
	gpu_test_spec s;
	uint8_t      *p;
	size_t        n;
	gpu_model    *m = NULL;
	char          err[200];

	gpu_test_spec_default(&s);
	s.n_layer = 1;
	if (gpu_test_model_make(&s, &p, &n) != GH_OK
	    || gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)) != GH_OK) {
		return (NULL);
	}
	return (m);
}

/* Decodes toks back into text. */
static size_t
detok(const gpu_tokenizer *t, const int32_t *toks, size_t nt, char *out)
{
	size_t  k    = 0, n;
	int32_t prev = -1;

	for (size_t i = 0; i < nt; i++) {
		if (gpu_tok_decode(t, prev, toks[i], out + k, 64, &n)
		    != GH_OK) {
			return ((size_t) -1);
		}
		k += n;
		prev = toks[i];
	}
	out[k] = '\0';
	return (k);
}

TEST(tokenizer_round_trips_including_bytes_outside_the_vocabulary)
{
	gpu_model           *m = tok_model();
	const gpu_tokenizer *t;
	int32_t              toks[512];
	size_t               nt;
	char                 back[4096];
	const char *texts[] = { "Once upon a time there was a little girl.",
		"the cat sat on the mat", "  two  leading, trailing  ",
		"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80",
		"\x01\x02\xff\xfe\x80 invalid \xc3 utf8 \xe2\x82", "", " ",
		"tab\there\nnewline", "[PAD400] <s> </s> <0x41>" };

	CHECK(m != NULL);
	t = gpu_model_tokenizer(m);
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		size_t len = strlen(texts[i]);
		CHECK_OK(gpu_tok_encode(t, texts[i], len, 1, toks, 512, &nt));
		CHECK(nt >= 1);
		CHECK_EQ(toks[0], gpu_tok_bos(t));
		CHECK_EQ(detok(t, toks, nt, back), len);
		CHECK_MEM(back, texts[i], len);
		/* Without BOS too. */
		CHECK_OK(gpu_tok_encode(t, texts[i], len, 0, toks, 512, &nt));
		CHECK_EQ(detok(t, toks, nt, back), len);
		CHECK_MEM(back, texts[i], len);
	}
	/* Text with a NUL byte in it. */
	CHECK_OK(gpu_tok_encode(t, "a\0b", 3, 0, toks, 512, &nt));
	CHECK_EQ(detok(t, toks, nt, back), 3);
	CHECK_MEM(back, "a\0b", 3);
	gpu_model_close(m);
}

TEST(tokenizer_merges_by_score_and_falls_back_to_bytes)
{
	gpu_model           *m = tok_model();
	const gpu_tokenizer *t;
	int32_t              toks[64];
	size_t               nt, n;
	char                 piece[64];
	char                *big;

	CHECK(m != NULL);
	t = gpu_model_tokenizer(m);
	/* " the" and " cat" are single pieces of the vocabulary. */
	CHECK_OK(gpu_tok_encode(t, "the cat", 7, 0, toks, 64, &nt));
	CHECK_EQ(nt, 2);
	CHECK_OK(gpu_tok_decode(t, -1, toks[0], piece, 64, &n));
	CHECK(n == 3 && memcmp(piece, "the", 3) == 0);
	CHECK_OK(gpu_tok_decode(t, toks[0], toks[1], piece, 64, &n));
	CHECK(n == 4 && memcmp(piece, " cat", 4) == 0);
	/* The same piece after another token keeps its space. */
	CHECK_OK(gpu_tok_decode(t, toks[1], toks[0], piece, 64, &n));
	CHECK(n == 4 && memcmp(piece, " the", 4) == 0);
	/* A byte outside the vocabulary: its byte token <0x01> = id 4. */
	CHECK_OK(gpu_tok_encode(t, "\x01", 1, 0, toks, 64, &nt));
	CHECK_EQ(nt, 2); /* the space prefix, then the byte */
	CHECK_EQ(toks[1], 3 + 1);
	/* "é" is two byte tokens (after "▁" and "x"). */
	CHECK_OK(gpu_tok_encode(t, "x\xc3\xa9", 3, 0, toks, 64, &nt));
	CHECK_EQ(nt, 4);
	CHECK_EQ(toks[2], 3 + 0xc3);
	CHECK_EQ(toks[3], 3 + 0xa9);
	/* Control tokens decode to nothing; bad ids are refused. */
	CHECK_OK(gpu_tok_decode(t, -1, gpu_tok_eos(t), piece, 64, &n));
	CHECK_EQ(n, 0);
	CHECK_ERR(gpu_tok_decode(t, -1, 100000, piece, 64, &n), GH_EINVAL);
	CHECK_ERR(gpu_tok_decode(t, -1, -5, piece, 64, &n), GH_EINVAL);
	/* Capacity and size limits. */
	CHECK_ERR(
	    gpu_tok_encode(t, "the cat sat", 11, 1, toks, 2, &nt), GH_ELIMIT);
	CHECK_ERR(gpu_tok_decode(t, toks[0], 300, piece, 0, &n), GH_ELIMIT);
	big = malloc(GPU_TOK_MAX_TEXT + 1);
	memset(big, 'a', GPU_TOK_MAX_TEXT + 1);
	CHECK_ERR(
	    gpu_tok_encode(t, big, GPU_TOK_MAX_TEXT + 1, 1, toks, 64, &nt),
	    GH_ELIMIT);
	free(big);
	gpu_model_close(m);
}

TEST_T(tokenizer_long_text_is_fast, 60)
{
	gpu_model           *m = tok_model();
	const gpu_tokenizer *t;
	size_t               len  = 200000, nt;
	char                *txt  = malloc(len);
	int32_t             *toks = malloc(sizeof(int32_t) * (len * 3 + 8));
	char                *back = malloc(len + 64);
	uint64_t             rs   = 9;

	CHECK(m != NULL);
	t = gpu_model_tokenizer(m);
	for (size_t i = 0; i < len; i++) {
		uint64_t r = th_rand(&rs) % 8;
		txt[i] = r < 2 ? ' ' : (char) ("thecasmo"[r] + (i % 3 == 0));
	}
	uint64_t t0 = gh_mono_ns();
	CHECK_OK(gpu_tok_encode(t, txt, len, 0, toks, len * 3 + 8, &nt));
	CHECK(gh_mono_ns() - t0 < 5000000000ull);
	size_t k = 0, n;
	for (size_t i = 0; i < nt; i++) {
		CHECK_OK(gpu_tok_decode(t, i ? toks[i - 1] : -1, toks[i],
		    back + k, len + 64 - k, &n));
		k += n;
	}
	CHECK_EQ(k, len);
	CHECK_MEM(back, txt, len);
	free(txt);
	free(toks);
	free(back);
	gpu_model_close(m);
}

TEST(sample_greedy_ties_seeds_and_top_p)
{
	float              lg[6] = { 1.0f, 3.0f, 0.5f, 3.0f, -2.0f, 2.9f };
	gpu_sample_params  sp    = { 0 };
	gpu_sample_scratch sc[12];
	gpu_rng            r1, r2;
	int32_t            a, b;
	int                hist[6] = { 0 };

	gpu_rng_seed(&r1, 5);
	/* Greedy: ties to the lowest index. */
	CHECK_OK(gpu_sample(lg, 6, &sp, &r1, sc, &a));
	CHECK_EQ(a, 1);
	/* Same seed, same sequence; another seed, another one. */
	sp.temperature = 1.0f;
	sp.top_p       = 1.0f;
	gpu_rng_seed(&r1, 77);
	gpu_rng_seed(&r2, 77);
	int32_t s1[64], s2[64], s3[64];
	for (int i = 0; i < 64; i++) {
		CHECK_OK(gpu_sample(lg, 6, &sp, &r1, sc, &s1[i]));
		CHECK_OK(gpu_sample(lg, 6, &sp, &r2, sc, &s2[i]));
	}
	CHECK_MEM(s1, s2, sizeof(s1));
	gpu_rng_seed(&r2, 78);
	for (int i = 0; i < 64; i++) {
		CHECK_OK(gpu_sample(lg, 6, &sp, &r2, sc, &s3[i]));
	}
	CHECK(memcmp(s1, s3, sizeof(s1)) != 0);
	/* The frequencies follow the softmax. */
	gpu_rng_seed(&r1, 1);
	for (int i = 0; i < 20000; i++) {
		CHECK_OK(gpu_sample(lg, 6, &sp, &r1, sc, &a));
		hist[a]++;
	}
	double z = 0;
	for (int i = 0; i < 6; i++) {
		z += exp(lg[i]);
	}
	for (int i = 0; i < 6; i++) {
		double want = 20000 * exp(lg[i]) / z;
		CHECK(fabs(hist[i] - want) < 5 * sqrt(want) + 5);
	}
	/* A tiny top_p keeps one token: the tie goes to the lower id. */
	sp.top_p = 0.01f;
	for (int i = 0; i < 50; i++) {
		CHECK_OK(gpu_sample(lg, 6, &sp, &r1, sc, &b));
		CHECK_EQ(b, 1);
	}
	/* top_k 3 never picks outside {1, 3, 5}. */
	sp.top_p = 1.0f;
	sp.top_k = 3;
	for (int i = 0; i < 500; i++) {
		CHECK_OK(gpu_sample(lg, 6, &sp, &r1, sc, &b));
		CHECK(b == 1 || b == 3 || b == 5);
	}
	/* Bad parameters and logits. */
	sp.top_p = 0.0f;
	CHECK_ERR(gpu_sample(lg, 6, &sp, &r1, sc, &b), GH_EINVAL);
	float bad[2] = { NAN, NAN };
	sp.top_p     = 1.0f;
	CHECK_ERR(gpu_sample(bad, 2, &sp, &r1, sc, &b), GH_EINVAL);
	CHECK_ERR(gpu_sample(lg, 0, &sp, &r1, sc, &b), GH_EINVAL);
}

/* The order gpu_sample uses, written plainly: higher probability first,
 * then the lower id. */
static int
ref_cmp(const void *a, const void *b)
{
	const gpu_sample_scratch *x = a, *y = b;

	if (x->p != y->p) {
		return (x->p > y->p ? -1 : 1);
	}
	return (x->id < y->id ? -1 : x->id > y->id);
}

/* gpu_sample's definition with a plain qsort, for comparison. */
static int32_t
ref_sample(const float *lg, uint32_t n, const gpu_sample_params *sp,
    gpu_rng *r, gpu_sample_scratch *sc)
{
	uint32_t best = 0, keep;
	double   sum = 0, cut, acc = 0, u;

	for (uint32_t i = 1; i < n; i++) {
		best = lg[i] > lg[best] ? i : best;
	}
	for (uint32_t i = 0; i < n; i++) {
		sc[i].p  = exp(((double) lg[i] - lg[best]) / sp->temperature);
		sc[i].id = i;
	}
	qsort(sc, n, sizeof(*sc), ref_cmp);
	keep = sp->top_k > 0 && sp->top_k < n ? sp->top_k : n;
	for (uint32_t i = 0; i < keep; i++) {
		sum += sc[i].p;
	}
	cut = (double) sp->top_p * sum;
	for (uint32_t i = 0; i < keep; i++) {
		acc += sc[i].p;
		if (acc >= cut) {
			keep = i + 1;
			break;
		}
	}
	sum = 0;
	for (uint32_t i = 0; i < keep; i++) {
		sum += sc[i].p;
	}
	u   = (double) (gpu_rng_next(r) >> 11) * 0x1.0p-53 * sum;
	acc = 0;
	for (uint32_t i = 0; i < keep; i++) {
		acc += sc[i].p;
		if (u < acc) {
			return ((int32_t) sc[i].id);
		}
	}
	return ((int32_t) sc[keep - 1].id);
}

/* A large vocabulary with many equal logits and some far below the
 * rest (probability 0): the same draws as the plain definition. */
TEST(sample_matches_the_plain_definition_on_a_large_vocabulary)
{
	const uint32_t      n  = 5000;
	float              *lg = malloc(n * sizeof(float));
	gpu_sample_scratch *sc = malloc(2 * n * sizeof(*sc));
	gpu_sample_scratch *rs = malloc(n * sizeof(*rs));
	gpu_sample_params   sp = { 0 };
	gpu_rng             r1, r2, g;
	const float         temps[] = { 0.3f, 1.0f, 2.5f };
	const float         tops[]  = { 1.0f, 0.9f, 0.5f };
	const uint32_t      ks[]    = { 0, 40, 4999 };

	gpu_rng_seed(&g, 9);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = gpu_rng_next(&g);
		/* 64 distinct values, a few hundred far below */
		lg[i] = (float) (v % 64) * 0.125f - (v % 17 == 0 ? 900.0f : 0);
	}
	for (int c = 0; c < 27; c++) {
		sp.temperature = temps[c % 3];
		sp.top_p       = tops[c / 3 % 3];
		sp.top_k       = ks[c / 9];
		gpu_rng_seed(&r1, (uint64_t) c);
		gpu_rng_seed(&r2, (uint64_t) c);
		for (int i = 0; i < 40; i++) {
			int32_t a, b = ref_sample(lg, n, &sp, &r2, rs);
			CHECK_OK(gpu_sample(lg, n, &sp, &r1, sc, &a));
			CHECK_EQ(a, b);
		}
	}
	free(lg);
	free(sc);
	free(rs);
}
