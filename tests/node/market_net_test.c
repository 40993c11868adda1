/*
 * market_net_test.c - the market on real `gpuhour node run` processes:
 * 4 validators, a provider node (4) and two renter nodes (5, 6).  An
 * owner registers node 4's machine, sells shares, offers it; renters
 * lease it through their own nodes, which sign the receipts; the
 * provider's node serves, draws and closes by itself; holders claim.
 * Every balance is checked against figures computed by hand.  Also:
 * two renters racing for the last unit of capacity, a provider that
 * vanishes (the renter expires the lease) and a renter that vanishes
 * (the provider closes on the last receipt), and loans against a lot
 * repaid by its revenue or seized at maturity.
 */
#include <stdarg.h>

#include "attest/attest.h"
#include "market/market.h"
#include "tests/cli/cli_util.h"
#include "tests/harness.h"
#include "tests/node/net_util.h"

#define MN_NODES  7
#define MN_VALS   4
#define MN_FEE    250 /* bps: fee = draw / 40 */
#define MN_GRACE  5
#define MN_MARGIN 2

typedef struct {
	tn_net t;
	char   key[8][PATH_MAX + 32];
	char   hex[8][65];
	char   asset[65];
	char   cmd[8192];
	int    http; /* node 4's HTTP port (with a model) */
} mn_net;

/* Accounts. */
enum { ISSUER, TREASURY, ALICE, BOB, DAVE, CAROL, ERIN, LENDER };
static const char *const mn_names[] = { "issuer", "treasury", "alice", "bob",
	"dave", "carol", "erin", "lender" };

/* Runs a gpuhour command line (printf-style, after the binary). */
__attribute__((format(printf, 3, 4))) static const char *
mn_run(mn_net *M, int *rc, const char *fmt, ...)
{
	va_list ap;
	int     off = snprintf(M->cmd, sizeof(M->cmd), "'%s' ", th_bin());

	va_start(ap, fmt);
	vsnprintf(M->cmd + off, sizeof(M->cmd) - (size_t) off, fmt, ap);
	va_end(ap);
	strncat(M->cmd, " 2>&1", sizeof(M->cmd) - strlen(M->cmd) - 1);
	return (sh1(rc, M->cmd));
}

/* Retries a command that submits an entry until it exits 0 (the
 * committee may still be applying the entry before it). */
static int
mn_submit(mn_net *M, char *out, size_t cap, const char *args, int at)
{
	int rc = -1;

	for (int tries = 0; tries < 15; tries++) {
		const char *o
		    = mn_run(M, &rc, "%s --node '%s'", args, M->t.conf[at]);
		snprintf(out, cap, "%s", o);
		if (rc == 0) {
			return (0);
		}
		fprintf(
		    stderr, "try %d: %s: exit %d: %s\n", tries, args, rc, out);
		tn_sleep_ms(700);
	}
	return (rc);
}

static uint64_t
mn_balance(mn_net *M, int at, int who)
{
	char        v[32];
	int         rc;
	const char *o = mn_run(M, &rc, "wallet balance --node '%s' --json %s",
	    M->t.conf[at], M->hex[who]);

	if (rc != 0 || !field(o, "\"balance\":", v, sizeof(v))) {
		return (UINT64_MAX);
	}
	return (strtoull(v, NULL, 10));
}

/* Waits until `lease show` at node shows want (a JSON fragment). */
static int
mn_wait_lease(
    mn_net *M, int at, const char *lease, const char *want, unsigned ms)
{
	uint64_t t0 = tn_now_ms();

	do {
		int         rc;
		const char *o = mn_run(M, &rc,
		    "lease show --node '%s' --json %s", M->t.conf[at], lease);
		if (rc == 0 && strstr(o, want) != NULL) {
			return (GH_OK);
		}
		tn_sleep_ms(250);
	} while (tn_now_ms() - t0 < ms);
	fprintf(stderr, "lease %s never showed %s\n", lease, want);
	return (GH_ETIMEDOUT);
}

