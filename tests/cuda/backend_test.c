/*
 * backend_test.c - the CUDA module's loading, fallback and self-test
 * wiring.  No GPU here: the real module must fail cleanly, and a
 * stand-in module built from the CPU kernels (tests/cuda/data) shows
 * that a good device is accepted and a faulty one refused.
 */
#include <math.h>
#include <stdlib.h>

#include "cuda/cuda.h"
#include "tests/harness.h"

/* Builds the stand-in module into the test folder; returns its path. */
static const char *
fake_module(int broken, int slot)
{
	const char *out = th_path(slot, broken ? "broken.so" : "good.so");
	char       *log = NULL;
	int         rc  = th_sh(&log,
	             "cc -std=c17 -O1 -shared -fPIC -fopenmp -D_GNU_SOURCE %s "
	                      "-I%s -o %s %s/tests/cuda/data/fake_module.c %s/cuda/cpu.c "
	                      "-lm 2>&1",
            broken ? "-DFAKE_BROKEN" : "", th_src(), out, th_src(), th_src());
	if (rc != 0) {
		fprintf(stderr, "%s\n", log ? log : "");
		out = NULL;
	}
	free(log);
	return (out);
}

/* The test models of the CUDA comparison: GQA and not, tied output and
 * not, each weight type. */
static void
agree_spec(int i, gpu_test_spec *s)
{
	static const gpu_type t[]
	    = { GPU_TYPE_F32, GPU_TYPE_F16, GPU_TYPE_Q8_0, GPU_TYPE_Q8_0 };
	static const uint32_t kv[] = { 4, 2, 1, 4 };
	static const int      ti[] = { 1, 0, 1, 0 };

	gpu_test_spec_default(s);
	s->n_embd    = 128;
	s->n_head    = 4;
	s->n_head_kv = kv[i];
	s->n_ff      = 256;
	s->n_ctx     = 128;
	s->tied      = ti[i];
	s->wtype     = t[i];
	s->embd_type = t[i];
	s->seed      = 0xa9ee0000ull + (uint64_t) i;
}

/* The loaded CUDA module against the CPU backend on the test model
 * agree_spec(i): an 8-token prefill, then 64 greedy steps. */
static int
agree_64(int i, char *err, size_t cap)
{
	gpu_test_spec s;

	agree_spec(i, &s);
	return (gpu_backend_compare(&s, 8, 64, err, cap));
}

TEST(cuda_missing_module_or_device_is_a_clear_error)
{
	char          err[512] = "";
	gpu_model    *m        = NULL;
	gpu_ctx      *c        = NULL;
	uint8_t      *p;
	size_t        n;
	gpu_test_spec s;

	setenv("GPUHOUR_CUDA_MODULE", "/nonexistent/gpuhour-cuda.so", 1);
	CHECK_ERR(gpu_cuda_available(err, sizeof(err)), GH_EDEVICE);
	CHECK(strstr(err, "/nonexistent/gpuhour-cuda.so") != NULL);
	CHECK_ERR(gpu_backend_selftest(err, sizeof(err)), GH_EDEVICE);
	double bw = 1;
	CHECK_ERR(gpu_cuda_copy_bandwidth(&bw, err, sizeof(err)), GH_EDEVICE);
	CHECK(bw == 0);
	gpu_test_spec_default(&s);
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	CHECK_OK(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)));
	CHECK_ERR(
	    gpu_ctx_new(m, GPU_BACKEND_CUDA, 16, 0, &c, err, sizeof(err)),
	    GH_EDEVICE);
	CHECK(c == NULL);
	unsetenv("GPUHOUR_CUDA_MODULE");
	/* The real module next to the binary (when nvcc built it) loads
	 * but finds no device here; either way an error, not a crash. */
	err[0] = '\0';
	int rv = gpu_cuda_available(err, sizeof(err));
	if (rv != GH_OK) {
		CHECK_EQ(rv, GH_EDEVICE);
		CHECK(strlen(err) > 0);
	}
	gpu_model_close(m);
	/* NVML is absent or has no such device. */
	gpu_nvml_device d;
	CHECK(gpu_nvml_query(4096, &d) == GH_ENOENT);
}

TEST_T(cuda_selftest_accepts_a_good_device_and_refuses_a_bad_one, 240)
{
	const char *good = fake_module(0, 0), *bad = fake_module(1, 1);
	char        err[512];

	CHECK(good != NULL && bad != NULL);
	setenv("GPUHOUR_CUDA_MODULE", good, 1);
	CHECK_OK(gpu_cuda_available(err, sizeof(err)));
	CHECK_OK(gpu_backend_selftest(err, sizeof(err)));
	/* The module's bandwidth reaches the caller (the stand-in's is the
	 * host's memcpy: more than 100 MB/s on any machine). */
	double bw = 0;
	CHECK_OK(gpu_cuda_copy_bandwidth(&bw, err, sizeof(err)));
	CHECK(bw > 1e8);
	setenv("GPUHOUR_CUDA_MODULE", bad, 1);
	CHECK_OK(gpu_cuda_available(err, sizeof(err)));
	CHECK_ERR(gpu_backend_selftest(err, sizeof(err)), GH_EDEVICE);
	CHECK(strstr(err, "differs") != NULL);
	unsetenv("GPUHOUR_CUDA_MODULE");
}

