/* order_test.c - property: random certified histories (transfers, pool
 * payments, share transfers, claims across several chains) applied in
 * many random orders consistent with each chain reach byte-identical
 * state, with every invariant holding after each step.
 *
 * Pool payments are TRANSFERs whose destination is an asset's pool
 * (LEDGER_DEST_POOL); leases pay pools by their draws.  Histories
 * also open, draw on, close and expire leases, record proofs, and
 * offer, take, repay, cancel and seize loans on lots that then pay
 * their lenders; entry times come from a generator clock so that every
 * window is crossed. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/kinds.h"

#define NACC   6
#define MAXH   400
#define MAXLOT 256

typedef struct {
	ledger_cert *c[MAXH];
	int          author[MAXH]; /* chain: 0..NACC-1, NACC = issuer,
	                              NACC + 1 = the node */
	int      n;
	uint64_t minted;
} history;

typedef struct {
	ledger_id id[MAXLOT];
	int       n;
} lotset;

static int
collect_lot(void *arg, const ledger_id *id, const ledger_lot *l)
{
	lotset *ls = arg;
	(void) l;
	if (ls->n < MAXLOT) {
		ls->id[ls->n++] = *id;
	}
	return (0);
}

static int
gen_submit(fx *f, history *h, int who, ledger_entry *e)
{
	ledger_cert *c = malloc(sizeof(*c));
	int          rv, res;

	if (who == NACC + 1) {
		rv = ledger_entry_sign_node(e, f->node);
	} else {
		rv = ledger_entry_sign_account(
		    e, who == NACC ? f->issuer : f->acct[who]);
	}
	if (rv != GH_OK) {
		free(c);
		return (rv);
	}
	rv = ledger_store_certify(f->s, f->val, (size_t) f->nval, e, 0, c);
	if (rv == GH_OK) {
		rv = ledger_store_ingest(f->s, &c, 1, &res);
		rv = rv == GH_OK ? res : rv;
	}
	if (rv != GH_OK || h->n >= MAXH) {
		free(c);
		return (rv);
	}
	h->c[h->n]      = c;
	h->author[h->n] = who;
	h->n++;
	return (GH_OK);
}

typedef struct {
	ledger_id id[MAXLOT];
	int       n;
} idset;

static int
collect_lease(void *arg, const ledger_id *id, const ledger_lease *l)
{
	idset *ls = arg;
	(void) l;
	if (ls->n < MAXLOT) {
		ls->id[ls->n++] = *id;
	}
	return (0);
}

static int
collect_loan(void *arg, const ledger_id *id, const ledger_loan *l)
{
	idset *ls = arg;
	(void) l;
	if (ls->n < MAXLOT) {
		ls->id[ls->n++] = *id;
	}
	return (0);
}

static int
acct_index(fx *f, const gh_acct_pub *p)
{
	for (int j = 0; j < NACC; j++) {
		if (memcmp(f->pub[j].b, p->b, 32) == 0) {
			return (j);
		}
	}
	return (-1);
}

/* A lease operation at generator time t: open, draw/close, expire or
 * proof.  *skip when nothing fits. */
