/*
 * cpu.c - the CPU backend, the reference every other backend and every
 * audit is compared with.
 *
 * Determinism: every output element is computed by one thread, by one
 * function, in one order, so results do not depend on the thread count
 * or on how a pass is split into tokens.  Dot products use 16 lanes
 * (element i into lane i % 16, a fixed pairwise sum of the lanes, then
 * the tail in order), written with GCC vector extensions: every
 * instruction set clone computes the same IEEE operations in the same
 * order, and floating-point contraction stays off (-std=c17).  For
 * instruction-level parallelism, chunk j of 16 elements (or Q8_0 block
 * j) accumulates into accumulator j % 4; the four are summed as
 * (a0 + a1) + (a2 + a3) before the lanes.  A Q8_0 block is the one
 * place with fused multiply-adds, written out (fmaf in the generic
 * variant, which rounds once like the instruction): lane by lane
 * u = q0 * x0, u = fma(q1, x1, u), acc = fma(scale, u, acc).  Variants
 * that use fma instructions need the CPU to have them.
 */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/priv.h"

#ifdef __clang__
#pragma clang fp contract(off)
#endif

#define CPU_BATCH 32u /* tokens per chunk of a pass */

typedef void (*cpu_matmul_fn)(const gpu_mat *const *m, float *const *out,
    int nm, const float *x, uint32_t nt, int nth);

/* The kernels, once per instruction set.  Each variant performs the
 * same IEEE operations in the same order: only the instructions that
 * carry them differ, and every conversion they use is exact. */
#define CPU_SFX(name) name##_generic
#include "cuda/cpu_kern.h"
#undef CPU_SFX

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define CPU_SFX(name) name##_avx2
#define CPU_AVX2
#include "cuda/cpu_kern.h"
#undef CPU_AVX2
#undef CPU_SFX
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx512f,fma,f16c")
#define CPU_SFX(name) name##_avx512
#define CPU_AVX512
#include "cuda/cpu_kern.h"
#undef CPU_AVX512
#undef CPU_SFX
#pragma GCC pop_options
#define CPU_HAVE_X86 1
#endif

/* The kernel variant for this CPU; GPUHOUR_CPU_ISA=generic|avx2|avx512
 * picks one (for tests that compare them). */
static cpu_matmul_fn
cpu_pick(void)
{
	const char *want = getenv("GPUHOUR_CPU_ISA");

	if (want != NULL && strcmp(want, "generic") == 0) {
		return (cpu_matmul_generic);
	}
#ifdef CPU_HAVE_X86
	__builtin_cpu_init();
	if ((want == NULL || strcmp(want, "avx512") == 0)
	    && __builtin_cpu_supports("avx512f")
	    && __builtin_cpu_supports("fma")
	    && __builtin_cpu_supports("f16c")) {
		return (cpu_matmul_avx512);
	}
	if ((want == NULL || strcmp(want, "avx2") == 0
	        || strcmp(want, "avx512") == 0)
	    && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
	    && __builtin_cpu_supports("f16c")) {
		return (cpu_matmul_avx2);
	}
#endif
	return (cpu_matmul_generic);
}

typedef struct {
	cpu_matmul_fn      matmul;
	const gpu_weights *w;
	uint32_t           n_ctx;
	int                nth;
	uint32_t           kvdim;
	float             *kcache, *vcache; /* [layer][pos][kvdim] */
	/* Scratch for CPU_BATCH tokens. */
	float *x, *xb, *q, *k, *v, *att, *hb, *hb2, *rope;
	float *scores; /* [thread][n_ctx] */
} cpu_state;

static void
cpu_destroy(void *p)
{
	cpu_state *s = p;

	if (s == NULL) {
		return;
	}
	free(s->kcache);
	free(s->vcache);
	free(s->x);
	free(s->xb);
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->att);
	free(s->hb);
	free(s->hb2);
	free(s->rope);
	free(s->scores);
	free(s);
}

/* Not cleared: every position of the cache is written before it is
 * read, and a large cache should not be touched before use. */
static float *
cpu_alloc(size_t n)
{
	void *p = NULL;
	if (n > SIZE_MAX / sizeof(float)
	    || posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) != 0) {
		return (NULL);
	}
	return (p);
}

