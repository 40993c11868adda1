/* readme_test.c - every `sh` block of the README runs, in order, as
 * written, against a fresh GPUHOUR_HOME. */
#include <stdlib.h>

#include "tests/harness.h"

TEST_T(readme_sh_blocks_run_as_written, 600)
{
	char *out = NULL;

	/* The blocks, joined into one script that stops at the first
	 * failing command and says so. */
	CHECK_EQ(th_sh(NULL,
	             "awk '/^```sh$/ {on=1; next} /^```$/ {on=0} on' "
	             "%s/README.md > %s/readme.sh && echo 'echo README-DONE' "
	             ">> %s/readme.sh && test $(wc -l < %s/readme.sh) -gt 20",
	             th_src(), th_tmpdir(), th_tmpdir(), th_tmpdir()),
	    0);
	CHECK_EQ(th_sh(&out,
	             "cd %s && GPUHOUR_HOME=%s/home PATH=$(dirname %s):$PATH "
	             "bash -e -o pipefail -x readme.sh",
	             th_tmpdir(), th_tmpdir(), th_bin()),
	    0);
	CHECK(strstr(out, "README-DONE") != NULL);
	CHECK(strstr(out, "ok: 1 proof verified, lease bound") != NULL);
	free(out);
}
