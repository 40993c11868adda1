/* tokenizer.c - SentencePiece's "llama" model (BPE over scores, byte
 * fallback) as stored in GGUF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"
#include "cuda/priv.h"

#define TOK_TAG       "gpuhour/tokenizer/v1"
#define TOK_MAX_VOCAB (1u << 22)
#define TOK_MAX_PIECE 256u
#define TOK_TYPE_CTRL 3
#define TOK_TYPE_BYTE 6
#define TOK_SPACE     "\xe2\x96\x81" /* U+2581, SentencePiece's space */
#define TOK_SPACE_LEN 3

struct gpu_tokenizer {
	uint32_t     n;
	const char **piece; /* into the file, not NUL-terminated */
	uint32_t    *len;
	float       *score;
	int32_t     *type;
	int32_t      byte_id[256];
	int32_t      bos, eos, unk;
	int          add_space;
	uint32_t     hmask; /* hash table of pieces: ids, -1 empty */
	int32_t     *hash;
};

static uint64_t
tok_fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (uint8_t) s[i]) * 1099511628211ull;
	}
	return (h);
}

static int32_t
tok_find(const gpu_tokenizer *t, const char *s, size_t n)
{
	for (uint64_t i = tok_fnv(s, n);; i++) {
		int32_t id = t->hash[i & t->hmask];
		if (id < 0) {
			return (-1);
		}
		if (t->len[id] == n && memcmp(t->piece[id], s, n) == 0) {
			return (id);
		}
	}
}

void
gpu_tokenizer_free(gpu_tokenizer *t)
{
	if (t == NULL) {
		return;
	}
	free(t->piece);
	free(t->len);
	free(t->score);
	free(t->type);
	free(t->hash);
	free(t);
}

static int
tok_id(const gpu_gguf *g, const char *key, int32_t dflt, uint32_t n,
    int32_t *out, char *eb, size_t ec)
{
	uint64_t v;
	int      rv = gpu_gguf_get_u64(g, key, &v);

	if (rv == GH_ENOENT) {
		v = (uint64_t) dflt;
	} else if (rv != GH_OK) {
		gpu_errf(eb, ec, "metadata %s: bad value", key);
		return (GH_ECORRUPT);
	}
	if (v >= n) {
		gpu_errf(eb, ec, "metadata %s: token id out of range", key);
		return (GH_ECORRUPT);
	}
	*out = (int32_t) v;
	return (GH_OK);
}

static int
tok_hexdigit(char c)
{
	if (c >= '0' && c <= '9') {
		return (c - '0');
	}
	if (c >= 'A' && c <= 'F') {
		return (c - 'A' + 10);
	}
	return (-1);
}

/* The byte of a piece "<0xXX>", or -1. */
static int
tok_byte_piece(const char *s, size_t n)
{
	int hi, lo;

	if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>'
	    || (hi = tok_hexdigit(s[3])) < 0
	    || (lo = tok_hexdigit(s[4])) < 0) {
		return (-1);
	}
	return (hi * 16 + lo);
}

