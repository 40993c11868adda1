/*
 * ledger_net_test.c - the ledger on real `gpuhour node run` processes:
 * 4 validators and 2 plain nodes; entries signed by the CLI, certified
 * by votes collected over the network, gossiped, synced to a late and a
 * restarted node, and still certified with one validator killed.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

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
	char issuer[65];
	int  rv;

	if ((rv = tn_setup(&L->t, th_tmpdir(), LN_NODES, 2,
	         "gossip_interval_ms = 300\nsync_interval_ms = 700\n"
	         "request_timeout_ms = 5000\ncheckpoint_seconds = 1"))
	    != GH_OK) {
		return (rv);
	}
	snprintf(L->issuer, sizeof(L->issuer), "%s/issuer.key", L->t.root);
	snprintf(L->alice, sizeof(L->alice), "%s/alice.key", L->t.root);
	if ((rv = tn_account(L->issuer, issuer)) != GH_OK
	    || (rv = tn_account(L->alice, L->ahex)) != GH_OK) {
		return (rv);
	}
	{
		uint8_t seed[32];
		randombytes_buf(seed, sizeof(seed));
		gh_hex_encode(seed, 32, L->bhex); /* bob: any 32 bytes */
	}
	return (tn_ledger_genesis(&L->t, LN_VALS, issuer, issuer, 0, 600, 60));
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
 * still catching up with the previous entry (bounded); entry (65 bytes,
 * or NULL) gets the entry's hash. */
static int
ln_wallet_entry(ln_net *L, int i, const char *args, char *entry)
{
	char *out = NULL;
	int   ex  = -1;

	for (int tries = 0; tries < 10; tries++) {
		free(out);
		out = NULL;
		ex  = th_sh(&out, "'%s' wallet %s --node '%s' 2>&1", th_bin(),
		     args, L->t.conf[i]);
		if (ex == 0) {
			const char *e = strstr(out, "entry ");
			ex            = e != NULL ? 0 : 99;
			if (e != NULL && entry != NULL) {
				snprintf(entry, 65, "%.64s", e + 6);
			}
			break;
		}
		fprintf(stderr, "wallet try %d: exit %d: %s", tries, ex,
		    out ? out : "");
		tn_sleep_ms(1000);
	}
	free(out);
	return (ex);
}

static int
ln_wallet(ln_net *L, int i, const char *args)
{
	return (ln_wallet_entry(L, i, args, NULL));
}

/* Node i's ledger-prove of entry h with flags; GH_OK only for a bundle
 * that names h and verifies under a committee member's checkpoint,
 * whose signer goes to *by. */
static int
ln_prove(ln_net *L, int i, const gh_hash *h, uint8_t flags, gh_ed_pub *by)
{
	ledger_bundle b;
	uint8_t       req[33], *body = NULL;
	size_t        bl;
	int           rv;

	memcpy(req, h->b, 32);
	req[32] = flags;
	rv      = tn_ctl(&L->t, i, "ledger-prove", req, 33, &body, &bl);
	if (rv == GH_OK) {
		rv = ledger_bundle_decode(body, bl, &b);
	}
	free(body);
	if (rv != GH_OK) {
		return (rv);
	}
	if (!b.has_checkpoint || memcmp(b.entry.b, h->b, 32) != 0
	    || memcmp(b.cp.network.b, L->t.netid.b, 32) != 0) {
		return (GH_EPROTO);
	}
	*by = b.cp.validator;
	return (ledger_bundle_verify(&b));
}

/* The CLI at plain node 5: `ledger proof ENTRY --node` writes a bundle
 * that `ledger proof --check` verifies offline under the validator key
 * it names (another key: exit 4); an entry in no log is "not found"
 * (exit 3). */
