/* claims.c - automatic revenue claims: see claims.h. */
#include <stdlib.h>
#include <string.h>

#include "node/claims.h"
#include "node/priv.h"

struct node_claims {
	ledger_store *s;
	node_ledger  *l;
	gh_acct_key  *key;
	gh_acct_pub   pub;
	uint64_t      every_s;
	uint64_t      next; /* unix seconds of the next scan */
	int           busy;
};

typedef struct {
	node_claims *cl;
	ledger_id    lot;
	int          found;
} ncl_scan;

static int
ncl_lot(void *arg, const ledger_id *id, const ledger_lot *lot)
{
	ncl_scan    *sc = arg;
	ledger_asset as;

	if (memcmp(lot->holder.b, sc->cl->pub.b, 32) != 0
	    || ledger_store_asset(sc->cl->s, &lot->asset, &as) != GH_OK
	    || ledger_lot_accrued(lot, &as) == 0) {
		return (0);
	}
	sc->lot   = *id;
	sc->found = 1;
	return (1);
}

static int
ncl_asset(void *arg, const ledger_id *id, const ledger_asset *a)
{
	ncl_scan *sc = arg;

	(void) a;
	(void) ledger_store_lots(sc->cl->s, id, ncl_lot, sc);
	return (sc->found);
}

static void
ncl_done(void *arg, int status, const gh_hash *h, uint32_t votes)
{
	node_claims *cl = arg;
	char         hex[65];

	(void) votes;
	cl->busy = 0;
	if (status == GH_OK) {
		gh_hex_encode(h->b, 32, hex);
		node_log(0, "info", "msg=\"revenue claimed\" entry=%s", hex);
		cl->next = 0; /* look for the next lot at once */
	} else {
		node_log(0, "warn", "msg=\"revenue claim refused\" err=\"%s\"",
		    gh_strerror(status));
		cl->next = gh_time_now() + cl->every_s;
	}
}

/* One claim for the lot: the account's next entry. */
static int
ncl_submit(node_claims *cl, const ledger_id *lot)
{
	ledger_entry   e;
	ledger_account a;
	ledger_lot     l;
	ledger_asset   as;
	uint8_t       *p = NULL;
	size_t         n;
	int            rv;

	memset(&e, 0, sizeof(e));
	rv = ledger_store_account(cl->s, cl->pub.b, 0, &a);
	if (rv != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_store_lot(cl->s, lot, &l)) != GH_OK
	    || (rv = ledger_store_asset(cl->s, &l.asset, &as)) != GH_OK
	    || (rv = ledger_store_lot_consumes(cl->s, &e, lot)) != GH_OK) {
		return (rv);
	}
	e.kind   = LEDGER_REVENUE_CLAIM;
	e.scheme = LEDGER_SCHEME_ACCOUNT;
	e.netid  = *ledger_store_netid(cl->s);
	memcpy(e.author, cl->pub.b, 32);
	e.seq                   = a.seq + 1;
	e.prev                  = a.head;
	e.time                  = gh_time_now();
	e.body.claim.lot        = *lot;
	e.body.claim.pool_total = as.paid_in;
	if ((rv = ledger_entry_sign_account(&e, cl->key)) == GH_OK
	    && (rv = ledger_entry_encode(&e, &p, &n)) == GH_OK) {
		cl->busy = 1;
		rv       = node_ledger_submit(cl->l, p, n, ncl_done, cl);
		if (rv != GH_OK) {
			cl->busy = 0;
		}
	}
	free(p);
	return (rv);
}

static void
ncl_tick(void *arg)
{
	node_claims *cl  = arg;
	uint64_t     now = gh_time_now();
	ncl_scan     sc;

	if (cl->busy || now < cl->next) {
		return;
	}
	memset(&sc, 0, sizeof(sc));
	sc.cl = cl;
	(void) ledger_store_assets(cl->s, ncl_asset, &sc);
	if (!sc.found || ncl_submit(cl, &sc.lot) != GH_OK) {
		cl->next = now + cl->every_s;
	}
}

int
node_claims_attach(node *n, const node_config *c, node_ledger *l,
    gh_acct_key *key, node_claims **out)
{
	node_claims *cl;
	int          rv;

	*out = NULL;
	if ((cl = calloc(1, sizeof(*cl))) == NULL) {
		gh_acct_key_free(key);
		return (GH_ENOMEM);
	}
	cl->s       = node_ledger_store(l);
	cl->l       = l;
	cl->key     = key;
	cl->every_s = c->claim_every_s;
	gh_acct_key_pub(key, &cl->pub);
	if ((rv = node_register_timer(n, 1000, ncl_tick, cl)) != GH_OK) {
		node_claims_free(cl);
		return (rv);
	}
	*out = cl;
	return (GH_OK);
}

void
node_claims_free(node_claims *cl)
{
	if (cl == NULL) {
		return;
	}
	gh_acct_key_free(cl->key);
	free(cl);
}
