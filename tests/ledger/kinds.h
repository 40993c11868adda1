/* kinds.h - helpers for the lease, proof and loan tests: entries built
 * from the fixture's keys with the chain position read from the store,
 * explicit entry times, receipts signed with market_receipt_sign. */
#ifndef GH_TESTS_LEDGER_KINDS_H
#define GH_TESTS_LEDGER_KINDS_H

#include "market/market.h"
#include "tests/ledger/fixture.h"

#define KX_T0 1700000000ull

/* A node entry by the fixture's node key. */
__attribute__((unused)) static void
kx_node_entry(fx *f, int kind, uint64_t time, ledger_entry *e)
{
	gh_ed_pub      pub;
	ledger_account a;

	memset(e, 0, sizeof(*e));
	gh_ed_key_pub(f->node, &pub);
	e->kind   = (uint8_t) kind;
	e->scheme = LEDGER_SCHEME_NODE;
	e->netid  = f->netid;
	memcpy(e->author, pub.b, 32);
	e->time = time;
	if (ledger_store_account(f->s, pub.b, 1, &a) == GH_OK) {
		e->seq  = a.seq + 1;
		e->prev = a.head;
	} else {
		e->seq = 1;
	}
}

/* Signs (account index who, -1 for the node) and, with check set, only
 * checks it against the store (ledger_store_check); else submits. */
