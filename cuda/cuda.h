/*
 * cuda.h - the inference engine: GGUF models of the llama architecture,
 * the SentencePiece tokenizer stored in them, a CPU backend (the
 * reference) and a CUDA backend loaded at run time, host sampling.
 * Prefix gpu_.  Imports only base/.
 *
 * Threads: a gpu_model is immutable once open and may be shared by
 * threads; a gpu_ctx (KV cache, scratch) belongs to one thread at a
 * time.  The CPU backend uses OpenMP inside a call; results are
 * bit-identical for every thread count (each output element is reduced
 * by one thread in one fixed order).
 */
#ifndef GPU_CUDA_H
#define GPU_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ------------------------------------------------------------------ */
/* GGUF files. */

/* Tensor types this engine runs (GGML type numbers). */
typedef enum {
	GPU_TYPE_F32  = 0,
	GPU_TYPE_F16  = 1,
	GPU_TYPE_Q8_0 = 8,
} gpu_type;

#define GPU_Q8_0_BLOCK 32 /* weights per Q8_0 block */
#define GPU_Q8_0_BYTES 34 /* f16 scale + 32 int8 */

/* Limits applied to every file before anything is allocated. */
#define GPU_GGUF_MAX_KV      4096u      /* metadata pairs */
#define GPU_GGUF_MAX_TENSORS 65536u     /* tensors */
#define GPU_GGUF_MAX_STR     (1u << 20) /* bytes in one string */
#define GPU_GGUF_MAX_NAME    64u        /* bytes in a tensor name */
#define GPU_GGUF_MAX_ARR     (1u << 24) /* elements in one array */
#define GPU_GGUF_MAX_DIMS    4u

/* Metadata value types (GGUF numbering). */
typedef enum {
	GPU_GGUF_U8 = 0,
	GPU_GGUF_I8,
	GPU_GGUF_U16,
	GPU_GGUF_I16,
	GPU_GGUF_U32,
	GPU_GGUF_I32,
	GPU_GGUF_F32,
	GPU_GGUF_BOOL,
	GPU_GGUF_STRING,
	GPU_GGUF_ARRAY,
	GPU_GGUF_U64,
	GPU_GGUF_I64,
	GPU_GGUF_F64,
} gpu_gguf_vtype;

typedef struct gpu_gguf gpu_gguf;

/* One tensor as the file describes it; data points into the file. */
typedef struct {
	const char    *name; /* NUL-terminated, owned by the gpu_gguf */
	gpu_type       type;
	uint32_t       ndim;
	uint64_t       dims[GPU_GGUF_MAX_DIMS]; /* dims[0] is innermost */
	uint64_t       nelem;
	const uint8_t *data;
	uint64_t       nbytes;
} gpu_tensor;

/*
 * Parses a GGUF file (version 2 or 3) held in p[0..n).  Every count,
 * offset, size, alignment and string length is checked against n
 * before use; tensors must lie inside the file, aligned, without
 * overlapping.  p is borrowed and must outlive *out (free with
 * gpu_gguf_free); p must be 8-byte aligned (GH_EINVAL).  A sentence
 * saying what is wrong goes to errbuf (may be NULL).  Errors:
 * GH_ETRUNC, GH_ECORRUPT (inconsistent), GH_EVERSION, GH_ELIMIT (over
 * a GPU_GGUF_MAX_), GH_EUNSUPPORTED (a tensor type other than
 * F32/F16/Q8_0), GH_ENOMEM.
 */
int gpu_gguf_parse(
    const uint8_t *p, size_t n, gpu_gguf **out, char *errbuf, size_t errcap);
void gpu_gguf_free(gpu_gguf *g); /* accepts NULL */

/* Metadata lookups by key.  GH_ENOENT when absent, GH_ETYPE when
 * present with another type (integers of any width convert when the
 * value fits).  Strings are borrowed views (not NUL-terminated). */
