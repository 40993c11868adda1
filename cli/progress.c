/*
 * progress.c - a one-line progress bar on stderr for long work (model
 * load, jobs, sync).  Drawn with '\r' only when a person is watching:
 * stderr is a terminal, no --json, $CI and $GPUHOUR_NO_PROGRESS unset
 * or empty, $TERM not "dumb".  Otherwise nothing is printed at all, so
 * scripts, pipes and logs never see it.  No escape sequences: the line
 * is overwritten with spaces, which also suits NO_COLOR terminals.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cuda/cuda.h"

#define CLI_PROGRESS_LINE  160          /* longest line drawn */
#define CLI_PROGRESS_BAR   24           /* cells of the bar */
#define CLI_PROGRESS_EVERY 100000000ULL /* ns between redraws */

struct cli_progress {
	char     label[40];
	int      unit; /* cli_progress_unit */
	uint64_t done;
	uint64_t start; /* done at the first draw (the rate's origin) */
	uint64_t total; /* 0: unknown */
	uint64_t t0_ns;
	uint64_t last_ns; /* last draw; 0: never drawn */
	size_t   width;   /* columns usable for the line */
	size_t   drawn;   /* characters on the line now */
	unsigned spin;
};

static int
cli_progress_env_set(const char *name)
{
	const char *v = getenv(name);
	return (v != NULL && v[0] != '\0');
}

int
cli_progress_wanted(int json)
{
	const char *term = getenv("TERM");

	if (json || !isatty(STDERR_FILENO) || cli_progress_env_set("CI")
	    || cli_progress_env_set("GPUHOUR_NO_PROGRESS")) {
		return (0);
	}
	return (term == NULL || strcmp(term, "dumb") != 0);
}

cli_progress *
cli_progress_new(const char *label, int unit, uint64_t total, int json)
{
	cli_progress  *p;
	struct winsize ws;

	if (!cli_progress_wanted(json)
	    || (p = calloc(1, sizeof(*p))) == NULL) {
		return (NULL);
	}
	snprintf(p->label, sizeof(p->label), "%s", label);
	p->unit  = unit;
	p->total = total;
	p->t0_ns = gh_mono_ns();
	p->width = 80;
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) {
		p->width = ws.ws_col;
	}
	/* The last column stays empty: some terminals wrap on it. */
	p->width = p->width - 1 < CLI_PROGRESS_LINE ? p->width - 1
	                                            : CLI_PROGRESS_LINE;
	return (p);
}

/* "12.3 MiB" or "123": a count in the progress's unit. */
static void
cli_progress_amount(const cli_progress *p, uint64_t v, char *out, size_t cap)
{
	if (p->unit == CLI_PROGRESS_BYTES) {
		if (v >= (1ULL << 30)) {
			snprintf(out, cap, "%.1f GiB", (double) v / (1 << 30));
		} else {
			snprintf(out, cap, "%.1f MiB", (double) v / (1 << 20));
		}
	} else {
		snprintf(out, cap, "%llu", (unsigned long long) v);
	}
}

