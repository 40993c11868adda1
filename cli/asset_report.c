/* asset_report.c - `gpuhour asset report`: the owner's report on a GPU
 * asset (cli_asset_main passes the verb on). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "cli/cli.h"
#include "cli/devnet.h"
#include "market/market.h"

static const char cli_asset_usage[]
    = "usage: gpuhour asset report ASSET [--datadir DIR] [--power-price P]\n"
      "                            [--energy-kwh E] [--no-nvml] [--json]\n"
      "\n"
      "report prints, from the ledger, what the asset (its id: 64 hex\n"
      "digits) earned and how busy it was since its registration:\n"
      "utilization (attested device time over the period), GPU-hours sold\n"
      "(leases), revenue (all paid into its pool), revenue per GPU-hour\n"
      "sold, energy used, revenue per kWh, and the margin at the power\n"
      "price P.  Energy is --energy-kwh when given, else the local GPUs'\n"
      "NVML energy counter (since the driver loaded; self-reported) when\n"
      "NVML is present, else unknown (then no per-kWh figures).\n"
      "\n"
      "  --datadir DIR     devnet data dir (default $GPUHOUR_HOME/devnet)\n"
      "  --power-price P   power price in units per kWh (e.g. 0.12)\n"
      "  --energy-kwh E    energy used over the period, kWh\n"
      "  --no-nvml         do not read NVML\n"
      "  --json            machine-readable output\n";

enum {
	OPT_DATADIR = 256,
	OPT_PRICE,
	OPT_ENERGY,
	OPT_NONVML,
	OPT_JSON,
};

static const struct option cli_asset_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "power-price", required_argument, NULL, OPT_PRICE },
	{ "energy-kwh", required_argument, NULL, OPT_ENERGY },
	{ "no-nvml", no_argument, NULL, OPT_NONVML },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* A decimal with at most 6 fractional digits, scaled by 1e6 (checked). */
static int
cli_asset_micro(const char *s, uint64_t *out)
{
	uint64_t ip = 0, fp = 0;
	int      nd = 0, nf = -1;

	for (; *s != '\0'; s++) {
		if (*s == '.' && nf < 0 && nd > 0) {
			nf = 0;
			continue;
		}
		if (*s < '0' || *s > '9') {
			return (GH_EINVAL);
		}
		if (nf >= 0) {
			if (++nf > 6) {
				return (GH_EINVAL);
			}
			fp = fp * 10 + (uint64_t) (*s - '0');
		} else {
			if (++nd > 12) {
				return (GH_EOVERFLOW);
			}
			ip = ip * 10 + (uint64_t) (*s - '0');
		}
	}
	if (nd == 0 || nf == 0) {
		return (GH_EINVAL);
	}
	for (int k = nf < 0 ? 0 : nf; k < 6; k++) {
		fp *= 10;
	}
	*out = ip * 1000000 + fp;
	return (GH_OK);
}

static void
cli_asset_fig(const char *label, double v, const char *unit)
{
	if (v < 0) {
		printf("%-22s unknown\n", label);
	} else {
		printf("%-22s %.6f%s%s\n", label, v, unit[0] ? " " : "", unit);
	}
}

