/* proof.c - the utilization proof: encoding, signature, structural
 * checks. */
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

void
attest_proof_clear(attest_proof *p)
{
	if (p == NULL) {
		return;
	}
	free(p->chunks);
	memset(p, 0, sizeof(*p));
}

static void
attest_proof_put_body(gh_writer *w, const attest_proof *p)
{
	gh_put_header(w, ATTEST_PROOF_VERSION, ATTEST_PROOF_TYPE);
	gh_put_fixed(w, p->node.b, 32);
	gh_put_fixed(w, p->lease, 32);
	gh_put_fixed(w, p->job, 32);
	gh_put_fixed(w, p->model.b, 32);
	gh_put_u32(w, p->shape.n_layer);
	gh_put_u32(w, p->shape.dim);
	gh_put_u32(w, p->shape.n_ff);
	gh_put_u32(w, p->shape.n_head);
	gh_put_u32(w, p->shape.n_head_kv);
	gh_put_u32(w, p->shape.n_vocab);
	gh_put_u32(w, p->n_predict);
	gh_put_u32(w, p->temperature_milli);
	gh_put_u32(w, p->top_p_milli);
	gh_put_u64(w, p->seed);
	gh_put_fixed(w, p->input_hash.b, 32);
	gh_put_fixed(w, p->output_hash.b, 32);
	gh_put_u32(w, p->n_in);
	gh_put_u32(w, p->n_out);
	gh_put_u64(w, p->flops);
	gh_put_u64(w, p->device_ns);
	gh_put_u64(w, p->wall_ns);
	gh_put_cstr(w, ATTEST_DEVICE_MAX, p->device);
	gh_put_bool(w, p->has_energy);
	gh_put_u64(w, p->energy_mj);
	gh_put_u64(w, p->time);
	if (p->n_chunks > ATTEST_CHUNKS_MAX
	    || (p->n_chunks > 0 && p->chunks == NULL)) {
		gh_put_str(w, 0, "", 1); /* poisons the writer: too long */
		return;
	}
	gh_put_u32(w, p->n_chunks);
	gh_put_u16(w, ATTEST_TOPK);
	for (uint32_t c = 0; c < p->n_chunks; c++) {
		for (size_t i = 0; i < ATTEST_TOPK; i++) {
			gh_put_u16(w, p->chunks[c].index[i]);
			gh_put_u16(w, p->chunks[c].value[i]);
		}
	}
}

int
attest_proof_encode(const attest_proof *p, uint8_t **out, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	attest_proof_put_body(&w, p);
	gh_put_fixed(&w, p->sig.b, 64);
	return (gh_writer_take(&w, out, n));
}

int
attest_proof_decode(const uint8_t *in, size_t n, attest_proof *p)
{
	gh_reader r;
	uint8_t   type;
	uint16_t  k;
	int       rv;

	memset(p, 0, sizeof(*p));
	if (n > ATTEST_PROOF_MAX) {
		return (GH_ELIMIT);
	}
	gh_reader_init(&r, in, n);
	if ((rv = gh_get_header(&r, ATTEST_PROOF_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != ATTEST_PROOF_TYPE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&r, p->node.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, p->lease, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, p->job, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, p->model.b, 32)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.n_layer)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.dim)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.n_ff)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.n_head)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.n_head_kv)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->shape.n_vocab)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->n_predict)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->temperature_milli)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->top_p_milli)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->seed)) != GH_OK
	    || (rv = gh_get_fixed(&r, p->input_hash.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, p->output_hash.b, 32)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->n_in)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->n_out)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->flops)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->device_ns)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->wall_ns)) != GH_OK
	    || (rv = gh_get_cstr(
	            &r, ATTEST_DEVICE_MAX, p->device, sizeof(p->device)))
	        != GH_OK
	    || (rv = gh_get_bool(&r, &p->has_energy)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->energy_mj)) != GH_OK
	    || (rv = gh_get_u64(&r, &p->time)) != GH_OK
	    || (rv = gh_get_u32(&r, &p->n_chunks)) != GH_OK
	    || (rv = gh_get_u16(&r, &k)) != GH_OK) {
		goto fail;
	}
	if (p->n_chunks > ATTEST_CHUNKS_MAX) {
		rv = GH_ETOOLONG;
		goto fail;
	}
	if (k != ATTEST_TOPK) {
		rv = GH_EUNSUPPORTED;
		goto fail;
	}
	/* The bytes must be there before anything is allocated. */
	if (gh_reader_left(&r) < (size_t) p->n_chunks * ATTEST_CHUNK_BYTES) {
		rv = GH_ETRUNC;
		goto fail;
	}
	if (p->n_chunks > 0
	    && (p->chunks = calloc(p->n_chunks, sizeof(*p->chunks))) == NULL) {
		rv = GH_ENOMEM;
		goto fail;
	}
	for (uint32_t c = 0; c < p->n_chunks; c++) {
		for (size_t i = 0; i < ATTEST_TOPK; i++) {
			if ((rv = gh_get_u16(&r, &p->chunks[c].index[i]))
			        != GH_OK
			    || (rv = gh_get_u16(&r, &p->chunks[c].value[i]))
			        != GH_OK) {
				goto fail;
			}
		}
	}
	if ((rv = gh_get_fixed(&r, p->sig.b, 64)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		goto fail;
	}
	return (GH_OK);
fail:
	attest_proof_clear(p);
	return (rv);
}

