/* market.c - `gpuhour offer publish`, `gpuhour market list|match` and
 * `gpuhour asset register`: the market through a running node. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/netcli.h"
#include "market/market.h"

static const char cli_offer_usage[]
    = "usage: gpuhour offer publish --node CONFIG --asset ID --price N\n"
      "           [--billing reserved|metered] [--capacity N] [--from T]\n"
      "           [--until T] [--min-lease S] [--max-lease S] [--region R]\n"
      "           [--model HASH]... [--energy TEXT] [--power-price N]\n"
      "           [--expiry T] [--json]\n"
      "\n"
      "The node signs and gossips an offer for ASSET (registered with its\n"
      "node key).  The hardware fields (GPU model, memory) come from the\n"
      "node's own machine: the GPU the driver lists, else the CPU of\n"
      "/proc/cpuinfo and the system memory; they cannot be typed in.\n"
      "Price in micro-units per GPU-hour; times in unix seconds (default:\n"
      "available from now for 7 days, expiring then); leases of\n"
      "--min-lease..--max-lease seconds (default 60..604800); capacity 0\n"
      "withdraws the offer.  HASH is a model's 64-hex-digit hash.\n";

static const char cli_market_usage[]
    = "usage: gpuhour market list|match --node CONFIG [--gpu-model M]\n"
      "           [--min-memory MIB] [--max-price N] [--region R]\n"
      "           [--hours H] [--model HASH] [--billing reserved|metered]\n"
      "           [--limit N] [--json]\n"
      "\n"
      "Offers held by the node's book that satisfy every filter given,\n"
      "ranked the same way on every node: lowest price, then highest\n"
      "throughput, then largest memory, then lowest offer id.  list shows\n"
      "up to --limit (default 100); match the best --limit (default 1).\n";

static const char cli_asset_usage[]
    = "usage: gpuhour asset register --node CONFIG --key OWNER_FILE "
      "--supply S\n"
      "           [--passphrase-env VAR] [--json]\n"
      "\n"
      "Registers the node's machine as an asset owned by the account of\n"
      "OWNER_FILE with S revenue shares: the node binds its key to the\n"
      "owner and describes its hardware (from the device it sees, never\n"
      "from typed-in values); the owner's key signs the entry here; the\n"
      "node certifies it with the committee.  Prints the asset id.\n";

enum {
	OPT_NODE = 256,
	OPT_ASSET,
	OPT_PRICE,
	OPT_BILLING,
	OPT_CAPACITY,
	OPT_FROM,
	OPT_UNTIL,
	OPT_MINL,
	OPT_MAXL,
	OPT_REGION,
	OPT_MODEL,
	OPT_ENERGY,
	OPT_POWER,
	OPT_EXPIRY,
	OPT_GPU,
	OPT_MINMEM,
	OPT_MAXPRICE,
	OPT_HOURS,
	OPT_LIMIT,
	OPT_KEY,
	OPT_SUPPLY,
	OPT_PASSENV,
	OPT_JSON,
};

static const struct option cli_market_opts[] = {
	{ "node", required_argument, NULL, OPT_NODE },
	{ "config", required_argument, NULL, OPT_NODE },
	{ "asset", required_argument, NULL, OPT_ASSET },
	{ "price", required_argument, NULL, OPT_PRICE },
	{ "billing", required_argument, NULL, OPT_BILLING },
	{ "capacity", required_argument, NULL, OPT_CAPACITY },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "min-lease", required_argument, NULL, OPT_MINL },
	{ "max-lease", required_argument, NULL, OPT_MAXL },
	{ "region", required_argument, NULL, OPT_REGION },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "energy", required_argument, NULL, OPT_ENERGY },
	{ "power-price", required_argument, NULL, OPT_POWER },
	{ "expiry", required_argument, NULL, OPT_EXPIRY },
	{ "gpu-model", required_argument, NULL, OPT_GPU },
	{ "min-memory", required_argument, NULL, OPT_MINMEM },
	{ "max-price", required_argument, NULL, OPT_MAXPRICE },
	{ "hours", required_argument, NULL, OPT_HOURS },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "supply", required_argument, NULL, OPT_SUPPLY },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char       *node, *key, *passenv;
	node_offer_req    o;
	node_market_query q;
	int               have_asset, have_price, have_until, have_expiry;
	int               have_limit, have_supply, json;
	uint64_t          supply;
} cli_market_args;

static int
cli_billing(const char *s, uint8_t *out)
{
	if (strcmp(s, "reserved") == 0) {
		*out = MARKET_BILLING_RESERVED;
	} else if (strcmp(s, "metered") == 0) {
		*out = MARKET_BILLING_METERED;
	} else {
		return (GH_EINVAL);
	}
	return (GH_OK);
}

/* Parses the options shared by the three commands; returns an exit
 * code, or -1 to go on. */
