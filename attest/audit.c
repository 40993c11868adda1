/* audit.c - checks on a transcript: the cheap ones (signature, lease,
 * job binding, figures) and the spot checks re-run on the CPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

static int
attest_fail(char *why, size_t cap, uint32_t idx, const char *s)
{
	if (why != NULL && cap > 0) {
		snprintf(why, cap, "prompt %u: %s", idx, s);
	}
	return (GH_EINVAL);
}

int
attest_transcript_verify(const attest_transcript *t, const gh_ed_pub *provider,
    const uint8_t *lease, uint64_t peak_flops, char *why, size_t whycap)
{
	gh_hash jid, h;
	uint8_t sub[32];

	if (why != NULL && whycap > 0) {
		why[0] = '\0';
	}
	if (attest_job_id(&t->job, &jid) != GH_OK
	    || t->n_results != t->job.n_prompts) {
		return (attest_fail(why, whycap, 0, "malformed job"));
	}
	for (uint32_t i = 0; i < t->n_results; i++) {
		const attest_result *r = &t->results[i];
		const attest_proof  *p = &r->proof;
		const char          *w = NULL;
		if (attest_proof_verify_sig(p) != GH_OK) {
			return (attest_fail(why, whycap, i, "bad signature"));
		}
		if (provider != NULL
		    && memcmp(provider->b, p->node.b, 32) != 0) {
			return (attest_fail(
			    why, whycap, i, "signed by another node"));
		}
		if (lease != NULL && memcmp(lease, p->lease, 32) != 0) {
			return (attest_fail(
			    why, whycap, i, "proof is for another lease"));
		}
		if (memcmp(t->job.lease, p->lease, 32) != 0) {
			return (attest_fail(why, whycap, i,
			    "proof's lease differs from the job's"));
		}
		attest_job_sub_id(&jid, i, sub);
		if (memcmp(sub, p->job, 32) != 0) {
			return (attest_fail(
			    why, whycap, i, "proof is for another job"));
		}
		if (memcmp(t->job.model.b, p->model.b, 32) != 0) {
			return (attest_fail(why, whycap, i,
			    "proof names another model than the job"));
		}
		if (p->n_predict != t->job.n_predict
		    || p->temperature_milli != t->job.temperature_milli
		    || p->top_p_milli != t->job.top_p_milli
		    || p->seed != t->job.seed) {
			return (attest_fail(why, whycap, i,
			    "proof's parameters differ from the job's"));
		}
		if (p->n_in != r->n_in || p->n_out != r->n_out) {
			return (attest_fail(why, whycap, i,
			    "token counts differ from the transcript's"));
		}
		attest_tokens_hash(r->in, r->n_in, &h);
		if (memcmp(h.b, p->input_hash.b, 32) != 0) {
			return (attest_fail(
			    why, whycap, i, "input token hash mismatch"));
		}
		attest_tokens_hash(r->out, r->n_out, &h);
		if (memcmp(h.b, p->output_hash.b, 32) != 0) {
			return (attest_fail(
			    why, whycap, i, "output token hash mismatch"));
		}
		if (attest_proof_check(p, peak_flops, &w) != GH_OK) {
			return (attest_fail(why, whycap, i, w));
		}
	}
	return (GH_OK);
}

/* A generator for the sample choice, from the 32-byte seed. */
static uint64_t
attest_pick(gpu_rng *g, uint64_t n)
{
	return (n == 0 ? 0 : gpu_rng_next(g) % n);
}

