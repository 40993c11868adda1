/*
 * keyfile.c - account and node keys at rest.
 *
 * Layout (canonical encoding, version 1, type = key kind):
 *   u8 version, u8 kind, bool encrypted, u64 opslimit, u64 memlimit,
 *   salt[16], nonce[24], pub[32], str sealed (max 48)
 * sealed = XChaCha20-Poly1305(seed[32]) with everything before it as
 * associated data.  The AEAD key is Argon2id(passphrase, salt) or, for an
 * unencrypted test key, a fixed tagged hash: such a file still detects
 * tampering but keeps no secret.
 */
#include <string.h>

#include "base.h"
#include "priv.h"

#define GH_KEYFILE_VERSION    1
#define GH_KEYFILE_SEALED_MAX (32 + crypto_aead_xchacha20poly1305_ietf_ABYTES)
/* Bounds on the KDF cost a file may ask for, so a hostile file cannot
 * make us allocate gigabytes or spin for minutes. */
#define GH_KEYFILE_OPS_MAX 16
#define GH_KEYFILE_MEM_MAX (1024ULL * 1024 * 1024)

typedef struct {
	gh_keyfile_info info;
	uint64_t        ops;
	uint64_t        mem;
	uint8_t         salt[crypto_pwhash_SALTBYTES];
	uint8_t         nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	size_t          aad_len;
	const uint8_t  *sealed;
	uint32_t        sealed_len;
} gh_keyfile;

static int
gh_keyfile_parse(const uint8_t *p, size_t n, gh_keyfile *kf)
{
	gh_reader r;
	uint8_t   kind;
	int       rv;

	memset(kf, 0, sizeof(*kf));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, GH_KEYFILE_VERSION, &kind)) != GH_OK) {
		return (rv);
	}
	if (kind != GH_KEY_ACCOUNT && kind != GH_KEY_NODE) {
		return (GH_ETYPE);
	}
	kf->info.kind = (gh_key_kind) kind;
	if ((rv = gh_get_bool(&r, &kf->info.encrypted)) != GH_OK
	    || (rv = gh_get_u64(&r, &kf->ops)) != GH_OK
	    || (rv = gh_get_u64(&r, &kf->mem)) != GH_OK
	    || (rv = gh_get_fixed(&r, kf->salt, sizeof(kf->salt))) != GH_OK
	    || (rv = gh_get_fixed(&r, kf->nonce, sizeof(kf->nonce))) != GH_OK
	    || (rv = gh_get_fixed(&r, kf->info.pub, 32)) != GH_OK) {
		return (rv);
	}
	kf->aad_len = r.off;
	if ((rv = gh_get_str(
	         &r, GH_KEYFILE_SEALED_MAX, &kf->sealed, &kf->sealed_len))
	    != GH_OK) {
		return (rv);
	}
	if (kf->sealed_len != GH_KEYFILE_SEALED_MAX) {
		return (GH_ENONCANON);
	}
	if (kf->info.encrypted) {
		if (kf->ops < crypto_pwhash_OPSLIMIT_MIN
		    || kf->ops > GH_KEYFILE_OPS_MAX
		    || kf->mem < crypto_pwhash_MEMLIMIT_MIN
		    || kf->mem > GH_KEYFILE_MEM_MAX) {
			return (GH_ELIMIT);
		}
	} else if (kf->ops != 0 || kf->mem != 0) {
		return (GH_ENONCANON);
	}
	return (gh_reader_end(&r));
}

int
gh_keyfile_decode(const uint8_t *p, size_t n, gh_keyfile_info *info)
{
	gh_keyfile kf;
	int        rv;

	memset(info, 0, sizeof(*info));
	if ((rv = gh_keyfile_parse(p, n, &kf)) == GH_OK) {
		*info = kf.info;
	}
	return (rv);
}

/* Derives the AEAD key (in sodium memory, caller frees). */
static int
gh_keyfile_derive(
    const gh_keyfile *kf, const char *pass, size_t passlen, uint8_t **key)
{
	uint8_t *k;
	gh_hash  h;

	*key = NULL;
	if ((k = sodium_malloc(32)) == NULL) {
		return (GH_ENOMEM);
	}
	if (!kf->info.encrypted) {
		gh_hash_tagged(GH_TAG_KEYFILE, kf->salt, sizeof(kf->salt), &h);
		memcpy(k, h.b, 32);
	} else if (crypto_pwhash(k, 32, pass, passlen, kf->salt, kf->ops,
	               (size_t) kf->mem, crypto_pwhash_ALG_ARGON2ID13)
	    != 0) {
		sodium_free(k);
		return (GH_ENOMEM);
	}
	*key = k;
	return (GH_OK);
}

