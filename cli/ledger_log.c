/*
 * ledger_log.c - `gpuhour ledger proof|consistency|evidence|checkpoints`:
 * the transparency log's proofs, verified offline, and the evidence of
 * split views this node has kept.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cli/netcli.h"
#include "ledger/ledger.h"

static const char cli_ledger_log_usage[]
    = "usage: gpuhour ledger proof ENTRY [--size N] [--data DIR] [--out "
      "FILE] [--json]\n"
      "       gpuhour ledger proof ENTRY --node CONFIG [--out FILE] "
      "[--json]\n"
      "       gpuhour ledger proof --check FILE [--validator HEX] "
      "[--json]\n"
      "       gpuhour ledger consistency A B [--data DIR] [--out FILE] "
      "[--json]\n"
      "       gpuhour ledger evidence [--data DIR] [--json]\n"
      "       gpuhour ledger checkpoints [--data DIR] [--json]\n"
      "\n"
      "The node numbers certified entries in the order it applied them "
      "and keeps\n"
      "an RFC 6962 Merkle tree (SHA-256) over their hashes.\n"
      "\n"
      "proof ENTRY       inclusion proof of an entry (its hash, 64 hex "
      "digits)\n"
      "                  against the latest checkpoint of this log "
      "that covers\n"
      "                  it, else against the current root (then "
      "unsigned).\n"
      "                  Prints it; --out writes the proof bundle "
      "(binary),\n"
      "                  which --check reads.  With --node, the running "
      "node\n"
      "                  gives it: from its own log when a checkpoint "
      "matches\n"
      "                  that log, else from a validator's (nodes number "
      "entries\n"
      "                  in their own order of application).\n"
      "proof --check F   verifies a bundle offline, with no store: the "
      "checkpoint's\n"
      "                  signature and the entry's inclusion.  F may hold "
      "the\n"
      "                  binary bundle, its hex, or the --json output.  "
      "Exit 5\n"
      "                  when it does not verify.\n"
      "consistency A B   consistency proof from size A to size B, with "
      "both roots.\n"
      "evidence          pairs of checkpoints of one validator that "
      "contradict\n"
      "                  each other (a split view).\n"
      "checkpoints       the latest checkpoint of each validator.\n"
      "\n"
      "  --data DIR       data folder (also --datadir; default "
      "$GPUHOUR_HOME/devnet,\n"
      "                   else ~/.gpuhour/devnet); the store is "
      "DIR/ledger\n"
      "  --node CONFIG    ask that running node (proof ENTRY only)\n"
      "  --size N         prove against the tree of N entries\n"
      "  --out FILE       write the canonical encoding to FILE\n"
      "  --check FILE     verify the bundle in FILE\n"
      "  --validator HEX  with --check: require a checkpoint signed by "
      "this key\n"
      "  --json           machine-readable output\n";

enum {
	OPT_DATA = 256,
	OPT_SIZE,
	OPT_OUT,
	OPT_CHECK,
	OPT_VALIDATOR,
	OPT_JSON,
	OPT_NODE,
};

static const struct option cli_ledger_log_opts[] = {
	{ "data", required_argument, NULL, OPT_DATA },
	{ "datadir", required_argument, NULL, OPT_DATA },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "check", required_argument, NULL, OPT_CHECK },
	{ "validator", required_argument, NULL, OPT_VALIDATOR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *data;
	const char *size;
	const char *out;
	const char *check;
	const char *validator;
	const char *node;
	int         json;
	char      **pos; /* positional arguments after the verb */
	int         npos;
} cli_ledger_log_args;

/* Most bytes a bundle file may have (binary, hex or JSON). */
#define CLI_BUNDLE_FILE_MAX (64u << 10)

static int
cli_ledger_u64(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9') {
		return (GH_EINVAL);
	}
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return (GH_EINVAL);
	}
	*out = (uint64_t) v;
	return (GH_OK);
}

static void
cli_ledger_hex(const void *p, char out[65])
{
	gh_hex_encode(p, 32, out);
}

