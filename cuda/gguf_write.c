/* gguf_write.c - a GGUF v3 writer for the models the tests and demos
 * make. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cuda/cuda.h"
#include "cuda/priv.h"

#define GGUF_W_ALIGN 32u

typedef struct {
	char     name[GPU_GGUF_MAX_NAME + 1];
	gpu_type type;
	uint32_t ndim;
	uint64_t dims[GPU_GGUF_MAX_DIMS];
	uint64_t nelem;
	uint64_t nbytes;
	void (*fill)(void *arg, uint64_t first, uint64_t n, float *out);
	void  *arg;
	float *owned; /* a copy made by gpu_gguf_writer_tensor */
} gguf_wtensor;

struct gpu_gguf_writer {
	gh_writer     kv; /* encoded pairs */
	uint64_t      nkv;
	gguf_wtensor *t;
	size_t        nt, capt;
	int           err;
};

static void
w_le(gh_writer *w, uint64_t v, unsigned n)
{
	uint8_t b[8];
	for (unsigned i = 0; i < n; i++) {
		b[i] = (uint8_t) (v >> (8 * i));
	}
	gh_put_fixed(w, b, n);
}

static void
w_str(gh_writer *w, const char *s, size_t n)
{
	w_le(w, n, 8);
	gh_put_fixed(w, s, n);
}

static uint32_t
f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return (u);
}

int
gpu_gguf_writer_new(gpu_gguf_writer **out)
{
	gpu_gguf_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (w == NULL) {
		return (GH_ENOMEM);
	}
	gh_writer_init(&w->kv);
	*out = w;
	return (GH_OK);
}

void
gpu_gguf_writer_free(gpu_gguf_writer *w)
{
	if (w == NULL) {
		return;
	}
	gh_writer_free(&w->kv);
	for (size_t i = 0; i < w->nt; i++) {
		free(w->t[i].owned);
	}
	free(w->t);
	free(w);
}

static void
w_key(gpu_gguf_writer *w, const char *key, gpu_gguf_vtype t)
{
	w_str(&w->kv, key, strlen(key));
	w_le(&w->kv, (uint64_t) t, 4);
	w->nkv++;
}

void
gpu_gguf_writer_u32(gpu_gguf_writer *w, const char *key, uint32_t v)
{
	w_key(w, key, GPU_GGUF_U32);
	w_le(&w->kv, v, 4);
}

void
gpu_gguf_writer_f32(gpu_gguf_writer *w, const char *key, float v)
{
	w_key(w, key, GPU_GGUF_F32);
	w_le(&w->kv, f32_bits(v), 4);
}

void
gpu_gguf_writer_bool(gpu_gguf_writer *w, const char *key, int v)
{
	w_key(w, key, GPU_GGUF_BOOL);
	w_le(&w->kv, v ? 1 : 0, 1);
}

void
gpu_gguf_writer_str(gpu_gguf_writer *w, const char *key, const char *v)
{
	w_key(w, key, GPU_GGUF_STRING);
	w_str(&w->kv, v, strlen(v));
}

static void
w_arr(gpu_gguf_writer *w, const char *key, gpu_gguf_vtype et, uint64_t n)
{
	w_key(w, key, GPU_GGUF_ARRAY);
	w_le(&w->kv, (uint64_t) et, 4);
	w_le(&w->kv, n, 8);
}

void
gpu_gguf_writer_arr_str(
    gpu_gguf_writer *w, const char *key, const char *const *v, uint64_t n)
{
	w_arr(w, key, GPU_GGUF_STRING, n);
	for (uint64_t i = 0; i < n; i++) {
		w_str(&w->kv, v[i], strlen(v[i]));
	}
}

void
gpu_gguf_writer_arr_f32(
    gpu_gguf_writer *w, const char *key, const float *v, uint64_t n)
{
	w_arr(w, key, GPU_GGUF_F32, n);
	for (uint64_t i = 0; i < n; i++) {
		w_le(&w->kv, f32_bits(v[i]), 4);
	}
}

void
gpu_gguf_writer_arr_i32(
    gpu_gguf_writer *w, const char *key, const int32_t *v, uint64_t n)
{
	w_arr(w, key, GPU_GGUF_I32, n);
	for (uint64_t i = 0; i < n; i++) {
		w_le(&w->kv, (uint32_t) v[i], 4);
	}
}

