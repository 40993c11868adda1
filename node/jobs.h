/*
 * jobs.h - job traffic on the node (request kind NODE_REQ_JOB): the
 * provider side serves sealed jobs on its engine and answers with the
 * output and proofs sealed to the renter; the renter side is the
 * control command "job" that forwards a sealed job to a provider and
 * hands the sealed answer back to the CLI.  Neither node sees the
 * plaintext of the other's data except the provider, which runs it.
 * Prefix node_jobs_.  Imports base/, node/, attest/, cuda/.
 *
 * Threads: the handlers run on the node's worker thread; jobs run on a
 * job thread of their own, one at a time per node and device, from a
 * queue of at most 8 (then "busy"); the answer is sent from the worker
 * thread when the job is done.  A renter's node may cancel a job it
 * sent (request kind NODE_REQ_JOB_CANCEL, control command job-cancel):
 * a waiting job is answered "cancelled" at once, a running one stops
 * at its next token.
 */
#ifndef GH_NODE_JOBS_H
#define GH_NODE_JOBS_H

#include "attest/attest.h"
#include "node/node.h"

/* The reply body of a job request: u8 status then, for
 * NODE_JOBS_OK, str(sealed results); for NODE_JOBS_REFUSED, u32 gh_err
 * and str(reason). */
enum {
	NODE_JOBS_OK      = 0,
	NODE_JOBS_REFUSED = 1,
};
#define NODE_JOBS_REASON_MAX 256

typedef struct node_jobs node_jobs;

typedef struct {
	const char *model_path; /* NULL: renter side only (no serving) */
	int         threads;    /* CPU threads, 0: all */
	int         cuda;       /* 1: CUDA backend */
	uint32_t    max_tokens; /* per prompt, 0: the model's context */
	/* The lease check (NULL: every job is refused "no lease source");
	 * see attest_exec. */
	int (*lease_ok)(void *arg, const uint8_t lease[32],
	    const gh_ed_pub *renter, char *why, size_t whycap);
	void *lease_arg;
	/* Called after each job served, with its proofs (NULL: none). */
	void (*proved)(void *arg, const attest_transcript *t);
	void *proved_arg;
} node_jobs_config;

/*
 * Registers the control command "job" and, with a model, the request
 * kind NODE_REQ_JOB.  Takes ownership of key (the node's own key, a
 * second copy: it signs proofs and opens sealed jobs), freed by
 * node_jobs_free, also on error.  Main thread, after node_open and
 * before node_run; free after node_close.
 */
int node_jobs_attach(node *n, const node_jobs_config *c, gh_ed_key *key,
    node_jobs **out, char *err, size_t errcap);
/* After node_run returns, before node_close: cancels the running job
 * and joins the job thread.  NULL ok. */
void node_jobs_stop(node_jobs *j);
void node_jobs_free(node_jobs *j); /* NULL ok */
/* The decode throughput measured at attach on the served model (16
 * single-token steps, wall clock), milli-tokens per second; 0 when the
 * node serves no model. */
uint64_t node_jobs_throughput(const node_jobs *j);
/* The per-prompt token limit jobs run under (prompt + n_predict): the
 * configured max_tokens, at most the model's context; 0 when the node
 * serves no model. */
uint32_t node_jobs_max_tokens(const node_jobs *j);

#endif /* GH_NODE_JOBS_H */
