/* kinds_test.c - leases, proofs and loans: escrow arithmetic at the u64
 * edges, receipts, every window boundary, every rejection, and
 * hand-computed scenarios on a 4-validator devnet in one process. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/kinds.h"

#define TREAS 7 /* the fixture's treasury account */

static void
inv_ok(fx *f)
{
	char why[256];
	int  rv = ledger_store_invariants(f->s, why, sizeof(why));
	if (rv != GH_OK) {
		printf("    invariants: %s\n", why);
	}
	CHECK_OK(rv);
}

TEST(ledger_escrow_arithmetic_u64_edges)
{
	uint64_t v, d, fee, pool;

	CHECK_OK(ledger_escrow_amount(0, 123, &v));
	CHECK_EQ(v, 0);
	CHECK_OK(ledger_escrow_amount(1, 1, &v));
	CHECK_EQ(v, 1); /* rounds up */
	CHECK_OK(ledger_escrow_amount(3600, 1, &v));
	CHECK_EQ(v, 1);
	CHECK_OK(ledger_escrow_amount(3601, 1, &v));
	CHECK_EQ(v, 2);
	CHECK_OK(ledger_escrow_amount(5000, 123457, &v));
	CHECK_EQ(v, 171469); /* 617285000 / 3600 = 171468.06 */
	CHECK_OK(ledger_escrow_amount(UINT64_MAX, 3600, &v));
	CHECK_EQ(v, UINT64_MAX);
	CHECK_ERR(ledger_escrow_amount(UINT64_MAX, 3601, &v), GH_EOVERFLOW);
	CHECK_ERR(
	    ledger_escrow_amount(UINT64_MAX, UINT64_MAX, &v), GH_EOVERFLOW);
	/* The largest duration at 3601/h: floor((2^64-1) * 3600 / 3601)
	 * (by hand: 18441621401098135466) fits; one second more does not. */
	CHECK_OK(ledger_escrow_amount(18441621401098135466ull, 3601, &v));
	CHECK_EQ(v, 18446744073709551615ull);
	CHECK_ERR(ledger_escrow_amount(18441621401098135467ull, 3601, &v),
	    GH_EOVERFLOW);
	/* The market's wrapper is the same arithmetic. */
	CHECK_ERR(market_escrow_amount(UINT64_MAX, 3601, &v), GH_EOVERFLOW);
	CHECK_OK(market_escrow_amount(3601, 1, &v));
	CHECK_EQ(v, 2);

	CHECK_OK(ledger_draw_split(
	    UINT64_MAX, 0, UINT64_MAX, 10000, &d, &fee, &pool));
	CHECK_EQ(d, UINT64_MAX);
	CHECK_EQ(fee, UINT64_MAX);
	CHECK_EQ(pool, 0);
	CHECK_OK(ledger_draw_split(
	    UINT64_MAX, 0, UINT64_MAX, 9999, &d, &fee, &pool));
	CHECK_EQ(fee, 18444899399302180659ull);
	CHECK_EQ(pool, 1844674407370956ull);
	CHECK_OK(ledger_draw_split(
	    UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, 100, &d, &fee, &pool));
	CHECK_EQ(d, 1);
	CHECK_EQ(fee, 0);
	CHECK_EQ(pool, 1);
	CHECK_OK(ledger_draw_split(1000, 400, 400, 100, &d, &fee, &pool));
	CHECK_EQ(d, 0);
	CHECK_ERR(ledger_draw_split(1000, 400, 399, 100, &d, &fee, &pool),
	    GH_ECONFLICT);
	CHECK_ERR(
	    ledger_draw_split(1000, 0, 1001, 100, &d, &fee, &pool), GH_EFUNDS);
	CHECK_ERR(ledger_draw_split(1000, 1001, 1001, 100, &d, &fee, &pool),
	    GH_EFUNDS);
	CHECK_ERR(
	    ledger_draw_split(1000, 0, 10, 10001, &d, &fee, &pool), GH_EINVAL);
	CHECK_OK(market_draw_split(50001, 0, 50001, 100, &d, &fee, &pool));
	CHECK_EQ(fee, 500);
	CHECK_EQ(pool, 49501);
}

