/* rules_test.c - every rule of the ledger core against a store, the
 * rejections included. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

static int
vote_bytes(fx *f, int v, ledger_entry *e, ledger_vote *out)
{
	uint8_t *p = NULL;
	size_t   n;
	int      rv;

	if ((rv = ledger_entry_encode(e, &p, &n)) != GH_OK) {
		return (rv);
	}
	rv = ledger_store_vote(f->s, f->val[v], p, n, gh_time_now(), out);
	free(p);
	return (rv);
}

TEST(ledger_rules_mint_transfer_and_rejections)
{
	fx           f;
	ledger_entry e, old;
	ledger_vote  v;
	char         why[256];

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(fx_mint(&f, &f.pub[0], 1000));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 1000);
	/* Only the issuer mints. */
	fx_entry(&f, f.s, f.acct[0], LEDGER_MINT, &e);
	e.body.mint.to     = f.pub[0];
	e.body.mint.amount = 1;
	CHECK_ERR(fx_submit(&f, &e, f.acct[0]), GH_EPERM);
	CHECK_OK(fx_transfer(&f, 0, &f.pub[1], 400));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 600);
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 400);
	/* Overspend. */
	CHECK_ERR(fx_transfer(&f, 0, &f.pub[1], 601), GH_EFUNDS);
	CHECK_ERR(fx_transfer(&f, 0, &f.pub[1], 0), GH_EINVAL);

	/* Bad signature. */
	fx_entry(&f, f.s, f.acct[0], LEDGER_TRANSFER, &e);
	e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
	memcpy(e.body.transfer.to.b, f.pub[1].b, 32);
	e.body.transfer.amount = 1;
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	old = e;
	e.sig.b[3] ^= 1;
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_EBADSIG);
	/* Signed by another key. */
	CHECK_ERR(ledger_entry_sign_account(&e, f.acct[1]), GH_EBADKEY);
	/* Wrong network id. */
	e = old;
	e.netid.b[0] ^= 1;
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_ENETID);
	/* Wrong prev. */
	e = old;
	e.prev.b[0] ^= 1;
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_EPREV);
	/* Seq gap. */
	e = old;
	e.seq++;
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_ESEQ);
	/* Clock outside the margin. */
	e      = old;
	e.time = gh_time_now() + 3600;
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_EWINDOW);
	/* Replay of an applied entry: its version is consumed. */
	{
		ledger_entry first;
		fx_entry(&f, NULL, f.acct[0], LEDGER_TRANSFER, &first);
		first.body.transfer.dest = LEDGER_DEST_ACCOUNT;
		memcpy(first.body.transfer.to.b, f.pub[2].b, 32);
		first.body.transfer.amount = 1;
		CHECK_OK(ledger_entry_sign_account(&first, f.acct[0]));
		CHECK_ERR(vote_bytes(&f, 0, &first, &v), GH_ECONFLICT);
	}
	/* A validator not in the committee cannot vote. */
	{
		gh_ed_key *k        = NULL;
		uint8_t    seed[32] = { 77 };
		uint8_t   *p        = NULL;
		size_t     n;
		CHECK_OK(gh_ed_key_from_seed(seed, &k));
		CHECK_OK(ledger_entry_encode(&old, &p, &n));
		CHECK_ERR(ledger_store_vote(f.s, k, p, n, 0, &v), GH_EPERM);
		free(p);
		gh_ed_key_free(k);
	}
	CHECK_OK(ledger_store_invariants(f.s, why, sizeof(why)));
	fx_free(&f);
}

TEST(ledger_rules_u64_overflow)
{
	fx f;

	CHECK_OK(fx_genesis(&f, 1));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(fx_mint(&f, &f.pub[0], UINT64_MAX - 5));
	CHECK_ERR(fx_mint(&f, &f.pub[1], 6), GH_EOVERFLOW);
	CHECK_OK(fx_mint(&f, &f.pub[1], 5));
	CHECK_ERR(fx_mint(&f, &f.pub[1], 1), GH_EOVERFLOW);
	CHECK_OK(fx_transfer(&f, 1, &f.pub[0], 5));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), UINT64_MAX);
	fx_free(&f);
}

