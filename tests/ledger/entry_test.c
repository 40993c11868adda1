/* entry_test.c - encodings of entries, votes, certificates, genesis;
 * the bit-flip and truncation pass of each decoder; certificate rules. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

/* One entry of each kind with its fields filled from a counter. */
static void
entry_of_kind(fx *f, int kind, ledger_entry *e)
{
	uint8_t *b;

	memset(e, 0, sizeof(*e));
	e->kind   = (uint8_t) kind;
	e->scheme = (uint8_t) ledger_kind_scheme(kind);
	e->netid  = f->netid;
	memset(e->author, 0x11, 32);
	e->seq = 7;
	memset(e->prev.b, 0x22, 32);
	e->time = 1700000000;
	b       = (uint8_t *) &e->body;
	for (size_t i = 0; i < sizeof(e->body); i++) {
		b[i] = (uint8_t) (i * 7 + 3);
	}
	if (kind == LEDGER_TRANSFER) {
		e->body.transfer.dest = LEDGER_DEST_POOL;
	}
	if (kind == LEDGER_LEASE_OPEN) {
		e->body.lease_open.billing = 2;
	}
	if (kind == LEDGER_ASSET_REGISTER) {
		snprintf(e->body.asset.hw, sizeof(e->body.asset.hw), "H100");
	}
	if (kind == LEDGER_SHARE_TRANSFER || kind == LEDGER_REVENUE_CLAIM) {
		e->nconsumes        = 1;
		e->consumes[0].type = LEDGER_OBJ_LOT;
		memset(e->consumes[0].id.b, 0x33, 32);
		e->consumes[0].version = 4;
	}
	memset(e->sig.b, 0x44, 64);
}

TEST(ledger_entry_roundtrip_every_kind)
{
	fx f;

	CHECK_OK(fx_genesis(&f, 4));
	for (int k = 1; k <= LEDGER_KIND_MAX; k++) {
		ledger_entry e, d;
		uint8_t     *p = NULL, *q = NULL;
		size_t       n, m;
		gh_hash      h1, h2;

		entry_of_kind(&f, k, &e);
		CHECK_OK(ledger_entry_encode(&e, &p, &n));
		CHECK_OK(ledger_entry_decode(p, n, &d));
		CHECK_OK(ledger_entry_encode(&d, &q, &m));
		CHECK_EQ(n, m);
		CHECK_MEM(p, q, n);
		ledger_entry_hash(&e, &h1);
		ledger_entry_hash(&d, &h2);
		CHECK_MEM(h1.b, h2.b, 32);
		CHECK(strcmp(ledger_kind_name(k), "?") != 0);
		/* Trailing byte, wrong version, unknown kind. */
		{
			uint8_t *t = malloc(n + 1);
			memcpy(t, p, n);
			t[n] = 0;
			CHECK_ERR(
			    ledger_entry_decode(t, n + 1, &d), GH_ETRAILING);
			t[0] = 2;
			CHECK_ERR(ledger_entry_decode(t, n, &d), GH_EVERSION);
			t[0] = 1;
			t[1] = 99;
			CHECK_ERR(ledger_entry_decode(t, n, &d), GH_ETYPE);
			free(t);
		}
		free(p);
		free(q);
	}
	/* The scheme must match the kind. */
	{
		ledger_entry e;
		uint8_t     *p = NULL;
		size_t       n;
		entry_of_kind(&f, LEDGER_TRANSFER, &e);
		e.scheme = LEDGER_SCHEME_NODE;
		CHECK_ERR(ledger_entry_encode(&e, &p, &n), GH_EINVAL);
		entry_of_kind(&f, LEDGER_TRANSFER, &e);
		e.seq = 0;
		CHECK_ERR(ledger_entry_encode(&e, &p, &n), GH_EINVAL);
	}
	fx_free(&f);
}

/* Every truncation and every single-bit flip either fails to decode or
 * decodes to something that re-encodes to the same bytes. */
static int
entry_redecode(const uint8_t *p, size_t n)
{
	ledger_entry e;
	uint8_t     *q = NULL;
	size_t       m;
	int          ok;

	if (ledger_entry_decode(p, n, &e) != GH_OK) {
		return (1);
	}
	if (ledger_entry_encode(&e, &q, &m) != GH_OK) {
		return (0);
	}
	ok = m == n && memcmp(p, q, n) == 0;
	free(q);
	return (ok);
}

static int
cert_redecode(const uint8_t *p, size_t n)
{
	ledger_cert *c = malloc(sizeof(*c));
	uint8_t     *q = NULL;
	size_t       m;
	int          ok = 1;

	if (ledger_cert_decode(p, n, c) == GH_OK) {
		ok = ledger_cert_encode(c, &q, &m) == GH_OK && m == n
		    && memcmp(p, q, n) == 0;
		free(q);
	}
	free(c);
	return (ok);
}

