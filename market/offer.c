/* offer.c - the offer's canonical encoding, signature and checks. */
#include <stdlib.h>
#include <string.h>

#include "market/market.h"

/* Everything but the signature: what the node signs. */
static void
market_offer_put_body(gh_writer *w, const market_offer *o)
{
	gh_put_header(w, MARKET_OFFER_VERSION, MARKET_OFFER_TYPE);
	gh_put_fixed(w, o->node.b, 32);
	gh_put_fixed(w, o->asset.b, 32);
	gh_put_u64(w, o->seq);
	gh_put_cstr(w, MARKET_GPU_MODEL_MAX, o->gpu_model);
	gh_put_u64(w, o->memory_mib);
	gh_put_u64(w, o->throughput);
	gh_put_u32(w, o->max_tokens);
	gh_put_u64(w, o->price);
	gh_put_u8(w, o->billing);
	gh_put_u32(w, o->capacity);
	gh_put_u64(w, o->avail_from);
	gh_put_u64(w, o->avail_until);
	gh_put_u64(w, o->min_lease);
	gh_put_u64(w, o->max_lease);
	gh_put_cstr(w, MARKET_REGION_MAX, o->region);
	if (o->n_models > MARKET_MODELS_MAX) {
		/* Poison the writer: the count has a named maximum too. */
		gh_put_str(w, 0, "", 1);
		return;
	}
	gh_put_u32(w, o->n_models);
	for (uint32_t i = 0; i < o->n_models; i++) {
		gh_put_fixed(w, o->models[i].b, 32);
	}
	gh_put_cstr(w, MARKET_ENERGY_MAX, o->energy_source);
	gh_put_u64(w, o->power_price);
	gh_put_u64(w, o->expiry);
}

int
market_offer_encode(const market_offer *o, uint8_t **p, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	market_offer_put_body(&w, o);
	gh_put_fixed(&w, o->sig.b, 64);
	return (gh_writer_take(&w, p, n));
}

int
market_offer_id(const market_offer *o, gh_hash *id)
{
	gh_writer w;
	int       rv;

	gh_writer_init(&w);
	market_offer_put_body(&w, o);
	if ((rv = gh_writer_err(&w)) == GH_OK) {
		gh_hash_tagged(GH_TAG_OFFER, w.p, w.len, id);
	}
	gh_writer_free(&w);
	return (rv);
}

int
market_offer_decode(const uint8_t *p, size_t n, market_offer *o)
{
	gh_reader r;
	uint8_t   type;
	int       rv;

	memset(o, 0, sizeof(*o));
	if (n > MARKET_OFFER_MAX) {
		return (GH_ELIMIT);
	}
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, MARKET_OFFER_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != MARKET_OFFER_TYPE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&r, o->node.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, o->asset.b, 32)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->seq)) != GH_OK
	    || (rv = gh_get_cstr(&r, MARKET_GPU_MODEL_MAX, o->gpu_model,
	            sizeof(o->gpu_model)))
	        != GH_OK
	    || (rv = gh_get_u64(&r, &o->memory_mib)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->throughput)) != GH_OK
	    || (rv = gh_get_u32(&r, &o->max_tokens)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->price)) != GH_OK
	    || (rv = gh_get_u8(&r, &o->billing)) != GH_OK
	    || (rv = gh_get_u32(&r, &o->capacity)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->avail_from)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->avail_until)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->min_lease)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->max_lease)) != GH_OK
	    || (rv = gh_get_cstr(
	            &r, MARKET_REGION_MAX, o->region, sizeof(o->region)))
	        != GH_OK
	    || (rv = gh_get_u32(&r, &o->n_models)) != GH_OK) {
		goto fail;
	}
	if (o->n_models > MARKET_MODELS_MAX) {
		rv = GH_ETOOLONG;
		goto fail;
	}
	for (uint32_t i = 0; i < o->n_models; i++) {
		if ((rv = gh_get_fixed(&r, o->models[i].b, 32)) != GH_OK) {
			goto fail;
		}
	}
	if ((rv = gh_get_cstr(&r, MARKET_ENERGY_MAX, o->energy_source,
	         sizeof(o->energy_source)))
	        != GH_OK
	    || (rv = gh_get_u64(&r, &o->power_price)) != GH_OK
	    || (rv = gh_get_u64(&r, &o->expiry)) != GH_OK
	    || (rv = gh_get_fixed(&r, o->sig.b, 64)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		goto fail;
	}
	return (GH_OK);
fail:
	memset(o, 0, sizeof(*o));
	return (rv);
}

int
market_offer_sign(market_offer *o, const gh_ed_key *node)
{
	gh_hash id;
	int     rv;

	gh_ed_key_pub(node, &o->node);
	if ((rv = market_offer_id(o, &id)) != GH_OK) {
		return (rv);
	}
	gh_ed_sign(node, &id, &o->sig);
	return (GH_OK);
}

int
market_offer_verify(const market_offer *o)
{
	gh_hash id;
	int     rv;

	if ((rv = market_offer_id(o, &id)) != GH_OK) {
		return (rv);
	}
	return (gh_ed_verify(&o->node, &id, &o->sig));
}

int
market_offer_check(const market_offer *o, uint64_t now)
{
	if (o->expiry <= now || o->avail_until <= o->avail_from
	    || o->avail_until <= now) {
		return (GH_EWINDOW);
	}
	if (o->capacity == 0) {
		return (GH_OK); /* a withdrawal needs no terms */
	}
	if (o->billing != MARKET_BILLING_RESERVED
	    && o->billing != MARKET_BILLING_METERED) {
		return (GH_EINVAL);
	}
	if (o->price == 0 || o->min_lease == 0 || o->min_lease > o->max_lease
	    || o->gpu_model[0] == '\0') {
		return (GH_EINVAL);
	}
	for (uint32_t i = 1; i < o->n_models; i++) {
		if (memcmp(o->models[i - 1].b, o->models[i].b, 32) >= 0) {
			return (GH_EINVAL);
		}
	}
	return (GH_OK);
}