/* Registers an asset owned by acct[owner]; returns its id and lot. */
static int
register_asset(
    fx *f, int owner, uint64_t supply, ledger_id *asset, ledger_id *lot)
{
	ledger_entry e;
	gh_hash      h;
	int          rv;

	fx_entry(f, f->s, f->acct[owner], LEDGER_ASSET_REGISTER, &e);
	fx_asset_body(f, &e, supply);
	if ((rv = fx_submit(f, &e, f->acct[owner])) != GH_OK) {
		return (rv);
	}
	ledger_entry_hash(&e, &h);
	memcpy(asset->b, h.b, 32);
	ledger_lot_id(&h, 0, lot);
	return (GH_OK);
}

static int
pay_pool(fx *f, int from, const ledger_id *asset, uint64_t amount)
{
	ledger_entry e;

	fx_entry(f, f->s, f->acct[from], LEDGER_TRANSFER, &e);
	e.body.transfer.dest   = LEDGER_DEST_POOL;
	e.body.transfer.to     = *asset;
	e.body.transfer.amount = amount;
	return (fx_submit(f, &e, f->acct[from]));
}

static void
claim_entry(fx *f, int who, const ledger_id *lot, uint64_t version,
    uint64_t total, ledger_entry *e)
{
	fx_entry(f, f->s, f->acct[who], LEDGER_REVENUE_CLAIM, e);
	e->nconsumes             = 1;
	e->consumes[0].type      = LEDGER_OBJ_LOT;
	e->consumes[0].id        = *lot;
	e->consumes[0].version   = version;
	e->body.claim.lot        = *lot;
	e->body.claim.pool_total = total;
}

static void
share_entry(fx *f, int who, const ledger_id *lot, uint64_t version,
    const gh_acct_pub *to, uint64_t amount, uint64_t total, ledger_entry *e)
{
	fx_entry(f, f->s, f->acct[who], LEDGER_SHARE_TRANSFER, e);
	e->nconsumes             = 1;
	e->consumes[0].type      = LEDGER_OBJ_LOT;
	e->consumes[0].id        = *lot;
	e->consumes[0].version   = version;
	e->body.share.lot        = *lot;
	e->body.share.to         = *to;
	e->body.share.amount     = amount;
	e->body.share.pool_total = total;
}

