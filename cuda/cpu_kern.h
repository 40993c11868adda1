/*
 * cpu_kern.h - private to cpu.c, which includes it once per
 * instruction set with CPU_SFX(name) naming that variant (and CPU_AVX2
 * or CPU_AVX512 defined for the exact int8 -> float conversions).  No
 * include guard on purpose.
 */
#ifndef GPU_CPU_KERN_TYPES
#define GPU_CPU_KERN_TYPES
typedef float v16f __attribute__((vector_size(64)));

#endif

/* Vectors travel by pointer: by value they would change the ABI
 * between the instruction-set clones. */
static inline __attribute__((always_inline)) float
CPU_SFX(cpu_reduce)(
    const v16f *a0, const v16f *a1, const v16f *a2, const v16f *a3)
{
	v16f  acc = (*a0 + *a1) + (*a2 + *a3);
	float t[16];

	memcpy(t, &acc, sizeof(t));
	for (int w = 8; w >= 1; w /= 2) {
		for (int l = 0; l < w; l++) {
			t[l] = t[l] + t[l + w];
		}
	}
	return (t[0]);
}

/* acc += w[0..16) * x[0..16) */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac)(v16f *acc, const float *w, const float *x)
{
	v16f a, b;
	memcpy(&a, w, sizeof(a));
	memcpy(&b, x, sizeof(b));
	*acc = *acc + a * b;
}

static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac_f16)(v16f *acc, const uint8_t *w, const float *x)
{
	float t[16];
	for (int l = 0; l < 16; l++) {
		t[l] = gpu_h2f((uint16_t) (w[2 * l] | w[2 * l + 1] << 8));
	}
	CPU_SFX(cpu_mac)(acc, t, x);
}

/* One Q8_0 block: lanes sum q*x over the block's two halves, then the
 * block's scale multiplies that. */
static inline __attribute__((always_inline)) void
CPU_SFX(cpu_mac_q8)(v16f *acc, const uint8_t *q, const float *x)
{
#if defined(CPU_AVX512) || defined(CPU_AVX2)
	float d = _cvtsh_ss((unsigned short) (q[0] | q[1] << 8));
#else
	float  d = gpu_h2f((uint16_t) (q[0] | q[1] << 8));
#endif
	v16f f0, f1, x0, x1;

#if defined(CPU_AVX512)
	__m512 c0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
	    _mm_loadu_si128((const __m128i *) (const void *) (q + 2))));
	__m512 c1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(
	    _mm_loadu_si128((const __m128i *) (const void *) (q + 18))));
	memcpy(&f0, &c0, sizeof(f0));
	memcpy(&f1, &c1, sizeof(f1));
#elif defined(CPU_AVX2)
	__m256 c[4];
	for (int k = 0; k < 4; k++) {
		c[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(
		    (const __m128i *) (const void *) (q + 2 + 8 * k))));
	}
	memcpy(&f0, &c[0], sizeof(f0));
	memcpy(&f1, &c[2], sizeof(f1));
#else
	float t0[16], t1[16];
	for (int l = 0; l < 16; l++) {
		t0[l] = (float) (int8_t) q[2 + l];
		t1[l] = (float) (int8_t) q[18 + l];
	}
	memcpy(&f0, t0, sizeof(f0));
	memcpy(&f1, t1, sizeof(f1));
#endif
	memcpy(&x0, x, sizeof(x0));
	memcpy(&x1, x + 16, sizeof(x1));
	*acc = *acc + d * (f0 * x0 + f1 * x1);
}

