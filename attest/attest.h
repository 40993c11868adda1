/*
 * attest.h - utilization proofs: what a job computed, committed and
 * signed by the provider's node, and the checks an auditor runs on it.
 * Prefix attest_.  Imports base/ (ledger/ and cuda/ for recording and
 * re-execution).
 *
 * Threads: every function here is pure or works on caller memory; any
 * thread may call it.
 */
#ifndef GH_ATTEST_H
#define GH_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "cuda/cuda.h"

/* ------------------------------------------------------------------ */
/* Activation commitments (TOPLOC-style).
 *
 * A job runs n_in + n_out - 1 forward positions (the prompt, then each
 * generated token but the last).  For every chunk of ATTEST_CHUNK
 * positions (the last one may be shorter), the provider records the
 * final hidden state (after the last RMSNorm) at the chunk's last
 * position and commits to its ATTEST_TOPK largest entries by magnitude:
 * their
 * indices (u16) and values (IEEE half precision).  A verifier who
 * re-runs the chunk recomputes the hidden state and compares: the same
 * model, input and precision give the same top-k set and values within
 * a tolerance; a different model, prompt or precision does not.
 */

#define ATTEST_CHUNK       32
#define ATTEST_TOPK        64
#define ATTEST_CHUNK_BYTES (ATTEST_TOPK * 4)
#define ATTEST_DIM_MAX     65535 /* indices are u16 */

typedef struct {
	uint16_t index[ATTEST_TOPK]; /* ascending rank: largest |v| first */
	uint16_t value[ATTEST_TOPK]; /* binary16 bits */
} attest_chunk;

/*
 * Commits to hidden[0..dim): the ATTEST_TOPK entries of largest
 * magnitude, ties broken by the lower index.  GH_EINVAL when dim is
 * below ATTEST_TOPK or above ATTEST_DIM_MAX, or a value is not finite.
 */
int attest_chunk_commit(const float *hidden, size_t dim, attest_chunk *out);

/* Tolerances for comparing a re-run with a commitment. */
typedef struct {
	/* Fraction of committed indices that must be in the re-run's
	 * top-k (1.0 = the same set). */
	double min_overlap;
	/* Largest allowed |committed - recomputed| at a committed index,
	 * relative to the largest committed magnitude. */
	double max_rel_err;
	/* Largest allowed mean of those relative errors. */
	double max_mean_err;
} attest_tolerance;

/* The tolerances for a CPU provider (bit-identical re-runs expected,
 * up to the half-precision rounding) and for a CUDA provider
 * (calibrated from measured honest spreads; see docs). */
extern const attest_tolerance attest_tol_cpu;
extern const attest_tolerance attest_tol_cuda;

/* What a comparison measured. */
typedef struct {
	double overlap;  /* fraction of committed indices in the re-run's */
	double max_err;  /* largest relative error at committed indices */
	double mean_err; /* mean relative error there */
} attest_diff;

/*
 * Compares a commitment with a re-run's hidden state.  Fills *d (may be
 * NULL) and returns GH_OK when within tol, GH_EINVAL when not (or for a
 * bad dim or an index out of range).
 */
int attest_chunk_compare(const attest_chunk *c, const float *hidden,
    size_t dim, const attest_tolerance *tol, attest_diff *d);

/* IEEE binary16 conversions (round to nearest even). */
uint16_t attest_f32_to_f16(float f);
float    attest_f16_to_f32(uint16_t h);

/* ------------------------------------------------------------------ */
/* Model shapes and FLOPs.                                            */

typedef struct {
	uint32_t n_layer;
	uint32_t dim;  /* embedding length */
	uint32_t n_ff; /* feed-forward length */
	uint32_t n_head;
	uint32_t n_head_kv;
	uint32_t n_vocab;
} attest_shape;

/*
 * The floating-point operations of a job: n_in prompt tokens, then
 * n_out generated ones, i.e. n_in + n_out - 1 forward positions (none
 * when n_out is 0 and n_in is 0).  A position p (0-based) costs, per
 * layer, 2 * (dim * (dim + 2 * kv_dim + dim) + 3 * dim * n_ff) for the
 * projections and 4 * dim * (p + 1) for attention, plus 2 * dim *
 * n_vocab for the output.  GH_EOVERFLOW past u64, GH_EINVAL for a
 * shape with n_head_kv not dividing n_head.
 */
int attest_flops(
    const attest_shape *s, uint64_t n_in, uint64_t n_out, uint64_t *out);

/* 1 - (1 - f)^k: the chance that k independent spot checks catch a
 * provider that faked a fraction f of its chunks. */
