/* backend.c - contexts over a backend; the CUDA module loaded with
 * dlopen; the start-up self-test of the CUDA backend. */
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda/priv.h"

#ifndef GH_PREFIX
#define GH_PREFIX "/usr/local"
#endif
#define GPU_MODULE_NAME "gpuhour-cuda.so"

struct gpu_ctx {
	const gpu_model       *m;
	gpu_backend_kind       kind;
	const gpu_backend_ops *ops;
	void                  *st;
	void                  *dl;
	uint32_t               n_ctx;
	uint32_t               pos;
	int                    n_threads;
};

static int
be_err(int be)
{
	switch (be) {
	case GPU_BE_OK:
		return (GH_OK);
	case GPU_BE_EINVAL:
		return (GH_EINVAL);
	case GPU_BE_ENOMEM:
		return (GH_ENOMEM);
	case GPU_BE_LIMIT:
		return (GH_ELIMIT);
	default:
		return (GH_EDEVICE);
	}
}

/* Tries one path; on failure appends dlerror() to err. */
static void *
be_dlopen(const char *path, char *err, size_t cap)
{
	void  *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	size_t n;

	if (h == NULL && err != NULL && cap > 0) {
		const char *e = dlerror();
		n             = strlen(err);
		snprintf(
		    err + n, cap - n, "%s%s", n ? "; " : "", e ? e : path);
	}
	return (h);
}

int
gpu_cuda_load(void **dl, const gpu_backend_ops **ops, char *err, size_t cap)
{
	char              path[PATH_MAX + 32], exe[PATH_MAX];
	const char       *env = getenv("GPUHOUR_CUDA_MODULE");
	void             *h   = NULL;
	gpu_module_get_fn get;
	ssize_t           n;
	int               rv;

	*dl  = NULL;
	*ops = NULL;
	if (err != NULL && cap > 0) {
		err[0] = '\0';
	}
	if (env != NULL && env[0] != '\0') {
		h = be_dlopen(env, err, cap);
	} else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1))
		    > 0) {
			exe[n]   = '\0';
			char *sl = strrchr(exe, '/');
			if (sl != NULL) {
				*sl = '\0';
				snprintf(path, sizeof(path), "%s/%s", exe,
				    GPU_MODULE_NAME);
				h = be_dlopen(path, err, cap);
			}
		}
		if (h == NULL) {
			snprintf(path, sizeof(path), "%s/lib/gpuhour/%s",
			    GH_PREFIX, GPU_MODULE_NAME);
			h = be_dlopen(path, err, cap);
		}
	}
	if (h == NULL) {
		return (GH_EDEVICE);
	}
	*(void **) (&get) = dlsym(h, GPU_MODULE_SYMBOL);
	if (get == NULL) {
		gpu_errf(
		    err, cap, "the CUDA module has no %s", GPU_MODULE_SYMBOL);
		dlclose(h);
		return (GH_EDEVICE);
	}
	if ((rv = get(GPU_MODULE_ABI, ops, err, cap)) != GPU_BE_OK) {
		dlclose(h);
		*ops = NULL;
		return (be_err(rv) == GH_OK ? GH_EDEVICE : GH_EDEVICE);
	}
	*dl = h;
	return (GH_OK);
}

void
gpu_cuda_unload(void *dl)
{
	if (dl != NULL) {
		dlclose(dl);
	}
}

int
gpu_cuda_available(char *err, size_t cap)
{
	void                  *dl;
	const gpu_backend_ops *ops;
	int                    rv = gpu_cuda_load(&dl, &ops, err, cap);

	gpu_cuda_unload(dl);
	return (rv);
}

int
gpu_cuda_copy_bandwidth(double *bytes_per_s, char *err, size_t cap)
{
	void                  *dl;
	const gpu_backend_ops *ops;
	int                    rv;

	*bytes_per_s = 0;
	if ((rv = gpu_cuda_load(&dl, &ops, err, cap)) != GH_OK) {
		return (rv);
	}
	if (ops->copy_bandwidth == NULL) {
		gpu_errf(err, cap, "the CUDA module measures no bandwidth");
		rv = GH_EUNSUPPORTED;
	} else {
		rv = be_err(ops->copy_bandwidth(bytes_per_s, err, cap));
	}
	gpu_cuda_unload(dl);
	return (rv);
}

