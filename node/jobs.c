/* jobs.c - job traffic: the provider's handler and the renter's
 * control command. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "node/jobs.h"

#define NODE_JOBS_QUEUE 8 /* jobs waiting for the engine */

/* A job from its arrival to its answer.  The worker thread owns it
 * except while the job thread runs it. */
typedef struct node_jobs_task {
	struct node_jobs      *j;
	void                  *token; /* node_req_defer */
	gh_ed_pub              peer;
	attest_job             job;
	gh_hash                id;
	attest_transcript      t;
	int                    rv;
	char                   why[NODE_JOBS_REASON_MAX];
	uint64_t               t0;
	struct node_jobs_task *next;
} node_jobs_task;

struct node_jobs {
	node            *n;
	gh_ed_key       *key;
	uint8_t         *xsk; /* sodium_malloc'd X25519 secret */
	uint8_t          xpk[32];
	gpu_model       *model;
	gpu_ctx         *ctx;
	attest_exec      exec;
	char             device[ATTEST_DEVICE_MAX + 1];
	node_jobs_config cfg;
	uint64_t         mtps; /* measured decode throughput */
	/* Utilization over the last minute: job time per second. */
	uint64_t busy_ns; /* since the last tick */
	uint64_t sec[60];
	uint32_t ticks;
	/* The job thread: one job at a time on the engine. */
	pthread_t       thr;
	int             thr_started;
	pthread_mutex_t mu;
	pthread_cond_t  cv;
	node_jobs_task *qhead, *qtail; /* waiting */
	uint32_t        nq;
	node_jobs_task *running;
	int             cancel; /* the running job is cancelled */
	int             stop;
};

/* The share of the last minute spent on jobs (the seconds ticked, and
 * the current one so far), to /metrics. */
static void
node_jobs_util(node_jobs *j)
{
	uint64_t sum = j->busy_ns, span;

	for (uint32_t i = 0; i < 60; i++) {
		sum += j->sec[i];
	}
	span = (uint64_t) (j->ticks < 60 ? j->ticks + 1 : 60) * 1000000000ull;
	node_metrics_set_utilization(node_metrics_of(j->n),
	    (uint32_t) (sum >= span ? 1000000 : sum * 1000000 / span));
}

/* Every second: the second's job time joins the last minute's. */
static void
node_jobs_tick(void *arg)
{
	node_jobs *j = arg;

	j->sec[j->ticks % 60] = j->busy_ns;
	j->busy_ns            = 0;
	j->ticks++;
	node_jobs_util(j);
}

/* 16 decode steps after one prompt token, timed on the wall clock. */
static uint64_t
node_jobs_measure(gpu_ctx *ctx)
{
	int32_t  tok = 1;
	uint64_t t0, dt;

	gpu_ctx_reset(ctx);
	if (gpu_ctx_forward(ctx, &tok, 1, NULL, 0, NULL, NULL) != GH_OK) {
		return (0);
	}
	t0 = gh_mono_ns();
	for (int i = 0; i < 16; i++) {
		if (gpu_ctx_forward(ctx, &tok, 1, NULL, 0, NULL, NULL)
		    != GH_OK) {
			return (0);
		}
	}
	dt = gh_mono_ns() - t0;
	gpu_ctx_reset(ctx);
	return (dt > 0 ? (uint64_t) 16 * 1000 * 1000000000ull / dt : 0);
}

uint64_t
node_jobs_throughput(const node_jobs *j)
{
	return (j != NULL ? j->mtps : 0);
}

uint32_t
node_jobs_max_tokens(const node_jobs *j)
{
	uint32_t ctx;

	if (j == NULL || j->model == NULL) {
		return (0);
	}
	ctx = gpu_model_info_get(j->model)->n_ctx;
	return (j->exec.max_tokens > 0 && j->exec.max_tokens < ctx
	        ? j->exec.max_tokens
	        : ctx);
}

static int
node_jobs_no_lease(void *arg, const uint8_t lease[32], const gh_ed_pub *renter,
    char *why, size_t whycap)
{
	(void) arg;
	(void) lease;
	(void) renter;
	snprintf(why, whycap, "no lease source on this node");
	return (GH_EPERM);
}

static void
node_jobs_refuse(gh_writer *out, int err, const char *why)
{
	gh_put_u8(out, NODE_JOBS_REFUSED);
	gh_put_u32(out, (uint32_t) err);
	gh_put_str(out, NODE_JOBS_REASON_MAX, why,
	    strnlen(why, NODE_JOBS_REASON_MAX));
}

static void
node_jobs_task_free(node_jobs_task *k)
{
	if (k == NULL) {
		return;
	}
	attest_job_clear(&k->job);
	attest_transcript_clear(&k->t);
	free(k);
}