static int
cpu_create(const gpu_weights *w, uint32_t n_ctx, int n_threads, void **out,
    char *err, size_t errcap)
{
	cpu_state *s;
	size_t     B = CPU_BATCH, kv;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (GPU_BE_ENOMEM);
	}
	s->matmul = cpu_pick();
	s->w      = w;
	s->n_ctx  = n_ctx;
	s->nth    = n_threads > 0 ? n_threads : omp_get_max_threads();
	s->kvdim  = w->n_head_kv * w->head_dim;
	kv        = (size_t) w->n_layer * n_ctx * s->kvdim;
	if ((s->kcache = cpu_alloc(kv)) == NULL
	    || (s->vcache = cpu_alloc(kv)) == NULL
	    || (s->x = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->xb = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->q = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->k = cpu_alloc(B * s->kvdim)) == NULL
	    || (s->v = cpu_alloc(B * s->kvdim)) == NULL
	    || (s->att = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->hb = cpu_alloc(B * w->n_ff)) == NULL
	    || (s->hb2 = cpu_alloc(B * w->n_ff)) == NULL
	    || (s->rope = cpu_alloc(B * w->rope_dim)) == NULL
	    || (s->scores = cpu_alloc((size_t) s->nth * n_ctx)) == NULL) {
		gpu_errf(err, errcap, "cannot allocate the KV cache");
		cpu_destroy(s);
		return (GPU_BE_ENOMEM);
	}
	*out = s;
	return (GPU_BE_OK);
}

/* Up to three matrices of the same input in one parallel loop. */
static void
cpu_mm3(cpu_state *s, const gpu_mat *m0, float *o0, const gpu_mat *m1,
    float *o1, const gpu_mat *m2, float *o2, const float *x, uint32_t nt)
{
	const gpu_mat *m[3] = { m0, m1, m2 };
	float         *o[3] = { o0, o1, o2 };

	s->matmul(m, o, m2 != NULL ? 3 : (m1 != NULL ? 2 : 1), x, nt, s->nth);
}

static void
cpu_rmsnorm(const float *x, const float *g, uint32_t n, float eps, float *y)
{
	float ss    = cpu_dot_f32_generic(x, x, n);
	float scale = 1.0f / sqrtf(ss / (float) n + eps);

	for (uint32_t i = 0; i < n; i++) {
		y[i] = (x[i] * scale) * g[i];
	}
}

/* Adjacent pairs (x[2i], x[2i+1]) turn by pos * base^(-2i/rope_dim). */
static void
cpu_rope_table(uint32_t pos, uint32_t rope_dim, float base, float *cs)
{
	for (uint32_t i = 0; i < rope_dim / 2; i++) {
		double f  = pow((double) base, -2.0 * i / (double) rope_dim);
		double a  = (double) pos * f;
		cs[2 * i] = (float) cos(a);
		cs[2 * i + 1] = (float) sin(a);
	}
}

static void
cpu_rope(float *x, uint32_t rope_dim, const float *cs)
{
	for (uint32_t i = 0; i < rope_dim / 2; i++) {
		float x0 = x[2 * i], x1 = x[2 * i + 1];
		float c = cs[2 * i], s = cs[2 * i + 1];
		x[2 * i]     = x0 * c - x1 * s;
		x[2 * i + 1] = x0 * s + x1 * c;
	}
}

static void
cpu_attention(cpu_state *s, uint32_t l, uint32_t nt, uint32_t pos0)
{
	const gpu_weights *w     = s->w;
	const uint32_t     hd    = w->head_dim;
	const uint32_t     group = w->n_head / w->n_head_kv;
	const float        scale = 1.0f / sqrtf((float) hd);
	const float       *kc = s->kcache + (size_t) l * s->n_ctx * s->kvdim;
	const float       *vc = s->vcache + (size_t) l * s->n_ctx * s->kvdim;
	const int64_t      items = (int64_t) nt * w->n_head;

#pragma omp parallel for num_threads(s->nth) schedule(static)
	for (int64_t it = 0; it < items; it++) {
		uint32_t     t   = (uint32_t) (it / w->n_head);
		uint32_t     h   = (uint32_t) (it % w->n_head);
		uint32_t     kvh = h / group, npos = pos0 + t + 1;
		const float *q = s->q + (size_t) t * w->n_embd + h * hd;
		float       *o = s->att + (size_t) t * w->n_embd + h * hd;
		float       *sc
		    = s->scores + (size_t) omp_get_thread_num() * s->n_ctx;
		float mx = -INFINITY, sum = 0.0f;

		for (uint32_t j = 0; j < npos; j++) {
			sc[j] = cpu_dot_f32_generic(q,
			            kc + (size_t) j * s->kvdim + kvh * hd, hd)
			    * scale;
			mx = sc[j] > mx ? sc[j] : mx;
		}
		for (uint32_t j = 0; j < npos; j++) {
			sc[j] = expf(sc[j] - mx);
			sum   = sum + sc[j];
		}
		for (uint32_t d = 0; d < hd; d++) {
			o[d] = 0.0f;
		}
		for (uint32_t j = 0; j < npos; j++) {
			const float *v = vc + (size_t) j * s->kvdim + kvh * hd;
			for (uint32_t d = 0; d < hd; d++) {
				o[d] = o[d] + sc[j] * v[d];
			}
		}
		for (uint32_t d = 0; d < hd; d++) {
			o[d] = o[d] / sum;
		}
	}
}

