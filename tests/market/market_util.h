/* market_util.h - offers for the market tests, benchmark and fuzz seeds. */
#ifndef GH_TESTS_MARKET_UTIL_H
#define GH_TESTS_MARKET_UTIL_H

#include <stdio.h>
#include <string.h>

#include "market/market.h"

#define MU_NOW 1800000000ULL

/* A valid offer for asset number i, not yet signed. */
static inline void
mu_offer(market_offer *o, uint64_t i)
{
	static const char *const models[]
	    = { "H100", "A100", "RTX4090", "L40S" };
	static const char *const regions[]
	    = { "eu-west", "us-east", "ap-south" };

	memset(o, 0, sizeof(*o));
	gh_be64_put(o->asset.b, i * 0x9e3779b97f4a7c15ULL);
	gh_be64_put(o->asset.b + 8, i);
	o->seq = 1;
	snprintf(o->gpu_model, sizeof(o->gpu_model), "%s", models[i % 4]);
	o->memory_mib  = 24576 + 8192 * (i % 7);
	o->throughput  = 1000 * (50 + i % 13);
	o->price       = 1000000 + 10000 * ((i * 7919) % 500);
	o->billing     = (uint8_t) (1 + i % 2);
	o->capacity    = 1;
	o->avail_from  = MU_NOW - 3600;
	o->avail_until = MU_NOW + 30 * 86400;
	o->min_lease   = 3600;
	o->max_lease   = 7 * 86400;
	snprintf(o->region, sizeof(o->region), "%s", regions[i % 3]);
	o->n_models = 1;
	memset(o->models[0].b, (int) (i % 5), 32);
	o->expiry = MU_NOW + 86400;
}

#endif
