/* loans_test.c - pledges: every rejection and window boundary of
 * LOAN_TAKE/CANCEL/REPAY/SEIZE and of claims on a pledged lot, and
 * hand-computed scenarios (repaid by the GPU's revenue; seized). */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/kinds.h"

#define TREAS  7
#define LENDER 4
#define MARGIN 30

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

TEST(ledger_loan_rejections_and_windows)
{
	fx          f;
	ledger_id   asset, lot0, lot1, l1, l2, l3;
	ledger_loan ln;
	ledger_lot  lot;
	uint64_t    X = KX_T0 + 100, Mt = KX_T0 + 1000;

	CHECK_OK(kx_open_fx(&f, th_path(0, "lr")));
	CHECK_OK(kx_register(&f, 0, 1000, &asset, &lot0));
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_SHARE_TRANSFER, &lot0, 1, 400, 0, KX_T0, &lot1, 0));
	CHECK_OK(fx_mint(&f, &f.pub[LENDER], 100000));
	CHECK_OK(
	    kx_offer(&f, LENDER, 0, &lot0, 10000, 11000, X, Mt, KX_T0, &l1));
	CHECK_EQ(fx_balance(&f, &f.pub[LENDER]), 90000);
	inv_ok(&f); /* loan funds locked count */
	/* Taken by someone the offer does not name. */
	CHECK_ERR(
	    kx_loan(&f, 1, LEDGER_LOAN_TAKE, &l1, NULL, 0, X, 1), GH_EPERM);
	/* Consuming another lot than the offer's. */
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l1, &lot1, 0, X, 1), GH_EINVAL);
	/* An offer whose lot is not the borrower's. */
	CHECK_OK(
	    kx_offer(&f, LENDER, 0, &lot1, 10000, 11000, X, Mt, KX_T0, &l2));
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l2, NULL, 0, X, 1), GH_EPERM);
	/* Offer windows: take until expiry, cancel from expiry + margin. */
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l1, NULL, 0, X, 1));
	CHECK_ERR(kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l1, NULL, 0, X + 1, 1),
	    GH_EWINDOW);
	CHECK_OK(kx_loan(
	    &f, LENDER, LEDGER_LOAN_CANCEL, &l1, NULL, 0, X + MARGIN, 1));
	CHECK_ERR(kx_loan(&f, LENDER, LEDGER_LOAN_CANCEL, &l1, NULL, 0,
	              X + MARGIN - 1, 1),
	    GH_EWINDOW);
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_CANCEL, &l1, NULL, 0, X + MARGIN, 1),
	    GH_EPERM);
	/* An untaken offer cancels: funds back. */
	CHECK_OK(kx_loan(
	    &f, LENDER, LEDGER_LOAN_CANCEL, &l2, NULL, 0, X + MARGIN, 0));
	CHECK_EQ(fx_balance(&f, &f.pub[LENDER]), 90000);
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l1, NULL, 0, X, 0));
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 10000);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &lot));
	CHECK(lot.pledged);
	CHECK_MEM(lot.loan.b, l1.b, 32);
	inv_ok(&f);
	/* Cancelling a taken offer. */
	CHECK_ERR(kx_loan(&f, LENDER, LEDGER_LOAN_CANCEL, &l1, NULL, 0,
	              X + MARGIN, 1),
	    GH_EPERM);
	/* A pledged lot cannot move, nor be pledged twice. */
	CHECK_ERR(kx_lot_entry(&f, 0, LEDGER_SHARE_TRANSFER, &lot0, 2, 1, 0, X,
	              NULL, 1),
	    GH_EBUSY);
	CHECK_OK(kx_offer(&f, LENDER, 0, &lot0, 100, 100, X, Mt, X, &l3));
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_TAKE, &l3, NULL, 0, X, 1), GH_EBUSY);
	/* Repaying more than owed, or nothing. */
	CHECK_ERR(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 11001, X, 1),
	    GH_EINVAL);
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 0, X, 1), GH_EINVAL);
	/* Repay until maturity; seize from maturity + margin. */
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 100, Mt, 1));
	CHECK_ERR(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 100, Mt + 1, 1),
	    GH_EWINDOW);
	CHECK_ERR(kx_loan(&f, LENDER, LEDGER_LOAN_SEIZE, &l1, NULL, 0, X, 1),
	    GH_EWINDOW);
	CHECK_ERR(kx_loan(&f, LENDER, LEDGER_LOAN_SEIZE, &l1, NULL, 0,
	              Mt + MARGIN - 1, 1),
	    GH_EWINDOW);
	CHECK_OK(kx_loan(
	    &f, LENDER, LEDGER_LOAN_SEIZE, &l1, NULL, 0, Mt + MARGIN, 1));
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_SEIZE, &l1, NULL, 0, Mt + MARGIN, 1),
	    GH_EPERM);
	/* Claims on a pledged lot: the borrower until maturity, the lender
	 * from maturity + margin, nobody else. */
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_REVENUE_CLAIM, &lot0, 0, 0, 0, Mt, NULL, 1));
	CHECK_ERR(kx_lot_entry(&f, 0, LEDGER_REVENUE_CLAIM, &lot0, 0, 0, 0,
	              Mt + 1, NULL, 1),
	    GH_EWINDOW);
	CHECK_ERR(kx_lot_entry(&f, LENDER, LEDGER_REVENUE_CLAIM, &lot0, 0, 0,
	              0, Mt + MARGIN - 1, NULL, 1),
	    GH_EWINDOW);
	CHECK_OK(kx_lot_entry(&f, LENDER, LEDGER_REVENUE_CLAIM, &lot0, 0, 0, 0,
	    Mt + MARGIN, NULL, 1));
	CHECK_ERR(kx_lot_entry(&f, 1, LEDGER_REVENUE_CLAIM, &lot0, 0, 0, 0, Mt,
	              NULL, 1),
	    GH_EPERM);
	/* A claim on a pledged lot must consume its loan. */
	{
		ledger_entry e;
		CHECK_OK(ledger_store_lot(f.s, &lot0, &lot));
		fx_entry(&f, f.s, f.acct[0], LEDGER_REVENUE_CLAIM, &e);
		e.time                  = X;
		e.nconsumes             = 1;
		e.consumes[0].type      = LEDGER_OBJ_LOT;
		e.consumes[0].id        = lot0;
		e.consumes[0].version   = lot.version;
		e.body.claim.lot        = lot0;
		e.body.claim.pool_total = 0;
		CHECK_ERR(kx_send(&f, &e, 0, 1), GH_EINVAL);
	}
	/* Repaid in two parts: the lot is released by the last. */
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 1000, X, 0));
	CHECK_ERR(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 10001, X, 0),
	    GH_EINVAL);
	CHECK_OK(fx_mint(&f, &f.pub[0], 5000));
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 10000, X, 0));
	CHECK_OK(ledger_store_loan(f.s, &l1, &ln));
	CHECK_EQ(ln.state, LEDGER_LOAN_REPAID);
	CHECK_EQ(ln.owed, 0);
	CHECK_EQ(ln.by_repay, 11000);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &lot));
	CHECK(!lot.pledged);
	CHECK_ERR(
	    kx_loan(&f, 0, LEDGER_LOAN_REPAY, &l1, NULL, 1, X, 0), GH_ECLOSED);
	CHECK_EQ(fx_balance(&f, &f.pub[LENDER]), 90000 - 100 + 11000);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 10000 + 5000 - 11000);
	/* Released: the lot moves again. */
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_SHARE_TRANSFER, &lot0, 2, 1, 0, X, NULL, 0));
	inv_ok(&f);
	fx_free(&f);
}

