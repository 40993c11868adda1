/*
 * demo.c - `gpuhour demo`: the whole story on one machine, told step by
 * step, on a real network on loopback: 4 validator nodes, the
 * provider's node, the renter's node and an auditor's node, each a
 * `gpuhour node run` process.  Every step is a real `gpuhour` command
 * run as a child process against them, in a temporary folder; the demo
 * checks what each printed, stops every process it started, and exits 0
 * only if every step held.
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
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

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
	int   quiet; /* a failure that will be retried: no output */
	int   tries; /* demo_try's next bound (0: 40) */
	int   base;  /* the first of the network's 8 ports */
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
	if ((rc != 0 && !d->quiet) || d->verbose) {
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

/* Prints the lines of text indented, for the narration; bytes that a
 * terminal would not print (a test model's text has many) show as '.'. */
static void
demo_show(const char *text)
{
	int bol = 1;

	for (const char *p = text; p != NULL && *p != '\0'; p++) {
		unsigned char c = (unsigned char) *p;
		if (bol) {
			fputs("    ", stdout);
			bol = 0;
		}
		if (c == '\n') {
			bol = 1;
		}
		putchar(c == '\n' || (c >= 0x20 && c < 0x7f) ? c : '.');
	}
	if (!bol) {
		putchar('\n');
	}
	fflush(stdout);
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

/* Runs a step that submits to the network until it exits 0 (nodes
 * still connecting, an entry still being applied): at most d->tries
 * (default 40) tries, half a second apart; the narration once, the
 * output of the last. */
static int demo_try(demo *d, char **out, const char *say, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
demo_try(demo *d, char **out, const char *say, const char *fmt, ...)
{
	char   *args = NULL;
	va_list ap;
	int     rc = -1, v = d->verbose;
	int     tries = d->tries > 0 ? d->tries : 40;

	va_start(ap, fmt);
	if (vasprintf(&args, fmt, ap) < 0) {
		va_end(ap);
		return (-1);
	}
	va_end(ap);
	if (say != NULL) {
		demo_say("\n[%d] %s\n", ++d->step, say);
	}
	d->tries = 0;
	for (int i = 0; i < tries && rc != 0; i++) {
		if (out != NULL) {
			free(*out);
			*out = NULL;
		}
		if (i > 0) {
			usleep(500000);
		}
		d->quiet   = i < tries - 1;
		rc         = demo_run(d, out, NULL, "%s", args);
		d->verbose = 0;
	}
	d->verbose = v;
	d->quiet   = 0;
	free(args);
	return (rc);
}

/* Eight free TCP ports from base on 127.0.0.1. */
static int
demo_ports(int *base)
{
	for (int tries = 0; tries < 64; tries++) {
		int p  = 20000 + (int) randombytes_uniform(40000);
		int ok = 1;
		for (int i = 0; i < 8 && ok; i++) {
			struct sockaddr_in a;
			int                s = socket(AF_INET, SOCK_STREAM, 0);
			memset(&a, 0, sizeof(a));
			a.sin_family      = AF_INET;
			a.sin_port        = htons((uint16_t) (p + i));
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			ok                = s >= 0
			    && bind(s, (struct sockaddr *) &a, sizeof(a)) == 0;
			if (s >= 0) {
				close(s);
			}
		}
		if (ok) {
			*base = p;
			return (GH_OK);
		}
	}
	return (GH_EBUSY);
}

/* Writes $H/NAME.conf and starts `gpuhour node run` on it (log in
 * $H/NAME.log), then waits until its control socket answers. */
static int
demo_node(
    demo *d, const char *name, const char *key, int port, const char *extra)
{
	char  path[PATH_MAX + 64], log[PATH_MAX + 64], text[4 * PATH_MAX];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/%s.conf", d->home, name);
	snprintf(log, sizeof(log), "%s/%s.log", d->home, name);
	snprintf(text, sizeof(text),
	    "data_dir = %s/%s\nlisten = tcp://127.0.0.1:%d\n"
	    "node_key = %s\ngenesis = %s/devnet/genesis.txt\n"
	    "seed = tcp://127.0.0.1:%d\nseed = tcp://127.0.0.1:%d\n"
	    "gossip_interval_ms = 300\nsync_interval_ms = 700\n"
	    "reconnect_min_ms = 200\nreconnect_max_ms = 2000\n"
	    "checkpoint_seconds = 1\nlog_level = warn\n%s",
	    d->home, name, port, key, d->home, d->base, d->base + 1,
	    extra != NULL ? extra : "");
	if (gh_file_write_atomic(path, text, strlen(text), 0600) != GH_OK
	    || d->npids >= DEMO_PIDS) {
		return (-1);
	}
	if ((pid = fork()) < 0) {
		return (-1);
	}
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(d->self, "gpuhour", "node", "run", "--config", path,
		    (char *) NULL);
		_exit(127);
	}
	d->pids[d->npids++] = pid;
	return (demo_try(
	    d, NULL, NULL, "node status --config \"$H/%s.conf\"", name));
}

/* Checks a balance (read at the auditor's node) against a figure
 * computed by hand; waits for the network to agree. */
static int
demo_expect_balance(demo *d, const char *who, uint64_t want)
{
	char    *out = NULL;
	char     v[64];
	uint64_t got = 0;

	for (int i = 0; i < 40; i++) {
		free(out);
		out = NULL;
		if (demo_run(d, &out, NULL,
		        "wallet balance --node \"$H/auditor.conf\" --json %s",
		        demo_get(d, who))
		        == 0
		    && demo_json(out, "balance", v, sizeof(v)) == GH_OK) {
			got = strtoull(v, NULL, 10);
			if (got == want) {
				break;
			}
		}
		usleep(250000);
	}
	free(out);
	demo_say("    %-10s %14llu micro-units  %s\n", who,
	    (unsigned long long) got,
	    got == want ? "(as computed)" : "MISMATCH");
	if (got != want) {
		demo_say("    expected %llu\n", (unsigned long long) want);
	}
	return (got == want);
}

/* A value of a JSON output into the table (name), or failure. */
static int
demo_keep(demo *d, const char *out, const char *key, const char *name)
{
	char v[512];

	if (demo_json(out, key, v, sizeof(v)) != GH_OK) {
		demo_say("    no \"%s\" in the output\n", key);
		return (-1);
	}
	demo_set(d, name, v);
	return (0);
}

/* The lot held by who on the asset, from `shares holders --json`. */
static int
demo_lot(demo *d, const char *who, const char *name)
{
	char       *out = NULL;
	char        pat[128], v[65];
	const char *p;
	int         rc = -1;

	snprintf(pat, sizeof(pat), "\"holder\":\"%s\"", demo_get(d, who));
	if (demo_try(d, &out, NULL,
	        "shares holders --node \"$H/provider.conf\" --json %s",
	        demo_get(d, "asset"))
	        == 0
	    && (p = strstr(out, pat)) != NULL) {
		while (p > out && strncmp(p, "\"lot\":\"", 7) != 0) {
			p--;
		}
		if (strncmp(p, "\"lot\":\"", 7) == 0) {
			snprintf(v, sizeof(v), "%.64s", p + 7);
			demo_set(d, name, v);
			rc = 0;
		}
	}
	free(out);
	return (rc);
}

/* The story.  Returns 0 when every step held. */
static int
demo_story(demo *d)
{
	static const char *accounts[] = { "owner", "buyer", "renter" };
	static const char *nodes[]    = { "gpu0", "renter-node", "auditor" };
	char              *out        = NULL;
	char               extra[PATH_MAX + 256];
	char               path[PATH_MAX + 64];
	int                rc     = 1;
	uint64_t           supply = 1000000, drawn, fees, pool;
	uint64_t           price  = 3600000000ull; /* 1 per device-us */

	demo_say("gpuhour demo: a GPU-hour market on one machine, on real "
	         "nodes talking over loopback.\nFolder: %s\n",
	    d->home);
	if (demo_ports(&d->base) != GH_OK) {
		demo_say("no free ports on 127.0.0.1\n");
		goto out;
	}
	if (demo_run(d, NULL,
	        "The network's genesis: a committee of 4 validators (f = 1), "
	        "an issuer, a treasury, a 1% protocol fee.",
	        "ledger genesis --validators 4 --base-port %d --lease-grace 5 "
	        "--clock-margin 2 --insecure-no-passphrase",
	        d->base)
	    != 0) {
		goto out;
	}
	if (demo_run(d, NULL,
	        "Keys: the GPU owner, a share buyer and a renter (accounts); "
	        "the provider's, the renter's and the auditor's nodes.",
	        "keys new --kind account --name owner "
	        "--insecure-no-passphrase && '%s' keys new --kind account "
	        "--name buyer --insecure-no-passphrase && '%s' keys new "
	        "--kind account --name renter --insecure-no-passphrase && "
	        "'%s' keys new --kind node --name gpu0 "
	        "--insecure-no-passphrase && '%s' keys new --kind node "
	        "--name renter-node --insecure-no-passphrase && '%s' keys "
	        "new --kind node --name auditor --insecure-no-passphrase",
	        d->self, d->self, d->self, d->self, d->self)
	    != 0) {
		goto out;
	}
	for (size_t i = 0; i < 6; i++) {
		const char *name = i < 3 ? accounts[i] : nodes[i - 3];
		if (demo_run(d, &out, NULL, "keys export-pub %s", name) != 0) {
			goto out;
		}
		out[strcspn(out, "\n")] = '\0';
		demo_set(d, name, out);
		free(out);
		out = NULL;
	}
	if (demo_run(d, &out, NULL,
	        "keys export-pub --file \"$H/devnet/keys/treasury.key\"")
	    != 0) {
		goto out;
	}
	out[strcspn(out, "\n")] = '\0';
	demo_set(d, "treasury", out);
	free(out);
	out = NULL;
	if (demo_run(d, &out, "A model to serve: a small llama model.",
	        "model make-test --out \"$H/demo.gguf\" && '%s' model "
	        "inspect --json \"$H/demo.gguf\"",
	        d->self)
	        != 0
	    || demo_keep(d, out, "hash", "model") != 0) {
		goto out;
	}
	demo_say("    model hash %s\n", demo_get(d, "model"));
	free(out);
	out = NULL;

	demo_say("\n[%d] Seven nodes start on 127.0.0.1: validators on ports "
	         "%d-%d, the provider's node\n    (serving the model; GPU "
	         "if one is present and passes its self-test, else the\n    "
	         "CPU backend) on %d, the renter's on %d, the auditor's on "
	         "%d.\n",
	    ++d->step, d->base, d->base + 3, d->base + 4, d->base + 5,
	    d->base + 6);
	for (int i = 0; i < 4; i++) {
		char name[32], key[PATH_MAX + 64];
		snprintf(name, sizeof(name), "validator-%d", i);
		snprintf(key, sizeof(key), "%s/devnet/keys/validator-%d.key",
		    d->home, i);
		if (demo_node(d, name, key, d->base + i, NULL) != 0) {
			goto out;
		}
	}
	snprintf(extra, sizeof(extra),
	    "serve_model = %s/demo.gguf\njob_threads = 1\n"
	    "request_timeout_ms = 60000\ndraw_every_receipts = 1\n"
	    "http_listen = 127.0.0.1:%d\n",
	    d->home, d->base + 7);
	snprintf(path, sizeof(path), "%s/keys/gpu0.key", d->home);
	if (demo_node(d, "provider", path, d->base + 4, extra) != 0) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/keys/renter-node.key", d->home);
	if (demo_node(d, "renter", path, d->base + 5, NULL) != 0) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/keys/auditor.key", d->home);
	if (demo_node(d, "auditor", path, d->base + 6, NULL) != 0) {
		goto out;
	}
	demo_say("    all running; the provider's dashboard is at "
	         "http://127.0.0.1:%d/\n",
	    d->base + 7);

	if (demo_try(d, NULL,
	        "The stablecoin bridge: the issuer mints 50 units to the "
	        "renter and 5 to the buyer.",
	        "wallet mint --node \"$H/validator-0.conf\" --key "
	        "\"$H/devnet/keys/issuer.key\" --to %s --amount 50000000 && "
	        "'%s' wallet mint --node \"$H/validator-0.conf\" --key "
	        "\"$H/devnet/keys/issuer.key\" --to %s --amount 5000000",
	        demo_get(d, "renter"), d->self, demo_get(d, "buyer"))
	    != 0) {
		goto out;
	}
	if (demo_try(d, &out,
	        "The owner registers the provider's machine as an asset with "
	        "1,000,000 revenue shares (the node describes its own "
	        "hardware and measured throughput).",
	        "asset register --node \"$H/provider.conf\" --key "
	        "\"$H/keys/owner.key\" --supply %llu --json",
	        (unsigned long long) supply)
	        != 0
	    || demo_keep(d, out, "asset", "asset") != 0) {
		goto out;
	}
	demo_show(out);
	free(out);
	out = NULL;
	if (demo_lot(d, "owner", "owner_lot") != 0) {
		goto out;
	}
	if (demo_try(d, NULL,
	        "The owner sells 30% of the shares to the buyer for 1 unit.",
	        "shares transfer --node \"$H/provider.conf\" --key "
	        "\"$H/keys/owner.key\" --lot %s --to %s --amount %llu && "
	        "'%s' wallet transfer --node \"$H/renter.conf\" --key "
	        "\"$H/keys/buyer.key\" --to %s --amount 1000000",
	        demo_get(d, "owner_lot"), demo_get(d, "buyer"),
	        (unsigned long long) (supply * 3 / 10), d->self,
	        demo_get(d, "owner"))
	        != 0
	    || demo_lot(d, "buyer", "buyer_lot") != 0) {
		goto out;
	}
	if (demo_try(d, NULL,
	        "The provider's node offers the GPU: metered billing, 3600 "
	        "units per GPU-hour of attested device time, one lease at a "
	        "time, serving the model.",
	        "offer publish --node \"$H/provider.conf\" --asset %s --price "
	        "%llu --billing metered --capacity 1 --min-lease 1 --model %s",
	        demo_get(d, "asset"), (unsigned long long) price,
	        demo_get(d, "model"))
	    != 0) {
		goto out;
	}
	if (demo_try(d, &out,
	        "The renter's node has the offer by gossip; the renter asks "
	        "for the best match serving the model.",
	        "market match --node \"$H/renter.conf\" --model %s --billing "
	        "metered --json | grep %s",
	        demo_get(d, "model"), demo_get(d, "asset"))
	    != 0) {
		goto out;
	}
	free(out);
	out = NULL;
	if (demo_try(d, &out,
	        "The renter leases it for 30 s: 30 units go into escrow; the "
	        "renter's node will sign the receipts.",
	        "lease open --node \"$H/renter.conf\" --key "
	        "\"$H/keys/renter.key\" --asset %s --seconds 30 --price %llu "
	        "--metered --json",
	        demo_get(d, "asset"), (unsigned long long) price)
	        != 0
	    || demo_keep(d, out, "lease", "lease") != 0) {
		goto out;
	}
	demo_say("    lease %s\n", demo_get(d, "lease"));
	free(out);
	out = NULL;
	if (demo_try(d, &out,
	        "A job, sealed to the provider's node key: the model runs "
	        "the prompt, returns the output with a signed utilization "
	        "proof; the renter's node verifies it and pays the attested "
	        "device time with a receipt.",
	        "job submit --node \"$H/renter.conf\" --provider %s --model "
	        "\"$H/demo.gguf\" --lease %s --prompt \"Once upon a time\" "
	        "-n 32 --seed 7 --out \"$H/job.transcript\" --timeout 120000",
	        demo_get(d, "gpu0"), demo_get(d, "lease"))
	    != 0) {
		goto out;
	}
	demo_show(out);
	free(out);
	out = NULL;
	/* A checkpoint is signed when the log has grown; if the auditor's
	 * node missed the one after the PROOF entry, the next comes with
	 * the lease's close, about 30 s after it opened. */
	d->tries = 90;
	if (demo_try(d, &out,
	        "The auditor's node checks the proof against its own replica "
	        "of the ledger: the PROOF entry the provider's node recorded, "
	        "the lease, the log and a signed checkpoint.",
	        "proof verify \"$H/job.transcript\" --node "
	        "\"$H/auditor.conf\" "
	        "--lease %s --provider %s",
	        demo_get(d, "lease"), demo_get(d, "gpu0"))
	    != 0) {
		goto out;
	}
	demo_show(out);
	free(out);
	out      = NULL;
	d->tries = 120; /* the lease's 30 s, the close, its gossip */
	if (demo_try(d, &out,
	        "The lease runs out: the provider's node has drawn on the "
	        "receipt and closes the lease; the unused escrow goes back "
	        "to the renter.",
	        "lease show --node \"$H/auditor.conf\" --json %s | grep "
	        "'\"state\":\"closed\"'",
	        demo_get(d, "lease"))
	        != 0
	    || demo_keep(d, out, "drawn", "drawn") != 0
	    || demo_keep(d, out, "fees", "fees") != 0) {
		goto out;
	}
	drawn = strtoull(demo_get(d, "drawn"), NULL, 10);
	fees  = strtoull(demo_get(d, "fees"), NULL, 10);
	pool  = drawn - fees;
	demo_say("    metered: %llu micro-units drawn, %llu fee, %llu into "
	         "the GPU's pool\n",
	    (unsigned long long) drawn, (unsigned long long) fees,
	    (unsigned long long) pool);
	free(out);
	out = NULL;
	if (demo_try(d, NULL, "Every holder claims its part of the pool.",
	        "shares claim --node \"$H/provider.conf\" --key "
	        "\"$H/keys/owner.key\" --lot %s && '%s' shares claim --node "
	        "\"$H/renter.conf\" --key \"$H/keys/buyer.key\" --lot %s",
	        demo_get(d, "owner_lot"), d->self, demo_get(d, "buyer_lot"))
	    != 0) {
		goto out;
	}
	demo_say("\n[%d] Balances at the auditor's node, to the micro-unit:\n",
	    ++d->step);
	/* By hand: a lot of a shares of S claims floor(a * pool / S); the
	 * treasury has the fee; the renter paid what was drawn. */
	if (!demo_expect_balance(d, "owner", 1000000 + pool * 7 / 10)
	    || !demo_expect_balance(
	        d, "buyer", 5000000 - 1000000 + pool * 3 / 10)
	    || !demo_expect_balance(d, "renter", 50000000 - drawn)
	    || !demo_expect_balance(d, "treasury", fees)) {
		goto out;
	}
	if (demo_run(d, &out,
	        "The auditor spot-checks the job: sampled chunks re-run on "
	        "the CPU, tokens re-sampled from the committed seed.",
	        "audit --transcript \"$H/job.transcript\" --model "
	        "\"$H/demo.gguf\" --samples 2 --fraction 0.1")
	    != 0) {
		goto out;
	}
	demo_show(out);
	free(out);
	out = NULL;
	demo_say("\n[%d] Every node replays its own ledger: signatures, "
	         "certificates, invariants, the log's root.\n",
	    ++d->step);
	{
		static const char *all[]
		    = { "validator-0", "validator-1", "validator-2",
			      "validator-3", "provider", "renter", "auditor" };
		for (size_t i = 0; i < 7; i++) {
			if (demo_try(d, &out, NULL,
			        "ledger verify --node \"$H/%s.conf\"", all[i])
			    != 0) {
				goto out;
			}
			out[strcspn(out, "\n")] = '\0';
			demo_say("    %-12s %s\n", all[i], out);
			free(out);
			out = NULL;
		}
	}
	rc = 0;
out:
	free(out);
	return (rc);
}

static const char demo_usage[]
    = "usage: gpuhour demo [--keep] [--verbose]\n"
      "\n"
      "Runs the whole story on this machine, in a new temporary folder,\n"
      "on a network of real nodes on 127.0.0.1 (8 free ports picked at\n"
      "random): a 4-validator committee, the provider's node (the GPU if\n"
      "one is present and passes its self-test, else the CPU backend),\n"
      "the renter's node and an auditor's node.  An owner registers the\n"
      "machine as an asset and sells 30%% of its revenue shares and\n"
      "offers it; a renter finds the offer, leases it, runs a job and\n"
      "reads the output; the proof is recorded; the lease settles; the\n"
      "revenue reaches the share holders; the auditor verifies.  Each\n"
      "step runs a real gpuhour command; the demo stops every process it\n"
      "started and exits 0 only if every step held.\n"
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
	demo_say(rc == 0 ? "\ndemo: every step held; audit verdict: ok.\n"
	                 : "\ndemo: a step failed (above).\n");
	return (rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL);
}
