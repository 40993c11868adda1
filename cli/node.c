/* node.c - `gpuhour node run|status|peers|stop|announce|messages|ping|
 * wait-sync`. */
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "ledger/ledger.h"
#include "cuda/cuda.h"
#include "cli/devnet.h"
#include "node/claims.h"
#include "node/jobs.h"
#include "node/leases.h"
#include "node/node.h"

static const char cli_node_usage[]
    = "usage: gpuhour node run [--config FILE] [--serve-model GGUF]\n"
      "                        [--accept-lease HEX] [--job-threads N]\n"
      "                        [--max-tokens N]\n"
      "       gpuhour node status [--json] [--config FILE | --data-dir "
      "DIR]\n"
      "       gpuhour node peers [--json] [...]\n"
      "       gpuhour node stop [...]\n"
      "       gpuhour node announce [--json] [...] TEXT\n"
      "       gpuhour node messages [--json] [...]\n"
      "       gpuhour node ping [--json] [...] PEER-KEY-HEX\n"
      "       gpuhour node wait-sync [--json] [...] [--timeout S]\n"
      "                        [--settle S] [--min-peers N]\n"
      "\n"
      "`node run` starts the node daemon in the foreground: it joins the\n"
      "network through its seeds, gossips, serves peers, and listens on a\n"
      "control socket (DATA_DIR/node/control.sock, mode 0600) through\n"
      "which the other commands talk to it.  SIGINT or SIGTERM (or `node\n"
      "stop`) shut it down cleanly.  Logs go to stderr as logfmt lines.\n"
      "The config file defaults to $GPUHOUR_HOME/node.conf.\n"
      "\n"
      "  status     this node: key, network, peers, traffic counters\n"
      "  peers      the peer table: key, address, score, ban, connection\n"
      "  stop       ask the node to shut down\n"
      "  announce   publish a signed test announcement (gossiped to all)\n"
      "  messages   announcements this node holds, with arrival times\n"
      "  ping       a request/response round trip to a connected peer\n"
      "  wait-sync  wait (also for a node still starting) until the\n"
      "             ledger has caught up: at least\n"
      "             --min-peers (default 1) active peers and a height\n"
      "             that has not moved for --settle seconds (default\n"
      "             two sync intervals + 1 s, from the config; 11 s with\n"
      "             --data-dir); exit 1 after --timeout seconds (default\n"
      "             300) if not.  On a terminal a line shows the height\n"
      "             as it grows (not with --json, $CI or\n"
      "             $GPUHOUR_NO_PROGRESS set, or $TERM=dumb).\n"
      "\n"
      "  --config FILE   node configuration (data_dir is read from it)\n"
      "  --data-dir DIR  the node's data folder (instead of --config)\n"
      "  --json          machine-readable output\n"
      "\n"
      "Jobs (request kind 33; see `gpuhour job --help`): every node\n"
      "forwards its CLI's sealed jobs to providers.  With --serve-model\n"
      "the node also serves jobs for that model on the CPU backend, one\n"
      "at a time, on its worker thread (keep request_timeout_ms above the "
      "job\n"
      "time).  A job runs only on an active lease of this node, served\n"
      "(not refused for capacity), sent by the lease's renter node (its\n"
      "receipt key); each proof is recorded as a PROOF entry on the\n"
      "node's chain.  Leases: this node serves, draws on and closes the\n"
      "leases of its assets, and signs receipts for the leases it pays\n"
      "(see draw_every_receipts and receipt_every_seconds below).\n"
      "--accept-lease instead accepts only that lease id, with no\n"
      "ledger check (a node without a ledger).\n"
      "\n"
      "  --serve-model GGUF   serve jobs for this model\n"
      "  --accept-lease HEX   the one lease id (64 hex digits) accepted\n"
      "  --job-threads N      CPU threads for jobs (default: all)\n"
      "  --max-tokens N       prompt + n_predict limit per prompt\n"
      "\n";

