/* hw.c - what the node knows of its own machine: a GPU the NVIDIA
 * driver lists (/proc/driver/nvidia/gpus/<bus>/information), else the
 * CPU of /proc/cpuinfo and the memory of /proc/meminfo.  Read from the
 * system, never typed in. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/priv.h"

/* The value after "key<spaces>:" on the first line starting with key. */
static int
node_hw_field(const char *path, const char *key, char *out, size_t cap)
{
	FILE  *f = fopen(path, "r");
	char   line[512];
	size_t kl = strlen(key);
	int    rv = GH_ENOENT;

	if (f == NULL) {
		return (GH_ENOENT);
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char  *v;
		size_t n;
		if (strncmp(line, key, kl) != 0
		    || (v = strchr(line + kl, ':')) == NULL) {
			continue;
		}
		v++;
		while (*v == ' ' || *v == '\t') {
			v++;
		}
		n = strcspn(v, "\r\n");
		/* Printable ASCII only: it is signed and shown elsewhere. */
		for (size_t i = 0; i < n; i++) {
			if (v[i] < 0x20 || v[i] > 0x7e) {
				v[i] = '?';
			}
		}
		snprintf(out, cap, "%.*s", (int) n, v);
		rv = GH_OK;
		break;
	}
	fclose(f);
	return (rv);
}

int
node_hw_describe(char *model, size_t cap, uint64_t *mem_mib, int *gpu)
{
	DIR           *d;
	struct dirent *de;
	char           v[256];

	*gpu     = 0;
	*mem_mib = 0;
	snprintf(model, cap, "unknown");
	if ((d = opendir("/proc/driver/nvidia/gpus")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			char path[512];
			if (de->d_name[0] == '.') {
				continue;
			}
			snprintf(path, sizeof(path),
			    "/proc/driver/nvidia/gpus/%.200s/information",
			    de->d_name);
			if (node_hw_field(path, "Model", v, sizeof(v))
			    == GH_OK) {
				snprintf(model, cap, "%s", v);
				*gpu = 1;
				break;
			}
		}
		closedir(d);
	}
	if (!*gpu
	    && node_hw_field("/proc/cpuinfo", "model name", v, sizeof(v))
	        == GH_OK) {
		snprintf(model, cap, "cpu: %s", v);
	}
	/* The driver's file does not give the GPU's memory: left 0 there
	 * (a measured figure belongs to the engine). */
	if (!*gpu
	    && node_hw_field("/proc/meminfo", "MemTotal", v, sizeof(v))
	        == GH_OK) {
		*mem_mib = strtoull(v, NULL, 10) / 1024; /* "N kB" */
	}
	return (GH_OK);
}
