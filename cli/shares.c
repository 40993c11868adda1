/* shares.c - `gpuhour shares register|holders|transfer|claim`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/kinds.h"

static const char cli_shares_usage[]
    = "usage: gpuhour shares register [--datadir DIR] --key FILE "
      "--node-key FILE\n"
      "                               --supply S [--hw TEXT]\n"
      "       gpuhour shares holders [--datadir DIR] [--json] ASSET\n"
      "       gpuhour shares transfer [--datadir DIR] --key FILE --lot LOT "
      "--to ACCOUNT\n"
      "                               --amount N [--at R]\n"
      "       gpuhour shares claim [--datadir DIR] --key FILE --lot LOT "
      "[--at R]\n"
      "\n"
      "A GPU registered as an asset has a revenue pool and S shares, first\n"
      "in one lot held by its owner (the account key; the node key signs\n"
      "the binding).  A lot's holder claims its part of what was paid into\n"
      "the pool up to a pool total R (default: the total applied here); a\n"
      "transfer settles the seller's part at R, then moves N shares into a\n"
      "new lot for the buyer.  On a devnet every step is certified by its\n"
      "local validators.  Amounts are integer micro-units; ASSET, LOT and\n"
      "ACCOUNT are 64 hex digits.\n"
      "\n"
      "  --node CONFIG         instead of --datadir: a running node's\n"
      "                        configuration; reads come from its store,\n"
      "                        entries are signed here and certified by\n"
      "                        the committee over the network\n"
      "  --key FILE            the owner's or holder's account key file\n"
      "  --node-key FILE       the GPU's node key file (register)\n"
      "  --passphrase-env VAR  the account key's passphrase is in $VAR\n"
      "  --json                machine-readable output\n";

enum {
	OPT_DATADIR = 256,
	OPT_NODE,
	OPT_KEY,
	OPT_NODEKEY,
	OPT_PASSENV,
	OPT_SUPPLY,
	OPT_HW,
	OPT_LOT,
	OPT_TO,
	OPT_AMOUNT,
	OPT_AT,
	OPT_JSON,
};

static const struct option cli_shares_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "node-key", required_argument, NULL, OPT_NODEKEY },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "supply", required_argument, NULL, OPT_SUPPLY },
	{ "hw", required_argument, NULL, OPT_HW },
	{ "lot", required_argument, NULL, OPT_LOT },
	{ "to", required_argument, NULL, OPT_TO },
	{ "amount", required_argument, NULL, OPT_AMOUNT },
	{ "at", required_argument, NULL, OPT_AT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *datadir, *node, *key, *nodekey, *passenv, *hw, *lot, *to,
	    *arg;
	uint64_t supply, amount, at;
	int      have_supply, have_amount, have_at, json;
} cli_shares_args;

static int
cli_shares_register(const cli_shares_args *a)
{
	cli_devnet     *d  = NULL;
	gh_acct_key    *k  = NULL;
	gh_ed_key      *nk = NULL;
	gh_keyfile_info info;
	ledger_entry    e;
	ledger_id       lot;
	gh_hash         h, bh;
	char           *pass    = NULL;
	size_t          passlen = 0;
	char            hex[65], lhex[65];
	int             rv;

	if (a->key == NULL || a->nodekey == NULL || !a->have_supply) {
		return (cli_usage_error("shares",
		    "register needs --key, --node-key and --supply"));
	}
	if (a->hw != NULL && strlen(a->hw) > LEDGER_HW_MAX) {
		return (cli_usage_error(
		    "shares", "--hw is at most %d bytes", LEDGER_HW_MAX));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if ((rv = gh_keyfile_info_read(a->nodekey, &info)) == GH_OK
	    && info.encrypted) {
		rv = cli_pass_get(a->passenv, 0, &pass, &passlen);
	}
	if (rv == GH_OK) {
		rv = gh_keyfile_open_node(a->nodekey, pass, passlen, &nk);
	}
	cli_pass_free(pass);
	if (rv != GH_OK) {
		gh_acct_key_free(k);
		return (cli_fail(rv, "%s", a->nodekey));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) != GH_OK) {
		gh_acct_key_free(k);
		gh_ed_key_free(nk);
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	if ((rv = cli_devnet_prepare(d, k, LEDGER_ASSET_REGISTER, &e))
	    == GH_OK) {
		gh_ed_key_pub(nk, &e.body.asset.node);
		ledger_asset_binding_hash(&e.netid, e.author, &bh);
		gh_ed_sign(nk, &bh, &e.body.asset.node_sig);
		e.body.asset.supply = a->supply;
		snprintf(e.body.asset.hw, sizeof(e.body.asset.hw), "%s",
		    a->hw != NULL ? a->hw : "");
		rv = cli_devnet_submit(d, &e, k, &h);
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	gh_ed_key_free(nk);
	if (rv != GH_OK) {
		return (cli_fail(rv, "asset registration refused"));
	}
	ledger_lot_id(&h, 0, &lot);
	gh_hex_encode(h.b, 32, hex);
	gh_hex_encode(lot.b, 32, lhex);
	if (a->json) {
		printf("{\"asset\":\"%s\",\"lot\":\"%s\",\"supply\":%llu}\n",
		    hex, lhex, (unsigned long long) a->supply);
	} else {
		printf("asset  %s\nlot    %s\nsupply %llu\n", hex, lhex,
		    (unsigned long long) a->supply);
	}
	return (CLI_EXIT_OK);
}

typedef struct {
	int      json, first;
	uint64_t total;
} cli_holders;

static int
cli_shares_holder(void *arg, const ledger_id *id, const ledger_lot *l)
{
	cli_holders *hs = arg;
	char         lh[65], hh[65];

	if (l->amount == 0 && l->carry == 0) {
		return (0);
	}
	gh_hex_encode(id->b, 32, lh);
	gh_hex_encode(l->holder.b, 32, hh);
	if (hs->json) {
		printf("%s{\"lot\":\"%s\",\"holder\":\"%s\",\"amount\":%llu,"
		       "\"cursor\":%llu,\"carry\":%llu,\"version\":%llu}",
		    hs->first ? "" : ",", lh, hh,
		    (unsigned long long) l->amount,
		    (unsigned long long) l->cursor,
		    (unsigned long long) l->carry,
		    (unsigned long long) l->version);
	} else {
		printf("%s %s %12llu %14llu %8llu\n", lh, hh,
		    (unsigned long long) l->amount,
		    (unsigned long long) l->cursor,
		    (unsigned long long) l->carry);
	}
	hs->first = 0;
	hs->total += l->amount;
	return (0);
}

static int
cli_shares_holders(const cli_shares_args *a)
{
	cli_devnet  *d = NULL;
	ledger_id    id;
	ledger_asset as;
	cli_holders  hs = { a->json, 1, 0 };
	char         hex[65];
	int          rv;

	if (a->arg == NULL || cli_parse_id(a->arg, id.b) != GH_OK) {
		return (cli_usage_error(
		    "shares", "holders needs ASSET (64 hex digits)"));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 0, &d)) != GH_OK) {
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	if ((rv = ledger_store_asset(cli_devnet_store(d), &id, &as))
	    != GH_OK) {
		cli_devnet_close(d);
		return (cli_fail(rv, "asset %s", a->arg));
	}
	gh_hex_encode(as.owner.b, 32, hex);
	if (a->json) {
		printf("{\"asset\":\"%s\",\"owner\":\"%s\",\"supply\":%llu,"
		       "\"paid_in\":%llu,\"paid_out\":%llu,\"lots\":[",
		    a->arg, hex, (unsigned long long) as.supply,
		    (unsigned long long) as.paid_in,
		    (unsigned long long) as.paid_out);
	} else {
		printf("asset    %s\nowner    %s\nhardware %s\nsupply   %llu\n"
		       "paid in  %llu\npaid out %llu\n\n%-64s %-64s %12s %14s "
		       "%8s\n",
		    a->arg, hex, as.hw, (unsigned long long) as.supply,
		    (unsigned long long) as.paid_in,
		    (unsigned long long) as.paid_out, "LOT", "HOLDER",
		    "SHARES", "CURSOR", "CARRY");
	}
	rv = ledger_store_lots(
	    cli_devnet_store(d), &id, cli_shares_holder, &hs);
	if (a->json) {
		printf("]}\n");
	}
	cli_devnet_close(d);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "lots"));
}

static int
cli_shares_move(const cli_shares_args *a, int transfer)
{
	cli_devnet  *d = NULL;
	gh_acct_key *k = NULL;
	ledger_entry e;
	ledger_id    lot;
	ledger_lot   l;
	ledger_asset as;
	gh_acct_pub  to;
	gh_hash      h;
	char         hex[65];
	uint64_t     before = 0;
	int          rv;

	if (a->key == NULL || a->lot == NULL
	    || (transfer && (a->to == NULL || !a->have_amount))) {
		return (cli_usage_error("shares",
		    transfer ? "transfer needs --key, --lot, --to and --amount"
		             : "claim needs --key and --lot"));
	}
	if (cli_parse_id(a->lot, lot.b) != GH_OK
	    || (transfer && cli_parse_id(a->to, to.b) != GH_OK)) {
		return (cli_usage_error(
		    "shares", "--lot and --to take 64 hex digits"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) != GH_OK) {
		gh_acct_key_free(k);
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	rv = cli_devnet_prepare(
	    d, k, transfer ? LEDGER_SHARE_TRANSFER : LEDGER_REVENUE_CLAIM, &e);
	if (rv == GH_OK) {
		rv = ledger_store_lot(cli_devnet_store(d), &lot, &l);
	}
	if (rv == GH_OK) {
		rv = ledger_store_asset(cli_devnet_store(d), &l.asset, &as);
	}
	if (rv == GH_OK) {
		ledger_account acc;
		if (ledger_store_account(
		        cli_devnet_store(d), e.author, 0, &acc)
		    == GH_OK) {
			before = acc.balance;
		}
		/* A pledged lot's claim consumes its loan too. */
		rv = cli_kinds_lot_consumes(cli_devnet_store(d), &e, &lot);
	}
	if (rv == GH_OK) {
		uint64_t rp = a->have_at ? a->at : as.paid_in;
		if (transfer) {
			e.body.share.lot        = lot;
			e.body.share.to         = to;
			e.body.share.amount     = a->amount;
			e.body.share.pool_total = rp;
		} else {
			e.body.claim.lot        = lot;
			e.body.claim.pool_total = rp;
		}
		rv = cli_devnet_submit(d, &e, k, &h);
	}
	if (rv == GH_OK) {
		ledger_account acc;
		memset(&acc, 0, sizeof(acc));
		ledger_store_account(cli_devnet_store(d), e.author, 0, &acc);
		gh_hex_encode(h.b, 32, hex);
		if (a->json) {
			printf("{\"entry\":\"%s\",\"paid\":%llu", hex,
			    (unsigned long long) (acc.balance - before));
		} else {
			printf("entry %s\npaid  %llu\n", hex,
			    (unsigned long long) (acc.balance - before));
		}
		if (transfer) {
			ledger_id nl;
			ledger_lot_id(&h, 1, &nl);
			gh_hex_encode(nl.b, 32, hex);
			printf(a->json ? ",\"new_lot\":\"%s\"" : "lot   %s\n",
			    hex);
		}
		if (a->json) {
			printf("}\n");
		}
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	if (rv != GH_OK) {
		return (cli_fail(
		    rv, "%s refused", transfer ? "transfer" : "claim"));
	}
	return (CLI_EXIT_OK);
}