static int
gh_keyfile_write(const char *path, gh_key_kind kind, const uint8_t seed[32],
    const uint8_t pub[32], const char *pass, size_t passlen,
    gh_keyfile_info *info)
{
	gh_keyfile kf;
	gh_writer  w;
	uint8_t   *key = NULL;
	uint8_t    sealed[GH_KEYFILE_SEALED_MAX];
	uint8_t   *buf = NULL;
	size_t     n;
	int        rv;

	memset(&kf, 0, sizeof(kf));
	gh_writer_init(&w);
	kf.info.kind      = kind;
	kf.info.encrypted = passlen > 0;
	memcpy(kf.info.pub, pub, 32);
	if (kf.info.encrypted) {
		kf.ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		kf.mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	}
	randombytes_buf(kf.salt, sizeof(kf.salt));
	randombytes_buf(kf.nonce, sizeof(kf.nonce));

	gh_put_header(&w, GH_KEYFILE_VERSION, (uint8_t) kind);
	gh_put_bool(&w, kf.info.encrypted);
	gh_put_u64(&w, kf.ops);
	gh_put_u64(&w, kf.mem);
	gh_put_fixed(&w, kf.salt, sizeof(kf.salt));
	gh_put_fixed(&w, kf.nonce, sizeof(kf.nonce));
	gh_put_fixed(&w, pub, 32);
	if ((rv = gh_writer_err(&w)) != GH_OK) {
		goto out;
	}
	if ((rv = gh_keyfile_derive(&kf, pass, passlen, &key)) != GH_OK) {
		goto out;
	}
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    sealed, NULL, seed, 32, w.p, w.len, NULL, kf.nonce, key);
	gh_put_str(&w, GH_KEYFILE_SEALED_MAX, sealed, sizeof(sealed));
	if ((rv = gh_writer_take(&w, &buf, &n)) != GH_OK) {
		goto out;
	}
	if ((rv = gh_file_write_atomic(path, buf, n, 0600)) != GH_OK) {
		goto out;
	}
	if (info != NULL) {
		*info = kf.info;
	}
	rv = GH_OK;
out:
	if (key != NULL) {
		sodium_free(key);
	}
	gh_writer_free(&w);
	free(buf);
	return (rv);
}

int
gh_keyfile_create_seed(const char *path, gh_key_kind kind,
    const uint8_t seed[32], const char *pass, size_t passlen,
    gh_keyfile_info *info)
{
	gh_ed_key   *ed = NULL;
	gh_acct_key *ac = NULL;
	uint8_t      pub[32];
	int          rv;

	if (kind == GH_KEY_NODE) {
		gh_ed_pub p;
		if ((rv = gh_ed_key_from_seed(seed, &ed)) != GH_OK) {
			goto out;
		}
		gh_ed_key_pub(ed, &p);
		memcpy(pub, p.b, 32);
	} else if (kind == GH_KEY_ACCOUNT) {
		gh_acct_pub p;
		if ((rv = gh_acct_key_from_seed(seed, &ac)) != GH_OK) {
			goto out;
		}
		gh_acct_key_pub(ac, &p);
		memcpy(pub, p.b, 32);
	} else {
		rv = GH_EINVAL;
		goto out;
	}
	rv = gh_keyfile_write(path, kind, seed, pub, pass, passlen, info);
out:
	gh_ed_key_free(ed);
	gh_acct_key_free(ac);
	return (rv);
}

int
gh_keyfile_create(const char *path, gh_key_kind kind, const char *pass,
    size_t passlen, gh_keyfile_info *info)
{
	uint8_t *seed;
	int      rv;

	if ((seed = sodium_malloc(32)) == NULL) {
		return (GH_ENOMEM);
	}
	do {
		randombytes_buf(seed, 32);
		rv = gh_keyfile_create_seed(
		    path, kind, seed, pass, passlen, info);
	} while (rv == GH_EBADKEY);
	sodium_free(seed);
	return (rv);
}