/* Waits until every running node shows balance want for who. */
static int
mn_wait_balance(mn_net *M, int who, uint64_t want, unsigned ms)
{
	uint64_t t0 = tn_now_ms();

	do {
		int ok = 1;
		for (int i = 0; i < MN_NODES && ok; i++) {
			if (M->t.pid[i] > 0) {
				ok = mn_balance(M, i, who) == want;
			}
		}
		if (ok) {
			return (GH_OK);
		}
		tn_sleep_ms(250);
	} while (tn_now_ms() - t0 < ms);
	for (int i = 0; i < MN_NODES; i++) {
		if (M->t.pid[i] > 0) {
			/* (A node that died is named by the failure
			 * report, tn_report.) */
			int         rc;
			const char *o = mn_run(M, &rc,
			    "wallet balance --node '%s' --json %s",
			    M->t.conf[i], M->hex[who]);
			fprintf(stderr,
			    "%s: want %llu, node %d: exit %d: %s\n",
			    mn_names[who], (unsigned long long) want, i, rc,
			    o);
		}
	}
	return (GH_ETIMEDOUT);
}

/* Starts the network; model (may be NULL) is served by node 4, extra4
 * (may be NULL) is added to node 4's configuration. */
static void
mn_setup_model(mn_net *M, const char *model, const char *extra4)
{
	char out[4096];

	/* The CLI's own folder (kept entries) is the test's. */
	setenv("GPUHOUR_HOME", th_tmpdir(), 1);
	CHECK_OK(tn_setup(&M->t, th_tmpdir(), MN_NODES, 2,
	    "gossip_interval_ms = 300\nsync_interval_ms = 700\n"
	    "request_timeout_ms = 5000\ncheckpoint_seconds = 1\n"
	    "draw_every_receipts = 1\ndraw_every_seconds = 0\n"
	    "receipt_every_seconds = 0"));
	for (int i = 0; i < 8; i++) {
		snprintf(M->key[i], sizeof(M->key[i]), "%s/%s.key", M->t.root,
		    mn_names[i]);
		CHECK_OK(tn_account(M->key[i], M->hex[i]));
	}
	CHECK_OK(tn_ledger_genesis(&M->t, MN_VALS, M->hex[ISSUER],
	    M->hex[TREASURY], MN_FEE, MN_GRACE, MN_MARGIN));
	if (model != NULL) {
		FILE *f = fopen(M->t.conf[4], "a");
		CHECK(f != NULL);
		/* A port none of the nodes (not started yet) will take. */
		for (int k = 0; k < MN_NODES; k++) {
			if (k == 0) {
				M->http = tn_free_port();
			}
			if (M->http == M->t.port[k]) {
				k = -1;
			}
		}
		fprintf(f,
		    "serve_model = %s\njob_threads = 1\n"
		    "request_timeout_ms = 60000\nhttp_listen = 127.0.0.1:%d\n",
		    model, M->http);
		fclose(f);
	}
	if (extra4 != NULL) {
		FILE *f = fopen(M->t.conf[4], "a");
		CHECK(f != NULL);
		fprintf(f, "%s\n", extra4);
		fclose(f);
	}
	for (int i = 0; i < MN_NODES; i++) {
		CHECK_OK(tn_start(&M->t, i));
	}
	for (int i = 0; i < MN_NODES; i++) {
		CHECK_OK(tn_wait_peers(&M->t, i, MN_NODES - 1, 30000));
	}
	for (int who = ALICE; who <= LENDER; who++) {
		char args[12288];
		snprintf(args, sizeof(args),
		    "wallet mint --key '%s' --to %s --amount 1000000",
		    M->key[ISSUER], M->hex[who]);
		CHECK_EQ(mn_submit(M, out, sizeof(out), args, 0), 0);
	}
	CHECK_OK(mn_wait_balance(M, LENDER, 1000000, 30000));
}

static void
mn_setup(mn_net *M)
{
	mn_setup_model(M, NULL, NULL);
}

/* The lot of who on the asset, from `shares holders` at node. */
static int
mn_lot(mn_net *M, int at, int who, char lot[65])
{
	int         rc;
	const char *o = mn_run(M, &rc, "shares holders --node '%s' --json %s",
	    M->t.conf[at], M->asset);
	char        key[128];
	const char *h, *p;

	snprintf(key, sizeof(key), "\"holder\":\"%s\"", M->hex[who]);
	h = rc == 0 ? strstr(o, key) : NULL;
	/* Rows are {"lot":"L","holder":"H",...}: the lot precedes. */
	if (h == NULL) {
		fprintf(stderr, "no lot of %s in: %s\n", mn_names[who], o);
		return (GH_ENOENT);
	}
	for (p = h; p > o && strncmp(p, "\"lot\":\"", 7) != 0; p--) { }
	if (strncmp(p, "\"lot\":\"", 7) != 0) {
		return (GH_ENOENT);
	}
	snprintf(lot, 65, "%.64s", p + 7);
	return (GH_OK);
}