enum {
	OPT_CONFIG = 256,
	OPT_DATADIR,
	OPT_JSON,
	OPT_SERVE_MODEL,
	OPT_ACCEPT_LEASE,
	OPT_JOB_THREADS,
	OPT_MAX_TOKENS,
	OPT_TIMEOUT,
	OPT_SETTLE,
	OPT_MIN_PEERS,
};

static const struct option cli_node_opts[] = {
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "data-dir", required_argument, NULL, OPT_DATADIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "serve-model", required_argument, NULL, OPT_SERVE_MODEL },
	{ "accept-lease", required_argument, NULL, OPT_ACCEPT_LEASE },
	{ "job-threads", required_argument, NULL, OPT_JOB_THREADS },
	{ "max-tokens", required_argument, NULL, OPT_MAX_TOKENS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "min-peers", required_argument, NULL, OPT_MIN_PEERS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *config;
	const char *datadir;
	int         json;
	const char *serve_model;
	int         have_lease;
	uint8_t     lease[32];
	int         job_threads;
	uint32_t    max_tokens;
	uint32_t    timeout_s;   /* wait-sync */
	int         have_settle; /* wait-sync: settle_ms given */
	uint32_t    settle_ms;
	uint32_t    min_peers;
} cli_node_args;

/* The lease check of --accept-lease: the one lease given on the
 * command line. */
static int
cli_node_lease_ok(void *arg, const uint8_t lease[32], const gh_ed_pub *renter,
    char *why, size_t whycap)
{
	const cli_node_args *a = arg;

	(void) renter;
	if (!a->have_lease || memcmp(a->lease, lease, 32) != 0) {
		snprintf(why, whycap, "no active lease with this id");
		return (GH_EPERM);
	}
	return (GH_OK);
}

static void
cli_node_help(FILE *f)
{
	fputs(cli_node_usage, f);
	fputs(node_config_help(), f);
}

static int
cli_node_config(const cli_node_args *a, node_config *c, char *path, size_t cap)
{
	char home[PATH_MAX];
	char err[256];
	int  rv;

	node_config_default(c);
	if (a->config != NULL) {
		snprintf(path, cap, "%s", a->config);
	} else {
		if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
			return (cli_fail(rv, "home folder"));
		}
		if (snprintf(
		        path, cap, "%.*s/node.conf", (int) (cap - 16), home)
		    >= (int) cap) {
			return (cli_fail(GH_ETOOLONG, "config path"));
		}
	}
	if ((rv = node_config_load(path, c, err, sizeof(err))) != GH_OK) {
		fprintf(stderr, "gpuhour: %s\n", err);
		return (rv == GH_EINVAL ? CLI_EXIT_USAGE : cli_exit_code(rv));
	}
	return (CLI_EXIT_OK);
}

/* Finds the data dir for a client command. */
static int
cli_node_datadir(const cli_node_args *a, char *out, size_t cap)
{
	node_config *c;
	char         path[PATH_MAX];
	int          ex;

	if (a->datadir != NULL) {
		snprintf(out, cap, "%s", a->datadir);
		return (CLI_EXIT_OK);
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (cli_fail(GH_ENOMEM, "config"));
	}
	if ((ex = cli_node_config(a, c, path, sizeof(path))) == CLI_EXIT_OK) {
		snprintf(out, cap, "%s", c->data_dir);
	}
	free(c);
	return (ex);
}

static void *
cli_node_sigthread(void *arg)
{
	node    *n = arg;
	sigset_t set;
	int      sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig) == 0 && sig != SIGUSR1) {
		char      ts[32];
		time_t    t = time(NULL);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(stderr,
		    "ts=%s level=info pid=%d msg=\"stop requested\" "
		    "via=signal sig=%d\n",
		    ts, (int) getpid(), sig);
		node_stop(n);
	}
	return (NULL);
}

