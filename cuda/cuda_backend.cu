/*
 * cuda_backend.cu - the CUDA backend, built into the module
 * gpuhour-cuda.so that the engine loads with dlopen (backend.c).
 *
 * Weights live on the device in their file type.  Decode (one token)
 * runs the project's own kernels: each output is reduced by one block
 * in a fixed order (strided per-thread sums, then a fixed tree in shared
 * memory), never with atomics, so a pass is reproducible on one device.
 * Prefill (several tokens) multiplies through cuBLAS in fp32 with
 * pedantic math (no TF32, no reduced precision); F16 and Q8_0 weights
 * are expanded to fp32 on the device first.  Device time is measured
 * with CUDA events.
 *
 * Threads: a state belongs to one thread at a time, as a gpu_ctx.
 */
#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/backend.h"

#define CB_THREADS 256
#define CB_TYPE_F32  0
#define CB_TYPE_F16  1
#define CB_TYPE_Q8_0 8

static void
cb_err(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || cap == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

typedef struct {
	int       type;
	uint32_t  rows, cols;
	uint64_t  row_bytes;
	uint8_t  *d; /* device copy of the file bytes */
} cb_mat;

typedef struct {
	float *attn_norm, *ffn_norm;
	cb_mat wq, wk, wv, wo, wgate, wup, wdown;
} cb_layer;

typedef struct {
	const gpu_weights *w;
	uint32_t           n_ctx, kvdim, batch;
	cb_layer          *layers;
	cb_mat             out;
	float             *out_norm;
	float             *kc, *vc;   /* [layer][pos][kvdim] */
	float             *x, *xb, *q, *k, *v, *att, *hb, *hb2, *logits;
	float             *scores;    /* [batch][head][n_ctx] */
	float             *deq;       /* fp32 expansion for cuBLAS */
	size_t             deq_elems;
	cublasHandle_t     blas;
	cudaEvent_t        ev0, ev1;
	int                have_blas, have_ev;
} cb_state;

/* ---- kernels --------------------------------------------------- */

__device__ static float
cb_h2f(const uint8_t *p)
{
	unsigned short u = (unsigned short) (p[0] | (p[1] << 8));
	return (__half2float(__ushort_as_half(u)));
}

/* Fixed-order tree sum of sh[0..blockDim) into sh[0]; blockDim is a
 * power of two. */
__device__ static void
cb_tree_sum(float *sh)
{
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s) {
			sh[threadIdx.x] = sh[threadIdx.x] + sh[threadIdx.x + s];
		}
		__syncthreads();
	}
}

__device__ static void
cb_tree_max(float *sh)
{
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s) {
			sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
		}
		__syncthreads();
	}
}

/* y[row] = dot(W[row], x): one block per row. */
__global__ static void
cb_matvec(const uint8_t *w, int type, uint32_t cols, uint64_t row_bytes,
    const float *x, float *y)
{
	__shared__ float sh[CB_THREADS];
	const uint8_t   *row = w + (uint64_t) blockIdx.x * row_bytes;
	float            acc = 0.0f;

	if (type == CB_TYPE_F32) {
		const float *r = (const float *) row;
		for (uint32_t i = threadIdx.x; i < cols; i += blockDim.x) {
			acc = __fadd_rn(acc, __fmul_rn(r[i], x[i]));
		}
	} else if (type == CB_TYPE_F16) {
		for (uint32_t i = threadIdx.x; i < cols; i += blockDim.x) {
			acc = __fadd_rn(acc, __fmul_rn(cb_h2f(row + 2 * i), x[i]));
		}
	} else {
		for (uint32_t b = threadIdx.x; b < cols / 32; b += blockDim.x) {
			const uint8_t *q = row + (uint64_t) b * 34;
			float          s = 0.0f;
			for (int j = 0; j < 32; j++) {
				s = __fadd_rn(s,
				    __fmul_rn((float) (int8_t) q[2 + j], x[b * 32 + j]));
			}
			acc = __fadd_rn(acc, __fmul_rn(cb_h2f(q), s));
		}
	}
	sh[threadIdx.x] = acc;
	__syncthreads();
	cb_tree_sum(sh);
	if (threadIdx.x == 0) {
		y[blockIdx.x] = sh[0];
	}
}

