/* kinds_cli_test.c - `gpuhour lease|loan|asset` on a devnet. */
#include <stdlib.h>
#include <unistd.h>

#include "tests/cli/cli_util.h"
#include "tests/harness.h"

TEST_T(cli_lease_loan_asset_devnet, 300)
{
	const char *d = th_tmpdir();
	const char *b = th_bin();
	char        cmd[4096], owner[80], asset[80], lot[80], lease[80];
	char        loan[80], rcpt[400], lender[80];
	const char *out;
	int         rc;

#define RUN(...) (snprintf(cmd, sizeof(cmd), __VA_ARGS__), out = sh1(&rc, cmd))

	RUN("%s ledger genesis --datadir %s/dn --validators 4 --lease-grace 0 "
	    "--clock-margin 1 --insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 0);
	{
		const char *names[] = { "a", "r", "l" };
		for (int i = 0; i < 3; i++) {
			RUN("%s keys new --kind account --file %s/%s.key "
			    "--insecure-no-passphrase",
			    b, d, names[i]);
			CHECK_EQ(rc, 0);
		}
	}
	RUN("%s keys new --kind node --file %s/n.key --insecure-no-passphrase",
	    b, d);
	RUN("%s keys new --kind node --file %s/rk.key "
	    "--insecure-no-passphrase",
	    b, d);
	CHECK_EQ(rc, 0);
	RUN("%s keys export-pub --file %s/a.key", b, d);
	snprintf(owner, sizeof(owner), "%s", out);
	RUN("%s keys export-pub --file %s/l.key", b, d);
	snprintf(lender, sizeof(lender), "%s", out);
	RUN("%s keys export-pub --file %s/r.key", b, d);
	snprintf(cmd, sizeof(cmd),
	    "%s wallet mint --datadir %s/dn --key %s/dn/keys/issuer.key --to "
	    "%s --amount 1000000",
	    b, d, d, out);
	out = sh1(&rc, cmd);
	CHECK_EQ(rc, 0);
	RUN("%s wallet mint --datadir %s/dn --key %s/dn/keys/issuer.key --to "
	    "%s --amount 100000",
	    b, d, d, lender);
	CHECK_EQ(rc, 0);
	RUN("%s shares register --datadir %s/dn --key %s/a.key --node-key "
	    "%s/n.key --supply 1000 --hw H100",
	    b, d, d, d);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "asset", asset, sizeof(asset)));
	CHECK(field(out, "lot", lot, sizeof(lot)));

	/* 2 s at 3600000/h: escrow 2000. */
	RUN("%s lease open --datadir %s/dn --key %s/r.key --asset %s "
	    "--seconds 2 --price 3600000 --receipt-key %s/rk.key",
	    b, d, d, asset, d);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "lease ", lease, sizeof(lease)));
	CHECK(field(out, "escrow", rcpt, sizeof(rcpt)));
	CHECK_STR(rcpt, "2000");
	RUN("%s lease receipt --receipt-key %s/rk.key --lease %s --seq 1 "
	    "--amount 1000",
	    b, d, lease);
	CHECK_EQ(rc, 0);
	snprintf(rcpt, sizeof(rcpt), "%s", out);
	RUN("%s lease draw --datadir %s/dn --node-key %s/n.key --lease %s "
	    "--receipt %s --json",
	    b, d, d, lease, rcpt);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"drawn\":1000") != NULL);
	CHECK(strstr(out, "\"fees\":10") != NULL);
	/* The same receipt twice: not newer. */
	RUN("%s lease draw --datadir %s/dn --node-key %s/n.key --lease %s "
	    "--receipt %s",
	    b, d, d, lease, rcpt);
	CHECK_EQ(rc, 1);
	/* Signed by the renter's account key: not a node. */
	RUN("%s lease draw --datadir %s/dn --node-key %s/a.key --lease %s "
	    "--receipt %s",
	    b, d, d, lease, rcpt);
	CHECK(rc != 0);
	RUN("%s lease list --datadir %s/dn --json", b, d);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, lease) != NULL);
	RUN("%s lease show --datadir %s/dn --json %s", b, d, lease);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"state\":\"active\"") != NULL);

	/* A loan against the owner's lot. */
	RUN("%s loan offer --datadir %s/dn --key %s/l.key --borrower %s --lot "
	    "%s --amount 5000 --due 5500 --expiry +100 --maturity +1000",
	    b, d, d, owner, lot);
	CHECK_EQ(rc, 0);
	CHECK(field(out, "loan ", loan, sizeof(loan)));
	RUN("%s loan take --datadir %s/dn --key %s/l.key %s", b, d, d, loan);
	CHECK_EQ(rc, 4); /* not the borrower */
	RUN("%s loan take --datadir %s/dn --key %s/a.key %s --json", b, d, d,
	    loan);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"state\":\"taken\"") != NULL);
	RUN("%s shares transfer --datadir %s/dn --key %s/a.key --lot %s --to "
	    "%s --amount 1",
	    b, d, d, lot, lender);
	CHECK_EQ(rc, 1); /* pledged */
	RUN("%s asset show --datadir %s/dn --json %s", b, d, asset);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"pool\":990") != NULL);
	CHECK(strstr(out, "\"accrued\":990") != NULL);
	CHECK(strstr(out, "\"pledged\":true") != NULL);
	RUN("%s asset show --datadir %s/dn %s", b, d, asset);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "pledged to") != NULL);
	/* The claim pays the lender. */
	RUN("%s shares claim --datadir %s/dn --key %s/a.key --lot %s", b, d, d,
	    lot);
	CHECK_EQ(rc, 0);
	RUN("%s wallet balance --datadir %s/dn --json %s", b, d, lender);
	CHECK(strstr(out, "\"balance\":95990") != NULL);
	RUN("%s loan show --datadir %s/dn --json %s", b, d, loan);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"owed\":4510") != NULL);
	CHECK(strstr(out, "\"repaid_by_claims\":990") != NULL);
	CHECK(strstr(out, "\"lot_earned\":990") != NULL);
	CHECK(strstr(out, "\"time_to_repay\":") != NULL);
	RUN("%s loan show --datadir %s/dn %s", b, d, loan);
	CHECK(strstr(out, "time to repay") != NULL);
	RUN("%s loan repay --datadir %s/dn --key %s/a.key --amount 4511 %s", b,
	    d, d, loan);
	CHECK(rc != 0); /* more than owed */
	RUN("%s wallet mint --datadir %s/dn --key %s/dn/keys/issuer.key --to "
	    "%s --amount 10000",
	    b, d, d, owner);
	RUN("%s loan repay --datadir %s/dn --key %s/a.key --amount 4510 %s "
	    "--json",
	    b, d, d, loan);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"state\":\"repaid\"") != NULL);
	RUN("%s loan list --datadir %s/dn --json", b, d);
	CHECK(strstr(out, loan) != NULL);

	/* The lease ends: grace 0, margin 1. */
	sleep(4);
	RUN("%s lease expire --datadir %s/dn --key %s/r.key --lease %s --json",
	    b, d, d, lease);
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "\"refunded\":1000") != NULL);
	RUN("%s lease close --datadir %s/dn --node-key %s/n.key --lease %s", b,
	    d, d, lease);
	CHECK(rc != 0);
	RUN("%s ledger verify --datadir %s/dn", b, d);
	CHECK_EQ(rc, 0);

	/* Usage errors and absent things. */
	RUN("%s lease frob", b);
	CHECK_EQ(rc, 2);
	RUN("%s lease open --datadir %s/dn --key %s/r.key", b, d, d);
	CHECK_EQ(rc, 2);
	RUN("%s lease draw --datadir %s/dn --node-key %s/n.key --lease %s "
	    "--receipt zz",
	    b, d, d, lease);
	CHECK_EQ(rc, 2);
	RUN("%s loan show --datadir %s/dn nothex", b, d);
	CHECK_EQ(rc, 2);
	RUN("%s loan offer --datadir %s/dn --key %s/l.key", b, d, d);
	CHECK_EQ(rc, 2);
	RUN("%s asset show --datadir %s/dn --json", b, d);
	CHECK_EQ(rc, 2);
	RUN("%s asset frob", b);
	CHECK_EQ(rc, 2);
	RUN("%s lease show --datadir %s/dn %s", b, d, asset);
	CHECK_EQ(rc, 3);
	RUN("%s loan --help", b);
	CHECK_EQ(rc, 0);
	RUN("%s lease --help", b);
	CHECK_EQ(rc, 0);
#undef RUN
}