static int
cli_market_parse(const char *cmd, const char *usage, int argc, char **argv,
    cli_market_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->o.billing   = MARKET_BILLING_RESERVED;
	a->o.capacity  = 1;
	a->o.min_lease = 60;
	a->o.max_lease = 7 * 86400;
	optind         = 1;
	opterr         = 0;
	while (
	    (c = getopt_long(argc - 1, argv + 1, "h", cli_market_opts, NULL))
	    != -1) {
		uint64_t    u = 0;
		const char *s = optarg;
		int num = c != OPT_NODE && c != OPT_ASSET && c != OPT_BILLING
		    && c != OPT_REGION && c != OPT_MODEL && c != OPT_ENERGY
		    && c != OPT_GPU && c != OPT_KEY && c != OPT_PASSENV
		    && c != OPT_JSON && c != 'h' && c != '?' && c != ':';
		if (num && cli_parse_u64(s, &u) != GH_OK) {
			return (cli_usage_error(
			    cmd, "'%s' is not a number", s ? s : ""));
		}
		switch (c) {
		case OPT_NODE:
			a->node = s;
			break;
		case OPT_ASSET:
			if (cli_parse_id(s, a->o.asset) != GH_OK) {
				return (cli_usage_error(
				    cmd, "--asset takes 64 hex digits"));
			}
			a->have_asset = 1;
			break;
		case OPT_PRICE:
			a->o.price    = u;
			a->have_price = 1;
			break;
		case OPT_BILLING:
			if (cli_billing(s, &a->o.billing) != GH_OK) {
				return (cli_usage_error(
				    cmd, "--billing is reserved or metered"));
			}
			a->q.billing = a->o.billing;
			break;
		case OPT_CAPACITY:
			if (u > UINT32_MAX) {
				return (cli_usage_error(cmd, "capacity"));
			}
			a->o.capacity = (uint32_t) u;
			break;
		case OPT_FROM:
			a->o.avail_from = u;
			break;
		case OPT_UNTIL:
			a->o.avail_until = u;
			a->have_until    = 1;
			break;
		case OPT_MINL:
			a->o.min_lease = u;
			break;
		case OPT_MAXL:
			a->o.max_lease = u;
			break;
		case OPT_REGION:
			if (strlen(s) > MARKET_REGION_MAX) {
				return (cli_usage_error(cmd,
				    "--region is "
				    "too long"));
			}
			snprintf(a->o.region, sizeof(a->o.region), "%s", s);
			snprintf(a->q.region, sizeof(a->q.region), "%s", s);
			break;
		case OPT_MODEL:
			if (a->o.n_models == MARKET_MODELS_MAX
			    || cli_parse_id(s, a->o.models[a->o.n_models].b)
			        != GH_OK) {
				return (cli_usage_error(cmd,
				    "--model takes 64 hex digits (at most "
				    "16)"));
			}
			a->q.model     = a->o.models[a->o.n_models++];
			a->q.has_model = 1;
			break;
		case OPT_ENERGY:
			if (strlen(s) > MARKET_ENERGY_MAX) {
				return (cli_usage_error(cmd,
				    "--energy is "
				    "too long"));
			}
			snprintf(a->o.energy, sizeof(a->o.energy), "%s", s);
			break;
		case OPT_POWER:
			a->o.power_price = u;
			break;
		case OPT_EXPIRY:
			a->o.expiry    = u;
			a->have_expiry = 1;
			break;
		case OPT_GPU:
			if (strlen(s) > MARKET_GPU_MODEL_MAX) {
				return (cli_usage_error(cmd,
				    "--gpu-model is "
				    "too long"));
			}
			snprintf(
			    a->q.gpu_model, sizeof(a->q.gpu_model), "%s", s);
			break;
		case OPT_MINMEM:
			a->q.min_memory_mib = u;
			break;
		case OPT_MAXPRICE:
			a->q.max_price = u;
			break;
		case OPT_HOURS:
			a->q.hours = u;
			break;
		case OPT_LIMIT:
			if (u == 0 || u > 1024) {
				return (cli_usage_error(
				    cmd, "--limit is 1..1024"));
			}
			a->q.max      = (uint32_t) u;
			a->have_limit = 1;
			break;
		case OPT_KEY:
			a->key = s;
			break;
		case OPT_SUPPLY:
			a->supply      = u;
			a->have_supply = 1;
			break;
		case OPT_PASSENV:
			a->passenv = s;
			break;
		case OPT_JSON:
			a->json = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    cmd, "unknown option or missing value"));
		}
	}
	if (optind + 1 < argc) {
		return (cli_usage_error(
		    cmd, "unexpected argument '%s'", argv[optind + 1]));
	}
	if (a->node == NULL) {
		return (cli_usage_error(cmd, "needs --node CONFIG"));
	}
	return (-1);
}