static void
ln_bundles_cli(ln_net *L, const char *hex, const gh_hash *none)
{
	char       *out = NULL, *v, vhex[65], file[PATH_MAX + 16];
	const char *key = "\"validator\": \"";

	snprintf(file, sizeof(file), "%s/bundle.bin", L->t.root);
	CHECK_EQ(th_sh(&out,
	             "'%s' ledger proof %s --node '%s' --json --out '%s' "
	             "2>/dev/null",
	             th_bin(), hex, L->t.conf[5], file),
	    0);
	CHECK(out != NULL && strstr(out, hex) != NULL);
	CHECK((v = out != NULL ? strstr(out, key) : NULL) != NULL);
	snprintf(vhex, sizeof(vhex), "%.64s", v ? v + strlen(key) : "");
	free(out);
	CHECK_EQ(th_sh(NULL, "'%s' ledger proof --check '%s' --validator %s",
	             th_bin(), file, vhex),
	    0);
	vhex[0] = vhex[0] == '0' ? '1' : '0';
	CHECK_EQ(th_sh(NULL,
	             "'%s' ledger proof --check '%s' --validator %s "
	             "2>/dev/null",
	             th_bin(), file, vhex),
	    4);
	gh_hex_encode(none->b, 32, vhex);
	CHECK_EQ(th_sh(&out, "'%s' ledger proof %s --node '%s' 2>&1", th_bin(),
	             vhex, L->t.conf[5]),
	    3);
	CHECK(out != NULL && strstr(out, "in no log") != NULL);
	free(out);
	CHECK_EQ(th_sh(NULL,
	             "'%s' ledger proof %s --node '%s' --size 2 2>/dev/null",
	             th_bin(), hex, L->t.conf[5]),
	    2);
}

/* An entry's inclusion bundle at plain node 5: from its own log, and,
 * skipping that, from a validator's log under that validator's own
 * checkpoint (validators 0..2 run; 3 was killed). */
static void
ln_bundles(ln_net *L)
{
	char      args[PATH_MAX + 256], hex[65];
	gh_hash   h, none;
	gh_ed_pub by;
	uint8_t   req[33], *body = NULL;
	size_t    bl;
	uint64_t  t0;
	int       rv = GH_ETIMEDOUT, v = -1;

	snprintf(args, sizeof(args), "transfer --key '%s' --to %s --amount 1",
	    L->alice, L->bhex);
	CHECK_EQ(ln_wallet_entry(L, 4, args, hex), 0);
	CHECK_OK(gh_hex_decode(hex, h.b, 32));
	CHECK_OK(ln_wait_balance(L, 0x37, L->bhex, 2001, 30000));
	t0 = tn_now_ms();
	while (tn_now_ms() - t0 < 30000
	    && (rv = ln_prove(L, 5, &h, 1, &by)) != GH_OK) {
		tn_sleep_ms(300);
	}
	CHECK_OK(rv);
	for (int i = 0; i < 3; i++) {
		v = memcmp(by.b, L->t.pub[i].b, 32) == 0 ? i : v;
	}
	CHECK(v >= 0);
	t0 = tn_now_ms();
	while (tn_now_ms() - t0 < 30000
	    && (rv = ln_prove(L, 5, &h, 0, &by)) != GH_OK) {
		tn_sleep_ms(300);
	}
	CHECK_OK(rv);
	/* Not in any log; a short or flagged-wrong request. */
	memset(none.b, 0x5a, 32);
	CHECK_ERR(ln_prove(L, 5, &none, 1, &by), GH_ENOENT);
	CHECK_ERR(ln_prove(L, 5, &none, 0, &by), GH_ENOENT);
	CHECK_ERR(ln_prove(L, 5, &h, 2, &by), GH_EINVAL);
	memcpy(req, h.b, 32);
	CHECK_ERR(
	    tn_ctl(&L->t, 5, "ledger-prove", req, 31, &body, &bl), GH_EINVAL);
	free(body);
	ln_bundles_cli(L, hex, &none);
}

/* Whether node i's book holds an offer for asset (hex), via the CLI's
 * `market list --json`. */
static int
ln_wait_offer(ln_net *L, int i, const char *asset, unsigned ms)
{
	uint64_t t0 = tn_now_ms();

	do {
		char *out = NULL;
		int   ex
		    = th_sh(&out, "'%s' market list --node '%s' --json 2>&1",
		        th_bin(), L->t.conf[i]);
		int ok = ex == 0 && out != NULL && strstr(out, asset) != NULL;
		free(out);
		if (ok) {
			return (GH_OK);
		}
		tn_sleep_ms(200);
	} while (tn_now_ms() - t0 < ms);
	return (GH_ETIMEDOUT);
}