/* Worker: the answer to the renter's node; the proofs go on. */
static void
node_jobs_answer(void *arg)
{
	node_jobs_task *k   = arg;
	node_jobs      *j   = k->j;
	uint8_t        *res = NULL, *sealed = NULL;
	size_t          resn, sealedn;
	gh_writer       w;
	int             rv = k->rv;

	gh_writer_init(&w);
	if (rv == GH_OK
	    && ((rv = attest_results_encode(&k->t, &res, &resn)) != GH_OK
	        || (rv = attest_seal(
	                k->job.reply_pk, res, resn, &sealed, &sealedn))
	            != GH_OK)) {
		snprintf(
		    k->why, sizeof(k->why), "could not encode the results");
	}
	if (rv == GH_OK) {
		gh_put_u8(&w, NODE_JOBS_OK);
		gh_put_str(&w, NODE_BODY_MAX, sealed, sealedn);
	} else {
		node_jobs_refuse(&w, rv, k->why[0] ? k->why : gh_strerror(rv));
	}
	node_req_finish(j->n, k->token, gh_writer_err(&w),
	    gh_writer_err(&w) == GH_OK ? w.p : NULL,
	    gh_writer_err(&w) == GH_OK ? w.len : 0);
	if (rv == GH_OK) {
		node_metrics *m = node_metrics_of(j->n);
		if (j->cfg.proved != NULL) {
			j->cfg.proved(j->cfg.proved_arg, &k->t);
		}
		/* What /metrics reports: jobs, tokens, device time. */
		node_metrics_add(m, NODE_M_JOBS, 1);
		for (uint32_t i = 0; i < k->t.n_results; i++) {
			node_metrics_add(
			    m, NODE_M_TOKENS, k->t.results[i].proof.n_out);
			node_metrics_add(m, NODE_M_DEVICE_NS,
			    k->t.results[i].proof.device_ns);
		}
	}
	j->busy_ns += gh_mono_ns() - k->t0;
	node_jobs_util(j);
	gh_writer_free(&w);
	free(res);
	free(sealed);
	node_jobs_task_free(k);
}

static int
node_jobs_cancelled(void *arg)
{
	node_jobs *j = arg;

	return (__atomic_load_n(&j->cancel, __ATOMIC_RELAXED));
}

/* The job thread: runs the queue, hands each answer to the worker. */
static void *
node_jobs_main(void *arg)
{
	node_jobs *j = arg;

	for (;;) {
		node_jobs_task *k;
		attest_exec     ee;

		pthread_mutex_lock(&j->mu);
		while (j->qhead == NULL && !j->stop) {
			pthread_cond_wait(&j->cv, &j->mu);
		}
		if (j->stop) {
			pthread_mutex_unlock(&j->mu);
			break;
		}
		k        = j->qhead;
		j->qhead = k->next;
		if (j->qhead == NULL) {
			j->qtail = NULL;
		}
		j->nq--;
		j->running = k;
		__atomic_store_n(&j->cancel, 0, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&j->mu);

		ee            = j->exec;
		ee.lease_ok   = NULL; /* checked on arrival */
		ee.cancelled  = node_jobs_cancelled;
		ee.cancel_arg = j;
		k->t0         = gh_mono_ns();
		k->rv         = attest_execute(
		            &ee, &k->job, &k->peer, &k->t, k->why, sizeof(k->why));
		if (k->rv == GH_ECANCELED) {
			snprintf(k->why, sizeof(k->why),
			    "cancelled by the renter while it ran");
		}
		pthread_mutex_lock(&j->mu);
		j->running = NULL;
		pthread_mutex_unlock(&j->mu);
		if (node_post(j->n, node_jobs_answer, k) != GH_OK) {
			node_jobs_task_free(k); /* the renter times out */
		}
	}
	return (NULL);
}

/* Provider: a sealed job in; checked here, run on the job thread,
 * answered (sealed results, or why not) when it is done. */