/* out[r * cols + c] = weight (r, c) as fp32. */
__global__ static void
cb_dequant(const uint8_t *w, int type, uint32_t rows, uint32_t cols,
    uint64_t row_bytes, float *out)
{
	uint64_t i = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x;
	uint64_t n = (uint64_t) rows * cols;

	if (i >= n) {
		return;
	}
	uint64_t       r = i / cols, c = i % cols;
	const uint8_t *row = w + r * row_bytes;
	if (type == CB_TYPE_F16) {
		out[i] = cb_h2f(row + 2 * c);
	} else {
		const uint8_t *q = row + (c / 32) * 34;
		out[i] = __fmul_rn(cb_h2f(q), (float) (int8_t) q[2 + c % 32]);
	}
}

/* One block per token. */
__global__ static void
cb_rmsnorm(const float *x, const float *g, uint32_t n, float eps, float *y)
{
	__shared__ float sh[CB_THREADS];
	const float     *xr  = x + (uint64_t) blockIdx.x * n;
	float           *yr  = y + (uint64_t) blockIdx.x * n;
	float            acc = 0.0f;

	for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
		acc = __fadd_rn(acc, __fmul_rn(xr[i], xr[i]));
	}
	sh[threadIdx.x] = acc;
	__syncthreads();
	cb_tree_sum(sh);
	float scale = 1.0f / sqrtf(sh[0] / (float) n + eps);
	for (uint32_t i = threadIdx.x; i < n; i += blockDim.x) {
		yr[i] = __fmul_rn(__fmul_rn(xr[i], scale), g[i]);
	}
}

/* Adjacent pairs; v is [nt][nh * hd]. */
__global__ static void
cb_rope(float *v, uint32_t nt, uint32_t nh, uint32_t hd, uint32_t rope_dim,
    uint32_t pos0, float base)
{
	uint64_t i     = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x;
	uint32_t pairs = rope_dim / 2;

	if (i >= (uint64_t) nt * nh * pairs) {
		return;
	}
	uint32_t p = (uint32_t) (i % pairs);
	uint32_t h = (uint32_t) (i / pairs % nh);
	uint32_t t = (uint32_t) (i / pairs / nh);
	double   a = (double) (pos0 + t)
	    * pow((double) base, -2.0 * p / (double) rope_dim);
	float  c = (float) cos(a), s = (float) sin(a);
	float *x = v + ((uint64_t) t * nh + h) * hd + 2 * p;
	float  x0 = x[0], x1 = x[1];
	x[0] = __fsub_rn(__fmul_rn(x0, c), __fmul_rn(x1, s));
	x[1] = __fadd_rn(__fmul_rn(x0, s), __fmul_rn(x1, c));
}

/* One block per (head, token): scores, softmax, weighted values. */
__global__ static void
cb_attention(const float *q, const float *kc, const float *vc, float *out,
    float *scores, uint32_t n_embd, uint32_t n_head, uint32_t group,
    uint32_t hd, uint32_t kvdim, uint32_t n_ctx, uint32_t pos0)
{
	__shared__ float sh[CB_THREADS];
	uint32_t         h = blockIdx.x, t = blockIdx.y;
	uint32_t         kvh = h / group, npos = pos0 + t + 1;
	const float     *qh = q + (uint64_t) t * n_embd + h * hd;
	float           *sc = scores + ((uint64_t) t * n_head + h) * n_ctx;
	float            scale = 1.0f / sqrtf((float) hd), mx = -INFINITY;
	float            sum   = 0.0f;

	for (uint32_t j = threadIdx.x; j < npos; j += blockDim.x) {
		const float *k = kc + (uint64_t) j * kvdim + kvh * hd;
		float        s = 0.0f;
		for (uint32_t d = 0; d < hd; d++) {
			s = __fadd_rn(s, __fmul_rn(qh[d], k[d]));
		}
		sc[j] = __fmul_rn(s, scale);
		mx    = fmaxf(mx, sc[j]);
	}
	sh[threadIdx.x] = mx;
	__syncthreads();
	cb_tree_max(sh);
	mx = sh[0];
	__syncthreads();
	for (uint32_t j = threadIdx.x; j < npos; j += blockDim.x) {
		sc[j] = expf(__fsub_rn(sc[j], mx));
		sum   = __fadd_rn(sum, sc[j]);
	}
	sh[threadIdx.x] = sum;
	__syncthreads();
	cb_tree_sum(sh);
	sum = sh[0];
	for (uint32_t d = threadIdx.x; d < hd; d += blockDim.x) {
		float o = 0.0f;
		for (uint32_t j = 0; j < npos; j++) {
			o = __fadd_rn(o,
			    __fmul_rn(sc[j], vc[(uint64_t) j * kvdim + kvh * hd + d]));
		}
		out[(uint64_t) t * n_embd + h * hd + d] = __fdiv_rn(o, sum);
	}
}

