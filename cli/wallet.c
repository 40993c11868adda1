/* wallet.c - `gpuhour wallet balance|transfer|mint|history|resume`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/netcli.h"

static const char cli_wallet_usage[]
    = "usage: gpuhour wallet balance [--datadir DIR] [--json] "
      "(ACCOUNT | --key FILE)\n"
      "       gpuhour wallet transfer [--datadir DIR] --key FILE --to ID "
      "--amount N\n"
      "                               [--pool] [--passphrase-env VAR] "
      "[--json]\n"
      "       gpuhour wallet mint [--datadir DIR] --key ISSUER_FILE --to "
      "ACCOUNT\n"
      "                           --amount N [--passphrase-env VAR]\n"
      "       gpuhour wallet history [--datadir DIR] [--json] (ACCOUNT | "
      "--key FILE)\n"
      "       gpuhour wallet resume --node CONFIG --key FILE "
      "[--passphrase-env VAR]\n"
      "                             [--json]\n"
      "\n"
      "Amounts are integer micro-units.  transfer signs a TRANSFER with "
      "the\n"
      "account key file, has the devnet's local validators vote, "
      "certifies\n"
      "and applies it; with --pool the destination ID is an asset and the\n"
      "amount is paid into its revenue pool.  mint (the genesis issuer "
      "only)\n"
      "credits an account.  ACCOUNT and ID are 64 hex digits.\n"
      "\n"
      "With --node, an entry whose votes did not all come is kept under\n"
      "$GPUHOUR_HOME/pending/; resume completes it and does nothing else\n"
      "(exit 0 also when none is kept; exit 1 while it still waits).\n"
      "The account's next command would complete it first, too.\n"
      "\n"
      "  --datadir DIR         devnet data dir (default "
      "$GPUHOUR_HOME/devnet)\n"
      "  --node CONFIG         talk to the running node of this config "
      "instead:\n"
      "                        the entry is signed here, the node "
      "collects the\n"
      "                        committee's votes over the network and "
      "gossips it\n"
      "  --key FILE            account key file\n"
      "  --passphrase-env VAR  the key's passphrase is in $VAR\n"
      "  --json                machine-readable output\n";

enum {
	OPT_DATADIR = 256,
	OPT_KEY,
	OPT_PASSENV,
	OPT_TO,
	OPT_AMOUNT,
	OPT_POOL,
	OPT_JSON,
	OPT_NODE,
};

static const struct option cli_wallet_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "to", required_argument, NULL, OPT_TO },
	{ "amount", required_argument, NULL, OPT_AMOUNT },
	{ "pool", no_argument, NULL, OPT_POOL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "config", required_argument, NULL, OPT_NODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *datadir, *key, *passenv, *to, *account, *node;
	uint64_t    amount;
	int         have_amount, pool, json;
} cli_wallet_args;

/* The account named by ACCOUNT or by --key's public key. */
static int
cli_wallet_account(const cli_wallet_args *a, uint8_t out[32])
{
	gh_keyfile_info info;
	int             rv;

	if (a->account != NULL) {
		return (cli_parse_id(a->account, out));
	}
	if (a->key == NULL) {
		return (GH_EINVAL);
	}
	if ((rv = gh_keyfile_info_read(a->key, &info)) != GH_OK) {
		return (rv);
	}
	if (info.kind != GH_KEY_ACCOUNT) {
		return (GH_ETYPE);
	}
	memcpy(out, info.pub, 32);
	return (GH_OK);
}