static int
gen_lease_op(fx *f, history *h, uint64_t *rnd, int op, uint64_t t,
    const ledger_id *assets, int nassets, const gh_ed_key *rk, int *skip)
{
	ledger_entry e;
	idset        ids;
	ledger_lease ls;
	int          who = (int) (th_rand(rnd) % NACC);
	uint64_t     bal = fx_balance(f, &f->pub[who]);

	*skip = 1;
	if (op == 0) {
		uint64_t price = 1 + th_rand(rnd) % 2000;
		uint64_t dur   = 100 + th_rand(rnd) % 1400, esc;
		if (nassets == 0
		    || ledger_escrow_amount(dur, price, &esc) != GH_OK
		    || esc > bal) {
			return (GH_OK);
		}
		fx_entry(f, f->s, f->acct[who], LEDGER_LEASE_OPEN, &e);
		e.time = t;
		e.body.lease_open.asset
		    = assets[th_rand(rnd) % (uint64_t) nassets];
		gh_ed_key_pub(f->node, &e.body.lease_open.node);
		gh_ed_key_pub(rk, &e.body.lease_open.receipt_key);
		e.body.lease_open.price   = price;
		e.body.lease_open.billing = 1 + (uint8_t) (th_rand(rnd) % 2);
		e.body.lease_open.start   = t;
		e.body.lease_open.expiry  = t + dur;
		*skip                     = 0;
		return (gen_submit(f, h, who, &e));
	}
	ids.n = 0;
	ledger_store_leases(f->s, collect_lease, &ids);
	if (ids.n == 0) {
		return (GH_OK);
	}
	{
		ledger_id id = ids.id[th_rand(rnd) % (uint64_t) ids.n];
		ledger_store_lease(f->s, &id, &ls);
		if (op == 3) {
			kx_node_entry(f, LEDGER_PROOF, t, &e);
			e.body.proof.lease = id;
			for (int i = 0; i < 4; i++) {
				uint64_t r = th_rand(rnd);
				memcpy(e.body.proof.proof.b + 8 * i, &r, 8);
			}
			e.body.proof.tokens    = th_rand(rnd) % 100000;
			e.body.proof.device_ns = th_rand(rnd);
			*skip                  = 0;
			return (gen_submit(f, h, NACC + 1, &e));
		}
		if (ls.state != LEDGER_LEASE_ACTIVE) {
			return (GH_OK);
		}
		if (op == 1 && t <= ls.expiry + f->g.lease_grace) {
			int close = th_rand(rnd) % 3 == 0;
			kx_node_entry(f,
			    close ? LEDGER_LEASE_CLOSE : LEDGER_LEASE_DRAW, t,
			    &e);
			if (!close || th_rand(rnd) % 4 != 0) {
				market_receipt r;
				memset(&r, 0, sizeof(r));
				memcpy(r.lease.b, id.b, 32);
				r.seq    = ls.last_seq + 1 + th_rand(rnd) % 3;
				r.amount = ls.drawn
				    + th_rand(rnd)
				        % (ls.escrow - ls.drawn + 1);
				market_receipt_sign(&r, rk);
				e.body.lease_draw.receipt_seq    = r.seq;
				e.body.lease_draw.receipt_amount = r.amount;
				e.body.lease_draw.receipt_sig    = r.sig;
			}
			e.body.lease_draw.lease = id;
		} else if (op == 2
		    && t >= ls.expiry + f->g.lease_grace + f->g.clock_margin) {
			who = acct_index(f, &ls.renter);
			if (who < 0) {
				return (GH_OK);
			}
			fx_entry(
			    f, f->s, f->acct[who], LEDGER_LEASE_EXPIRE, &e);
			e.time        = t;
			e.body.ref.id = id;
		} else {
			return (GH_OK);
		}
		e.nconsumes           = 1;
		e.consumes[0].type    = LEDGER_OBJ_LEASE;
		e.consumes[0].id      = id;
		e.consumes[0].version = ls.version;
		*skip                 = 0;
		return (gen_submit(f, h, op == 1 ? NACC + 1 : who, &e));
	}
}

