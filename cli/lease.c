/* lease.c - `gpuhour lease open|receipt|draw|close|expire|list|show` and
 * `gpuhour asset show`, on the single-process devnet. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/kinds.h"
#include "cli/netcli.h"
#include "node/leases.h"

static const char cli_lease_usage[]
    = "usage: gpuhour lease open [--datadir DIR] --key FILE --asset ASSET\n"
      "                          (--hours H | --seconds S) --price P\n"
      "                          --receipt-key FILE [--start T] "
      "[--metered]\n"
      "                          [--offer ID --offer-seq N]\n"
      "       gpuhour lease receipt --receipt-key FILE --lease LEASE --seq N "
      "--amount A\n"
      "       gpuhour lease draw  [--datadir DIR] --node-key FILE --lease "
      "LEASE\n"
      "                          --receipt HEX\n"
      "       gpuhour lease close [--datadir DIR] --node-key FILE --lease "
      "LEASE\n"
      "                          [--receipt HEX]\n"
      "       gpuhour lease expire [--datadir DIR] --key FILE --lease LEASE\n"
      "       gpuhour lease pay --node CONFIG --lease LEASE\n"
      "                         (--amount A | --device-ns N)\n"
      "       gpuhour lease list [--datadir DIR] [--json]\n"
      "       gpuhour lease show [--datadir DIR] [--json] LEASE\n"
      "\n"
      "A renter's `open` locks ceil(seconds x price / 3600) micro-units of\n"
      "its balance in a lease on an asset, served by the asset's node.\n"
      "The renter signs receipts (`receipt`, with the Ed25519 receipt key\n"
      "named at open) for the cumulative amount it owes; the provider's\n"
      "node draws on the latest (`draw`: the part not yet drawn, less the\n"
      "protocol fee, into the asset's pool) until expiry + grace, and\n"
      "`close`s (the same, then the rest back to the renter; without a\n"
      "receipt it closes at zero).  From expiry + grace + clock margin the\n"
      "renter `expire`s the lease and gets back what was never drawn.\n"
      "Times are unix seconds or +S (from now); ids are 64 hex digits.\n"
      "\n"
      "pay (renter, through its node, whose key is the lease's receipt\n"
      "key): the node signs a receipt for the cumulative amount A, or\n"
      "for N more nanoseconds of attested device time on a metered\n"
      "lease, and delivers it to the provider's node, which draws on\n"
      "it.  A renter node also pays a reserved lease by itself as time\n"
      "passes (receipt_every_seconds in its configuration).\n"
      "\n"
      "Every verb takes --node CONFIG instead of --datadir: it then\n"
      "works on a running node's ledger (read from its store, entries\n"
      "submitted through it).  With --node, open's receipt key defaults\n"
      "to the node's own key (the renter's node signs the receipts), and\n"
      "draw and close are signed by the node itself (no --node-key).\n"
      "\n"
      "  --node CONFIG         a running node's configuration file\n"
      "  --key FILE            the renter's account key file\n"
      "  --node-key FILE       the provider's node key file\n"
      "  --receipt-key FILE    the renter's receipt key (a node-kind key)\n"
      "  --passphrase-env VAR  key passphrases are in $VAR\n"
      "  --json                machine-readable output\n";

static const char cli_asset_show_usage[]
    = "usage: gpuhour asset register --node CONFIG --key OWNER_FILE "
      "--supply S\n"
      "       gpuhour asset show [--datadir DIR] [--json] ASSET\n"
      "       gpuhour asset report ASSET [--datadir DIR] [--power-price P]\n"
      "                            [--energy-kwh E] [--no-nvml] [--json]\n"
      "\n"
      "register (through a running node) registers the node's machine as\n"
      "an asset of the owner's account: the node binds its key and\n"
      "describes its hardware itself (see 'gpuhour asset register\n"
      "--help').  show prints an asset's revenue pool, its share lots, what "
      "each lot\n"
      "has accrued, and which lots are pledged to a loan.  report is the\n"
      "owner's report (see 'gpuhour asset report --help').\n";

enum {
	OPT_DATADIR = 256,
	OPT_NODE,
	OPT_KEY,
	OPT_NODEKEY,
	OPT_RKEY,
	OPT_PASSENV,
	OPT_ASSET,
	OPT_HOURS,
	OPT_SECONDS,
	OPT_PRICE,
	OPT_START,
	OPT_METERED,
	OPT_OFFER,
	OPT_OFFERSEQ,
	OPT_LEASE,
	OPT_SEQ,
	OPT_AMOUNT,
	OPT_DEVICE_NS,
	OPT_RECEIPT,
	OPT_JSON,
};

static const struct option cli_lease_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "node-key", required_argument, NULL, OPT_NODEKEY },
	{ "receipt-key", required_argument, NULL, OPT_RKEY },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "asset", required_argument, NULL, OPT_ASSET },
	{ "hours", required_argument, NULL, OPT_HOURS },
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "price", required_argument, NULL, OPT_PRICE },
	{ "start", required_argument, NULL, OPT_START },
	{ "metered", no_argument, NULL, OPT_METERED },
	{ "offer", required_argument, NULL, OPT_OFFER },
	{ "offer-seq", required_argument, NULL, OPT_OFFERSEQ },
	{ "lease", required_argument, NULL, OPT_LEASE },
	{ "seq", required_argument, NULL, OPT_SEQ },
	{ "amount", required_argument, NULL, OPT_AMOUNT },
	{ "device-ns", required_argument, NULL, OPT_DEVICE_NS },
	{ "receipt", required_argument, NULL, OPT_RECEIPT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *datadir, *key, *nodekey, *rkey, *passenv, *asset, *start;
	const char *offer, *lease, *receipt, *arg, *node;
	uint64_t    hours, seconds, price, offerseq, seq, amount, device_ns;
	int have_hours, have_seconds, have_price, have_seq, have_amount;
	int have_device_ns;
	int metered, json;
} cli_lease_args;

static int
cli_lease_open_cmd(const cli_lease_args *a)
{
	cli_devnet     *d = NULL;
	gh_acct_key    *k = NULL;
	gh_keyfile_info ri;
	gh_ed_pub       rp;
	ledger_entry    e;
	ledger_id       asset, offer;
	uint64_t        secs, start, now = gh_time_now();
	gh_hash         h;
	char            hex[65];
	int             rv;

	if (a->key == NULL || a->asset == NULL
	    || (a->rkey == NULL && a->node == NULL) || !a->have_price
	    || a->have_hours == a->have_seconds) {
		return (cli_usage_error("lease",
		    "open needs --key, --asset, --price, --receipt-key (or "
		    "--node) and one of --hours or --seconds"));
	}
	if (cli_parse_id(a->asset, asset.b) != GH_OK
	    || (a->offer != NULL
	        && cli_parse_id(a->offer, offer.b) != GH_OK)) {
		return (cli_usage_error(
		    "lease", "--asset and --offer take 64 hex digits"));
	}
	if (a->have_hours) {
		if (gh_mul_u64(a->hours, 3600, &secs) != GH_OK) {
			return (cli_usage_error("lease", "--hours too large"));
		}
	} else {
		secs = a->seconds;
	}
	start = now;
	if (a->start != NULL
	    && cli_kinds_time(a->start, now, &start) != GH_OK) {
		return (
		    cli_usage_error("lease", "bad --start '%s'", a->start));
	}
	memset(&ri, 0, sizeof(ri));
	ri.kind = GH_KEY_NODE;
	if (a->rkey != NULL
	    && (rv = gh_keyfile_info_read(a->rkey, &ri)) != GH_OK) {
		return (cli_fail(rv, "%s", a->rkey));
	}
	if (ri.kind != GH_KEY_NODE) {
		return (cli_usage_error("lease",
		    "--receipt-key must be a node-kind (Ed25519) key"));
	}
	if ((rv = cli_devnet_account_key(a->key, a->passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a->key));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) != GH_OK) {
		gh_acct_key_free(k);
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	memcpy(rp.b, ri.pub, 32);
	if ((rv = cli_devnet_prepare(d, k, LEDGER_LEASE_OPEN, &e)) == GH_OK) {
		if (a->rkey == NULL) {
			/* The renter's node signs the receipts. */
			rv = cli_devnet_node_pub(d, &rp);
		}
	}
	if (rv == GH_OK) {
		rv = cli_kinds_lease_open(cli_devnet_store(d), &e, &asset,
		    start, secs, a->price, a->metered ? 2 : 1, &rp,
		    a->offer != NULL ? &offer : NULL, a->offerseq);
	}
	if (rv == GH_OK) {
		rv = cli_devnet_submit(d, &e, k, &h);
	}
	if (rv == GH_OK) {
		ledger_id id;
		memcpy(id.b, h.b, 32);
		gh_hex_encode(h.b, 32, hex);
		if (!a->json) {
			printf("lease  %s\n", hex);
		}
		cli_kinds_lease_show(cli_devnet_store(d), &id, a->json);
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	return (
	    rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "lease open refused"));
}

