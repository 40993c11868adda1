/*
 * plugin_test.c - the handler interface the ledger plugs into: two
 * nodes in this process, each on its own worker thread, with a custom
 * gossip kind (validate / pending / apply), a custom request kind and
 * custom control commands.
 */
#include <pthread.h>
#include <stdlib.h>

#include "node/node.h"
#include "tests/harness.h"
#include "tests/node/net_util.h"

#define KIND_BLOB 200
#define REQ_REV   201

typedef struct {
	int     applied;
	char    last[64];
	gh_hash dep; /* what "wait:" items wait for */
} blob_state;

/* "ok..." is valid; "wait..." waits for the item "dep"; else bad. */
static int
blob_validate(void *arg, const uint8_t *p, size_t n, gh_hash *waits)
{
	blob_state *s = arg;

	if (n >= 2 && memcmp(p, "ok", 2) == 0) {
		return (GH_OK);
	}
	if (n == 3 && memcmp(p, "dep", 3) == 0) {
		return (GH_OK);
	}
	if (n >= 4 && memcmp(p, "wait", 4) == 0) {
		if (s->applied > 0 && strcmp(s->last, "dep") == 0) {
			return (GH_OK);
		}
		*waits = s->dep;
		return (GH_EPENDING);
	}
	return (GH_EBADSIG);
}

static int
blob_apply(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks)
{
	blob_state *s = arg;

	s->applied++;
	snprintf(s->last, sizeof(s->last), "%.*s", (int) n, (const char *) p);
	if (n == 3 && memcmp(p, "dep", 3) == 0) {
		*unlocks = s->dep;
	}
	return (GH_OK);
}

static int
rev_handle(void *arg, const gh_ed_pub *peer, const uint8_t *req, size_t n,
    gh_writer *out)
{
	(void) arg;
	(void) peer;
	for (size_t i = 0; i < n; i++) {
		gh_put_u8(out, req[n - 1 - i]);
	}
	return (gh_writer_err(out));
}

/* ctl "pub": publish the body as a blob. */
static int
cmd_pub(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	gh_hash id;
	int     rv;

	(void) arg;
	if ((rv = node_publish(n, KIND_BLOB, req, len, &id)) != GH_OK) {
		return (rv);
	}
	gh_put_fixed(out, id.b, 32);
	return (gh_writer_err(out));
}

/* ctl "urgent": publish the body as a priority item. */
static int
cmd_urgent(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	gh_hash id;

	(void) arg;
	(void) out;
	return (node_publish(n, NODE_KIND_EQUIVOCATION, req, len, &id));
}

/* ctl "state": applied count and the last item. */
static int
cmd_state(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	blob_state *s = arg;

	(void) n;
	(void) req;
	(void) len;
	gh_put_u32(out, (uint32_t) s->applied);
	gh_put_cstr(out, 63, s->last);
	return (gh_writer_err(out));
}

typedef struct {
	node *n;
	void *tok;
} rev_ctx;

static void
rev_done(void *arg, int err, const uint8_t *body, size_t len)
{
	rev_ctx *c = arg;
	node_ctl_finish(c->n, c->tok, err, body, len);
	free(c);
}

/* ctl "rev": [32] peer, then the bytes to send it (deferred reply). */
static int
cmd_rev(void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	gh_ed_pub peer;
	rev_ctx  *c;
	int       rv;

	(void) arg;
	(void) out;
	if (len < 32 || (c = calloc(1, sizeof(*c))) == NULL) {
		return (GH_EINVAL);
	}
	memcpy(peer.b, req, 32);
	c->n = n;
	if ((rv = node_request(
	         n, &peer, REQ_REV, req + 32, len - 32, rev_done, c))
	    != GH_OK) {
		free(c);
		return (rv);
	}
	c->tok = node_ctl_defer(n);
	return (GH_EPENDING);
}

typedef struct {
	node       *n;
	pthread_t   thr;
	int         running;
	blob_state  st;
	node_config cfg;
	gh_ed_pub   pub;
} pnode;

static void *
pnode_main(void *arg)
{
	pnode *p = arg;
	(void) node_run(p->n);
	return (NULL);
}

