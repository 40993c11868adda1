/* bytes.c - the canonical encoding: one reader, one writer. */
#include <stdlib.h>
#include <string.h>

#include "base.h"

void
gh_be64_put(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t) v;
		v >>= 8;
	}
}

uint64_t
gh_be64_get(const uint8_t in[8])
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++) {
		v = (v << 8) | in[i];
	}
	return (v);
}

void
gh_be32_put(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t) (v >> 24);
	out[1] = (uint8_t) (v >> 16);
	out[2] = (uint8_t) (v >> 8);
	out[3] = (uint8_t) v;
}

uint32_t
gh_be32_get(const uint8_t in[4])
{
	return (((uint32_t) in[0] << 24) | ((uint32_t) in[1] << 16)
	    | ((uint32_t) in[2] << 8) | (uint32_t) in[3]);
}

void
gh_reader_init(gh_reader *r, const void *p, size_t len)
{
	r->p   = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
}

size_t
gh_reader_left(const gh_reader *r)
{
	return (r->len - r->off);
}

int
gh_get_fixed(gh_reader *r, void *out, size_t n)
{
	if (gh_reader_left(r) < n) {
		return (GH_ETRUNC);
	}
	if (n > 0) {
		memcpy(out, r->p + r->off, n);
	}
	r->off += n;
	return (GH_OK);
}

int
gh_get_view(gh_reader *r, size_t n, const uint8_t **p)
{
	if (gh_reader_left(r) < n) {
		return (GH_ETRUNC);
	}
	*p = r->p + r->off;
	r->off += n;
	return (GH_OK);
}

int
gh_get_u8(gh_reader *r, uint8_t *v)
{
	return (gh_get_fixed(r, v, 1));
}

int
gh_get_u16(gh_reader *r, uint16_t *v)
{
	uint8_t b[2];
	int     rv;

	if ((rv = gh_get_fixed(r, b, 2)) != GH_OK) {
		return (rv);
	}
	*v = (uint16_t) ((b[0] << 8) | b[1]);
	return (GH_OK);
}

int
gh_get_u32(gh_reader *r, uint32_t *v)
{
	uint8_t b[4];
	int     rv;

	if ((rv = gh_get_fixed(r, b, 4)) != GH_OK) {
		return (rv);
	}
	*v = gh_be32_get(b);
	return (GH_OK);
}

int
gh_get_u64(gh_reader *r, uint64_t *v)
{
	uint8_t b[8];
	int     rv;

	if ((rv = gh_get_fixed(r, b, 8)) != GH_OK) {
		return (rv);
	}
	*v = gh_be64_get(b);
	return (GH_OK);
}

int
gh_get_bool(gh_reader *r, int *v)
{
	uint8_t b;

	if (gh_reader_left(r) < 1) {
		return (GH_ETRUNC);
	}
	b = r->p[r->off];
	if (b > 1) {
		return (GH_ENONCANON);
	}
	r->off++;
	*v = b;
	return (GH_OK);
}

int
gh_get_str(gh_reader *r, uint32_t max, const uint8_t **p, uint32_t *n)
{
	uint32_t len;

	if (gh_reader_left(r) < 4) {
		return (GH_ETRUNC);
	}
	len = gh_be32_get(r->p + r->off);
	if (len > max) {
		return (GH_ETOOLONG);
	}
	if (gh_reader_left(r) - 4 < len) {
		return (GH_ETRUNC);
	}
	*p = r->p + r->off + 4;
	*n = len;
	r->off += 4 + (size_t) len;
	return (GH_OK);
}

