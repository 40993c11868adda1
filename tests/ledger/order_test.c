/* order_test.c - property: random certified histories (transfers, pool
 * payments, share transfers, claims across several chains) applied in
 * many random orders consistent with each chain reach byte-identical
 * state, with every invariant holding after each step.
 *
 * Pool payments are TRANSFERs whose destination is an asset's pool
 * (LEDGER_DEST_POOL), the one way to pay a pool until LEASE_DRAW. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

#define NACC   6
#define MAXH   400
#define MAXLOT 256

typedef struct {
	ledger_cert *c[MAXH];
	int          author[MAXH]; /* chain: 0..NACC-1, NACC = issuer */
	int          n;
	uint64_t     minted;
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

	if ((rv = ledger_entry_sign_account(
	         e, who == NACC ? f->issuer : f->acct[who]))
	    != GH_OK) {
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

/* Random valid operations, certified and applied in a generator store. */
static int
gen_history(fx *f, uint64_t *rnd, int steps, history *h)
{
	ledger_id assets[4];
	int       nassets = 0;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < steps; i++) {
		ledger_entry e;
		int          op  = (int) (th_rand(rnd) % 10);
		int          who = (int) (th_rand(rnd) % NACC);
		uint64_t     bal = fx_balance(f, &f->pub[who]);
		int          rv  = GH_OK;

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
		} else if ((op == 4 || op == 5) && bal > 0 && nassets > 0) {
			fx_entry(f, f->s, f->acct[who], LEDGER_TRANSFER, &e);
			e.body.transfer.dest = LEDGER_DEST_POOL;
			e.body.transfer.to
			    = assets[th_rand(rnd) % (uint64_t) nassets];
			e.body.transfer.amount = 1 + th_rand(rnd) % bal;
			rv                     = gen_submit(f, h, who, &e);
		} else if (op >= 6 && nassets > 0) {
			/* A claim or a share transfer by some lot's holder. */
			lotset       ls;
			ledger_lot   l;
			ledger_asset a;
			int          k, hold = -1;
			ls.n = 0;
			ledger_store_lots(f->s, NULL, collect_lot, &ls);
			if (ls.n == 0) {
				continue;
			}
			k = (int) (th_rand(rnd) % (uint64_t) ls.n);
			ledger_store_lot(f->s, &ls.id[k], &l);
			ledger_store_asset(f->s, &l.asset, &a);
			for (int j = 0; j < NACC; j++) {
				if (memcmp(f->pub[j].b, l.holder.b, 32) == 0) {
					hold = j;
				}
			}
			if (hold < 0 || (op >= 8 && l.amount == 0)) {
				continue;
			}
			fx_entry(f, f->s, f->acct[hold],
			    op < 8 ? LEDGER_REVENUE_CLAIM
			           : LEDGER_SHARE_TRANSFER,
			    &e);
			e.nconsumes           = 1;
			e.consumes[0].type    = LEDGER_OBJ_LOT;
			e.consumes[0].id      = ls.id[k];
			e.consumes[0].version = l.version;
			{
				/* R' anywhere in [c, R]. */
				uint64_t rp = l.cursor
				    + th_rand(rnd)
				        % (a.paid_in - l.cursor + 1);
				if (op < 8) {
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
			return (rv);
		}
	}
	return (GH_OK);
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
		CHECK_OK(gen_history(&f, &rnd, 120, &h));
		CHECK_OK(ledger_store_state_hash(f.s, &want));
		{
			/* No micro-unit created or lost. */
			uint64_t     held = 0;
			lotset       ls;
			ledger_lot   l;
			ledger_asset a;
			ledger_id    seen[8];
			int          ns = 0, nl = 0;
			for (int j = 0; j < NACC; j++) {
				held += fx_balance(&f, &f.pub[j]);
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
			ledger_store_opts o              = { 0, 1, 1 };
			int               next[NACC + 1] = { 0 };
			int               done           = 0;
			gh_hash           got;
			char              why[256];
			uint64_t          ap, pe, eq;

			snprintf(name, sizeof(name), "o%d-%d", hist, ord);
			CHECK_OK(
			    ledger_store_open(th_path(1, name), &f.g, &o, &s));
			/* Pick a random chain, apply its next entry. */
			while (done < h.n) {
				int who = (int) (th_rand(&rnd) % (NACC + 1));
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
	printf("    %d orders, %d pending waits, %d share transfers, %d "
	       "claims\n",
	    orders_run, pend_seen, kinds[LEDGER_SHARE_TRANSFER],
	    kinds[LEDGER_REVENUE_CLAIM]);
}
