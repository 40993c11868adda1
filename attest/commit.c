/* commit.c - activation commitments: top-k of a hidden state, half
 * precision, and the comparison an auditor makes after a re-run. */
#include <math.h>
#include <string.h>

#include "attest/attest.h"

/*
 * Honest CPU re-runs are bit-identical, so only the binary16 rounding
 * of the committed values separates them (relative error below 2^-11 of
 * the value, less of the largest magnitude).  CUDA re-runs differ by
 * reduction order; these bounds are several times the spread measured
 * on the test models and far below what a swapped model, prompt or a
 * lower precision produces (see tests/attest and docs/tolerances.md).
 */
const attest_tolerance attest_tol_cpu  = { 1.0, 1e-3, 5e-4 };
const attest_tolerance attest_tol_cuda = { 0.9, 2e-2, 5e-3 };

uint16_t
attest_f32_to_f16(float f)
{
	uint32_t x, sign, mant;
	int32_t  exp;

	memcpy(&x, &f, 4);
	sign = (x >> 16) & 0x8000u;
	exp  = (int32_t) ((x >> 23) & 0xff) - 127 + 15;
	mant = x & 0x7fffffu;
	if (((x >> 23) & 0xff) == 0xff) { /* inf or nan */
		return ((uint16_t) (sign | 0x7c00u | (mant ? 0x200u : 0)));
	}
	if (exp >= 31) {
		return ((uint16_t) (sign | 0x7c00u));
	}
	if (exp <= 0) {
		uint32_t shift, m, half, rem;
		if (exp < -10) {
			return ((uint16_t) sign);
		}
		m     = mant | 0x800000u;
		shift = (uint32_t) (14 - exp);
		half  = 1u << (shift - 1);
		rem   = m & ((1u << shift) - 1);
		m >>= shift;
		if (rem > half || (rem == half && (m & 1))) {
			m++;
		}
		return ((uint16_t) (sign | m));
	}
	{
		uint32_t h   = sign | ((uint32_t) exp << 10) | (mant >> 13);
		uint32_t rem = mant & 0x1fffu;
		if (rem > 0x1000u || (rem == 0x1000u && (h & 1))) {
			h++; /* may carry into the exponent: still correct */
		}
		return ((uint16_t) h);
	}
}

float
attest_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
	uint32_t exp  = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ffu;
	uint32_t x;
	float    f;

	if (exp == 0) {
		if (mant == 0) {
			x = sign;
		} else {
			/* subnormal: normalise */
			exp = 127 - 15 + 1;
			while ((mant & 0x400u) == 0) {
				mant <<= 1;
				exp--;
			}
			x = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
		}
	} else if (exp == 31) {
		x = sign | 0x7f800000u | (mant << 13);
	} else {
		x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
	}
	memcpy(&f, &x, 4);
	return (f);
}

/* Whether (va, ia) ranks before (vb, ib): larger magnitude, then lower
 * index. */
static int
attest_before(float va, size_t ia, float vb, size_t ib)
{
	float a = fabsf(va), b = fabsf(vb);

	return (a > b || (a == b && ia < ib));
}

/* The top ATTEST_TOPK indices of hidden by magnitude, best first. */
static int
attest_topk(const float *hidden, size_t dim, uint16_t *idx)
{
	size_t n = 0;

	if (dim < ATTEST_TOPK || dim > ATTEST_DIM_MAX) {
		return (GH_EINVAL);
	}
	for (size_t i = 0; i < dim; i++) {
		size_t j;
		if (!isfinite(hidden[i])) {
			return (GH_EINVAL);
		}
		if (n == ATTEST_TOPK
		    && !attest_before(
		        hidden[i], i, hidden[idx[n - 1]], idx[n - 1])) {
			continue;
		}
		/* insertion into the sorted top list */
		j = n < ATTEST_TOPK ? n++ : n - 1;
		while (j > 0
		    && attest_before(
		        hidden[i], i, hidden[idx[j - 1]], idx[j - 1])) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = (uint16_t) i;
	}
	return (GH_OK);
}

