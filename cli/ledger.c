/* ledger.c - `gpuhour ledger genesis|show|verify`. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/netcli.h"

static const char cli_ledger_usage[]
    = "usage: gpuhour ledger genesis [--datadir DIR] [--network NAME]\n"
      "                              [--validators N] [--fee-bps BPS]\n"
      "                              [--lease-grace SECS] "
      "[--clock-margin SECS]\n"
      "                              [--base-port P]\n"
      "                              [--passphrase-env VAR | "
      "--insecure-no-passphrase]\n"
      "       gpuhour ledger show [--datadir DIR] [--json]\n"
      "       gpuhour ledger verify [--datadir DIR] [--json]\n"
      "       gpuhour ledger show|verify --node CONFIG [--json]   (a "
      "running node)\n"
      "       gpuhour ledger proof|consistency|evidence|checkpoints ...\n"
      "                              (the transparency log: see "
      "'gpuhour ledger proof --help')\n"
      "\n"
      "genesis writes a devnet: DIR/genesis.txt (network name, committee\n"
      "of N = 3f+1 validators, issuer and treasury accounts, protocol fee,\n"
      "lease grace, clock margin) and the key files "
      "DIR/keys/validator-I.key,\n"
      "issuer.key and treasury.key.  The network id is the hash of the\n"
      "genesis' canonical form.  show prints the network and the store's\n"
      "counts; verify replays the store from genesis, checks every\n"
      "signature, certificate and invariant, recomputes the transparency\n"
      "log's root, and reports the first problem with its position (exit\n"
      "5).\n"
      "\n"
      "  --datadir DIR   devnet data dir (default $GPUHOUR_HOME/devnet)\n"
      "  --network NAME  network name (default devnet)\n"
      "  --validators N  committee size, 3f+1 (default 4)\n"
      "  --fee-bps BPS   protocol fee in basis points (default 100)\n"
      "  --lease-grace SECS, --clock-margin SECS  (default 600, 30)\n"
      "  --base-port P   validator I's address is tcp://127.0.0.1:P+I\n"
      "                  (default 7400); its key validator-I.key is the\n"
      "                  node key of the node run at that address\n"
      "  --passphrase-env VAR       genesis: encrypt the devnet's key files\n"
      "                             with the passphrase in $VAR (else\n"
      "                             $GPUHOUR_PASSPHRASE, else a prompt)\n"
      "  --insecure-no-passphrase   genesis: key files unencrypted (tests)\n"
      "  --json          machine-readable output\n";

enum {
	OPT_DATADIR = 256,
	OPT_NETWORK,
	OPT_VALIDATORS,
	OPT_FEE,
	OPT_GRACE,
	OPT_BASEPORT,
	OPT_MARGIN,
	OPT_PASSENV,
	OPT_INSECURE,
	OPT_JSON,
	OPT_NODE,
};

static const struct option cli_ledger_opts[] = {
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "validators", required_argument, NULL, OPT_VALIDATORS },
	{ "fee-bps", required_argument, NULL, OPT_FEE },
	{ "lease-grace", required_argument, NULL, OPT_GRACE },
	{ "base-port", required_argument, NULL, OPT_BASEPORT },
	{ "clock-margin", required_argument, NULL, OPT_MARGIN },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "insecure-no-passphrase", no_argument, NULL, OPT_INSECURE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *datadir;
	const char *network;
	const char *passenv;
	uint64_t    validators, fee, grace, margin, base_port;
	int         insecure, json;
	const char *node;
} cli_ledger_args;

/* show / verify on a running node (`--node CONFIG`). */
static int
cli_ledger_net(const cli_ledger_args *a, int verify)
{
	node_ledger_info i;
	uint8_t         *b = NULL;
	size_t           bl;
	char             id[65], st[65], root[65];
	int              rv;

	if (verify) {
		rv = cli_net_call(
		    a->node, "ledger-verify", NULL, 0, 600000, &b, &bl);
		free(b);
		if (rv == GH_ECLOSED) {
			return (cli_fail(rv, "node %s", a->node));
		}
		if (a->json) {
			printf("{\"ok\":%s,\"error\":\"%s\"}\n",
			    rv == GH_OK ? "true" : "false", gh_strerror(rv));
		} else if (rv == GH_OK) {
			printf("ledger verified\n");
		} else {
			printf("ledger verify FAILED: %s\n", gh_strerror(rv));
		}
		return (rv == GH_OK ? CLI_EXIT_OK : CLI_EXIT_INVALID);
	}
	if ((rv = cli_net_info(a->node, &i)) != GH_OK) {
		return (cli_fail(rv, "node %s", a->node));
	}
	gh_hex_encode(i.netid.b, 32, id);
	gh_hex_encode(i.state.b, 32, st);
	gh_hex_encode(i.log_root, 32, root);
	if (a->json) {
		printf("{\"network_id\":\"%s\",\"applied\":%llu,"
		       "\"pending\":%llu,\"equivocations\":%llu,"
		       "\"state_hash\":\"%s\",\"log_size\":%llu,"
		       "\"log_root\":\"%s\",\"validator\":%s,"
		       "\"checkpoints\":%u}\n",
		    id, (unsigned long long) i.applied,
		    (unsigned long long) i.pending,
		    (unsigned long long) i.equivs, st,
		    (unsigned long long) i.log_size, root,
		    i.validator ? "true" : "false", (unsigned) i.checkpoints);
	} else {
		printf("network id    %s\napplied       %llu\npending       "
		       "%llu\nequivocations %llu\nstate hash    %s\nlog size  "
		       "    %llu\nlog root      %s\nvalidator     %s\n"
		       "checkpoints   %u\n",
		    id, (unsigned long long) i.applied,
		    (unsigned long long) i.pending,
		    (unsigned long long) i.equivs, st,
		    (unsigned long long) i.log_size, root,
		    i.validator ? "yes" : "no", (unsigned) i.checkpoints);
	}
	return (CLI_EXIT_OK);
}