static int
cli_wallet_balance(const cli_wallet_args *a, const char *dir)
{
	cli_devnet    *d = NULL;
	ledger_account acc;
	uint8_t        id[32];
	char           hex[65];
	int            rv;

	if ((rv = cli_wallet_account(a, id)) != GH_OK) {
		return (rv == GH_EINVAL ? cli_usage_error("wallet",
		            "balance needs ACCOUNT (64 hex "
		            "digits) or --key FILE")
		                        : cli_fail(rv, "%s", a->key));
	}
	if (a->node != NULL) {
		rv = cli_net_account(a->node, id, 0, &acc);
	} else {
		if ((rv = cli_devnet_open(dir, 0, &d)) != GH_OK) {
			return (cli_fail(rv, "%s", dir));
		}
		rv = ledger_store_account(cli_devnet_store(d), id, 0, &acc);
		cli_devnet_close(d);
	}
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (cli_fail(rv, "account"));
	}
	gh_hex_encode(id, 32, hex);
	if (a->json) {
		printf("{\"account\":\"%s\",\"balance\":%llu,\"seq\":%llu}\n",
		    hex, (unsigned long long) acc.balance,
		    (unsigned long long) acc.seq);
	} else {
		printf("account %s\nbalance %llu\nseq     %llu\n", hex,
		    (unsigned long long) acc.balance,
		    (unsigned long long) acc.seq);
	}
	return (CLI_EXIT_OK);
}