/* The comparison the real device must pass, run here through the
 * stand-in module: the good one agrees on every model over 64 greedy
 * steps, the faulty one is caught at its first logits. */
TEST_T(cuda_comparison_over_64_greedy_steps, 240)
{
	const char *good = fake_module(0, 2), *bad = fake_module(1, 3);
	char        err[512] = "";

	CHECK(good != NULL && bad != NULL);
	setenv("GPUHOUR_CUDA_MODULE", good, 1);
	for (int i = 0; i < 4; i++) {
		CHECK_OK(agree_64(i, err, sizeof(err)));
	}
	setenv("GPUHOUR_CUDA_MODULE", bad, 1);
	CHECK_ERR(agree_64(0, err, sizeof(err)), GH_EDEVICE);
	CHECK(strstr(err, "step 0: logit") != NULL);
	unsetenv("GPUHOUR_CUDA_MODULE");
}

TEST_T(cli_model_and_run, 240)
{
	char       *out   = NULL;
	const char *model = th_path(0, "m.gguf");
	const char *good  = fake_module(0, 1);

	CHECK_EQ(
	    th_sh(&out, "%s model make-test --out %s --type q8_0 --seed 9",
	        th_bin(), model),
	    0);
	free(out);
	CHECK_EQ(th_sh(&out, "%s model inspect %s", th_bin(), model), 0);
	CHECK(strstr(out, "llama") != NULL && strstr(out, "Q8_0") != NULL);
	CHECK(strstr(out, "hash ") != NULL);
	free(out);
	CHECK_EQ(
	    th_sh(&out, "%s model inspect --json %s", th_bin(), model), 0);
	CHECK(strstr(out, "\"n_layer\":2") != NULL);
	CHECK(strstr(out, "\"hash\":\"") != NULL);
	free(out);
	/* Seeded sampling reproduces; another seed differs. */
	char *a = NULL, *b = NULL, *c = NULL;
#define RUN_CMD                                                               \
	"%s run --model %s --prompt 'Once upon a time' -n 24 --temp 0.9 "     \
	"--top-p 0.95 --seed %d --json --threads %d"
	CHECK_EQ(th_sh(&a, RUN_CMD, th_bin(), model, 5, 1), 0);
	CHECK_EQ(th_sh(&b, RUN_CMD, th_bin(), model, 5, 2), 0);
	CHECK_EQ(th_sh(&c, RUN_CMD, th_bin(), model, 6, 2), 0);
	CHECK(strstr(a, "\"generated_tokens\":") != NULL);
	char *ta = strstr(a, "\"tokens\":["), *tb = strstr(b, "\"tokens\":[");
	char *tc = strstr(c, "\"tokens\":[");
	CHECK(ta && tb && tc);
	CHECK(strncmp(ta, tb, strcspn(ta, "]")) == 0);
	CHECK(strncmp(ta, tc, strcspn(ta, "]")) != 0);
	free(a);
	free(b);
	free(c);
	/* Streaming text, tokens per second at the end. */
	CHECK_EQ(th_sh(&out, "%s run --model %s --prompt hello -n 5", th_bin(),
	             model),
	    0);
	CHECK(strstr(out, "tok/s") != NULL);
	free(out);
	/* CUDA: no module or device means a clear fallback to the CPU. */
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_CUDA_MODULE=/nonexistent.so %s run --model %s "
	             "--prompt hello -n 3 --backend cuda",
	             th_bin(), model),
	    0);
	CHECK(strstr(out, "falling back to the CPU backend") != NULL);
	CHECK(strstr(out, "backend cpu") != NULL);
	free(out);
	/* With a (stand-in) device that passes the self-test, it is used. */
	CHECK(good != NULL);
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_CUDA_MODULE=%s %s run --model %s --prompt hello "
	             "-n 3 --backend cuda",
	             good, th_bin(), model),
	    0);
	CHECK(strstr(out, "backend cuda") != NULL);
	free(out);
	/* The self-test from the command line. */
	CHECK_EQ(th_sh(&out, "GPUHOUR_CUDA_MODULE=%s %s model selftest", good,
	             th_bin()),
	    0);
	CHECK(strstr(out, "passed") != NULL);
	free(out);
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_CUDA_MODULE=/nonexistent.so %s model selftest",
	             th_bin()),
	    1);
	CHECK(strstr(out, "self-test failed") != NULL);
	free(out);
	/* Errors. */
	CHECK_EQ(th_sh(NULL, "%s run --model %s", th_bin(), model), 2);
	CHECK_EQ(th_sh(NULL, "%s run --model %s --prompt x -n abc", th_bin(),
	             model),
	    2);
	CHECK_EQ(th_sh(NULL, "%s run --model %s --prompt x --backend tpu",
	             th_bin(), model),
	    2);
	CHECK_EQ(th_sh(NULL, "%s run --model %s --prompt x -n 100000",
	             th_bin(), model),
	    2);
	CHECK_EQ(
	    th_sh(NULL, "%s model inspect /nonexistent.gguf", th_bin()), 3);
	CHECK_EQ(
	    th_sh(NULL, "%s model inspect %s/Makefile", th_bin(), th_src()),
	    5);
	CHECK_EQ(th_sh(NULL, "%s model frob", th_bin()), 2);
	CHECK_EQ(th_sh(&out, "%s model --help", th_bin()), 0);
	CHECK(strstr(out, "make-test") != NULL);
	free(out);
	/* The binary itself links no CUDA library. */
	CHECK_EQ(th_sh(&out, "ldd %s", th_bin()), 0);
	CHECK(strstr(out, "libcuda") == NULL && strstr(out, "cublas") == NULL
	    && strstr(out, "nvidia-ml") == NULL);
	free(out);
}

