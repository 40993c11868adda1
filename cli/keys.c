/* keys.c - `gpuhour keys new|show|export-pub|list`. */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "cli/cli.h"

static const char cli_keys_usage[]
    = "usage: gpuhour keys new --kind account|node [--name NAME | --file "
      "PATH]\n"
      "                        [--passphrase-env VAR | "
      "--insecure-no-passphrase]\n"
      "       gpuhour keys show [--json] [--check [--passphrase-env VAR]]\n"
      "                         (NAME | --file PATH)\n"
      "       gpuhour keys export-pub (NAME | --file PATH)\n"
      "       gpuhour keys list [--json]\n"
      "\n"
      "Account keys (BIP340 Schnorr on secp256k1) sign what moves value;\n"
      "node keys (Ed25519) sign offers, proofs and handshakes.  Key files\n"
      "live in $GPUHOUR_HOME/keys (default ~/.gpuhour/keys), mode 0600,\n"
      "encrypted with Argon2id and XChaCha20-Poly1305.  The passphrase\n"
      "comes from the variable named by --passphrase-env, else\n"
      "$GPUHOUR_PASSPHRASE, else a prompt on the terminal.\n"
      "\n"
      "  --kind K                  account or node\n"
      "  --name NAME               key file $GPUHOUR_HOME/keys/NAME.key\n"
      "  --file PATH               key file at PATH\n"
      "  --passphrase-env VAR      read the passphrase from $VAR\n"
      "  --insecure-no-passphrase  store the key unencrypted (tests only)\n"
      "  --check                   decrypt the key to check the passphrase\n"
      "  --json                    machine-readable output\n";

enum {
	OPT_KIND = 256,
	OPT_NAME,
	OPT_FILE,
	OPT_PASSENV,
	OPT_INSECURE,
	OPT_CHECK,
	OPT_JSON,
};

static const struct option cli_keys_opts[] = {
	{ "kind", required_argument, NULL, OPT_KIND },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "passphrase-env", required_argument, NULL, OPT_PASSENV },
	{ "insecure-no-passphrase", no_argument, NULL, OPT_INSECURE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *kind;
	const char *name;
	const char *file;
	const char *passenv;
	int         insecure;
	int         check;
	int         json;
} cli_keys_args;

static int
cli_keys_name_ok(const char *name)
{
	if (name[0] == '\0' || name[0] == '.' || strlen(name) > 64) {
		return (0);
	}
	for (const char *p = name; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
		        || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'
		        || *p == '.')) {
			return (0);
		}
	}
	return (1);
}

/* Resolves NAME or --file into a path; creates the keys folder when
 * asked. */
static int
cli_keys_path(const cli_keys_args *a, int mkdir, char *out, size_t cap)
{
	char home[PATH_MAX];
	int  rv;

	if (a->file != NULL) {
		return (snprintf(out, cap, "%s", a->file) >= (int) cap
		        ? GH_ETOOLONG
		        : GH_OK);
	}
	if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
		return (rv);
	}
	if (mkdir) {
		char dir[PATH_MAX + 8];
		snprintf(dir, sizeof(dir), "%s/keys", home);
		if ((rv = gh_mkdir_p(dir, 0700)) != GH_OK) {
			return (rv);
		}
	}
	return (
	    snprintf(out, cap, "%s/keys/%s.key", home, a->name) >= (int) cap
	        ? GH_ETOOLONG
	        : GH_OK);
}

static const char *
cli_keys_kind_name(gh_key_kind k)
{
	return (k == GH_KEY_ACCOUNT ? "account" : "node");
}

static int
cli_keys_new(const cli_keys_args *a)
{
	char            path[PATH_MAX];
	char           *pass    = NULL;
	size_t          passlen = 0;
	gh_key_kind     kind;
	gh_keyfile_info info;
	char            hex[65];
	struct stat     st;
	int             rv;

	if (a->kind == NULL) {
		return (
		    cli_usage_error("keys", "new needs --kind account|node"));
	}
	if (strcmp(a->kind, "account") == 0) {
		kind = GH_KEY_ACCOUNT;
	} else if (strcmp(a->kind, "node") == 0) {
		kind = GH_KEY_NODE;
	} else {
		return (cli_usage_error(
		    "keys", "unknown --kind '%s' (account or node)", a->kind));
	}
	if (a->insecure && a->passenv != NULL) {
		return (cli_usage_error("keys",
		    "--insecure-no-passphrase and --passphrase-env conflict"));
	}
	if ((rv = cli_keys_path(a, 1, path, sizeof(path))) != GH_OK) {
		return (cli_fail(rv, "keys folder"));
	}
	if (stat(path, &st) == 0) {
		return (cli_fail(GH_EEXIST, "%s", path));
	}
	if (!a->insecure
	    && (rv = cli_pass_get(a->passenv, 1, &pass, &passlen)) != GH_OK) {
		return (cli_fail(rv, "passphrase"));
	}
	rv = gh_keyfile_create(path, kind, pass, passlen, &info);
	cli_pass_free(pass);
	if (rv != GH_OK) {
		return (cli_fail(rv, "%s", path));
	}
	gh_hex_encode(info.pub, 32, hex);
	printf("%s key %s\nfile %s\n", cli_keys_kind_name(kind), hex, path);
	return (CLI_EXIT_OK);
}

