/* gguf.c - the GGUF reader: every field of a hostile file is checked
 * against the file before use. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"
#include "cuda/priv.h"

#define GGUF_MAGIC         0x46554747u /* "GGUF" little-endian */
#define GGUF_ALIGN_DEFAULT 32u
#define GGUF_ALIGN_MAX     65536u

typedef struct {
	const char    *key; /* points into the file, keylen bytes */
	size_t         keylen;
	gpu_gguf_vtype type;
	size_t         off; /* offset of the value (after the type) */
	/* Arrays. */
	gpu_gguf_vtype et;
	uint64_t       count;
	size_t         base;   /* offset of the first element */
	uint64_t      *stroff; /* string arrays: offset of each element */
} gguf_kv;

struct gpu_gguf {
	const uint8_t *p;
	size_t         n;
	uint32_t       version;
	uint32_t       align;
	size_t         data_off;
	size_t         nkv;
	gguf_kv       *kv;
	size_t         ntensor;
	gpu_tensor    *tensors;
	char          *names;  /* NUL-terminated names, one block */
	size_t        *byname; /* tensor indices sorted by name */
};

void
gpu_errf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL || cap == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

/* Little-endian fields through the one bounds-checked reader. */
static int
gguf_u32(gh_reader *r, uint32_t *v)
{
	uint8_t b[4];
	int     rv;

	if ((rv = gh_get_fixed(r, b, 4)) != GH_OK) {
		return (rv);
	}
	*v = (uint32_t) b[0] | (uint32_t) b[1] << 8 | (uint32_t) b[2] << 16
	    | (uint32_t) b[3] << 24;
	return (GH_OK);
}

static int
gguf_u64(gh_reader *r, uint64_t *v)
{
	uint8_t b[8];
	int     rv;

	if ((rv = gh_get_fixed(r, b, 8)) != GH_OK) {
		return (rv);
	}
	*v = 0;
	for (int i = 7; i >= 0; i--) {
		*v = *v << 8 | b[i];
	}
	return (GH_OK);
}

static uint64_t
gguf_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = n; i > 0; i--) {
		v = v << 8 | p[i - 1];
	}
	return (v);
}

/* A string: u64 length then bytes, at most max. */
static int
gguf_str(gh_reader *r, uint64_t max, const char **s, size_t *n)
{
	uint64_t       len;
	const uint8_t *v;
	int            rv;

	if ((rv = gguf_u64(r, &len)) != GH_OK) {
		return (rv);
	}
	if (len > max) {
		return (GH_ELIMIT);
	}
	if (len > gh_reader_left(r)) {
		return (GH_ETRUNC);
	}
	if ((rv = gh_get_view(r, (size_t) len, &v)) != GH_OK) {
		return (rv);
	}
	*s = (const char *) v;
	*n = (size_t) len;
	return (GH_OK);
}

static size_t
gguf_scalar_size(gpu_gguf_vtype t)
{
	switch (t) {
	case GPU_GGUF_U8:
	case GPU_GGUF_I8:
	case GPU_GGUF_BOOL:
		return (1);
	case GPU_GGUF_U16:
	case GPU_GGUF_I16:
		return (2);
	case GPU_GGUF_U32:
	case GPU_GGUF_I32:
	case GPU_GGUF_F32:
		return (4);
	case GPU_GGUF_U64:
	case GPU_GGUF_I64:
	case GPU_GGUF_F64:
		return (8);
	default:
		return (0);
	}
}

/* Reads one value of type t (not an array). */
static int
gguf_value(gh_reader *r, gpu_gguf_vtype t)
{
	const char    *s;
	const uint8_t *v;
	size_t         n, sz;
	int            rv;

	if (t == GPU_GGUF_STRING) {
		return (gguf_str(r, GPU_GGUF_MAX_STR, &s, &n));
	}
	if ((sz = gguf_scalar_size(t)) == 0) {
		return (GH_ECORRUPT);
	}
	if ((rv = gh_get_view(r, sz, &v)) != GH_OK) {
		return (rv);
	}
	return (t == GPU_GGUF_BOOL && v[0] > 1 ? GH_ECORRUPT : GH_OK);
}