int
gpu_tokenizer_new(const gpu_gguf *g, gpu_tokenizer **out, char *eb, size_t ec)
{
	gpu_tokenizer *t = NULL;
	gpu_gguf_vtype et;
	uint64_t       n, cnt, hsize;
	const char    *s;
	size_t         sn;
	int            rv = GH_EINTERNAL, have_scores, have_types;
	uint64_t       v;

	*out = NULL;
	if (gpu_gguf_get_str(g, "tokenizer.ggml.model", &s, &sn) != GH_OK) {
		gpu_errf(eb, ec, "missing metadata tokenizer.ggml.model");
		return (GH_EUNSUPPORTED);
	}
	if (sn != 5 || memcmp(s, "llama", 5) != 0) {
		gpu_errf(eb, ec,
		    "tokenizer '%.*s' is not supported (only llama)",
		    (int) (sn > 64 ? 64 : sn), s);
		return (GH_EUNSUPPORTED);
	}
	if (gpu_gguf_get_arr(g, "tokenizer.ggml.tokens", &et, &n) != GH_OK
	    || et != GPU_GGUF_STRING) {
		gpu_errf(eb, ec, "missing metadata tokenizer.ggml.tokens");
		return (GH_EUNSUPPORTED);
	}
	if (n == 0 || n > TOK_MAX_VOCAB) {
		gpu_errf(eb, ec, "vocabulary of %llu tokens",
		    (unsigned long long) n);
		return (GH_ECORRUPT);
	}
	have_scores
	    = gpu_gguf_get_arr(g, "tokenizer.ggml.scores", &et, &cnt) == GH_OK;
	if (have_scores && (et != GPU_GGUF_F32 || cnt != n)) {
		gpu_errf(eb, ec, "tokenizer.ggml.scores does not match");
		return (GH_ECORRUPT);
	}
	have_types
	    = gpu_gguf_get_arr(g, "tokenizer.ggml.token_type", &et, &cnt)
	    == GH_OK;
	if (have_types
	    && (cnt != n || et == GPU_GGUF_STRING || et == GPU_GGUF_F32
	        || et == GPU_GGUF_F64)) {
		gpu_errf(eb, ec, "tokenizer.ggml.token_type does not match");
		return (GH_ECORRUPT);
	}
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		return (GH_ENOMEM);
	}
	t->n = (uint32_t) n;
	for (hsize = 16; hsize < 2 * n; hsize *= 2) { }
	t->hmask = (uint32_t) (hsize - 1);
	if ((t->piece = calloc(n, sizeof(*t->piece))) == NULL
	    || (t->len = calloc(n, sizeof(*t->len))) == NULL
	    || (t->score = calloc(n, sizeof(*t->score))) == NULL
	    || (t->type = calloc(n, sizeof(*t->type))) == NULL
	    || (t->hash = malloc(hsize * sizeof(*t->hash))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	memset(t->hash, 0xff, hsize * sizeof(*t->hash));
	for (int i = 0; i < 256; i++) {
		t->byte_id[i] = -1;
	}
	for (uint32_t i = 0; i < t->n; i++) {
		int64_t ty = 1;
		if ((rv = gpu_gguf_arr_str(
		         g, "tokenizer.ggml.tokens", i, &t->piece[i], &sn))
		    != GH_OK) {
			goto out;
		}
		if (sn > TOK_MAX_PIECE) {
			gpu_errf(eb, ec, "token %u is too long", i);
			rv = GH_ECORRUPT;
			goto out;
		}
		t->len[i] = (uint32_t) sn;
		if (have_scores
		    && (rv = gpu_gguf_arr_f32(
		            g, "tokenizer.ggml.scores", i, &t->score[i]))
		        != GH_OK) {
			goto out;
		}
		if (have_types
		    && (rv = gpu_gguf_arr_i64(
		            g, "tokenizer.ggml.token_type", i, &ty))
		        != GH_OK) {
			goto out;
		}
		if (ty < 0 || ty > 6) {
			gpu_errf(eb, ec, "token %u has type %lld", i,
			    (long long) ty);
			rv = GH_ECORRUPT;
			goto out;
		}
		t->type[i] = (int32_t) ty;
		/* Control tokens never match text. */
		if (ty != TOK_TYPE_CTRL && tok_find(t, t->piece[i], sn) < 0) {
			uint64_t h = tok_fnv(t->piece[i], sn);
			while (t->hash[h & t->hmask] >= 0) {
				h++;
			}
			t->hash[h & t->hmask] = (int32_t) i;
		}
		int b = tok_byte_piece(t->piece[i], sn);
		if (b >= 0 && t->byte_id[b] < 0) {
			t->byte_id[b] = (int32_t) i;
		}
	}
	if ((rv = tok_id(
	         g, "tokenizer.ggml.bos_token_id", 1, t->n, &t->bos, eb, ec))
	        != GH_OK
	    || (rv = tok_id(g, "tokenizer.ggml.eos_token_id", 2, t->n, &t->eos,
	            eb, ec))
	        != GH_OK
	    || (rv = tok_id(g, "tokenizer.ggml.unknown_token_id", 0, t->n,
	            &t->unk, eb, ec))
	        != GH_OK) {
		goto out;
	}
	t->add_space = 1;
	if (gpu_gguf_get_u64(g, "tokenizer.ggml.add_space_prefix", &v)
	    == GH_OK) {
		t->add_space = v != 0;
	}
	*out = t;
	t    = NULL;
	rv   = GH_OK;
out:
	gpu_tokenizer_free(t);
	return (rv);
}

void
gpu_tokenizer_hash(const gpu_tokenizer *t, gh_hash *out)
{
	gh_hasher h;
	uint8_t   b[16];

	gh_hasher_init(&h, TOK_TAG);
	gh_be32_put(b, t->n);
	gh_be32_put(b + 4, (uint32_t) t->bos);
	gh_be32_put(b + 8, (uint32_t) t->eos);
	gh_be32_put(b + 12, (uint32_t) t->unk);
	gh_hasher_update(&h, b, 16);
	b[0] = (uint8_t) t->add_space;
	gh_hasher_update(&h, b, 1);
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t sc;
		memcpy(&sc, &t->score[i], 4);
		gh_be32_put(b, t->len[i]);
		gh_be32_put(b + 4, sc);
		gh_be32_put(b + 8, (uint32_t) t->type[i]);
		gh_hasher_update(&h, b, 12);
		gh_hasher_update(&h, t->piece[i], t->len[i]);
	}
	gh_hasher_final(&h, out);
}

