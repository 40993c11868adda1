/*
 * cpu_kern.h - private to cpu.c, which includes it once per
 * instruction set with CPU_SFX(name) naming that variant (and CPU_AVX2
 * or CPU_AVX512 defined for the exact int8 -> float conversions and
 * the fused multiply-adds of Q8_0).  No include guard on purpose.
 */
#ifndef GPU_CPU_KERN_TYPES
#define GPU_CPU_KERN_TYPES
typedef float   v16f __attribute__((vector_size(64)));
typedef float   v8f __attribute__((vector_size(32)));
typedef float   v4f __attribute__((vector_size(16)));
typedef int32_t v16i __attribute__((vector_size(64)));

#endif

/* Vectors travel by pointer: by value they would change the ABI
 * between the instruction-set clones. */

/* The four accumulators as (a0 + a1) + (a2 + a3), then the 16 lanes
 * as a fixed tree: lane l + 8 into lane l, then l + 4, l + 2, l + 1.
 * The halves are vector adds in registers, never a store and narrower
 * reloads (a stall on some CPUs). */
static inline __attribute__((always_inline)) float
CPU_SFX(cpu_reduce)(const v16f *a)
{
	v16f acc = (a[0] + a[1]) + (a[2] + a[3]);
	v8f  s8  = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7)
	    + __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
	v4f s4 = __builtin_shufflevector(s8, s8, 0, 1, 2, 3)
	    + __builtin_shufflevector(s8, s8, 4, 5, 6, 7);
	float s20 = s4[0] + s4[2], s21 = s4[1] + s4[3];

	return (s20 + s21);
}

static inline __attribute__((always_inline)) void
CPU_SFX(cpu_zero)(v16f *a, int n)
{
#pragma GCC unroll 16
	for (int i = 0; i < n; i++) {
		a[i] = (v16f) { 0 };
	}
}

static inline __attribute__((always_inline)) void
CPU_SFX(cpu_load)(v16f *v, const float *x)
{
	memcpy(v, x, sizeof(*v));
}

static inline __attribute__((always_inline)) void
CPU_SFX(cpu_fill)(v16f *v, float f)
{
#pragma GCC unroll 16
	for (int l = 0; l < 16; l++) {
		(*v)[l] = f;
	}
}

/* Asks for the n cache lines CPU_PREFETCH bytes past p (a prefetch
 * never faults; the address is made as an integer, as it may lie past
 * the end of the weights).  The hardware prefetchers start late on
 * each new matrix and lose the stream behind the arithmetic of Q8_0. */
#define CPU_PREFETCH 4096
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_prefetch)(const void *p, int n)
{
	uintptr_t a = (uintptr_t) p + CPU_PREFETCH;

#pragma GCC unroll 4
	for (int i = 0; i < n; i++) {
		__builtin_prefetch(
		    (const void *) (a + 64 * (uintptr_t) i), 0, 3);
	}
}

/* e^x lane by lane: Cephes' expf, 2^n times a polynomial of the
 * remainder (within 2 ulp of e^x), with x clamped to [-87, 88] so that
 * 2^n stays a normal number.  The operations are written out, the same
 * in every variant, so the bits do not depend on the CPU or on libm. */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_exp)(v16f *v)
{
	const float magic = 12582912.0f; /* 1.5 * 2^23: rounds to integers */
	v16f        x     = *v, lo, hi, n, r, y;
	v16i        m, e;

	CPU_SFX(cpu_fill)(&lo, -87.0f);
	CPU_SFX(cpu_fill)(&hi, 88.0f);
	m  = x < lo;
	x  = (v16f) (((v16i) x & ~m) | ((v16i) lo & m));
	m  = x > hi;
	x  = (v16f) (((v16i) x & ~m) | ((v16i) hi & m));
	n  = (x * 1.44269504088896341f + magic) - magic;
	r  = (x - n * 0.693359375f) - n * -2.12194440e-4f;
	y  = r * 1.9875691500e-4f + 1.3981999507e-3f;
	y  = y * r + 8.3334519073e-3f;
	y  = y * r + 4.1665795894e-2f;
	y  = y * r + 1.6666665459e-1f;
	y  = y * r + 5.0000001201e-1f;
	y  = (y * (r * r) + r) + 1.0f;
	e  = (__builtin_convertvector(n, v16i) + 127) << 23;
	*v = y * (v16f) e;
}