/* Where the reader stands in the file of n bytes. */
static size_t
gguf_pos(const gh_reader *r, size_t n)
{
	return (n - gh_reader_left(r));
}

static int
gguf_kv_read(gh_reader *r, size_t fn, gguf_kv *kv, char *eb, size_t ec)
{
	uint32_t t, et;
	int      rv;

	if ((rv = gguf_str(r, 256, &kv->key, &kv->keylen)) != GH_OK) {
		gpu_errf(eb, ec, "bad metadata key");
		return (rv);
	}
	if ((rv = gguf_u32(r, &t)) != GH_OK) {
		return (rv);
	}
	if (t > GPU_GGUF_F64) {
		gpu_errf(eb, ec, "metadata %.*s: unknown value type %u",
		    (int) kv->keylen, kv->key, t);
		return (GH_ECORRUPT);
	}
	kv->type = (gpu_gguf_vtype) t;
	kv->off  = gguf_pos(r, fn);
	if (t != GPU_GGUF_ARRAY) {
		if ((rv = gguf_value(r, kv->type)) != GH_OK) {
			gpu_errf(eb, ec, "metadata %.*s: bad value",
			    (int) kv->keylen, kv->key);
		}
		return (rv);
	}
	if ((rv = gguf_u32(r, &et)) != GH_OK
	    || (rv = gguf_u64(r, &kv->count)) != GH_OK) {
		return (rv);
	}
	if (et > GPU_GGUF_F64 || et == GPU_GGUF_ARRAY) {
		gpu_errf(eb, ec, "metadata %.*s: unsupported array type %u",
		    (int) kv->keylen, kv->key, et);
		return (et == GPU_GGUF_ARRAY ? GH_EUNSUPPORTED : GH_ECORRUPT);
	}
	if (kv->count > GPU_GGUF_MAX_ARR) {
		gpu_errf(eb, ec, "metadata %.*s: array of %llu elements",
		    (int) kv->keylen, kv->key, (unsigned long long) kv->count);
		return (GH_ELIMIT);
	}
	kv->et   = (gpu_gguf_vtype) et;
	kv->base = gguf_pos(r, fn);
	if (et == GPU_GGUF_STRING) {
		/* Each string takes at least 8 bytes: bound the table by the
		 * file before allocating it. */
		if (kv->count > gh_reader_left(r) / 8) {
			return (GH_ETRUNC);
		}
		if ((kv->stroff = calloc(kv->count ? kv->count : 1, 8))
		    == NULL) {
			return (GH_ENOMEM);
		}
		for (uint64_t i = 0; i < kv->count; i++) {
			kv->stroff[i] = gguf_pos(r, fn);
			if ((rv = gguf_value(r, GPU_GGUF_STRING)) != GH_OK) {
				return (rv);
			}
		}
		return (GH_OK);
	}
	for (uint64_t i = 0; i < kv->count; i++) {
		if ((rv = gguf_value(r, kv->et)) != GH_OK) {
			return (rv);
		}
	}
	return (GH_OK);
}

int
gpu_type_size(gpu_type t, uint64_t nelem, uint64_t *bytes)
{
	switch (t) {
	case GPU_TYPE_F32:
		return (gh_mul_u64(nelem, 4, bytes));
	case GPU_TYPE_F16:
		return (gh_mul_u64(nelem, 2, bytes));
	case GPU_TYPE_Q8_0:
		if (nelem % GPU_Q8_0_BLOCK != 0) {
			return (GH_ECORRUPT);
		}
		return (
		    gh_mul_u64(nelem / GPU_Q8_0_BLOCK, GPU_Q8_0_BYTES, bytes));
	default:
		return (GH_EUNSUPPORTED);
	}
}