static int
node_jobs_handle(void *arg, const gh_ed_pub *peer, const uint8_t *req,
    size_t n, gh_writer *out)
{
	node_jobs      *j   = arg;
	node_jobs_task *k   = NULL;
	uint8_t        *pt  = NULL;
	size_t          ptn = 0;
	int             rv;

	if ((k = calloc(1, sizeof(*k))) == NULL) {
		return (GH_ENOMEM);
	}
	k->j    = j;
	k->peer = *peer;
	if ((rv = attest_seal_open(j->xpk, j->xsk, req, n, &pt, &ptn))
	    != GH_OK) {
		node_jobs_refuse(
		    out, rv, "the job does not open with this node's key");
		goto out;
	}
	if ((rv = attest_job_decode(pt, ptn, &k->job)) != GH_OK
	    || (rv = attest_job_id(&k->job, &k->id)) != GH_OK) {
		node_jobs_refuse(out, rv, "malformed job");
		goto out;
	}
	if (j->cfg.lease_ok != NULL
	    && (rv = j->cfg.lease_ok(j->cfg.lease_arg, k->job.lease, peer,
	            k->why, sizeof(k->why)))
	        != GH_OK) {
		node_jobs_refuse(out, rv, k->why);
		goto out;
	}
	pthread_mutex_lock(&j->mu);
	if (j->nq >= NODE_JOBS_QUEUE) {
		pthread_mutex_unlock(&j->mu);
		node_jobs_refuse(
		    out, GH_EBUSY, "the provider's queue is full");
		goto out;
	}
	if ((k->token = node_req_defer(j->n)) == NULL) {
		pthread_mutex_unlock(&j->mu);
		rv = GH_ENOMEM;
		goto out;
	}
	if (j->qtail != NULL) {
		j->qtail->next = k;
	} else {
		j->qhead = k;
	}
	j->qtail = k;
	j->nq++;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
	k  = NULL;
	rv = GH_EPENDING;
out:
	if (pt != NULL) {
		sodium_memzero(pt, ptn);
	}
	free(pt);
	node_jobs_task_free(k);
	return (rv == GH_EPENDING ? rv : GH_OK);
}

/* Provider: cancel request, the job's id (32 bytes), from the peer
 * that sent the job.  A waiting job is answered "cancelled" at once; a
 * running one stops at its next token. */
static int
node_jobs_cancel(void *arg, const gh_ed_pub *peer, const uint8_t *req,
    size_t n, gh_writer *out)
{
	node_jobs      *j = arg;
	node_jobs_task *k, *prev = NULL, *hit = NULL;
	int             rv = GH_ENOENT;

	(void) out;
	if (n != 32) {
		return (GH_EINVAL);
	}
	pthread_mutex_lock(&j->mu);
	for (k = j->qhead; k != NULL; prev = k, k = k->next) {
		if (memcmp(k->id.b, req, 32) == 0
		    && memcmp(k->peer.b, peer->b, 32) == 0) {
			if (prev != NULL) {
				prev->next = k->next;
			} else {
				j->qhead = k->next;
			}
			if (j->qtail == k) {
				j->qtail = prev;
			}
			j->nq--;
			hit = k;
			break;
		}
	}
	if (hit == NULL && j->running != NULL
	    && memcmp(j->running->id.b, req, 32) == 0
	    && memcmp(j->running->peer.b, peer->b, 32) == 0) {
		__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
		rv = GH_OK;
	}
	pthread_mutex_unlock(&j->mu);
	if (hit != NULL) {
		hit->rv = GH_ECANCELED;
		snprintf(hit->why, sizeof(hit->why),
		    "cancelled by the renter before it ran");
		hit->t0 = gh_mono_ns();
		node_jobs_answer(hit);
		rv = GH_OK;
	}
	return (rv);
}

typedef struct {
	node *n;
	void *token;
} node_jobs_wait;

static void
node_jobs_done(void *arg, int err, const uint8_t *body, size_t n)
{
	node_jobs_wait *w = arg;

	node_ctl_finish(w->n, w->token, err, err == GH_OK ? body : NULL,
	    err == GH_OK ? n : 0);
	free(w);
}

/* Renter: forwards the body after the provider's key (32 bytes) as a
 * request of kind to that provider; the CLI gets the answer. */
static int
node_jobs_forward(node *n, const uint8_t *req, size_t len, uint8_t kind)
{
	node_jobs_wait *w;
	gh_ed_pub       pub;
	int             rv;

	memcpy(pub.b, req, 32);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return (GH_ENOMEM);
	}
	w->n = n;
	if ((rv = node_request(
	         n, &pub, kind, req + 32, len - 32, node_jobs_done, w))
	    != GH_OK) {
		free(w);
		return (rv);
	}
	w->token = node_ctl_defer(n);
	return (GH_EPENDING);
}

/* Renter: "job" = provider key (32 bytes) then the sealed job. */
static int
node_jobs_ctl(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	(void) arg;
	(void) out;
	if (len <= 32) {
		return (GH_EINVAL);
	}
	return (node_jobs_forward(n, req, len, NODE_REQ_JOB));
}

/* Renter: "job-cancel" = provider key (32 bytes), job id (32). */
static int
node_jobs_ctl_cancel(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	(void) arg;
	(void) out;
	if (len != 64) {
		return (GH_EINVAL);
	}
	return (node_jobs_forward(n, req, len, NODE_REQ_JOB_CANCEL));
}