int gpu_gguf_get_u64(const gpu_gguf *g, const char *key, uint64_t *v);
int gpu_gguf_get_f32(const gpu_gguf *g, const char *key, float *v);
int gpu_gguf_get_str(
    const gpu_gguf *g, const char *key, const char **s, size_t *n);
/* An array: its element type and count (elements are read with the
 * gpu_gguf_arr_ functions, index checked). */
int gpu_gguf_get_arr(
    const gpu_gguf *g, const char *key, gpu_gguf_vtype *et, uint64_t *count);
int gpu_gguf_arr_str(
    const gpu_gguf *g, const char *key, uint64_t i, const char **s, size_t *n);
int gpu_gguf_arr_f32(const gpu_gguf *g, const char *key, uint64_t i, float *v);
int gpu_gguf_arr_i64(
    const gpu_gguf *g, const char *key, uint64_t i, int64_t *v);

uint32_t gpu_gguf_version(const gpu_gguf *g);
size_t   gpu_gguf_tensor_count(const gpu_gguf *g);
/* The i-th tensor in file order (NULL past the end); borrowed. */
const gpu_tensor *gpu_gguf_tensor_at(const gpu_gguf *g, size_t i);
/* A tensor by name, NULL when absent; borrowed. */
const gpu_tensor *gpu_gguf_tensor(const gpu_gguf *g, const char *name);

/* Bytes of a tensor of this type and element count; GH_ECORRUPT when
 * the count does not fill whole blocks, GH_EOVERFLOW. */
int         gpu_type_size(gpu_type t, uint64_t nelem, uint64_t *bytes);
const char *gpu_type_name(gpu_type t);

/* IEEE half <-> float, exact for every half. */
float    gpu_f16_to_f32(uint16_t h);
uint16_t gpu_f32_to_f16(float f); /* round to nearest even */

/* ------------------------------------------------------------------ */
/* GGUF writer (tests, benchmarks, `gpuhour model make-test`). */

typedef struct gpu_gguf_writer gpu_gguf_writer;

/* A new empty GGUF v3 file with alignment 32.  Free with
 * gpu_gguf_writer_free.  Errors are sticky: check gpu_gguf_writer_take. */
int  gpu_gguf_writer_new(gpu_gguf_writer **out);
void gpu_gguf_writer_free(gpu_gguf_writer *w); /* accepts NULL */
void gpu_gguf_writer_u32(gpu_gguf_writer *w, const char *key, uint32_t v);
void gpu_gguf_writer_f32(gpu_gguf_writer *w, const char *key, float v);
void gpu_gguf_writer_bool(gpu_gguf_writer *w, const char *key, int v);
void gpu_gguf_writer_str(gpu_gguf_writer *w, const char *key, const char *v);
void gpu_gguf_writer_arr_str(
    gpu_gguf_writer *w, const char *key, const char *const *v, uint64_t n);
void gpu_gguf_writer_arr_f32(
    gpu_gguf_writer *w, const char *key, const float *v, uint64_t n);
void gpu_gguf_writer_arr_i32(
    gpu_gguf_writer *w, const char *key, const int32_t *v, uint64_t n);
/*
 * Adds a tensor from fp32 values, converted to type (F16 rounds to
 * nearest even; Q8_0 uses the GGML rule d = max|x|/127, q = round(x/d)).
 * The data are copied.  dims[0] is innermost.
 */
void gpu_gguf_writer_tensor(gpu_gguf_writer *w, const char *name,
    gpu_type type, uint32_t ndim, const uint64_t *dims, const float *data);
/* As gpu_gguf_writer_tensor with the values produced on demand:
 * fill(arg, first, n, out) writes elements first..first+n-1 into out;
 * it is called from several threads at once and arg must live until
 * gpu_gguf_writer_take. */
void gpu_gguf_writer_tensor_fn(gpu_gguf_writer *w, const char *name,
    gpu_type type, uint32_t ndim, const uint64_t *dims,
    void (*fill)(void *arg, uint64_t first, uint64_t n, float *out),
    void *arg);
