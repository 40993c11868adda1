/* job.c - `gpuhour job run-local|submit|share`: inference jobs with
 * utilization proofs. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "base/base.h"
#include "cli/cli.h"
#include "node/jobs.h"
#include "node/leases.h"
#include "node/node.h"

static const char cli_job_usage[]
    = "usage: gpuhour job run-local --model GGUF JOB-OPTIONS [--key FILE]\n"
      "                 [--threads N] [--backend cpu|cuda] [--out FILE]\n"
      "                 [--json]\n"
      "       gpuhour job submit --provider HEX (--model GGUF | "
      "--model-hash HEX)\n"
      "                 JOB-OPTIONS [--node CONFIG | --data-dir DIR]\n"
      "                 [--out FILE] [--json]\n"
      "       gpuhour job share --to NODE-KEY-HEX --in TRANSCRIPT --out "
      "FILE\n"
      "       gpuhour job open --key FILE --in SEALED --out TRANSCRIPT\n"
      "       gpuhour job cancel --provider HEX --job ID [--node CONFIG | "
      "--data-dir DIR]\n"
      "JOB-OPTIONS: --lease HEX (--prompt TEXT ... | --file F) [-n N]\n"
      "             [--seed S] [--temp T] [--top-p P] [--top-k K]\n"
      "\n"
      "A job is a model hash, one or more prompts, n_predict, sampling\n"
      "parameters and a seed, for a lease.  The provider runs each prompt\n"
      "and signs a utilization proof per prompt (activation commitments,\n"
      "token hashes and counts, FLOPs, device time).\n"
      "\n"
      "run-local  runs the job on this machine (CPU backend) and writes the\n"
      "           transcript (job, outputs, proofs) to --out, for tests\n"
      "           and audits; --key signs with that node key (default: a\n"
      "           fresh key, printed); --backend cuda runs it on the\n"
      "           GPU (the proof's device is then cuda:..., audited\n"
      "           within the CUDA tolerance).\n"
      "submit     seals the job to the provider's node key (X25519 from its\n"
      "           Ed25519 key) with a fresh reply key inside, sends it\n"
      "           through the local node (request kind 33), opens the\n"
      "           sealed answer, verifies every proof (signature,\n"
      "           provider, lease, job binding, figures) and prints the\n"
      "           output; exit 5 when a proof fails.  On a metered lease\n"
      "           whose receipts the node signs, the node then pays the\n"
      "           attested device time (a receipt to the provider).\n"
      "share      re-encrypts a transcript to a third party's node key.\n"
      "cancel     asks the provider's node, through the local node, to\n"
      "           drop a waiting job or stop a running one (submit prints\n"
      "           the job's id on stderr); the submit then fails with\n"
      "           \"cancelled\".\n"
      "open       opens a shared transcript with a node key file.\n"
      "\n"
      "  --lease HEX      lease id (64 hex digits)\n"
      "  --prompt TEXT    a prompt (repeat for several, at most 16)\n"
      "  --file F         one prompt per non-empty line of F\n"
      "  -n N             tokens to generate per prompt (default 32)\n"
      "  --seed S         sampling seed (default 0)\n"
      "  --temp T         temperature (default 0: greedy), 3 decimals\n"
      "  --top-p P        nucleus mass in (0, 1] (default 1), 3 decimals\n"
      "  --top-k K        top-k (default 0: none)\n"
      "  --provider HEX   the provider's node key\n"
      "  --node CONFIG    the local node's config (or --data-dir DIR)\n"
      "  --timeout MS     how long submit waits (default 60000)\n"
      "  --out FILE       where the transcript is written\n"
      "  --json           JSON output\n"
      "\n"
      "On a terminal, run-local shows the model's weights being read and\n"
      "the tokens generated on a line of stderr (not with --json, $CI or\n"
      "$GPUHOUR_NO_PROGRESS set, or $TERM=dumb).\n";

enum {
	OPT_MODEL = 256,
	OPT_MODEL_HASH,
	OPT_LEASE,
	OPT_PROMPT,
	OPT_FILE,
	OPT_SEED,
	OPT_TEMP,
	OPT_TOPP,
	OPT_TOPK,
	OPT_KEY,
	OPT_THREADS,
	OPT_OUT,
	OPT_IN,
	OPT_JSON,
	OPT_PROVIDER,
	OPT_NODE,
	OPT_DATADIR,
	OPT_TO,
	OPT_TIMEOUT,
	OPT_BACKEND,
	OPT_JOB,
};

static const struct option cli_job_opts[] = {
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "model-hash", required_argument, NULL, OPT_MODEL_HASH },
	{ "lease", required_argument, NULL, OPT_LEASE },
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "file", required_argument, NULL, OPT_FILE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "temp", required_argument, NULL, OPT_TEMP },
	{ "top-p", required_argument, NULL, OPT_TOPP },
	{ "top-k", required_argument, NULL, OPT_TOPK },
	{ "key", required_argument, NULL, OPT_KEY },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "in", required_argument, NULL, OPT_IN },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "provider", required_argument, NULL, OPT_PROVIDER },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "data-dir", required_argument, NULL, OPT_DATADIR },
	{ "to", required_argument, NULL, OPT_TO },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "job", required_argument, NULL, OPT_JOB },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

typedef struct {
	const char *model;
	const char *model_hash;
	const char *key;
	const char *out;
	const char *in;
	const char *provider;
	const char *jobid;
	const char *node;
	const char *datadir;
	const char *to;
	const char *file;
	int         threads;
	int         cuda;
	int         json;
	int         have_lease;
	uint32_t    timeout_ms;
	uint8_t    *filebuf;
	attest_job  job; /* prompts borrowed from argv / filebuf */
} cli_job_args;

