/*
 * proofs_bench.c - utilization proofs on a ~15M-parameter test model
 * (the `model make-test --preset 15m` shapes, F32, context 1024):
 *   overhead            proof work (commitments, hashes, signature) over
 *                       the job's wall time
 *   bytes_per_1k_tokens encoded proof bytes per 1000 tokens (in + out)
 *   verify_us           signature + attest_proof_check per proof
 *   audit_cost          a sampled audit (4 chunks, CPU) over a full
 *                       re-execution of the job, wall time
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"
#include "tests/bench/bench.h"

static char bench_prompt[]
    = "the quick brown fox jumps over the lazy dog while the cat "
      "sleeps in the warm sun of the afternoon";

BENCH(proofs, all)
{
	gpu_test_spec       s;
	gpu_model          *m   = NULL;
	gpu_ctx            *ctx = NULL;
	gh_ed_key          *k   = NULL;
	uint8_t            *p = NULL, *enc = NULL;
	size_t              n, encn;
	attest_exec         e;
	attest_job          j;
	attest_transcript   t;
	attest_audit_report rep;
	attest_result      *r;
	uint8_t             seed[32] = { 7 };
	double              t0, job_s, proof_s, full_s, audit_s, ver_s;
	float              *hid;
	attest_chunk        ch;
	attest_proof        pr;
	int                 reps     = 2000;
	char                why[256] = "";

	gpu_test_spec_default(&s);
	s.n_vocab = 32000, s.n_ctx = 1024, s.n_embd = 288;
	s.n_layer = 6, s.n_ff = 768, s.n_head = 6, s.n_head_kv = 6;
	if (gpu_test_model_make(&s, &p, &n) != GH_OK
	    || gpu_model_from_memory(p, n, 1, &m, NULL, 0) != GH_OK
	    || gpu_ctx_new(m, GPU_BACKEND_CPU, 0, 0, &ctx, NULL, 0) != GH_OK
	    || gh_ed_key_new(&k) != GH_OK) {
		fprintf(stderr, "proofs bench: setup failed\n");
		return;
	}
	memset(&e, 0, sizeof(e));
	e.model      = m;
	e.ctx        = ctx;
	e.key        = k;
	e.device     = "cpu:bench";
	e.nvml_index = -1;
	(void) gpu_model_hash(m, &e.model_hash);
	memset(&j, 0, sizeof(j));
	j.model = e.model_hash;
	memset(j.lease, 1, 32);
	{
		/* fill the context: prompt + n_predict = 1024 */
		int32_t tk[1024];
		size_t  nt = 0;
		(void) gpu_tok_encode(gpu_model_tokenizer(m), bench_prompt,
		    strlen(bench_prompt), 1, tk, 1024, &nt);
		j.n_predict = 1024 - (uint32_t) nt;
	}
	j.temperature_milli = 800;
	j.top_p_milli       = 950;
	j.seed              = 3;
	j.n_prompts         = 1;
	j.prompt[0]         = bench_prompt;
	j.prompt_len[0]     = (uint32_t) strlen(bench_prompt);
	t0                  = bench_now();
	if (attest_execute(&e, &j, NULL, &t, why, sizeof(why)) != GH_OK) {
		fprintf(stderr, "proofs bench: job failed: %s\n", why);
		return;
	}
	job_s = bench_now() - t0;
	r     = &t.results[0];
	printf("proofs: %u in, %u out, %u chunks, job %.2f s, %.3g FLOPs\n",
	    r->n_in, r->n_out, r->proof.n_chunks, job_s,
	    (double) r->proof.flops);
	/* The proof's own work: one commitment per chunk, then the token
	 * hashes, the encoding and the signature. */
	hid = malloc(s.n_embd * sizeof(float));
	for (uint32_t i = 0; i < s.n_embd; i++) {
		hid[i] = (float) ((i * 2654435761u) % 1000) / 500.0f - 1.0f;
	}
	t0 = bench_now();
	for (int i = 0; i < reps; i++) {
		hid[i % s.n_embd] += 1e-3f;
		(void) attest_chunk_commit(hid, s.n_embd, &ch);
	}
	proof_s = (bench_now() - t0) / reps * r->proof.n_chunks;
	t0      = bench_now();
	for (int i = 0; i < 20; i++) {
		(void) attest_prove(&e, &j, 0, r->in, r->n_in, r->out,
		    r->n_out, r->proof.chunks, r->proof.n_chunks,
		    r->proof.device_ns, r->proof.wall_ns, &pr);
		attest_proof_clear(&pr);
	}
	proof_s += (bench_now() - t0) / 20;
	bench_report(
	    "proofs", "overhead", proof_s / job_s, "fraction", 0.01, 1);
	if (attest_proof_encode(&r->proof, &enc, &encn) == GH_OK) {
		bench_report("proofs", "bytes_per_1k_tokens",
		    (double) encn * 1000.0 / (double) (r->n_in + r->n_out),
		    "bytes", 8500, 1);
	}
	t0 = bench_now();
	for (int i = 0; i < reps; i++) {
		if (attest_proof_verify_sig(&r->proof) != GH_OK
		    || attest_proof_check(&r->proof, 0, NULL) != GH_OK) {
			fprintf(stderr, "proofs bench: verify failed\n");
		}
	}
	ver_s = (bench_now() - t0) / reps;
	bench_report("proofs", "verify_us", ver_s * 1e6, "us", 1000, 1);
	/* Full re-execution: the same job again (decode, token by token). */
	{
		attest_transcript u;
		t0 = bench_now();
		(void) attest_execute(&e, &j, NULL, &u, NULL, 0);
		full_s = bench_now() - t0;
		attest_transcript_clear(&u);
	}
	t0 = bench_now();
	if (attest_audit(&t, m, 0, 4, seed, &attest_tol_cpu, &rep) != GH_OK) {
		fprintf(stderr, "proofs bench: audit flagged an honest job\n");
	}
	audit_s = bench_now() - t0;
	printf("proofs: audit checked %u chunks, %u tokens in %.3f s; full "
	       "re-execution %.3f s\n",
	    rep.checked_chunks, rep.checked_tokens, audit_s, full_s);
	bench_report(
	    "proofs", "audit_cost", audit_s / full_s, "ratio", 1.0, 1);
	free(hid);
	free(enc);
	attest_transcript_clear(&t);
	gpu_ctx_free(ctx);
	gpu_model_close(m);
	gh_ed_key_free(k);
}