/* x[0..n) = e^x[i], the tail through a zero-padded vector. */
static void
CPU_SFX(cpu_exp_n)(float *x, size_t n)
{
	v16f   v;
	size_t i = 0;

	for (; i + 16 <= n; i += 16) {
		CPU_SFX(cpu_load)(&v, x + i);
		CPU_SFX(cpu_exp)(&v);
		memcpy(x + i, &v, sizeof(v));
	}
	if (i < n) {
		v = (v16f) { 0 };
		memcpy(&v, x + i, (n - i) * sizeof(float));
		CPU_SFX(cpu_exp)(&v);
		memcpy(x + i, &v, (n - i) * sizeof(float));
	}
}

/* g[i] = silu(g[i]) * u[i] = g / (1 + e^-g) * u for i < n. */
static void
CPU_SFX(cpu_swiglu)(float *g, const float *u, size_t n)
{
	v16f   gv, uv, ev;
	size_t i = 0;

	for (; i < n; i += 16) {
		size_t k = n - i < 16 ? n - i : 16;
		gv = uv = (v16f) { 0 };
		memcpy(&gv, g + i, k * sizeof(float));
		memcpy(&uv, u + i, k * sizeof(float));
		ev = -gv;
		CPU_SFX(cpu_exp)(&ev);
		gv = gv / (1.0f + ev) * uv;
		memcpy(g + i, &gv, k * sizeof(float));
	}
}

/* acc += w[0..16) * x */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac)(v16f *acc, const float *w, const v16f *x)
{
	v16f v;
	CPU_SFX(cpu_load)(&v, w);
	*acc = *acc + v * *x;
}

/* acc += the 16 halves at w * x.  Half to float is exact, by F16C's
 * conversion or by gpu_h2f: the same floats in every variant. */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac_f16)(v16f *acc, const uint8_t *w, const float *x)
{
	float t[16];
#if defined(CPU_AVX512)
	__m512 c = _mm512_cvtph_ps(
	    _mm256_loadu_si256((const __m256i *) (const void *) w));
	memcpy(t, &c, sizeof(t));
#elif defined(CPU_AVX2)
	__m256 c0 = _mm256_cvtph_ps(
	    _mm_loadu_si128((const __m128i *) (const void *) w));
	__m256 c1 = _mm256_cvtph_ps(
	    _mm_loadu_si128((const __m128i *) (const void *) (w + 16)));
	memcpy(t, &c0, sizeof(c0));
	memcpy(t + 8, &c1, sizeof(c1));
#else
#pragma GCC unroll 16
	for (int l = 0; l < 16; l++) {
		t[l] = gpu_h2f((uint16_t) (w[2 * l] | w[2 * l + 1] << 8));
	}
#endif
	v16f xv;
	CPU_SFX(cpu_load)(&xv, x);
	CPU_SFX(cpu_mac)(acc, t, &xv);
}

/* One Q8_0 block (x0, x1 its 32 inputs), lane by lane: u = q0 * x0,
 * u = fma(q1, x1, u), acc = fma(d, u, acc) with d the block's scale.
 * Each fma rounds once, in every variant. */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac_q8)(
    v16f *acc, const uint8_t *q, const v16f *x0, const v16f *x1)
{
	uint16_t h;

	memcpy(&h, q, sizeof(h));
#if defined(CPU_AVX512)
	__m512 d  = _mm512_set1_ps(cpu_h2f_tab[h]);
	__m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
	    _mm_loadu_si128((const __m128i *) (const void *) (q + 2))));
	__m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
	    _mm_loadu_si128((const __m128i *) (const void *) (q + 18))));
	__m512 xa, xb, ac;
	memcpy(&xa, x0, sizeof(xa));
	memcpy(&xb, x1, sizeof(xb));
	memcpy(&ac, acc, sizeof(ac));
	__m512 u = _mm512_mul_ps(c0, xa);
	u        = _mm512_fmadd_ps(c1, xb, u);
	ac       = _mm512_fmadd_ps(d, u, ac);
	memcpy(acc, &ac, sizeof(ac));