TEST(ledger_receipt_from_market_verifies_in_ledger)
{
	gh_ed_key     *rk = kx_receipt_key(1), *other = kx_receipt_key(2);
	market_receipt r;
	uint8_t       *p = NULL;
	size_t         n;
	gh_ed_pub      pub;
	ledger_id      lease;

	CHECK(rk != NULL && other != NULL);
	memset(&r, 0, sizeof(r));
	memset(r.lease.b, 0x5a, 32);
	r.seq    = 7;
	r.amount = 123456789;
	CHECK_OK(market_receipt_sign(&r, rk));
	/* Through its encoding, as a renter would send it. */
	CHECK_OK(market_receipt_encode(&r, &p, &n));
	memset(&r, 0, sizeof(r));
	CHECK_OK(market_receipt_decode(p, n, &r));
	free(p);
	memcpy(lease.b, r.lease.b, 32);
	gh_ed_key_pub(rk, &pub);
	CHECK_OK(ledger_receipt_verify(&lease, r.seq, r.amount, &pub, &r.sig));
	CHECK_ERR(
	    ledger_receipt_verify(&lease, r.seq + 1, r.amount, &pub, &r.sig),
	    GH_EBADSIG);
	CHECK_ERR(
	    ledger_receipt_verify(&lease, r.seq, r.amount - 1, &pub, &r.sig),
	    GH_EBADSIG);
	lease.b[0] ^= 1;
	CHECK_ERR(ledger_receipt_verify(&lease, r.seq, r.amount, &pub, &r.sig),
	    GH_EBADSIG);
	lease.b[0] ^= 1;
	gh_ed_key_pub(other, &pub);
	CHECK_ERR(ledger_receipt_verify(&lease, r.seq, r.amount, &pub, &r.sig),
	    GH_EBADSIG);
	gh_ed_key_free(rk);
	gh_ed_key_free(other);
}

/* An owner (account 0) with an asset of supply; a renter (3) with
 * 1,000,000 micro-units and an open lease [T0, T0 + dur]. */
static void
lease_setup(fx *f, const char *dir, uint64_t supply, uint64_t price,
    uint64_t dur, const gh_ed_key *rk, ledger_id *asset, ledger_id *lot,
    ledger_id *lease)
{
	CHECK_OK(kx_open_fx(f, th_path(0, dir)));
	CHECK_OK(kx_register(f, 0, supply, asset, lot));
	CHECK_OK(fx_mint(f, &f->pub[3], 1000000));
	CHECK_OK(
	    kx_open(f, 3, asset, price, KX_T0, KX_T0 + dur, rk, KX_T0, lease));
}