const char *
gpu_type_name(gpu_type t)
{
	switch (t) {
	case GPU_TYPE_F32:
		return ("F32");
	case GPU_TYPE_F16:
		return ("F16");
	case GPU_TYPE_Q8_0:
		return ("Q8_0");
	default:
		return ("unknown");
	}
}

static const char *const gguf_ggml_names[] = { "F32", "F16", "Q4_0", "Q4_1",
	"Q4_2", "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K",
	"Q5_K", "Q6_K", "Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
	"IQ4_NL", "IQ3_S", "IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64",
	"IQ1_M", "BF16" };

static int
gguf_tensor_read(gh_reader *r, gpu_tensor *t, const char **name,
    size_t *namelen, uint64_t *off, char *eb, size_t ec)
{
	uint32_t nd, type;
	uint64_t d;
	int      rv;

	if ((rv = gguf_str(r, GPU_GGUF_MAX_NAME, name, namelen)) != GH_OK) {
		gpu_errf(eb, ec, "bad tensor name");
		return (rv);
	}
	if (memchr(*name, '\0', *namelen) != NULL || *namelen == 0) {
		gpu_errf(eb, ec, "bad tensor name");
		return (GH_ECORRUPT);
	}
	if ((rv = gguf_u32(r, &nd)) != GH_OK) {
		return (rv);
	}
	if (nd == 0 || nd > GPU_GGUF_MAX_DIMS) {
		gpu_errf(eb, ec, "tensor %.*s: %u dimensions", (int) *namelen,
		    *name, nd);
		return (GH_ECORRUPT);
	}
	t->ndim  = nd;
	t->nelem = 1;
	for (uint32_t i = 0; i < nd; i++) {
		if ((rv = gguf_u64(r, &d)) != GH_OK) {
			return (rv);
		}
		if (d == 0 || d > ((uint64_t) 1 << 40)
		    || gh_mul_u64(t->nelem, d, &t->nelem) != GH_OK
		    || t->nelem > ((uint64_t) 1 << 40)) {
			gpu_errf(eb, ec, "tensor %.*s: bad shape",
			    (int) *namelen, *name);
			return (GH_ECORRUPT);
		}
		t->dims[i] = d;
	}
	for (uint32_t i = nd; i < GPU_GGUF_MAX_DIMS; i++) {
		t->dims[i] = 1;
	}
	if ((rv = gguf_u32(r, &type)) != GH_OK
	    || (rv = gguf_u64(r, off)) != GH_OK) {
		return (rv);
	}
	if (type != GPU_TYPE_F32 && type != GPU_TYPE_F16
	    && type != GPU_TYPE_Q8_0) {
		gpu_errf(eb, ec,
		    "tensor %.*s has type %s; this engine runs F32, F16 "
		    "and Q8_0",
		    (int) *namelen, *name,
		    type < sizeof(gguf_ggml_names) / sizeof(gguf_ggml_names[0])
		        ? gguf_ggml_names[type]
		        : "unknown");
		return (GH_EUNSUPPORTED);
	}
	t->type = (gpu_type) type;
	if (t->type == GPU_TYPE_Q8_0 && t->dims[0] % GPU_Q8_0_BLOCK != 0) {
		gpu_errf(eb, ec, "tensor %.*s: Q8_0 row not whole blocks",
		    (int) *namelen, *name);
		return (GH_ECORRUPT);
	}
	if ((rv = gpu_type_size(t->type, t->nelem, &t->nbytes)) != GH_OK) {
		return (rv == GH_EOVERFLOW ? GH_ECORRUPT : rv);
	}
	return (GH_OK);
}

static int
gguf_cmp_off(const void *a, const void *b)
{
	const gpu_tensor *x = *(const gpu_tensor *const *) a;
	const gpu_tensor *y = *(const gpu_tensor *const *) b;
	return (x->data < y->data ? -1 : x->data > y->data);
}

