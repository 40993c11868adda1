/* readme_test.c - every `sh` block of the README runs, in order, as
 * written, against a fresh GPUHOUR_HOME. */
#include <stdlib.h>

#include "tests/harness.h"

TEST_T(readme_sh_blocks_run_as_written, 600)
{
	char *out = NULL;
	int   rc;

	/* The blocks, joined into one script that stops at the first
	 * failing command and says so. */
	CHECK_EQ(th_sh(NULL,
	             "awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on' "
	             "%s/README.md > %s/readme.sh && echo 'echo README-DONE' "
	             ">> %s/readme.sh && test $(wc -l < %s/readme.sh) -gt 20",
	             th_src(), th_tmpdir(), th_tmpdir(), th_tmpdir()),
	    0);
	rc = th_sh(&out,
	    "cd %s && GPUHOUR_HOME=%s/home PATH=$(dirname %s):$PATH "
	    "bash -e -o pipefail -x readme.sh",
	    th_tmpdir(), th_tmpdir(), th_bin());
	if (rc != 0) {
		/* Where it stopped, and the nodes' logs. */
		size_t n = out != NULL ? strlen(out) : 0;
		fprintf(stderr, "%s\n",
		    out != NULL ? out + (n > 3000 ? n - 3000 : 0) : "");
		(void) th_sh(
		    NULL, "tail -n 5 %s/home/net/node*.log >&2", th_tmpdir());
	}
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "README-DONE") != NULL);
	CHECK(strstr(out, "ok: 1 proof verified, lease bound") != NULL);
	free(out);
}
