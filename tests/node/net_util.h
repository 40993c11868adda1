/*
 * net_util.h - start and stop real `gpuhour node run` processes on
 * loopback, for the integration tests and the network benchmark.
 *
 * Each node gets a folder under root with its key, config, data and
 * log.  Children die with their parent (PR_SET_PDEATHSIG), and
 * tn_teardown stops them with bounded waits, so none is left behind.
 */
#ifndef GH_TESTS_NODE_NET_UTIL_H
#define GH_TESTS_NODE_NET_UTIL_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "base/base.h"
#include "ledger/ledger.h"
#include "node/node.h"

/* From tests/harness.c (the benchmark defines them as no-ops): a failed
 * test reports what its nodes were doing. */
int  th_failed(void);
void th_on_fail(void (*fn)(void *), void *arg);

#define TN_MAX    64
#define TN_UNUSED __attribute__((unused))

typedef struct {
	int       n;
	char      root[PATH_MAX];
	char      genesis[PATH_MAX];
	gh_hash   netid;
	pid_t     pid[TN_MAX];
	int       port[TN_MAX];
	char      dir[TN_MAX][PATH_MAX];
	char      conf[TN_MAX][PATH_MAX + 16];
	gh_ed_pub pub[TN_MAX];
} tn_net;

static TN_UNUSED void
tn_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static TN_UNUSED uint64_t
tn_now_ms(void)
{
	return (gh_mono_ns() / 1000000);
}

/* A TCP port free right now on 127.0.0.1, drawn from the 12,000 ports
 * below the kernel's ephemeral range (ip_local_port_range): a node a
 * test restarts takes its port back, and a port of that range may have
 * gone to another node's outgoing connection meanwhile.  The kernel's
 * own choice where the range starts too low to leave room. */
static TN_UNUSED int
tn_free_port(void)
{
	struct sockaddr_in a;
	socklen_t          l  = sizeof(a);
	int                lo = 32768, hi = 60999, port = -1;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f != NULL) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2) {
			lo = 32768;
		}
		fclose(f);
	}
	for (int tries = 0; tries < 200 && port < 0; tries++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			return (-1);
		}
		memset(&a, 0, sizeof(a));
		a.sin_family      = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (lo >= 13024) {
			a.sin_port = htons((uint16_t) (lo - 12000
			    + (int) randombytes_uniform(12000)));
		}
		if (bind(s, (struct sockaddr *) &a, sizeof(a)) == 0
		    && getsockname(s, (struct sockaddr *) &a, &l) == 0) {
			port = ntohs(a.sin_port);
		}
		close(s);
	}
	return (port);
}

static TN_UNUSED int
tn_write(const char *path, const char *text)
{
	return (gh_file_write_atomic(path, text, strlen(text), 0600));
}

/*
 * Prepares n nodes under root: a shared genesis, a key and a config
 * each.  Node i seeds from nodes 0..nseeds-1.  extra is appended to
 * every config (more `key = value` lines) and may be NULL.
 */
static TN_UNUSED void tn_report(void *arg);

