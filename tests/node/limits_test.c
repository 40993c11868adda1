/* limits_test.c - seen-cache, id map, token bucket, scores, config. */
#include <stdlib.h>

#include "node/priv.h"
#include "tests/harness.h"

static void
make_id(uint64_t v, gh_hash *id)
{
	gh_hash_tagged(GH_TAG_MESSAGE, &v, sizeof(v), id);
}

TEST(node_seen_cache_bounded_fifo)
{
	node_seen *s = NULL;
	gh_hash    id;

	CHECK_ERR(node_seen_new(0, &s), GH_EINVAL);
	CHECK_OK(node_seen_new(100, &s));
	for (uint64_t i = 0; i < 100; i++) {
		make_id(i, &id);
		CHECK_EQ(node_seen_add(s, &id), 0);
	}
	make_id(5, &id);
	CHECK_EQ(node_seen_add(s, &id), 1);
	CHECK_EQ(node_seen_count(s), 100);
	/* 50 more evict the 50 oldest, and only those. */
	for (uint64_t i = 100; i < 150; i++) {
		make_id(i, &id);
		CHECK_EQ(node_seen_add(s, &id), 0);
	}
	CHECK_EQ(node_seen_count(s), 100);
	for (uint64_t i = 0; i < 150; i++) {
		make_id(i, &id);
		CHECK_EQ(node_seen_has(s, &id), i >= 50);
	}
	node_seen_free(s);
	node_seen_free(NULL);
}

/* The id map against a plain array, under random inserts and deletes
 * (backward-shift deletion must never lose a member). */
TEST(node_idmap_random_ops)
{
	enum { N = 2000, CAP = 512 };
	node_idmap m;
	uint32_t  *ref  = calloc(N, sizeof(*ref)); /* value + 1, 0: absent */
	uint64_t   rs   = 7;
	uint32_t   live = 0;
	gh_hash    id;
	uint32_t   v;

	CHECK(ref != NULL);
	CHECK_OK(node_idmap_init(&m, CAP));
	for (int step = 0; step < 40000; step++) {
		uint32_t k = (uint32_t) (th_rand(&rs) % N);
		make_id(k, &id);
		if (th_rand(&rs) % 3 == 0) {
			node_idmap_del(&m, &id);
			live -= ref[k] != 0;
			ref[k] = 0;
		} else if (ref[k] != 0 || live < CAP) {
			CHECK_OK(node_idmap_put(&m, &id, (uint32_t) step));
			live += ref[k] == 0;
			ref[k] = (uint32_t) step + 1;
		}
		if (step % 997 == 0) {
			for (uint32_t j = 0; j < N; j++) {
				make_id(j, &id);
				if (ref[j]) {
					CHECK_OK(node_idmap_get(&m, &id, &v));
					CHECK_EQ(v, ref[j] - 1);
				} else {
					CHECK_ERR(node_idmap_get(&m, &id, &v),
					    GH_ENOENT);
				}
			}
			CHECK_EQ(m.count, live);
		}
	}
	node_idmap_fini(&m);
	free(ref);
}

TEST(node_bucket_rate)
{
	node_bucket b;
	uint64_t    t   = 1000000000ull;
	int         got = 0;

	node_bucket_init(&b, 10, 20, t);
	for (int i = 0; i < 50; i++) {
		got += node_bucket_take(&b, 1, t);
	}
	CHECK_EQ(got, 20);
	/* Half a second refills five. */
	t += 500000000ull;
	got = 0;
	for (int i = 0; i < 50; i++) {
		got += node_bucket_take(&b, 1, t);
	}
	CHECK_EQ(got, 5);
	/* Never above the burst, however long the pause. */
	t += 3600ull * 1000000000ull;
	got = 0;
	for (int i = 0; i < 50; i++) {
		got += node_bucket_take(&b, 1, t);
	}
	CHECK_EQ(got, 20);
}

TEST(node_score_and_ban)
{
	int32_t s = 0;
	int     n = 0;

	for (int i = 0; i < 500; i++) {
		CHECK_EQ(node_score_apply(&s, NODE_PEN_GOOD), 0);
	}
	CHECK_EQ(s, NODE_SCORE_MAX);
	while (!node_score_apply(&s, NODE_PEN_BADSIG)) {
		n++;
	}
	/* From the top, 200 points: four bad signatures, banned at the
	 * fourth. */
	CHECK_EQ(n, 3);
	CHECK_EQ(s, NODE_SCORE_BAN);
	CHECK_EQ(node_pen_for(GH_EBADSIG), NODE_PEN_BADSIG);
	CHECK_EQ(node_pen_for(GH_ETRUNC), NODE_PEN_MALFORMED);
	CHECK_EQ(node_pen_for(GH_ETOOLONG), NODE_PEN_OVERSIZE);
	CHECK_EQ(node_pen_for(GH_EEXIST), NODE_PEN_GOOD);
	CHECK_EQ(node_pen_for(GH_EPENDING), NODE_PEN_GOOD);
	CHECK_EQ(node_pen_for(GH_EPREV), NODE_PEN_INVALID);
}

TEST(node_config_parse_lines)
{
	node_config c;
	char        err[128];
	const char *good = "# comment\n\ndata_dir = /tmp/x   # trailing\n"
	                   "listen = tcp://127.0.0.1:7000\n"
	                   "seeds = tcp://a:1, tcp://b:2\nseed = tcp://c:3\n"
	                   "fanout = 4\nlog_level = debug\n";

	node_config_default(&c);
	CHECK_EQ(c.fanout, 3);
	CHECK_OK(node_config_parse(good, strlen(good), &c, err, sizeof(err)));
	CHECK_STR(c.data_dir, "/tmp/x");
	CHECK_STR(c.listen, "tcp://127.0.0.1:7000");
	CHECK_EQ(c.nseeds, 3);
	CHECK_STR(c.seeds[1], "tcp://b:2");
	CHECK_EQ(c.fanout, 4);
	CHECK_EQ(c.log_debug, 1);

	node_config_default(&c);
	CHECK_ERR(
	    node_config_parse("a\n", 2, &c, err, sizeof(err)), GH_EINVAL);
	CHECK(strstr(err, "line 1") != NULL);
	CHECK_ERR(
	    node_config_parse("\nfanout = 0\n", 12, &c, err, sizeof(err)),
	    GH_EINVAL);
	CHECK(strstr(err, "line 2") != NULL);
	CHECK_ERR(node_config_parse("fanout = 3x", 11, &c, err, sizeof(err)),
	    GH_EINVAL);
	CHECK_ERR(
	    node_config_parse("listen = udp://x:1", 18, &c, err, sizeof(err)),
	    GH_EINVAL);
	CHECK_ERR(
	    node_config_parse("nope = 1", 8, &c, err, sizeof(err)), GH_EINVAL);
	CHECK(strstr(err, "nope") != NULL);
	CHECK_ERR(
	    node_config_parse("a = b\0c", 7, &c, err, sizeof(err)), GH_EINVAL);
	/* A missing genesis: load names it. */
	CHECK_OK(gh_file_write_atomic(th_path(0, "n.conf"),
	    "data_dir = /x\nlisten = tcp://h:1\nnode_key = /k\n"
	    "genesis = /nonexistent/g\n",
	    72, 0600));
	node_config_default(&c);
	CHECK(node_config_load(th_path(0, "n.conf"), &c, err, sizeof(err))
	    != GH_OK);
	CHECK(strstr(err, "genesis") != NULL);
}
