/* store.c - the LMDB store: one environment in <datadir>/ledger/, one
 * writer thread committing batches, signature checks on worker threads
 * before the write, votes recorded durably before they leave. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/log.h"
#include "ledger/priv.h"

#define LEDGER_MAXDBS     64 /* the transparency log adds "log_*" */
#define LEDGER_BATCH_JOBS 256

typedef struct ledger_job ledger_job;
struct ledger_job {
	/* Runs on the writer thread inside its write transaction; returns
	 * GH_OK, or an error that aborts the whole batch. */
	int (*fn)(ledger_store *s, MDB_txn *txn, void *arg);
	void       *arg;
	int         rv;
	int         done;
	ledger_job *next;
};

struct ledger_store {
	MDB_env       *env;
	ledger_dbs     db;
	ledger_genesis g;
	gh_hash        netid;
	unsigned       threads;
	int            read_only; /* opened by ledger_store_opts.read_only */
	uint64_t       applied;   /* next position in the applied order */
	ledger_log    *log;       /* the transparency log, same environment */
	gh_hash       *logq; /* writer thread: hashes applied in this job */
	size_t         nlogq, caplogq;

	pthread_t       writer;
	int             writer_started;
	pthread_mutex_t mu;
	pthread_cond_t  cv_work; /* jobs queued or closing */
	pthread_cond_t  cv_done; /* a batch finished */
	ledger_job     *head, *tail;
	int             closing;
};

const ledger_genesis *
ledger_store_genesis(const ledger_store *s)
{
	return (&s->g);
}

const gh_hash *
ledger_store_netid(const ledger_store *s)
{
	return (&s->netid);
}

/* ------------------------------------------------------------------ */
/* The writer thread. */

static void *
ledger_writer_main(void *arg)
{
	ledger_store *s = arg;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		ledger_job *batch, *j;
		MDB_txn    *txn = NULL;
		int         rc, rv = GH_OK, n = 0;

		while (s->head == NULL && !s->closing) {
			pthread_cond_wait(&s->cv_work, &s->mu);
		}
		if (s->head == NULL) {
			break;
		}
		/* Take up to a batch of jobs: one commit for all. */
		batch = s->head;
		for (j = batch; j->next != NULL && ++n < LEDGER_BATCH_JOBS;
		     j = j->next) { }
		s->head = j->next;
		if (s->head == NULL) {
			s->tail = NULL;
		}
		j->next = NULL;
		pthread_mutex_unlock(&s->mu);

		rc = mdb_txn_begin(s->env, NULL, 0, &txn);
		if (rc != MDB_SUCCESS) {
			rv = ledger_mdb_err(rc);
		}
		for (j = batch; j != NULL && rv == GH_OK; j = j->next) {
			j->rv = j->fn(s, txn, j->arg);
			if (j->rv != GH_OK) {
				rv = j->rv;
			}
		}
		if (rv == GH_OK) {
			rc = mdb_txn_commit(txn);
			rv = ledger_mdb_err(rc);
		} else if (txn != NULL) {
			mdb_txn_abort(txn);
		}
		if (rv != GH_OK) {
			/* Nothing of the batch is on disk: the applied
			 * count must forget what the jobs added. */
			MDB_txn    *rt  = NULL;
			MDB_cursor *cur = NULL;
			MDB_val     k, v;
			s->applied = 0;
			if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rt) == 0
			    && mdb_cursor_open(rt, s->db.applied, &cur) == 0
			    && mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0
			    && k.mv_size == 8) {
				s->applied = gh_be64_get(k.mv_data) + 1;
			}
			mdb_cursor_close(cur);
			mdb_txn_abort(rt);
		}
		pthread_mutex_lock(&s->mu);
		for (j = batch; j != NULL; j = j->next) {
			if (rv != GH_OK) {
				j->rv = rv;
			}
			j->done = 1;
		}
		pthread_cond_broadcast(&s->cv_done);
	}
	pthread_mutex_unlock(&s->mu);
	return (NULL);
}

/* Queues a job; ledger_writer_wait waits until its batch is committed
 * (or failed).  The job must stay alive until then. */
static int
ledger_writer_submit(ledger_store *s, ledger_job *j)
{
	j->rv   = GH_OK;
	j->done = 0;
	j->next = NULL;
	if (s->read_only) {
		return (GH_EPERM); /* another process owns the store */
	}
	pthread_mutex_lock(&s->mu);
	if (s->closing) {
		pthread_mutex_unlock(&s->mu);
		return (GH_ECLOSED);
	}
	if (s->tail != NULL) {
		s->tail->next = j;
	} else {
		s->head = j;
	}
	s->tail = j;
	pthread_cond_signal(&s->cv_work);
	pthread_mutex_unlock(&s->mu);
	return (GH_OK);
}

