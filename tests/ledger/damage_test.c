/* damage_test.c - a store whose bytes were damaged gives an error that
 * names what is wrong, never a crash. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ledger/priv.h"
#include "tests/harness.h"
#include "tests/ledger/fixture.h"

/* Builds a small store in dir and closes it. */
static int
build_store(const char *dir)
{
	fx  f;
	int rv;

	if ((rv = fx_genesis(&f, 4)) != GH_OK
	    || (rv = fx_open(&f, dir)) != GH_OK
	    || (rv = fx_mint(&f, &f.pub[0], 1000)) != GH_OK
	    || (rv = fx_transfer(&f, 0, &f.pub[1], 10)) != GH_OK
	    || (rv = fx_transfer(&f, 1, &f.pub[2], 5)) != GH_OK) {
		fx_free(&f);
		return (rv);
	}
	fx_free(&f);
	return (GH_OK);
}

/* Replaces the value of one key (first in db, or the given key) with
 * val[0..n), or flips byte `flip` of it when val is NULL. */
static int
poke(const char *dir, const char *dbname, const void *key, size_t klen,
    const void *val, size_t n, long flip)
{
	MDB_env    *env = NULL;
	MDB_txn    *txn = NULL;
	MDB_dbi     dbi;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	char        path[512];
	uint8_t     buf[4096];
	int         rc;

	snprintf(path, sizeof(path), "%s/ledger", dir);
	if ((rc = mdb_env_create(&env)) != 0
	    || (rc = mdb_env_set_maxdbs(env, 64)) != 0
	    || (rc = mdb_env_open(env, path, MDB_NOTLS, 0600)) != 0
	    || (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0
	    || (rc = mdb_dbi_open(txn, dbname, 0, &dbi)) != 0
	    || (rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		goto out;
	}
	if (key != NULL) {
		k.mv_size = klen;
		k.mv_data = (void *) key;
		rc        = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	if (rc != 0) {
		goto out;
	}
	if (val == NULL) {
		if (v.mv_size > sizeof(buf) || (size_t) flip >= v.mv_size) {
			rc = EINVAL;
			goto out;
		}
		memcpy(buf, v.mv_data, v.mv_size);
		buf[flip] ^= 0x01;
		val = buf;
		n   = v.mv_size;
	}
	{
		MDB_val nv = { n, (void *) val };
		rc         = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
	}
out:
	mdb_cursor_close(cur);
	if (txn != NULL) {
		if (rc == 0) {
			rc = mdb_txn_commit(txn);
		} else {
			mdb_txn_abort(txn);
		}
	}
	mdb_env_close(env);
	return (rc);
}

TEST(ledger_damage_object_value)
{
	const char *dir = th_tmpdir();
	fx          f;
	uint64_t    pos;
	char        why[256];
	uint8_t     junk[3] = { 1, 2, 3 };
	uint8_t     key[33];

	CHECK_OK(build_store(dir));
	CHECK_OK(fx_genesis(&f, 4));
	ledger_objkey(LEDGER_OBJ_ACCOUNT, f.pub[1].b, key);
	CHECK_EQ(poke(dir, "objects", key, sizeof(key), junk, 3, 0), 0);
	CHECK_OK(fx_open(&f, dir));
	{
		ledger_account a;
		CHECK_ERR(
		    ledger_store_account(f.s, f.pub[1].b, 0, &a), GH_ECORRUPT);
	}
	CHECK_ERR(
	    ledger_store_verify(f.s, &pos, why, sizeof(why)), GH_ECORRUPT);
	CHECK(strlen(why) > 0);
	fx_free(&f);
}

TEST(ledger_damage_balance_changed)
{
	const char *dir = th_tmpdir();
	fx          f;
	uint64_t    pos;
	char        why[256];
	uint8_t     key[33];

	CHECK_OK(build_store(dir));
	CHECK_OK(fx_genesis(&f, 4));
	/* One bit of a balance: the credits no longer add up. */
	ledger_objkey(LEDGER_OBJ_ACCOUNT, f.pub[1].b, key);
	CHECK_EQ(poke(dir, "objects", key, sizeof(key), NULL, 0, 47), 0);
	CHECK_OK(fx_open(&f, dir));
	CHECK_ERR(
	    ledger_store_verify(f.s, &pos, why, sizeof(why)), GH_ECORRUPT);
	CHECK(strstr(why, "conserved") != NULL);
	fx_free(&f);
}

TEST(ledger_damage_certificate_names_position)
{
	const char *dir = th_tmpdir();
	fx          f;
	uint64_t    pos;
	char        why[256];
	uint8_t     pk[8];
	MDB_val     v;
	uint8_t     hash[32];

	CHECK_OK(build_store(dir));
	/* The entry applied second: flip a byte of a vote signature. */
	(void) v;
	{
		MDB_env *env = NULL;
		MDB_txn *txn = NULL;
		MDB_dbi  dbi;
		MDB_val  k, val;
		char     path[512];
		snprintf(path, sizeof(path), "%s/ledger", dir);
		CHECK(mdb_env_create(&env) == 0);
		CHECK(mdb_env_set_maxdbs(env, 64) == 0);
		CHECK(mdb_env_open(env, path, MDB_NOTLS | MDB_RDONLY, 0600)
		    == 0);
		CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
		CHECK(mdb_dbi_open(txn, "applied", 0, &dbi) == 0);
		gh_be64_put(pk, 1);
		k.mv_size = 8;
		k.mv_data = pk;
		CHECK(mdb_get(txn, dbi, &k, &val) == 0);
		memcpy(hash, val.mv_data, 32);
		mdb_txn_abort(txn);
		mdb_env_close(env);
	}
	/* The certificate's last byte is inside the last vote's
	 * signature. */
	{
		MDB_env *env = NULL;
		MDB_txn *txn = NULL;
		MDB_dbi  dbi;
		MDB_val  k, val;
		char     path[512];
		size_t   len;
		snprintf(path, sizeof(path), "%s/ledger", dir);
		CHECK(mdb_env_create(&env) == 0);
		CHECK(mdb_env_set_maxdbs(env, 64) == 0);
		CHECK(mdb_env_open(env, path, MDB_NOTLS | MDB_RDONLY, 0600)
		    == 0);
		CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
		CHECK(mdb_dbi_open(txn, "entries", 0, &dbi) == 0);
		k.mv_size = 32;
		k.mv_data = hash;
		CHECK(mdb_get(txn, dbi, &k, &val) == 0);
		len = val.mv_size;
		mdb_txn_abort(txn);
		mdb_env_close(env);
		CHECK_EQ(
		    poke(dir, "entries", hash, 32, NULL, 0, (long) len - 1),
		    0);
	}
	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, dir));
	CHECK_ERR(
	    ledger_store_verify(f.s, &pos, why, sizeof(why)), GH_EBADSIG);
	CHECK_EQ(pos, 1);
	CHECK(strstr(why, "certificate") != NULL);
	fx_free(&f);
}

TEST(ledger_damage_file_header_and_truncation)
{
	const char *dir = th_tmpdir();
	fx          f;
	char        path[512];
	uint8_t     junk[8192];
	int         fd;

	CHECK_OK(build_store(dir));
	CHECK_OK(fx_genesis(&f, 4));
	snprintf(path, sizeof(path), "%s/ledger/data.mdb", dir);
	/* Both meta pages overwritten. */
	memset(junk, 0xa5, sizeof(junk));
	fd = open(path, O_WRONLY);
	CHECK(fd >= 0);
	CHECK(pwrite(fd, junk, sizeof(junk), 0) == (ssize_t) sizeof(junk));
	close(fd);
	{
		int rv = fx_open(&f, dir);
		CHECK(rv == GH_ECORRUPT || rv == GH_EIO);
	}
	/* A file cut short. */
	CHECK_OK(build_store(th_path(1, "b")));
	snprintf(path, sizeof(path), "%s/ledger/data.mdb", th_path(1, "b"));
	CHECK(truncate(path, 100) == 0);
	{
		int rv = fx_open(&f, th_path(1, "b"));
		CHECK(rv != GH_OK);
		CHECK(strlen(gh_strerror(rv)) > 0);
	}
	fx_free(&f);
}

TEST(ledger_damage_log_leaf_found_by_verify)
{
	const char *dir = th_tmpdir();
	fx          f;
	uint64_t    pos;
	char        why[256];
	uint8_t     key[9];

	CHECK_OK(build_store(dir));
	CHECK_OK(fx_genesis(&f, 4));
	CHECK_OK(fx_open(&f, dir));
	CHECK_OK(ledger_store_verify(f.s, &pos, why, sizeof(why)));
	ledger_store_close(f.s);
	f.s = NULL;
	/* Leaf 1 of the transparency log (level 0, index 1). */
	key[0] = 0;
	gh_be64_put(key + 1, 1);
	CHECK_EQ(poke(dir, "log_nodes", key, sizeof(key), NULL, 0, 5), 0);
	CHECK_OK(fx_open(&f, dir));
	CHECK_ERR(
	    ledger_store_verify(f.s, &pos, why, sizeof(why)), GH_ECORRUPT);
	CHECK(strstr(why, "transparency log") != NULL);
	CHECK_EQ(pos, 1);
	fx_free(&f);
}