/* Chunk j of 16 elements goes into accumulator j % 4. */
static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot_f32)(const float *w, const float *x, uint32_t n)
{
	v16f     a[4] = { { 0 }, { 0 }, { 0 }, { 0 } };
	uint32_t i = 0, j = 0;
	float    s;

	for (; i + 64 <= n; i += 64) {
		CPU_SFX(cpu_mac)(&a[0], w + i, x + i);
		CPU_SFX(cpu_mac)(&a[1], w + i + 16, x + i + 16);
		CPU_SFX(cpu_mac)(&a[2], w + i + 32, x + i + 32);
		CPU_SFX(cpu_mac)(&a[3], w + i + 48, x + i + 48);
	}
	for (; i + 16 <= n; i += 16, j++) {
		CPU_SFX(cpu_mac)(&a[j], w + i, x + i);
	}
	s = CPU_SFX(cpu_reduce)(&a[0], &a[1], &a[2], &a[3]);
	for (; i < n; i++) {
		s = s + w[i] * x[i];
	}
	return (s);
}

static inline __attribute__((always_inline)) float
CPU_SFX(cpu_dot_f16)(const uint8_t *w, const float *x, uint32_t n)
{
	v16f     a[4] = { { 0 }, { 0 }, { 0 }, { 0 } };
	uint32_t i = 0, j = 0;
	float    s;

	for (; i + 64 <= n; i += 64) {
		CPU_SFX(cpu_mac_f16)(&a[0], w + 2 * i, x + i);
		CPU_SFX(cpu_mac_f16)(&a[1], w + 2 * (i + 16), x + i + 16);
		CPU_SFX(cpu_mac_f16)(&a[2], w + 2 * (i + 32), x + i + 32);
		CPU_SFX(cpu_mac_f16)(&a[3], w + 2 * (i + 48), x + i + 48);
	}
	for (; i + 16 <= n; i += 16, j++) {
		CPU_SFX(cpu_mac_f16)(&a[j], w + 2 * i, x + i);
	}
	s = CPU_SFX(cpu_reduce)(&a[0], &a[1], &a[2], &a[3]);
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
	v16f     a[4] = { { 0 }, { 0 }, { 0 }, { 0 } };
	uint32_t nb = n / GPU_Q8_0_BLOCK, b = 0, j = 0;

	for (; b + 4 <= nb; b += 4) {
		const uint8_t *q  = w + (size_t) b * GPU_Q8_0_BYTES;
		const float   *xb = x + b * GPU_Q8_0_BLOCK;
		CPU_SFX(cpu_mac_q8)(&a[0], q, xb);
		CPU_SFX(cpu_mac_q8)(&a[1], q + GPU_Q8_0_BYTES, xb + 32);
		CPU_SFX(cpu_mac_q8)(&a[2], q + 2 * GPU_Q8_0_BYTES, xb + 64);
		CPU_SFX(cpu_mac_q8)(&a[3], q + 3 * GPU_Q8_0_BYTES, xb + 96);
	}
	for (; b < nb; b++, j++) {
		CPU_SFX(cpu_mac_q8)
		(&a[j], w + (size_t) b * GPU_Q8_0_BYTES,
		    x + b * GPU_Q8_0_BLOCK);
	}
	return (CPU_SFX(cpu_reduce)(&a[0], &a[1], &a[2], &a[3]));
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

/*
 * For each of the nm matrices (same cols): out[i][t * rows_i + r] =
 * dot(row r of m[i], x[t * cols ..]) for t < nt.  One parallel loop
 * over the rows of all of them (fewer fork/joins per layer); each
 * output is still one thread's dot product, so the split between
 * threads changes no bit.
 */
static void
CPU_SFX(cpu_matmul)(const gpu_mat *const *m, float *const *out, int nm,
    const float *x, uint32_t nt, int nth)
{
	int64_t total = 0;

	for (int i = 0; i < nm; i++) {
		total += m[i]->rows;
	}
#pragma omp parallel for num_threads(nth) schedule(static)
	for (int64_t g = 0; g < total; g++) {
		int     i = 0;
		int64_t r = g;
		while (r >= (int64_t) m[i]->rows) {
			r -= m[i]->rows;
			i++;
		}
		for (uint32_t t = 0; t < nt; t++) {
			out[i][(size_t) t * m[i]->rows + (size_t) r]
			    = CPU_SFX(cpu_dot)(m[i], (uint32_t) r,
			        x + (size_t) t * m[i]->cols);
		}
	}
}