static int
gguf_cmp_name(const void *a, const void *b, void *arg)
{
	const gpu_gguf *g = arg;
	return (strcmp(g->tensors[*(const size_t *) a].name,
	    g->tensors[*(const size_t *) b].name));
}

static int
gguf_cmp_kv(const void *a, const void *b)
{
	const gguf_kv *x = *(const gguf_kv *const *) a;
	const gguf_kv *y = *(const gguf_kv *const *) b;
	size_t         n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int            c = memcmp(x->key, y->key, n);
	if (c != 0) {
		return (c);
	}
	return (x->keylen < y->keylen ? -1 : x->keylen > y->keylen);
}

void
gpu_gguf_free(gpu_gguf *g)
{
	if (g == NULL) {
		return;
	}
	for (size_t i = 0; i < g->nkv; i++) {
		free(g->kv[i].stroff);
	}
	free(g->kv);
	free(g->tensors);
	free(g->names);
	free(g->byname);
	free(g);
}

static const gguf_kv *
gguf_find(const gpu_gguf *g, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < g->nkv; i++) {
		if (g->kv[i].keylen == n
		    && memcmp(g->kv[i].key, key, n) == 0) {
			return (&g->kv[i]);
		}
	}
	return (NULL);
}

/* Reads a scalar at off of type t as a signed/unsigned integer. */
static int
gguf_int_at(const gpu_gguf *g, size_t off, gpu_gguf_vtype t, int64_t *sv,
    uint64_t *uv, int *is_signed)
{
	const uint8_t *q = g->p + off;
	uint64_t       u;

	switch (t) {
	case GPU_GGUF_U8:
	case GPU_GGUF_BOOL:
	case GPU_GGUF_U16:
	case GPU_GGUF_U32:
	case GPU_GGUF_U64:
		*uv        = gguf_le(q, (unsigned) gguf_scalar_size(t));
		*is_signed = 0;
		return (GH_OK);
	case GPU_GGUF_I8:
		*sv = (int8_t) q[0];
		break;
	case GPU_GGUF_I16:
		*sv = (int16_t) gguf_le(q, 2);
		break;
	case GPU_GGUF_I32:
		*sv = (int32_t) gguf_le(q, 4);
		break;
	case GPU_GGUF_I64:
		u = gguf_le(q, 8);
		memcpy(sv, &u, 8);
		break;
	default:
		return (GH_ETYPE);
	}
	*is_signed = 1;
	return (GH_OK);
}

int
gpu_gguf_get_u64(const gpu_gguf *g, const char *key, uint64_t *v)
{
	const gguf_kv *kv = gguf_find(g, key);
	int64_t        s;
	int            sg, rv;

	if (kv == NULL) {
		return (GH_ENOENT);
	}
	if ((rv = gguf_int_at(g, kv->off, kv->type, &s, v, &sg)) != GH_OK) {
		return (rv);
	}
	if (sg) {
		if (s < 0) {
			return (GH_ETYPE);
		}
		*v = (uint64_t) s;
	}
	return (GH_OK);
}

static float
gguf_f32_at(const uint8_t *q)
{
	uint32_t u = (uint32_t) gguf_le(q, 4);
	float    f;
	memcpy(&f, &u, 4);
	return (f);
}

int
gpu_gguf_get_f32(const gpu_gguf *g, const char *key, float *v)
{
	const gguf_kv *kv = gguf_find(g, key);
	uint64_t       u;
	double         d;

	if (kv == NULL) {
		return (GH_ENOENT);
	}
	if (kv->type == GPU_GGUF_F32) {
		*v = gguf_f32_at(g->p + kv->off);
		return (GH_OK);
	}
	if (kv->type == GPU_GGUF_F64) {
		u = gguf_le(g->p + kv->off, 8);
		memcpy(&d, &u, 8);
		*v = (float) d;
		return (GH_OK);
	}
	return (GH_ETYPE);
}

