/*
 * ledger_net_test.c - the ledger on real `gpuhour node run` processes:
 * 4 validators and 2 plain nodes; entries signed by the CLI, certified
 * by votes collected over the network, gossiped, synced to a late and a
 * restarted node, and still certified with one validator killed.
 */
#include "ledger/ledger.h"
#include "tests/harness.h"
#include "tests/node/net_util.h"

#define LN_NODES 6
#define LN_VALS  4

typedef struct {
	tn_net t;
	char   issuer[PATH_MAX + 32];
	char   alice[PATH_MAX + 32];
	char   ahex[65];
	char   bhex[65];
} ln_net;

/* Replaces the test genesis with a ledger genesis whose committee is the
 * node keys of nodes 0..3. */
static int
ln_setup(ln_net *L)
{
	ledger_genesis  g;
	gh_keyfile_info info;
	uint8_t         seed[32];
	char           *text = NULL;
	int             rv;

	if ((rv = tn_setup(&L->t, th_tmpdir(), LN_NODES, 2,
	         "gossip_interval_ms = 300\nsync_interval_ms = 700\n"
	         "request_timeout_ms = 5000\ncheckpoint_seconds = 1"))
	    != GH_OK) {
		return (rv);
	}
	memset(&g, 0, sizeof(g));
	snprintf(g.network, sizeof(g.network), "ledger-net-test");
	g.n = LN_VALS;
	for (int i = 0; i < LN_VALS; i++) {
		g.committee[i].key = L->t.pub[i];
		snprintf(g.committee[i].addr, sizeof(g.committee[i].addr),
		    "tcp://127.0.0.1:%d", L->t.port[i]);
	}
	snprintf(L->issuer, sizeof(L->issuer), "%s/issuer.key", L->t.root);
	snprintf(L->alice, sizeof(L->alice), "%s/alice.key", L->t.root);
	randombytes_buf(seed, sizeof(seed));
	if ((rv = gh_keyfile_create_seed(
	         L->issuer, GH_KEY_ACCOUNT, seed, NULL, 0, &info))
	    != GH_OK) {
		return (rv);
	}
	memcpy(g.issuer.b, info.pub, 32);
	memcpy(g.treasury.b, info.pub, 32);
	randombytes_buf(seed, sizeof(seed));
	if ((rv = gh_keyfile_create_seed(
	         L->alice, GH_KEY_ACCOUNT, seed, NULL, 0, &info))
	    != GH_OK) {
		return (rv);
	}
	gh_hex_encode(info.pub, 32, L->ahex);
	randombytes_buf(seed, sizeof(seed));
	gh_hex_encode(seed, 32, L->bhex); /* bob: any 32 bytes */
	g.fee_bps      = 0;
	g.lease_grace  = 600;
	g.clock_margin = 60;
	if ((rv = ledger_genesis_format(&g, &text)) != GH_OK) {
		return (rv);
	}
	rv = tn_write(L->t.genesis, text);
	free(text);
	ledger_genesis_netid(&g, &L->t.netid);
	return (rv);
}

/* The balance of account hex at node i (0 when unknown). */
static int
ln_balance(ln_net *L, int i, const char *hex, uint64_t *bal)
{
	uint8_t  req[33];
	uint8_t *b = NULL;
	size_t   bl;
	int      rv;

	*bal   = 0;
	req[0] = 0;
	if (gh_hex_decode(hex, req + 1, 32) != GH_OK) {
		return (GH_EINVAL);
	}
	rv = tn_ctl(&L->t, i, "ledger-account", req, 33, &b, &bl);
	if (rv == GH_OK && bl == 48) {
		*bal = gh_be64_get(b + 40);
	}
	free(b);
	return (rv == GH_ENOENT ? GH_OK : rv);
}

static int
ln_info(ln_net *L, int i, node_ledger_info *info)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      rv = tn_ctl(&L->t, i, "ledger-info", NULL, 0, &b, &bl);

	if (rv == GH_OK) {
		rv = node_ledger_info_decode(b, bl, info);
	}
	free(b);
	return (rv);
}

/* Waits (at most ms) until every running node in mask shows bal. */
static int
ln_wait_balance(
    ln_net *L, uint64_t mask, const char *hex, uint64_t want, unsigned ms)
{
	uint64_t t0 = tn_now_ms();

	while (tn_now_ms() - t0 < ms) {
		int ok = 1;
		for (int i = 0; i < LN_NODES && ok; i++) {
			uint64_t b;
			if (!(mask & (1ull << i))) {
				continue;
			}
			ok = ln_balance(L, i, hex, &b) == GH_OK && b == want;
		}
		if (ok) {
			return (GH_OK);
		}
		tn_sleep_ms(200);
	}
	return (GH_ETIMEDOUT);
}