static void
ln_offer(ln_net *L, char asset[65])
{
	char *out = NULL;
	char *p;

	asset[0] = '\0';
	CHECK_EQ(
	    th_sh(&out,
	        "'%s' asset register --node '%s' --key '%s' --supply 1000 "
	        "2>&1",
	        th_bin(), L->t.conf[4], L->alice),
	    0);
	CHECK((p = strstr(out, "asset ")) != NULL);
	snprintf(asset, 65, "%.64s", p + 6);
	CHECK_EQ(strlen(asset), 64);
	/* Hardware from the machine: a CPU model or a GPU, never empty. */
	CHECK(strstr(out, "hw    ") != NULL && strstr(out, "memory") != NULL);
	free(out);
	out = NULL;
	/* Node 1 does not hold that asset's key: refused. */
	CHECK_EQ(th_sh(&out,
	             "'%s' offer publish --node '%s' --asset %s --price 5000 "
	             "2>&1",
	             th_bin(), L->t.conf[1], asset),
	    3);
	free(out);
	out = NULL;
	/* Wait until node 4 has applied its asset, then offer. */
	for (int i = 0; i < 50; i++) {
		int ex = th_sh(&out,
		    "'%s' offer publish --node '%s' --asset %s --price 5000 "
		    "--region eu-west --max-lease 36000 2>&1",
		    th_bin(), L->t.conf[4], asset);
		if (ex == 0) {
			break;
		}
		free(out);
		out = NULL;
		tn_sleep_ms(200);
	}
	CHECK(out != NULL && strstr(out, "offer ") != NULL);
	free(out);
	out = NULL;
	for (int i = 0; i < 5; i++) {
		CHECK_OK(ln_wait_offer(L, i, asset, 30000));
	}
	/* Filters: a lower price cap or another region finds nothing; the
	 * match at node 2 is this offer. */
	CHECK_EQ(th_sh(&out,
	             "'%s' market match --node '%s' --region eu-west "
	             "--max-price 6000 --hours 2 --json",
	             th_bin(), L->t.conf[2]),
	    0);
	CHECK(strstr(out, asset) != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(
	    th_sh(&out, "'%s' market list --node '%s' --max-price 4999 --json",
	        th_bin(), L->t.conf[2]),
	    0);
	CHECK(strstr(out, asset) == NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "'%s' market match --node '%s' --hours 11 2>&1",
	             th_bin(), L->t.conf[3]),
	    3);
	free(out);
}

static void
ln_body(ln_net *L)
{
	node_ledger_info i0, i5;
	char             args[2 * PATH_MAX + 256];
	char             asset[65];
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

	/* Node 4's machine registered as alice's asset (the node fills in
	 * its hardware), then offered at node 4; every node's book gets the
	 * offer and `market match` at node 2 returns it. */
	ln_offer(L, asset);

	/* A node started late catches up: ledger and offers. */
	CHECK_OK(tn_start(&L->t, 5));
	CHECK_OK(ln_wait_balance(L, all, L->bhex, 1234, 60000));
	CHECK_OK(ln_wait_offer(L, 5, asset, 30000));
	CHECK_OK(tn_wait_peers(&L->t, 5, 5, 30000));

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
	CHECK_OK(tn_wait_peers(&L->t, 5, 3, 30000));
	CHECK_OK(ln_info(L, 0, &i0));
	CHECK_OK(ln_info(L, 5, &i5));
	CHECK_EQ(i0.applied, 5);
	CHECK_EQ(i5.applied, 5);
	/* Its offer book came back from its file. */
	CHECK_OK(ln_wait_offer(L, 5, asset, 1000));
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
	ln_bundles(L);
}

TEST_T(ledger_net_six_nodes, 400)
{
	static ln_net L;

	ln_body(&L);
	tn_teardown(&L.t);
}

/* ------------------------------------------------------------------ */
/* A hostile peer gossiping certificates with bad signatures and too few
 * votes: refused, scored down and banned; the network keeps working. */

/* PUSHes a certificate of a mint signed by the issuer, with nv votes
 * signed by keys[] (bad: a vote signature flipped). */
