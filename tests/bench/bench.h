/*
 * bench.h - the benchmark harness.  A benchmark is
 *
 *	BENCH(ledger, ingest) { ...; bench_report("ledger", "ingest", v,
 *	    "entries/s", ref, 1); }
 *
 * `make bench` runs them all, `make bench BENCH=ledger` one area.  Each
 * figure is one line: "bench AREA.NAME VALUE UNIT [ref REF ratio R]",
 * where REF is a bound measured in the same run (ratios hold on a noisy
 * shared machine, absolute times do not).
 */
#ifndef GH_TESTS_BENCH_H
#define GH_TESTS_BENCH_H

#include <stdint.h>

#include "base/base.h"

typedef void (*bench_fn)(void);
void bench_register(const char *area, const char *name, bench_fn fn);

#define BENCH(area, name)                                                     \
	static void                   bench_##area##_##name(void);            \
	__attribute__((                                                       \
	    constructor)) static void bench_##area##_##name##_register(void)  \
	{                                                                     \
		bench_register(#area, #name, bench_##area##_##name);          \
	}                                                                     \
	static void bench_##area##_##name(void)

/* Prints one figure; with has_ref, also "ref REF ratio VALUE/REF". */
void bench_report(const char *area, const char *name, double value,
    const char *unit, double ref, int has_ref);
/* A fresh temporary folder, removed when the benchmark run ends. */
const char *bench_tmpdir(void);
/* Seconds since an arbitrary point (monotonic). */
double bench_now(void);
/* tests/node/net_util.h's failure report, answered by tests/harness.c in
 * the tests: benchmarks have no CHECKs, so these do nothing here. */
int  th_failed(void);
void th_on_fail(void (*fn)(void *), void *arg);

#endif
