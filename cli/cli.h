/*
 * cli.h - the `gpuhour` command line: one function per subcommand, each
 * called with argv[0] = the subcommand's name.  Prefix cli_.
 *
 * Threads: the CLI runs on the main thread only.
 */
#ifndef GH_CLI_H
#define GH_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes, the same for every subcommand. */
enum {
	CLI_EXIT_OK       = 0, /* done */
	CLI_EXIT_FAIL     = 1, /* the operation failed */
	CLI_EXIT_USAGE    = 2, /* bad command line */
	CLI_EXIT_NOTFOUND = 3, /* the named thing does not exist */
	CLI_EXIT_AUTH     = 4, /* wrong passphrase, bad signature, refused */
	CLI_EXIT_INVALID  = 5, /* data failed verification */
	CLI_EXIT_NODE     = 6, /* the node could not be reached */
};

/* Maps a gh_err to one of the exit codes above. */
int cli_exit_code(int err);

/* Prints "gpuhour: <what>: <strerror(err)>" to stderr; returns the exit
 * code for err. */
int cli_fail(int err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prints "gpuhour <cmd>: <message>" and a hint to use --help; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The gpuhour home folder: $GPUHOUR_HOME, else $HOME/.gpuhour.  Writes
 * into out (cap bytes); GH_ETOOLONG or GH_ENOENT when neither is set.
 */
int cli_home(char *out, size_t cap);

/*
 * A passphrase for a key file, from (in order) the environment variable
 * named by env_name (if not NULL), $GPUHOUR_PASSPHRASE, or a prompt on
 * the terminal (twice when confirm is set).  *out is sodium_malloc'd:
 * free with cli_pass_free.  GH_ENOENT when none is available.
 */
int  cli_pass_get(const char *env_name, int confirm, char **out, size_t *n);
void cli_pass_free(char *p);

/*
 * Writes s[0..n) as a JSON string (quotes included), escaping quotes,
 * backslashes and control bytes.  Bytes of 0x80 and above are written
 * as they are (the caller passes UTF-8, or accepts raw bytes).
 */
void cli_json_string(FILE *f, const char *s, size_t n);

/*
 * Progress bars for long work (progress.c).  A bar is drawn on stderr,
 * one line rewritten with '\r', only when cli_progress_wanted(json):
 * json is 0, stderr is a terminal, $CI and $GPUHOUR_NO_PROGRESS are
 * unset or empty and $TERM is not "dumb".  Otherwise nothing is
 * printed.  Main thread only.
 */
typedef struct cli_progress cli_progress;
enum { CLI_PROGRESS_COUNT = 0, CLI_PROGRESS_BYTES = 1 };
int cli_progress_wanted(int json);
/* A bar labelled label counting unit up to total (0: unknown, a spinner
 * and the count).  NULL when no bar is wanted (or out of memory): every
 * cli_progress_ function accepts NULL and then does nothing. */
cli_progress *cli_progress_new(
    const char *label, int unit, uint64_t total, int json);
/* Sets the amount done; redraws at most ten times a second, and always
 * on the first call and on reaching the total. */
void cli_progress_set(cli_progress *p, uint64_t done);
void cli_progress_total(cli_progress *p, uint64_t total);
/* Erases the bar's line and frees p. */
void cli_progress_free(cli_progress *p);
/* gpu_model_open, then, when a bar is wanted, reads the weights in
 * with a bar ("loading model", bytes).  Same errors and ownership as
 * gpu_model_open. */
struct gpu_model;
int cli_progress_model_open(const char *path, int json, struct gpu_model **out,
    char *errbuf, size_t errcap);

int cli_keys_main(int argc, char **argv);
int cli_model_main(int argc, char **argv);
int cli_run_main(int argc, char **argv);
int cli_asset_main(int argc, char **argv);
/* `gpuhour asset report` (cli/asset_report.c): cli_asset_main passes it
 * on with argv[0] = "asset", argv[1] = "report". */
int cli_asset_report_main(int argc, char **argv);
int cli_lease_main(int argc, char **argv);
int cli_loan_main(int argc, char **argv);
int cli_demo_main(int argc, char **argv);
int cli_ledger_main(int argc, char **argv);
int cli_shares_main(int argc, char **argv);
int cli_wallet_main(int argc, char **argv);
/* `gpuhour ledger proof|consistency|evidence|checkpoints` (the
 * transparency log's verbs, cli/ledger_log.c): cli_ledger_main passes
 * them on with argv[0] = "ledger", argv[1] the verb. */
int cli_ledger_log_main(int argc, char **argv);
int cli_node_main(int argc, char **argv);
int cli_job_main(int argc, char **argv);
int cli_proof_main(int argc, char **argv);
int cli_audit_main(int argc, char **argv);
/* cli/market.c: the market through a running node. */
int cli_offer_main(int argc, char **argv);
int cli_market_main(int argc, char **argv);
int cli_asset_register_main(int argc, char **argv); /* asset register */

#endif
