/* testmodel.c - llama models with deterministic random weights and a
 * small vocabulary, for tests, benchmarks and demos. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/priv.h"

#define TM_SPACE "\xe2\x96\x81"

/* Merged pieces, most preferred first (higher score). */
static const char *const tm_merges[] = { TM_SPACE "t", TM_SPACE "a", "he",
	"in", "er", "an", "on", "re", "at", "en", "or", "ou", "is", "it", "nd",
	"es", "ed", "ll", "ar", "as", "ve", "le", "st", "om", "ro", "ly", "ow",
	"ay", "ing", "ion", TM_SPACE "s", TM_SPACE "w", TM_SPACE "o",
	TM_SPACE "b", TM_SPACE "c", TM_SPACE "h", TM_SPACE "f", TM_SPACE "m",
	TM_SPACE "d", TM_SPACE "p", TM_SPACE "l", TM_SPACE "g", TM_SPACE "I",
	TM_SPACE "T", TM_SPACE "O", TM_SPACE "th", TM_SPACE "the",
	TM_SPACE "an", TM_SPACE "and", TM_SPACE "in", TM_SPACE "to",
	TM_SPACE "of", TM_SPACE "he", TM_SPACE "wa", TM_SPACE "was",
	TM_SPACE "it", TM_SPACE "is", TM_SPACE "on", TM_SPACE "Th",
	TM_SPACE "The", TM_SPACE "Once", TM_SPACE "up", TM_SPACE "upon",
	TM_SPACE "ti", TM_SPACE "time", TM_SPACE "ca", TM_SPACE "cat",
	TM_SPACE "do", TM_SPACE "dog", TM_SPACE "sa", TM_SPACE "sat",
	TM_SPACE "ma", TM_SPACE "mat", TM_SPACE "da", TM_SPACE "day",
	TM_SPACE "pl", TM_SPACE "play", TM_SPACE "ha", TM_SPACE "hap",
	TM_SPACE "happ", TM_SPACE "happy", TM_SPACE "li", TM_SPACE "lit",
	TM_SPACE "litt", TM_SPACE "little", "ttle", "tt", TM_SPACE "gi",
	TM_SPACE "gir", TM_SPACE "girl", TM_SPACE "bo", TM_SPACE "boy",
	TM_SPACE "said", "id", TM_SPACE "On", "ce", "nce", TM_SPACE "Onc",
	"pon", "me", "ime", TM_SPACE "tim", "ppy", "irl" };

#define TM_NMERGE (sizeof(tm_merges) / sizeof(tm_merges[0]))
#define TM_NBASE  (3 + 256 + 1 + 94 + TM_NMERGE)

void
gpu_test_spec_default(gpu_test_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->n_vocab   = 512;
	s->n_ctx     = 256;
	s->n_embd    = 64;
	s->n_layer   = 2;
	s->n_ff      = 160;
	s->n_head    = 4;
	s->n_head_kv = 2;
	s->rope_base = 10000.0f;
	s->norm_eps  = 1e-5f;
	s->wtype     = GPU_TYPE_F32;
	s->embd_type = GPU_TYPE_F32;
	s->seed      = 1;
}

typedef struct {
	uint64_t key;   /* seed and tensor number */
	float    scale; /* uniform in [-scale, scale) */
	float    bias;  /* added */
} tm_fill_arg;

static uint64_t
tm_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

/* Element i of a tensor depends only on (key, i): any chunking gives
 * the same weights. */
static void
tm_fill(void *arg, uint64_t first, uint64_t n, float *out)
{
	const tm_fill_arg *a = arg;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t r
		    = tm_mix(a->key + (first + i) * 0x9e3779b97f4a7c15ull);
		double u = (double) (r >> 40) * 0x1.0p-24 * 2.0 - 1.0;
		out[i]   = (float) (u * a->scale) + a->bias;
	}
}

