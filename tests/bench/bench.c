/* bench.c - the benchmark runner: `gpuhour-bench [AREA...]`. */
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/bench/bench.h"

#define BENCH_MAX 256

typedef struct {
	const char *area;
	const char *name;
	bench_fn    fn;
} bench_entry;

static bench_entry bench_list[BENCH_MAX];
static int         bench_n;
static char        bench_dir[PATH_MAX];

void
bench_register(const char *area, const char *name, bench_fn fn)
{
	if (bench_n < BENCH_MAX) {
		bench_list[bench_n++] = (bench_entry) { area, name, fn };
	}
}

void
bench_report(const char *area, const char *name, double value,
    const char *unit, double ref, int has_ref)
{
	if (has_ref) {
		printf("bench %s.%s %.6g %s ref %.6g ratio %.3f\n", area, name,
		    value, unit, ref, ref != 0 ? value / ref : 0.0);
	} else {
		printf("bench %s.%s %.6g %s\n", area, name, value, unit);
	}
	fflush(stdout);
}

const char *
bench_tmpdir(void)
{
	if (bench_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(bench_dir, sizeof(bench_dir), "%s/gh-bench-XXXXXX",
		    t ? t : "/tmp");
		if (mkdtemp(bench_dir) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return (bench_dir);
}

double
bench_now(void)
{
	return ((double) gh_mono_ns() / 1e9);
}

static int
bench_rm(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) flag;
	(void) f;
	remove(p);
	return (0);
}

int
main(int argc, char **argv)
{
	int ran = 0;

	if (gh_init() != GH_OK) {
		fprintf(stderr, "gh_init failed\n");
		return (1);
	}
	for (int i = 0; i < bench_n; i++) {
		int want = argc < 2;
		for (int j = 1; j < argc; j++) {
			if (strcmp(argv[j], bench_list[i].area) == 0) {
				want = 1;
			}
		}
		if (!want) {
			continue;
		}
		bench_list[i].fn();
		ran++;
	}
	if (bench_dir[0] != '\0') {
		nftw(bench_dir, bench_rm, 16, FTW_DEPTH | FTW_PHYS);
	}
	if (ran == 0) {
		fprintf(stderr, "gpuhour-bench: no benchmark in area%s",
		    argc < 2 ? "s" : "");
		for (int j = 1; j < argc; j++) {
			fprintf(stderr, " %s", argv[j]);
		}
		fprintf(
		    stderr, " (areas: ledger network market engine proofs)\n");
		return (1);
	}
	return (0);
}

int
th_failed(void)
{
	return (0);
}

void
th_on_fail(void (*fn)(void *), void *arg)
{
	(void) fn;
	(void) arg;
}