void
node_jobs_stop(node_jobs *j)
{
	if (j == NULL || !j->thr_started) {
		return;
	}
	pthread_mutex_lock(&j->mu);
	j->stop = 1;
	__atomic_store_n(&j->cancel, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&j->cv);
	pthread_mutex_unlock(&j->mu);
	pthread_join(j->thr, NULL);
	j->thr_started = 0;
}

void
node_jobs_free(node_jobs *j)
{
	if (j == NULL) {
		return;
	}
	node_jobs_stop(j);
	while (j->qhead != NULL) {
		node_jobs_task *k = j->qhead;
		j->qhead          = k->next;
		free(k->token);
		node_jobs_task_free(k);
	}
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv);
	gpu_ctx_free(j->ctx);
	gpu_model_close(j->model);
	gh_ed_key_free(j->key);
	sodium_free(j->xsk);
	free(j);
}

int
node_jobs_attach(node *n, const node_jobs_config *c, gh_ed_key *key,
    node_jobs **out, char *err, size_t errcap)
{
	node_jobs     *j;
	node_ctl_cmd   cmd;
	node_req_kind  rk;
	struct utsname u;
	int            rv;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		gh_ed_key_free(key);
		return (GH_ENOMEM);
	}
	j->n   = n;
	j->key = key;
	j->cfg = *c;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	if ((j->xsk = sodium_malloc(32)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if ((rv = gh_ed_to_x25519(key, j->xpk, j->xsk)) != GH_OK) {
		goto out;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.name   = "job";
	cmd.arg    = j;
	cmd.handle = node_jobs_ctl;
	if ((rv = node_register_ctl(n, &cmd)) != GH_OK) {
		goto out;
	}
	cmd.name   = "job-cancel";
	cmd.handle = node_jobs_ctl_cancel;
	if ((rv = node_register_ctl(n, &cmd)) != GH_OK) {
		goto out;
	}
	if (c->model_path != NULL) {
		if ((rv = gpu_model_open(
		         c->model_path, &j->model, err, errcap))
		        != GH_OK
		    || (rv = gpu_ctx_new(j->model,
		            c->cuda ? GPU_BACKEND_CUDA : GPU_BACKEND_CPU, 0,
		            c->threads, &j->ctx, err, errcap))
		        != GH_OK) {
			goto out;
		}
		if ((rv = gpu_model_hash(j->model, &j->exec.model_hash))
		    != GH_OK) {
			goto out;
		}
		j->mtps = node_jobs_measure(j->ctx);
		if ((rv = node_register_timer(n, 1000, node_jobs_tick, j))
		    != GH_OK) {
			goto out;
		}
		gpu_nvml_device nd;
		if (c->cuda && gpu_nvml_query(0, &nd) == GH_OK) {
			snprintf(j->device, sizeof(j->device),
			    "cuda:%.60s:%.60s", nd.name, nd.uuid);
		} else if (uname(&u) == 0) {
			snprintf(j->device, sizeof(j->device), "%s:%.60s",
			    c->cuda ? "cuda" : "cpu", u.machine);
		} else {
			snprintf(j->device, sizeof(j->device), "cpu");
		}
		j->exec.model      = j->model;
		j->exec.ctx        = j->ctx;
		j->exec.key        = j->key;
		j->exec.max_tokens = c->max_tokens;
		j->exec.device     = j->device;
		j->exec.nvml_index = c->cuda ? 0 : -1;
		j->exec.lease_ok
		    = c->lease_ok != NULL ? c->lease_ok : node_jobs_no_lease;
		j->exec.lease_arg = c->lease_arg;
		memset(&rk, 0, sizeof(rk));
		rk.kind    = NODE_REQ_JOB;
		rk.name    = "job";
		rk.max_req = NODE_BODY_MAX - 64;
		rk.arg     = j;
		rk.handle  = node_jobs_handle;
		if ((rv = node_register_request(n, &rk)) != GH_OK) {
			goto out;
		}
		rk.kind    = NODE_REQ_JOB_CANCEL;
		rk.name    = "job-cancel";
		rk.max_req = 32;
		rk.handle  = node_jobs_cancel;
		if ((rv = node_register_request(n, &rk)) != GH_OK) {
			goto out;
		}
		if (pthread_create(&j->thr, NULL, node_jobs_main, j) != 0) {
			rv = GH_ENOMEM;
			goto out;
		}
		j->thr_started = 1;
	}
	*out = j;
	return (GH_OK);
out:
	node_jobs_free(j);
	return (rv);
}
