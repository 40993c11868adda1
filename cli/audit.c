/* audit.c - `gpuhour audit`: spot checks of a job transcript, re-run on
 * the CPU backend. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "base/base.h"
#include "cli/cli.h"
#include "ledger/ledger.h"

static const char cli_audit_usage[]
    = "usage: gpuhour audit --transcript FILE --model GGUF [--samples K]\n"
      "                     [--seed-from HEX | --checkpoint FILE]\n"
      "                     [--secret HEX]\n"
      "                     [--fraction F ...] [--threads N] [--json]\n"
      "\n"
      "Audits a job transcript: first the cheap checks (signature, lease\n"
      "and job binding, token hashes and counts, figures), then K spot\n"
      "checks (default 4) over all chunks of all prompts.  The chunks are\n"
      "chosen after the proofs were committed, from BLAKE2b(seed-from ||\n"
      "secret || proof ids): --seed-from is a value nobody could know\n"
      "when the proofs were signed (a later checkpoint root, 64 hex\n"
      "digits; or --checkpoint, a signed log checkpoint file, whose root\n"
      "is used when its time is after every proof's), --secret the\n"
      "auditor's own random bytes (default: 32\n"
      "fresh random bytes, printed so the audit can be repeated).  Each\n"
      "sampled chunk is re-run on the CPU backend with teacher forcing\n"
      "(the committed output tokens are fed back) and compared with the\n"
      "commitment within the provider backend's tolerance (exact up to\n"
      "half precision for a CPU provider, the calibrated bounds of\n"
      "docs/tolerances.md for CUDA); every output token produced inside a\n"
      "sampled chunk is re-sampled from the committed seed and parameters\n"
      "and must equal the committed token.  The prompt is re-tokenized\n"
      "and must match the committed input.  --model must hash to the\n"
      "proofs' model hash.  Prints what was checked and what failed, and\n"
      "for each --fraction F the chance 1-(1-F)^K that K checks catch a\n"
      "provider who faked a fraction F of its chunks.\n"
      "Exit 0 when all passed, 5 when anything failed.\n";

enum {
	OPT_TRANSCRIPT = 256,
	OPT_MODEL,
	OPT_SAMPLES,
	OPT_SEED_FROM,
	OPT_CHECKPOINT,
	OPT_SECRET,
	OPT_FRACTION,
	OPT_THREADS,
	OPT_JSON,
};

static const struct option cli_audit_opts[] = {
	{ "transcript", required_argument, NULL, OPT_TRANSCRIPT },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "samples", required_argument, NULL, OPT_SAMPLES },
	{ "seed-from", required_argument, NULL, OPT_SEED_FROM },
	{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
	{ "secret", required_argument, NULL, OPT_SECRET },
	{ "fraction", required_argument, NULL, OPT_FRACTION },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define CLI_AUDIT_FRACTIONS 8

int
cli_audit_main(int argc, char **argv)
{
	const char         *tpath = NULL, *mpath = NULL, *why = NULL;
	const char         *cpath = NULL;
	ledger_checkpoint   cp;
	uint8_t             from[32], secret[32], seed[32];
	int                 have_from = 0, have_secret = 0, json = 0;
	int                 threads = 0, c, rv, ex = CLI_EXIT_FAIL;
	unsigned            k = 4;
	double              frac[CLI_AUDIT_FRACTIONS];
	unsigned            nfrac = 0;
	uint8_t            *p     = NULL;
	size_t              n;
	gpu_model          *m = NULL;
	gh_hash             mh;
	attest_transcript   t;
	attest_audit_report r;
	gh_hasher           h;
	char                w[256] = "", err[256] = "", hex[65];
	uint32_t            total = 0;
	int                 cuda  = 0;

	memset(&t, 0, sizeof(t));
	memset(&r, 0, sizeof(r));
	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, "h", cli_audit_opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case OPT_TRANSCRIPT:
			tpath = optarg;
			break;
		case OPT_MODEL:
			mpath = optarg;
			break;
		case OPT_SAMPLES: {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' || *optarg == '-' || *end != '\0'
			    || v == 0 || v > 1000000) {
				return (
				    cli_usage_error("audit", "bad --samples"));
			}
			k = (unsigned) v;
			break;
		}
		case OPT_SEED_FROM:
			if (gh_hex_decode(optarg, from, 32) != GH_OK) {
				return (cli_usage_error("audit",
				    "--seed-from takes 64 hex digits"));
			}
			have_from = 1;
			break;
		case OPT_CHECKPOINT:
			cpath = optarg;
			break;
		case OPT_SECRET:
			if (gh_hex_decode(optarg, secret, 32) != GH_OK) {
				return (cli_usage_error(
				    "audit", "--secret takes 64 hex digits"));
			}
			have_secret = 1;
			break;
		case OPT_FRACTION: {
			double f = strtod(optarg, &end);
			if (*optarg == '\0' || *end != '\0' || !(f > 0.0)
			    || f > 1.0 || nfrac >= CLI_AUDIT_FRACTIONS) {
				return (cli_usage_error(
				    "audit", "bad --fraction"));
			}
			frac[nfrac++] = f;
			break;
		}
		case OPT_THREADS: {
			long v = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || v < 0
			    || v > 1024) {
				return (
				    cli_usage_error("audit", "bad --threads"));
			}
			threads = (int) v;
			break;
		}
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			fputs(cli_audit_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "audit", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (optind != argc || tpath == NULL || mpath == NULL) {
		return (cli_usage_error(
		    "audit", "--transcript and --model are needed"));
	}
	if (have_from && cpath != NULL) {
		return (cli_usage_error(
		    "audit", "--seed-from and --checkpoint conflict"));
	}
	if (!have_from) {
		memset(from, 0, 32);
	}
	memset(&cp, 0, sizeof(cp));
	if (cpath != NULL) {
		uint8_t *cb = NULL;
		size_t   cn = 0;
		rv          = gh_file_read(cpath, 4096, &cb, &cn);
		if (rv == GH_OK) {
			rv = ledger_checkpoint_decode(cb, cn, &cp);
		}
		if (rv == GH_OK) {
			rv = ledger_checkpoint_verify(&cp);
		}
		free(cb);
		if (rv != GH_OK) {
			(void) cli_fail(rv, "checkpoint %s", cpath);
			return (CLI_EXIT_INVALID);
		}
		memcpy(from, cp.root.b, 32);
	}
	if (!have_secret) {
		randombytes_buf(secret, 32);
	}
	if ((rv = gh_file_read(tpath, ATTEST_TRANSCRIPT_MAX, &p, &n))
	    != GH_OK) {
		return (cli_fail(rv, "read %s", tpath));
	}
	if ((rv = attest_transcript_decode(p, n, &t)) != GH_OK) {
		ex = cli_fail(rv, "transcript %s", tpath);
		goto out;
	}
	if ((rv = cli_progress_model_open(mpath, json, &m, err, sizeof(err)))
	    != GH_OK) {
		ex = cli_fail(rv, "model %s %s", mpath, err);
		goto out;
	}
	if ((rv = gpu_model_hash(m, &mh)) != GH_OK) {
		ex = cli_fail(rv, "model hash");
		goto out;
	}
	/* The seed: fixed only once the proofs are. */
	gh_hasher_init(&h, GH_TAG_PROOF);
	gh_hasher_update(&h, "audit", 5);
	gh_hasher_update(&h, from, 32);
	gh_hasher_update(&h, secret, 32);
	for (uint32_t i = 0; i < t.n_results; i++) {
		gh_hash id;
		if (attest_proof_id(&t.results[i].proof, &id) == GH_OK) {
			gh_hasher_update(&h, id.b, 32);
		}
		total += t.results[i].proof.n_chunks;
		if (cpath != NULL && t.results[i].proof.time >= cp.time) {
			why = "the checkpoint is not later than the proofs";
		}
		if (strncmp(t.results[i].proof.device, "cuda", 4) == 0) {
			cuda = 1;
		}
	}
	{
		gh_hash s;
		gh_hasher_final(&h, &s);
		memcpy(seed, s.b, 32);
	}
	if (why != NULL) {
		/* the seed could have been known in advance */
	} else if (attest_transcript_verify(
	               &t, NULL, t.job.lease, 0, w, sizeof(w))
	    != GH_OK) {
		why = w;
	} else if (memcmp(mh.b, t.job.model.b, 32) != 0) {
		why = "the model given does not hash to the proofs' model";
	} else {
		rv = attest_audit(&t, m, threads, k, seed,
		    cuda ? &attest_tol_cuda : &attest_tol_cpu, &r);
		if (rv != GH_OK && rv != GH_EINVAL) {
			ex = cli_fail(rv, "audit");
			goto out;
		}
		if (rv == GH_EINVAL) {
			why = "spot checks failed";
		}
	}
	gh_hex_encode(secret, 32, hex);
	if (json) {
		printf("{\"ok\":%s,\"reason\":", why ? "false" : "true");
		if (why != NULL) {
			cli_json_string(stdout, why, strlen(why));
		} else {
			printf("null");
		}
		printf(
		    ",\"secret\":\"%s\",\"chunks\":%u,\"checked_chunks\":%u,"
		    "\"failed_chunks\":%u,\"checked_tokens\":%u,"
		    "\"failed_tokens\":%u,\"input_mismatch\":%u,"
		    "\"worst_overlap\":%.4f,\"worst_err\":%.3g,\"worst_mean\":"
		    "%.3g,"
		    "\"cpu_ns\":%" PRIu64 ",\"detection\":[",
		    hex, total, r.checked_chunks, r.failed_chunks,
		    r.checked_tokens, r.failed_tokens, r.input_mismatch,
		    r.worst_overlap, r.worst_err, r.worst_mean, r.cpu_ns);
		for (unsigned i = 0; i < nfrac; i++) {
			printf("%s{\"fraction\":%g,\"p\":%.6f}", i ? "," : "",
			    frac[i], attest_detection_probability(frac[i], k));
		}
		printf("]}\n");
	} else {
		printf("audit of %s: %u prompt(s), %u chunk(s), secret %s\n",
		    tpath, t.n_results, total, hex);
		printf("  signatures, lease and job binding, token hashes, "
		       "figures: %s\n",
		    why == w ? "FAILED" : "ok");
		printf("  chunks re-run on the CPU: %u checked, %u failed "
		       "(worst overlap %.3f, worst rel. error %.3g, tolerance "
		       "%s)\n",
		    r.checked_chunks, r.failed_chunks, r.worst_overlap,
		    r.worst_err, cuda ? "cuda" : "cpu");
		printf("  tokens re-sampled: %u checked, %u differ\n",
		    r.checked_tokens, r.failed_tokens);
		printf(
		    "  prompts re-tokenized: %u differ\n", r.input_mismatch);
		for (unsigned i = 0; i < nfrac; i++) {
			printf("  detection with %u checks if %.4g of chunks "
			       "were faked: %.6f\n",
			    k, frac[i],
			    attest_detection_probability(frac[i], k));
		}
		printf("%s%s\n", why ? "FAILED: " : "ok", why ? why : "");
	}
	ex = why == NULL ? CLI_EXIT_OK : CLI_EXIT_INVALID;
out:
	attest_transcript_clear(&t);
	gpu_model_close(m);
	free(p);
	return (ex);
}
