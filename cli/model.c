/* model.c - `gpuhour model inspect|make-test`. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "cli/cli.h"
#include "cuda/cuda.h"

static const char cli_model_usage[]
    = "usage: gpuhour model inspect [--json] [--no-hash] FILE\n"
      "       gpuhour model make-test --out FILE [--preset tiny|15m|110m]\n"
      "                               [--type f32|f16|q8_0] [--seed N]\n"
      "       gpuhour model selftest\n"
      "\n"
      "inspect reads a GGUF model of the llama architecture (tensor\n"
      "types F32, F16, Q8_0) and prints its shapes, sizes, types, FLOPs\n"
      "per token and the model hash (BLAKE2b over a manifest of tensor\n"
      "hashes; reading every weight takes a while on a large model).\n"
      "make-test writes a model with deterministic random weights and a\n"
      "small English vocabulary, for demos and tests.  selftest runs\n"
      "tiny models on the CUDA backend and on the CPU reference and fails\n"
      "(exit 1) unless logits agree within 1e-3 and greedy tokens match,\n"
      "or when the CUDA module or a device is missing.\n"
      "\n"
      "  --json        machine-readable output\n"
      "  --no-hash     skip the model hash\n"
      "  --out FILE    where make-test writes the model\n"
      "  --preset P    tiny (default, ~0.2M parameters), 15m, 110m\n"
      "  --type T      weight type: f32 (default), f16, q8_0\n"
      "  --seed N      weight seed (default 1)\n";

enum {
	OPT_JSON = 256,
	OPT_NOHASH,
	OPT_OUT,
	OPT_PRESET,
	OPT_TYPE,
	OPT_SEED,
};

static const struct option cli_model_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "no-hash", no_argument, NULL, OPT_NOHASH },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "preset", required_argument, NULL, OPT_PRESET },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
cli_model_inspect(const char *path, int json, int hash)
{
	gpu_model            *m = NULL;
	char                  err[256], hex[65] = "";
	const gpu_model_info *in;
	gh_hash               h;
	size_t                counts[3] = { 0, 0, 0 };
	int                   rv;

	if ((rv = cli_progress_model_open(path, json, &m, err, sizeof(err)))
	    != GH_OK) {
		fprintf(stderr, "gpuhour: %s: %s (%s)\n", path, err,
		    gh_strerror(rv));
		return (rv == GH_EUNSUPPORTED
		        ? CLI_EXIT_FAIL
		        : (rv == GH_ENOENT ? CLI_EXIT_NOTFOUND
		                           : CLI_EXIT_INVALID));
	}
	in = gpu_model_info_get(m);
	for (size_t i = 0; i < gpu_gguf_tensor_count(gpu_model_gguf(m)); i++) {
		gpu_type t = gpu_gguf_tensor_at(gpu_model_gguf(m), i)->type;
		counts[t == GPU_TYPE_F32 ? 0 : (t == GPU_TYPE_F16 ? 1 : 2)]++;
	}
	if (hash) {
		if ((rv = gpu_model_hash(m, &h)) != GH_OK) {
			gpu_model_close(m);
			return (cli_fail(rv, "hashing %s", path));
		}
		gh_hex_encode(h.b, 32, hex);
	}
	if (json) {
		printf("{\"file\":");
		cli_json_string(stdout, path, strlen(path));
		printf(",\"name\":");
		cli_json_string(stdout, in->name, strlen(in->name));
		printf(",\"architecture\":\"llama\",\"gguf_version\":%u,"
		       "\"params\":%" PRIu64 ",\"file_bytes\":%" PRIu64
		       ",\"tensor_bytes\":%" PRIu64
		       ",\"bytes_per_token\":%" PRIu64
		       ",\"flops_per_token\":%" PRIu64 ",\"n_vocab\":%u,"
		       "\"n_ctx\":%u,\"n_embd\":%u,\"n_layer\":%u,\"n_ff\":%u,"
		       "\"n_head\":%u,\"n_head_kv\":%u,\"head_dim\":%u,"
		       "\"rope_dim\":%u,\"rope_base\":%g,\"norm_eps\":%g,"
		       "\"tied_output\":%s,\"weight_type\":\"%s\","
		       "\"tensors\":{\"F32\":%zu,\"F16\":%zu,\"Q8_0\":%zu}",
		    gpu_gguf_version(gpu_model_gguf(m)), in->n_params,
		    in->file_bytes, in->tensor_bytes, in->token_bytes,
		    gpu_model_flops(m, 0), in->n_vocab, in->n_ctx, in->n_embd,
		    in->n_layer, in->n_ff, in->n_head, in->n_head_kv,
		    in->head_dim, in->rope_dim, (double) in->rope_base,
		    (double) in->norm_eps, in->tied ? "true" : "false",
		    gpu_type_name(in->wtype), counts[0], counts[1], counts[2]);
		if (hash) {
			printf(",\"hash\":\"%s\"", hex);
		}
		printf("}\n");
	} else {
		printf("file          %s\n", path);
		printf("name          %s\n", in->name[0] ? in->name : "-");
		printf("architecture  llama (GGUF v%u)\n",
		    gpu_gguf_version(gpu_model_gguf(m)));
		printf("parameters    %" PRIu64 "\n", in->n_params);
		printf("file size     %" PRIu64 " bytes\n", in->file_bytes);
		printf("weights       %" PRIu64 " bytes, %" PRIu64
		       " read per token\n",
		    in->tensor_bytes, in->token_bytes);
		printf("FLOPs/token   %" PRIu64 " (at position 0)\n",
		    gpu_model_flops(m, 0));
		printf("vocabulary    %u\n", in->n_vocab);
		printf("context       %u\n", in->n_ctx);
		printf("embedding     %u\n", in->n_embd);
		printf("layers        %u\n", in->n_layer);
		printf("feed-forward  %u\n", in->n_ff);
		printf("heads         %u (KV heads %u, head dim %u)\n",
		    in->n_head, in->n_head_kv, in->head_dim);
		printf("rope          %u dims, base %g\n", in->rope_dim,
		    (double) in->rope_base);
		printf("norm epsilon  %g\n", (double) in->norm_eps);
		printf("output        %s\n",
		    in->tied ? "tied to token_embd" : "separate");
		printf("weight type   %s (tensors: %zu F32, %zu F16, %zu "
		       "Q8_0)\n",
		    gpu_type_name(in->wtype), counts[0], counts[1], counts[2]);
		if (hash) {
			printf("hash          %s\n", hex);
		}
	}
	gpu_model_close(m);
	return (CLI_EXIT_OK);
}

static int
cli_model_make(
    const char *out, const char *preset, const char *type, uint64_t seed)
{
	gpu_test_spec s;
	uint8_t      *p = NULL;
	size_t        n;
	int           rv;

	gpu_test_spec_default(&s);
	s.seed = seed;
	if (strcmp(preset, "tiny") == 0) {
		/* the defaults */
	} else if (strcmp(preset, "15m") == 0) {
		s.n_vocab = 32000, s.n_ctx = 256, s.n_embd = 288;
		s.n_layer = 6, s.n_ff = 768, s.n_head = 6, s.n_head_kv = 6;
	} else if (strcmp(preset, "110m") == 0) {
		s.n_vocab = 32000, s.n_ctx = 1024, s.n_embd = 768;
		s.n_layer = 12, s.n_ff = 2048, s.n_head = 12, s.n_head_kv = 12;
	} else {
		return (cli_usage_error("model",
		    "unknown --preset '%s' (tiny, 15m, 110m)", preset));
	}
	if (strcmp(type, "f32") == 0) {
		s.wtype = GPU_TYPE_F32;
	} else if (strcmp(type, "f16") == 0) {
		s.wtype = GPU_TYPE_F16;
	} else if (strcmp(type, "q8_0") == 0) {
		s.wtype = GPU_TYPE_Q8_0;
	} else {
		return (cli_usage_error(
		    "model", "unknown --type '%s' (f32, f16, q8_0)", type));
	}
	s.embd_type = s.wtype;
	if ((rv = gpu_test_model_make(&s, &p, &n)) != GH_OK) {
		return (cli_fail(rv, "making the model"));
	}
	rv = gh_file_write_atomic(out, p, n, 0644);
	free(p);
	if (rv != GH_OK) {
		return (cli_fail(rv, "%s", out));
	}
	printf("wrote %s (%zu bytes)\n", out, n);
	return (CLI_EXIT_OK);
}