/* Opens DIR/ledger; a missing store is "not found", not created. */
static int
cli_ledger_open(const cli_ledger_log_args *a, ledger_logdb **db)
{
	char        home[PATH_MAX], dir[PATH_MAX + 32], file[PATH_MAX + 48];
	struct stat st;
	int         rv;

	*db = NULL;
	if (a->data != NULL) {
		if (snprintf(home, sizeof(home), "%s", a->data)
		    >= (int) sizeof(home)) {
			return (cli_fail(GH_ETOOLONG, "--data"));
		}
		snprintf(dir, sizeof(dir), "%s/ledger", home);
	} else if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
		return (cli_fail(rv, "data folder"));
	} else {
		/* The same default as the ledger core's commands. */
		snprintf(dir, sizeof(dir), "%s/devnet/ledger", home);
	}
	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (stat(file, &st) != 0) {
		fprintf(stderr, "gpuhour: no ledger store at %s\n", dir);
		return (CLI_EXIT_NOTFOUND);
	}
	if ((rv = ledger_logdb_open(dir, 0, db)) != GH_OK) {
		return (cli_fail(rv, "ledger store %s", dir));
	}
	return (CLI_EXIT_OK);
}

static void
cli_ledger_print_cp(const ledger_checkpoint *cp, const char *ind, int json)
{
	char v[65], r[65], n[65];

	cli_ledger_hex(cp->validator.b, v);
	cli_ledger_hex(cp->root.b, r);
	cli_ledger_hex(cp->network.b, n);
	if (json) {
		printf("{\"validator\": \"%s\", \"network\": \"%s\", "
		       "\"size\": %" PRIu64 ", \"root\": \"%s\", \"time\": "
		       "%" PRIu64 "}",
		    v, n, cp->size, r, cp->time);
	} else {
		printf("%svalidator %s\n%ssize      %" PRIu64
		       "\n%sroot      %s\n%stime      %" PRIu64 "\n",
		    ind, v, ind, cp->size, ind, r, ind, cp->time);
	}
}

static void
cli_ledger_print_path(const ledger_mhash *path, uint32_t n, int json)
{
	char h[65];

	for (uint32_t i = 0; i < n; i++) {
		cli_ledger_hex(path[i].b, h);
		if (json) {
			printf("%s\"%s\"", i ? ", " : "", h);
		} else {
			printf("path      %s\n", h);
		}
	}
}

static void
cli_ledger_print_bytes(const char *key, const uint8_t *p, size_t n, int json)
{
	char *h = malloc(2 * n + 1);

	if (h == NULL) {
		return;
	}
	gh_hex_encode(p, n, h);
	if (json) {
		printf("\"%s\": \"%s\"", key, h);
	} else {
		printf("%-9s %s\n", key, h);
	}
	free(h);
}

/* The latest checkpoint of this log that covers index: its root must be
 * this log's root at its size. */
static int
cli_ledger_pick_cp(ledger_logdb *db, uint64_t index, uint64_t size, int fixed,
    ledger_checkpoint *out)
{
	ledger_checkpoint *all   = NULL;
	size_t             n     = 0;
	int                found = 0, rv;

	if ((rv = ledger_logdb_checkpoints(db, &all, &n)) != GH_OK) {
		return (rv);
	}
	for (size_t i = 0; i < n; i++) {
		ledger_mhash r;
		if (all[i].size <= index || all[i].size > size
		    || (fixed && all[i].size != size)) {
			continue;
		}
		if (ledger_logdb_root(db, all[i].size, &r) != GH_OK
		    || memcmp(r.b, all[i].root.b, 32) != 0) {
			continue;
		}
		if (!found || all[i].size > out->size
		    || (all[i].size == out->size && all[i].time > out->time)) {
			*out  = all[i];
			found = 1;
		}
	}
	free(all);
	return (found ? GH_OK : GH_ENOENT);
}

static int
cli_ledger_write(const char *path, const uint8_t *p, size_t n)
{
	int rv = gh_file_write_atomic(path, p, n, 0644);

	if (rv != GH_OK) {
		return (cli_fail(rv, "%s", path));
	}
	fprintf(stderr, "wrote %s\n", path);
	return (CLI_EXIT_OK);
}

/* Prints bundle b (verified) as `ledger proof` does, and writes its
 * encoding to --out. */