TEST(ledger_lease_windows_receipts_and_caps)
{
	fx           f;
	gh_ed_key   *rk = kx_receipt_key(1), *bad = kx_receipt_key(2);
	ledger_id    asset, lot, lease;
	ledger_lease ls;
	uint64_t     E = KX_T0 + 3600, G = 600, M = 30;

	CHECK(rk != NULL && bad != NULL);
	lease_setup(&f, "w", 1000, 100000, 3600, rk, &asset, &lot, &lease);
	CHECK_OK(ledger_store_lease(f.s, &lease, &ls));
	CHECK_EQ(ls.escrow, 100000);
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 900000);
	/* Provider's window: until expiry + grace, one second each side. */
	CHECK_OK(
	    kx_draw_v(&f, LEDGER_LEASE_DRAW, &lease, 1, 10, rk, E + G, 1));
	CHECK_ERR(
	    kx_draw_v(&f, LEDGER_LEASE_DRAW, &lease, 1, 10, rk, E + G + 1, 1),
	    GH_EWINDOW);
	CHECK_OK(
	    kx_draw_v(&f, LEDGER_LEASE_CLOSE, &lease, 1, 10, rk, E + G, 1));
	CHECK_ERR(
	    kx_draw_v(&f, LEDGER_LEASE_CLOSE, &lease, 1, 10, rk, E + G + 1, 1),
	    GH_EWINDOW);
	/* Renter's window: from expiry + grace + margin. */
	CHECK_OK(kx_expire(&f, 3, &lease, E + G + M, 1));
	CHECK_ERR(kx_expire(&f, 3, &lease, E + G + M - 1, 1), GH_EWINDOW);
	CHECK_ERR(kx_expire(&f, 1, &lease, E + G + M, 1), GH_EPERM);
	/* A validator judges the entry's time by its own clock. */
	{
		ledger_entry e;
		ledger_lease l2;
		uint8_t     *p = NULL;
		size_t       n;
		CHECK_OK(ledger_store_lease(f.s, &lease, &l2));
		fx_entry(&f, f.s, f.acct[3], LEDGER_LEASE_EXPIRE, &e);
		e.time                = E + G + M;
		e.nconsumes           = 1;
		e.consumes[0].type    = LEDGER_OBJ_LEASE;
		e.consumes[0].id      = lease;
		e.consumes[0].version = l2.version;
		e.body.ref.id         = lease;
		CHECK_OK(ledger_entry_sign_account(&e, f.acct[3]));
		CHECK_OK(ledger_entry_encode(&e, &p, &n));
		CHECK_OK(ledger_store_check(f.s, p, n, E + G + M));
		CHECK_OK(ledger_store_check(f.s, p, n, E + G + 2 * M));
		CHECK_ERR(ledger_store_check(f.s, p, n, E + G + 2 * M + 1),
		    GH_EWINDOW);
		CHECK_ERR(
		    ledger_store_check(f.s, p, n, E + G - 1), GH_EWINDOW);
		free(p);
	}

	/* Draws never exceed the escrow or the receipt. */
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 100001, rk, E),
	    GH_ELIMIT);
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 500, bad, E),
	    GH_EBADSIG);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 2, 40000, rk, E));
	CHECK_OK(ledger_store_lease(f.s, &lease, &ls));
	CHECK_EQ(ls.drawn, 40000);
	CHECK_EQ(ls.fees, 400);
	CHECK_EQ(ls.last_seq, 2);
	/* Receipts are monotone: seq above the last drawn, amount not
	 * below what was drawn. */
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 2, 50000, rk, E),
	    GH_ECONFLICT);
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 50000, rk, E),
	    GH_ECONFLICT);
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 3, 39999, rk, E),
	    GH_ECONFLICT);
	/* A receipt for the whole escrow draws exactly the rest. */
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 9, 100000, rk, E));
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 10, 100001, rk, E),
	    GH_ELIMIT);
	/* A DRAW without a receipt is not a thing; a CLOSE at zero is. */
	CHECK_ERR(
	    kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 0, 0, NULL, E), GH_EINVAL);
	CHECK_ERR(
	    kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 0, 5, NULL, E), GH_EINVAL);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 0, 0, NULL, E));
	CHECK_OK(ledger_store_lease(f.s, &lease, &ls));
	CHECK_EQ(ls.state, LEDGER_LEASE_CLOSED);
	CHECK_EQ(ls.refunded, 0);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 1000); /* 1% of 100000 */
	/* Ended: nothing more on it. */
	CHECK_ERR(kx_expire(&f, 3, &lease, E + G + M, 0), GH_ECLOSED);
	inv_ok(&f);
	gh_ed_key_free(rk);
	gh_ed_key_free(bad);
	fx_free(&f);
}

