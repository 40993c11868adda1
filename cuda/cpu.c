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
 * that use fma instructions need the CPU to have them.  The exponentials
 * (SwiGLU, softmax) are the project's own polynomial, written with the
 * same vector operations in every variant, not libm's expf.
 *
 * Threads: one OpenMP team per chunk of tokens, not one per matrix
 * (a fork and join costs more than a barrier).  Each matrix is split
 * into one contiguous row range per thread; barriers stand only where a
 * step needs all of the previous one (five per layer).  Every thread
 * keeps its own copy of the residual stream and computes the norms
 * itself, so no thread idles while another does the small steps.
 * Before a barrier a thread asks for the start of its next range, so
 * its memory stream does not start cold.  The split follows the weight
 * bytes per second each thread managed in earlier chunks.
 *
 * Thread rules: a context is used by one caller at a time.
 */
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/priv.h"

#ifdef __clang__
#pragma clang fp contract(off)
#endif

#define CPU_BATCH 32u /* tokens per chunk of a pass */

/* The kernels of one instruction set. */
typedef struct {
	void (*rows)(const gpu_mat *m, uint32_t r0, uint32_t r1,
	    const float *x, uint32_t nt, float *out);
	void (*head)(const float *q, const float *k, const float *v,
	    size_t stride, uint32_t npos, uint32_t hd, float scale, float *sc,
	    float *o);
	void (*swiglu)(float *g, const float *u, size_t n);
} cpu_kernels;

/* Every half as a float: a Q8_0 block's scale is one load, no
 * conversion instruction in the hot loop (real models use a few
 * thousand of the values, a few kilobytes of the table). */
static float          cpu_h2f_tab[65536];
static pthread_once_t cpu_tab_once = PTHREAD_ONCE_INIT;

static void
cpu_tab_init(void)
{
	for (uint32_t h = 0; h < 65536; h++) {
		cpu_h2f_tab[h] = gpu_h2f((uint16_t) h);
	}
}

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
static const cpu_kernels cpu_k_avx2
    = { cpu_rows_avx2, cpu_head_avx2, cpu_swiglu_avx2 };
static const cpu_kernels cpu_k_avx512
    = { cpu_rows_avx512, cpu_head_avx512, cpu_swiglu_avx512 };
#endif
static const cpu_kernels cpu_k_generic
    = { cpu_rows_generic, cpu_head_generic, cpu_swiglu_generic };

/* The kernel variant for this CPU; GPUHOUR_CPU_ISA=generic|avx2|avx512
 * picks one (for tests that compare them). */
static const cpu_kernels *
cpu_pick(void)
{
	const char *want = getenv("GPUHOUR_CPU_ISA");

	if (want != NULL && strcmp(want, "generic") == 0) {
		return (&cpu_k_generic);
	}
#ifdef CPU_HAVE_X86
	__builtin_cpu_init();
	if ((want == NULL || strcmp(want, "avx512") == 0)
	    && __builtin_cpu_supports("avx512f")
	    && __builtin_cpu_supports("fma")
	    && __builtin_cpu_supports("f16c")) {
		return (&cpu_k_avx512);
	}
	if ((want == NULL || strcmp(want, "avx2") == 0
	        || strcmp(want, "avx512") == 0)
	    && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
	    && __builtin_cpu_supports("f16c")) {
		return (&cpu_k_avx2);
	}
#endif
	return (&cpu_k_generic);
}

