/* exec.c - the provider's executor: runs a job on the engine, records
 * the activation commitments and signs a utilization proof. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

/* Commits the hidden state of position pos when it ends a chunk or is
 * the run's last position. */
static int
attest_gen_commit(const float *h, size_t dim, uint32_t pos, int last,
    attest_chunk *chunks, uint32_t *n_chunks)
{
	if ((pos + 1) % ATTEST_CHUNK != 0 && !last) {
		return (GH_OK);
	}
	return (attest_chunk_commit(h, dim, &chunks[(*n_chunks)++]));
}

/* The progress report of one run: e's callback, the tokens of the
 * prompts before this one and the job's total. */
typedef struct {
	const attest_exec *e;
	uint64_t           base;
	uint64_t           total;
} attest_gen_progress;

static int attest_generate_p(const gpu_model *m, gpu_ctx *ctx,
    const int32_t *in, uint32_t n_in, const gpu_sample_params *sp,
    uint32_t n_predict, int32_t *out, uint32_t *n_out, attest_chunk *chunks,
    uint32_t *n_chunks, uint64_t *device_ns, const attest_gen_progress *pg);

int
attest_generate(const gpu_model *m, gpu_ctx *ctx, const int32_t *in,
    uint32_t n_in, const gpu_sample_params *sp, uint32_t n_predict,
    int32_t *out, uint32_t *n_out, attest_chunk *chunks, uint32_t *n_chunks,
    uint64_t *device_ns)
{
	return (attest_generate_p(m, ctx, in, n_in, sp, n_predict, out, n_out,
	    chunks, n_chunks, device_ns, NULL));
}

