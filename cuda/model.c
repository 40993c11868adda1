/* model.c - llama models from GGUF: checks, weights, hash, FLOPs. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cuda/cuda.h"
#include "cuda/priv.h"

#define GPU_TAG_TENSOR "gpuhour/tensor/v1"

/* Limits on hyper-parameters, so that sizes computed from them fit. */
#define M_MAX_EMBD  65536u
#define M_MAX_LAYER 1024u
#define M_MAX_FF    (1u << 20)
#define M_MAX_VOCAB (1u << 22)
#define M_MAX_HEAD  1024u

struct gpu_model {
	uint8_t       *map; /* the file's bytes */
	size_t         maplen;
	int            mapped; /* 1: munmap, 2: free, 0: borrowed */
	gpu_gguf      *g;
	gpu_tokenizer *tok;
	gpu_model_info info;
	gpu_weights    w;
	gpu_layer     *layers;
	gpu_mat        embd;
};

void
gpu_model_close(gpu_model *m)
{
	if (m == NULL) {
		return;
	}
	gpu_tokenizer_free(m->tok);
	gpu_gguf_free(m->g);
	free(m->layers);
	if (m->mapped == 1 && m->map != NULL) {
		munmap(m->map, m->maplen);
	} else if (m->mapped == 2) {
		free(m->map);
	}
	free(m);
}

static int
m_u32(const gpu_gguf *g, const char *key, uint32_t dflt, int required,
    uint32_t max, uint32_t *v, char *eb, size_t ec)
{
	uint64_t u;
	int      rv = gpu_gguf_get_u64(g, key, &u);

	if (rv == GH_ENOENT && !required) {
		*v = dflt;
		return (GH_OK);
	}
	if (rv == GH_ENOENT) {
		gpu_errf(eb, ec, "missing metadata %s", key);
		return (GH_EUNSUPPORTED);
	}
	if (rv != GH_OK || u == 0 || u > max) {
		gpu_errf(eb, ec, "metadata %s: bad value", key);
		return (GH_ECORRUPT);
	}
	*v = (uint32_t) u;
	return (GH_OK);
}

