/* jobs.c - job traffic: the provider's handler and the renter's
 * control command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "node/jobs.h"

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
};

/* Every second: the share of the last minute spent on jobs. */
static void
node_jobs_tick(void *arg)
{
	node_jobs *j   = arg;
	uint64_t   sum = 0, span;

	j->sec[j->ticks % 60] = j->busy_ns;
	j->busy_ns            = 0;
	j->ticks++;
	for (uint32_t i = 0; i < 60; i++) {
		sum += j->sec[i];
	}
	span = (uint64_t) (j->ticks < 60 ? j->ticks : 60) * 1000000000ull;
	node_metrics_set_utilization(node_metrics_of(j->n),
	    (uint32_t) (sum >= span ? 1000000 : sum * 1000000 / span));
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

/* Provider: one sealed job in, the sealed results out. */
static int
node_jobs_handle(void *arg, const gh_ed_pub *peer, const uint8_t *req,
    size_t n, gh_writer *out)
{
	node_jobs        *j  = arg;
	uint8_t          *pt = NULL, *res = NULL, *sealed = NULL;
	size_t            ptn = 0, resn, sealedn;
	attest_job        job;
	attest_transcript t;
	char              why[NODE_JOBS_REASON_MAX];
	uint64_t          t0 = gh_mono_ns();
	int               rv;

	memset(&job, 0, sizeof(job));
	memset(&t, 0, sizeof(t));
	if ((rv = attest_seal_open(j->xpk, j->xsk, req, n, &pt, &ptn))
	    != GH_OK) {
		node_jobs_refuse(out, rv,
		    "the job does not open with this "
		    "node's key");
		return (GH_OK);
	}
	if ((rv = attest_job_decode(pt, ptn, &job)) != GH_OK) {
		node_jobs_refuse(out, rv, "malformed job");
		goto out;
	}
	if ((rv = attest_execute(&j->exec, &job, peer, &t, why, sizeof(why)))
	    != GH_OK) {
		node_jobs_refuse(out, rv, why[0] ? why : gh_strerror(rv));
		goto out;
	}
	if ((rv = attest_results_encode(&t, &res, &resn)) != GH_OK
	    || (rv = attest_seal(job.reply_pk, res, resn, &sealed, &sealedn))
	        != GH_OK) {
		node_jobs_refuse(out, rv, "could not encode the results");
		goto out;
	}
	gh_put_u8(out, NODE_JOBS_OK);
	gh_put_str(out, NODE_BODY_MAX, sealed, sealedn);
	if (j->cfg.proved != NULL) {
		j->cfg.proved(j->cfg.proved_arg, &t);
	}
	j->busy_ns += gh_mono_ns() - t0;
	/* What /metrics reports: jobs, tokens and attested device time. */
	{
		node_metrics *m = node_metrics_of(j->n);
		node_metrics_add(m, NODE_M_JOBS, 1);
		for (uint32_t i = 0; i < t.n_results; i++) {
			node_metrics_add(
			    m, NODE_M_TOKENS, t.results[i].proof.n_out);
			node_metrics_add(
			    m, NODE_M_DEVICE_NS, t.results[i].proof.device_ns);
		}
	}
out:
	if (pt != NULL) {
		sodium_memzero(pt, ptn);
	}
	free(pt);
	free(res);
	free(sealed);
	attest_job_clear(&job);
	attest_transcript_clear(&t);
	return (GH_OK);
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

/* Renter: "job" = provider key (32 bytes) then the sealed job. */
static int
node_jobs_ctl(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_jobs_wait *w;
	gh_ed_pub       pub;
	int             rv;

	(void) arg;
	(void) out;
	if (len <= 32) {
		return (GH_EINVAL);
	}
	memcpy(pub.b, req, 32);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		return (GH_ENOMEM);
	}
	w->n = n;
	if ((rv = node_request(
	         n, &pub, NODE_REQ_JOB, req + 32, len - 32, node_jobs_done, w))
	    != GH_OK) {
		free(w);
		return (rv);
	}
	w->token = node_ctl_defer(n);
	return (GH_EPENDING);
}

void
node_jobs_free(node_jobs *j)
{
	if (j == NULL) {
		return;
	}
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
	}
	*out = j;
	return (GH_OK);
out:
	node_jobs_free(j);
	return (rv);
}