__global__ static void
cb_swiglu(float *g, const float *u, uint64_t n)
{
	uint64_t i = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) {
		float x = g[i];
		g[i]    = __fmul_rn(__fdiv_rn(x, __fadd_rn(1.0f, expf(-x))), u[i]);
	}
}

__global__ static void
cb_add(float *x, const float *y, uint64_t n)
{
	uint64_t i = (uint64_t) blockIdx.x * blockDim.x + threadIdx.x;
	if (i < n) {
		x[i] = __fadd_rn(x[i], y[i]);
	}
}

/* ---- host side -------------------------------------------------- */

static unsigned
cb_grid(uint64_t n)
{
	return ((unsigned) ((n + CB_THREADS - 1) / CB_THREADS));
}

static void
cb_mat_free(cb_mat *m)
{
	if (m->d != NULL) {
		cudaFree(m->d);
		m->d = NULL;
	}
}

static void
cb_destroy(void *p)
{
	cb_state *s = (cb_state *) p;

	if (s == NULL) {
		return;
	}
	if (s->layers != NULL) {
		for (uint32_t l = 0; l < s->w->n_layer; l++) {
			cb_layer *L = &s->layers[l];
			cudaFree(L->attn_norm);
			cudaFree(L->ffn_norm);
			cb_mat_free(&L->wq);
			cb_mat_free(&L->wk);
			cb_mat_free(&L->wv);
			cb_mat_free(&L->wo);
			cb_mat_free(&L->wgate);
			cb_mat_free(&L->wup);
			cb_mat_free(&L->wdown);
		}
		free(s->layers);
	}
	cb_mat_free(&s->out);
	float *bufs[] = { s->out_norm, s->kc, s->vc, s->x, s->xb, s->q, s->k,
		s->v, s->att, s->hb, s->hb2, s->logits, s->scores, s->deq };
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++) {
		if (bufs[i] != NULL) {
			cudaFree(bufs[i]);
		}
	}
	if (s->have_blas) {
		cublasDestroy(s->blas);
	}
	if (s->have_ev) {
		cudaEventDestroy(s->ev0);
		cudaEventDestroy(s->ev1);
	}
	free(s);
}

static int
cb_upload(cb_mat *d, const gpu_mat *h, size_t *deq)
{
	d->type      = h->type;
	d->rows      = h->rows;
	d->cols      = h->cols;
	d->row_bytes = h->row_bytes;
	if (cudaMalloc((void **) &d->d, h->nbytes) != cudaSuccess
	    || cudaMemcpy(d->d, h->data, h->nbytes, cudaMemcpyHostToDevice)
	        != cudaSuccess) {
		return (GPU_BE_ENOMEM);
	}
	if (h->type != CB_TYPE_F32) {
		size_t n = (size_t) h->rows * h->cols;
		*deq     = n > *deq ? n : *deq;
	}
	return (GPU_BE_OK);
}

static int
cb_vec(float **d, const float *h, uint32_t n)
{
	if (cudaMalloc((void **) d, (size_t) n * sizeof(float)) != cudaSuccess
	    || cudaMemcpy(*d, h, (size_t) n * sizeof(float),
	           cudaMemcpyHostToDevice)
	        != cudaSuccess) {
		return (GPU_BE_ENOMEM);
	}
	return (GPU_BE_OK);
}

