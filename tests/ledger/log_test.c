/*
 * log_test.c - the log store: appends, lookups, duplicates, a full map,
 * damaged stored bytes, and roots that survive SIGKILL during appends.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/log.h"
#include "tests/harness.h"

static void
entry_of(uint64_t i, gh_hash *e)
{
	uint8_t b[8];

	gh_be64_put(b, i);
	gh_sha256(b, 8, e->b);
}

/* Roots of every prefix, computed independently of the store with a
 * stack of complete subtrees (checked against the RFC reference in
 * merkle_test.c). */
typedef struct {
	ledger_mhash *roots; /* roots[n] for n <= have */
	uint64_t      have;
	uint64_t      cap;
	ledger_mhash  stack[64];
	unsigned      sp;
} ref_log;

static int
ref_extend(ref_log *r, uint64_t upto)
{
	if (r->roots == NULL) {
		r->cap   = 1024;
		r->roots = malloc(r->cap * sizeof(*r->roots));
		if (r->roots == NULL) {
			return (GH_ENOMEM);
		}
		gh_sha256("", 0, r->roots[0].b);
	}
	while (r->have < upto) {
		gh_hash      e;
		ledger_mhash acc;
		uint64_t     t;
		if (r->have + 1 >= r->cap) {
			ledger_mhash *n = realloc(
			    r->roots, 2 * r->cap * sizeof(*r->roots));
			if (n == NULL) {
				return (GH_ENOMEM);
			}
			r->roots = n;
			r->cap *= 2;
		}
		entry_of(r->have, &e);
		ledger_merkle_leaf(e.b, 32, &r->stack[r->sp++]);
		for (t = r->have + 1; (t & 1) == 0; t >>= 1) {
			ledger_merkle_node(&r->stack[r->sp - 2],
			    &r->stack[r->sp - 1], &r->stack[r->sp - 2]);
			r->sp--;
		}
		acc = r->stack[r->sp - 1];
		for (unsigned j = r->sp - 1; j-- > 0;) {
			ledger_merkle_node(&r->stack[j], &acc, &acc);
		}
		r->roots[++r->have] = acc;
	}
	return (GH_OK);
}

static int
append_range(ledger_logdb *db, uint64_t from, size_t count)
{
	gh_hash *b = calloc(count ? count : 1, sizeof(*b));
	uint64_t first;
	int      rv;

	if (b == NULL) {
		return (GH_ENOMEM);
	}
	for (size_t i = 0; i < count; i++) {
		entry_of(from + i, &b[i]);
	}
	rv = ledger_logdb_append(db, b, count, &first);
	if (rv == GH_OK && first != from) {
		rv = GH_EINTERNAL;
	}
	free(b);
	return (rv);
}