static int
cli_job_milli(const char *s, uint32_t max, uint32_t *out)
{
	char  *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || !isfinite(v) || v < 0.0
	    || v * 1000.0 > (double) max) {
		return (GH_EINVAL);
	}
	*out = (uint32_t) llround(v * 1000.0);
	return (GH_OK);
}

static int
cli_job_u64(const char *s, uint64_t max, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (*s == '\0' || *s == '-') {
		return (GH_EINVAL);
	}
	v = strtoull(s, &end, 10);
	if (*end != '\0' || v > max) {
		return (GH_EINVAL);
	}
	*out = v;
	return (GH_OK);
}

static int
cli_job_add_prompt(cli_job_args *a, char *p, size_t n)
{
	attest_job *j = &a->job;

	if (n == 0) {
		return (GH_OK);
	}
	if (j->n_prompts >= ATTEST_JOB_PROMPTS_MAX
	    || n > ATTEST_JOB_PROMPT_MAX) {
		return (GH_ELIMIT);
	}
	j->prompt[j->n_prompts]       = p;
	j->prompt_len[j->n_prompts++] = (uint32_t) n;
	return (GH_OK);
}

/* One prompt per non-empty line of the file. */
static int
cli_job_read_file(cli_job_args *a)
{
	size_t n, start = 0;
	int    rv;

	if ((rv = gh_file_read(a->file, ATTEST_JOB_MAX, &a->filebuf, &n))
	    != GH_OK) {
		return (rv);
	}
	for (size_t i = 0; i <= n; i++) {
		if (i == n || a->filebuf[i] == '\n') {
			size_t e = i;
			if (e > start && a->filebuf[e - 1] == '\r') {
				e--;
			}
			if ((rv = cli_job_add_prompt(
			         a, (char *) a->filebuf + start, e - start))
			    != GH_OK) {
				return (rv);
			}
			start = i + 1;
		}
	}
	return (GH_OK);
}

static int
cli_job_model_hash(const char *path, int json, gh_hash *h, gpu_model **keep)
{
	gpu_model *m        = NULL;
	char       err[256] = "";
	int        rv;

	if ((rv = cli_progress_model_open(path, json, &m, err, sizeof(err)))
	    != GH_OK) {
		return (cli_fail(rv, "model %s %s", path, err));
	}
	if ((rv = gpu_model_hash(m, h)) != GH_OK) {
		gpu_model_close(m);
		return (cli_fail(rv, "model hash"));
	}
	if (keep != NULL) {
		*keep = m;
	} else {
		gpu_model_close(m);
	}
	return (CLI_EXIT_OK);
}