/* Opens a lease through the renter's node; its id in lease. */
static void
mn_open(mn_net *M, int at, int who, uint64_t seconds, uint64_t price,
    char lease[65])
{
	char out[4096];
	char args[12288];

	snprintf(args, sizeof(args),
	    "lease open --key '%s' --asset %s --seconds %llu --price %llu",
	    M->key[who], M->asset, (unsigned long long) seconds,
	    (unsigned long long) price);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, at), 0);
	lease[0] = '\0';
	CHECK(field(out, "lease ", lease, 65));
	CHECK_EQ(strlen(lease), 64);
}

static void
mn_pay(mn_net *M, int at, const char *lease, uint64_t amount)
{
	char out[4096];
	char args[12288];

	snprintf(args, sizeof(args), "lease pay --lease %s --amount %llu",
	    lease, (unsigned long long) amount);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, at), 0);
	CHECK(strstr(out, "delivered") != NULL);
}

static void
mn_claim(mn_net *M, int who, const char *lot, int at)
{
	char out[4096];
	char args[12288];

	snprintf(args, sizeof(args), "shares claim --key '%s' --lot %s",
	    M->key[who], lot);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, at), 0);
}

/* who moves amount shares of lot to `to`; the new lot's id in nl. */
static void
mn_share(
    mn_net *M, int who, const char *lot, int to, uint64_t amount, char nl[65])
{
	char out[4096];
	char args[12288];

	snprintf(args, sizeof(args),
	    "shares transfer --key '%s' --lot %s --to %s --amount %llu",
	    M->key[who], lot, M->hex[to], (unsigned long long) amount);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, 4), 0);
	nl[0] = '\0';
	CHECK(field(out, "lot ", nl, 65));
}

static void
mn_verify_all(mn_net *M)
{
	for (int i = 0; i < MN_NODES; i++) {
		int         rc;
		const char *o;
		if (M->t.pid[i] <= 0) {
			continue;
		}
		o = mn_run(M, &rc, "ledger verify --node '%s'", M->t.conf[i]);
		CHECK_EQ(rc, 0);
		CHECK(strstr(o, "verified") != NULL);
	}
}

/* Registers node 4's machine as alice's asset and offers it with
 * capacity 1 at 18000000 per GPU-hour (30 s lock 150000). */
static void
mn_asset_billing(mn_net *M, const char *billing, uint64_t price)
{
	char out[4096];
	char args[12288];
	int  rc;

	snprintf(args, sizeof(args), "asset register --key '%s' --supply 1000",
	    M->key[ALICE]);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, 4), 0);
	CHECK(field(out, "asset ", M->asset, sizeof(M->asset)));
	CHECK_EQ(strlen(M->asset), 64);
	snprintf(args, sizeof(args),
	    "offer publish --asset %s --price %llu --capacity 1 "
	    "--min-lease 1 --max-lease 600 --billing %s",
	    M->asset, (unsigned long long) price, billing);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, 4), 0);
	for (int i = 0; i < 100; i++) {
		const char *o = mn_run(
		    M, &rc, "market list --node '%s' --json", M->t.conf[5]);
		if (rc == 0 && strstr(o, M->asset) != NULL) {
			break;
		}
		tn_sleep_ms(200);
	}
	(void) mn_run(M, &rc, "market match --node '%s' --max-price %llu",
	    M->t.conf[6], (unsigned long long) price);
	CHECK_EQ(rc, 0);
}

static void
mn_asset(mn_net *M)
{
	mn_asset_billing(M, "reserved", 18000000);
}