static int
cli_ledger_bundle_show(const cli_ledger_log_args *a, const ledger_bundle *b)
{
	uint8_t *enc = NULL;
	size_t   n   = 0;
	char     h[65];
	int      rv, ex;

	if ((rv = ledger_bundle_encode(b, &enc, &n)) != GH_OK) {
		return (cli_fail(rv, "inclusion proof"));
	}
	if (a->out != NULL && (ex = cli_ledger_write(a->out, enc, n)) != 0) {
		free(enc);
		return (ex);
	}
	if (a->json) {
		cli_ledger_hex(b->entry.b, h);
		printf("{\"entry\": \"%s\", \"index\": %" PRIu64
		       ", \"size\": %" PRIu64 ", ",
		    h, b->proof.index, b->proof.size);
		cli_ledger_hex(b->root.b, h);
		printf("\"root\": \"%s\", \"path\": [", h);
		cli_ledger_print_path(b->proof.path, b->proof.n, 1);
		printf("], \"checkpoint\": ");
		if (b->has_checkpoint) {
			cli_ledger_print_cp(&b->cp, "", 1);
		} else {
			printf("null");
		}
		printf(", ");
		cli_ledger_print_bytes("bundle", enc, n, 1);
		printf("}\n");
	} else if (a->out == NULL) {
		cli_ledger_hex(b->entry.b, h);
		printf("entry     %s\nindex     %" PRIu64
		       "\nsize      %" PRIu64 "\n",
		    h, b->proof.index, b->proof.size);
		cli_ledger_hex(b->root.b, h);
		printf("root      %s\n", h);
		cli_ledger_print_path(b->proof.path, b->proof.n, 0);
		if (b->has_checkpoint) {
			printf("checkpoint\n");
			cli_ledger_print_cp(&b->cp, "  ", 0);
		} else {
			printf("checkpoint none: the root is this node's, "
			       "unsigned\n");
		}
		cli_ledger_print_bytes("bundle", enc, n, 0);
	}
	free(enc);
	return (CLI_EXIT_OK);
}

/* `ledger proof ENTRY --node CONFIG`: the running node's ledger-prove,
 * checked here (entry, network, committee signer, signature and
 * inclusion) before it is shown. */
static int
cli_ledger_proof_node(const cli_ledger_log_args *a)
{
	ledger_bundle b;
	gh_hash       h;
	int           rv;

	if (a->npos != 1) {
		return (cli_usage_error("ledger", "proof takes one ENTRY"));
	}
	if (strlen(a->pos[0]) != 64
	    || gh_hex_decode(a->pos[0], h.b, 32) != GH_OK) {
		return (cli_usage_error("ledger",
		    "ENTRY is an entry's hash (64 hex digits), not '%s'",
		    a->pos[0]));
	}
	rv = cli_net_prove(a->node, &h, &b);
	if (rv == GH_ENOENT || rv == GH_EPENDING) {
		fprintf(stderr, "gpuhour: entry %s %s\n", a->pos[0],
		    rv == GH_ENOENT ? "is in no log the node can reach"
		                    : "is under no signed checkpoint yet");
		return (CLI_EXIT_NOTFOUND);
	}
	if (rv == GH_EPROTO || rv == GH_EBADSIG) {
		fprintf(stderr,
		    "gpuhour: the node's proof does not verify: %s\n",
		    gh_strerror(rv));
		return (CLI_EXIT_INVALID);
	}
	if (rv != GH_OK) {
		return (cli_fail(rv, "%s", a->node));
	}
	return (cli_ledger_bundle_show(a, &b));
}

