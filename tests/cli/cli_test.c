/* cli_test.c - the command line: help, version, usage errors, keys. */
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/harness.h"

TEST(cli_help_version_and_usage_errors)
{
	char *out = NULL;

	CHECK_EQ(th_sh(&out, "%s --help", th_bin()), 0);
	CHECK(strstr(out, "usage: gpuhour") != NULL);
	CHECK(strstr(out, "keys") != NULL);
	free(out);
	CHECK_EQ(th_sh(&out, "%s --version", th_bin()), 0);
	CHECK(strstr(out, "gpuhour " GH_VERSION_STRING) != NULL);
	free(out);
	CHECK_EQ(th_sh(&out, "%s keys --help", th_bin()), 0);
	CHECK(strstr(out, "export-pub") != NULL);
	free(out);
	CHECK_EQ(th_sh(&out, "%s frobnicate", th_bin()), 2);
	CHECK(strstr(out, "not a gpuhour command") != NULL);
	free(out);
	CHECK_EQ(th_sh(NULL, "%s --bogus", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "%s", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "%s keys new --kind x --name a", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "%s keys show --nope a", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "%s keys frob a", th_bin()), 2);
}

/* A --node config that cannot be read is an error, never taken for the
 * node's "not found" (a balance of 0, an entry in no log). */
TEST(cli_unreadable_node_config_is_an_error)
{
	static const char *cmds[] = { "wallet balance", "ledger proof" };
	char              *out    = NULL;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int ex = th_sh(&out,
		    "%s %s --node %s/none.conf "
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    "aaa"
		    "aaaa 2>&1",
		    th_bin(), cmds[i], th_tmpdir());
		CHECK(ex != 0 && ex != 3);
		CHECK(out != NULL && strstr(out, "cannot read") != NULL);
		CHECK(strstr(out, "balance") == NULL
		    && strstr(out, "in no log") == NULL);
		free(out);
		out = NULL;
	}
}

TEST(cli_keys_new_show_export_and_errors)
{
	char       *out = NULL;
	char        pub[65];
	const char *home = th_tmpdir();
	struct stat st;

	CHECK_EQ(
	    th_sh(&out,
	        "GPUHOUR_HOME=%s GH_PW=hunter2 %s keys new --kind account "
	        "--name alice --passphrase-env GH_PW",
	        home, th_bin()),
	    0);
	CHECK(strstr(out, "account key ") != NULL);
	memcpy(pub, strstr(out, "account key ") + 12, 64);
	pub[64] = '\0';
	free(out);
	CHECK(stat(th_path(0, "keys/alice.key"), &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);

	CHECK_EQ(th_sh(&out, "GPUHOUR_HOME=%s %s keys export-pub alice", home,
	             th_bin()),
	    0);
	CHECK(strncmp(out, pub, 64) == 0);
	free(out);
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_HOME=%s GPUHOUR_PASSPHRASE=hunter2 %s keys show "
	             "--check --json alice",
	             home, th_bin()),
	    0);
	CHECK(strstr(out, "\"kind\":\"account\"") != NULL);
	CHECK(strstr(out, pub) != NULL);
	free(out);
	/* wrong passphrase: clear message, exit 4 */
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_HOME=%s GPUHOUR_PASSPHRASE=nope %s keys show "
	             "--check alice",
	             home, th_bin()),
	    4);
	CHECK(strstr(out, "wrong passphrase") != NULL);
	free(out);
	/* no passphrase source and no terminal */
	CHECK(th_sh(NULL,
	          "GPUHOUR_HOME=%s setsid %s keys new --kind node --name n1",
	          home, th_bin())
	    != 0);
	/* an existing key is never overwritten */
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_HOME=%s %s keys new --kind node --name alice "
	             "--insecure-no-passphrase",
	             home, th_bin()),
	    1);
	CHECK(strstr(out, "already exists") != NULL);
	free(out);
	CHECK_EQ(th_sh(NULL,
	             "GPUHOUR_HOME=%s %s keys new --kind node --name n1 "
	             "--insecure-no-passphrase",
	             home, th_bin()),
	    0);
	CHECK_EQ(
	    th_sh(&out, "GPUHOUR_HOME=%s %s keys list", home, th_bin()), 0);
	CHECK(strstr(out, "alice") != NULL && strstr(out, "n1") != NULL);
	free(out);
	/* a damaged file: clear error, exit 5 */
	CHECK_EQ(th_sh(NULL, "printf garbage > %s", th_path(1, "bad.key")), 0);
	CHECK_EQ(th_sh(&out, "%s keys show --file %s", th_bin(),
	             th_path(1, "bad.key")),
	    5);
	CHECK(strstr(out, "damaged") != NULL);
	free(out);
	CHECK_EQ(
	    th_sh(NULL, "GPUHOUR_HOME=%s %s keys show ghost", home, th_bin()),
	    3);
}
