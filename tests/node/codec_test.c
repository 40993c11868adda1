/* codec_test.c - peer frames and control replies: round trips, and a
 * deterministic bit-flip and truncation pass over every decoder. */
#include <stdlib.h>

#include "node/priv.h"
#include "tests/harness.h"

/* Every decoder behind one signature, for the mutation pass. */
typedef int (*dec_fn)(const uint8_t *p, size_t n);
/* Re-encodes what dec accepted into w (canonical check). */
typedef int (*reenc_fn)(const uint8_t *p, size_t n, gh_writer *w);

static int
dec_env(const uint8_t *p, size_t n)
{
	node_env e;
	int      rv = node_env_decode(p, n, &e);
	return (rv != GH_OK ? rv : node_env_verify(&e));
}

static int
dec_hello(const uint8_t *p, size_t n)
{
	node_hello h;
	return (node_hello_decode(p, n, &h));
}

static int
re_hello(const uint8_t *p, size_t n, gh_writer *w)
{
	node_hello h;
	int        rv = node_hello_decode(p, n, &h);
	return (rv != GH_OK ? rv : node_hello_encode(&h, w));
}

static int
dec_item(const uint8_t *p, size_t n)
{
	node_item it;
	return (node_item_decode(p, n, &it));
}

static int
re_item(const uint8_t *p, size_t n, gh_writer *w)
{
	node_item it;
	int       rv = node_item_decode(p, n, &it);
	return (rv != GH_OK ? rv : node_item_encode(&it, w));
}

static int
dec_digest(const uint8_t *p, size_t n)
{
	node_digest d;
	return (node_digest_decode(p, n, &d));
}

static int
re_digest(const uint8_t *p, size_t n, gh_writer *w)
{
	node_digest d;
	int         rv = node_digest_decode(p, n, &d);
	return (rv != GH_OK ? rv : node_digest_encode(&d, w));
}

static int
dec_ann(const uint8_t *p, size_t n)
{
	node_ann a;
	int      rv = node_ann_decode(p, n, &a);
	return (rv != GH_OK ? rv : node_ann_verify(&a));
}

static int
re_status(const uint8_t *p, size_t n, gh_writer *w)
{
	node_status s;
	int         rv = node_status_decode(p, n, &s);
	return (rv != GH_OK ? rv : node_status_encode(&s, w));
}

static int
dec_status(const uint8_t *p, size_t n)
{
	node_status s;
	return (node_status_decode(p, n, &s));
}

static int
dec_items(const uint8_t *p, size_t n)
{
	node_items_iter it;
	return (node_items_begin(p, n, NODE_ITEMS_MAX, &it));
}

static int
dec_ctl(const uint8_t *p, size_t n)
{
	char           cmd[NODE_CMD_MAX + 1];
	const uint8_t *b;
	uint32_t       bl;
	return (node_ctl_req_decode(p, n, cmd, sizeof(cmd), &b, &bl));
}

/*
 * Every proper prefix must fail; every single-bit flip must fail or
 * (for decoders with a re-encoder) decode to something that re-encodes
 * to exactly the flipped bytes.  Signed objects (no re-encoder) must
 * never verify after a flip.
 */
