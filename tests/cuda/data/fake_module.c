/*
 * fake_module.c - a stand-in CUDA module for the tests of the loader
 * and the self-test on machines without a GPU: it is built by the test
 * together with cuda/cpu.c and serves the CPU backend's kernels through
 * the module interface.  With FAKE_BROKEN its logits are off by 0.01,
 * as a faulty device's would be.
 */
#include <stdarg.h>
#include <stdio.h>

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

static gpu_backend_ops fake_ops;

int
gpu_cuda_module_get(
    int abi, const gpu_backend_ops **ops, char *err, size_t cap)
{
	if (abi != GPU_MODULE_ABI) {
		gpu_errf(err, cap, "abi");
		return (GPU_BE_DEVICE);
	}
	fake_ops         = gpu_cpu_ops;
	fake_ops.name    = "fake";
	fake_ops.forward = fake_forward;
	*ops             = &fake_ops;
	return (GPU_BE_OK);
}