static int
cb_alloc(float **d, size_t n)
{
	return (cudaMalloc((void **) d, (n ? n : 1) * sizeof(float))
	            == cudaSuccess
	        ? GPU_BE_OK
	        : GPU_BE_ENOMEM);
}

static int
cb_create(const gpu_weights *w, uint32_t n_ctx, int n_threads, void **out,
    char *err, size_t cap)
{
	cb_state *s;
	size_t    B, kv;
	int       rv = GPU_BE_OK;

	(void) n_threads;
	*out = NULL;
	if ((s = (cb_state *) calloc(1, sizeof(*s))) == NULL) {
		return (GPU_BE_ENOMEM);
	}
	s->w     = w;
	s->n_ctx = n_ctx;
	s->kvdim = w->n_head_kv * w->head_dim;
	/* Attention scores for a chunk stay under 256 MiB. */
	B = ((size_t) 256 << 20) / ((size_t) w->n_head * n_ctx * sizeof(float));
	s->batch = (uint32_t) (B < 1 ? 1 : (B > 64 ? 64 : B));
	B        = s->batch;
	if ((s->layers = (cb_layer *) calloc(w->n_layer, sizeof(cb_layer)))
	    == NULL) {
		rv = GPU_BE_ENOMEM;
		goto fail;
	}
	for (uint32_t l = 0; l < w->n_layer && rv == GPU_BE_OK; l++) {
		const gpu_layer *H = &w->layers[l];
		cb_layer        *L = &s->layers[l];
		if ((rv = cb_vec(&L->attn_norm, H->attn_norm, w->n_embd)) != 0
		    || (rv = cb_vec(&L->ffn_norm, H->ffn_norm, w->n_embd)) != 0
		    || (rv = cb_upload(&L->wq, &H->wq, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wk, &H->wk, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wv, &H->wv, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wo, &H->wo, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wgate, &H->wgate, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wup, &H->wup, &s->deq_elems)) != 0
		    || (rv = cb_upload(&L->wdown, &H->wdown, &s->deq_elems))
		        != 0) {
			break;
		}
	}
	if (rv != GPU_BE_OK
	    || (rv = cb_upload(&s->out, &w->out, &s->deq_elems)) != 0
	    || (rv = cb_vec(&s->out_norm, w->out_norm, w->n_embd)) != 0) {
		cb_err(err, cap, "cannot place the weights on the device");
		goto fail;
	}
	kv = (size_t) w->n_layer * n_ctx * s->kvdim;
	if ((rv = cb_alloc(&s->kc, kv)) != 0 || (rv = cb_alloc(&s->vc, kv)) != 0
	    || (rv = cb_alloc(&s->x, B * w->n_embd)) != 0
	    || (rv = cb_alloc(&s->xb, B * w->n_embd)) != 0
	    || (rv = cb_alloc(&s->q, B * w->n_embd)) != 0
	    || (rv = cb_alloc(&s->k, B * s->kvdim)) != 0
	    || (rv = cb_alloc(&s->v, B * s->kvdim)) != 0
	    || (rv = cb_alloc(&s->att, B * w->n_embd)) != 0
	    || (rv = cb_alloc(&s->hb, B * w->n_ff)) != 0
	    || (rv = cb_alloc(&s->hb2, B * w->n_ff)) != 0
	    || (rv = cb_alloc(&s->logits, B * w->n_vocab)) != 0
	    || (rv = cb_alloc(&s->scores, B * w->n_head * (size_t) n_ctx)) != 0
	    || (s->deq_elems > 0 && (rv = cb_alloc(&s->deq, s->deq_elems)) != 0)) {
		cb_err(err, cap, "cannot allocate the KV cache on the device");
		goto fail;
	}
	if (cublasCreate(&s->blas) != CUBLAS_STATUS_SUCCESS) {
		cb_err(err, cap, "cuBLAS does not start");
		rv = GPU_BE_DEVICE;
		goto fail;
	}
	s->have_blas = 1;
	/* fp32 everywhere: no TF32, no reduced-precision reductions. */
	if (cublasSetMathMode(s->blas, CUBLAS_PEDANTIC_MATH)
	    != CUBLAS_STATUS_SUCCESS) {
		cb_err(err, cap, "cuBLAS refuses pedantic math");
		rv = GPU_BE_DEVICE;
		goto fail;
	}
	if (cudaEventCreate(&s->ev0) != cudaSuccess
	    || cudaEventCreate(&s->ev1) != cudaSuccess) {
		rv = GPU_BE_DEVICE;
		goto fail;
	}
	s->have_ev = 1;
	*out       = s;
	return (GPU_BE_OK);
fail:
	cb_destroy(s);
	return (rv == GPU_BE_OK ? GPU_BE_DEVICE : rv);
}

