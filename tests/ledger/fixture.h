/* fixture.h - a devnet in one process for the ledger tests and bench:
 * a genesis from fixed seeds, validator, issuer and account keys, a
 * store, and helpers to build, sign, certify and ingest entries. */
#ifndef GH_TESTS_LEDGER_FIXTURE_H
#define GH_TESTS_LEDGER_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

#define FX_ACCTS 8
#define FX_VALS  7

typedef struct {
	ledger_genesis g;
	gh_hash        netid;
	gh_ed_key     *val[FX_VALS];
	int            nval;
	gh_acct_key   *issuer;
	gh_acct_key   *acct[FX_ACCTS];
	gh_acct_pub    pub[FX_ACCTS];
	gh_acct_pub    issuer_pub;
	gh_ed_key     *node;
	ledger_store  *s;
} fx;

static void
fx_seed(uint8_t seed[32], uint8_t kind, int i)
{
	memset(seed, 0, 32);
	seed[0]  = kind;
	seed[1]  = (uint8_t) i;
	seed[31] = 1;
}

/* A genesis with nval validators; keys from fixed seeds. */
__attribute__((unused)) static int
fx_genesis(fx *f, int nval)
{
	uint8_t seed[32];
	int     rv;

	memset(f, 0, sizeof(*f));
	f->nval = nval;
	snprintf(f->g.network, sizeof(f->g.network), "testnet");
	f->g.n = (uint32_t) nval;
	for (int i = 0; i < nval; i++) {
		fx_seed(seed, 'v', i);
		if ((rv = gh_ed_key_from_seed(seed, &f->val[i])) != GH_OK) {
			return (rv);
		}
		gh_ed_key_pub(f->val[i], &f->g.committee[i].key);
		snprintf(f->g.committee[i].addr,
		    sizeof(f->g.committee[i].addr), "tcp://127.0.0.1:%d",
		    7000 + i);
	}
	fx_seed(seed, 'i', 0);
	if ((rv = gh_acct_key_from_seed(seed, &f->issuer)) != GH_OK) {
		return (rv);
	}
	gh_acct_key_pub(f->issuer, &f->issuer_pub);
	f->g.issuer = f->issuer_pub;
	for (int i = 0; i < FX_ACCTS; i++) {
		fx_seed(seed, 'a', i);
		if ((rv = gh_acct_key_from_seed(seed, &f->acct[i])) != GH_OK) {
			return (rv);
		}
		gh_acct_key_pub(f->acct[i], &f->pub[i]);
	}
	f->g.treasury     = f->pub[FX_ACCTS - 1];
	f->g.fee_bps      = 100;
	f->g.lease_grace  = 600;
	f->g.clock_margin = 30;
	fx_seed(seed, 'n', 0);
	if ((rv = gh_ed_key_from_seed(seed, &f->node)) != GH_OK) {
		return (rv);
	}
	ledger_genesis_netid(&f->g, &f->netid);
	return (GH_OK);
}

__attribute__((unused)) static int
fx_open(fx *f, const char *dir)
{
	ledger_store_opts o = { 0, 0, 1, 0 };
	return (ledger_store_open(dir, &f->g, &o, &f->s));
}

__attribute__((unused)) static void
fx_free(fx *f)
{
	ledger_store_close(f->s);
	for (int i = 0; i < FX_VALS; i++) {
		gh_ed_key_free(f->val[i]);
	}
	for (int i = 0; i < FX_ACCTS; i++) {
		gh_acct_key_free(f->acct[i]);
	}
	gh_acct_key_free(f->issuer);
	gh_ed_key_free(f->node);
	memset(f, 0, sizeof(*f));
}

/* An entry by account key k with the chain position read from the store
 * (or given by seq/prev when s is NULL). */
__attribute__((unused)) static void
fx_entry(
    fx *f, ledger_store *s, const gh_acct_key *k, int kind, ledger_entry *e)
{
	gh_acct_pub    pub;
	ledger_account a;

	memset(e, 0, sizeof(*e));
	gh_acct_key_pub(k, &pub);
	e->kind   = (uint8_t) kind;
	e->scheme = LEDGER_SCHEME_ACCOUNT;
	e->netid  = f->netid;
	memcpy(e->author, pub.b, 32);
	e->time = gh_time_now();
	if (s != NULL && ledger_store_account(s, pub.b, 0, &a) == GH_OK) {
		e->seq  = a.seq + 1;
		e->prev = a.head;
	} else {
		e->seq = 1;
	}
}

/* Certifies with all validators and ingests; returns the entry's
 * result (or the certify/ingest error). */
__attribute__((unused)) static int
fx_submit(fx *f, ledger_entry *e, const gh_acct_key *k)
{
	ledger_cert *c = malloc(sizeof(*c));
	int          rv, res = GH_EINTERNAL;

	if (c == NULL) {
		return (GH_ENOMEM);
	}
	if (k != NULL && (rv = ledger_entry_sign_account(e, k)) != GH_OK) {
		free(c);
		return (rv);
	}
	rv = ledger_store_certify(f->s, f->val, (size_t) f->nval, e, 0, c);
	if (rv == GH_OK) {
		rv = ledger_store_ingest(f->s, &c, 1, &res);
		if (rv == GH_OK) {
			rv = res;
		}
	}
	free(c);
	return (rv);
}

__attribute__((unused)) static int
fx_mint(fx *f, const gh_acct_pub *to, uint64_t amount)
{
	ledger_entry e;

	fx_entry(f, f->s, f->issuer, LEDGER_MINT, &e);
	e.body.mint.to     = *to;
	e.body.mint.amount = amount;
	return (fx_submit(f, &e, f->issuer));
}

__attribute__((unused)) static int
fx_transfer(fx *f, int from, const gh_acct_pub *to, uint64_t amount)
{
	ledger_entry e;

	fx_entry(f, f->s, f->acct[from], LEDGER_TRANSFER, &e);
	e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
	memcpy(e.body.transfer.to.b, to->b, 32);
	e.body.transfer.amount = amount;
	return (fx_submit(f, &e, f->acct[from]));
}

/* Fills an ASSET_REGISTER body for owner with the fixture's node key. */
__attribute__((unused)) static void
fx_asset_body(fx *f, ledger_entry *e, uint64_t supply)
{
	gh_hash bh;

	gh_ed_key_pub(f->node, &e->body.asset.node);
	ledger_asset_binding_hash(&f->netid, e->author, &bh);
	gh_ed_sign(f->node, &bh, &e->body.asset.node_sig);
	e->body.asset.supply = supply;
	snprintf(e->body.asset.hw, sizeof(e->body.asset.hw), "test GPU");
}

__attribute__((unused)) static uint64_t
fx_balance(fx *f, const gh_acct_pub *p)
{
	ledger_account a;
	if (ledger_store_account(f->s, p->b, 0, &a) != GH_OK) {
		return (0);
	}
	return (a.balance);
}

#endif