typedef struct {
	const cpu_kernels *kern;
	const gpu_weights *w;
	uint32_t           n_ctx;
	int                nth;
	uint32_t           kvdim;
	float             *kcache, *vcache; /* [layer][pos][kvdim] */
	/* Scratch for CPU_BATCH tokens, shared by the threads. */
	float *q, *k, *v, *att, *xo, *hb, *hb2, *rope;
	/* Per thread: the residual stream and its normalized copy (every
	 * thread keeps the same values, computed the same way), and the
	 * attention scores. */
	float *xt, *xbt; /* [thread][CPU_BATCH * n_embd] */
	float *scores;   /* [thread][n_ctx] */
	/* The split of the rows between the threads: thread i takes the
	 * fraction cut[i + 1] - cut[i] of every matrix, in proportion to
	 * the weight bytes per second it managed in earlier chunks (the
	 * cores of a shared machine are rarely equal).  Which thread
	 * computes a row changes no bit. */
	double *cut;  /* [nth + 1] */
	double *busy; /* [thread] seconds in matrix products this chunk */
	double *done; /* [thread] weight bytes read this chunk */
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
	free(s->q);
	free(s->k);
	free(s->v);
	free(s->att);
	free(s->xo);
	free(s->hb);
	free(s->hb2);
	free(s->rope);
	free(s->xt);
	free(s->xbt);
	free(s->scores);
	free(s->cut);
	free(s->busy);
	free(s->done);
	free(s);
}

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
	size_t     B = CPU_BATCH, kv, nth;

	*out = NULL;
	pthread_once(&cpu_tab_once, cpu_tab_init);
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (GPU_BE_ENOMEM);
	}
	s->kern  = cpu_pick();
	s->w     = w;
	s->n_ctx = n_ctx;
	s->nth   = n_threads > 0 ? n_threads : omp_get_max_threads();
	s->kvdim = w->n_head_kv * w->head_dim;
	kv       = (size_t) w->n_layer * n_ctx * s->kvdim;
	nth      = (size_t) s->nth;
	if ((s->kcache = cpu_alloc(kv)) == NULL
	    || (s->vcache = cpu_alloc(kv)) == NULL
	    || (s->q = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->k = cpu_alloc(B * s->kvdim)) == NULL
	    || (s->v = cpu_alloc(B * s->kvdim)) == NULL
	    || (s->att = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->xo = cpu_alloc(B * w->n_embd)) == NULL
	    || (s->hb = cpu_alloc(B * w->n_ff)) == NULL
	    || (s->hb2 = cpu_alloc(B * w->n_ff)) == NULL
	    || (s->rope = cpu_alloc(B * w->rope_dim)) == NULL
	    || (s->xt = cpu_alloc(nth * B * w->n_embd)) == NULL
	    || (s->xbt = cpu_alloc(nth * B * w->n_embd)) == NULL
	    || (s->scores = cpu_alloc(nth * n_ctx)) == NULL
	    || (s->cut = calloc(nth + 1, sizeof(double))) == NULL
	    || (s->busy = calloc(nth, sizeof(double))) == NULL
	    || (s->done = calloc(nth, sizeof(double))) == NULL) {
		gpu_errf(err, errcap, "cannot allocate the KV cache");
		cpu_destroy(s);
		return (GPU_BE_ENOMEM);
	}
	for (size_t i = 0; i <= nth; i++) {
		s->cut[i] = (double) i / (double) nth;
	}
	/* The cache's pages are faulted in now, by the threads, rather
	 * than a few at each token of the first pass (a page fault costs
	 * more than the token's arithmetic on them). */
#pragma omp parallel for num_threads(s->nth) schedule(static)
	for (size_t i = 0; i < kv; i += 1024) {
		size_t n = kv - i < 1024 ? kv - i : 1024;
		memset(s->kcache + i, 0, n * sizeof(float));
		memset(s->vcache + i, 0, n * sizeof(float));
	}
	*out = s;
	return (GPU_BE_OK);
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

/* RoPE on the pairs that start in [r0, r1) of a vector of heads of hd
 * elements (r0 even; each pair lies inside one head). */
static void
cpu_rope(float *x, uint32_t r0, uint32_t r1, uint32_t hd, uint32_t rope_dim,
    const float *cs)
{
	for (uint32_t r = r0; r < r1; r += 2) {
		uint32_t d = r % hd;
		if (d >= rope_dim) {
			continue;
		}
		float x0 = x[r], x1 = x[r + 1];
		float c = cs[d], sn = cs[d + 1];
		x[r]     = x0 * c - x1 * sn;
		x[r + 1] = x0 * sn + x1 * c;
	}
}

/* Where thread k's share of n items starts: cut[k] of them (k / nth
 * when cut is NULL), rounded down to a multiple of align; the last
 * thread ends at n. */
static uint32_t
cpu_edge(const double *cut, uint32_t n, uint32_t align, int k, int nth)
{
	uint64_t units = ((uint64_t) n + align - 1) / align;
	uint64_t e;

	if (k >= nth) {
		return (n);
	}
	if (cut == NULL) {
		e = units * (uint64_t) k / (uint64_t) nth * align;
	} else {
		e = (uint64_t) ((double) units * cut[k]) * align;
	}
	return ((uint32_t) (e < n ? e : n));
}