int
gh_get_cstr(gh_reader *r, uint32_t max, char *out, size_t cap)
{
	const uint8_t *p;
	uint32_t       n;
	size_t         save = r->off;
	int            rv;

	if (cap <= max) {
		return (GH_EINVAL);
	}
	if ((rv = gh_get_str(r, max, &p, &n)) != GH_OK) {
		return (rv);
	}
	if (n > 0 && memchr(p, 0, n) != NULL) {
		r->off = save;
		return (GH_ENONCANON);
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return (GH_OK);
}

int
gh_get_header(gh_reader *r, uint8_t want_version, uint8_t *type)
{
	uint8_t b[2];

	if (gh_reader_left(r) < 2) {
		return (GH_ETRUNC);
	}
	b[0] = r->p[r->off];
	b[1] = r->p[r->off + 1];
	if (b[0] != want_version) {
		return (GH_EVERSION);
	}
	r->off += 2;
	*type = b[1];
	return (GH_OK);
}

int
gh_reader_end(const gh_reader *r)
{
	return (gh_reader_left(r) == 0 ? GH_OK : GH_ETRAILING);
}

void
gh_writer_init(gh_writer *w)
{
	w->p   = NULL;
	w->len = 0;
	w->cap = 0;
	w->err = GH_OK;
}

void
gh_writer_free(gh_writer *w)
{
	free(w->p);
	gh_writer_init(w);
}

int
gh_writer_err(const gh_writer *w)
{
	return (w->err);
}

/* Makes room for n more bytes; sets the sticky error on failure. */
static int
gh_writer_reserve(gh_writer *w, size_t n)
{
	size_t   cap;
	uint8_t *p;

	if (w->err != GH_OK) {
		return (0);
	}
	if (n > SIZE_MAX / 2 - w->len) {
		w->err = GH_EOVERFLOW;
		return (0);
	}
	if (w->len + n <= w->cap) {
		return (1);
	}
	cap = w->cap == 0 ? 64 : w->cap;
	while (cap < w->len + n) {
		cap *= 2;
	}
	if ((p = realloc(w->p, cap)) == NULL) {
		w->err = GH_ENOMEM;
		return (0);
	}
	w->p   = p;
	w->cap = cap;
	return (1);
}

void
gh_put_fixed(gh_writer *w, const void *p, size_t n)
{
	if (!gh_writer_reserve(w, n)) {
		return;
	}
	if (n > 0) {
		memcpy(w->p + w->len, p, n);
	}
	w->len += n;
}

void
gh_put_u8(gh_writer *w, uint8_t v)
{
	gh_put_fixed(w, &v, 1);
}

void
gh_put_u16(gh_writer *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t) (v >> 8), (uint8_t) v };
	gh_put_fixed(w, b, 2);
}

void
gh_put_u32(gh_writer *w, uint32_t v)
{
	uint8_t b[4];
	gh_be32_put(b, v);
	gh_put_fixed(w, b, 4);
}

void
gh_put_u64(gh_writer *w, uint64_t v)
{
	uint8_t b[8];
	gh_be64_put(b, v);
	gh_put_fixed(w, b, 8);
}

void
gh_put_bool(gh_writer *w, int v)
{
	gh_put_u8(w, v ? 1 : 0);
}

void
gh_put_str(gh_writer *w, uint32_t max, const void *p, size_t n)
{
	if (w->err != GH_OK) {
		return;
	}
	if (n > max) {
		w->err = GH_ETOOLONG;
		return;
	}
	gh_put_u32(w, (uint32_t) n);
	gh_put_fixed(w, p, n);
}

void
gh_put_cstr(gh_writer *w, uint32_t max, const char *s)
{
	gh_put_str(w, max, s, s == NULL ? 0 : strlen(s));
}

void
gh_put_header(gh_writer *w, uint8_t version, uint8_t type)
{
	gh_put_u8(w, version);
	gh_put_u8(w, type);
}

int
gh_writer_take(gh_writer *w, uint8_t **p, size_t *n)
{
	int rv = w->err;

	*p = NULL;
	*n = 0;
	if (rv != GH_OK) {
		gh_writer_free(w);
		return (rv);
	}
	if (w->p == NULL && !gh_writer_reserve(w, 1)) {
		rv = w->err;
		gh_writer_free(w);
		return (rv);
	}
	*p = w->p;
	*n = w->len;
	gh_writer_init(w);
	return (GH_OK);
}
