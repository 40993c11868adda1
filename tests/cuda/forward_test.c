/*
 * forward_test.c - the CPU backend against a plain double-precision
 * llama written here from the file's tensors; determinism across runs,
 * thread counts and token batching.
 */
#include <math.h>
#include <stdlib.h>

#include "cuda/cuda.h"
#include "tests/harness.h"

/* ---- an independent reference ---------------------------------- */

static double
ref_half(uint16_t h)
{
	int    e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0) {
		v = ldexp((double) m, -24);
	} else if (e == 31) {
		v = m ? NAN : INFINITY;
	} else {
		v = ldexp((double) (m | 0x400), e - 25);
	}
	return ((h & 0x8000) ? -v : v);
}

/* A tensor as doubles, dims[0] innermost. */
static double *
ref_tensor(const gpu_gguf *g, const char *name)
{
	const gpu_tensor *t = gpu_gguf_tensor(g, name);
	double           *o;

	if (t == NULL) {
		return (NULL);
	}
	o = malloc(t->nelem * sizeof(double));
	for (uint64_t i = 0; i < t->nelem; i++) {
		const uint8_t *d = t->data;
		if (t->type == GPU_TYPE_F32) {
			float f;
			memcpy(&f, d + 4 * i, 4);
			o[i] = f;
		} else if (t->type == GPU_TYPE_F16) {
			o[i] = ref_half(
			    (uint16_t) (d[2 * i] | d[2 * i + 1] << 8));
		} else {
			const uint8_t *b = d + (i / 32) * 34;
			o[i] = ref_half((uint16_t) (b[0] | b[1] << 8))
			    * (double) (int8_t) b[2 + i % 32];
		}
	}
	return (o);
}

typedef struct {
	uint32_t E, L, F, H, HKV, HD, R, V;
	double   base, eps;
	double  *embd, *onorm, *out;
	double **an, **fn, **wq, **wk, **wv, **wo, **wg, **wu, **wd;
	double  *kc, *vc; /* [L][pos][HKV*HD] */
	uint32_t pos;
} ref_model;

static void
ref_load(ref_model *r, const gpu_model *m, uint32_t nctx)
{
	const gpu_model_info *in = gpu_model_info_get(m);
	const gpu_gguf       *g  = gpu_model_gguf(m);
	char                  nm[80];

	memset(r, 0, sizeof(*r));
	r->E     = in->n_embd;
	r->L     = in->n_layer;
	r->F     = in->n_ff;
	r->H     = in->n_head;
	r->HKV   = in->n_head_kv;
	r->HD    = in->n_embd / in->n_head;
	r->R     = in->rope_dim;
	r->V     = in->n_vocab;
	r->base  = in->rope_base;
	r->eps   = in->norm_eps;
	r->embd  = ref_tensor(g, "token_embd.weight");
	r->onorm = ref_tensor(g, "output_norm.weight");
	r->out   = ref_tensor(g, "output.weight");
	if (r->out == NULL) {
		r->out = ref_tensor(g, "token_embd.weight");
	}
#define RL(field, sfx)                                                        \
	r->field = calloc(r->L, sizeof(double *));                            \
	for (uint32_t l = 0; l < r->L; l++) {                                 \
		snprintf(nm, sizeof(nm), "blk.%u." sfx ".weight", l);         \
		r->field[l] = ref_tensor(g, nm);                              \
	}
	RL(an, "attn_norm")
	RL(fn, "ffn_norm")
	RL(wq, "attn_q")
	RL(wk, "attn_k")
	RL(wv, "attn_v")
	RL(wo, "attn_output")
	RL(wg, "ffn_gate")
	RL(wu, "ffn_up")
	RL(wd, "ffn_down")
#undef RL
	r->kc = calloc((size_t) r->L * nctx * r->HKV * r->HD, sizeof(double));
	r->vc = calloc((size_t) r->L * nctx * r->HKV * r->HD, sizeof(double));
}

