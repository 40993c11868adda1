/* demo_test.c - `gpuhour demo` runs the whole story on real nodes and
 * leaves nothing behind: no folder, no node process. */
#include <stdio.h>
#include <stdlib.h>

#include "tests/harness.h"

TEST_T(demo_runs_every_step_and_cleans_up, 600)
{
	char *out = NULL;
	int rc = th_sh(&out, "TMPDIR=%s %s demo 2>&1", th_tmpdir(), th_bin());
	size_t len = out != NULL ? strlen(out) : 0;

	if (rc != 0 && out != NULL) { /* what it said before it stopped */
		fprintf(stderr, "%s\n", out + (len > 4000 ? len - 4000 : 0));
	}
	CHECK_EQ(rc, 0);
	CHECK(
	    strstr(out, "demo: every step held; audit verdict: ok.") != NULL);
	/* The auditor's node found the proof in its own replica. */
	CHECK(strstr(out, "included in the node's ledger") != NULL);
	/* Seven nodes replayed their ledgers. */
	{
		int         n = 0;
		const char *p = out;
		while ((p = strstr(p, "ledger verified")) != NULL) {
			n++;
			p++;
		}
		CHECK_EQ(n, 7);
	}
	CHECK(strstr(out, "MISMATCH") == NULL);
	CHECK(strstr(out, "(as computed)") != NULL);
	free(out);
	/* its folder is gone and no gpuhour process of it is left */
	CHECK_EQ(th_sh(&out, "ls %s | grep -c gpuhour-demo", th_tmpdir()), 1);
	free(out);
	CHECK(th_sh(NULL, "pgrep -f '%s/gpuhour-dem[o]'", th_tmpdir()) != 0);
	CHECK_EQ(th_sh(NULL, "%s demo --bogus", th_bin()), 2);
	CHECK_EQ(th_sh(&out, "%s demo --help", th_bin()), 0);
	CHECK(strstr(out, "usage: gpuhour demo") != NULL);
	free(out);
}