TEST(ledger_rules_assets_shares_claims)
{
	fx           f;
	ledger_id    asset, lot0, lot1;
	ledger_asset a;
	ledger_lot   l;
	ledger_entry e;
	ledger_vote  v;
	gh_hash      h;
	char         why[256];

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(fx_mint(&f, &f.pub[3], 1000000));
	/* A bad node binding is refused. */
	fx_entry(&f, f.s, f.acct[0], LEDGER_ASSET_REGISTER, &e);
	fx_asset_body(&f, &e, 3);
	e.body.asset.node_sig.b[0] ^= 1;
	CHECK_ERR(fx_submit(&f, &e, f.acct[0]), GH_EBADSIG);
	fx_asset_body(&f, &e, 0);
	CHECK_ERR(fx_submit(&f, &e, f.acct[0]), GH_EINVAL);
	CHECK_OK(register_asset(&f, 0, 3, &asset, &lot0));
	CHECK_OK(ledger_store_asset(f.s, &asset, &a));
	CHECK_EQ(a.supply, 3);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &l));
	CHECK_EQ(l.amount, 3);
	CHECK_MEM(l.holder.b, f.pub[0].b, 32);
	/* Revenue 100 into the pool. */
	CHECK_OK(pay_pool(&f, 3, &asset, 100));
	/* Owner sells 1 share settling at R' = 100: owner gets
	 * floor(3*100/3) = 100, buyer's lot starts at cursor 100. */
	share_entry(&f, 0, &lot0, 0, &f.pub[1], 1, 100, &e);
	CHECK_OK(fx_submit(&f, &e, f.acct[0]));
	ledger_entry_hash(&e, &h);
	ledger_lot_id(&h, 1, &lot1);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 100);
	CHECK_OK(ledger_store_lot(f.s, &lot1, &l));
	CHECK_EQ(l.amount, 1);
	CHECK_EQ(l.cursor, 100);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &l));
	CHECK_EQ(l.amount, 2);
	CHECK_EQ(l.version, 1);
	/* 10 more: owner (2/3) claims floor(20/3) = 6 carry 2; buyer
	 * (1/3) claims floor(10/3) = 3 carry 1. */
	CHECK_OK(pay_pool(&f, 3, &asset, 10));
	CHECK_OK(ledger_store_invariants(f.s, why, sizeof(why)));
	/* A claim above the validator's pool total is refused. */
	claim_entry(&f, 0, &lot0, 1, 111, &e);
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &e, &v), GH_EPENDING);
	/* Below the cursor too. */
	claim_entry(&f, 0, &lot0, 1, 99, &e);
	CHECK_ERR(fx_submit(&f, &e, f.acct[0]), GH_EINVAL);
	/* Only the holder may claim. */
	fx_entry(&f, f.s, f.acct[1], LEDGER_REVENUE_CLAIM, &e);
	claim_entry(&f, 1, &lot0, 1, 110, &e);
	CHECK_ERR(fx_submit(&f, &e, f.acct[1]), GH_EPERM);
	/* A consumed lot version (checked without voting: a vote on it
	 * would be the holder's equivocation and freeze the lot). */
	claim_entry(&f, 0, &lot0, 0, 110, &e);
	CHECK_OK(ledger_entry_sign_account(&e, f.acct[0]));
	{
		uint8_t *p = NULL;
		size_t   n;
		CHECK_OK(ledger_entry_encode(&e, &p, &n));
		CHECK_ERR(ledger_store_check(f.s, p, n, 0), GH_ECONFLICT);
		free(p);
	}
	claim_entry(&f, 0, &lot0, 1, 110, &e);
	CHECK_OK(fx_submit(&f, &e, f.acct[0]));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 106);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &l));
	CHECK_EQ(l.carry, 2);
	CHECK_EQ(l.cursor, 110);
	claim_entry(&f, 1, &lot1, 0, 110, &e);
	CHECK_OK(fx_submit(&f, &e, f.acct[1]));
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 3);
	CHECK_OK(ledger_store_asset(f.s, &asset, &a));
	CHECK_EQ(a.paid_in, 110);
	CHECK_EQ(a.paid_out, 109);
	/* One micro-unit stays in the pool: carries 2 + 1 = 3 = S(R-P). */
	CHECK_OK(ledger_store_invariants(f.s, why, sizeof(why)));
	/* 2 more: the carries pay out. owner: 2*2+2 = 6 -> 2; buyer:
	 * 2+1 = 3 -> 1. */
	CHECK_OK(pay_pool(&f, 3, &asset, 2));
	claim_entry(&f, 0, &lot0, 2, 112, &e);
	CHECK_OK(fx_submit(&f, &e, f.acct[0]));
	claim_entry(&f, 1, &lot1, 1, 112, &e);
	CHECK_OK(fx_submit(&f, &e, f.acct[1]));
	CHECK_OK(ledger_store_asset(f.s, &asset, &a));
	CHECK_EQ(a.paid_out, 112);
	/* Selling more shares than the lot holds. */
	share_entry(&f, 1, &lot1, 2, &f.pub[2], 2, 112, &e);
	CHECK_ERR(fx_submit(&f, &e, f.acct[1]), GH_EFUNDS);
	/* Pool payment to an unknown asset is refused by validators. */
	{
		ledger_id none;
		memset(none.b, 5, 32);
		CHECK_ERR(pay_pool(&f, 3, &none, 1), GH_ENOENT);
	}
	/* Cancelling a loan that does not exist. */
	fx_entry(&f, f.s, f.acct[0], LEDGER_LOAN_CANCEL, &e);
	CHECK_ERR(fx_submit(&f, &e, f.acct[0]), GH_ENOENT);
	CHECK_OK(ledger_store_invariants(f.s, why, sizeof(why)));
	{
		uint64_t pos;
		CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	}
	fx_free(&f);
}