int32_t
gpu_tok_bos(const gpu_tokenizer *t)
{
	return (t->bos);
}

int32_t
gpu_tok_eos(const gpu_tokenizer *t)
{
	return (t->eos);
}

uint32_t
gpu_tok_count(const gpu_tokenizer *t)
{
	return (t->n);
}

/* Symbols of the text being merged: a doubly linked list over the
 * normalised text. */
typedef struct {
	uint32_t start, len;
	int32_t  prev, next;
} tok_sym;

/* A candidate merge of symbol left with its right neighbour. */
typedef struct {
	float    score;
	int32_t  left, right;
	uint32_t len; /* combined length when queued */
	int32_t  id;
} tok_pair;

/* Max-heap order: higher score first, then the leftmost. */
static int
tok_before(const tok_pair *a, const tok_pair *b)
{
	if (a->score != b->score) {
		return (a->score > b->score);
	}
	return (a->left < b->left);
}

static void
tok_push(tok_pair *h, size_t *n, tok_pair p)
{
	size_t i = (*n)++;
	while (i > 0 && tok_before(&p, &h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i    = (i - 1) / 2;
	}
	h[i] = p;
}

static tok_pair
tok_pop(tok_pair *h, size_t *n)
{
	tok_pair top = h[0], last = h[--(*n)];
	size_t   i = 0;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n) {
			break;
		}
		if (c + 1 < *n && tok_before(&h[c + 1], &h[c])) {
			c++;
		}
		if (!tok_before(&h[c], &last)) {
			break;
		}
		h[i] = h[c];
		i    = c;
	}
	if (*n > 0) {
		h[i] = last;
	}
	return (top);
}

static void
tok_try(const gpu_tokenizer *t, const char *text, const tok_sym *sy, int32_t l,
    tok_pair *heap, size_t *nh)
{
	int32_t r = l >= 0 ? sy[l].next : -1;
	int32_t id;

	if (l < 0 || r < 0) {
		return;
	}
	id = tok_find(t, text + sy[l].start, sy[l].len + sy[r].len);
	if (id < 0) {
		return;
	}
	tok_push(heap, nh,
	    (tok_pair) { t->score[id], l, r, sy[l].len + sy[r].len, id });
}

static size_t
tok_utf8_len(const uint8_t *s, size_t left)
{
	size_t n = 1;

	if (s[0] >= 0xf0 && s[0] < 0xf8) {
		n = 4;
	} else if (s[0] >= 0xe0) {
		n = s[0] < 0xf0 ? 3 : 1;
	} else if (s[0] >= 0xc0) {
		n = 2;
	}
	if (n > left) {
		return (1);
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			return (1);
		}
	}
	return (n);
}

