/* crash_test.c - a child appends under load and is killed with SIGKILL
 * at random moments; every reopen passes verify, holds every entry whose
 * commit was acknowledged, and no validator ever signed two entries for
 * one object version. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

#define CR_ACCTS  4
#define CR_MAXREC 200000

/* What the child reports: a released vote or an acknowledged entry. */
typedef struct {
	uint8_t  kind; /* 'V' vote released, 'A' entry applied */
	uint8_t  validator;
	uint8_t  acct; /* 0..CR_ACCTS-1, CR_ACCTS = issuer */
	uint8_t  pad[5];
	uint64_t version;
	uint8_t  hash[32];
} cr_rec;

static void
cr_report(int fd, const cr_rec *r)
{
	ssize_t n = write(fd, r, sizeof(*r));
	(void) n;
}

typedef struct {
	fx      *f;
	int      fd;
	int      part; /* 0: issuer, accounts 0 and 1; 1: accounts 2 and 3 */
	uint64_t rnd;
} cr_worker;

/* One writer of the child: forever, an entry on one of its chains,
 * voted, certified and applied; reuses the entry a validator already
 * voted on.  The two workers' chains are disjoint, so their commits
 * are batched together by the store's writer thread. */
static void *
cr_worker_main(void *arg)
{
	cr_worker *w   = arg;
	fx        *fp  = w->f;
	int        fd  = w->fd;
	uint64_t   rnd = w->rnd;
#define f (*fp)
	for (;;) {
		int a = w->part == 0 ? (int) (th_rand(&rnd) % 3 == 2
		                ? CR_ACCTS
		                : (int) (th_rand(&rnd) % 2))
		                     : 2 + (int) (th_rand(&rnd) % 2);
		const gh_acct_key *k = a == CR_ACCTS ? f.issuer : f.acct[a];
		ledger_entry       e;
		ledger_objver      ov;
		ledger_vote        v[4];
		ledger_cert       *c = malloc(sizeof(*c));
		gh_hash            h;
		uint8_t           *p = NULL;
		size_t             n;
		int                nv = 0, res;
		gh_acct_pub        pub;

		if (a != CR_ACCTS && fx_balance(&f, &f.pub[a]) == 0) {
			if (w->part == 1) {
				free(c);
				usleep(1000);
				continue;
			}
			a = CR_ACCTS;
			k = f.issuer;
		}
		gh_acct_key_pub(k, &pub);
		fx_entry(&f, f.s, k,
		    a == CR_ACCTS ? LEDGER_MINT : LEDGER_TRANSFER, &e);
		ov.type = LEDGER_OBJ_ACCOUNT;
		memcpy(ov.id.b, pub.b, 32);
		ov.version = e.seq - 1;
		/* A validator voted here before the crash: that entry. */
		for (int i = 0; i < 4 && p == NULL; i++) {
			gh_ed_pub vp;
			gh_ed_key_pub(f.val[i], &vp);
			ledger_store_voted(f.s, &vp, &ov, &p, &n);
		}
		if (p != NULL) {
			if (ledger_entry_decode(p, n, &e) != GH_OK) {
				_exit(4);
			}
			free(p);
		} else {
			if (a == CR_ACCTS) {
				e.body.mint.to
				    = f.pub[th_rand(&rnd) % CR_ACCTS];
				e.body.mint.amount = 1 + th_rand(&rnd) % 1000;
			} else {
				e.body.transfer.dest = LEDGER_DEST_ACCOUNT;
				memcpy(e.body.transfer.to.b,
				    f.pub[th_rand(&rnd) % CR_ACCTS].b, 32);
				e.body.transfer.amount = 1;
			}
			ledger_entry_sign_account(&e, k);
		}
		ledger_entry_hash(&e, &h);
		if (ledger_entry_encode(&e, &p, &n) != GH_OK) {
			_exit(5);
		}
		for (int i = 0; i < 4; i++) {
			int rv = ledger_store_vote(
			    f.s, f.val[i], p, n, 0, &v[nv]);
			if (rv == GH_OK) {
				cr_rec r = { 'V', (uint8_t) i, (uint8_t) a,
					{ 0 }, ov.version, { 0 } };
				memcpy(r.hash, h.b, 32);
				cr_report(fd, &r);
				nv++;
			} else if (rv != GH_ECONFLICT) {
				_exit(6);
			}
		}
		free(p);
		if (ledger_cert_build(&f.g, &e, v, (size_t) nv, c) == GH_OK
		    && ledger_store_ingest(f.s, &c, 1, &res) == GH_OK
		    && (res == GH_OK || res == GH_EEXIST)) {
			cr_rec r = { 'A', 0, (uint8_t) a, { 0 }, ov.version,
				{ 0 } };
			memcpy(r.hash, h.b, 32);
			cr_report(fd, &r);
		}
		free(c);
	}
#undef f
	return (NULL);
}

