/* loan.c - `gpuhour loan offer|take|repay|cancel|seize|list|show` on
 * the single-process devnet. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/kinds.h"

static const char cli_loan_usage[]
    = "usage: gpuhour loan offer [--datadir DIR] --key FILE --borrower "
      "ACCOUNT\n"
      "                          --lot LOT --amount A --due D --expiry T "
      "--maturity T\n"
      "       gpuhour loan take   [--datadir DIR] --key FILE LOAN\n"
      "       gpuhour loan repay  [--datadir DIR] --key FILE --amount A "
      "LOAN\n"
      "       gpuhour loan cancel [--datadir DIR] --key FILE LOAN\n"
      "       gpuhour loan seize  [--datadir DIR] --key FILE LOAN\n"
      "       gpuhour loan list   [--datadir DIR] [--json]\n"
      "       gpuhour loan show   [--datadir DIR] [--json] LOAN\n"
      "\n"
      "Compute as collateral.  A lender's `offer` locks A micro-units for\n"
      "one borrower against one share lot, with D due by the maturity.\n"
      "Until the offer's expiry the borrower may `take` it: the lot is\n"
      "pledged (it cannot move) and A is credited to the borrower.  While\n"
      "pledged, the lot's revenue claims pay the lender until D is paid,\n"
      "then release the lot.  The borrower may `repay` (never more than\n"
      "owed) until maturity; from maturity + clock margin the lender may\n"
      "`seize` the lot.  From expiry + margin the lender may `cancel` an\n"
      "offer nobody took.  `show` prints the debt, what the lot earned\n"
      "and repaid, and how long the lot's revenue rate over its history\n"
      "would take to repay the rest.  Times are unix seconds or +S (from\n"
      "now); ids are 64 hex digits.\n"
      "\n"
      "  --node CONFIG         instead of --datadir: a running node's\n"
      "                        configuration; reads come from its store,\n"
      "                        entries are signed here and certified by\n"
      "                        the committee over the network\n"
      "  --key FILE            the lender's or borrower's account key\n"
      "  --passphrase-env VAR  the key's passphrase is in $VAR\n"
      "  --json                machine-readable output\n";

enum {
	OPT_DATADIR = 256,
	OPT_NODE,
	OPT_KEY,
	OPT_PASSENV,
	OPT_BORROWER,
	OPT_LOT,
	OPT_AMOUNT,
	OPT_DUE,
	OPT_EXPIRY,
	OPT_MATURITY,
	OPT_JSON,
};

static const struct option cli_loan_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "borrower", required_argument, NULL, OPT_BORROWER },
	{ "lot", required_argument, NULL, OPT_LOT },
	{ "amount", required_argument, NULL, OPT_AMOUNT },
	{ "due", required_argument, NULL, OPT_DUE },
	{ "expiry", required_argument, NULL, OPT_EXPIRY },
	{ "maturity", required_argument, NULL, OPT_MATURITY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *datadir, *node, *key, *passenv, *borrower, *lot, *expiry;
	const char *maturity, *arg;
	uint64_t    amount, due;
	int         have_amount, have_due, json;
} cli_loan_args;

static int
cli_loan_offer_cmd(const cli_loan_args *a)
{
	cli_devnet  *d = NULL;
	gh_acct_key *k = NULL;
	ledger_entry e;
	gh_acct_pub  bor;
	ledger_id    lot, id;
	uint64_t     now = gh_time_now(), exp, mat;
	gh_hash      h;
	int          rv;

	if (a->key == NULL || a->borrower == NULL || a->lot == NULL
	    || !a->have_amount || !a->have_due || a->expiry == NULL
	    || a->maturity == NULL) {
		return (cli_usage_error("loan",
		    "offer needs --key, --borrower, --lot, --amount, --due, "
		    "--expiry and --maturity"));
	}
	if (cli_parse_id(a->borrower, bor.b) != GH_OK
	    || cli_parse_id(a->lot, lot.b) != GH_OK) {
		return (cli_usage_error(
		    "loan", "--borrower and --lot take 64 hex digits"));
	}
	if (cli_kinds_time(a->expiry, now, &exp) != GH_OK
	    || cli_kinds_time(a->maturity, now, &mat) != GH_OK) {
		return (cli_usage_error(
		    "loan", "--expiry and --maturity take T or +S"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) == GH_OK
	    && (rv = cli_devnet_prepare(d, k, LEDGER_LOAN_OFFER, &e))
	        == GH_OK) {
		e.body.loan_offer.borrower = bor;
		e.body.loan_offer.lot      = lot;
		e.body.loan_offer.amount   = a->amount;
		e.body.loan_offer.due      = a->due;
		e.body.loan_offer.expiry   = exp;
		e.body.loan_offer.maturity = mat;
		rv                         = cli_devnet_submit(d, &e, k, &h);
	}
	if (rv == GH_OK) {
		char hex[65];
		memcpy(id.b, h.b, 32);
		gh_hex_encode(h.b, 32, hex);
		if (!a->json) {
			printf("loan   %s\n", hex);
		}
		cli_kinds_loan_show(cli_devnet_store(d), &id, now, a->json);
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	return (
	    rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "loan offer refused"));
}

static int
cli_loan_act_cmd(const cli_loan_args *a, int kind)
{
	cli_devnet  *d = NULL;
	gh_acct_key *k = NULL;
	ledger_entry e;
	ledger_id    id;
	gh_hash      h;
	int          rv;

	if (a->key == NULL || a->arg == NULL
	    || cli_parse_id(a->arg, id.b) != GH_OK) {
		return (
		    cli_usage_error("loan", "needs --key and LOAN (64 hex)"));
	}
	if (kind == LEDGER_LOAN_REPAY && !a->have_amount) {
		return (cli_usage_error("loan", "repay needs --amount"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) == GH_OK
	    && (rv = cli_devnet_prepare(d, k, kind, &e)) == GH_OK
	    && (rv = cli_kinds_loan_act(
	            cli_devnet_store(d), &e, &id, a->amount))
	        == GH_OK) {
		rv = cli_devnet_submit(d, &e, k, &h);
	}
	if (rv == GH_OK) {
		cli_kinds_loan_show(
		    cli_devnet_store(d), &id, gh_time_now(), a->json);
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	return (rv == GH_OK
	        ? CLI_EXIT_OK
	        : cli_fail(rv, "%s refused", ledger_kind_name(kind)));
}

static int
cli_loan_read_cmd(const cli_loan_args *a, int show)
{
	cli_devnet *d = NULL;
	ledger_id   id;
	int         rv;

	if (show && (a->arg == NULL || cli_parse_id(a->arg, id.b) != GH_OK)) {
		return (cli_usage_error("loan", "show needs LOAN (64 hex)"));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 0, &d)) != GH_OK) {
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	rv = show ? cli_kinds_loan_show(
	         cli_devnet_store(d), &id, gh_time_now(), a->json)
	          : cli_kinds_loan_list(cli_devnet_store(d), a->json);
	cli_devnet_close(d);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "loan"));
}

int
cli_loan_main(int argc, char **argv)
{
	cli_loan_args a;
	const char   *verb;
	int           c;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_loan_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_loan_usage, stdout);
		return (CLI_EXIT_OK);
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "h", cli_loan_opts, NULL))
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
		case OPT_PASSENV:
			a.passenv = optarg;
			break;
		case OPT_BORROWER:
			a.borrower = optarg;
			break;
		case OPT_LOT:
			a.lot = optarg;
			break;
		case OPT_AMOUNT:
			u    = &a.amount;
			have = &a.have_amount;
			break;
		case OPT_DUE:
			u    = &a.due;
			have = &a.have_due;
			break;
		case OPT_EXPIRY:
			a.expiry = optarg;
			break;
		case OPT_MATURITY:
			a.maturity = optarg;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case 'h':
			fputs(cli_loan_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "loan", "unknown option or missing value"));
		}
		if (u != NULL) {
			if (cli_parse_u64(optarg, u) != GH_OK) {
				return (cli_usage_error(
				    "loan", "'%s' is not a number", optarg));
			}
			*have = 1;
		}
	}
	if (optind < argc - 1) {
		a.arg = argv[1 + optind];
		if (optind + 1 < argc - 1) {
			return (cli_usage_error("loan",
			    "unexpected argument '%s'", argv[2 + optind]));
		}
	}
	if (a.datadir != NULL && a.node != NULL) {
		return (cli_usage_error(
		    "loan", "--node and --datadir exclude each other"));
	}
	if (strcmp(verb, "offer") == 0) {
		if (a.arg != NULL) {
			return (cli_usage_error(
			    "loan", "unexpected argument '%s'", a.arg));
		}
		return (cli_loan_offer_cmd(&a));
	}
	if (strcmp(verb, "take") == 0) {
		return (cli_loan_act_cmd(&a, LEDGER_LOAN_TAKE));
	}
	if (strcmp(verb, "repay") == 0) {
		return (cli_loan_act_cmd(&a, LEDGER_LOAN_REPAY));
	}
	if (strcmp(verb, "cancel") == 0) {
		return (cli_loan_act_cmd(&a, LEDGER_LOAN_CANCEL));
	}
	if (strcmp(verb, "seize") == 0) {
		return (cli_loan_act_cmd(&a, LEDGER_LOAN_SEIZE));
	}
	if (strcmp(verb, "list") == 0) {
		return (cli_loan_read_cmd(&a, 0));
	}
	if (strcmp(verb, "show") == 0) {
		return (cli_loan_read_cmd(&a, 1));
	}
	return (cli_usage_error("loan", "unknown verb '%s'", verb));
}