/* Prints the outputs (text when a model is at hand, else token ids). */
static void
cli_job_print(const attest_transcript *t, const gpu_model *m, int json)
{
	const gpu_tokenizer *tk = m != NULL ? gpu_model_tokenizer(m) : NULL;
	gh_hash              id;
	char                 hex[65];

	if (json) {
		printf("{\"results\":[");
	}
	for (uint32_t i = 0; i < t->n_results; i++) {
		const attest_result *r = &t->results[i];
		char                 buf[256];
		size_t               n;
		if (attest_proof_id(&r->proof, &id) != GH_OK) {
			memset(id.b, 0, 32);
		}
		gh_hex_encode(id.b, 32, hex);
		if (json) {
			printf("%s{\"proof\":\"%s\",\"n_in\":%u,\"n_out\":%u,"
			       "\"flops\":%" PRIu64 ",\"device_ns\":%" PRIu64
			       ",\"tokens\":[",
			    i ? "," : "", hex, r->n_in, r->n_out,
			    r->proof.flops, r->proof.device_ns);
			for (uint32_t k = 0; k < r->n_out; k++) {
				printf("%s%d", k ? "," : "", r->out[k]);
			}
			printf("]}");
			continue;
		}
		printf("prompt %u: %u in, %u out, proof %s\n", i, r->n_in,
		    r->n_out, hex);
		for (uint32_t k = 0; k < r->n_out; k++) {
			int32_t prev = k ? r->out[k - 1]
			                 : r->in[r->n_in ? r->n_in - 1 : 0];
			if (tk != NULL
			    && gpu_tok_decode(
			           tk, prev, r->out[k], buf, sizeof(buf), &n)
			        == GH_OK) {
				fwrite(buf, 1, n, stdout);
			} else {
				printf(" [%d]", r->out[k]);
			}
		}
		printf("\n");
	}
	if (json) {
		printf("]}\n");
	}
}

static int
cli_job_write(const char *path, const attest_transcript *t)
{
	uint8_t *p = NULL;
	size_t   n;
	int      rv;

	if (path == NULL) {
		return (CLI_EXIT_OK);
	}
	if ((rv = attest_transcript_encode(t, &p, &n)) != GH_OK) {
		return (cli_fail(rv, "transcript"));
	}
	rv = gh_file_write_atomic(path, p, n, 0600);
	free(p);
	if (rv != GH_OK) {
		return (cli_fail(rv, "write %s", path));
	}
	return (CLI_EXIT_OK);
}

static void
cli_job_progress(void *arg, uint64_t done, uint64_t total)
{
	(void) total;
	cli_progress_set(arg, done);
}