static void
cr_child(const char *dir, int fd, uint64_t seed)
{
	/* One set of key handles per worker: a handle is not shared
	 * between threads (base.h).  The store is. */
	fx        f[2];
	cr_worker w[2];
	pthread_t th;

	if (fx_genesis(&f[0], 4) != GH_OK || fx_genesis(&f[1], 4) != GH_OK) {
		_exit(2);
	}
	{
		ledger_store_opts o = { 0, 0, 0, 0 }; /* durable */
		if (ledger_store_open(dir, &f[0].g, &o, &f[0].s) != GH_OK) {
			_exit(3);
		}
		f[1].s = f[0].s;
	}
	w[0] = (cr_worker) { &f[0], fd, 0, seed };
	w[1] = (cr_worker) { &f[1], fd, 1, seed ^ 0x5555 };
	if (pthread_create(&th, NULL, cr_worker_main, &w[1]) != 0) {
		_exit(7);
	}
	cr_worker_main(&w[0]);
}

TEST_T(ledger_crash_sigkill_reopen_verify, 600)
{
	const char *dir          = th_tmpdir();
	cr_rec     *recs         = calloc(CR_MAXREC, sizeof(*recs));
	size_t      nrec         = 0;
	uint64_t    rnd          = (uint64_t) time(NULL);
	int         kills        = 0;
	uint64_t    last_applied = 0, grew = 0;

	CHECK(recs != NULL);
	for (int round = 0; round < 25; round++) {
		int      pfd[2];
		pid_t    pid;
		int      status;
		ssize_t  got;
		fx       f;
		uint64_t pos, ap, pe, eq;
		char     why[256];

		CHECK(pipe(pfd) == 0);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(pfd[0]);
			cr_child(dir, pfd[1], rnd + (uint64_t) round * 7919);
			_exit(0);
		}
		close(pfd[1]);
		/* Kill at a random moment: 20 to 300 ms in. */
		usleep((useconds_t) (20000 + th_rand(&rnd) % 280000));
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		kills++;
		while (nrec < CR_MAXREC
		    && (got = read(pfd[0], &recs[nrec], sizeof(cr_rec)))
		        == (ssize_t) sizeof(cr_rec)) {
			nrec++;
		}
		close(pfd[0]);

		/* Reopen: verify, acknowledged entries present, votes
		 * consistent. */
		CHECK_OK(fx_genesis(&f, 4));
		CHECK_OK(fx_open(&f, dir));
		CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
		CHECK_OK(ledger_store_counts(f.s, &ap, &pe, &eq));
		CHECK_EQ(eq, 0);
		CHECK_EQ(pe, 0);
		grew += ap > last_applied;
		last_applied = ap;
		for (size_t i = 0; i < nrec; i++) {
			gh_hash h;
			memcpy(h.b, recs[i].hash, 32);
			if (recs[i].kind == 'A') {
				CHECK_OK(ledger_store_has(f.s, &h));
			} else {
				/* The durable vote is the released one. */
				ledger_objver ov;
				gh_ed_pub     vp;
				uint8_t      *p = NULL;
				size_t        n;
				ledger_entry  e;
				gh_hash       eh;
				gh_acct_pub   pub;
				if (recs[i].acct == CR_ACCTS) {
					pub = f.issuer_pub;
				} else {
					pub = f.pub[recs[i].acct];
				}
				ov.type = LEDGER_OBJ_ACCOUNT;
				memcpy(ov.id.b, pub.b, 32);
				ov.version = recs[i].version;
				gh_ed_key_pub(f.val[recs[i].validator], &vp);
				CHECK_OK(
				    ledger_store_voted(f.s, &vp, &ov, &p, &n));
				CHECK_OK(ledger_entry_decode(p, n, &e));
				ledger_entry_hash(&e, &eh);
				CHECK_MEM(eh.b, h.b, 32);
				free(p);
			}
		}
		/* Across all rounds: one entry per (validator, version). */
		for (size_t i = 0; i < nrec; i++) {
			for (size_t j = i + 1; j < nrec; j++) {
				if (recs[i].kind == 'V' && recs[j].kind == 'V'
				    && recs[i].validator == recs[j].validator
				    && recs[i].acct == recs[j].acct
				    && recs[i].version == recs[j].version) {
					CHECK_MEM(
					    recs[i].hash, recs[j].hash, 32);
				}
			}
		}
		fx_free(&f);
	}
	CHECK(kills >= 20);
	CHECK(grew >= 10); /* the child made progress in most rounds */
	printf("    %d kills, %zu records, %llu entries applied\n", kills,
	    nrec, (unsigned long long) last_applied);
	free(recs);
}