#elif defined(CPU_AVX2)
	__m256 d = _mm256_set1_ps(cpu_h2f_tab[h]);
	__m256 c[4], xa[2], xb[2], ac[2];
	memcpy(xa, x0, sizeof(xa));
	memcpy(xb, x1, sizeof(xb));
	memcpy(ac, acc, sizeof(ac));
#pragma GCC unroll 16
	for (int k = 0; k < 4; k++) {
		c[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
		    (const __m128i *) (const void *) (q + 2 + 8 * k))));
	}
#pragma GCC unroll 16
	for (int k = 0; k < 2; k++) {
		__m256 u = _mm256_mul_ps(c[k], xa[k]);
		u        = _mm256_fmadd_ps(c[2 + k], xb[k], u);
		ac[k]    = _mm256_fmadd_ps(d, u, ac[k]);
	}
	memcpy(acc, ac, sizeof(ac));
#else
	float d = cpu_h2f_tab[h], a[16], xa[16], xb[16];
	memcpy(a, acc, sizeof(a));
	memcpy(xa, x0, sizeof(xa));
	memcpy(xb, x1, sizeof(xb));
	for (int l = 0; l < 16; l++) {
		float u = (float) (int8_t) q[2 + l] * xa[l];
		u       = fmaf((float) (int8_t) q[18 + l], xb[l], u);
		a[l]    = fmaf(d, u, a[l]);
	}
	memcpy(acc, a, sizeof(a));
#endif
}

/* Chunk j of 16 elements goes into accumulator j % 4 (constant
 * indices keep the accumulators in registers); the elements after
 * the last chunk are added in order after the lanes. */
static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot_f32)(const float *w, const float *x, uint32_t n)
{
	v16f     a[4], xv;
	uint32_t i = 0, left;
	float    s;

	CPU_SFX(cpu_zero)(a, 4);
	for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			CPU_SFX(cpu_load)(&xv, x + i + 16 * k);
			CPU_SFX(cpu_mac)(&a[k], w + i + 16 * k, &xv);
		}
	}
	left = (n - i) / 16;
#pragma GCC unroll 3
	for (int k = 0; k < 3; k++) {
		if (left > (uint32_t) k) {
			CPU_SFX(cpu_load)(&xv, x + i + 16 * k);
			CPU_SFX(cpu_mac)(&a[k], w + i + 16 * k, &xv);
		}
	}
	i += 16 * left;
	s = CPU_SFX(cpu_reduce)(a);
	for (; i < n; i++) {
		s = s + w[i] * x[i];
	}
	return (s);
}

static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot_f16)(const uint8_t *w, const float *x, uint32_t n)
{
	v16f     a[4];
	uint32_t i = 0, left;
	float    s;

	CPU_SFX(cpu_zero)(a, 4);
	for (; i + 64 <= n; i += 64) {
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			CPU_SFX(cpu_mac_f16)
			(&a[k], w + 2 * (i + 16 * k), x + i + 16 * k);
		}
	}
	left = (n - i) / 16;
#pragma GCC unroll 3
	for (int k = 0; k < 3; k++) {
		if (left > (uint32_t) k) {
			CPU_SFX(cpu_mac_f16)
			(&a[k], w + 2 * (i + 16 * k), x + i + 16 * k);
		}
	}
	i += 16 * left;
	s = CPU_SFX(cpu_reduce)(a);
	for (; i < n; i++) {
		s = s
		    + gpu_h2f((uint16_t) (w[2 * i] | w[2 * i + 1] << 8))
		        * x[i];
	}
	return (s);
}