TEST(ledger_lease_open_and_proof_rules)
{
	fx               f;
	gh_ed_key       *rk = kx_receipt_key(1);
	ledger_id        asset, lot, lease, none, pid;
	ledger_entry     e;
	ledger_proof_rec pr;
	gh_ed_pub        np;

	lease_setup(&f, "o", 1000, 100000, 3600, rk, &asset, &lot, &lease);
	/* Too poor: 2,000,000 escrow against 900,000. */
	fx_entry(&f, f.s, f.acct[3], LEDGER_LEASE_OPEN, &e);
	e.time                  = KX_T0;
	e.body.lease_open.asset = asset;
	gh_ed_key_pub(f.node, &e.body.lease_open.node);
	gh_ed_key_pub(rk, &e.body.lease_open.receipt_key);
	e.body.lease_open.price   = 2000000;
	e.body.lease_open.billing = 1;
	e.body.lease_open.start   = KX_T0;
	e.body.lease_open.expiry  = KX_T0 + 3600;
	CHECK_ERR(kx_send(&f, &e, 3, 1), GH_EFUNDS);
	/* A node that is not the asset's. */
	e.body.lease_open.price = 1000;
	gh_ed_key_pub(rk, &e.body.lease_open.node);
	CHECK_ERR(kx_send(&f, &e, 3, 1), GH_EPERM);
	gh_ed_key_pub(f.node, &e.body.lease_open.node);
	e.body.lease_open.expiry = KX_T0;
	CHECK_ERR(kx_send(&f, &e, 3, 1), GH_EINVAL);
	e.body.lease_open.expiry = KX_T0 + 1;
	e.body.lease_open.price  = 0;
	CHECK_ERR(kx_send(&f, &e, 3, 1), GH_EINVAL);
	memset(none.b, 9, 32);
	e.body.lease_open.price = 1;
	e.body.lease_open.asset = none;
	CHECK_ERR(kx_send(&f, &e, 3, 1), GH_ENOENT);

	/* PROOF: on the node's chain, for a lease it serves, once. */
	kx_node_entry(&f, LEDGER_PROOF, KX_T0 + 10, &e);
	e.body.proof.lease = lease;
	memset(e.body.proof.proof.b, 0x77, 32);
	e.body.proof.tokens    = 5000;
	e.body.proof.device_ns = 123456789;
	CHECK_OK(kx_send(&f, &e, -1, 0));
	gh_ed_key_pub(f.node, &np);
	ledger_proof_obj_id(&np, &e.body.proof.proof, &pid);
	CHECK_OK(ledger_store_proof(f.s, &pid, &pr));
	CHECK_EQ(pr.tokens, 5000);
	CHECK_EQ(pr.device_ns, 123456789);
	CHECK_MEM(pr.lease.b, lease.b, 32);
	kx_node_entry(&f, LEDGER_PROOF, KX_T0 + 11, &e);
	e.body.proof.lease = lease;
	memset(e.body.proof.proof.b, 0x77, 32);
	CHECK_ERR(kx_send(&f, &e, -1, 1), GH_EEXIST);
	e.body.proof.lease = none;
	memset(e.body.proof.proof.b, 0x78, 32);
	CHECK_ERR(kx_send(&f, &e, -1, 1), GH_ENOENT);
	inv_ok(&f);
	gh_ed_key_free(rk);
	fx_free(&f);
}

/*
 * The hand-computed scenario.  Supply S = 1000.  The owner (0) sells
 * 300 shares to 1 for 3000 and 100 to 2 for 1000.  The renter (3) opens
 * 5000 s at 123457/h: escrow ceil(617285000/3600) = 171469.  The
 * provider draws on receipts 50001 (fee 500, pool 49501) and 120000
 * (draw 69999, fee 699, pool 69300), then closes on 130007 (draw 10007,
 * fee 100, pool 9907; refund 171469 - 130007 = 41462).  R = 128708.
 * Claims at R: owner 600 * 128708 / 1000 = 77224 (carry 800), holder 1
 * 38612 (carry 400), holder 2 12870 (carry 800); 2 stays in the pool.
 */