static int
cli_ledger_proof_make(const cli_ledger_log_args *a)
{
	ledger_logdb *db = NULL;
	ledger_bundle b;
	uint64_t      index, size, want = 0;
	int           rv, ex = CLI_EXIT_FAIL;

	memset(&b, 0, sizeof(b));
	if (a->npos != 1) {
		return (cli_usage_error("ledger", "proof takes one ENTRY"));
	}
	if (a->size != NULL && cli_ledger_u64(a->size, &want) != GH_OK) {
		return (cli_usage_error("ledger", "bad --size '%s'", a->size));
	}
	if ((ex = cli_ledger_open(a, &db)) != CLI_EXIT_OK) {
		return (ex);
	}
	ex = CLI_EXIT_FAIL;
	if ((rv = ledger_logdb_size(db, &size)) != GH_OK) {
		ex = cli_fail(rv, "log size");
		goto out;
	}
	if (strlen(a->pos[0]) != 64
	    || gh_hex_decode(a->pos[0], b.entry.b, 32) != GH_OK) {
		ex = cli_usage_error("ledger",
		    "ENTRY is an entry's hash (64 hex digits), not '%s'",
		    a->pos[0]);
		goto out;
	}
	if ((rv = ledger_logdb_find(db, &b.entry, &index)) != GH_OK) {
		ex = cli_fail(rv, "entry %s in the log", a->pos[0]);
		goto out;
	}
	if (a->size != NULL) {
		if (want > size) {
			fprintf(stderr,
			    "gpuhour: the log has %" PRIu64
			    " entries, not %" PRIu64 "\n",
			    size, want);
			ex = CLI_EXIT_NOTFOUND;
			goto out;
		}
		size = want;
	}
	if (index >= size) {
		fprintf(stderr,
		    "gpuhour: entry %" PRIu64 " is not in the tree of %" PRIu64
		    " entries\n",
		    index, size);
		ex = CLI_EXIT_NOTFOUND;
		goto out;
	}
	rv = cli_ledger_pick_cp(db, index, size, a->size != NULL, &b.cp);
	if (rv == GH_OK) {
		b.has_checkpoint = 1;
		size             = b.cp.size;
		b.root           = b.cp.root;
	} else if (rv == GH_ENOENT) {
		if ((rv = ledger_logdb_root(db, size, &b.root)) != GH_OK) {
			ex = cli_fail(rv, "root of size %" PRIu64, size);
			goto out;
		}
	} else {
		ex = cli_fail(rv, "checkpoints");
		goto out;
	}
	if ((rv = ledger_logdb_inclusion(db, index, size, &b.proof)) != GH_OK
	    || (rv = ledger_bundle_verify(&b)) != GH_OK) {
		ex = cli_fail(rv, "inclusion proof");
		goto out;
	}
	ex = cli_ledger_bundle_show(a, &b);
out:
	ledger_logdb_close(db);
	return (ex);
}

/* The bundle's bytes from a file holding them raw, as hex, or as the
 * JSON that `proof --json` prints. */
static int
cli_ledger_read_bundle(const char *path, uint8_t **out, size_t *outn)
{
	uint8_t    *p = NULL, *bin = NULL;
	size_t      n = 0, hl = 0;
	const char *h;
	int         rv;

	*out  = NULL;
	*outn = 0;
	if ((rv = gh_file_read(path, CLI_BUNDLE_FILE_MAX, &p, &n)) != GH_OK) {
		return (rv);
	}
	if (n >= 2 && p[0] == LEDGER_LOG_VERSION
	    && p[1] == LEDGER_TYPE_BUNDLE) {
		*out  = p;
		*outn = n;
		return (GH_OK);
	}
	/* Text: NUL-terminate within the buffer's bounds. */
	bin = realloc(p, n + 1);
	if (bin == NULL) {
		free(p);
		return (GH_ENOMEM);
	}
	p    = bin;
	p[n] = '\0';
	bin  = NULL;
	if (memchr(p, '\0', n) != NULL) {
		free(p);
		return (GH_ENONCANON);
	}
	h = (const char *) p;
	if (strchr(h, '{') != NULL) {
		const char *k = strstr(h, "\"bundle\"");
		if (k == NULL || (k = strchr(k + 8, '"')) == NULL) {
			free(p);
			return (GH_ENONCANON);
		}
		h = k + 1;
	}
	while (*h != '\0' && isspace((unsigned char) *h)) {
		h++;
	}
	while (isxdigit((unsigned char) h[hl])) {
		hl++;
	}
	if (hl == 0 || hl % 2 != 0 || (bin = malloc(hl / 2)) == NULL) {
		free(p);
		return (hl == 0 || hl % 2 != 0 ? GH_ENONCANON : GH_ENOMEM);
	}
	{
		char *tmp = strndup(h, hl);
		rv        = tmp ? gh_hex_decode(tmp, bin, hl / 2) : GH_ENOMEM;
		free(tmp);
	}
	free(p);
	if (rv != GH_OK) {
		free(bin);
		return (GH_ENONCANON);
	}
	*out  = bin;
	*outn = hl / 2;
	return (GH_OK);
}