int
attest_chunk_commit(const float *hidden, size_t dim, attest_chunk *out)
{
	int rv;

	memset(out, 0, sizeof(*out));
	if ((rv = attest_topk(hidden, dim, out->index)) != GH_OK) {
		return (rv);
	}
	for (size_t i = 0; i < ATTEST_TOPK; i++) {
		out->value[i] = attest_f32_to_f16(hidden[out->index[i]]);
	}
	return (GH_OK);
}

int
attest_chunk_compare(const attest_chunk *c, const float *hidden, size_t dim,
    const attest_tolerance *tol, attest_diff *d)
{
	uint16_t top[ATTEST_TOPK];
	double   scale = 0, sum = 0, worst = 0;
	size_t   common = 0;
	int      rv;

	if (d != NULL) {
		memset(d, 0, sizeof(*d));
	}
	if ((rv = attest_topk(hidden, dim, top)) != GH_OK) {
		return (rv);
	}
	for (size_t i = 0; i < ATTEST_TOPK; i++) {
		double v;
		if (c->index[i] >= dim) {
			return (GH_EINVAL);
		}
		v = fabs((double) attest_f16_to_f32(c->value[i]));
		if (!isfinite(v)) {
			return (GH_EINVAL);
		}
		scale = v > scale ? v : scale;
		for (size_t j = 0; j < ATTEST_TOPK; j++) {
			if (top[j] == c->index[i]) {
				common++;
				break;
			}
		}
	}
	if (scale == 0) {
		scale = 1;
	}
	for (size_t i = 0; i < ATTEST_TOPK; i++) {
		double e = fabs((double) attest_f16_to_f32(c->value[i])
		               - (double) hidden[c->index[i]])
		    / scale;
		worst = e > worst ? e : worst;
		sum += e;
	}
	if (d != NULL) {
		d->overlap  = (double) common / ATTEST_TOPK;
		d->max_err  = worst;
		d->mean_err = sum / ATTEST_TOPK;
	}
	if ((double) common / ATTEST_TOPK < tol->min_overlap
	    || worst > tol->max_rel_err
	    || sum / ATTEST_TOPK > tol->max_mean_err) {
		return (GH_EINVAL);
	}
	return (GH_OK);
}

int
attest_flops(
    const attest_shape *s, uint64_t n_in, uint64_t n_out, uint64_t *out)
{
	gh_u128  proj, attn, total;
	uint64_t pos, kv_dim;

	*out = 0;
	if (s->n_head == 0 || s->n_head_kv == 0
	    || s->n_head % s->n_head_kv != 0 || s->dim % s->n_head != 0) {
		return (GH_EINVAL);
	}
	if (n_in + n_out == 0) {
		return (GH_OK);
	}
	if (n_in > UINT32_MAX || n_out > UINT32_MAX) {
		return (GH_EOVERFLOW);
	}
	pos    = n_in + n_out - (n_out > 0 ? 1 : 0);
	kv_dim = (uint64_t) s->dim / s->n_head * s->n_head_kv;
	/* per position: projections of every layer and the output */
	proj = (gh_u128) s->n_layer * 2
	        * ((gh_u128) s->dim * (2 * (gh_u128) s->dim + 2 * kv_dim)
	            + 3 * (gh_u128) s->dim * s->n_ff)
	    + 2 * (gh_u128) s->dim * s->n_vocab;
	/* attention over p + 1 keys, summed over p = 0..pos-1 */
	attn = (gh_u128) s->n_layer * 4 * s->dim
	    * ((gh_u128) pos * (pos + 1) / 2);
	total = proj * pos + attn;
	if (total > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*out = (uint64_t) total;
	return (GH_OK);
}

double
attest_detection_probability(double f, unsigned k)
{
	if (f <= 0) {
		return (0);
	}
	if (f >= 1) {
		return (k > 0 ? 1 : 0);
	}
	return (1.0 - pow(1.0 - f, (double) k));
}
