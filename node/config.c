/* config.c - the node's `key = value` configuration file. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "node/priv.h"

#define NODE_CONFIG_FILE_MAX (64 * 1024)
#define NODE_GENESIS_MAX     (16 * 1024 * 1024)

static const char node_config_help_text[]
    = "Configuration file: one `key = value` per line, '#' starts a "
      "comment.\n"
      "  data_dir = PATH        where the node keeps its state "
      "(required);\n"
      "                         the control socket is "
      "DATA_DIR/node/control.sock\n"
      "  listen = tcp://H:P     where peers reach this node (required)\n"
      "  seed = tcp://H:P       a peer to join through (repeatable; or a\n"
      "                         comma-separated list in `seeds =`)\n"
      "  node_key = PATH        the node's Ed25519 key file (required)\n"
      "  node_key_passphrase_env = VAR  passphrase variable (default\n"
      "                         GPUHOUR_PASSPHRASE; an unencrypted key "
      "needs none)\n"
      "  genesis = PATH         genesis file (required); a ledger "
      "genesis makes\n"
      "                         the node carry the ledger (network id: "
      "the ledger's);\n"
      "                         a node whose key is in the committee "
      "votes\n"
      "  checkpoint_seconds = 5 validators sign a log checkpoint this "
      "often\n"
      "  book = PATH            offer book file (default "
      "DATA_DIR/book)\n"
      "  draw_every_receipts = 4  the provider draws on a lease after "
      "this\n"
      "                         many new receipts ...\n"
      "  draw_every_seconds = 60  ... or this long after its last draw "
      "(0: never\n"
      "                         by time); it closes each lease at its "
      "expiry\n"
      "  receipt_every_seconds = 10  the renter's node sends a receipt "
      "for\n"
      "                         each reserved lease this often (0: only "
      "when\n"
      "                         asked by `gpuhour lease pay`)\n"
      "  serve_model = PATH     serve jobs for this GGUF model (as\n"
      "                         `node run --serve-model`)\n"
      "  job_threads = 0        CPU threads for jobs (0: all)\n"
      "  backend = auto         jobs on CUDA when a device is present "
      "and agrees\n"
      "                         with the CPU reference on a self-test at "
      "start;\n"
      "                         cpu or cuda to force one\n"
      "  claim_key = PATH       an account key file: the node claims the\n"
      "                         revenue of the lots that account holds by\n"
      "                         itself (give it an account nothing else\n"
      "                         signs with while the node runs)\n"
      "  claim_key_passphrase_env = VAR  its passphrase variable\n"
      "  claim_every_seconds = 3600  how often it looks\n"
      "  max_peers = 8          outbound connections kept\n"
      "  max_inbound = 128      inbound connections accepted\n"
      "  fanout = 3             peers each new gossip item is pushed to\n"
      "  gossip_interval_ms = 1000  pull repair (digest) interval\n"
      "  sync_interval_ms = 5000    sync interval\n"
      "  request_timeout_ms = 3000  timeout of every peer request\n"
      "  reconnect_min_ms = 500, reconnect_max_ms = 30000  dial backoff\n"
      "  ban_seconds = 600      how long a peer scored down stays "
      "banned\n"
      "  rate = 500, burst = 1000  frames per second per peer (token "
      "bucket)\n"
      "  seen_cache = 65536     gossip ids remembered\n"
      "  store_cap = 8192       gossip items kept for pull repair\n"
      "  retain_seconds = 3600  how long they are kept\n"
      "  log_level = info       warn, info or debug\n"
      "  http_listen = 127.0.0.1:PORT  read-only HTTP API, dashboard and\n"
      "                         /metrics on loopback (off when unset)\n"
      "  test_drop_push_pct = 0 testing: drop this % of inbound pushes\n";

const char *
node_config_help(void)
{
	return (node_config_help_text);
}

void
node_config_default(node_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_peers           = 8;
	c->max_inbound         = 128;
	c->fanout              = 3;
	c->gossip_ms           = 1000;
	c->sync_ms             = 5000;
	c->request_ms          = 3000;
	c->reconnect_min_ms    = 500;
	c->reconnect_max_ms    = 30000;
	c->ban_s               = 600;
	c->rate                = 500;
	c->burst               = 1000;
	c->seen_cap            = 65536;
	c->store_cap           = 8192;
	c->retain_s            = 3600;
	c->checkpoint_s        = 5;
	c->draw_every_receipts = 4;
	c->draw_every_s        = 60;
	c->receipt_every_s     = 10;
	snprintf(c->backend, sizeof(c->backend), "auto");
	c->claim_every_s = 3600;
}

static char *
node_trim(char *s)
{
	char *e;

	while (*s != '\0' && isspace((unsigned char) *s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char) e[-1])) {
		*--e = '\0';
	}
	return (s);
}

static int
node_cfg_str(char *dst, size_t cap, const char *v)
{
	if (v[0] == '\0' || strlen(v) >= cap) {
		return (GH_EINVAL);
	}
	memcpy(dst, v, strlen(v) + 1);
	return (GH_OK);
}

static int
node_cfg_u32(uint32_t *dst, const char *v, uint32_t lo, uint32_t hi)
{
	char         *end;
	unsigned long x;

	if (v[0] < '0' || v[0] > '9') {
		return (GH_EINVAL);
	}
	errno = 0;
	x     = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi) {
		return (GH_EINVAL);
	}
	*dst = (uint32_t) x;
	return (GH_OK);
}

static int
node_cfg_addr_ok(const char *v)
{
	return (strncmp(v, "tcp://", 6) == 0 && strlen(v) <= NODE_ADDR_MAX
	    && strchr(v + 6, ':') != NULL);
}

/* HOST:PORT with a loopback host: the API is for the owner only. */
static int
node_cfg_http_ok(const char *v)
{
	const char   *colon = strrchr(v, ':');
	char         *end;
	unsigned long port;
	size_t        hl;

	if (colon == NULL || strlen(v) > NODE_ADDR_MAX - 8) {
		return (0);
	}
	hl = (size_t) (colon - v);
	if (!((hl == 9 && strncmp(v, "127.0.0.1", 9) == 0)
	        || (hl == 9 && strncmp(v, "localhost", 9) == 0)
	        || (hl == 5 && strncmp(v, "[::1]", 5) == 0))) {
		return (0);
	}
	if (colon[1] < '0' || colon[1] > '9') {
		return (0);
	}
	errno = 0;
	port  = strtoul(colon + 1, &end, 10);
	return (errno == 0 && *end == '\0' && port >= 1 && port <= 65535);
}

