/* priv.h - cuda/ internals shared between its files; not public. */
#ifndef GPU_PRIV_H
#define GPU_PRIV_H

#include "cuda/backend.h"
#include "cuda/cuda.h"

/* snprintf into an optional error buffer. */
void gpu_errf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Half to float, exact for every half, without a call: the hot loops
 * convert one Q8_0 scale per 32 weights. */
static inline __attribute__((always_inline)) float
gpu_h2f(uint16_t h)
{
	union {
		uint32_t u;
		float    f;
	} o, magic;
	uint32_t exp;

	magic.u = 113u << 23;
	o.u     = (uint32_t) (h & 0x7fff) << 13;
	exp     = o.u & (0x7c00u << 13);
	o.u += (127u - 15u) << 23;
	if (exp == 0x7c00u << 13) {
		o.u += (128u - 16u) << 23; /* Inf, NaN */
	} else if (exp == 0) {
		o.u += 1u << 23; /* subnormal: renormalise, exactly */
		o.f -= magic.f;
	}
	o.u |= (uint32_t) (h & 0x8000) << 16;
	return (o.f);
}

/* The weights of a model as backends see them (borrowed from the
 * model). */
const gpu_weights *gpu_model_weights(const gpu_model *m);
/* Row tok of the token embedding, dequantized into out[n_embd]. */
void gpu_model_embed(const gpu_model *m, int32_t tok, float *out);

/* The CPU backend. */
extern const gpu_backend_ops gpu_cpu_ops;

/* Loads the CUDA module (dlopen; *dl to be passed to gpu_cuda_unload)
 * and checks that it sees a device; GH_EDEVICE with the reason in err
 * otherwise. */
int gpu_cuda_load(
    void **dl, const gpu_backend_ops **ops, char *err, size_t errcap);
void gpu_cuda_unload(void *dl);

/* Tokenizer construction from a parsed file (model.c). */
int gpu_tokenizer_new(
    const gpu_gguf *g, gpu_tokenizer **out, char *eb, size_t ec);
void gpu_tokenizer_free(gpu_tokenizer *t);
/* Hash of the vocabulary, scores, types and special ids. */
void gpu_tokenizer_hash(const gpu_tokenizer *t, gh_hash *out);

#endif
