/*
 * merkle.c - RFC 6962 / RFC 9162 Merkle tree hashing, the two proof
 * verifiers and the proofs' canonical encodings.  No store: everything
 * here runs offline.
 */
#include <string.h>

#include "ledger/ledger.h"

void
ledger_merkle_leaf(const void *p, size_t n, ledger_mhash *out)
{
	gh_sha256_ctx c;
	uint8_t       pre = 0x00;

	gh_sha256_init(&c);
	gh_sha256_update(&c, &pre, 1);
	gh_sha256_update(&c, p, n);
	gh_sha256_final(&c, out->b);
}

void
ledger_merkle_node(
    const ledger_mhash *l, const ledger_mhash *r, ledger_mhash *out)
{
	uint8_t buf[65];

	buf[0] = 0x01;
	memcpy(buf + 1, l->b, 32);
	memcpy(buf + 33, r->b, 32);
	gh_sha256(buf, sizeof(buf), out->b);
}

void
ledger_merkle_empty(ledger_mhash *out)
{
	gh_sha256("", 0, out->b);
}

static int
ledger_mhash_eq(const ledger_mhash *a, const ledger_mhash *b)
{
	return (memcmp(a->b, b->b, 32) == 0);
}

int
ledger_inclusion_verify(const ledger_inclusion *p, const ledger_mhash *leaf,
    const ledger_mhash *root)
{
	uint64_t     fn, sn;
	ledger_mhash r;

	if (p->n > LEDGER_PROOF_MAX) {
		return (GH_EINVAL);
	}
	if (p->index >= p->size) {
		return (GH_EBADSIG);
	}
	fn = p->index;
	sn = p->size - 1;
	r  = *leaf;
	for (uint32_t i = 0; i < p->n; i++) {
		if (sn == 0) {
			return (GH_EBADSIG);
		}
		if ((fn & 1) != 0 || fn == sn) {
			ledger_merkle_node(&p->path[i], &r, &r);
			if ((fn & 1) == 0) {
				while ((fn & 1) == 0 && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
			}
		} else {
			ledger_merkle_node(&r, &p->path[i], &r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !ledger_mhash_eq(&r, root)) {
		return (GH_EBADSIG);
	}
	return (GH_OK);
}

int
ledger_consistency_verify(const ledger_consistency *p,
    const ledger_mhash *first_root, const ledger_mhash *second_root)
{
	uint64_t            fn, sn;
	ledger_mhash        fr, sr;
	const ledger_mhash *c;
	uint32_t            i, n;

	if (p->n > LEDGER_PROOF_MAX) {
		return (GH_EINVAL);
	}
	if (p->first > p->second) {
		return (GH_EBADSIG);
	}
	if (p->first == p->second) {
		return (p->n == 0 && ledger_mhash_eq(first_root, second_root)
		        ? GH_OK
		        : GH_EBADSIG);
	}
	if (p->first == 0) {
		ledger_mhash empty;
		ledger_merkle_empty(&empty);
		return (p->n == 0 && ledger_mhash_eq(first_root, &empty)
		        ? GH_OK
		        : GH_EBADSIG);
	}
	if (p->n == 0) {
		return (GH_EBADSIG);
	}
	/* When first is a power of two, first_root is the path's implicit
	 * first element. */
	n = p->n;
	i = 0;
	if ((p->first & (p->first - 1)) == 0) {
		c = first_root;
	} else {
		c = &p->path[0];
		i = 1;
	}
	fn = p->first - 1;
	sn = p->second - 1;
	while ((fn & 1) != 0) {
		fn >>= 1;
		sn >>= 1;
	}
	fr = *c;
	sr = *c;
	for (; i < n; i++) {
		c = &p->path[i];
		if (sn == 0) {
			return (GH_EBADSIG);
		}
		if ((fn & 1) != 0 || fn == sn) {
			ledger_merkle_node(c, &fr, &fr);
			ledger_merkle_node(c, &sr, &sr);
			while ((fn & 1) == 0 && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ledger_merkle_node(&sr, c, &sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0 || !ledger_mhash_eq(&fr, first_root)
	    || !ledger_mhash_eq(&sr, second_root)) {
		return (GH_EBADSIG);
	}
	return (GH_OK);
}

/* Both proof kinds share one layout: header, u64, u64, u8 n, n hashes. */
static int
ledger_proof_encode(uint8_t type, uint64_t a, uint64_t b, uint32_t n,
    const ledger_mhash *path, uint8_t **out, size_t *len)
{
	gh_writer w;

	*out = NULL;
	*len = 0;
	if (n > LEDGER_PROOF_MAX) {
		return (GH_EINVAL);
	}
	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_LOG_VERSION, type);
	gh_put_u64(&w, a);
	gh_put_u64(&w, b);
	gh_put_u8(&w, (uint8_t) n);
	for (uint32_t i = 0; i < n; i++) {
		gh_put_fixed(&w, path[i].b, 32);
	}
	return (gh_writer_take(&w, out, len));
}

static int
ledger_proof_decode(const uint8_t *p, size_t len, uint8_t want, uint64_t *a,
    uint64_t *b, uint32_t *n, ledger_mhash *path)
{
	gh_reader r;
	uint8_t   type, cnt;
	int       rv;

	gh_reader_init(&r, p, len);
	if ((rv = gh_get_header(&r, LEDGER_LOG_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != want) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_u64(&r, a)) != GH_OK
	    || (rv = gh_get_u64(&r, b)) != GH_OK
	    || (rv = gh_get_u8(&r, &cnt)) != GH_OK) {
		return (rv);
	}
	if (cnt > LEDGER_PROOF_MAX) {
		return (GH_ETOOLONG);
	}
	for (uint32_t i = 0; i < cnt; i++) {
		if ((rv = gh_get_fixed(&r, path[i].b, 32)) != GH_OK) {
			return (rv);
		}
	}
	*n = cnt;
	return (gh_reader_end(&r));
}

int
ledger_inclusion_encode(const ledger_inclusion *p, uint8_t **out, size_t *n)
{
	return (ledger_proof_encode(
	    LEDGER_TYPE_INCLUSION, p->index, p->size, p->n, p->path, out, n));
}

int
ledger_inclusion_decode(const uint8_t *p, size_t n, ledger_inclusion *out)
{
	ledger_inclusion t;
	int              rv;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	rv = ledger_proof_decode(
	    p, n, LEDGER_TYPE_INCLUSION, &t.index, &t.size, &t.n, t.path);
	if (rv == GH_OK) {
		*out = t;
	}
	return (rv);
}

int
ledger_consistency_encode(
    const ledger_consistency *p, uint8_t **out, size_t *n)
{
	return (ledger_proof_encode(LEDGER_TYPE_CONSISTENCY, p->first,
	    p->second, p->n, p->path, out, n));
}

int
ledger_consistency_decode(const uint8_t *p, size_t n, ledger_consistency *out)
{
	ledger_consistency t;
	int                rv;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	rv = ledger_proof_decode(
	    p, n, LEDGER_TYPE_CONSISTENCY, &t.first, &t.second, &t.n, t.path);
	if (rv == GH_OK) {
		*out = t;
	}
	return (rv);
}