static int
cli_job_run_local(cli_job_args *a)
{
	cli_progress     *bar = NULL;
	gpu_model        *m   = NULL;
	gpu_ctx          *ctx = NULL;
	gh_ed_key        *k   = NULL;
	attest_exec       e;
	attest_transcript t;
	char              why[256] = "";
	gh_ed_pub         pub;
	char              hex[65];
	int               ex, rv;

	memset(&t, 0, sizeof(t));
	memset(&e, 0, sizeof(e));
	if ((ex = cli_job_model_hash(a->model, a->json, &e.model_hash, &m))
	    != CLI_EXIT_OK) {
		return (ex);
	}
	a->job.model = e.model_hash;
	if (a->key != NULL) {
		char           *pass = NULL;
		size_t          pl   = 0;
		gh_keyfile_info info;
		if ((rv = gh_keyfile_info_read(a->key, &info)) != GH_OK) {
			ex = cli_fail(rv, "key %s", a->key);
			goto out;
		}
		if (info.encrypted
		    && (rv = cli_pass_get(NULL, 0, &pass, &pl)) != GH_OK) {
			ex = cli_fail(rv, "passphrase");
			goto out;
		}
		rv = gh_keyfile_open_node(a->key, pass, pl, &k);
		cli_pass_free(pass);
		if (rv != GH_OK) {
			ex = cli_fail(rv, "key %s", a->key);
			goto out;
		}
	} else if ((rv = gh_ed_key_new(&k)) != GH_OK) {
		ex = cli_fail(rv, "key");
		goto out;
	}
	if (a->cuda
	    && (rv = gpu_backend_selftest(why, sizeof(why))) != GH_OK) {
		ex = cli_fail(rv, "CUDA backend: %s", why);
		goto out;
	}
	if ((rv = gpu_ctx_new(m, a->cuda ? GPU_BACKEND_CUDA : GPU_BACKEND_CPU,
	         0, a->threads, &ctx, why, sizeof(why)))
	    != GH_OK) {
		ex = cli_fail(rv, "context %s", why);
		goto out;
	}
	e.model      = m;
	e.ctx        = ctx;
	e.key        = k;
	e.device     = a->cuda ? "cuda:local" : "cpu:local";
	e.nvml_index = a->cuda ? 0 : -1;
	/* One bar over every token of every prompt. */
	bar            = cli_progress_new("generating", CLI_PROGRESS_COUNT,
	               (uint64_t) a->job.n_prompts * a->job.n_predict, a->json);
	e.progress     = cli_job_progress;
	e.progress_arg = bar;
	rv = attest_execute(&e, &a->job, NULL, &t, why, sizeof(why));
	cli_progress_free(bar);
	bar = NULL;
	if (rv != GH_OK) {
		ex = cli_fail(rv, "job refused: %s", why);
		goto out;
	}
	gh_ed_key_pub(k, &pub);
	gh_hex_encode(pub.b, 32, hex);
	if (!a->json) {
		printf("node %s\n", hex);
	}
	cli_job_print(&t, m, a->json);
	ex = cli_job_write(a->out, &t);
out:
	attest_transcript_clear(&t);
	gpu_ctx_free(ctx);
	gpu_model_close(m);
	gh_ed_key_free(k);
	return (ex);
}

static int
cli_job_datadir(const cli_job_args *a, char *out, size_t cap)
{
	node_config *c;
	char         err[256];
	char         home[PATH_MAX];
	char         path[PATH_MAX + 16];
	int          rv;

	if (a->datadir != NULL) {
		snprintf(out, cap, "%s", a->datadir);
		return (CLI_EXIT_OK);
	}
	if (a->node != NULL) {
		snprintf(path, sizeof(path), "%s", a->node);
	} else {
		if ((rv = cli_home(home, sizeof(home))) != GH_OK) {
			return (cli_fail(rv, "home folder"));
		}
		snprintf(path, sizeof(path), "%s/node.conf", home);
	}
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (cli_fail(GH_ENOMEM, "config"));
	}
	node_config_default(c);
	if ((rv = node_config_load(path, c, err, sizeof(err))) != GH_OK) {
		fprintf(stderr, "gpuhour: %s\n", err);
		free(c);
		return (rv == GH_EINVAL ? CLI_EXIT_USAGE : cli_exit_code(rv));
	}
	snprintf(out, cap, "%s", c->data_dir);
	free(c);
	return (CLI_EXIT_OK);
}

/* cancel: the local node asks the provider's node to drop or stop a
 * job it sent. */