static int
lh_push_cert(
    hostile *h, ln_net *L, gh_ed_key **keys, int nv, int bad, uint64_t amt)
{
	gh_acct_key *ik = NULL;
	ledger_cert *c  = calloc(1, sizeof(*c));
	gh_writer    it;
	uint8_t     *p = NULL;
	size_t       n;
	gh_hash      vh;
	int          rv;

	if (c == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = gh_keyfile_open_account(L->issuer, NULL, 0, &ik)) != GH_OK) {
		free(c);
		return (rv);
	}
	c->entry.kind   = LEDGER_MINT;
	c->entry.scheme = LEDGER_SCHEME_ACCOUNT;
	c->entry.netid  = L->t.netid;
	gh_acct_key_pub(ik, (gh_acct_pub *) (void *) c->entry.author);
	c->entry.seq  = 1;
	c->entry.time = gh_time_now();
	(void) gh_hex_decode(L->ahex, c->entry.body.mint.to.b, 32);
	c->entry.body.mint.amount = amt;
	(void) ledger_entry_sign_account(&c->entry, ik);
	ledger_entry_hash(&c->entry, &c->hash);
	ledger_vote_hash(&L->t.netid, &c->hash, &vh);
	for (int i = 0; i < nv; i++) {
		gh_ed_key_pub(keys[i], &c->voter[i]);
		gh_ed_sign(keys[i], &vh, &c->vsig[i]);
	}
	/* Sorted by key, as the encoding wants. */
	for (int i = 0; i < nv; i++) {
		for (int j = i + 1; j < nv; j++) {
			if (memcmp(c->voter[j].b, c->voter[i].b, 32) < 0) {
				gh_ed_pub ta = c->voter[i];
				gh_sig    ts = c->vsig[i];
				c->voter[i]  = c->voter[j];
				c->vsig[i]   = c->vsig[j];
				c->voter[j]  = ta;
				c->vsig[j]   = ts;
			}
		}
	}
	if (bad) {
		c->vsig[0].b[3] ^= 0x10;
	}
	c->nvotes = (uint32_t) nv;
	rv        = ledger_cert_encode(c, &p, &n);
	gh_acct_key_free(ik);
	free(c);
	if (rv != GH_OK) {
		return (rv);
	}
	gh_writer_init(&it);
	gh_put_u8(&it, NODE_KIND_CERT);
	gh_put_str(&it, NODE_BODY_MAX, p, n);
	rv = hostile_req(h, NODE_MSG_PUSH, it.p, it.len);
	gh_writer_free(&it);
	free(p);
	return (rv);
}

static int
lh_banned(const tn_net *t, int i, const gh_ed_pub *pub)
{
	uint8_t  *b = NULL;
	size_t    bl;
	gh_reader r;
	uint32_t  c;
	int       banned = 0;

	if (tn_ctl(t, i, "peers", NULL, 0, &b, &bl) != GH_OK) {
		return (0);
	}
	gh_reader_init(&r, b, bl);
	if (gh_get_u32(&r, &c) == GH_OK) {
		for (uint32_t k = 0; k < c; k++) {
			node_peer_row row;
			if (node_peer_row_decode(&r, &row) != GH_OK) {
				break;
			}
			if (memcmp(row.pub.b, pub->b, 32) == 0) {
				banned = row.banned_until > 0;
			}
		}
	}
	free(b);
	return (banned);
}

/* Asks validator 0 (as a peer) to vote on two TRANSFERs by alice for
 * her next chain position: it votes for the first, refuses the second
 * (GH_ECONFLICT), stores the equivocation proof and gossips it; waits
 * until all five nodes hold it. */
static int
lh_vote(hostile *v, const uint8_t *p, size_t n)
{
	gh_writer w;
	int       rv;

	gh_writer_init(&w);
	gh_put_u8(&w, NODE_REQ_VOTE);
	gh_put_str(&w, NODE_BODY_MAX, p, n);
	rv = hostile_req(v, NODE_MSG_REQUEST, w.p, w.len);
	gh_writer_free(&w);
	return (rv);
}