static int
cli_lease_receipt_cmd(const cli_lease_args *a)
{
	gh_ed_key     *rk = NULL;
	market_receipt r;
	uint8_t       *p = NULL;
	size_t         n;
	char          *hex;
	int            rv;

	if (a->rkey == NULL || a->lease == NULL || !a->have_seq
	    || !a->have_amount) {
		return (cli_usage_error("lease",
		    "receipt needs --receipt-key, --lease, --seq and "
		    "--amount"));
	}
	memset(&r, 0, sizeof(r));
	if (cli_parse_id(a->lease, r.lease.b) != GH_OK) {
		return (
		    cli_usage_error("lease", "--lease takes 64 hex digits"));
	}
	r.seq    = a->seq;
	r.amount = a->amount;
	if ((rv = cli_devnet_node_keyfile(a->rkey, a->passenv, &rk))
	    != GH_OK) {
		return (cli_fail(rv, "%s", a->rkey));
	}
	rv = market_receipt_sign(&r, rk);
	gh_ed_key_free(rk);
	if (rv == GH_OK) {
		rv = market_receipt_encode(&r, &p, &n);
	}
	if (rv != GH_OK) {
		return (cli_fail(rv, "receipt"));
	}
	if ((hex = malloc(2 * n + 1)) == NULL) {
		free(p);
		return (cli_fail(GH_ENOMEM, "receipt"));
	}
	gh_hex_encode(p, n, hex);
	printf(a->json ? "{\"receipt\":\"%s\"}\n" : "%s\n", hex);
	free(hex);
	free(p);
	return (CLI_EXIT_OK);
}