static int
cli_job_cancel(cli_job_args *a)
{
	uint8_t req[64], *body = NULL;
	size_t  blen = 0;
	char    dir[PATH_MAX];
	int     status = GH_EINTERNAL, ex, rv;

	if (strlen(a->provider) != 64 || strlen(a->jobid) != 64
	    || gh_hex_decode(a->provider, req, 32) != GH_OK
	    || gh_hex_decode(a->jobid, req + 32, 32) != GH_OK) {
		return (cli_usage_error(
		    "job", "--provider and --job take 64 hex digits"));
	}
	if ((ex = cli_job_datadir(a, dir, sizeof(dir))) != CLI_EXIT_OK) {
		return (ex);
	}
	rv = node_ctl_call(dir, "job-cancel", req, sizeof(req), a->timeout_ms,
	    &status, &body, &blen);
	free(body);
	if (rv != GH_OK) {
		fprintf(
		    stderr, "gpuhour: node at %s: %s\n", dir, gh_strerror(rv));
		return (CLI_EXIT_NODE);
	}
	if (status != GH_OK) {
		return (cli_fail(status, "cancel job %s", a->jobid));
	}
	printf(a->json ? "{\"job\":\"%s\",\"cancelled\":true}\n"
	               : "job %s cancelled\n",
	    a->jobid);
	return (CLI_EXIT_OK);
}

/*
 * The renter's answer to verified proofs: on a metered lease whose
 * receipts this node signs, the node pays the attested device time
 * (a receipt to the provider's node).  A reserved lease is paid by
 * time, not here.
 */
static void
cli_job_pay(const char *dir, const attest_transcript *t, int json)
{
	uint8_t  req[41], *b = NULL;
	size_t   bl;
	uint64_t ns     = 0;
	int      status = GH_EINTERNAL, rv;

	for (uint32_t i = 0; i < t->n_results; i++) {
		ns += t->results[i].proof.device_ns;
	}
	memcpy(req, t->job.lease, 32);
	req[32] = NODE_LEASES_PAY_DEVICE_NS;
	gh_be64_put(req + 33, ns);
	rv = node_ctl_call(
	    dir, "lease-pay", req, sizeof(req), 30000, &status, &b, &bl);
	if (rv == GH_OK && status == GH_OK && bl == 16 && !json) {
		printf("paid: receipt %llu, %llu micro-units owed in all\n",
		    (unsigned long long) gh_be64_get(b),
		    (unsigned long long) gh_be64_get(b + 8));
	} else if (rv == GH_OK && status != GH_OK && status != GH_EINVAL
	    && status != GH_EUNSUPPORTED) {
		fprintf(stderr, "gpuhour: no receipt sent for this job: %s\n",
		    gh_strerror(status));
	}
	free(b);
}