/* A loan operation at time t: offer, take, repay, cancel or seize. */
static int
gen_loan_op(fx *f, history *h, uint64_t *rnd, int op, uint64_t t, int *skip)
{
	ledger_entry e;
	idset        ids;
	ledger_loan  ln;
	ledger_lot   l;
	ledger_id    id;
	int          who = (int) (th_rand(rnd) % NACC), kind = 0;
	uint64_t     bal = fx_balance(f, &f->pub[who]);

	memset(&e, 0, sizeof(e));
	*skip = 1;
	if (op == 0) {
		lotset ls;
		int    to = (int) (th_rand(rnd) % NACC);
		ls.n      = 0;
		ledger_store_lots(f->s, NULL, collect_lot, &ls);
		if (ls.n == 0 || bal == 0 || to == who) {
			return (GH_OK);
		}
		fx_entry(f, f->s, f->acct[who], LEDGER_LOAN_OFFER, &e);
		e.time                = t;
		e.body.loan_offer.lot = ls.id[th_rand(rnd) % (uint64_t) ls.n];
		/* Mostly for the lot's holder, so that most are taken. */
		if (th_rand(rnd) % 4 != 0
		    && ledger_store_lot(f->s, &e.body.loan_offer.lot, &l)
		        == GH_OK
		    && acct_index(f, &l.holder) >= 0
		    && acct_index(f, &l.holder) != who) {
			to = acct_index(f, &l.holder);
		}
		e.body.loan_offer.borrower = f->pub[to];
		e.body.loan_offer.amount   = 1 + th_rand(rnd) % bal;
		e.body.loan_offer.due
		    = e.body.loan_offer.amount + th_rand(rnd) % 1000;
		e.body.loan_offer.expiry = t + 50 + th_rand(rnd) % 300;
		e.body.loan_offer.maturity
		    = e.body.loan_offer.expiry + 100 + th_rand(rnd) % 1500;
		*skip = 0;
		return (gen_submit(f, h, who, &e));
	}
	ids.n = 0;
	ledger_store_loans(f->s, collect_loan, &ids);
	if (ids.n == 0) {
		return (GH_OK);
	}
	kind = 0;
	for (int tries = 0; tries < 32 && kind == 0; tries++) {
		id = ids.id[th_rand(rnd) % (uint64_t) ids.n];
		ledger_store_loan(f->s, &id, &ln);
		if (ledger_store_lot(f->s, &ln.lot, &l) != GH_OK) {
			continue;
		}
		if (op == 1 && ln.state == LEDGER_LOAN_OFFERED
		    && t <= ln.expiry && !l.pledged
		    && memcmp(l.holder.b, ln.borrower.b, 32) == 0) {
			kind = LEDGER_LOAN_TAKE;
			who  = acct_index(f, &ln.borrower);
		} else if (op == 2 && ln.state == LEDGER_LOAN_TAKEN
		    && t <= ln.maturity) {
			who = acct_index(f, &ln.borrower);
			bal = who < 0 ? 0 : fx_balance(f, &f->pub[who]);
			if (bal == 0) {
				continue;
			}
			kind                     = LEDGER_LOAN_REPAY;
			e.body.loan_repay.amount = 1
			    + th_rand(rnd) % (bal < ln.owed ? bal : ln.owed);
		} else if (op == 3 && ln.state == LEDGER_LOAN_OFFERED
		    && t >= ln.expiry + f->g.clock_margin) {
			kind = LEDGER_LOAN_CANCEL;
			who  = acct_index(f, &ln.lender);
		} else if (op == 3 && ln.state == LEDGER_LOAN_TAKEN
		    && t >= ln.maturity + f->g.clock_margin) {
			kind = LEDGER_LOAN_SEIZE;
			who  = acct_index(f, &ln.lender);
		}
	}
	if (kind == 0) {
		return (GH_OK);
	}
	if (who < 0) {
		return (GH_OK);
	}
	{
		uint64_t amt = e.body.loan_repay.amount;
		fx_entry(f, f->s, f->acct[who], kind, &e);
		e.body.loan_repay.amount = amt;
	}
	e.time = t;
	if (kind == LEDGER_LOAN_REPAY) {
		e.body.loan_repay.loan = id;
	} else {
		e.body.ref.id = id;
	}
	if (kind == LEDGER_LOAN_CANCEL) {
		e.nconsumes           = 1;
		e.consumes[0].type    = LEDGER_OBJ_LOAN;
		e.consumes[0].id      = id;
		e.consumes[0].version = ln.version;
	} else {
		e.nconsumes           = 2;
		e.consumes[0].type    = LEDGER_OBJ_LOT;
		e.consumes[0].id      = ln.lot;
		e.consumes[0].version = l.version;
		e.consumes[1].type    = LEDGER_OBJ_LOAN;
		e.consumes[1].id      = id;
		e.consumes[1].version = ln.version;
	}
	*skip = 0;
	return (gen_submit(f, h, who, &e));
}