double attest_detection_probability(double f, unsigned k);

/* ------------------------------------------------------------------ */
/* The utilization proof.                                             */

#define ATTEST_PROOF_VERSION 1
#define ATTEST_PROOF_TYPE    1
#define ATTEST_DEVICE_MAX    128
#define ATTEST_CHUNKS_MAX    4096 /* 131072 tokens */
#define ATTEST_PROOF_MAX                                                      \
	(1024 + ATTEST_DEVICE_MAX + ATTEST_CHUNKS_MAX * ATTEST_CHUNK_BYTES)

typedef struct {
	gh_ed_pub    node; /* signer: the provider's node key */
	uint8_t      lease[32];
	uint8_t      job[32];
	gh_hash      model; /* hash over the model's tensor manifest */
	attest_shape shape;
	/* Parameters: fixed-point so the proof has no floats. */
	uint32_t      n_predict;
	uint32_t      temperature_milli;
	uint32_t      top_p_milli;
	uint64_t      seed;
	gh_hash       input_hash;  /* over the input token ids */
	gh_hash       output_hash; /* over the output token ids */
	uint32_t      n_in;
	uint32_t      n_out;
	uint64_t      flops;
	uint64_t      device_ns; /* CUDA events, or CPU time on the CPU */
	uint64_t      wall_ns;
	char          device[ATTEST_DEVICE_MAX + 1];
	int           has_energy;
	uint64_t      energy_mj; /* from NVML: self-reported */
	uint64_t      time;      /* unix seconds when the job ended */
	uint32_t      n_chunks;
	attest_chunk *chunks; /* n_chunks, owned by the proof */
	gh_sig        sig;
} attest_proof;

/* Frees the chunks of p (not p itself); accepts NULL. */
void attest_proof_clear(attest_proof *p);
/* Encodes the whole proof, signature included; *out is malloc'd. */
int attest_proof_encode(const attest_proof *p, uint8_t **out, size_t *n);
/*
 * Decodes a proof from untrusted bytes into *p (chunks malloc'd: clear
 * with attest_proof_clear).  GH_ELIMIT over ATTEST_PROOF_MAX, and the
 * canonical encoding's errors.  On error *p is cleared.
 */
int attest_proof_decode(const uint8_t *in, size_t n, attest_proof *p);
/* The hash the node signs (all but the signature); the proof's id. */
int attest_proof_id(const attest_proof *p, gh_hash *id);
int attest_proof_sign(attest_proof *p, const gh_ed_key *node);
/* GH_OK or GH_EBADSIG. */
int attest_proof_verify_sig(const attest_proof *p);

/* Hashes token ids (as u32 big-endian) for input_hash / output_hash. */
void attest_tokens_hash(const int32_t *tok, size_t n, gh_hash *out);

/*
 * The structural checks an auditor runs first, cheapest first, on a
 * proof whose signature verified: the figures recomputed from the
 * counts (FLOPs from the shape, one chunk per started ATTEST_CHUNK
 * positions, n_out <= n_predict), then plausibility against the
 * declared peak of the device (peak_flops per second, 0 to skip):
 * flops / device_ns may not exceed it, and device time may not exceed
 * wall time.  Returns GH_OK or GH_EINVAL, with a static reason in *why
 * (may be NULL).
 */
int attest_proof_check(
    const attest_proof *p, uint64_t peak_flops, const char **why);

/* ------------------------------------------------------------------ */
/* Jobs: the job a renter sends (sealed to the provider's node key), the
 * provider's executor that runs it on the engine and signs a proof per
 * prompt, the transcript (job, outputs, proofs), and the auditor's
 * checks on a transcript.  A gpu_ctx is used by one thread at a time
 * (see cuda.h); everything else is pure or works on caller memory. */

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
	/* Progress (NULL: none), called on attest_execute's thread after
	 * every generated token: tokens generated so far in the job and the
	 * most it can generate (n_prompts * n_predict; a prompt that stops
	 * at EOS counts as complete). */
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	/* Cancellation (NULL: never), asked after every generated token
	 * on attest_execute's thread: nonzero stops the job with
	 * GH_ECANCELED. */
	int (*cancelled)(void *arg);
	void *cancel_arg;
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

/*
 * Energy the local GPUs used since the driver loaded, from NVML
 * (nvmlDeviceGetTotalEnergyConsumption, summed over devices): *mj in
 * millijoules, *ndev devices read.  Self-reported.  GH_EUNSUPPORTED
 * without the NVML library, GH_EDEVICE when no device reports it.
 */
int attest_nvml_energy(uint64_t *mj, unsigned *ndev);

#endif /* GH_ATTEST_H */