TEST(ledger_scenario_lease_settles_and_holders_claim)
{
	fx           f;
	gh_ed_key   *rk = kx_receipt_key(1);
	ledger_id    asset, lot0, lot1, lot2, lease;
	ledger_asset as;
	uint64_t     T = KX_T0 + 100;

	CHECK_OK(kx_open_fx(&f, th_path(0, "s")));
	CHECK_OK(kx_register(&f, 0, 1000, &asset, &lot0));
	CHECK_OK(fx_mint(&f, &f.pub[1], 10000));
	CHECK_OK(fx_mint(&f, &f.pub[2], 10000));
	CHECK_OK(fx_mint(&f, &f.pub[3], 1000000));
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_SHARE_TRANSFER, &lot0, 1, 300, 0, T, &lot1, 0));
	CHECK_OK(fx_transfer(&f, 1, &f.pub[0], 3000));
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_SHARE_TRANSFER, &lot0, 2, 100, 0, T, &lot2, 0));
	CHECK_OK(fx_transfer(&f, 2, &f.pub[0], 1000));
	CHECK_OK(kx_open(
	    &f, 3, &asset, 123457, KX_T0, KX_T0 + 5000, rk, T, &lease));
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 1000000 - 171469);
	inv_ok(&f);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 50001, rk, T));
	inv_ok(&f);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 3, 120000, rk, T));
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 4, 130007, rk, T));
	inv_ok(&f);
	CHECK_OK(ledger_store_asset(f.s, &asset, &as));
	CHECK_EQ(as.paid_in, 128708);
	CHECK_OK(kx_claim(&f, 0, &lot0, 128708, T));
	CHECK_OK(kx_claim(&f, 1, &lot1, 128708, T));
	CHECK_OK(kx_claim(&f, 2, &lot2, 128708, T));
	inv_ok(&f);
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 869993);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 1299);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 81224);
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 45612);
	CHECK_EQ(fx_balance(&f, &f.pub[2]), 21870);
	CHECK_OK(ledger_store_asset(f.s, &asset, &as));
	CHECK_EQ(as.paid_in - as.paid_out, 2);
	{
		uint64_t pos;
		char     why[256];
		CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	}
	gh_ed_key_free(rk);
	fx_free(&f);
}

/* The provider vanishes after one draw: escrow 100000 (1 h at 100000),
 * receipt 30000 drawn (fee 300, pool 29700); the renter expires at
 * expiry + grace + margin and gets 70000 back. */
TEST(ledger_scenario_provider_vanishes)
{
	fx         f;
	gh_ed_key *rk = kx_receipt_key(1);
	ledger_id  asset, lot, lease;
	uint64_t   E = KX_T0 + 3600;

	lease_setup(&f, "pv", 1000, 100000, 3600, rk, &asset, &lot, &lease);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 30000, rk, KX_T0));
	CHECK_ERR(kx_expire(&f, 3, &lease, E + 600 + 29, 0), GH_EWINDOW);
	CHECK_OK(kx_expire(&f, 3, &lease, E + 600 + 30, 0));
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 970000);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 300);
	/* Too late for the provider now. */
	CHECK_ERR(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 2, 40000, rk, E),
	    GH_ECLOSED);
	CHECK_OK(kx_claim(&f, 0, &lot, 29700, E));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 29700);
	inv_ok(&f);
	gh_ed_key_free(rk);
	fx_free(&f);
}

/* The renter vanishes: the provider holds receipt seq 5 for 80000 and
 * closes on it at the last second of its window: fee 800, pool 79200,
 * refund 20000. */
TEST(ledger_scenario_renter_vanishes)
{
	fx         f;
	gh_ed_key *rk = kx_receipt_key(1);
	ledger_id  asset, lot, lease;
	uint64_t   E = KX_T0 + 3600;

	lease_setup(&f, "rv", 1000, 100000, 3600, rk, &asset, &lot, &lease);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 2, 10000, rk, KX_T0));
	CHECK_ERR(
	    kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 5, 80000, rk, E + 601),
	    GH_EWINDOW);
	CHECK_OK(
	    kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 5, 80000, rk, E + 600));
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 0, 0, NULL, E + 600));
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 920000);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 800);
	CHECK_OK(kx_claim(&f, 0, &lot, 79200, E + 600));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 79200);
	inv_ok(&f);
	gh_ed_key_free(rk);
	fx_free(&f);
}
