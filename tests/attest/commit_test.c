/* commit_test.c - half precision, top-k commitments, comparisons, FLOPs,
 * detection probability. */
#include <math.h>
#include <stdlib.h>

#include "attest/attest.h"
#include "tests/harness.h"

TEST(attest_f16_known_values_and_roundtrip)
{
	CHECK_EQ(attest_f32_to_f16(1.0f), 0x3c00);
	CHECK_EQ(attest_f32_to_f16(-2.0f), 0xc000);
	CHECK_EQ(attest_f32_to_f16(65504.0f), 0x7bff);
	CHECK_EQ(attest_f32_to_f16(65536.0f), 0x7c00); /* overflow: inf */
	CHECK_EQ(attest_f32_to_f16(5.960464477539063e-08f), 0x0001);
	CHECK_EQ(attest_f32_to_f16(1e-9f), 0x0000);
	CHECK_EQ(attest_f32_to_f16(0.333333333f), 0x3555);
	/* ties to even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10 */
	CHECK_EQ(attest_f32_to_f16(1.0f + 1.0f / 2048), 0x3c00);
	CHECK_EQ(attest_f32_to_f16(1.0f + 3.0f / 2048), 0x3c02);
	/* every finite half survives f16 -> f32 -> f16 */
	for (uint32_t h = 0; h < 0x10000; h++) {
		if ((h & 0x7c00) == 0x7c00) {
			continue;
		}
		CHECK_EQ(
		    attest_f32_to_f16(attest_f16_to_f32((uint16_t) h)), h);
	}
}

static void
fill(float *v, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++) {
		v[i] = (float) ((double) (th_rand(&seed) >> 11)
		        / 9007199254740992.0 * 8.0
		    - 4.0);
	}
}

TEST(attest_commit_is_the_topk_by_magnitude)
{
	float        h[512];
	attest_chunk c;

	fill(h, 512, 1);
	h[17]  = 100.0f;
	h[300] = -100.0f; /* tie in magnitude: lower index first */
	CHECK_OK(attest_chunk_commit(h, 512, &c));
	CHECK_EQ(c.index[0], 17);
	CHECK_EQ(c.index[1], 300);
	for (size_t i = 1; i < ATTEST_TOPK; i++) {
		CHECK(fabsf(h[c.index[i - 1]]) >= fabsf(h[c.index[i]]));
	}
	/* nothing outside the list is larger than its last entry */
	for (size_t i = 0; i < 512; i++) {
		int in = 0;
		for (size_t j = 0; j < ATTEST_TOPK; j++) {
			in |= c.index[j] == i;
		}
		CHECK(in || fabsf(h[i]) <= fabsf(h[c.index[ATTEST_TOPK - 1]]));
	}
	CHECK_ERR(attest_chunk_commit(h, ATTEST_TOPK - 1, &c), GH_EINVAL);
	h[3] = NAN;
	CHECK_ERR(attest_chunk_commit(h, 512, &c), GH_EINVAL);
}

TEST(attest_compare_accepts_same_and_flags_different)
{
	float        h[1024], g[1024];
	attest_chunk c;
	attest_diff  d;

	fill(h, 1024, 2);
	CHECK_OK(attest_chunk_commit(h, 1024, &c));
	CHECK_OK(attest_chunk_compare(&c, h, 1024, &attest_tol_cpu, &d));
	CHECK(d.overlap == 1.0);
	CHECK(d.max_err < 1e-3);
	/* a small honest-looking spread passes the CUDA tolerance only */
	for (size_t i = 0; i < 1024; i++) {
		g[i] = h[i] * (1.0f + 2e-3f * (float) ((int) (i % 3) - 1));
	}
	CHECK_OK(attest_chunk_compare(&c, g, 1024, &attest_tol_cuda, &d));
	CHECK_ERR(
	    attest_chunk_compare(&c, g, 1024, &attest_tol_cpu, &d), GH_EINVAL);
	/* another hidden state entirely */
	fill(g, 1024, 3);
	CHECK_ERR(attest_chunk_compare(&c, g, 1024, &attest_tol_cuda, &d),
	    GH_EINVAL);
	CHECK(d.overlap < 0.5);
	/* a bad index in the commitment */
	c.index[5] = 2000;
	CHECK_ERR(attest_chunk_compare(&c, h, 1024, &attest_tol_cpu, NULL),
	    GH_EINVAL);
}

TEST(attest_flops_matches_a_plain_sum)
{
	attest_shape s = { 4, 256, 688, 8, 2, 1000 };
	uint64_t     got;

	for (uint64_t n_in = 0; n_in < 40; n_in += 7) {
		for (uint64_t n_out = 0; n_out < 70; n_out += 9) {
			uint64_t pos  = n_in + n_out - (n_out > 0 ? 1 : 0);
			uint64_t want = 0;
			uint64_t kv   = 256 / 8 * 2;
			if (n_in + n_out == 0) {
				pos = 0;
			}
			for (uint64_t p = 0; p < pos; p++) {
				for (uint32_t l = 0; l < s.n_layer; l++) {
					want += 2
					    * (256 * 256 + 2 * 256 * kv
					        + 256 * 256 + 3 * 256 * 688);
					want += 4 * 256 * (p + 1);
				}
				want += 2 * 256 * 1000;
			}
			CHECK_OK(attest_flops(&s, n_in, n_out, &got));
			CHECK_EQ(got, want);
		}
	}
	s.n_head_kv = 3;
	CHECK_ERR(attest_flops(&s, 1, 1, &got), GH_EINVAL);
	s = (attest_shape) { 1000, 65536, 1u << 20, 64, 8, 1u << 20 };
	CHECK_ERR(attest_flops(&s, 1u << 30, 1u << 30, &got), GH_EOVERFLOW);
}

TEST(attest_detection_probability_formula)
{
	CHECK(fabs(attest_detection_probability(0.1, 10) - (1 - pow(0.9, 10)))
	    < 1e-12);
	CHECK(attest_detection_probability(0, 100) == 0);
	CHECK(attest_detection_probability(1, 1) == 1);
	CHECK(attest_detection_probability(0.5, 0) == 0);
	CHECK(fabs(attest_detection_probability(0.05, 60) - 0.9539) < 1e-3);
}