/* Random valid operations, certified and applied in a generator store. */
static int
gen_history(fx *f, uint64_t *rnd, int steps, history *h)
{
	ledger_id  assets[4];
	int        nassets = 0;
	uint64_t   t       = KX_T0;
	gh_ed_key *rk      = kx_receipt_key(1);
	int        rv      = GH_OK;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < steps && rv == GH_OK; i++) {
		ledger_entry e;
		int          op  = (int) (th_rand(rnd) % 20);
		int          who = (int) (th_rand(rnd) % NACC);
		uint64_t     bal = fx_balance(f, &f->pub[who]);
		int          skip;

		t += th_rand(rnd) % 60;
		if (i < 3 || op == 0) {
			uint64_t amt = 1 + th_rand(rnd) % 1000000;
			fx_entry(f, f->s, f->issuer, LEDGER_MINT, &e);
			e.body.mint.to     = f->pub[who];
			e.body.mint.amount = amt;
			if ((rv = gen_submit(f, h, NACC, &e)) == GH_OK) {
				h->minted += amt;
			}
		} else if (op == 1 && nassets < 4) {
			fx_entry(
			    f, f->s, f->acct[who], LEDGER_ASSET_REGISTER, &e);
			fx_asset_body(f, &e, 1 + th_rand(rnd) % 1000);
			if ((rv = gen_submit(f, h, who, &e)) == GH_OK) {
				gh_hash hh;
				ledger_entry_hash(&e, &hh);
				memcpy(assets[nassets++].b, hh.b, 32);
			}
		} else if ((op == 2 || op == 3) && bal > 0) {
			int to = (int) (th_rand(rnd) % NACC);
			fx_entry(f, f->s, f->acct[who], LEDGER_TRANSFER, &e);
			e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
			memcpy(e.body.transfer.to.b, f->pub[to].b, 32);
			e.body.transfer.amount = 1 + th_rand(rnd) % bal;
			rv                     = gen_submit(f, h, who, &e);
		} else if (op == 4 && bal > 0 && nassets > 0) {
			fx_entry(f, f->s, f->acct[who], LEDGER_TRANSFER, &e);
			e.body.transfer.dest = LEDGER_DEST_POOL;
			e.body.transfer.to
			    = assets[th_rand(rnd) % (uint64_t) nassets];
			e.body.transfer.amount = 1 + th_rand(rnd) % bal;
			rv                     = gen_submit(f, h, who, &e);
		} else if (op >= 5 && op <= 10) {
			rv = gen_lease_op(f, h, rnd, (op - 5) % 4, t, assets,
			    nassets, rk, &skip);
		} else if (op >= 11 && op <= 14) {
			rv = gen_loan_op(f, h, rnd, op - 11, t, &skip);
		} else if (op >= 15 && nassets > 0) {
			/* A claim or a share transfer by whoever may act
			 * on some lot (on a pledged lot: claims only, by the
			 * borrower or the lender by the clock). */
			lotset       ls;
			ledger_lot   l;
			ledger_asset a;
			ledger_loan  ln;
			int          k, hold = -1, share = op >= 18;
			ls.n = 0;
			ledger_store_lots(f->s, NULL, collect_lot, &ls);
			if (ls.n == 0) {
				continue;
			}
			k = (int) (th_rand(rnd) % (uint64_t) ls.n);
			ledger_store_lot(f->s, &ls.id[k], &l);
			ledger_store_asset(f->s, &l.asset, &a);
			hold = acct_index(f, &l.holder);
			if (l.pledged) {
				ledger_store_loan(f->s, &l.loan, &ln);
				if (share) {
					continue;
				}
				if (t > ln.maturity) {
					hold = t >= ln.maturity
					            + f->g.clock_margin
					    ? acct_index(f, &ln.lender)
					    : -1;
				}
			}
			if (hold < 0 || (share && l.amount == 0)) {
				continue;
			}
			fx_entry(f, f->s, f->acct[hold],
			    share ? LEDGER_SHARE_TRANSFER
			          : LEDGER_REVENUE_CLAIM,
			    &e);
			e.time                = t;
			e.nconsumes           = 1;
			e.consumes[0].type    = LEDGER_OBJ_LOT;
			e.consumes[0].id      = ls.id[k];
			e.consumes[0].version = l.version;
			if (l.pledged) {
				e.nconsumes           = 2;
				e.consumes[1].type    = LEDGER_OBJ_LOAN;
				e.consumes[1].id      = l.loan;
				e.consumes[1].version = ln.version;
			}
			{
				/* R' anywhere in [c, R]. */
				uint64_t rp = l.cursor
				    + th_rand(rnd)
				        % (a.paid_in - l.cursor + 1);
				if (!share) {
					e.body.claim.lot        = ls.id[k];
					e.body.claim.pool_total = rp;
				} else {
					int to = (int) (th_rand(rnd) % NACC);
					e.body.share.lot = ls.id[k];
					e.body.share.to  = f->pub[to];
					e.body.share.amount
					    = 1 + th_rand(rnd) % l.amount;
					e.body.share.pool_total = rp;
				}
			}
			rv = gen_submit(f, h, hold, &e);
		}
		if (rv != GH_OK) {
			printf(
			    "    step %d op %d: %s\n", i, op, gh_strerror(rv));
		}
	}
	gh_ed_key_free(rk);
	return (rv);
}