static int
cli_ledger_proof_check(const cli_ledger_log_args *a)
{
	ledger_bundle b;
	gh_ed_pub     want;
	uint8_t      *p = NULL;
	size_t        n = 0;
	char          e[65], r[65], v[65];
	int           rv, ex = CLI_EXIT_INVALID;

	if (a->npos != 0) {
		return (cli_usage_error("ledger", "--check takes no ENTRY"));
	}
	if (a->validator != NULL
	    && (strlen(a->validator) != 64
	        || gh_hex_decode(a->validator, want.b, 32) != GH_OK)) {
		return (cli_usage_error(
		    "ledger", "bad --validator '%s'", a->validator));
	}
	if ((rv = cli_ledger_read_bundle(a->check, &p, &n)) != GH_OK) {
		if (rv == GH_ENOENT || rv == GH_EIO || rv == GH_EPERM) {
			return (cli_fail(rv, "%s", a->check));
		}
		fprintf(stderr, "gpuhour: %s: not a proof bundle: %s\n",
		    a->check, gh_strerror(rv));
		return (CLI_EXIT_INVALID);
	}
	if ((rv = ledger_bundle_decode(p, n, &b)) != GH_OK) {
		fprintf(stderr, "gpuhour: %s: not a proof bundle: %s\n",
		    a->check, gh_strerror(rv));
		goto out;
	}
	cli_ledger_hex(b.entry.b, e);
	cli_ledger_hex(b.root.b, r);
	cli_ledger_hex(b.cp.validator.b, v);
	if ((rv = ledger_bundle_verify(&b)) != GH_OK) {
		fprintf(stderr,
		    "gpuhour: %s: the proof does not verify (%s): entry %s "
		    "is NOT shown to be in the log\n",
		    a->check,
		    rv == GH_EBADSIG && b.has_checkpoint
		            && ledger_checkpoint_verify(&b.cp) != GH_OK
		        ? "bad checkpoint signature"
		        : "bad inclusion proof",
		    e);
		goto out;
	}
	if (a->validator != NULL
	    && (!b.has_checkpoint
	        || memcmp(want.b, b.cp.validator.b, 32) != 0)) {
		fprintf(stderr, "gpuhour: %s: the proof is valid but %s\n",
		    a->check,
		    b.has_checkpoint ? "signed by another validator"
		                     : "its root is not signed");
		ex = CLI_EXIT_AUTH;
		goto out;
	}
	if (a->json) {
		printf(
		    "{\"valid\": true, \"entry\": \"%s\", \"index\": %" PRIu64
		    ", \"size\": %" PRIu64 ", \"root\": \"%s\", "
		    "\"checkpoint\": ",
		    e, b.proof.index, b.proof.size, r);
		if (b.has_checkpoint) {
			cli_ledger_print_cp(&b.cp, "", 1);
		} else {
			printf("null");
		}
		printf("}\n");
	} else {
		printf("ok: entry %s is entry %" PRIu64
		       " of the log of %" PRIu64 " entries with root %s\n",
		    e, b.proof.index, b.proof.size, r);
		if (b.has_checkpoint) {
			printf("    signed by validator %s at time %" PRIu64
			       "\n",
			    v, b.cp.time);
		} else {
			printf("    the root is not signed by a checkpoint: "
			       "compare it with one you trust\n");
		}
	}
	ex = CLI_EXIT_OK;
out:
	free(p);
	return (ex);
}

