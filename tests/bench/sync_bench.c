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

#define SB_BATCH 2048

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
	ledger_store_opts o     = { 0, 0, 0 };
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
