/* nvml.c - GPU energy for proofs and owner reports, from the engine's
 * run-time NVML (cuda/nvml.c loads libnvidia-ml.so.1; one copy). */
#include "attest/attest.h"

#define ATTEST_NVML_DEVICES_MAX 64

int
attest_nvml_energy(uint64_t *mj, unsigned *ndev)
{
	gpu_nvml_device d;
	uint64_t        sum = 0;
	unsigned        n = 0, seen = 0;

	*mj   = 0;
	*ndev = 0;
	for (unsigned i = 0; i < ATTEST_NVML_DEVICES_MAX; i++) {
		if (gpu_nvml_query(i, &d) != GH_OK) {
			break;
		}
		seen++;
		if (d.have_energy) {
			sum += d.energy_mj;
			n++;
		}
	}
	if (seen == 0) {
		return (GH_EUNSUPPORTED);
	}
	if (n == 0) {
		return (GH_EDEVICE);
	}
	*mj   = sum;
	*ndev = n;
	return (GH_OK);
}
