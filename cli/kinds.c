/* kinds.c - lease, loan and asset logic for the CLI over a store. */
#include <stdio.h>
#include <string.h>

#include "cli/devnet.h"
#include "cli/kinds.h"

int
cli_kinds_time(const char *s, uint64_t now, uint64_t *out)
{
	uint64_t v;
	int      rv;

	if (s[0] == '+') {
		if ((rv = cli_parse_u64(s + 1, &v)) != GH_OK) {
			return (rv);
		}
		return (gh_add_u64(now, v, out) == GH_OK ? GH_OK : GH_EINVAL);
	}
	return (cli_parse_u64(s, out));
}

int
cli_kinds_lease_open(ledger_store *s, ledger_entry *e, const ledger_id *asset,
    uint64_t start, uint64_t seconds, uint64_t price, uint8_t billing,
    const gh_ed_pub *receipt_key, const ledger_id *offer, uint64_t offer_seq)
{
	ledger_asset            as;
	ledger_body_lease_open *o = &e->body.lease_open;
	int                     rv;

	if ((rv = ledger_store_asset(s, asset, &as)) != GH_OK) {
		return (rv);
	}
	o->asset       = *asset;
	o->node        = as.node;
	o->receipt_key = *receipt_key;
	if (offer != NULL) {
		o->offer = *offer;
	}
	o->offer_seq = offer_seq;
	o->price     = price;
	o->billing   = billing;
	o->start     = start;
	if (gh_add_u64(start, seconds, &o->expiry) != GH_OK) {
		return (GH_EOVERFLOW);
	}
	return (GH_OK);
}

int
cli_kinds_lease_act(ledger_store *s, ledger_entry *e, const ledger_id *lease,
    const market_receipt *r)
{
	ledger_lease ls;
	int          rv;

	if ((rv = ledger_store_lease(s, lease, &ls)) != GH_OK) {
		return (rv);
	}
	e->nconsumes           = 1;
	e->consumes[0].type    = LEDGER_OBJ_LEASE;
	e->consumes[0].id      = *lease;
	e->consumes[0].version = ls.version;
	if (e->kind == LEDGER_LEASE_EXPIRE) {
		e->body.ref.id = *lease;
		return (GH_OK);
	}
	e->body.lease_draw.lease = *lease;
	if (r != NULL) {
		if (memcmp(r->lease.b, lease->b, 32) != 0) {
			return (GH_EINVAL);
		}
		e->body.lease_draw.receipt_seq    = r->seq;
		e->body.lease_draw.receipt_amount = r->amount;
		e->body.lease_draw.receipt_sig    = r->sig;
	}
	return (GH_OK);
}

int
cli_kinds_loan_act(
    ledger_store *s, ledger_entry *e, const ledger_id *loan, uint64_t amount)
{
	ledger_loan ln;
	ledger_lot  l;
	int         rv;

	if ((rv = ledger_store_loan(s, loan, &ln)) != GH_OK) {
		return (rv);
	}
	if (e->kind == LEDGER_LOAN_CANCEL) {
		e->nconsumes           = 1;
		e->consumes[0].type    = LEDGER_OBJ_LOAN;
		e->consumes[0].id      = *loan;
		e->consumes[0].version = ln.version;
		e->body.ref.id         = *loan;
		return (GH_OK);
	}
	if ((rv = ledger_store_lot(s, &ln.lot, &l)) != GH_OK) {
		return (rv);
	}
	e->nconsumes           = 2;
	e->consumes[0].type    = LEDGER_OBJ_LOT;
	e->consumes[0].id      = ln.lot;
	e->consumes[0].version = l.version;
	e->consumes[1].type    = LEDGER_OBJ_LOAN;
	e->consumes[1].id      = *loan;
	e->consumes[1].version = ln.version;
	if (e->kind == LEDGER_LOAN_REPAY) {
		e->body.loan_repay.loan   = *loan;
		e->body.loan_repay.amount = amount;
	} else {
		e->body.ref.id = *loan;
	}
	return (GH_OK);
}

int
cli_kinds_lot_consumes(ledger_store *s, ledger_entry *e, const ledger_id *lot)
{
	return (ledger_store_lot_consumes(s, e, lot));
}

/* ------------------------------------------------------------------ */
/* Printers. */

static const char *
cli_lease_state(int st)
{
	return (st == LEDGER_LEASE_ACTIVE   ? "active"
	        : st == LEDGER_LEASE_CLOSED ? "closed"
	                                    : "expired");
}