/* Thread tid's share [*r0, *r1) of n items: contiguous, in thread
 * order, each boundary a multiple of align. */
static void
cpu_part(const double *cut, uint32_t n, uint32_t align, int tid, int nth,
    uint32_t *r0, uint32_t *r1)
{
	*r0 = cpu_edge(cut, n, align, tid, nth);
	*r1 = cpu_edge(cut, n, align, tid + 1, nth);
}

/* Moves the split a quarter of the way toward equal finishing times,
 * each thread's share kept between half and twice an even one. */
static void
cpu_rebalance(cpu_state *s)
{
	double speed[64], total = 0, share, c = 0;
	int    n = s->nth, ok = n >= 2 && n <= 64;

	for (int i = 0; ok && i < n; i++) {
		ok       = s->busy[i] > 0 && s->done[i] > 0;
		speed[i] = ok ? s->done[i] / s->busy[i] : 0;
		total += speed[i];
	}
	for (int i = 0; ok && i < n; i++) {
		share     = speed[i] / total;
		share     = share < 0.5 / n ? 0.5 / n : share;
		share     = share > 2.0 / n ? 2.0 / n : share;
		share     = 0.75 * (s->cut[i + 1] - s->cut[i]) + 0.25 * share;
		s->cut[i] = c;
		c += share;
	}
	for (int i = 1; ok && i < n; i++) {
		s->cut[i] /= c;
	}
	for (int i = 0; i < n; i++) {
		s->busy[i] = s->done[i] = 0;
	}
}

/* Not base's gh_mono_ns: the tests link cpu.c alone into a fake CUDA
 * module, without base/. */
static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec);
}

/* Rows [r0, r1) of m by thread tid, timed for the split. */
static void
cpu_mm(cpu_state *s, int tid, const gpu_mat *m, uint32_t r0, uint32_t r1,
    const float *x, uint32_t nt, float *out)
{
	double t0 = cpu_now();

	s->kern->rows(m, r0, r1, x, nt, out);
	s->busy[tid] += cpu_now() - t0;
	s->done[tid] += (double) (r1 - r0) * (double) m->row_bytes;
}

/* Asks for the first bytes of rows [r0, r1) of m, the start of a
 * thread's next stream, before it waits at a barrier: the stream is
 * under way when the work starts instead of starting cold. */
#define CPU_NEXT_BYTES 8192u
static void
cpu_warm(const gpu_mat *m, uint32_t r0, uint32_t r1)
{
	const char *p = (const char *) m->data + (size_t) r0 * m->row_bytes;
	uint64_t    n = (uint64_t) (r1 - r0) * m->row_bytes;

	n = n < CPU_NEXT_BYTES ? n : CPU_NEXT_BYTES;
	for (uint64_t off = 0; off < n; off += 64) {
		__builtin_prefetch(p + off, 0, 3);
	}
}

/* cpu_warm for the first of the rows [g0, g1) of q | k | v. */
static void
cpu_warm_qkv(const cpu_state *s, const gpu_layer *L, uint32_t g0, uint32_t g1)
{
	const uint32_t E = s->w->n_embd, KV = s->kvdim;

	if (g0 >= g1) {
		return;
	} else if (g0 < E) {
		cpu_warm(&L->wq, g0, g1 < E ? g1 : E);
	} else if (g0 < E + KV) {
		cpu_warm(&L->wk, g0 - E, g1 - E < KV ? g1 - E : KV);
	} else {
		cpu_warm(&L->wv, g0 - E - KV, g1 - E - KV);
	}
}

/* The rows [g0, g1) of q | k | v (one index over the three): the
 * projections, RoPE on q and k, and k and v into layer l's cache. */
