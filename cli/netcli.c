/* netcli.c - the CLI's side of `--node CONFIG`: read the node's
 * configuration, call its control socket, prepare and submit entries
 * signed here with the account key (the key never leaves the CLI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/netcli.h"

/* The node configuration at path, malloc'd into *out.  A config that
 * cannot be read is a bad --node argument, GH_EINVAL: never a status
 * the node could give ("no such account"...). */
static int
cli_net_config(const char *path, node_config **out)
{
	node_config *c = malloc(sizeof(*c));
	char         err[256];
	int          rv;

	*out = NULL;
	if (c == NULL) {
		return (GH_ENOMEM);
	}
	node_config_default(c);
	if ((rv = node_config_load(path, c, err, sizeof(err))) != GH_OK) {
		fprintf(stderr, "gpuhour: %s\n", err);
		free(c);
		return (rv == GH_ENOMEM ? rv : GH_EINVAL);
	}
	*out = c;
	return (GH_OK);
}

/* cli_net_call on a loaded configuration. */
static int
cli_net_ctl(const node_config *c, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, uint8_t **body, size_t *blen)
{
	int status = GH_EINTERNAL;
	int rv;

	*body = NULL;
	*blen = 0;
	rv    = node_ctl_call(
	       c->data_dir, cmd, req, len, timeout_ms, &status, body, blen);
	if (rv != GH_OK) {
		return (rv == GH_ETIMEDOUT ? rv : GH_ECLOSED);
	}
	if (status != GH_OK) {
		free(*body);
		*body = NULL;
		*blen = 0;
	}
	return (status);
}

int
cli_net_call(const char *config, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, uint8_t **body, size_t *blen)
{
	node_config *c = NULL;
	int          rv;

	*body = NULL;
	*blen = 0;
	if ((rv = cli_net_config(config, &c)) == GH_OK) {
		rv = cli_net_ctl(c, cmd, req, len, timeout_ms, body, blen);
	}
	free(c);
	return (rv);
}

int
cli_net_prove(const char *config, const gh_hash *h, ledger_bundle *out)
{
	node_config   *c = NULL;
	ledger_genesis g;
	uint8_t       *body = NULL;
	size_t         bl;
	unsigned       line;
	int            rv;

	memset(out, 0, sizeof(*out));
	if ((rv = cli_net_config(config, &c)) != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_genesis_load(c->genesis, &g, &line)) != GH_OK) {
		fprintf(stderr, "gpuhour: %s: line %u: not a genesis\n",
		    c->genesis, line);
		free(c);
		return (GH_EINVAL);
	}
	rv = cli_net_ctl(c, "ledger-prove", h->b, 32, 20000, &body, &bl);
	free(c);
	if (rv == GH_OK
	    && (rv = ledger_bundle_decode(body, bl, out)) != GH_OK) {
		rv = GH_EPROTO;
	}
	free(body);
	return (rv == GH_OK ? ledger_bundle_check(out, &g, h) : rv);
}

int
cli_net_info(const char *config, node_ledger_info *info)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      rv;

	rv = cli_net_call(config, "ledger-info", NULL, 0, 30000, &b, &bl);
	if (rv == GH_OK) {
		rv = node_ledger_info_decode(b, bl, info);
	}
	free(b);
	return (rv);
}

int
cli_net_account(
    const char *config, const uint8_t id[32], int nodechain, ledger_account *a)
{
	uint8_t   req[33];
	uint8_t  *b = NULL;
	size_t    bl;
	gh_reader r;
	int       rv;

	memset(a, 0, sizeof(*a));
	req[0] = (uint8_t) (nodechain ? 1 : 0);
	memcpy(req + 1, id, 32);
	rv = cli_net_call(config, "ledger-account", req, 33, 10000, &b, &bl);
	if (rv == GH_OK) {
		gh_reader_init(&r, b, bl);
		if ((rv = gh_get_u64(&r, &a->seq)) == GH_OK
		    && (rv = gh_get_fixed(&r, a->head.b, 32)) == GH_OK
		    && (rv = gh_get_u64(&r, &a->balance)) == GH_OK) {
			rv = gh_reader_end(&r);
		}
	}
	free(b);
	return (rv);
}

/* <home>/pending/<author hex>.entry: the account entry handed to a
 * node and not yet known applied. */
static int
cli_net_pending_path(const uint8_t author[32], char *out, size_t cap)
{
	char home[PATH_MAX], hex[65];
	int  rv;

	if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
		return (rv);
	}
	gh_hex_encode(author, 32, hex);
	if (snprintf(out, cap, "%s/pending/%s.entry", home, hex)
	    >= (int) cap) {
		return (GH_ETOOLONG);
	}
	return (GH_OK);
}

/* Hands encoded entry bytes to the node; *h is its hash. */
static int
cli_net_hand(const char *config, const uint8_t *p, size_t n, gh_hash *h)
{
	uint8_t *b = NULL;
	size_t   bl;
	int      rv;

	rv = cli_net_call(config, "ledger-submit", p, n, 60000, &b, &bl);
	if (rv == GH_OK && (bl != 32 || memcmp(b, h->b, 32) != 0)) {
		rv = GH_EPROTO;
	}
	free(b);
	return (rv);
}