TEST(log_append_find_duplicates)
{
	ledger_logdb *db = NULL;
	ledger_mhash  h, lf;
	gh_hash       e, b[3];
	uint64_t      idx, size;
	ref_log       ref = { 0 };

	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 0, &db));
	CHECK_OK(ledger_logdb_size(db, &size));
	CHECK_EQ(size, 0);
	CHECK_OK(ledger_logdb_root(db, 0, &h));
	CHECK_OK(ref_extend(&ref, 0));
	CHECK_MEM(h.b, ref.roots[0].b, 32);
	CHECK_OK(append_range(db, 0, 10));
	for (uint64_t i = 0; i < 10; i++) {
		entry_of(i, &e);
		CHECK_OK(ledger_logdb_find(db, &e, &idx));
		CHECK_EQ(idx, i);
		CHECK_OK(ledger_logdb_leaf(db, i, &h));
		ledger_merkle_leaf(e.b, 32, &lf);
		CHECK_MEM(h.b, lf.b, 32);
	}
	entry_of(10, &e);
	CHECK_ERR(ledger_logdb_find(db, &e, &idx), GH_ENOENT);
	CHECK_ERR(ledger_logdb_leaf(db, 10, &h), GH_ENOENT);
	CHECK_ERR(ledger_logdb_root(db, 11, &h), GH_ENOENT);

	/* All or nothing: an entry already logged, or twice in a batch. */
	entry_of(10, &b[0]);
	entry_of(3, &b[1]);
	CHECK_ERR(ledger_logdb_append(db, b, 2, NULL), GH_EEXIST);
	entry_of(11, &b[1]);
	b[2] = b[0];
	CHECK_ERR(ledger_logdb_append(db, b, 3, NULL), GH_EEXIST);
	CHECK_OK(ledger_logdb_size(db, &size));
	CHECK_EQ(size, 10);
	CHECK_ERR(ledger_logdb_find(db, &b[0], &idx), GH_ENOENT);
	CHECK_OK(append_range(db, 10, 5));
	CHECK_OK(ref_extend(&ref, 15));
	for (uint64_t n = 0; n <= 15; n++) {
		CHECK_OK(ledger_logdb_root(db, n, &h));
		CHECK_MEM(h.b, ref.roots[n].b, 32);
	}
	/* Reopened, the same. */
	ledger_logdb_close(db);
	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 0, &db));
	CHECK_OK(ledger_logdb_size(db, &size));
	CHECK_EQ(size, 15);
	CHECK_OK(ledger_logdb_root(db, 15, &h));
	CHECK_MEM(h.b, ref.roots[15].b, 32);
	ledger_logdb_close(db);
	ledger_logdb_close(NULL);
	free(ref.roots);
}

TEST(log_map_full_is_a_clear_error)
{
	ledger_logdb *db = NULL;
	ledger_mhash  h;
	uint64_t      size = 0, before;
	ref_log       ref  = { 0 };
	int           rv   = GH_OK;

	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 1u << 20, &db));
	for (int i = 0; i < 1000 && rv == GH_OK; i++) {
		rv = append_range(db, size, 500);
		if (rv == GH_OK) {
			size += 500;
		}
	}
	CHECK_ERR(rv, GH_EFULL);
	CHECK(strstr(gh_strerror(rv), "full") != NULL);
	CHECK(size > 0);
	CHECK_OK(ledger_logdb_size(db, &before));
	CHECK_EQ(before, size);
	CHECK_OK(ref_extend(&ref, size));
	for (uint64_t n = 0; n <= size; n += 7) {
		CHECK_OK(ledger_logdb_root(db, n, &h));
		CHECK_MEM(h.b, ref.roots[n].b, 32);
	}
	ledger_logdb_close(db);
	/* A larger map takes the log further. */
	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 8u << 20, &db));
	CHECK_OK(append_range(db, size, 500));
	CHECK_OK(ref_extend(&ref, size + 500));
	CHECK_OK(ledger_logdb_root(db, size + 500, &h));
	CHECK_MEM(h.b, ref.roots[size + 500].b, 32);
	ledger_logdb_close(db);
	free(ref.roots);
}

/* Writes raw bytes under a key of one of the log's databases. */
static int
poke(const char *dir, const char *dbname, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi  dbi;
	MDB_val  k = { klen, (void *) key }, v = { vlen, (void *) val };
	int      rc;

	if ((rc = mdb_env_create(&env)) == 0
	    && (rc = mdb_env_set_maxdbs(env, 32)) == 0
	    && (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)) == 0
	    && (rc = mdb_txn_begin(env, NULL, 0, &txn)) == 0
	    && (rc = mdb_dbi_open(txn, dbname, 0, &dbi)) == 0) {
		rc = val != NULL ? mdb_put(txn, dbi, &k, &v, 0)
		                 : mdb_del(txn, dbi, &k, NULL);
		if (rc == 0) {
			rc  = mdb_txn_commit(txn);
			txn = NULL;
		}
	}
	if (txn != NULL) {
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	return (rc);
}

