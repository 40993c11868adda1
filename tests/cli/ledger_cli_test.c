/* ledger_cli_test.c - `gpuhour ledger|wallet|shares` on a devnet. */
#include <stdlib.h>

#include "tests/cli/cli_util.h"
#include "tests/harness.h"

/* Runs a command and returns its trimmed stdout (static, one slot). */
TEST_T(cli_ledger_wallet_shares_devnet, 300)
{
	const char *d = th_tmpdir();
	const char *b = th_bin();
	char        cmd[2048], alice[80], bob[80], asset[80], lot[80];
	char        blot[80], tmp[128];
	const char *out;
	int         rc;

#define RUN(...) (snprintf(cmd, sizeof(cmd), __VA_ARGS__), out = sh1(&rc, cmd))

	RUN("%s ledger genesis --datadir %s/dn --validators 4 "
	    "--insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "network id") != NULL);
	/* Again: the genesis exists. */
	RUN("%s ledger genesis --datadir %s/dn --insecure-no-passphrase", b,
	    d);
	CHECK(rc != 0);
	RUN("%s ledger genesis --datadir %s/x --validators 3 "
	    "--insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 2);
	RUN("%s keys new --kind account --file %s/a.key "
	    "--insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 0);
	RUN("%s keys export-pub --file %s/a.key", b, d);
	snprintf(alice, sizeof(alice), "%s", out);
	RUN("%s keys new --kind account --file %s/b.key "
	    "--insecure-no-passphrase",
	    b, d);
	RUN("%s keys export-pub --file %s/b.key", b, d);
	snprintf(bob, sizeof(bob), "%s", out);
	RUN("%s keys new --kind node --file %s/n.key --insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 0);

	RUN("%s wallet mint --datadir %s/dn --key %s/dn/keys/issuer.key --to "
	    "%s --amount 1000000",
	    b, d, d, alice);
	CHECK_EQ(rc, 0);
	/* Only the issuer mints. */
	RUN("%s wallet mint --datadir %s/dn --key %s/a.key --to %s --amount 1",
	    b, d, d, alice);
	CHECK_EQ(rc, 4);
	RUN("%s wallet transfer --datadir %s/dn --key %s/a.key --to %s "
	    "--amount 250000",
	    b, d, d, bob);
	CHECK_EQ(rc, 0);
	RUN("%s wallet transfer --datadir %s/dn --key %s/b.key --to %s "
	    "--amount 250001",
	    b, d, d, alice);
	CHECK_EQ(rc, 1);
	CHECK(strstr(out, "insufficient") != NULL);
	RUN("%s wallet balance --datadir %s/dn --json %s", b, d, bob);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"balance\":250000") != NULL);

	RUN("%s shares register --datadir %s/dn --key %s/a.key --node-key "
	    "%s/n.key --supply 4 --hw H100",
	    b, d, d, d);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "asset", asset, sizeof(asset)));
	CHECK(field(out, "lot", lot, sizeof(lot)));
	/* Bob pays 1001 into the pool. */
	RUN("%s wallet transfer --datadir %s/dn --key %s/b.key --pool --to %s "
	    "--amount 1001",
	    b, d, d, asset);
	CHECK_EQ(rc, 0);
	/* Alice sells 1 share to Bob: settles 4*1001/4 = 1001. */
	RUN("%s shares transfer --datadir %s/dn --key %s/a.key --lot %s --to "
	    "%s --amount 1",
	    b, d, d, lot, bob);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "paid", tmp, sizeof(tmp)));
	CHECK_STR(tmp, "1001");
	CHECK(field(out, "lot", blot, sizeof(blot)));
	RUN("%s wallet transfer --datadir %s/dn --key %s/b.key --pool --to %s "
	    "--amount 10",
	    b, d, d, asset);
	CHECK_EQ(rc, 0);
	/* Bob's 1/4 of 10: 2, carry 2. */
	RUN("%s shares claim --datadir %s/dn --key %s/b.key --lot %s", b, d, d,
	    blot);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "paid", tmp, sizeof(tmp)));
	CHECK_STR(tmp, "2");
	/* Not the holder. */
	RUN("%s shares claim --datadir %s/dn --key %s/b.key --lot %s", b, d, d,
	    lot);
	CHECK_EQ(rc, 4);
	/* A pool total above ours. */
	RUN("%s shares claim --datadir %s/dn --key %s/a.key --lot %s --at "
	    "99999",
	    b, d, d, lot);
	CHECK(rc != 0);
	RUN("%s shares holders --datadir %s/dn --json %s", b, d, asset);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"paid_in\":1011") != NULL);
	CHECK(strstr(out, "\"amount\":3") != NULL);
	CHECK(strstr(out, "\"carry\":2") != NULL);
	RUN("%s wallet history --datadir %s/dn --json %s", b, d, alice);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"kind\":\"SHARE_TRANSFER\"") != NULL);
	CHECK(strstr(out, "\"kind\":\"ASSET_REGISTER\"") != NULL);
	RUN("%s ledger verify --datadir %s/dn", b, d);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "ok: 7 entries") != NULL);
	/* The entry of Bob's claim is in the transparency log (entry 6 of
	 * 7: applied in order). */
	{
		char eh[80];
		RUN("%s wallet history --datadir %s/dn %s", b, d, bob);
		CHECK_EQ(rc, 0);
		RUN("%s wallet history --datadir %s/dn --json %s", b, d, bob);
		CHECK(field(
		    out, "\"kind\":\"REVENUE_CLAIM\",\"entry\":\"", eh, 65));
		eh[64] = '\0';
		RUN("%s ledger proof %s --datadir %s/dn", b, eh, d);
		CHECK_EQ(rc, 0);
		CHECK(field(out, "index", tmp, sizeof(tmp)));
		CHECK_STR(tmp, "6");
		CHECK(field(out, "size", tmp, sizeof(tmp)));
		CHECK_STR(tmp, "7");
	}
	RUN("%s ledger show --datadir %s/dn --json", b, d);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"applied\":7") != NULL);

	/* Usage errors. */
	RUN("%s wallet transfer --datadir %s/dn --key %s/a.key --to nothex "
	    "--amount 1",
	    b, d, d);
	CHECK_EQ(rc, 2);
	RUN("%s wallet transfer --datadir %s/dn --key %s/a.key --to %s "
	    "--amount -5",
	    b, d, d, bob);
	CHECK_EQ(rc, 2);
	RUN("%s wallet frob", b);
	CHECK_EQ(rc, 2);
	RUN("%s shares --bogus", b);
	CHECK_EQ(rc, 2);
	RUN("%s ledger frob --datadir %s/dn", b, d);
	CHECK_EQ(rc, 2);
	RUN("%s ledger --help", b);
	CHECK_EQ(rc, 0);
	RUN("%s wallet balance --datadir %s/nothere %s", b, d, bob);
	CHECK_EQ(rc, 3);
