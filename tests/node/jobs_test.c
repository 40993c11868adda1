/*
 * jobs_test.c - a job over the network between real `gpuhour node run`
 * processes on 127.0.0.1: the provider serves a model, the renter's
 * CLI submits through its own node, the output and proofs come back
 * sealed, and the renter verifies and audits them.
 */
#include "tests/harness.h"
#include "tests/node/net_util.h"

/* Starts node i with extra arguments (a NULL-terminated list). */
static int
start_with(tn_net *t, int i, const char *const *extra)
{
	const char *bin = th_bin();
	char        log[PATH_MAX + 16];
	const char *argv[16];
	node_status s;
	uint64_t    t0;
	pid_t       pid;
	int         k = 0;

	argv[k++] = "gpuhour";
	argv[k++] = "node";
	argv[k++] = "run";
	argv[k++] = "--config";
	argv[k++] = t->conf[i];
	for (int e = 0; extra != NULL && extra[e] != NULL && k < 15; e++) {
		argv[k++] = extra[e];
	}
	argv[k] = NULL;
	snprintf(log, sizeof(log), "%s/log", t->dir[i]);
	if ((pid = fork()) < 0) {
		return (GH_EIO);
	}
	if (pid == 0) {
		int fd  = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		int nul = open("/dev/null", O_RDWR);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, 2);
		}
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		execv(bin, (char *const *) argv);
		_exit(127);
	}
	t->pid[i] = pid;
	t0        = tn_now_ms();
	while (tn_now_ms() - t0 < 20000) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			t->pid[i] = 0;
			return (GH_ECLOSED);
		}
		if (tn_status(t, i, &s) == GH_OK) {
			return (GH_OK);
		}
		tn_sleep_ms(50);
	}
	return (GH_ETIMEDOUT);
}

/* Node 0 serves model and accepts the lease 5a..5a only; node 1 is the
 * renter's, connected to it.  lease and prov (hex) are filled. */
static int
jt_start(tn_net *t, const char *model, char lease[65], char prov[65])
{
	const char *pargs[8];
	uint8_t     l[32];
	node_status s;
	uint64_t    t0;
	int         rv;

	memset(l, 0x5a, 32);
	gh_hex_encode(l, 32, lease);
	gh_hex_encode(t->pub[0].b, 32, prov);
	pargs[0] = "--serve-model";
	pargs[1] = model;
	pargs[2] = "--accept-lease";
	pargs[3] = lease;
	pargs[4] = "--job-threads";
	pargs[5] = "1";
	pargs[6] = NULL;
	if ((rv = start_with(t, 0, pargs)) != GH_OK
	    || (rv = tn_start(t, 1)) != GH_OK) {
		return (rv);
	}
	t0 = tn_now_ms();
	while (tn_now_ms() - t0 < 20000) {
		if (tn_status(t, 1, &s) == GH_OK && s.peers_active > 0) {
			return (GH_OK);
		}
		tn_sleep_ms(100);
	}
	return (GH_ETIMEDOUT);
}

TEST_T(node_job_over_the_network, 180)
{
	tn_net  t;
	char   *out = NULL;
	char    model[PATH_MAX], lease[65], other[65], prov[65];
	char    tr[PATH_MAX];
	uint8_t l[32];
	int     rc = -1;

	CHECK_OK(
	    tn_setup(&t, th_tmpdir(), 2, 1, "request_timeout_ms = 20000\n"));
	snprintf(model, sizeof(model), "%s/m.gguf", th_tmpdir());
	snprintf(tr, sizeof(tr), "%s/t.bin", th_tmpdir());
	CHECK_EQ(th_sh(NULL, "'%s' model make-test --out '%s' --type f16",
	             th_bin(), model),
	    0);
	memset(l, 0x5b, 32);
	gh_hex_encode(l, 32, other);
	CHECK_OK(jt_start(&t, model, lease, prov));
	for (int tries = 0; tries < 50; tries++) {
		free(out);
		out = NULL;
		rc  = th_sh(&out,
		     "'%s' job submit --node '%s' --provider %s --model '%s' "
		      "--lease %s --prompt 'the cat sat on the mat' --prompt "
		      "'hello world' -n 40 --seed 9 --temp 0.8 --out '%s'",
		     th_bin(), t.conf[1], prov, model, lease, tr);
		if (rc != 1 && rc != 6) {
			break;
		}
		tn_sleep_ms(200);
	}
	CHECK_EQ(rc, 0);
	CHECK(strstr(out, "prompt 0: ") != NULL);
	CHECK(strstr(out, "prompt 1: ") != NULL);
	CHECK(strstr(out, " 40 out") != NULL || strstr(out, " out,") != NULL);
	free(out);
	out = NULL;
	/* the renter verifies and audits what came back */
	CHECK_EQ(th_sh(&out, "'%s' proof verify '%s' --lease %s --provider %s",
	             th_bin(), tr, lease, prov),
	    0);
	CHECK(strstr(out, "ok: 2 proofs") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out,
	             "'%s' audit --transcript '%s' --model '%s' --samples 4",
	             th_bin(), tr, model),
	    0);
	free(out);
	out = NULL;
	/* another lease is refused with a reason */
	CHECK_EQ(th_sh(&out,
	             "'%s' job submit --node '%s' --provider %s --model '%s' "
	             "--lease %s --prompt 'x y z' -n 4 2>&1",
	             th_bin(), t.conf[1], prov, model, other),
	    4);
	CHECK(strstr(out, "no active lease") != NULL);
	free(out);
	out = NULL;
	/* a model the provider does not serve */
	CHECK_EQ(th_sh(&out,
	             "'%s' job submit --node '%s' --provider %s --model-hash "
	             "%s --lease %s --prompt 'x y z' -n 4 2>&1",
	             th_bin(), t.conf[1], prov, other, lease),
	    4);
	CHECK(strstr(out, "does not serve") != NULL);
	free(out);
	out = NULL;
	/* the prompt never crosses in clear: nothing of it in the logs or
	 * data of the renter node (it only forwarded sealed bytes) */
	CHECK_EQ(th_sh(NULL, "grep -r -a -q 'the cat sat' '%s'", t.dir[1]), 1);
	tn_teardown(&t);
}