TEST(log_damaged_bytes_give_errors)
{
	const char        *dir = th_path(0, "ledger");
	ledger_logdb      *db  = NULL;
	ledger_mhash       h;
	ledger_inclusion   ip;
	ledger_consistency cp;
	ledger_checkpoint  cpt, *cps = NULL;
	ledger_evidence   *evs = NULL;
	gh_hash            e;
	uint8_t            key[9], bad[3] = { 1, 2, 3 }, big[8];
	uint64_t           idx;
	size_t             n;
	gh_ed_pub          v = { { 9 } };

	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_OK(append_range(db, 0, 100));
	ledger_logdb_close(db);
	db = NULL;

	/* A leaf hash of the wrong length. */
	key[0] = 0;
	gh_be64_put(key + 1, 5);
	CHECK(poke(dir, "log_nodes", key, 9, bad, 3) == 0);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_ERR(ledger_logdb_inclusion(db, 4, 100, &ip), GH_ECORRUPT);
	CHECK_ERR(ledger_logdb_leaf(db, 5, &h), GH_ECORRUPT);
	CHECK_OK(ledger_logdb_root(db, 100, &h)); /* does not need leaf 5 */
	ledger_logdb_close(db);

	/* A missing interior node. */
	key[0] = 3;
	gh_be64_put(key + 1, 9); /* leaves 72..79 */
	CHECK(poke(dir, "log_nodes", key, 9, NULL, 0) == 0);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_ERR(ledger_logdb_consistency(db, 72, 100, &cp), GH_ECORRUPT);
	CHECK_ERR(ledger_logdb_inclusion(db, 70, 80, &ip), GH_ECORRUPT);
	CHECK_OK(ledger_logdb_root(db, 80, &h)); /* uses the parent */
	CHECK_ERR(ledger_logdb_inclusion(db, 70, 100, &ip), GH_ECORRUPT);
	CHECK_ERR(append_range(db, 100, 1), GH_OK); /* 100 needs no sibling */
	ledger_logdb_close(db);

	/* The index of an entry, damaged. */
	entry_of(7, &e);
	ledger_merkle_leaf(e.b, 32, &h);
	CHECK(poke(dir, "log_index", h.b, 32, bad, 3) == 0);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_ERR(ledger_logdb_find(db, &e, &idx), GH_ECORRUPT);
	ledger_logdb_close(db);

	/* Checkpoint and evidence records. */
	CHECK(poke(dir, "log_checkpoints", v.b, 32, bad, 3) == 0);
	CHECK(poke(dir, "log_evidence", v.b, 32, bad, 2) == 0);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_ERR(ledger_logdb_checkpoint_get(db, &v, &cpt), GH_ECORRUPT);
	CHECK_ERR(ledger_logdb_checkpoints(db, &cps, &n), GH_ECORRUPT);
	CHECK(cps == NULL && n == 0);
	CHECK_ERR(ledger_logdb_evidence(db, &evs, &n), GH_ECORRUPT);
	CHECK(evs == NULL && n == 0);
	ledger_logdb_close(db);

	/* The size: malformed, then beyond the stored nodes (checked when
	 * the log is opened, and on each read). */
	CHECK(poke(dir, "log_meta", "size", 4, bad, 3) == 0);
	CHECK_ERR(ledger_logdb_open(dir, 0, &db), GH_ECORRUPT);
	CHECK(db == NULL);
	gh_be64_put(big, 1000000000000ULL);
	CHECK(poke(dir, "log_meta", "size", 4, big, 8) == 0);
	CHECK_ERR(ledger_logdb_open(dir, 0, &db), GH_ECORRUPT);
	{
		MDB_env    *env = NULL;
		MDB_txn    *txn = NULL;
		ledger_log *log = NULL;
		CHECK(mdb_env_create(&env) == 0);
		CHECK(mdb_env_set_maxdbs(env, 32) == 0);
		CHECK(mdb_env_open(env, dir, MDB_NOTLS, 0600) == 0);
		CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
		CHECK_ERR(ledger_log_open(txn, &log), GH_ECORRUPT);
		mdb_txn_abort(txn);
		mdb_env_close(env);
	}
	gh_be64_put(big, 101);
	CHECK(poke(dir, "log_meta", "size", 4, big, 8) == 0);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	ledger_logdb_close(db);
	db = NULL;

	/* An unknown format. */
	CHECK(poke(dir, "log_meta", "format", 6, bad + 1, 1) == 0);
	CHECK_ERR(ledger_logdb_open(dir, 0, &db), GH_ECORRUPT);
	CHECK(db == NULL);
}