static void
ref_free(ref_model *r)
{
	for (uint32_t l = 0; l < r->L; l++) {
		free(r->an[l]);
		free(r->fn[l]);
		free(r->wq[l]);
		free(r->wk[l]);
		free(r->wv[l]);
		free(r->wo[l]);
		free(r->wg[l]);
		free(r->wu[l]);
		free(r->wd[l]);
	}
	free(r->an);
	free(r->fn);
	free(r->wq);
	free(r->wk);
	free(r->wv);
	free(r->wo);
	free(r->wg);
	free(r->wu);
	free(r->wd);
	free(r->embd);
	free(r->onorm);
	free(r->out);
	free(r->kc);
	free(r->vc);
}

/* y[rows] = W x, W stored [rows][cols]. */
static void
ref_mv(
    const double *w, const double *x, uint32_t rows, uint32_t cols, double *y)
{
	for (uint32_t i = 0; i < rows; i++) {
		double s = 0;
		for (uint32_t j = 0; j < cols; j++) {
			s += w[(size_t) i * cols + j] * x[j];
		}
		y[i] = s;
	}
}

static void
ref_norm(const double *x, const double *g, uint32_t n, double eps, double *y)
{
	double ss = 0;
	for (uint32_t i = 0; i < n; i++) {
		ss += x[i] * x[i];
	}
	ss = 1.0 / sqrt(ss / n + eps);
	for (uint32_t i = 0; i < n; i++) {
		y[i] = x[i] * ss * g[i];
	}
}

static void
ref_rope(double *v, uint32_t R, uint32_t pos, double base)
{
	for (uint32_t i = 0; i < R / 2; i++) {
		double a  = pos * pow(base, -2.0 * i / R);
		double x0 = v[2 * i], x1 = v[2 * i + 1];
		v[2 * i]     = x0 * cos(a) - x1 * sin(a);
		v[2 * i + 1] = x0 * sin(a) + x1 * cos(a);
	}
}