static const char *
cli_loan_state(int st)
{
	static const char *const n[]
	    = { "?", "offered", "taken", "repaid", "seized", "cancelled" };
	return (st >= 1 && st <= 5 ? n[st] : "?");
}

static void
cli_lease_print(const ledger_id *id, const ledger_lease *l, int json)
{
	char ih[65], rh[65], ah[65], nh[65], kh[65];

	gh_hex_encode(id->b, 32, ih);
	gh_hex_encode(l->renter.b, 32, rh);
	gh_hex_encode(l->asset.b, 32, ah);
	gh_hex_encode(l->node.b, 32, nh);
	gh_hex_encode(l->receipt_key.b, 32, kh);
	if (json) {
		printf("{\"lease\":\"%s\",\"state\":\"%s\",\"renter\":\"%s\","
		       "\"asset\":\"%s\",\"node\":\"%s\",\"receipt_key\":"
		       "\"%s\",\"price\":%llu,\"start\":%llu,\"expiry\":%llu,"
		       "\"escrow\":%llu,\"drawn\":%llu,\"fees\":%llu,"
		       "\"refunded\":%llu,\"last_seq\":%llu,\"version\":%llu}",
		    ih, cli_lease_state(l->state), rh, ah, nh, kh,
		    (unsigned long long) l->price,
		    (unsigned long long) l->start,
		    (unsigned long long) l->expiry,
		    (unsigned long long) l->escrow,
		    (unsigned long long) l->drawn,
		    (unsigned long long) l->fees,
		    (unsigned long long) l->refunded,
		    (unsigned long long) l->last_seq,
		    (unsigned long long) l->version);
		return;
	}
	printf("lease       %s\nstate       %s\nrenter      %s\nasset       "
	       "%s\nnode        %s\nreceipt key %s\nprice       %llu /h\n"
	       "start       %llu\nexpiry      %llu\nescrow      %llu\ndrawn   "
	       "    %llu\nfees        %llu\nrefunded    %llu\nlast seq    "
	       "%llu\n",
	    ih, cli_lease_state(l->state), rh, ah, nh, kh,
	    (unsigned long long) l->price, (unsigned long long) l->start,
	    (unsigned long long) l->expiry, (unsigned long long) l->escrow,
	    (unsigned long long) l->drawn, (unsigned long long) l->fees,
	    (unsigned long long) l->refunded,
	    (unsigned long long) l->last_seq);
}

int
cli_kinds_lease_show(ledger_store *s, const ledger_id *id, int json)
{
	ledger_lease l;
	int          rv;

	if ((rv = ledger_store_lease(s, id, &l)) != GH_OK) {
		return (rv);
	}
	cli_lease_print(id, &l, json);
	if (json) {
		printf("\n");
	}
	return (GH_OK);
}

typedef struct {
	int json, first;
} cli_list;

static int
cli_lease_row(void *arg, const ledger_id *id, const ledger_lease *l)
{
	cli_list *c = arg;
	char      ih[65];

	if (c->json) {
		printf("%s", c->first ? "" : ",");
		cli_lease_print(id, l, 1);
	} else {
		gh_hex_encode(id->b, 32, ih);
		printf("%s %-8s %12llu %12llu\n", ih,
		    cli_lease_state(l->state), (unsigned long long) l->escrow,
		    (unsigned long long) l->drawn);
	}
	c->first = 0;
	return (0);
}

int
cli_kinds_lease_list(ledger_store *s, int json)
{
	cli_list c = { json, 1 };
	int      rv;

	if (json) {
		printf("[");
	} else {
		printf("%-64s %-8s %12s %12s\n", "LEASE", "STATE", "ESCROW",
		    "DRAWN");
	}
	rv = ledger_store_leases(s, cli_lease_row, &c);
	if (json) {
		printf("]\n");
	}
	return (rv);
}

typedef struct {
	const gh_hash *want;
	uint64_t       time;
	int            found;
} cli_find;

static int
cli_find_entry(void *arg, uint64_t seq, const ledger_cert *c)
{
	cli_find *f = arg;
	(void) seq;
	if (memcmp(c->hash.b, f->want->b, 32) == 0) {
		f->time  = c->entry.time;
		f->found = 1;
		return (1);
	}
	return (0);
}