/* GGML's reference Q8_0 quantisation of one block. */
static void
q8_0_block(const float *x, uint8_t *out)
{
	float amax = 0.0f;
	for (int i = 0; i < GPU_Q8_0_BLOCK; i++) {
		float a = fabsf(x[i]);
		amax    = a > amax ? a : amax;
	}
	float    d  = amax / 127.0f;
	float    id = d != 0.0f ? 1.0f / d : 0.0f;
	uint16_t h  = gpu_f32_to_f16(d);
	out[0]      = (uint8_t) h;
	out[1]      = (uint8_t) (h >> 8);
	for (int i = 0; i < GPU_Q8_0_BLOCK; i++) {
		out[2 + i] = (uint8_t) (int8_t) roundf(x[i] * id);
	}
}

static void
w_copy_fill(void *arg, uint64_t first, uint64_t n, float *out)
{
	memcpy(out, (const float *) arg + first, n * sizeof(float));
}

void
gpu_gguf_writer_tensor(gpu_gguf_writer *w, const char *name, gpu_type type,
    uint32_t ndim, const uint64_t *dims, const float *data)
{
	uint64_t nelem = 1;
	float   *copy;

	for (uint32_t i = 0; i < ndim && i < GPU_GGUF_MAX_DIMS; i++) {
		if (gh_mul_u64(nelem, dims[i], &nelem) != GH_OK
		    || nelem > SIZE_MAX / sizeof(float)) {
			w->err = w->err ? w->err : GH_EOVERFLOW;
			return;
		}
	}
	if ((copy = malloc(nelem ? nelem * sizeof(float) : 1)) == NULL) {
		w->err = w->err ? w->err : GH_ENOMEM;
		return;
	}
	memcpy(copy, data, nelem * sizeof(float));
	gpu_gguf_writer_tensor_fn(
	    w, name, type, ndim, dims, w_copy_fill, copy);
	if (w->nt > 0 && w->t[w->nt - 1].arg == copy) {
		w->t[w->nt - 1].owned = copy;
	} else {
		free(copy);
	}
}

void
gpu_gguf_writer_tensor_fn(gpu_gguf_writer *w, const char *name, gpu_type type,
    uint32_t ndim, const uint64_t *dims,
    void (*fill)(void *arg, uint64_t first, uint64_t n, float *out), void *arg)
{
	gguf_wtensor *t;
	uint64_t      nelem = 1;

	if (w->err != GH_OK) {
		return;
	}
	if (strlen(name) > GPU_GGUF_MAX_NAME || ndim == 0
	    || ndim > GPU_GGUF_MAX_DIMS) {
		w->err = GH_EINVAL;
		return;
	}
	if (w->nt == w->capt) {
		size_t        nc = w->capt ? 2 * w->capt : 64;
		gguf_wtensor *nt = realloc(w->t, nc * sizeof(*nt));
		if (nt == NULL) {
			w->err = GH_ENOMEM;
			return;
		}
		w->t    = nt;
		w->capt = nc;
	}
	t = &w->t[w->nt];
	memset(t, 0, sizeof(*t));
	strcpy(t->name, name);
	t->type = type;
	t->ndim = ndim;
	for (uint32_t i = 0; i < ndim; i++) {
		t->dims[i] = dims[i];
		if (gh_mul_u64(nelem, dims[i], &nelem) != GH_OK) {
			w->err = GH_EOVERFLOW;
			return;
		}
	}
	if ((w->err = gpu_type_size(type, nelem, &t->nbytes)) != GH_OK) {
		return;
	}
	if (type == GPU_TYPE_Q8_0 && dims[0] % GPU_Q8_0_BLOCK != 0) {
		w->err = GH_EINVAL;
		return;
	}
	t->nelem = nelem;
	t->fill  = fill;
	t->arg   = arg;
	w->nt++;
}

/* Converts a tensor into its file bytes at out, in chunks (parallel:
 * each chunk is independent). */
