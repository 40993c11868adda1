/* harness.c - the test runner: registration, fork per test, summary. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define TH_MAX_TESTS 4096

typedef struct {
	const char *name;
	const char *file;
	th_fn       fn;
	unsigned    timeout;
} th_test;

static th_test th_tests[TH_MAX_TESTS];
static int     th_ntests;
static int     th_failed_here; /* in the child: did a CHECK fail */
static char    th_dir[PATH_MAX];
static char    th_paths[8][PATH_MAX];

void
th_register(const char *name, const char *file, th_fn fn, unsigned timeout)
{
	if (th_ntests < TH_MAX_TESTS) {
		th_tests[th_ntests++] = (th_test) { name, file, fn, timeout };
	}
}

void
th_fail(const char *file, int line, const char *expr, const char *why)
{
	th_failed_here = 1;
	fprintf(stderr, "    %s:%d: CHECK(%s) failed%s%s\n", file, line, expr,
	    why ? ": " : "", why ? why : "");
}

int
th_failed(void)
{
	return (th_failed_here);
}

const char *
th_tmpdir(void)
{
	if (th_dir[0] == '\0') {
		const char *t = getenv("TMPDIR");
		snprintf(th_dir, sizeof(th_dir), "%s/gh-test-XXXXXX",
		    t ? t : "/tmp");
		if (mkdtemp(th_dir) == NULL) {
			perror("mkdtemp");
			abort();
		}
	}
	return (th_dir);
}

const char *
th_path(int slot, const char *name)
{
	slot &= 7;
	snprintf(th_paths[slot], sizeof(th_paths[slot]), "%s/%s", th_tmpdir(),
	    name);
	return (th_paths[slot]);
}

const char *
th_bin(void)
{
	const char *b = getenv("GH_BIN");
	return (b ? b : "build/gpuhour");
}

const char *
th_src(void)
{
	const char *s = getenv("GH_SRC");
	return (s ? s : ".");
}

static int
th_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void) st;
	(void) flag;
	(void) f;
	remove(p);
	return (0);
}

int
th_sh(char **out, const char *fmt, ...)
{
	char   *cmd  = NULL;
	char   *full = NULL;
	char    cap[PATH_MAX];
	va_list ap;
	int     st;
	int     rv = -1;

	if (out != NULL) {
		*out = NULL;
	}
	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0) {
		va_end(ap);
		return (-1);
	}
	va_end(ap);
	snprintf(cap, sizeof(cap), "%s/.sh-out", th_tmpdir());
	if (asprintf(&full, "( %s ) >'%s' 2>&1 </dev/null", cmd, cap) < 0) {
		goto out;
	}
	st = system(full);
	if (out != NULL) {
		uint8_t *p;
		size_t   n;
		if (gh_file_read(cap, 64u << 20, &p, &n) == GH_OK) {
			*out = (char *) p;
		}
	}
	if (getenv("TH_VERBOSE") != NULL) {
		fprintf(stderr, "    $ %s -> %d\n", cmd, st);
	}
	rv = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
out:
	free(cmd);
	free(full);
	return (rv);
}

uint64_t
th_rand(uint64_t *s)
{
	/* splitmix64: small, seedable, good enough for test data. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

static int
th_match(const th_test *t, int argc, char **argv)
{
	if (argc < 2) {
		return (1);
	}
	for (int i = 1; i < argc; i++) {
		if (strstr(t->name, argv[i]) != NULL
		    || strstr(t->file, argv[i]) != NULL) {
			return (1);
		}
	}
	return (0);
}

/* Runs one test in a child; returns 1 when it passed. */
static void (*th_fail_fn)(void *);
static void *th_fail_arg;

void
th_on_fail(void (*fn)(void *), void *arg)
{
	th_fail_fn  = fn;
	th_fail_arg = arg;
}

/* After a test: its failure hook, once, then its folder. */
static void
th_after(void)
{
	void (*fn)(void *) = th_fail_fn;

	th_fail_fn = NULL;
	if (th_failed_here && fn != NULL) {
		fn(th_fail_arg);
	}
	if (th_dir[0] != '\0') {
		nftw(th_dir, th_rm_one, 16, FTW_DEPTH | FTW_PHYS);
		th_dir[0] = '\0';
	}
}

static int
th_run(const th_test *t, int nofork)
{
	pid_t pid;
	int   st;

	if (nofork) {
		th_failed_here = 0;
		t->fn();
		th_after();
		return (!th_failed_here);
	}
	fflush(NULL);
	if ((pid = fork()) < 0) {
		perror("fork");
		return (0);
	}
	if (pid == 0) {
		/* Own process group, so a test's children die with it. */
		setpgid(0, 0);
		alarm(t->timeout);
		t->fn();
		th_after();
		fflush(NULL);
		_exit(th_failed_here ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			perror("waitpid");
			return (0);
		}
	}
	kill(-pid, SIGKILL);
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "    killed by signal %d%s\n", WTERMSIG(st),
		    WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
		return (0);
	}
	return (WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int
main(int argc, char **argv)
{
	int passed = 0;
	int failed = 0;
	int nofork = getenv("TH_NOFORK") != NULL;

	if (gh_init() != GH_OK) {
		fprintf(stderr, "gh_init failed\n");
		return (1);
	}
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < th_ntests; i++) {
		const th_test *t = &th_tests[i];
		uint64_t       t0;

		if (!th_match(t, argc, argv)) {
			continue;
		}
		t0 = gh_mono_ns();
		if (th_run(t, nofork)) {
			passed++;
			printf("ok    %-44s %6.0f ms\n", t->name,
			    (double) (gh_mono_ns() - t0) / 1e6);
		} else {
			failed++;
			printf("FAIL  %-44s (%s)\n", t->name, t->file);
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return (failed == 0 && passed > 0 ? 0 : 1);
}
