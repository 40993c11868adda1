/* gguf_fuzz.c - libFuzzer target: GGUF files, then the llama model,
 * tokenizer and one forward pass over whatever parses. */
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t   *p = NULL;
	gpu_gguf  *g = NULL;
	gpu_model *m = NULL;
	gpu_ctx   *c = NULL;
	char       err[256];

	if (posix_memalign((void **) &p, 64, size ? size : 1) != 0) {
		return (0);
	}
	memcpy(p, data, size);
	if (gpu_gguf_parse(p, size, &g, err, sizeof(err)) == GH_OK) {
		uint64_t       v, cnt;
		float          f;
		const char    *s;
		size_t         sn;
		gpu_gguf_vtype et;
		(void) gpu_gguf_get_u64(g, "general.alignment", &v);
		(void) gpu_gguf_get_f32(g, "llama.rope.freq_base", &f);
		(void) gpu_gguf_get_str(g, "general.architecture", &s, &sn);
		if (gpu_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &cnt)
		    == GH_OK) {
			(void) gpu_gguf_arr_str(
			    g, "tokenizer.ggml.tokens", cnt - 1, &s, &sn);
		}
		for (size_t i = 0; i < gpu_gguf_tensor_count(g); i++) {
			const gpu_tensor *t = gpu_gguf_tensor_at(g, i);
			volatile uint8_t  x = 0;
			if (t->nbytes > 0) {
				x = t->data[0] ^ t->data[t->nbytes - 1];
			}
			(void) x;
		}
		gpu_gguf_free(g);
	}
	if (gpu_model_from_memory(p, size, 0, &m, err, sizeof(err)) == GH_OK) {
		const gpu_tokenizer *tk = gpu_model_tokenizer(m);
		int32_t              toks[64];
		size_t               nt = 0, n;
		char                 out[512];
		float               *lg;
		gh_hash              h;

		(void) gpu_model_hash(m, &h);
		if (gpu_tok_encode(tk, "ab a\xff", 5, 1, toks, 64, &nt)
		    == GH_OK) {
			for (size_t i = 0; i < nt; i++) {
				(void) gpu_tok_decode(tk, i ? toks[i - 1] : -1,
				    toks[i], out, sizeof(out), &n);
			}
		}
		lg = malloc(gpu_model_info_get(m)->n_vocab * sizeof(float));
		if (lg != NULL && nt > 0 && nt <= 8
		    && gpu_ctx_new(
		           m, GPU_BACKEND_CPU, 8, 1, &c, err, sizeof(err))
		        == GH_OK) {
			(void) gpu_ctx_forward(
			    c, toks, (uint32_t) nt, lg, 0, NULL, NULL);
			gpu_ctx_free(c);
		}
		free(lg);
		gpu_model_close(m);
	}
	free(p);
	return (0);
}