static void
cpu_qkv(cpu_state *s, int tid, const gpu_layer *L, uint32_t l, uint32_t g0,
    uint32_t g1, const float *xb, uint32_t nt, uint32_t pos0)
{
	const gpu_weights *w = s->w;
	const uint32_t     E = w->n_embd, KV = s->kvdim;
	const gpu_mat     *m[3] = { &L->wq, &L->wk, &L->wv };
	float             *o[3] = { s->q, s->k, s->v };
	const uint32_t     n[3] = { E, KV, KV };
	uint32_t           base = 0;

	for (int i = 0; i < 3; i++) {
		uint32_t lo = g0 > base ? g0 - base : 0;
		uint32_t hi = g1 - base < n[i] ? g1 - base : n[i];
		if (g1 > base && lo < hi) {
			cpu_mm(s, tid, m[i], lo, hi, xb, nt, o[i]);
			for (uint32_t t = 0; t < nt; t++) {
				const float *cs
				    = s->rope + (size_t) t * w->rope_dim;
				float *row = o[i] + (size_t) t * n[i];
				size_t at
				    = ((size_t) l * s->n_ctx + pos0 + t) * KV;
				if (i < 2) {
					cpu_rope(row, lo, hi, w->head_dim,
					    w->rope_dim, cs);
				}
				if (i > 0) {
					memcpy((i == 1 ? s->kcache : s->vcache)
					        + at + lo,
					    row + lo,
					    (hi - lo) * sizeof(float));
				}
			}
		}
		base += n[i];
	}
}

/* Asks for the cached keys and values that items [i0, i1) of the
 * attention will read (at most CPU_KV_LINES cache lines): the weights
 * streamed since have evicted them, and a head's positions lie a whole
 * cache row apart, a stride the hardware prefetchers follow poorly. */
#define CPU_KV_LINES 2048u
static void
cpu_warm_kv(
    const cpu_state *s, uint32_t l, uint32_t i0, uint32_t i1, uint32_t pos0)
{
	const gpu_weights *w     = s->w;
	const uint32_t     group = w->n_head / w->n_head_kv;
	const size_t       off   = (size_t) l * s->n_ctx * s->kvdim;
	const size_t       row   = (size_t) w->head_dim * sizeof(float);
	uint32_t           lines = 0, last = UINT32_MAX;

	for (uint32_t it = i0; it < i1 && lines < CPU_KV_LINES; it++) {
		uint32_t t = it / w->n_head, kvh = it % w->n_head / group;
		if (t * w->n_head_kv + kvh == last) {
			continue;
		}
		last = t * w->n_head_kv + kvh;
		for (uint32_t j = 0; j < pos0 + t && lines < CPU_KV_LINES;
		     j++) {
			size_t at = off + (size_t) j * s->kvdim
			    + (size_t) kvh * w->head_dim;
			const char *k = (const char *) (s->kcache + at);
			const char *v = (const char *) (s->vcache + at);
			for (size_t b = 0; b < row; b += 64, lines += 2) {
				__builtin_prefetch(k + b, 0, 3);
				__builtin_prefetch(v + b, 0, 3);
			}
		}
	}
}

/* Items [i0, i1) of nt tokens x n_head heads. */
static void
cpu_attention(cpu_state *s, uint32_t l, uint32_t i0, uint32_t i1,
    uint32_t pos0, float *sc)
{
	const gpu_weights *w     = s->w;
	const uint32_t     hd    = w->head_dim;
	const uint32_t     group = w->n_head / w->n_head_kv;
	const float        scale = 1.0f / sqrtf((float) hd);
	const float       *kc = s->kcache + (size_t) l * s->n_ctx * s->kvdim;
	const float       *vc = s->vcache + (size_t) l * s->n_ctx * s->kvdim;

	for (uint32_t it = i0; it < i1; it++) {
		uint32_t t = it / w->n_head, h = it % w->n_head;
		uint32_t kvh = h / group;
		size_t   at  = (size_t) t * w->n_embd + (size_t) h * hd;
		s->kern->head(s->q + at, kc + (size_t) kvh * hd,
		    vc + (size_t) kvh * hd, s->kvdim, pos0 + t + 1, hd, scale,
		    sc, s->att + at);
	}
}

static void
cpu_add(float *x, const float *y, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		x[i] = x[i] + y[i];
	}
}

/*
 * One chunk of at most CPU_BATCH tokens, by one thread of the team:
 * every matrix is split into contiguous row ranges, one per thread,
 * with a barrier wherever a step needs all of the previous one.  The
 * residual stream is kept by every thread (the same operations on the
 * same values), so the norms need no barrier of their own.
 */
