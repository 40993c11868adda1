/* job_test.c - jobs end to end in one process: codec and sealing, the
 * executor, verification and audit of honest runs, and dishonest
 * providers (each a modified executor) that must all be flagged. */
#include <stdio.h>
#include <stdlib.h>

#include "attest/attest.h"
#include "tests/harness.h"

static gpu_model *
mk_model_w(uint64_t seed, gpu_type wt, uint32_t embd)
{
	gpu_test_spec s;
	gpu_model    *m = NULL;
	uint8_t      *p;
	size_t        n;

	gpu_test_spec_default(&s);
	if (embd != 0) {
		s.n_embd = embd;
		s.n_ff   = embd * 2;
	}
	s.seed      = seed;
	s.wtype     = wt;
	s.embd_type = wt;
	if (gpu_test_model_make(&s, &p, &n) != GH_OK) {
		return (NULL);
	}
	if (gpu_model_from_memory(p, n, 1, &m, NULL, 0) != GH_OK) {
		return (NULL);
	}
	return (m);
}

static gpu_model *
mk_model(uint64_t seed, gpu_type wt)
{
	return (mk_model_w(seed, wt, 0));
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

static char prompt_a[] = "the quick brown fox jumps over the lazy dog and "
                         "then the dog sleeps in the sun";
static char prompt_b[] = "once upon a time there was a small model";

static void
mk_job(attest_job *j, const gh_hash *model, uint8_t lease, uint64_t seed,
    uint32_t n_predict)
{
	memset(j, 0, sizeof(*j));
	j->model = *model;
	memset(j->lease, lease, 32);
	j->n_predict         = n_predict;
	j->temperature_milli = 800;
	j->top_p_milli       = 950;
	j->top_k             = 40;
	j->seed              = seed;
	memset(j->reply_pk, 9, 32);
	j->n_prompts     = 2;
	j->prompt[0]     = prompt_a;
	j->prompt_len[0] = (uint32_t) strlen(prompt_a);
	j->prompt[1]     = prompt_b;
	j->prompt_len[1] = (uint32_t) strlen(prompt_b);
}

typedef struct {
	gpu_model  *m;
	gpu_ctx    *ctx;
	gh_ed_key  *k;
	attest_exec e;
} fixture;

static int
fx_open(fixture *f, gpu_model *m, const gh_hash *declared, int threads)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
	f->k = key(7);
	if (m == NULL || f->k == NULL
	    || gpu_ctx_new(m, GPU_BACKEND_CPU, 0, threads, &f->ctx, NULL, 0)
	        != GH_OK) {
		return (GH_EINTERNAL);
	}
	f->e.model      = m;
	f->e.ctx        = f->ctx;
	f->e.key        = f->k;
	f->e.device     = "cpu:test";
	f->e.nvml_index = -1;
	if (declared != NULL) {
		f->e.model_hash = *declared;
		return (GH_OK);
	}
	return (gpu_model_hash(m, &f->e.model_hash));
}

static void
fx_close(fixture *f)
{
	gpu_ctx_free(f->ctx);
	gh_ed_key_free(f->k);
	gpu_model_close(f->m);
}

static const uint8_t audit_seed[32] = { 1, 2, 3 };

/* Verifies and audits every chunk; returns 0 clean, 1 verify flagged, 2
 * audit flagged. */
static int
judge_r(const attest_transcript *t, const gpu_model *ref, uint8_t lease,
    attest_audit_report *out)
{
	uint8_t             l[32];
	gh_ed_pub           pub;
	gh_ed_key          *k = key(7);
	attest_audit_report r;
	char                why[200];
	int                 rv;

	memset(l, lease, 32);
	gh_ed_key_pub(k, &pub);
	gh_ed_key_free(k);
	if (attest_transcript_verify(t, &pub, l, 0, why, sizeof(why))
	    != GH_OK) {
		return (1);
	}
	rv = attest_audit(t, ref, 1, 1000, audit_seed, &attest_tol_cpu, &r);
	if (rv != GH_OK && rv != GH_EINVAL) {
		return (3);
	}
	if (rv != GH_OK || getenv("GH_AUDIT_VERBOSE") != NULL) {
		printf("audit: chunks %u/%u failed, tokens %u/%u differ, "
		       "worst overlap %.3f, worst max_rel_err %.3g, worst "
		       "mean_err %.3g\n",
		    r.failed_chunks, r.checked_chunks, r.failed_tokens,
		    r.checked_tokens, r.worst_overlap, r.worst_err,
		    r.worst_mean);
	}
	if (out != NULL) {
		*out = r;
	}
	return (rv == GH_OK ? 0 : 2);
}