static TN_UNUSED int
tn_setup(tn_net *t, const char *root, int n, int nseeds, const char *extra)
{
	char            text[8192];
	char            key[PATH_MAX + 16];
	gh_keyfile_info info;
	uint8_t         seed[32];
	int             rv;

	memset(t, 0, sizeof(*t));
	if (n > TN_MAX) {
		return (GH_EINVAL);
	}
	th_on_fail(tn_report, t); /* until tn_teardown */
	t->n = n;
	snprintf(t->root, sizeof(t->root), "%s", root);
	/* The CLI commands the test runs keep their state (entries handed
	 * to a node) in the test's folder, not the user's. */
	setenv("GPUHOUR_HOME", root, 1);
	snprintf(t->genesis, sizeof(t->genesis), "%.3900s/genesis", root);
	randombytes_buf(seed, sizeof(seed));
	snprintf(text, sizeof(text), "test network %02x%02x%02x%02x\n",
	    seed[0], seed[1], seed[2], seed[3]);
	if ((rv = tn_write(t->genesis, text)) != GH_OK) {
		return (rv);
	}
	gh_hash_tagged(GH_TAG_GENESIS, text, strlen(text), &t->netid);
	for (int i = 0; i < n; i++) {
		t->pid[i] = 0;
		if ((t->port[i] = tn_free_port()) < 0) {
			return (GH_EIO);
		}
		/* Two nodes must not draw the same port. */
		for (int j = 0; j < i; j++) {
			if (t->port[j] == t->port[i]) {
				i--;
				goto next;
			}
		}
		snprintf(t->dir[i], sizeof(t->dir[i]), "%.3900s/n%d", root, i);
		if ((rv = gh_mkdir_p(t->dir[i], 0700)) != GH_OK) {
			return (rv);
		}
		snprintf(key, sizeof(key), "%s/node.key", t->dir[i]);
		randombytes_buf(seed, sizeof(seed));
		if ((rv = gh_keyfile_create_seed(
		         key, GH_KEY_NODE, seed, NULL, 0, &info))
		    != GH_OK) {
			return (rv);
		}
		memcpy(t->pub[i].b, info.pub, 32);
	next:;
	}
	for (int i = 0; i < n; i++) {
		int off = snprintf(text, sizeof(text),
		    "# test node %d\ndata_dir = %s\nlisten = "
		    "tcp://127.0.0.1:%d\nnode_key = %s/node.key\ngenesis = "
		    "%s\nreconnect_min_ms = 200\nreconnect_max_ms = 2000\n",
		    i, t->dir[i], t->port[i], t->dir[i], t->genesis);
		for (int s = 0; s < nseeds && s < n; s++) {
			off += snprintf(text + off,
			    sizeof(text) - (size_t) off,
			    "seed = tcp://127.0.0.1:%d\n", t->port[s]);
		}
		if (extra != NULL) {
			snprintf(text + off, sizeof(text) - (size_t) off,
			    "%s\n", extra);
		}
		{
			char conf[sizeof(t->conf[i])];
			snprintf(
			    conf, sizeof(conf), "%s/node.conf", t->dir[i]);
			memcpy(t->conf[i], conf, sizeof(conf));
		}
		if ((rv = tn_write(t->conf[i], text)) != GH_OK) {
			return (rv);
		}
	}
	return (GH_OK);
}

static TN_UNUSED int
tn_ctl(const tn_net *t, int i, const char *cmd, const void *req, size_t len,
    uint8_t **body, size_t *blen)
{
	int status;
	int rv = node_ctl_call(
	    t->dir[i], cmd, req, len, 5000, &status, body, blen);
	if (rv != GH_OK) {
		return (rv);
	}
	if (status != GH_OK) {
		free(*body);
		*body = NULL;
	}
	return (status);
}

static TN_UNUSED int
tn_status(const tn_net *t, int i, node_status *s)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      rv = tn_ctl(t, i, "status", NULL, 0, &b, &bl);

	if (rv == GH_OK) {
		rv = node_status_decode(b, bl, s);
	}
	free(b);
	return (rv);
}

/* Starts node i and waits (at most 20 s) until its control socket
 * answers. */
static TN_UNUSED int
tn_start(tn_net *t, int i)
{
	const char *bin = getenv("GH_BIN");
	char        log[PATH_MAX + 16];
	node_status s;
	uint64_t    t0;
	pid_t       pid;

	if (bin == NULL) {
		bin = "build/gpuhour";
	}
	snprintf(log, sizeof(log), "%s/log", t->dir[i]);
	if ((pid = fork()) < 0) {
		return (GH_EIO);
	}
	if (pid == 0) {
		int fd  = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 2);
		}
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execl(bin, "gpuhour", "node", "run", "--config", t->conf[i],
		    (char *) NULL);
		_exit(127);
	}
	t->pid[i] = pid;
	t0        = tn_now_ms();
	while (tn_now_ms() - t0 < 20000) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			t->pid[i] = 0;
			return (GH_ECLOSED);
		}
		if (tn_status(t, i, &s) == GH_OK) {
			return (GH_OK);
		}
		tn_sleep_ms(50);
	}
	return (GH_ETIMEDOUT);
}

/* Sends sig to node i and waits (at most 10 s, then SIGKILL).  Returns
 * the exit status, or -1 when it did not exit normally. */
