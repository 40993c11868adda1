/* util.c - what every subcommand shares: errors, exit codes, home,
 * passphrases. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <fcntl.h>

#include "base/base.h"
#include "cli/cli.h"

int
cli_exit_code(int err)
{
	switch (err) {
	case GH_OK:
		return (CLI_EXIT_OK);
	case GH_EINVAL:
		return (CLI_EXIT_USAGE);
	case GH_ENOENT:
		return (CLI_EXIT_NOTFOUND);
	case GH_EDECRYPT:
	case GH_EBADSIG:
	case GH_EPERM:
		return (CLI_EXIT_AUTH);
	case GH_ECORRUPT:
	case GH_ENONCANON:
	case GH_ETRUNC:
	case GH_ETRAILING:
	case GH_EQUORUM:
		return (CLI_EXIT_INVALID);
	case GH_ECLOSED:
	case GH_ETIMEDOUT:
		return (CLI_EXIT_NODE);
	default:
		return (CLI_EXIT_FAIL);
	}
}

int
cli_fail(int err, const char *fmt, ...)
{
	va_list ap;

	fputs("gpuhour: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", gh_strerror(err));
	return (cli_exit_code(err));
}

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "gpuhour %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'gpuhour %s --help'.\n", cmd);
	return (CLI_EXIT_USAGE);
}

int
cli_home(char *out, size_t cap)
{
	const char *h = getenv("GPUHOUR_HOME");
	int         n;

	if (h != NULL && h[0] != '\0') {
		n = snprintf(out, cap, "%s", h);
	} else if ((h = getenv("HOME")) != NULL && h[0] != '\0') {
		n = snprintf(out, cap, "%s/.gpuhour", h);
	} else {
		return (GH_ENOENT);
	}
	return (n < 0 || (size_t) n >= cap ? GH_ETOOLONG : GH_OK);
}

#define CLI_PASS_MAX 1024

/* Reads one line from the terminal with echo off. */
static int
cli_pass_prompt(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	FILE          *tty;
	int            rv = GH_ENOENT;
	size_t         n;

	if ((tty = fopen("/dev/tty", "r+")) == NULL) {
		return (GH_ENOENT);
	}
	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) != 0) {
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t) ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	if (fgets(buf, (int) cap, tty) != NULL) {
		n = strlen(buf);
		if (n > 0 && buf[n - 1] == '\n') {
			buf[--n] = '\0';
		}
		rv = GH_OK;
	}
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputs("\n", tty);
out:
	fclose(tty);
	return (rv);
}

int
cli_pass_get(const char *env_name, int confirm, char **out, size_t *n)
{
	const char *v     = NULL;
	char       *p     = NULL;
	char       *again = NULL;
	int         rv;

	*out = NULL;
	*n   = 0;
	if ((p = sodium_malloc(CLI_PASS_MAX)) == NULL
	    || (again = sodium_malloc(CLI_PASS_MAX)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if (env_name != NULL) {
		if ((v = getenv(env_name)) == NULL) {
			fprintf(stderr,
			    "gpuhour: environment variable %s is not set\n",
			    env_name);
			rv = GH_ENOENT;
			goto out;
		}
	} else {
		v = getenv("GPUHOUR_PASSPHRASE");
	}
	if (v != NULL) {
		if (strlen(v) >= CLI_PASS_MAX) {
			rv = GH_ETOOLONG;
			goto out;
		}
		strcpy(p, v);
	} else {
		if ((rv = cli_pass_prompt("Passphrase: ", p, CLI_PASS_MAX))
		    != GH_OK) {
			fprintf(stderr,
			    "gpuhour: no passphrase: no terminal to ask on; "
			    "set GPUHOUR_PASSPHRASE or use "
			    "--passphrase-env VAR\n");
			goto out;
		}
		if (confirm) {
			if ((rv = cli_pass_prompt(
			         "Again: ", again, CLI_PASS_MAX))
			    != GH_OK) {
				goto out;
			}
			if (strcmp(p, again) != 0) {
				fprintf(stderr,
				    "gpuhour: the passphrases differ\n");
				rv = GH_EINVAL;
				goto out;
			}
		}
	}
	if (p[0] == '\0') {
		fprintf(stderr,
		    "gpuhour: empty passphrase; use "
		    "--insecure-no-passphrase for a test key\n");
		rv = GH_EINVAL;
		goto out;
	}
	*n   = strlen(p);
	*out = p;
	p    = NULL;
	rv   = GH_OK;
out:
	cli_pass_free(p);
	cli_pass_free(again);
	return (rv);
}

void
cli_pass_free(char *p)
{
	if (p != NULL) {
		sodium_free(p);
	}
}

void
cli_json_string(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char) s[i];
		if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}