static int
pnode_open(
    pnode *p, const char *dir, int port, int seed_port, const gh_hash *netid)
{
	gh_ed_key                 *k = NULL;
	node_kind                  kind;
	int                        rv;
	static const node_req_kind rev
	    = { REQ_REV, "rev", 64, NULL, rev_handle };

	memset(p, 0, sizeof(*p));
	node_config_default(&p->cfg);
	snprintf(p->cfg.data_dir, sizeof(p->cfg.data_dir), "%s", dir);
	snprintf(
	    p->cfg.listen, sizeof(p->cfg.listen), "tcp://127.0.0.1:%d", port);
	if (seed_port > 0) {
		snprintf(p->cfg.seeds[0], sizeof(p->cfg.seeds[0]),
		    "tcp://127.0.0.1:%d", seed_port);
		p->cfg.nseeds = 1;
	}
	p->cfg.netid     = *netid;
	p->cfg.gossip_ms = 200;
	p->cfg.log_debug = -1;
	gh_hash_tagged(GH_TAG_MESSAGE, "dep", 3, &p->st.dep);
	if ((rv = gh_ed_key_new(&k)) != GH_OK) {
		return (rv);
	}
	gh_ed_key_pub(k, &p->pub);
	if ((rv = node_open(&p->cfg, k, &p->n)) != GH_OK) {
		return (rv);
	}
	/* A priority kind (as equivocation proofs will be): same
	 * handlers, queued and forwarded first. */
	memset(&kind, 0, sizeof(kind));
	kind.kind     = NODE_KIND_EQUIVOCATION;
	kind.name     = "urgent";
	kind.max_len  = 64;
	kind.priority = 1;
	kind.arg      = &p->st;
	kind.validate = blob_validate;
	kind.apply    = blob_apply;
	if ((rv = node_register_kind(p->n, &kind)) != GH_OK) {
		return (rv);
	}
	memset(&kind, 0, sizeof(kind));
	kind.kind     = KIND_BLOB;
	kind.name     = "blob";
	kind.max_len  = 64;
	kind.arg      = &p->st;
	kind.validate = blob_validate;
	kind.apply    = blob_apply;
	{
		node_ctl_cmd c1 = { "pub", NULL, cmd_pub };
		node_ctl_cmd c2 = { "state", &p->st, cmd_state };
		node_ctl_cmd c3 = { "rev", NULL, cmd_rev };
		node_ctl_cmd c4 = { "urgent", NULL, cmd_urgent };
		if ((rv = node_register_kind(p->n, &kind)) != GH_OK
		    || (rv = node_register_request(p->n, &rev)) != GH_OK
		    || (rv = node_register_ctl(p->n, &c1)) != GH_OK
		    || (rv = node_register_ctl(p->n, &c2)) != GH_OK
		    || (rv = node_register_ctl(p->n, &c3)) != GH_OK
		    || (rv = node_register_ctl(p->n, &c4)) != GH_OK) {
			return (rv);
		}
		/* Twice is refused. */
		if (node_register_kind(p->n, &kind) != GH_EEXIST
		    || node_register_ctl(p->n, &c1) != GH_EEXIST) {
			return (GH_EINTERNAL);
		}
	}
	if (pthread_create(&p->thr, NULL, pnode_main, p) != 0) {
		return (GH_ENOMEM);
	}
	p->running = 1;
	return (GH_OK);
}

static void
pnode_close(pnode *p)
{
	if (p->running) {
		node_stop(p->n);
		pthread_join(p->thr, NULL);
	}
	node_close(p->n);
	p->n = NULL;
}

static int
pnode_call(pnode *p, const char *cmd, const void *req, size_t len, uint8_t **b,
    size_t *bl)
{
	int st;
	int rv
	    = node_ctl_call(p->cfg.data_dir, cmd, req, len, 5000, &st, b, bl);
	if (rv == GH_OK && st != GH_OK) {
		free(*b);
		*b = NULL;
	}
	return (rv != GH_OK ? rv : st);
}

