/*
 * backend.h - private to cuda/: the interface between the engine and a
 * backend, plain C shared with the CUDA module (compiled as C++ by
 * nvcc), so it includes nothing of the project.
 *
 * A backend receives the weights as views into the mapped model file
 * (in their file type) and the input embeddings of each pass; it owns
 * its KV cache.  The module exports GPU_MODULE_SYMBOL, a
 * gpu_module_get_fn.
 */
#ifndef GPU_BACKEND_H
#define GPU_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GPU_MODULE_ABI    2
#define GPU_MODULE_SYMBOL "gpu_cuda_module_get"

/* Return codes across the module boundary (mapped to gh_err by the
 * host): 0 ok, else one of these. */
enum {
	GPU_BE_OK     = 0,
	GPU_BE_EINVAL = 1,
	GPU_BE_ENOMEM = 2,
	GPU_BE_DEVICE = 3,
	GPU_BE_LIMIT  = 4,
};

/* A weight matrix of rows x cols, row-major in its file type:
 * out[r] = dot(row r, x).  For Q8_0 a row is cols/32 blocks. */
typedef struct {
	int         type; /* gpu_type */
	const void *data;
	uint64_t    nbytes;
	uint32_t    rows;
	uint32_t    cols;
	uint64_t    row_bytes;
} gpu_mat;

typedef struct {
	const float *attn_norm; /* n_embd */
	const float *ffn_norm;  /* n_embd */
	gpu_mat      wq, wk, wv, wo, wgate, wup, wdown;
} gpu_layer;

typedef struct {
	uint32_t         n_vocab, n_embd, n_layer, n_ff;
	uint32_t         n_head, n_head_kv, head_dim, rope_dim;
	float            rope_base, norm_eps;
	const float     *out_norm; /* n_embd */
	gpu_mat          out;      /* n_vocab x n_embd */
	const gpu_layer *layers;   /* n_layer */
} gpu_weights;

typedef struct {
	const char *name;
	/* Makes a state for these weights (borrowed for the state's life)
	 * with a KV cache of n_ctx positions. */
	int (*create)(const gpu_weights *w, uint32_t n_ctx, int n_threads,
	    void **state, char *err, size_t errcap);
	void (*destroy)(void *state);
	/* Runs x[0..n*n_embd) (embeddings of n tokens) at positions
	 * pos0..pos0+n-1; outputs as gpu_ctx_forward. */
	int (*forward)(void *state, const float *x, uint32_t n, uint32_t pos0,
	    float *logits, int all_logits, float *hidden, uint64_t *device_ns);
	/* The device's copy bandwidth: bytes read plus bytes written per
	 * second by device-to-device copies of a buffer larger than any
	 * cache, timed on the device (NULL: not measured). */
	int (*copy_bandwidth)(double *bytes_per_s, char *err, size_t errcap);
} gpu_backend_ops;

typedef int (*gpu_module_get_fn)(
    int abi, const gpu_backend_ops **ops, char *err, size_t errcap);

#ifdef __cplusplus
}
#endif

#endif /* GPU_BACKEND_H */