/* Runs a wallet command at node i, retrying while the committee is
 * still catching up with the previous entry (bounded). */
static int
ln_wallet(ln_net *L, int i, const char *args)
{
	char *out = NULL;
	int   ex  = -1;

	for (int tries = 0; tries < 10; tries++) {
		free(out);
		out = NULL;
		ex  = th_sh(&out, "'%s' wallet %s --node '%s' 2>&1", th_bin(),
		     args, L->t.conf[i]);
		if (ex == 0) {
			ex = strstr(out, "entry ") != NULL ? 0 : 99;
			break;
		}
		fprintf(stderr, "wallet try %d: exit %d: %s", tries, ex,
		    out ? out : "");
		tn_sleep_ms(1000);
	}
	free(out);
	return (ex);
}

static void
ln_body(ln_net *L)
{
	node_ledger_info i0, i5;
	char             args[2 * PATH_MAX + 256];
	char            *out = NULL;
	uint64_t         all = (1ull << LN_NODES) - 1;

	CHECK_OK(ln_setup(L));
	for (int i = 0; i < LN_NODES - 1; i++) {
		CHECK_OK(tn_start(&L->t, i));
	}
	for (int i = 0; i < LN_NODES - 1; i++) {
		CHECK_OK(tn_wait_peers(&L->t, i, 4, 30000));
	}
	CHECK_OK(ln_info(L, 0, &i0));
	CHECK_MEM(i0.netid.b, L->t.netid.b, 32);
	CHECK_EQ(i0.validator, 1);
	CHECK_OK(ln_info(L, 4, &i0));
	CHECK_EQ(i0.validator, 0);

	/* Mint then transfer, submitted at plain node 4. */
	snprintf(args, sizeof(args),
	    "mint --key '%s' --to %s --amount 1000000", L->issuer, L->ahex);
	CHECK_EQ(ln_wallet(L, 4, args), 0);
	CHECK_OK(ln_wait_balance(L, all >> 1, L->ahex, 1000000, 30000));
	snprintf(args, sizeof(args),
	    "transfer --key '%s' --to %s --amount 1234", L->alice, L->bhex);
	CHECK_EQ(ln_wallet(L, 4, args), 0);
	CHECK_OK(ln_wait_balance(L, all >> 1, L->bhex, 1234, 30000));

	/* A node started late catches up. */
	CHECK_OK(tn_start(&L->t, 5));
	CHECK_OK(ln_wait_balance(L, all, L->bhex, 1234, 60000));

	/* f = 1: with validator 3 killed, entries are still certified. */
	CHECK(tn_stop(&L->t, 3, SIGKILL) == -1);
	snprintf(args, sizeof(args), "transfer --key '%s' --to %s --amount 66",
	    L->alice, L->bhex);
	CHECK_EQ(ln_wallet(L, 5, args), 0);
	CHECK_OK(ln_wait_balance(L, all & ~(1ull << 3), L->bhex, 1300, 30000));

	/* Node 5 stopped; an entry while it is down; restarted, it catches
	 * up and its ledger verifies. */
	CHECK_EQ(tn_stop(&L->t, 5, SIGTERM), 0);
	snprintf(args, sizeof(args),
	    "transfer --key '%s' --to %s --amount 700", L->alice, L->bhex);
	CHECK_EQ(ln_wallet(L, 4, args), 0);
	CHECK_OK(tn_start(&L->t, 5));
	CHECK_OK(ln_wait_balance(L, all & ~(1ull << 3), L->bhex, 2000, 60000));
	CHECK_OK(ln_info(L, 0, &i0));
	CHECK_OK(ln_info(L, 5, &i5));
	CHECK_EQ(i0.applied, 4);
	CHECK_EQ(i5.applied, 4);
	CHECK_MEM(i0.state.b, i5.state.b, 32);
	CHECK(i0.checkpoints >= 1);
	CHECK_EQ(th_sh(&out, "'%s' ledger verify --node '%s' 2>&1", th_bin(),
	             L->t.conf[5]),
	    0);
	CHECK(strstr(out, "verified") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "'%s' wallet balance --node '%s' %s", th_bin(),
	             L->t.conf[2], L->bhex),
	    0);
	CHECK(strstr(out, "balance 2000") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "'%s' wallet history --node '%s' %s", th_bin(),
	             L->t.conf[1], L->ahex),
	    0);
	CHECK(strstr(out, "transfer") != NULL || strstr(out, "TRANSFER"));
	free(out);
}

TEST_T(ledger_net_six_nodes, 400)
{
	static ln_net L;

	ln_body(&L);
	tn_teardown(&L.t);
}
