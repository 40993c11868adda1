/* job.c - jobs: codec, sealing, results and transcripts. */
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

void
attest_job_clear(attest_job *j)
{
	if (j == NULL) {
		return;
	}
	if (j->owned) {
		for (uint32_t i = 0; i < ATTEST_JOB_PROMPTS_MAX; i++) {
			free(j->prompt[i]);
		}
	}
	memset(j, 0, sizeof(*j));
}

static int
attest_job_valid(const attest_job *j)
{
	if (j->n_prompts == 0 || j->n_prompts > ATTEST_JOB_PROMPTS_MAX
	    || j->n_predict == 0 || j->n_predict > ATTEST_OUT_MAX
	    || j->top_p_milli == 0 || j->top_p_milli > 1000
	    || j->temperature_milli > 100000) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 0; i < j->n_prompts; i++) {
		if (j->prompt_len[i] == 0
		    || j->prompt_len[i] > ATTEST_JOB_PROMPT_MAX
		    || j->prompt[i] == NULL) {
			return (GH_EINVAL);
		}
	}
	return (GH_OK);
}

int
attest_job_encode(const attest_job *j, uint8_t **out, size_t *n)
{
	gh_writer w;

	*out = NULL;
	*n   = 0;
	if (attest_job_valid(j) != GH_OK) {
		return (GH_EINVAL);
	}
	gh_writer_init(&w);
	gh_put_header(&w, ATTEST_JOB_VERSION, ATTEST_JOB_TYPE);
	gh_put_fixed(&w, j->model.b, 32);
	gh_put_fixed(&w, j->lease, 32);
	gh_put_u32(&w, j->n_predict);
	gh_put_u32(&w, j->temperature_milli);
	gh_put_u32(&w, j->top_p_milli);
	gh_put_u32(&w, j->top_k);
	gh_put_u64(&w, j->seed);
	gh_put_fixed(&w, j->reply_pk, 32);
	gh_put_u32(&w, j->n_prompts);
	for (uint32_t i = 0; i < j->n_prompts; i++) {
		gh_put_str(
		    &w, ATTEST_JOB_PROMPT_MAX, j->prompt[i], j->prompt_len[i]);
	}
	return (gh_writer_take(&w, out, n));
}