/* One chunk of at most CPU_BATCH tokens. */
static void
cpu_chunk(cpu_state *s, const float *xin, uint32_t nt, uint32_t pos0,
    float *logits, int all_logits, float *hidden)
{
	const gpu_weights *w = s->w;
	const uint32_t     E = w->n_embd, KV = s->kvdim, F = w->n_ff;
	const uint32_t     hd = w->head_dim;

	memcpy(s->x, xin, (size_t) nt * E * sizeof(float));
	for (uint32_t t = 0; t < nt; t++) {
		cpu_rope_table(pos0 + t, w->rope_dim, w->rope_base,
		    s->rope + (size_t) t * w->rope_dim);
	}
	for (uint32_t l = 0; l < w->n_layer; l++) {
		const gpu_layer *L = &w->layers[l];
		for (uint32_t t = 0; t < nt; t++) {
			cpu_rmsnorm(s->x + (size_t) t * E, L->attn_norm, E,
			    w->norm_eps, s->xb + (size_t) t * E);
		}
		cpu_mm3(
		    s, &L->wq, s->q, &L->wk, s->k, &L->wv, s->v, s->xb, nt);
		for (uint32_t t = 0; t < nt; t++) {
			const float *cs = s->rope + (size_t) t * w->rope_dim;
			for (uint32_t h = 0; h < w->n_head; h++) {
				cpu_rope(s->q + (size_t) t * E + h * hd,
				    w->rope_dim, cs);
			}
			for (uint32_t h = 0; h < w->n_head_kv; h++) {
				cpu_rope(s->k + (size_t) t * KV + h * hd,
				    w->rope_dim, cs);
			}
			size_t at = ((size_t) l * s->n_ctx + pos0 + t) * KV;
			memcpy(s->kcache + at, s->k + (size_t) t * KV,
			    KV * sizeof(float));
			memcpy(s->vcache + at, s->v + (size_t) t * KV,
			    KV * sizeof(float));
		}
		cpu_attention(s, l, nt, pos0);
		cpu_mm3(s, &L->wo, s->xb, NULL, NULL, NULL, NULL, s->att, nt);
		for (size_t i = 0; i < (size_t) nt * E; i++) {
			s->x[i] = s->x[i] + s->xb[i];
		}
		for (uint32_t t = 0; t < nt; t++) {
			cpu_rmsnorm(s->x + (size_t) t * E, L->ffn_norm, E,
			    w->norm_eps, s->xb + (size_t) t * E);
		}
		cpu_mm3(s, &L->wgate, s->hb, &L->wup, s->hb2, NULL, NULL,
		    s->xb, nt);
		for (size_t i = 0; i < (size_t) nt * F; i++) {
			float g  = s->hb[i];
			s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
		}
		cpu_mm3(
		    s, &L->wdown, s->xb, NULL, NULL, NULL, NULL, s->hb, nt);
		for (size_t i = 0; i < (size_t) nt * E; i++) {
			s->x[i] = s->x[i] + s->xb[i];
		}
	}
	for (uint32_t t = 0; t < nt; t++) {
		cpu_rmsnorm(s->x + (size_t) t * E, w->out_norm, E, w->norm_eps,
		    s->xb + (size_t) t * E);
	}
	if (hidden != NULL) {
		memcpy(hidden, s->xb, (size_t) nt * E * sizeof(float));
	}
	if (logits != NULL && all_logits) {
		cpu_mm3(s, &w->out, logits, NULL, NULL, NULL, NULL, s->xb, nt);
	} else if (logits != NULL) {
		cpu_mm3(s, &w->out, logits, NULL, NULL, NULL, NULL,
		    s->xb + (size_t) (nt - 1) * E, 1);
	}
}

static uint64_t
cpu_time_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec);
}

static int
cpu_forward(void *p, const float *x, uint32_t n, uint32_t pos0, float *logits,
    int all_logits, float *hidden, uint64_t *device_ns)
{
	cpu_state     *s = p;
	const uint32_t E = s->w->n_embd, V = s->w->n_vocab;
	uint64_t       t0 = cpu_time_ns();

	if (n == 0 || pos0 > s->n_ctx || n > s->n_ctx - pos0) {
		return (GPU_BE_LIMIT);
	}
	for (uint32_t c = 0; c < n; c += CPU_BATCH) {
		uint32_t nt   = n - c < CPU_BATCH ? n - c : CPU_BATCH;
		int      last = c + nt == n;
		float   *lg   = NULL;
		if (logits != NULL && all_logits) {
			lg = logits + (size_t) c * V;
		} else if (logits != NULL && last) {
			lg = logits;
		}
		cpu_chunk(s, x + (size_t) c * E, nt, pos0 + c, lg, all_logits,
		    hidden != NULL ? hidden + (size_t) c * E : NULL);
	}
	if (device_ns != NULL) {
		*device_ns = cpu_time_ns() - t0;
	}
	return (GPU_BE_OK);
}

const gpu_backend_ops gpu_cpu_ops = {
	.name    = "cpu",
	.create  = cpu_create,
	.destroy = cpu_destroy,
	.forward = cpu_forward,
};