TEST(ledger_rules_pending_until_preconditions)
{
	fx           f;
	ledger_cert *c[3];
	ledger_entry m, t1, t2;
	int          res[3];
	uint64_t     ap, pe, eq;
	char         why[256];

	CHECK_OK(fx_genesis(&f, 1));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	for (int i = 0; i < 3; i++) {
		c[i] = calloc(1, sizeof(ledger_cert));
	}
	/* Build mint, t1 (acct0 -> acct1), t2 (acct0 seq 2) by hand. */
	fx_entry(&f, NULL, f.issuer, LEDGER_MINT, &m);
	m.body.mint.to     = f.pub[0];
	m.body.mint.amount = 50;
	CHECK_OK(ledger_entry_sign_account(&m, f.issuer));
	fx_entry(&f, NULL, f.acct[0], LEDGER_TRANSFER, &t1);
	t1.body.transfer.dest = LEDGER_DEST_ACCOUNT;
	memcpy(t1.body.transfer.to.b, f.pub[1].b, 32);
	t1.body.transfer.amount = 20;
	CHECK_OK(ledger_entry_sign_account(&t1, f.acct[0]));
	t2     = t1;
	t2.seq = 2;
	ledger_entry_hash(&t1, &t2.prev);
	t2.body.transfer.amount = 30;
	CHECK_OK(ledger_entry_sign_account(&t2, f.acct[0]));
	/* Certify each in a second store that sees them in order. */
	{
		fx g2;
		CHECK_OK(fx_genesis(&g2, 1));
		CHECK_OK(fx_open(&g2, th_path(1, "other")));
		CHECK_OK(ledger_store_certify(g2.s, g2.val, 1, &m, 0, c[0]));
		CHECK_OK(ledger_store_ingest(g2.s, &c[0], 1, res));
		CHECK_OK(ledger_store_certify(g2.s, g2.val, 1, &t1, 0, c[1]));
		CHECK_OK(ledger_store_ingest(g2.s, &c[1], 1, res));
		CHECK_OK(ledger_store_certify(g2.s, g2.val, 1, &t2, 0, c[2]));
		fx_free(&g2);
	}
	/* Here: t2 first (gap), then t1 (no funds yet), then the mint. */
	CHECK_OK(ledger_store_ingest(f.s, &c[2], 1, res));
	CHECK_EQ(res[0], GH_EPENDING);
	CHECK_OK(ledger_store_ingest(f.s, &c[1], 1, res));
	CHECK_EQ(res[0], GH_EPENDING);
	CHECK_OK(ledger_store_counts(f.s, &ap, &pe, &eq));
	CHECK_EQ(ap, 0);
	CHECK_EQ(pe, 2);
	CHECK_OK(ledger_store_ingest(f.s, &c[0], 1, res));
	CHECK_EQ(res[0], GH_OK);
	CHECK_OK(ledger_store_counts(f.s, &ap, &pe, &eq));
	CHECK_EQ(ap, 3);
	CHECK_EQ(pe, 0);
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 50);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 0);
	/* Again: already known. */
	CHECK_OK(ledger_store_ingest(f.s, &c[0], 1, res));
	CHECK_EQ(res[0], GH_EEXIST);
	CHECK_OK(ledger_store_invariants(f.s, why, sizeof(why)));
	for (int i = 0; i < 3; i++) {
		free(c[i]);
	}
	fx_free(&f);
}

static int
count_equiv(void *arg, const ledger_objver *obj, const uint8_t *p, size_t n)
{
	(void) p;
	(void) n;
	if (obj->type == LEDGER_OBJ_LOT) {
		(*(int *) arg)++;
	}
	return (0);
}

