/*
 * demo.c - `gpuhour demo`: the whole story on one machine, told step by
 * step.  Every step is a real `gpuhour` command run as a child process
 * against a fresh devnet in a temporary folder; the demo checks what
 * each printed, stops every process it started, and exits 0 only if
 * every step held.
 */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"

#define DEMO_VARS 48
#define DEMO_PIDS 16

typedef struct {
	char  home[PATH_MAX]; /* GPUHOUR_HOME of every step */
	char  self[PATH_MAX]; /* this binary */
	int   step;
	int   verbose;
	pid_t pids[DEMO_PIDS];
	int   npids;
	char  names[DEMO_VARS][32];
	char  values[DEMO_VARS][512];
	int   nvars;
} demo;

/* Only main's demo is ever live; the signal handler needs to find it. */
static demo *demo_live;

static void demo_say(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void
demo_say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Remembers a value under a name for later steps. */
static void
demo_set(demo *d, const char *name, const char *value)
{
	for (int i = 0; i < d->nvars; i++) {
		if (strcmp(d->names[i], name) == 0) {
			snprintf(
			    d->values[i], sizeof(d->values[i]), "%s", value);
			return;
		}
	}
	if (d->nvars < DEMO_VARS) {
		snprintf(d->names[d->nvars], sizeof(d->names[0]), "%s", name);
		snprintf(
		    d->values[d->nvars], sizeof(d->values[0]), "%s", value);
		d->nvars++;
	}
}

static const char *
demo_get(const demo *d, const char *name)
{
	for (int i = 0; i < d->nvars; i++) {
		if (strcmp(d->names[i], name) == 0) {
			return (d->values[i]);
		}
	}
	return ("");
}

/*
 * Finds "key": in JSON text and copies its value (a string without the
 * quotes, or a number) into out.  Enough for the flat objects our
 * commands print.
 */
static int
demo_json(const char *json, const char *key, char *out, size_t cap)
{
	char        pat[80];
	const char *p;
	size_t      n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (json == NULL || (p = strstr(json, pat)) == NULL) {
		return (GH_ENOENT);
	}
	p += strlen(pat);
	while (*p == ' ') {
		p++;
	}
	if (*p == '"') {
		p++;
		while (p[n] != '"' && p[n] != '\0') {
			n++;
		}
	} else {
		while (p[n] != ',' && p[n] != '}' && p[n] != '\0'
		    && p[n] != '\n') {
			n++;
		}
	}
	if (n == 0 || n >= cap) {
		return (GH_ENOENT);
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return (GH_OK);
}

/*
 * Runs one step: `gpuhour ARGS` (printf-style, a shell command line in
 * which $H is the demo's home) with its output captured.  Prints the
 * narration; on failure prints the output too.  *out (may be NULL) is
 * the output, malloc'd.  Returns the command's exit code (-1 when it
 * did not exit normally).
 */
static int demo_run(demo *d, char **out, const char *say, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
demo_run(demo *d, char **out, const char *say, const char *fmt, ...)
{
	char    *args = NULL, *cmd = NULL;
	char     cap[PATH_MAX + 16];
	uint8_t *buf = NULL;
	size_t   n;
	va_list  ap;
	int      st, rc;

	if (out != NULL) {
		*out = NULL;
	}
	va_start(ap, fmt);
	if (vasprintf(&args, fmt, ap) < 0) {
		va_end(ap);
		return (-1);
	}
	va_end(ap);
	snprintf(cap, sizeof(cap), "%s/.step-out", d->home);
	if (asprintf(&cmd,
	        "H='%s'; export GPUHOUR_HOME=\"$H\"; { '%s' %s ; } >'%s' 2>&1 "
	        "</dev/null",
	        d->home, d->self, args, cap)
	    < 0) {
		free(args);
		return (-1);
	}
	if (say != NULL) {
		demo_say("\n[%d] %s\n", ++d->step, say);
	}
	if (d->verbose) {
		demo_say("    $ gpuhour %s\n", args);
	}
	st = system(cmd);
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	if (gh_file_read(cap, 16u << 20, &buf, &n) != GH_OK) {
		buf = NULL;
	}
	if (rc != 0 || d->verbose) {
		demo_say("    $ gpuhour %s  (exit %d)\n%s", args, rc,
		    buf ? (char *) buf : "");
	}
	if (out != NULL) {
		*out = (char *) buf;
	} else {
		free(buf);
	}
	free(args);
	free(cmd);
	return (rc);
}

/* Prints the lines of text indented, for the narration. */
static void
demo_show(const char *text)
{
	const char *p = text;

	while (p != NULL && *p != '\0') {
		const char *e = strchr(p, '\n');
		int         n = e ? (int) (e - p) : (int) strlen(p);
		demo_say("    %.*s\n", n, p);
		p = e ? e + 1 : NULL;
	}
}

static void
demo_stop_all(demo *d)
{
	for (int i = 0; i < d->npids; i++) {
		kill(d->pids[i], SIGTERM);
	}
	for (int i = 0; i < d->npids; i++) {
		int st;
		for (int t = 0; t < 100; t++) {
			if (waitpid(d->pids[i], &st, WNOHANG) != 0) {
				break;
			}
			usleep(50000);
			if (t == 99) {
				kill(d->pids[i], SIGKILL);
				waitpid(d->pids[i], &st, 0);
			}
		}
	}
	d->npids = 0;
}

static void
demo_on_signal(int sig)
{
	(void) sig;
	if (demo_live != NULL) {
		for (int i = 0; i < demo_live->npids; i++) {
			kill(demo_live->pids[i], SIGKILL);
		}
	}
	_exit(130);
}

static int
demo_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) flag;
	(void) f;
	remove(p);
	return (0);
}

/* Checks a balance against a figure computed by hand. */
static int
demo_expect_balance(demo *d, const char *who, uint64_t want)
{
	char    *out = NULL;
	char     v[64];
	uint64_t got;
	int      ok;

	if (demo_run(
	        d, &out, NULL, "wallet balance --json %s", demo_get(d, who))
	        != 0
	    || demo_json(out, "balance", v, sizeof(v)) != GH_OK) {
		free(out);
		demo_say("    could not read the balance of %s\n", who);
		return (0);
	}
	got = strtoull(v, NULL, 10);
	ok  = got == want;
	demo_say("    %-10s %14llu micro-units  %s\n", who,
	    (unsigned long long) got, ok ? "(as computed)" : "MISMATCH");
	if (!ok) {
		demo_say("    expected %llu\n", (unsigned long long) want);
	}
	free(out);
	return (ok);
}

/*
 * The renter signs a receipt for the cumulative amount it owes; the
 * provider's node draws on it (verb "draw") or closes the lease with it
 * ("close").
 */
static int
demo_lease_pay(demo *d, int seq, uint64_t amount, const char *verb)
{
	char  say[160];
	char *out = NULL;
	int   rc;

	snprintf(say, sizeof(say),
	    "The renter signs receipt %d: it owes %llu micro-units in all.",
	    seq, (unsigned long long) amount);
	if (demo_run(d, &out, say,
	        "lease receipt --receipt-key \"$H/keys/rkey.key\" --lease %s "
	        "--seq %d --amount %llu",
	        demo_get(d, "lease"), seq, (unsigned long long) amount)
	    != 0) {
		free(out);
		return (1);
	}
	out[strcspn(out, "\n")] = '\0';
	demo_set(d, "receipt", out);
	free(out);
	snprintf(say, sizeof(say),
	    strcmp(verb, "draw") == 0
	        ? "The provider's node draws on it: the fee to the treasury, "
	          "the rest into the GPU's pool."
	        : "The provider's node closes the lease on it: the unused "
	          "escrow goes back to the renter.");
	rc = demo_run(d, &out, say,
	    "lease %s --node-key \"$H/keys/gpu0.key\" --lease %s --receipt %s "
	    "--json",
	    verb, demo_get(d, "lease"), demo_get(d, "receipt"));
	free(out);
	return (rc);
}

/* The story.  Returns 0 when every step held. */
static int
demo_story(demo *d)
{
	char    *out = NULL;
	char     v[160];
	int      rc     = 1;
	uint64_t supply = 1000000;

	demo_say("gpuhour demo: a GPU-hour market on one machine.\n"
	         "Folder: %s\n",
	    d->home);

	if (demo_run(d, NULL,
	        "A devnet: a committee of 4 validators (f = 1), an issuer "
	        "and a treasury.",
	        "ledger genesis --validators 4 --insecure-no-passphrase")
	    != 0) {
		goto out;
	}
	demo_set(d, "issuer_key", "");
	if (demo_run(d, NULL,
	        "Keys: the GPU owner, a share buyer, a renter (and its "
	        "receipt key); "
	        "the GPU's node key.",
	        "keys new --kind account --name owner "
	        "--insecure-no-passphrase && '%s' keys new --kind account "
	        "--name buyer --insecure-no-passphrase && '%s' keys new "
	        "--kind account --name renter --insecure-no-passphrase && "
	        "'%s' keys new --kind node --name gpu0 "
	        "--insecure-no-passphrase && '%s' keys new --kind node "
	        "--name rkey --insecure-no-passphrase",
	        d->self, d->self, d->self, d->self)
	    != 0) {
		goto out;
	}
	const char *names[] = { "owner", "buyer", "renter", "treasury" };
	for (size_t i = 0; i < 4; i++) {
		if (demo_run(d, &out, NULL,
		        i < 3 ? "keys export-pub %s"
		              : "keys export-pub --file "
		                "\"$H/devnet/keys/%s.key\"",
		        names[i])
		    != 0) {
			goto out;
		}
		out[strcspn(out, "\n")] = '\0';
		demo_set(d, names[i], out);
		free(out);
		out = NULL;
	}
	if (demo_run(d, NULL,
	        "The stablecoin bridge: the issuer mints 50 units to the "
	        "renter.",
	        "wallet mint --key \"$H/devnet/keys/issuer.key\" --to %s "
	        "--amount 50000000",
	        demo_get(d, "renter"))
	    != 0) {
		goto out;
	}
	if (demo_run(d, &out, "A model to serve: a small llama model.",
	        "model make-test --out \"$H/demo.gguf\" && '%s' model "
	        "inspect --json \"$H/demo.gguf\"",
	        d->self)
	        != 0
	    || demo_json(out, "hash", v, sizeof(v)) != GH_OK) {
		goto out;
	}
	demo_set(d, "model", v);
	demo_say("    model hash %s\n", v);
	free(out);
	out = NULL;

	if (demo_run(d, &out,
	        "The owner registers the GPU as an asset with 1,000,000 "
	        "shares.",
	        "shares register --key \"$H/keys/owner.key\" --node-key "
	        "\"$H/keys/gpu0.key\" --supply %llu --hw \"$(uname -m) "
	        "CPU backend\" --json",
	        (unsigned long long) supply)
	        != 0
	    || demo_json(out, "asset", v, sizeof(v)) != GH_OK) {
		goto out;
	}
	demo_set(d, "asset", v);
	if (demo_json(out, "lot", v, sizeof(v)) != GH_OK) {
		goto out;
	}
	demo_set(d, "owner_lot", v);
	demo_say("    asset %s\n", demo_get(d, "asset"));
	free(out);
	out = NULL;

	if (demo_run(d, &out,
	        "The owner sells 30% of the GPU's revenue "
	        "shares to the buyer.",
	        "shares transfer --key \"$H/keys/owner.key\" --lot %s --to "
	        "%s --amount %llu --json",
	        demo_get(d, "owner_lot"), demo_get(d, "buyer"),
	        (unsigned long long) (supply * 3 / 10))
	    != 0) {
		goto out;
	}
	free(out);
	out = NULL;

	/* A lease: 1 hour at 2 units per GPU-hour, held in escrow. */
	if (demo_run(d, &out,
	        "The renter leases the GPU for 1 hour at 2 units per "
	        "GPU-hour: the escrow leaves its balance.",
	        "lease open --key \"$H/keys/renter.key\" --asset %s --hours 1 "
	        "--price 2000000 --receipt-key \"$H/keys/rkey.key\" --json",
	        demo_get(d, "asset"))
	        != 0
	    || demo_json(out, "lease", v, sizeof(v)) != GH_OK) {
		goto out;
	}
	demo_set(d, "lease", v);
	demo_say("    lease %s\n", v);
	if (demo_json(out, "escrow", v, sizeof(v)) == GH_OK) {
		demo_say("    escrow %s micro-units\n", v);
	}
	free(out);
	out = NULL;
	if (demo_lease_pay(d, 1, 600000, "draw") != 0
	    || demo_lease_pay(d, 2, 1500000, "close") != 0) {
		goto out;
	}
	if (demo_run(d, &out, "Share holders: what each lot has accrued.",
	        "shares holders %s", demo_get(d, "asset"))
	    != 0) {
		goto out;
	}
	demo_show(out);
	free(out);
	out = NULL;
	if (demo_run(d, &out, "Every holder claims its part of the pool.",
	        "shares holders --json %s", demo_get(d, "asset"))
	    != 0) {
		goto out;
	}
	{
		/* The buyer's lot is the one held by the buyer. */
		const char *p = strstr(out, demo_get(d, "buyer"));
		const char *lot;
		if (p == NULL) {
			goto out;
		}
		/* the lot id precedes its holder in each object */
		while (p > out && strncmp(p, "{", 1) != 0) {
			p--;
		}
		if ((lot = strstr(p, "\"lot\":\"")) == NULL) {
			goto out;
		}
		snprintf(v, 65, "%s", lot + 7);
		demo_set(d, "buyer_lot", v);
	}
	free(out);
	out = NULL;
	if (demo_run(d, NULL, NULL,
	        "shares claim --key \"$H/keys/owner.key\" --lot %s",
	        demo_get(d, "owner_lot"))
	        != 0
	    || demo_run(d, NULL, NULL,
	           "shares claim --key \"$H/keys/buyer.key\" --lot %s",
	           demo_get(d, "buyer_lot"))
	        != 0) {
		goto out;
	}
	demo_say("\n[%d] Balances, to the micro-unit:\n", ++d->step);
	/*
	 * By hand: escrow 2,000,000; drawn 600,000 then 900,000, each less
	 * the 1% fee, so the pool got 594,000 + 891,000 = 1,485,000 and the
	 * treasury 15,000; 500,000 went back to the renter.  70% and 30% of
	 * the pool go to the owner and the buyer.
	 */
	if (!demo_expect_balance(d, "owner", 1039500)
	    || !demo_expect_balance(d, "buyer", 445500)
	    || !demo_expect_balance(d, "renter", 50000000 - 2000000 + 500000)
	    || !demo_expect_balance(d, "treasury", 15000)) {
		goto out;
	}
	if (demo_run(d, &out,
	        "An auditor replays the ledger: every signature, "
	        "certificate, invariant and the log's root.",
	        "ledger verify")
	    != 0) {
		goto out;
	}
	demo_show(out);
	rc = 0;
out:
	free(out);
	return (rc);
}

static const char demo_usage[]
    = "usage: gpuhour demo [--keep] [--verbose]\n"
      "\n"
      "Runs the whole story on this machine, in a new temporary folder:\n"
      "a devnet with a 4-validator committee; an owner registers a GPU (or\n"
      "the CPU backend) as an asset and sells 30%% of its revenue shares; a\n"
      "renter pays for compute; the revenue reaches the share holders; an\n"
      "auditor verifies the ledger.  Each step runs a real gpuhour command;\n"
      "the demo stops every process it started and exits 0 only if every\n"
      "step held.\n"
      "\n"
      "  --keep      keep the folder (its path is printed)\n"
      "  --verbose   print every command and its output\n";

int
cli_demo_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	demo        d;
	const char *tmp;
	int         keep = 0, c, rc;
	ssize_t     n;

	memset(&d, 0, sizeof(d));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keep = 1;
			break;
		case 'v':
			d.verbose = 1;
			break;
		case 'h':
			printf(demo_usage);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "demo", "bad option '%s'", argv[optind - 1]));
		}
	}
	if (optind != argc) {
		return (cli_usage_error(
		    "demo", "unexpected argument '%s'", argv[optind]));
	}
	if ((n = readlink("/proc/self/exe", d.self, sizeof(d.self) - 1))
	    <= 0) {
		return (cli_fail(GH_EIO, "cannot find the gpuhour binary"));
	}
	d.self[n] = '\0';
	tmp       = getenv("TMPDIR");
	snprintf(d.home, sizeof(d.home), "%s/gpuhour-demo-XXXXXX",
	    tmp ? tmp : "/tmp");
	if (mkdtemp(d.home) == NULL) {
		return (
		    cli_fail(gh_err_from_errno(errno), "temporary folder"));
	}
	demo_live = &d;
	signal(SIGINT, demo_on_signal);
	signal(SIGTERM, demo_on_signal);
	rc = demo_story(&d);
	demo_stop_all(&d);
	demo_live = NULL;
	if (keep) {
		demo_say("\nThe demo's folder is kept: %s\n", d.home);
	} else {
		nftw(d.home, demo_rm, 16, FTW_DEPTH | FTW_PHYS);
	}
	demo_say(rc == 0 ? "\ndemo: every step held.\n"
	                 : "\ndemo: a step failed (above).\n");
	return (rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}