/*
 * The GPU repays the loan.  S = 1000; the owner (0) keeps lot0 with 500
 * shares and gives 500 to holder 1.  The lender (4, 100000) lends 20000
 * against lot0 for 21000 due.  A renter (3) leases 10 h at 10000/h
 * (escrow 100000).  Draw on 30000: fee 300, pool 29700; the owner's
 * claim of lot0 at 29700 pays 500 * 29700 / 1000 = 14850, all to the
 * lender (owed 6150).  Close on 50000: draw 20000, fee 200, pool 19800
 * (R = 49500), refund 50000.  The owner's claim at 49500 pays 9900:
 * 6150 to the lender, which releases the lot, and 3750 to the owner.
 * Holder 1 claims 24750.  Lender 80000 + 14850 + 6150 = 101000; owner
 * 20000 + 3750 = 23750; renter 950000; treasury 500.
 */
TEST(ledger_scenario_loan_repaid_by_revenue)
{
	fx          f;
	gh_ed_key  *rk = kx_receipt_key(1);
	ledger_id   asset, lot0, lot1, loan, lease;
	ledger_loan ln;
	ledger_lot  lot;
	uint64_t    T = KX_T0 + 50;

	CHECK_OK(kx_open_fx(&f, th_path(0, "lp")));
	CHECK_OK(kx_register(&f, 0, 1000, &asset, &lot0));
	CHECK_OK(kx_lot_entry(
	    &f, 0, LEDGER_SHARE_TRANSFER, &lot0, 1, 500, 0, KX_T0, &lot1, 0));
	CHECK_OK(fx_mint(&f, &f.pub[LENDER], 100000));
	CHECK_OK(fx_mint(&f, &f.pub[3], 1000000));
	CHECK_OK(kx_offer(&f, LENDER, 0, &lot0, 20000, 21000, KX_T0 + 100,
	    KX_T0 + 100000, KX_T0, &loan));
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_TAKE, &loan, NULL, 0, T, 0));
	CHECK_OK(kx_open(
	    &f, 3, &asset, 10000, KX_T0, KX_T0 + 36000, rk, T, &lease));
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_DRAW, &lease, 1, 30000, rk, T));
	CHECK_OK(kx_claim(&f, 0, &lot0, 29700, T));
	CHECK_OK(ledger_store_loan(f.s, &loan, &ln));
	CHECK_EQ(ln.owed, 6150);
	CHECK_EQ(ln.by_claims, 14850);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 20000);
	inv_ok(&f);
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 2, 50000, rk, T));
	CHECK_OK(kx_claim(&f, 0, &lot0, 49500, T));
	CHECK_OK(kx_claim(&f, 1, &lot1, 49500, T));
	CHECK_OK(ledger_store_loan(f.s, &loan, &ln));
	CHECK_EQ(ln.state, LEDGER_LOAN_REPAID);
	CHECK_EQ(ln.owed, 0);
	CHECK_EQ(ln.by_claims, 21000);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &lot));
	CHECK(!lot.pledged);
	CHECK_EQ(fx_balance(&f, &f.pub[LENDER]), 101000);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 23750);
	CHECK_EQ(fx_balance(&f, &f.pub[1]), 24750);
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 950000);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 500);
	inv_ok(&f);
	{
		uint64_t pos;
		char     why[256];
		CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	}
	gh_ed_key_free(rk);
	fx_free(&f);
}