static int
attest_generate_p(const gpu_model *m, gpu_ctx *ctx, const int32_t *in,
    uint32_t n_in, const gpu_sample_params *sp, uint32_t n_predict,
    int32_t *out, uint32_t *n_out, attest_chunk *chunks, uint32_t *n_chunks,
    uint64_t *device_ns, const attest_gen_progress *pg)
{
	const gpu_model_info *mi     = gpu_model_info_get(m);
	gpu_sample_scratch   *sc     = NULL;
	float                *logits = NULL, *hidden = NULL;
	gpu_rng               rng;
	uint64_t              t;
	int32_t               eos = gpu_tok_eos(gpu_model_tokenizer(m));
	int32_t               tok;
	uint32_t              dim = mi->n_embd;
	int                   rv;

	*n_out     = 0;
	*n_chunks  = 0;
	*device_ns = 0;
	if (n_in == 0 || n_predict == 0) {
		return (GH_EINVAL);
	}
	gpu_rng_seed(&rng, sp->seed);
	if ((logits = malloc((size_t) mi->n_vocab * sizeof(float))) == NULL
	    || (hidden = malloc((size_t) n_in * dim * sizeof(float))) == NULL
	    || (sc = calloc(2 * (size_t) mi->n_vocab, sizeof(*sc))) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	gpu_ctx_reset(ctx);
	if ((rv = gpu_ctx_forward(ctx, in, n_in, logits, 0, hidden, &t))
	    != GH_OK) {
		goto out;
	}
	*device_ns += t;
	for (;;) {
		uint32_t pos  = gpu_ctx_pos(ctx); /* positions run so far */
		int      done = 0;
		if ((rv = gpu_sample(logits, mi->n_vocab, sp, &rng, sc, &tok))
		    != GH_OK) {
			goto out;
		}
		out[(*n_out)++] = tok;
		done            = tok == eos || *n_out == n_predict;
		if (pg != NULL && pg->e->progress != NULL) {
			pg->e->progress(pg->e->progress_arg,
			    pg->base + (done ? n_predict : *n_out), pg->total);
		}
		if (pg != NULL && pg->e->cancelled != NULL
		    && pg->e->cancelled(pg->e->cancel_arg)) {
			rv = GH_ECANCELED;
			goto out;
		}
		/* Commit the positions of the last forward pass. */
		if (*n_out == 1) {
			for (uint32_t p = 0; p < n_in; p++) {
				if ((rv = attest_gen_commit(
				         hidden + (size_t) p * dim, dim, p,
				         done && p == n_in - 1, chunks,
				         n_chunks))
				    != GH_OK) {
					goto out;
				}
			}
		} else if ((rv = attest_gen_commit(
		                hidden, dim, pos - 1, done, chunks, n_chunks))
		    != GH_OK) {
			goto out;
		}
		if (done) {
			break;
		}
		if ((rv = gpu_ctx_forward(ctx, &tok, 1, logits, 0, hidden, &t))
		    != GH_OK) {
			goto out;
		}
		*device_ns += t;
	}
out:
	free(logits);
	free(hidden);
	free(sc);
	return (rv);
}

int
attest_prove(const attest_exec *e, const attest_job *j, uint32_t idx,
    const int32_t *in, uint32_t n_in, const int32_t *out, uint32_t n_out,
    const attest_chunk *chunks, uint32_t n_chunks, uint64_t device_ns,
    uint64_t wall_ns, attest_proof *p)
{
	const gpu_model_info *mi = gpu_model_info_get(e->model);
	gh_hash               jid;
	int                   rv;

	memset(p, 0, sizeof(*p));
	if ((rv = attest_job_id(j, &jid)) != GH_OK) {
		return (rv);
	}
	gh_ed_key_pub(e->key, &p->node);
	memcpy(p->lease, j->lease, 32);
	attest_job_sub_id(&jid, idx, p->job);
	p->model     = e->model_hash;
	p->shape     = (attest_shape) { mi->n_layer, mi->n_embd, mi->n_ff,
		    mi->n_head, mi->n_head_kv, mi->n_vocab };
	p->n_predict = j->n_predict;
	p->temperature_milli = j->temperature_milli;
	p->top_p_milli       = j->top_p_milli;
	p->seed              = j->seed;
	attest_tokens_hash(in, n_in, &p->input_hash);
	attest_tokens_hash(out, n_out, &p->output_hash);
	p->n_in  = n_in;
	p->n_out = n_out;
	if ((rv = attest_flops(&p->shape, n_in, n_out, &p->flops)) != GH_OK) {
		return (rv);
	}
	/* On the CPU backend the engine's device time is process CPU time,
	 * which counts every thread; the proof never claims more device
	 * time than wall time. */
	p->device_ns = device_ns < wall_ns ? device_ns : wall_ns;
	if (p->device_ns == 0) {
		p->device_ns = 1;
	}
	p->wall_ns = wall_ns > p->device_ns ? wall_ns : p->device_ns;
	snprintf(p->device, sizeof(p->device), "%s",
	    e->device != NULL ? e->device : "cpu");
	if (e->nvml_index >= 0) {
		gpu_nvml_device d;
		/* The counter is the total since the driver loaded; the proof
		 * records the job's share: the difference over the run. */
		if (gpu_nvml_query((unsigned) e->nvml_index, &d) == GH_OK
		    && d.have_energy && e->energy_start_mj != 0
		    && d.energy_mj >= e->energy_start_mj) {
			p->has_energy = 1; /* self-reported by the driver */
			p->energy_mj  = d.energy_mj - e->energy_start_mj;
		}
	}
	p->time = gh_time_now();
	if (n_chunks > ATTEST_CHUNKS_MAX) {
		return (GH_ELIMIT);
	}
	p->n_chunks = n_chunks;
	if ((p->chunks
	        = malloc((n_chunks ? n_chunks : 1) * sizeof(*p->chunks)))
	    == NULL) {
		return (GH_ENOMEM);
	}
	memcpy(p->chunks, chunks, n_chunks * sizeof(*chunks));
	return (attest_proof_sign(p, e->key));
}

static int
attest_why(char *why, size_t cap, int rv, const char *fmt, const char *arg)
{
	(void) fmt;
	if (why != NULL && cap > 0) {
		snprintf(why, cap, "%s", arg);
	}
	return (rv);
}

int
attest_execute(const attest_exec *e, const attest_job *j,
    const gh_ed_pub *renter, attest_transcript *t, char *why, size_t whycap)
{
	const gpu_model_info *mi     = gpu_model_info_get(e->model);
	const gpu_tokenizer  *tk     = gpu_model_tokenizer(e->model);
	uint32_t              cap    = e->max_tokens;
	attest_chunk         *chunks = NULL;
	gpu_sample_params     sp;
	uint8_t              *enc = NULL;
	size_t                encn;
	int                   rv;

	memset(t, 0, sizeof(*t));
	if (why != NULL && whycap > 0) {
		why[0] = '\0';
	}
	if (attest_job_encode(j, &enc, &encn) != GH_OK) {
		return (attest_why(
		    why, whycap, GH_EINVAL, "%s", "malformed job parameters"));
	}
	if (e->lease_ok != NULL
	    && (rv = e->lease_ok(e->lease_arg, j->lease, renter, why, whycap))
	        != GH_OK) {
		free(enc);
		if (why != NULL && whycap > 0 && why[0] == '\0') {
			attest_why(why, whycap, rv, "%s", "lease not active");
		}
		return (rv);
	}
	if (memcmp(j->model.b, e->model_hash.b, 32) != 0) {
		free(enc);
		return (attest_why(why, whycap, GH_ENOENT, "%s",
		    "this node does not serve the requested model"));
	}
	/* The context holds at most the model's n_ctx positions. */
	if (cap == 0 || cap > mi->n_ctx || cap > GPU_CTX_MAX) {
		cap = mi->n_ctx < GPU_CTX_MAX ? mi->n_ctx : GPU_CTX_MAX;
	}
	if (j->n_predict >= cap) {
		free(enc);
		return (attest_why(why, whycap, GH_ELIMIT, "%s",
		    "n_predict is over the node's token limit"));
	}
	/* The transcript owns a decoded copy of the job. */
	if ((rv = attest_job_decode(enc, encn, &t->job)) != GH_OK) {
		free(enc);
		return (rv);
	}
	free(enc);
	if ((t->results = calloc(j->n_prompts, sizeof(*t->results))) == NULL
	    || (chunks = malloc(
	            ((size_t) cap / ATTEST_CHUNK + 2) * sizeof(*chunks)))
	        == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	t->n_results = j->n_prompts;
	attest_job_sample_params(j, &sp);
	for (uint32_t i = 0; i < j->n_prompts; i++) {
		attest_result      *r = &t->results[i];
		size_t              n_in;
		uint32_t            n_chunks;
		uint64_t            dns, t0 = gh_mono_ns();
		attest_exec         ee = *e;
		attest_gen_progress pg;
		if (e->nvml_index >= 0) {
			gpu_nvml_device d;
			if (gpu_nvml_query((unsigned) e->nvml_index, &d)
			        == GH_OK
			    && d.have_energy) {
				ee.energy_start_mj = d.energy_mj;
			}
		}
		if ((r->in = malloc((size_t) cap * sizeof(int32_t))) == NULL
		    || (r->out
		           = malloc((size_t) j->n_predict * sizeof(int32_t)))
		        == NULL) {
			rv = GH_ENOMEM;
			goto out;
		}
		rv = gpu_tok_encode(
		    tk, j->prompt[i], j->prompt_len[i], 1, r->in, cap, &n_in);
		if (rv == GH_ELIMIT
		    || (rv == GH_OK && n_in + j->n_predict > cap)) {
			rv = attest_why(why, whycap, GH_ELIMIT, "%s",
			    "prompt and n_predict are over the node's context "
			    "limit");
			goto out;
		}
		if (rv != GH_OK) {
			goto out;
		}
		r->n_in  = (uint32_t) n_in;
		pg.e     = e;
		pg.base  = (uint64_t) i * j->n_predict;
		pg.total = (uint64_t) j->n_prompts * j->n_predict;
		if ((rv = attest_generate_p(e->model, e->ctx, r->in, r->n_in,
		         &sp, j->n_predict, r->out, &r->n_out, chunks,
		         &n_chunks, &dns, &pg))
		    != GH_OK) {
			goto out;
		}
		if ((rv = attest_prove(&ee, j, i, r->in, r->n_in, r->out,
		         r->n_out, chunks, n_chunks, dns, gh_mono_ns() - t0,
		         &r->proof))
		    != GH_OK) {
			goto out;
		}
	}
out:
	free(chunks);
	if (rv != GH_OK) {
		attest_transcript_clear(t);
	}
	return (rv);
}