/* y[nt][rows] = x[nt][cols] times the matrix: own kernel for one token,
 * cuBLAS (fp32, pedantic) for more. */
static int
cb_matmul(cb_state *s, const cb_mat *m, const float *x, uint32_t nt,
    float *y)
{
	const float  one = 1.0f, zero = 0.0f;
	const float *a;

	if (nt == 1) {
		cb_matvec<<<m->rows, CB_THREADS>>>(
		    m->d, m->type, m->cols, m->row_bytes, x, y);
		return (cudaGetLastError() == cudaSuccess ? GPU_BE_OK
		                                          : GPU_BE_DEVICE);
	}
	if (m->type == CB_TYPE_F32) {
		a = (const float *) m->d;
	} else {
		cb_dequant<<<cb_grid((uint64_t) m->rows * m->cols), CB_THREADS>>>(
		    m->d, m->type, m->rows, m->cols, m->row_bytes, s->deq);
		if (cudaGetLastError() != cudaSuccess) {
			return (GPU_BE_DEVICE);
		}
		a = s->deq;
	}
	if (cublasSgemm(s->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int) m->rows,
	        (int) nt, (int) m->cols, &one, a, (int) m->cols, x,
	        (int) m->cols, &zero, y, (int) m->rows)
	    != CUBLAS_STATUS_SUCCESS) {
		return (GPU_BE_DEVICE);
	}
	return (GPU_BE_OK);
}