__attribute__((unused)) static int
kx_send(fx *f, ledger_entry *e, int who, int check)
{
	uint8_t *p = NULL;
	size_t   n;
	int      rv;

	if (who < 0) {
		rv = ledger_entry_sign_node(e, f->node);
	} else {
		rv = ledger_entry_sign_account(e, f->acct[who]);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	if (!check) {
		return (fx_submit(f, e, NULL));
	}
	if ((rv = ledger_entry_encode(e, &p, &n)) != GH_OK) {
		return (rv);
	}
	rv = ledger_store_check(f->s, p, n, 0);
	free(p);
	return (rv);
}

__attribute__((unused)) static void
kx_id_of(const ledger_entry *e, ledger_id *id)
{
	gh_hash h;
	ledger_entry_hash(e, &h);
	memcpy(id->b, h.b, 32);
}

__attribute__((unused)) static int
kx_register(
    fx *f, int owner, uint64_t supply, ledger_id *asset, ledger_id *lot)
{
	ledger_entry e;
	gh_hash      h;
	int          rv;

	fx_entry(f, f->s, f->acct[owner], LEDGER_ASSET_REGISTER, &e);
	fx_asset_body(f, &e, supply);
	if ((rv = kx_send(f, &e, owner, 0)) != GH_OK) {
		return (rv);
	}
	ledger_entry_hash(&e, &h);
	memcpy(asset->b, h.b, 32);
	ledger_lot_id(&h, 0, lot);
	return (GH_OK);
}

/* SHARE_TRANSFER (share) or REVENUE_CLAIM of a lot by account who at
 * time; a pledged lot's loan is consumed too.  *newlot (may be NULL)
 * gets the buyer's lot. */
__attribute__((unused)) static int
kx_lot_entry(fx *f, int who, int kind, const ledger_id *lotid, int to,
    uint64_t amount, uint64_t rp, uint64_t time, ledger_id *newlot, int check)
{
	ledger_entry e;
	ledger_lot   l;
	int          rv;

	if ((rv = ledger_store_lot(f->s, lotid, &l)) != GH_OK) {
		return (rv);
	}
	fx_entry(f, f->s, f->acct[who], kind, &e);
	e.time                = time;
	e.nconsumes           = 1;
	e.consumes[0].type    = LEDGER_OBJ_LOT;
	e.consumes[0].id      = *lotid;
	e.consumes[0].version = l.version;
	if (l.pledged) {
		ledger_loan ln;
		if ((rv = ledger_store_loan(f->s, &l.loan, &ln)) != GH_OK) {
			return (rv);
		}
		e.nconsumes           = 2;
		e.consumes[1].type    = LEDGER_OBJ_LOAN;
		e.consumes[1].id      = l.loan;
		e.consumes[1].version = ln.version;
	}
	if (kind == LEDGER_SHARE_TRANSFER) {
		e.body.share.lot        = *lotid;
		e.body.share.to         = f->pub[to];
		e.body.share.amount     = amount;
		e.body.share.pool_total = rp;
	} else {
		e.body.claim.lot        = *lotid;
		e.body.claim.pool_total = rp;
	}
	if ((rv = kx_send(f, &e, who, check)) != GH_OK) {
		return (rv);
	}
	if (newlot != NULL) {
		gh_hash h;
		ledger_entry_hash(&e, &h);
		ledger_lot_id(&h, 1, newlot);
	}
	return (GH_OK);
}

__attribute__((unused)) static int
kx_claim(fx *f, int who, const ledger_id *lot, uint64_t rp, uint64_t time)
{
	return (kx_lot_entry(
	    f, who, LEDGER_REVENUE_CLAIM, lot, 0, 0, rp, time, NULL, 0));
}

/* LEASE_OPEN by renter with receipt key rk. */
__attribute__((unused)) static int
kx_open(fx *f, int renter, const ledger_id *asset, uint64_t price,
    uint64_t start, uint64_t expiry, const gh_ed_key *rk, uint64_t time,
    ledger_id *lease)
{
	ledger_entry e;
	int          rv;

	fx_entry(f, f->s, f->acct[renter], LEDGER_LEASE_OPEN, &e);
	e.time                  = time;
	e.body.lease_open.asset = *asset;
	gh_ed_key_pub(f->node, &e.body.lease_open.node);
	gh_ed_key_pub(rk, &e.body.lease_open.receipt_key);
	memset(e.body.lease_open.offer.b, 0xAB, 32);
	e.body.lease_open.offer_seq = 3;
	e.body.lease_open.price     = price;
	e.body.lease_open.billing   = 1;
	e.body.lease_open.start     = start;
	e.body.lease_open.expiry    = expiry;
	if ((rv = kx_send(f, &e, renter, 0)) != GH_OK) {
		return (rv);
	}
	kx_id_of(&e, lease);
	return (GH_OK);
}

/*
 * LEASE_DRAW or LEASE_CLOSE by the node on a receipt (seq, amount)
 * signed with rk through market_receipt_sign (rk NULL: a CLOSE with no
 * receipt).  version: the lease version to consume (UINT64_MAX: the
 * store's).
 */
__attribute__((unused)) static int
kx_draw_v(fx *f, int kind, const ledger_id *lease, uint64_t seq,
    uint64_t amount, const gh_ed_key *rk, uint64_t time, int check)
{
	ledger_entry e;
	ledger_lease ls;
	int          rv;

	if ((rv = ledger_store_lease(f->s, lease, &ls)) != GH_OK) {
		return (rv);
	}
	kx_node_entry(f, kind, time, &e);
	e.nconsumes                      = 1;
	e.consumes[0].type               = LEDGER_OBJ_LEASE;
	e.consumes[0].id                 = *lease;
	e.consumes[0].version            = ls.version;
	e.body.lease_draw.lease          = *lease;
	e.body.lease_draw.receipt_seq    = seq;
	e.body.lease_draw.receipt_amount = amount;
	if (rk != NULL) {
		market_receipt r;
		memset(&r, 0, sizeof(r));
		memcpy(r.lease.b, lease->b, 32);
		r.seq    = seq;
		r.amount = amount;
		if ((rv = market_receipt_sign(&r, rk)) != GH_OK) {
			return (rv);
		}
		e.body.lease_draw.receipt_sig = r.sig;
	}
	return (kx_send(f, &e, -1, check));
}

__attribute__((unused)) static int
kx_draw(fx *f, int kind, const ledger_id *lease, uint64_t seq, uint64_t amount,
    const gh_ed_key *rk, uint64_t time)
{
	return (kx_draw_v(f, kind, lease, seq, amount, rk, time, 0));
}

__attribute__((unused)) static int
kx_expire(fx *f, int renter, const ledger_id *lease, uint64_t time, int check)
{
	ledger_entry e;
	ledger_lease ls;
	int          rv;

	if ((rv = ledger_store_lease(f->s, lease, &ls)) != GH_OK) {
		return (rv);
	}
	fx_entry(f, f->s, f->acct[renter], LEDGER_LEASE_EXPIRE, &e);
	e.time                = time;
	e.nconsumes           = 1;
	e.consumes[0].type    = LEDGER_OBJ_LEASE;
	e.consumes[0].id      = *lease;
	e.consumes[0].version = ls.version;
	e.body.ref.id         = *lease;
	return (kx_send(f, &e, renter, check));
}

__attribute__((unused)) static int
kx_offer(fx *f, int lender, int borrower, const ledger_id *lot,
    uint64_t amount, uint64_t due, uint64_t expiry, uint64_t maturity,
    uint64_t time, ledger_id *loan)
{
	ledger_entry e;
	int          rv;

	fx_entry(f, f->s, f->acct[lender], LEDGER_LOAN_OFFER, &e);
	e.time                     = time;
	e.body.loan_offer.borrower = f->pub[borrower];
	e.body.loan_offer.lot      = *lot;
	e.body.loan_offer.amount   = amount;
	e.body.loan_offer.due      = due;
	e.body.loan_offer.expiry   = expiry;
	e.body.loan_offer.maturity = maturity;
	if ((rv = kx_send(f, &e, lender, 0)) != GH_OK) {
		return (rv);
	}
	kx_id_of(&e, loan);
	return (GH_OK);
}

/* LOAN_TAKE, LOAN_REPAY (amount), LOAN_SEIZE or LOAN_CANCEL by who; the
 * lot consumed is lot (NULL: the loan's, and none for CANCEL). */
__attribute__((unused)) static int
kx_loan(fx *f, int who, int kind, const ledger_id *loan, const ledger_id *lot,
    uint64_t amount, uint64_t time, int check)
{
	ledger_entry e;
	ledger_loan  ln;
	ledger_lot   l;
	int          rv;

	if ((rv = ledger_store_loan(f->s, loan, &ln)) != GH_OK) {
		return (rv);
	}
	fx_entry(f, f->s, f->acct[who], kind, &e);
	e.time = time;
	if (kind == LEDGER_LOAN_CANCEL && lot == NULL) {
		e.nconsumes           = 1;
		e.consumes[0].type    = LEDGER_OBJ_LOAN;
		e.consumes[0].id      = *loan;
		e.consumes[0].version = ln.version;
	} else {
		if (lot == NULL) {
			lot = &ln.lot;
		}
		if ((rv = ledger_store_lot(f->s, lot, &l)) != GH_OK) {
			return (rv);
		}
		e.nconsumes           = 2;
		e.consumes[0].type    = LEDGER_OBJ_LOT;
		e.consumes[0].id      = *lot;
		e.consumes[0].version = l.version;
		e.consumes[1].type    = LEDGER_OBJ_LOAN;
		e.consumes[1].id      = *loan;
		e.consumes[1].version = ln.version;
	}
	if (kind == LEDGER_LOAN_REPAY) {
		e.body.loan_repay.loan   = *loan;
		e.body.loan_repay.amount = amount;
	} else {
		e.body.ref.id = *loan;
	}
	return (kx_send(f, &e, who, check));
}

/* A 4-validator devnet with the fixture's keys in dir. */
__attribute__((unused)) static int
kx_open_fx(fx *f, const char *dir)
{
	int rv;
	if ((rv = fx_genesis(f, 4)) != GH_OK) {
		return (rv);
	}
	return (fx_open(f, dir));
}

__attribute__((unused)) static gh_ed_key *
kx_receipt_key(int i)
{
	uint8_t    seed[32];
	gh_ed_key *k = NULL;
	memset(seed, 0, 32);
	seed[0] = 'r';
	seed[1] = (uint8_t) i;
	if (gh_ed_key_from_seed(seed, &k) != GH_OK) {
		return (NULL);
	}
	return (k);
}

#endif