static int
vote_redecode(const uint8_t *p, size_t n)
{
	ledger_vote v;
	uint8_t     q[LEDGER_VOTE_SIZE];

	if (ledger_vote_decode(p, n, &v) != GH_OK) {
		return (1);
	}
	ledger_vote_encode(&v, q);
	return (n == LEDGER_VOTE_SIZE && memcmp(p, q, n) == 0);
}

static int
mutate_all(const uint8_t *p, size_t n, int (*fn)(const uint8_t *, size_t))
{
	uint8_t *t  = malloc(n + 1);
	int      ok = 1;

	for (size_t i = 0; i < n && ok; i++) {
		ok = fn(p, i);
	}
	for (size_t i = 0; i < n * 8 && ok; i++) {
		memcpy(t, p, n);
		t[i / 8] ^= (uint8_t) (1u << (i % 8));
		ok = fn(t, n);
	}
	free(t);
	return (ok);
}

TEST(ledger_decoders_bitflip_truncation)
{
	fx           f;
	ledger_cert *c = calloc(1, sizeof(*c));
	ledger_vote  v[4];
	uint8_t      vb[LEDGER_VOTE_SIZE], *p = NULL;
	size_t       n;
	gh_hash      vh;

	CHECK_OK(fx_genesis(&f, 4));
	for (int k = 1; k <= LEDGER_KIND_MAX; k++) {
		ledger_entry e;
		entry_of_kind(&f, k, &e);
		CHECK_OK(ledger_entry_encode(&e, &p, &n));
		CHECK(mutate_all(p, n, entry_redecode));
		free(p);
	}
	{
		ledger_entry e;
		entry_of_kind(&f, LEDGER_MINT, &e);
		ledger_entry_hash(&e, &vh);
		for (int i = 0; i < 4; i++) {
			gh_hash m;
			v[i].netid = f.netid;
			v[i].entry = vh;
			gh_ed_key_pub(f.val[i], &v[i].validator);
			ledger_vote_hash(&f.netid, &vh, &m);
			gh_ed_sign(f.val[i], &m, &v[i].sig);
			CHECK_OK(ledger_vote_verify(&v[i]));
		}
		ledger_vote_encode(&v[0], vb);
		CHECK(mutate_all(vb, sizeof(vb), vote_redecode));
		CHECK_OK(ledger_cert_build(&f.g, &e, v, 4, c));
		CHECK_OK(ledger_cert_encode(c, &p, &n));
		CHECK(mutate_all(p, n, cert_redecode));
		free(p);
	}
	free(c);
	fx_free(&f);
}

TEST(ledger_cert_verify_rules)
{
	fx           f;
	ledger_cert *c = calloc(1, sizeof(*c));
	ledger_entry e;
	ledger_vote  v[4], bad;
	gh_ed_key   *outsider = NULL;
	gh_hash      h, m;
	uint8_t      seed[32] = { 9 };

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_EQ(ledger_genesis_quorum(&f.g), 3);
	fx_entry(&f, NULL, f.issuer, LEDGER_MINT, &e);
	e.body.mint.to     = f.pub[0];
	e.body.mint.amount = 5;
	CHECK_OK(ledger_entry_sign_account(&e, f.issuer));
	CHECK_OK(ledger_entry_verify_sig(&e));
	ledger_entry_hash(&e, &h);
	ledger_vote_hash(&f.netid, &h, &m);
	for (int i = 0; i < 4; i++) {
		v[i].netid = f.netid;
		v[i].entry = h;
		gh_ed_key_pub(f.val[i], &v[i].validator);
		gh_ed_sign(f.val[i], &m, &v[i].sig);
	}
	CHECK_OK(ledger_cert_build(&f.g, &e, v, 3, c));
	CHECK_OK(ledger_cert_verify(&f.g, c));
	/* Too few. */
	CHECK_ERR(ledger_cert_build(&f.g, &e, v, 2, c), GH_EQUORUM);
	CHECK_ERR(ledger_cert_verify(&f.g, c), GH_EQUORUM);
	/* Duplicates do not count (build drops them; a hand-made
	 * certificate with one repeated is refused). */
	{
		ledger_vote dup[3] = { v[0], v[0], v[1] };
		CHECK_ERR(ledger_cert_build(&f.g, &e, dup, 3, c), GH_EQUORUM);
		CHECK_OK(ledger_cert_build(&f.g, &e, v, 2, c) == GH_EQUORUM
		        ? GH_OK
		        : GH_EINTERNAL);
		c->voter[2] = c->voter[1];
		c->vsig[2]  = c->vsig[1];
		c->nvotes   = 3;
		CHECK_ERR(ledger_cert_verify(&f.g, c), GH_EQUORUM);
	}
	/* A non-member's vote does not count. */
	CHECK_OK(gh_ed_key_from_seed(seed, &outsider));
	bad.netid = f.netid;
	bad.entry = h;
	gh_ed_key_pub(outsider, &bad.validator);
	gh_ed_sign(outsider, &m, &bad.sig);
	{
		ledger_vote mix[3] = { v[0], v[1], bad };
		CHECK_ERR(ledger_cert_build(&f.g, &e, mix, 3, c), GH_EQUORUM);
		c->voter[2] = bad.validator;
		c->vsig[2]  = bad.sig;
		c->nvotes   = 3;
		CHECK_ERR(ledger_cert_verify(&f.g, c), GH_EQUORUM);
	}
	/* A bad vote signature. */
	CHECK_OK(ledger_cert_build(&f.g, &e, v, 4, c));
	c->vsig[1].b[5] ^= 1;
	CHECK_ERR(ledger_cert_verify(&f.g, c), GH_EBADSIG);
	/* A bad author signature. */
	CHECK_OK(ledger_cert_build(&f.g, &e, v, 4, c));
	c->entry.sig.b[0] ^= 1;
	CHECK_ERR(ledger_cert_verify(&f.g, c), GH_EBADSIG);
	/* Another network. */
	CHECK_OK(ledger_cert_build(&f.g, &e, v, 4, c));
	c->entry.netid.b[0] ^= 1;
	CHECK_ERR(ledger_cert_verify(&f.g, c), GH_ENETID);
	/* Votes for another entry are refused by build. */
	v[0].entry.b[0] ^= 1;
	CHECK_ERR(ledger_cert_build(&f.g, &e, v, 4, c), GH_EINVAL);
	gh_ed_key_free(outsider);
	free(c);
	fx_free(&f);
}