int
gh_keyfile_info_read(const char *path, gh_keyfile_info *info)
{
	uint8_t *buf = NULL;
	size_t   n;
	int      rv;

	memset(info, 0, sizeof(*info));
	if ((rv = gh_file_read(path, GH_KEYFILE_MAX, &buf, &n)) != GH_OK) {
		return (rv == GH_ELIMIT ? GH_ECORRUPT : rv);
	}
	rv = gh_keyfile_decode(buf, n, info);
	free(buf);
	return (rv == GH_OK ? GH_OK : GH_ECORRUPT);
}

/* Opens path and returns the decrypted seed in sodium memory. */
static int
gh_keyfile_open_seed(const char *path, gh_key_kind want, const char *pass,
    size_t passlen, uint8_t **seed_out, uint8_t pub[32])
{
	gh_keyfile kf;
	uint8_t   *buf  = NULL;
	uint8_t   *key  = NULL;
	uint8_t   *seed = NULL;
	size_t     n;
	int        rv;

	*seed_out = NULL;
	if ((rv = gh_file_read(path, GH_KEYFILE_MAX, &buf, &n)) != GH_OK) {
		if (rv == GH_ELIMIT) {
			rv = GH_ECORRUPT;
		}
		goto out;
	}
	if (gh_keyfile_parse(buf, n, &kf) != GH_OK) {
		rv = GH_ECORRUPT;
		goto out;
	}
	if (kf.info.kind != want) {
		rv = GH_ETYPE;
		goto out;
	}
	if ((rv = gh_keyfile_derive(&kf, pass, passlen, &key)) != GH_OK) {
		goto out;
	}
	if ((seed = sodium_malloc(32)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, NULL, NULL,
	        kf.sealed, kf.sealed_len, buf, kf.aad_len, kf.nonce, key)
	    != 0) {
		rv = GH_EDECRYPT;
		goto out;
	}
	memcpy(pub, kf.info.pub, 32);
	*seed_out = seed;
	seed      = NULL;
	rv        = GH_OK;
out:
	if (seed != NULL) {
		sodium_free(seed);
	}
	if (key != NULL) {
		sodium_free(key);
	}
	free(buf);
	return (rv);
}

int
gh_keyfile_open_node(
    const char *path, const char *pass, size_t passlen, gh_ed_key **out)
{
	uint8_t   *seed = NULL;
	uint8_t    pub[32];
	gh_ed_key *k = NULL;
	gh_ed_pub  p;
	int        rv;

	*out = NULL;
	if ((rv = gh_keyfile_open_seed(
	         path, GH_KEY_NODE, pass, passlen, &seed, pub))
	    != GH_OK) {
		goto out;
	}
	if ((rv = gh_ed_key_from_seed(seed, &k)) != GH_OK) {
		goto out;
	}
	gh_ed_key_pub(k, &p);
	if (sodium_memcmp(p.b, pub, 32) != 0) {
		rv = GH_ECORRUPT;
		goto out;
	}
	*out = k;
	k    = NULL;
out:
	if (seed != NULL) {
		sodium_free(seed);
	}
	gh_ed_key_free(k);
	return (rv);
}

int
gh_keyfile_open_account(
    const char *path, const char *pass, size_t passlen, gh_acct_key **out)
{
	uint8_t     *seed = NULL;
	uint8_t      pub[32];
	gh_acct_key *k = NULL;
	gh_acct_pub  p;
	int          rv;

	*out = NULL;
	if ((rv = gh_keyfile_open_seed(
	         path, GH_KEY_ACCOUNT, pass, passlen, &seed, pub))
	    != GH_OK) {
		goto out;
	}
	if ((rv = gh_acct_key_from_seed(seed, &k)) != GH_OK) {
		rv = GH_ECORRUPT;
		goto out;
	}
	gh_acct_key_pub(k, &p);
	if (sodium_memcmp(p.b, pub, 32) != 0) {
		rv = GH_ECORRUPT;
		goto out;
	}
	*out = k;
	k    = NULL;
out:
	if (seed != NULL) {
		sodium_free(seed);
	}
	gh_acct_key_free(k);
	return (rv);
}