static void
gguf_str_at(const gpu_gguf *g, size_t off, const char **s, size_t *n)
{
	/* Validated at parse time: the length fits in the file. */
	*n = (size_t) gguf_le(g->p + off, 8);
	*s = (const char *) g->p + off + 8;
}

int
gpu_gguf_get_str(const gpu_gguf *g, const char *key, const char **s, size_t *n)
{
	const gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL) {
		return (GH_ENOENT);
	}
	if (kv->type != GPU_GGUF_STRING) {
		return (GH_ETYPE);
	}
	gguf_str_at(g, kv->off, s, n);
	return (GH_OK);
}

int
gpu_gguf_get_arr(
    const gpu_gguf *g, const char *key, gpu_gguf_vtype *et, uint64_t *count)
{
	const gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL) {
		return (GH_ENOENT);
	}
	if (kv->type != GPU_GGUF_ARRAY) {
		return (GH_ETYPE);
	}
	*et    = kv->et;
	*count = kv->count;
	return (GH_OK);
}

static const gguf_kv *
gguf_arr(const gpu_gguf *g, const char *key, uint64_t i, int *rv)
{
	const gguf_kv *kv = gguf_find(g, key);

	if (kv == NULL) {
		*rv = GH_ENOENT;
		return (NULL);
	}
	if (kv->type != GPU_GGUF_ARRAY) {
		*rv = GH_ETYPE;
		return (NULL);
	}
	if (i >= kv->count) {
		*rv = GH_EINVAL;
		return (NULL);
	}
	*rv = GH_OK;
	return (kv);
}

int
gpu_gguf_arr_str(
    const gpu_gguf *g, const char *key, uint64_t i, const char **s, size_t *n)
{
	int            rv;
	const gguf_kv *kv = gguf_arr(g, key, i, &rv);

	if (kv == NULL) {
		return (rv);
	}
	if (kv->et != GPU_GGUF_STRING) {
		return (GH_ETYPE);
	}
	gguf_str_at(g, kv->stroff[i], s, n);
	return (GH_OK);
}

int
gpu_gguf_arr_f32(const gpu_gguf *g, const char *key, uint64_t i, float *v)
{
	int            rv;
	const gguf_kv *kv = gguf_arr(g, key, i, &rv);

	if (kv == NULL) {
		return (rv);
	}
	if (kv->et != GPU_GGUF_F32) {
		return (GH_ETYPE);
	}
	*v = gguf_f32_at(g->p + kv->base + i * 4);
	return (GH_OK);
}

int
gpu_gguf_arr_i64(const gpu_gguf *g, const char *key, uint64_t i, int64_t *v)
{
	int            rv, sg;
	uint64_t       u  = 0;
	const gguf_kv *kv = gguf_arr(g, key, i, &rv);
	size_t         sz;

	if (kv == NULL) {
		return (rv);
	}
	if ((sz = gguf_scalar_size(kv->et)) == 0 || kv->et == GPU_GGUF_F32
	    || kv->et == GPU_GGUF_F64) {
		return (GH_ETYPE);
	}
	if ((rv = gguf_int_at(g, kv->base + i * sz, kv->et, v, &u, &sg))
	    != GH_OK) {
		return (rv);
	}
	if (!sg) {
		if (u > INT64_MAX) {
			return (GH_ETYPE);
		}
		*v = (int64_t) u;
	}
	return (GH_OK);
}

uint32_t
gpu_gguf_version(const gpu_gguf *g)
{
	return (g->version);
}

size_t
gpu_gguf_tensor_count(const gpu_gguf *g)
{
	return (g->ntensor);
}

const gpu_tensor *
gpu_gguf_tensor_at(const gpu_gguf *g, size_t i)
{
	return (i < g->ntensor ? &g->tensors[i] : NULL);
}