/* The file's bytes (malloc'd, caller frees; 64-byte aligned) or the
 * first error.  The writer may be freed afterwards. */
int gpu_gguf_writer_take(gpu_gguf_writer *w, uint8_t **p, size_t *n);

/* ------------------------------------------------------------------ */
/* Models. */

typedef struct gpu_model gpu_model;

typedef struct {
	uint32_t n_vocab;
	uint32_t n_ctx;   /* context length the model was trained for */
	uint32_t n_embd;  /* hidden size */
	uint32_t n_layer; /* blocks */
	uint32_t n_ff;    /* feed-forward size */
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t head_dim; /* n_embd / n_head */
	uint32_t rope_dim; /* dimensions rotated, adjacent pairs */
	float    rope_base;
	float    norm_eps;
	int      tied;       /* output projection shares token_embd */
	gpu_type wtype;      /* type of the attention / FFN weights */
	uint64_t n_params;   /* elements of all tensors */
	uint64_t file_bytes; /* size of the file */
	uint64_t tensor_bytes;
	/* Bytes of weights read for one decoded token (all matrices and
	 * norms, one embedding row). */
	uint64_t token_bytes;
	char     name[64]; /* general.name or "" */
} gpu_model_info;

/*
 * Opens a llama GGUF model: maps the file read-only, parses and checks
 * it (architecture, hyper-parameters, every tensor's presence, type and
 * shape, tokenizer).  GH_EUNSUPPORTED names in the error what is
 * missing: with errbuf (may be NULL) of errcap bytes, a sentence is
 * written there.  *out is freed with gpu_model_close.
 */
int gpu_model_open(
    const char *path, gpu_model **out, char *errbuf, size_t errcap);
/* As gpu_model_open over bytes in memory, 8-byte aligned; takes
 * ownership of p (freed with free() by gpu_model_close) when own is 1,
 * else borrows it for the model's life. */
int  gpu_model_from_memory(uint8_t *p, size_t n, int own, gpu_model **out,
     char *errbuf, size_t errcap);
void gpu_model_close(gpu_model *m); /* accepts NULL */

const gpu_model_info *gpu_model_info_get(const gpu_model *m);
const gpu_gguf       *gpu_model_gguf(const gpu_model *m);

/*
 * The model hash: tagged BLAKE2b-256 (GH_TAG_MODEL) over a canonical
 * manifest of hyper-parameters, the tokenizer and, for each tensor in
 * name order, its name, type, shape and the BLAKE2b-256 of its bytes.
 * Reads every weight (seconds for a large model).  GH_OK or GH_ENOMEM
 * (*out is then all zeros).  Any thread.
 */
int gpu_model_hash(const gpu_model *m, gh_hash *out);

/*
 * Floating-point operations to process one token at position pos (0-
 * based), counting 2 per multiply-add of the matrices and attention
 * (scores and weighted sum over pos+1 positions).
 */
uint64_t gpu_model_flops(const gpu_model *m, uint32_t pos);

/* ------------------------------------------------------------------ */
/* Tokenizer (SentencePiece "llama" model from the file). */

typedef struct gpu_tokenizer gpu_tokenizer;

/* Borrowed; lives as long as the model. */
const gpu_tokenizer *gpu_model_tokenizer(const gpu_model *m);
int32_t              gpu_tok_bos(const gpu_tokenizer *t);
int32_t              gpu_tok_eos(const gpu_tokenizer *t);
uint32_t             gpu_tok_count(const gpu_tokenizer *t);

/*
 * Encodes text[0..n) (UTF-8; other bytes go through byte fallback)
 * into at most cap token ids; BOS first when add_bos.  A space prefix
 * is added as SentencePiece does.  *ntok receives the count; GH_ELIMIT
 * when cap is too small or n is over GPU_TOK_MAX_TEXT.
 */