int
gpu_ctx_new(const gpu_model *m, gpu_backend_kind kind, uint32_t n_ctx,
    int n_threads, gpu_ctx **out, char *err, size_t cap)
{
	gpu_ctx *c;
	int      rv;

	*out = NULL;
	if (kind != GPU_BACKEND_CPU && kind != GPU_BACKEND_CUDA) {
		return (GH_EINVAL);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	c->m         = m;
	c->kind      = kind;
	c->n_threads = n_threads;
	c->n_ctx     = n_ctx ? n_ctx : gpu_model_info_get(m)->n_ctx;
	if (c->n_ctx > GPU_CTX_MAX) {
		c->n_ctx = GPU_CTX_MAX;
	}
	if (kind == GPU_BACKEND_CUDA) {
		if ((rv = gpu_cuda_load(&c->dl, &c->ops, err, cap)) != GH_OK) {
			goto fail;
		}
	} else {
		c->ops = &gpu_cpu_ops;
	}
	if ((rv = be_err(c->ops->create(
	         gpu_model_weights(m), c->n_ctx, n_threads, &c->st, err, cap)))
	    != GH_OK) {
		goto fail;
	}
	*out = c;
	return (GH_OK);
fail:
	gpu_cuda_unload(c->dl);
	free(c);
	return (rv);
}

void
gpu_ctx_free(gpu_ctx *c)
{
	if (c == NULL) {
		return;
	}
	if (c->st != NULL) {
		c->ops->destroy(c->st);
	}
	gpu_cuda_unload(c->dl);
	free(c);
}

gpu_backend_kind
gpu_ctx_backend(const gpu_ctx *c)
{
	return (c->kind);
}

void
gpu_ctx_reset(gpu_ctx *c)
{
	c->pos = 0;
}

uint32_t
gpu_ctx_pos(const gpu_ctx *c)
{
	return (c->pos);
}

int
gpu_ctx_forward(gpu_ctx *c, const int32_t *toks, uint32_t n, float *logits,
    int all_logits, float *hidden, uint64_t *device_ns)
{
	const gpu_model_info *in = gpu_model_info_get(c->m);
	float                *x  = NULL;
	int                   rv;

	if (device_ns != NULL) {
		*device_ns = 0;
	}
	if (n == 0 || toks == NULL) {
		return (GH_EINVAL);
	}
	if (n > c->n_ctx - c->pos) {
		return (GH_ELIMIT);
	}
	for (uint32_t i = 0; i < n; i++) {
		if (toks[i] < 0 || (uint32_t) toks[i] >= in->n_vocab) {
			return (GH_EINVAL);
		}
	}
	if ((x = malloc((size_t) n * in->n_embd * sizeof(float))) == NULL) {
		return (GH_ENOMEM);
	}
	for (uint32_t i = 0; i < n; i++) {
		gpu_model_embed(c->m, toks[i], x + (size_t) i * in->n_embd);
	}
	rv = be_err(c->ops->forward(
	    c->st, x, n, c->pos, logits, all_logits, hidden, device_ns));
	if (rv == GH_OK) {
		c->pos += n;
	}
	free(x);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Self-test: a tiny model on both backends. */

#define ST_PROMPT 8
#define ST_GEN    8
#define ST_MAX    1024 /* prompt plus generated tokens */

int
gpu_backend_compare(const gpu_test_spec *sp, uint32_t n_prompt, uint32_t n_gen,
    char *err, size_t cap)
{
	uint8_t   *p = NULL;
	size_t     n;
	gpu_model *m   = NULL;
	gpu_ctx   *cpu = NULL, *dev = NULL;
	float     *lc = NULL, *lg = NULL;
	int32_t   *tc = NULL, *tg = NULL;
	int        rv;
	uint32_t   V, ctx = n_prompt + n_gen;

	if (n_prompt == 0 || ctx > ST_MAX) {
		return (GH_EINVAL);
	}
	if ((rv = gpu_test_model_make(sp, &p, &n)) != GH_OK) {
		goto out;
	}
	if ((rv = gpu_model_from_memory(p, n, 1, &m, err, cap)) != GH_OK) {
		goto out;
	}
	V = gpu_model_info_get(m)->n_vocab;
	if ((lc = malloc((size_t) n_prompt * V * sizeof(float))) == NULL
	    || (lg = malloc((size_t) n_prompt * V * sizeof(float))) == NULL
	    || (tc = malloc(ctx * sizeof(int32_t))) == NULL
	    || (tg = malloc(ctx * sizeof(int32_t))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if ((rv = gpu_ctx_new(m, GPU_BACKEND_CPU, ctx, 0, &cpu, err, cap))
	        != GH_OK
	    || (rv = gpu_ctx_new(m, GPU_BACKEND_CUDA, ctx, 0, &dev, err, cap))
	        != GH_OK) {
		goto out;
	}
	for (uint32_t i = 0; i < n_prompt; i++) {
		tc[i] = tg[i] = (int32_t) (3 + i * 37 % (V - 3));
	}
	/* Prefill (the GEMM path) then greedy decode (the decode path). */
	for (uint32_t i = n_prompt; i <= ctx; i++) {
		int      first = i == n_prompt;
		uint32_t k     = first ? n_prompt : 1;
		int32_t *src_c = first ? tc : &tc[i - 1];
		int32_t *src_g = first ? tg : &tg[i - 1];
		if ((rv = gpu_ctx_forward(
		         cpu, src_c, k, lc, first, NULL, NULL))
		        != GH_OK
		    || (rv = gpu_ctx_forward(
		            dev, src_g, k, lg, first, NULL, NULL))
		        != GH_OK) {
			gpu_errf(err, cap, "forward pass failed: %s",
			    gh_strerror(rv));
			goto out;
		}
		for (size_t j = 0; j < (size_t) k * V; j++) {
			double d = fabs((double) lc[j] - (double) lg[j]);
			if (!(d <= 1e-3)) {
				gpu_errf(err, cap,
				    "%s model, step %u: logit %zu differs by "
				    "%g from the CPU reference",
				    gpu_type_name(sp->wtype), i - n_prompt,
				    j % V, d);
				rv = GH_EDEVICE;
				goto out;
			}
		}
		if (i == ctx) {
			break;
		}
		gpu_sample_params gp = { 0 };
		gpu_rng           r  = { 0 };
		const float *lcl     = lc + (first ? (size_t) (k - 1) * V : 0);
		const float *lgl     = lg + (first ? (size_t) (k - 1) * V : 0);
		gpu_sample(lcl, V, &gp, &r, NULL, &tc[i]);
		gpu_sample(lgl, V, &gp, &r, NULL, &tg[i]);
		if (tc[i] != tg[i]) {
			gpu_errf(err, cap,
			    "%s model: greedy token %u differs (%d on the "
			    "device, %d on the CPU)",
			    gpu_type_name(sp->wtype), i - n_prompt, tg[i],
			    tc[i]);
			rv = GH_EDEVICE;
			goto out;
		}
	}
	rv = GH_OK;
out:
	gpu_ctx_free(cpu);
	gpu_ctx_free(dev);
	gpu_model_close(m);
	free(lc);
	free(lg);
	free(tc);
	free(tg);
	return (rv);
}

int
gpu_backend_selftest(char *err, size_t cap)
{
	static const gpu_type types[]
	    = { GPU_TYPE_F32, GPU_TYPE_F16, GPU_TYPE_Q8_0 };
	int rv;

	if ((rv = gpu_cuda_available(err, cap)) != GH_OK) {
		return (rv);
	}
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		gpu_test_spec sp;
		gpu_test_spec_default(&sp);
		sp.wtype     = types[i];
		sp.embd_type = types[i];
		sp.seed      = 0x5e1f7e57ull + (uint64_t) types[i];
		if ((rv = gpu_backend_compare(
		         &sp, ST_PROMPT, ST_GEN, err, cap))
		    != GH_OK) {
			return (rv == GH_ENOMEM ? rv : GH_EDEVICE);
		}
	}
	gpu_errf(err, cap, "ok");
	return (GH_OK);
}