static int
cli_node_run(const cli_node_args *a)
{
	node_config     *c   = NULL;
	node            *n   = NULL;
	node_ledger     *led = NULL;
	node_market     *mkt = NULL;
	node_own        *own = NULL;
	node_leases     *lss = NULL;
	node_claims     *clm = NULL;
	gh_ed_key       *key = NULL, *jkey = NULL;
	node_jobs       *jobs = NULL;
	node_jobs_config jc;
	char             jerr[256] = "";
	gh_keyfile_info  info;
	char             path[PATH_MAX];
	char            *pass    = NULL;
	size_t           passlen = 0;
	sigset_t         set, old;
	pthread_t        thr;
	int              have_thr = 0;
	int              ex;
	int              rv;

	if ((c = malloc(sizeof(*c))) == NULL) {
		return (cli_fail(GH_ENOMEM, "config"));
	}
	if ((ex = cli_node_config(a, c, path, sizeof(path))) != CLI_EXIT_OK) {
		goto out;
	}
	if ((rv = gh_keyfile_info_read(c->node_key, &info)) != GH_OK) {
		ex = cli_fail(rv, "node key %s", c->node_key);
		goto out;
	}
	if (info.kind != GH_KEY_NODE) {
		ex = cli_fail(GH_ETYPE, "node key %s", c->node_key);
		goto out;
	}
	if (info.encrypted
	    && (rv = cli_pass_get(
	            c->node_key_pass_env[0] ? c->node_key_pass_env : NULL, 0,
	            &pass, &passlen))
	        != GH_OK) {
		ex = cli_fail(rv, "passphrase for %s", c->node_key);
		goto out;
	}
	rv = gh_keyfile_open_node(c->node_key, pass, passlen, &key);
	if (rv == GH_OK) { /* the jobs' copy: signs proofs, opens jobs */
		rv = gh_keyfile_open_node(c->node_key, pass, passlen, &jkey);
		if (rv != GH_OK) {
			gh_ed_key_free(key);
			key = NULL;
		}
	}
	cli_pass_free(pass);
	if (rv != GH_OK) {
		ex = cli_fail(rv, "node key %s", c->node_key);
		goto out;
	}
	/* Block the stop signals in every thread (nng's inherit the mask);
	 * one thread waits for them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if ((rv = node_open(c, key, &n)) != GH_OK) {
		ex = cli_fail(
		    rv, "node %s (data dir %s)", c->listen, c->data_dir);
		goto out;
	}
	if (c->ledger && (rv = node_ledger_attach(n, c, &led)) != GH_OK) {
		ex = cli_fail(
		    rv, "ledger in %s (genesis %s)", c->data_dir, c->genesis);
		goto out;
	}
	if (c->ledger && (rv = node_market_attach(n, c, led, &mkt)) != GH_OK) {
		ex = cli_fail(rv, "offer book in %s", c->data_dir);
		goto out;
	}
	if (c->ledger
	    && ((rv = node_own_attach(n, c, led, &own)) != GH_OK
	        || (rv = node_leases_attach(n, c, led, mkt, own, &lss))
	            != GH_OK)) {
		ex = cli_fail(rv, "leases in %s", c->data_dir);
		goto out;
	}
	if (c->ledger && c->claim_key[0] != '\0') {
		gh_acct_key *ck = NULL;
		if ((rv = cli_devnet_account_key(c->claim_key,
		         c->claim_key_pass_env[0] ? c->claim_key_pass_env
		                                  : NULL,
		         &ck))
		        != GH_OK
		    || (rv = node_claims_attach(n, c, led, ck, &clm))
		        != GH_OK) {
			ex = cli_fail(rv, "claim key %s", c->claim_key);
			goto out;
		}
	}
	memset(&jc, 0, sizeof(jc));
	jc.model_path = a->serve_model != NULL ? a->serve_model
	    : c->serve_model[0] != '\0'        ? c->serve_model
	                                       : NULL;
	jc.threads
	    = a->job_threads > 0 ? a->job_threads : (int) c->job_threads;
	jc.max_tokens = a->max_tokens;
	if (jc.model_path != NULL && strcmp(c->backend, "cpu") != 0) {
		/* A GPU is offered only when it agrees with the CPU. */
		char why[256] = "";
		rv            = gpu_cuda_available(why, sizeof(why));
		if (rv == GH_OK) {
			rv = gpu_backend_selftest(why, sizeof(why));
		}
		jc.cuda = rv == GH_OK;
		if (rv != GH_OK && strcmp(c->backend, "cuda") == 0) {
			ex = cli_fail(rv, "backend cuda: %s", why);
			goto out;
		}
		fprintf(stderr, "gpuhour: jobs on the %s backend (%s)\n",
		    jc.cuda ? "CUDA" : "CPU",
		    jc.cuda ? "self-test passed" : why);
	}
	if (a->have_lease || lss == NULL) {
		/* --accept-lease: that one lease only. */
		jc.lease_ok  = cli_node_lease_ok;
		jc.lease_arg = (void *) a;
	} else {
		jc.lease_ok   = node_leases_job_ok;
		jc.lease_arg  = lss;
		jc.proved     = node_leases_proved;
		jc.proved_arg = lss;
	}
	rv   = node_jobs_attach(n, &jc, jkey, &jobs, jerr, sizeof(jerr));
	jkey = NULL;
	if (rv != GH_OK) {
		ex = cli_fail(rv, "jobs: %s", jerr);
		goto out;
	}
	if (mkt != NULL) {
		node_market_set_engine(mkt, node_jobs_throughput(jobs),
		    node_jobs_max_tokens(jobs));
	}
	/* The HTTP API reads the node's own ledger store and order book. */
	if (c->http_listen[0] != '\0') {
		node_http_src src;
		memset(&src, 0, sizeof(src));
		src.store = led != NULL ? node_ledger_store(led) : NULL;
		src.book  = node_market_book(mkt);
		if ((rv = node_http_start(n, &src)) != GH_OK) {
			ex = cli_fail(rv, "http api on %s", c->http_listen);
			goto out;
		}
	}
	if (pthread_create(&thr, NULL, cli_node_sigthread, n) == 0) {
		have_thr = 1;
	}
	rv = node_run(n);
	node_jobs_stop(jobs);
	node_ledger_stop(led);
	node_market_free(mkt);
	mkt = NULL;
	ex  = rv == GH_OK ? CLI_EXIT_OK : cli_fail(rv, "node");
	if (have_thr) {
		pthread_kill(thr, SIGUSR1);
		pthread_join(thr, NULL);
	}