TEST(ledger_rules_equivocation_freezes)
{
	fx             f;
	ledger_entry   a, b, next;
	ledger_vote    v;
	uint8_t       *p = NULL;
	size_t         n;
	ledger_id      id;
	const uint8_t *pa, *pb;
	size_t         an, bn;
	ledger_objver  ov;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(fx_mint(&f, &f.pub[0], 100));
	fx_entry(&f, f.s, f.acct[0], LEDGER_TRANSFER, &a);
	a.body.transfer.dest = LEDGER_DEST_ACCOUNT;
	memcpy(a.body.transfer.to.b, f.pub[1].b, 32);
	a.body.transfer.amount = 10;
	b                      = a;
	memcpy(b.body.transfer.to.b, f.pub[2].b, 32);
	CHECK_OK(ledger_entry_sign_account(&a, f.acct[0]));
	CHECK_OK(ledger_entry_sign_account(&b, f.acct[0]));
	CHECK_OK(vote_bytes(&f, 0, &a, &v));
	/* The same entry again: the same vote. */
	CHECK_OK(vote_bytes(&f, 0, &a, &v));
	CHECK_ERR(vote_bytes(&f, 0, &b, &v), GH_ECONFLICT);
	memcpy(id.b, f.pub[0].b, 32);
	CHECK_OK(
	    ledger_store_equivocation(f.s, LEDGER_OBJ_ACCOUNT, &id, &p, &n));
	CHECK_OK(ledger_equiv_decode(p, n, &pa, &an, &pb, &bn));
	CHECK_OK(ledger_equiv_verify(&f.netid, pa, an, pb, bn, &ov));
	CHECK_EQ(ov.type, LEDGER_OBJ_ACCOUNT);
	CHECK_EQ(ov.version, 0);
	free(p);
	/* Frozen: no validator of this store votes on it again. */
	CHECK_ERR(vote_bytes(&f, 1, &a, &v), GH_EFROZEN);
	next = a;
	CHECK_ERR(vote_bytes(&f, 2, &next, &v), GH_EFROZEN);
	/* Not a proof: one entry twice, or entries of different keys. */
	{
		uint8_t     *x = NULL, *y = NULL;
		size_t       xn, yn;
		ledger_entry o = a;
		CHECK_OK(ledger_entry_encode(&a, &x, &xn));
		CHECK_ERR(ledger_equiv_verify(&f.netid, x, xn, x, xn, NULL),
		    GH_EINVAL);
		memcpy(o.author, f.pub[1].b, 32);
		CHECK_OK(ledger_entry_sign_account(&o, f.acct[1]));
		CHECK_OK(ledger_entry_encode(&o, &y, &yn));
		CHECK_ERR(ledger_equiv_verify(&f.netid, x, xn, y, yn, NULL),
		    GH_EINVAL);
		free(x);
		free(y);
	}
	fx_free(&f);
}

TEST(ledger_store_reopen_and_wrong_network)
{
	fx             f;
	gh_hash        h1, h2;
	uint64_t       pos;
	char           why[256];
	ledger_store  *s2 = NULL;
	ledger_genesis g2;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(fx_mint(&f, &f.pub[0], 100));
	CHECK_OK(fx_transfer(&f, 0, &f.pub[1], 10));
	CHECK_OK(ledger_store_state_hash(f.s, &h1));
	ledger_store_close(f.s);
	f.s = NULL;
	g2  = f.g;
	g2.fee_bps++;
	CHECK_ERR(ledger_store_open(th_tmpdir(), &g2, NULL, &s2), GH_ENETID);
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(ledger_store_state_hash(f.s, &h2));
	CHECK_MEM(h1.b, h2.b, 32);
	CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 10);
	fx_free(&f);
}

TEST(ledger_store_map_full_is_an_error)
{
	fx                f;
	ledger_store_opts o  = { 1 << 20, 1, 1, 0 }; /* 1 MiB */
	int               rv = GH_OK;

	CHECK_OK(fx_genesis(&f, 1));
	CHECK_OK(ledger_store_open(th_tmpdir(), &f.g, &o, &f.s));
	CHECK_OK(fx_mint(&f, &f.pub[0], UINT64_MAX));
	for (int i = 0; i < 20000 && rv == GH_OK; i++) {
		rv = fx_transfer(&f, 0, &f.pub[1 + i % 5], 1);
	}
	CHECK_ERR(rv, GH_EFULL);
	fx_free(&f);
}

