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

TEST_T(node_job_over_the_network, 180)
{
	tn_net      t;
	char       *out = NULL;
	char        model[PATH_MAX], lease[65], other[65], prov[65];
	char        tr[PATH_MAX];
	uint8_t     l[32];
	int         rc = -1;
	const char *pargs[8];
	node_status s;
	uint64_t    t0;

	CHECK_OK(
	    tn_setup(&t, th_tmpdir(), 2, 1, "request_timeout_ms = 20000\n"));
	snprintf(model, sizeof(model), "%s/m.gguf", th_tmpdir());
	snprintf(tr, sizeof(tr), "%s/t.bin", th_tmpdir());
	CHECK_EQ(th_sh(NULL, "'%s' model make-test --out '%s' --type f16",
	             th_bin(), model),
	    0);
	memset(l, 0x5a, 32);
	gh_hex_encode(l, 32, lease);
	memset(l, 0x5b, 32);
	gh_hex_encode(l, 32, other);
	gh_hex_encode(t.pub[0].b, 32, prov);
	pargs[0] = "--serve-model";
	pargs[1] = model;
	pargs[2] = "--accept-lease";
	pargs[3] = lease;
	pargs[4] = "--job-threads";
	pargs[5] = "1";
	pargs[6] = NULL;
	CHECK_OK(start_with(&t, 0, pargs));
	CHECK_OK(tn_start(&t, 1));
	/* wait until the renter is connected to the provider */
	t0 = tn_now_ms();
	while (tn_now_ms() - t0 < 20000) {
		if (tn_status(&t, 1, &s) == GH_OK && s.peers_active > 0) {
			break;
		}
		tn_sleep_ms(100);
	}
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