static int
w_convert(const gguf_wtensor *t, uint8_t *out)
{
	const uint64_t chunk  = 8192; /* a multiple of the Q8_0 block */
	const int64_t  nchunk = (int64_t) ((t->nelem + chunk - 1) / chunk);
	int            failed = 0;

#pragma omp        parallel for schedule(static)
        for (int64_t c = 0; c < nchunk; c++) {
		       float   *x     = malloc(chunk * sizeof(float));
		       uint64_t first = (uint64_t) c * chunk;
		       uint64_t n
		           = t->nelem - first < chunk ? t->nelem - first : chunk;
		       if (x == NULL) {
#pragma omp atomic write
                        failed = 1;
                        continue;
		}
		t->fill(t->arg, first, n, x);
		for (uint64_t i = 0; i < n; i++) {
			uint64_t e = first + i;
			if (t->type == GPU_TYPE_F32) {
				uint32_t u = f32_bits(x[i]);
				for (int b = 0; b < 4; b++) {
					out[4 * e + b]
					    = (uint8_t) (u >> (8 * b));
				}
			} else if (t->type == GPU_TYPE_F16) {
				uint16_t h     = gpu_f32_to_f16(x[i]);
				out[2 * e]     = (uint8_t) h;
				out[2 * e + 1] = (uint8_t) (h >> 8);
			} else if (e % GPU_Q8_0_BLOCK == 0) {
				q8_0_block(x + i,
				    out + e / GPU_Q8_0_BLOCK * GPU_Q8_0_BYTES);
			}
		}
		free(x);
	}
	return (failed ? GH_ENOMEM : GH_OK);
}

static uint64_t
w_align(uint64_t x)
{
	return ((x + GGUF_W_ALIGN - 1) / GGUF_W_ALIGN * GGUF_W_ALIGN);
}

int
gpu_gguf_writer_take(gpu_gguf_writer *w, uint8_t **p, size_t *n)
{
	int       rv = GH_EINTERNAL;
	gh_writer h;
	uint8_t  *buf = NULL;
	uint64_t  off = 0, total;
	size_t    hlen;

	*p = NULL;
	*n = 0;
	gh_writer_init(&h);
	if (w->err != GH_OK) {
		rv = w->err;
		goto out;
	}
	if ((rv = gh_writer_err(&w->kv)) != GH_OK) {
		goto out;
	}
	w_le(&h, 0x46554747u, 4);
	w_le(&h, 3, 4);
	w_le(&h, w->nt, 8);
	w_le(&h, w->nkv, 8);
	gh_put_fixed(&h, w->kv.p, w->kv.len);
	for (size_t i = 0; i < w->nt; i++) {
		gguf_wtensor *t = &w->t[i];
		w_str(&h, t->name, strlen(t->name));
		w_le(&h, t->ndim, 4);
		for (uint32_t d = 0; d < t->ndim; d++) {
			w_le(&h, t->dims[d], 8);
		}
		w_le(&h, (uint64_t) t->type, 4);
		w_le(&h, off, 8);
		off = w_align(off + t->nbytes);
	}
	if ((rv = gh_writer_err(&h)) != GH_OK) {
		goto out;
	}
	hlen  = (size_t) w_align(h.len);
	total = hlen + off;
	if (posix_memalign((void **) &buf, 64, total ? total : 1) != 0) {
		buf = NULL;
		rv  = GH_ENOMEM;
		goto out;
	}
#ifdef MADV_HUGEPAGE
	/* Large models are streamed once per token: fewer TLB misses. */
	if (total >= (64u << 20)) {
		uintptr_t a = ((uintptr_t) buf + 4095) & ~(uintptr_t) 4095;
		uintptr_t e = ((uintptr_t) buf + total) & ~(uintptr_t) 4095;
		if (e > a) {
			(void) madvise((void *) a, e - a, MADV_HUGEPAGE);
		}
	}
#endif
	memset(buf, 0, hlen);
	memcpy(buf, h.p, h.len);
	off = 0;
	for (size_t i = 0; i < w->nt; i++) {
		uint64_t end = off + w->t[i].nbytes;
		if ((rv = w_convert(&w->t[i], buf + hlen + off)) != GH_OK) {
			goto out;
		}
		memset(buf + hlen + end, 0, (size_t) (w_align(end) - end));
		off = w_align(end);
	}
	*p  = buf;
	*n  = (size_t) total;
	buf = NULL;
	rv  = GH_OK;
out:
	free(buf);
	gh_writer_free(&h);
	return (rv);
}
