/* cli_util.h - helpers the command-line tests share. */
#ifndef GH_TESTS_CLI_UTIL_H
#define GH_TESTS_CLI_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"

/* Runs cmd; its output, trailing blanks cut, in a static buffer.  Not
 * inlined: callers copy ids out of it with truncating snprintf. */
__attribute__((noinline, unused)) static const char *
sh1(int *rc, const char *cmd)
{
	static char buf[8192];
	char       *out = NULL;
	size_t      n;

	*rc = th_sh(&out, "%s", cmd);
	snprintf(buf, sizeof(buf), "%s", out ? out : "");
	free(out);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ')) {
		buf[--n] = '\0';
	}
	return (buf);
}

/* The value after key on a line of the output. */
static inline int
field(const char *out, const char *key, char *val, size_t cap)
{
	const char *p = strstr(out, key);
	size_t      n = 0;

	if (p == NULL) {
		return (0);
	}
	p += strlen(key);
	while (*p == ' ') {
		p++;
	}
	while (p[n] != '\0' && p[n] != '\n' && n + 1 < cap) {
		n++;
	}
	memcpy(val, p, n);
	val[n] = '\0';
	return (1);
}

#endif