static int
m_f32(const gpu_gguf *g, const char *key, float dflt, float *v, char *eb,
    size_t ec)
{
	int rv = gpu_gguf_get_f32(g, key, v);

	if (rv == GH_ENOENT) {
		*v = dflt;
		return (GH_OK);
	}
	if (rv != GH_OK || !isfinite(*v) || *v <= 0.0f) {
		gpu_errf(eb, ec, "metadata %s: bad value", key);
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

/* A tensor named name, of shape [cols, rows] (rows 0: a vector of
 * cols), any engine type unless f32_only. */
static int
m_tensor(const gpu_gguf *g, const char *name, uint64_t cols, uint64_t rows,
    int f32_only, const gpu_tensor **out, char *eb, size_t ec)
{
	const gpu_tensor *t = gpu_gguf_tensor(g, name);

	if (t == NULL) {
		gpu_errf(eb, ec, "missing tensor %s", name);
		return (GH_EUNSUPPORTED);
	}
	if (t->dims[0] != cols || t->dims[1] != (rows ? rows : 1)
	    || t->dims[2] != 1 || t->dims[3] != 1) {
		gpu_errf(eb, ec, "tensor %s has the wrong shape", name);
		return (GH_ECORRUPT);
	}
	if (f32_only && t->type != GPU_TYPE_F32) {
		gpu_errf(eb, ec, "tensor %s must be F32, is %s", name,
		    gpu_type_name(t->type));
		return (GH_EUNSUPPORTED);
	}
	*out = t;
	return (GH_OK);
}

static void
m_mat(const gpu_tensor *t, gpu_mat *m)
{
	m->type      = (int) t->type;
	m->data      = t->data;
	m->nbytes    = t->nbytes;
	m->cols      = (uint32_t) t->dims[0];
	m->rows      = (uint32_t) t->dims[1];
	m->row_bytes = t->nbytes / t->dims[1];
}

static int
m_load(gpu_model *m, char *eb, size_t ec)
{
	gpu_model_info   *in = &m->info;
	const gpu_gguf   *g  = m->g;
	const char       *s;
	size_t            sn;
	const gpu_tensor *t;
	char              name[GPU_GGUF_MAX_NAME + 1];
	int               rv;
	uint32_t          kvdim;

	if (gpu_gguf_get_str(g, "general.architecture", &s, &sn) != GH_OK) {
		gpu_errf(eb, ec, "missing metadata general.architecture");
		return (GH_EUNSUPPORTED);
	}
	if (sn != 5 || memcmp(s, "llama", 5) != 0) {
		gpu_errf(eb, ec,
		    "architecture '%.*s' is not supported (only llama)",
		    (int) (sn > 64 ? 64 : sn), s);
		return (GH_EUNSUPPORTED);
	}
	if (gpu_gguf_get_str(g, "general.name", &s, &sn) == GH_OK) {
		snprintf(in->name, sizeof(in->name), "%.*s",
		    (int) (sn > 63 ? 63 : sn), s);
	}
	if ((rv = m_u32(g, "llama.context_length", 0, 1, 1u << 24, &in->n_ctx,
	         eb, ec))
	        != GH_OK
	    || (rv = m_u32(g, "llama.embedding_length", 0, 1, M_MAX_EMBD,
	            &in->n_embd, eb, ec))
	        != GH_OK
	    || (rv = m_u32(g, "llama.block_count", 0, 1, M_MAX_LAYER,
	            &in->n_layer, eb, ec))
	        != GH_OK
	    || (rv = m_u32(g, "llama.feed_forward_length", 0, 1, M_MAX_FF,
	            &in->n_ff, eb, ec))
	        != GH_OK
	    || (rv = m_u32(g, "llama.attention.head_count", 0, 1, M_MAX_HEAD,
	            &in->n_head, eb, ec))
	        != GH_OK
	    || (rv = m_u32(g, "llama.attention.head_count_kv", in->n_head, 0,
	            M_MAX_HEAD, &in->n_head_kv, eb, ec))
	        != GH_OK) {
		return (rv);
	}
	if (in->n_embd % in->n_head != 0 || (in->n_embd / in->n_head) % 2 != 0
	    || in->n_head % in->n_head_kv != 0) {
		gpu_errf(eb, ec, "head counts do not divide the embedding");
		return (GH_ECORRUPT);
	}
	in->head_dim = in->n_embd / in->n_head;
	if ((rv = m_u32(g, "llama.rope.dimension_count", in->head_dim, 0,
	         in->head_dim, &in->rope_dim, eb, ec))
	    != GH_OK) {
		return (rv);
	}
	if (in->rope_dim % 2 != 0) {
		gpu_errf(eb, ec, "odd rope dimension");
		return (GH_ECORRUPT);
	}
	if ((rv = m_f32(
	         g, "llama.rope.freq_base", 10000.0f, &in->rope_base, eb, ec))
	        != GH_OK
	    || (rv = m_f32(g, "llama.attention.layer_norm_rms_epsilon", 1e-5f,
	            &in->norm_eps, eb, ec))
	        != GH_OK) {
		return (rv);
	}
	if ((rv = gpu_tokenizer_new(g, &m->tok, eb, ec)) != GH_OK) {
		return (rv);
	}
	in->n_vocab = gpu_tok_count(m->tok);
	if (in->n_vocab > M_MAX_VOCAB) {
		gpu_errf(eb, ec, "vocabulary too large");
		return (GH_ELIMIT);
	}
	kvdim = in->n_head_kv * in->head_dim;

	if ((rv = m_tensor(g, "token_embd.weight", in->n_embd, in->n_vocab, 0,
	         &t, eb, ec))
	    != GH_OK) {
		return (rv);
	}
	m_mat(t, &m->embd);
	if ((rv = m_tensor(
	         g, "output_norm.weight", in->n_embd, 0, 1, &t, eb, ec))
	    != GH_OK) {
		return (rv);
	}
	m->w.out_norm = (const float *) t->data;
	if (gpu_gguf_tensor(g, "output.weight") == NULL) {
		in->tied = 1;
		m->w.out = m->embd;
	} else {
		if ((rv = m_tensor(g, "output.weight", in->n_embd, in->n_vocab,
		         0, &t, eb, ec))
		    != GH_OK) {
			return (rv);
		}
		m_mat(t, &m->w.out);
	}
	if ((m->layers = calloc(in->n_layer, sizeof(*m->layers))) == NULL) {
		return (GH_ENOMEM);
	}
	for (uint32_t l = 0; l < in->n_layer; l++) {
		gpu_layer *L = &m->layers[l];
		struct {
			const char   *n;
			uint32_t      cols, rows;
			gpu_mat      *mat;
			const float **vec;
		} want[] = {
			{ "attn_norm", in->n_embd, 0, NULL, &L->attn_norm },
			{ "ffn_norm", in->n_embd, 0, NULL, &L->ffn_norm },
			{ "attn_q", in->n_embd, in->n_embd, &L->wq, NULL },
			{ "attn_k", in->n_embd, kvdim, &L->wk, NULL },
			{ "attn_v", in->n_embd, kvdim, &L->wv, NULL },
			{ "attn_output", in->n_embd, in->n_embd, &L->wo,
			    NULL },
			{ "ffn_gate", in->n_embd, in->n_ff, &L->wgate, NULL },
			{ "ffn_up", in->n_embd, in->n_ff, &L->wup, NULL },
			{ "ffn_down", in->n_ff, in->n_embd, &L->wdown, NULL },
		};
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
			snprintf(name, sizeof(name), "blk.%u.%s.weight", l,
			    want[i].n);
			if ((rv = m_tensor(g, name, want[i].cols, want[i].rows,
			         want[i].vec != NULL, &t, eb, ec))
			    != GH_OK) {
				return (rv);
			}
			if (want[i].vec != NULL) {
				*want[i].vec = (const float *) t->data;
			} else {
				m_mat(t, want[i].mat);
			}
		}
	}
	in->wtype = (gpu_type) m->layers[0].wq.type;

	m->w.n_vocab   = in->n_vocab;
	m->w.n_embd    = in->n_embd;
	m->w.n_layer   = in->n_layer;
	m->w.n_ff      = in->n_ff;
	m->w.n_head    = in->n_head;
	m->w.n_head_kv = in->n_head_kv;
	m->w.head_dim  = in->head_dim;
	m->w.rope_dim  = in->rope_dim;
	m->w.rope_base = in->rope_base;
	m->w.norm_eps  = in->norm_eps;
	m->w.layers    = m->layers;

	in->file_bytes = m->maplen;
	for (size_t i = 0; i < gpu_gguf_tensor_count(g); i++) {
		t = gpu_gguf_tensor_at(g, i);
		in->n_params += t->nelem;
		in->tensor_bytes += t->nbytes;
	}
	in->token_bytes
	    = m->w.out.nbytes + 4ull * in->n_embd + m->embd.row_bytes;
	for (uint32_t l = 0; l < in->n_layer; l++) {
		const gpu_layer *L = &m->layers[l];
		in->token_bytes += L->wq.nbytes + L->wk.nbytes + L->wv.nbytes
		    + L->wo.nbytes + L->wgate.nbytes + L->wup.nbytes
		    + L->wdown.nbytes + 8ull * in->n_embd;
	}
	return (GH_OK);
}

int
gpu_model_from_memory(
    uint8_t *p, size_t n, int own, gpu_model **out, char *eb, size_t ec)
{
	gpu_model *m;
	int        rv;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		if (own) {
			free(p);
		}
		return (GH_ENOMEM);
	}
	m->map    = p;
	m->maplen = n;
	m->mapped = own ? 2 : 0;
	if ((rv = gpu_gguf_parse(p, n, &m->g, eb, ec)) != GH_OK
	    || (rv = m_load(m, eb, ec)) != GH_OK) {
		gpu_model_close(m);
		return (rv);
	}
	*out = m;
	return (GH_OK);
}