TEST_T(market_net_leases_and_revenue, 600)
{
	static mn_net M;
	char          out[4096], args[12288];
	char          lot_a[65], lot_b[65], lot_d[65], lease[65];
	uint64_t      t_open;
	int           rc;

	/* tn_setup is inside mn_setup: dave's key path is known first. */
	{
		char extra[PATH_MAX + 128];
		snprintf(extra, sizeof(extra),
		    "claim_key = %s/%s.key\nclaim_every_seconds = 1",
		    th_tmpdir(), mn_names[DAVE]);
		mn_setup_model(&M, NULL, extra);
	}
	mn_asset(&M);
	CHECK_OK(mn_lot(&M, 4, ALICE, lot_a));

	/* Alice sells 30% to bob (bob pays 30000 for them). */
	mn_share(&M, ALICE, lot_a, BOB, 300, lot_b);
	snprintf(args, sizeof(args),
	    "wallet transfer --key '%s' --to %s --amount 30000", M.key[BOB],
	    M.hex[ALICE]);
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 2), 0);

	/* Carol leases it for 45 s through node 5: 225000 locked; node 5's
	 * key signs the receipts. */
	t_open = tn_now_ms();
	mn_open(&M, 5, CAROL, 45, 18000000, lease);
	CHECK_OK(mn_wait_lease(&M, 5, lease, "\"escrow\":225000", 20000));
	/* Receipt 1: 40000 -> the provider draws it: fee 1000, pool 39000
	 * (alice 700 shares: 27300, bob 300: 11700). */
	mn_pay(&M, 5, lease, 40000);
	CHECK_OK(mn_wait_lease(&M, 5, lease, "\"drawn\":40000", 20000));
	/* Mid-lease, alice sells 10% more to dave. */
	mn_share(&M, ALICE, lot_a, DAVE, 100, lot_d);
	/* Receipt 2: 120000 -> draw 80000: fee 2000, pool 78000 (alice
	 * 600: 46800, bob 300: 23400, dave 100: 7800). */
	mn_pay(&M, 5, lease, 120000);
	CHECK_OK(mn_wait_lease(&M, 4, lease, "\"drawn\":120000", 20000));
	CHECK(tn_now_ms() - t_open < 45000); /* both draws inside the lease */
	/* At expiry the provider closes: the 30000 never drawn go back. */
	CHECK_OK(mn_wait_lease(&M, 6, lease, "\"state\":\"closed\"", 60000));
	CHECK_OK(mn_wait_lease(&M, 6, lease, "\"refunded\":105000", 5000));

	/* Every holder claims: alice and bob with the CLI, dave's by node
	 * 4 on its own (its claim_key). */
	mn_claim(&M, ALICE, lot_a, 4);
	mn_claim(&M, BOB, lot_b, 2);
	CHECK_OK(mn_wait_balance(
	    &M, ALICE, 1000000 + 30000 + 27300 + 46800, 30000));
	CHECK_OK(
	    mn_wait_balance(&M, BOB, 1000000 - 30000 + 11700 + 23400, 30000));
	CHECK_OK(mn_wait_balance(&M, DAVE, 1000000 + 7800, 30000));
	CHECK_OK(mn_wait_balance(&M, CAROL, 1000000 - 120000, 30000));
	CHECK_OK(mn_wait_balance(&M, TREASURY, 1000 + 2000, 30000));
	(void) mn_run(
	    &M, &rc, "asset show --node '%s' --json %s", M.t.conf[1], M.asset);
	CHECK_EQ(rc, 0);
	mn_verify_all(&M);
	tn_teardown(&M.t);
}

