/* devnet.c - the single-process devnet behind ledger, wallet, shares. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/netcli.h"

struct cli_devnet {
	ledger_genesis g;
	ledger_store  *s;
	gh_ed_key     *val[LEDGER_COMMITTEE_MAX];
	size_t         nval;
	/* Node mode: the node's config, its key and the store it owns. */
	char      node[PATH_MAX];
	gh_ed_pub node_pub;
};

int
cli_devnet_dir(const char *opt, char *out, size_t cap)
{
	char home[PATH_MAX];
	int  rv;

	if (opt != NULL) {
		return (snprintf(out, cap, "%s", opt) >= (int) cap
		        ? GH_ETOOLONG
		        : GH_OK);
	}
	if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
		return (rv);
	}
	return (snprintf(out, cap, "%s/devnet", home) >= (int) cap
	        ? GH_ETOOLONG
	        : GH_OK);
}

int
cli_parse_id(const char *s, uint8_t out[32])
{
	if (strlen(s) != 64) {
		return (GH_EINVAL);
	}
	return (gh_hex_decode(s, out, 32));
}

int
cli_parse_u64(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) {
		return (GH_EINVAL);
	}
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return (GH_EINVAL);
	}
	*out = v;
	return (GH_OK);
}

/* Opens a validator key; the passphrase (asked once, for all the
 * encrypted ones) is kept in *pass until the caller frees it. */
static int
cli_devnet_node_key(
    const char *path, char **pass, size_t *passlen, gh_ed_key **out)
{
	gh_keyfile_info info;
	int             rv;

	if ((rv = gh_keyfile_info_read(path, &info)) != GH_OK) {
		return (rv);
	}
	if (info.encrypted && *pass == NULL
	    && (rv = cli_pass_get(NULL, 0, pass, passlen)) != GH_OK) {
		return (rv);
	}
	return (gh_keyfile_open_node(path, info.encrypted ? *pass : NULL,
	    info.encrypted ? *passlen : 0, out));
}

int
cli_devnet_account_key(
    const char *path, const char *passenv, gh_acct_key **out)
{
	gh_keyfile_info info;
	char           *pass = NULL;
	size_t          n    = 0;
	int             rv;

	*out = NULL;
	if ((rv = gh_keyfile_info_read(path, &info)) != GH_OK) {
		return (rv);
	}
	if (info.encrypted
	    && (rv = cli_pass_get(passenv, 0, &pass, &n)) != GH_OK) {
		return (rv);
	}
	rv = gh_keyfile_open_account(path, pass, n, out);
	cli_pass_free(pass);
	return (rv);
}

int
cli_devnet_node_keyfile(const char *path, const char *passenv, gh_ed_key **out)
{
	gh_keyfile_info info;
	char           *pass = NULL;
	size_t          n    = 0;
	int             rv;

	*out = NULL;
	if ((rv = gh_keyfile_info_read(path, &info)) != GH_OK) {
		return (rv);
	}
	if (info.encrypted
	    && (rv = cli_pass_get(passenv, 0, &pass, &n)) != GH_OK) {
		return (rv);
	}
	rv = gh_keyfile_open_node(path, pass, n, out);
	cli_pass_free(pass);
	return (rv);
}

int
cli_devnet_open(const char *dir, int voters, cli_devnet **out)
{
	cli_devnet *d = NULL;
	char        path[PATH_MAX];
	char       *pass    = NULL;
	size_t      passlen = 0;
	unsigned    line;
	int         rv;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		return (GH_ENOMEM);
	}
	snprintf(path, sizeof(path), "%s/genesis.txt", dir);
	if ((rv = ledger_genesis_load(path, &d->g, &line)) != GH_OK) {
		if (rv == GH_EINVAL) {
			fprintf(stderr, "gpuhour: %s: line %u is malformed\n",
			    path, line);
			rv = GH_ECORRUPT;
		}
		goto out;
	}
	if ((rv = ledger_store_open(dir, &d->g, NULL, &d->s)) != GH_OK) {
		goto out;
	}
	for (uint32_t i = 0; voters && i < d->g.n; i++) {
		gh_ed_key *k = NULL;
		gh_ed_pub  pub;
		snprintf(path, sizeof(path), "%s/keys/validator-%u.key", dir,
		    (unsigned) i);
		if (cli_devnet_node_key(path, &pass, &passlen, &k) != GH_OK) {
			continue; /* not a local validator */
		}
		gh_ed_key_pub(k, &pub);
		if (ledger_genesis_member(&d->g, &pub) < 0) {
			gh_ed_key_free(k);
			continue;
		}
		d->val[d->nval++] = k;
	}
	if (voters && d->nval < ledger_genesis_quorum(&d->g)) {
		fprintf(stderr,
		    "gpuhour: %s/keys: only %zu of the %u validator keys a "
		    "certificate needs\n",
		    dir, d->nval, (unsigned) ledger_genesis_quorum(&d->g));
		rv = GH_EQUORUM;
		goto out;
	}
	*out = d;
	d    = NULL;
	rv   = GH_OK;
