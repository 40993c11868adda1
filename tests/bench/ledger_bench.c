/* ledger_bench.c - certified entries validated and durably committed
 * per second, beside the bound measured in the same run: signature
 * verifications per second on all cores divided by the signatures one
 * certified entry carries (the author's and 2f+1 votes). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/bench/bench.h"
#include "tests/ledger/fixture.h"

#define BN_ENTRIES 6000
#define BN_ACCTS   FX_ACCTS
#define BN_BATCH   2048
#define BN_ROUNDS  3

typedef struct {
	ledger_cert   **c;
	size_t          n;
	size_t          next;
	pthread_mutex_t mu;
	gh_hash        *h;  /* entry hashes */
	gh_hash        *vh; /* vote hashes */
} bn_work;

/* Only the signature checks each certificate carries. */
static void *
bn_verify_main(void *arg)
{
	bn_work *w = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&w->mu);
		i = w->next;
		w->next += 16;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->n) {
			break;
		}
		for (size_t e = i + 16 < w->n ? i + 16 : w->n; i < e; i++) {
			ledger_cert *c = w->c[i];
			gh_acct_pub  pub;
			int          bad = 0;
			memcpy(pub.b, c->entry.author, 32);
			bad |= gh_acct_verify(&pub, &w->h[i], &c->entry.sig);
			for (uint32_t v = 0; v < c->nvotes; v++) {
				bad |= gh_ed_verify(
				    &c->voter[v], &w->vh[i], &c->vsig[v]);
			}
			if (bad) {
				fprintf(stderr, "bench: bad signature\n");
				exit(1);
			}
		}
	}
	return (NULL);
}

static ledger_cert *
bn_certify(
    fx *f, ledger_entry *e, const gh_acct_key *k, gh_hash *h, gh_hash *vh)
{
	ledger_cert *c = calloc(1, sizeof(*c));
	ledger_vote  v[FX_VALS];
	uint32_t     q = ledger_genesis_quorum(&f->g);

	ledger_entry_sign_account(e, k);
	ledger_entry_hash(e, h);
	ledger_vote_hash(&f->netid, h, vh);
	for (uint32_t i = 0; i < q; i++) {
		v[i].netid = f->netid;
		v[i].entry = *h;
		gh_ed_key_pub(f->val[i], &v[i].validator);
		gh_ed_sign(f->val[i], vh, &v[i].sig);
	}
	if (ledger_cert_build(&f->g, e, v, q, c) != GH_OK) {
		fprintf(stderr, "bench: cannot build a certificate\n");
		exit(1);
	}
	return (c);
}

BENCH(ledger, ingest)
{
	fx                f;
	ledger_cert     **c                 = calloc(BN_ENTRIES, sizeof(*c));
	gh_hash          *h                 = calloc(BN_ENTRIES, sizeof(*h));
	gh_hash          *vh                = calloc(BN_ENTRIES, sizeof(*vh));
	int              *res               = calloc(BN_ENTRIES, sizeof(*res));
	uint64_t          seq[BN_ACCTS + 1] = { 0 };
	gh_hash           prev[BN_ACCTS + 1];
	long              ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned          nth  = ncpu > 0 ? (unsigned) ncpu : 1;
	pthread_t         th[64];
	bn_work           w;
	double            t0, t_ref, t_ing;
	char              dir[512];
	ledger_store_opts o = { 0, 0, 0, 0 }; /* durable: fsync per commit */

	memset(prev, 0, sizeof(prev));
	if (fx_genesis(&f, 4) != GH_OK) {
		exit(1);
	}
	/* Mints to every account, then transfers between them. */
	for (int i = 0; i < BN_ENTRIES; i++) {
		ledger_entry       e;
		int                a = i < BN_ACCTS ? BN_ACCTS : i % BN_ACCTS;
		const gh_acct_key *k = a == BN_ACCTS ? f.issuer : f.acct[a];
		fx_entry(&f, NULL, k,
		    a == BN_ACCTS ? LEDGER_MINT : LEDGER_TRANSFER, &e);
		e.seq  = ++seq[a];
		e.prev = prev[a];
		if (a == BN_ACCTS) {
			e.body.mint.to     = f.pub[i];
			e.body.mint.amount = 1000000000;
		} else {
			e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
			memcpy(e.body.transfer.to.b,
			    f.pub[(i * 7 + 3) % BN_ACCTS].b, 32);
			e.body.transfer.amount = 1 + (uint64_t) (i % 97);
		}
		c[i]    = bn_certify(&f, &e, k, &h[i], &vh[i]);
		prev[a] = h[i];
	}

	/*
	 * Rounds alternate the bound (the signatures alone on all cores) and
	 * the ingest (verification on the worker threads, batched durable
	 * commits into a fresh store); each figure is the best of its
	 * rounds, so that load from elsewhere on a shared machine skews
	 * neither side.
	 */
	t_ref = t_ing = 1e30;
	for (int round = 0; round < BN_ROUNDS; round++) {
		double t;
		memset(&w, 0, sizeof(w));
		w.c  = c;
		w.n  = BN_ENTRIES;
		w.h  = h;
		w.vh = vh;
		pthread_mutex_init(&w.mu, NULL);
		t0 = bench_now();
		for (unsigned i = 0; i < nth && i < 64; i++) {
			pthread_create(&th[i], NULL, bn_verify_main, &w);
		}
		for (unsigned i = 0; i < nth && i < 64; i++) {
			pthread_join(th[i], NULL);
		}
		t     = bench_now() - t0;
		t_ref = t < t_ref ? t : t_ref;
		pthread_mutex_destroy(&w.mu);

		snprintf(dir, sizeof(dir), "%s/ledger-ingest-%d",
		    bench_tmpdir(), round);
		if (ledger_store_open(dir, &f.g, &o, &f.s) != GH_OK) {
			fprintf(stderr, "bench: cannot open the store\n");
			exit(1);
		}
		t0 = bench_now();
		for (int i = 0; i < BN_ENTRIES; i += BN_BATCH) {
			size_t n = BN_ENTRIES - i < BN_BATCH ? BN_ENTRIES - i
			                                     : BN_BATCH;
			if (ledger_store_ingest(f.s, &c[i], n, &res[i])
			    != GH_OK) {
				fprintf(stderr, "bench: ingest failed\n");
				exit(1);
			}
		}
		t     = bench_now() - t0;
		t_ing = t < t_ing ? t : t_ing;
		ledger_store_close(f.s);
		f.s = NULL;
	}
	for (int i = 0; i < BN_ENTRIES; i++) {
		if (res[i] != GH_OK) {
			fprintf(stderr, "bench: entry %d: %s\n", i,
			    gh_strerror(res[i]));
			exit(1);
		}
	}
	bench_report("ledger", "ingest", BN_ENTRIES / t_ing, "entries/s",
	    BN_ENTRIES / t_ref, 1);
	for (int i = 0; i < BN_ENTRIES; i++) {
		free(c[i]);
	}
	free(c);
	free(h);
	free(vh);
	free(res);
	fx_free(&f);
}