TEST_T(market_net_race_and_vanishing, 600)
{
	static mn_net M;
	char          out[4096], args[12288];
	char          l1[65], l2[65], l3[65];
	const char   *served, *refused;
	int           who_served;
	uint64_t      t_exp;
	int           rc;

	mn_setup(&M);
	mn_asset(&M);

	/* Two renters race for the one unit of capacity: carol through
	 * node 5, erin through node 6, at the same moment. */
	{
		static char cmd[65536];
		snprintf(cmd, sizeof(cmd),
		    "('%s' lease open --node '%s' --key '%s' --asset %s "
		    "--seconds 30 --price 18000000 > '%s/l1' 2>&1 &"
		    " '%s' lease open --node '%s' --key '%s' --asset %s "
		    "--seconds 30 --price 18000000 > '%s/l2' 2>&1; wait)",
		    th_bin(), M.t.conf[5], M.key[CAROL], M.asset, M.t.root,
		    th_bin(), M.t.conf[6], M.key[ERIN], M.asset, M.t.root);
		CHECK_EQ(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "cat '%s/l1'", M.t.root);
		CHECK(field(sh1(&rc, cmd), "lease ", l1, sizeof(l1)));
		snprintf(cmd, sizeof(cmd), "cat '%s/l2'", M.t.root);
		CHECK(field(sh1(&rc, cmd), "lease ", l2, sizeof(l2)));
	}
	t_exp = tn_now_ms() + 30000;
	/* Exactly one is closed at zero with a full refund. */
	{
		uint64_t t0 = tn_now_ms();
		int      c1 = 0, c2 = 0;
		while (tn_now_ms() - t0 < 15000 && !(c1 || c2)) {
			const char *o = mn_run(&M, &rc,
			    "lease show --node '%s' --json %s", M.t.conf[0],
			    l1);
			c1 = strstr(o, "\"state\":\"closed\"") != NULL;
			o = mn_run(&M, &rc, "lease show --node '%s' --json %s",
			    M.t.conf[0], l2);
			c2 = strstr(o, "\"state\":\"closed\"") != NULL;
			tn_sleep_ms(250);
		}
		CHECK(c1 != c2);
		served     = c1 ? l2 : l1;
		refused    = c1 ? l1 : l2;
		who_served = c1 ? ERIN : CAROL;
	}
	CHECK_OK(mn_wait_lease(&M, 0, refused, "\"refunded\":150000", 5000));
	CHECK_OK(mn_wait_lease(&M, 0, served, "\"state\":\"active\"", 5000));
	/* The loser got all of its 100000 back. */
	CHECK_OK(mn_wait_balance(
	    &M, who_served == CAROL ? ERIN : CAROL, 1000000, 20000));

	/* The provider draws 40000 on the winner, then vanishes. */
	mn_pay(&M, who_served == CAROL ? 5 : 6, served, 40000);
	CHECK_OK(mn_wait_lease(&M, 0, served, "\"drawn\":40000", 20000));
	CHECK(tn_stop(&M.t, 4, SIGKILL) == -1);
	/* Expiring before expiry + grace + margin is refused. */
	snprintf(args, sizeof(args), "lease expire --key '%s' --lease %s",
	    M.key[who_served], served);
	(void) mn_run(&M, &rc, "%s --node '%s'", args, M.t.conf[0]);
	if (tn_now_ms() + 1000 < t_exp + MN_GRACE * 1000) {
		CHECK(rc != 0); /* (a slow machine may be past it already) */
	}
	while (tn_now_ms() < t_exp + (MN_GRACE + MN_MARGIN + 1) * 1000) {
		tn_sleep_ms(250);
	}
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 0), 0);
	CHECK_OK(mn_wait_lease(&M, 1, served, "\"refunded\":110000", 20000));
	CHECK_OK(mn_wait_balance(&M, who_served, 1000000 - 40000, 20000));

	/* The provider comes back; erin leases again, pays twice through
	 * node 6, and node 6 vanishes: the provider closes at expiry on the
	 * last receipt. */
	CHECK_OK(tn_start(&M.t, 4));
	CHECK_OK(tn_wait_peers(&M.t, 4, 3, 30000));
	mn_open(&M, 6, ERIN, 25, 18000000, l3);
	mn_pay(&M, 6, l3, 40000);
	mn_pay(&M, 6, l3, 70000);
	CHECK(tn_stop(&M.t, 6, SIGKILL) == -1);
	CHECK_OK(mn_wait_lease(&M, 0, l3, "\"state\":\"closed\"", 40000));
	CHECK_OK(mn_wait_lease(&M, 0, l3, "\"drawn\":70000", 5000));
	CHECK_OK(mn_wait_lease(&M, 0, l3, "\"refunded\":55000", 5000));
	{
		/* Erin: lost 40000 on l1/l2 if she won the race, then 70000.
		 */
		uint64_t want
		    = 1000000 - 70000 - (who_served == ERIN ? 40000 : 0);
		/* Every live node, node 4 just back among them: under ASan
		 * on a loaded machine 20 s was once too short for one of
		 * them while node 0 already had it. */
		CHECK_OK(mn_wait_balance(&M, ERIN, want, 60000));
	}
	/* Fees: 1000 on the 40000 draw, 1000 + 750 on l3's. */
	CHECK_OK(mn_wait_balance(&M, TREASURY, 1000 + 1000 + 750, 60000));
	mn_verify_all(&M);
	tn_teardown(&M.t);
}