out:
	node_close(n);
	node_jobs_free(jobs);
	gh_ed_key_free(jkey);
	node_claims_free(clm);
	node_leases_free(lss);
	node_own_free(own);
	node_market_free(mkt);
	node_ledger_free(led);
	free(c);
	return (ex);
}

static int
cli_node_call(const cli_node_args *a, const char *cmd, const uint8_t *req,
    size_t len, uint8_t **body, size_t *blen)
{
	char dir[PATH_MAX];
	int  status;
	int  ex;
	int  rv;

	*body = NULL;
	*blen = 0;
	if ((ex = cli_node_datadir(a, dir, sizeof(dir))) != CLI_EXIT_OK) {
		return (ex);
	}
	rv = node_ctl_call(dir, cmd, req, len, 10000, &status, body, blen);
	if (rv != GH_OK) {
		fprintf(
		    stderr, "gpuhour: node at %s: %s\n", dir, gh_strerror(rv));
		return (CLI_EXIT_NODE);
	}
	if (status != GH_OK) {
		free(*body);
		*body = NULL;
		return (cli_fail(status, "node %s", cmd));
	}
	return (CLI_EXIT_OK);
}

static void
cli_hex(const uint8_t *p, size_t n, char *out)
{
	gh_hex_encode(p, n, out);
}