/* Submits a long job through node 1 in the background: its output and
 * exit code go to files under dir (name.out, name.rc). */
static void
long_job(const tn_net *t, const char *prov, const char *model,
    const char *lease, const char *name)
{
	static char cmd[8 * PATH_MAX];

	snprintf(cmd, sizeof(cmd),
	    "('%s' job submit --node '%s' --provider %s --model '%s' --lease "
	    "%s --file '%s/prompts' -n 200 --timeout 120000 > '%s/%s.out' "
	    "2>&1; echo $? > '%s/%s.rc') &",
	    th_bin(), t->conf[1], prov, model, lease, t->root, t->root, name,
	    t->root, name);
	CHECK_EQ(system(cmd), 0);
}

/* The job id a background submit printed (waits for it). */
static int
job_id(const tn_net *t, const char *name, char id[65])
{
	uint64_t t0 = tn_now_ms();

	do {
		char   path[PATH_MAX + 32];
		char  *p = NULL, *hit;
		size_t n;
		snprintf(path, sizeof(path), "%s/%s.out", t->root, name);
		if (gh_file_read(path, 1 << 20, (uint8_t **) &p, &n)
		    == GH_OK) {
			p    = realloc(p, n + 1);
			p[n] = '\0';
			if ((hit = strstr(p, "job ")) != NULL
			    && strlen(hit) >= 4 + 64) {
				snprintf(id, 65, "%.64s", hit + 4);
				free(p);
				return (GH_OK);
			}
		}
		free(p);
		tn_sleep_ms(50);
	} while (tn_now_ms() - t0 < 20000);
	return (GH_ETIMEDOUT);
}

/* The exit code of a background submit (waits for it; -1: none). */
static int
job_rc(const tn_net *t, const char *name, unsigned ms)
{
	uint64_t t0 = tn_now_ms();
	char     path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s.rc", t->root, name);
	do {
		uint8_t *p = NULL;
		size_t   n;
		if (gh_file_read(path, 64, &p, &n) == GH_OK && n > 0) {
			int rc = atoi((const char *) p);
			free(p);
			return (rc);
		}
		free(p);
		tn_sleep_ms(50);
	} while (tn_now_ms() - t0 < ms);
	return (-1);
}

TEST_T(node_job_cancel, 180)
{
	tn_net   t;
	char     model[PATH_MAX], lease[65], prov[65], a[65], b[65];
	char     path[PATH_MAX + 32], text[2048] = "";
	char    *out = NULL;
	uint64_t t0;

	CHECK_OK(
	    tn_setup(&t, th_tmpdir(), 2, 1, "request_timeout_ms = 120000"));
	snprintf(model, sizeof(model), "%s/m15.gguf", th_tmpdir());
	CHECK_EQ(th_sh(NULL, "'%s' model make-test --out '%s' --preset 15m",
	             th_bin(), model),
	    0);
	/* 16 prompts x 200 tokens: several seconds on one thread. */
	for (int i = 0; i < 16; i++) {
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "prompt number %d about the market\n", i);
	}
	snprintf(path, sizeof(path), "%s/prompts", t.root);
	CHECK_OK(tn_write(path, text));
	CHECK_OK(jt_start(&t, model, lease, prov));
	/* Job a runs; job b waits behind it. */
	long_job(&t, prov, model, lease, "a");
	CHECK_OK(job_id(&t, "a", a));
	tn_sleep_ms(500);
	long_job(&t, prov, model, lease, "b");
	CHECK_OK(job_id(&t, "b", b));
	tn_sleep_ms(500);
	/* b is dropped before it runs, a stops at its next token. */
	CHECK_EQ(
	    th_sh(&out, "'%s' job cancel --node '%s' --provider %s --job %s",
	        th_bin(), t.conf[1], prov, b),
	    0);
	CHECK(strstr(out, "cancelled") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(job_rc(&t, "b", 5000), 1);
	t0 = tn_now_ms();
	CHECK_EQ(
	    th_sh(NULL, "'%s' job cancel --node '%s' --provider %s --job %s",
	        th_bin(), t.conf[1], prov, a),
	    0);
	CHECK_EQ(job_rc(&t, "a", 5000), 1);
	CHECK(tn_now_ms() - t0 < 5000);
	CHECK_EQ(th_sh(&out, "cat '%s/a.out' '%s/b.out'", t.root, t.root), 0);
	CHECK(strstr(out, "cancelled by the renter while it ran") != NULL);
	CHECK(strstr(out, "cancelled by the renter before it ran") != NULL);
	free(out);
	out = NULL;
	/* Cancelling again: no such job. */
	CHECK_EQ(
	    th_sh(NULL, "'%s' job cancel --node '%s' --provider %s --job %s",
	        th_bin(), t.conf[1], prov, a),
	    3);
	/* The engine is free: a short job completes. */
	CHECK_EQ(th_sh(&out,
	             "'%s' job submit --node '%s' --provider %s --model '%s' "
	             "--lease %s --prompt 'after the cancel' -n 8",
	             th_bin(), t.conf[1], prov, model, lease),
	    0);
	CHECK(strstr(out, "prompt 0: ") != NULL);
	free(out);
	tn_teardown(&t);
}
