/* deps_test.c - the dependency installer's messages. */
#include <stdlib.h>
#include <unistd.h>

#include "tests/harness.h"

TEST(deps_installed_is_quiet_and_missing_as_user_prints_the_command)
{
	char *out = NULL;

	CHECK_EQ(th_sh(&out, "%s/scripts/deps.sh", th_src()), 0);
	CHECK_STR(out, "");
	free(out);
	if (getuid() != 0) {
		CHECK_EQ(th_sh(&out,
		             "GH_DEPS_PKGS=gpuhour-no-such-pkg "
		             "%s/scripts/deps.sh",
		             th_src()),
		    1);
	} else {
		/* As an unprivileged user: never installs, says how.  The
		 * script comes on stdin: a checkout inside a 0700 folder is
		 * not readable by that user. */
		CHECK_EQ(th_sh(&out,
		             "GH_DEPS_PKGS=gpuhour-no-such-pkg setpriv "
		             "--reuid=65534 --regid=65534 --clear-groups "
		             "sh -s < '%s/scripts/deps.sh'",
		             th_src()),
		    1);
	}
	CHECK(strstr(out,
	          "apt-get update && apt-get install -y "
	          "gpuhour-no-such-pkg")
	    != NULL);
	free(out);
}