static void
lh_equivocate(ln_net *L, hostile *v)
{
	gh_acct_key     *k = NULL;
	ledger_entry     e;
	uint8_t          req[33];
	uint8_t         *b = NULL, *p = NULL;
	size_t           bl, n;
	node_ledger_info info;
	uint64_t         t0;
	int              all = 0;

	CHECK_OK(gh_keyfile_open_account(L->alice, NULL, 0, &k));
	req[0] = 0;
	CHECK_OK(gh_hex_decode(L->ahex, req + 1, 32));
	CHECK_OK(tn_ctl(&L->t, 0, "ledger-account", req, 33, &b, &bl));
	CHECK_EQ(bl, 48);
	memset(&e, 0, sizeof(e));
	e.kind   = LEDGER_TRANSFER;
	e.scheme = LEDGER_SCHEME_ACCOUNT;
	e.netid  = L->t.netid;
	memcpy(e.author, req + 1, 32);
	e.seq = gh_be64_get(b) + 1;
	memcpy(e.prev.b, b + 8, 32);
	e.time                 = gh_time_now();
	e.body.transfer.dest   = LEDGER_DEST_ACCOUNT;
	e.body.transfer.amount = 3;
	CHECK_OK(gh_hex_decode(L->bhex, e.body.transfer.to.b, 32));
	free(b);
	CHECK_OK(hostile_open(v, &L->t, 0));
	CHECK_OK(hostile_hello(v));
	CHECK_OK(ledger_entry_sign_account(&e, k));
	CHECK_OK(ledger_entry_encode(&e, &p, &n));
	CHECK_OK(lh_vote(v, p, n));
	free(p);
	e.body.transfer.amount = 4; /* another entry, same position */
	CHECK_OK(ledger_entry_sign_account(&e, k));
	CHECK_OK(ledger_entry_encode(&e, &p, &n));
	CHECK_ERR(lh_vote(v, p, n), GH_ECONFLICT);
	free(p);
	t0 = tn_now_ms();
	while (!all && tn_now_ms() - t0 < 30000) {
		all = 1;
		for (int i = 0; i < 5 && all; i++) {
			all = ln_info(L, i, &info) == GH_OK
			    && info.equivs == 1;
		}
		if (!all) {
			tn_sleep_ms(200);
		}
	}
	CHECK(all);
	gh_acct_key_free(k);
}

static void
lh_body(ln_net *L, hostile *h, hostile *v)
{
	gh_ed_key *keys[LN_VALS] = { NULL };
	gh_ed_key *rnd[3]        = { NULL };
	char       path[PATH_MAX + 32];
	char       args[2 * PATH_MAX + 256];
	uint64_t   bal;
	int        rv, banned = 0;

	CHECK_OK(ln_setup(L));
	for (int i = 0; i < 5; i++) {
		CHECK_OK(tn_start(&L->t, i));
	}
	for (int i = 0; i < 5; i++) {
		CHECK_OK(tn_wait_peers(&L->t, i, 4, 30000));
	}
	/* The test holds the validators' keys, so it can forge a
	 * certificate with a broken vote signature. */
	for (int i = 0; i < LN_VALS; i++) {
		snprintf(path, sizeof(path), "%s/node.key", L->t.dir[i]);
		CHECK_OK(gh_keyfile_open_node(path, NULL, 0, &keys[i]));
	}
	for (int i = 0; i < 3; i++) {
		CHECK_OK(gh_ed_key_new(&rnd[i]));
	}
	CHECK_OK(hostile_open(h, &L->t, 4));
	CHECK_OK(hostile_hello(h));
	/* Too few votes (2 of the 3 needed), votes by non-members, a bad
	 * vote signature: each refused. */
	CHECK_ERR(lh_push_cert(h, L, keys, 2, 0, 5), GH_EQUORUM);
	CHECK_ERR(lh_push_cert(h, L, rnd, 3, 0, 6), GH_EQUORUM);
	CHECK_ERR(lh_push_cert(h, L, keys, 3, 1, 7), GH_EBADSIG);
	/* Keep at it until banned (bounded). */
	for (int i = 0; i < 20 && !banned; i++) {
		rv = lh_push_cert(h, L, keys, 3, 1, 8 + (uint64_t) i);
		CHECK(rv != GH_OK);
		banned = lh_banned(&L->t, 4, &h->pub);
	}
	CHECK(banned);
	CHECK_OK(ln_balance(L, 4, L->ahex, &bal));
	CHECK_EQ(bal, 0);
	/* The network still certifies. */
	snprintf(args, sizeof(args), "mint --key '%s' --to %s --amount 42",
	    L->issuer, L->ahex);
	CHECK_EQ(ln_wallet(L, 4, args), 0);
	CHECK_OK(ln_wait_balance(L, 0x1f, L->ahex, 42, 30000));

	/* Alice signs two entries for one chain position: the second is
	 * refused by every validator, which stores and gossips the proof;
	 * every node then holds it and alice's chain is frozen. */
	snprintf(args, sizeof(args), "transfer --key '%s' --to %s --amount 5",
	    L->alice, L->bhex);
	CHECK_EQ(ln_wallet(L, 4, args), 0);
	CHECK_OK(ln_wait_balance(L, 0x1f, L->bhex, 5, 30000));
	lh_equivocate(L, v);
	snprintf(args, sizeof(args), "transfer --key '%s' --to %s --amount 6",
	    L->alice, L->bhex);
	{
		char *out = NULL;
		int   ex  = th_sh(&out, "'%s' wallet %s --node '%s' 2>&1",
		       th_bin(), args, L->t.conf[4]);
		if (ex == 0) {
			fprintf(stderr, "frozen chain took: %s\n", out);
		}
		CHECK(ex != 0);
		free(out);
	}
	for (int i = 0; i < LN_VALS; i++) {
		gh_ed_key_free(keys[i]);
	}
	for (int i = 0; i < 3; i++) {
		gh_ed_key_free(rnd[i]);
	}
}

