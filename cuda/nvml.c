/* nvml.c - NVML loaded at run time (libnvidia-ml.so.1), so that the
 * binary runs where the NVIDIA driver is absent.  The few functions
 * used are declared here: no NVML header is needed to build. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "cuda/priv.h"

typedef struct nvml_device_st *nvml_device;
typedef struct {
	unsigned long long total, free, used;
} nvml_memory;

typedef int (*nvml_init_fn)(void);
typedef int (*nvml_shutdown_fn)(void);
typedef int (*nvml_handle_fn)(unsigned int, nvml_device *);
typedef int (*nvml_str_fn)(nvml_device, char *, unsigned int);
typedef int (*nvml_mem_fn)(nvml_device, nvml_memory *);
typedef int (*nvml_energy_fn)(nvml_device, unsigned long long *);

static void *
nvml_sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	return (p);
}

int
gpu_nvml_query(unsigned i, gpu_nvml_device *out)
{
	void        *h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	nvml_init_fn init;
	nvml_shutdown_fn   shut;
	nvml_handle_fn     handle;
	nvml_str_fn        name, uuid;
	nvml_mem_fn        mem;
	nvml_energy_fn     energy;
	nvml_device        dev;
	nvml_memory        mi;
	unsigned long long e;
	int                rv = GH_ENOENT;

	memset(out, 0, sizeof(*out));
	if (h == NULL) {
		return (GH_ENOENT);
	}
	*(void **) &init   = nvml_sym(h, "nvmlInit_v2");
	*(void **) &shut   = nvml_sym(h, "nvmlShutdown");
	*(void **) &handle = nvml_sym(h, "nvmlDeviceGetHandleByIndex_v2");
	*(void **) &name   = nvml_sym(h, "nvmlDeviceGetName");
	*(void **) &uuid   = nvml_sym(h, "nvmlDeviceGetUUID");
	*(void **) &mem    = nvml_sym(h, "nvmlDeviceGetMemoryInfo");
	*(void **) &energy
	    = nvml_sym(h, "nvmlDeviceGetTotalEnergyConsumption");
	if (init == NULL || shut == NULL || handle == NULL || name == NULL
	    || init() != 0) {
		dlclose(h);
		return (GH_ENOENT);
	}
	if (handle(i, &dev) != 0
	    || name(dev, out->name, sizeof(out->name)) != 0) {
		goto out;
	}
	out->name[sizeof(out->name) - 1] = '\0';
	if (uuid != NULL && uuid(dev, out->uuid, sizeof(out->uuid)) == 0) {
		out->uuid[sizeof(out->uuid) - 1] = '\0';
	}
	if (mem != NULL && mem(dev, &mi) == 0) {
		out->mem_total = mi.total;
	}
	if (energy != NULL && energy(dev, &e) == 0) {
		out->have_energy = 1;
		out->energy_mj   = e;
	}
	rv = GH_OK;
out:
	shut();
	dlclose(h);
	return (rv);
}