static int
cli_node_status(const cli_node_args *a)
{
	node_status s;
	uint8_t    *b;
	size_t      bl;
	char        pub[65], net[65];
	int         ex;

	if ((ex = cli_node_call(a, "status", NULL, 0, &b, &bl))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	if (node_status_decode(b, bl, &s) != GH_OK) {
		free(b);
		return (cli_fail(GH_EPROTO, "node status"));
	}
	free(b);
	cli_hex(s.pub.b, 32, pub);
	cli_hex(s.netid.b, 32, net);
	if (a->json) {
		printf("{\"node\":\"%s\",\"network\":\"%s\",\"listen\":\"%s\","
		       "\"uptime_ms\":%llu,\"peers_active\":%u,"
		       "\"peers_known\":%u,\"peers_banned\":%u,\"items\":%llu,"
		       "\"copies\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,"
		       "\"frames_in\":%llu,\"frames_out\":%llu,"
		       "\"dropped\":%llu,\"unchecked\":%u}\n",
		    pub, net, s.listen, (unsigned long long) s.uptime_ms,
		    s.peers_active, s.peers_known, s.peers_banned,
		    (unsigned long long) s.items,
		    (unsigned long long) s.copies,
		    (unsigned long long) s.bytes_in,
		    (unsigned long long) s.bytes_out,
		    (unsigned long long) s.frames_in,
		    (unsigned long long) s.frames_out,
		    (unsigned long long) s.dropped, s.unchecked);
	} else {
		printf("node      %s\nnetwork   %s\nlisten    %s\n"
		       "uptime    %llu s\npeers     %u active, %u known, %u "
		       "banned\nitems     %llu (copies received %llu)\n"
		       "traffic   in %llu B / %llu frames, out %llu B / %llu "
		       "frames\ndropped   %llu\nunchecked %u\n",
		    pub, net, s.listen,
		    (unsigned long long) (s.uptime_ms / 1000), s.peers_active,
		    s.peers_known, s.peers_banned,
		    (unsigned long long) s.items,
		    (unsigned long long) s.copies,
		    (unsigned long long) s.bytes_in,
		    (unsigned long long) s.frames_in,
		    (unsigned long long) s.bytes_out,
		    (unsigned long long) s.frames_out,
		    (unsigned long long) s.dropped, s.unchecked);
	}
	return (CLI_EXIT_OK);
}

static int
cli_node_peers(const cli_node_args *a)
{
	uint8_t  *b;
	size_t    bl;
	gh_reader r;
	uint32_t  cnt;
	int       ex;

	if ((ex = cli_node_call(a, "peers", NULL, 0, &b, &bl))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	gh_reader_init(&r, b, bl);
	if (gh_get_u32(&r, &cnt) != GH_OK) {
		free(b);
		return (cli_fail(GH_EPROTO, "node peers"));
	}
	if (a->json) {
		printf("[");
	} else {
		printf("%-64s %-28s %6s %-6s %s\n", "KEY", "ADDRESS", "SCORE",
		    "ACTIVE", "BANNED-UNTIL");
	}
	for (uint32_t i = 0; i < cnt; i++) {
		node_peer_row row;
		char          pub[65];
		if (node_peer_row_decode(&r, &row) != GH_OK) {
			free(b);
			return (cli_fail(GH_EPROTO, "node peers"));
		}
		cli_hex(row.pub.b, 32, pub);
		if (a->json) {
			printf(
			    "%s{\"key\":\"%s\",\"addr\":\"%s\",\"score\":%d,"
			    "\"active\":%s,\"banned_until\":%llu,"
			    "\"last_seen\":%llu}",
			    i ? "," : "", pub, row.addr, (int) row.score,
			    row.active ? "true" : "false",
			    (unsigned long long) row.banned_until,
			    (unsigned long long) row.last_seen);
		} else {
			printf("%-64s %-28s %6d %-6s %llu\n", pub, row.addr,
			    (int) row.score, row.active ? "yes" : "no",
			    (unsigned long long) row.banned_until);
		}
	}
	if (a->json) {
		printf("]\n");
	}
	free(b);
	return (CLI_EXIT_OK);
}

static void
cli_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;
		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

static int
cli_node_messages(const cli_node_args *a)
{
	uint8_t  *b;
	size_t    bl;
	gh_reader r;
	uint32_t  cnt;
	int       ex;

	if ((ex = cli_node_call(a, "messages", NULL, 0, &b, &bl))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	gh_reader_init(&r, b, bl);
	if (gh_get_u32(&r, &cnt) != GH_OK) {
		free(b);
		return (cli_fail(GH_EPROTO, "node messages"));
	}
	if (a->json) {
		printf("[");
	}
	for (uint32_t i = 0; i < cnt; i++) {
		node_msg_row row;
		char         id[65], au[65];
		if (node_msg_row_decode(&r, &row) != GH_OK) {
			free(b);
			return (cli_fail(GH_EPROTO, "node messages"));
		}
		cli_hex(row.id.b, 32, id);
		cli_hex(row.author.b, 32, au);
		if (a->json) {
			printf(
			    "%s{\"id\":\"%s\",\"author\":\"%s\",\"seq\":%llu,"
			    "\"recv_us\":%llu,\"copies\":%u,\"text\":",
			    i ? "," : "", id, au, (unsigned long long) row.seq,
			    (unsigned long long) row.recv_us, row.copies);
			cli_json_str(row.text);
			printf("}");
		} else {
			printf("%s %.16s %4llu %s\n", id, au,
			    (unsigned long long) row.seq, row.text);
		}
	}
	if (a->json) {
		printf("]\n");
	}
	free(b);
	return (CLI_EXIT_OK);
}

static int
cli_node_announce(const cli_node_args *a, const char *text)
{
	gh_writer w;
	uint8_t  *b = NULL;
	size_t    bl;
	char      id[65];
	int       ex;

	if (strlen(text) > NODE_ANN_TEXT_MAX) {
		return (cli_usage_error(
		    "node", "announce text over %d bytes", NODE_ANN_TEXT_MAX));
	}
	gh_writer_init(&w);
	gh_put_cstr(&w, NODE_ANN_TEXT_MAX, text);
	ex = cli_node_call(a, "announce", w.p, w.len, &b, &bl);
	gh_writer_free(&w);
	if (ex != CLI_EXIT_OK) {
		return (ex);
	}
	if (bl != 40) {
		free(b);
		return (cli_fail(GH_EPROTO, "node announce"));
	}
	cli_hex(b, 32, id);
	if (a->json) {
		printf("{\"id\":\"%s\",\"seq\":%llu}\n", id,
		    (unsigned long long) gh_be64_get(b + 32));
	} else {
		printf("%s\n", id);
	}
	free(b);
	return (CLI_EXIT_OK);
}

static int
cli_node_ping(const cli_node_args *a, const char *hex)
{
	uint8_t  pub[32];
	uint8_t *b = NULL;
	size_t   bl;
	int      ex;

	if (strlen(hex) != 64 || gh_hex_decode(hex, pub, 32) != GH_OK) {
		return (cli_usage_error("node", "ping needs a 64-digit key"));
	}
	if ((ex = cli_node_call(a, "ping", pub, 32, &b, &bl)) != CLI_EXIT_OK) {
		return (ex);
	}
	if (bl != 8) {
		free(b);
		return (cli_fail(GH_EPROTO, "node ping"));
	}
	if (a->json) {
		printf("{\"rtt_us\":%llu}\n",
		    (unsigned long long) gh_be64_get(b));
	} else {
		printf("%llu us\n", (unsigned long long) gh_be64_get(b));
	}
	free(b);
	return (CLI_EXIT_OK);
}

/* One look at the node for wait-sync: its ledger height and peers. */
static int
cli_node_sync_poll(
    const cli_node_args *a, node_ledger_info *li, node_status *st)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      ex;

	if ((ex = cli_node_call(a, "ledger-info", NULL, 0, &b, &bl))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	if (node_ledger_info_decode(b, bl, li) != GH_OK) {
		free(b);
		return (cli_fail(GH_EPROTO, "node ledger-info"));
	}
	free(b);
	if ((ex = cli_node_call(a, "status", NULL, 0, &b, &bl))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	if (node_status_decode(b, bl, st) != GH_OK) {
		free(b);
		return (cli_fail(GH_EPROTO, "node status"));
	}
	free(b);
	return (CLI_EXIT_OK);
}

/*
 * Polls the node until its ledger stops growing with peers connected.
 * The node syncs from each peer by rounds (sync_interval_ms), so the
 * height may stand still between rounds: "settled" means unchanged for
 * longer than two rounds.
 */
static int
cli_node_wait_sync(const cli_node_args *a)
{
	node_ledger_info li;
	node_status      st;
	cli_progress    *bar = NULL;
	uint64_t         t0 = gh_mono_ns(), moved, last = 0, start = 0;
	uint64_t         settle_ns, limit_ns;
	int              first = 1, synced = 0, ex;

	settle_ns = (uint64_t) a->settle_ms * 1000000ULL;
	if (!a->have_settle) {
		settle_ns = 11000000000ULL;
		if (a->config != NULL || a->datadir == NULL) {
			node_config *c = malloc(sizeof(*c));
			char         path[PATH_MAX];
			if (c == NULL) {
				return (cli_fail(GH_ENOMEM, "config"));
			}
			ex = cli_node_config(a, c, path, sizeof(path));
			settle_ns
			    = ((uint64_t) c->sync_ms * 2 + 1000) * 1000000ULL;
			free(c);
			if (ex != CLI_EXIT_OK) {
				return (ex);
			}
		}
	}
	limit_ns = (uint64_t) a->timeout_s * 1000000000ULL;
	/* A node just started may not answer yet: wait for its control
	 * socket (within the timeout) before the first look. */
	{
		char dir[PATH_MAX];
		if ((ex = cli_node_datadir(a, dir, sizeof(dir)))
		    != CLI_EXIT_OK) {
			return (ex);
		}
		for (;;) {
			uint8_t *b = NULL;
			size_t   bl;
			int      status;
			int      rv = node_ctl_call(
			         dir, "status", NULL, 0, 2000, &status, &b, &bl);
			free(b);
			if (rv == GH_OK || gh_mono_ns() - t0 >= limit_ns) {
				break;
			}
			struct timespec ts = { 0, 200000000L };
			nanosleep(&ts, NULL);
		}
	}
	moved = t0;
	bar   = cli_progress_new(
	      "syncing ledger", CLI_PROGRESS_COUNT, 0, a->json);
	for (;;) {
		uint64_t now;
		if ((ex = cli_node_sync_poll(a, &li, &st)) != CLI_EXIT_OK) {
			cli_progress_free(bar);
			return (ex);
		}
		now = gh_mono_ns();
		if (first || li.applied != last) {
			start = first ? li.applied : start;
			last  = li.applied;
			moved = now;
			first = 0;
		}
		cli_progress_set(bar, li.applied);
		/* The settle time counts only with the peers connected. */
		if (st.peers_active < a->min_peers) {
			moved = now;
		} else if (now - moved >= settle_ns) {
			synced = 1;
			break;
		}
		if (now - t0 >= limit_ns) {
			break;
		}
		{
			struct timespec ts = { 0, 200000000L };
			nanosleep(&ts, NULL);
		}
	}
	cli_progress_free(bar);
	if (a->json) {
		printf("{\"synced\":%s,\"height\":%llu,\"gained\":%llu,"
		       "\"pending\":%llu,\"peers_active\":%u,"
		       "\"seconds\":%.3f}\n",
		    synced ? "true" : "false", (unsigned long long) li.applied,
		    (unsigned long long) (li.applied - start),
		    (unsigned long long) li.pending, st.peers_active,
		    (double) (gh_mono_ns() - t0) / 1e9);
	} else {
		printf("%s: height %llu (+%llu), pending %llu, %u peers\n",
		    synced ? "synced" : "not synced",
		    (unsigned long long) li.applied,
		    (unsigned long long) (li.applied - start),
		    (unsigned long long) li.pending, st.peers_active);
	}
	if (!synced) {
		fprintf(stderr,
		    "gpuhour: node wait-sync: not settled after %u s\n",
		    a->timeout_s);
		return (CLI_EXIT_FAIL);
	}
	return (CLI_EXIT_OK);
}

/* A decimal number in [0, max], for the wait-sync options. */
static int
cli_node_uint(const char *s, uint32_t max, uint32_t *out)
{
	char         *end;
	unsigned long v;

	if (s[0] < '0' || s[0] > '9') {
		return (0);
	}
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > max) {
		return (0);
	}
	*out = (uint32_t) v;
	return (1);
}

int
cli_node_main(int argc, char **argv)
{
	cli_node_args a;
	const char   *sub;
	int           c;

	memset(&a, 0, sizeof(a));
	a.timeout_s = 300;
	a.min_peers = 1;
	if (argc < 2) {
		cli_node_help(stderr);
		return (CLI_EXIT_USAGE);
	}
	sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0
	    || strcmp(sub, "help") == 0) {
		cli_node_help(stdout);
		return (CLI_EXIT_OK);
	}
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", cli_node_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			a.config = optarg;
			break;
		case OPT_DATADIR:
			a.datadir = optarg;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case OPT_SERVE_MODEL:
			a.serve_model = optarg;
			break;
		case OPT_ACCEPT_LEASE:
			if (gh_hex_decode(optarg, a.lease, 32) != GH_OK) {
				return (cli_usage_error("node",
				    "--accept-lease takes 64 hex digits"));
			}
			a.have_lease = 1;
			break;
		case OPT_JOB_THREADS:
			a.job_threads = atoi(optarg);
			if (a.job_threads < 0 || a.job_threads > 1024) {
				return (cli_usage_error(
				    "node", "bad --job-threads"));
			}
			break;
		case OPT_MAX_TOKENS:
			a.max_tokens = (uint32_t) strtoul(optarg, NULL, 10);
			break;
		case OPT_TIMEOUT:
			if (!cli_node_uint(optarg, 86400, &a.timeout_s)) {
				return (cli_usage_error(
				    "node", "bad --timeout '%s'", optarg));
			}
			break;
		case OPT_SETTLE:
			if (!cli_node_uint(optarg, 3600, &a.settle_ms)) {
				return (cli_usage_error(
				    "node", "bad --settle '%s'", optarg));
			}
			a.settle_ms *= 1000;
			a.have_settle = 1;
			break;
		case OPT_MIN_PEERS:
			if (!cli_node_uint(optarg, 1024, &a.min_peers)) {
				return (cli_usage_error(
				    "node", "bad --min-peers '%s'", optarg));
			}
			break;
		case 'h':
			cli_node_help(stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "node", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (a.config != NULL && a.datadir != NULL) {
		return (cli_usage_error(
		    "node", "--config and --data-dir conflict"));
	}
	if (strcmp(sub, "announce") == 0 || strcmp(sub, "ping") == 0) {
		if (optind != argc - 1) {
			return (cli_usage_error(
			    "node", "%s takes one argument", sub));
		}
		return (strcmp(sub, "announce") == 0
		        ? cli_node_announce(&a, argv[optind])
		        : cli_node_ping(&a, argv[optind]));
	}
	if (optind != argc) {
		return (cli_usage_error(
		    "node", "unexpected argument '%s'", argv[optind]));
	}
	if (strcmp(sub, "run") == 0) {
		if (a.datadir != NULL) {
			return (cli_usage_error("node", "run takes --config"));
		}
		return (cli_node_run(&a));
	}
	if (strcmp(sub, "status") == 0) {
		return (cli_node_status(&a));
	}
	if (strcmp(sub, "peers") == 0) {
		return (cli_node_peers(&a));
	}
	if (strcmp(sub, "messages") == 0) {
		return (cli_node_messages(&a));
	}
	if (strcmp(sub, "wait-sync") == 0) {
		return (cli_node_wait_sync(&a));
	}
	if (strcmp(sub, "stop") == 0) {
		uint8_t *b;
		size_t   bl;
		int      ex = cli_node_call(&a, "stop", NULL, 0, &b, &bl);
		free(b);
		return (ex);
	}
	return (cli_usage_error("node", "unknown command '%s'", sub));
}
