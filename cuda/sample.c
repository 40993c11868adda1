/* sample.c - token sampling on the host from fp32 logits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda.h"

void
gpu_rng_seed(gpu_rng *r, uint64_t seed)
{
	r->s = seed;
}

/* splitmix64: small, fast, and the same on every platform. */
uint64_t
gpu_rng_next(gpu_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z          = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z          = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return (z ^ (z >> 31));
}

/* sc[0..n) in order of higher probability first, then the lower id:
 * a stable LSD radix sort on the probability's bits (all of them are
 * finite and >= 0, so the bits order like the values), tmp[0..n) its
 * other buffer.  The input is in id order, so ties keep it.  Bytes that
 * every key shares are skipped. */
static void
sample_sort(gpu_sample_scratch *sc, gpu_sample_scratch *tmp, uint32_t n)
{
	gpu_sample_scratch *from = sc, *to = tmp, *t;
	uint32_t            count[256], at[256];

	for (int shift = 0; shift < 64; shift += 8) {
		uint64_t bits;
		memset(count, 0, sizeof(count));
		for (uint32_t i = 0; i < n; i++) {
			memcpy(&bits, &from[i].p, sizeof(bits));
			count[(~bits >> shift) & 0xff]++;
		}
		memcpy(&bits, &from[0].p, sizeof(bits));
		if (count[(~bits >> shift) & 0xff] == n) {
			continue;
		}
		for (uint32_t d = 0, sum = 0; d < 256; d++) {
			at[d] = sum;
			sum += count[d];
		}
		for (uint32_t i = 0; i < n; i++) {
			memcpy(&bits, &from[i].p, sizeof(bits));
			to[at[(~bits >> shift) & 0xff]++] = from[i];
		}
		t    = from;
		from = to;
		to   = t;
	}
	if (from != sc) {
		memcpy(sc, from, (size_t) n * sizeof(*sc));
	}
}

int
gpu_sample(const float *logits, uint32_t n, const gpu_sample_params *sp,
    gpu_rng *rng, gpu_sample_scratch *sc, int32_t *tok)
{
	uint32_t best = 0, keep;
	double   mx, sum = 0.0, cut, u, acc;

	*tok = -1;
	if (n == 0 || sp == NULL) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 1; i < n; i++) {
		/* Strictly greater: ties go to the lowest index; NaN never
		 * wins. */
		if (logits[i] > logits[best] || isnan(logits[best])) {
			best = i;
		}
	}
	if (!isfinite(logits[best])) {
		return (GH_EINVAL);
	}
	if (!(sp->temperature > 0.0f)) {
		*tok = (int32_t) best;
		return (GH_OK);
	}
	if (!(sp->top_p > 0.0f) || sp->top_p > 1.0f
	    || !isfinite(sp->temperature)) {
		return (GH_EINVAL);
	}
	mx = (double) logits[best];
	for (uint32_t i = 0; i < n; i++) {
		double l = isnan(logits[i]) ? -INFINITY : (double) logits[i];
		sc[i].p  = exp((l - mx) / (double) sp->temperature);
		sc[i].id = i;
	}
	sample_sort(sc, sc + n, n);
	keep = sp->top_k > 0 && sp->top_k < n ? sp->top_k : n;
	for (uint32_t i = 0; i < keep; i++) {
		sum += sc[i].p;
	}
	/* The smallest prefix whose mass reaches top_p. */
	cut = (double) sp->top_p * sum;
	acc = 0.0;
	for (uint32_t i = 0; i < keep; i++) {
		acc += sc[i].p;
		if (acc >= cut) {
			keep = i + 1;
			break;
		}
	}
	sum = 0.0;
	for (uint32_t i = 0; i < keep; i++) {
		sum += sc[i].p;
	}
	u   = (double) (gpu_rng_next(rng) >> 11) * 0x1.0p-53 * sum;
	acc = 0.0;
	for (uint32_t i = 0; i < keep; i++) {
		acc += sc[i].p;
		if (u < acc) {
			*tok = (int32_t) sc[i].id;
			return (GH_OK);
		}
	}
	*tok = (int32_t) sc[keep - 1].id;
	return (GH_OK);
}
