/* proof.c - `gpuhour proof verify`: the cheap checks of a utilization
 * proof or a job transcript, and its ledger inclusion. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "base/base.h"
#include "cli/cli.h"
#include "cli/devnet.h"
#include "cli/netcli.h"
#include "ledger/ledger.h"

static const char cli_proof_usage[]
    = "usage: gpuhour proof verify FILE [--lease HEX] [--provider HEX]\n"
      "                 [--node CONFIG]\n"
      "                 [--peak-flops N] [--bundle FILE --entry FILE] "
      "[--json]\n"
      "\n"
      "Verifies a utilization proof, or every proof of a job transcript\n"
      "(`gpuhour job run-local|submit --out`): the node's signature, the\n"
      "signer (--provider), the lease binding (--lease: the lease id in\n"
      "the proof must be this one), and for a transcript the job binding\n"
      "and the token hashes and counts; then the figures recomputed from\n"
      "the counts (FLOPs from the shape, chunks per 32 positions) and\n"
      "plausibility against a declared peak (--peak-flops, FLOP/s: the\n"
      "claimed FLOPs over device time may not exceed it; device time may\n"
      "not exceed wall time).  With --bundle (a `gpuhour ledger proof`\n"
      "bundle) and --entry (the PROOF ledger entry's bytes) it checks\n"
      "that the entry names this proof and is included in the log.\n"
      "With --node CONFIG (an auditor's own node) every proof is looked\n"
      "up in that node's replica: its PROOF entry on the signer's chain,\n"
      "for a lease the signer serves, and included in a log under a\n"
      "checkpoint signed by a committee member: the node's own log when\n"
      "a checkpoint matches it, else a validator's, which the node asks\n"
      "for (nodes number entries in their own order of application).\n"
      "Exit 0 when everything holds, 5 when a check fails.\n"
      "\n"
      "usage: gpuhour proof record --node-key FILE [--datadir DIR]\n"
      "                 [--entry-out FILE] [--json] TRANSCRIPT\n"
      "\n"
      "Records every proof of a transcript as a PROOF entry on the node's\n"
      "chain of the devnet ledger (signed with the node key that signed\n"
      "the proofs; the lease must be one that node serves), prints each\n"
      "entry's hash, and writes the first entry's bytes to --entry-out\n"
      "for `proof verify --bundle --entry`.\n";

enum {
	OPT_LEASE = 256,
	OPT_PROVIDER,
	OPT_PEAK,
	OPT_BUNDLE,
	OPT_ENTRY,
	OPT_JSON,
	OPT_NODEKEY,
	OPT_DATADIR,
	OPT_ENTRYOUT,
	OPT_NODE,
};

static const struct option cli_proof_opts[] = {
	{ "lease", required_argument, NULL, OPT_LEASE },
	{ "provider", required_argument, NULL, OPT_PROVIDER },
	{ "peak-flops", required_argument, NULL, OPT_PEAK },
	{ "bundle", required_argument, NULL, OPT_BUNDLE },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "node-key", required_argument, NULL, OPT_NODEKEY },
	{ "datadir", required_argument, NULL, OPT_DATADIR },
	{ "entry-out", required_argument, NULL, OPT_ENTRYOUT },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The PROOF entry names the proof and its lease, and the bundle shows
 * the entry in the log. */
static int
cli_proof_inclusion(const char *bpath, const char *epath,
    const attest_proof *p, const char **why)
{
	uint8_t      *b = NULL, *e = NULL;
	size_t        bn, en;
	ledger_bundle bundle;
	ledger_entry  entry;
	gh_hash       id, eh;
	int           rv;

	*why = NULL;
	if ((rv = gh_file_read(bpath, 1u << 20, &b, &bn)) != GH_OK
	    || (rv = gh_file_read(epath, 1u << 20, &e, &en)) != GH_OK) {
		*why = "cannot read the bundle or the entry";
		goto out;
	}
	if ((rv = ledger_bundle_decode(b, bn, &bundle)) != GH_OK
	    || (rv = ledger_entry_decode(e, en, &entry)) != GH_OK) {
		*why = "malformed bundle or entry";
		goto out;
	}
	ledger_entry_hash(&entry, &eh);
	if ((rv = attest_proof_id(p, &id)) != GH_OK) {
		goto out;
	}
	if (entry.kind != LEDGER_PROOF
	    || memcmp(entry.body.proof.proof.b, id.b, 32) != 0
	    || memcmp(entry.body.proof.lease.b, p->lease, 32) != 0) {
		*why = "the ledger entry is not this proof's PROOF entry";
		rv   = GH_EINVAL;
		goto out;
	}
	if (ledger_entry_verify_sig(&entry) != GH_OK
	    || memcmp(entry.author, p->node.b, 32) != 0) {
		*why = "the PROOF entry is not signed by the proof's node";
		rv   = GH_EINVAL;
		goto out;
	}
	if (memcmp(bundle.entry.b, eh.b, 32) != 0
	    || ledger_bundle_verify(&bundle) != GH_OK) {
		*why = "the entry is not included under the bundle's root";
		rv   = GH_EINVAL;
		goto out;
	}
	rv = GH_OK;
out:
	if (rv != GH_OK && *why == NULL) {
		*why = "inclusion check failed";
	}
	free(b);
	free(e);
	return (rv);
}