static void
cli_offer_print(const market_offer *o, int json, int first)
{
	char    asset[65], nodeh[65];
	gh_hash id;

	gh_hex_encode(o->asset.b, 32, asset);
	gh_hex_encode(o->node.b, 32, nodeh);
	(void) market_offer_id(o, &id);
	if (json) {
		char idh[65];
		gh_hex_encode(id.b, 32, idh);
		printf("%s{\"id\":\"%s\",\"asset\":\"%s\",\"node\":\"%s\","
		       "\"seq\":%llu,\"gpu_model\":\"",
		    first ? "" : ",", idh, asset, nodeh,
		    (unsigned long long) o->seq);
		for (const char *p = o->gpu_model; *p; p++) {
			if (*p == '"' || *p == '\\') {
				putchar('\\');
			}
			putchar(*p);
		}
		printf("\",\"memory_mib\":%llu,\"throughput\":%llu,"
		       "\"max_tokens\":%u,\"price\":%llu,\"billing\":\"%s\","
		       "\"capacity\":%u,"
		       "\"avail_from\":%llu,\"avail_until\":%llu,"
		       "\"min_lease\":%llu,\"max_lease\":%llu,"
		       "\"region\":\"%s\",\"models\":%u,\"expiry\":%llu}",
		    (unsigned long long) o->memory_mib,
		    (unsigned long long) o->throughput,
		    (unsigned) o->max_tokens, (unsigned long long) o->price,
		    o->billing == MARKET_BILLING_METERED ? "metered"
		                                         : "reserved",
		    (unsigned) o->capacity, (unsigned long long) o->avail_from,
		    (unsigned long long) o->avail_until,
		    (unsigned long long) o->min_lease,
		    (unsigned long long) o->max_lease, o->region,
		    (unsigned) o->n_models, (unsigned long long) o->expiry);
	} else {
		printf("%.16s %10llu %-8s %-8s %8llu %s\n", asset,
		    (unsigned long long) o->price,
		    o->billing == MARKET_BILLING_METERED ? "metered"
		                                         : "reserved",
		    o->region[0] ? o->region : "-",
		    (unsigned long long) o->memory_mib, o->gpu_model);
	}
}

int
cli_offer_main(int argc, char **argv)
{
	cli_market_args a;
	gh_writer       w;
	uint8_t        *b = NULL;
	size_t          bl;
	uint64_t        now = gh_time_now();
	int             ex, rv;

	if (argc < 2) {
		fputs(cli_offer_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_offer_usage, stdout);
		return (CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "publish") != 0) {
		return (
		    cli_usage_error("offer", "unknown verb '%s'", argv[1]));
	}
	if ((ex = cli_market_parse("offer", cli_offer_usage, argc, argv, &a))
	    >= 0) {
		return (ex);
	}
	if (!a.have_asset || !a.have_price) {
		return (cli_usage_error("offer", "needs --asset and --price"));
	}
	if (a.o.avail_from == 0) {
		a.o.avail_from = now;
	}
	if (!a.have_until) {
		a.o.avail_until = a.o.avail_from + 7 * 86400;
	}
	if (!a.have_expiry) {
		a.o.expiry = a.o.avail_until;
	}
	gh_writer_init(&w);
	rv = node_offer_req_encode(&a.o, &w);
	if (rv == GH_OK) {
		rv = cli_net_call(
		    a.node, "offer-publish", w.p, w.len, 30000, &b, &bl);
	}
	gh_writer_free(&w);
	if (rv == GH_OK) {
		gh_reader      r;
		const uint8_t *p;
		uint32_t       pn;
		market_offer   o;
		uint8_t        id[32];
		char           hex[65];
		gh_reader_init(&r, b, bl);
		if ((rv = gh_get_fixed(&r, id, 32)) == GH_OK
		    && (rv = gh_get_str(&r, MARKET_OFFER_MAX, &p, &pn))
		        == GH_OK
		    && (rv = market_offer_decode(p, pn, &o)) == GH_OK) {
			gh_hex_encode(id, 32, hex);
			if (a.json) {
				printf("{\"offer\":\"%s\",\"detail\":", hex);
				cli_offer_print(&o, 1, 1);
				printf("}\n");
			} else {
				printf("offer %s\n", hex);
				cli_offer_print(&o, 0, 1);
			}
		}
	}
	free(b);
	if (rv == GH_ENOENT) {
		return (cli_fail(rv,
		    "asset not registered with this node's "
		    "key"));
	}
	return (rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "offer publish"));
}

