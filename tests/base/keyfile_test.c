/* keyfile_test.c - keys at rest: create, reload, sign, tamper. */
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/harness.h"

TEST(keyfile_node_roundtrip_and_sign)
{
	const char     *path = th_path(0, "node.key");
	gh_keyfile_info info, info2;
	gh_ed_key      *k = NULL;
	gh_ed_pub       pub;
	gh_hash         m;
	gh_sig          s;
	struct stat     st;

	CHECK_OK(gh_keyfile_create(path, GH_KEY_NODE, "pw", 2, &info));
	CHECK(info.encrypted);
	CHECK(stat(path, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_ERR(gh_keyfile_create(path, GH_KEY_NODE, "pw", 2, &info),
	    GH_OK); /* atomic replace is allowed at this level */
	CHECK_OK(gh_keyfile_info_read(path, &info2));
	CHECK_EQ(info2.kind, GH_KEY_NODE);
	CHECK_MEM(info.pub, info2.pub, 32);
	CHECK_OK(gh_keyfile_open_node(path, "pw", 2, &k));
	gh_ed_key_pub(k, &pub);
	CHECK_MEM(pub.b, info.pub, 32);
	gh_hash_tagged(GH_TAG_OFFER, "o", 1, &m);
	gh_ed_sign(k, &m, &s);
	CHECK_OK(gh_ed_verify(&pub, &m, &s));
	gh_ed_key_free(k);
	k = NULL;
	CHECK_ERR(gh_keyfile_open_node(path, "wrong", 5, &k), GH_EDECRYPT);
	CHECK(k == NULL);
}

TEST(keyfile_account_roundtrip_and_sign)
{
	const char     *path = th_path(0, "acct.key");
	gh_keyfile_info info;
	gh_acct_key    *k  = NULL;
	gh_ed_key      *ed = NULL;
	gh_acct_pub     pub;
	gh_hash         m;
	gh_sig          s;

	CHECK_OK(gh_keyfile_create(path, GH_KEY_ACCOUNT, "secret", 6, &info));
	CHECK_OK(gh_keyfile_open_account(path, "secret", 6, &k));
	gh_acct_key_pub(k, &pub);
	CHECK_MEM(pub.b, info.pub, 32);
	gh_hash_tagged(GH_TAG_ENTRY, "e", 1, &m);
	CHECK_OK(gh_acct_sign(k, &m, &s));
	CHECK_OK(gh_acct_verify(&pub, &m, &s));
	gh_acct_key_free(k);
	CHECK_ERR(gh_keyfile_open_node(path, "secret", 6, &ed), GH_ETYPE);
}

TEST(keyfile_every_tampered_byte_is_refused)
{
	const char     *path = th_path(0, "t.key");
	const char     *bad  = th_path(1, "bad.key");
	gh_keyfile_info info;
	uint8_t        *p = NULL;
	size_t          n;

	/* No passphrase, so each try is fast; the AEAD still covers all. */
	CHECK_OK(gh_keyfile_create(path, GH_KEY_NODE, NULL, 0, &info));
	CHECK(!info.encrypted);
	CHECK_OK(gh_file_read(path, 4096, &p, &n));
	for (size_t i = 0; i < n; i++) {
		gh_ed_key *k = NULL;
		int        rv;
		p[i] ^= 0x01;
		CHECK_OK(gh_file_write_atomic(bad, p, n, 0600));
		rv = gh_keyfile_open_node(bad, NULL, 0, &k);
		CHECK(
		    rv == GH_ECORRUPT || rv == GH_EDECRYPT || rv == GH_ETYPE);
		CHECK(k == NULL);
		p[i] ^= 0x01;
	}
	for (size_t i = 0; i < n; i++) {
		gh_ed_key *k = NULL;
		CHECK_OK(gh_file_write_atomic(bad, p, i, 0600));
		CHECK_ERR(gh_keyfile_open_node(bad, NULL, 0, &k), GH_ECORRUPT);
	}
	free(p);
}

TEST(keyfile_refuses_hostile_kdf_limits_and_missing_file)
{
	const char     *path = th_path(0, "k.key");
	gh_keyfile_info info;
	uint8_t        *p = NULL;
	size_t          n;
	gh_ed_key      *k = NULL;

	CHECK_OK(gh_keyfile_create(path, GH_KEY_NODE, "x", 1, &info));
	CHECK_OK(gh_file_read(path, 4096, &p, &n));
	/* memlimit (offset 11) raised to 2^60: refused before any KDF */
	gh_be64_put(p + 11, 1ULL << 60);
	CHECK_ERR(gh_keyfile_decode(p, n, &info), GH_ELIMIT);
	free(p);
	CHECK_ERR(gh_keyfile_open_node(th_path(1, "none.key"), "x", 1, &k),
	    GH_ENOENT);
}