#define GPU_TOK_MAX_TEXT (1u << 20)
int gpu_tok_encode(const gpu_tokenizer *t, const char *text, size_t n,
    int add_bos, int32_t *toks, size_t cap, size_t *ntok);
/*
 * The bytes of token tok as it appears in text (byte tokens give their
 * byte, "\xe2\x96\x81" becomes a space, control tokens give nothing);
 * the leading space is dropped when prev is BOS (or -1 at the start).
 * Writes at most cap bytes; *n the length.  GH_EINVAL for an id out of
 * range, GH_ELIMIT when cap is short.
 */
int gpu_tok_decode(const gpu_tokenizer *t, int32_t prev, int32_t tok,
    char *out, size_t cap, size_t *n);

/* ------------------------------------------------------------------ */
/* Backends and forward passes. */

typedef enum {
	GPU_BACKEND_CPU  = 0,
	GPU_BACKEND_CUDA = 1,
} gpu_backend_kind;

typedef struct gpu_ctx gpu_ctx;

/*
 * A context: the model on a backend, with a KV cache of n_ctx positions
 * (0 means the model's n_ctx, capped at GPU_CTX_MAX).  n_threads is the
 * OpenMP thread count of the CPU backend (0: OpenMP's default).  The
 * CPU backend picks its kernels by the CPU's instruction sets (all give
 * the same bits); GPUHOUR_CPU_ISA=generic|avx2|avx512 forces one.  For
 * GPU_BACKEND_CUDA the module is loaded (gpu_cuda_available); a missing
 * module or device gives GH_EDEVICE with the reason in errbuf.  The
 * model must outlive the context.  Free with gpu_ctx_free.
 */
#define GPU_CTX_MAX 65536u
int  gpu_ctx_new(const gpu_model *m, gpu_backend_kind kind, uint32_t n_ctx,
     int n_threads, gpu_ctx **out, char *errbuf, size_t errcap);
void gpu_ctx_free(gpu_ctx *c); /* accepts NULL */
gpu_backend_kind gpu_ctx_backend(const gpu_ctx *c);
/* Forgets the KV cache: the next token is at position 0. */
void     gpu_ctx_reset(gpu_ctx *c);
uint32_t gpu_ctx_pos(const gpu_ctx *c); /* positions in the cache */

/*
 * Runs tokens toks[0..n) at positions pos..pos+n-1, pos being
 * gpu_ctx_pos (teacher forcing: the tokens are given, whatever the
 * model would have sampled), appending them to the KV cache.  Outputs,
 * each NULL when not wanted:
 *   logits: n_vocab floats for the last position only, or for every
 *           position (n * n_vocab, row-major) when all_logits;
 *   hidden: n * n_embd floats, the final hidden state after the last
 *           RMSNorm, before the output projection, for every position.
 * *device_ns (may be NULL) receives the device time of this call: CUDA
 * events on the GPU, process CPU time on the CPU.  A pass over n tokens
 * gives the same numbers as n passes of one token on the CPU backend.
 * GH_ELIMIT when the cache would overflow, GH_EINVAL for a token id out
 * of range, GH_EDEVICE on a device failure.
 */
int gpu_ctx_forward(gpu_ctx *c, const int32_t *toks, uint32_t n, float *logits,
    int all_logits, float *hidden, uint64_t *device_ns);

/* The CUDA module: GH_OK when it loads and reports a device; else
 * GH_EDEVICE with the reason in errbuf.  Any thread. */
int gpu_cuda_available(char *errbuf, size_t errcap);

/* The CUDA device's copy bandwidth (bytes read plus bytes written per
 * second, device-to-device copies timed with CUDA events): the floor
 * of the GPU decode benchmark.  GH_EDEVICE (reason in errbuf) without
 * a module or device, GH_EUNSUPPORTED when the module measures none.
 * Seconds; any thread. */
int gpu_cuda_copy_bandwidth(double *bytes_per_s, char *errbuf, size_t errcap);

