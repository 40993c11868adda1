/* state.c - the state machine: objects, the rules of each entry kind,
 * the invariants and the state hash, all inside an LMDB transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/priv.h"

int
ledger_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (GH_OK);
	case MDB_NOTFOUND:
		return (GH_ENOENT);
	case MDB_KEYEXIST:
		return (GH_EEXIST);
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
	case MDB_READERS_FULL:
		return (GH_EFULL);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_DBI:
	case MDB_INCOMPATIBLE:
		return (GH_ECORRUPT);
	case ENOMEM:
		return (GH_ENOMEM);
	default:
		return (rc > 0 ? gh_err_from_errno(rc) : GH_EIO);
	}
}

/* ------------------------------------------------------------------ */
/* Object encodings. */

static int
ledger_obj_read(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], gh_reader *r)
{
	uint8_t k[LEDGER_OBJKEY_LEN];
	MDB_val key, val;
	int     rc;

	ledger_objkey(type, id, k);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	if ((rc = mdb_get(txn, db->objects, &key, &val)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	gh_reader_init(r, val.mv_data, val.mv_size);
	return (GH_OK);
}

static int
ledger_obj_write(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], gh_writer *w)
{
	uint8_t k[LEDGER_OBJKEY_LEN];
	MDB_val key, val;
	int     rv;

	if ((rv = gh_writer_err(w)) != GH_OK) {
		gh_writer_free(w);
		return (rv);
	}
	ledger_objkey(type, id, k);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	val.mv_size = w->len;
	val.mv_data = w->p;
	rv          = ledger_mdb_err(mdb_put(txn, db->objects, &key, &val, 0));
	gh_writer_free(w);
	return (rv);
}

int
ledger_account_get(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], ledger_account *a)
{
	gh_reader r;
	int       rv;

	memset(a, 0, sizeof(*a));
	if ((rv = ledger_obj_read(txn, db, type, id, &r)) != GH_OK) {
		return (rv);
	}
	if (gh_get_u64(&r, &a->seq) != GH_OK
	    || gh_get_fixed(&r, a->head.b, 32) != GH_OK
	    || gh_get_u64(&r, &a->balance) != GH_OK
	    || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

static int
ledger_account_put(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], const ledger_account *a)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_u64(&w, a->seq);
	gh_put_fixed(&w, a->head.b, 32);
	gh_put_u64(&w, a->balance);
	return (ledger_obj_write(txn, db, type, id, &w));
}

static int
ledger_asset_decode(gh_reader *r, ledger_asset *a)
{
	if (gh_get_fixed(r, a->owner.b, 32) != GH_OK
	    || gh_get_fixed(r, a->node.b, 32) != GH_OK
	    || gh_get_u64(r, &a->supply) != GH_OK
	    || gh_get_u64(r, &a->paid_in) != GH_OK
	    || gh_get_u64(r, &a->paid_out) != GH_OK
	    || gh_get_cstr(r, LEDGER_HW_MAX, a->hw, sizeof(a->hw)) != GH_OK
	    || gh_reader_end(r) != GH_OK || a->supply == 0
	    || a->paid_out > a->paid_in) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_asset_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_asset *a)
{
	gh_reader r;
	int       rv;

	memset(a, 0, sizeof(*a));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_ASSET, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_asset_decode(&r, a));
}

static int
ledger_asset_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_asset *a)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, a->owner.b, 32);
	gh_put_fixed(&w, a->node.b, 32);
	gh_put_u64(&w, a->supply);
	gh_put_u64(&w, a->paid_in);
	gh_put_u64(&w, a->paid_out);
	gh_put_cstr(&w, LEDGER_HW_MAX, a->hw);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_ASSET, id->b, &w));
}

int
ledger_lot_decode(const uint8_t *p, size_t n, ledger_lot *l)
{
	gh_reader r;

	memset(l, 0, sizeof(*l));
	gh_reader_init(&r, p, n);
	if (gh_get_fixed(&r, l->asset.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->holder.b, 32) != GH_OK
	    || gh_get_u64(&r, &l->amount) != GH_OK
	    || gh_get_u64(&r, &l->cursor) != GH_OK
	    || gh_get_u64(&r, &l->carry) != GH_OK
	    || gh_get_u64(&r, &l->version) != GH_OK
	    || gh_get_u8(&r, &l->pledged) != GH_OK || l->pledged > 1
	    || (l->pledged && gh_get_fixed(&r, l->loan.b, 32) != GH_OK)
	    || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_lot_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_lot *l)
{
	gh_reader r;
	int       rv;

	memset(l, 0, sizeof(*l));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_LOT, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_lot_decode(r.p, r.len, l));
}

static int
ledger_lot_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_lot *l)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, l->asset.b, 32);
	gh_put_fixed(&w, l->holder.b, 32);
	gh_put_u64(&w, l->amount);
	gh_put_u64(&w, l->cursor);
	gh_put_u64(&w, l->carry);
	gh_put_u64(&w, l->version);
	gh_put_u8(&w, l->pledged ? 1 : 0);
	if (l->pledged) {
		gh_put_fixed(&w, l->loan.b, 32);
	}
	return (ledger_obj_write(txn, db, LEDGER_OBJ_LOT, id->b, &w));
}