/*
 * The borrower stops paying.  Lender (4, 100000) lends 20000 for 25000
 * due at maturity T0 + 10000 against the owner's whole lot (S = 1000).
 * The owner repays 5000, then nothing.  A lease pays 10000 (fee 100,
 * pool 9900).  The lender seizes at maturity + margin, then claims the
 * lot as its holder: 9900.  Lender 100000 - 20000 + 5000 + 9900 =
 * 94900; owner 20000 - 5000 = 15000; 20000 stays owed.
 */
TEST(ledger_scenario_loan_seized)
{
	fx          f;
	gh_ed_key  *rk = kx_receipt_key(1);
	ledger_id   asset, lot0, loan, lease;
	ledger_loan ln;
	ledger_lot  lot;
	uint64_t    Mt = KX_T0 + 10000;

	CHECK_OK(kx_open_fx(&f, th_path(0, "ls")));
	CHECK_OK(kx_register(&f, 0, 1000, &asset, &lot0));
	CHECK_OK(fx_mint(&f, &f.pub[LENDER], 100000));
	CHECK_OK(fx_mint(&f, &f.pub[3], 1000000));
	CHECK_OK(kx_offer(&f, LENDER, 0, &lot0, 20000, 25000, KX_T0 + 100, Mt,
	    KX_T0, &loan));
	CHECK_OK(kx_loan(&f, 0, LEDGER_LOAN_TAKE, &loan, NULL, 0, KX_T0, 0));
	CHECK_OK(kx_loan(
	    &f, 0, LEDGER_LOAN_REPAY, &loan, NULL, 5000, KX_T0 + 500, 0));
	CHECK_OK(kx_open(
	    &f, 3, &asset, 10000, KX_T0, KX_T0 + 3600, rk, KX_T0, &lease));
	CHECK_OK(kx_draw(&f, LEDGER_LEASE_CLOSE, &lease, 1, 10000, rk, KX_T0));
	CHECK_ERR(kx_loan(&f, LENDER, LEDGER_LOAN_SEIZE, &loan, NULL, 0,
	              Mt + MARGIN - 1, 0),
	    GH_EWINDOW);
	CHECK_OK(kx_loan(
	    &f, LENDER, LEDGER_LOAN_SEIZE, &loan, NULL, 0, Mt + MARGIN, 0));
	CHECK_OK(ledger_store_loan(f.s, &loan, &ln));
	CHECK_EQ(ln.state, LEDGER_LOAN_SEIZED);
	CHECK_EQ(ln.owed, 20000);
	CHECK_OK(ledger_store_lot(f.s, &lot0, &lot));
	CHECK(!lot.pledged);
	CHECK_MEM(lot.holder.b, f.pub[LENDER].b, 32);
	/* The former owner can no longer claim it. */
	CHECK_ERR(kx_lot_entry(&f, 0, LEDGER_REVENUE_CLAIM, &lot0, 0, 0, 9900,
	              Mt + MARGIN, NULL, 1),
	    GH_EPERM);
	CHECK_OK(kx_claim(&f, LENDER, &lot0, 9900, Mt + MARGIN));
	CHECK_EQ(fx_balance(&f, &f.pub[LENDER]), 94900);
	CHECK_EQ(fx_balance(&f, &f.pub[0]), 15000);
	CHECK_EQ(fx_balance(&f, &f.pub[TREAS]), 100);
	CHECK_EQ(fx_balance(&f, &f.pub[3]), 1000000 - 10000);
	inv_ok(&f);
	gh_ed_key_free(rk);
	fx_free(&f);
}