int
gpu_model_open(const char *path, gpu_model **out, char *eb, size_t ec)
{
	gpu_model  *m  = NULL;
	int         fd = -1, rv = GH_EINTERNAL;
	struct stat st;
	void       *map;

	*out = NULL;
	gpu_errf(eb, ec, "cannot open %s", path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0
	    || fstat(fd, &st) != 0) {
		rv = gh_err_from_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 24) {
		gpu_errf(eb, ec, "%s: not a GGUF file", path);
		rv = S_ISREG(st.st_mode) ? GH_ETRUNC : GH_EINVAL;
		goto out;
	}
	if ((uint64_t) st.st_size > SIZE_MAX) {
		rv = GH_ELIMIT;
		goto out;
	}
	map = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED) {
		rv = gh_err_from_errno(errno);
		goto out;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		munmap(map, (size_t) st.st_size);
		rv = GH_ENOMEM;
		goto out;
	}
	m->map    = map;
	m->maplen = (size_t) st.st_size;
	m->mapped = 1;
	if ((rv = gpu_gguf_parse(m->map, m->maplen, &m->g, eb, ec)) != GH_OK
	    || (rv = m_load(m, eb, ec)) != GH_OK) {
		goto out;
	}
	*out = m;
	m    = NULL;
	rv   = GH_OK;
out:
	gpu_model_close(m);
	if (fd >= 0) {
		close(fd);
	}
	return (rv);
}

const gpu_model_info *
gpu_model_info_get(const gpu_model *m)
{
	return (&m->info);
}

const gpu_gguf *
gpu_model_gguf(const gpu_model *m)
{
	return (m->g);
}

const gpu_tokenizer *
gpu_model_tokenizer(const gpu_model *m)
{
	return (m->tok);
}

const gpu_weights *
gpu_model_weights(const gpu_model *m)
{
	return (&m->w);
}