static int
cli_wallet_send(const cli_wallet_args *a, const char *dir, int mint)
{
	cli_devnet  *d = NULL;
	gh_acct_key *k = NULL;
	ledger_entry e;
	uint8_t      to[32];
	gh_hash      h;
	char         hex[65];
	int          rv;

	if (a->key == NULL || a->to == NULL || !a->have_amount) {
		return (cli_usage_error(
		    "wallet", "needs --key FILE, --to ID and --amount N"));
	}
	if (cli_parse_id(a->to, to) != GH_OK) {
		return (cli_usage_error("wallet", "--to takes 64 hex digits"));
	}
	if (mint && a->pool) {
		return (cli_usage_error("wallet", "mint credits an account"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if (a->node != NULL) {
		rv = cli_net_prepare(
		    a->node, k, mint ? LEDGER_MINT : LEDGER_TRANSFER, &e);
	} else if ((rv = cli_devnet_open(dir, 1, &d)) != GH_OK) {
		gh_acct_key_free(k);
		return (cli_fail(rv, "%s", dir));
	} else {
		rv = cli_devnet_prepare(
		    d, k, mint ? LEDGER_MINT : LEDGER_TRANSFER, &e);
	}
	if (rv == GH_OK) {
		if (mint) {
			memcpy(e.body.mint.to.b, to, 32);
			e.body.mint.amount = a->amount;
		} else {
			e.body.transfer.dest
			    = a->pool ? LEDGER_DEST_POOL : LEDGER_DEST_ACCOUNT;
			memcpy(e.body.transfer.to.b, to, 32);
			e.body.transfer.amount = a->amount;
		}
		rv = a->node != NULL ? cli_net_submit(a->node, &e, k, &h)
		                     : cli_devnet_submit(d, &e, k, &h);
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	if (rv != GH_OK) {
		return (
		    cli_fail(rv, "%s refused", mint ? "mint" : "transfer"));
	}
	gh_hex_encode(h.b, 32, hex);
	if (a->json) {
		printf("{\"entry\":\"%s\",\"seq\":%llu}\n", hex,
		    (unsigned long long) e.seq);
	} else {
		printf(
		    "entry %s\nseq   %llu\n", hex, (unsigned long long) e.seq);
	}
	return (CLI_EXIT_OK);
}

/* `wallet resume`: the kept entry of the key's account, and only it. */
static int
cli_wallet_resume(const cli_wallet_args *a)
{
	gh_acct_key *k = NULL;
	cli_net_kept kept;
	char         hex[65];
	int          rv;

	if (a->node == NULL || a->key == NULL || a->to != NULL
	    || a->have_amount || a->pool) {
		return (cli_usage_error("wallet",
		    "resume takes --node CONFIG and --key FILE only "
		    "(entries are kept only for a running node)"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	rv = cli_net_finish(a->node, k, &kept);
	gh_acct_key_free(k);
	gh_hex_encode(kept.h.b, 32, hex);
	if (rv != GH_OK && kept.waits) {
		/* Exit 1 whatever the reason: try again later. */
		(void) cli_fail(
		    rv, "entry %s still waits and stays kept", hex);
		return (CLI_EXIT_FAIL);
	}
	if (rv != GH_OK) {
		return (kept.found ? cli_fail(
		            rv, "entry %s refused (no longer kept)", hex)
		                   : cli_fail(rv, "resume"));
	}
	if (a->json) {
		if (kept.found) {
			printf("{\"resumed\":true,\"entry\":\"%s\","
			       "\"kind\":\"%s\",\"seq\":%llu}\n",
			    hex, ledger_kind_name(kept.kind),
			    (unsigned long long) kept.seq);
		} else {
			printf("{\"resumed\":false}\n");
		}
	} else if (kept.found) {
		printf("entry %s\nkind  %s\nseq   %llu\napplied\n", hex,
		    ledger_kind_name(kept.kind),
		    (unsigned long long) kept.seq);
	} else {
		printf("nothing kept for this account\n");
	}
	return (CLI_EXIT_OK);
}

typedef struct {
	int json;
	int first;
} cli_hist;

static int
cli_wallet_hist_one(void *arg, uint64_t seq, const ledger_cert *c)
{
	cli_hist           *hs = arg;
	const ledger_entry *e  = &c->entry;
	char                hex[65], to[65] = "-";
	uint64_t            amount = 0;

	gh_hex_encode(c->hash.b, 32, hex);
	switch (e->kind) {
	case LEDGER_MINT:
		gh_hex_encode(e->body.mint.to.b, 32, to);
		amount = e->body.mint.amount;
		break;
	case LEDGER_TRANSFER:
		gh_hex_encode(e->body.transfer.to.b, 32, to);
		amount = e->body.transfer.amount;
		break;
	case LEDGER_SHARE_TRANSFER:
		gh_hex_encode(e->body.share.to.b, 32, to);
		amount = e->body.share.amount;
		break;
	default:
		break;
	}
	if (hs->json) {
		printf("%s{\"seq\":%llu,\"kind\":\"%s\",\"entry\":\"%s\","
		       "\"to\":\"%s\",\"amount\":%llu,\"time\":%llu,"
		       "\"votes\":%u}",
		    hs->first ? "" : ",", (unsigned long long) seq,
		    ledger_kind_name(e->kind), hex, to,
		    (unsigned long long) amount, (unsigned long long) e->time,
		    (unsigned) c->nvotes);
	} else {
		printf("%-6llu %-15s %.16s %.16s %20llu\n",
		    (unsigned long long) seq, ledger_kind_name(e->kind), hex,
		    to, (unsigned long long) amount);
	}
	hs->first = 0;
	return (0);
}

/* History from a running node: its ledger-history reply, each
 * certificate decoded (and so checked for form) here. */
static int
cli_wallet_history_net(
    const cli_wallet_args *a, const uint8_t id[32], cli_hist *hs)
{
	uint8_t      req[33];
	uint8_t     *b = NULL;
	size_t       bl;
	gh_reader    r;
	uint32_t     count = 0;
	ledger_cert *c     = NULL;
	int          rv;

	req[0] = 0;
	memcpy(req + 1, id, 32);
	rv = cli_net_call(a->node, "ledger-history", req, 33, 30000, &b, &bl);
	if (rv != GH_OK) {
		return (cli_fail(rv, "history"));
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		free(b);
		return (cli_fail(GH_ENOMEM, "history"));
	}
	gh_reader_init(&r, b, bl);
	rv = gh_get_u32(&r, &count);
	if (a->json) {
		printf("[");
	} else {
		printf("%-6s %-15s %-16s %-16s %20s\n", "SEQ", "KIND", "ENTRY",
		    "TO", "AMOUNT");
	}
	for (uint32_t i = 0; rv == GH_OK && i < count; i++) {
		const uint8_t *p;
		uint32_t       n;
		if ((rv = gh_get_str(&r, LEDGER_CERT_MAX, &p, &n)) != GH_OK
		    || (rv = ledger_cert_decode(p, n, c)) != GH_OK) {
			break;
		}
		cli_wallet_hist_one(hs, c->entry.seq, c);
	}
	if (rv == GH_OK) {
		rv = gh_reader_end(&r);
	}
	if (a->json) {
		printf("]\n");
	}
	free(c);
	free(b);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "history"));
}

static int
cli_wallet_history(const cli_wallet_args *a, const char *dir)
{
	cli_devnet *d = NULL;
	uint8_t     id[32];
	cli_hist    hs = { a->json, 1 };
	int         rv;

	if ((rv = cli_wallet_account(a, id)) != GH_OK) {
		return (rv == GH_EINVAL ? cli_usage_error(
		            "wallet", "history needs ACCOUNT or --key")
		                        : cli_fail(rv, "%s", a->key));
	}
	if (a->node != NULL) {
		return (cli_wallet_history_net(a, id, &hs));
	}
	if ((rv = cli_devnet_open(dir, 0, &d)) != GH_OK) {
		return (cli_fail(rv, "%s", dir));
	}
	if (a->json) {
		printf("[");
	} else {
		printf("%-6s %-15s %-16s %-16s %20s\n", "SEQ", "KIND", "ENTRY",
		    "TO", "AMOUNT");
	}
	rv = ledger_store_chain(
	    cli_devnet_store(d), id, 0, cli_wallet_hist_one, &hs);
	if (a->json) {
		printf("]\n");
	}
	cli_devnet_close(d);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "history"));
}

int
cli_wallet_main(int argc, char **argv)
{
	cli_wallet_args a;
	char            dir[PATH_MAX];
	const char     *verb;
	int             c, rv;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_wallet_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_wallet_usage, stdout);
		return (CLI_EXIT_OK);
	}
	optind = 1;
	opterr = 0;
	while (
	    (c = getopt_long(argc - 1, argv + 1, "h", cli_wallet_opts, NULL))
	    != -1) {
		switch (c) {
		case OPT_DATADIR:
			a.datadir = optarg;
			break;
		case OPT_KEY:
			a.key = optarg;
			break;
		case OPT_PASSENV:
			a.passenv = optarg;
			break;
		case OPT_TO:
			a.to = optarg;
			break;
		case OPT_AMOUNT:
			if (cli_parse_u64(optarg, &a.amount) != GH_OK) {
				return (cli_usage_error("wallet",
				    "--amount takes micro-units (an "
				    "integer)"));
			}
			a.have_amount = 1;
			break;
		case OPT_POOL:
			a.pool = 1;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case OPT_NODE:
			a.node = optarg;
			break;
		case 'h':
			fputs(cli_wallet_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "wallet", "unknown option or missing value"));
		}
	}
	if (optind < argc - 1) {
		a.account = argv[1 + optind];
		if (optind + 1 < argc - 1) {
			return (cli_usage_error("wallet",
			    "unexpected argument '%s'", argv[2 + optind]));
		}
	}
	if ((rv = cli_devnet_dir(a.datadir, dir, sizeof(dir))) != GH_OK) {
		return (cli_fail(rv, "data dir"));
	}
	if (strcmp(verb, "balance") == 0) {
		return (cli_wallet_balance(&a, dir));
	}
	if (a.account != NULL && strcmp(verb, "history") != 0) {
		return (cli_usage_error(
		    "wallet", "unexpected argument '%s'", a.account));
	}
	if (strcmp(verb, "transfer") == 0) {
		return (cli_wallet_send(&a, dir, 0));
	}
	if (strcmp(verb, "mint") == 0) {
		return (cli_wallet_send(&a, dir, 1));
	}
	if (strcmp(verb, "history") == 0) {
		return (cli_wallet_history(&a, dir));
	}
	if (strcmp(verb, "resume") == 0) {
		return (cli_wallet_resume(&a));
	}
	return (cli_usage_error("wallet", "unknown verb '%s'", verb));
}
