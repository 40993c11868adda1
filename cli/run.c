/* run.c - `gpuhour run`: a prompt through a model, tokens streamed. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cuda/cuda.h"

static const char cli_run_usage[]
    = "usage: gpuhour run --model FILE --prompt TEXT [-n N] [--seed S]\n"
      "                   [--temp T] [--top-p P] [--top-k K]\n"
      "                   [--backend cpu|cuda] [--threads N] [--json]\n"
      "\n"
      "Runs TEXT through a GGUF llama model and streams the generated\n"
      "text to stdout; the speed goes to stderr at the end.  Sampling is\n"
      "on the host from fp32 logits with a seeded generator, so (model,\n"
      "prompt, parameters, seed) gives the same tokens again on the same\n"
      "backend.  --backend cuda loads the CUDA module, runs its self-test\n"
      "against the CPU reference, and falls back to the CPU with a\n"
      "message when the module, a device or the self-test fails.\n"
      "\n"
      "  --model FILE    GGUF model (llama; F32, F16, Q8_0)\n"
      "  --prompt TEXT   the prompt (a BOS token is added first)\n"
      "  -n N            tokens to generate (default 32); stops at EOS\n"
      "  --seed S        sampling seed (default 0)\n"
      "  --temp T        temperature; 0 (default) is greedy\n"
      "  --top-p P       nucleus sampling mass, (0, 1] (default 1)\n"
      "  --top-k K       keep the K most likely tokens (default 0: all)\n"
      "  --backend B     cpu (default) or cuda\n"
      "  --threads N     CPU threads (default: all)\n"
      "  --json          one JSON object at the end instead of the text\n"
      "\n"
      "On a terminal, a line on stderr shows the weights being read and,\n"
      "when stdout is not the terminal, the tokens generated (not with\n"
      "--json, $CI or $GPUHOUR_NO_PROGRESS set, or $TERM=dumb).\n";

enum {
	OPT_MODEL = 256,
	OPT_PROMPT,
	OPT_SEED,
	OPT_TEMP,
	OPT_TOPP,
	OPT_TOPK,
	OPT_BACKEND,
	OPT_THREADS,
	OPT_JSON,
};

static const struct option cli_run_opts[] = {
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "prompt", required_argument, NULL, OPT_PROMPT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "temp", required_argument, NULL, OPT_TEMP },
	{ "top-p", required_argument, NULL, OPT_TOPP },
	{ "top-k", required_argument, NULL, OPT_TOPK },
	{ "backend", required_argument, NULL, OPT_BACKEND },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
cli_run_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;

	if (s[0] < '0' || s[0] > '9') {
		return (0);
	}
	*v = strtoull(s, &end, 10);
	return (*end == '\0' && *v <= max);
}

static int
cli_run_float(const char *s, float lo, float hi, float *v)
{
	char *end;
	*v = strtof(s, &end);
	return (s[0] != '\0' && *end == '\0' && isfinite(*v) && *v >= lo
	    && *v <= hi);
}

typedef struct {
	const char       *model, *prompt;
	uint64_t          n, threads;
	gpu_sample_params sp;
	gpu_backend_kind  backend;
	int               json;
} cli_run_args;

static int
cli_run_go(const cli_run_args *a)
{
	gpu_model            *m   = NULL;
	gpu_ctx              *c   = NULL;
	cli_progress         *bar = NULL;
	const gpu_model_info *in;
	const gpu_tokenizer  *tk;
	char                  err[512], piece[512];
	int32_t              *toks   = NULL;
	float                *logits = NULL;
	gpu_sample_scratch   *sc     = NULL;
	size_t                np = 0, cap, plen = strlen(a->prompt), pn;
	uint64_t              dev_ns = 0, ns, t_prompt, t_gen, flops = 0;
	gpu_rng               rng;
	gpu_backend_kind      kind = a->backend;
	int                   rv, ex = CLI_EXIT_FAIL;
	uint32_t              ngen = 0, n_ctx;
	char                 *text = NULL;
	size_t                tlen = 0;
	gpu_nvml_device       nv0, nv1;
	int                   have_nv = 0;

	if ((rv = cli_progress_model_open(
	         a->model, a->json, &m, err, sizeof(err)))
	    != GH_OK) {
		fprintf(stderr, "gpuhour: %s: %s (%s)\n", a->model, err,
		    gh_strerror(rv));
		return (rv == GH_ENOENT
		        ? CLI_EXIT_NOTFOUND
		        : (rv == GH_EUNSUPPORTED ? CLI_EXIT_FAIL
		                                 : CLI_EXIT_INVALID));
	}
	in  = gpu_model_info_get(m);
	tk  = gpu_model_tokenizer(m);
	cap = plen + 2;
	if ((toks = malloc((cap + a->n) * sizeof(*toks))) == NULL
	    || (logits = malloc((size_t) in->n_vocab * sizeof(float))) == NULL
	    || (sc = calloc(2 * (size_t) in->n_vocab, sizeof(*sc))) == NULL
	    || (text = malloc(a->n * 512 + 1)) == NULL) {
		ex = cli_fail(GH_ENOMEM, "buffers");
		goto out;
	}
	if ((rv = gpu_tok_encode(tk, a->prompt, plen, 1, toks, cap, &np))
	    != GH_OK) {
		ex = cli_fail(rv, "tokenizing the prompt");
		goto out;
	}
	if (np + a->n > in->n_ctx) {
		ex = cli_usage_error("run",
		    "prompt (%zu tokens) + -n %" PRIu64
		    " exceeds the model's context of %u",
		    np, a->n, in->n_ctx);
		goto out;
	}
	n_ctx = (uint32_t) (np + a->n);
	if (kind == GPU_BACKEND_CUDA
	    && gpu_backend_selftest(err, sizeof(err)) != GH_OK) {
		fprintf(stderr,
		    "gpuhour: CUDA backend unavailable (%s); falling back to "
		    "the CPU backend\n",
		    err);
		kind = GPU_BACKEND_CPU;
	}
	rv = gpu_ctx_new(
	    m, kind, n_ctx, (int) a->threads, &c, err, sizeof(err));
	if (rv != GH_OK && kind == GPU_BACKEND_CUDA) {
		fprintf(stderr,
		    "gpuhour: CUDA backend unavailable (%s); falling back to "
		    "the CPU backend\n",
		    err);
		kind = GPU_BACKEND_CPU;
		rv   = gpu_ctx_new(
		      m, kind, n_ctx, (int) a->threads, &c, err, sizeof(err));
	}
	if (rv != GH_OK) {
		ex = cli_fail(rv, "backend");
		goto out;
	}
	/* NVML, when present, names the device and reads its energy
	 * counter (self-reported) before and after. */
	if (kind == GPU_BACKEND_CUDA && gpu_nvml_query(0, &nv0) == GH_OK) {
		have_nv = 1;
	}
	gpu_rng_seed(&rng, a->sp.seed);
	t_prompt = gh_mono_ns();
	if ((rv = gpu_ctx_forward(
	         c, toks, (uint32_t) np, logits, 0, NULL, &ns))
	    != GH_OK) {
		ex = cli_fail(rv, "forward pass");
		goto out;
	}
	for (size_t i = 0; i < np; i++) {
		flops += gpu_model_flops(m, (uint32_t) i);
	}
	dev_ns += ns;
	t_prompt = gh_mono_ns() - t_prompt;
	/* Text streamed to the terminal shows its own progress; a bar only
	 * when it goes elsewhere. */
	if (!isatty(STDOUT_FILENO)) {
		bar = cli_progress_new(
		    "generating", CLI_PROGRESS_COUNT, a->n, a->json);
	}
	t_gen = gh_mono_ns();
	for (uint64_t i = 0; i < a->n; i++) {
		int32_t t;
		if ((rv = gpu_sample(
		         logits, in->n_vocab, &a->sp, &rng, sc, &t))
		    != GH_OK) {
			ex = cli_fail(rv, "sampling");
			goto out;
		}
		toks[np + ngen++] = t;
		cli_progress_set(bar, t == gpu_tok_eos(tk) ? a->n : ngen);
		if (t == gpu_tok_eos(tk)) {
			break;
		}
		if (gpu_tok_decode(
		        tk, toks[np + ngen - 2], t, piece, sizeof(piece), &pn)
		    == GH_OK) {
			memcpy(text + tlen, piece, pn);
			tlen += pn;
			if (!a->json) {
				fwrite(piece, 1, pn, stdout);
				fflush(stdout);
			}
		}
		if (i + 1 == a->n) {
			break; /* the last token needs no forward pass */
		}
		if ((rv = gpu_ctx_forward(c, &t, 1, logits, 0, NULL, &ns))
		    != GH_OK) {
			ex = cli_fail(rv, "forward pass");
			goto out;
		}
		flops += gpu_model_flops(m, (uint32_t) (np + i));
		dev_ns += ns;
	}
	t_gen = gh_mono_ns() - t_gen;
	cli_progress_free(bar);
	bar          = NULL;
	double gen_s = (double) t_gen / 1e9, pr_s = (double) t_prompt / 1e9;
	double tps = gen_s > 0 ? ngen / gen_s : 0;
	if (a->json) {
		printf("{\"backend\":\"%s\",\"prompt_tokens\":%zu,"
		       "\"generated_tokens\":%u,\"seed\":%" PRIu64
		       ",\"temperature\":%g,\"top_p\":%g,\"top_k\":%u,"
		       "\"tokens\":[",
		    kind == GPU_BACKEND_CUDA ? "cuda" : "cpu", np, ngen,
		    a->sp.seed, (double) a->sp.temperature,
		    (double) a->sp.top_p, a->sp.top_k);
		for (uint32_t i = 0; i < ngen; i++) {
			printf("%s%d", i ? "," : "", toks[np + i]);
		}
		printf("],\"text\":");
		cli_json_string(stdout, text, tlen);
		printf(",\"tokens_per_second\":%.3f,\"prompt_seconds\":%.6f,"
		       "\"device_ns\":%" PRIu64 ",\"flops\":%" PRIu64,
		    tps, pr_s, dev_ns, flops);
		if (have_nv && gpu_nvml_query(0, &nv1) == GH_OK) {
			printf(",\"device\":");
			cli_json_string(stdout, nv1.name, strlen(nv1.name));
			if (nv0.have_energy && nv1.have_energy
			    && nv1.energy_mj >= nv0.energy_mj) {
				printf(",\"energy_mj_self_reported\":%" PRIu64,
				    nv1.energy_mj - nv0.energy_mj);
			}
		}
		printf("}\n");
	} else {
		printf("\n");
		fprintf(stderr,
		    "%u tokens in %.3f s: %.2f tok/s (prompt %zu tokens in "
		    "%.3f s, backend %s)\n",
		    ngen, gen_s, tps, np, pr_s,
		    kind == GPU_BACKEND_CUDA ? "cuda" : "cpu");
	}
	ex = CLI_EXIT_OK;
