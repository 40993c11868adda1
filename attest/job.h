/*
 * job.h - inference jobs: the job a renter sends (sealed to the
 * provider's node key), the provider's executor that runs it on the
 * engine and signs a utilization proof per prompt, the transcript
 * (job, outputs, proofs), and the auditor's checks on a transcript:
 * signature, lease binding, figures, and spot checks re-run on the CPU
 * backend with teacher forcing.  Prefix attest_.  Imports base/ and
 * cuda/.
 *
 * Threads: pure functions and caller memory, except that a gpu_ctx is
 * used by one thread at a time (see cuda.h).
 */
#ifndef GH_ATTEST_JOB_H
#define GH_ATTEST_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "attest/attest.h"
#include "base/base.h"
#include "cuda/cuda.h"

#define ATTEST_TAG_JOB         "gpuhour/job/v1"
#define ATTEST_JOB_VERSION     1
#define ATTEST_JOB_TYPE        2
#define ATTEST_TRANSCRIPT_TYPE 3
#define ATTEST_RESULTS_TYPE    4
#define ATTEST_JOB_PROMPTS_MAX 16
#define ATTEST_JOB_PROMPT_MAX  (64u * 1024u) /* bytes of one prompt */
#define ATTEST_JOB_MAX                                                        \
	(256u + ATTEST_JOB_PROMPTS_MAX * (ATTEST_JOB_PROMPT_MAX + 4u))
#define ATTEST_OUT_MAX (64u * 1024u) /* output tokens of one prompt */
#define ATTEST_RESULTS_MAX                                                    \
	(64u                                                                  \
	    + ATTEST_JOB_PROMPTS_MAX                                          \
	        * (8u + 4u * ATTEST_OUT_MAX + ATTEST_PROOF_MAX))
#define ATTEST_TRANSCRIPT_MAX (ATTEST_JOB_MAX + ATTEST_RESULTS_MAX + 64u)

/* A job: what to run, for which lease, and where the output goes. */
typedef struct {
	gh_hash  model;     /* the model hash the renter asks for */
	uint8_t  lease[32]; /* the lease it is paid from */
	uint32_t n_predict; /* tokens to generate per prompt (at most) */
	uint32_t temperature_milli; /* 0: greedy */
	uint32_t top_p_milli;       /* 1..1000 */
	uint32_t top_k;             /* 0: none */
	uint64_t seed;
	uint8_t reply_pk[32]; /* renter's X25519 key the output is sealed to */
	uint32_t n_prompts;
	/* Prompts (UTF-8, not NUL-terminated): owned by the job when
	 * decoded (attest_job_clear frees them), else the caller's. */
	char    *prompt[ATTEST_JOB_PROMPTS_MAX];
	uint32_t prompt_len[ATTEST_JOB_PROMPTS_MAX];
	int      owned;
} attest_job;

void attest_job_clear(attest_job *j); /* frees owned prompts; NULL ok */
/* Canonical encoding; GH_EINVAL for a job that breaks the limits. */
int attest_job_encode(const attest_job *j, uint8_t **out, size_t *n);
/* From untrusted bytes; prompts copied (owned).  On error *j is
 * cleared.  GH_EINVAL for parameters out of range (top_p 0 or > 1000,
 * no prompt, n_predict 0). */
int attest_job_decode(const uint8_t *p, size_t n, attest_job *j);
/* The job id: tagged hash of the encoding. */
int attest_job_id(const attest_job *j, gh_hash *id);
/* The proof's job field for prompt idx: H(job id || u32 idx). */
void attest_job_sub_id(const gh_hash *job_id, uint32_t idx, uint8_t out[32]);
/* The engine's sampling parameters for the job. */
void attest_job_sample_params(const attest_job *j, gpu_sample_params *sp);

/* Sealing (crypto_box_seal): to an X25519 public key, anonymous
 * sender.  *out malloc'd.  open: GH_EDECRYPT when it does not open. */
int attest_seal(const uint8_t pk[32], const uint8_t *p, size_t n,
    uint8_t **out, size_t *outn);
int attest_seal_open(const uint8_t pk[32], const uint8_t sk[32],
    const uint8_t *c, size_t n, uint8_t **out, size_t *outn);

/* ------------------------------------------------------------------ */
/* Results and transcripts. */

typedef struct {
	int32_t     *in; /* the prompt's tokens (owned) */
	uint32_t     n_in;
	int32_t     *out; /* generated tokens (owned) */
	uint32_t     n_out;
	attest_proof proof; /* owns its chunks */
} attest_result;

typedef struct {
	attest_job     job;
	uint32_t       n_results; /* = job.n_prompts */
	attest_result *results;   /* owned */
} attest_transcript;