/* One token; logits[V] and hidden[E]. */
static void
ref_step(ref_model *r, int32_t tok, double *logits, double *hidden)
{
	uint32_t E = r->E, KV = r->HKV * r->HD, pos = r->pos;
	uint32_t nctx_stride = KV;
	double *x = calloc(E, sizeof(double)), *xb = calloc(E, sizeof(double));
	double *q   = calloc(E, sizeof(double)),
	       *att = calloc(E, sizeof(double));
	double *k   = calloc(KV, sizeof(double)),
	       *v   = calloc(KV, sizeof(double));
	double *g   = calloc(r->F, sizeof(double)),
	       *u   = calloc(r->F, sizeof(double));
	double *sc  = calloc(pos + 1, sizeof(double)),
	       *tmp = calloc(E, sizeof(double));

	memcpy(x, r->embd + (size_t) tok * E, E * sizeof(double));
	for (uint32_t l = 0; l < r->L; l++) {
		double *kc = r->kc + (size_t) l * 4096 * KV;
		double *vc = r->vc + (size_t) l * 4096 * KV;
		ref_norm(x, r->an[l], E, r->eps, xb);
		ref_mv(r->wq[l], xb, E, E, q);
		ref_mv(r->wk[l], xb, KV, E, k);
		ref_mv(r->wv[l], xb, KV, E, v);
		for (uint32_t h = 0; h < r->H; h++) {
			ref_rope(q + h * r->HD, r->R, pos, r->base);
		}
		for (uint32_t h = 0; h < r->HKV; h++) {
			ref_rope(k + h * r->HD, r->R, pos, r->base);
		}
		memcpy(
		    kc + (size_t) pos * nctx_stride, k, KV * sizeof(double));
		memcpy(
		    vc + (size_t) pos * nctx_stride, v, KV * sizeof(double));
		for (uint32_t h = 0; h < r->H; h++) {
			uint32_t kh = h / (r->H / r->HKV);
			double   mx = -INFINITY, sum = 0;
			for (uint32_t j = 0; j <= pos; j++) {
				double s = 0;
				for (uint32_t d = 0; d < r->HD; d++) {
					s += q[h * r->HD + d]
					    * kc[(size_t) j * KV + kh * r->HD
					        + d];
				}
				sc[j] = s / sqrt((double) r->HD);
				mx    = sc[j] > mx ? sc[j] : mx;
			}
			for (uint32_t j = 0; j <= pos; j++) {
				sc[j] = exp(sc[j] - mx);
				sum += sc[j];
			}
			for (uint32_t d = 0; d < r->HD; d++) {
				double o = 0;
				for (uint32_t j = 0; j <= pos; j++) {
					o += sc[j]
					    * vc[(size_t) j * KV + kh * r->HD
					        + d];
				}
				att[h * r->HD + d] = o / sum;
			}
		}
		ref_mv(r->wo[l], att, E, E, tmp);
		for (uint32_t i = 0; i < E; i++) {
			x[i] += tmp[i];
		}
		ref_norm(x, r->fn[l], E, r->eps, xb);
		ref_mv(r->wg[l], xb, r->F, E, g);
		ref_mv(r->wu[l], xb, r->F, E, u);
		for (uint32_t i = 0; i < r->F; i++) {
			g[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
		}
		ref_mv(r->wd[l], g, E, r->F, tmp);
		for (uint32_t i = 0; i < E; i++) {
			x[i] += tmp[i];
		}
	}
	ref_norm(x, r->onorm, E, r->eps, xb);
	memcpy(hidden, xb, E * sizeof(double));
	ref_mv(r->out, xb, r->V, E, logits);
	r->pos++;
	free(x);
	free(xb);
	free(q);
	free(att);
	free(k);
	free(v);
	free(g);
	free(u);
	free(sc);
	free(tmp);
}

/* ---- tests -------------------------------------------------------- */

static int
make_model(const gpu_test_spec *s, gpu_model **m)
{
	uint8_t *p;
	size_t   n;
	char     err[256];
	int      rv;

	if ((rv = gpu_test_model_make(s, &p, &n)) != GH_OK) {
		return (rv);
	}
	rv = gpu_model_from_memory(p, n, 1, m, err, sizeof(err));
	if (rv != GH_OK) {
		fprintf(stderr, "model: %s\n", err);
	}
	return (rv);
}

/* Max |a-b| / max(max|b|, 1e-3) over n values. */
static double
rel_err(const float *a, const double *b, size_t n)
{
	double mx = 1e-3, d = 0;
	for (size_t i = 0; i < n; i++) {
		mx = fabs(b[i]) > mx ? fabs(b[i]) : mx;
	}
	for (size_t i = 0; i < n; i++) {
		double e = fabs((double) a[i] - b[i]);
		d        = e > d ? e : d;
	}
	return (d / mx);
}

static int
check_spec(const gpu_test_spec *s)
{
	gpu_model *m = NULL;
	gpu_ctx   *c = NULL;
	ref_model  r;
	char       err[256];
	int        ok = 0;
	enum { NP = 7, NG = 5 };
	int32_t toks[NP + NG] = { 1, 300, 17, 42, 400, 5, 261 };

	if (make_model(s, &m) != GH_OK) {
		return (0);
	}
	const gpu_model_info *in = gpu_model_info_get(m);
	uint32_t              V = in->n_vocab, E = in->n_embd;
	float                *lg = malloc((size_t) NP * V * sizeof(float));
	float                *hd = malloc((size_t) NP * E * sizeof(float));
	double               *rl = malloc((size_t) V * sizeof(double));
	double               *rh = malloc((size_t) E * sizeof(double));

	ref_load(&r, m, 4096);
	if (gpu_ctx_new(m, GPU_BACKEND_CPU, 64, 2, &c, err, sizeof(err))
	    != GH_OK) {
		goto out;
	}
	if (gpu_ctx_forward(c, toks, NP, lg, 1, hd, NULL) != GH_OK) {
		goto out;
	}
	for (int t = 0; t < NP; t++) {
		ref_step(&r, toks[t], rl, rh);
		double el = rel_err(lg + (size_t) t * V, rl, V);
		double eh = rel_err(hd + (size_t) t * E, rh, E);
		if (!(el < 1e-4) || !(eh < 1e-4)) {
			fprintf(stderr, "pos %d: logits %g hidden %g\n", t, el,
			    eh);
			goto out;
		}
	}
	/* Decode, one token at a time, fed with the reference's argmax. */
	for (int t = NP; t < NP + NG; t++) {
		uint32_t best = 0;
		for (uint32_t i = 1; i < V; i++) {
			best = rl[i] > rl[best] ? i : best;
		}
		toks[t] = (int32_t) best;
		if (gpu_ctx_forward(c, &toks[t], 1, lg, 0, hd, NULL)
		    != GH_OK) {
			goto out;
		}
		ref_step(&r, toks[t], rl, rh);
		double el = rel_err(lg, rl, V);
		if (!(el < 1e-4)) {
			fprintf(stderr, "decode %d: logits %g\n", t, el);
			goto out;
		}
	}
	ok = 1;
out:
	ref_free(&r);
	free(lg);
	free(hd);
	free(rl);
	free(rh);
	gpu_ctx_free(c);
	gpu_model_close(m);
	return (ok);
}

TEST(forward_matches_double_reference_f32_gqa_untied)
{
	gpu_test_spec s;
	gpu_test_spec_default(&s);
	CHECK(check_spec(&s));
}

TEST(forward_matches_double_reference_f16_mha_tied)
{
	gpu_test_spec s;
	gpu_test_spec_default(&s);
	s.wtype     = GPU_TYPE_F16;
	s.embd_type = GPU_TYPE_F16;
	s.n_head_kv = s.n_head;
	s.tied      = 1;
	s.seed      = 7;
	CHECK(check_spec(&s));
}

TEST(forward_matches_double_reference_q8_0)
{
	gpu_test_spec s;
	gpu_test_spec_default(&s);
	s.wtype     = GPU_TYPE_Q8_0;
	s.embd_type = GPU_TYPE_Q8_0;
	s.n_head    = 8;
	s.n_head_kv = 2;
	s.n_embd    = 128;
	s.n_ff      = 320;
	s.tied      = 1;
	s.seed      = 11;
	CHECK(check_spec(&s));
	s.tied      = 0;
	s.embd_type = GPU_TYPE_F32;
	s.n_head_kv = 8;
	s.rope_dim  = 8; /* partial rotary */
	s.n_layer   = 3;
	s.seed      = 12;
	CHECK(check_spec(&s));
}

TEST(forward_odd_sizes_and_tails)
{
	gpu_test_spec s;
	gpu_test_spec_default(&s);
	/* 3 heads of 30: rows of 90 and 50 leave tails after 16 lanes. */
	s.n_embd    = 90;
	s.n_head    = 3;
	s.n_head_kv = 1;
	s.n_ff      = 50;
	s.rope_base = 500.0f;
	s.seed      = 3;
	CHECK(check_spec(&s));
}

/* Runs a prompt then greedy decode; returns the tokens and the last
 * logits' bytes. */
static int
greedy(const gpu_model *m, int threads, int batch, int32_t *out, int ngen,
    float *last_logits, float *hid)
{
	gpu_ctx          *c = NULL;
	char              err[128];
	uint32_t          V         = gpu_model_info_get(m)->n_vocab;
	int32_t           prompt[6] = { 1, 260, 300, 301, 77, 400 };
	gpu_sample_params gp        = { 0 };
	gpu_rng           rng;
	int               rv;

	gpu_rng_seed(&rng, 0);
	if ((rv = gpu_ctx_new(
	         m, GPU_BACKEND_CPU, 64, threads, &c, err, sizeof(err)))
	    != GH_OK) {
		return (rv);
	}
	if (batch) {
		rv = gpu_ctx_forward(c, prompt, 6, last_logits, 0, NULL, NULL);
	} else {
		for (int i = 0; i < 6 && rv == GH_OK; i++) {
			rv = gpu_ctx_forward(
			    c, &prompt[i], 1, last_logits, 0, NULL, NULL);
		}
	}
	for (int i = 0; i < ngen && rv == GH_OK; i++) {
		rv = gpu_sample(last_logits, V, &gp, &rng, NULL, &out[i]);
		if (rv == GH_OK) {
			rv = gpu_ctx_forward(
			    c, &out[i], 1, last_logits, 0, hid, NULL);
		}
	}
	gpu_ctx_free(c);
	return (rv);
}

TEST(forward_bit_identical_across_threads_runs_and_batching)
{
	gpu_test_spec s;
	gpu_model    *m = NULL;
	int32_t       a[12], b[12];
	float        *la, *lb, ha[128], hb[128];

	gpu_test_spec_default(&s);
	s.wtype = GPU_TYPE_Q8_0;
	s.n_ff  = 192;
	CHECK_OK(make_model(&s, &m));
	uint32_t V = gpu_model_info_get(m)->n_vocab;
	la         = malloc(V * sizeof(float));
	lb         = malloc(V * sizeof(float));
	CHECK_OK(greedy(m, 1, 1, a, 12, la, ha));
	int threads[] = { 1, 2, 3, 4 };
	for (int t = 0; t < 4; t++) {
		for (int batch = 0; batch < 2; batch++) {
			CHECK_OK(greedy(m, threads[t], batch, b, 12, lb, hb));
			CHECK_MEM(a, b, sizeof(a));
			CHECK_MEM(la, lb, V * sizeof(float));
			CHECK_MEM(ha, hb, 64 * sizeof(float));
		}
	}
	free(la);
	free(lb);
	gpu_model_close(m);
}

TEST(forward_teacher_forcing_chunks_and_errors)
{
	gpu_test_spec s;
	gpu_model    *m = NULL;
	gpu_ctx      *c = NULL;
	char          err[128];
	int32_t       toks[40];
	float        *all, *part, *h1, *h2;
	uint64_t      ns = 0;

	gpu_test_spec_default(&s);
	CHECK_OK(make_model(&s, &m));
	uint32_t V = gpu_model_info_get(m)->n_vocab, E = 64;
	for (int i = 0; i < 40; i++) {
		toks[i] = (int32_t) ((i * 131 + 7) % V);
	}
	all  = malloc((size_t) 40 * V * sizeof(float));
	part = malloc((size_t) 40 * V * sizeof(float));
	h1   = malloc((size_t) 40 * E * sizeof(float));
	h2   = malloc((size_t) 40 * E * sizeof(float));
	CHECK_OK(gpu_ctx_new(m, GPU_BACKEND_CPU, 40, 2, &c, err, sizeof(err)));
	/* 40 tokens in one pass (two chunks inside) ... */
	CHECK_OK(gpu_ctx_forward(c, toks, 40, all, 1, h1, &ns));
	CHECK_EQ(gpu_ctx_pos(c), 40);
	CHECK(ns > 0); /* CPU time of the pass */
	/* ... equal to 8 then 32 tokens. */
	gpu_ctx_reset(c);
	CHECK_OK(gpu_ctx_forward(c, toks, 8, part, 1, h2, NULL));
	CHECK_OK(gpu_ctx_forward(
	    c, toks + 8, 32, part + (size_t) 8 * V, 1, h2 + 8 * E, NULL));
	CHECK_MEM(all, part, (size_t) 40 * V * sizeof(float));
	CHECK_MEM(h1, h2, (size_t) 40 * E * sizeof(float));
	/* The cache is full; bad ids are refused. */
	CHECK_ERR(gpu_ctx_forward(c, toks, 1, part, 0, NULL, NULL), GH_ELIMIT);
	gpu_ctx_reset(c);
	int32_t bad = (int32_t) V;
	CHECK_ERR(gpu_ctx_forward(c, &bad, 1, part, 0, NULL, NULL), GH_EINVAL);
	bad = -1;
	CHECK_ERR(gpu_ctx_forward(c, &bad, 1, part, 0, NULL, NULL), GH_EINVAL);
	CHECK_EQ(gpu_ctx_pos(c), 0);
	/* FLOPs grow with the position by the attention term. */
	CHECK(gpu_model_flops(m, 10) > gpu_model_flops(m, 0));
	CHECK_EQ(
	    gpu_model_flops(m, 1) - gpu_model_flops(m, 0), 2ull * 2 * 64 * 2);
	free(all);
	free(part);
	free(h1);
	free(h2);
	gpu_ctx_free(c);
	gpu_model_close(m);
}

TEST(model_hash_depends_on_every_weight)
{
	gpu_test_spec s;
	gpu_model    *m = NULL;
	uint8_t      *p;
	size_t        n;
	gh_hash       h1, h2, h3;
	char          err[128];

	gpu_test_spec_default(&s);
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	CHECK_OK(gpu_model_from_memory(p, n, 0, &m, err, sizeof(err)));
	CHECK_OK(gpu_model_hash(m, &h1));
	CHECK_OK(gpu_model_hash(m, &h2));
	CHECK_MEM(h1.b, h2.b, 32);
	/* One bit of one weight of the last layer. */
	const gpu_tensor *t
	    = gpu_gguf_tensor(gpu_model_gguf(m), "blk.1.ffn_down.weight");
	CHECK(t != NULL);
	size_t at = (size_t) (t->data - p) + 5;
	gpu_model_close(m);
	p[at] ^= 1;
	CHECK_OK(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)));
	CHECK_OK(gpu_model_hash(m, &h3));
	CHECK(memcmp(h1.b, h3.b, 32) != 0);
	gpu_model_close(m);
	/* Another seed, another hash; the same seed, the same hash. */
	s.seed = 2;
	CHECK_OK(make_model(&s, &m));
	CHECK_OK(gpu_model_hash(m, &h3));
	CHECK(memcmp(h1.b, h3.b, 32) != 0);
	gpu_model_close(m);
	s.seed = 1;
	CHECK_OK(make_model(&s, &m));
	CHECK_OK(gpu_model_hash(m, &h3));
	CHECK_MEM(h1.b, h3.b, 32);
	gpu_model_close(m);
}