/*
 * The start-up self-test of the CUDA backend: a tiny model written in
 * memory runs on the CUDA backend and the CPU reference; GH_OK when
 * every logit agrees within 1e-3 absolute and greedy generation of a
 * few tokens is identical, GH_EDEVICE (reason in errbuf) otherwise, so
 * that a node refuses to offer the device.  Seconds; any thread.
 */
int gpu_backend_selftest(char *errbuf, size_t errcap);

/*
 * The comparison behind the self-test, on the test model of spec s
 * (declared below): n_prompt tokens prefilled, then n_gen greedy steps
 * (n_prompt + n_gen <= 1024), on the CUDA backend and the CPU
 * reference.  GH_OK when every logit agrees within 1e-3 absolute and
 * every greedy token is the same; GH_EDEVICE (what differed in errbuf)
 * otherwise, or the error of a step.  Any thread.
 */
typedef struct gpu_test_spec gpu_test_spec;
int gpu_backend_compare(const gpu_test_spec *s, uint32_t n_prompt,
    uint32_t n_gen, char *errbuf, size_t errcap);

/* ------------------------------------------------------------------ */
/* NVML, loaded at run time (libnvidia-ml.so.1). */

typedef struct {
	char     name[96];
	char     uuid[96];
	uint64_t mem_total;
	int      have_energy;
	uint64_t energy_mj; /* total since driver load, self-reported */
} gpu_nvml_device;

/* Device index i; GH_ENOENT when NVML or the device is missing. */
int gpu_nvml_query(unsigned i, gpu_nvml_device *out);

/* ------------------------------------------------------------------ */
/* Sampling on the host, from fp32 logits. */

typedef struct {
	float    temperature; /* <= 0: greedy */
	float    top_p;       /* in (0, 1]; 1 keeps all */
	uint32_t top_k;       /* 0: no limit */
	uint64_t seed;
} gpu_sample_params;

/* A seeded generator (splitmix64), state owned by the caller. */
typedef struct {
	uint64_t s;
} gpu_rng;

void     gpu_rng_seed(gpu_rng *r, uint64_t seed);
uint64_t gpu_rng_next(gpu_rng *r);

/*
 * Picks a token from logits[0..n): greedy when temperature <= 0 (ties
 * to the lowest index); otherwise softmax at that temperature in
 * double, candidates sorted by probability (ties by index), cut by
 * top_k and top_p, one draw from rng.  scratch holds 2 * n entries of
 * gpu_sample_scratch (the caller's, to avoid allocation per token; may
 * be NULL for greedy).  GH_EINVAL for n 0, no finite logit, or top_p
 * outside (0, 1].
 */
typedef struct {
	double   p;
	uint32_t id;
} gpu_sample_scratch;
int gpu_sample(const float *logits, uint32_t n, const gpu_sample_params *sp,
    gpu_rng *rng, gpu_sample_scratch *scratch, int32_t *tok);

/* ------------------------------------------------------------------ */
/* Test models. */

struct gpu_test_spec {
	uint32_t n_vocab; /* >= 259; the test vocabulary is padded */
	uint32_t n_ctx;
	uint32_t n_embd;
	uint32_t n_layer;
	uint32_t n_ff;
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t rope_dim; /* 0: head_dim */
	float    rope_base;
	float    norm_eps;
	int      tied;
	gpu_type wtype;     /* matrices; norms stay F32 */
	gpu_type embd_type; /* token_embd (and the tied output) */
	uint64_t seed;
};

/*
 * A llama model with deterministic random weights (from seed) and a
 * small English-ish vocabulary with byte fallback, as GGUF bytes
 * (malloc'd, 64-byte aligned, caller frees).  Any thread.
 */
int gpu_test_model_make(const gpu_test_spec *s, uint8_t **p, size_t *n);
/* A spec with the fields of a small model filled in. */
void gpu_test_spec_default(gpu_test_spec *s);

#endif /* GPU_CUDA_H */