TEST(log_foreign_file_is_refused)
{
	const char   *dir = th_path(0, "ledger");
	ledger_logdb *db  = NULL;
	uint8_t       junk[16384];
	uint64_t      s = 5;
	char          path[4200];

	CHECK_OK(gh_mkdir_p(dir, 0700));
	for (size_t i = 0; i < sizeof(junk); i++) {
		junk[i] = (uint8_t) th_rand(&s);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	CHECK_OK(gh_file_write_atomic(path, junk, sizeof(junk), 0600));
	CHECK(ledger_logdb_open(dir, 0, &db) != GH_OK);
	CHECK(db == NULL);
}

/* The child of log_survives_sigkill: appends batches of the fixed entry
 * sequence for ever, writing each acknowledged size to fd. */
static void
crash_child(const char *dir, int fd, uint64_t seed)
{
	ledger_logdb *db = NULL;
	uint64_t      size;
	uint8_t       b[8];

	if (ledger_logdb_open(dir, 0, &db) != GH_OK
	    || ledger_logdb_size(db, &size) != GH_OK) {
		_exit(3);
	}
	for (;;) {
		size_t c = 1 + (size_t) (th_rand(&seed) % 300);
		if (append_range(db, size, c) != GH_OK) {
			_exit(4);
		}
		size += c;
		gh_be64_put(b, size);
		if (write(fd, b, 8) != 8) {
			_exit(5);
		}
	}
}

TEST_T(log_survives_sigkill, 400)
{
	const char *dir = th_path(0, "ledger");
	uint64_t    rnd = 2026, acked = 0, size = 0;
	ref_log     ref    = { 0 };
	int         rounds = 0, beyond = 0;

	CHECK_OK(gh_mkdir_p(dir, 0700));
	for (int round = 0; round < 24; round++) {
		int           fds[2], st;
		pid_t         pid;
		uint64_t      end;
		uint8_t       b[8];
		ledger_logdb *db = NULL;
		ledger_mhash  h;

		CHECK(pipe(fds) == 0);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			crash_child(dir, fds[1], rnd + (uint64_t) round);
			_exit(0);
		}
		close(fds[1]);
		/* Let it run a random while, reading its acknowledgements. */
		end = gh_mono_ns() + (5 + th_rand(&rnd) % 60) * 1000000ULL;
		for (;;) {
			uint64_t      now = gh_mono_ns();
			struct pollfd p   = { fds[0], POLLIN, 0 };
			if (now >= end) {
				break;
			}
			if (poll(&p, 1, (int) ((end - now) / 1000000 + 1)) > 0
			    && read(fds[0], b, 8) == 8) {
				uint64_t a = gh_be64_get(b);
				acked      = a > acked ? a : acked;
			}
		}
		CHECK(kill(pid, SIGKILL) == 0);
		CHECK(waitpid(pid, &st, 0) == pid);
		CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
		/* Whatever it acknowledged before it died. */
		while (read(fds[0], b, 8) == 8) {
			uint64_t a = gh_be64_get(b);
			acked      = a > acked ? a : acked;
		}
		close(fds[0]);
		rounds++;

		CHECK_OK(ledger_logdb_open(dir, 0, &db));
		CHECK_OK(ledger_logdb_size(db, &size));
		CHECK(size >= acked);
		beyond += size > acked;
		CHECK_OK(ref_extend(&ref, size));
		for (uint64_t n = 0; n <= size; n++) {
			CHECK_OK(ledger_logdb_root(db, n, &h));
			CHECK_MEM(h.b, ref.roots[n].b, 32);
		}
		if (size > 0) {
			ledger_inclusion ip;
			gh_hash          e;
			ledger_mhash     lf;
			uint64_t         m = th_rand(&rnd) % size;
			entry_of(m, &e);
			ledger_merkle_leaf(e.b, 32, &lf);
			CHECK_OK(ledger_logdb_inclusion(db, m, size, &ip));
			CHECK_OK(ledger_inclusion_verify(
			    &ip, &lf, &ref.roots[size]));
		}
		ledger_logdb_close(db);
	}
	CHECK(rounds >= 20);
	CHECK(acked > 0);
	if (getenv("TH_VERBOSE") != NULL) {
		printf("    %d kills, %llu acknowledged, %llu durable, %d "
		       "rounds with unacknowledged commits\n",
		    rounds, (unsigned long long) acked,
		    (unsigned long long) size, beyond);
	}
	free(ref.roots);
}

