/* seeds_test.c - the entry and certificate fuzz seeds (one per kind)
 * decode to their kind in the current format.  With GH_WRITE_SEEDS=1 in
 * the environment the test writes them afresh: signed entries of every
 * kind with realistic bodies, certified by the fixture's validators. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/kinds.h"

static void
seed_entry(fx *f, int kind, ledger_entry *e)
{
	gh_ed_key *rk = kx_receipt_key(1);

	if (ledger_kind_scheme(kind) == LEDGER_SCHEME_NODE) {
		kx_node_entry(f, kind, KX_T0, e);
	} else {
		fx_entry(f, f->s, f->acct[0], kind, e);
		e->time = KX_T0;
	}
	switch (kind) {
	case LEDGER_MINT:
		fx_entry(f, f->s, f->issuer, kind, e);
		e->body.mint.to     = f->pub[1];
		e->body.mint.amount = 1000000;
		break;
	case LEDGER_TRANSFER:
		e->body.transfer.dest = LEDGER_DEST_ACCOUNT;
		memcpy(e->body.transfer.to.b, f->pub[1].b, 32);
		e->body.transfer.amount = 250000;
		break;
	case LEDGER_ASSET_REGISTER:
		fx_asset_body(f, e, 1000);
		break;
	case LEDGER_SHARE_TRANSFER:
	case LEDGER_REVENUE_CLAIM:
		e->nconsumes        = 1;
		e->consumes[0].type = LEDGER_OBJ_LOT;
		memset(e->consumes[0].id.b, 0x31, 32);
		e->consumes[0].version = 2;
		e->body.share.lot      = e->consumes[0].id;
		if (kind == LEDGER_SHARE_TRANSFER) {
			e->body.share.to         = f->pub[2];
			e->body.share.amount     = 300;
			e->body.share.pool_total = 128708;
		} else {
			e->body.claim.pool_total = 128708;
		}
		break;
	case LEDGER_LEASE_OPEN:
		memset(e->body.lease_open.asset.b, 0x41, 32);
		gh_ed_key_pub(f->node, &e->body.lease_open.node);
		gh_ed_key_pub(rk, &e->body.lease_open.receipt_key);
		memset(e->body.lease_open.offer.b, 0x42, 32);
		e->body.lease_open.offer_seq = 3;
		e->body.lease_open.price     = 123457;
		e->body.lease_open.billing   = 1;
		e->body.lease_open.start     = KX_T0;
		e->body.lease_open.expiry    = KX_T0 + 5000;
		break;
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE: {
		market_receipt r;
		e->nconsumes        = 1;
		e->consumes[0].type = LEDGER_OBJ_LEASE;
		memset(e->consumes[0].id.b, 0x51, 32);
		e->consumes[0].version   = 1;
		e->body.lease_draw.lease = e->consumes[0].id;
		memset(&r, 0, sizeof(r));
		memcpy(r.lease.b, e->consumes[0].id.b, 32);
		r.seq    = 3;
		r.amount = 120000;
		market_receipt_sign(&r, rk);
		e->body.lease_draw.receipt_seq    = r.seq;
		e->body.lease_draw.receipt_amount = r.amount;
		e->body.lease_draw.receipt_sig    = r.sig;
		break;
	}
	case LEDGER_LEASE_EXPIRE:
		e->nconsumes        = 1;
		e->consumes[0].type = LEDGER_OBJ_LEASE;
		memset(e->consumes[0].id.b, 0x51, 32);
		e->consumes[0].version = 2;
		e->body.ref.id         = e->consumes[0].id;
		break;
	case LEDGER_PROOF:
		memset(e->body.proof.lease.b, 0x51, 32);
		memset(e->body.proof.proof.b, 0x61, 32);
		e->body.proof.tokens    = 4096;
		e->body.proof.device_ns = 1500000000;
		break;
	case LEDGER_LOAN_OFFER:
		e->body.loan_offer.borrower = f->pub[1];
		memset(e->body.loan_offer.lot.b, 0x31, 32);
		e->body.loan_offer.amount   = 20000;
		e->body.loan_offer.due      = 21000;
		e->body.loan_offer.expiry   = KX_T0 + 100;
		e->body.loan_offer.maturity = KX_T0 + 100000;
		break;
	case LEDGER_LOAN_CANCEL:
		e->nconsumes        = 1;
		e->consumes[0].type = LEDGER_OBJ_LOAN;
		memset(e->consumes[0].id.b, 0x71, 32);
		e->consumes[0].version = 0;
		e->body.ref.id         = e->consumes[0].id;
		break;
	default: /* TAKE, REPAY, SEIZE: the lot and the loan */
		e->nconsumes        = 2;
		e->consumes[0].type = LEDGER_OBJ_LOT;
		memset(e->consumes[0].id.b, 0x31, 32);
		e->consumes[0].version = 4;
		e->consumes[1].type    = LEDGER_OBJ_LOAN;
		memset(e->consumes[1].id.b, 0x71, 32);
		e->consumes[1].version = 1;
		if (kind == LEDGER_LOAN_REPAY) {
			e->body.loan_repay.loan   = e->consumes[1].id;
			e->body.loan_repay.amount = 5000;
		} else {
			e->body.ref.id = e->consumes[1].id;
		}
		break;
	}
	if (e->scheme == LEDGER_SCHEME_NODE) {
		ledger_entry_sign_node(e, f->node);
	} else if (kind == LEDGER_MINT) {
		ledger_entry_sign_account(e, f->issuer);
	} else {
		ledger_entry_sign_account(e, f->acct[0]);
	}
	gh_ed_key_free(rk);
}