TEST(ledger_genesis_text_roundtrip_and_errors)
{
	fx             f;
	ledger_genesis g;
	char          *text = NULL;
	unsigned       line;
	gh_hash        a, b;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(ledger_genesis_format(&f.g, &text));
	CHECK_OK(ledger_genesis_parse(text, strlen(text), &g, &line));
	ledger_genesis_netid(&f.g, &a);
	ledger_genesis_netid(&g, &b);
	CHECK_MEM(a.b, b.b, 32);
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.fee_bps, 100);
	CHECK_STR(g.network, "testnet");
	/* Any change of a field changes the network id. */
	g.fee_bps++;
	ledger_genesis_netid(&g, &b);
	CHECK(memcmp(a.b, b.b, 32) != 0);
	free(text);
	{
		static const char *bad[] = {
			"network x\n",                      /* incomplete */
			"network x\nnetwork y\n",           /* duplicate */
			"bogus 1\n",                        /* unknown key */
			"network x y\n",                    /* extra value */
			"fee_bps 10001\n",                  /* over 100% */
			"fee_bps -1\n", "lease_grace 01\n", /* not canonical */
			"validator zz tcp://a\n",           /* bad hex */
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_ERR(ledger_genesis_parse(
			              bad[i], strlen(bad[i]), &g, &line),
			    GH_EINVAL);
			CHECK(line >= 1);
		}
	}
	/* n must be 3f+1. */
	f.g.n = 3;
	CHECK_OK(ledger_genesis_format(&f.g, &text));
	CHECK_ERR(
	    ledger_genesis_parse(text, strlen(text), &g, &line), GH_EINVAL);
	free(text);
	f.g.n = 4;
	fx_free(&f);
}

/* The genesis text: every truncation and bit flip either fails to parse
 * (with a line number) or formats back to the same network id. */
TEST(ledger_genesis_bitflip_truncation)
{
	fx             f;
	ledger_genesis g, g2;
	char          *text = NULL, *t, *back = NULL;
	size_t         n;
	unsigned       line;
	gh_hash        a, b;
	int            parsed = 0;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(ledger_genesis_format(&f.g, &text));
	n = strlen(text);
	t = malloc(n + 1);
	for (size_t i = 0; i <= n * 8 + n; i++) {
		size_t len = n;
		memcpy(t, text, n);
		if (i < n) {
			len = i; /* truncation */
		} else {
			size_t bit = i - n;
			if (bit >= n * 8) {
				break;
			}
			t[bit / 8] ^= (char) (1u << (bit % 8));
		}
		if (ledger_genesis_parse(t, len, &g, &line) != GH_OK) {
			CHECK(line >= 1 || len == 0);
			continue;
		}
		parsed++;
		CHECK_OK(ledger_genesis_format(&g, &back));
		CHECK_OK(ledger_genesis_parse(back, strlen(back), &g2, &line));
		ledger_genesis_netid(&g, &a);
		ledger_genesis_netid(&g2, &b);
		CHECK_MEM(a.b, b.b, 32);
		free(back);
		back = NULL;
	}
	CHECK(parsed > 0);
	free(t);
	free(text);
	fx_free(&f);
}