/* Total held: balances + pools (R - P). */
static int
sum_lot(void *arg, const ledger_id *id, const ledger_lot *l)
{
	(void) id;
	(void) l;
	(*(int *) arg)++;
	return (0);
}

TEST_T(ledger_order_independence_property, 600)
{
	uint64_t rnd        = 0x9e3779b97f4a7c15ull;
	int      orders_run = 0, pend_seen = 0;
	int      kinds[LEDGER_KIND_MAX + 1] = { 0 };

	for (int hist = 0; hist < 12; hist++) {
		fx      f;
		history h;
		gh_hash want;
		char    name[32];

		CHECK_OK(fx_genesis(&f, 1));
		snprintf(name, sizeof(name), "gen%d", hist);
		CHECK_OK(fx_open(&f, th_path(0, name)));
		CHECK_OK(gen_history(&f, &rnd, 200, &h));
		CHECK_OK(ledger_store_state_hash(f.s, &want));
		{
			/* No micro-unit created or lost. */
			uint64_t     held = 0;
			lotset       ls;
			ledger_lot   l;
			ledger_asset a;
			ledger_id    seen[8];
			int          ns = 0, nl = 0;
			idset        li;
			for (int j = 0; j < NACC; j++) {
				held += fx_balance(&f, &f.pub[j]);
			}
			held
			    += fx_balance(&f, &f.pub[FX_ACCTS - 1]); /* fees */
			li.n = 0;
			ledger_store_leases(f.s, collect_lease, &li);
			for (int j = 0; j < li.n; j++) {
				ledger_lease le;
				ledger_store_lease(f.s, &li.id[j], &le);
				if (le.state == LEDGER_LEASE_ACTIVE) {
					held += le.escrow - le.drawn;
				}
			}
			li.n = 0;
			ledger_store_loans(f.s, collect_loan, &li);
			for (int j = 0; j < li.n; j++) {
				ledger_loan ln;
				ledger_store_loan(f.s, &li.id[j], &ln);
				if (ln.state == LEDGER_LOAN_OFFERED) {
					held += ln.amount;
				}
			}
			ls.n = 0;
			ledger_store_lots(f.s, NULL, collect_lot, &ls);
			ledger_store_lots(f.s, NULL, sum_lot, &nl);
			CHECK_EQ(nl, ls.n);
			for (int j = 0; j < ls.n; j++) {
				int dup = 0;
				ledger_store_lot(f.s, &ls.id[j], &l);
				for (int q = 0; q < ns; q++) {
					dup |= !memcmp(
					    seen[q].b, l.asset.b, 32);
				}
				if (!dup && ns < 8) {
					seen[ns++] = l.asset;
					ledger_store_asset(f.s, &l.asset, &a);
					held += a.paid_in - a.paid_out;
				}
			}
			CHECK_EQ(held, h.minted);
		}
		for (int ord = 0; ord < 8; ord++) {
			ledger_store     *s              = NULL;
			ledger_store_opts o              = { 0, 1, 1, 0 };
			int               next[NACC + 2] = { 0 };
			int               done           = 0;
			gh_hash           got;
			char              why[256];
			uint64_t          ap, pe, eq;

			snprintf(name, sizeof(name), "o%d-%d", hist, ord);
			CHECK_OK(
			    ledger_store_open(th_path(1, name), &f.g, &o, &s));
			/* Pick a random chain, apply its next entry. */
			while (done < h.n) {
				int who = (int) (th_rand(&rnd) % (NACC + 2));
				int idx = -1, res;
				for (int k = next[who]; k < h.n; k++) {
					if (h.author[k] == who) {
						idx = k;
						break;
					}
				}
				if (idx < 0) {
					continue;
				}
				next[who] = idx + 1;
				CHECK_OK(ledger_store_ingest(
				    s, &h.c[idx], 1, &res));
				CHECK(res == GH_OK || res == GH_EPENDING);
				pend_seen += res == GH_EPENDING;
				CHECK_OK(ledger_store_invariants(
				    s, why, sizeof(why)));
				done++;
			}
			CHECK_OK(ledger_store_counts(s, &ap, &pe, &eq));
			CHECK_EQ(pe, 0);
			CHECK_EQ(ap, (uint64_t) h.n);
			CHECK_OK(ledger_store_state_hash(s, &got));
			CHECK_MEM(want.b, got.b, 32);
			/* The order applied here replays from genesis. */
			if (ord % 4 == 0) {
				uint64_t pos;
				CHECK_OK(ledger_store_verify(
				    s, &pos, why, sizeof(why)));
			}
			ledger_store_close(s);
			orders_run++;
		}
		for (int k = 0; k < h.n; k++) {
			kinds[h.c[k]->entry.kind]++;
			free(h.c[k]);
		}
		fx_free(&f);
	}
	CHECK_EQ(orders_run, 96);
	/* The histories exercised what the property is about. */
	CHECK(pend_seen > 100);
	CHECK(kinds[LEDGER_SHARE_TRANSFER] > 20);
	CHECK(kinds[LEDGER_REVENUE_CLAIM] > 20);
	CHECK(kinds[LEDGER_TRANSFER] > 100);
	for (int k = LEDGER_LEASE_OPEN; k <= LEDGER_KIND_MAX; k++) {
		printf("    %s %d\n", ledger_kind_name(k), kinds[k]);
		CHECK(kinds[k] > 0);
	}
	printf("    %d orders, %d pending waits, %d share transfers, %d "
	       "claims\n",
	    orders_run, pend_seen, kinds[LEDGER_SHARE_TRANSFER],
	    kinds[LEDGER_REVENUE_CLAIM]);
}

