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

/*
 * Energy the local GPUs used since the driver loaded, from NVML
 * (nvmlDeviceGetTotalEnergyConsumption, summed over devices): *mj in
 * millijoules, *ndev devices read.  Self-reported.  GH_EUNSUPPORTED
 * without the NVML library, GH_EDEVICE when no device reports it.
 */
int attest_nvml_energy(uint64_t *mj, unsigned *ndev);

#endif /* GH_ATTEST_H */
