/*
 * net_test.c - integration tests: real `gpuhour node run` processes on
 * 127.0.0.1 form a network, gossip, catch up, survive a killed node and
 * ban a hostile peer.
 */
#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "tests/harness.h"
#include "tests/node/net_util.h"

#define ALL(n) ((1ull << (n)) - 1)

static void
six_body(tn_net *t)
{
	gh_hash     id;
	node_status s;
	char       *out = NULL;
	char        hex[65];
	struct stat st;
	char        sock[PATH_MAX + 32];

	CHECK_OK(tn_setup(t, th_tmpdir(), 6, 1, "gossip_interval_ms = 300"));
	for (int i = 0; i < 6; i++) {
		CHECK_OK(tn_start(t, i));
	}
	/* From one seed, every node learns the others. */
	for (int i = 0; i < 6; i++) {
		CHECK_OK(tn_wait_peers(t, i, 3, 20000));
	}
	/* The control socket is the owner's only. */
	snprintf(sock, sizeof(sock), "%s/node/control.sock", t->dir[0]);
	CHECK(stat(sock, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0600);

	/* Published through the CLI at node 3, it reaches all six. */
	CHECK_EQ(th_sh(&out, "'%s' node announce --config '%s' 'hello six'",
	             th_bin(), t->conf[3]),
	    0);
	CHECK(strlen(out) == 65 && out[64] == '\n');
	out[64] = '\0';
	CHECK_OK(gh_hex_decode(out, id.b, 32));
	free(out);
	out = NULL;
	CHECK_OK(tn_wait_all(t, ALL(6), &id, 15000));

	/* status, peers, ping through the CLI. */
	CHECK_EQ(th_sh(&out, "'%s' node status --json --data-dir '%s'",
	             th_bin(), t->dir[1]),
	    0);
	gh_hex_encode(t->pub[1].b, 32, hex);
	CHECK(strstr(out, hex) != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "'%s' node peers --json --config '%s'", th_bin(),
	             t->conf[0]),
	    0);
	gh_hex_encode(t->pub[5].b, 32, hex);
	CHECK(strstr(out, hex) != NULL);
	CHECK(strstr(out, "\"active\":true") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "'%s' node ping --json --config '%s' %s",
	             th_bin(), t->conf[0], hex),
	    0);
	CHECK(strstr(out, "rtt_us") != NULL);
	free(out);
	out = NULL;
	CHECK_OK(tn_status(t, 2, &s));
	CHECK(s.items >= 1);
	CHECK(s.bytes_in > 0 && s.bytes_out > 0);

	/* One node per data dir: a second `node run` is refused. */
	CHECK_EQ(th_sh(&out, "timeout 20 '%s' node run --config '%s'",
	             th_bin(), t->conf[0]),
	    1);
	CHECK(strstr(out, "busy") != NULL);
	free(out);
	out = NULL;
	CHECK_OK(tn_status(t, 0, &s));

	/* `node stop` shuts a node down cleanly (exit 0); SIGINT too. */
	CHECK_EQ(
	    th_sh(NULL, "'%s' node stop --config '%s'", th_bin(), t->conf[5]),
	    0);
	CHECK_EQ(tn_stop(t, 5, 0), 0);
	CHECK_EQ(tn_stop(t, 4, SIGINT), 0);
	CHECK(stat(sock, &st) == 0);
	/* A stopped node's socket is gone: the CLI says unreachable. */
	CHECK_EQ(th_sh(NULL, "'%s' node status --config '%s'", th_bin(),
	             t->conf[5]),
	    6);
}

TEST_T(node_net_six_nodes_gossip, 120)
{
	tn_net *t = calloc(1, sizeof(*t));
	CHECK(t != NULL);
	six_body(t);
	tn_teardown(t);
	free(t);
}