TEST(ledger_fuzz_seeds_every_kind)
{
	fx          f;
	const char *write = getenv("GH_WRITE_SEEDS");

	CHECK_OK(kx_open_fx(&f, th_path(0, "seeds")));
	for (int k = 1; k <= LEDGER_KIND_MAX; k++) {
		ledger_entry e, d;
		ledger_cert *c = calloc(1, sizeof(*c));
		ledger_vote  v[4];
		uint8_t     *p = NULL, *q = NULL;
		size_t       n, m;
		char         path[4096];

		CHECK(c != NULL);
		seed_entry(&f, k, &e);
		CHECK_OK(ledger_entry_verify_sig(&e));
		CHECK_OK(ledger_entry_encode(&e, &p, &n));
		for (int i = 0; i < 4; i++) {
			gh_hash vh;
			v[i].netid = f.netid;
			ledger_entry_hash(&e, &v[i].entry);
			gh_ed_key_pub(f.val[i], &v[i].validator);
			ledger_vote_hash(&f.netid, &v[i].entry, &vh);
			gh_ed_sign(f.val[i], &vh, &v[i].sig);
		}
		CHECK_OK(ledger_cert_build(&f.g, &e, v, 4, c));
		CHECK_OK(ledger_cert_verify(&f.g, c));
		CHECK_OK(ledger_cert_encode(c, &q, &m));
		snprintf(path, sizeof(path),
		    "%s/tests/fuzz/corpus/entry_fuzz/kind%02d", th_src(), k);
		if (write != NULL) {
			CHECK_OK(gh_file_write_atomic(path, p, n, 0644));
		} else {
			uint8_t *r = NULL;
			size_t   rn;
			CHECK_OK(
			    gh_file_read(path, LEDGER_ENTRY_MAX, &r, &rn));
			CHECK_OK(ledger_entry_decode(r, rn, &d));
			CHECK_EQ(d.kind, k);
			free(r);
		}
		snprintf(path, sizeof(path),
		    "%s/tests/fuzz/corpus/cert_fuzz/kind%02d", th_src(), k);
		if (write != NULL) {
			CHECK_OK(gh_file_write_atomic(path, q, m, 0644));
		} else {
			uint8_t *r = NULL;
			size_t   rn;
			CHECK_OK(gh_file_read(path, LEDGER_CERT_MAX, &r, &rn));
			CHECK_OK(ledger_cert_decode(r, rn, c));
			CHECK_EQ(c->entry.kind, k);
			CHECK_OK(ledger_cert_verify(&f.g, c));
			free(r);
		}
		free(p);
		free(q);
		free(c);
	}
	fx_free(&f);
}