void
gpu_model_embed(const gpu_model *m, int32_t tok, float *out)
{
	const uint8_t *row = (const uint8_t *) m->embd.data
	    + (size_t) tok * m->embd.row_bytes;
	uint32_t n = m->embd.cols;

	switch (m->embd.type) {
	case GPU_TYPE_F32:
		memcpy(out, row, n * sizeof(float));
		break;
	case GPU_TYPE_F16:
		for (uint32_t i = 0; i < n; i++) {
			out[i] = gpu_f16_to_f32(
			    (uint16_t) (row[2 * i] | row[2 * i + 1] << 8));
		}
		break;
	default: /* Q8_0 */
		for (uint32_t b = 0; b < n / GPU_Q8_0_BLOCK; b++) {
			const uint8_t *q = row + b * GPU_Q8_0_BYTES;
			float          d
			    = gpu_f16_to_f32((uint16_t) (q[0] | q[1] << 8));
			for (int i = 0; i < GPU_Q8_0_BLOCK; i++) {
				out[b * GPU_Q8_0_BLOCK + i]
				    = d * (float) (int8_t) q[2 + i];
			}
		}
		break;
	}
}

uint64_t
gpu_model_flops(const gpu_model *m, uint32_t pos)
{
	const gpu_model_info *in = &m->info;
	uint64_t              kv = (uint64_t) in->n_head_kv * in->head_dim;
	uint64_t              per_layer, f;

	per_layer = 2ull * in->n_embd * in->n_embd      /* q, o */
	    + 2ull * in->n_embd * kv                    /* k, v */
	    + 3ull * in->n_embd * in->n_ff              /* gate, up, down */
	    + 2ull * in->n_embd * ((uint64_t) pos + 1); /* scores, values */
	f = 2ull
	    * (per_layer * in->n_layer + (uint64_t) in->n_embd * in->n_vocab);
	return (f);
}

static int
m_cmp_name(const void *a, const void *b)
{
	return (strcmp((*(const gpu_tensor *const *) a)->name,
	    (*(const gpu_tensor *const *) b)->name));
}

int
gpu_model_hash(const gpu_model *m, gh_hash *out)
{
	const gpu_model_info *in = &m->info;
	size_t                nt = gpu_gguf_tensor_count(m->g);
	const gpu_tensor    **ts = calloc(nt ? nt : 1, sizeof(*ts));
	gh_hash              *th = calloc(nt ? nt : 1, sizeof(*th));
	gh_hash               tokh;
	gh_hasher             h;
	gh_writer             w;
	uint32_t              bits;
	int                   rv;

	memset(out, 0, sizeof(*out));
	if (ts == NULL || th == NULL) {
		free(ts);
		free(th);
		return (GH_ENOMEM);
	}
	for (size_t i = 0; i < nt; i++) {
		ts[i] = gpu_gguf_tensor_at(m->g, i);
	}
	qsort(ts, nt, sizeof(*ts), m_cmp_name);
#pragma omp parallel for schedule(dynamic)
	for (int64_t i = 0; i < (int64_t) nt; i++) {
		gh_hash_tagged(GPU_TAG_TENSOR, ts[i]->data,
		    (size_t) ts[i]->nbytes, &th[i]);
	}
	gpu_tokenizer_hash(m->tok, &tokh);
	gh_writer_init(&w);
	gh_put_cstr(&w, 16, "llama");
	gh_put_u32(&w, in->n_vocab);
	gh_put_u32(&w, in->n_ctx);
	gh_put_u32(&w, in->n_embd);
	gh_put_u32(&w, in->n_layer);
	gh_put_u32(&w, in->n_ff);
	gh_put_u32(&w, in->n_head);
	gh_put_u32(&w, in->n_head_kv);
	gh_put_u32(&w, in->rope_dim);
	memcpy(&bits, &in->rope_base, 4);
	gh_put_u32(&w, bits);
	memcpy(&bits, &in->norm_eps, 4);
	gh_put_u32(&w, bits);
	gh_put_bool(&w, in->tied);
	gh_put_fixed(&w, tokh.b, 32);
	gh_put_u32(&w, (uint32_t) nt);
	for (size_t i = 0; i < nt; i++) {
		gh_put_cstr(&w, GPU_GGUF_MAX_NAME, ts[i]->name);
		gh_put_u32(&w, (uint32_t) ts[i]->type);
		gh_put_u8(&w, (uint8_t) ts[i]->ndim);
		for (uint32_t d = 0; d < ts[i]->ndim; d++) {
			gh_put_u64(&w, ts[i]->dims[d]);
		}
		gh_put_fixed(&w, th[i].b, 32);
	}
	if ((rv = gh_writer_err(&w)) == GH_OK) {
		gh_hasher_init(&h, GH_TAG_MODEL);
		gh_hasher_update(&h, w.p, w.len);
		gh_hasher_final(&h, out);
	}
	gh_writer_free(&w);
	free(ts);
	free(th);
	return (rv);
}