static int
ledger_writer_wait(ledger_store *s, ledger_job *j)
{
	pthread_mutex_lock(&s->mu);
	while (!j->done) {
		pthread_cond_wait(&s->cv_done, &s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return (j->rv);
}

static int
ledger_writer_run(
    ledger_store *s, int (*fn)(ledger_store *, MDB_txn *, void *), void *arg)
{
	ledger_job j = { fn, arg, GH_OK, 0, NULL };
	int        rv;

	if ((rv = ledger_writer_submit(s, &j)) != GH_OK) {
		return (rv);
	}
	return (ledger_writer_wait(s, &j));
}

/* ------------------------------------------------------------------ */
/* Open and close. */

static int
ledger_dbs_open(MDB_txn *txn, ledger_dbs *db)
{
	static const struct {
		const char *name;
		size_t      off;
	} names[] = {
		{ "entries", offsetof(ledger_dbs, entries) },
		{ "chains", offsetof(ledger_dbs, chains) },
		{ "objects", offsetof(ledger_dbs, objects) },
		{ "pending", offsetof(ledger_dbs, pending) },
		{ "votes", offsetof(ledger_dbs, votes) },
		{ "equivocations", offsetof(ledger_dbs, equivs) },
		{ "applied", offsetof(ledger_dbs, applied) },
		{ "meta", offsetof(ledger_dbs, meta) },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		MDB_dbi *d  = (MDB_dbi *) ((char *) db + names[i].off);
		int      rc = mdb_dbi_open(txn, names[i].name, MDB_CREATE, d);
		if (rc == EACCES) {
			return (GH_ENOENT); /* read-only, never created */
		}
		if (rc != MDB_SUCCESS) {
			return (ledger_mdb_err(rc));
		}
	}
	return (GH_OK);
}

/* Appends to the log the applied entries it does not hold yet. */
static int
ledger_log_backfill(ledger_store *s, MDB_txn *txn)
{
	uint64_t size;
	int      rv;

	if ((rv = ledger_log_size(s->log, txn, &size)) != GH_OK) {
		return (rv);
	}
	if (size > s->applied) {
		return (
		    GH_ECORRUPT); /* the log has entries we never applied */
	}
	for (uint64_t i = size; i < s->applied; i++) {
		MDB_val k, v;
		uint8_t pos[8];
		int     rc;
		gh_be64_put(pos, i);
		k.mv_size = 8;
		k.mv_data = pos;
		if ((rc = mdb_get(txn, s->db.applied, &k, &v)) != 0
		    || v.mv_size != 32) {
			return (rc == 0 || rc == MDB_NOTFOUND
			        ? GH_ECORRUPT
			        : ledger_mdb_err(rc));
		}
		if ((rv = ledger_log_append(s->log, txn, v.mv_data, 32, NULL))
		    != GH_OK) {
			return (rv == GH_EEXIST ? GH_ECORRUPT : rv);
		}
	}
	return (GH_OK);
}

int
ledger_store_open(const char *datadir, const ledger_genesis *g,
    const ledger_store_opts *o, ledger_store **out)
{
	ledger_store *s   = NULL;
	MDB_txn      *txn = NULL;
	MDB_cursor   *cur = NULL;
	MDB_val       k, v;
	char          dir[PATH_MAX];
	unsigned      flags = MDB_NOTLS;
	uint64_t      map;
	long          ncpu;
	int           rc, rv = GH_EINTERNAL;

	*out = NULL;
	if (snprintf(dir, sizeof(dir), "%s/ledger", datadir)
	    >= (int) sizeof(dir)) {
		return (GH_ETOOLONG);
	}
	if ((o == NULL || !o->read_only)
	    && (rv = gh_mkdir_p(dir, 0700)) != GH_OK) {
		return (rv);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (GH_ENOMEM);
	}
	s->g = *g;
	ledger_genesis_netid(g, &s->netid);
	ncpu       = sysconf(_SC_NPROCESSORS_ONLN);
	s->threads = o != NULL && o->threads > 0 ? o->threads
	    : ncpu > 0                           ? (unsigned) ncpu
	                                         : 1;
	if (s->threads > 64) {
		s->threads = 64;
	}
	map = o != NULL && o->map_size > 0 ? o->map_size
	                                   : LEDGER_MAP_SIZE_DEFAULT;
	if (o != NULL && o->no_sync) {
		flags |= MDB_NOSYNC;
	}
	if (o != NULL && o->read_only) {
		flags |= MDB_RDONLY;
		s->read_only = 1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv_work, NULL);
	pthread_cond_init(&s->cv_done, NULL);
	if ((rc = mdb_env_create(&s->env)) != MDB_SUCCESS
	    || (rc = mdb_env_set_maxdbs(s->env, LEDGER_MAXDBS)) != MDB_SUCCESS
	    || (rc = mdb_env_set_mapsize(s->env, (size_t) map)) != MDB_SUCCESS
	    || (rc = mdb_env_set_maxreaders(s->env, 256)) != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	if ((rc = mdb_env_open(s->env, dir, flags, 0600)) != MDB_SUCCESS) {
		rv = s->read_only && rc == ENOENT ? GH_ENOENT
		                                  : ledger_mdb_err(rc);
		goto out;
	}
	if ((rc = mdb_txn_begin(
	         s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn))
	    != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	if ((rv = ledger_dbs_open(txn, &s->db)) != GH_OK) {
		goto out;
	}
	k.mv_size = 5;
	k.mv_data = "netid";
	rc        = mdb_get(txn, s->db.meta, &k, &v);
	if (rc == MDB_NOTFOUND && s->read_only) {
		rv = GH_ENOENT;
		goto out;
	} else if (rc == MDB_NOTFOUND) {
		v.mv_size = 32;
		v.mv_data = s->netid.b;
		if ((rc = mdb_put(txn, s->db.meta, &k, &v, 0))
		    != MDB_SUCCESS) {
			rv = ledger_mdb_err(rc);
			goto out;
		}
	} else if (rc != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
		goto out;
	} else if (v.mv_size != 32) {
		rv = GH_ECORRUPT;
		goto out;
	} else if (memcmp(v.mv_data, s->netid.b, 32) != 0) {
		rv = GH_ENETID;
		goto out;
	}
	if ((rc = mdb_cursor_open(txn, s->db.applied, &cur)) != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_SUCCESS) {
		if (k.mv_size != 8) {
			rv = GH_ECORRUPT;
			goto out;
		}
		s->applied = gh_be64_get(k.mv_data) + 1;
	} else if (rc != MDB_NOTFOUND) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	/* The transparency log lives in the same environment; a store
	 * from before the log gets its leaves in applied order. */
	if ((rv = ledger_log_open(txn, &s->log)) != GH_OK
	    || (!s->read_only
	        && (rv = ledger_log_backfill(s, txn)) != GH_OK)) {
		goto out;
	}
	rc  = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	if (s->read_only) {
		*out = s;
		return (GH_OK);
	}
	if (pthread_create(&s->writer, NULL, ledger_writer_main, s) != 0) {
		rv = GH_ENOMEM;
		goto out;
	}
	s->writer_started = 1;
	*out              = s;
	s                 = NULL;
	rv                = GH_OK;
out:
	mdb_cursor_close(cur);
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	ledger_store_close(s);
	return (rv);
}

void
ledger_store_close(ledger_store *s)
{
	if (s == NULL) {
		return;
	}
	if (s->writer_started) {
		pthread_mutex_lock(&s->mu);
		s->closing = 1;
		pthread_cond_broadcast(&s->cv_work);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
	}
	if (s->env != NULL) {
		mdb_env_close(s->env);
	}
	ledger_log_close(s->log);
	free(s->logq);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv_work);
	pthread_cond_destroy(&s->cv_done);
	free(s);
}

/* ------------------------------------------------------------------ */
/* Votes. */

typedef struct {
	const gh_ed_pub *validator;
	const uint8_t   *bytes;
	size_t           n;
	ledger_entry     e;
	gh_hash          h;
	uint64_t         now;
	int              result;
} ledger_vote_job;

static void
ledger_vote_key(const gh_ed_pub *v, const ledger_objver *ov, uint8_t out[73])
{
	memcpy(out, v->b, 32);
	ledger_objkey(ov->type, ov->id.b, out + 32);
	gh_be64_put(out + 65, ov->version);
}

static int
ledger_vote_fn(ledger_store *s, MDB_txn *txn, void *arg)
{
	ledger_vote_job *j = arg;
	ledger_objver    ov[1 + LEDGER_CONSUMES_MAX];
	uint32_t         nov = ledger_entry_objvers(&j->e, ov);
	uint8_t          kb[73], ok[LEDGER_OBJKEY_LEN];
	MDB_val          k, v;
	int              rc, rv, same = 0;

	for (uint32_t i = 0; i < nov; i++) {
		ledger_objkey(ov[i].type, ov[i].id.b, ok);
		k.mv_size = sizeof(ok);
		k.mv_data = ok;
		rc        = mdb_get(txn, s->db.equivs, &k, &v);
		if (rc == MDB_SUCCESS) {
			j->result = GH_EFROZEN;
			return (GH_OK);
		}
		if (rc != MDB_NOTFOUND) {
			return (ledger_mdb_err(rc));
		}
	}
	for (uint32_t i = 0; i < nov; i++) {
		ledger_vote_key(j->validator, &ov[i], kb);
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		rc        = mdb_get(txn, s->db.votes, &k, &v);
		if (rc == MDB_NOTFOUND) {
			continue;
		}
		if (rc != MDB_SUCCESS) {
			return (ledger_mdb_err(rc));
		}
		if (v.mv_size == j->n
		    && memcmp(v.mv_data, j->bytes, j->n) == 0) {
			same++;
			continue;
		}
		/* Another entry holds this vote.  Signed by the same key for
		 * the same version: an equivocation, which freezes. */
		{
			ledger_objver co;
			uint8_t      *pp = NULL;
			size_t        pn = 0;
			if (ledger_equiv_verify(&s->netid, v.mv_data,
			        v.mv_size, j->bytes, j->n, &co)
			        == GH_OK
			    && ledger_equiv_encode(v.mv_data, v.mv_size,
			           j->bytes, j->n, &pp, &pn)
			        == GH_OK) {
				MDB_val pk, pv;
				ledger_objkey(co.type, co.id.b, ok);
				pk.mv_size = sizeof(ok);
				pk.mv_data = ok;
				pv.mv_size = pn;
				pv.mv_data = pp;
				rc = mdb_put(txn, s->db.equivs, &pk, &pv,
				    MDB_NOOVERWRITE);
				free(pp);
				if (rc != MDB_SUCCESS && rc != MDB_KEYEXIST) {
					return (ledger_mdb_err(rc));
				}
			}
		}
		j->result = GH_ECONFLICT;
		return (GH_OK);
	}
	if (same == (int) nov) {
		j->result = GH_OK; /* voted before: the same vote again */
		return (GH_OK);
	}
	rv = ledger_rules_check(txn, &s->db, &s->g, &s->netid, &j->e, &j->h);
	if (rv != GH_OK) {
		j->result = rv;
		return (GH_OK);
	}
	for (uint32_t i = 0; i < nov; i++) {
		ledger_vote_key(j->validator, &ov[i], kb);
		k.mv_size = sizeof(kb);
		k.mv_data = kb;
		v.mv_size = j->n;
		v.mv_data = (void *) j->bytes;
		rc        = mdb_put(txn, s->db.votes, &k, &v, MDB_NOOVERWRITE);
		if (rc != MDB_SUCCESS) {
			return (ledger_mdb_err(rc));
		}
	}
	j->result = GH_OK;
	return (GH_OK);
}

static int
ledger_entry_time_ok(
    const ledger_store *s, const ledger_entry *e, uint64_t now)
{
	uint64_t m = s->g.clock_margin;

	if (now == 0) {
		return (1);
	}
	return (e->time <= now + m && e->time + m >= now);
}

int
ledger_store_vote(ledger_store *s, const gh_ed_key *validator,
    const uint8_t *entry, size_t n, uint64_t now, ledger_vote *vote)
{
	ledger_vote_job j;
	gh_ed_pub       pub;
	gh_hash         vh;
	int             rv;

	memset(vote, 0, sizeof(*vote));
	memset(&j, 0, sizeof(j));
	gh_ed_key_pub(validator, &pub);
	if (ledger_genesis_member(&s->g, &pub) < 0) {
		return (GH_EPERM);
	}
	if ((rv = ledger_entry_decode(entry, n, &j.e)) != GH_OK) {
		return (rv);
	}
	if (memcmp(j.e.netid.b, s->netid.b, 32) != 0) {
		return (GH_ENETID);
	}
	ledger_entry_hash(&j.e, &j.h);
	/* Signature first, off the writer thread. */
	if ((rv = ledger_entry_verify_sig(&j.e)) != GH_OK) {
		return (rv);
	}
	if (!ledger_entry_time_ok(s, &j.e, now)) {
		return (GH_EWINDOW);
	}
	j.validator = &pub;
	j.bytes     = entry;
	j.n         = n;
	j.now       = now;
	if ((rv = ledger_writer_run(s, ledger_vote_fn, &j)) != GH_OK) {
		return (rv);
	}
	if (j.result != GH_OK) {
		return (j.result);
	}
	/* Committed: only now may the vote leave. */
	vote->netid     = s->netid;
	vote->entry     = j.h;
	vote->validator = pub;
	ledger_vote_hash(&s->netid, &j.h, &vh);
	gh_ed_sign(validator, &vh, &vote->sig);
	return (GH_OK);
}

int
ledger_store_voted(ledger_store *s, const gh_ed_pub *validator,
    const ledger_objver *ov, uint8_t **p, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_val  k, v;
	uint8_t  kb[73];
	int      rc, rv;

	*p = NULL;
	*n = 0;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		return (ledger_mdb_err(rc));
	}
	ledger_vote_key(validator, ov, kb);
	k.mv_size = sizeof(kb);
	k.mv_data = kb;
	rc        = mdb_get(txn, s->db.votes, &k, &v);
	if (rc != MDB_SUCCESS) {
		rv = ledger_mdb_err(rc);
	} else if ((*p = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
		rv = GH_ENOMEM;
	} else {
		memcpy(*p, v.mv_data, v.mv_size);
		*n = v.mv_size;
		rv = GH_OK;
	}
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_check(
    ledger_store *s, const uint8_t *entry, size_t n, uint64_t now)
{
	ledger_entry e;
	gh_hash      h;
	MDB_txn     *txn = NULL;
	int          rc, rv;

	if ((rv = ledger_entry_decode(entry, n, &e)) != GH_OK) {
		return (rv);
	}
	if (memcmp(e.netid.b, s->netid.b, 32) != 0) {
		return (GH_ENETID);
	}
	if ((rv = ledger_entry_verify_sig(&e)) != GH_OK) {
		return (rv);
	}
	if (!ledger_entry_time_ok(s, &e, now)) {
		return (GH_EWINDOW);
	}
	ledger_entry_hash(&e, &h);
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		return (ledger_mdb_err(rc));
	}
	rv = ledger_rules_check(txn, &s->db, &s->g, &s->netid, &e, &h);
	mdb_txn_abort(txn);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Ingest. */

typedef struct {
	ledger_store       *s;
	ledger_cert *const *certs;
	size_t              n;
	int                *res;
	uint8_t           **bytes;
	size_t             *lens;
	size_t              next; /* shared work counter */
	pthread_mutex_t     mu;
	int                 checked; /* the caller verified them */
} ledger_verify_work;

static void *
ledger_verify_main(void *arg)
{
	ledger_verify_work *w = arg;

	for (;;) {
		size_t i;
		pthread_mutex_lock(&w->mu);
		i = w->next;
		/* Chunks of 16 keep the lock cold. */
		w->next = i + 16;
		pthread_mutex_unlock(&w->mu);
		if (i >= w->n) {
			break;
		}
		for (size_t e = i + 16 < w->n ? i + 16 : w->n; i < e; i++) {
			ledger_cert *c  = w->certs[i];
			int          rv = w->checked ? GH_OK
			                             : ledger_cert_verify(&w->s->g, c);
			if (rv == GH_OK) {
				ledger_entry_hash(&c->entry, &c->hash);
				rv = ledger_cert_encode(
				    c, &w->bytes[i], &w->lens[i]);
			}
			w->res[i] = rv;
		}
	}
	return (NULL);
}

/*
 * The transparency log: each applied entry's hash becomes a leaf in the
 * write transaction that applies it, so the log's leaf i is the entry
 * at applied position i.  Hashes are queued while a job applies and
 * appended together at its end (ledger_log_flush), reading the tree's
 * right edge once.  Writer thread only.
 */
static int
ledger_log_hook(ledger_store *s, MDB_txn *txn, uint64_t pos, const gh_hash *h)
{
	(void) txn;
	(void) pos;
	if (s->nlogq == s->caplogq) {
		size_t   cap = s->caplogq ? s->caplogq * 2 : 256;
		gh_hash *q   = realloc(s->logq, cap * sizeof(*q));
		if (q == NULL) {
			return (GH_ENOMEM);
		}
		s->logq    = q;
		s->caplogq = cap;
	}
	s->logq[s->nlogq++] = *h;
	return (GH_OK);
}

static int
ledger_log_flush(ledger_store *s, MDB_txn *txn)
{
	uint64_t first = 0;
	size_t   n     = s->nlogq;
	int      rv;

	s->nlogq = 0;
	if (n == 0) {
		return (GH_OK);
	}
	rv = ledger_log_append_many(s->log, txn, s->logq, n, &first);
	if (rv == GH_EEXIST || (rv == GH_OK && first + n != s->applied)) {
		return (GH_ECORRUPT);
	}
	return (rv);
}

/* Applies one verified certificate (bytes = its encoding). */
static int
ledger_apply_one(ledger_store *s, MDB_txn *txn, const ledger_cert *c,
    const uint8_t *bytes, size_t n, int *res)
{
	MDB_val k, v;
	uint8_t pos[8];
	int     rc, rv;

	k.mv_size = 32;
	k.mv_data = (void *) c->hash.b;
	rc        = mdb_get(txn, s->db.entries, &k, &v);
	if (rc == MDB_SUCCESS) {
		*res = GH_EEXIST;
		return (GH_OK);
	}
	if (rc != MDB_NOTFOUND) {
		return (ledger_mdb_err(rc));
	}
	rv = ledger_rules_apply(
	    txn, &s->db, &s->g, &s->netid, &c->entry, &c->hash);
	if (rv == GH_OK) {
		v.mv_size = n;
		v.mv_data = (void *) bytes;
		if ((rc = mdb_put(txn, s->db.entries, &k, &v, 0)) != 0) {
			return (ledger_mdb_err(rc));
		}
		gh_be64_put(pos, s->applied);
		k.mv_size = 8;
		k.mv_data = pos;
		v.mv_size = 32;
		v.mv_data = (void *) c->hash.b;
		if ((rc = mdb_put(txn, s->db.applied, &k, &v, MDB_APPEND))
		    != 0) {
			return (ledger_mdb_err(rc));
		}
		if ((rv = ledger_log_hook(s, txn, s->applied, &c->hash))
		    != GH_OK) {
			return (rv);
		}
		s->applied++;
		*res = GH_OK;
		return (GH_OK);
	}
	if (ledger_rules_waits(rv)) {
		k.mv_size = 32;
		k.mv_data = (void *) c->hash.b;
		v.mv_size = n;
		v.mv_data = (void *) bytes;
		if ((rc = mdb_put(txn, s->db.pending, &k, &v, 0)) != 0) {
			return (ledger_mdb_err(rc));
		}
		*res = GH_EPENDING;
		return (GH_OK);
	}
	if (rv == GH_EFULL || rv == GH_EIO || rv == GH_ECORRUPT
	    || rv == GH_ENOMEM) {
		return (rv);
	}
	*res = rv;
	return (GH_OK);
}

/* Retries pending entries until a pass applies none. */
static int
ledger_pending_drain(ledger_store *s, MDB_txn *txn)
{
	int progress = 1;

	while (progress) {
		MDB_cursor *cur = NULL;
		MDB_val     k, v;
		int         rc;

		progress = 0;
		if ((rc = mdb_cursor_open(txn, s->db.pending, &cur)) != 0) {
			return (ledger_mdb_err(rc));
		}
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			ledger_cert *c = malloc(sizeof(*c));
			uint8_t     *copy;
			int          res = GH_EINTERNAL, rv;
			if (c == NULL) {
				mdb_cursor_close(cur);
				return (GH_ENOMEM);
			}
			if (ledger_cert_decode(v.mv_data, v.mv_size, c)
			    != GH_OK) {
				free(c);
				mdb_cursor_close(cur);
				return (GH_ECORRUPT);
			}
			rv = ledger_rules_check(txn, &s->db, &s->g, &s->netid,
			    &c->entry, &c->hash);
			if (rv != GH_OK) {
				free(c);
				continue;
			}
			/* Copy: the pending value goes away below. */
			if ((copy = malloc(v.mv_size)) == NULL) {
				free(c);
				mdb_cursor_close(cur);
				return (GH_ENOMEM);
			}
			memcpy(copy, v.mv_data, v.mv_size);
			rv = mdb_cursor_del(cur, 0);
			if (rv == 0) {
				rv = ledger_apply_one(
				    s, txn, c, copy, v.mv_size, &res);
			} else {
				rv = ledger_mdb_err(rv);
			}
			free(copy);
			free(c);
			if (rv != GH_OK) {
				mdb_cursor_close(cur);
				return (rv);
			}
			if (res == GH_OK) {
				progress = 1;
			}
		}
		mdb_cursor_close(cur);
		if (rc != MDB_NOTFOUND) {
			return (ledger_mdb_err(rc));
		}
	}
	return (GH_OK);
}

typedef struct {
	ledger_cert *const *certs;
	size_t              n;
	int                *res;
	uint8_t           **bytes;
	size_t             *lens;
} ledger_ingest_job;

static int
ledger_ingest_fn(ledger_store *s, MDB_txn *txn, void *arg)
{
	ledger_ingest_job *j       = arg;
	int                applied = 0, waiting = 0, rv;

	s->nlogq = 0;

	for (size_t i = 0; i < j->n; i++) {
		if (j->res[i] != GH_OK || j->bytes[i] == NULL) {
			continue;
		}
		rv = ledger_apply_one(
		    s, txn, j->certs[i], j->bytes[i], j->lens[i], &j->res[i]);
		if (rv != GH_OK) {
			return (rv);
		}
		applied += j->res[i] == GH_OK;
		waiting += j->res[i] == GH_EPENDING;
	}
	(void) waiting;
	if (applied > 0) {
		MDB_stat st;
		if (mdb_stat(txn, s->db.pending, &st) == 0 && st.ms_entries > 0
		    && (rv = ledger_pending_drain(s, txn)) != GH_OK) {
			return (rv);
		}
	}
	return (ledger_log_flush(s, txn));
}

/* Verifies certs[0..n) on the worker threads and this one. */
static void
ledger_verify_chunk(ledger_store *s, ledger_cert *const *certs, size_t n,
    int *res, uint8_t **bytes, size_t *lens, int checked)
{
	ledger_verify_work w;
	pthread_t          th[64];
	unsigned           nth = 0, want;

	memset(&w, 0, sizeof(w));
	w.checked = checked;
	w.s       = s;
	w.certs   = certs;
	w.n       = n;
	w.res     = res;
	w.bytes   = bytes;
	w.lens    = lens;
	pthread_mutex_init(&w.mu, NULL);
	want = n < 32 ? 1 : s->threads;
	for (unsigned i = 1; i < want; i++) {
		if (pthread_create(&th[nth], NULL, ledger_verify_main, &w)
		    == 0) {
			nth++;
		}
	}
	ledger_verify_main(&w);
	for (unsigned i = 0; i < nth; i++) {
		pthread_join(th[i], NULL);
	}
	pthread_mutex_destroy(&w.mu);
}

/* Waits for an ingest job; when its batch failed, none of its entries
 * was applied or kept pending. */
static int
ledger_ingest_wait(ledger_store *s, ledger_job *jb, ledger_ingest_job *j)
{
	int rv = ledger_writer_wait(s, jb);

	if (rv != GH_OK) {
		for (size_t i = 0; i < j->n; i++) {
			if (j->res[i] == GH_OK || j->res[i] == GH_EPENDING) {
				j->res[i] = rv;
			}
		}
	}
	return (rv);
}

#define LEDGER_INGEST_CHUNK 1024

static int ledger_store_ingest_impl(ledger_store *s, ledger_cert *const *certs,
    size_t n, int *res, int checked);

int
ledger_store_ingest(
    ledger_store *s, ledger_cert *const *certs, size_t n, int *res)
{
	return (ledger_store_ingest_impl(s, certs, n, res, 0));
}

int
ledger_store_ingest_checked(
    ledger_store *s, ledger_cert *const *certs, size_t n, int *res)
{
	return (ledger_store_ingest_impl(s, certs, n, res, 1));
}

static int
ledger_store_ingest_impl(ledger_store *s, ledger_cert *const *certs, size_t n,
    int *res, int checked)
{
	uint8_t         **bytes = calloc(n ? n : 1, sizeof(*bytes));
	size_t           *lens  = calloc(n ? n : 1, sizeof(*lens));
	ledger_ingest_job jobs[2];
	ledger_job        jb[2];
	int               inflight[2] = { 0, 0 };
	int               rv          = GH_OK, wrv;

	if (bytes == NULL || lens == NULL) {
		free(bytes);
		free(lens);
		return (GH_ENOMEM);
	}
	/*
	 * A pipeline: while the writer applies and commits one chunk, the
	 * worker threads verify the next.  Chunks are applied in order.
	 */
	for (size_t off = 0, k = 0; off < n; off += LEDGER_INGEST_CHUNK, k++) {
		size_t m    = n - off < LEDGER_INGEST_CHUNK ? n - off
		                                            : LEDGER_INGEST_CHUNK;
		int    slot = (int) (k % 2);
		ledger_verify_chunk(s, certs + off, m, res + off, bytes + off,
		    lens + off, checked);
		if (inflight[slot]) {
			/* Two chunks back: done long ago, normally. */
			wrv = ledger_ingest_wait(s, &jb[slot], &jobs[slot]);
			rv  = rv == GH_OK ? wrv : rv;
			inflight[slot] = 0;
		}
		jobs[slot].certs = certs + off;
		jobs[slot].n     = m;
		jobs[slot].res   = res + off;
		jobs[slot].bytes = bytes + off;
		jobs[slot].lens  = lens + off;
		jb[slot].fn      = ledger_ingest_fn;
		jb[slot].arg     = &jobs[slot];
		if ((wrv = ledger_writer_submit(s, &jb[slot])) != GH_OK) {
			rv = rv == GH_OK ? wrv : rv;
			for (size_t i = off; i < off + m; i++) {
				res[i] = wrv;
			}
		} else {
			inflight[slot] = 1;
		}
	}
	for (int slot = 0; slot < 2; slot++) {
		if (inflight[slot]) {
			wrv = ledger_ingest_wait(s, &jb[slot], &jobs[slot]);
			rv  = rv == GH_OK ? wrv : rv;
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(bytes[i]);
	}
	free(bytes);
	free(lens);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Reads. */

static int
ledger_rd_begin(ledger_store *s, MDB_txn **txn)
{
	return (ledger_mdb_err(mdb_txn_begin(s->env, NULL, MDB_RDONLY, txn)));
}

int
ledger_store_account(
    ledger_store *s, const uint8_t id[32], int node, ledger_account *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_account_get(
	    txn, &s->db, node ? LEDGER_OBJ_NODE : LEDGER_OBJ_ACCOUNT, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_asset(ledger_store *s, const ledger_id *id, ledger_asset *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_asset_get(txn, &s->db, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_lot(ledger_store *s, const ledger_id *id, ledger_lot *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_lot_get(txn, &s->db, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_lease(ledger_store *s, const ledger_id *id, ledger_lease *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_lease_get(txn, &s->db, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_loan(ledger_store *s, const ledger_id *id, ledger_loan *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_loan_get(txn, &s->db, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_proof(ledger_store *s, const ledger_id *id, ledger_proof_rec *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_proof_get(txn, &s->db, id, out);
	mdb_txn_abort(txn);
	return (rv);
}

/* Calls fn(arg, id, value bytes) for every object of one type. */
static int
ledger_store_each(ledger_store *s, uint8_t type,
    int (*fn)(void *arg, const ledger_id *id, const uint8_t *p, size_t n),
    void *arg)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	int         rc, rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, s->db.objects, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	k.mv_size = 1;
	k.mv_data = &type;
	rv        = GH_OK;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		ledger_id id;
		if (k.mv_size != LEDGER_OBJKEY_LEN
		    || ((uint8_t *) k.mv_data)[0] != type) {
			break;
		}
		memcpy(id.b, (uint8_t *) k.mv_data + 1, 32);
		if ((rv = fn(arg, &id, v.mv_data, v.mv_size)) != GH_OK) {
			break;
		}
	}
	if (rv == -1) {
		rv = GH_OK; /* stopped by the caller */
	}
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

typedef struct {
	int (*lease)(void *arg, const ledger_id *id, const ledger_lease *l);
	int (*loan)(void *arg, const ledger_id *id, const ledger_loan *l);
	void *arg;
} ledger_each_ctx;

static int
ledger_each_lease(void *arg, const ledger_id *id, const uint8_t *p, size_t n)
{
	ledger_each_ctx *c = arg;
	ledger_lease     l;
	int              rv;

	if ((rv = ledger_lease_decode(p, n, &l)) != GH_OK) {
		return (rv);
	}
	return (c->lease(c->arg, id, &l) != 0 ? -1 : GH_OK);
}

static int
ledger_each_loan(void *arg, const ledger_id *id, const uint8_t *p, size_t n)
{
	ledger_each_ctx *c = arg;
	ledger_loan      l;
	int              rv;

	if ((rv = ledger_loan_decode(p, n, &l)) != GH_OK) {
		return (rv);
	}
	return (c->loan(c->arg, id, &l) != 0 ? -1 : GH_OK);
}

int
ledger_store_leases(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_lease *l),
    void *arg)
{
	ledger_each_ctx c = { fn, NULL, arg };
	return (ledger_store_each(s, LEDGER_OBJ_LEASE, ledger_each_lease, &c));
}

int
ledger_store_loans(ledger_store *s,
    int (*fn)(void *arg, const ledger_id *id, const ledger_loan *l), void *arg)
{
	ledger_each_ctx c = { NULL, fn, arg };
	return (ledger_store_each(s, LEDGER_OBJ_LOAN, ledger_each_loan, &c));
}

int
ledger_store_lots(ledger_store *s, const ledger_id *asset,
    int (*fn)(void *arg, const ledger_id *id, const ledger_lot *lot),
    void *arg)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	uint8_t     start = LEDGER_OBJ_LOT;
	int         rc, rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, s->db.objects, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	k.mv_size = 1;
	k.mv_data = &start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		ledger_lot l;
		ledger_id  id;
		if (k.mv_size != LEDGER_OBJKEY_LEN
		    || ((uint8_t *) k.mv_data)[0] != LEDGER_OBJ_LOT) {
			break;
		}
		if ((rv = ledger_lot_decode(v.mv_data, v.mv_size, &l))
		    != GH_OK) {
			goto out;
		}
		if (asset != NULL && memcmp(l.asset.b, asset->b, 32) != 0) {
			continue;
		}
		memcpy(id.b, (uint8_t *) k.mv_data + 1, 32);
		if (fn(arg, &id, &l) != 0) {
			break;
		}
	}
	rv = GH_OK;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_chain(ledger_store *s, const uint8_t id[32], int node,
    int (*fn)(void *arg, uint64_t seq, const ledger_cert *c), void *arg)
{
	MDB_txn     *txn = NULL;
	MDB_cursor  *cur = NULL;
	MDB_val      k, v, ek, ev;
	uint8_t      kb[LEDGER_OBJKEY_LEN + 8];
	ledger_cert *c = NULL;
	int          rc, rv;

	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		free(c);
		return (rv);
	}
	ledger_objkey(node ? LEDGER_OBJ_NODE : LEDGER_OBJ_ACCOUNT, id, kb);
	gh_be64_put(kb + LEDGER_OBJKEY_LEN, 1);
	if ((rc = mdb_cursor_open(txn, s->db.chains, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	k.mv_size = sizeof(kb);
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != sizeof(kb)
		    || memcmp(k.mv_data, kb, LEDGER_OBJKEY_LEN) != 0) {
			break;
		}
		if (v.mv_size != 32) {
			rv = GH_ECORRUPT;
			goto out;
		}
		ek = v;
		if ((rc = mdb_get(txn, s->db.entries, &ek, &ev)) != 0) {
			rv = rc == MDB_NOTFOUND ? GH_ECORRUPT
			                        : ledger_mdb_err(rc);
			goto out;
		}
		if ((rv = ledger_cert_decode(ev.mv_data, ev.mv_size, c))
		    != GH_OK) {
			rv = GH_ECORRUPT;
			goto out;
		}
		if (fn(arg,
		        gh_be64_get((uint8_t *) k.mv_data + LEDGER_OBJKEY_LEN),
		        c)
		    != 0) {
			break;
		}
	}
	rv = GH_OK;
out:
	free(c);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_counts(
    ledger_store *s, uint64_t *applied, uint64_t *pending, uint64_t *equivs)
{
	MDB_txn *txn = NULL;
	MDB_stat st;
	int      rv;

	*applied = *pending = *equivs = 0;
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	if (mdb_stat(txn, s->db.applied, &st) == 0) {
		*applied = st.ms_entries;
	}
	if (mdb_stat(txn, s->db.pending, &st) == 0) {
		*pending = st.ms_entries;
	}
	if (mdb_stat(txn, s->db.equivs, &st) == 0) {
		*equivs = st.ms_entries;
	}
	mdb_txn_abort(txn);
	return (GH_OK);
}

int
ledger_store_equivocation(
    ledger_store *s, uint8_t type, const ledger_id *id, uint8_t **p, size_t *n)
{
	MDB_txn *txn = NULL;
	MDB_val  k, v;
	uint8_t  kb[LEDGER_OBJKEY_LEN];
	int      rc, rv;

	*p = NULL;
	*n = 0;
	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	ledger_objkey(type, id->b, kb);
	k.mv_size = sizeof(kb);
	k.mv_data = kb;
	if ((rc = mdb_get(txn, s->db.equivs, &k, &v)) != 0) {
		rv = ledger_mdb_err(rc);
	} else if ((*p = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
		rv = GH_ENOMEM;
	} else {
		memcpy(*p, v.mv_data, v.mv_size);
		*n = v.mv_size;
		rv = GH_OK;
	}
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_state_hash(ledger_store *s, gh_hash *out)
{
	MDB_txn *txn = NULL;
	int      rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_state_hash_txn(txn, &s->db, out);
	mdb_txn_abort(txn);
	return (rv);
}

int
ledger_store_invariants(ledger_store *s, char *why, size_t cap)
{
	MDB_txn *txn = NULL;
	int      rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	rv = ledger_invariants_txn(txn, &s->db, why, cap);
	mdb_txn_abort(txn);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Verify: replay from genesis inside a write transaction that is
 * aborted at the end. */

/*
 * Recomputes the RFC 6962 root over the applied entries (in applied
 * order) and compares it, and each leaf, with the stored log.
 */
static int
ledger_verify_log(ledger_store *s, MDB_txn *txn, uint64_t total, uint64_t *pos,
    char *why, size_t cap)
{
	ledger_mhash stack[65], leaf, got, root;
	uint64_t     size;
	int          depth = 0, rc, rv;
	MDB_cursor  *cur   = NULL;
	MDB_val      k, v;
	uint64_t     i = 0;

	if ((rv = ledger_log_size(s->log, txn, &size)) != GH_OK) {
		snprintf(why, cap, "transparency log unreadable");
		return (rv);
	}
	if (size != total) {
		snprintf(why, cap,
		    "transparency log holds %llu entries, the "
		    "store %llu",
		    (unsigned long long) size, (unsigned long long) total);
		return (GH_ECORRUPT);
	}
	if ((rc = mdb_cursor_open(txn, s->db.applied, &cur)) != 0) {
		return (ledger_mdb_err(rc));
	}
	/* Perfect subtrees as a binary counter; the root folds them from
	 * the right (the RFC 6962 split at the largest power of two). */
	uint64_t count = 0;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), i++) {
		ledger_merkle_leaf(v.mv_data, v.mv_size, &leaf);
		if ((rv = ledger_log_leaf(s->log, txn, i, &got)) != GH_OK
		    || memcmp(got.b, leaf.b, 32) != 0) {
			mdb_cursor_close(cur);
			*pos = i;
			snprintf(why, cap,
			    "transparency log leaf differs from "
			    "the applied entry");
			return (rv == GH_OK ? GH_ECORRUPT : rv);
		}
		stack[depth++] = leaf;
		count++;
		for (uint64_t c = count; (c & 1) == 0; c >>= 1) {
			ledger_merkle_node(&stack[depth - 2],
			    &stack[depth - 1], &stack[depth - 2]);
			depth--;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		return (ledger_mdb_err(rc));
	}
	if (depth == 0) {
		ledger_merkle_empty(&root);
	} else {
		root = stack[depth - 1];
		for (int d = depth - 2; d >= 0; d--) {
			ledger_merkle_node(&stack[d], &root, &root);
		}
	}
	if ((rv = ledger_log_root(s->log, txn, total, &got)) != GH_OK) {
		snprintf(why, cap, "transparency log root unreadable");
		return (rv);
	}
	if (memcmp(got.b, root.b, 32) != 0) {
		snprintf(why, cap,
		    "transparency log root differs from the "
		    "replay");
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

/* Hash of every key and value of one database, in key order. */
static int
ledger_db_hash(MDB_txn *txn, MDB_dbi dbi, gh_hash *out)
{
	ledger_dbs d;

	memset(&d, 0, sizeof(d));
	d.objects = dbi;
	return (ledger_state_hash_txn(txn, &d, out));
}

/* A scratch environment for the replay, removed by ledger_scratch_close. */
typedef struct {
	char       dir[PATH_MAX];
	MDB_env   *env;
	MDB_txn   *txn;
	ledger_dbs db;
} ledger_scratch;

static int
ledger_scratch_begin(ledger_scratch *x)
{
	int rc;

	if ((rc = mdb_txn_begin(x->env, NULL, 0, &x->txn)) != 0
	    || (rc = mdb_dbi_open(
	            x->txn, "objects", MDB_CREATE, &x->db.objects))
	        != 0
	    || (rc = mdb_dbi_open(x->txn, "chains", MDB_CREATE, &x->db.chains))
	        != 0) {
		return (ledger_mdb_err(rc));
	}
	return (GH_OK);
}

static int
ledger_scratch_open(ledger_store *s, ledger_scratch *x)
{
	const char *tmp = getenv("TMPDIR");
	MDB_envinfo info;
	int         rc;

	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "%s/gh-verify-XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(x->dir) == NULL) {
		x->dir[0] = '\0';
		return (gh_err_from_errno(errno));
	}
	if ((rc = mdb_env_info(s->env, &info)) != 0
	    || (rc = mdb_env_create(&x->env)) != 0
	    || (rc = mdb_env_set_maxdbs(x->env, 4)) != 0
	    || (rc = mdb_env_set_mapsize(x->env, info.me_mapsize)) != 0
	    || (rc = mdb_env_open(x->env, x->dir,
	            MDB_NOTLS | MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP,
	            0600))
	        != 0) {
		return (ledger_mdb_err(rc));
	}
	return (ledger_scratch_begin(x));
}

static void
ledger_scratch_close(ledger_scratch *x)
{
	char path[PATH_MAX + 16];

	if (x->txn != NULL) {
		mdb_txn_abort(x->txn);
	}
	if (x->env != NULL) {
		mdb_env_close(x->env);
	}
	if (x->dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/data.mdb", x->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/lock.mdb", x->dir);
		unlink(path);
		rmdir(x->dir);
	}
	memset(x, 0, sizeof(*x));
}

/* Replay commits its scratch state this often (LMDB bounds the pages
 * one transaction may dirty). */
#define LEDGER_VERIFY_COMMIT 4096

int
ledger_store_verify(ledger_store *s, uint64_t *pos, char *why, size_t cap)
{
	MDB_txn       *txn = NULL; /* read: the store as it is */
	MDB_cursor    *cur = NULL;
	MDB_val        k, v, ek, ev;
	ledger_cert   *c = NULL;
	ledger_scratch x;
	gh_hash        stored, replayed, sc, rch;
	uint64_t       i = 0, total = 0;
	MDB_stat       st;
	int            rc, rv;

	memset(&x, 0, sizeof(x));
	*pos = UINT64_MAX;
	snprintf(why, cap, "ok");
	if ((c = malloc(sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		rv = ledger_mdb_err(rc);
		snprintf(why, cap, "cannot begin a transaction");
		goto out;
	}
	if ((rv = ledger_state_hash_txn(txn, &s->db, &stored)) != GH_OK
	    || (rv = ledger_db_hash(txn, s->db.chains, &sc)) != GH_OK) {
		snprintf(why, cap, "objects or chain index unreadable");
		goto out;
	}
	if ((rv = ledger_invariants_txn(txn, &s->db, why, cap)) != GH_OK) {
		if (rv != GH_ECORRUPT || why[0] == '\0') {
			snprintf(why, cap, "stored state damaged");
		}
		goto out;
	}
	if ((rc = mdb_stat(txn, s->db.applied, &st)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	total = st.ms_entries;
	/* The replay writes into a scratch environment: the store is only
	 * read, and a node may keep writing meanwhile. */
	if ((rv = ledger_scratch_open(s, &x)) != GH_OK) {
		snprintf(why, cap,
		    "cannot create a scratch store for the "
		    "replay");
		goto out;
	}
	if ((rc = mdb_cursor_open(txn, s->db.applied, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), i++) {
		*pos = i;
		if (k.mv_size != 8 || gh_be64_get(k.mv_data) != i
		    || v.mv_size != 32) {
			rv = GH_ECORRUPT;
			snprintf(why, cap, "applied index damaged");
			goto out;
		}
		ek = v;
		if ((rc = mdb_get(txn, s->db.entries, &ek, &ev)) != 0) {
			rv = GH_ECORRUPT;
			snprintf(why, cap,
			    "entry missing from the entries "
			    "database");
			goto out;
		}
		if ((rv = ledger_cert_decode(ev.mv_data, ev.mv_size, c))
		    != GH_OK) {
			snprintf(why, cap, "certificate does not decode");
			rv = GH_ECORRUPT;
			goto out;
		}
		if (memcmp(c->hash.b, v.mv_data, 32) != 0) {
			rv = GH_ECORRUPT;
			snprintf(why, cap, "entry stored under another hash");
			goto out;
		}
		if ((rv = ledger_cert_verify(&s->g, c)) != GH_OK) {
			snprintf(why, cap, "certificate of %s entry rejected",
			    ledger_kind_name(c->entry.kind));
			goto out;
		}
		if ((rv = ledger_rules_apply(
		         x.txn, &x.db, &s->g, &s->netid, &c->entry, &c->hash))
		    != GH_OK) {
			snprintf(why, cap,
			    "%s entry (seq %llu) breaks the rules",
			    ledger_kind_name(c->entry.kind),
			    (unsigned long long) c->entry.seq);
			goto out;
		}
		if ((total <= 4096 || i % 256 == 0 || i + 1 == total)
		    && (rv = ledger_invariants_txn(x.txn, &x.db, why, cap))
		        != GH_OK) {
			goto out;
		}
		if ((i + 1) % LEDGER_VERIFY_COMMIT == 0) {
			rc    = mdb_txn_commit(x.txn);
			x.txn = NULL;
			if (rc != 0
			    || (rv = ledger_scratch_begin(&x)) != GH_OK) {
				rv = rc != 0 ? ledger_mdb_err(rc) : rv;
				snprintf(
				    why, cap, "scratch store for the replay");
				goto out;
			}
		}
	}
	if (rc != MDB_NOTFOUND) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	*pos = UINT64_MAX;
	if ((rv = ledger_state_hash_txn(x.txn, &x.db, &replayed)) != GH_OK
	    || (rv = ledger_db_hash(x.txn, x.db.chains, &rch)) != GH_OK) {
		goto out;
	}
	if (memcmp(stored.b, replayed.b, 32) != 0) {
		rv = GH_ECORRUPT;
		snprintf(why, cap, "stored state differs from the replay");
		goto out;
	}
	if (memcmp(sc.b, rch.b, 32) != 0) {
		rv = GH_ECORRUPT;
		snprintf(why, cap, "chain index differs from the replay");
		goto out;
	}
	if ((rv = ledger_verify_log(s, txn, total, pos, why, cap)) != GH_OK) {
		goto out;
	}
	if ((rc = mdb_stat(txn, s->db.entries, &st)) != 0
	    || st.ms_entries != total) {
		rv = GH_ECORRUPT;
		snprintf(why, cap, "entries and applied index disagree");
		goto out;
	}
	/* Pending certificates and equivocation proofs must verify too. */
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = mdb_cursor_open(txn, s->db.pending, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (ledger_cert_decode(v.mv_data, v.mv_size, c) != GH_OK
		    || k.mv_size != 32 || memcmp(c->hash.b, k.mv_data, 32) != 0
		    || ledger_cert_verify(&s->g, c) != GH_OK) {
			rv = GH_ECORRUPT;
			snprintf(why, cap, "a pending certificate is invalid");
			goto out;
		}
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = mdb_cursor_open(txn, s->db.equivs, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *a, *b;
		size_t         an, bn;
		if (ledger_equiv_decode(v.mv_data, v.mv_size, &a, &an, &b, &bn)
		        != GH_OK
		    || ledger_equiv_verify(&s->netid, a, an, b, bn, NULL)
		        != GH_OK) {
			rv = GH_ECORRUPT;
			snprintf(why, cap, "an equivocation proof is invalid");
			goto out;
		}
	}
	rv = GH_OK;
	snprintf(
	    why, cap, "ok: %llu entries replayed", (unsigned long long) total);
out:
	mdb_cursor_close(cur);
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	ledger_scratch_close(&x);
	free(c);
	return (rv);
}

int
ledger_store_certify(ledger_store *s, gh_ed_key *const *validators, size_t nv,
    const ledger_entry *e, uint64_t now, ledger_cert *out)
{
	ledger_vote *votes = NULL;
	uint8_t     *p     = NULL;
	size_t       n = 0, got = 0;
	int          rv, first  = GH_OK;

	memset(out, 0, sizeof(*out));
	if ((rv = ledger_entry_encode(e, &p, &n)) != GH_OK) {
		return (rv);
	}
	if ((votes = calloc(nv ? nv : 1, sizeof(*votes))) == NULL) {
		free(p);
		return (GH_ENOMEM);
	}
	for (size_t i = 0; i < nv; i++) {
		rv = ledger_store_vote(
		    s, validators[i], p, n, now, &votes[got]);
		if (rv == GH_OK) {
			got++;
		} else if (first == GH_OK) {
			first = rv;
		}
	}
	rv = ledger_cert_build(&s->g, e, votes, got, out);
	if (rv == GH_EQUORUM && first != GH_OK) {
		rv = first;
	}
	free(votes);
	free(p);
	return (rv);
}

int
ledger_store_has(ledger_store *s, const gh_hash *entry)
{
	MDB_txn *txn = NULL;
	MDB_val  k, v;
	int      rc, rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	k.mv_size = 32;
	k.mv_data = (void *) entry->b;
	rc        = mdb_get(txn, s->db.entries, &k, &v);
	if (rc == MDB_NOTFOUND) {
		rc = mdb_get(txn, s->db.pending, &k, &v);
		rv = rc == MDB_SUCCESS ? GH_EPENDING : ledger_mdb_err(rc);
	} else {
		rv = ledger_mdb_err(rc);
	}
	mdb_txn_abort(txn);
	return (rv);
}

typedef struct {
	const uint8_t *p;
	size_t         n;
	ledger_objver  obj;
} ledger_equiv_job;

static int
ledger_equiv_fn(ledger_store *s, MDB_txn *txn, void *arg)
{
	ledger_equiv_job *j = arg;
	uint8_t           kb[LEDGER_OBJKEY_LEN];
	MDB_val           k, v;
	int               rc;

	ledger_objkey(j->obj.type, j->obj.id.b, kb);
	k.mv_size = sizeof(kb);
	k.mv_data = kb;
	v.mv_size = j->n;
	v.mv_data = (void *) j->p;
	rc        = mdb_put(txn, s->db.equivs, &k, &v, MDB_NOOVERWRITE);
	return (rc == MDB_KEYEXIST ? GH_OK : ledger_mdb_err(rc));
}

int
ledger_store_equiv_add(ledger_store *s, const uint8_t *p, size_t n)
{
	ledger_equiv_job j;
	const uint8_t   *a, *b;
	size_t           an, bn;
	int              rv;

	memset(&j, 0, sizeof(j));
	if ((rv = ledger_equiv_decode(p, n, &a, &an, &b, &bn)) != GH_OK) {
		return (rv);
	}
	if ((rv = ledger_equiv_verify(&s->netid, a, an, b, bn, &j.obj))
	    != GH_OK) {
		return (rv);
	}
	j.p = p;
	j.n = n;
	return (ledger_writer_run(s, ledger_equiv_fn, &j));
}

int
ledger_store_equivs(ledger_store *s,
    int (*fn)(void *arg, const ledger_objver *obj, const uint8_t *p, size_t n),
    void *arg)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	int         rc, rv;

	if ((rv = ledger_rd_begin(s, &txn)) != GH_OK) {
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, s->db.equivs, &cur)) != 0) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *a, *b;
		size_t         an, bn;
		ledger_objver  ov;
		if (ledger_equiv_decode(v.mv_data, v.mv_size, &a, &an, &b, &bn)
		        != GH_OK
		    || ledger_equiv_verify(&s->netid, a, an, b, bn, &ov)
		        != GH_OK) {
			rv = GH_ECORRUPT;
			goto out;
		}
		if (fn(arg, &ov, v.mv_data, v.mv_size) != 0) {
			break;
		}
	}
	rv = GH_OK;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (rv);
}

/* ------------------------------------------------------------------ */
/* Accessors for ledger/query.c (private: ledger/priv.h). */

MDB_env *
ledger_store_env(ledger_store *s)
{
	return (s->env);
}

const ledger_dbs *
ledger_store_dbs(const ledger_store *s)
{
	return (&s->db);
}

ledger_log *
ledger_store_log(ledger_store *s)
{
	return (s->log);
}
