/* priv.h - cuda/ internals shared between its files; not public. */
#ifndef GPU_PRIV_H
#define GPU_PRIV_H

#include "cuda/backend.h"
#include "cuda/cuda.h"

/* snprintf into an optional error buffer. */
void gpu_errf(char *buf, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

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
int  gpu_cuda_load(
     void **dl, const gpu_backend_ops **ops, char *err, size_t errcap);
void gpu_cuda_unload(void *dl);

/* Tokenizer construction from a parsed file (model.c). */
int  gpu_tokenizer_new(const gpu_gguf *g, gpu_tokenizer **out, char *eb,
     size_t ec);
void gpu_tokenizer_free(gpu_tokenizer *t);
/* Hash of the vocabulary, scores, types and special ids. */
void gpu_tokenizer_hash(const gpu_tokenizer *t, gh_hash *out);

/* Dot products in the engine's one reduction order (cpu.c): 16 lanes,
 * element i into lane i % 16, lanes summed pairwise (8+8, 4+4, 2+2,
 * 1+1).  x has cols floats. */
float gpu_dot_row(const gpu_mat *w, uint32_t row, const float *x);

#endif