static int
cb_chunk(cb_state *s, const float *xin, uint32_t nt, uint32_t pos0,
    float *logits, int all_logits, float *hidden)
{
	const gpu_weights *w = s->w;
	const uint32_t     E = w->n_embd, KV = s->kvdim, F = w->n_ff;
	const uint32_t     hd = w->head_dim;
	int                rv;

#define CB_CK(call)                                                           \
	do {                                                                  \
		if ((rv = (call)) != GPU_BE_OK) {                             \
			return (rv);                                          \
		}                                                             \
	} while (0)
#define CB_KERNEL_OK()                                                        \
	do {                                                                  \
		if (cudaGetLastError() != cudaSuccess) {                      \
			return (GPU_BE_DEVICE);                               \
		}                                                             \
	} while (0)

	if (cudaMemcpy(s->x, xin, (size_t) nt * E * sizeof(float),
	        cudaMemcpyHostToDevice)
	    != cudaSuccess) {
		return (GPU_BE_DEVICE);
	}
	for (uint32_t l = 0; l < w->n_layer; l++) {
		cb_layer *L  = &s->layers[l];
		size_t    at = ((size_t) l * s->n_ctx + pos0) * KV;
		cb_rmsnorm<<<nt, CB_THREADS>>>(s->x, L->attn_norm, E, w->norm_eps,
		    s->xb);
		CB_KERNEL_OK();
		CB_CK(cb_matmul(s, &L->wq, s->xb, nt, s->q));
		CB_CK(cb_matmul(s, &L->wk, s->xb, nt, s->k));
		CB_CK(cb_matmul(s, &L->wv, s->xb, nt, s->v));
		cb_rope<<<cb_grid((uint64_t) nt * w->n_head * (w->rope_dim / 2)),
		    CB_THREADS>>>(s->q, nt, w->n_head, hd, w->rope_dim, pos0,
		    w->rope_base);
		CB_KERNEL_OK();
		cb_rope<<<cb_grid(
		              (uint64_t) nt * w->n_head_kv * (w->rope_dim / 2)),
		    CB_THREADS>>>(s->k, nt, w->n_head_kv, hd, w->rope_dim, pos0,
		    w->rope_base);
		CB_KERNEL_OK();
		if (cudaMemcpy(s->kc + at, s->k, (size_t) nt * KV * sizeof(float),
		        cudaMemcpyDeviceToDevice)
		        != cudaSuccess
		    || cudaMemcpy(s->vc + at, s->v,
		           (size_t) nt * KV * sizeof(float),
		           cudaMemcpyDeviceToDevice)
		        != cudaSuccess) {
			return (GPU_BE_DEVICE);
		}
		cb_attention<<<dim3(w->n_head, nt), 128>>>(s->q,
		    s->kc + (size_t) l * s->n_ctx * KV,
		    s->vc + (size_t) l * s->n_ctx * KV, s->att, s->scores, E,
		    w->n_head, w->n_head / w->n_head_kv, hd, KV, s->n_ctx, pos0);
		CB_KERNEL_OK();
		CB_CK(cb_matmul(s, &L->wo, s->att, nt, s->xb));
		cb_add<<<cb_grid((uint64_t) nt * E), CB_THREADS>>>(
		    s->x, s->xb, (uint64_t) nt * E);
		CB_KERNEL_OK();
		cb_rmsnorm<<<nt, CB_THREADS>>>(s->x, L->ffn_norm, E, w->norm_eps,
		    s->xb);
		CB_KERNEL_OK();
		CB_CK(cb_matmul(s, &L->wgate, s->xb, nt, s->hb));
		CB_CK(cb_matmul(s, &L->wup, s->xb, nt, s->hb2));
		cb_swiglu<<<cb_grid((uint64_t) nt * F), CB_THREADS>>>(
		    s->hb, s->hb2, (uint64_t) nt * F);
		CB_KERNEL_OK();
		CB_CK(cb_matmul(s, &L->wdown, s->hb, nt, s->xb));
		cb_add<<<cb_grid((uint64_t) nt * E), CB_THREADS>>>(
		    s->x, s->xb, (uint64_t) nt * E);
		CB_KERNEL_OK();
	}
	cb_rmsnorm<<<nt, CB_THREADS>>>(s->x, s->out_norm, E, w->norm_eps, s->xb);
	CB_KERNEL_OK();
	if (hidden != NULL
	    && cudaMemcpy(hidden, s->xb, (size_t) nt * E * sizeof(float),
	           cudaMemcpyDeviceToHost)
	        != cudaSuccess) {
		return (GPU_BE_DEVICE);
	}
	if (logits != NULL) {
		uint32_t first = all_logits ? 0 : nt - 1;
		uint32_t cnt   = all_logits ? nt : 1;
		CB_CK(cb_matmul(s, &s->out, s->xb + (size_t) first * E, cnt,
		    s->logits));
		if (cudaMemcpy(logits, s->logits,
		        (size_t) cnt * w->n_vocab * sizeof(float),
		        cudaMemcpyDeviceToHost)
		    != cudaSuccess) {
			return (GPU_BE_DEVICE);
		}
	}
#undef CB_CK
#undef CB_KERNEL_OK
	return (GPU_BE_OK);
}

static int
cb_forward(void *p, const float *x, uint32_t n, uint32_t pos0, float *logits,
    int all_logits, float *hidden, uint64_t *device_ns)
{
	cb_state      *s = (cb_state *) p;
	const uint32_t E = s->w->n_embd, V = s->w->n_vocab;
	int            rv = GPU_BE_OK;
	float          ms = 0.0f;

	if (n == 0 || pos0 > s->n_ctx || n > s->n_ctx - pos0) {
		return (GPU_BE_LIMIT);
	}
	if (cudaEventRecord(s->ev0) != cudaSuccess) {
		return (GPU_BE_DEVICE);
	}
	for (uint32_t c = 0; c < n && rv == GPU_BE_OK; c += s->batch) {
		uint32_t nt   = n - c < s->batch ? n - c : s->batch;
		int      last = c + nt == n;
		float   *lg   = NULL;
		if (logits != NULL && all_logits) {
			lg = logits + (size_t) c * V;
		} else if (logits != NULL && last) {
			lg = logits;
		}
		rv = cb_chunk(s, x + (size_t) c * E, nt, pos0 + c, lg, all_logits,
		    hidden != NULL ? hidden + (size_t) c * E : NULL);
	}
	if (cudaEventRecord(s->ev1) != cudaSuccess
	    || cudaEventSynchronize(s->ev1) != cudaSuccess
	    || cudaEventElapsedTime(&ms, s->ev0, s->ev1) != cudaSuccess) {
		return (GPU_BE_DEVICE);
	}
	if (device_ns != NULL) {
		*device_ns = (uint64_t) ((double) ms * 1e6);
	}
	return (rv);
}