static int
cli_job_submit(cli_job_args *a)
{
	gpu_model        *m = NULL;
	gh_ed_pub         prov;
	uint8_t           ppk[32], rpk[32], *rsk = NULL;
	uint8_t          *enc = NULL, *sealed = NULL, *req = NULL;
	uint8_t          *body = NULL, *plain = NULL;
	size_t            encn, sealedn, blen = 0, plainn = 0;
	char              dir[PATH_MAX];
	char              why[256];
	attest_transcript t;
	gh_reader         r;
	uint8_t           st;
	int               status, ex = CLI_EXIT_FAIL, rv;

	memset(&t, 0, sizeof(t));
	if (gh_hex_decode(a->provider, prov.b, 32) != GH_OK
	    || gh_ed_pub_to_x25519(&prov, ppk) != GH_OK) {
		return (cli_usage_error("job", "bad --provider key"));
	}
	if (a->model != NULL) {
		if ((ex = cli_job_model_hash(
		         a->model, a->json, &a->job.model, &m))
		    != CLI_EXIT_OK) {
			return (ex);
		}
	} else if (gh_hex_decode(a->model_hash, a->job.model.b, 32) != GH_OK) {
		return (cli_usage_error("job", "bad --model-hash"));
	}
	if ((ex = cli_job_datadir(a, dir, sizeof(dir))) != CLI_EXIT_OK) {
		goto out;
	}
	ex = CLI_EXIT_FAIL;
	if ((rsk = sodium_malloc(32)) == NULL) {
		ex = cli_fail(GH_ENOMEM, "reply key");
		goto out;
	}
	crypto_box_keypair(rpk, rsk);
	memcpy(a->job.reply_pk, rpk, 32);
	if ((rv = attest_job_encode(&a->job, &enc, &encn)) != GH_OK
	    || (rv = attest_seal(ppk, enc, encn, &sealed, &sealedn))
	        != GH_OK) {
		ex = cli_fail(rv, "job");
		goto out;
	}
	if ((req = malloc(32 + sealedn)) == NULL) {
		ex = cli_fail(GH_ENOMEM, "job");
		goto out;
	}
	memcpy(req, prov.b, 32);
	memcpy(req + 32, sealed, sealedn);
	{
		/* Its id, for `job cancel`. */
		gh_hash jid;
		char    hex[65];
		if (attest_job_id(&a->job, &jid) == GH_OK) {
			gh_hex_encode(jid.b, 32, hex);
			fprintf(stderr, "job %s\n", hex);
		}
	}
	rv = node_ctl_call(dir, "job", req, 32 + sealedn, a->timeout_ms,
	    &status, &body, &blen);
	if (rv != GH_OK) {
		fprintf(
		    stderr, "gpuhour: node at %s: %s\n", dir, gh_strerror(rv));
		ex = CLI_EXIT_NODE;
		goto out;
	}
	if (status != GH_OK) {
		ex = cli_fail(status, "job request to the provider");
		goto out;
	}
	gh_reader_init(&r, body, blen);
	if (gh_get_u8(&r, &st) != GH_OK) {
		ex = cli_fail(GH_EPROTO, "provider's reply");
		goto out;
	}
	if (st == NODE_JOBS_REFUSED) {
		uint32_t       err, wl;
		const uint8_t *w;
		if (gh_get_u32(&r, &err) != GH_OK
		    || gh_get_str(&r, NODE_JOBS_REASON_MAX, &w, &wl)
		        != GH_OK) {
			ex = cli_fail(GH_EPROTO, "provider's reply");
			goto out;
		}
		fprintf(stderr, "gpuhour: job %s by the provider: %.*s\n",
		    err == GH_ECANCELED ? "stopped" : "refused", (int) wl,
		    (const char *) w);
		ex = err == GH_ECANCELED ? CLI_EXIT_FAIL : CLI_EXIT_AUTH;
		goto out;
	}
	{
		const uint8_t *s;
		uint32_t       sl;
		if (st != NODE_JOBS_OK
		    || gh_get_str(&r, NODE_BODY_MAX, &s, &sl) != GH_OK
		    || gh_reader_end(&r) != GH_OK) {
			ex = cli_fail(GH_EPROTO, "provider's reply");
			goto out;
		}
		if ((rv = attest_seal_open(rpk, rsk, s, sl, &plain, &plainn))
		    != GH_OK) {
			ex = cli_fail(rv, "provider's reply");
			goto out;
		}
	}
	if ((rv = attest_job_decode(enc, encn, &t.job)) != GH_OK
	    || (rv = attest_results_decode(plain, plainn, &t)) != GH_OK) {
		ex = cli_fail(rv, "provider's results");
		goto out;
	}
	if (attest_transcript_verify(
	        &t, &prov, a->job.lease, 0, why, sizeof(why))
	    != GH_OK) {
		fprintf(stderr, "gpuhour: proof does not verify: %s\n", why);
		cli_job_write(a->out, &t);
		ex = CLI_EXIT_INVALID;
		goto out;
	}
	cli_job_print(&t, m, a->json);
	ex = cli_job_write(a->out, &t);
	if (ex == CLI_EXIT_OK) {
		cli_job_pay(dir, &t, a->json);
	}
out:
	attest_transcript_clear(&t);
	gpu_model_close(m);
	sodium_free(rsk);
	free(enc);
	free(sealed);
	free(req);
	free(body);
	free(plain);
	return (ex);
}

/* share: the transcript sealed to a third party's node key; open: the
 * reverse with that node's key file. */