int
attest_proof_id(const attest_proof *p, gh_hash *id)
{
	gh_writer w;
	int       rv;

	gh_writer_init(&w);
	attest_proof_put_body(&w, p);
	if ((rv = gh_writer_err(&w)) == GH_OK) {
		gh_hash_tagged(GH_TAG_PROOF, w.p, w.len, id);
	}
	gh_writer_free(&w);
	return (rv);
}

int
attest_proof_sign(attest_proof *p, const gh_ed_key *node)
{
	gh_hash id;
	int     rv;

	gh_ed_key_pub(node, &p->node);
	if ((rv = attest_proof_id(p, &id)) != GH_OK) {
		return (rv);
	}
	gh_ed_sign(node, &id, &p->sig);
	return (GH_OK);
}

int
attest_proof_verify_sig(const attest_proof *p)
{
	gh_hash id;
	int     rv;

	if ((rv = attest_proof_id(p, &id)) != GH_OK) {
		return (rv);
	}
	return (gh_ed_verify(&p->node, &id, &p->sig));
}

void
attest_tokens_hash(const int32_t *tok, size_t n, gh_hash *out)
{
	gh_hasher h;
	uint8_t   b[4];

	gh_hasher_init(&h, GH_TAG_PROOF);
	for (size_t i = 0; i < n; i++) {
		gh_be32_put(b, (uint32_t) tok[i]);
		gh_hasher_update(&h, b, 4);
	}
	gh_hasher_final(&h, out);
}

int
attest_proof_check(
    const attest_proof *p, uint64_t peak_flops, const char **why)
{
	uint64_t    flops, positions;
	const char *dummy;

	if (why == NULL) {
		why = &dummy;
	}
	*why = NULL;
	if (p->n_out > p->n_predict) {
		*why = "more output tokens than the job asked for";
		return (GH_EINVAL);
	}
	if (p->n_in == 0) {
		*why = "no input tokens";
		return (GH_EINVAL);
	}
	if (attest_flops(&p->shape, p->n_in, p->n_out, &flops) != GH_OK
	    || flops != p->flops) {
		*why = "FLOPs do not follow from the shape and token counts";
		return (GH_EINVAL);
	}
	positions = (uint64_t) p->n_in + p->n_out - (p->n_out > 0 ? 1 : 0);
	if (p->n_chunks != (positions + ATTEST_CHUNK - 1) / ATTEST_CHUNK) {
		*why = "activation chunks do not match the token counts";
		return (GH_EINVAL);
	}
	for (uint32_t c = 0; c < p->n_chunks; c++) {
		for (size_t i = 0; i < ATTEST_TOPK; i++) {
			if (p->chunks[c].index[i] >= p->shape.dim) {
				*why = "activation index outside the model";
				return (GH_EINVAL);
			}
		}
	}
	if (p->device_ns == 0 || p->device_ns > p->wall_ns) {
		*why = "device time is zero or exceeds wall time";
		return (GH_EINVAL);
	}
	if (peak_flops != 0
	    && (gh_u128) p->flops * 1000000000u
	        > (gh_u128) peak_flops * p->device_ns) {
		*why = "faster than the device's declared peak";
		return (GH_EINVAL);
	}
	return (GH_OK);
}