static int
judge(const attest_transcript *t, const gpu_model *ref, uint8_t lease)
{
	return (judge_r(t, ref, lease, NULL));
}

TEST(attest_job_codec_and_seal)
{
	attest_job j, d;
	gh_hash    mh, a, b;
	uint8_t   *p = NULL, *c = NULL, *o = NULL, pk[32], sk[32];
	size_t     n, cn, on;
	gh_ed_key *k = key(3);
	gh_ed_pub  pub;

	memset(mh.b, 5, 32);
	mk_job(&j, &mh, 1, 42, 10);
	CHECK_OK(attest_job_encode(&j, &p, &n));
	CHECK_OK(attest_job_decode(p, n, &d));
	CHECK_OK(attest_job_id(&j, &a));
	CHECK_OK(attest_job_id(&d, &b));
	CHECK_MEM(a.b, b.b, 32);
	CHECK_EQ(d.n_prompts, 2u);
	CHECK_MEM(d.prompt[1], prompt_b, strlen(prompt_b));
	/* sealed to the node's X25519 key; only that key opens it */
	gh_ed_key_pub(k, &pub);
	CHECK_OK(gh_ed_pub_to_x25519(&pub, pk));
	CHECK_OK(attest_seal(pk, p, n, &c, &cn));
	CHECK(memmem(c, cn, prompt_a, 10) == NULL);
	CHECK_OK(gh_ed_to_x25519(k, pk, sk));
	CHECK_OK(attest_seal_open(pk, sk, c, cn, &o, &on));
	CHECK_EQ(on, n);
	CHECK_MEM(o, p, n);
	free(o);
	c[cn / 2] ^= 1;
	CHECK_ERR(attest_seal_open(pk, sk, c, cn, &o, &on), GH_EDECRYPT);
	/* every truncation fails cleanly */
	for (size_t i = 0; i < n; i++) {
		attest_job e;
		CHECK(attest_job_decode(p, i, &e) != GH_OK);
	}
	/* parameters out of range */
	j.top_p_milli = 0;
	CHECK_ERR(attest_job_encode(&j, &o, &on), GH_EINVAL);
	attest_job_clear(&d);
	gh_ed_key_free(k);
	free(p);
	free(c);
}

TEST_T(attest_job_honest_runs_never_flagged, 600)
{
	gpu_model *ref     = mk_model(1, GPU_TYPE_F16);
	int        flagged = 0, runs = 0;
	uint32_t   chunks   = 0;
	double     worst_ov = 1.0, worst_err = 0.0;

	CHECK(ref != NULL);
	for (uint64_t s = 1; s <= 50; s++) {
		fixture           f;
		attest_job        j;
		attest_transcript t, u;
		uint8_t          *p;
		size_t            n;
		char              why[200];
		CHECK_OK(fx_open(
		    &f, mk_model(1, GPU_TYPE_F16), NULL, (int) (s % 2) + 1));
		mk_job(
		    &j, &f.e.model_hash, 1, s, 20 + (uint32_t) (s % 3) * 17);
		j.temperature_milli = s % 5 == 0 ? 0 : 700 + (uint32_t) s;
		CHECK_OK(attest_execute(&f.e, &j, NULL, &t, why, sizeof(why)));
		/* through the encoding, as a file would carry it */
		CHECK_OK(attest_transcript_encode(&t, &p, &n));
		CHECK_OK(attest_transcript_decode(p, n, &u));
		free(p);
		for (uint32_t i = 0; i < u.n_results; i++) {
			chunks += u.results[i].proof.n_chunks;
		}
		{
			attest_audit_report rep;
			memset(&rep, 0, sizeof(rep));
			flagged += judge_r(&u, ref, 1, &rep) != 0;
			if (rep.worst_overlap < worst_ov) {
				worst_ov = rep.worst_overlap;
			}
			if (rep.worst_err > worst_err) {
				worst_err = rep.worst_err;
			}
		}
		runs++;
		attest_transcript_clear(&t);
		attest_transcript_clear(&u);
		fx_close(&f);
	}
	printf("honest jobs %d (2 prompts each, threads 1 and 2), chunks "
	       "audited %u, flagged %d, worst overlap %.3f, worst "
	       "max_rel_err %.3g\n",
	    runs, chunks, flagged, worst_ov, worst_err);
	CHECK_EQ(flagged, 0);
	gpu_model_close(ref);
}