static void
catchup_body(tn_net *t)
{
	gh_hash ids[8];
	char    text[32];

	CHECK_OK(tn_setup(t, th_tmpdir(), 5, 2,
	    "gossip_interval_ms = 300\nsync_interval_ms = 1000"));
	for (int i = 0; i < 4; i++) {
		CHECK_OK(tn_start(t, i));
	}
	for (int i = 0; i < 4; i++) {
		CHECK_OK(tn_wait_peers(t, i, 2, 20000));
	}
	for (int k = 0; k < 3; k++) {
		snprintf(text, sizeof(text), "early %d", k);
		CHECK_OK(tn_announce(t, 0, text, &ids[k]));
	}
	CHECK_OK(tn_wait_all(t, ALL(4), &ids[2], 15000));

	/* A node started late catches up by pull. */
	CHECK_OK(tn_start(t, 4));
	for (int k = 0; k < 3; k++) {
		CHECK_OK(tn_wait_all(t, 1u << 4, &ids[k], 15000));
	}

	/* Stopped, it misses two; restarted, it catches up. */
	CHECK_EQ(tn_stop(t, 2, SIGTERM), 0);
	for (int k = 3; k < 5; k++) {
		snprintf(text, sizeof(text), "while down %d", k);
		CHECK_OK(tn_announce(t, 1, text, &ids[k]));
	}
	CHECK_OK(tn_wait_all(t, 0x1b, &ids[4], 15000));
	CHECK_OK(tn_start(t, 2));
	CHECK_OK(tn_wait_all(t, 1u << 2, &ids[3], 20000));
	CHECK_OK(tn_wait_all(t, 1u << 2, &ids[4], 20000));
	/* Node 1's connection to the restarted node handshakes again:
	 * requests over it work (the first may be refused, once). */
	{
		int rv = GH_EINTERNAL;
		for (int k = 0; k < 20 && rv != GH_OK; k++) {
			uint8_t *b = NULL;
			size_t   bl;
			rv = tn_ctl(t, 1, "ping", t->pub[2].b, 32, &b, &bl);
			free(b);
			if (rv != GH_OK) {
				tn_sleep_ms(250);
			}
		}
		CHECK_OK(rv);
	}

	/* A killed node does not stop propagation. */
	CHECK_EQ(tn_stop(t, 0, SIGKILL), -1);
	CHECK_OK(tn_announce(t, 3, "after a kill", &ids[5]));
	CHECK_OK(tn_wait_all(t, 0x1e, &ids[5], 15000));
}

TEST_T(node_net_late_restart_kill, 180)
{
	tn_net *t = calloc(1, sizeof(*t));
	CHECK(t != NULL);
	catchup_body(t);
	tn_teardown(t);
	free(t);
}

/* Sync alone: retain_seconds = 1 empties the gossip store at once, so a
 * late node can only get old items through frontier/range sync, and
 * the chain arrives in any order through the unchecked table. */
static void
sync_body(tn_net *t)
{
	gh_hash     ids[6];
	char        text[32];
	node_status s;

	CHECK_OK(tn_setup(t, th_tmpdir(), 3, 1,
	    "retain_seconds = 1\nsync_interval_ms = 500\n"
	    "gossip_interval_ms = 300"));
	CHECK_OK(tn_start(t, 0));
	CHECK_OK(tn_start(t, 1));
	CHECK_OK(tn_wait_peers(t, 1, 1, 20000));
	for (int k = 0; k < 6; k++) {
		snprintf(text, sizeof(text), "chain %d", k);
		CHECK_OK(tn_announce(t, 0, text, &ids[k]));
	}
	CHECK_OK(tn_wait_all(t, 0x3, &ids[5], 15000));
	tn_sleep_ms(2500); /* the gossip store forgets them */
	CHECK_OK(tn_start(t, 2));
	for (int k = 0; k < 6; k++) {
		CHECK_OK(tn_wait_all(t, 0x4, &ids[k], 20000));
	}
	CHECK_OK(tn_status(t, 2, &s));
	CHECK_EQ(s.unchecked, 0);
}

TEST_T(node_net_sync_catchup, 120)
{
	tn_net *t = calloc(1, sizeof(*t));
	CHECK(t != NULL);
	sync_body(t);
	tn_teardown(t);
	free(t);
}

/* An announcement by the hostile key: seq, linked to prev. */
static void
hostile_ann(hostile *h, uint64_t seq, const gh_hash *prev, node_ann *a)
{
	memset(a, 0, sizeof(*a));
	a->author  = h->pub;
	a->seq     = seq;
	a->time_ms = seq;
	if (prev != NULL) {
		a->prev = *prev;
	}
	snprintf(a->text, sizeof(a->text), "hostile %llu",
	    (unsigned long long) seq);
	(void) node_ann_sign(a, h->key);
}

/* PUSHes a (with its signature broken when asked). */
static int
hostile_push_ann(hostile *h, const node_ann *a0, int break_sig, gh_hash *id)
{
	node_ann  a = *a0;
	gh_writer w, it;
	int       rv;

	if (break_sig) {
		a.sig.b[5] ^= 0x40;
	}
	gh_writer_init(&w);
	gh_writer_init(&it);
	(void) node_ann_encode(&a, &w);
	if (id != NULL) {
		node_item_id(NODE_KIND_ANNOUNCE, w.p, w.len, id);
	}
	gh_put_u8(&it, NODE_KIND_ANNOUNCE);
	gh_put_str(&it, NODE_BODY_MAX, w.p, w.len);
	rv = hostile_req(h, NODE_MSG_PUSH, it.p, it.len);
	gh_writer_free(&w);
	gh_writer_free(&it);
	return (rv);
}

