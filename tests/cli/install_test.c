/* install_test.c - `make install` puts the binary, man page, completion
 * and unit where PREFIX and DESTDIR say, and the completion works. */
#include <stdlib.h>

#include "tests/harness.h"

TEST_T(install_layout_and_completion, 300)
{
	char       *out = NULL;
	const char *d   = th_tmpdir();

	CHECK_EQ(
	    th_sh(&out, "make -s -C %s install DESTDIR=%s/root PREFIX=/usr",
	        th_src(), d),
	    0);
	free(out);
	CHECK_EQ(th_sh(NULL, "test -x %s/root/usr/bin/gpuhour", d), 0);
	CHECK_EQ(
	    th_sh(NULL, "test -f %s/root/usr/share/man/man1/gpuhour.1", d), 0);
	CHECK_EQ(th_sh(&out,
	             "grep ExecStart %s/root/usr/lib/systemd/system/"
	             "gpuhour.service",
	             d),
	    0);
	CHECK(strstr(out, "/usr/bin/gpuhour node run") != NULL);
	free(out);
	/* the man page renders */
	CHECK_EQ(th_sh(NULL,
	             "man -l %s/root/usr/share/man/man1/gpuhour.1 "
	             ">/dev/null 2>&1 || groff -man -Tutf8 "
	             "%s/root/usr/share/man/man1/gpuhour.1 >/dev/null",
	             d, d),
	    0);
	/* completion of the first word lists the commands */
	CHECK_EQ(th_sh(&out,
	             "PATH=%s/root/usr/bin:$PATH bash -c 'source "
	             "%s/root/usr/share/bash-completion/completions/gpuhour; "
	             "COMP_WORDS=(gpuhour k); COMP_CWORD=1; _gpuhour; echo "
	             "${COMPREPLY[@]}'",
	             d, d),
	    0);
	CHECK(strstr(out, "keys") != NULL);
	free(out);
	CHECK_EQ(th_sh(&out,
	             "PATH=%s/root/usr/bin:$PATH bash -c 'source "
	             "%s/root/usr/share/bash-completion/completions/gpuhour; "
	             "COMP_WORDS=(gpuhour keys e); COMP_CWORD=2; _gpuhour; "
	             "echo ${COMPREPLY[@]}'",
	             d, d),
	    0);
	CHECK(strstr(out, "export-pub") != NULL);
	free(out);
}