int
cli_market_main(int argc, char **argv)
{
	cli_market_args a;
	gh_writer       w;
	uint8_t        *b = NULL;
	size_t          bl;
	int             match;
	int             ex, rv;

	if (argc < 2) {
		fputs(cli_market_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(cli_market_usage, stdout);
		return (CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "match") != 0) {
		return (
		    cli_usage_error("market", "unknown verb '%s'", argv[1]));
	}
	match = strcmp(argv[1], "match") == 0;
	if ((ex = cli_market_parse("market", cli_market_usage, argc, argv, &a))
	    >= 0) {
		return (ex);
	}
	if (!a.have_limit) {
		a.q.max = match ? 1 : 100;
	}
	gh_writer_init(&w);
	rv = node_market_query_encode(&a.q, &w);
	if (rv == GH_OK) {
		rv = cli_net_call(
		    a.node, "market-list", w.p, w.len, 30000, &b, &bl);
	}
	gh_writer_free(&w);
	if (rv == GH_OK) {
		gh_reader r;
		uint32_t  cnt = 0;
		gh_reader_init(&r, b, bl);
		rv = gh_get_u32(&r, &cnt);
		if (a.json) {
			printf("[");
		} else if (rv == GH_OK) {
			printf("%-16s %10s %-8s %-8s %8s %s\n", "ASSET",
			    "PRICE", "BILLING", "REGION", "MEM_MIB",
			    "HARDWARE");
		}
		for (uint32_t i = 0; rv == GH_OK && i < cnt; i++) {
			const uint8_t *p;
			uint32_t       pn;
			market_offer   o;
			if ((rv = gh_get_str(&r, MARKET_OFFER_MAX, &p, &pn))
			        != GH_OK
			    || (rv = market_offer_decode(p, pn, &o))
			        != GH_OK) {
				break;
			}
			cli_offer_print(&o, a.json, i == 0);
		}
		if (a.json) {
			printf("]\n");
		}
		if (rv == GH_OK && match && cnt == 0 && !a.json) {
			fprintf(stderr, "gpuhour: no offer matches\n");
			rv = GH_ENOENT;
		}
	}
	free(b);
	return (
	    rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "market %s", argv[1]));
}

int
cli_asset_register_main(int argc, char **argv)
{
	cli_market_args a;
	gh_acct_key    *k = NULL;
	gh_acct_pub     pub;
	ledger_entry    e;
	uint8_t        *b = NULL;
	size_t          bl;
	gh_hash         h;
	char            hex[65];
	int             ex, rv;

	if (argc < 2) {
		fputs(cli_asset_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[1], "register") != 0) {
		return (
		    cli_usage_error("asset", "unknown verb '%s'", argv[1]));
	}
	if ((ex = cli_market_parse("asset", cli_asset_usage, argc, argv, &a))
	    >= 0) {
		return (ex);
	}
	if (a.key == NULL || !a.have_supply || a.supply == 0) {
		return (cli_usage_error(
		    "asset", "needs --key FILE and --supply S (> 0)"));
	}
	if ((rv = cli_devnet_account_key(a.key, a.passenv, &k)) != GH_OK) {
		return (cli_fail(rv, "%s", a.key));
	}
	gh_acct_key_pub(k, &pub);
	rv = cli_net_prepare(a.node, k, LEDGER_ASSET_REGISTER, &e);
	if (rv == GH_OK) {
		rv = cli_net_call(
		    a.node, "asset-bind", pub.b, 32, 10000, &b, &bl);
	}
	if (rv == GH_OK) {
		gh_reader r;
		gh_reader_init(&r, b, bl);
		if ((rv = gh_get_fixed(&r, e.body.asset.node.b, 32)) == GH_OK
		    && (rv = gh_get_fixed(&r, e.body.asset.node_sig.b, 64))
		        == GH_OK
		    && (rv = gh_get_cstr(&r, LEDGER_HW_MAX, e.body.asset.hw,
		            sizeof(e.body.asset.hw)))
		        == GH_OK) {
			rv = gh_reader_end(&r);
		}
	}
	free(b);
	if (rv == GH_OK) {
		e.body.asset.supply = a.supply;
		rv                  = cli_net_submit(a.node, &e, k, &h);
	}
	gh_acct_key_free(k);
	if (rv != GH_OK) {
		return (cli_fail(rv, "asset register"));
	}
	gh_hex_encode(h.b, 32, hex);
	if (a.json) {
		printf("{\"asset\":\"%s\",\"hw\":\"%s\"}\n", hex,
		    e.body.asset.hw);
	} else {
		printf("asset %s\nhw    %s\n", hex, e.body.asset.hw);
	}
	return (CLI_EXIT_OK);
}
