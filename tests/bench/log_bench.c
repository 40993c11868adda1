/*
 * log_bench.c - the transparency log at 1M entries: appends (batched in
 * LMDB transactions) against the SHA-256 work they must do, measured in
 * the same run; inclusion proofs generated and verified per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "tests/bench/bench.h"

#define LOG_BENCH_N      1000000u
#define LOG_BENCH_BATCH  10000u
#define LOG_BENCH_PROOFS 20000u

static uint64_t
log_bench_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

BENCH(ledger, log)
{
	gh_hash          *e  = calloc(LOG_BENCH_N, sizeof(*e));
	ledger_inclusion *pr = calloc(LOG_BENCH_PROOFS, sizeof(*pr));
	ledger_mhash     *lf = calloc(LOG_BENCH_PROOFS, sizeof(*lf));
	ledger_logdb     *db = NULL;
	ledger_mhash      root, h, acc;
	char              dir[4096];
	double            t0, t_hash, t_app, t_gen, t_ver;
	uint64_t          rnd = 1, sink = 0;
	unsigned          gen = 0, ver = 0;

	if (e == NULL || pr == NULL || lf == NULL) {
		fprintf(stderr, "log bench: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < LOG_BENCH_N; i++) {
		uint8_t b[8];
		gh_be64_put(b, i);
		gh_sha256(b, 8, e[i].b);
	}

	/* The bound: the leaf hashes and the N - 1 node hashes of a tree of
	 * N leaves, with nothing else. */
	memset(&acc, 0, sizeof(acc));
	t0 = bench_now();
	for (uint32_t i = 0; i < LOG_BENCH_N; i++) {
		ledger_merkle_leaf(e[i].b, 32, &h);
		ledger_merkle_node(&acc, &h, &acc);
	}
	t_hash = bench_now() - t0;
	sink += acc.b[0];

	snprintf(dir, sizeof(dir), "%s/log", bench_tmpdir());
	if (ledger_logdb_open(dir, 0, &db) != GH_OK) {
		fprintf(stderr, "log bench: cannot open %s\n", dir);
		goto out;
	}
	t0 = bench_now();
	for (uint32_t i = 0; i < LOG_BENCH_N; i += LOG_BENCH_BATCH) {
		int rv = ledger_logdb_append(db, e + i, LOG_BENCH_BATCH, NULL);
		if (rv != GH_OK) {
			fprintf(stderr, "log bench: append: %s\n",
			    gh_strerror(rv));
			goto out;
		}
	}
	t_app = bench_now() - t0;
	bench_report("ledger", "log_append", LOG_BENCH_N / t_app, "entries/s",
	    LOG_BENCH_N / t_hash, 1);

	if (ledger_logdb_root(db, LOG_BENCH_N, &root) != GH_OK) {
		fprintf(stderr, "log bench: root\n");
		goto out;
	}
	/* Proofs of random entries at the full size, each in its own read
	 * transaction as the CLI and the node's handlers ask for them. */
	t0 = bench_now();
	do {
		for (unsigned j = 0; j < 1000; j++, gen++) {
			unsigned slot = gen % LOG_BENCH_PROOFS;
			uint64_t m    = log_bench_rand(&rnd) % LOG_BENCH_N;
			if (ledger_logdb_inclusion(
			        db, m, LOG_BENCH_N, &pr[slot])
			    != GH_OK) {
				fprintf(stderr, "log bench: inclusion\n");
				goto out;
			}
			ledger_merkle_leaf(e[m].b, 32, &lf[slot]);
		}
		t_gen = bench_now() - t0;
	} while (t_gen < 1.0 || gen < LOG_BENCH_PROOFS);
	bench_report(
	    "ledger", "log_inclusion_gen", gen / t_gen, "proofs/s", 0, 0);

	t0 = bench_now();
	do {
		for (unsigned j = 0; j < LOG_BENCH_PROOFS; j++, ver++) {
			if (ledger_inclusion_verify(&pr[j], &lf[j], &root)
			    != GH_OK) {
				fprintf(stderr, "log bench: verify failed\n");
				goto out;
			}
		}
		t_ver = bench_now() - t0;
	} while (t_ver < 1.0);
	bench_report(
	    "ledger", "log_inclusion_verify", ver / t_ver, "proofs/s", 0, 0);

	/* Roots and consistency proofs of past sizes. */
	{
		ledger_consistency cp;
		unsigned           cnt = 0;
		double             t;
		t0 = bench_now();
		do {
			for (unsigned j = 0; j < 1000; j++, cnt++) {
				uint64_t m = 1
				    + log_bench_rand(&rnd) % (LOG_BENCH_N - 1);
				if (ledger_logdb_consistency(
				        db, m, LOG_BENCH_N, &cp)
				    != GH_OK) {
					fprintf(stderr, "log bench: cons\n");
					goto out;
				}
				sink += cp.n;
			}
			t = bench_now() - t0;
		} while (t < 1.0);
		bench_report("ledger", "log_consistency_gen", cnt / t,
		    "proofs/s", 0, 0);
	}
	if (sink == 0) {
		printf("\n");
	}
out:
	ledger_logdb_close(db);
	free(e);
	free(pr);
	free(lf);
}
