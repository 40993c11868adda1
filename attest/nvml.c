/*
 * nvml.c - energy from NVML, loaded at run time (libnvidia-ml.so.1), so
 * a machine without the NVIDIA driver runs everything else.
 */
#include <dlfcn.h>
#include <string.h>

#include "attest/attest.h"

typedef int (*attest_nvml_fn0)(void);
typedef int (*attest_nvml_count_fn)(unsigned *);
typedef int (*attest_nvml_handle_fn)(unsigned, void **);
typedef int (*attest_nvml_energy_fn)(void *, unsigned long long *);

int
attest_nvml_energy(uint64_t *mj, unsigned *ndev)
{
	void                 *lib;
	attest_nvml_fn0       init, shut;
	attest_nvml_count_fn  count;
	attest_nvml_handle_fn handle;
	attest_nvml_energy_fn energy;
	unsigned              n   = 0;
	uint64_t              sum = 0;
	int                   rv  = GH_EUNSUPPORTED;

	*mj   = 0;
	*ndev = 0;
	if ((lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL))
	    == NULL) {
		return (GH_EUNSUPPORTED);
	}
	/* dlsym returns void *; converting through memcpy keeps -Wpedantic
	 * quiet about object-to-function pointer casts. */
	{
		void *p;
		p = dlsym(lib, "nvmlInit_v2");
		memcpy(&init, &p, sizeof(p));
		p = dlsym(lib, "nvmlShutdown");
		memcpy(&shut, &p, sizeof(p));
		p = dlsym(lib, "nvmlDeviceGetCount_v2");
		memcpy(&count, &p, sizeof(p));
		p = dlsym(lib, "nvmlDeviceGetHandleByIndex_v2");
		memcpy(&handle, &p, sizeof(p));
		p = dlsym(lib, "nvmlDeviceGetTotalEnergyConsumption");
		memcpy(&energy, &p, sizeof(p));
	}
	if (init == NULL || shut == NULL || count == NULL || handle == NULL
	    || energy == NULL || init() != 0) {
		goto out;
	}
	if (count(&n) != 0) {
		shut();
		goto out;
	}
	for (unsigned i = 0; i < n; i++) {
		void              *dev = NULL;
		unsigned long long e   = 0;
		if (handle(i, &dev) == 0 && energy(dev, &e) == 0) {
			sum += e;
			(*ndev)++;
		}
	}
	shut();
	if (*ndev > 0) {
		*mj = sum;
		rv  = GH_OK;
	} else {
		rv = GH_EDEVICE;
	}
out:
	dlclose(lib);
	return (rv);
}