static int
cli_lease_act_cmd(const cli_lease_args *a, int kind)
{
	cli_devnet    *d  = NULL;
	gh_acct_key   *k  = NULL;
	gh_ed_key     *nk = NULL;
	ledger_entry   e;
	ledger_id      lease;
	market_receipt r;
	int            has_r = 0, rv;
	gh_hash        h;

	if (a->lease == NULL || cli_parse_id(a->lease, lease.b) != GH_OK) {
		return (
		    cli_usage_error("lease", "needs --lease LEASE (64 hex)"));
	}
	if (kind == LEDGER_LEASE_EXPIRE
	        ? a->key == NULL
	        : a->nodekey == NULL && a->node == NULL) {
		return (cli_usage_error("lease",
		    kind == LEDGER_LEASE_EXPIRE
		        ? "expire needs --key"
		        : "needs --node-key or --node"));
	}
	if (kind == LEDGER_LEASE_DRAW && a->receipt == NULL) {
		return (cli_usage_error("lease", "draw needs --receipt"));
	}
	if (a->receipt != NULL) {
		size_t  hl = strlen(a->receipt);
		uint8_t buf[MARKET_RECEIPT_MAX];
		if (kind == LEDGER_LEASE_EXPIRE || hl % 2 != 0
		    || hl / 2 > sizeof(buf)
		    || gh_hex_decode(a->receipt, buf, hl / 2) != GH_OK
		    || market_receipt_decode(buf, hl / 2, &r) != GH_OK) {
			return (cli_usage_error(
			    "lease", "--receipt is not a receipt"));
		}
		has_r = 1;
	}
	if (kind == LEDGER_LEASE_EXPIRE) {
		rv = cli_devnet_account_key(a->key, a->passenv, &k);
	} else if (a->node != NULL) {
		rv = GH_OK; /* the provider's node signs itself */
	} else {
		rv = cli_devnet_node_keyfile(a->nodekey, a->passenv, &nk);
	}
	if (rv != GH_OK) {
		return (cli_fail(rv, "%s",
		    kind == LEDGER_LEASE_EXPIRE ? a->key : a->nodekey));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 1, &d)) == GH_OK) {
		rv = k != NULL ? cli_devnet_prepare(d, k, kind, &e)
		               : cli_devnet_prepare_node(d, nk, kind, &e);
		if (rv == GH_OK) {
			rv = cli_kinds_lease_act(cli_devnet_store(d), &e,
			    &lease, has_r ? &r : NULL);
		}
		if (rv == GH_OK) {
			rv = k != NULL ? cli_devnet_submit(d, &e, k, &h)
			               : cli_devnet_submit_node(d, &e, nk, &h);
		}
		if (rv == GH_OK) {
			cli_kinds_lease_show(
			    cli_devnet_store(d), &lease, a->json);
		}
	}
	cli_devnet_close(d);
	gh_acct_key_free(k);
	gh_ed_key_free(nk);
	return (rv == GH_OK
	        ? CLI_EXIT_OK
	        : cli_fail(rv, "%s refused", ledger_kind_name(kind)));
}