void attest_transcript_clear(attest_transcript *t); /* NULL ok */
/* The results alone (what the provider seals to the renter). */
int attest_results_encode(
    const attest_transcript *t, uint8_t **out, size_t *n);
/* Decodes results into t, whose job must already be set (owned by t
 * afterwards as before). */
int attest_results_decode(const uint8_t *p, size_t n, attest_transcript *t);
int attest_transcript_encode(
    const attest_transcript *t, uint8_t **out, size_t *n);
int attest_transcript_decode(const uint8_t *p, size_t n, attest_transcript *t);

/* ------------------------------------------------------------------ */
/* The provider's executor. */

typedef struct {
	const gpu_model *model;
	gpu_ctx         *ctx;        /* on the provider's backend */
	gh_hash          model_hash; /* gpu_model_hash, computed once */
	const gh_ed_key *key;        /* the node key that signs */
	/* n_in + n_predict per prompt (0, or above the model's n_ctx: the
	 * model's n_ctx); ctx must hold that many positions. */
	uint32_t    max_tokens;
	const char *device; /* identity, e.g. "cpu:x86_64" */
	/* NVML device index for energy, -1 for none; energy_start_mj: the
	 * counter when the run began (0: no energy figure). */
	int      nvml_index;
	uint64_t energy_start_mj;
	/* Lease check (NULL: every lease): GH_OK or an error with a
	 * sentence in why. */
	int (*lease_ok)(void *arg, const uint8_t lease[32],
	    const gh_ed_pub *renter, char *why, size_t whycap);
	void *lease_arg;
} attest_exec;

/*
 * Runs one sequence: resets ctx (made from m), feeds in[0..n_in), generates up
 * to n_predict tokens (stopping after EOS), recording the final hidden state
 * at the last position of every ATTEST_CHUNK-position chunk and committing to
 * it.  out holds n_predict tokens, chunks (n_in + n_predict) / ATTEST_CHUNK
 * + 1.  *device_ns: the engine's.
 */
int attest_generate(const gpu_model *m, gpu_ctx *ctx, const int32_t *in,
    uint32_t n_in, const gpu_sample_params *sp, uint32_t n_predict,
    int32_t *out, uint32_t *n_out, attest_chunk *chunks, uint32_t *n_chunks,
    uint64_t *device_ns);

/* Fills and signs a proof from what a run produced (chunks copied). */
int attest_prove(const attest_exec *e, const attest_job *j, uint32_t idx,
    const int32_t *in, uint32_t n_in, const int32_t *out, uint32_t n_out,
    const attest_chunk *chunks, uint32_t n_chunks, uint64_t device_ns,
    uint64_t wall_ns, attest_proof *p);

/*
 * Runs a whole job: refuses (GH_EPERM for the lease, GH_ENOENT for a
 * model not served, GH_ELIMIT over the limits) with a sentence in why;
 * else tokenizes each prompt (BOS first), generates, proves, and fills
 * t (job copied, owned).  renter may be NULL.
 */
int attest_execute(const attest_exec *e, const attest_job *j,
    const gh_ed_pub *renter, attest_transcript *t, char *why, size_t whycap);

/* ------------------------------------------------------------------ */
/* Verification and audit. */

/*
 * Cheap checks of a transcript, for every result: the proof's
 * signature, signer (provider, may be NULL), lease (may be NULL), job
 * binding, token hashes and counts, attest_proof_check with peak_flops.
 * GH_OK or the first failure with a sentence in why.
 */
int attest_transcript_verify(const attest_transcript *t,
    const gh_ed_pub *provider, const uint8_t *lease, uint64_t peak_flops,
    char *why, size_t whycap);

typedef struct {
	uint32_t checked_chunks;
	uint32_t failed_chunks;
	uint32_t checked_tokens;
	uint32_t failed_tokens;
	uint32_t input_mismatch; /* prompts whose tokens differ */
	double   worst_overlap;
	double   worst_err;
	double   worst_mean; /* largest mean relative error of a chunk */
	uint64_t cpu_ns;     /* re-execution time */
} attest_audit_report;

/*
 * Spot checks on a transcript with model m: k chunks in all are
 * sampled from a generator seeded by seed (the caller combines a
 * later checkpoint or given value with its own secret bytes).  For
 * each prompt the prompt is re-tokenized and compared; each sampled
 * chunk is re-run with teacher forcing on the CPU backend (n_threads)
 * and compared with tol; every output token produced inside a sampled
 * chunk is re-sampled from the committed seed and parameters.  GH_OK
 * when all passed, GH_EINVAL when anything failed (counts in *r), other
 * errors when the audit could not run.
 */
int attest_audit(const attest_transcript *t, const gpu_model *m, int n_threads,
    unsigned k, const uint8_t seed[32], const attest_tolerance *tol,
    attest_audit_report *r);

#endif /* GH_ATTEST_JOB_H */