/* On a machine with a GPU and the module built: the real CUDA backend
 * must pass its self-test, and its hidden states and logits of a Q8_0
 * model must stay within 1e-3 of the CPU's.  Elsewhere it says why it
 * did not run. */
TEST_T(cuda_real_device_when_present, 300)
{
	char          err[512];
	gpu_test_spec s;
	uint8_t      *p;
	size_t        n;
	gpu_model    *m   = NULL;
	gpu_ctx      *cpu = NULL, *dev = NULL;
	int32_t       toks[24];

	unsetenv("GPUHOUR_CUDA_MODULE");
	if (gpu_cuda_available(err, sizeof(err)) != GH_OK) {
		fprintf(stderr,
		    "cuda_real_device_when_present: no device (%s)\n", err);
		return;
	}
	CHECK_OK(gpu_backend_selftest(err, sizeof(err)));
	for (int i = 0; i < 4; i++) {
		int rv = agree_64(i, err, sizeof(err));
		if (rv != GH_OK) {
			fprintf(stderr, "cuda_real_device_when_present: %s\n",
			    err);
		}
		CHECK_OK(rv);
	}
	double bw = 0;
	CHECK_OK(gpu_cuda_copy_bandwidth(&bw, err, sizeof(err)));
	CHECK(bw > 1e9);
	gpu_test_spec_default(&s);
	s.wtype  = GPU_TYPE_Q8_0;
	s.n_embd = 128;
	s.n_head = 8;
	s.n_ff   = 256;
	CHECK_OK(gpu_test_model_make(&s, &p, &n));
	CHECK_OK(gpu_model_from_memory(p, n, 1, &m, err, sizeof(err)));
	uint32_t V  = gpu_model_info_get(m)->n_vocab;
	float   *lc = malloc((size_t) 24 * V * 4),
	      *lg   = malloc((size_t) 24 * V * 4);
	float *hc   = malloc((size_t) 24 * 128 * 4),
	      *hg   = malloc((size_t) 24 * 128 * 4);
	for (int i = 0; i < 24; i++) {
		toks[i] = (int32_t) ((i * 97 + 5) % V);
	}
	CHECK_OK(
	    gpu_ctx_new(m, GPU_BACKEND_CPU, 64, 0, &cpu, err, sizeof(err)));
	CHECK_OK(
	    gpu_ctx_new(m, GPU_BACKEND_CUDA, 64, 0, &dev, err, sizeof(err)));
	uint64_t ns = 0;
	CHECK_OK(gpu_ctx_forward(cpu, toks, 24, lc, 1, hc, NULL));
	CHECK_OK(gpu_ctx_forward(dev, toks, 24, lg, 1, hg, &ns));
	CHECK(ns > 0);
	for (size_t i = 0; i < (size_t) 24 * V; i++) {
		CHECK(fabsf(lc[i] - lg[i]) <= 1e-3f);
	}
	for (size_t i = 0; i < (size_t) 24 * 128; i++) {
		CHECK(fabsf(hc[i] - hg[i]) <= 1e-3f);
	}
	/* Decode path: one token. */
	CHECK_OK(gpu_ctx_forward(cpu, toks, 1, lc, 0, NULL, NULL));
	CHECK_OK(gpu_ctx_forward(dev, toks, 1, lg, 0, NULL, NULL));
	for (size_t i = 0; i < V; i++) {
		CHECK(fabsf(lc[i] - lg[i]) <= 1e-3f);
	}
	free(lc);
	free(lg);
	free(hc);
	free(hg);
	gpu_ctx_free(cpu);
	gpu_ctx_free(dev);
	gpu_model_close(m);
}