/* The loan of `loan offer` output. */
static void
mn_loan_offer(mn_net *M, int lot_owner, const char *lot, uint64_t amount,
    uint64_t due, uint64_t expiry_s, uint64_t maturity_s, char loan[65])
{
	char out[4096];
	char args[12288];

	snprintf(args, sizeof(args),
	    "loan offer --key '%s' --borrower %s --lot %s --amount %llu "
	    "--due %llu --expiry +%llu --maturity +%llu",
	    M->key[LENDER], M->hex[lot_owner], lot,
	    (unsigned long long) amount, (unsigned long long) due,
	    (unsigned long long) expiry_s, (unsigned long long) maturity_s);
	CHECK_EQ(mn_submit(M, out, sizeof(out), args, 3), 0);
	loan[0] = '\0';
	CHECK(field(out, "loan ", loan, 65));
	CHECK_EQ(strlen(loan), 64);
}

/* A 15 s lease by carol paid 40000: fee 1000, 39000 into the pool. */
static void
mn_lease_40k(mn_net *M)
{
	char lease[65];

	mn_open(M, 5, CAROL, 15, 18000000, lease);
	mn_pay(M, 5, lease, 40000);
	CHECK_OK(mn_wait_lease(M, 5, lease, "\"drawn\":40000", 20000));
	CHECK_OK(mn_wait_lease(M, 5, lease, "\"state\":\"closed\"", 30000));
}

TEST_T(market_net_loans, 600)
{
	static mn_net M;
	char          out[4096], args[12288];
	char          lot_a[65], lot_p[65], loan[65], loan2[65];
	uint64_t      t_mat;
	int           rc;

	mn_setup(&M);
	mn_asset(&M);
	CHECK_OK(mn_lot(&M, 4, ALICE, lot_a));
	/* Alice splits off 50% of the shares into a lot of her own, and
	 * pledges it: the lender lends 25000 for 30000 due. */
	mn_share(&M, ALICE, lot_a, ALICE, 500, lot_p);
	mn_loan_offer(&M, ALICE, lot_p, 25000, 30000, 60, 600, loan);
	/* Only the named borrower may take it. */
	(void) mn_run(&M, &rc, "loan take --key '%s' %s --node '%s'",
	    M.key[BOB], loan, M.t.conf[3]);
	CHECK(rc != 0);
	snprintf(
	    args, sizeof(args), "loan take --key '%s' %s", M.key[ALICE], loan);
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 4), 0);
	CHECK_OK(mn_wait_balance(&M, ALICE, 1000000 + 25000, 20000));
	/* A pledged lot cannot move. */
	(void) mn_run(&M, &rc,
	    "shares transfer --key '%s' --lot %s --to %s --amount 1 "
	    "--node '%s'",
	    M.key[ALICE], lot_p, M.hex[BOB], M.t.conf[4]);
	CHECK(rc != 0);

	/* Leases settle; each pays 39000 into the pool, 19500 per half.
	 * The pledged lot's claims pay the lender: 19500, then the last
	 * 10500 (the lot is released) and 9000 back to alice. */
	mn_lease_40k(&M);
	mn_claim(&M, ALICE, lot_p, 4);
	CHECK_OK(mn_wait_balance(&M, LENDER, 1000000 - 25000 + 19500, 20000));
	{
		const char *o = mn_run(&M, &rc,
		    "loan show --node '%s' --json %s", M.t.conf[2], loan);
		CHECK_EQ(rc, 0);
		CHECK(strstr(o, "\"owed\":10500") != NULL);
		CHECK(strstr(o, "\"state\":\"taken\"") != NULL);
	}
	mn_lease_40k(&M);
	mn_claim(&M, ALICE, lot_p, 4);
	mn_claim(&M, ALICE, lot_a, 4);
	CHECK_OK(mn_wait_balance(&M, LENDER, 1000000 - 25000 + 30000, 20000));
	{
		const char *o = mn_run(&M, &rc,
		    "loan show --node '%s' --json %s", M.t.conf[1], loan);
		CHECK_EQ(rc, 0);
		CHECK(strstr(o, "\"state\":\"repaid\"") != NULL);
		CHECK(strstr(o, "\"repaid_by_claims\":30000") != NULL);
	}
	/* Alice: 25000 lent + 9000 excess + 2 x 19500 on her other half. */
	CHECK_OK(mn_wait_balance(
	    &M, ALICE, 1000000 + 25000 + 9000 + 19500 * 2, 20000));
	CHECK_OK(mn_wait_balance(&M, CAROL, 1000000 - 80000, 20000));
	CHECK_OK(mn_wait_balance(&M, TREASURY, 2000, 20000));

	/* Second run: the released lot pledged again for 10000 (20000
	 * due, maturity in 15 s); alice never pays; the lender seizes. */
	mn_loan_offer(&M, ALICE, lot_p, 10000, 20000, 8, 15, loan2);
	t_mat = tn_now_ms() + 15000;
	snprintf(args, sizeof(args), "loan take --key '%s' %s", M.key[ALICE],
	    loan2);
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 4), 0);
	snprintf(args, sizeof(args), "loan seize --key '%s' %s", M.key[LENDER],
	    loan2);
	(void) mn_run(&M, &rc, "%s --node '%s'", args, M.t.conf[3]);
	CHECK(rc != 0); /* before maturity */
	while (tn_now_ms() < t_mat + (MN_MARGIN + 1) * 1000) {
		tn_sleep_ms(250);
	}
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 3), 0);
	{
		char     lot_l[65];
		uint64_t t0 = tn_now_ms();
		while (mn_lot(&M, 0, LENDER, lot_l) != GH_OK
		    && tn_now_ms() - t0 < 20000) {
			tn_sleep_ms(250);
		}
		CHECK_OK(mn_lot(&M, 0, LENDER, lot_l));
		CHECK_STR(lot_l, lot_p);
	}
	CHECK_OK(mn_wait_balance(
	    &M, LENDER, 1000000 - 25000 + 30000 - 10000, 20000));
	CHECK_OK(mn_wait_balance(
	    &M, ALICE, 1000000 + 25000 + 9000 + 19500 * 2 + 10000, 20000));
	mn_verify_all(&M);
	tn_teardown(&M.t);
}