int
cli_model_main(int argc, char **argv)
{
	int         c, json = 0, hash = 1, rv;
	const char *out = NULL, *preset = "tiny", *type = "f32", *action;
	uint64_t    seed = 1;
	char       *end;

	optind = 1;
	opterr = 0;
	/* GNU getopt permutes: options may come before or after the
	 * action and the file. */
	while (
	    (c = getopt_long(argc, argv, "h", cli_model_opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case OPT_NOHASH:
			hash = 0;
			break;
		case OPT_OUT:
			out = optarg;
			break;
		case OPT_PRESET:
			preset = optarg;
			break;
		case OPT_TYPE:
			type = optarg;
			break;
		case OPT_SEED:
			seed = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9'
			    || *end != '\0') {
				return (cli_usage_error(
				    "model", "bad --seed '%s'", optarg));
			}
			break;
		case 'h':
			fputs(cli_model_usage, stdout);
			return (CLI_EXIT_OK);
		default:
			return (cli_usage_error(
			    "model", "unknown option '%s'", argv[optind - 1]));
		}
	}
	if (optind >= argc) {
		return (cli_usage_error("model", "missing action"));
	}
	action = argv[optind++];
	if (strcmp(action, "inspect") == 0) {
		if (optind != argc - 1) {
			return (cli_usage_error(
			    "model", "inspect takes one FILE"));
		}
		return (cli_model_inspect(argv[optind], json, hash));
	}
	if (strcmp(action, "selftest") == 0) {
		char err[512];
		if (optind != argc) {
			return (cli_usage_error(
			    "model", "selftest takes no FILE"));
		}
		if ((rv = gpu_backend_selftest(err, sizeof(err))) != GH_OK) {
			fprintf(stderr, "gpuhour: CUDA self-test failed: %s\n",
			    err);
			return (CLI_EXIT_FAIL);
		}
		printf("CUDA self-test passed\n");
		return (CLI_EXIT_OK);
	}
	if (strcmp(action, "make-test") == 0) {
		if (out == NULL || optind != argc) {
			return (cli_usage_error(
			    "model", "make-test needs --out FILE"));
		}
		return (cli_model_make(out, preset, type, seed));
	}
	return (cli_usage_error("model", "unknown action '%s'", action));
}