out:
	cli_pass_free(pass);
	cli_devnet_close(d);
	return (rv);
}

int
cli_devnet_open_node(const char *config, cli_devnet **out)
{
	cli_devnet       *d = NULL;
	node_config      *c = NULL;
	ledger_store_opts o;
	node_status       st;
	uint8_t          *b = NULL;
	size_t            bl;
	unsigned          line;
	char              err[256];
	int               rv;

	*out = NULL;
	if ((d = calloc(1, sizeof(*d))) == NULL
	    || (c = malloc(sizeof(*c))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	node_config_default(c);
	if ((rv = node_config_load(config, c, err, sizeof(err))) != GH_OK) {
		fprintf(stderr, "gpuhour: %s\n", err);
		goto out;
	}
	if (snprintf(d->node, sizeof(d->node), "%s", config)
	    >= (int) sizeof(d->node)) {
		rv = GH_ETOOLONG;
		goto out;
	}
	/* The node answers first: its key, and that it owns the store. */
	if ((rv = cli_net_call(config, "status", NULL, 0, 10000, &b, &bl))
	        != GH_OK
	    || (rv = node_status_decode(b, bl, &st)) != GH_OK) {
		if (rv == GH_ECLOSED) {
			fprintf(stderr, "gpuhour: no node answers at %s\n",
			    c->data_dir);
		}
		goto out;
	}
	d->node_pub = st.pub;
	if ((rv = ledger_genesis_load(c->genesis, &d->g, &line)) != GH_OK) {
		fprintf(
		    stderr, "gpuhour: %s: not a ledger genesis\n", c->genesis);
		goto out;
	}
	memset(&o, 0, sizeof(o));
	o.read_only = 1;
	if ((rv = ledger_store_open(c->data_dir, &d->g, &o, &d->s)) != GH_OK) {
		fprintf(stderr, "gpuhour: %s: the node keeps no ledger\n",
		    c->data_dir);
		goto out;
	}
	*out = d;
	d    = NULL;
out:
	free(b);
	free(c);
	cli_devnet_close(d);
	return (rv);
}

int
cli_devnet_open_any(
    const char *dir, const char *config, int voters, cli_devnet **out)
{
	char path[PATH_MAX];
	int  rv;

	if (config != NULL) {
		if (dir != NULL) {
			fprintf(stderr,
			    "gpuhour: --node and --datadir "
			    "exclude each other\n");
			return (GH_EINVAL);
		}
		return (cli_devnet_open_node(config, out));
	}
	if ((rv = cli_devnet_dir(dir, path, sizeof(path))) != GH_OK) {
		return (rv);
	}
	return (cli_devnet_open(path, voters, out));
}

int
cli_devnet_node_pub(const cli_devnet *d, gh_ed_pub *out)
{
	if (d->node[0] == '\0') {
		return (GH_ENOENT);
	}
	*out = d->node_pub;
	return (GH_OK);
}

void
cli_devnet_close(cli_devnet *d)
{
	if (d == NULL) {
		return;
	}
	ledger_store_close(d->s);
	for (size_t i = 0; i < d->nval; i++) {
		gh_ed_key_free(d->val[i]);
	}
	free(d);
}

ledger_store *
cli_devnet_store(cli_devnet *d)
{
	return (d->s);
}

static int
cli_devnet_certify_apply(cli_devnet *d, const ledger_entry *e)
{
	ledger_cert *c = malloc(sizeof(*c));
	int          rv, res = GH_EINTERNAL;

	if (c == NULL) {
		return (GH_ENOMEM);
	}
	rv = ledger_store_certify(d->s, d->val, d->nval, e, gh_time_now(), c);
	if (rv == GH_OK) {
		rv = ledger_store_ingest(d->s, &c, 1, &res);
		rv = rv == GH_OK ? res : rv;
	}
	free(c);
	return (rv);
}

/* Chain fields for the chain of pub (an account or, with node set, a
 * node's chain). */
static int
cli_devnet_prepare_pub(cli_devnet *d, const uint8_t pubkey[32], int nodechain,
    int kind, ledger_entry *e)
{
	gh_acct_pub    pub;
	ledger_account a;
	int            rv;

	memcpy(pub.b, pubkey, 32);
	for (int tries = 0; tries < 4; tries++) {
		ledger_objver ov;
		uint8_t      *p = NULL;
		size_t        n;
		ledger_entry  old;
		gh_ed_pub     vpub;

		rv = ledger_store_account(d->s, pub.b, nodechain, &a);
		if (rv != GH_OK && rv != GH_ENOENT) {
			return (rv);
		}
		if (rv == GH_ENOENT) {
			memset(&a, 0, sizeof(a));
		}
		if (d->node[0] != '\0' && !nodechain) {
			/* An entry handed to the node earlier for this
			 * position goes first (never a second one). */
			int r
			    = cli_net_resume(d->node, pub.b, a.seq + 1, NULL);
			if (r == GH_EEXIST) {
				usleep(200000); /* let the store show it */
				continue;
			}
			if (r != GH_OK) {
				return (r);
			}
		}
		memset(e, 0, sizeof(*e));
		e->kind = (uint8_t) kind;
		e->scheme
		    = nodechain ? LEDGER_SCHEME_NODE : LEDGER_SCHEME_ACCOUNT;
		e->netid = *ledger_store_netid(d->s);
		memcpy(e->author, pub.b, 32);
		e->seq  = a.seq + 1;
		e->prev = a.head;
		e->time = gh_time_now();
		if (d->nval == 0) {
			return (GH_OK);
		}
		ov.type = nodechain ? LEDGER_OBJ_NODE : LEDGER_OBJ_ACCOUNT;
		memcpy(ov.id.b, pub.b, 32);
		ov.version = a.seq;
		gh_ed_key_pub(d->val[0], &vpub);
		rv = ledger_store_voted(d->s, &vpub, &ov, &p, &n);
		if (rv == GH_ENOENT) {
			return (GH_OK);
		}
		if (rv != GH_OK) {
			return (rv);
		}
		rv = ledger_entry_decode(p, n, &old);
		free(p);
		if (rv != GH_OK) {
			return (GH_ECORRUPT);
		}
		fprintf(stderr,
		    "gpuhour: completing an interrupted %s entry (seq %llu)\n",
		    ledger_kind_name(old.kind), (unsigned long long) old.seq);
		if ((rv = cli_devnet_certify_apply(d, &old)) != GH_OK
		    && rv != GH_EEXIST) {
			return (rv);
		}
	}
	return (GH_EBUSY);
}

int
cli_devnet_prepare(
    cli_devnet *d, const gh_acct_key *k, int kind, ledger_entry *e)
{
	gh_acct_pub pub;

	gh_acct_key_pub(k, &pub);
	return (cli_devnet_prepare_pub(d, pub.b, 0, kind, e));
}

int
cli_devnet_prepare_node(
    cli_devnet *d, const gh_ed_key *k, int kind, ledger_entry *e)
{
	gh_ed_pub pub;

	if (d->node[0] != '\0') {
		pub = d->node_pub; /* the node signs on its own chain */
	} else {
		gh_ed_key_pub(k, &pub);
	}
	return (cli_devnet_prepare_pub(d, pub.b, 1, kind, e));
}

/* Node mode: hands the encoded entry to the node (cmd "ledger-submit"
 * for a signed one, "node-sign" for one the node signs on its own
 * chain) and waits until the store shows it applied. */
static int
cli_devnet_via_node(
    cli_devnet *d, const char *cmd, const ledger_entry *e, gh_hash *h)
{
	uint8_t *p = NULL, *b = NULL;
	size_t   n, bl;
	int      rv;

	if (strcmp(cmd, "ledger-submit") == 0) {
		/* Kept until the node has it (see cli_net_hand_signed). */
		rv = cli_net_hand_signed(d->node, e, h);
	} else {
		if ((rv = ledger_entry_encode(e, &p, &n)) != GH_OK) {
			return (rv);
		}
		rv = cli_net_call(d->node, cmd, p, n, 60000, &b, &bl);
		free(p);
		if (rv == GH_OK && bl != 32) {
			rv = GH_EPROTO;
		}
		if (rv == GH_OK) {
			memcpy(h->b, b, 32);
		}
		free(b);
	}
	/* Certified; applied here once what it follows is (bounded). */
	for (int i = 0; rv == GH_OK && i < 200; i++) {
		int hr = ledger_store_has(d->s, h);
		if (hr == GH_OK) {
			return (GH_OK);
		}
		usleep(50000);
	}
	return (rv == GH_OK ? GH_ETIMEDOUT : rv);
}

int
cli_devnet_submit_node(
    cli_devnet *d, ledger_entry *e, const gh_ed_key *k, gh_hash *h)
{
	int rv;

	if (d->node[0] != '\0') {
		return (cli_devnet_via_node(d, "node-sign", e, h));
	}
	if ((rv = ledger_entry_sign_node(e, k)) != GH_OK) {
		return (rv);
	}
	ledger_entry_hash(e, h);
	return (cli_devnet_certify_apply(d, e));
}

int
cli_devnet_submit(
    cli_devnet *d, ledger_entry *e, const gh_acct_key *k, gh_hash *h)
{
	int rv;

	if ((rv = ledger_entry_sign_account(e, k)) != GH_OK) {
		return (rv);
	}
	ledger_entry_hash(e, h);
	if (d->node[0] != '\0') {
		return (cli_devnet_via_node(d, "ledger-submit", e, h));
	}
	return (cli_devnet_certify_apply(d, e));
}