static int
mutate_pass(const uint8_t *p, size_t n, dec_fn dec, reenc_fn re)
{
	uint8_t *q   = malloc(n);
	int      bad = 0;

	if (q == NULL) {
		return (1);
	}
	if (dec(p, n) != GH_OK) {
		bad++;
	}
	for (size_t k = 0; k < n; k++) {
		if (dec(p, k) == GH_OK) {
			bad++;
		}
	}
	for (size_t i = 0; i < n * 8; i++) {
		memcpy(q, p, n);
		q[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (dec(q, n) != GH_OK) {
			continue;
		}
		if (re == NULL) {
			bad++;
		} else {
			gh_writer w;
			gh_writer_init(&w);
			if (re(q, n, &w) != GH_OK || w.len != n
			    || memcmp(w.p, q, n) != 0) {
				bad++;
			}
			gh_writer_free(&w);
		}
	}
	free(q);
	return (bad);
}

TEST(node_codec_envelope)
{
	gh_ed_key *k = NULL;
	node_env   e, d;
	uint8_t   *p = NULL;
	size_t     n;
	uint8_t    body[40];

	CHECK_OK(gh_ed_key_new(&k));
	memset(&e, 0, sizeof(e));
	memset(body, 0xab, sizeof(body));
	e.type = NODE_MSG_PUSH;
	memset(e.netid.b, 1, 32);
	gh_ed_key_pub(k, &e.from);
	memset(e.to.b, 2, 32);
	e.time_ms  = 123456789;
	e.nonce    = 42;
	e.body     = body;
	e.body_len = sizeof(body);
	CHECK_OK(node_env_encode(&e, k, &p, &n));
	CHECK_EQ(p[0], NODE_WIRE_VERSION);
	CHECK_EQ(p[1], NODE_MSG_PUSH);
	CHECK_OK(node_env_decode(p, n, &d));
	CHECK_OK(node_env_verify(&d));
	CHECK_MEM(d.hash.b, e.hash.b, 32);
	CHECK_EQ(d.nonce, 42);
	CHECK_EQ(d.body_len, sizeof(body));
	CHECK_MEM(d.body, body, sizeof(body));
	CHECK_ERR(node_env_decode(p, n - 1, &d), GH_ETRUNC);
	/* Unknown type, unknown version. */
	p[1] = 99;
	CHECK_ERR(node_env_decode(p, n, &d), GH_ETYPE);
	p[1] = NODE_MSG_PUSH;
	p[0] = 9;
	CHECK_ERR(node_env_decode(p, n, &d), GH_EVERSION);
	p[0] = NODE_WIRE_VERSION;
	CHECK_EQ(mutate_pass(p, n, dec_env, NULL), 0);
	free(p);
	gh_ed_key_free(k);
}

TEST(node_codec_bodies)
{
	gh_writer   w;
	node_hello  h = { "tcp://127.0.0.1:9", 77 }, h2;
	uint8_t     pay[20];
	node_item   it = { NODE_KIND_ANNOUNCE, pay, sizeof(pay) }, it2;
	uint8_t     ids[3 * 32];
	node_digest dg = { 5, 9, 3, ids }, dg2;

	memset(pay, 7, sizeof(pay));
	for (size_t i = 0; i < sizeof(ids); i++) {
		ids[i] = (uint8_t) i;
	}
	gh_writer_init(&w);
	CHECK_OK(node_hello_encode(&h, &w));
	CHECK_OK(node_hello_decode(w.p, w.len, &h2));
	CHECK_STR(h2.addr, h.addr);
	CHECK_EQ(h2.boot, 77);
	CHECK_EQ(mutate_pass(w.p, w.len, dec_hello, re_hello), 0);
	gh_writer_free(&w);

	gh_writer_init(&w);
	CHECK_OK(node_item_encode(&it, &w));
	CHECK_OK(node_item_decode(w.p, w.len, &it2));
	CHECK_EQ(it2.kind, NODE_KIND_ANNOUNCE);
	CHECK_EQ(it2.len, sizeof(pay));
	CHECK_EQ(mutate_pass(w.p, w.len, dec_item, re_item), 0);
	gh_writer_free(&w);

	gh_writer_init(&w);
	CHECK_OK(node_digest_encode(&dg, &w));
	CHECK_OK(node_digest_decode(w.p, w.len, &dg2));
	CHECK_EQ(dg2.count, 3);
	CHECK_EQ(dg2.next, 9);
	CHECK_MEM(dg2.ids, ids, sizeof(ids));
	CHECK_EQ(mutate_pass(w.p, w.len, dec_digest, re_digest), 0);
	gh_writer_free(&w);

	/* A digest whose id bytes are not a multiple of 32. */
	gh_writer_init(&w);
	gh_put_u64(&w, 1);
	gh_put_u64(&w, 1);
	gh_put_str(&w, 100, ids, 33);
	CHECK_ERR(node_digest_decode(w.p, w.len, &dg2), GH_ENONCANON);
	gh_writer_free(&w);
}

TEST(node_codec_lists)
{
	gh_writer         w;
	node_items_writer iw;
	node_items_iter   iter;
	node_item         it;
	gh_hash           ids[3];
	const uint8_t    *ip;
	uint32_t          cnt;
	int               seen = 0;

	gh_writer_init(&w);
	node_items_start(&iw, &w);
	node_items_put(&iw, 1, (const uint8_t *) "abc", 3);
	node_items_put(&iw, 2, (const uint8_t *) "", 0);
	node_items_end(&iw);
	CHECK_OK(gh_writer_err(&w));
	CHECK_OK(node_items_begin(w.p, w.len, 8, &iter));
	while (node_items_next(&iter, &it) == GH_OK) {
		seen++;
	}
	CHECK_EQ(seen, 2);
	CHECK_ERR(node_items_begin(w.p, w.len, 1, &iter), GH_ETOOLONG);
	CHECK_EQ(mutate_pass(w.p, w.len, dec_items, NULL) > 0, 1);
	/* Prefixes always fail. */
	for (size_t k = 0; k < w.len; k++) {
		CHECK(node_items_begin(w.p, k, 8, &iter) != GH_OK);
	}
	gh_writer_free(&w);

	memset(ids, 3, sizeof(ids));
	gh_writer_init(&w);
	CHECK_OK(node_ids_encode(ids, 3, &w));
	CHECK_OK(node_ids_decode(w.p, w.len, NODE_IWANT_MAX, &ip, &cnt));
	CHECK_EQ(cnt, 3);
	CHECK_ERR(node_ids_decode(w.p, w.len, 2, &ip, &cnt), GH_ETOOLONG);
	CHECK_ERR(node_ids_decode(w.p, w.len - 1, 8, &ip, &cnt), GH_ETRUNC);
	gh_writer_free(&w);
	CHECK_ERR(node_ids_encode(ids, NODE_IWANT_MAX + 1, &w), GH_ETOOLONG);
}

TEST(node_codec_announce)
{
	gh_ed_key *k = NULL;
	node_ann   a, b;
	gh_writer  w;
	gh_hash    h1, h2;

	CHECK_OK(gh_ed_key_new(&k));
	memset(&a, 0, sizeof(a));
	gh_ed_key_pub(k, &a.author);
	a.seq     = 3;
	a.time_ms = 99;
	memset(a.prev.b, 9, 32);
	snprintf(a.text, sizeof(a.text), "hello");
	CHECK_OK(node_ann_sign(&a, k));
	gh_writer_init(&w);
	CHECK_OK(node_ann_encode(&a, &w));
	CHECK_OK(node_ann_decode(w.p, w.len, &b));
	CHECK_OK(node_ann_verify(&b));
	CHECK_STR(b.text, "hello");
	node_ann_hash(&a, &h1);
	node_ann_hash(&b, &h2);
	CHECK_MEM(h1.b, h2.b, 32);
	CHECK_EQ(mutate_pass(w.p, w.len, dec_ann, NULL), 0);
	gh_writer_free(&w);
	/* Someone else's key cannot sign for this author. */
	gh_ed_key_free(k);
	CHECK_OK(gh_ed_key_new(&k));
	CHECK_ERR(node_ann_sign(&a, k), GH_EBADKEY);
	/* seq 0 is not canonical. */
	a.seq = 0;
	gh_writer_init(&w);
	CHECK_OK(node_ann_encode(&a, &w));
	CHECK_ERR(node_ann_decode(w.p, w.len, &b), GH_ENONCANON);
	gh_writer_free(&w);
	gh_ed_key_free(k);
}

TEST(node_codec_control)
{
	gh_writer      w;
	node_status    s, s2;
	node_peer_row  r = { 0 }, r2;
	node_msg_row   m = { 0 }, m2;
	gh_reader      rd;
	char           cmd[NODE_CMD_MAX + 1];
	const uint8_t *b;
	uint32_t       bl;
	uint16_t       st;

	memset(&s, 0, sizeof(s));
	s.peers_active = 3;
	s.bytes_in     = 1ull << 40;
	snprintf(s.listen, sizeof(s.listen), "tcp://127.0.0.1:1");
	gh_writer_init(&w);
	CHECK_OK(node_status_encode(&s, &w));
	CHECK_OK(node_status_decode(w.p, w.len, &s2));
	CHECK_EQ(s2.peers_active, 3);
	CHECK_EQ(s2.bytes_in, 1ull << 40);
	CHECK_EQ(mutate_pass(w.p, w.len, dec_status, re_status), 0);
	gh_writer_free(&w);

	r.score        = -30;
	r.banned_until = 5;
	r.active       = 1;
	snprintf(r.addr, sizeof(r.addr), "tcp://x:1");
	m.seq    = 4;
	m.copies = 2;
	snprintf(m.text, sizeof(m.text), "t");
	gh_writer_init(&w);
	CHECK_OK(node_peer_row_encode(&r, &w));
	CHECK_OK(node_msg_row_encode(&m, &w));
	gh_reader_init(&rd, w.p, w.len);
	CHECK_OK(node_peer_row_decode(&rd, &r2));
	CHECK_OK(node_msg_row_decode(&rd, &m2));
	CHECK_OK(gh_reader_end(&rd));
	CHECK(r2.score == -30);
	CHECK_EQ(r2.active, 1);
	CHECK_EQ(m2.seq, 4);
	CHECK_STR(m2.text, "t");
	gh_writer_free(&w);

	gh_writer_init(&w);
	CHECK_OK(node_ctl_req_encode("status", (const uint8_t *) "x", 1, &w));
	CHECK_OK(node_ctl_req_decode(w.p, w.len, cmd, sizeof(cmd), &b, &bl));
	CHECK_STR(cmd, "status");
	CHECK_EQ(bl, 1);
	CHECK(mutate_pass(w.p, w.len, dec_ctl, NULL) >= 0);
	for (size_t k = 0; k < w.len; k++) {
		CHECK(dec_ctl(w.p, k) != GH_OK);
	}
	gh_writer_free(&w);
	gh_writer_init(&w);
	CHECK_OK(node_ctl_rep_encode(GH_EPERM, NULL, 0, &w));
	CHECK_OK(node_ctl_rep_decode(w.p, w.len, &st, &b, &bl));
	CHECK_EQ(st, GH_EPERM);
	w.p[1] = 0xff; /* a status past the enum */
	CHECK_ERR(node_ctl_rep_decode(w.p, w.len, &st, &b, &bl), GH_ENONCANON);
	gh_writer_free(&w);
}