/* Audits the chunks marked in want[] of result r. */
static int
attest_audit_one(const attest_transcript *t, uint32_t idx, gpu_ctx *ctx,
    const gpu_model *m, const uint8_t *want, const attest_tolerance *tol,
    attest_audit_report *rep)
{
	const attest_result  *r    = &t->results[idx];
	const attest_proof   *p    = &r->proof;
	const gpu_model_info *mi   = gpu_model_info_get(m);
	const gpu_tokenizer  *tk   = gpu_model_tokenizer(m);
	uint32_t              P    = r->n_in + r->n_out - (r->n_out ? 1 : 0);
	uint32_t              last = 0, dim = mi->n_embd;
	float                *hidden = NULL, *logits = NULL;
	int32_t              *seq = NULL, *tk_in = NULL;
	gpu_sample_scratch   *sc = NULL;
	gpu_sample_params     sp;
	size_t                n_tk;
	int                   rv = GH_OK;

	/* The committed prompt must be what the job's text tokenizes to. */
	if ((tk_in = malloc(((size_t) r->n_in + 1) * sizeof(int32_t)))
	    == NULL) {
		return (GH_ENOMEM);
	}
	if (gpu_tok_encode(tk, t->job.prompt[idx], t->job.prompt_len[idx], 1,
	        tk_in, (size_t) r->n_in + 1, &n_tk)
	        != GH_OK
	    || n_tk != r->n_in
	    || memcmp(tk_in, r->in, n_tk * sizeof(int32_t)) != 0) {
		rep->input_mismatch++;
	}
	free(tk_in);
	for (uint32_t c = 0; c < p->n_chunks; c++) {
		if (want[c]) {
			last = c + 1;
		}
	}
	if (last == 0) {
		return (GH_OK);
	}
	if (p->shape.dim != dim || P > GPU_CTX_MAX || r->n_in == 0
	    || p->n_chunks != (P + ATTEST_CHUNK - 1) / ATTEST_CHUNK) {
		rep->failed_chunks += last;
		rep->checked_chunks += last;
		return (GH_OK);
	}
	if ((seq = malloc(((size_t) P + 1) * sizeof(int32_t))) == NULL
	    || (hidden = malloc((size_t) ATTEST_CHUNK * dim * sizeof(float)))
	        == NULL
	    || (logits = malloc(
	            (size_t) ATTEST_CHUNK * mi->n_vocab * sizeof(float)))
	        == NULL
	    || (sc = calloc(2 * (size_t) mi->n_vocab, sizeof(*sc))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	memcpy(seq, r->in, (size_t) r->n_in * sizeof(int32_t));
	if (r->n_out > 1) {
		memcpy(seq + r->n_in, r->out,
		    ((size_t) r->n_out - 1) * sizeof(int32_t));
	}
	attest_job_sample_params(&t->job, &sp);
	gpu_ctx_reset(ctx);
	for (uint32_t c = 0; c < last; c++) {
		uint32_t    s = c * ATTEST_CHUNK;
		uint32_t    e = s + ATTEST_CHUNK < P ? s + ATTEST_CHUNK : P;
		int         out_here = e > r->n_in - 1 && r->n_out > 0;
		uint64_t    dns      = 0;
		attest_diff d        = { 0.0, 1.0, 1.0 };
		if ((rv = gpu_ctx_forward(ctx, seq + s, e - s,
		         want[c] && out_here ? logits : NULL, 1,
		         want[c] ? hidden : NULL, &dns))
		    != GH_OK) {
			/* a token out of the model's range: the chunk fails */
			rep->checked_chunks++;
			rep->failed_chunks++;
			rv = GH_OK;
			goto out;
		}
		rep->cpu_ns += dns;
		if (!want[c]) {
			continue;
		}
		rep->checked_chunks++;
		if (attest_chunk_compare(&p->chunks[c],
		        hidden + (size_t) (e - s - 1) * dim, dim, tol, &d)
		    != GH_OK) {
			rep->failed_chunks++;
		}
		if (d.overlap < rep->worst_overlap) {
			rep->worst_overlap = d.overlap;
		}
		if (d.max_err > rep->worst_err) {
			rep->worst_err = d.max_err;
		}
		if (d.mean_err > rep->worst_mean) {
			rep->worst_mean = d.mean_err;
		}
		if (!out_here) {
			continue;
		}
		/* Output token i comes from the logits at n_in - 1 + i. */
		for (uint32_t q = s; q < e; q++) {
			gpu_rng  g;
			int32_t  tok;
			uint32_t i;
			if (q + 1 < r->n_in) {
				continue;
			}
			i = q + 1 - r->n_in;
			gpu_rng_seed(&g, sp.seed);
			if (sp.temperature > 0.0f) {
				for (uint32_t k = 0; k < i; k++) {
					(void) gpu_rng_next(&g);
				}
			}
			rep->checked_tokens++;
			if (gpu_sample(logits + (size_t) (q - s) * mi->n_vocab,
			        mi->n_vocab, &sp, &g, sc, &tok)
			        != GH_OK
			    || tok != r->out[i]) {
				rep->failed_tokens++;
			}
		}
	}
out:
	free(seq);
	free(hidden);
	free(logits);
	free(sc);
	return (rv);
}

int
attest_audit(const attest_transcript *t, const gpu_model *m, int n_threads,
    unsigned k, const uint8_t seed[32], const attest_tolerance *tol,
    attest_audit_report *r)
{
	gpu_ctx  *ctx   = NULL;
	uint8_t **want  = NULL;
	uint64_t  total = 0, s64;
	gpu_rng   g;
	int       rv;

	memset(r, 0, sizeof(*r));
	r->worst_overlap = 1.0;
	if ((rv = gpu_ctx_new(m, GPU_BACKEND_CPU, 0, n_threads, &ctx, NULL, 0))
	    != GH_OK) {
		return (rv);
	}
	if ((want = calloc(t->n_results ? t->n_results : 1, sizeof(*want)))
	    == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < t->n_results; i++) {
		uint32_t nc = t->results[i].proof.n_chunks;
		if ((want[i] = calloc(nc ? nc : 1, 1)) == NULL) {
			rv = GH_ENOMEM;
			goto out;
		}
		total += nc;
	}
	/* k distinct chunks over all prompts (all when k >= total). */
	s64 = gh_be64_get(seed) ^ gh_be64_get(seed + 8)
	    ^ gh_be64_get(seed + 16) ^ gh_be64_get(seed + 24);
	gpu_rng_seed(&g, s64);
	for (uint64_t picked = 0; picked < k && picked < total;) {
		uint64_t x = attest_pick(&g, total);
		for (uint32_t i = 0; i < t->n_results; i++) {
			uint32_t nc = t->results[i].proof.n_chunks;
			if (x < nc) {
				if (!want[i][x]) {
					want[i][x] = 1;
					picked++;
				}
				break;
			}
			x -= nc;
		}
	}
	for (uint32_t i = 0; i < t->n_results; i++) {
		if ((rv = attest_audit_one(t, i, ctx, m, want[i], tol, r))
		    != GH_OK) {
			goto out;
		}
	}
	rv = r->failed_chunks || r->failed_tokens || r->input_mismatch
	    ? GH_EINVAL
	    : GH_OK;
out:
	for (uint32_t i = 0; want != NULL && i < t->n_results; i++) {
		free(want[i]);
	}
	free(want);
	gpu_ctx_free(ctx);
	return (rv);
}