/* `gpuhour ledger proof|consistency|evidence` on a store built here. */
TEST_T(log_cli_proof_check_consistency_evidence, 120)
{
	const char       *data = th_tmpdir();
	const char       *bin  = th_bin();
	char              dir[4200], e17[65], e45[65], vhex[65], ohex[65];
	char             *out = NULL;
	ledger_logdb     *db  = NULL;
	ledger_checkpoint cp, cp2;
	gh_ed_key        *k = NULL, *k2 = NULL;
	gh_ed_pub         pub;
	uint8_t           seed[32] = { 7 }, *f = NULL;
	size_t            fn;
	gh_hash           e;
	int               o;

	snprintf(dir, sizeof(dir), "%s/ledger", data);
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	CHECK_OK(append_range(db, 0, 50));
	CHECK_OK(gh_ed_key_from_seed(seed, &k));
	seed[0] = 8;
	CHECK_OK(gh_ed_key_from_seed(seed, &k2));
	memset(&cp, 0, sizeof(cp));
	cp.size = 40;
	cp.time = 1234;
	CHECK_OK(ledger_logdb_root(db, 40, &cp.root));
	ledger_checkpoint_sign(&cp, k);
	CHECK_OK(ledger_logdb_checkpoint_add(db, &cp, NULL, NULL, &o));
	ledger_logdb_close(db);
	db = NULL;
	gh_hex_encode(cp.validator.b, 32, vhex);
	gh_ed_key_pub(k2, &pub);
	gh_hex_encode(pub.b, 32, ohex);
	entry_of(17, &e);
	gh_hex_encode(e.b, 32, e17);
	entry_of(45, &e);
	gh_hex_encode(e.b, 32, e45);

	/* A signed proof, written, checked offline. */
	CHECK_EQ(th_sh(NULL, "%s ledger proof %s --data %s --out %s/p.bin",
	             bin, e17, data, data),
	    0);
	CHECK_EQ(
	    th_sh(&out, "%s ledger proof --check %s/p.bin", bin, data), 0);
	CHECK(strstr(out, "is entry 17 of the log of 40 entries") != NULL);
	CHECK(strstr(out, vhex) != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(NULL, "%s ledger proof --check %s/p.bin --validator %s",
	             bin, data, vhex),
	    0);
	CHECK_EQ(th_sh(NULL, "%s ledger proof --check %s/p.bin --validator %s",
	             bin, data, ohex),
	    4);
	/* Tampered: one byte of the path, then a truncation. */
	CHECK_OK(gh_file_read(th_path(1, "p.bin"), 1 << 16, &f, &fn));
	f[2 + 64 + 4 + 19 + 40] ^= 1;
	CHECK_OK(gh_file_write_atomic(th_path(1, "bad.bin"), f, fn, 0600));
	CHECK_EQ(
	    th_sh(&out, "%s ledger proof --check %s/bad.bin", bin, data), 5);
	CHECK(strstr(out, "does not verify") != NULL);
	free(out);
	out = NULL;
	CHECK_OK(gh_file_write_atomic(th_path(1, "bad.bin"), f, fn - 1, 0600));
	CHECK_EQ(
	    th_sh(NULL, "%s ledger proof --check %s/bad.bin", bin, data), 5);
	free(f);
	CHECK_EQ(
	    th_sh(NULL, "%s ledger proof --check %s/none.bin", bin, data), 3);

	/* Past the checkpoint: against the current root, unsigned; the JSON
	 * output is itself checkable. */
	CHECK_EQ(th_sh(NULL, "%s ledger proof %s --data %s --json >%s/p.json",
	             bin, e45, data, data),
	    0);
	CHECK_EQ(
	    th_sh(&out, "%s ledger proof --check %s/p.json", bin, data), 0);
	CHECK(strstr(out, "of the log of 50 entries") != NULL);
	CHECK(strstr(out, "not signed") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(
	    th_sh(NULL, "%s ledger proof --check %s/p.json --validator %s",
	        bin, data, vhex),
	    4);
	/* Unknown entry, bad entry, --size beyond the log. */
	entry_of(99, &e);
	gh_hex_encode(e.b, 32, e45);
	CHECK_EQ(
	    th_sh(NULL, "%s ledger proof %s --data %s", bin, e45, data), 3);
	CHECK_EQ(th_sh(NULL, "%s ledger proof 12 --data %s", bin, data), 2);
	CHECK_EQ(th_sh(NULL, "%s ledger proof %s --size 60 --data %s", bin,
	             e17, data),
	    3);
	CHECK_EQ(th_sh(&out, "%s ledger proof %s --size 30 --data %s", bin,
	             e17, data),
	    0);
	CHECK(strstr(out, "size      30") != NULL);
	free(out);
	out = NULL;

	/* Consistency. */
	CHECK_EQ(th_sh(&out, "%s ledger consistency 10 50 --data %s --json",
	             bin, data),
	    0);
	CHECK(strstr(out, "\"first\": 10") != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(
	    th_sh(NULL, "%s ledger consistency 10 60 --data %s", bin, data),
	    3);
	CHECK_EQ(
	    th_sh(NULL, "%s ledger consistency 10 --data %s", bin, data), 2);
	CHECK_EQ(
	    th_sh(NULL, "%s ledger consistency 20 10 --data %s", bin, data),
	    2);

	/* Evidence: none, then a same-size fork. */
	CHECK_EQ(th_sh(&out, "%s ledger evidence --data %s", bin, data), 0);
	CHECK(strstr(out, "no evidence") != NULL);
	free(out);
	out = NULL;
	CHECK_OK(ledger_logdb_open(dir, 0, &db));
	cp2 = cp;
	cp2.root.b[0] ^= 0xff;
	ledger_checkpoint_sign(&cp2, k);
	CHECK_OK(ledger_logdb_checkpoint_add(db, &cp2, NULL, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_EVIDENCE);
	ledger_logdb_close(db);
	CHECK_EQ(
	    th_sh(&out, "%s ledger evidence --data %s --json", bin, data), 0);
	CHECK(strstr(out, "\"kind\": \"same-size\"") != NULL);
	CHECK(strstr(out, "\"valid\": true") != NULL);
	CHECK(strstr(out, vhex) != NULL);
	free(out);
	out = NULL;
	CHECK_EQ(th_sh(&out, "%s ledger checkpoints --data %s", bin, data), 0);
	CHECK(strstr(out, vhex) != NULL);
	free(out);
	/* --datadir, and the default $GPUHOUR_HOME/devnet. */
	CHECK_EQ(
	    th_sh(NULL, "%s ledger checkpoints --datadir %s", bin, data), 0);
	CHECK_EQ(th_sh(&out,
	             "mkdir -p %s/h && ln -s %s %s/h/devnet && "
	             "GPUHOUR_HOME=%s/h %s ledger checkpoints --json",
	             data, data, data, data, bin),
	    0);
	CHECK(strstr(out, vhex) != NULL);
	free(out);
	CHECK_EQ(th_sh(NULL, "%s ledger frobnicate --data %s", bin, data), 2);
	CHECK_EQ(
	    th_sh(NULL, "%s ledger evidence --data %s/nowhere", bin, data), 3);
	gh_ed_key_free(k);
	gh_ed_key_free(k2);
}