/* pay: the renter's node signs a receipt and hands it to the
 * provider's node. */
static int
cli_lease_pay_cmd(const cli_lease_args *a)
{
	uint8_t   req[41];
	uint8_t  *b = NULL;
	size_t    bl;
	gh_reader r;
	uint64_t  seq = 0, amount = 0;
	int       rv;

	if (a->node == NULL || a->lease == NULL
	    || a->have_amount == a->have_device_ns) {
		return (cli_usage_error("lease",
		    "pay needs --node, --lease and one of --amount or "
		    "--device-ns"));
	}
	if (cli_parse_id(a->lease, req) != GH_OK) {
		return (
		    cli_usage_error("lease", "--lease takes 64 hex digits"));
	}
	req[32] = a->have_amount ? NODE_LEASES_PAY_AMOUNT
	                         : NODE_LEASES_PAY_DEVICE_NS;
	gh_be64_put(req + 33, a->have_amount ? a->amount : a->device_ns);
	rv = cli_net_call(
	    a->node, "lease-pay", req, sizeof(req), 30000, &b, &bl);
	if (rv == GH_OK) {
		gh_reader_init(&r, b, bl);
		if ((rv = gh_get_u64(&r, &seq)) == GH_OK
		    && (rv = gh_get_u64(&r, &amount)) == GH_OK) {
			rv = gh_reader_end(&r);
		}
	}
	free(b);
	if (rv != GH_OK) {
		return (cli_fail(rv, "lease pay"));
	}
	if (a->json) {
		printf("{\"lease\":\"%s\",\"seq\":%llu,\"amount\":%llu}\n",
		    a->lease, (unsigned long long) seq,
		    (unsigned long long) amount);
	} else {
		printf("receipt %llu for %llu micro-units delivered to the "
		       "provider's node\n",
		    (unsigned long long) seq, (unsigned long long) amount);
	}
	return (CLI_EXIT_OK);
}

static int
cli_lease_read_cmd(const cli_lease_args *a, int show)
{
	cli_devnet *d = NULL;
	ledger_id   id;
	int         rv;

	if (show && (a->arg == NULL || cli_parse_id(a->arg, id.b) != GH_OK)) {
		return (cli_usage_error("lease", "show needs LEASE (64 hex)"));
	}
	if ((rv = cli_devnet_open_any(a->datadir, a->node, 0, &d)) != GH_OK) {
		return (
		    cli_fail(rv, "%s", a->node != NULL ? a->node : "devnet"));
	}
	rv = show ? cli_kinds_lease_show(cli_devnet_store(d), &id, a->json)
	          : cli_kinds_lease_list(cli_devnet_store(d), a->json);
	cli_devnet_close(d);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "lease"));
}

static int
cli_lease_parse(int argc, char **argv, cli_lease_args *a, const char *cmd)
{
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, "h", cli_lease_opts, NULL))
	    != -1) {
		uint64_t *u    = NULL;
		int      *have = NULL;
		switch (c) {
		case OPT_DATADIR:
			a->datadir = optarg;
			break;
		case OPT_NODE:
			a->node = optarg;
			break;
		case OPT_KEY:
			a->key = optarg;
			break;
		case OPT_NODEKEY:
			a->nodekey = optarg;
			break;
		case OPT_RKEY:
			a->rkey = optarg;
			break;
		case OPT_PASSENV:
			a->passenv = optarg;
			break;
		case OPT_ASSET:
			a->asset = optarg;
			break;
		case OPT_HOURS:
			u    = &a->hours;
			have = &a->have_hours;
			break;
		case OPT_SECONDS:
			u    = &a->seconds;
			have = &a->have_seconds;
			break;
		case OPT_PRICE:
			u    = &a->price;
			have = &a->have_price;
			break;
		case OPT_START:
			a->start = optarg;
			break;
		case OPT_METERED:
			a->metered = 1;
			break;
		case OPT_OFFER:
			a->offer = optarg;
			break;
		case OPT_OFFERSEQ:
			u = &a->offerseq;
			break;
		case OPT_LEASE:
			a->lease = optarg;
			break;
		case OPT_SEQ:
			u    = &a->seq;
			have = &a->have_seq;
			break;
		case OPT_AMOUNT:
			u    = &a->amount;
			have = &a->have_amount;
			break;
		case OPT_DEVICE_NS:
			u    = &a->device_ns;
			have = &a->have_device_ns;
			break;
		case OPT_RECEIPT:
			a->receipt = optarg;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case 'h':
			return (-1);
		default:
			return (cli_usage_error(
			    cmd, "unknown option or missing value"));
		}
		if (u != NULL) {
			if (cli_parse_u64(optarg, u) != GH_OK) {
				return (cli_usage_error(
				    cmd, "'%s' is not a number", optarg));
			}
			if (have != NULL) {
				*have = 1;
			}
		}
	}
	if (optind < argc - 1) {
		a->arg = argv[1 + optind];
		if (optind + 1 < argc - 1) {
			return (cli_usage_error(cmd,
			    "unexpected argument '%s'", argv[2 + optind]));
		}
	}
	return (0);
}