/* A checkpoint of s's log at its head, signed by k. */
static int
head_checkpoint(fx *f, ledger_store *s, gh_ed_key *k, ledger_checkpoint *cp)
{
	int rv;

	memset(cp, 0, sizeof(*cp));
	cp->network = f->netid;
	cp->time    = gh_time_now();
	if ((rv = ledger_store_log_head(s, &cp->size, &cp->root)) != GH_OK) {
		return (rv);
	}
	ledger_checkpoint_sign(cp, k);
	return (GH_OK);
}

/* Two replicas that applied two concurrent transfers in either order
 * reach the same state but number their logs differently: an inclusion
 * bundle comes only under a checkpoint of the replica's own log, signed
 * by a committee member. */
TEST(ledger_order_bundle_needs_a_checkpoint_of_the_same_log)
{
	fx                f;
	ledger_store     *b    = NULL;
	ledger_cert      *c[4] = { NULL };
	ledger_entry      e;
	ledger_bundle     bu;
	ledger_checkpoint cp;
	ledger_mhash      ra, rb;
	gh_hash           sa, sb, none;
	uint64_t          na, nb;
	int               res[4], o;

	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, th_path(0, "order-a")));
	CHECK_OK(ledger_store_open(th_path(1, "order-b"), &f.g, NULL, &b));
	for (int i = 0; i < 4; i++) {
		CHECK((c[i] = malloc(sizeof(*c[i]))) != NULL);
	}
	/* Two mints on the issuer's chain, then one transfer on each of
	 * two accounts' chains, certified and applied at A; B applies the
	 * same certificates with the transfers swapped. */
	for (int i = 0; i < 2; i++) {
		fx_entry(&f, NULL, f.issuer, LEDGER_MINT, &e);
		e.seq              = (uint64_t) i + 1;
		e.prev             = i ? c[0]->hash : e.prev;
		e.body.mint.to     = f.pub[i];
		e.body.mint.amount = 1000;
		CHECK_OK(ledger_entry_sign_account(&e, f.issuer));
		CHECK_OK(ledger_store_certify(f.s, f.val, 4, &e, 0, c[i]));
		CHECK_OK(ledger_store_ingest(f.s, &c[i], 1, res));
		CHECK_OK(res[0]);
	}
	for (int i = 0; i < 2; i++) {
		fx_entry(&f, NULL, f.acct[i], LEDGER_TRANSFER, &e);
		e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
		memcpy(e.body.transfer.to.b, f.pub[5].b, 32);
		e.body.transfer.amount = 10 + (uint64_t) i;
		CHECK_OK(ledger_entry_sign_account(&e, f.acct[i]));
		CHECK_OK(ledger_store_certify(f.s, f.val, 4, &e, 0, c[2 + i]));
	}
	CHECK_OK(ledger_store_ingest(f.s, c + 2, 2, res));
	CHECK_OK(res[0]);
	CHECK_OK(res[1]);
	{
		ledger_cert *swapped[4] = { c[0], c[1], c[3], c[2] };
		CHECK_OK(ledger_store_ingest(b, swapped, 4, res));
		for (int i = 0; i < 4; i++) {
			CHECK_OK(res[i]);
		}
	}
	CHECK_OK(ledger_store_state_hash(f.s, &sa));
	CHECK_OK(ledger_store_state_hash(b, &sb));
	CHECK_MEM(sa.b, sb.b, 32);
	CHECK_OK(ledger_store_log_head(f.s, &na, &ra));
	CHECK_OK(ledger_store_log_head(b, &nb, &rb));
	CHECK_EQ(na, 4);
	CHECK_EQ(nb, 4);
	CHECK(memcmp(ra.b, rb.b, 32) != 0);

	/* Validator 0 signs A's log; both replicas keep its checkpoint. */
	CHECK_OK(head_checkpoint(&f, f.s, f.val[0], &cp));
	CHECK_OK(ledger_store_checkpoint_add(f.s, &cp, &o));
	CHECK_OK(ledger_store_checkpoint_add(b, &cp, &o));
	CHECK_OK(ledger_store_log_bundle(f.s, &c[2]->hash, &bu));
	CHECK_OK(ledger_bundle_verify(&bu));
	CHECK_MEM(bu.entry.b, c[2]->hash.b, 32);
	CHECK_MEM(bu.cp.validator.b, f.g.committee[0].key.b, 32);
	CHECK_EQ(bu.proof.index, 2);
	CHECK_ERR(ledger_store_log_bundle(b, &c[2]->hash, &bu), GH_EPENDING);
	/* Not even the mints, which both logs hold at the same index: the
	 * checkpoint signs a root that is not B's. */
	CHECK_ERR(ledger_store_log_bundle(b, &c[0]->hash, &bu), GH_EPENDING);

	/* A key outside the committee signing B's log does not count. */
	CHECK_OK(head_checkpoint(&f, b, f.node, &cp));
	(void) ledger_store_checkpoint_add(b, &cp, &o);
	CHECK_ERR(ledger_store_log_bundle(b, &c[2]->hash, &bu), GH_EPENDING);
	/* Validator 1 signing B's log does: transfer 0 sits at index 3
	 * there. */
	CHECK_OK(head_checkpoint(&f, b, f.val[1], &cp));
	CHECK_OK(ledger_store_checkpoint_add(b, &cp, &o));
	CHECK_OK(ledger_store_log_bundle(b, &c[2]->hash, &bu));
	CHECK_OK(ledger_bundle_verify(&bu));
	CHECK_MEM(bu.cp.validator.b, f.g.committee[1].key.b, 32);
	CHECK_EQ(bu.proof.index, 3);
	CHECK_MEM(bu.root.b, rb.b, 32);
	/* As a stranger's bundle: it must name the entry, and be signed by
	 * this committee for this network. */
	CHECK_OK(ledger_bundle_check(&bu, &f.g, &c[2]->hash));
	CHECK_ERR(ledger_bundle_check(&bu, &f.g, &c[3]->hash), GH_EPROTO);
	{
		ledger_genesis other = f.g;
		snprintf(other.network, sizeof(other.network), "othernet");
		CHECK_ERR(
		    ledger_bundle_check(&bu, &other, &c[2]->hash), GH_EPROTO);
		other                  = f.g;
		other.committee[1].key = other.committee[2].key;
		CHECK_ERR(
		    ledger_bundle_check(&bu, &other, &c[2]->hash), GH_EPROTO);
	}
	bu.proof.path[0].b[0] ^= 1;
	CHECK_ERR(ledger_bundle_check(&bu, &f.g, &c[2]->hash), GH_EBADSIG);

	memset(none.b, 0xa5, 32);
	CHECK_ERR(ledger_store_log_bundle(f.s, &none, &bu), GH_ENOENT);
	for (int i = 0; i < 4; i++) {
		free(c[i]);
	}
	ledger_store_close(b);
	fx_free(&f);
}