TEST_T(ledger_net_hostile_certificates, 300)
{
	static ln_net  L;
	static hostile h, v;

	lh_body(&L, &h, &v);
	hostile_close(&h);
	hostile_close(&v);
	tn_teardown(&L.t);
}

/* A submission that got too few votes is kept and completed by `wallet
 * resume` or by the account's next command: never a second entry for
 * the same position (the validators would take that as an equivocation
 * and freeze the account). */
TEST_T(ledger_net_retry_never_equivocates, 300)
{
	static ln_net L;
	char          args[2 * PATH_MAX + 256];
	char         *out  = NULL;
	uint64_t      live = 0x1full; /* nodes 0..4 */
	uint64_t      want;
	char          kept[65];
	int           rc;

	CHECK_OK(ln_setup(&L));
	{
		/* A wide clock margin: the kept entry's time must still be
		 * acceptable after the restarts on a loaded machine. */
		char            ih[65];
		gh_keyfile_info in;
		CHECK_OK(gh_keyfile_info_read(L.issuer, &in));
		gh_hex_encode(in.pub, 32, ih);
		CHECK_OK(
		    tn_ledger_genesis(&L.t, LN_VALS, ih, ih, 0, 600, 3600));
	}
	for (int i = 0; i < 5; i++) {
		CHECK_OK(tn_start(&L.t, i));
	}
	for (int i = 0; i < 5; i++) {
		CHECK_OK(tn_wait_peers(&L.t, i, 4, 30000));
	}
	/* Two of four validators down: no quorum. */
	CHECK(tn_stop(&L.t, 2, SIGKILL) == -1);
	CHECK(tn_stop(&L.t, 3, SIGKILL) == -1);
	rc = th_sh(&out,
	    "'%s' wallet mint --node '%s' --key '%s' --to %s --amount 500 "
	    "2>&1",
	    th_bin(), L.t.conf[4], L.issuer, L.ahex);
	CHECK(rc != 0);
	/* Not certified: kept, and the CLI says what that means. */
	CHECK(out != NULL && strstr(out, "is kept in") != NULL
	    && strstr(out, "count it twice") != NULL
	    && strstr(out, "wallet resume") != NULL);
	{
		const char *e = strstr(out, "gpuhour: entry ");
		CHECK(e != NULL && strlen(e) > 15 + 64);
		memcpy(kept, e + 15, 64);
		kept[64] = '\0';
	}
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(NULL, "ls '%s'/pending/*.entry", L.t.root), 0);
	/* Back to quorum: `wallet resume` completes the kept mint.  The
	 * restarted validators reopen their stores and catch up before the
	 * others see them again, which under ASan on a loaded machine has
	 * taken more than 30 s. */
	CHECK_OK(tn_start(&L.t, 2));
	CHECK_OK(tn_start(&L.t, 3));
	for (int i = 0; i < 5; i++) {
		int rv = tn_wait_peers(&L.t, i, 4, 120000);
		if (rv != GH_OK) {
			fprintf(stderr, "node %d after the restarts: %s\n", i,
			    gh_strerror(rv));
		}
		CHECK_OK(rv);
	}
	live = 0x1full;
	/* `wallet resume` completes the kept mint and signs nothing: each
	 * try that still lacks votes keeps it for the next. */
	CHECK_EQ(
	    th_sh(NULL, "'%s' wallet resume --node '%s' --key '%s' --amount 5",
	        th_bin(), L.t.conf[4], L.issuer),
	    2);
	CHECK_EQ(
	    th_sh(NULL, "'%s' wallet resume --key '%s'", th_bin(), L.issuer),
	    2);
	snprintf(args, sizeof(args),
	    "'%s' wallet resume --node '%s' --key '%s' 2>&1", th_bin(),
	    L.t.conf[4], L.issuer);
	for (int tries = 0; tries < 20; tries++) {
		free(out);
		out = NULL;
		if ((rc = th_sh(&out, "%s", args)) == 0) {
			break;
		}
		fprintf(stderr, "resume try %d: exit %d: %s", tries, rc,
		    out != NULL ? out : "");
		CHECK_EQ(rc, 1);
		CHECK(out != NULL && strstr(out, "stays kept") != NULL);
		tn_sleep_ms(1000);
	}
	CHECK_EQ(rc, 0);
	/* Applied now, or by a try that timed out after handing it. */
	CHECK(out != NULL
	    && ((strstr(out, kept) != NULL && strstr(out, "applied") != NULL)
	        || strstr(out, "nothing kept") != NULL));
	free(out);
	out = NULL;
	CHECK_OK(ln_wait_balance(&L, live, L.ahex, 500, 30000));
	CHECK_EQ(th_sh(NULL, "ls '%s'/pending/*.entry", L.t.root) != 0, 1);
	CHECK_EQ(th_sh(&out, "%s", args), 0);
	CHECK(out != NULL && strstr(out, "nothing kept") != NULL);
	free(out);
	out = NULL;
	{
		node_ledger_info in;
		CHECK_OK(ln_info(&L, 4, &in));
		CHECK_EQ(in.applied, 1);
	}
	snprintf(args, sizeof(args),
	    "'%s' wallet mint --node '%s' --key '%s' --to %s --amount 700 "
	    "2>&1",
	    th_bin(), L.t.conf[4], L.issuer, L.ahex);
	for (int tries = 0; tries < 20; tries++) {
		free(out);
		out = NULL;
		if ((rc = th_sh(&out, "%s", args)) == 0) {
			break;
		}
		fprintf(stderr, "mint try %d: exit %d: %s", tries, rc,
		    out != NULL ? out : "");
		tn_sleep_ms(1000);
	}
	CHECK_EQ(rc, 0);
	free(out);
	out = NULL;
	/* Every mint certified, once each, no equivocation, and the account
	 * is not frozen.  A try that got too few votes keeps its entry,
	 * which the next try completes before minting again (the CLI says
	 * so), so the mints are 500 and then 700 per entry after it. */
	{
		node_ledger_info in;
		CHECK_OK(ln_info(&L, 4, &in));
		CHECK(in.applied >= 2);
		want = 500 + 700 * (in.applied - 1);
	}
	if (ln_wait_balance(&L, live, L.ahex, want, 30000) != GH_OK) {
		for (int i = 0; i < 5; i++) {
			uint64_t         b = 0;
			node_ledger_info in;
			(void) ln_balance(&L, i, L.ahex, &b);
			(void) ln_info(&L, i, &in);
			fprintf(stderr,
			    "node %d: balance %llu applied %llu "
			    "pending %llu equivs %llu\n",
			    i, (unsigned long long) b,
			    (unsigned long long) in.applied,
			    (unsigned long long) in.pending,
			    (unsigned long long) in.equivs);
		}
		CHECK(0);
	}
	for (int i = 0; i < 5; i++) {
		node_ledger_info in;
		CHECK_OK(ln_info(&L, i, &in));
		CHECK_EQ(in.equivs, 0);
	}
	CHECK_EQ(th_sh(NULL, "ls '%s'/pending/*.entry", L.t.root) != 0, 1);
	tn_teardown(&L.t);
}