static TN_UNUSED int
tn_stop(tn_net *t, int i, int sig)
{
	uint64_t t0 = tn_now_ms();
	int      st = 0;

	if (t->pid[i] <= 0) {
		return (-1);
	}
	if (sig != 0) {
		kill(t->pid[i], sig);
	}
	for (;;) {
		pid_t r = waitpid(t->pid[i], &st, WNOHANG);
		if (r == t->pid[i] || r < 0) {
			break;
		}
		if (tn_now_ms() - t0 > 10000) {
			kill(t->pid[i], SIGKILL);
			waitpid(t->pid[i], &st, 0);
			st = -1;
			break;
		}
		tn_sleep_ms(20);
	}
	t->pid[i] = 0;
	return (st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

/* What a failed test leaves to read: which nodes died and how, the end
 * of every node's log, and where each live node's main thread is (when
 * gdb is installed: a node stuck in a call, not only slow).  From
 * tn_teardown, or from the harness when the test returned before it. */
static TN_UNUSED void
tn_report(void *arg)
{
	tn_net *t = arg;
	char    cmd[PATH_MAX + 160];

	for (int i = 0; i < t->n; i++) {
		int st = 0;
		if (t->pid[i] > 0
		    && waitpid(t->pid[i], &st, WNOHANG) == t->pid[i]) {
			fprintf(stderr, "node %d had ended: %s %d\n", i,
			    WIFSIGNALED(st) ? "signal" : "exit",
			    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			t->pid[i] = 0;
		}
	}
	for (int i = 0; i < t->n; i++) {
		fprintf(stderr, "---- node %d log\n", i);
		snprintf(
		    cmd, sizeof(cmd), "tail -n 40 '%s/log' >&2", t->dir[i]);
		if (system(cmd) != 0 || t->pid[i] <= 0) {
			continue;
		}
		snprintf(cmd, sizeof(cmd),
		    "command -v gdb >/dev/null && timeout 30 gdb -nx -batch "
		    "-p %d -ex bt 2>/dev/null | grep '^#' | head -n 16 | "
		    "cut -c 1-150 >&2",
		    (int) t->pid[i]);
		if (system(cmd) != 0) {
			continue;
		}
	}
}

static TN_UNUSED void
tn_teardown(tn_net *t)
{
	th_on_fail(NULL, NULL);
	/* A failed test (or TN_DUMP=1) says what the nodes were doing. */
	if (getenv("TN_DUMP") != NULL || th_failed()) {
		tn_report(t);
	}
	for (int i = 0; i < t->n; i++) {
		if (t->pid[i] > 0) {
			kill(t->pid[i], SIGTERM);
		}
	}
	for (int i = 0; i < t->n; i++) {
		(void) tn_stop(t, i, 0);
	}
}

/* Waits until node i has at least min active peers. */
static TN_UNUSED int
tn_wait_peers(const tn_net *t, int i, uint32_t min, unsigned timeout_ms)
{
	uint64_t    t0 = tn_now_ms();
	node_status s;

	while (tn_now_ms() - t0 < timeout_ms) {
		if (tn_status(t, i, &s) == GH_OK && s.peers_active >= min) {
			return (GH_OK);
		}
		tn_sleep_ms(100);
	}
	return (GH_ETIMEDOUT);
}

static TN_UNUSED int
tn_announce(const tn_net *t, int i, const char *text, gh_hash *id)
{
	gh_writer w;
	uint8_t  *b = NULL;
	size_t    bl;
	int       rv;

	gh_writer_init(&w);
	gh_put_cstr(&w, NODE_ANN_TEXT_MAX, text);
	rv = tn_ctl(t, i, "announce", w.p, w.len, &b, &bl);
	gh_writer_free(&w);
	if (rv == GH_OK && bl == 40) {
		memcpy(id->b, b, 32);
	} else if (rv == GH_OK) {
		rv = GH_EPROTO;
	}
	free(b);
	return (rv);
}

/* The announcements node i holds: *rows malloc'd (caller frees). */
static TN_UNUSED int
tn_messages(const tn_net *t, int i, node_msg_row **rows, uint32_t *count)
{
	uint8_t  *b = NULL;
	size_t    bl;
	gh_reader r;
	uint32_t  c;
	int       rv;

	*rows  = NULL;
	*count = 0;
	if ((rv = tn_ctl(t, i, "messages", NULL, 0, &b, &bl)) != GH_OK) {
		return (rv);
	}
	gh_reader_init(&r, b, bl);
	if ((rv = gh_get_u32(&r, &c)) != GH_OK) {
		goto out;
	}
	if ((*rows = calloc(c + 1, sizeof(**rows))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	for (uint32_t k = 0; k < c; k++) {
		if ((rv = node_msg_row_decode(&r, &(*rows)[k])) != GH_OK) {
			free(*rows);
			*rows = NULL;
			goto out;
		}
	}
	*count = c;
	rv     = GH_OK;
out:
	free(b);
	return (rv);
}

static TN_UNUSED int
tn_has(const tn_net *t, int i, const gh_hash *id)
{
	node_msg_row *rows;
	uint32_t      c;
	int           found = 0;

	if (tn_messages(t, i, &rows, &c) != GH_OK) {
		return (0);
	}
	for (uint32_t k = 0; k < c && !found; k++) {
		found = memcmp(rows[k].id.b, id->b, 32) == 0;
	}
	free(rows);
	return (found);
}

/* Waits until every running node in mask (bit i: node i) holds id. */
static TN_UNUSED int
tn_wait_all(
    const tn_net *t, uint64_t mask, const gh_hash *id, unsigned timeout_ms)
{
	uint64_t t0 = tn_now_ms();

	while (tn_now_ms() - t0 < timeout_ms) {
		int all = 1;
		for (int i = 0; i < t->n && all; i++) {
			if ((mask >> i) & 1) {
				all = tn_has(t, i, id);
			}
		}
		if (all) {
			return (GH_OK);
		}
		tn_sleep_ms(100);
	}
	return (GH_ETIMEDOUT);
}

/* A fresh unencrypted account key file at path; its key in hex. */
static TN_UNUSED int
tn_account(const char *path, char hex[65])
{
	gh_keyfile_info info;
	uint8_t         seed[32];
	int             rv;

	randombytes_buf(seed, sizeof(seed));
	rv = gh_keyfile_create_seed(
	    path, GH_KEY_ACCOUNT, seed, NULL, 0, &info);
	sodium_memzero(seed, sizeof(seed));
	if (rv == GH_OK && hex != NULL) {
		gh_hex_encode(info.pub, 32, hex);
	}
	return (rv);
}

/*
 * Replaces the test genesis with a ledger genesis whose committee is the
 * node keys of nodes 0..nvals-1, with the given issuer and treasury
 * (64 hex digits each) and lease terms.
 */
static TN_UNUSED int
tn_ledger_genesis(tn_net *t, uint32_t nvals, const char *issuer,
    const char *treasury, uint32_t fee_bps, uint64_t grace, uint64_t margin)
{
	ledger_genesis g;
	char          *text = NULL;
	int            rv;

	memset(&g, 0, sizeof(g));
	snprintf(g.network, sizeof(g.network), "net-test-%d", t->port[0]);
	g.n = nvals;
	for (uint32_t i = 0; i < nvals; i++) {
		g.committee[i].key = t->pub[i];
		snprintf(g.committee[i].addr, sizeof(g.committee[i].addr),
		    "tcp://127.0.0.1:%d", t->port[i]);
	}
	if (gh_hex_decode(issuer, g.issuer.b, 32) != GH_OK
	    || gh_hex_decode(treasury, g.treasury.b, 32) != GH_OK) {
		return (GH_EINVAL);
	}
	g.fee_bps      = fee_bps;
	g.lease_grace  = grace;
	g.clock_margin = margin;
	if ((rv = ledger_genesis_format(&g, &text)) != GH_OK) {
		return (rv);
	}
	rv = tn_write(t->genesis, text);
	free(text);
	ledger_genesis_netid(&g, &t->netid);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* A hostile peer: a test-side nng client with its own key. */

typedef struct {
	nng_socket s;
	gh_ed_key *key;
	gh_ed_pub  pub;
	gh_hash    netid;
	gh_ed_pub  to;
	uint64_t   nonce;
} hostile;

static TN_UNUSED int
hostile_open(hostile *h, const tn_net *t, int target)
{
	char url[64];

	memset(h, 0, sizeof(*h));
	if (gh_ed_key_new(&h->key) != GH_OK || nng_req0_open(&h->s) != 0) {
		return (GH_ENOMEM);
	}
	gh_ed_key_pub(h->key, &h->pub);
	h->netid = t->netid;
	h->to    = t->pub[target];
	/* Long enough for a reply from a node under ASan on a loaded
	 * machine; a dropped frame costs this much. */
	nng_socket_set_ms(h->s, NNG_OPT_RECVTIMEO, 2000);
	nng_socket_set_ms(h->s, NNG_OPT_SENDTIMEO, 2000);
	nng_socket_set_ms(h->s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(h->s, NNG_OPT_RECONNMINT, 50);
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", t->port[target]);
	return (nng_dial(h->s, url, NULL, 0) == 0 ? GH_OK : GH_ECLOSED);
}

static TN_UNUSED void
hostile_close(hostile *h)
{
	nng_close(h->s);
	gh_ed_key_free(h->key);
}

/* Builds a signed frame. */
static TN_UNUSED int
hostile_frame(hostile *h, uint8_t type, const gh_hash *netid,
    const uint8_t *body, size_t len, uint8_t **out, size_t *n)
{
	node_env e;

	memset(&e, 0, sizeof(e));
	e.type     = type;
	e.netid    = *netid;
	e.from     = h->pub;
	e.to       = h->to;
	e.time_ms  = gh_time_now() * 1000;
	e.nonce    = ++h->nonce;
	e.body     = body;
	e.body_len = (uint32_t) len;
	return (node_env_encode(&e, h->key, out, n));
}

/* Sends raw bytes; returns the reply's status, GH_ETIMEDOUT when none
 * came (dropped), GH_ECLOSED when the connection failed. */
static TN_UNUSED int
hostile_send(hostile *h, const uint8_t *p, size_t n)
{
	nng_msg       *m = NULL;
	node_env       e;
	uint16_t       st;
	const uint8_t *b;
	uint32_t       bl;
	int            rv;

	if ((rv = nng_send(h->s, (void *) p, n, 0)) != 0) {
		return (rv == NNG_ETIMEDOUT ? GH_ETIMEDOUT : GH_ECLOSED);
	}
	if ((rv = nng_recvmsg(h->s, &m, 0)) != 0) {
		return (rv == NNG_ETIMEDOUT ? GH_ETIMEDOUT : GH_ECLOSED);
	}
	rv = node_env_decode(nng_msg_body(m), nng_msg_len(m), &e);
	if (rv == GH_OK) {
		rv = node_env_verify(&e);
	}
	if (rv == GH_OK) {
		rv = node_reply_decode(e.body, e.body_len, &st, &b, &bl);
	}
	nng_msg_free(m);
	return (rv == GH_OK ? (int) st : GH_EPROTO);
}

static TN_UNUSED int
hostile_req(hostile *h, uint8_t type, const uint8_t *body, size_t len)
{
	uint8_t *f = NULL;
	size_t   n;
	int      rv;

	if ((rv = hostile_frame(h, type, &h->netid, body, len, &f, &n))
	    != GH_OK) {
		return (rv);
	}
	rv = hostile_send(h, f, n);
	free(f);
	return (rv);
}

/* Waits, bounded, until a PEERS request from h gets an answer: after a
 * dropped connection, the dialer has connected again. */
static TN_UNUSED int
hostile_wait_ready(hostile *h, unsigned timeout_ms)
{
	uint64_t t0 = tn_now_ms();
	int      rv = GH_ETIMEDOUT;

	while (tn_now_ms() - t0 < timeout_ms) {
		if ((rv = hostile_req(h, NODE_MSG_PEERS, NULL, 0)) == GH_OK) {
			break;
		}
		tn_sleep_ms(100);
	}
	return (rv);
}

static TN_UNUSED int
hostile_hello(hostile *h)
{
	node_hello hl;
	gh_writer  w;
	int        rv;

	memset(&hl, 0, sizeof(hl));
	snprintf(hl.addr, sizeof(hl.addr), "tcp://127.0.0.1:1");
	hl.boot = 7;
	gh_writer_init(&w);
	(void) node_hello_encode(&hl, &w);
	rv = hostile_req(h, NODE_MSG_HELLO, w.p, w.len);
	gh_writer_free(&w);
	return (rv);
}

#endif
