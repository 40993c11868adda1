/*
 * progress_test.c - progress bars: drawn with '\r' on a terminal (a
 * pseudo-terminal from util-linux's `script`), never through a pipe,
 * with --json, $CI or $GPUHOUR_NO_PROGRESS.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/cli/cli_util.h"
#include "tests/harness.h"

#define PG_LEASE                                                              \
	"0707070707070707070707070707070707070707070707070707070707070707"

/* A tiny model in the test's folder; 0 when it could not be made. */
static int
pg_model(void)
{
	return (th_sh(NULL, "cd '%s' && '%s' model make-test --out m.gguf",
	            th_tmpdir(), th_bin())
	    == 0);
}

/* Whether `script` (util-linux) can give a command a terminal here. */
static int
pg_have_pty(void)
{
	if (th_sh(NULL, "script -qec true /dev/null") == 0) {
		return (1);
	}
	fprintf(stderr,
	    "progress_test: no working `script` (bsdutils/util-linux); "
	    "terminal checks skipped\n");
	return (0);
}

/* Runs the gpuhour arguments args in the test's folder under a
 * pseudo-terminal, with env (assignments) set and $CI unset. */
static int
pg_pty(char **out, const char *env, const char *args)
{
	return (th_sh(out,
	    "cd '%s' && env -u CI -u GPUHOUR_NO_PROGRESS TERM=xterm %s "
	    "script -qec \"'%s' %s\" /dev/null",
	    th_tmpdir(), env, th_bin(), args));
}

TEST_T(cli_progress_bar_on_a_terminal, 120)
{
	char *o = NULL;

	CHECK(pg_model());
	if (!pg_have_pty()) {
		return;
	}
	/* run-local: the weights read in, then every token of both
	 * prompts; the bars are erased at the end. */
	CHECK_EQ(pg_pty(&o, "",
	             "job run-local --model m.gguf --lease " PG_LEASE
	             " --prompt hello --prompt world -n 12"),
	    0);
	CHECK(o != NULL);
	CHECK(strstr(o, "\rloading model [") != NULL);
	CHECK(strstr(o, "\rgenerating [") != NULL);
	CHECK(strstr(o, "] 100% 24/24") != NULL);
	CHECK(strstr(o, "prompt 1:") != NULL);
	free(o);
	/* run with its text going to a file: a token bar instead. */
	CHECK_EQ(
	    pg_pty(&o, "", "run --model m.gguf --prompt hello -n 6 >out.txt"),
	    0);
	CHECK(o != NULL && strstr(o, "\rgenerating [") != NULL);
	CHECK(strstr(o, "6/6") != NULL);
	free(o);
	/* model inspect reads the weights with a bar too. */
	CHECK_EQ(pg_pty(&o, "", "model inspect m.gguf"), 0);
	CHECK(o != NULL && strstr(o, "\rloading model [") != NULL);
	free(o);
}

TEST_T(cli_progress_quiet_off_a_terminal, 120)
{
	char *o = NULL;

	CHECK(pg_model());
	/* A pipe: stderr stays empty. */
	CHECK_EQ(th_sh(&o,
	             "cd '%s' && env -u CI -u GPUHOUR_NO_PROGRESS '%s' job "
	             "run-local --model m.gguf --lease " PG_LEASE
	             " --prompt hello -n 12 2>&1 >/dev/null",
	             th_tmpdir(), th_bin()),
	    0);
	CHECK(o != NULL && o[0] == '\0');
	free(o);
	CHECK_EQ(th_sh(&o,
	             "cd '%s' && env -u CI '%s' run --model m.gguf --prompt "
	             "hi -n 4 2>&1 >/dev/null",
	             th_tmpdir(), th_bin()),
	    0);
	CHECK(o != NULL && strchr(o, '\r') == NULL
	    && strstr(o, "generating") == NULL);
	free(o);
	if (!pg_have_pty()) {
		return;
	}
	/* A terminal, but --json, $CI or $GPUHOUR_NO_PROGRESS: no bar. */
	CHECK_EQ(pg_pty(&o, "",
	             "job run-local --json --model m.gguf --lease " PG_LEASE
	             " --prompt hello -n 12"),
	    0);
	CHECK(o != NULL && strstr(o, "\"results\"") != NULL);
	CHECK(strstr(o, "generating") == NULL
	    && strstr(o, "loading model") == NULL);
	free(o);
	CHECK_EQ(pg_pty(&o, "CI=true",
	             "job run-local --model m.gguf --lease " PG_LEASE
	             " --prompt hello -n 12"),
	    0);
	CHECK(o != NULL && strstr(o, "generating") == NULL
	    && strstr(o, "prompt 0:") != NULL);
	free(o);
	CHECK_EQ(
	    pg_pty(&o, "GPUHOUR_NO_PROGRESS=1", "model inspect m.gguf"), 0);
	CHECK(o != NULL && strstr(o, "loading model") == NULL);
	free(o);
	CHECK_EQ(pg_pty(&o, "TERM=dumb", "model inspect m.gguf"), 0);
	CHECK(o != NULL && strstr(o, "loading model") == NULL);
	free(o);
}