#undef RUN
}

/* Random bit flips in the LMDB file: `ledger verify` answers 0 (the
 * flips hit unused bytes) or 5 (damage found and named), never a crash. */
TEST_T(cli_ledger_verify_damaged_file_never_crashes, 300)
{
	const char *d = th_tmpdir();
	const char *b = th_bin();
	char        path[1024], issuer[80], *out = NULL;
	uint8_t    *orig = NULL, *buf = NULL;
	size_t      n;
	uint64_t    rnd   = 77;
	int         found = 0;

	CHECK_EQ(th_sh(NULL,
	             "%s ledger genesis --datadir %s/dn "
	             "--insecure-no-passphrase",
	             b, d),
	    0);
	CHECK_EQ(th_sh(&out, "%s keys export-pub --file %s/dn/keys/issuer.key",
	             b, d),
	    0);
	snprintf(issuer, sizeof(issuer), "%.64s", out);
	free(out);
	for (int i = 1; i <= 12; i++) {
		CHECK_EQ(th_sh(NULL,
		             "%s wallet mint --datadir %s/dn --key "
		             "%s/dn/keys/issuer.key --to %s --amount %d",
		             b, d, d, issuer, i),
		    0);
	}
	snprintf(path, sizeof(path), "%s/dn/ledger/data.mdb", d);
	CHECK_OK(gh_file_read(path, 64 << 20, &orig, &n));
	CHECK(n > 8192);
	buf = malloc(n);
	for (int t = 0; t < 80; t++) {
		int rc, flips = 1 + (int) (th_rand(&rnd) % 4);
		memcpy(buf, orig, n);
		for (int k = 0; k < flips; k++) {
			size_t at = 8192 + th_rand(&rnd) % (n - 8192);
			buf[at] ^= (uint8_t) (1u << (th_rand(&rnd) % 8));
		}
		CHECK_OK(gh_file_write_atomic(path, buf, n, 0600));
		rc = th_sh(NULL, "%s ledger verify --datadir %s/dn", b, d);
		CHECK(rc == 0 || rc == 5);
		found += rc == 5;
	}
	CHECK(found > 0);
	free(buf);
	free(orig);
}
