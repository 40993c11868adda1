/*
 * sign.c - Ed25519 (libsodium) and BIP340 Schnorr (libsecp256k1)
 * behind one small API.  The secp256k1 context is created once by
 * gh_init() and is read-only afterwards (libsecp256k1 allows concurrent
 * use of a const context).
 */
#include <pthread.h>
#include <string.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#include "base.h"
#include "priv.h"

struct gh_ed_key {
	uint8_t sk[crypto_sign_SECRETKEYBYTES]; /* seed || public key */
};

struct gh_acct_key {
	uint8_t           seed[32];
	secp256k1_keypair kp;
};

static secp256k1_context *gh_secp;
static int                gh_init_rv = GH_EINTERNAL;
static pthread_once_t     gh_once    = PTHREAD_ONCE_INIT;

static void
gh_init_once(void)
{
	uint8_t seed[32];

	if (sodium_init() < 0) {
		return;
	}
	if ((gh_secp = secp256k1_context_create(SECP256K1_CONTEXT_NONE))
	    == NULL) {
		return;
	}
	randombytes_buf(seed, sizeof(seed));
	if (!secp256k1_context_randomize(gh_secp, seed)) {
		return;
	}
	sodium_memzero(seed, sizeof(seed));
	gh_init_rv = GH_OK;
}

int
gh_init(void)
{
	pthread_once(&gh_once, gh_init_once);
	return (gh_init_rv);
}

int
gh_ed_key_from_seed(const uint8_t seed[32], gh_ed_key **out)
{
	gh_ed_key *k;
	uint8_t    pk[crypto_sign_PUBLICKEYBYTES];

	*out = NULL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		return (GH_ENOMEM);
	}
	crypto_sign_seed_keypair(pk, k->sk, seed);
	*out = k;
	return (GH_OK);
}

int
gh_ed_key_new(gh_ed_key **out)
{
	uint8_t seed[32];
	int     rv;

	randombytes_buf(seed, sizeof(seed));
	rv = gh_ed_key_from_seed(seed, out);
	sodium_memzero(seed, sizeof(seed));
	return (rv);
}

void
gh_ed_key_free(gh_ed_key *k)
{
	/* sodium_free wipes the memory before releasing it. */
	if (k != NULL) {
		sodium_free(k);
	}
}

void
gh_ed_key_pub(const gh_ed_key *k, gh_ed_pub *out)
{
	crypto_sign_ed25519_sk_to_pk(out->b, k->sk);
}

void
gh_ed_key_seed(const gh_ed_key *k, uint8_t seed[32])
{
	crypto_sign_ed25519_sk_to_seed(seed, k->sk);
}

void
gh_ed_sign(const gh_ed_key *k, const gh_hash *msg, gh_sig *out)
{
	crypto_sign_detached(out->b, NULL, msg->b, sizeof(msg->b), k->sk);
}

int
gh_ed_verify(const gh_ed_pub *pub, const gh_hash *msg, const gh_sig *sig)
{
	if (crypto_sign_verify_detached(sig->b, msg->b, sizeof(msg->b), pub->b)
	    != 0) {
		return (GH_EBADSIG);
	}
	return (GH_OK);
}

int
gh_ed_to_x25519(const gh_ed_key *k, uint8_t pk[32], uint8_t sk[32])
{
	gh_ed_pub pub;

	gh_ed_key_pub(k, &pub);
	if (crypto_sign_ed25519_pk_to_curve25519(pk, pub.b) != 0
	    || crypto_sign_ed25519_sk_to_curve25519(sk, k->sk) != 0) {
		return (GH_EBADKEY);
	}
	return (GH_OK);
}

int
gh_ed_pub_to_x25519(const gh_ed_pub *pub, uint8_t pk[32])
{
	if (crypto_sign_ed25519_pk_to_curve25519(pk, pub->b) != 0) {
		return (GH_EBADKEY);
	}
	return (GH_OK);
}

int
gh_acct_key_from_seed(const uint8_t seed[32], gh_acct_key **out)
{
	gh_acct_key *k;

	*out = NULL;
	if (gh_init() != GH_OK) {
		return (GH_EINTERNAL);
	}
	if ((k = sodium_malloc(sizeof(*k))) == NULL) {
		return (GH_ENOMEM);
	}
	memcpy(k->seed, seed, 32);
	if (!secp256k1_keypair_create(gh_secp, &k->kp, seed)) {
		sodium_free(k);
		return (GH_EBADKEY);
	}
	*out = k;
	return (GH_OK);
}

int
gh_acct_key_new(gh_acct_key **out)
{
	uint8_t seed[32];
	int     rv;

	/* A random 32-byte string is an invalid secret with probability
	 * about 2^-128; retry rather than fail. */
	do {
		randombytes_buf(seed, sizeof(seed));
		rv = gh_acct_key_from_seed(seed, out);
	} while (rv == GH_EBADKEY);
	sodium_memzero(seed, sizeof(seed));
	return (rv);
}

void
gh_acct_key_free(gh_acct_key *k)
{
	if (k != NULL) {
		sodium_free(k);
	}
}

void
gh_acct_key_pub(const gh_acct_key *k, gh_acct_pub *out)
{
	secp256k1_xonly_pubkey xp;

	/* Cannot fail for a keypair that keypair_create accepted. */
	if (!secp256k1_keypair_xonly_pub(gh_secp, &xp, NULL, &k->kp)
	    || !secp256k1_xonly_pubkey_serialize(gh_secp, out->b, &xp)) {
		memset(out->b, 0, sizeof(out->b));
	}
}

void
gh_acct_key_seed(const gh_acct_key *k, uint8_t seed[32])
{
	memcpy(seed, k->seed, 32);
}

int
gh_acct_sign_aux(const gh_acct_key *k, const uint8_t msg[32],
    const uint8_t aux[32], gh_sig *out)
{
	if (!secp256k1_schnorrsig_sign32(gh_secp, out->b, msg, &k->kp, aux)) {
		return (GH_EINTERNAL);
	}
	return (GH_OK);
}

int
gh_acct_sign(const gh_acct_key *k, const gh_hash *msg, gh_sig *out)
{
	uint8_t aux[32];

	randombytes_buf(aux, sizeof(aux));
	return (gh_acct_sign_aux(k, msg->b, aux, out));
}

int
gh_acct_verify_raw(const uint8_t pub[32], const uint8_t *msg, size_t msglen,
    const gh_sig *sig)
{
	secp256k1_xonly_pubkey xp;

	if (gh_init() != GH_OK) {
		return (GH_EINTERNAL);
	}
	if (!secp256k1_xonly_pubkey_parse(gh_secp, &xp, pub)) {
		return (GH_EBADSIG);
	}
	if (!secp256k1_schnorrsig_verify(gh_secp, sig->b, msg, msglen, &xp)) {
		return (GH_EBADSIG);
	}
	return (GH_OK);
}

int
gh_acct_verify(const gh_acct_pub *pub, const gh_hash *msg, const gh_sig *sig)
{
	return (gh_acct_verify_raw(pub->b, msg->b, sizeof(msg->b), sig));
}