static int
attest_job_read(gh_reader *r, attest_job *j)
{
	uint8_t type;
	int     rv;

	memset(j, 0, sizeof(*j));
	j->owned = 1;
	if ((rv = gh_get_header(r, ATTEST_JOB_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != ATTEST_JOB_TYPE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(r, j->model.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(r, j->lease, 32)) != GH_OK
	    || (rv = gh_get_u32(r, &j->n_predict)) != GH_OK
	    || (rv = gh_get_u32(r, &j->temperature_milli)) != GH_OK
	    || (rv = gh_get_u32(r, &j->top_p_milli)) != GH_OK
	    || (rv = gh_get_u32(r, &j->top_k)) != GH_OK
	    || (rv = gh_get_u64(r, &j->seed)) != GH_OK
	    || (rv = gh_get_fixed(r, j->reply_pk, 32)) != GH_OK
	    || (rv = gh_get_u32(r, &j->n_prompts)) != GH_OK) {
		return (rv);
	}
	if (j->n_prompts == 0 || j->n_prompts > ATTEST_JOB_PROMPTS_MAX) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 0; i < j->n_prompts; i++) {
		const uint8_t *s;
		uint32_t       len;
		if ((rv = gh_get_str(r, ATTEST_JOB_PROMPT_MAX, &s, &len))
		    != GH_OK) {
			return (rv);
		}
		if ((j->prompt[i] = malloc(len ? len : 1)) == NULL) {
			return (GH_ENOMEM);
		}
		memcpy(j->prompt[i], s, len);
		j->prompt_len[i] = len;
	}
	return (attest_job_valid(j));
}

int
attest_job_decode(const uint8_t *p, size_t n, attest_job *j)
{
	gh_reader r;
	int       rv;

	if (n > ATTEST_JOB_MAX) {
		memset(j, 0, sizeof(*j));
		return (GH_ELIMIT);
	}
	gh_reader_init(&r, p, n);
	if ((rv = attest_job_read(&r, j)) == GH_OK) {
		rv = gh_reader_end(&r);
	}
	if (rv != GH_OK) {
		attest_job_clear(j);
	}
	return (rv);
}

int
attest_job_id(const attest_job *j, gh_hash *id)
{
	uint8_t *p;
	size_t   n;
	int      rv;

	memset(id, 0, sizeof(*id));
	if ((rv = attest_job_encode(j, &p, &n)) != GH_OK) {
		return (rv);
	}
	gh_hash_tagged(ATTEST_TAG_JOB, p, n, id);
	free(p);
	return (GH_OK);
}

void
attest_job_sub_id(const gh_hash *job_id, uint32_t idx, uint8_t out[32])
{
	uint8_t buf[36];
	gh_hash h;

	memcpy(buf, job_id->b, 32);
	gh_be32_put(buf + 32, idx);
	gh_hash_tagged(ATTEST_TAG_JOB, buf, sizeof(buf), &h);
	memcpy(out, h.b, 32);
}

void
attest_job_sample_params(const attest_job *j, gpu_sample_params *sp)
{
	sp->temperature = (float) j->temperature_milli / 1000.0f;
	sp->top_p       = (float) j->top_p_milli / 1000.0f;
	sp->top_k       = j->top_k;
	sp->seed        = j->seed;
}

int
attest_seal(const uint8_t pk[32], const uint8_t *p, size_t n, uint8_t **out,
    size_t *outn)
{
	*out  = NULL;
	*outn = 0;
	if (n > SIZE_MAX - crypto_box_SEALBYTES) {
		return (GH_EOVERFLOW);
	}
	if ((*out = malloc(n + crypto_box_SEALBYTES)) == NULL) {
		return (GH_ENOMEM);
	}
	if (crypto_box_seal(*out, p, n, pk) != 0) {
		free(*out);
		*out = NULL;
		return (GH_EBADKEY);
	}
	*outn = n + crypto_box_SEALBYTES;
	return (GH_OK);
}

int
attest_seal_open(const uint8_t pk[32], const uint8_t sk[32], const uint8_t *c,
    size_t n, uint8_t **out, size_t *outn)
{
	*out  = NULL;
	*outn = 0;
	if (n < crypto_box_SEALBYTES) {
		return (GH_EDECRYPT);
	}
	if ((*out = malloc(n - crypto_box_SEALBYTES + 1)) == NULL) {
		return (GH_ENOMEM);
	}
	if (crypto_box_seal_open(*out, c, n, pk, sk) != 0) {
		free(*out);
		*out = NULL;
		return (GH_EDECRYPT);
	}
	*outn = n - crypto_box_SEALBYTES;
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Results and transcripts. */

void
attest_transcript_clear(attest_transcript *t)
{
	if (t == NULL) {
		return;
	}
	for (uint32_t i = 0; t->results != NULL && i < t->n_results; i++) {
		free(t->results[i].in);
		free(t->results[i].out);
		attest_proof_clear(&t->results[i].proof);
	}
	free(t->results);
	attest_job_clear(&t->job);
	memset(t, 0, sizeof(*t));
}

static void
attest_put_tokens(gh_writer *w, const int32_t *t, uint32_t n)
{
	gh_put_u32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		gh_put_u32(w, (uint32_t) t[i]);
	}
}

static int
attest_get_tokens(gh_reader *r, uint32_t max, int32_t **t, uint32_t *n)
{
	uint32_t v;
	int      rv;

	if ((rv = gh_get_u32(r, n)) != GH_OK) {
		return (rv);
	}
	if (*n > max) {
		return (GH_ETOOLONG);
	}
	if ((size_t) *n * 4 > gh_reader_left(r)) {
		return (GH_ETRUNC);
	}
	if ((*t = calloc(*n ? *n : 1, sizeof(**t))) == NULL) {
		return (GH_ENOMEM);
	}
	for (uint32_t i = 0; i < *n; i++) {
		if ((rv = gh_get_u32(r, &v)) != GH_OK) {
			return (rv);
		}
		if (v > INT32_MAX) {
			return (GH_EINVAL);
		}
		(*t)[i] = (int32_t) v;
	}
	return (GH_OK);
}

static void
attest_put_results(gh_writer *w, const attest_transcript *t)
{
	gh_put_u32(w, t->n_results);
	for (uint32_t i = 0; i < t->n_results; i++) {
		const attest_result *r = &t->results[i];
		uint8_t             *p = NULL;
		size_t               n = 0;
		int                  rv;
		attest_put_tokens(w, r->in, r->n_in);
		attest_put_tokens(w, r->out, r->n_out);
		if ((rv = attest_proof_encode(&r->proof, &p, &n)) != GH_OK) {
			gh_put_str(w, 0, "", 1); /* poisons the writer */
			return;
		}
		gh_put_str(w, ATTEST_PROOF_MAX, p, n);
		free(p);
	}
}

static int
attest_get_results(gh_reader *r, attest_transcript *t)
{
	uint32_t n;
	int      rv;

	if ((rv = gh_get_u32(r, &n)) != GH_OK) {
		return (rv);
	}
	if (n != t->job.n_prompts) {
		return (GH_EINVAL);
	}
	if ((t->results = calloc(n, sizeof(*t->results))) == NULL) {
		return (GH_ENOMEM);
	}
	t->n_results = n;
	for (uint32_t i = 0; i < n; i++) {
		attest_result *res = &t->results[i];
		const uint8_t *p;
		uint32_t       len;
		if ((rv = attest_get_tokens(
		         r, ATTEST_OUT_MAX, &res->in, &res->n_in))
		        != GH_OK
		    || (rv = attest_get_tokens(
		            r, ATTEST_OUT_MAX, &res->out, &res->n_out))
		        != GH_OK
		    || (rv = gh_get_str(r, ATTEST_PROOF_MAX, &p, &len))
		        != GH_OK
		    || (rv = attest_proof_decode(p, len, &res->proof))
		        != GH_OK) {
			return (rv);
		}
	}
	return (GH_OK);
}

int
attest_results_encode(const attest_transcript *t, uint8_t **out, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_header(&w, ATTEST_JOB_VERSION, ATTEST_RESULTS_TYPE);
	attest_put_results(&w, t);
	return (gh_writer_take(&w, out, n));
}

int
attest_results_decode(const uint8_t *p, size_t n, attest_transcript *t)
{
	gh_reader r;
	uint8_t   type;
	int       rv;

	if (n > ATTEST_RESULTS_MAX) {
		return (GH_ELIMIT);
	}
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, ATTEST_JOB_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != ATTEST_RESULTS_TYPE) {
		return (GH_ETYPE);
	}
	if ((rv = attest_get_results(&r, t)) == GH_OK) {
		rv = gh_reader_end(&r);
	}
	return (rv);
}

