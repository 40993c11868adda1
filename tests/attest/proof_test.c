/* proof_test.c - the utilization proof's encoding, signature, checks. */
#include <stdlib.h>

#include "attest/attest.h"
#include "tests/harness.h"

/* A consistent proof for a job of n_in + n_out tokens. */
static int
make_proof(attest_proof *p, uint32_t n_in, uint32_t n_out)
{
	uint64_t pos     = (uint64_t) n_in + n_out - (n_out > 0 ? 1 : 0);
	int32_t  toks[4] = { 1, 2, 3, 4 };

	memset(p, 0, sizeof(*p));
	memset(p->lease, 1, 32);
	memset(p->job, 2, 32);
	memset(p->model.b, 3, 32);
	p->shape             = (attest_shape) { 2, 128, 344, 4, 2, 300 };
	p->n_predict         = n_out + 5;
	p->temperature_milli = 800;
	p->top_p_milli       = 950;
	p->seed              = 77;
	attest_tokens_hash(toks, 4, &p->input_hash);
	attest_tokens_hash(toks, 2, &p->output_hash);
	p->n_in  = n_in;
	p->n_out = n_out;
	if (attest_flops(&p->shape, n_in, n_out, &p->flops) != GH_OK) {
		return (GH_EINVAL);
	}
	p->device_ns = 1000000;
	p->wall_ns   = 1500000;
	snprintf(p->device, sizeof(p->device), "cpu:test");
	p->time     = 1800000000;
	p->n_chunks = (uint32_t) ((pos + ATTEST_CHUNK - 1) / ATTEST_CHUNK);
	p->chunks = calloc(p->n_chunks ? p->n_chunks : 1, sizeof(*p->chunks));
	for (uint32_t c = 0; c < p->n_chunks; c++) {
		for (uint16_t i = 0; i < ATTEST_TOPK; i++) {
			p->chunks[c].index[i] = (uint16_t) ((i * 7 + c) % 128);
			p->chunks[c].value[i] = (uint16_t) (0x3c00 + i);
		}
	}
	return (p->chunks ? GH_OK : GH_ENOMEM);
}

static gh_ed_key *
key(uint8_t b)
{
	uint8_t    seed[32];
	gh_ed_key *k = NULL;

	memset(seed, b, 32);
	(void) gh_ed_key_from_seed(seed, &k);
	return (k);
}

TEST(attest_proof_roundtrip_sign_and_tamper)
{
	attest_proof p, q;
	gh_ed_key   *k = key(1);
	uint8_t     *a = NULL, *b = NULL;
	size_t       n, m;

	CHECK_OK(make_proof(&p, 20, 100));
	CHECK_OK(attest_proof_sign(&p, k));
	CHECK_OK(attest_proof_verify_sig(&p));
	CHECK_OK(attest_proof_encode(&p, &a, &n));
	CHECK_OK(attest_proof_decode(a, n, &q));
	CHECK_OK(attest_proof_verify_sig(&q));
	CHECK_OK(attest_proof_encode(&q, &b, &m));
	CHECK_EQ(n, m);
	CHECK_MEM(a, b, n);
	CHECK_OK(attest_proof_check(&q, 0, NULL));
	/* inflated token counts break the signature, and if re-signed,
	 * the figures */
	q.n_out += 10;
	CHECK_ERR(attest_proof_verify_sig(&q), GH_EBADSIG);
	CHECK_OK(attest_proof_sign(&q, k));
	CHECK_ERR(attest_proof_check(&q, 0, NULL), GH_EINVAL);
	/* a forged signature: another key claiming the node's name */
	{
		gh_ed_key *other = key(2);
		gh_ed_pub  real  = p.node;
		CHECK_OK(attest_proof_sign(&p, other));
		p.node = real;
		CHECK_ERR(attest_proof_verify_sig(&p), GH_EBADSIG);
		gh_ed_key_free(other);
	}
	attest_proof_clear(&p);
	attest_proof_clear(&q);
	free(a);
	free(b);
	gh_ed_key_free(k);
}

TEST(attest_proof_check_rejections)
{
	attest_proof p;
	const char  *why;

	CHECK_OK(make_proof(&p, 10, 40));
	CHECK_OK(attest_proof_check(&p, 0, &why));
	p.flops++;
	CHECK_ERR(attest_proof_check(&p, 0, &why), GH_EINVAL);
	CHECK(strstr(why, "FLOPs") != NULL);
	p.flops--;
	p.n_out = p.n_predict + 1;
	CHECK_ERR(attest_proof_check(&p, 0, &why), GH_EINVAL);
	p.n_out = 40;
	p.n_chunks--;
	CHECK_ERR(attest_proof_check(&p, 0, &why), GH_EINVAL);
	CHECK(strstr(why, "chunks") != NULL);
	p.n_chunks++;
	p.chunks[0].index[0] = 128;
	CHECK_ERR(attest_proof_check(&p, 0, &why), GH_EINVAL);
	p.chunks[0].index[0] = 0;
	p.device_ns          = p.wall_ns + 1;
	CHECK_ERR(attest_proof_check(&p, 0, &why), GH_EINVAL);
	p.device_ns = 1000000;
	/* plausibility: the flops in 1 ms against a peak just below and
	 * just above what that needs */
	CHECK_ERR(attest_proof_check(&p, p.flops * 1000 - 1, &why), GH_EINVAL);
	CHECK(strstr(why, "peak") != NULL);
	CHECK_OK(attest_proof_check(&p, p.flops * 1000, &why));
	attest_proof_clear(&p);
}

TEST(attest_proof_decoder_bitflip_truncation_and_limits)
{
	attest_proof p, q;
	gh_ed_key   *k = key(3);
	uint8_t     *a = NULL;
	size_t       n;

	CHECK_OK(make_proof(&p, 5, 30));
	CHECK_OK(attest_proof_sign(&p, k));
	CHECK_OK(attest_proof_encode(&p, &a, &n));
	for (size_t i = 0; i < n; i++) {
		int rv = attest_proof_decode(a, i, &q);
		CHECK(rv == GH_ETRUNC);
		CHECK(q.chunks == NULL);
	}
	for (size_t i = 0; i < n * 8; i += 3) {
		a[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (attest_proof_decode(a, n, &q) == GH_OK) {
			CHECK_ERR(attest_proof_verify_sig(&q), GH_EBADSIG);
			attest_proof_clear(&q);
		}
		a[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	/* a huge chunk count is refused before allocation */
	{
		size_t off
		    = n - 64 - (size_t) p.n_chunks * ATTEST_CHUNK_BYTES - 6;
		gh_be32_put(a + off, 0xffffffffu);
		CHECK_ERR(attest_proof_decode(a, n, &q), GH_ETOOLONG);
		gh_be32_put(a + off, ATTEST_CHUNKS_MAX);
		CHECK_ERR(attest_proof_decode(a, n, &q), GH_ETRUNC);
	}
	free(a);
	attest_proof_clear(&p);
	gh_ed_key_free(k);
}
