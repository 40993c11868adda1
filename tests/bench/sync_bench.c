/*
 * sync_bench.c - `bench network.sync`: a ledger of N certified entries
 * built in one node's data dir (the store's own batched ingest, timed:
 * the reference), then two `gpuhour node run` processes on loopback;
 * the fresh one syncs the whole ledger from the other (every
 * certificate verified), timed from its start until it has applied N.
 * GH_SYNC_BENCH_ENTRIES overrides N (default 20000).
 */
#include "tests/bench/bench.h"
#include "tests/ledger/fixture.h"
#include "tests/node/net_util.h"

#include <math.h>
#include <sys/time.h>

#define SB_BATCH 2048

/* Wall clock in microseconds (as the nodes stamp arrivals). */
static uint64_t
node_now_us_bench(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return ((uint64_t) tv.tv_sec * 1000000u + (uint64_t) tv.tv_usec);
}

static ledger_cert *
sb_certify(fx *f, ledger_entry *e, const gh_acct_key *k, gh_hash *h)
{
	ledger_cert *c = calloc(1, sizeof(*c));
	ledger_vote  v[FX_VALS];
	gh_hash      vh;
	uint32_t     q = ledger_genesis_quorum(&f->g);

	ledger_entry_sign_account(e, k);
	ledger_entry_hash(e, h);
	ledger_vote_hash(&f->netid, h, &vh);
	for (uint32_t i = 0; i < q; i++) {
		v[i].netid = f->netid;
		v[i].entry = *h;
		gh_ed_key_pub(f->val[i], &v[i].validator);
		gh_ed_sign(f->val[i], &vh, &v[i].sig);
	}
	if (c == NULL || ledger_cert_build(&f->g, e, v, q, c) != GH_OK) {
		fprintf(stderr, "bench: cannot build a certificate\n");
		exit(1);
	}
	return (c);
}

static int
sb_applied(tn_net *t, int i, uint64_t *applied)
{
	uint8_t         *b = NULL;
	size_t           bl;
	node_ledger_info info;
	int              rv = tn_ctl(t, i, "ledger-info", NULL, 0, &b, &bl);

	if (rv == GH_OK) {
		rv       = node_ledger_info_decode(b, bl, &info);
		*applied = info.applied;
	}
	free(b);
	return (rv);
}

