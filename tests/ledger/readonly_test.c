/* readonly_test.c - a second process reads a store another one owns:
 * what `--node CONFIG` does with a running node's store. */
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

/* In a child (one environment per process): open dir read-only and
 * report through the exit code. */
static int
ro_child(fx *f, const char *dir, uint64_t want_balance)
{
	pid_t pid = fork();
	int   st;

	if (pid == 0) {
		ledger_store_opts o = { 0, 0, 0, 1 };
		ledger_store     *s = NULL;
		ledger_entry      e;
		ledger_cert      *c   = calloc(1, sizeof(*c));
		int               res = 0;
		int               rv  = ledger_store_open(dir, &f->g, &o, &s);
		if (rv == GH_ENOENT) {
			_exit(10);
		}
		if (rv != GH_OK || c == NULL) {
			_exit(11);
		}
		if (fx_balance(&(fx) { .s = s }, &f->pub[0]) != want_balance) {
			_exit(12);
		}
		/* Writes are refused, never queued for a writer that is
		 * not there. */
		fx_entry(f, s, f->acct[0], LEDGER_TRANSFER, &e);
		if (ledger_store_ingest(s, &c, 1, &res) != GH_EPERM) {
			_exit(13);
		}
		ledger_store_close(s);
		free(c);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
		return (-1);
	}
	return (WEXITSTATUS(st));
}

TEST(ledger_store_read_only_from_another_process)
{
	fx   f;
	char dir[PATH_MAX];

	CHECK_OK(fx_genesis(&f, 4));
	snprintf(dir, sizeof(dir), "%s/ro", th_tmpdir());
	/* No store yet: not found, and nothing is created. */
	CHECK_EQ(ro_child(&f, dir, 0), 10);
	CHECK(access(dir, F_OK) != 0);
	CHECK_OK(fx_open(&f, dir));
	CHECK_OK(fx_mint(&f, &f.pub[0], 777));
	/* The owner keeps it open; the reader sees what it committed. */
	CHECK_EQ(ro_child(&f, dir, 777), 0);
	CHECK_OK(fx_mint(&f, &f.pub[0], 1));
	CHECK_EQ(ro_child(&f, dir, 778), 0);
	fx_free(&f);
}