int
cli_net_resume(const char *config, const uint8_t author[32], uint64_t next,
    cli_net_kept *out)
{
	char         path[PATH_MAX + 96];
	uint8_t     *p = NULL;
	size_t       n;
	ledger_entry e;
	gh_hash      h;
	cli_net_kept none;
	int          rv;

	if (out == NULL) {
		out = &none;
	}
	memset(out, 0, sizeof(*out));
	if (cli_net_pending_path(author, path, sizeof(path)) != GH_OK
	    || gh_file_read(path, LEDGER_ENTRY_MAX, &p, &n) != GH_OK) {
		return (GH_OK); /* nothing waiting */
	}
	if (ledger_entry_decode(p, n, &e) != GH_OK
	    || memcmp(e.author, author, 32) != 0 || e.seq != next) {
		/* Applied since (or not ours): nothing to finish. */
		(void) unlink(path);
		free(p);
		return (GH_OK);
	}
	ledger_entry_hash(&e, &h);
	out->found = 1;
	out->h     = h;
	out->seq   = e.seq;
	out->kind  = e.kind;
	fprintf(stderr,
	    "gpuhour: completing an earlier %s entry (seq %llu) first\n",
	    ledger_kind_name(e.kind), (unsigned long long) e.seq);
	rv          = cli_net_hand(config, p, n, &h);
	out->handed = rv;
	free(p);
	if (rv == GH_OK) {
		(void) unlink(path);
		return (
		    GH_EEXIST); /* done: the caller reads the chain again */
	}
	if (rv != GH_ECLOSED && rv != GH_ETIMEDOUT && rv != GH_EQUORUM
	    && rv != GH_ECONFLICT && rv != GH_EFROZEN) {
		/* Refused by the rules before any vote: the position is
		 * free again. */
		(void) unlink(path);
		return (GH_EEXIST);
	}
	out->waits = 1;
	fprintf(stderr,
	    "gpuhour: an earlier entry at this position is still waiting "
	    "for votes (%s); try again\n",
	    gh_strerror(rv));
	return (rv);
}

int
cli_net_hand_signed(const char *config, const ledger_entry *e, gh_hash *h)
{
	char     path[PATH_MAX + 96], dir[PATH_MAX + 96];
	uint8_t *p = NULL;
	size_t   n;
	int      rv, keep;

	if ((rv = ledger_entry_encode(e, &p, &n)) != GH_OK) {
		return (rv);
	}
	ledger_entry_hash(e, h);
	/* Kept until the node has it, so that a retry resubmits this
	 * entry rather than signing a second one for the same seq (an
	 * equivocation). */
	if ((rv = cli_net_pending_path(e->author, path, sizeof(path)))
	    == GH_OK) {
		snprintf(dir, sizeof(dir), "%s", path);
		*strrchr(dir, '/') = '\0';
		if ((rv = gh_mkdir_p(dir, 0700)) == GH_OK) {
			rv = gh_file_write_atomic(path, p, n, 0600);
		}
	}
	if (rv == GH_OK) {
		rv   = cli_net_hand(config, p, n, h);
		keep = rv == GH_ECLOSED || rv == GH_ETIMEDOUT
		    || rv == GH_EQUORUM || rv == GH_ECONFLICT;
		if (!keep) {
			(void) unlink(path);
		} else {
			char hex[65];
			gh_hex_encode(h->b, 32, hex);
			fprintf(stderr,
			    "gpuhour: entry %s is kept in %s: `gpuhour wallet "
			    "resume` with this account's key completes it, "
			    "as does this account's next command before its "
			    "own (repeating this command would count it "
			    "twice)\n",
			    hex, path);
		}
	}
	free(p);
	return (rv);
}

int
cli_net_finish(const char *config, const gh_acct_key *k, cli_net_kept *out)
{
	ledger_account a;
	gh_acct_pub    pub;
	int            rv;

	memset(out, 0, sizeof(*out));
	gh_acct_key_pub(k, &pub);
	rv = cli_net_account(config, pub.b, 0, &a); /* zeroed if unseen */
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	rv = cli_net_resume(config, pub.b, a.seq + 1, out);
	if (rv == GH_OK || !out->found) {
		return (rv);
	}
	/* Handed: applied (GH_OK), refused for good (dropped), or still
	 * waiting (kept). */
	return (out->handed);
}

int
cli_net_prepare(
    const char *config, const gh_acct_key *k, int kind, ledger_entry *e)
{
	node_ledger_info info;
	ledger_account   a;
	gh_acct_pub      pub;
	int              rv;

	gh_acct_key_pub(k, &pub);
	if ((rv = cli_net_info(config, &info)) != GH_OK) {
		return (rv);
	}
	for (int tries = 0; tries < 3; tries++) {
		rv = cli_net_account(config, pub.b, 0, &a);
		if (rv != GH_OK && rv != GH_ENOENT) {
			return (rv);
		}
		if (rv == GH_ENOENT) {
			memset(&a, 0, sizeof(a));
		}
		if ((rv = cli_net_resume(config, pub.b, a.seq + 1, NULL))
		    == GH_OK) {
			break;
		}
		if (rv != GH_EEXIST) {
			return (rv);
		}
	}
	memset(e, 0, sizeof(*e));
	e->kind   = (uint8_t) kind;
	e->scheme = LEDGER_SCHEME_ACCOUNT;
	e->netid  = info.netid;
	memcpy(e->author, pub.b, 32);
	e->seq  = a.seq + 1;
	e->prev = a.head;
	e->time = gh_time_now();
	return (GH_OK);
}

int
cli_net_submit(
    const char *config, ledger_entry *e, const gh_acct_key *k, gh_hash *h)
{
	int rv;

	if ((rv = ledger_entry_sign_account(e, k)) != GH_OK) {
		return (rv);
	}
	return (cli_net_hand_signed(config, e, h));
}