int
gpu_test_model_make(const gpu_test_spec *s, uint8_t **p, size_t *n)
{
	int              rv    = GH_EINTERNAL;
	gpu_gguf_writer *w     = NULL;
	char           **tok   = NULL;
	float           *score = NULL;
	int32_t         *type  = NULL;
	tm_fill_arg     *args  = NULL;
	uint32_t         hd, kv, nt = 0, V;
	char             name[GPU_GGUF_MAX_NAME + 1];

	*p = NULL;
	*n = 0;
	if (s->n_vocab < TM_NBASE || s->n_head == 0 || s->n_head_kv == 0
	    || s->n_layer == 0 || s->n_embd % s->n_head != 0
	    || s->n_head % s->n_head_kv != 0
	    || (s->n_embd / s->n_head) % 2 != 0
	    || (s->wtype == GPU_TYPE_Q8_0
	        && (s->n_embd % 32 != 0 || s->n_ff % 32 != 0))
	    || (s->embd_type == GPU_TYPE_Q8_0 && s->n_embd % 32 != 0)) {
		return (GH_EINVAL);
	}
	V  = s->n_vocab;
	hd = s->n_embd / s->n_head;
	kv = s->n_head_kv * hd;
	if ((tok = calloc(V, sizeof(*tok))) == NULL
	    || (score = calloc(V, sizeof(*score))) == NULL
	    || (type = calloc(V, sizeof(*type))) == NULL
	    || (args = calloc(4 + 9 * (size_t) s->n_layer, sizeof(*args)))
	        == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < V; i++) {
		char buf[32];
		if (i == 0) {
			snprintf(buf, sizeof(buf), "<unk>");
			type[i] = 2;
		} else if (i == 1) {
			snprintf(buf, sizeof(buf), "<s>");
			type[i] = 3;
		} else if (i == 2) {
			snprintf(buf, sizeof(buf), "</s>");
			type[i] = 3;
		} else if (i < 259) {
			snprintf(buf, sizeof(buf), "<0x%02X>", i - 3);
			type[i] = 6;
		} else if (i == 259) {
			snprintf(buf, sizeof(buf), "%s", TM_SPACE);
			type[i]  = 1;
			score[i] = -1000.0f;
		} else if (i < 259 + 1 + 94) {
			snprintf(
			    buf, sizeof(buf), "%c", (char) (0x21 + i - 260));
			type[i]  = 1;
			score[i] = -1000.0f - (float) (i - 259);
		} else if (i < TM_NBASE) {
			snprintf(buf, sizeof(buf), "%s", tm_merges[i - 354]);
			type[i]  = 1;
			score[i] = -(float) (i - 354);
		} else {
			snprintf(buf, sizeof(buf), "[PAD%u]", i);
			type[i]  = 5;
			score[i] = -1e6f;
		}
		if ((tok[i] = strdup(buf)) == NULL) {
			rv = GH_ENOMEM;
			goto out;
		}
	}
	if ((rv = gpu_gguf_writer_new(&w)) != GH_OK) {
		goto out;
	}
	gpu_gguf_writer_str(w, "general.architecture", "llama");
	gpu_gguf_writer_str(w, "general.name", "gpuhour-test");
	gpu_gguf_writer_u32(w, "general.alignment", 32);
	gpu_gguf_writer_u32(w, "llama.context_length", s->n_ctx);
	gpu_gguf_writer_u32(w, "llama.embedding_length", s->n_embd);
	gpu_gguf_writer_u32(w, "llama.block_count", s->n_layer);
	gpu_gguf_writer_u32(w, "llama.feed_forward_length", s->n_ff);
	gpu_gguf_writer_u32(w, "llama.attention.head_count", s->n_head);
	gpu_gguf_writer_u32(w, "llama.attention.head_count_kv", s->n_head_kv);
	gpu_gguf_writer_u32(
	    w, "llama.rope.dimension_count", s->rope_dim ? s->rope_dim : hd);
	gpu_gguf_writer_f32(w, "llama.rope.freq_base", s->rope_base);
	gpu_gguf_writer_f32(
	    w, "llama.attention.layer_norm_rms_epsilon", s->norm_eps);
	gpu_gguf_writer_u32(w, "llama.vocab_size", V);
	gpu_gguf_writer_str(w, "tokenizer.ggml.model", "llama");
	gpu_gguf_writer_arr_str(
	    w, "tokenizer.ggml.tokens", (const char *const *) tok, V);
	gpu_gguf_writer_arr_f32(w, "tokenizer.ggml.scores", score, V);
	gpu_gguf_writer_arr_i32(w, "tokenizer.ggml.token_type", type, V);
	gpu_gguf_writer_u32(w, "tokenizer.ggml.bos_token_id", 1);
	gpu_gguf_writer_u32(w, "tokenizer.ggml.eos_token_id", 2);
	gpu_gguf_writer_u32(w, "tokenizer.ggml.unknown_token_id", 0);
	gpu_gguf_writer_bool(w, "tokenizer.ggml.add_bos_token", 1);

#define TM_T(nm, ty, c, r, sc, bi)                                                \
	do {                                                                      \
		uint64_t d_[2] = { (c), (r) };                                    \
		args[nt]       = (tm_fill_arg) {                                  \
			      tm_mix(s->seed) ^ ((uint64_t) nt << 48), (sc), (bi) \
		};                                                                \
		gpu_gguf_writer_tensor_fn(                                        \
		    w, (nm), (ty), (r) ? 2 : 1, d_, tm_fill, &args[nt]);          \
		nt++;                                                             \
	} while (0)

	TM_T("token_embd.weight", s->embd_type, s->n_embd, V, 1.0f, 0.0f);
	TM_T("output_norm.weight", GPU_TYPE_F32, s->n_embd, 0, 0.1f, 1.0f);
	if (!s->tied) {
		TM_T("output.weight", s->wtype, s->n_embd, V,
		    sqrtf(3.0f / (float) s->n_embd), 0.0f);
	}
	for (uint32_t l = 0; l < s->n_layer; l++) {
		float se = sqrtf(3.0f / (float) s->n_embd);
		float sf = sqrtf(3.0f / (float) s->n_ff);
#define TM_L(sfx, ty, c, r, sc, bi)                                           \
	do {                                                                  \
		snprintf(name, sizeof(name), "blk.%u.%s.weight", l, sfx);     \
		TM_T(name, ty, c, r, sc, bi);                                 \
	} while (0)
		TM_L("attn_norm", GPU_TYPE_F32, s->n_embd, 0, 0.1f, 1.0f);
		TM_L("attn_q", s->wtype, s->n_embd, s->n_embd, se, 0.0f);
		TM_L("attn_k", s->wtype, s->n_embd, kv, se, 0.0f);
		TM_L("attn_v", s->wtype, s->n_embd, kv, se, 0.0f);
		TM_L("attn_output", s->wtype, s->n_embd, s->n_embd, se, 0.0f);
		TM_L("ffn_norm", GPU_TYPE_F32, s->n_embd, 0, 0.1f, 1.0f);
		TM_L("ffn_gate", s->wtype, s->n_embd, s->n_ff, se, 0.0f);
		TM_L("ffn_up", s->wtype, s->n_embd, s->n_ff, se, 0.0f);
		TM_L("ffn_down", s->wtype, s->n_ff, s->n_embd, sf, 0.0f);
#undef TM_L
	}
#undef TM_T
	rv = gpu_gguf_writer_take(w, p, n);
out:
	gpu_gguf_writer_free(w);
	if (tok != NULL) {
		for (uint32_t i = 0; i < V; i++) {
			free(tok[i]);
		}
	}
	free(tok);
	free(score);
	free(type);
	free(args);
	return (rv);
}