static int
cli_job_share(cli_job_args *a, int open)
{
	uint8_t          *p = NULL, *c = NULL;
	size_t            n, cn;
	uint8_t           pk[32], *sk = NULL;
	gh_ed_pub         to;
	gh_ed_key        *k = NULL;
	attest_transcript t;
	int               rv, ex = CLI_EXIT_FAIL;

	if ((rv = gh_file_read(a->in, ATTEST_TRANSCRIPT_MAX + 64, &p, &n))
	    != GH_OK) {
		return (cli_fail(rv, "read %s", a->in));
	}
	if (!open) {
		if (gh_hex_decode(a->to, to.b, 32) != GH_OK
		    || gh_ed_pub_to_x25519(&to, pk) != GH_OK) {
			free(p);
			return (cli_usage_error("job", "bad --to key"));
		}
		if ((rv = attest_transcript_decode(p, n, &t)) != GH_OK) {
			ex = cli_fail(rv, "transcript %s", a->in);
			goto out;
		}
		attest_transcript_clear(&t);
		rv = attest_seal(pk, p, n, &c, &cn);
	} else {
		char           *pass = NULL;
		size_t          pl   = 0;
		gh_keyfile_info info;
		if ((rv = gh_keyfile_info_read(a->key, &info)) == GH_OK
		    && info.encrypted) {
			rv = cli_pass_get(NULL, 0, &pass, &pl);
		}
		if (rv == GH_OK) {
			rv = gh_keyfile_open_node(a->key, pass, pl, &k);
		}
		cli_pass_free(pass);
		if (rv != GH_OK) {
			ex = cli_fail(rv, "key %s", a->key);
			goto out;
		}
		if ((sk = sodium_malloc(32)) == NULL) {
			rv = GH_ENOMEM;
		} else if ((rv = gh_ed_to_x25519(k, pk, sk)) == GH_OK) {
			rv = attest_seal_open(pk, sk, p, n, &c, &cn);
		}
		sodium_free(sk);
		if (rv == GH_OK
		    && (rv = attest_transcript_decode(c, cn, &t)) == GH_OK) {
			attest_transcript_clear(&t);
		}
	}
	if (rv != GH_OK) {
		ex = cli_fail(rv, "%s", open ? "open" : "seal");
		goto out;
	}
	if ((rv = gh_file_write_atomic(a->out, c, cn, 0600)) != GH_OK) {
		ex = cli_fail(rv, "write %s", a->out);
		goto out;
	}
	ex = CLI_EXIT_OK;
out:
	gh_ed_key_free(k);
	free(p);
	free(c);
	return (ex);
}