int
ledger_lease_decode(const uint8_t *p, size_t n, ledger_lease *l)
{
	gh_reader r;

	memset(l, 0, sizeof(*l));
	gh_reader_init(&r, p, n);
	if (gh_get_fixed(&r, l->renter.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->asset.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->node.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->receipt_key.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->offer.b, 32) != GH_OK
	    || gh_get_u64(&r, &l->offer_seq) != GH_OK
	    || gh_get_u64(&r, &l->price) != GH_OK
	    || gh_get_u8(&r, &l->billing) != GH_OK
	    || gh_get_u8(&r, &l->state) != GH_OK
	    || gh_get_u64(&r, &l->start) != GH_OK
	    || gh_get_u64(&r, &l->expiry) != GH_OK
	    || gh_get_u64(&r, &l->escrow) != GH_OK
	    || gh_get_u64(&r, &l->drawn) != GH_OK
	    || gh_get_u64(&r, &l->last_seq) != GH_OK
	    || gh_get_u64(&r, &l->fees) != GH_OK
	    || gh_get_u64(&r, &l->refunded) != GH_OK
	    || gh_get_u64(&r, &l->version) != GH_OK
	    || gh_reader_end(&r) != GH_OK || l->state < LEDGER_LEASE_ACTIVE
	    || l->state > LEDGER_LEASE_EXPIRED || l->drawn > l->escrow
	    || l->fees > l->drawn) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_lease_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_lease *l)
{
	gh_reader r;
	int       rv;

	memset(l, 0, sizeof(*l));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_LEASE, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_lease_decode(r.p, r.len, l));
}

static int
ledger_lease_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_lease *l)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, l->renter.b, 32);
	gh_put_fixed(&w, l->asset.b, 32);
	gh_put_fixed(&w, l->node.b, 32);
	gh_put_fixed(&w, l->receipt_key.b, 32);
	gh_put_fixed(&w, l->offer.b, 32);
	gh_put_u64(&w, l->offer_seq);
	gh_put_u64(&w, l->price);
	gh_put_u8(&w, l->billing);
	gh_put_u8(&w, l->state);
	gh_put_u64(&w, l->start);
	gh_put_u64(&w, l->expiry);
	gh_put_u64(&w, l->escrow);
	gh_put_u64(&w, l->drawn);
	gh_put_u64(&w, l->last_seq);
	gh_put_u64(&w, l->fees);
	gh_put_u64(&w, l->refunded);
	gh_put_u64(&w, l->version);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_LEASE, id->b, &w));
}

int
ledger_loan_decode(const uint8_t *p, size_t n, ledger_loan *l)
{
	gh_reader r;

	memset(l, 0, sizeof(*l));
	gh_reader_init(&r, p, n);
	if (gh_get_fixed(&r, l->lender.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->borrower.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->lot.b, 32) != GH_OK
	    || gh_get_u64(&r, &l->amount) != GH_OK
	    || gh_get_u64(&r, &l->due) != GH_OK
	    || gh_get_u64(&r, &l->maturity) != GH_OK
	    || gh_get_u64(&r, &l->expiry) != GH_OK
	    || gh_get_u8(&r, &l->state) != GH_OK
	    || gh_get_u64(&r, &l->owed) != GH_OK
	    || gh_get_u64(&r, &l->by_claims) != GH_OK
	    || gh_get_u64(&r, &l->by_repay) != GH_OK
	    || gh_get_u64(&r, &l->taken_at) != GH_OK
	    || gh_get_u64(&r, &l->version) != GH_OK
	    || gh_reader_end(&r) != GH_OK || l->state < LEDGER_LOAN_OFFERED
	    || l->state > LEDGER_LOAN_CANCELLED || l->owed > l->due) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_loan_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_loan *l)
{
	gh_reader r;
	int       rv;

	memset(l, 0, sizeof(*l));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_LOAN, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_loan_decode(r.p, r.len, l));
}

static int
ledger_loan_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_loan *l)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, l->lender.b, 32);
	gh_put_fixed(&w, l->borrower.b, 32);
	gh_put_fixed(&w, l->lot.b, 32);
	gh_put_u64(&w, l->amount);
	gh_put_u64(&w, l->due);
	gh_put_u64(&w, l->maturity);
	gh_put_u64(&w, l->expiry);
	gh_put_u8(&w, l->state);
	gh_put_u64(&w, l->owed);
	gh_put_u64(&w, l->by_claims);
	gh_put_u64(&w, l->by_repay);
	gh_put_u64(&w, l->taken_at);
	gh_put_u64(&w, l->version);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_LOAN, id->b, &w));
}

int
ledger_proof_get(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    ledger_proof_rec *pr)
{
	gh_reader r;
	int       rv;

	memset(pr, 0, sizeof(*pr));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_PROOF, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	if (gh_get_fixed(&r, pr->lease.b, 32) != GH_OK
	    || gh_get_fixed(&r, pr->node.b, 32) != GH_OK
	    || gh_get_fixed(&r, pr->proof.b, 32) != GH_OK
	    || gh_get_u64(&r, &pr->tokens) != GH_OK
	    || gh_get_u64(&r, &pr->device_ns) != GH_OK
	    || gh_get_u64(&r, &pr->time) != GH_OK
	    || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

static int
ledger_proof_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_proof_rec *pr)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, pr->lease.b, 32);
	gh_put_fixed(&w, pr->node.b, 32);
	gh_put_fixed(&w, pr->proof.b, 32);
	gh_put_u64(&w, pr->tokens);
	gh_put_u64(&w, pr->device_ns);
	gh_put_u64(&w, pr->time);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_PROOF, id->b, &w));
}

static const uint8_t ledger_global_id[32];