int
attest_transcript_encode(const attest_transcript *t, uint8_t **out, size_t *n)
{
	gh_writer w;
	uint8_t  *j = NULL;
	size_t    jn;
	int       rv;

	*out = NULL;
	*n   = 0;
	if ((rv = attest_job_encode(&t->job, &j, &jn)) != GH_OK) {
		return (rv);
	}
	gh_writer_init(&w);
	gh_put_header(&w, ATTEST_JOB_VERSION, ATTEST_TRANSCRIPT_TYPE);
	gh_put_str(&w, ATTEST_JOB_MAX, j, jn);
	attest_put_results(&w, t);
	free(j);
	return (gh_writer_take(&w, out, n));
}

int
attest_transcript_decode(const uint8_t *p, size_t n, attest_transcript *t)
{
	gh_reader      r;
	uint8_t        type;
	const uint8_t *jp;
	uint32_t       jn;
	int            rv;

	memset(t, 0, sizeof(*t));
	if (n > ATTEST_TRANSCRIPT_MAX) {
		return (GH_ELIMIT);
	}
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, ATTEST_JOB_VERSION, &type)) != GH_OK) {
		goto out;
	}
	if (type != ATTEST_TRANSCRIPT_TYPE) {
		rv = GH_ETYPE;
		goto out;
	}
	if ((rv = gh_get_str(&r, ATTEST_JOB_MAX, &jp, &jn)) != GH_OK
	    || (rv = attest_job_decode(jp, jn, &t->job)) != GH_OK
	    || (rv = attest_get_results(&r, t)) != GH_OK) {
		goto out;
	}
	rv = gh_reader_end(&r);
out:
	if (rv != GH_OK) {
		attest_transcript_clear(t);
	}
	return (rv);
}