static void
cli_loan_print(ledger_store *s, const ledger_id *id, const ledger_loan *ln,
    uint64_t now, int json, int full)
{
	char         ih[65], lh[65], bh[65], th[65];
	ledger_lot   l;
	ledger_asset as;
	uint64_t     accrued = 0, lot_rev = 0, since = 0;
	char         ttr[64] = "unknown";

	gh_hex_encode(id->b, 32, ih);
	gh_hex_encode(ln->lender.b, 32, lh);
	gh_hex_encode(ln->borrower.b, 32, bh);
	gh_hex_encode(ln->lot.b, 32, th);
	if (full && ledger_store_lot(s, &ln->lot, &l) == GH_OK
	    && ledger_store_asset(s, &l.asset, &as) == GH_OK) {
		cli_find f;
		gh_hash  ah;
		accrued = ledger_lot_accrued(&l, &as);
		/* The lot's share of the asset's revenue over its whole
		 * history, from the asset's registration to now. */
		lot_rev
		    = (uint64_t) ((gh_u128) l.amount * as.paid_in / as.supply);
		memcpy(ah.b, l.asset.b, 32);
		f.want  = &ah;
		f.found = 0;
		ledger_store_chain(s, as.owner.b, 0, cli_find_entry, &f);
		if (f.found && now > f.time) {
			since = now - f.time;
		}
		if (ln->state != LEDGER_LOAN_TAKEN || ln->owed == 0) {
			snprintf(ttr, sizeof(ttr), "0");
		} else if (lot_rev == 0 || since == 0) {
			snprintf(ttr, sizeof(ttr), "never (no revenue yet)");
		} else {
			/* owed / (lot_rev / since), rounded up. */
			gh_u128 t = ((gh_u128) ln->owed * since + lot_rev - 1)
			    / lot_rev;
			snprintf(ttr, sizeof(ttr), "%llu",
			    (unsigned long long) (t > UINT64_MAX ? UINT64_MAX
			                                         : t));
		}
	}
	if (json) {
		printf("{\"loan\":\"%s\",\"state\":\"%s\",\"lender\":\"%s\","
		       "\"borrower\":\"%s\",\"lot\":\"%s\",\"amount\":%llu,"
		       "\"due\":%llu,\"owed\":%llu,\"repaid\":%llu,"
		       "\"repaid_by_claims\":%llu,\"repaid_by_payments\":%llu,"
		       "\"expiry\":%llu,\"maturity\":%llu",
		    ih, cli_loan_state(ln->state), lh, bh, th,
		    (unsigned long long) ln->amount,
		    (unsigned long long) ln->due,
		    (unsigned long long) ln->owed,
		    (unsigned long long) (ln->by_claims + ln->by_repay),
		    (unsigned long long) ln->by_claims,
		    (unsigned long long) ln->by_repay,
		    (unsigned long long) ln->expiry,
		    (unsigned long long) ln->maturity);
		if (full) {
			printf(",\"lot_earned\":%llu,\"lot_unclaimed\":%llu,"
			       "\"history_seconds\":%llu,\"time_to_repay\":"
			       "\"%s\"",
			    (unsigned long long) lot_rev,
			    (unsigned long long) accrued,
			    (unsigned long long) since, ttr);
		}
		printf("}");
		return;
	}
	if (!full) {
		printf("%s %-9s %12llu %12llu\n", ih,
		    cli_loan_state(ln->state), (unsigned long long) ln->amount,
		    (unsigned long long) ln->owed);
		return;
	}
	printf("loan          %s\nstate         %s\nlender        %s\n"
	       "borrower      %s\nlot           %s\namount        %llu\n"
	       "due           %llu\nowed          %llu\nrepaid        %llu "
	       "(claims %llu, payments %llu)\nexpiry        %llu\nmaturity  "
	       "    %llu\nlot earned    %llu (unclaimed %llu) over %llu s\n"
	       "time to repay %s s at that rate\n",
	    ih, cli_loan_state(ln->state), lh, bh, th,
	    (unsigned long long) ln->amount, (unsigned long long) ln->due,
	    (unsigned long long) ln->owed,
	    (unsigned long long) (ln->by_claims + ln->by_repay),
	    (unsigned long long) ln->by_claims,
	    (unsigned long long) ln->by_repay, (unsigned long long) ln->expiry,
	    (unsigned long long) ln->maturity, (unsigned long long) lot_rev,
	    (unsigned long long) accrued, (unsigned long long) since, ttr);
}