static int
node_cfg_seed(node_config *c, const char *v)
{
	if (!node_cfg_addr_ok(v) || c->nseeds >= NODE_SEEDS_MAX) {
		return (GH_EINVAL);
	}
	memcpy(c->seeds[c->nseeds++], v, strlen(v) + 1);
	return (GH_OK);
}

static int
node_cfg_set(node_config *c, const char *k, char *v)
{
	struct {
		const char *name;
		uint32_t   *dst;
		uint32_t    lo, hi;
	} nums[] = {
		{ "max_peers", &c->max_peers, 1, 256 },
		{ "max_inbound", &c->max_inbound, 1, 4096 },
		{ "fanout", &c->fanout, 1, 64 },
		{ "gossip_interval_ms", &c->gossip_ms, 10, 3600000 },
		{ "sync_interval_ms", &c->sync_ms, 10, 3600000 },
		{ "request_timeout_ms", &c->request_ms, 10, 600000 },
		{ "reconnect_min_ms", &c->reconnect_min_ms, 10, 3600000 },
		{ "reconnect_max_ms", &c->reconnect_max_ms, 10, 3600000 },
		{ "ban_seconds", &c->ban_s, 0, 100000000 },
		{ "rate", &c->rate, 1, 1000000 },
		{ "burst", &c->burst, 1, 1000000 },
		{ "seen_cache", &c->seen_cap, 16, 1u << 24 },
		{ "store_cap", &c->store_cap, 16, 1u << 20 },
		{ "retain_seconds", &c->retain_s, 1, 100000000 },
		{ "test_drop_push_pct", &c->drop_push_pct, 0, 100 },
		{ "checkpoint_seconds", &c->checkpoint_s, 1, 86400 },
		{ "draw_every_receipts", &c->draw_every_receipts, 1, 1000000 },
		{ "draw_every_seconds", &c->draw_every_s, 0, 86400 },
		{ "receipt_every_seconds", &c->receipt_every_s, 0, 86400 },
		{ "job_threads", &c->job_threads, 0, 1024 },
		{ "claim_every_seconds", &c->claim_every_s, 1, 86400 * 30 },
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(k, nums[i].name) == 0) {
			return (node_cfg_u32(
			    nums[i].dst, v, nums[i].lo, nums[i].hi));
		}
	}
	if (strcmp(k, "data_dir") == 0) {
		return (node_cfg_str(c->data_dir, sizeof(c->data_dir), v));
	}
	if (strcmp(k, "listen") == 0) {
		if (!node_cfg_addr_ok(v)) {
			return (GH_EINVAL);
		}
		return (node_cfg_str(c->listen, sizeof(c->listen), v));
	}
	if (strcmp(k, "http_listen") == 0) {
		if (!node_cfg_http_ok(v)) {
			return (GH_EINVAL);
		}
		return (
		    node_cfg_str(c->http_listen, sizeof(c->http_listen), v));
	}
	if (strcmp(k, "seed") == 0) {
		return (node_cfg_seed(c, v));
	}
	if (strcmp(k, "seeds") == 0) {
		char *save = NULL;
		for (char *t = strtok_r(v, ",", &save); t != NULL;
		     t       = strtok_r(NULL, ",", &save)) {
			int rv = node_cfg_seed(c, node_trim(t));
			if (rv != GH_OK) {
				return (rv);
			}
		}
		return (GH_OK);
	}
	if (strcmp(k, "node_key") == 0) {
		return (node_cfg_str(c->node_key, sizeof(c->node_key), v));
	}
	if (strcmp(k, "node_key_passphrase_env") == 0) {
		return (node_cfg_str(
		    c->node_key_pass_env, sizeof(c->node_key_pass_env), v));
	}
	if (strcmp(k, "backend") == 0) {
		if (strcmp(v, "auto") != 0 && strcmp(v, "cpu") != 0
		    && strcmp(v, "cuda") != 0) {
			return (GH_EINVAL);
		}
		return (node_cfg_str(c->backend, sizeof(c->backend), v));
	}
	if (strcmp(k, "claim_key") == 0) {
		return (node_cfg_str(c->claim_key, sizeof(c->claim_key), v));
	}
	if (strcmp(k, "claim_key_passphrase_env") == 0) {
		return (node_cfg_str(
		    c->claim_key_pass_env, sizeof(c->claim_key_pass_env), v));
	}
	if (strcmp(k, "serve_model") == 0) {
		return (
		    node_cfg_str(c->serve_model, sizeof(c->serve_model), v));
	}
	if (strcmp(k, "genesis") == 0) {
		return (node_cfg_str(c->genesis, sizeof(c->genesis), v));
	}
	if (strcmp(k, "book") == 0) {
		return (node_cfg_str(c->book, sizeof(c->book), v));
	}
	if (strcmp(k, "log_level") == 0) {
		if (strcmp(v, "warn") == 0) {
			c->log_debug = -1;
			return (GH_OK);
		}
		if (strcmp(v, "info") == 0 || strcmp(v, "debug") == 0) {
			c->log_debug = strcmp(v, "debug") == 0;
			return (GH_OK);
		}
		return (GH_EINVAL);
	}
	return (GH_ENOENT);
}

