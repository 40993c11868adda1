/* half.c - IEEE binary16 conversions, bit by bit (no F16C needed). */
#include <string.h>

#include "cuda/cuda.h"

float
gpu_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t exp  = (h >> 10) & 0x1f;
	uint32_t man  = h & 0x3ff;
	uint32_t u;
	float    f;

	if (exp == 0x1f) {
		u = sign | 0x7f800000u | man << 13;
	} else if (exp != 0) {
		u = sign | (exp + 112) << 23 | man << 13;
	} else if (man == 0) {
		u = sign;
	} else {
		/* Subnormal: normalise the mantissa. */
		exp = 113;
		while ((man & 0x400) == 0) {
			man <<= 1;
			exp--;
		}
		u = sign | exp << 23 | (man & 0x3ff) << 13;
	}
	memcpy(&f, &u, 4);
	return (f);
}

uint16_t
gpu_f32_to_f16(float f)
{
	uint32_t u, sign, exp, man, r;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	exp  = (u >> 23) & 0xff;
	man  = u & 0x7fffff;
	if (exp == 0xff) {
		return ((uint16_t) (sign | 0x7c00 | (man ? 0x200 : 0)));
	}
	if (exp > 142) { /* >= 2^16: overflow to infinity */
		return ((uint16_t) (sign | 0x7c00));
	}
	if (exp < 113) { /* subnormal or zero in half */
		if (exp < 102) {
			return ((uint16_t) sign);
		}
		man |= 0x800000;
		uint32_t shift = 126 - exp; /* 14..24 */
		r              = man >> shift;
		uint32_t rem   = man & ((1u << shift) - 1);
		uint32_t half  = 1u << (shift - 1);
		if (rem > half || (rem == half && (r & 1))) {
			r++;
		}
		return ((uint16_t) (sign | r));
	}
	r            = (exp - 112) << 10 | man >> 13;
	uint32_t rem = man & 0x1fff;
	if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) {
		r++; /* may carry into the exponent, up to infinity: right */
	}
	return ((uint16_t) (sign | r));
}