int
cli_kinds_loan_show(
    ledger_store *s, const ledger_id *id, uint64_t now, int json)
{
	ledger_loan ln;
	int         rv;

	if ((rv = ledger_store_loan(s, id, &ln)) != GH_OK) {
		return (rv);
	}
	cli_loan_print(s, id, &ln, now, json, 1);
	if (json) {
		printf("\n");
	}
	return (GH_OK);
}

typedef struct {
	ledger_store *s;
	int           json, first;
} cli_loan_list_ctx;

static int
cli_loan_row(void *arg, const ledger_id *id, const ledger_loan *ln)
{
	cli_loan_list_ctx *c = arg;

	if (c->json) {
		printf("%s", c->first ? "" : ",");
	}
	cli_loan_print(c->s, id, ln, 0, c->json, 0);
	c->first = 0;
	return (0);
}

int
cli_kinds_loan_list(ledger_store *s, int json)
{
	cli_loan_list_ctx c = { s, json, 1 };
	int               rv;

	if (json) {
		printf("[");
	} else {
		printf("%-64s %-9s %12s %12s\n", "LOAN", "STATE", "AMOUNT",
		    "OWED");
	}
	rv = ledger_store_loans(s, cli_loan_row, &c);
	if (json) {
		printf("]\n");
	}
	return (rv);
}

typedef struct {
	const ledger_asset *as;
	int                 json, first;
} cli_asset_ctx;

static int
cli_asset_lot(void *arg, const ledger_id *id, const ledger_lot *l)
{
	cli_asset_ctx *c = arg;
	char           lh[65], hh[65], nh[65];

	gh_hex_encode(id->b, 32, lh);
	gh_hex_encode(l->holder.b, 32, hh);
	gh_hex_encode(l->loan.b, 32, nh);
	if (c->json) {
		printf("%s{\"lot\":\"%s\",\"holder\":\"%s\",\"amount\":%llu,"
		       "\"accrued\":%llu,\"pledged\":%s",
		    c->first ? "" : ",", lh, hh,
		    (unsigned long long) l->amount,
		    (unsigned long long) ledger_lot_accrued(l, c->as),
		    l->pledged ? "true" : "false");
		if (l->pledged) {
			printf(",\"loan\":\"%s\"", nh);
		}
		printf("}");
	} else {
		printf("%s %s %12llu %12llu%s%s\n", lh, hh,
		    (unsigned long long) l->amount,
		    (unsigned long long) ledger_lot_accrued(l, c->as),
		    l->pledged ? " pledged to " : "", l->pledged ? nh : "");
	}
	c->first = 0;
	return (0);
}

int
cli_kinds_asset_show(ledger_store *s, const ledger_id *id, int json)
{
	ledger_asset  as;
	cli_asset_ctx c;
	char          ih[65], oh[65], nh[65];
	int           rv;

	if ((rv = ledger_store_asset(s, id, &as)) != GH_OK) {
		return (rv);
	}
	gh_hex_encode(id->b, 32, ih);
	gh_hex_encode(as.owner.b, 32, oh);
	gh_hex_encode(as.node.b, 32, nh);
	if (json) {
		printf("{\"asset\":\"%s\",\"owner\":\"%s\",\"node\":\"%s\","
		       "\"supply\":%llu,\"paid_in\":%llu,\"paid_out\":%llu,"
		       "\"pool\":%llu,\"lots\":[",
		    ih, oh, nh, (unsigned long long) as.supply,
		    (unsigned long long) as.paid_in,
		    (unsigned long long) as.paid_out,
		    (unsigned long long) (as.paid_in - as.paid_out));
	} else {
		printf("asset    %s\nowner    %s\nnode     %s\nhardware %s\n"
		       "supply   %llu\npaid in  %llu\npaid out %llu\npool     "
		       "%llu\n\n%-64s %-64s %12s %12s\n",
		    ih, oh, nh, as.hw, (unsigned long long) as.supply,
		    (unsigned long long) as.paid_in,
		    (unsigned long long) as.paid_out,
		    (unsigned long long) (as.paid_in - as.paid_out), "LOT",
		    "HOLDER", "SHARES", "ACCRUED");
	}
	c.as    = &as;
	c.json  = json;
	c.first = 1;
	rv      = ledger_store_lots(s, id, cli_asset_lot, &c);
	if (json) {
		printf("]}\n");
	}
	return (rv);
}