int
node_config_parse(
    const char *p, size_t n, node_config *c, char *err, size_t errcap)
{
	char  *text = NULL;
	char  *line;
	int    lineno = 0;
	int    rv     = GH_OK;
	size_t i;

	if (errcap > 0) {
		err[0] = '\0';
	}
	if ((text = malloc(n + 1)) == NULL) {
		return (GH_ENOMEM);
	}
	memcpy(text, p, n);
	text[n] = '\0';
	if (memchr(p, '\0', n) != NULL) {
		snprintf(err, errcap, "configuration contains a NUL byte");
		rv = GH_EINVAL;
		goto out;
	}
	/* strtok_r skips empty lines, so count them by hand. */
	line = text;
	while (line != NULL) {
		char *next = strchr(line, '\n');
		char *eq;
		char *k;
		char *v;
		if (next != NULL) {
			*next++ = '\0';
		}
		lineno++;
		for (i = 0; line[i] != '\0'; i++) {
			if (line[i] == '#') {
				line[i] = '\0';
				break;
			}
		}
		k = node_trim(line);
		if (k[0] != '\0') {
			if ((eq = strchr(k, '=')) == NULL) {
				snprintf(err, errcap,
				    "line %d: expected `key = value`", lineno);
				rv = GH_EINVAL;
				goto out;
			}
			*eq = '\0';
			k   = node_trim(k);
			v   = node_trim(eq + 1);
			rv  = node_cfg_set(c, k, v);
			if (rv == GH_ENOENT) {
				snprintf(err, errcap,
				    "line %d: unknown key '%s'", lineno, k);
				rv = GH_EINVAL;
				goto out;
			}
			if (rv != GH_OK) {
				snprintf(err, errcap,
				    "line %d: bad value for '%s'", lineno, k);
				rv = GH_EINVAL;
				goto out;
			}
		}
		line = next;
	}
	rv = GH_OK;
out:
	free(text);
	return (rv);
}