TEST(ledger_rules_lot_equivocation_gossiped_freezes)
{
	fx           f, g2;
	ledger_id    asset, lot0;
	ledger_entry a, b;
	ledger_vote  v;
	uint8_t     *p = NULL, *eb = NULL;
	size_t       n, en;
	int          count = 0;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	CHECK_OK(register_asset(&f, 0, 10, &asset, &lot0));
	/* The holder signs two claims on lot version 0 (different chain
	 * seqs: only the lot version is shared). */
	claim_entry(&f, 0, &lot0, 0, 0, &a);
	CHECK_OK(ledger_entry_sign_account(&a, f.acct[0]));
	CHECK_OK(vote_bytes(&f, 0, &a, &v));
	b     = a;
	b.seq = a.seq + 1;
	ledger_entry_hash(&a, &b.prev);
	CHECK_OK(ledger_entry_sign_account(&b, f.acct[0]));
	CHECK_ERR(vote_bytes(&f, 0, &b, &v), GH_ECONFLICT);
	CHECK_OK(
	    ledger_store_equivocation(f.s, LEDGER_OBJ_LOT, &lot0, &p, &n));
	/* The frozen lot version: refused. */
	CHECK_ERR(vote_bytes(&f, 1, &a, &v), GH_EFROZEN);
	/* Gossiped to another node, the proof freezes the lot there too. */
	CHECK_OK(fx_genesis(&g2, 4));
	CHECK_OK(fx_open(&g2, th_path(1, "g2")));
	{
		/* The same registration there (same keys, so the same lot). */
		ledger_entry r;
		fx_entry(&g2, g2.s, g2.acct[0], LEDGER_ASSET_REGISTER, &r);
		fx_asset_body(&g2, &r, 10);
		CHECK_OK(fx_submit(&g2, &r, g2.acct[0]));
	}
	CHECK_OK(ledger_store_equiv_add(g2.s, p, n));
	CHECK_OK(ledger_store_equiv_add(g2.s, p, n)); /* idempotent */
	CHECK_OK(ledger_entry_encode(&a, &eb, &en));
	{
		ledger_vote v2;
		CHECK_ERR(ledger_store_vote(g2.s, g2.val[0], eb, en, 0, &v2),
		    GH_EFROZEN);
	}
	/* Not a proof: refused. */
	p[n - 1] ^= 1;
	CHECK(ledger_store_equiv_add(g2.s, p, n) != GH_OK);
	CHECK_OK(ledger_store_equivs(g2.s, count_equiv, &count));
	CHECK_EQ(count, 1);
	free(p);
	free(eb);
	fx_free(&g2);
	fx_free(&f);
}

TEST_T(ledger_store_verify_beyond_one_replay_batch, 300)
{
	fx           f;
	ledger_cert *c[64];
	int          res[64];
	gh_hash      prev[FX_ACCTS];
	uint64_t     seq[FX_ACCTS] = { 0 };
	uint64_t     pos;
	char         why[256];
	int          total = 0;

	memset(prev, 0, sizeof(prev));
	CHECK_OK(fx_genesis(&f, 1));
	CHECK_OK(fx_open(&f, th_tmpdir()));
	for (int i = 0; i < FX_ACCTS; i++) {
		CHECK_OK(fx_mint(&f, &f.pub[i], 1000000));
	}
	for (int i = 0; i < 64; i++) {
		c[i] = malloc(sizeof(ledger_cert));
	}
	/* 4160 transfers in batches of 64, signed ahead of the store. */
	for (int round = 0; round < 65; round++) {
		for (int i = 0; i < 64; i++) {
			int          a = i % FX_ACCTS;
			ledger_entry e;
			ledger_vote  v;
			gh_hash      h, vh;
			if (round == 0 && i < FX_ACCTS) {
				ledger_account acc;
				CHECK_OK(ledger_store_account(
				    f.s, f.pub[a].b, 0, &acc));
				seq[a]  = acc.seq;
				prev[a] = acc.head;
			}
			fx_entry(&f, NULL, f.acct[a], LEDGER_TRANSFER, &e);
			e.seq                = ++seq[a];
			e.prev               = prev[a];
			e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
			memcpy(e.body.transfer.to.b,
			    f.pub[(a + 1) % FX_ACCTS].b, 32);
			e.body.transfer.amount = 1;
			CHECK_OK(ledger_entry_sign_account(&e, f.acct[a]));
			ledger_entry_hash(&e, &h);
			prev[a] = h;
			ledger_vote_hash(&f.netid, &h, &vh);
			v.netid = f.netid;
			v.entry = h;
			gh_ed_key_pub(f.val[0], &v.validator);
			gh_ed_sign(f.val[0], &vh, &v.sig);
			CHECK_OK(ledger_cert_build(&f.g, &e, &v, 1, c[i]));
		}
		CHECK_OK(ledger_store_ingest(f.s, c, 64, res));
		for (int i = 0; i < 64; i++) {
			CHECK_EQ(res[i], GH_OK);
		}
		total += 64;
	}
	CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	CHECK(strstr(why, "4168 entries") != NULL);
	for (int i = 0; i < 64; i++) {
		free(c[i]);
	}
	(void) total;
	fx_free(&f);
}