int
cli_shares_main(int argc, char **argv)
{
	cli_shares_args a;
	const char     *verb;
	int             c;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_shares_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_shares_usage, stdout);
		return (CLI_EXIT_OK);
	}
	optind = 1;
	opterr = 0;
	while (
	    (c = getopt_long(argc - 1, argv + 1, "h", cli_shares_opts, NULL))
	    != -1) {
		uint64_t *u    = NULL;
		int      *have = NULL;
		switch (c) {
		case OPT_DATADIR:
			a.datadir = optarg;
			break;
		case OPT_NODE:
			a.node = optarg;
			break;
		case OPT_KEY:
			a.key = optarg;
			break;
		case OPT_NODEKEY:
			a.nodekey = optarg;
			break;
		case OPT_PASSENV:
			a.passenv = optarg;
			break;
		case OPT_SUPPLY:
			u    = &a.supply;
			have = &a.have_supply;
			break;
		case OPT_HW:
			a.hw = optarg;
			break;
		case OPT_LOT:
			a.lot = optarg;
			break;
		case OPT_TO:
			a.to = optarg;
			break;
		case OPT_AMOUNT:
			u    = &a.amount;
			have = &a.have_amount;
			break;
		case OPT_AT:
			u    = &a.at;
			have = &a.have_at;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case 'h':
			fputs(cli_shares_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "shares", "unknown option or missing value"));
		}
		if (u != NULL) {
			if (cli_parse_u64(optarg, u) != GH_OK) {
				return (cli_usage_error(
				    "shares", "'%s' is not a number", optarg));
			}
			*have = 1;
		}
	}
	if (optind < argc - 1) {
		a.arg = argv[1 + optind];
		if (optind + 1 < argc - 1 || strcmp(verb, "holders") != 0) {
			return (cli_usage_error("shares",
			    "unexpected argument '%s'", argv[1 + optind]));
		}
	}
	if (a.datadir != NULL && a.node != NULL) {
		return (cli_usage_error(
		    "shares", "--node and --datadir exclude each other"));
	}
	if (strcmp(verb, "register") == 0) {
		return (cli_shares_register(&a));
	}
	if (strcmp(verb, "holders") == 0) {
		return (cli_shares_holders(&a));
	}
	if (strcmp(verb, "transfer") == 0) {
		return (cli_shares_move(&a, 1));
	}
	if (strcmp(verb, "claim") == 0) {
		return (cli_shares_move(&a, 0));
	}
	return (cli_usage_error("shares", "unknown verb '%s'", verb));
}