int
cli_lease_main(int argc, char **argv)
{
	cli_lease_args a;
	const char    *verb;
	int            rv;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_lease_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_lease_usage, stdout);
		return (CLI_EXIT_OK);
	}
	if ((rv = cli_lease_parse(argc, argv, &a, "lease")) != 0) {
		if (rv < 0) {
			fputs(cli_lease_usage, stdout);
			return (CLI_EXIT_OK);
		}
		return (rv);
	}
	if (a.arg != NULL && strcmp(verb, "show") != 0) {
		return (cli_usage_error(
		    "lease", "unexpected argument '%s'", a.arg));
	}
	if (a.datadir != NULL && a.node != NULL) {
		return (cli_usage_error(
		    "lease", "--node and --datadir exclude each other"));
	}
	if (strcmp(verb, "open") == 0) {
		return (cli_lease_open_cmd(&a));
	}
	if (strcmp(verb, "receipt") == 0) {
		return (cli_lease_receipt_cmd(&a));
	}
	if (strcmp(verb, "pay") == 0) {
		return (cli_lease_pay_cmd(&a));
	}
	if (strcmp(verb, "draw") == 0) {
		return (cli_lease_act_cmd(&a, LEDGER_LEASE_DRAW));
	}
	if (strcmp(verb, "close") == 0) {
		return (cli_lease_act_cmd(&a, LEDGER_LEASE_CLOSE));
	}
	if (strcmp(verb, "expire") == 0) {
		return (cli_lease_act_cmd(&a, LEDGER_LEASE_EXPIRE));
	}
	if (strcmp(verb, "list") == 0) {
		return (cli_lease_read_cmd(&a, 0));
	}
	if (strcmp(verb, "show") == 0) {
		return (cli_lease_read_cmd(&a, 1));
	}
	return (cli_usage_error("lease", "unknown verb '%s'", verb));
}

int
cli_asset_main(int argc, char **argv)
{
	cli_lease_args a;
	cli_devnet    *d = NULL;
	ledger_id      id;
	int            rv;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_asset_show_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_asset_show_usage, stdout);
		return (CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "report") == 0) {
		return (cli_asset_report_main(argc, argv));
	}
	if (strcmp(argv[1], "register") == 0) {
		return (cli_asset_register_main(argc, argv));
	}
	if ((rv = cli_lease_parse(argc, argv, &a, "asset")) != 0) {
		if (rv < 0) {
			fputs(cli_asset_show_usage, stdout);
			return (CLI_EXIT_OK);
		}
		return (rv);
	}
	if (strcmp(argv[1], "show") != 0) {
		return (
		    cli_usage_error("asset", "unknown verb '%s'", argv[1]));
	}
	if (a.arg == NULL || cli_parse_id(a.arg, id.b) != GH_OK) {
		return (cli_usage_error("asset", "show needs ASSET (64 hex)"));
	}
	if ((rv = cli_devnet_open_any(a.datadir, a.node, 0, &d)) != GH_OK) {
		return (
		    cli_fail(rv, "%s", a.node != NULL ? a.node : "devnet"));
	}
	rv = cli_kinds_asset_show(cli_devnet_store(d), &id, a.json);
	cli_devnet_close(d);
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "asset %s", a.arg));
}