int
node_config_load(const char *path, node_config *c, char *err, size_t errcap)
{
	uint8_t *p = NULL;
	size_t   n = 0;
	int      rv;

	if (errcap > 0) {
		err[0] = '\0';
	}
	if ((rv = gh_file_read(path, NODE_CONFIG_FILE_MAX, &p, &n)) != GH_OK) {
		snprintf(err, errcap, "cannot read %s", path);
		goto out;
	}
	if ((rv = node_config_parse((const char *) p, n, c, err, errcap))
	    != GH_OK) {
		goto out;
	}
	if (c->data_dir[0] == '\0' || c->listen[0] == '\0'
	    || c->node_key[0] == '\0' || c->genesis[0] == '\0') {
		snprintf(err, errcap,
		    "%s: data_dir, listen, node_key and genesis are required",
		    path);
		rv = GH_EINVAL;
		goto out;
	}
	free(p);
	p = NULL;
	if ((rv = gh_file_read(c->genesis, NODE_GENESIS_MAX, &p, &n))
	    != GH_OK) {
		snprintf(err, errcap, "cannot read genesis %s", c->genesis);
		goto out;
	}
	/* A ledger genesis: the network id is the ledger's, and the node
	 * carries the ledger.  Anything else (the network's own tests): the
	 * hash of the file, and no ledger. */
	{
		ledger_genesis g;
		unsigned       line = 0;
		if (ledger_genesis_parse((const char *) p, n, &g, &line)
		    == GH_OK) {
			ledger_genesis_netid(&g, &c->netid);
			c->ledger = 1;
		} else {
			gh_hash_tagged(GH_TAG_GENESIS, p, n, &c->netid);
			c->ledger = 0;
		}
	}
	rv = GH_OK;
out:
	free(p);
	return (rv);
}