static int
ledger_minted_get(MDB_txn *txn, const ledger_dbs *db, uint64_t *minted)
{
	gh_reader r;
	int       rv;

	*minted = 0;
	rv = ledger_obj_read(txn, db, LEDGER_OBJ_GLOBAL, ledger_global_id, &r);
	if (rv == GH_ENOENT) {
		return (GH_OK);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	if (gh_get_u64(&r, minted) != GH_OK || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

static int
ledger_minted_put(MDB_txn *txn, const ledger_dbs *db, uint64_t minted)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_u64(&w, minted);
	return (ledger_obj_write(
	    txn, db, LEDGER_OBJ_GLOBAL, ledger_global_id, &w));
}

/* ------------------------------------------------------------------ */
/* Rules. */

int
ledger_rules_waits(int err)
{
	/* A certified entry that fails only for these reasons was valid at
	 * 2f+1 validators: what it needs has not arrived here yet. */
	return (err == GH_ESEQ || err == GH_EPREV || err == GH_ENOENT
	    || err == GH_EFUNDS || err == GH_EPENDING);
}

/*
 * Settles a lot's accrual at pool total rp: returns the payout and
 * updates cursor and carry.  a(R'-c)+r < 2^128 always (a, R' < 2^64 and
 * r < S); the payout fits u64 because it never exceeds R' - P.
 */
static int
ledger_lot_settle(ledger_lot *l, uint64_t supply, uint64_t rp, uint64_t *pay)
{
	gh_u128 acc;

	if (rp < l->cursor) {
		return (GH_EINVAL);
	}
	acc = (gh_u128) l->amount * (gh_u128) (rp - l->cursor)
	    + (gh_u128) l->carry;
	if (acc / supply > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*pay      = (uint64_t) (acc / supply);
	l->carry  = (uint64_t) (acc % supply);
	l->cursor = rp;
	return (GH_OK);
}

typedef struct {
	int               write;
	MDB_txn          *txn;
	const ledger_dbs *db;
} ledger_ctx;

/* Saturating a + b: window ends far in the future stay there. */
static uint64_t
ledger_sat_add(uint64_t a, uint64_t b)
{
	return (a > UINT64_MAX - b ? UINT64_MAX : a + b);
}

/* Whether e consumes exactly these objects (n is 1 or 2; t0 < t1). */
static int
ledger_consumes_are(const ledger_entry *e, uint32_t n, uint8_t t0,
    const ledger_id *i0, uint8_t t1, const ledger_id *i1)
{
	if (e->nconsumes != n || e->consumes[0].type != t0
	    || memcmp(e->consumes[0].id.b, i0->b, 32) != 0) {
		return (0);
	}
	return (n == 1
	    || (e->consumes[1].type == t1
	        && memcmp(e->consumes[1].id.b, i1->b, 32) == 0));
}

static int
ledger_credit_account(ledger_ctx *c, const uint8_t id[32], uint64_t amount)
{
	ledger_account a;
	int            rv;

	rv = ledger_account_get(c->txn, c->db, LEDGER_OBJ_ACCOUNT, id, &a);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if ((rv = gh_add_u64(a.balance, amount, &a.balance)) != GH_OK) {
		return (rv);
	}
	return (c->write
	        ? ledger_account_put(c->txn, c->db, LEDGER_OBJ_ACCOUNT, id, &a)
	        : GH_OK);
}

/* Credits an account that may be the author's own (then *me, which is
 * written at the end of the entry, takes the credit). */
static int
ledger_credit(ledger_ctx *c, const ledger_entry *e, ledger_account *me,
    const uint8_t id[32], uint64_t amount)
{
	if (amount == 0) {
		return (GH_OK);
	}
	if (e->scheme == LEDGER_SCHEME_ACCOUNT
	    && memcmp(id, e->author, 32) == 0) {
		return (gh_add_u64(me->balance, amount, &me->balance));
	}
	return (ledger_credit_account(c, id, amount));
}

/*
 * Leases.  The lease object is consumed (its version named) by DRAW,
 * CLOSE and EXPIRE; the provider's node may act until expiry + grace,
 * the renter from expiry + grace + margin, judged by the entry's time
 * (which each validator checks against its own clock within the
 * margin).  Credits to the pool, the treasury and the renter commute.
 */
static int
ledger_rules_lease(ledger_ctx *c, const ledger_genesis *g,
    const ledger_entry *e, const gh_hash *h, ledger_account *me)
{
	ledger_lease ls;
	ledger_asset as;
	ledger_id    id;
	uint64_t     draw = 0, fee = 0, to_pool = 0, refund;
	int          rv;

	switch (e->kind) {
	case LEDGER_LEASE_OPEN: {
		const ledger_body_lease_open *o = &e->body.lease_open;
		if (e->nconsumes != 0 || o->price == 0
		    || o->expiry <= o->start) {
			return (GH_EINVAL);
		}
		if (e->time > o->expiry) {
			return (GH_EWINDOW);
		}
		if ((rv = ledger_asset_get(c->txn, c->db, &o->asset, &as))
		    != GH_OK) {
			return (rv);
		}
		if (memcmp(as.node.b, o->node.b, 32) != 0) {
			return (GH_EPERM);
		}
		memset(&ls, 0, sizeof(ls));
		if ((rv = ledger_escrow_amount(
		         o->expiry - o->start, o->price, &ls.escrow))
		    != GH_OK) {
			return (rv);
		}
		if (me->balance < ls.escrow) {
			return (GH_EFUNDS);
		}
		me->balance -= ls.escrow;
		memcpy(ls.renter.b, e->author, 32);
		ls.asset       = o->asset;
		ls.node        = o->node;
		ls.receipt_key = o->receipt_key;
		ls.offer       = o->offer;
		ls.offer_seq   = o->offer_seq;
		ls.price       = o->price;
		ls.billing     = o->billing;
		ls.state       = LEDGER_LEASE_ACTIVE;
		ls.start       = o->start;
		ls.expiry      = o->expiry;
		memcpy(id.b, h->b, 32);
		return (c->write ? ledger_lease_put(c->txn, c->db, &id, &ls)
		                 : GH_OK);
	}
	case LEDGER_PROOF: {
		const ledger_body_proof *p = &e->body.proof;
		ledger_proof_rec         pr;
		gh_ed_pub                node;
		if (e->nconsumes != 0) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_lease_get(c->txn, c->db, &p->lease, &ls))
		    != GH_OK) {
			return (rv);
		}
		if (memcmp(ls.node.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		memcpy(node.b, e->author, 32);
		ledger_proof_obj_id(&node, &p->proof, &id);
		rv = ledger_proof_get(c->txn, c->db, &id, &pr);
		if (rv == GH_OK) {
			return (GH_EEXIST);
		}
		if (rv != GH_ENOENT) {
			return (rv);
		}
		pr.lease     = p->lease;
		pr.node      = node;
		pr.proof     = p->proof;
		pr.tokens    = p->tokens;
		pr.device_ns = p->device_ns;
		pr.time      = e->time;
		return (c->write ? ledger_proof_put(c->txn, c->db, &id, &pr)
		                 : GH_OK);
	}
	default:
		break;
	}

	/* DRAW, CLOSE, EXPIRE: the lease is consumed. */
	id = e->kind == LEDGER_LEASE_EXPIRE ? e->body.ref.id
	                                    : e->body.lease_draw.lease;
	if (!ledger_consumes_are(e, 1, LEDGER_OBJ_LEASE, &id, 0, NULL)) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_lease_get(c->txn, c->db, &id, &ls)) != GH_OK) {
		return (rv);
	}
	if (ls.state != LEDGER_LEASE_ACTIVE) {
		return (GH_ECLOSED);
	}
	if (e->kind == LEDGER_LEASE_EXPIRE) {
		if (memcmp(ls.renter.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		if (e->time
		    < ledger_sat_add(ledger_sat_add(ls.expiry, g->lease_grace),
		        g->clock_margin)) {
			return (GH_EWINDOW);
		}
		refund = ls.escrow - ls.drawn;
		if ((rv = gh_add_u64(me->balance, refund, &me->balance))
		    != GH_OK) {
			return (rv);
		}
		ls.refunded = refund;
		ls.state    = LEDGER_LEASE_EXPIRED;
		ls.version++;
		return (c->write ? ledger_lease_put(c->txn, c->db, &id, &ls)
		                 : GH_OK);
	}

	/* DRAW or CLOSE by the provider's node. */
	if (memcmp(ls.node.b, e->author, 32) != 0) {
		return (GH_EPERM);
	}
	if (e->time > ledger_sat_add(ls.expiry, g->lease_grace)) {
		return (GH_EWINDOW);
	}
	{
		const ledger_body_lease_draw *d = &e->body.lease_draw;
		static const gh_sig           zsig;
		if (d->receipt_seq == 0) {
			/* No receipt: only a CLOSE, drawing nothing more. */
			if (e->kind != LEDGER_LEASE_CLOSE
			    || d->receipt_amount != 0
			    || memcmp(d->receipt_sig.b, zsig.b, 64) != 0) {
				return (GH_EINVAL);
			}
		} else {
			if (d->receipt_seq <= ls.last_seq) {
				return (
				    GH_ECONFLICT); /* not a newer receipt */
			}
			if (ledger_receipt_verify(&id, d->receipt_seq,
			        d->receipt_amount, &ls.receipt_key,
			        &d->receipt_sig)
			    != GH_OK) {
				return (GH_EBADSIG);
			}
			rv = ledger_draw_split(ls.escrow, ls.drawn,
			    d->receipt_amount, g->fee_bps, &draw, &fee,
			    &to_pool);
			if (rv == GH_EFUNDS) {
				return (GH_ELIMIT); /* above the escrow */
			}
			if (rv != GH_OK) {
				return (
				    rv); /* GH_ECONFLICT: amount went down */
			}
			ls.last_seq = d->receipt_seq;
		}
	}
	if (to_pool > 0) {
		if ((rv = ledger_asset_get(c->txn, c->db, &ls.asset, &as))
		    != GH_OK) {
			return (rv == GH_ENOENT ? GH_ECORRUPT : rv);
		}
		if ((rv = gh_add_u64(as.paid_in, to_pool, &as.paid_in))
		    != GH_OK) {
			return (rv);
		}
		if (c->write
		    && (rv = ledger_asset_put(c->txn, c->db, &ls.asset, &as))
		        != GH_OK) {
			return (rv);
		}
	}
	if ((rv = ledger_credit(c, e, me, g->treasury.b, fee)) != GH_OK) {
		return (rv);
	}
	ls.drawn += draw;
	ls.fees += fee;
	if (e->kind == LEDGER_LEASE_CLOSE) {
		refund = ls.escrow - ls.drawn;
		if ((rv = ledger_credit(c, e, me, ls.renter.b, refund))
		    != GH_OK) {
			return (rv);
		}
		ls.refunded = refund;
		ls.state    = LEDGER_LEASE_CLOSED;
	}
	ls.version++;
	return (c->write ? ledger_lease_put(c->txn, c->db, &id, &ls) : GH_OK);
}

/*
 * Loans.  LOAN_OFFER locks the lender's amount in a new loan object.
 * TAKE, REPAY and SEIZE consume the pledged lot and the loan; CANCEL
 * the loan.  The borrower may take until the offer's expiry and repay
 * until maturity; the lender may cancel from expiry + margin and seize
 * from maturity + margin.
 */
static int
ledger_rules_loan(ledger_ctx *c, const ledger_genesis *g,
    const ledger_entry *e, const gh_hash *h, ledger_account *me)
{
	ledger_loan ln;
	ledger_lot  lot;
	ledger_id   id;
	int         rv;

	if (e->kind == LEDGER_LOAN_OFFER) {
		const ledger_body_loan_offer *o = &e->body.loan_offer;
		if (e->nconsumes != 0 || o->amount == 0 || o->due == 0
		    || o->expiry >= o->maturity
		    || memcmp(o->borrower.b, e->author, 32) == 0) {
			return (GH_EINVAL);
		}
		if (e->time > o->expiry) {
			return (GH_EWINDOW);
		}
		if (me->balance < o->amount) {
			return (GH_EFUNDS);
		}
		me->balance -= o->amount;
		memset(&ln, 0, sizeof(ln));
		memcpy(ln.lender.b, e->author, 32);
		ln.borrower = o->borrower;
		ln.lot      = o->lot;
		ln.amount   = o->amount;
		ln.due      = o->due;
		ln.maturity = o->maturity;
		ln.expiry   = o->expiry;
		ln.state    = LEDGER_LOAN_OFFERED;
		ln.owed     = o->due;
		memcpy(id.b, h->b, 32);
		return (c->write ? ledger_loan_put(c->txn, c->db, &id, &ln)
		                 : GH_OK);
	}

	id = e->kind == LEDGER_LOAN_REPAY ? e->body.loan_repay.loan
	                                  : e->body.ref.id;
	if ((rv = ledger_loan_get(c->txn, c->db, &id, &ln)) != GH_OK) {
		return (rv);
	}
	if (e->kind == LEDGER_LOAN_CANCEL) {
		if (!ledger_consumes_are(
		        e, 1, LEDGER_OBJ_LOAN, &id, 0, NULL)) {
			return (GH_EINVAL);
		}
		if (memcmp(ln.lender.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		if (ln.state != LEDGER_LOAN_OFFERED) {
			return (
			    GH_EPERM); /* taken (or over): not the lender's */
		}
		if (e->time < ledger_sat_add(ln.expiry, g->clock_margin)) {
			return (GH_EWINDOW);
		}
		if ((rv = gh_add_u64(me->balance, ln.amount, &me->balance))
		    != GH_OK) {
			return (rv);
		}
		ln.state = LEDGER_LOAN_CANCELLED;
		ln.version++;
		return (c->write ? ledger_loan_put(c->txn, c->db, &id, &ln)
		                 : GH_OK);
	}

	/* TAKE, REPAY, SEIZE: the named lot and the loan. */
	if (!ledger_consumes_are(
	        e, 2, LEDGER_OBJ_LOT, &ln.lot, LEDGER_OBJ_LOAN, &id)) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_lot_get(c->txn, c->db, &ln.lot, &lot)) != GH_OK) {
		return (rv);
	}
	switch (e->kind) {
	case LEDGER_LOAN_TAKE:
		if (memcmp(ln.borrower.b, e->author, 32) != 0) {
			return (GH_EPERM); /* named for another borrower */
		}
		if (ln.state != LEDGER_LOAN_OFFERED) {
			return (GH_ECLOSED);
		}
		if (e->time > ln.expiry) {
			return (GH_EWINDOW);
		}
		if (memcmp(lot.holder.b, e->author, 32) != 0) {
			return (GH_EPERM); /* the lot is not the borrower's */
		}
		if (lot.pledged) {
			return (GH_EBUSY); /* pledged twice */
		}
		lot.pledged = 1;
		lot.loan    = id;
		ln.state    = LEDGER_LOAN_TAKEN;
		ln.taken_at = e->time;
		if ((rv = gh_add_u64(me->balance, ln.amount, &me->balance))
		    != GH_OK) {
			return (rv);
		}
		break;
	case LEDGER_LOAN_REPAY: {
		uint64_t amt = e->body.loan_repay.amount;
		if (memcmp(ln.borrower.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		if (ln.state != LEDGER_LOAN_TAKEN) {
			return (GH_ECLOSED);
		}
		if (e->time > ln.maturity) {
			return (GH_EWINDOW);
		}
		if (amt == 0 || amt > ln.owed) {
			return (GH_EINVAL); /* nothing, or more than owed */
		}
		if (me->balance < amt) {
			return (GH_EFUNDS);
		}
		me->balance -= amt;
		if ((rv = ledger_credit(c, e, me, ln.lender.b, amt))
		    != GH_OK) {
			return (rv);
		}
		ln.owed -= amt;
		ln.by_repay += amt;
		if (ln.owed == 0) {
			ln.state    = LEDGER_LOAN_REPAID;
			lot.pledged = 0;
			memset(lot.loan.b, 0, 32);
		}
		break;
	}
	case LEDGER_LOAN_SEIZE:
		if (memcmp(ln.lender.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		if (ln.state != LEDGER_LOAN_TAKEN) {
			return (GH_ECLOSED);
		}
		if (e->time < ledger_sat_add(ln.maturity, g->clock_margin)) {
			return (GH_EWINDOW);
		}
		lot.holder  = ln.lender;
		lot.pledged = 0;
		memset(lot.loan.b, 0, 32);
		ln.state = LEDGER_LOAN_SEIZED;
		break;
	default:
		return (GH_ETYPE);
	}
	lot.version++;
	ln.version++;
	if (!c->write) {
		return (GH_OK);
	}
	if ((rv = ledger_lot_put(c->txn, c->db, &ln.lot, &lot)) != GH_OK) {
		return (rv);
	}
	return (ledger_loan_put(c->txn, c->db, &id, &ln));
}

static int
ledger_rules_run(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h, int write)
{
	ledger_ctx     c = { write, txn, db };
	ledger_account me;
	ledger_asset   as;
	ledger_lot     lot;
	ledger_lease   ls;
	ledger_loan    ln;
	ledger_id      lot_id;
	uint8_t        ctype;
	uint8_t        kb[LEDGER_OBJKEY_LEN + 8];
	MDB_val        key, val;
	uint64_t       minted, pay = 0;
	int            rv;

	if (memcmp(e->netid.b, netid->b, 32) != 0) {
		return (GH_ENETID);
	}
	ctype = e->scheme == LEDGER_SCHEME_NODE ? LEDGER_OBJ_NODE
	                                        : LEDGER_OBJ_ACCOUNT;
	rv    = ledger_account_get(txn, db, ctype, e->author, &me);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if (e->seq <= me.seq) {
		return (GH_ECONFLICT); /* that version is consumed: replay */
	}
	if (e->seq > me.seq + 1) {
		return (GH_ESEQ);
	}
	if (memcmp(e->prev.b, me.head.b, 32) != 0) {
		return (GH_EPREV);
	}
	/* Consumed objects other than the chain: lots, leases, loans. */
	for (uint32_t i = 0; i < e->nconsumes; i++) {
		const ledger_objver *ov = &e->consumes[i];
		uint64_t             ver;
		if (ov->type == LEDGER_OBJ_LOT) {
			rv  = ledger_lot_get(txn, db, &ov->id, &lot);
			ver = lot.version;
		} else if (ov->type == LEDGER_OBJ_LEASE) {
			rv  = ledger_lease_get(txn, db, &ov->id, &ls);
			ver = ls.version;
		} else if (ov->type == LEDGER_OBJ_LOAN) {
			rv  = ledger_loan_get(txn, db, &ov->id, &ln);
			ver = ln.version;
		} else {
			return (GH_EUNSUPPORTED);
		}
		if (rv != GH_OK) {
			return (rv);
		}
		if (ov->version < ver) {
			return (GH_ECONFLICT);
		}
		if (ov->version > ver) {
			return (GH_ESEQ);
		}
	}

	switch (e->kind) {
	case LEDGER_MINT:
		if (memcmp(e->author, g->issuer.b, 32) != 0) {
			return (GH_EPERM);
		}
		if (e->nconsumes != 0 || e->body.mint.amount == 0) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_minted_get(txn, db, &minted)) != GH_OK) {
			return (rv);
		}
		if ((rv = gh_add_u64(minted, e->body.mint.amount, &minted))
		    != GH_OK) {
			return (rv);
		}
		if (write
		    && (rv = ledger_minted_put(txn, db, minted)) != GH_OK) {
			return (rv);
		}
		if ((rv = ledger_credit_account(
		         &c, e->body.mint.to.b, e->body.mint.amount))
		    != GH_OK) {
			return (rv);
		}
		/* The issuer may mint to itself: reread its chain. */
		if ((rv = ledger_account_get(txn, db, ctype, e->author, &me))
		        != GH_OK
		    && rv != GH_ENOENT) {
			return (rv);
		}
		break;
	case LEDGER_TRANSFER: {
		const ledger_body_transfer *t = &e->body.transfer;
		if (e->nconsumes != 0 || t->amount == 0) {
			return (GH_EINVAL);
		}
		if (me.balance < t->amount) {
			return (GH_EFUNDS);
		}
		if (t->dest == LEDGER_DEST_POOL) {
			if ((rv = ledger_asset_get(txn, db, &t->to, &as))
			    != GH_OK) {
				return (rv);
			}
			if ((rv = gh_add_u64(
			         as.paid_in, t->amount, &as.paid_in))
			    != GH_OK) {
				return (rv);
			}
			if (write
			    && (rv = ledger_asset_put(txn, db, &t->to, &as))
			        != GH_OK) {
				return (rv);
			}
			me.balance -= t->amount;
		} else if (memcmp(t->to.b, e->author, 32) == 0) {
			/* To oneself: nothing moves. */
		} else {
			if ((rv = ledger_credit_account(
			         &c, t->to.b, t->amount))
			    != GH_OK) {
				return (rv);
			}
			me.balance -= t->amount;
		}
		break;
	}
	case LEDGER_ASSET_REGISTER: {
		const ledger_body_asset_register *b = &e->body.asset;
		gh_hash                           bh;
		if (e->nconsumes != 0 || b->supply == 0) {
			return (GH_EINVAL);
		}
		ledger_asset_binding_hash(netid, e->author, &bh);
		if (gh_ed_verify(&b->node, &bh, &b->node_sig) != GH_OK) {
			return (GH_EBADSIG);
		}
		memset(&as, 0, sizeof(as));
		memcpy(as.owner.b, e->author, 32);
		as.node   = b->node;
		as.supply = b->supply;
		memcpy(as.hw, b->hw, sizeof(as.hw));
		memset(&lot, 0, sizeof(lot));
		memcpy(lot.asset.b, h->b, 32);
		memcpy(lot.holder.b, e->author, 32);
		lot.amount = b->supply;
		ledger_lot_id(h, 0, &lot_id);
		if (write) {
			ledger_id aid;
			memcpy(aid.b, h->b, 32);
			if ((rv = ledger_asset_put(txn, db, &aid, &as))
			        != GH_OK
			    || (rv = ledger_lot_put(txn, db, &lot_id, &lot))
			        != GH_OK) {
				return (rv);
			}
		}
		break;
	}
	case LEDGER_SHARE_TRANSFER:
	case LEDGER_REVENUE_CLAIM: {
		const ledger_id *lid = e->kind == LEDGER_SHARE_TRANSFER
		    ? &e->body.share.lot
		    : &e->body.claim.lot;
		uint64_t         rp  = e->kind == LEDGER_SHARE_TRANSFER
		             ? e->body.share.pool_total
		             : e->body.claim.pool_total;
		if (e->nconsumes < 1 || e->consumes[0].type != LEDGER_OBJ_LOT
		    || memcmp(e->consumes[0].id.b, lid->b, 32) != 0) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_lot_get(txn, db, lid, &lot)) != GH_OK) {
			return (rv);
		}
		if (lot.pledged) {
			/* A pledged lot: claims only, and they consume the
			 * loan too; the borrower until maturity, the lender
			 * from maturity + margin. */
			if (e->kind == LEDGER_SHARE_TRANSFER) {
				return (GH_EBUSY);
			}
			if (!ledger_consumes_are(e, 2, LEDGER_OBJ_LOT, lid,
			        LEDGER_OBJ_LOAN, &lot.loan)) {
				return (GH_EINVAL);
			}
			if ((rv = ledger_loan_get(txn, db, &lot.loan, &ln))
			    != GH_OK) {
				return (rv == GH_ENOENT ? GH_ECORRUPT : rv);
			}
			if (memcmp(lot.holder.b, e->author, 32) == 0) {
				if (e->time > ln.maturity) {
					return (GH_EWINDOW);
				}
			} else if (memcmp(ln.lender.b, e->author, 32) == 0) {
				if (e->time < ledger_sat_add(
				        ln.maturity, g->clock_margin)) {
					return (GH_EWINDOW);
				}
			} else {
				return (GH_EPERM);
			}
		} else {
			if (e->nconsumes != 1) {
				return (GH_EINVAL);
			}
			if (memcmp(lot.holder.b, e->author, 32) != 0) {
				return (GH_EPERM);
			}
		}
		if ((rv = ledger_asset_get(txn, db, &lot.asset, &as))
		    != GH_OK) {
			return (rv == GH_ENOENT ? GH_ECORRUPT : rv);
		}
		if (rp < lot.cursor) {
			return (GH_EINVAL);
		}
		if (rp > as.paid_in) {
			return (GH_EPENDING); /* a total we have not reached */
		}
		if ((rv = ledger_lot_settle(&lot, as.supply, rp, &pay))
		    != GH_OK) {
			return (rv);
		}
		if (as.paid_out > as.paid_in - pay) {
			return (GH_ECORRUPT); /* the pool would go negative */
		}
		as.paid_out += pay;
		lot.version++;
		if (lot.pledged) {
			uint64_t to_lender = pay < ln.owed ? pay : ln.owed;
			ln.owed -= to_lender;
			if ((rv = gh_add_u64(
			         ln.by_claims, to_lender, &ln.by_claims))
			    != GH_OK) {
				return (rv);
			}
			if ((rv = ledger_credit(
			         &c, e, &me, ln.lender.b, to_lender))
			        != GH_OK
			    || (rv = ledger_credit(
			            &c, e, &me, lot.holder.b, pay - to_lender))
			        != GH_OK) {
				return (rv);
			}
			if (ln.owed == 0) {
				ln.state    = LEDGER_LOAN_REPAID;
				lot.pledged = 0;
				memset(lot.loan.b, 0, 32);
			}
			ln.version++;
			if (write
			    && (rv = ledger_loan_put(
			            txn, db, &e->consumes[1].id, &ln))
			        != GH_OK) {
				return (rv);
			}
		} else if ((rv = gh_add_u64(me.balance, pay, &me.balance))
		    != GH_OK) {
			return (rv);
		}
		if (e->kind == LEDGER_SHARE_TRANSFER) {
			const ledger_body_share_transfer *s = &e->body.share;
			ledger_lot                        nl;
			if (s->amount == 0) {
				return (GH_EINVAL);
			}
			if (s->amount > lot.amount) {
				return (GH_EFUNDS);
			}
			lot.amount -= s->amount;
			memset(&nl, 0, sizeof(nl));
			nl.asset  = lot.asset;
			nl.holder = s->to;
			nl.amount = s->amount;
			nl.cursor = rp;
			ledger_lot_id(h, 1, &lot_id);
			if (write
			    && (rv = ledger_lot_put(txn, db, &lot_id, &nl))
			        != GH_OK) {
				return (rv);
			}
		}
		if (write
		    && ((rv = ledger_lot_put(txn, db, lid, &lot)) != GH_OK
		        || (rv = ledger_asset_put(txn, db, &lot.asset, &as))
		            != GH_OK)) {
			return (rv);
		}
		break;
	}
	case LEDGER_LEASE_OPEN:
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE:
	case LEDGER_LEASE_EXPIRE:
	case LEDGER_PROOF:
		if ((rv = ledger_rules_lease(&c, g, e, h, &me)) != GH_OK) {
			return (rv);
		}
		break;
	case LEDGER_LOAN_OFFER:
	case LEDGER_LOAN_TAKE:
	case LEDGER_LOAN_REPAY:
	case LEDGER_LOAN_SEIZE:
	case LEDGER_LOAN_CANCEL:
		if ((rv = ledger_rules_loan(&c, g, e, h, &me)) != GH_OK) {
			return (rv);
		}
		break;
	default:
		return (GH_ETYPE);
	}

	if (!write) {
		return (GH_OK);
	}
	me.seq  = e->seq;
	me.head = *h;
	if ((rv = ledger_account_put(txn, db, ctype, e->author, &me))
	    != GH_OK) {
		return (rv);
	}
	ledger_objkey(ctype, e->author, kb);
	gh_be64_put(kb + LEDGER_OBJKEY_LEN, e->seq);
	key.mv_size = sizeof(kb);
	key.mv_data = kb;
	val.mv_size = 32;
	val.mv_data = (void *) h->b;
	return (ledger_mdb_err(mdb_put(txn, db->chains, &key, &val, 0)));
}

int
ledger_rules_check(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h)
{
	return (ledger_rules_run(txn, db, g, netid, e, h, 0));
}

int
ledger_rules_apply(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h)
{
	int rv;

	/* Check first so that a refused entry leaves no partial write. */
	if ((rv = ledger_rules_run(txn, db, g, netid, e, h, 0)) != GH_OK) {
		return (rv);
	}
	return (ledger_rules_run(txn, db, g, netid, e, h, 1));
}

/* ------------------------------------------------------------------ */
/* State hash and invariants. */

int
ledger_state_hash_txn(MDB_txn *txn, const ledger_dbs *db, gh_hash *out)
{
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	gh_hasher   hs;
	uint8_t     len[8];
	int         rc;

	gh_hasher_init(&hs, LEDGER_TAG_STATE);
	if ((rc = mdb_cursor_open(txn, db->objects, &cur)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		gh_be64_put(len, k.mv_size);
		gh_hasher_update(&hs, len, 8);
		gh_hasher_update(&hs, k.mv_data, k.mv_size);
		gh_be64_put(len, v.mv_size);
		gh_hasher_update(&hs, len, 8);
		gh_hasher_update(&hs, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		return (ledger_mdb_err(rc));
	}
	gh_hasher_final(&hs, out);
	return (GH_OK);
}

typedef struct {
	ledger_id    id;
	ledger_asset a;
	gh_u128      shares;  /* sum of lot amounts */
	gh_u128      accrued; /* sum of a(R - c) + r */
} ledger_inv_asset;

static int
ledger_inv_cmp(const void *key, const void *elem)
{
	return (memcmp(key, ((const ledger_inv_asset *) elem)->id.b, 32));
}

int
ledger_invariants_txn(
    MDB_txn *txn, const ledger_dbs *db, char *why, size_t cap)
{
	MDB_cursor       *cur = NULL;
	MDB_val           k, v;
	ledger_inv_asset *as  = NULL, *na;
	size_t            nas = 0, capas = 0;
	gh_u128           held = 0;
	uint64_t          minted;
	uint8_t           start = LEDGER_OBJ_ACCOUNT;
	int               rc, rv = GH_EINTERNAL;

	if (cap > 0) {
		why[0] = '\0';
	}
	if ((rv = ledger_minted_get(txn, db, &minted)) != GH_OK) {
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, db->objects, &cur)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	k.mv_size = 1;
	k.mv_data = &start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		gh_reader      r;
		if (k.mv_size != LEDGER_OBJKEY_LEN) {
			continue;
		}
		gh_reader_init(&r, v.mv_data, v.mv_size);
		if (kp[0] == LEDGER_OBJ_ACCOUNT) {
			ledger_account a;
			if ((rv = ledger_account_get(
			         txn, db, kp[0], kp + 1, &a))
			    != GH_OK) {
				goto out;
			}
			held += a.balance;
		} else if (kp[0] == LEDGER_OBJ_ASSET) {
			if (nas == capas) {
				capas = capas ? capas * 2 : 16;
				na    = realloc(as, capas * sizeof(*as));
				if (na == NULL) {
					rv = GH_ENOMEM;
					goto out;
				}
				as = na;
			}
			memset(&as[nas], 0, sizeof(as[nas]));
			memcpy(as[nas].id.b, kp + 1, 32);
			if ((rv = ledger_asset_decode(&r, &as[nas].a))
			    != GH_OK) {
				snprintf(why, cap, "asset object damaged");
				goto out;
			}
			held += as[nas].a.paid_in - as[nas].a.paid_out;
			nas++;
		} else if (kp[0] == LEDGER_OBJ_LOT) {
			ledger_lot        l;
			ledger_inv_asset *ia;
			if ((rv = ledger_lot_decode(v.mv_data, v.mv_size, &l))
			    != GH_OK) {
				snprintf(why, cap, "lot object damaged");
				goto out;
			}
			/* Assets sort before lots, so all are known. */
			ia = bsearch(
			    l.asset.b, as, nas, sizeof(*as), ledger_inv_cmp);
			if (ia == NULL || l.cursor > ia->a.paid_in
			    || l.carry >= ia->a.supply) {
				snprintf(why, cap,
				    "lot without its asset, or cursor/carry "
				    "out of range");
				rv = GH_ECORRUPT;
				goto out;
			}
			ia->shares += l.amount;
			ia->accrued
			    += (gh_u128) l.amount * (ia->a.paid_in - l.cursor)
			    + l.carry;
			if (l.pledged) {
				ledger_loan ln;
				if (ledger_loan_get(txn, db, &l.loan, &ln)
				        != GH_OK
				    || ln.state != LEDGER_LOAN_TAKEN
				    || memcmp(ln.lot.b, kp + 1, 32) != 0) {
					snprintf(why, cap,
					    "pledged lot without its taken "
					    "loan");
					rv = GH_ECORRUPT;
					goto out;
				}
			}
		} else if (kp[0] == LEDGER_OBJ_LEASE) {
			ledger_lease ls;
			if ((rv = ledger_lease_decode(
			         v.mv_data, v.mv_size, &ls))
			    != GH_OK) {
				snprintf(why, cap, "lease object damaged");
				goto out;
			}
			if (ls.state == LEDGER_LEASE_ACTIVE) {
				held += ls.escrow - ls.drawn;
			} else if (ls.refunded != ls.escrow - ls.drawn) {
				snprintf(why, cap,
				    "ended lease: refund is not escrow less "
				    "drawn");
				rv = GH_ECORRUPT;
				goto out;
			}
		} else if (kp[0] == LEDGER_OBJ_LOAN) {
			ledger_loan ln;
			if ((rv = ledger_loan_decode(
			         v.mv_data, v.mv_size, &ln))
			    != GH_OK) {
				snprintf(why, cap, "loan object damaged");
				goto out;
			}
			if (ln.state == LEDGER_LOAN_OFFERED) {
				held += ln.amount;
			}
			if (ln.state == LEDGER_LOAN_TAKEN) {
				ledger_lot l;
				if (ledger_lot_get(txn, db, &ln.lot, &l)
				        != GH_OK
				    || !l.pledged
				    || memcmp(l.loan.b, kp + 1, 32) != 0) {
					snprintf(why, cap,
					    "taken loan whose lot is not "
					    "pledged to it");
					rv = GH_ECORRUPT;
					goto out;
				}
			}
		}
	}
	if (rc != MDB_NOTFOUND) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	rv = GH_ECORRUPT;
	if (held != minted) {
		snprintf(why, cap,
		    "credits not conserved: minted %llu, held %llu "
		    "(balances + lease escrow + loans locked + pools)",
		    (unsigned long long) minted, (unsigned long long) held);
		goto out;
	}
	for (size_t i = 0; i < nas; i++) {
		char hex[65];
		gh_hex_encode(as[i].id.b, 32, hex);
		if (as[i].shares != as[i].a.supply) {
			snprintf(why, cap,
			    "asset %s: lots sum to %llu, supply %llu", hex,
			    (unsigned long long) as[i].shares,
			    (unsigned long long) as[i].a.supply);
			goto out;
		}
		if (as[i].accrued
		    != (gh_u128) as[i].a.supply
		        * (as[i].a.paid_in - as[i].a.paid_out)) {
			snprintf(why, cap,
			    "asset %s: pool accrual does not match S(R - P)",
			    hex);
			goto out;
		}
	}
	rv = GH_OK;
out:
	mdb_cursor_close(cur);
	free(as);
	return (rv);
}