/* Every kernel variant of this CPU gives the same bits. */
TEST(forward_identical_across_instruction_sets)
{
	gpu_test_spec s;
	gpu_model    *m     = NULL;
	const char   *isa[] = { "generic", "avx2", "avx512" };
	float        *l[3], h[3][128];
	int32_t       out[3][10];
	gpu_type      types[] = { GPU_TYPE_Q8_0, GPU_TYPE_F16, GPU_TYPE_F32 };

	for (int ty = 0; ty < 3; ty++) {
		gpu_test_spec_default(&s);
		s.wtype     = types[ty];
		s.n_ff      = 192;
		s.n_embd    = 96;
		s.n_head    = 6;
		s.n_head_kv = 3;
		CHECK_OK(make_model(&s, &m));
		uint32_t V = gpu_model_info_get(m)->n_vocab;
		for (int i = 0; i < 3; i++) {
			l[i] = malloc(V * sizeof(float));
			setenv("GPUHOUR_CPU_ISA", isa[i], 1);
			CHECK_OK(greedy(m, 2, 1, out[i], 10, l[i], h[i]));
		}
		unsetenv("GPUHOUR_CPU_ISA");
		for (int i = 1; i < 3; i++) {
			CHECK_MEM(out[0], out[i], sizeof(out[0]));
			CHECK_MEM(l[0], l[i], V * sizeof(float));
			CHECK_MEM(h[0], h[i], 96 * sizeof(float));
		}
		for (int i = 0; i < 3; i++) {
			free(l[i]);
		}
		gpu_model_close(m);
	}
}
