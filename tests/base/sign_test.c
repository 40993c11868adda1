/* sign_test.c - hashing and both signature schemes, with the BIP340
 * known-answer vectors. */
#include <stdlib.h>

#include "tests/harness.h"

TEST(hash_sha256_known_answer)
{
	uint8_t       out[32];
	char          hex[65];
	gh_sha256_ctx c;

	gh_sha256("abc", 3, out);
	gh_hex_encode(out, 32, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
	    "61f20015ad");
	gh_sha256_init(&c);
	gh_sha256_update(&c, "a", 1);
	gh_sha256_update(&c, "bc", 2);
	gh_sha256_final(&c, out);
	gh_hex_encode(out, 32, hex);
	CHECK_STR(hex,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
	    "61f20015ad");
}

TEST(hash_tagged_separates_domains)
{
	gh_hash   a, b, c;
	gh_hasher h;

	gh_hash_tagged(GH_TAG_ENTRY, "x", 1, &a);
	gh_hash_tagged(GH_TAG_OFFER, "x", 1, &b);
	CHECK(memcmp(a.b, b.b, 32) != 0);
	gh_hasher_init(&h, GH_TAG_ENTRY);
	gh_hasher_update(&h, "x", 1);
	gh_hasher_final(&h, &c);
	CHECK_MEM(a.b, c.b, 32);
	/* The tag is length-prefixed: moving a byte from tag to data
	 * changes the hash. */
	gh_hash_tagged("gpuhour/entry/v", "1x", 2, &c);
	CHECK(memcmp(a.b, c.b, 32) != 0);
}

TEST(sign_ed25519_sign_verify_and_reject)
{
	gh_ed_key *k = NULL;
	gh_ed_pub  pub;
	gh_hash    m;
	gh_sig     s;
	uint8_t    seed[32] = { 1, 2, 3 };

	CHECK_OK(gh_ed_key_from_seed(seed, &k));
	gh_ed_key_pub(k, &pub);
	gh_hash_tagged(GH_TAG_VOTE, "msg", 3, &m);
	gh_ed_sign(k, &m, &s);
	CHECK_OK(gh_ed_verify(&pub, &m, &s));
	s.b[10] ^= 1;
	CHECK_ERR(gh_ed_verify(&pub, &m, &s), GH_EBADSIG);
	s.b[10] ^= 1;
	m.b[0] ^= 1;
	CHECK_ERR(gh_ed_verify(&pub, &m, &s), GH_EBADSIG);
	m.b[0] ^= 1;
	pub.b[0] ^= 1;
	CHECK_ERR(gh_ed_verify(&pub, &m, &s), GH_EBADSIG);
	gh_ed_key_free(k);
	gh_ed_key_free(NULL);
}

TEST(sign_ed25519_x25519_seal_roundtrip)
{
	gh_ed_key *k = NULL;
	gh_ed_pub  pub;
	uint8_t    pk[32], sk[32], pk2[32];
	uint8_t    ct[5 + crypto_box_SEALBYTES], pt[5];

	CHECK_OK(gh_ed_key_new(&k));
	gh_ed_key_pub(k, &pub);
	CHECK_OK(gh_ed_to_x25519(k, pk, sk));
	CHECK_OK(gh_ed_pub_to_x25519(&pub, pk2));
	CHECK_MEM(pk, pk2, 32);
	crypto_box_seal(ct, (const uint8_t *) "hello", 5, pk2);
	CHECK(crypto_box_seal_open(pt, ct, sizeof(ct), pk, sk) == 0);
	CHECK_MEM(pt, "hello", 5);
	sodium_memzero(sk, 32);
	gh_ed_key_free(k);
}

/* Splits one CSV line in place into at most n fields. */
static int
csv_split(char *line, char **f, int n)
{
	int k = 0;

	f[k++] = line;
	for (char *p = line; *p && k < n; p++) {
		if (*p == ',') {
			*p     = '\0';
			f[k++] = p + 1;
		}
	}
	return (k);
}

TEST(sign_bip340_vectors)
{
	char     path[4096];
	uint8_t *csv = NULL;
	size_t   n;
	char    *line, *save = NULL;
	int      rows = 0, signed_rows = 0;

	snprintf(path, sizeof(path), "%s/tests/vectors/bip340.csv", th_src());
	CHECK_OK(gh_file_read(path, 1 << 20, &csv, &n));
	line = strtok_r((char *) csv, "\r\n", &save); /* header */
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char   *f[8];
		uint8_t pub[32], msg[1024], sig[64];
		gh_sig  s;
		size_t  mlen;
		int     want;

		CHECK(csv_split(line, f, 8) >= 7);
		CHECK_OK(gh_hex_decode(f[2], pub, 32));
		mlen = strlen(f[4]) / 2;
		CHECK(mlen <= sizeof(msg));
		CHECK_OK(gh_hex_decode(f[4], msg, mlen));
		CHECK_OK(gh_hex_decode(f[5], sig, 64));
		want = strcmp(f[6], "TRUE") == 0;
		memcpy(s.b, sig, 64);
		if (f[1][0] != '\0') {
			gh_acct_key *k = NULL;
			gh_acct_pub  p;
			uint8_t      seed[32], aux[32];
			gh_sig       out;
			CHECK_OK(gh_hex_decode(f[1], seed, 32));
			CHECK_OK(gh_hex_decode(f[3], aux, 32));
			CHECK_OK(gh_acct_key_from_seed(seed, &k));
			gh_acct_key_pub(k, &p);
			CHECK_MEM(p.b, pub, 32);
			CHECK(mlen == 32);
			CHECK_OK(gh_acct_sign_aux(k, msg, aux, &out));
			CHECK_MEM(out.b, sig, 64);
			gh_acct_key_free(k);
			signed_rows++;
		}
		CHECK_ERR(gh_acct_verify_raw(pub, msg, mlen, &s),
		    want ? GH_OK : GH_EBADSIG);
		rows++;
	}
	CHECK(rows >= 15);
	CHECK(signed_rows >= 4);
	free(csv);
}

TEST(sign_bip340_random_keys)
{
	gh_acct_key *k = NULL;
	gh_acct_pub  pub;
	gh_hash      m;
	gh_sig       s;
	uint8_t      bad[32];

	CHECK_OK(gh_acct_key_new(&k));
	gh_acct_key_pub(k, &pub);
	gh_hash_tagged(GH_TAG_ENTRY, "transfer", 8, &m);
	CHECK_OK(gh_acct_sign(k, &m, &s));
	CHECK_OK(gh_acct_verify(&pub, &m, &s));
	m.b[31] ^= 0x80;
	CHECK_ERR(gh_acct_verify(&pub, &m, &s), GH_EBADSIG);
	gh_acct_key_free(k);
	/* Zero and the group order are not valid secrets. */
	memset(bad, 0, 32);
	CHECK_ERR(gh_acct_key_from_seed(bad, &k), GH_EBADKEY);
	CHECK(k == NULL);
	CHECK_OK(
	    gh_hex_decode("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BB"
	                  "FD25E8CD0364141",
	        bad, 32));
	CHECK_ERR(gh_acct_key_from_seed(bad, &k), GH_EBADKEY);
}