const gpu_tensor *
gpu_gguf_tensor(const gpu_gguf *g, const char *name)
{
	size_t lo = 0, hi = g->ntensor;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int    c   = strcmp(g->tensors[g->byname[mid]].name, name);
		if (c == 0) {
			return (&g->tensors[g->byname[mid]]);
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (NULL);
}

int
gpu_gguf_parse(const uint8_t *p, size_t n, gpu_gguf **out, char *eb, size_t ec)
{
	int                rv = GH_EINTERNAL;
	gpu_gguf          *g  = NULL;
	gh_reader          r;
	uint32_t           magic;
	uint64_t           ntensor, nkv, align64, *offs = NULL;
	const char       **names   = NULL;
	size_t            *namelen = NULL, nameall = 0, dsize;
	const gpu_tensor **byoff = NULL;
	const gguf_kv    **kvs   = NULL;

	*out = NULL;
	gpu_errf(eb, ec, "malformed GGUF file");
	if (p == NULL || ((uintptr_t) p & 7) != 0) {
		gpu_errf(eb, ec, "buffer not 8-byte aligned");
		return (GH_EINVAL);
	}
	gh_reader_init(&r, p, n);
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	g->p = p;
	g->n = n;
	if ((rv = gguf_u32(&r, &magic)) != GH_OK) {
		goto out;
	}
	if (magic != GGUF_MAGIC) {
		gpu_errf(eb, ec, "not a GGUF file (bad magic)");
		rv = GH_ECORRUPT;
		goto out;
	}
	if ((rv = gguf_u32(&r, &g->version)) != GH_OK) {
		goto out;
	}
	if (g->version != 2 && g->version != 3) {
		gpu_errf(eb, ec, "GGUF version %u (2 and 3 are supported)",
		    g->version);
		rv = GH_EVERSION;
		goto out;
	}
	if ((rv = gguf_u64(&r, &ntensor)) != GH_OK
	    || (rv = gguf_u64(&r, &nkv)) != GH_OK) {
		goto out;
	}
	if (ntensor > GPU_GGUF_MAX_TENSORS || nkv > GPU_GGUF_MAX_KV) {
		gpu_errf(eb, ec, "%llu tensors, %llu metadata pairs: too many",
		    (unsigned long long) ntensor, (unsigned long long) nkv);
		rv = GH_ELIMIT;
		goto out;
	}
	/* A pair takes at least 8 + 4 bytes, a tensor 8 + 4 + 8 + 4 + 8. */
	if (nkv > gh_reader_left(&r) / 12
	    || ntensor > gh_reader_left(&r) / 32) {
		rv = GH_ETRUNC;
		goto out;
	}
	if ((g->kv = calloc(nkv ? nkv : 1, sizeof(*g->kv))) == NULL
	    || (kvs = calloc(nkv ? nkv : 1, sizeof(*kvs))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	for (g->nkv = 0; g->nkv < nkv;) {
		gguf_kv *kv = &g->kv[g->nkv++];
		if ((rv = gguf_kv_read(&r, n, kv, eb, ec)) != GH_OK) {
			goto out;
		}
		kvs[g->nkv - 1] = kv;
	}
	qsort(kvs, g->nkv, sizeof(*kvs), gguf_cmp_kv);
	for (size_t i = 1; i < g->nkv; i++) {
		if (gguf_cmp_kv(&kvs[i - 1], &kvs[i]) == 0) {
			gpu_errf(eb, ec, "metadata key %.*s twice",
			    (int) kvs[i]->keylen, kvs[i]->key);
			rv = GH_ECORRUPT;
			goto out;
		}
	}
	g->align = GGUF_ALIGN_DEFAULT;
	rv       = gpu_gguf_get_u64(g, "general.alignment", &align64);
	if (rv == GH_OK) {
		if (align64 < 8 || align64 > GGUF_ALIGN_MAX
		    || (align64 & (align64 - 1)) != 0) {
			gpu_errf(eb, ec, "alignment %llu",
			    (unsigned long long) align64);
			rv = GH_ECORRUPT;
			goto out;
		}
		g->align = (uint32_t) align64;
	} else if (rv != GH_ENOENT) {
		gpu_errf(eb, ec, "general.alignment is not an integer");
		rv = GH_ECORRUPT;
		goto out;
	}

	if ((g->tensors = calloc(ntensor ? ntensor : 1, sizeof(*g->tensors)))
	        == NULL
	    || (offs = calloc(ntensor ? ntensor : 1, 8)) == NULL
	    || (names = calloc(ntensor ? ntensor : 1, sizeof(*names))) == NULL
	    || (namelen = calloc(ntensor ? ntensor : 1, sizeof(size_t)))
	        == NULL
	    || (byoff = calloc(ntensor ? ntensor : 1, sizeof(*byoff))) == NULL
	    || (g->byname = calloc(ntensor ? ntensor : 1, sizeof(size_t)))
	        == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ntensor; i++) {
		if ((rv = gguf_tensor_read(&r, &g->tensors[i], &names[i],
		         &namelen[i], &offs[i], eb, ec))
		    != GH_OK) {
			goto out;
		}
		nameall += namelen[i] + 1;
	}
	g->ntensor = ntensor;
	if ((g->names = malloc(nameall ? nameall : 1)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	nameall = 0;
	for (size_t i = 0; i < ntensor; i++) {
		memcpy(g->names + nameall, names[i], namelen[i]);
		g->names[nameall + namelen[i]] = '\0';
		g->tensors[i].name             = g->names + nameall;
		nameall += namelen[i] + 1;
	}
	/* The data section starts at the next multiple of the alignment. */
	g->data_off = gguf_pos(&r, n);
	g->data_off += (g->align - g->data_off % g->align) % g->align;
	if (g->data_off > n) {
		rv = GH_ETRUNC;
		goto out;
	}
	dsize = n - g->data_off;
	for (size_t i = 0; i < ntensor; i++) {
		gpu_tensor *t = &g->tensors[i];
		if (offs[i] % g->align != 0) {
			gpu_errf(
			    eb, ec, "tensor %s: misaligned offset", t->name);
			rv = GH_ECORRUPT;
			goto out;
		}
		if (offs[i] > dsize || t->nbytes > dsize - offs[i]) {
			gpu_errf(eb, ec,
			    "tensor %s: data past the end of the file",
			    t->name);
			rv = GH_ETRUNC;
			goto out;
		}
		t->data      = p + g->data_off + offs[i];
		byoff[i]     = t;
		g->byname[i] = i;
	}
	qsort(byoff, ntensor, sizeof(*byoff), gguf_cmp_off);
	for (size_t i = 1; i < ntensor; i++) {
		if (byoff[i - 1]->data + byoff[i - 1]->nbytes
		    > byoff[i]->data) {
			gpu_errf(eb, ec, "tensors %s and %s overlap",
			    byoff[i - 1]->name, byoff[i]->name);
			rv = GH_ECORRUPT;
			goto out;
		}
	}
	qsort_r(g->byname, ntensor, sizeof(size_t), gguf_cmp_name, g);
	for (size_t i = 1; i < ntensor; i++) {
		if (strcmp(g->tensors[g->byname[i - 1]].name,
		        g->tensors[g->byname[i]].name)
		    == 0) {
			gpu_errf(eb, ec, "tensor %s twice",
			    g->tensors[g->byname[i]].name);
			rv = GH_ECORRUPT;
			goto out;
		}
	}
	gpu_errf(eb, ec, "ok");
	*out = g;
	g    = NULL;
	rv   = GH_OK;
out:
	gpu_gguf_free(g);
	free(offs);
	free(names);
	free(namelen);
	free(byoff);
	free(kvs);
	return (rv);
}