static int
peer_banned(const tn_net *t, int i, const gh_ed_pub *pub)
{
	uint8_t  *b = NULL;
	size_t    bl;
	gh_reader r;
	uint32_t  c;
	int       banned = 0;

	if (tn_ctl(t, i, "peers", NULL, 0, &b, &bl) != GH_OK) {
		return (0);
	}
	gh_reader_init(&r, b, bl);
	if (gh_get_u32(&r, &c) == GH_OK) {
		for (uint32_t k = 0; k < c; k++) {
			node_peer_row row;
			if (node_peer_row_decode(&r, &row) != GH_OK) {
				break;
			}
			if (memcmp(row.pub.b, pub->b, 32) == 0) {
				banned = row.banned_until > 0;
			}
		}
	}
	free(b);
	return (banned);
}

static void
hostile_body(tn_net *t, hostile *h, hostile *f, hostile *g)
{
	uint8_t     junk[300];
	uint8_t    *big   = NULL;
	uint8_t    *frame = NULL;
	size_t      n;
	gh_hash     other, id, id1, id2, h1, h2;
	node_ann    a1, a2, a3;
	node_status s;
	int         rv;

	CHECK_OK(tn_setup(t, th_tmpdir(), 3, 1,
	    "gossip_interval_ms = 300\nrate = 40\nburst = 60\n"
	    "ban_seconds = 600"));
	for (int i = 0; i < 3; i++) {
		CHECK_OK(tn_start(t, i));
	}
	for (int i = 0; i < 3; i++) {
		CHECK_OK(tn_wait_peers(t, i, 2, 20000));
	}
	CHECK_OK(hostile_open(h, t, 0));

	/* Garbage and a frame for another network get nothing useful. */
	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (uint8_t) (i * 37 + 1);
	}
	CHECK_ERR(hostile_send(h, junk, sizeof(junk)), GH_ETIMEDOUT);
	memset(&other, 0x55, sizeof(other));
	CHECK_OK(
	    hostile_frame(h, NODE_MSG_HELLO, &other, NULL, 0, &frame, &n));
	CHECK_ERR(hostile_send(h, frame, n), GH_ENETID);
	free(frame);
	frame = NULL;

	/* Before a handshake: refused.  Then a proper handshake. */
	CHECK_ERR(hostile_req(h, NODE_MSG_PEERS, NULL, 0), GH_EPERM);
	CHECK_OK(hostile_hello(h));
	CHECK_OK(hostile_req(h, NODE_MSG_PEERS, NULL, 0));

	/* A replayed frame is dropped. */
	CHECK_OK(
	    hostile_frame(h, NODE_MSG_PEERS, &h->netid, NULL, 0, &frame, &n));
	CHECK_OK(hostile_send(h, frame, n));
	CHECK_ERR(hostile_send(h, frame, n), GH_ETIMEDOUT);
	free(frame);
	frame = NULL;

	/* An oversized frame: nng drops the connection before allocating;
	 * the client reconnects.  Requests work again once it has,
	 * however long that takes on a loaded machine. */
	CHECK((big = calloc(1, NODE_MSG_MAX + 4096)) != NULL);
	rv = hostile_send(h, big, NODE_MSG_MAX + 4096);
	CHECK(rv == GH_ETIMEDOUT || rv == GH_ECLOSED);
	free(big);
	CHECK_OK(hostile_wait_ready(h, 30000));

	/* Good announcements, out of order: the second waits in the
	 * unchecked table until its predecessor arrives. */
	hostile_ann(h, 1, NULL, &a1);
	node_ann_hash(&a1, &h1);
	hostile_ann(h, 2, &h1, &a2);
	CHECK_ERR(hostile_push_ann(h, &a2, 0, &id2), GH_EPENDING);
	CHECK_OK(tn_status(t, 0, &s));
	CHECK_EQ(s.unchecked, 1);
	CHECK(!tn_has(t, 0, &id2));
	CHECK_OK(hostile_push_ann(h, &a1, 0, &id1));
	CHECK(tn_has(t, 0, &id1));
	CHECK(tn_has(t, 0, &id2));
	CHECK_OK(tn_status(t, 0, &s));
	CHECK_EQ(s.unchecked, 0);
	/* Both travel on to the other nodes. */
	CHECK_OK(tn_wait_all(t, ALL(3), &id2, 15000));

	/* Bad signatures get the key banned. */
	node_ann_hash(&a2, &h2);
	hostile_ann(h, 3, &h2, &a3);
	for (int k = 0; k < 6 && !peer_banned(t, 0, &h->pub); k++) {
		/* Each one new, or the seen-cache drops it unchecked. */
		a3.time_ms = 100 + (uint64_t) k;
		CHECK_OK(node_ann_sign(&a3, h->key));
		rv = hostile_push_ann(h, &a3, 1, NULL);
		CHECK(rv == GH_EBADSIG || rv == GH_ETIMEDOUT
		    || rv == GH_ECLOSED || rv == GH_EPERM);
	}
	CHECK(peer_banned(t, 0, &h->pub));
	/* Banned: a new handshake is refused (or the line is cut). */
	rv = hostile_hello(h);
	CHECK(rv == GH_EPERM || rv == GH_ETIMEDOUT || rv == GH_ECLOSED);

	/* A flood from another key gets it banned too. */
	CHECK_OK(hostile_open(f, t, 1));
	CHECK_OK(hostile_hello(f));
	/* Frames sent back to back, not waiting for replies: the REQ
	 * socket abandons each request as it sends the next. */
	for (int k = 0; k < 2000 && !peer_banned(t, 1, &f->pub); k++) {
		uint8_t *fr = NULL;
		size_t   fl;
		CHECK_OK(hostile_frame(
		    f, NODE_MSG_PEERS, &f->netid, NULL, 0, &fr, &fl));
		(void) nng_send(f->s, fr, fl, 0);
		free(fr);
		if (k % 100 == 99) {
			tn_sleep_ms(100);
		}
	}
	CHECK(peer_banned(t, 1, &f->pub));

	/* Malformed and oversized items from a handshaken key: refused
	 * with the reason, and the key is banned. */
	CHECK_OK(hostile_open(g, t, 2));
	CHECK_OK(hostile_hello(g));
	{
		uint8_t   blob[700];
		gh_writer w;
		memset(blob, 0x61, sizeof(blob));
		gh_writer_init(&w);
		gh_put_u8(&w, NODE_KIND_ANNOUNCE);
		gh_put_str(&w, NODE_BODY_MAX, blob, sizeof(blob));
		CHECK_ERR(
		    hostile_req(g, NODE_MSG_PUSH, w.p, w.len), GH_ETOOLONG);
		gh_writer_free(&w);
		CHECK_ERR(hostile_req(g, NODE_MSG_PUSH, blob, 3), GH_ETRUNC);
		gh_writer_init(&w);
		gh_put_u8(&w, 99);
		gh_put_str(&w, NODE_BODY_MAX, blob, 10);
		/* This one reaches the ban line: the node cuts the
		 * connection before its reply leaves. */
		rv = hostile_req(g, NODE_MSG_PUSH, w.p, w.len);
		CHECK(
		    rv == GH_ETYPE || rv == GH_ECLOSED || rv == GH_ETIMEDOUT);
		gh_writer_free(&w);
	}
	CHECK(peer_banned(t, 2, &g->pub));

	/* The network still works. */
	CHECK_OK(tn_announce(t, 2, "still alive", &id));
	CHECK_OK(tn_wait_all(t, ALL(3), &id, 15000));
	/* Bans persist in the peer table across a restart. */
	CHECK_EQ(tn_stop(t, 0, SIGTERM), 0);
	CHECK_OK(tn_start(t, 0));
	CHECK(peer_banned(t, 0, &h->pub));
}