static int
cli_ledger_consistency(const cli_ledger_log_args *a)
{
	ledger_logdb      *db = NULL;
	ledger_consistency p;
	ledger_mhash       r1, r2;
	uint64_t           m, n;
	uint8_t           *enc = NULL;
	size_t             len = 0;
	char               h1[65], h2[65];
	int                rv, ex;

	if (a->npos != 2 || cli_ledger_u64(a->pos[0], &m) != GH_OK
	    || cli_ledger_u64(a->pos[1], &n) != GH_OK) {
		return (cli_usage_error(
		    "ledger", "consistency takes two sizes A <= B"));
	}
	if (m > n) {
		return (cli_usage_error("ledger", "consistency needs A <= B"));
	}
	if ((ex = cli_ledger_open(a, &db)) != CLI_EXIT_OK) {
		return (ex);
	}
	rv = ledger_logdb_consistency(db, m, n, &p);
	if (rv == GH_ENOENT) {
		fprintf(stderr,
		    "gpuhour: the log has fewer than %" PRIu64 " entries\n",
		    n);
		ex = CLI_EXIT_NOTFOUND;
		goto out;
	}
	if (rv != GH_OK || (rv = ledger_logdb_root(db, m, &r1)) != GH_OK
	    || (rv = ledger_logdb_root(db, n, &r2)) != GH_OK
	    || (rv = ledger_consistency_verify(&p, &r1, &r2)) != GH_OK
	    || (rv = ledger_consistency_encode(&p, &enc, &len)) != GH_OK) {
		ex = cli_fail(rv, "consistency proof");
		goto out;
	}
	if (a->out != NULL
	    && (ex = cli_ledger_write(a->out, enc, len)) != CLI_EXIT_OK) {
		goto out;
	}
	cli_ledger_hex(r1.b, h1);
	cli_ledger_hex(r2.b, h2);
	if (a->json) {
		printf("{\"first\": %" PRIu64 ", \"second\": %" PRIu64
		       ", \"first_root\": \"%s\", \"second_root\": \"%s\", "
		       "\"path\": [",
		    m, n, h1, h2);
		cli_ledger_print_path(p.path, p.n, 1);
		printf("], ");
		cli_ledger_print_bytes("proof", enc, len, 1);
		printf("}\n");
	} else if (a->out == NULL) {
		printf("first     %" PRIu64 "\nsecond    %" PRIu64
		       "\nroot1     %s\nroot2     %s\n",
		    m, n, h1, h2);
		cli_ledger_print_path(p.path, p.n, 0);
		cli_ledger_print_bytes("proof", enc, len, 0);
	}
	ex = CLI_EXIT_OK;
out:
	free(enc);
	ledger_logdb_close(db);
	return (ex);
}

static const char *
cli_ledger_ev_name(uint8_t kind)
{
	switch (kind) {
	case LEDGER_EV_SAME_SIZE:
		return ("same-size");
	case LEDGER_EV_TIME:
		return ("time-backwards");
	case LEDGER_EV_INCONSISTENT:
		return ("inconsistent");
	default:
		return ("unknown");
	}
}

static int
cli_ledger_evidence(const cli_ledger_log_args *a)
{
	ledger_logdb    *db = NULL;
	ledger_evidence *ev = NULL;
	size_t           n  = 0;
	int              rv, ex;

	if (a->npos != 0) {
		return (
		    cli_usage_error("ledger", "evidence takes no argument"));
	}
	if ((ex = cli_ledger_open(a, &db)) != CLI_EXIT_OK) {
		return (ex);
	}
	if ((rv = ledger_logdb_evidence(db, &ev, &n)) != GH_OK) {
		ex = cli_fail(rv, "evidence");
		goto out;
	}
	if (a->json) {
		printf("[");
	} else if (n == 0) {
		printf("no evidence of a split view\n");
	}
	for (size_t i = 0; i < n; i++) {
		int  valid = ledger_evidence_check(&ev[i]) == GH_OK;
		char v[65];
		cli_ledger_hex(ev[i].a.validator.b, v);
		if (a->json) {
			printf("%s{\"kind\": \"%s\", \"validator\": \"%s\", "
			       "\"valid\": %s, \"a\": ",
			    i ? ", " : "", cli_ledger_ev_name(ev[i].kind), v,
			    valid ? "true" : "false");
			cli_ledger_print_cp(&ev[i].a, "", 1);
			printf(", \"b\": ");
			cli_ledger_print_cp(&ev[i].b, "", 1);
			printf("}");
		} else {
			printf("%s validator %s%s\n",
			    cli_ledger_ev_name(ev[i].kind), v,
			    valid ? "" : " (does not check!)");
			printf("  a:\n");
			cli_ledger_print_cp(&ev[i].a, "    ", 0);
			printf("  b:\n");
			cli_ledger_print_cp(&ev[i].b, "    ", 0);
		}
	}
	if (a->json) {
		printf("]\n");
	}
	ex = CLI_EXIT_OK;
out:
	free(ev);
	ledger_logdb_close(db);
	return (ex);
}