static int
cli_ledger_genesis(const cli_ledger_args *a, const char *dir)
{
	ledger_genesis  g;
	gh_keyfile_info info;
	char            path[PATH_MAX + 64], *text = NULL;
	char           *pass    = NULL;
	size_t          passlen = 0;
	struct stat     st;
	gh_hash         id;
	char            hex[65];
	int             rv;

	memset(&g, 0, sizeof(g));
	if (a->validators == 0 || a->validators > LEDGER_COMMITTEE_MAX
	    || a->validators % 3 != 1) {
		return (cli_usage_error("ledger",
		    "--validators must be 3f+1 (1, 4, 7, ...) and at most %d",
		    LEDGER_COMMITTEE_MAX));
	}
	if (a->base_port == 0 || a->base_port + a->validators - 1 > 65535) {
		return (cli_usage_error("ledger",
		    "--base-port leaves no room for the validators"));
	}
	if (a->fee > 10000) {
		return (
		    cli_usage_error("ledger", "--fee-bps is at most 10000"));
	}
	if (strlen(a->network) > LEDGER_NETNAME_MAX) {
		return (cli_usage_error("ledger", "--network name too long"));
	}
	snprintf(path, sizeof(path), "%s/genesis.txt", dir);
	if (stat(path, &st) == 0) {
		return (cli_fail(GH_EEXIST, "%s", path));
	}
	if (!a->insecure
	    && (rv = cli_pass_get(a->passenv, 1, &pass, &passlen)) != GH_OK) {
		return (cli_fail(rv, "passphrase for the devnet keys"));
	}
	snprintf(path, sizeof(path), "%s/keys", dir);
	if ((rv = gh_mkdir_p(path, 0700)) != GH_OK) {
		cli_pass_free(pass);
		return (cli_fail(rv, "%s", path));
	}
	snprintf(g.network, sizeof(g.network), "%s", a->network);
	g.n = (uint32_t) a->validators;
	for (uint32_t i = 0; i < g.n; i++) {
		snprintf(path, sizeof(path), "%s/keys/validator-%u.key", dir,
		    (unsigned) i);
		if ((rv = gh_keyfile_create(
		         path, GH_KEY_NODE, pass, passlen, &info))
		    != GH_OK) {
			goto fail;
		}
		memcpy(g.committee[i].key.b, info.pub, 32);
		snprintf(g.committee[i].addr, sizeof(g.committee[i].addr),
		    "tcp://127.0.0.1:%u",
		    (unsigned) a->base_port + (unsigned) i);
	}
	snprintf(path, sizeof(path), "%s/keys/issuer.key", dir);
	if ((rv = gh_keyfile_create(
	         path, GH_KEY_ACCOUNT, pass, passlen, &info))
	    != GH_OK) {
		goto fail;
	}
	memcpy(g.issuer.b, info.pub, 32);
	snprintf(path, sizeof(path), "%s/keys/treasury.key", dir);
	if ((rv = gh_keyfile_create(
	         path, GH_KEY_ACCOUNT, pass, passlen, &info))
	    != GH_OK) {
		goto fail;
	}
	memcpy(g.treasury.b, info.pub, 32);
	g.fee_bps      = (uint32_t) a->fee;
	g.lease_grace  = a->grace;
	g.clock_margin = a->margin;
	if ((rv = ledger_genesis_format(&g, &text)) != GH_OK) {
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/genesis.txt", dir);
	if ((rv = gh_file_write_atomic(path, text, strlen(text), 0644))
	    != GH_OK) {
		goto fail;
	}
	free(text);
	cli_pass_free(pass);
	ledger_genesis_netid(&g, &id);
	gh_hex_encode(id.b, 32, hex);
	printf("genesis %s\nnetwork %s\nnetwork id %s\nvalidators %u\n", path,
	    g.network, hex, (unsigned) g.n);
	return (CLI_EXIT_OK);
fail:
	free(text);
	cli_pass_free(pass);
	return (cli_fail(rv, "%s", path));
}

typedef struct {
	int json, first;
} cli_equiv_list;

static int
cli_ledger_equiv_one(
    void *arg, const ledger_objver *obj, const uint8_t *p, size_t n)
{
	cli_equiv_list          *l = arg;
	static const char *const types[]
	    = { "?", "account", "node", "asset", "lot", "lease", "loan" };
	const char *t = obj->type <= LEDGER_OBJ_LOAN ? types[obj->type] : "?";
	char        hex[65];

	(void) p;
	(void) n;
	gh_hex_encode(obj->id.b, 32, hex);
	if (l->json) {
		printf("%s{\"type\":\"%s\",\"id\":\"%s\",\"version\":%llu}",
		    l->first ? "" : ",", t, hex,
		    (unsigned long long) obj->version);
	} else {
		printf("frozen        %s %s (version %llu: equivocation)\n", t,
		    hex, (unsigned long long) obj->version);
	}
	l->first = 0;
	return (0);
}

static int
cli_ledger_show(const cli_ledger_args *a, const char *dir)
{
	cli_devnet           *d = NULL;
	const ledger_genesis *g;
	uint64_t              ap, pe, eq;
	gh_hash               sh;
	char                  idhex[65], shex[65], hex[65];
	cli_equiv_list        el = { a->json, 1 };
	int                   rv;

	if ((rv = cli_devnet_open(dir, 0, &d)) != GH_OK) {
		return (cli_fail(rv, "%s", dir));
	}
	g = ledger_store_genesis(cli_devnet_store(d));
	gh_hex_encode(ledger_store_netid(cli_devnet_store(d))->b, 32, idhex);
	if ((rv = ledger_store_counts(cli_devnet_store(d), &ap, &pe, &eq))
	        != GH_OK
	    || (rv = ledger_store_state_hash(cli_devnet_store(d), &sh))
	        != GH_OK) {
		cli_devnet_close(d);
		return (cli_fail(rv, "%s", dir));
	}
	gh_hex_encode(sh.b, 32, shex);
	if (a->json) {
		printf("{\"network\":\"%s\",\"network_id\":\"%s\","
		       "\"validators\":[",
		    g->network, idhex);
		for (uint32_t i = 0; i < g->n; i++) {
			gh_hex_encode(g->committee[i].key.b, 32, hex);
			printf("%s{\"key\":\"%s\",\"address\":\"%s\"}",
			    i ? "," : "", hex, g->committee[i].addr);
		}
		gh_hex_encode(g->issuer.b, 32, hex);
		printf("],\"issuer\":\"%s\",", hex);
		gh_hex_encode(g->treasury.b, 32, hex);
		printf(
		    "\"treasury\":\"%s\",\"fee_bps\":%u,\"lease_grace\":%llu,"
		    "\"clock_margin\":%llu,\"applied\":%llu,\"pending\":%llu,"
		    "\"equivocations\":%llu,\"state_hash\":\"%s\","
		    "\"frozen\":[",
		    hex, (unsigned) g->fee_bps,
		    (unsigned long long) g->lease_grace,
		    (unsigned long long) g->clock_margin,
		    (unsigned long long) ap, (unsigned long long) pe,
		    (unsigned long long) eq, shex);
		ledger_store_equivs(
		    cli_devnet_store(d), cli_ledger_equiv_one, &el);
		printf("]}\n");
	} else {
		printf(
		    "network       %s\nnetwork id    %s\n", g->network, idhex);
		for (uint32_t i = 0; i < g->n; i++) {
			gh_hex_encode(g->committee[i].key.b, 32, hex);
			printf("validator %-3u %s %s\n", (unsigned) i, hex,
			    g->committee[i].addr);
		}
		gh_hex_encode(g->issuer.b, 32, hex);
		printf("issuer        %s\n", hex);
		gh_hex_encode(g->treasury.b, 32, hex);
		printf("treasury      %s\nfee           %u bps\n"
		       "lease grace   %llu s\nclock margin  %llu s\n"
		       "applied       %llu\npending       %llu\n"
		       "equivocations %llu\nstate hash    %s\n",
		    hex, (unsigned) g->fee_bps,
		    (unsigned long long) g->lease_grace,
		    (unsigned long long) g->clock_margin,
		    (unsigned long long) ap, (unsigned long long) pe,
		    (unsigned long long) eq, shex);
		ledger_store_equivs(
		    cli_devnet_store(d), cli_ledger_equiv_one, &el);
	}
	cli_devnet_close(d);
	return (CLI_EXIT_OK);
}

typedef struct {
	int      rv;
	int      opened;
	uint64_t pos;
	char     why[512];
} cli_verify_result;

static void
cli_ledger_verify_run(const char *dir, cli_verify_result *r)
{
	cli_devnet *d = NULL;

	memset(r, 0, sizeof(*r));
	r->pos = UINT64_MAX;
	if ((r->rv = cli_devnet_open(dir, 0, &d)) != GH_OK) {
		snprintf(r->why, sizeof(r->why), "%s", dir);
		return;
	}
	r->opened = 1;
	r->rv     = ledger_store_verify(
	        cli_devnet_store(d), &r->pos, r->why, sizeof(r->why));
	cli_devnet_close(d);
}

/*
 * LMDB keeps no page checksums: damaged B-tree or free-list pages can
 * make the library itself fault.  verify therefore runs in a child
 * process, and a child killed by a signal is reported as a damaged
 * store rather than taking the command down.
 */
static void
cli_ledger_verify_isolated(const char *dir, cli_verify_result *r)
{
	int     pfd[2], status = 0;
	pid_t   pid;
	size_t  got = 0;
	ssize_t n;

	fflush(NULL);
	if (pipe(pfd) != 0 || (pid = fork()) < 0) {
		cli_ledger_verify_run(dir, r);
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		cli_ledger_verify_run(dir, r);
		for (size_t off = 0; off < sizeof(*r);) {
			n = write(pfd[1], (char *) r + off, sizeof(*r) - off);
			if (n <= 0) {
				break;
			}
			off += (size_t) n;
		}
		_exit(0);
	}
	close(pfd[1]);
	while (got < sizeof(*r)
	    && ((n = read(pfd[0], (char *) r + got, sizeof(*r) - got)) > 0
	        || (n < 0 && errno == EINTR))) {
		got += n > 0 ? (size_t) n : 0;
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) { }
	if (got != sizeof(*r) || !WIFEXITED(status)
	    || WEXITSTATUS(status) != 0) {
		memset(r, 0, sizeof(*r));
		r->rv     = GH_ECORRUPT;
		r->opened = 1;
		r->pos    = UINT64_MAX;
		snprintf(r->why, sizeof(r->why),
		    "the store's pages are damaged: the LMDB library faulted "
		    "(signal %d) reading %.300s/ledger/data.mdb",
		    WIFSIGNALED(status) ? WTERMSIG(status) : 0, dir);
	}
	r->why[sizeof(r->why) - 1] = '\0';
}

static int
cli_ledger_verify(const cli_ledger_args *a, const char *dir)
{
	cli_verify_result r;
	int               rv;

	cli_ledger_verify_isolated(dir, &r);
	rv = r.rv;
	if (!r.opened) {
		if (a->json) {
			printf("{\"ok\":false,\"error\":\"%s\"}\n",
			    gh_strerror(rv));
		}
		return (cli_fail(rv, "%s", dir));
	}
	if (a->json) {
		if (rv == GH_OK) {
			printf("{\"ok\":true,\"detail\":\"%s\"}\n", r.why);
		} else if (r.pos == UINT64_MAX) {
			printf("{\"ok\":false,\"error\":\"%s\",\"detail\":\"%"
			       "s\"}\n",
			    gh_strerror(rv), r.why);
		} else {
			printf(
			    "{\"ok\":false,\"position\":%llu,\"error\":\"%s\","
			    "\"detail\":\"%s\"}\n",
			    (unsigned long long) r.pos, gh_strerror(rv),
			    r.why);
		}
	} else if (rv == GH_OK) {
		printf("%s\n", r.why);
	}
	if (rv == GH_OK) {
		return (CLI_EXIT_OK);
	}
	if (!a->json) {
		if (r.pos == UINT64_MAX) {
			fprintf(stderr, "gpuhour: ledger verify: %s: %s\n",
			    r.why, gh_strerror(rv));
		} else {
			fprintf(stderr,
			    "gpuhour: ledger verify: entry #%llu: %s: %s\n",
			    (unsigned long long) r.pos, r.why,
			    gh_strerror(rv));
		}
	}
	return (CLI_EXIT_INVALID);
}

int
cli_ledger_main(int argc, char **argv)
{
	cli_ledger_args a
	    = { NULL, "devnet", NULL, 4, 100, 600, 30, 7400, 0, 0, NULL };
	char        dir[PATH_MAX];
	const char *verb;
	int         c, rv;

	if (argc < 2) {
		fputs(cli_ledger_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		fputs(cli_ledger_usage, stdout);
		return (CLI_EXIT_OK);
	}
	if (strcmp(verb, "proof") == 0 || strcmp(verb, "consistency") == 0
	    || strcmp(verb, "evidence") == 0
	    || strcmp(verb, "checkpoints") == 0) {
		/* The transparency log's verbs (cli/ledger_log.c); they take
		 * the same --datadir and default data dir. */
		return (cli_ledger_log_main(argc, argv));
	}
	optind = 1;
	opterr = 0;
	while (
	    (c = getopt_long(argc - 1, argv + 1, "h", cli_ledger_opts, NULL))
	    != -1) {
		uint64_t *u = NULL;
		switch (c) {
		case OPT_DATADIR:
			a.datadir = optarg;
			break;
		case OPT_NETWORK:
			a.network = optarg;
			break;
		case OPT_VALIDATORS:
			u = &a.validators;
			break;
		case OPT_FEE:
			u = &a.fee;
			break;
		case OPT_GRACE:
			u = &a.grace;
			break;
		case OPT_MARGIN:
			u = &a.margin;
			break;
		case OPT_BASEPORT:
			u = &a.base_port;
			break;
		case OPT_PASSENV:
			a.passenv = optarg;
			break;
		case OPT_INSECURE:
			a.insecure = 1;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case OPT_NODE:
			a.node = optarg;
			break;
		case 'h':
			fputs(cli_ledger_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "ledger", "unknown option or missing value"));
		}
		if (u != NULL && cli_parse_u64(optarg, u) != GH_OK) {
			return (cli_usage_error(
			    "ledger", "'%s' is not a number", optarg));
		}
	}
	if (optind + 1 < argc) {
		return (cli_usage_error(
		    "ledger", "unexpected argument '%s'", argv[optind + 1]));
	}
	if ((rv = cli_devnet_dir(a.datadir, dir, sizeof(dir))) != GH_OK) {
		return (cli_fail(rv, "data dir"));
	}
	if (strcmp(verb, "genesis") == 0) {
		return (cli_ledger_genesis(&a, dir));
	}
	if (a.node != NULL
	    && (strcmp(verb, "show") == 0 || strcmp(verb, "verify") == 0)) {
		return (cli_ledger_net(&a, strcmp(verb, "verify") == 0));
	}
	if (strcmp(verb, "show") == 0) {
		return (cli_ledger_show(&a, dir));
	}
	if (strcmp(verb, "verify") == 0) {
		return (cli_ledger_verify(&a, dir));
	}
	return (cli_usage_error("ledger", "unknown verb '%s'", verb));
}