/* A dishonest run: the executor on another model than declared. */
static int
cheat_model(gpu_model *served, const gh_hash *declared, const gpu_model *ref)
{
	fixture           f;
	attest_job        j;
	attest_transcript t;
	char              why[200];
	int               v;

	if (fx_open(&f, served, declared, 1) != GH_OK) {
		return (-1);
	}
	mk_job(&j, declared, 1, 5, 40);
	if (attest_execute(&f.e, &j, NULL, &t, why, sizeof(why)) != GH_OK) {
		return (-1);
	}
	v = judge(&t, ref, 1);
	attest_transcript_clear(&t);
	fx_close(&f);
	return (v);
}

TEST(attest_job_detects_other_model)
{
	gpu_model *ref = mk_model(1, GPU_TYPE_F16);
	gh_hash    h;

	CHECK(ref != NULL);
	CHECK_OK(gpu_model_hash(ref, &h));
	CHECK_EQ(cheat_model(mk_model(1, GPU_TYPE_F16), &h, ref), 0);
	/* same shapes, other weights */
	CHECK_EQ(cheat_model(mk_model(2, GPU_TYPE_F16), &h, ref), 2);
	gpu_model_close(ref);
}

TEST(attest_job_detects_lower_precision)
{
	gpu_model *ref = mk_model(1, GPU_TYPE_F16);
	gh_hash    h;

	CHECK(ref != NULL);
	CHECK_OK(gpu_model_hash(ref, &h));
	/* Q8_0 served where F16 was declared */
	CHECK_EQ(cheat_model(mk_model(1, GPU_TYPE_Q8_0), &h, ref), 2);
	gpu_model_close(ref);
	/* the same on a wider model (top-64 of 256 dimensions) */
	ref = mk_model_w(1, GPU_TYPE_F16, 256);
	CHECK(ref != NULL);
	CHECK_OK(gpu_model_hash(ref, &h));
	CHECK_EQ(cheat_model(mk_model_w(1, GPU_TYPE_F16, 256), &h, ref), 0);
	CHECK_EQ(cheat_model(mk_model_w(1, GPU_TYPE_Q8_0, 256), &h, ref), 2);
	CHECK_EQ(cheat_model(mk_model_w(2, GPU_TYPE_F16, 256), &h, ref), 2);
	gpu_model_close(ref);
}

/* An honest transcript to tamper with. */
static int
honest(fixture *f, attest_job *j, attest_transcript *t)
{
	char why[200];

	if (fx_open(f, mk_model(1, GPU_TYPE_F16), NULL, 1) != GH_OK) {
		return (-1);
	}
	mk_job(j, &f->e.model_hash, 1, 11, 40);
	return (attest_execute(&f->e, j, NULL, t, why, sizeof(why)));
}