typedef struct {
	const gh_hash *want;
	ledger_cert   *found;
	int            hit;
} cli_proof_find;

static int
cli_proof_find_one(void *arg, uint64_t seq, const ledger_cert *c)
{
	cli_proof_find *f = arg;

	(void) seq;
	if (c->entry.kind == LEDGER_PROOF
	    && memcmp(c->entry.body.proof.proof.b, f->want->b, 32) == 0) {
		*f->found = *c;
		f->hit    = 1;
		return (1);
	}
	return (0);
}

/* The node's bundle for entry h, checked (cli_net_prove). */
static int
cli_proof_bundle(const char *config, const gh_hash *h, const char **why)
{
	ledger_bundle b;
	int           rv = cli_net_prove(config, h, &b);

	if (rv == GH_EPENDING || rv == GH_ENOENT) {
		*why = "the PROOF entry is under no signed checkpoint yet";
	} else if (rv == GH_EPROTO || rv == GH_EBADSIG) {
		*why = "the node's inclusion proof does not verify";
	} else if (rv != GH_OK) {
		*why = "the node gave no inclusion proof";
	}
	return (rv);
}

/*
 * --node: the proof against that node's own replica of the ledger: its
 * PROOF entry on the signer's chain, for a lease that node serves, and
 * included in a log under a checkpoint signed by a committee member.
 */
static int
cli_proof_on_node(const char *config, ledger_store *s, const attest_proof *p,
    const char **why)
{
	ledger_cert   *c = malloc(sizeof(*c));
	ledger_lease   l;
	ledger_id      lid;
	cli_proof_find f;
	gh_hash        id;
	uint64_t       index;
	int            rv = GH_ENOENT;

	*why = NULL;
	if (c == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = attest_proof_id(p, &id)) != GH_OK) {
		goto out;
	}
	f.want  = &id;
	f.found = c;
	f.hit   = 0;
	rv      = ledger_store_chain(s, p->node.b, 1, cli_proof_find_one, &f);
	if ((rv != GH_OK && rv != GH_ENOENT) || !f.hit) {
		*why = "no PROOF entry for this proof on the ledger";
		rv   = GH_ENOENT;
		goto out;
	}
	memcpy(lid.b, p->lease, 32);
	if (memcmp(c->entry.body.proof.lease.b, p->lease, 32) != 0
	    || ledger_store_lease(s, &lid, &l) != GH_OK
	    || memcmp(l.node.b, p->node.b, 32) != 0) {
		*why = "the proof's lease is not one its node serves";
		rv   = GH_EINVAL;
		goto out;
	}
	if ((rv = ledger_store_log_find(s, &c->hash, &index)) != GH_OK) {
		*why = "the PROOF entry is not in the log";
		goto out;
	}
	rv = cli_proof_bundle(config, &c->hash, why);
out:
	free(c);
	return (rv);
}

/*
 * `proof record`: one PROOF entry per proof of a transcript, on the
 * node's chain, certified by the devnet's local validators.
 */