/* The device time of a transcript's proofs. */
static uint64_t
mn_device_ns(const char *path)
{
	attest_transcript t;
	uint8_t          *p = NULL;
	size_t            n;
	uint64_t          ns = 0;

	memset(&t, 0, sizeof(t));
	if (gh_file_read(path, ATTEST_TRANSCRIPT_MAX, &p, &n) != GH_OK
	    || attest_transcript_decode(p, n, &t) != GH_OK) {
		free(p);
		return (0);
	}
	for (uint32_t i = 0; i < t.n_results; i++) {
		ns += t.results[i].proof.device_ns;
	}
	attest_transcript_clear(&t);
	free(p);
	return (ns);
}

/* A job on the lease through node at; the transcript in tr. */
static int
mn_job(mn_net *M, int at, const char *model, const char *lease, const char *tr)
{
	char prov[65];
	int  rc;

	gh_hex_encode(M->t.pub[4].b, 32, prov);
	(void) mn_run(M, &rc,
	    "job submit --node '%s' --provider %s --model '%s' --lease %s "
	    "--prompt 'the market for compute' --prompt 'a second prompt' "
	    "-n 12 --out '%s' --timeout 120000",
	    M->t.conf[at], prov, model, lease, tr);
	return (rc);
}

TEST_T(market_net_metered_jobs, 600)
{
	static mn_net M;
	char          out[4096], args[12288];
	char          model[PATH_MAX], tr1[PATH_MAX], tr2[PATH_MAX];
	char          lease[65], want[128], prov[65];
	uint64_t      price = 360000000, a1, a2, escrow;
	int           rc;

	snprintf(model, sizeof(model), "%s/m.gguf", th_tmpdir());
	snprintf(tr1, sizeof(tr1), "%s/t1.bin", th_tmpdir());
	snprintf(tr2, sizeof(tr2), "%s/t2.bin", th_tmpdir());
	CHECK_EQ(th_sh(NULL, "'%s' model make-test --out '%s' --type f16",
	             th_bin(), model),
	    0);
	mn_setup_model(&M, model, NULL);
	snprintf(args, sizeof(args),
	    "wallet mint --key '%s' --to %s --amount 9000000", M.key[ISSUER],
	    M.hex[CAROL]);
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 0), 0);
	mn_asset_billing(&M, "metered", price);
	/* The offer carries the throughput node 4 measured on its model. */
	{
		const char *o = mn_run(
		    &M, &rc, "market list --node '%s' --json", M.t.conf[6]);
		CHECK(strstr(o, "\"throughput\":0,") == NULL);
		/* ... and the job limit it enforces (the test model's
		 * context). */
		CHECK(strstr(o, "\"max_tokens\":0,") == NULL);
	}
	/* 40 s metered at 360000000 per GPU-hour: 4000000 locked. */
	snprintf(args, sizeof(args),
	    "lease open --key '%s' --asset %s --seconds 40 --price %llu "
	    "--metered",
	    M.key[CAROL], M.asset, (unsigned long long) price);
	CHECK_EQ(mn_submit(&M, out, sizeof(out), args, 5), 0);
	CHECK(field(out, "lease ", lease, sizeof(lease)));
	escrow = 4000000;
	CHECK_OK(mn_wait_lease(&M, 4, lease, "\"escrow\":4000000", 20000));

	/* A job from a node that is not the lease's renter node: refused. */
	CHECK_EQ(mn_job(&M, 6, model, lease, tr1), 4);
	/* Two jobs through node 5: outputs, proofs, and after each the
	 * node pays the attested device time. */
	CHECK_EQ(mn_job(&M, 5, model, lease, tr1), 0);
	CHECK_OK(market_metered_amount(mn_device_ns(tr1), price, &a1));
	CHECK(a1 > 0);
	snprintf(
	    want, sizeof(want), "\"drawn\":%llu,", (unsigned long long) a1);
	CHECK_OK(mn_wait_lease(&M, 0, lease, want, 20000));
	CHECK_EQ(mn_job(&M, 5, model, lease, tr2), 0);
	CHECK_OK(market_metered_amount(
	    mn_device_ns(tr1) + mn_device_ns(tr2), price, &a2));
	snprintf(
	    want, sizeof(want), "\"drawn\":%llu,", (unsigned long long) a2);
	CHECK_OK(mn_wait_lease(&M, 0, lease, want, 20000));

	/* The provider's /metrics: its jobs kept it busy, its proofs and
	 * revenue are counted. */
	{
		char *m = NULL;
		char  v[64];
		CHECK_EQ(
		    th_sh(&m, "curl -s http://127.0.0.1:%d/metrics", M.http),
		    0);
		CHECK(m != NULL);
		CHECK(
		    field(m, "\ngpuhour_gpu_utilization_ratio", v, sizeof(v)));
		CHECK(strtod(v, NULL) > 0);
		CHECK(field(m, "\ngpuhour_proofs_total", v, sizeof(v)));
		CHECK(strtoull(v, NULL, 10) >= 2);
		CHECK(field(m, "\ngpuhour_revenue_micro_total", v, sizeof(v)));
		CHECK(strtoull(v, NULL, 10) > 0);
		free(m);
	}

	/* The auditor (node 6) checks every proof against its own replica:
	 * recorded as PROOF entries, in the log under a checkpoint. */
	gh_hex_encode(M.t.pub[4].b, 32, prov);
	for (int k = 0; k < 2; k++) {
		const char *tr = k == 0 ? tr1 : tr2;
		uint64_t    t0 = tn_now_ms();
		do {
			(void) mn_run(&M, &rc,
			    "proof verify '%s' --node '%s' --lease %s "
			    "--provider %s",
			    tr, M.t.conf[6], lease, prov);
			if (rc == 0) {
				break;
			}
			tn_sleep_ms(500);
		} while (tn_now_ms() - t0 < 30000);
		CHECK_EQ(rc, 0);
	}
	/* A proof replayed against another lease fails. */
	(void) mn_run(&M, &rc, "proof verify '%s' --node '%s' --lease %064d",
	    tr1, M.t.conf[6], 0);
	CHECK_EQ(rc, 5);

	/* The lease settles to exactly the metered amount. */
	CHECK_OK(mn_wait_lease(&M, 0, lease, "\"state\":\"closed\"", 60000));
	snprintf(want, sizeof(want), "\"refunded\":%llu",
	    (unsigned long long) (escrow - a2));
	CHECK_OK(mn_wait_lease(&M, 0, lease, want, 5000));
	CHECK_OK(mn_wait_balance(&M, CAROL, 1000000 + 9000000 - a2, 20000));
	CHECK_OK(mn_wait_balance(&M, TREASURY,
	    a1 * MN_FEE / 10000 + (a2 - a1) * MN_FEE / 10000, 20000));
	mn_verify_all(&M);
	tn_teardown(&M.t);
}
