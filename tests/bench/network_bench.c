/*
 * network_bench.c - gossip on a simulated network: 32 `gpuhour node run`
 * processes on loopback, each dropping 10% of inbound gossip pushes at
 * random (test_drop_push_pct), so coverage must come from pull repair.
 *
 * Prints the fraction of (node, message) pairs delivered, the time for
 * a message to reach 50/90/99/100% of the nodes (mean over messages),
 * the copies each node received per message (amplification), and the
 * peer traffic per node per message.  With 32 nodes, 99% of the nodes
 * is all of them (ceil(0.99 * 32) = 32), so p99 equals p100.
 * GH_NET_BENCH_NODES and
 * GH_NET_BENCH_MSGS override the sizes.
 */
#include <math.h>

#include "tests/bench/bench.h"
#include "tests/node/net_util.h"

#define NB_MAX_MSGS 64

static int
nb_cmp(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x < y ? -1 : x > y);
}

static int
nb_env(const char *name, int def, int lo, int hi)
{
	const char *v = getenv(name);
	int         x = v != NULL ? atoi(v) : def;
	return (x < lo ? lo : x > hi ? hi : x);
}

BENCH(network, gossip)
{
	tn_net     *t = calloc(1, sizeof(*t));
	int         N = nb_env("GH_NET_BENCH_NODES", 32, 4, TN_MAX);
	int         M = nb_env("GH_NET_BENCH_MSGS", 20, 1, NB_MAX_MSGS);
	gh_hash     ids[NB_MAX_MSGS];
	int         origin[NB_MAX_MSGS];
	double     *recv       = NULL; /* [node][msg] ms, NAN: missing */
	double     *cop        = NULL;
	uint64_t   *b0         = NULL;
	double      pct[4]     = { 0.5, 0.9, 0.99, 1.0 };
	double      lat[4]     = { 0, 0, 0, 0 };
	double      sum_copies = 0, have = 0, bytes = 0;
	double      phase_s;
	double      active = 0;
	uint64_t    t0;
	char        root[PATH_MAX];
	node_status s;
	const char *extra = "gossip_interval_ms = 200\nfanout = 3\n"
	                    "max_peers = 6\ntest_drop_push_pct = 10\n"
	                    "sync_interval_ms = 5000";
	int         ok    = 0;

	recv = calloc((size_t) N * NB_MAX_MSGS, sizeof(*recv));
	cop  = calloc((size_t) N * NB_MAX_MSGS, sizeof(*cop));
	b0   = calloc((size_t) N, sizeof(*b0));
	if (t == NULL || recv == NULL || cop == NULL || b0 == NULL) {
		goto out;
	}
	snprintf(root, sizeof(root), "%s/net", bench_tmpdir());
	if (gh_mkdir_p(root, 0700) != GH_OK
	    || tn_setup(t, root, N, 2, extra) != GH_OK) {
		fprintf(stderr, "network bench: setup failed\n");
		goto out;
	}
	for (int i = 0; i < N; i++) {
		if (tn_start(t, i) != GH_OK) {
			fprintf(stderr,
			    "network bench: node %d did not start\n", i);
			goto out;
		}
	}
	for (int i = 0; i < N; i++) {
		if (tn_wait_peers(t, i, 3, 60000) != GH_OK) {
			fprintf(stderr,
			    "network bench: node %d has no peers\n", i);
			goto out;
		}
	}
	tn_sleep_ms(2000); /* peer exchange settles */
	for (int i = 0; i < N; i++) {
		if (tn_status(t, i, &s) != GH_OK) {
			goto out;
		}
		b0[i] = s.bytes_in + s.bytes_out;
		active += s.peers_active;
	}
	t0 = tn_now_ms();
	for (int m = 0; m < M; m++) {
		char text[64];
		origin[m] = (m * 7) % N;
		snprintf(text, sizeof(text), "bench message %d", m);
		if (tn_announce(t, origin[m], text, &ids[m]) != GH_OK) {
			fprintf(stderr, "network bench: publish failed\n");
			goto out;
		}
		tn_sleep_ms(250);
	}
	/* Until every node holds every message, or 40 s. */
	while (tn_now_ms() - t0 < 40000) {
		int all = 1;
		for (int i = 0; i < N && all; i++) {
			if (tn_status(t, i, &s) != GH_OK
			    || s.items < (uint64_t) M) {
				all = 0;
			}
		}
		if (all) {
			break;
		}
		tn_sleep_ms(200);
	}
	phase_s = (double) (tn_now_ms() - t0) / 1000.0;
	for (int i = 0; i < N; i++) {
		node_msg_row *rows;
		uint32_t      c;
		for (int m = 0; m < M; m++) {
			recv[i * NB_MAX_MSGS + m] = NAN;
		}
		if (tn_status(t, i, &s) == GH_OK) {
			bytes += (double) (s.bytes_in + s.bytes_out - b0[i]);
			if (getenv("NB_DEBUG")) {
				printf("node %d: items %llu copies %llu "
				       "dropped %llu active %u\n",
				    i, (unsigned long long) s.items,
				    (unsigned long long) s.copies,
				    (unsigned long long) s.dropped,
				    s.peers_active);
			}
		}
		if (tn_messages(t, i, &rows, &c) != GH_OK) {
			continue;
		}
		for (uint32_t k = 0; k < c; k++) {
			for (int m = 0; m < M; m++) {
				if (memcmp(rows[k].id.b, ids[m].b, 32) == 0) {
					recv[i * NB_MAX_MSGS + m]
					    = (double) rows[k].recv_us
					    / 1000.0;
					cop[i * NB_MAX_MSGS + m]
					    = rows[k].copies;
				}
			}
		}
		free(rows);
	}
	for (int m = 0; m < M; m++) {
		double  o = recv[origin[m] * NB_MAX_MSGS + m];
		double *l = calloc((size_t) N, sizeof(double));
		if (l == NULL) {
			goto out;
		}
		for (int i = 0; i < N; i++) {
			double r = recv[i * NB_MAX_MSGS + m];
			if (isnan(r) || isnan(o)) {
				l[i] = INFINITY;
			} else {
				l[i] = r - o < 0 ? 0 : r - o;
				have += 1;
				sum_copies += cop[i * NB_MAX_MSGS + m];
			}
		}
		qsort(l, (size_t) N, sizeof(double), nb_cmp);
		for (int p = 0; p < 4; p++) {
			int idx = (int) ceil(pct[p] * N) - 1;
			lat[p] += l[idx < 0 ? 0 : idx] / M;
		}
		free(l);
	}
	printf(
	    "network: %d nodes, %d messages, 10%% of pushes dropped, "
	    "fanout 3, pull every 200 ms; %.1f outbound peers a node; phase "
	    "%.1f s\n",
	    N, M, active / N, phase_s);
	bench_report("network", "coverage", have / ((double) N * M),
	    "fraction", 1.0, 1);
	bench_report("network", "amplification",
	    have > 0 ? sum_copies / have : 0, "copies/node/msg", 3.0, 1);
	bench_report("network", "latency_p50_ms", lat[0], "ms", 0, 0);
	bench_report("network", "latency_p90_ms", lat[1], "ms", 0, 0);
	bench_report("network", "latency_p99_ms", lat[2], "ms", 0, 0);
	bench_report("network", "latency_p100_ms", lat[3], "ms", 0, 0);
	/* Reference: one push of each message to `fanout` peers, about
	 * 480 bytes a frame with its reply. */
	bench_report("network", "bytes_per_node", bytes / N / M,
	    "bytes/node/msg (all peer traffic, pull included)", 3.0 * 480, 1);
	ok = 1;
out:
	if (!ok) {
		printf("network: benchmark did not complete\n");
	}
	if (t != NULL) {
		tn_teardown(t);
	}
	free(t);
	free(recv);
	free(cop);
	free(b0);
}
