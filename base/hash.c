/* hash.c - tagged BLAKE2b-256 and SHA-256, the project's only hashes. */
#include <string.h>

#include "base.h"

void
gh_hasher_init(gh_hasher *h, const char *tag)
{
	size_t  n = strlen(tag);
	uint8_t b = (uint8_t) (n > 255 ? 255 : n);

	crypto_generichash_init(&h->s, NULL, 0, 32);
	crypto_generichash_update(&h->s, &b, 1);
	crypto_generichash_update(&h->s, (const uint8_t *) tag, b);
}

void
gh_hasher_update(gh_hasher *h, const void *p, size_t n)
{
	crypto_generichash_update(&h->s, p, n);
}

void
gh_hasher_final(gh_hasher *h, gh_hash *out)
{
	crypto_generichash_final(&h->s, out->b, sizeof(out->b));
}

void
gh_hash_tagged(const char *tag, const void *p, size_t n, gh_hash *out)
{
	gh_hasher h;

	gh_hasher_init(&h, tag);
	gh_hasher_update(&h, p, n);
	gh_hasher_final(&h, out);
}

void
gh_sha256(const void *p, size_t n, uint8_t out[32])
{
	crypto_hash_sha256(out, p, n);
}

void
gh_sha256_init(gh_sha256_ctx *c)
{
	crypto_hash_sha256_init(&c->s);
}

void
gh_sha256_update(gh_sha256_ctx *c, const void *p, size_t n)
{
	crypto_hash_sha256_update(&c->s, p, n);
}

void
gh_sha256_final(gh_sha256_ctx *c, uint8_t out[32])
{
	crypto_hash_sha256_final(&c->s, out);
}