out:
	cli_progress_free(bar);
	gpu_ctx_free(c);
	gpu_model_close(m);
	free(toks);
	free(logits);
	free(sc);
	free(text);
	return (ex);
}

int
cli_run_main(int argc, char **argv)
{
	cli_run_args a;
	int          c;
	uint64_t     v;

	memset(&a, 0, sizeof(a));
	a.n        = 32;
	a.sp.top_p = 1.0f;
	optind     = 1;
	opterr     = 0;
	while (
	    (c = getopt_long(argc, argv, "hn:", cli_run_opts, NULL)) != -1) {
		switch (c) {
		case OPT_MODEL:
			a.model = optarg;
			break;
		case OPT_PROMPT:
			a.prompt = optarg;
			break;
		case 'n':
			if (!cli_run_u64(optarg, GPU_CTX_MAX, &a.n)) {
				return (cli_usage_error(
				    "run", "bad -n '%s'", optarg));
			}
			break;
		case OPT_SEED:
			if (!cli_run_u64(optarg, UINT64_MAX, &a.sp.seed)) {
				return (cli_usage_error(
				    "run", "bad --seed '%s'", optarg));
			}
			break;
		case OPT_TEMP:
			if (!cli_run_float(
			        optarg, 0.0f, 100.0f, &a.sp.temperature)) {
				return (cli_usage_error(
				    "run", "bad --temp '%s'", optarg));
			}
			break;
		case OPT_TOPP:
			if (!cli_run_float(optarg, 1e-6f, 1.0f, &a.sp.top_p)) {
				return (cli_usage_error(
				    "run", "bad --top-p '%s'", optarg));
			}
			break;
		case OPT_TOPK:
			if (!cli_run_u64(optarg, UINT32_MAX, &v)) {
				return (cli_usage_error(
				    "run", "bad --top-k '%s'", optarg));
			}
			a.sp.top_k = (uint32_t) v;
			break;
		case OPT_BACKEND:
			if (strcmp(optarg, "cpu") == 0) {
				a.backend = GPU_BACKEND_CPU;
			} else if (strcmp(optarg, "cuda") == 0) {
				a.backend = GPU_BACKEND_CUDA;
			} else {
				return (cli_usage_error("run",
				    "unknown --backend '%s' (cpu, cuda)",
				    optarg));
			}
			break;
		case OPT_THREADS:
			if (!cli_run_u64(optarg, 1024, &a.threads)) {
				return (cli_usage_error(
				    "run", "bad --threads '%s'", optarg));
			}
			break;
		case OPT_JSON:
			a.json = 1;
			break;
		case 'h':
			fputs(cli_run_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "run", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (optind != argc) {
		return (cli_usage_error(
		    "run", "unexpected argument '%s'", argv[optind]));
	}
	if (a.model == NULL || a.prompt == NULL) {
		return (
		    cli_usage_error("run", "--model and --prompt are needed"));
	}
	return (cli_run_go(&a));
}