TEST(attest_job_detects_changed_prompt)
{
	fixture           f;
	attest_job        j;
	attest_transcript t;
	attest_result    *r;
	attest_chunk      ch[16];
	int32_t           in2[256], out2[64];
	uint32_t          n_out2, nch;
	uint64_t          dns;
	gpu_sample_params sp;
	size_t            n2;
	gpu_model        *ref = mk_model(1, GPU_TYPE_F16);

	CHECK_OK(honest(&f, &j, &t));
	r = &t.results[0];
	/* The provider runs a cheaper, different prompt but claims the
	 * renter's tokens. */
	CHECK_OK(gpu_tok_encode(
	    gpu_model_tokenizer(f.m), "hello there", 11, 1, in2, 256, &n2));
	attest_job_sample_params(&j, &sp);
	CHECK_OK(attest_generate(f.m, f.ctx, in2, (uint32_t) n2, &sp, 40, out2,
	    &n_out2, ch, &nch, &dns));
	/* keep the counts consistent with the claimed prompt */
	{
		uint32_t     P    = r->n_in + n_out2 - 1;
		uint32_t     want = (P + ATTEST_CHUNK - 1) / ATTEST_CHUNK;
		attest_chunk fake[16];
		for (uint32_t c = 0; c < want; c++) {
			fake[c] = ch[c < nch ? c : nch - 1];
		}
		free(r->out);
		r->out = malloc(n_out2 * sizeof(int32_t));
		memcpy(r->out, out2, n_out2 * sizeof(int32_t));
		r->n_out = n_out2;
		attest_proof_clear(&r->proof);
		CHECK_OK(attest_prove(&f.e, &j, 0, r->in, r->n_in, r->out,
		    r->n_out, fake, want, dns, dns + 1000, &r->proof));
	}
	CHECK_EQ(judge(&t, ref, 1), 2);
	attest_transcript_clear(&t);
	fx_close(&f);
	gpu_model_close(ref);
}

TEST(attest_job_detects_inflated_counts)
{
	fixture           f;
	attest_job        j;
	attest_transcript t;
	attest_result    *r;
	gpu_model        *ref = mk_model(1, GPU_TYPE_F16);
	uint64_t          rs  = 99;

	CHECK_OK(honest(&f, &j, &t));
	CHECK_EQ(judge(&t, ref, 1), 0);
	r = &t.results[1];
	/* 1: more tokens claimed in the proof than delivered, re-signed */
	r->proof.n_out += 8;
	CHECK_OK(attest_flops(
	    &r->proof.shape, r->proof.n_in, r->proof.n_out, &r->proof.flops));
	CHECK_OK(attest_proof_sign(&r->proof, f.k));
	CHECK_EQ(judge(&t, ref, 1), 1);
	attest_transcript_clear(&t);
	fx_close(&f);
	/* 2: padded with made-up tokens and made-up commitments, all
	 * consistent: only the re-run catches it */
	CHECK_OK(honest(&f, &j, &t));
	r = &t.results[1];
	{
		uint32_t      extra = 30, P, nc;
		int32_t      *o     = malloc((r->n_out + extra) * 4);
		attest_chunk *c;
		memcpy(o, r->out, r->n_out * 4);
		for (uint32_t i = 0; i < extra; i++) {
			o[r->n_out + i] = (int32_t) (th_rand(&rs) % 500);
		}
		free(r->out);
		r->out = o;
		r->n_out += extra;
		j.n_predict     = r->n_out;
		t.job.n_predict = r->n_out;
		P               = r->n_in + r->n_out - 1;
		nc              = (P + ATTEST_CHUNK - 1) / ATTEST_CHUNK;
		c               = calloc(nc, sizeof(*c));
		for (uint32_t i = 0; i < nc; i++) {
			c[i] = r->proof.chunks[i < r->proof.n_chunks
			        ? i
			        : r->proof.n_chunks - 1];
		}
		for (uint32_t i = 0; i < t.n_results; i++) {
			attest_result *q   = &t.results[i];
			attest_chunk  *cc  = i == 1 ? c : q->proof.chunks;
			uint32_t       ncc = i == 1 ? nc : q->proof.n_chunks;
			attest_proof   np;
			CHECK_OK(attest_prove(&f.e, &t.job, i, q->in, q->n_in,
			    q->out, q->n_out, cc, ncc, q->proof.device_ns,
			    q->proof.wall_ns, &np));
			attest_proof_clear(&q->proof);
			q->proof = np;
		}
		free(c);
	}
	CHECK_EQ(judge(&t, ref, 1), 2);
	attest_transcript_clear(&t);
	fx_close(&f);
	gpu_model_close(ref);
}