static int
cli_proof_record(const char *path, const char *nkpath, const char *datadir,
    const char *entry_out, int json)
{
	attest_transcript t;
	cli_devnet       *d  = NULL;
	gh_ed_key        *nk = NULL;
	char              dir[4096];
	uint8_t          *p = NULL;
	size_t            n;
	int               rv;

	memset(&t, 0, sizeof(t));
	if ((rv = gh_file_read(path, ATTEST_TRANSCRIPT_MAX, &p, &n))
	    != GH_OK) {
		rv = cli_fail(rv, "read %s", path);
		goto out;
	}
	if ((rv = attest_transcript_decode(p, n, &t)) != GH_OK) {
		rv = cli_fail(rv, "%s is not a transcript", path);
		goto out;
	}
	if ((rv = cli_devnet_dir(datadir, dir, sizeof(dir))) != GH_OK
	    || (rv = cli_devnet_node_keyfile(nkpath, NULL, &nk)) != GH_OK
	    || (rv = cli_devnet_open(dir, 1, &d)) != GH_OK) {
		rv = cli_fail(rv, "open the devnet or the node key");
		goto out;
	}
	if (json) {
		printf("[");
	}
	for (uint32_t i = 0; i < t.n_results; i++) {
		const attest_proof *q = &t.results[i].proof;
		ledger_entry        e;
		gh_hash             h;
		char                hex[65];

		if ((rv = cli_devnet_prepare_node(d, nk, LEDGER_PROOF, &e))
		    != GH_OK) {
			rv = cli_fail(rv, "prepare the PROOF entry");
			goto out;
		}
		memcpy(e.body.proof.lease.b, q->lease, 32);
		if ((rv = attest_proof_id(q, &e.body.proof.proof)) != GH_OK) {
			rv = cli_fail(rv, "proof id");
			goto out;
		}
		e.body.proof.tokens    = (uint64_t) q->n_in + q->n_out;
		e.body.proof.device_ns = q->device_ns;
		if ((rv = cli_devnet_submit_node(d, &e, nk, &h)) != GH_OK) {
			rv = cli_fail(rv, "PROOF refused");
			goto out;
		}
		if (i == 0 && entry_out != NULL) {
			uint8_t *eb = NULL;
			size_t   en;
			if ((rv = ledger_entry_encode(&e, &eb, &en)) != GH_OK
			    || (rv = gh_file_write_atomic(
			            entry_out, eb, en, 0644))
			        != GH_OK) {
				free(eb);
				rv = cli_fail(rv, "write %s", entry_out);
				goto out;
			}
			free(eb);
		}
		gh_hex_encode(h.b, 32, hex);
		if (json) {
			printf("%s{\"entry\":\"%s\"}", i ? "," : "", hex);
		} else {
			printf("entry %s\n", hex);
		}
	}
	if (json) {
		printf("]\n");
	}
	rv = CLI_EXIT_OK;
out:
	cli_devnet_close(d);
	gh_ed_key_free(nk);
	attest_transcript_clear(&t);
	free(p);
	return (rv);
}

