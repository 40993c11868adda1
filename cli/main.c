/* main.c - `gpuhour`: global flags and the subcommand table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"

typedef struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} cli_command;

/* Keep sorted by name; each line is one subcommand. */
static const cli_command cli_commands[] = {
	{ "asset", cli_asset_main,
	    "an asset: register, pool, lots, pledges, owner report" },
	{ "audit", cli_audit_main,
	    "spot-check a job transcript by re-running chunks on the CPU" },
	{ "demo", cli_demo_main, "run the whole story on a local devnet" },
	{ "job", cli_job_main,
	    "run inference jobs with utilization proofs (local or remote)" },
	{ "keys", cli_keys_main, "create and show account and node keys" },
	{ "lease", cli_lease_main,
	    "leases: open, receipt, draw, close, expire, list, show" },
	{ "ledger", cli_ledger_main,
	    "the ledger: genesis, show, verify, log proofs" },
	{ "loan", cli_loan_main,
	    "loans on share lots: offer, take, repay, cancel, seize" },
	{ "market", cli_market_main, "list and match offers held by a node" },
	{ "model", cli_model_main,
	    "inspect GGUF models, make test models, CUDA self-test" },
	{ "node", cli_node_main, "run the node daemon and talk to it" },
	{ "offer", cli_offer_main, "publish this node's offer" },
	{ "proof", cli_proof_main,
	    "verify utilization proofs and job transcripts" },
	{ "run", cli_run_main, "run a prompt through a model (CPU or CUDA)" },
	{ "shares", cli_shares_main,
	    "revenue shares: register, holders, "
	    "transfer, claim" },
	{ "wallet", cli_wallet_main, "balances, transfers and history" },
};

#define CLI_NCOMMANDS (sizeof(cli_commands) / sizeof(cli_commands[0]))

static void
cli_main_help(FILE *f)
{
	fprintf(f,
	    "usage: gpuhour [--help] [--version] <command> [<args>]\n"
	    "\n"
	    "gpuhour is a node for a peer-to-peer market in GPU compute.\n"
	    "\n"
	    "Commands:\n");
	for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
		fprintf(f, "  %-10s %s\n", cli_commands[i].name,
		    cli_commands[i].summary);
	}
	fprintf(f,
	    "\n"
	    "'gpuhour <command> --help' describes a command.\n"
	    "Exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 refused "
	    "(passphrase,\nsignature), 5 invalid data, 6 node unreachable.\n");
}

int
main(int argc, char **argv)
{
	if (gh_init() != GH_OK) {
		fprintf(stderr,
		    "gpuhour: cannot initialise the crypto "
		    "libraries\n");
		return (CLI_EXIT_FAIL);
	}
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2) {
		cli_main_help(stderr);
		return (CLI_EXIT_USAGE);
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0
	    || strcmp(argv[1], "help") == 0) {
		cli_main_help(stdout);
		return (CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0
	    || strcmp(argv[1], "version") == 0) {
		printf("gpuhour %s\n", GH_VERSION_STRING);
		return (CLI_EXIT_OK);
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "gpuhour: unknown option '%s'\n", argv[1]);
		fprintf(stderr, "Try 'gpuhour --help'.\n");
		return (CLI_EXIT_USAGE);
	}
	for (size_t i = 0; i < CLI_NCOMMANDS; i++) {
		if (strcmp(argv[1], cli_commands[i].name) == 0) {
			return (cli_commands[i].fn(argc - 1, argv + 1));
		}
	}
	fprintf(stderr, "gpuhour: '%s' is not a gpuhour command\n", argv[1]);
	fprintf(stderr, "Try 'gpuhour --help'.\n");
	return (CLI_EXIT_USAGE);
}