static int
cli_asset_report(const char *dir, const char *idhex, uint64_t price,
    int have_energy, uint64_t energy_micro_kwh, int nvml, int json)
{
	cli_devnet           *d = NULL;
	market_report        *r = NULL;
	market_report_figures f;
	ledger_id             id;
	const char           *esrc = "none";
	char                 *js;
	size_t                jn;
	int                   rv, ex = CLI_EXIT_OK;

	if (cli_parse_id(idhex, id.b) != GH_OK) {
		return (cli_usage_error("asset", "ASSET is 64 hex digits"));
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		return (cli_fail(GH_ENOMEM, "report"));
	}
	if ((rv = cli_devnet_open(dir, 0, &d)) != GH_OK) {
		free(r);
		return (cli_fail(rv, "%s", dir));
	}
	rv = market_report_build(
	    cli_devnet_store(d), &id, gh_time_now(), 3600, 24, r);
	cli_devnet_close(d);
	if (rv != GH_OK) {
		free(r);
		return (cli_fail(rv, "asset %s", idhex));
	}
	if (have_energy) {
		/* micro-kWh -> mJ: 1 kWh = 3.6e9 mJ. */
		r->has_energy = 1;
		r->energy_mj  = energy_micro_kwh * 3600;
		esrc          = "given";
	} else if (nvml) {
		uint64_t mj;
		unsigned ndev;
		if (attest_nvml_energy(&mj, &ndev) == GH_OK) {
			r->has_energy = 1;
			r->energy_mj  = mj;
			esrc          = "nvml";
		}
	}
	if (json) {
		if ((rv = market_report_json(r, price, &js, &jn)) != GH_OK) {
			ex = cli_fail(rv, "report");
		} else {
			/* The source of the energy figure, next to the rest.
			 */
			printf("{\"energy_from\":\"%s\",%s\n", esrc, js + 1);
			free(js);
		}
	} else {
		market_report_figures_get(r, price, &f);
		printf("asset                  %s\n", idhex);
		printf("period                 %llu s since registration\n",
		    (unsigned long long) (r->now > r->registered
		            ? r->now - r->registered
		            : 0));
		printf(
		    "utilization            %.2f %%\n", f.utilization * 100);
		printf(
		    "GPU-hours sold         %.6f (%llu leases, %llu open)\n",
		    (double) r->lease_s / 3600.0,
		    (unsigned long long) r->leases,
		    (unsigned long long) r->leases_open);
		printf("GPU-hours attested     %.6f (%llu proofs, %llu "
		       "tokens)\n",
		    f.gpu_hours_used, (unsigned long long) r->proofs,
		    (unsigned long long) r->tokens);
		printf("revenue                %.6f (paid into the pool; "
		       "%.6f claimed)\n",
		    f.revenue, (double) r->paid_out / 1e6);
		cli_asset_fig(
		    "revenue per GPU-hour", f.revenue_per_gpu_hour, "");
		cli_asset_fig("energy", f.energy_kwh, "kWh");
		if (r->has_energy) {
			printf("energy source          %s\n",
			    strcmp(esrc, "nvml") == 0
			        ? "NVML counter since driver load "
			          "(self-reported)"
			        : "given on the command line");
		}
		cli_asset_fig("revenue per kWh", f.revenue_per_kwh, "");
		if (price > 0) {
			printf("power price            %.6f per kWh\n",
			    (double) price / 1e6);
		}
		cli_asset_fig("power cost", f.power_cost, "");
		if (f.power_cost >= 0) {
			printf("%-22s %.6f\n", "margin", f.margin);
		} else {
			printf("%-22s unknown (needs energy and "
			       "--power-price)\n",
			    "margin");
		}
	}
	market_report_clear(r);
	free(r);
	return (ex);
}

int
cli_asset_report_main(int argc, char **argv)
{
	const char *datadir = NULL;
	char        dir[PATH_MAX];
	uint64_t    price = 0, energy = 0;
	int         have_energy = 0, nvml = 1, json = 0;
	int         c, rv;

	optind = 1;
	while (
	    (c = getopt_long(argc, argv, "h", cli_asset_opts, NULL)) != -1) {
		switch (c) {
		case OPT_DATADIR:
			datadir = optarg;
			break;
		case OPT_PRICE:
			if (cli_asset_micro(optarg, &price) != GH_OK) {
				return (cli_usage_error("asset",
				    "--power-price: a decimal like 0.12"));
			}
			break;
		case OPT_ENERGY:
			if (cli_asset_micro(optarg, &energy) != GH_OK) {
				return (cli_usage_error("asset",
				    "--energy-kwh: a decimal like 12.5"));
			}
			have_energy = 1;
			break;
		case OPT_NONVML:
			nvml = 0;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			fputs(cli_asset_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			fputs(cli_asset_usage, stderr);
			return (CLI_EXIT_USAGE);
		}
	}
	if (optind >= argc) {
		fputs(cli_asset_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[optind], "report") != 0) {
		return (cli_usage_error(
		    "asset", "unknown verb '%s'", argv[optind]));
	}
	if (optind + 2 != argc) {
		return (cli_usage_error("asset", "report takes one ASSET"));
	}
	if ((rv = cli_devnet_dir(datadir, dir, sizeof(dir))) != GH_OK) {
		return (cli_fail(rv, "data dir"));
	}
	return (cli_asset_report(
	    dir, argv[optind + 1], price, have_energy, energy, nvml, json));
}