int
cli_proof_main(int argc, char **argv)
{
	const char         *bundle = NULL, *entry = NULL, *why = NULL;
	const char         *nodekey = NULL, *datadir = NULL, *entry_out = NULL;
	const char         *nodecf = NULL;
	uint8_t             lease[32], *p = NULL;
	gh_ed_pub           prov;
	int                 have_lease = 0, have_prov = 0, json = 0, c;
	uint64_t            peak = 0;
	size_t              n;
	attest_transcript   t;
	attest_proof        one;
	const attest_proof *first  = NULL;
	char                w[256] = "";
	uint32_t            count  = 0;
	int                 rv, ex = CLI_EXIT_INVALID;

	memset(&t, 0, sizeof(t));
	memset(&one, 0, sizeof(one));
	if (argc < 2 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(cli_proof_usage, argc < 2 ? stderr : stdout);
		return (argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK);
	}
	if (strcmp(argv[1], "verify") != 0 && strcmp(argv[1], "record") != 0) {
		return (
		    cli_usage_error("proof", "unknown command '%s'", argv[1]));
	}
	optind = 2;
	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, "h", cli_proof_opts, NULL)) != -1) {
		switch (c) {
		case OPT_LEASE:
			if (gh_hex_decode(optarg, lease, 32) != GH_OK) {
				return (
				    cli_usage_error("proof", "bad --lease"));
			}
			have_lease = 1;
			break;
		case OPT_PROVIDER:
			if (gh_hex_decode(optarg, prov.b, 32) != GH_OK) {
				return (cli_usage_error(
				    "proof", "bad --provider"));
			}
			have_prov = 1;
			break;
		case OPT_PEAK: {
			char *end;
			peak = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *optarg == '-'
			    || *end != '\0') {
				return (cli_usage_error(
				    "proof", "bad --peak-flops"));
			}
			break;
		}
		case OPT_BUNDLE:
			bundle = optarg;
			break;
		case OPT_ENTRY:
			entry = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_NODEKEY:
			nodekey = optarg;
			break;
		case OPT_DATADIR:
			datadir = optarg;
			break;
		case OPT_ENTRYOUT:
			entry_out = optarg;
			break;
		case OPT_NODE:
			nodecf = optarg;
			break;
		case 'h':
			fputs(cli_proof_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "proof", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (strcmp(argv[1], "record") == 0) {
		if (optind != argc - 1 || nodekey == NULL) {
			return (cli_usage_error("proof",
			    "record takes --node-key FILE and one "
			    "TRANSCRIPT"));
		}
		return (cli_proof_record(
		    argv[optind], nodekey, datadir, entry_out, json));
	}
	if (nodekey != NULL || datadir != NULL || entry_out != NULL) {
		return (cli_usage_error("proof",
		    "--node-key, --datadir and --entry-out are for record"));
	}
	if (optind != argc - 1 || (bundle == NULL) != (entry == NULL)) {
		return (cli_usage_error("proof",
		    "verify takes one FILE (and --bundle with --entry)"));
	}
	if ((rv = gh_file_read(argv[optind], ATTEST_TRANSCRIPT_MAX, &p, &n))
	    != GH_OK) {
		return (cli_fail(rv, "read %s", argv[optind]));
	}
	if (attest_transcript_decode(p, n, &t) == GH_OK) {
		count = t.n_results;
		first = &t.results[0].proof;
		if (attest_transcript_verify(&t, have_prov ? &prov : NULL,
		        have_lease ? lease : NULL, peak, w, sizeof(w))
		    != GH_OK) {
			why = w;
		}
	} else if ((rv = attest_proof_decode(p, n, &one)) == GH_OK) {
		count = 1;
		first = &one;
		if (attest_proof_verify_sig(&one) != GH_OK) {
			why = "bad signature";
		} else if (have_prov && memcmp(prov.b, one.node.b, 32) != 0) {
			why = "signed by another node";
		} else if (have_lease && memcmp(lease, one.lease, 32) != 0) {
			why = "proof is for another lease";
		} else if (attest_proof_check(&one, peak, &why) != GH_OK) {
			/* why set */
		}
	} else {
		(void) cli_fail(rv, "%s is neither a proof nor a transcript",
		    argv[optind]);
		ex = CLI_EXIT_INVALID;
		goto out;
	}
	if (why == NULL && nodecf != NULL) {
		cli_devnet *d = NULL;
		if ((rv = cli_devnet_open_node(nodecf, &d)) != GH_OK) {
			ex = cli_fail(rv, "%s", nodecf);
			goto out;
		}
		for (uint32_t i = 0; i < count && why == NULL; i++) {
			const attest_proof *q
			    = first == &one ? &one : &t.results[i].proof;
			(void) cli_proof_on_node(
			    nodecf, cli_devnet_store(d), q, &why);
		}
		cli_devnet_close(d);
	}
	if (why == NULL && bundle != NULL) {
		const char *bw = "no proof";
		for (uint32_t i = 0; i < count; i++) {
			const attest_proof *q
			    = first == &one ? &one : &t.results[i].proof;
			if (cli_proof_inclusion(bundle, entry, q, &bw)
			    == GH_OK) {
				bw = NULL;
				break;
			}
		}
		why = bw;
	}
	if (json) {
		printf("{\"proofs\":%u,\"ok\":%s,\"reason\":", count,
		    why == NULL ? "true" : "false");
		if (why != NULL) {
			cli_json_string(stdout, why, strlen(why));
		} else {
			printf("null");
		}
		printf("}\n");
	} else if (why == NULL) {
		printf("ok: %u proof%s verified%s%s%s\n", count,
		    count == 1 ? "" : "s", have_lease ? ", lease bound" : "",
		    bundle != NULL ? ", included in the log" : "",
		    nodecf != NULL ? ", recorded and included in the node's "
		                     "ledger under a signed checkpoint"
		                   : "");
	} else {
		printf("FAILED: %s\n", why);
	}
	ex = why == NULL ? CLI_EXIT_OK : CLI_EXIT_INVALID;
out:
	attest_transcript_clear(&t);
	attest_proof_clear(&one);
	free(p);
	return (ex);
}
