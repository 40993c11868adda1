/*
 * fake_module.c - a stand-in CUDA module for the tests of the loader
 * and the self-test on machines without a GPU: it is built by the test
 * together with cuda/cpu.c and serves the CPU backend's kernels through
 * the module interface.  With FAKE_BROKEN its logits are off by 0.01,
 * as a faulty device's would be.  Its copy bandwidth is the host's,
 * measured with memcpy.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cuda/priv.h"

int gpu_cuda_module_get(
    int abi, const gpu_backend_ops **ops, char *err, size_t cap);

void
gpu_errf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (buf == NULL || cap == 0) {
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
}

static int
fake_forward(void *st, const float *x, uint32_t n, uint32_t pos0,
    float *logits, int all, float *hidden, uint64_t *ns)
{
	int rv = gpu_cpu_ops.forward(st, x, n, pos0, logits, all, hidden, ns);
#ifdef FAKE_BROKEN
	if (logits != NULL) {
		logits[0] += 0.01f;
	}
#endif
	return (rv);
}

/* Bytes read plus written per second by one memcpy of 64 MiB. */
static int
fake_copy_bandwidth(double *bps, char *err, size_t cap)
{
	/* Through a volatile pointer: the copy cannot be optimized away. */
	void *(*volatile copy)(void *, const void *, size_t) = memcpy;
	const size_t    n = (size_t) 64 << 20;
	char           *a = malloc(n), *b = malloc(n);
	struct timespec t0, t1;
	double          s;

	*bps = 0;
	if (a == NULL || b == NULL) {
		free(a);
		free(b);
		gpu_errf(err, cap, "no memory");
		return (GPU_BE_ENOMEM);
	}
	memset(a, 1, n);
	memset(b, 2, n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	copy(b, a, n);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double) (t1.tv_sec - t0.tv_sec)
	    + (double) (t1.tv_nsec - t0.tv_nsec) * 1e-9;
	*bps = b[n - 1] == 1 && s > 0 ? 2.0 * (double) n / s : 0;
	free(a);
	free(b);
	return (*bps > 0 ? GPU_BE_OK : GPU_BE_DEVICE);
}

static gpu_backend_ops fake_ops;

int
gpu_cuda_module_get(
    int abi, const gpu_backend_ops **ops, char *err, size_t cap)
{
	if (abi != GPU_MODULE_ABI) {
		gpu_errf(err, cap, "abi");
		return (GPU_BE_DEVICE);
	}
	fake_ops                = gpu_cpu_ops;
	fake_ops.name           = "fake";
	fake_ops.forward        = fake_forward;
	fake_ops.copy_bandwidth = fake_copy_bandwidth;
	*ops                    = &fake_ops;
	return (GPU_BE_OK);
}