BENCH(network, sync)
{
	tn_net           *t                 = calloc(1, sizeof(*t));
	const char       *env               = getenv("GH_SYNC_BENCH_ENTRIES");
	long              N                 = env != NULL ? atol(env) : 20000;
	ledger_cert     **c                 = calloc(SB_BATCH, sizeof(*c));
	int              *res               = calloc(SB_BATCH, sizeof(*res));
	uint64_t          seq[FX_ACCTS + 1] = { 0 };
	gh_hash           prev[FX_ACCTS + 1];
	ledger_store_opts o     = { 0, 0, 0, 0 };
	double            t_ing = 0, t0, t_sync;
	char             *text  = NULL;
	uint64_t          got   = 0;
	fx                f;

	if (N < 100) {
		N = 100;
	}
	memset(prev, 0, sizeof(prev));
	if (t == NULL || c == NULL || res == NULL || fx_genesis(&f, 4) != GH_OK
	    || tn_setup(t, bench_tmpdir(), 2, 1,
	           "sync_interval_ms = 500\ngossip_interval_ms = 1000")
	        != GH_OK
	    || ledger_genesis_format(&f.g, &text) != GH_OK
	    || tn_write(t->genesis, text) != GH_OK
	    || ledger_store_open(t->dir[0], &f.g, &o, &f.s) != GH_OK) {
		fprintf(stderr, "bench: setup failed\n");
		exit(1);
	}
	free(text);
	for (long i = 0; i < N; i += SB_BATCH) {
		size_t n = N - i < SB_BATCH ? (size_t) (N - i) : SB_BATCH;
		for (size_t j = 0; j < n; j++) {
			long         x = i + (long) j;
			ledger_entry e;
			gh_hash      h;
			int a = x < FX_ACCTS ? FX_ACCTS : (int) (x % FX_ACCTS);
			const gh_acct_key *k
			    = a == FX_ACCTS ? f.issuer : f.acct[a];
			fx_entry(&f, NULL, k,
			    a == FX_ACCTS ? LEDGER_MINT : LEDGER_TRANSFER, &e);
			e.seq  = ++seq[a];
			e.prev = prev[a];
			if (a == FX_ACCTS) {
				e.body.mint.to     = f.pub[x];
				e.body.mint.amount = 1000000000000ull;
			} else {
				e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
				memcpy(e.body.transfer.to.b,
				    f.pub[(x * 7 + 3) % FX_ACCTS].b, 32);
				e.body.transfer.amount
				    = 1 + (uint64_t) (x % 97);
			}
			c[j]    = sb_certify(&f, &e, k, &h);
			prev[a] = h;
		}
		t0 = bench_now();
		if (ledger_store_ingest(f.s, c, n, res) != GH_OK) {
			fprintf(stderr, "bench: ingest failed\n");
			exit(1);
		}
		t_ing += bench_now() - t0;
		for (size_t j = 0; j < n; j++) {
			if (res[j] != GH_OK) {
				fprintf(stderr, "bench: entry refused: %s\n",
				    gh_strerror(res[j]));
				exit(1);
			}
			free(c[j]);
		}
	}
	ledger_store_close(f.s);
	f.s = NULL;
	if (tn_start(t, 0) != GH_OK) {
		fprintf(stderr, "bench: node 0 did not start\n");
		exit(1);
	}
	t0 = bench_now();
	if (tn_start(t, 1) != GH_OK) {
		fprintf(stderr, "bench: node 1 did not start\n");
		exit(1);
	}
	while (bench_now() - t0 < 600 && got < (uint64_t) N) {
		tn_sleep_ms(100);
		(void) sb_applied(t, 1, &got);
	}
	t_sync = bench_now() - t0;
	if (got < (uint64_t) N) {
		fprintf(stderr, "bench: synced %llu of %ld\n",
		    (unsigned long long) got, N);
		exit(1);
	}
	fprintf(stderr,
	    "bench: %ld entries ingested in %.2f s, synced in "
	    "%.2f s\n",
	    N, t_ing, t_sync);
	bench_report("network", "sync", (double) N / t_sync, "entries/s",
	    (double) N / t_ing, 1);
	tn_teardown(t);
	free(t);
	free(c);
	free(res);
	fx_free(&f);
}

/*
 * `bench network.propagation`: on N nodes (GH_NET_BENCH_NODES, default
 * 32; validators are nodes 0..3, every node seeds from them), M
 * certified entries (issuer mints, submitted at node 4 + k) and M offers
 * (one asset, republished at node 5), each followed from its
 * submission until every node holds it; prints the mean time to reach
 * 50/90/99/100% of the nodes for each kind.
 */
#define PB_MSGS 32

static int
pb_cmp(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return (x < y ? -1 : x > y);
}

/* Waits until every node reports when it got id (cmd: ledger-seen or
 * market-seen); fills lat[] (ms after t0_us) for each node. */
static int
pb_follow(tn_net *t, int N, const char *cmd, const uint8_t id[32],
    uint64_t t0_us, double *lat)
{
	uint64_t start = tn_now_ms();
	int      have  = 0;

	for (int i = 0; i < N; i++) {
		lat[i] = -1;
	}
	while (have < N && tn_now_ms() - start < 60000) {
		for (int i = 0; i < N; i++) {
			uint8_t *b = NULL;
			size_t   bl;
			if (lat[i] >= 0
			    || tn_ctl(t, i, cmd, id, 32, &b, &bl) != GH_OK) {
				continue;
			}
			if (bl == 8) {
				uint64_t us = gh_be64_get(b);
				lat[i]      = us > t0_us
				         ? (double) (us - t0_us) / 1000.0
				         : 0;
				have++;
			}
			free(b);
		}
		if (have < N) {
			tn_sleep_ms(50);
		}
	}
	for (int i = 0; i < N && have < N; i++) {
		if (lat[i] < 0) {
			fprintf(stderr,
			    "propagation bench: node %d lacks it\n", i);
		}
	}
	return (have == N ? GH_OK : GH_ETIMEDOUT);
}