/* Waits until p has applied want items; returns the count seen. */
static int
pnode_wait_applied(pnode *p, uint32_t want, char *last)
{
	uint64_t t0  = tn_now_ms();
	uint32_t got = 0;

	while (tn_now_ms() - t0 < 10000) {
		uint8_t  *b = NULL;
		size_t    bl;
		gh_reader r;
		if (pnode_call(p, "state", NULL, 0, &b, &bl) == GH_OK) {
			gh_reader_init(&r, b, bl);
			if (gh_get_u32(&r, &got) == GH_OK
			    && gh_get_cstr(&r, 63, last, 64) == GH_OK
			    && got >= want) {
				free(b);
				return ((int) got);
			}
		}
		free(b);
		tn_sleep_ms(50);
	}
	return ((int) got);
}

static void
plugin_body(pnode *a, pnode *b)
{
	gh_hash     netid;
	char        da[PATH_MAX], db[PATH_MAX];
	uint8_t     req[40];
	uint8_t    *out = NULL;
	size_t      ol;
	char        last[64];
	node_status s;
	int         pa = tn_free_port(), pb = tn_free_port();
	uint64_t    t0;

	memset(netid.b, 0x42, 32);
	snprintf(da, sizeof(da), "%s/a", th_tmpdir());
	snprintf(db, sizeof(db), "%s/b", th_tmpdir());
	CHECK(pa > 0 && pb > 0 && pa != pb);
	CHECK_OK(pnode_open(b, db, pb, 0, &netid));
	CHECK_OK(pnode_open(a, da, pa, pb, &netid));
	t0 = tn_now_ms();
	for (;;) {
		CHECK(tn_now_ms() - t0 < 10000);
		if (pnode_call(a, "status", NULL, 0, &out, &ol) == GH_OK
		    && node_status_decode(out, ol, &s) == GH_OK
		    && s.peers_active >= 1) {
			free(out);
			out = NULL;
			break;
		}
		free(out);
		out = NULL;
		tn_sleep_ms(50);
	}

	/* A published item reaches the other node's apply. */
	CHECK_OK(pnode_call(a, "pub", "ok one", 6, &out, &ol));
	CHECK_EQ(ol, 32);
	free(out);
	out = NULL;
	CHECK_EQ(pnode_wait_applied(b, 1, last), 1);
	CHECK_STR(last, "ok one");
	/* The publisher's own validate refuses a bad one. */
	CHECK_ERR(pnode_call(a, "pub", "bad", 3, &out, &ol), GH_EBADSIG);
	/* An item that waits: held, then released by its predecessor. */
	CHECK_ERR(pnode_call(a, "pub", "wait two", 8, &out, &ol), GH_EPREV);
	CHECK_OK(pnode_call(a, "pub", "dep", 3, &out, &ol));
	free(out);
	out = NULL;
	CHECK_EQ(pnode_wait_applied(a, 3, last), 3);
	CHECK_STR(last, "wait two");
	/* B gets both through gossip or pull, in whatever order. */
	CHECK_EQ(pnode_wait_applied(b, 3, last), 3);

	/* A priority item travels the same way. */
	CHECK_OK(pnode_call(a, "urgent", "ok urgent", 9, &out, &ol));
	free(out);
	out = NULL;
	CHECK_EQ(pnode_wait_applied(b, 4, last), 4);
	CHECK_STR(last, "ok urgent");

	/* A request and its reply, through a deferred control command. */
	memcpy(req, b->pub.b, 32);
	memcpy(req + 32, "abcdefgh", 8);
	CHECK_OK(pnode_call(a, "rev", req, sizeof(req), &out, &ol));
	CHECK_EQ(ol, 8);
	CHECK_MEM(out, "hgfedcba", 8);
	free(out);
	out = NULL;
	/* To a key that is not a peer: not found. */
	memset(req, 9, 32);
	CHECK_ERR(
	    pnode_call(a, "rev", req, sizeof(req), &out, &ol), GH_ENOENT);
	/* An unknown command. */
	CHECK_ERR(pnode_call(a, "nope", NULL, 0, &out, &ol), GH_EUNSUPPORTED);
}

TEST_T(node_plugin_kind_request_ctl, 60)
{
	pnode *a = calloc(1, sizeof(*a));
	pnode *b = calloc(1, sizeof(*b));

	CHECK(a != NULL && b != NULL);
	plugin_body(a, b);
	pnode_close(a);
	pnode_close(b);
	free(a);
	free(b);
}