int
gpu_tok_encode(const gpu_tokenizer *t, const char *text, size_t n, int add_bos,
    int32_t *toks, size_t cap, size_t *ntok)
{
	int       rv   = GH_EINTERNAL;
	char     *norm = NULL;
	tok_sym  *sy   = NULL;
	tok_pair *heap = NULL;
	size_t    nn = 0, ns = 0, nh = 0, k = 0;

	*ntok = 0;
	if (n > GPU_TOK_MAX_TEXT) {
		return (GH_ELIMIT);
	}
	if (add_bos) {
		if (cap < 1) {
			return (GH_ELIMIT);
		}
		toks[k++] = t->bos;
	}
	if (n == 0) {
		*ntok = k;
		return (GH_OK);
	}
	if ((norm = malloc(3 * n + TOK_SPACE_LEN)) == NULL
	    || (sy = calloc(3 * n + TOK_SPACE_LEN, sizeof(*sy))) == NULL
	    || (heap = calloc(3 * (3 * n + TOK_SPACE_LEN), sizeof(*heap)))
	        == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if (t->add_space) {
		memcpy(norm, TOK_SPACE, TOK_SPACE_LEN);
		nn = TOK_SPACE_LEN;
	}
	for (size_t i = 0; i < n; i++) {
		if (text[i] == ' ') {
			memcpy(norm + nn, TOK_SPACE, TOK_SPACE_LEN);
			nn += TOK_SPACE_LEN;
		} else {
			norm[nn++] = text[i];
		}
	}
	for (size_t i = 0; i < nn;) {
		size_t l = tok_utf8_len((const uint8_t *) norm + i, nn - i);
		sy[ns]   = (tok_sym) { (uint32_t) i, (uint32_t) l,
			  (int32_t) ns - 1, (int32_t) ns + 1 };
		ns++;
		i += l;
	}
	sy[ns - 1].next = -1;
	/* At most one live pair per symbol: the heap never holds more
	 * than 3n entries of which the stale ones are skipped. */
	for (size_t i = 0; i + 1 < ns; i++) {
		tok_try(t, norm, sy, (int32_t) i, heap, &nh);
	}
	while (nh > 0) {
		tok_pair p = tok_pop(heap, &nh);
		tok_sym *l = &sy[p.left], *r = &sy[p.right];
		if (l->len == 0 || r->len == 0 || l->next != p.right
		    || l->len + r->len != p.len) {
			continue; /* stale */
		}
		l->len += r->len;
		r->len  = 0;
		l->next = r->next;
		if (r->next >= 0) {
			sy[r->next].prev = p.left;
		}
		tok_try(t, norm, sy, l->prev, heap, &nh);
		tok_try(t, norm, sy, p.left, heap, &nh);
	}
	for (int32_t i = 0; i >= 0; i = sy[i].next) {
		int32_t id = tok_find(t, norm + sy[i].start, sy[i].len);
		if (id >= 0) {
			if (k >= cap) {
				rv = GH_ELIMIT;
				goto out;
			}
			toks[k++] = id;
			continue;
		}
		for (uint32_t b = 0; b < sy[i].len; b++) {
			uint8_t c = (uint8_t) norm[sy[i].start + b];
			if (k >= cap) {
				rv = GH_ELIMIT;
				goto out;
			}
			toks[k++]
			    = t->byte_id[c] >= 0 ? t->byte_id[c] : t->unk;
		}
	}
	*ntok = k;
	rv    = GH_OK;
out:
	free(norm);
	free(sy);
	free(heap);
	return (rv);
}

int
gpu_tok_decode(const gpu_tokenizer *t, int32_t prev, int32_t tok, char *out,
    size_t cap, size_t *n)
{
	const char *s;
	size_t      len, k = 0;
	int         b;

	*n = 0;
	if (tok < 0 || (uint32_t) tok >= t->n) {
		return (GH_EINVAL);
	}
	if (t->type[tok] == TOK_TYPE_CTRL) {
		return (GH_OK);
	}
	s   = t->piece[tok];
	len = t->len[tok];
	if ((b = tok_byte_piece(s, len)) >= 0
	    && (t->type[tok] == TOK_TYPE_BYTE || t->byte_id[b] == tok)) {
		if (cap < 1) {
			return (GH_ELIMIT);
		}
		out[0] = (char) b;
		*n     = 1;
		return (GH_OK);
	}
	for (size_t i = 0; i < len;) {
		if (len - i >= TOK_SPACE_LEN
		    && memcmp(s + i, TOK_SPACE, TOK_SPACE_LEN) == 0) {
			i += TOK_SPACE_LEN;
			if (i == TOK_SPACE_LEN && t->add_space
			    && (prev < 0 || prev == t->bos)) {
				continue; /* the prefix the encoder added */
			}
			if (k >= cap) {
				return (GH_ELIMIT);
			}
			out[k++] = ' ';
			continue;
		}
		if (k >= cap) {
			return (GH_ELIMIT);
		}
		out[k++] = s[i++];
	}
	*n = k;
	return (GH_OK);
}