static void
pb_report(const char *what, double *lat, int N, int M)
{
	static const double pct[4] = { 0.5, 0.9, 0.99, 1.0 };
	static const char  *nm[4]  = { "p50", "p90", "p99", "p100" };
	double              acc[4] = { 0, 0, 0, 0 };
	char                name[64];

	for (int m = 0; m < M; m++) {
		qsort(
		    lat + (size_t) m * N, (size_t) N, sizeof(double), pb_cmp);
		for (int k = 0; k < 4; k++) {
			int idx = (int) ceil(pct[k] * N) - 1;
			acc[k] += lat[(size_t) m * N + (idx < 0 ? 0 : idx)];
		}
	}
	for (int k = 0; k < 4; k++) {
		snprintf(name, sizeof(name), "%s_%s_ms", what, nm[k]);
		bench_report("network", name, acc[k] / M, "ms", 0, 0);
	}
}

static int
pb_submit(tn_net *t, int at, const uint8_t *p, size_t n, gh_hash *h)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      status;
	int      rv = node_ctl_call(
	         t->dir[at], "ledger-submit", p, n, 30000, &status, &b, &bl);

	if (rv == GH_OK) {
		rv = status;
	}
	if (rv == GH_OK && bl == 32) {
		memcpy(h->b, b, 32);
	}
	free(b);
	return (rv);
}