static int
cli_ledger_checkpoints(const cli_ledger_log_args *a)
{
	ledger_logdb      *db = NULL;
	ledger_checkpoint *cp = NULL;
	size_t             n  = 0;
	int                rv, ex;

	if (a->npos != 0) {
		return (cli_usage_error(
		    "ledger", "checkpoints takes no argument"));
	}
	if ((ex = cli_ledger_open(a, &db)) != CLI_EXIT_OK) {
		return (ex);
	}
	if ((rv = ledger_logdb_checkpoints(db, &cp, &n)) != GH_OK) {
		ex = cli_fail(rv, "checkpoints");
		goto out;
	}
	if (a->json) {
		printf("[");
	}
	for (size_t i = 0; i < n; i++) {
		if (a->json) {
			printf("%s", i ? ", " : "");
			cli_ledger_print_cp(&cp[i], "", 1);
		} else {
			cli_ledger_print_cp(&cp[i], "", 0);
			printf("\n");
		}
	}
	if (a->json) {
		printf("]\n");
	}
	ex = CLI_EXIT_OK;
out:
	free(cp);
	ledger_logdb_close(db);
	return (ex);
}

int
cli_ledger_log_main(int argc, char **argv)
{
	cli_ledger_log_args a;
	const char         *verb;
	int                 c;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_ledger_log_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0
	    || strcmp(verb, "help") == 0) {
		fputs(cli_ledger_log_usage, stdout);
		return (CLI_EXIT_OK);
	}
	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", cli_ledger_log_opts, NULL))
	    != -1) {
		switch (c) {
		case OPT_DATA:
			a.data = optarg;
			break;
		case OPT_SIZE:
			a.size = optarg;
			break;
		case OPT_OUT:
			a.out = optarg;
			break;
		case OPT_CHECK:
			a.check = optarg;
			break;
		case OPT_VALIDATOR:
			a.validator = optarg;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case OPT_NODE:
			a.node = optarg;
			break;
		case 'h':
			fputs(cli_ledger_log_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "ledger", "bad option '%s'", argv[optind - 1]));
		}
	}
	a.pos  = argv + optind;
	a.npos = argc - optind;
	if (strcmp(verb, "proof") == 0) {
		if (a.check != NULL) {
			if (a.data != NULL || a.size != NULL
			    || a.out != NULL) {
				return (cli_usage_error("ledger",
				    "--check works offline: no --data, --size "
				    "or --out"));
			}
			return (cli_ledger_proof_check(&a));
		}
		if (a.validator != NULL) {
			return (cli_usage_error(
			    "ledger", "--validator goes with --check"));
		}
		if (a.node != NULL) {
			if (a.data != NULL || a.size != NULL) {
				return (cli_usage_error("ledger",
				    "--node asks the node: no --data or "
				    "--size"));
			}
			return (cli_ledger_proof_node(&a));
		}
		return (cli_ledger_proof_make(&a));
	}
	if (a.node != NULL) {
		return (cli_usage_error("ledger", "--node belongs to proof"));
	}
	if (a.check != NULL || a.validator != NULL || a.size != NULL) {
		return (cli_usage_error("ledger",
		    "--check, --validator and --size belong to proof"));
	}
	if (strcmp(verb, "consistency") == 0) {
		return (cli_ledger_consistency(&a));
	}
	if (a.out != NULL) {
		return (cli_usage_error(
		    "ledger", "--out belongs to proof and consistency"));
	}
	if (strcmp(verb, "evidence") == 0) {
		return (cli_ledger_evidence(&a));
	}
	if (strcmp(verb, "checkpoints") == 0) {
		return (cli_ledger_checkpoints(&a));
	}
	return (cli_usage_error("ledger", "unknown verb '%s'", verb));
}