TEST_T(node_net_hostile_peer_banned, 120)
{
	tn_net *t = calloc(1, sizeof(*t));
	hostile h, f, g;
	memset(&h, 0, sizeof(h));
	memset(&f, 0, sizeof(f));
	memset(&g, 0, sizeof(g));
	CHECK(t != NULL);
	hostile_body(t, &h, &f, &g);
	hostile_close(&h);
	hostile_close(&f);
	hostile_close(&g);
	tn_teardown(t);
	free(t);
}

TEST(node_cli_usage)
{
	char *out = NULL;

	CHECK_EQ(th_sh(&out, "'%s' node --help", th_bin()), 0);
	CHECK(strstr(out, "node run") != NULL);
	CHECK(strstr(out, "seed = tcp://") != NULL);
	free(out);
	CHECK_EQ(th_sh(NULL, "'%s' node bogus", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "'%s' node status --wat", th_bin()), 2);
	CHECK_EQ(
	    th_sh(NULL, "'%s' node ping --data-dir /nonexistent zz", th_bin()),
	    2);
	/* No node there: unreachable. */
	CHECK_EQ(th_sh(NULL, "'%s' node status --data-dir '%s'", th_bin(),
	             th_tmpdir()),
	    6);
	/* A bad config names its line. */
	CHECK_OK(
	    tn_write(th_path(0, "bad.conf"), "data_dir = /x\nfrob = 1\n"));
	CHECK_EQ(th_sh(&out, "'%s' node run --config '%s'", th_bin(),
	             th_path(0, "bad.conf")),
	    2);
	CHECK(strstr(out, "line 2") != NULL);
	free(out);
}