BENCH(network, propagation)
{
	tn_net      *t    = calloc(1, sizeof(*t));
	const char  *ev   = getenv("GH_NET_BENCH_NODES");
	int          N    = ev != NULL ? atoi(ev) : 32;
	int          M    = 10;
	double      *lat  = NULL;
	char        *text = NULL;
	char         root[PATH_MAX];
	gh_acct_key *owner = NULL;
	gh_acct_pub  opub;
	gh_hash      asset;
	uint64_t     iseq = 0, oseq = 0;
	gh_hash      iprev, oprev;
	fx           f;

	N = N < 6 ? 6 : N > TN_MAX ? TN_MAX : N;
	memset(&iprev, 0, sizeof(iprev));
	memset(&oprev, 0, sizeof(oprev));
	snprintf(root, sizeof(root), "%s/prop", bench_tmpdir());
	if (t == NULL || fx_genesis(&f, 4) != GH_OK
	    || gh_mkdir_p(root, 0700) != GH_OK
	    || tn_setup(t, root, N, 4,
	           "gossip_interval_ms = 200\nfanout = 3\nmax_peers = 6\n"
	           "sync_interval_ms = 2000")
	        != GH_OK
	    || (lat = calloc((size_t) N * PB_MSGS, sizeof(*lat))) == NULL) {
		fprintf(stderr, "propagation bench: setup failed\n");
		exit(1);
	}
	/* The committee is nodes 0..3: their node keys. */
	for (int i = 0; i < 4; i++) {
		f.g.committee[i].key = t->pub[i];
	}
	ledger_genesis_netid(&f.g, &f.netid);
	if (ledger_genesis_format(&f.g, &text) != GH_OK
	    || tn_write(t->genesis, text) != GH_OK) {
		exit(1);
	}
	free(text);
	for (int i = 0; i < N; i++) {
		if (tn_start(t, i) != GH_OK) {
			fprintf(stderr, "propagation bench: node %d\n", i);
			exit(1);
		}
	}
	for (int i = 0; i < N; i++) {
		if (tn_wait_peers(t, i, 4, 60000) != GH_OK) {
			fprintf(stderr, "propagation bench: peers %d\n", i);
			exit(1);
		}
	}
	tn_sleep_ms(2000);
	/* Certified entries: mints by the issuer, submitted at 4, 5, ... */
	for (int m = 0; m < M; m++) {
		ledger_entry e;
		uint8_t     *p = NULL;
		size_t       n;
		gh_hash      h;
		uint64_t     t0;
		int          at = 4 + m % (N - 4);
		fx_entry(&f, NULL, f.issuer, LEDGER_MINT, &e);
		e.seq              = ++iseq;
		e.prev             = iprev;
		e.body.mint.to     = f.pub[m % FX_ACCTS];
		e.body.mint.amount = 1000000;
		ledger_entry_sign_account(&e, f.issuer);
		ledger_entry_encode(&e, &p, &n);
		t0 = node_now_us_bench();
		if (pb_submit(t, at, p, n, &h) != GH_OK
		    || pb_follow(
		           t, N, "ledger-seen", h.b, t0, lat + (size_t) m * N)
		        != GH_OK) {
			fprintf(stderr, "propagation bench: entry %d\n", m);
			exit(1);
		}
		iprev = h;
		free(p);
	}
	pb_report("entry", lat, N, M);
	/* Offers: account 0 registers node 5's machine, node 5 offers it
	 * M times (each offer replaces the last). */
	owner = f.acct[0];
	gh_acct_key_pub(owner, &opub);
	{
		ledger_entry e;
		uint8_t     *p = NULL, *b = NULL;
		size_t       n, bl;
		int          status;
		gh_reader    r;
		fx_entry(&f, NULL, owner, LEDGER_ASSET_REGISTER, &e);
		e.seq  = ++oseq;
		e.prev = oprev;
		if (node_ctl_call(t->dir[5], "asset-bind", opub.b, 32, 10000,
		        &status, &b, &bl)
		        != GH_OK
		    || status != GH_OK) {
			exit(1);
		}
		gh_reader_init(&r, b, bl);
		(void) gh_get_fixed(&r, e.body.asset.node.b, 32);
		(void) gh_get_fixed(&r, e.body.asset.node_sig.b, 64);
		(void) gh_get_cstr(&r, LEDGER_HW_MAX, e.body.asset.hw,
		    sizeof(e.body.asset.hw));
		free(b);
		e.body.asset.supply = 1000;
		ledger_entry_sign_account(&e, owner);
		ledger_entry_encode(&e, &p, &n);
		if (pb_submit(t, 5, p, n, &asset) != GH_OK) {
			fprintf(stderr, "propagation bench: asset\n");
			exit(1);
		}
		free(p);
	}
	for (int m = 0; m < M; m++) {
		node_offer_req q;
		gh_writer      w;
		uint8_t       *b = NULL;
		size_t         bl;
		int            status, rv;
		uint64_t       t0;
		memset(&q, 0, sizeof(q));
		memcpy(q.asset, asset.b, 32);
		q.price       = 1000 + (uint64_t) m;
		q.billing     = 1;
		q.capacity    = 1;
		q.avail_from  = gh_time_now();
		q.avail_until = q.avail_from + 86400;
		q.min_lease   = 60;
		q.max_lease   = 86400;
		q.expiry      = q.avail_until;
		gh_writer_init(&w);
		(void) node_offer_req_encode(&q, &w);
		t0 = node_now_us_bench();
		rv = node_ctl_call(t->dir[5], "offer-publish", w.p, w.len,
		    30000, &status, &b, &bl);
		gh_writer_free(&w);
		if (rv != GH_OK || status != GH_OK || bl < 32
		    || pb_follow(
		           t, N, "market-seen", b, t0, lat + (size_t) m * N)
		        != GH_OK) {
			fprintf(stderr, "propagation bench: offer %d (%s)\n",
			    m, gh_strerror(rv != GH_OK ? rv : status));
			exit(1);
		}
		free(b);
		tn_sleep_ms(1100); /* a new seq each second */
	}
	pb_report("offer", lat, N, M);
	tn_teardown(t);
	free(t);
	free(lat);
	fx_free(&f);
}