static void
cpu_team(cpu_state *s, const float *xin, uint32_t nt, uint32_t pos0,
    float *logits, int all_logits, float *hidden)
{
	const gpu_weights *w = s->w;
	const uint32_t     E = w->n_embd, F = w->n_ff, H = w->n_head;
	const int          tid = omp_get_thread_num();
	const int          nth = omp_get_num_threads();
	const size_t       NE  = (size_t) nt * E;
	float             *x   = s->xt + (size_t) tid * CPU_BATCH * E;
	float             *xb  = s->xbt + (size_t) tid * CPU_BATCH * E;
	float             *sc  = s->scores + (size_t) tid * s->n_ctx;
	/* A smaller team than asked for splits evenly. */
	const double *cut = nth == s->nth ? s->cut : NULL;
	uint32_t      g0, g1, e0, e1, f0, f1, h0, h1, v0, v1;

	cpu_part(cut, E + 2 * s->kvdim, 2, tid, nth, &g0, &g1);
	cpu_part(cut, E, 1, tid, nth, &e0, &e1);
	cpu_part(cut, F, 1, tid, nth, &f0, &f1);
	cpu_part(cut, nt * H, 1, tid, nth, &h0, &h1);
	cpu_part(cut, w->n_vocab, 1, tid, nth, &v0, &v1);
	memcpy(x, xin, NE * sizeof(float));
	for (uint32_t l = 0; l < w->n_layer; l++) {
		const gpu_layer *L = &w->layers[l];
		for (uint32_t t = 0; t < nt; t++) {
			cpu_rmsnorm(x + (size_t) t * E, L->attn_norm, E,
			    w->norm_eps, xb + (size_t) t * E);
		}
		cpu_qkv(s, tid, L, l, g0, g1, xb, nt, pos0);
		cpu_warm_kv(s, l, h0, h1, pos0);
		cpu_warm(&L->wo, e0, e1);
#pragma omp barrier
		cpu_attention(s, l, h0, h1, pos0, sc);
#pragma omp barrier
		cpu_mm(s, tid, &L->wo, e0, e1, s->att, nt, s->xo);
		cpu_warm(&L->wgate, f0, f1);
#pragma omp barrier
		cpu_add(x, s->xo, NE);
		for (uint32_t t = 0; t < nt; t++) {
			cpu_rmsnorm(x + (size_t) t * E, L->ffn_norm, E,
			    w->norm_eps, xb + (size_t) t * E);
		}
		cpu_mm(s, tid, &L->wgate, f0, f1, xb, nt, s->hb);
		cpu_mm(s, tid, &L->wup, f0, f1, xb, nt, s->hb2);
		for (uint32_t t = 0; t < nt; t++) {
			size_t j = (size_t) t * F + f0;
			s->kern->swiglu(s->hb + j, s->hb2 + j, f1 - f0);
		}
		cpu_warm(&L->wdown, e0, e1);
#pragma omp barrier
		cpu_mm(s, tid, &L->wdown, e0, e1, s->hb, nt, s->xo);
		if (l + 1 < w->n_layer) {
			cpu_warm_qkv(s, &w->layers[l + 1], g0, g1);
		} else if (logits != NULL) {
			cpu_warm(&w->out, v0, v1);
		}
#pragma omp barrier
		cpu_add(x, s->xo, NE);
	}
	for (uint32_t t = 0; t < nt; t++) {
		cpu_rmsnorm(x + (size_t) t * E, w->out_norm, E, w->norm_eps,
		    xb + (size_t) t * E);
	}
	if (hidden != NULL && tid == 0) {
		memcpy(hidden, xb, NE * sizeof(float));
	}
	if (logits != NULL && all_logits) {
		cpu_mm(s, tid, &w->out, v0, v1, xb, nt, logits);
	} else if (logits != NULL) {
		cpu_mm(s, tid, &w->out, v0, v1, xb + (size_t) (nt - 1) * E, 1,
		    logits);
	}
}

/* One chunk of at most CPU_BATCH tokens. */
static void
cpu_chunk(cpu_state *s, const float *xin, uint32_t nt, uint32_t pos0,
    float *logits, int all_logits, float *hidden)
{
	const gpu_weights *w = s->w;

	for (uint32_t t = 0; t < nt; t++) {
		cpu_rope_table(pos0 + t, w->rope_dim, w->rope_base,
		    s->rope + (size_t) t * w->rope_dim);
	}
#pragma omp parallel num_threads(s->nth)
	cpu_team(s, xin, nt, pos0, logits, all_logits, hidden);
	cpu_rebalance(s);
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