static void
cli_progress_draw(cli_progress *p, uint64_t now)
{
	static const char spin[] = "|/-\\";
	char              line[CLI_PROGRESS_LINE + 1];
	char              a[32], b[32];
	double            secs = (double) (now - p->t0_ns) / 1e9;
	double            rate = secs > 0 && p->done >= p->start
	               ? (double) (p->done - p->start) / secs
	               : 0;
	size_t            n    = 0;
	int               w;

	cli_progress_amount(p, p->done, a, sizeof(a));
	if (p->total > 0) {
		uint64_t d = p->done < p->total ? p->done : p->total;
		size_t   fill
		    = (size_t) (((gh_u128) d * CLI_PROGRESS_BAR) / p->total);
		char bar[CLI_PROGRESS_BAR + 1];
		memset(bar, '=', fill);
		memset(bar + fill, ' ', CLI_PROGRESS_BAR - fill);
		if (fill < CLI_PROGRESS_BAR) {
			bar[fill] = '>';
		}
		bar[CLI_PROGRESS_BAR] = '\0';
		cli_progress_amount(p, p->total, b, sizeof(b));
		w = snprintf(line, sizeof(line), "%s [%s] %3u%% %s/%s",
		    p->label, bar, (unsigned) (((gh_u128) d * 100) / p->total),
		    a, b);
	} else {
		w = snprintf(line, sizeof(line), "%s %c %s", p->label,
		    spin[p->spin++ % 4], a);
	}
	if (w > 0) {
		n = (size_t) w < sizeof(line) ? (size_t) w : sizeof(line) - 1;
	}
	if (p->unit != CLI_PROGRESS_BYTES && secs >= 0.5 && n < sizeof(line)) {
		w = snprintf(line + n, sizeof(line) - n, " (%.1f/s)", rate);
		if (w > 0) {
			n += (size_t) w < sizeof(line) - n
			    ? (size_t) w
			    : sizeof(line) - n - 1;
		}
	}
	if (n > p->width) {
		n = p->width;
	}
	fputc('\r', stderr);
	fwrite(line, 1, n, stderr);
	/* Spaces over what a longer previous line left behind. */
	for (size_t i = n; i < p->drawn; i++) {
		fputc(' ', stderr);
	}
	fflush(stderr);
	p->drawn   = n;
	p->last_ns = now;
}

void
cli_progress_set(cli_progress *p, uint64_t done)
{
	uint64_t now;

	if (p == NULL) {
		return;
	}
	p->done = done;
	now     = gh_mono_ns();
	if (p->last_ns == 0) {
		p->start = done;
		p->t0_ns = now;
	}
	/* First and last states always; in between at most ten a second,
	 * so a fast loop does not spend its time drawing. */
	if (p->last_ns == 0 || (p->total > 0 && done >= p->total)
	    || now - p->last_ns >= CLI_PROGRESS_EVERY) {
		cli_progress_draw(p, now);
	}
}

void
cli_progress_total(cli_progress *p, uint64_t total)
{
	if (p != NULL) {
		p->total = total;
	}
}

void
cli_progress_free(cli_progress *p)
{
	if (p == NULL) {
		return;
	}
	if (p->drawn > 0) {
		fputc('\r', stderr);
		for (size_t i = 0; i < p->drawn; i++) {
			fputc(' ', stderr);
		}
		fputc('\r', stderr);
		fflush(stderr);
	}
	free(p);
}

/* Reads every page of the model's weights (the mapping faults them in
 * from disk: the slow part of loading a large model), with a bar. */
static void
cli_progress_warm(const gpu_model *m, int json)
{
	const gpu_gguf        *g  = gpu_model_gguf(m);
	const gpu_model_info  *in = gpu_model_info_get(m);
	cli_progress          *p;
	uint64_t               done = 0;
	volatile unsigned char sink = 0;

	if ((p = cli_progress_new(
	         "loading model", CLI_PROGRESS_BYTES, in->tensor_bytes, json))
	    == NULL) {
		return;
	}
	for (size_t i = 0; i < gpu_gguf_tensor_count(g); i++) {
		const gpu_tensor *t = gpu_gguf_tensor_at(g, i);
		for (uint64_t off = 0; t != NULL && off < t->nbytes;
		     off += 4096) {
			sink ^= t->data[off];
			if ((off & ((1u << 24) - 1)) == 0) {
				cli_progress_set(p, done + off);
			}
		}
		done += t != NULL ? t->nbytes : 0;
		cli_progress_set(p, done);
	}
	(void) sink;
	cli_progress_free(p);
}

int
cli_progress_model_open(
    const char *path, int json, gpu_model **out, char *errbuf, size_t errcap)
{
	int rv = gpu_model_open(path, out, errbuf, errcap);

	if (rv == GH_OK && cli_progress_wanted(json)) {
		cli_progress_warm(*out, json);
	}
	return (rv);
}