static int
cli_keys_show(const cli_keys_args *a, int pub_only)
{
	char            path[PATH_MAX];
	char            hex[65];
	gh_keyfile_info info;
	int             rv;

	if ((rv = cli_keys_path(a, 0, path, sizeof(path))) != GH_OK) {
		return (cli_fail(rv, "key path"));
	}
	if ((rv = gh_keyfile_info_read(path, &info)) != GH_OK) {
		return (cli_fail(rv, "%s", path));
	}
	if (a->check) {
		char        *pass    = NULL;
		size_t       passlen = 0;
		gh_ed_key   *ed      = NULL;
		gh_acct_key *ac      = NULL;
		if (info.encrypted
		    && (rv = cli_pass_get(a->passenv, 0, &pass, &passlen))
		        != GH_OK) {
			return (cli_fail(rv, "passphrase"));
		}
		rv = info.kind == GH_KEY_NODE
		    ? gh_keyfile_open_node(path, pass, passlen, &ed)
		    : gh_keyfile_open_account(path, pass, passlen, &ac);
		cli_pass_free(pass);
		gh_ed_key_free(ed);
		gh_acct_key_free(ac);
		if (rv != GH_OK) {
			return (cli_fail(rv, "%s", path));
		}
	}
	gh_hex_encode(info.pub, 32, hex);
	if (pub_only) {
		printf("%s\n", hex);
	} else if (a->json) {
		printf(
		    "{\"kind\":\"%s\",\"public_key\":\"%s\",\"encrypted\":%s,"
		    "\"checked\":%s}\n",
		    cli_keys_kind_name(info.kind), hex,
		    info.encrypted ? "true" : "false",
		    a->check ? "true" : "false");
	} else {
		printf(
		    "kind       %s\npublic key %s\nencrypted  %s\nfile       "
		    "%s\n",
		    cli_keys_kind_name(info.kind), hex,
		    info.encrypted ? "yes" : "NO (test key)", path);
		if (a->check) {
			printf("passphrase ok\n");
		}
	}
	return (CLI_EXIT_OK);
}

static int
cli_keys_list(const cli_keys_args *a)
{
	char           home[PATH_MAX];
	char           dir[PATH_MAX + 8];
	DIR           *d;
	struct dirent *e;
	int            rv;
	int            first = 1;

	if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
		return (cli_fail(rv, "home folder"));
	}
	snprintf(dir, sizeof(dir), "%s/keys", home);
	if ((d = opendir(dir)) == NULL) {
		if (a->json) {
			printf("[]\n");
		}
		return (CLI_EXIT_OK);
	}
	if (a->json) {
		printf("[");
	}
	while ((e = readdir(d)) != NULL) {
		char            path[PATH_MAX * 2];
		char            hex[65];
		gh_keyfile_info info;
		size_t          n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".key") != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (gh_keyfile_info_read(path, &info) != GH_OK) {
			fprintf(
			    stderr, "gpuhour: %s: damaged key file\n", path);
			continue;
		}
		gh_hex_encode(info.pub, 32, hex);
		if (a->json) {
			printf("%s{\"name\":\"%.*s\",\"kind\":\"%s\","
			       "\"public_key\":\"%s\"}",
			    first ? "" : ",", (int) (n - 4), e->d_name,
			    cli_keys_kind_name(info.kind), hex);
		} else {
			printf("%-20.*s %-8s %s\n", (int) (n - 4), e->d_name,
			    cli_keys_kind_name(info.kind), hex);
		}
		first = 0;
	}
	closedir(d);
	if (a->json) {
		printf("]\n");
	}
	return (CLI_EXIT_OK);
}

int
cli_keys_main(int argc, char **argv)
{
	cli_keys_args a;
	const char   *verb;
	int           c;

	memset(&a, 0, sizeof(a));
	if (argc < 2) {
		fputs(cli_keys_usage, stderr);
		return (CLI_EXIT_USAGE);
	}
	verb = argv[1];
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0
	    || strcmp(verb, "help") == 0) {
		fputs(cli_keys_usage, stdout);
		return (CLI_EXIT_OK);
	}
	optind = 2;
	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, "+h", cli_keys_opts, NULL)) != -1) {
		switch (c) {
		case OPT_KIND:
			a.kind = optarg;
			break;
		case OPT_NAME:
			a.name = optarg;
			break;
		case OPT_FILE:
			a.file = optarg;
			break;
		case OPT_PASSENV:
			a.passenv = optarg;
			break;
		case OPT_INSECURE:
			a.insecure = 1;
			break;
		case OPT_CHECK:
			a.check = 1;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case 'h':
			fputs(cli_keys_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "keys", "bad option '%s'", argv[optind - 1]));
		}
	}
	if (strcmp(verb, "list") == 0) {
		if (optind != argc) {
			return (
			    cli_usage_error("keys", "list takes no names"));
		}
		return (cli_keys_list(&a));
	}
	/* A single positional argument is the key's name. */
	if (optind < argc) {
		if (a.name != NULL || optind + 1 != argc) {
			return (cli_usage_error("keys", "too many names"));
		}
		a.name = argv[optind];
	}
	if ((a.name == NULL) == (a.file == NULL)) {
		return (cli_usage_error(
		    "keys", "give exactly one of NAME or --file PATH"));
	}
	if (a.name != NULL && !cli_keys_name_ok(a.name)) {
		return (cli_usage_error("keys",
		    "bad key name '%s' (letters, digits, - _ .)", a.name));
	}
	if (strcmp(verb, "new") == 0) {
		return (cli_keys_new(&a));
	}
	if (strcmp(verb, "show") == 0) {
		return (cli_keys_show(&a, 0));
	}
	if (strcmp(verb, "export-pub") == 0) {
		return (cli_keys_show(&a, 1));
	}
	return (cli_usage_error("keys", "unknown verb '%s'", verb));
}