int
cli_job_main(int argc, char **argv)
{
	cli_job_args a;
	const char  *sub;
	uint64_t     v;
	int          c, ex;

	memset(&a, 0, sizeof(a));
	a.job.n_predict   = 32;
	a.job.top_p_milli = 1000;
	a.timeout_ms      = 60000;
	if (argc < 2 || strcmp(argv[1], "--help") == 0
	    || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(cli_job_usage, argc < 2 ? stderr : stdout);
		return (argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK);
	}
	sub    = argv[1];
	optind = 2;
	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, "hn:", cli_job_opts, NULL)) != -1) {
		switch (c) {
		case OPT_MODEL:
			a.model = optarg;
			break;
		case OPT_MODEL_HASH:
			a.model_hash = optarg;
			break;
		case OPT_LEASE:
			if (gh_hex_decode(optarg, a.job.lease, 32) != GH_OK) {
				return (cli_usage_error(
				    "job", "--lease takes 64 hex digits"));
			}
			a.have_lease = 1;
			break;
		case OPT_PROMPT:
			if (cli_job_add_prompt(&a, optarg, strlen(optarg))
			    != GH_OK) {
				return (cli_usage_error(
				    "job", "too many or too long prompts"));
			}
			break;
		case OPT_FILE:
			a.file = optarg;
			break;
		case 'n':
			if (cli_job_u64(optarg, ATTEST_OUT_MAX, &v) != GH_OK
			    || v == 0) {
				return (cli_usage_error("job", "bad -n"));
			}
			a.job.n_predict = (uint32_t) v;
			break;
		case OPT_SEED:
			if (cli_job_u64(optarg, UINT64_MAX, &a.job.seed)
			    != GH_OK) {
				return (cli_usage_error("job", "bad --seed"));
			}
			break;
		case OPT_TEMP:
			if (cli_job_milli(
			        optarg, 100000, &a.job.temperature_milli)
			    != GH_OK) {
				return (cli_usage_error("job", "bad --temp"));
			}
			break;
		case OPT_TOPP:
			if (cli_job_milli(optarg, 1000, &a.job.top_p_milli)
			        != GH_OK
			    || a.job.top_p_milli == 0) {
				return (cli_usage_error("job", "bad --top-p"));
			}
			break;
		case OPT_TOPK:
			if (cli_job_u64(optarg, UINT32_MAX, &v) != GH_OK) {
				return (cli_usage_error("job", "bad --top-k"));
			}
			a.job.top_k = (uint32_t) v;
			break;
		case OPT_KEY:
			a.key = optarg;
			break;
		case OPT_THREADS:
			if (cli_job_u64(optarg, 1024, &v) != GH_OK) {
				return (
				    cli_usage_error("job", "bad --threads"));
			}
			a.threads = (int) v;
			break;
		case OPT_OUT:
			a.out = optarg;
			break;
		case OPT_IN:
			a.in = optarg;
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case OPT_PROVIDER:
			a.provider = optarg;
			break;
		case OPT_NODE:
			a.node = optarg;
			break;
		case OPT_DATADIR:
			a.datadir = optarg;
			break;
		case OPT_TO:
			a.to = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_job_u64(optarg, 3600000, &v) != GH_OK
			    || v == 0) {
				return (
				    cli_usage_error("job", "bad --timeout"));
			}
			a.timeout_ms = (uint32_t) v;
			break;
		case OPT_JOB:
			a.jobid = optarg;
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "cpu") != 0
			    && strcmp(optarg, "cuda") != 0) {
				return (cli_usage_error(
				    "job", "--backend is cpu or cuda"));
			}
			a.cuda = strcmp(optarg, "cuda") == 0;
			break;
		case 'h':
			fputs(cli_job_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "job", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (optind != argc) {
		return (cli_usage_error(
		    "job", "unexpected argument '%s'", argv[optind]));
	}
	if (strcmp(sub, "share") == 0 || strcmp(sub, "open") == 0) {
		int open = strcmp(sub, "open") == 0;
		if (a.in == NULL || a.out == NULL
		    || (open ? a.key == NULL : a.to == NULL)) {
			return (cli_usage_error("job",
			    "%s needs --in, --out and %s", sub,
			    open ? "--key" : "--to"));
		}
		return (cli_job_share(&a, open));
	}
	if (strcmp(sub, "cancel") == 0) {
		if (a.provider == NULL || a.jobid == NULL) {
			return (cli_usage_error(
			    "job", "cancel needs --provider and --job"));
		}
		return (cli_job_cancel(&a));
	}
	if (strcmp(sub, "run-local") != 0 && strcmp(sub, "submit") != 0) {
		return (cli_usage_error("job", "unknown command '%s'", sub));
	}
	if (a.file != NULL) {
		int rv = cli_job_read_file(&a);
		if (rv != GH_OK) {
			ex = cli_fail(rv, "prompts from %s", a.file);
			free(a.filebuf);
			return (ex);
		}
	}
	if (!a.have_lease || a.job.n_prompts == 0) {
		free(a.filebuf);
		return (
		    cli_usage_error("job", "--lease and a prompt are needed"));
	}
	if (strcmp(sub, "run-local") == 0) {
		if (a.model == NULL) {
			free(a.filebuf);
			return (
			    cli_usage_error("job", "run-local needs --model"));
		}
		ex = cli_job_run_local(&a);
	} else {
		if (a.provider == NULL
		    || (a.model == NULL) == (a.model_hash == NULL)) {
			free(a.filebuf);
			return (cli_usage_error("job",
			    "submit needs --provider and one of --model, "
			    "--model-hash"));
		}
		ex = cli_job_submit(&a);
	}
	free(a.filebuf);
	return (ex);
}