TEST(attest_job_detects_replay_and_forgery)
{
	fixture           f;
	attest_job        j;
	attest_transcript t;
	gpu_model        *ref   = mk_model(1, GPU_TYPE_F16);
	gh_ed_key        *other = key(8);
	gh_sig            saved;

	CHECK_OK(honest(&f, &j, &t));
	CHECK_EQ(judge(&t, ref, 1), 0);
	/* the proof is replayed for lease 2 */
	CHECK_EQ(judge(&t, ref, 2), 1);
	/* a forged signature: another key signs in the node's name */
	saved = t.results[0].proof.sig;
	{
		gh_hash id;
		CHECK_OK(attest_proof_id(&t.results[0].proof, &id));
		gh_ed_sign(other, &id, &t.results[0].proof.sig);
	}
	CHECK_EQ(judge(&t, ref, 1), 1);
	t.results[0].proof.sig = saved;
	t.results[0].proof.sig.b[3] ^= 1;
	CHECK_EQ(judge(&t, ref, 1), 1);
	t.results[0].proof.sig = saved;
	CHECK_EQ(judge(&t, ref, 1), 0);
	gh_ed_key_free(other);
	attest_transcript_clear(&t);
	fx_close(&f);
	gpu_model_close(ref);
}

TEST(attest_job_refusals)
{
	fixture           f;
	attest_job        j;
	attest_transcript t;
	char              why[200];
	gh_hash           other;

	CHECK_OK(fx_open(&f, mk_model(1, GPU_TYPE_F16), NULL, 1));
	memset(other.b, 1, 32);
	mk_job(&j, &other, 1, 1, 10);
	CHECK_ERR(
	    attest_execute(&f.e, &j, NULL, &t, why, sizeof(why)), GH_ENOENT);
	CHECK(strstr(why, "model") != NULL);
	mk_job(&j, &f.e.model_hash, 1, 1, 10);
	f.e.max_tokens = 16;
	CHECK_ERR(
	    attest_execute(&f.e, &j, NULL, &t, why, sizeof(why)), GH_ELIMIT);
	CHECK(strstr(why, "limit") != NULL);
	fx_close(&f);
}

TEST(attest_job_flops_match_the_engine)
{
	gpu_model            *m = mk_model(1, GPU_TYPE_F16);
	const gpu_model_info *mi;
	attest_shape          s;
	uint64_t              a, sum = 0;

	CHECK(m != NULL);
	mi = gpu_model_info_get(m);
	s  = (attest_shape) { mi->n_layer, mi->n_embd, mi->n_ff, mi->n_head,
		 mi->n_head_kv, mi->n_vocab };
	/* 30 prompt tokens and 50 generated: 79 positions */
	CHECK_OK(attest_flops(&s, 30, 50, &a));
	for (uint32_t p = 0; p < 79; p++) {
		sum += gpu_model_flops(m, p);
	}
	CHECK_EQ(a, sum);
	gpu_model_close(m);
}

/* Every single-bit flip of a transcript either fails to decode or fails
 * verification; every truncation fails to decode. */
TEST_T(attest_job_transcript_bitflips, 300)
{
	fixture           f;
	attest_job        j;
	attest_transcript t, u;
	uint8_t          *p;
	size_t            n;
	gh_ed_pub         pub;
	unsigned          decoded = 0;

	CHECK_OK(honest(&f, &j, &t));
	j.n_prompts = 1; /* keep the pass short */
	CHECK_OK(attest_transcript_encode(&t, &p, &n));
	gh_ed_key_pub(f.k, &pub);
	for (size_t i = 0; i < n; i++) {
		for (int b = 0; b < 8; b += 3) {
			p[i] ^= (uint8_t) (1u << b);
			if (attest_transcript_decode(p, n, &u) == GH_OK) {
				decoded++;
				CHECK(attest_transcript_verify(
				          &u, &pub, j.lease, 0, NULL, 0)
				    != GH_OK);
				attest_transcript_clear(&u);
			}
			p[i] ^= (uint8_t) (1u << b);
		}
	}
	for (size_t i = 0; i < n; i += 7) {
		CHECK(attest_transcript_decode(p, i, &u) != GH_OK);
	}
	CHECK_OK(attest_transcript_decode(p, n, &u));
	attest_transcript_clear(&u);
	printf("transcript of %zu bytes: %u flipped copies decoded, all "
	       "rejected by verification\n",
	    n, decoded);
	free(p);
	attest_transcript_clear(&t);
	fx_close(&f);
}