/* Block b goes into accumulator b % 4. */
static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot_q8_0)(const uint8_t *w, const float *x, uint32_t n)
{
	v16f     a[4], x0, x1;
	uint32_t nb = n / GPU_Q8_0_BLOCK, b = 0, left;

	CPU_SFX(cpu_zero)(a, 4);
	for (; b + 4 <= nb; b += 4) {
		CPU_SFX(cpu_prefetch)(w + (size_t) b * GPU_Q8_0_BYTES, 3);
#pragma GCC unroll 4
		for (int k = 0; k < 4; k++) {
			const float *xb = x + (b + k) * GPU_Q8_0_BLOCK;
			CPU_SFX(cpu_load)(&x0, xb);
			CPU_SFX(cpu_load)(&x1, xb + 16);
			CPU_SFX(cpu_mac_q8)
			(&a[k], w + (size_t) (b + k) * GPU_Q8_0_BYTES, &x0,
			    &x1);
		}
	}
	left = nb - b;
#pragma GCC unroll 3
	for (int k = 0; k < 3; k++) {
		if (left > (uint32_t) k) {
			const float *xb = x + (b + k) * GPU_Q8_0_BLOCK;
			CPU_SFX(cpu_load)(&x0, xb);
			CPU_SFX(cpu_load)(&x1, xb + 16);
			CPU_SFX(cpu_mac_q8)
			(&a[k], w + (size_t) (b + k) * GPU_Q8_0_BYTES, &x0,
			    &x1);
		}
	}
	return (CPU_SFX(cpu_reduce)(a));
}

static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot)(const gpu_mat *m, uint32_t row, const float *x)
{
	const uint8_t *w = (const uint8_t *) m->data + row * m->row_bytes;

	switch (m->type) {
	case GPU_TYPE_F32:
		return (CPU_SFX(cpu_dot_f32)(
		    (const float *) (const void *) w, x, m->cols));
	case GPU_TYPE_F16:
		return (CPU_SFX(cpu_dot_f16)(w, x, m->cols));
	default:
		return (CPU_SFX(cpu_dot_q8_0)(w, x, m->cols));
	}
}

/* out[t * m->rows + r] = dot(row r of m, x + t * m->cols) for the rows
 * [r0, r1) and t < nt: each row is read once and used for every token.
 * Which thread computes which rows changes no bit. */
static void
CPU_SFX(cpu_rows)(const gpu_mat *m, uint32_t r0, uint32_t r1, const float *x,
    uint32_t nt, float *out)
{
	for (uint32_t r = r0; r < r1; r++) {
		for (uint32_t t = 0; t < nt; t++) {
			out[(size_t) t * m->rows + r]
			    = CPU_SFX(cpu_dot)(m, r, x + (size_t) t * m->cols);
		}
	}
}

/* One head of one token: o = softmax(q . k_j * scale) . v_j over the
 * npos cached positions (k, v the head's first position, stride floats
 * apart); sc is npos floats of scratch.  Elementwise after the dot
 * products, so every variant gives the same bits. */
static void
CPU_SFX(cpu_head)(const float *q, const float *k, const float *v,
    size_t stride, uint32_t npos, uint32_t hd, float scale, float *sc,
    float *o)
{
	float mx = -INFINITY, sum = 0.0f;

	for (uint32_t j = 0; j < npos; j++) {
		sc[j] = CPU_SFX(cpu_dot_f32)(q, k + j * stride, hd) * scale;
		mx    = sc[j] > mx ? sc[j] : mx;
	}
	for (uint32_t j = 0; j < npos; j++) {
		sc[j] = sc[j] - mx;
	}
	CPU_SFX(cpu_exp_n)(sc, npos);
	for (uint32_t j = 0; j < npos; j++) {
		sum = sum + sc[j];
	}
	for (uint32_t d = 0; d < hd; d++) {
		o[d] = 0.0f;
	}
	for (uint32_t j = 0; j < npos; j++) {
		const float *vj = v + j * stride;
		const float  p  = sc[j];
		uint32_t     d  = 0;
		v16f         ov, vv, pv;
		CPU_SFX(cpu_fill)(&pv, p);
		for (; d + 16 <= hd; d += 16) {
			CPU_SFX(cpu_load)(&ov, o + d);
			CPU_SFX(cpu_load)(&vv, vj + d);
			ov = ov + pv * vv;
			memcpy(o + d, &ov, sizeof(ov));
		}
		for (; d < hd; d++) {
			o[d] = o[d] + p * vj[d];
		}
	}
	uint32_t d = 0;
	v16f     ov, sv;
	CPU_SFX(cpu_fill)(&sv, sum);
	for (; d + 16 <= hd; d += 16) {
		CPU_SFX(cpu_load)(&ov, o + d);
		ov = ov / sv;
		memcpy(o + d, &ov, sizeof(ov));
	}
	for (; d < hd; d++) {
		o[d] = o[d] / sum;
	}
}