/* Bytes read plus bytes written per second by device-to-device copies
 * of 512 MiB (larger than any GPU's L2), the median of 9 timed with
 * events after one untimed. */
#define CB_BW_BYTES ((size_t) 512 << 20)
#define CB_BW_RUNS  9

static int
cb_float_cmp(const void *a, const void *b)
{
	float x = *(const float *) a, y = *(const float *) b;
	return (x < y ? -1 : x > y);
}

static int
cb_copy_bandwidth(double *bytes_per_s, char *err, size_t cap)
{
	void       *a = NULL, *b = NULL;
	cudaEvent_t e0, e1;
	float       ms[CB_BW_RUNS];
	int         have_ev = 0, rv = GPU_BE_DEVICE;

	*bytes_per_s = 0;
	if (cudaMalloc(&a, CB_BW_BYTES) != cudaSuccess
	    || cudaMalloc(&b, CB_BW_BYTES) != cudaSuccess
	    || cudaMemset(a, 1, CB_BW_BYTES) != cudaSuccess) {
		cb_err(err, cap, "cannot allocate 1 GiB on the device");
		rv = GPU_BE_ENOMEM;
		goto out;
	}
	if (cudaEventCreate(&e0) != cudaSuccess) {
		goto out;
	}
	if (cudaEventCreate(&e1) != cudaSuccess) {
		cudaEventDestroy(e0);
		goto out;
	}
	have_ev = 1;
	for (int i = -1; i < CB_BW_RUNS; i++) {
		float t = 0.0f;
		if (cudaEventRecord(e0) != cudaSuccess
		    || cudaMemcpy(b, a, CB_BW_BYTES, cudaMemcpyDeviceToDevice)
		        != cudaSuccess
		    || cudaEventRecord(e1) != cudaSuccess
		    || cudaEventSynchronize(e1) != cudaSuccess
		    || cudaEventElapsedTime(&t, e0, e1) != cudaSuccess) {
			cb_err(err, cap, "a device copy failed");
			goto out;
		}
		if (i >= 0) {
			ms[i] = t;
		}
	}
	qsort(ms, CB_BW_RUNS, sizeof(ms[0]), cb_float_cmp);
	if (!(ms[CB_BW_RUNS / 2] > 0.0f)) {
		cb_err(err, cap, "the device timed a copy at zero");
		goto out;
	}
	*bytes_per_s = 2.0 * (double) CB_BW_BYTES
	    / ((double) ms[CB_BW_RUNS / 2] * 1e-3);
	rv = GPU_BE_OK;
out:
	if (have_ev) {
		cudaEventDestroy(e0);
		cudaEventDestroy(e1);
	}
	cudaFree(a);
	cudaFree(b);
	return (rv);
}

static const gpu_backend_ops cb_ops = {
	"cuda",
	cb_create,
	cb_destroy,
	cb_forward,
	cb_copy_bandwidth,
};

extern "C" __attribute__((visibility("default"))) int
gpu_cuda_module_get(
    int abi, const gpu_backend_ops **ops, char *err, size_t cap)
{
	int         n = 0;
	cudaError_t e;

	*ops = NULL;
	if (abi != GPU_MODULE_ABI) {
		cb_err(err, cap, "CUDA module ABI %d, engine wants %d",
		    GPU_MODULE_ABI, abi);
		return (GPU_BE_DEVICE);
	}
	if ((e = cudaGetDeviceCount(&n)) != cudaSuccess || n == 0) {
		cb_err(err, cap, "no CUDA device (%s)",
		    e != cudaSuccess ? cudaGetErrorString(e) : "none found");
		return (GPU_BE_DEVICE);
	}
	*ops = &cb_ops;
	return (GPU_BE_OK);
}
