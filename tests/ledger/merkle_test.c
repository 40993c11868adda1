/*
 * merkle_test.c - the log's tree hashing and both proof kinds against a
 * plain recursive implementation of RFC 6962 section 2.1 (MTH, PATH,
 * PROOF), the RFC test vectors, tampered proofs and the proof decoders.
 */
#include <stdlib.h>

#include "ledger/log.h"
#include "tests/harness.h"

/* ------------------------------------------------------------------ */
/* The reference: RFC 6962 2.1, written as the RFC states it. */

static uint64_t
ref_split(uint64_t n)
{
	uint64_t k = 1;

	while ((k << 1) < n) {
		k <<= 1;
	}
	return (k);
}

/* MTH(D[n]) over leaf hashes lh[0..n). */
static void
ref_mth(const ledger_mhash *lh, uint64_t n, ledger_mhash *out)
{
	ledger_mhash l, r;
	uint64_t     k;

	if (n == 0) {
		gh_sha256("", 0, out->b);
		return;
	}
	if (n == 1) {
		*out = lh[0];
		return;
	}
	k = ref_split(n);
	ref_mth(lh, k, &l);
	ref_mth(lh + k, n - k, &r);
	ledger_merkle_node(&l, &r, out);
}

/* PATH(m, D[n]); returns the number of hashes written to out. */
static uint32_t
ref_path(uint64_t m, const ledger_mhash *lh, uint64_t n, ledger_mhash *out)
{
	uint64_t k;
	uint32_t c;

	if (n <= 1) {
		return (0);
	}
	k = ref_split(n);
	if (m < k) {
		c = ref_path(m, lh, k, out);
		ref_mth(lh + k, n - k, &out[c]);
	} else {
		c = ref_path(m - k, lh + k, n - k, out);
		ref_mth(lh, k, &out[c]);
	}
	return (c + 1);
}

/* SUBPROOF(m, D[n], b). */
static uint32_t
ref_subproof(
    uint64_t m, const ledger_mhash *lh, uint64_t n, int b, ledger_mhash *out)
{
	uint64_t k;
	uint32_t c;

	if (m == n) {
		if (b) {
			return (0);
		}
		ref_mth(lh, n, &out[0]);
		return (1);
	}
	k = ref_split(n);
	if (m <= k) {
		c = ref_subproof(m, lh, k, b, out);
		ref_mth(lh + k, n - k, &out[c]);
	} else {
		c = ref_subproof(m - k, lh + k, n - k, 0, out);
		ref_mth(lh, k, &out[c]);
	}
	return (c + 1);
}

/* PROOF(m, D[n]) for 0 < m <= n; m == 0 is empty by our convention. */
static uint32_t
ref_proof(uint64_t m, const ledger_mhash *lh, uint64_t n, ledger_mhash *out)
{
	if (m == 0) {
		return (0);
	}
	return (ref_subproof(m, lh, n, 1, out));
}

/* ------------------------------------------------------------------ */
/* Helpers. */

static void
entry_of(uint64_t i, gh_hash *e)
{
	uint8_t b[8];

	gh_be64_put(b, i);
	gh_sha256(b, 8, e->b);
}

/* A logdb at path holding entries 0..n-1; fills lh (leaf hashes). */
static int
make_log(const char *path, uint64_t n, ledger_logdb **db, ledger_mhash *lh)
{
	gh_hash *batch = NULL;
	uint64_t done  = 0, first;
	int      rv;

	if ((rv = ledger_logdb_open(path, 0, db)) != GH_OK) {
		return (rv);
	}
	if ((batch = calloc(1000, sizeof(*batch))) == NULL) {
		return (GH_ENOMEM);
	}
	while (done < n) {
		size_t c = n - done < 1000 ? (size_t) (n - done) : 1000;
		for (size_t i = 0; i < c; i++) {
			entry_of(done + i, &batch[i]);
			ledger_merkle_leaf(batch[i].b, 32, &lh[done + i]);
		}
		if ((rv = ledger_logdb_append(*db, batch, c, &first))
		    != GH_OK) {
			break;
		}
		if (first != done) {
			rv = GH_EINTERNAL;
			break;
		}
		done += c;
	}
	free(batch);
	return (rv);
}

/* The store's proofs for (m, n) agree with the reference and verify. */
static int
check_inclusion(ledger_logdb *db, const ledger_mhash *lh, uint64_t m,
    uint64_t n, const ledger_mhash *root)
{
	ledger_inclusion p;
	ledger_mhash     ref[LEDGER_PROOF_MAX];
	uint32_t         c;

	if (ledger_logdb_inclusion(db, m, n, &p) != GH_OK) {
		return (0);
	}
	c = ref_path(m, lh, n, ref);
	if (p.n != c || p.index != m || p.size != n
	    || memcmp(p.path, ref, c * sizeof(ref[0])) != 0) {
		return (0);
	}
	return (ledger_inclusion_verify(&p, &lh[m], root) == GH_OK);
}

static int
check_consistency(ledger_logdb *db, const ledger_mhash *lh, uint64_t m,
    uint64_t n, const ledger_mhash *r1, const ledger_mhash *r2)
{
	ledger_consistency p;
	ledger_mhash       ref[LEDGER_PROOF_MAX];
	uint32_t           c;

	if (ledger_logdb_consistency(db, m, n, &p) != GH_OK) {
		return (0);
	}
	c = ref_proof(m, lh, n, ref);
	if (p.n != c || p.first != m || p.second != n
	    || memcmp(p.path, ref, c * sizeof(ref[0])) != 0) {
		return (0);
	}
	return (ledger_consistency_verify(&p, r1, r2) == GH_OK);
}

/* ------------------------------------------------------------------ */

static int
hexline(const char *s, uint8_t *out, size_t cap, size_t *n)
{
	size_t l = strlen(s);

	if (strcmp(s, "-") == 0) {
		*n = 0;
		return (GH_OK);
	}
	if (l % 2 != 0 || l / 2 > cap) {
		return (GH_EINVAL);
	}
	*n = l / 2;
	return (gh_hex_decode(s, out, l / 2));
}

TEST(merkle_rfc6962_vectors)
{
	char         path[4096], line[1024];
	FILE        *f;
	uint8_t      leaf[8][64];
	size_t       leaflen[8];
	ledger_mhash roots[9], incl[3], cons[4], lh[8], h;
	int          nleaf = 0, nroot = 0, have_i = 0, have_c = 0;
	MDB_env     *env = NULL;
	MDB_txn     *txn = NULL;
	ledger_log  *log = NULL;

	snprintf(path, sizeof(path), "%s/tests/vectors/rfc6962.txt", th_src());
	CHECK((f = fopen(path, "r")) != NULL);
	while (fgets(line, sizeof(line), f) != NULL) {
		char    *tok[8];
		int      nt = 0;
		unsigned a, b;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0') {
			continue;
		}
		memset(tok, 0, sizeof(tok));
		for (char *t = strtok(line, " "); t && nt < 8;
		     t       = strtok(NULL, " ")) {
			tok[nt++] = t;
		}
		if (nt == 0) {
			continue;
		}
		if (strcmp(tok[0], "leaf") == 0 && nt == 3) {
			a = (unsigned) atoi(tok[1]);
			CHECK(a == (unsigned) nleaf && a < 8);
			CHECK_OK(hexline(tok[2], leaf[a], 64, &leaflen[a]));
			nleaf++;
		} else if (strcmp(tok[0], "root") == 0 && nt == 3) {
			a = (unsigned) atoi(tok[1]);
			CHECK(a == (unsigned) nroot && a < 9);
			CHECK_OK(gh_hex_decode(tok[2], roots[a].b, 32));
			nroot++;
		} else if (strcmp(tok[0], "inclusion") == 0 && nt == 6) {
			a = (unsigned) atoi(tok[1]);
			b = (unsigned) atoi(tok[2]);
			CHECK(a == 2 && b == 8);
			for (int i = 0; i < 3; i++) {
				CHECK_OK(
				    gh_hex_decode(tok[3 + i], incl[i].b, 32));
			}
			have_i = 1;
		} else if (strcmp(tok[0], "consistency") == 0 && nt == 7) {
			a = (unsigned) atoi(tok[1]);
			b = (unsigned) atoi(tok[2]);
			CHECK(a == 3 && b == 8);
			for (int i = 0; i < 4; i++) {
				CHECK_OK(
				    gh_hex_decode(tok[3 + i], cons[i].b, 32));
			}
			have_c = 1;
		} else {
			CHECK(!"unknown line in rfc6962.txt");
		}
	}
	fclose(f);
	CHECK(nleaf == 8 && nroot == 9 && have_i && have_c);

	/* The reference reproduces the vectors. */
	for (int i = 0; i < 8; i++) {
		ledger_merkle_leaf(leaf[i], leaflen[i], &lh[i]);
	}
	for (int n = 0; n <= 8; n++) {
		ref_mth(lh, (uint64_t) n, &h);
		CHECK_MEM(h.b, roots[n].b, 32);
	}
	{
		ledger_mhash p[LEDGER_PROOF_MAX];
		CHECK_EQ(ref_path(2, lh, 8, p), 3);
		CHECK_MEM(p, incl, sizeof(incl));
		CHECK_EQ(ref_proof(3, lh, 8, p), 4);
		CHECK_MEM(p, cons, sizeof(cons));
	}

	/* So does the store, through the transaction-level API, with leaves
	 * of any length. */
	CHECK(mdb_env_create(&env) == 0);
	CHECK(mdb_env_set_maxdbs(env, 32) == 0);
	CHECK(mdb_env_open(env, th_tmpdir(), MDB_NOTLS, 0600) == 0);
	CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CHECK_OK(ledger_log_open(txn, &log));
	for (int i = 0; i < 8; i++) {
		uint64_t idx, sz;
		CHECK_OK(
		    ledger_log_append(log, txn, leaf[i], leaflen[i], &idx));
		CHECK_EQ(idx, i);
		CHECK_OK(ledger_log_size(log, txn, &sz));
		CHECK_EQ(sz, i + 1);
	}
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) == 0);
	for (int n = 0; n <= 8; n++) {
		CHECK_OK(ledger_log_root(log, txn, (uint64_t) n, &h));
		CHECK_MEM(h.b, roots[n].b, 32);
	}
	CHECK_ERR(ledger_log_root(log, txn, 9, &h), GH_ENOENT);
	{
		ledger_inclusion   ip;
		ledger_consistency cp;
		uint64_t           idx;
		CHECK_OK(ledger_log_inclusion(log, txn, 2, 8, &ip));
		CHECK_EQ(ip.n, 3);
		CHECK_MEM(ip.path, incl, sizeof(incl));
		CHECK_OK(ledger_inclusion_verify(&ip, &lh[2], &roots[8]));
		CHECK_OK(ledger_log_consistency(log, txn, 3, 8, &cp));
		CHECK_EQ(cp.n, 4);
		CHECK_MEM(cp.path, cons, sizeof(cons));
		CHECK_OK(ledger_consistency_verify(&cp, &roots[3], &roots[8]));
		CHECK_OK(ledger_log_find(log, txn, leaf[5], leaflen[5], &idx));
		CHECK_EQ(idx, 5);
		CHECK_OK(ledger_log_leaf(log, txn, 7, &h));
		CHECK_MEM(h.b, lh[7].b, 32);
		CHECK_ERR(ledger_log_leaf(log, txn, 8, &h), GH_ENOENT);
	}
	mdb_txn_abort(txn);
	ledger_log_close(log);
	mdb_env_close(env);
}

/* Every size 0..1100: roots, inclusion and consistency proofs agree with
 * the reference (exhaustively up to 64 leaves) and verify. */
TEST_T(merkle_every_size_matches_reference, 600)
{
	const uint64_t N   = 1100;
	ledger_mhash  *lh  = calloc(N, sizeof(*lh));
	ledger_mhash  *rt  = calloc(N + 1, sizeof(*rt));
	ledger_logdb  *db  = NULL;
	uint64_t       rnd = 42;

	CHECK(lh != NULL && rt != NULL);
	CHECK_OK(make_log(th_path(0, "db"), N, &db, lh));
	for (uint64_t n = 0; n <= N; n++) {
		ledger_mhash h;
		ref_mth(lh, n, &rt[n]);
		CHECK_OK(ledger_logdb_root(db, n, &h));
		CHECK_MEM(h.b, rt[n].b, 32);
	}
	for (uint64_t n = 1; n <= N; n++) {
		uint64_t ms[4] = { 0, n - 1, n / 2, th_rand(&rnd) % n };
		if (n <= 64) {
			for (uint64_t m = 0; m < n; m++) {
				CHECK(check_inclusion(db, lh, m, n, &rt[n]));
			}
		} else {
			for (int i = 0; i < 4; i++) {
				CHECK(
				    check_inclusion(db, lh, ms[i], n, &rt[n]));
			}
		}
	}
	for (uint64_t n = 0; n <= N; n++) {
		if (n <= 64) {
			for (uint64_t m = 0; m <= n; m++) {
				CHECK(check_consistency(
				    db, lh, m, n, &rt[m], &rt[n]));
			}
		} else {
			uint64_t ms[5]
			    = { 1, n - 1, n, th_rand(&rnd) % n, ref_split(n) };
			for (int i = 0; i < 5; i++) {
				CHECK(check_consistency(
				    db, lh, ms[i], n, &rt[ms[i]], &rt[n]));
			}
		}
	}
	ledger_logdb_close(db);
	free(lh);
	free(rt);
}

TEST_T(merkle_random_large_sizes, 600)
{
	const uint64_t N   = (1u << 16) + 4321;
	ledger_mhash  *lh  = calloc(N, sizeof(*lh));
	ledger_logdb  *db  = NULL;
	uint64_t       rnd = 7;

	CHECK(lh != NULL);
	CHECK_OK(make_log(th_path(0, "db"), N, &db, lh));
	for (int t = 0; t < 12; t++) {
		uint64_t n = t == 0 ? N : 1100 + th_rand(&rnd) % (N - 1100);
		uint64_t m = 1 + th_rand(&rnd) % (n - 1);
		ledger_mhash rn, rm, h;
		ref_mth(lh, n, &rn);
		ref_mth(lh, m, &rm);
		CHECK_OK(ledger_logdb_root(db, n, &h));
		CHECK_MEM(h.b, rn.b, 32);
		CHECK(check_inclusion(db, lh, th_rand(&rnd) % n, n, &rn));
		CHECK(check_inclusion(db, lh, n - 1, n, &rn));
		CHECK(check_consistency(db, lh, m, n, &rm, &rn));
	}
	ledger_logdb_close(db);
	free(lh);
}

/* Every tampered proof is rejected: one byte of any hash, a step
 * dropped or added, another index or size (checked against the root of
 * that size), another leaf or root. */
TEST_T(merkle_tampered_proofs_rejected, 600)
{
	const uint64_t N        = 300;
	ledger_mhash  *lh       = calloc(N, sizeof(*lh));
	ledger_mhash  *rt       = calloc(N + 1, sizeof(*rt));
	ledger_logdb  *db       = NULL;
	uint64_t       rnd      = 3;
	long           rejected = 0;

	CHECK(lh != NULL && rt != NULL);
	CHECK_OK(make_log(th_path(0, "db"), N, &db, lh));
	for (uint64_t n = 0; n <= N; n++) {
		ref_mth(lh, n, &rt[n]);
	}
	for (uint64_t n = 1; n <= N; n++) {
		uint64_t         m = th_rand(&rnd) % n;
		ledger_inclusion p, t;
		CHECK_OK(ledger_logdb_inclusion(db, m, n, &p));
		CHECK_OK(ledger_inclusion_verify(&p, &lh[m], &rt[n]));
		for (uint32_t i = 0; i < p.n; i++) {
			for (int byte = 0; byte < 32; byte += 7) {
				t = p;
				t.path[i].b[byte] ^= (uint8_t) (1u << (i % 8));
				CHECK_ERR(ledger_inclusion_verify(
				              &t, &lh[m], &rt[n]),
				    GH_EBADSIG);
				rejected++;
			}
		}
		if (p.n > 0) {
			t = p;
			t.n--; /* last step dropped */
			CHECK_ERR(ledger_inclusion_verify(&t, &lh[m], &rt[n]),
			    GH_EBADSIG);
			t = p;
			memmove(
			    t.path, t.path + 1, (t.n - 1) * sizeof(t.path[0]));
			t.n--; /* first step dropped */
			CHECK_ERR(ledger_inclusion_verify(&t, &lh[m], &rt[n]),
			    GH_EBADSIG);
			rejected += 2;
		}
		t           = p;
		t.path[t.n] = lh[0];
		t.n++; /* a step added */
		CHECK_ERR(
		    ledger_inclusion_verify(&t, &lh[m], &rt[n]), GH_EBADSIG);
		for (int d = -1; d <= 1; d += 2) {
			uint64_t mi = m + (uint64_t) d;
			uint64_t ni = n + (uint64_t) d;
			t           = p;
			t.index     = mi;
			if (mi < n) {
				CHECK_ERR(ledger_inclusion_verify(
				              &t, &lh[mi], &rt[n]),
				    GH_EBADSIG);
				CHECK_ERR(ledger_inclusion_verify(
				              &t, &lh[m], &rt[n]),
				    GH_EBADSIG);
			}
			t      = p;
			t.size = ni;
			if (ni > m && ni <= N) {
				CHECK_ERR(ledger_inclusion_verify(
				              &t, &lh[m], &rt[ni]),
				    GH_EBADSIG);
			}
			rejected += 3;
		}
		if (n > 1) {
			CHECK_ERR(ledger_inclusion_verify(
			              &p, &lh[(m + 1) % n], &rt[n]),
			    GH_EBADSIG);
			CHECK_ERR(
			    ledger_inclusion_verify(&p, &lh[m], &rt[n - 1]),
			    GH_EBADSIG);
		}
		t       = p;
		t.index = n; /* index beyond the size */
		CHECK_ERR(
		    ledger_inclusion_verify(&t, &lh[m], &rt[n]), GH_EBADSIG);
	}
	for (uint64_t n = 2; n <= N; n++) {
		uint64_t           m = 1 + th_rand(&rnd) % (n - 1);
		ledger_consistency p, t;
		CHECK_OK(ledger_logdb_consistency(db, m, n, &p));
		CHECK_OK(ledger_consistency_verify(&p, &rt[m], &rt[n]));
		for (uint32_t i = 0; i < p.n; i++) {
			for (int byte = 0; byte < 32; byte += 5) {
				t = p;
				t.path[i].b[byte] ^= 0x80;
				CHECK_ERR(ledger_consistency_verify(
				              &t, &rt[m], &rt[n]),
				    GH_EBADSIG);
				rejected++;
			}
		}
		t = p;
		t.n--;
		CHECK_ERR(
		    ledger_consistency_verify(&t, &rt[m], &rt[n]), GH_EBADSIG);
		t = p;
		memmove(t.path, t.path + 1, (t.n - 1) * sizeof(t.path[0]));
		t.n--;
		CHECK_ERR(
		    ledger_consistency_verify(&t, &rt[m], &rt[n]), GH_EBADSIG);
		t           = p;
		t.path[t.n] = rt[m];
		t.n++;
		CHECK_ERR(
		    ledger_consistency_verify(&t, &rt[m], &rt[n]), GH_EBADSIG);
		for (int d = -1; d <= 1; d += 2) {
			uint64_t mi = m + (uint64_t) d;
			uint64_t ni = n + (uint64_t) d;
			t           = p;
			t.first     = mi;
			if (mi >= 1 && mi < n) {
				CHECK_ERR(ledger_consistency_verify(
				              &t, &rt[mi], &rt[n]),
				    GH_EBADSIG);
			}
			t        = p;
			t.second = ni;
			if (ni > m && ni <= N) {
				CHECK_ERR(ledger_consistency_verify(
				              &t, &rt[m], &rt[ni]),
				    GH_EBADSIG);
			}
		}
		/* Wrong roots, swapped roots. */
		CHECK_ERR(ledger_consistency_verify(&p, &rt[m - 1], &rt[n]),
		    GH_EBADSIG);
		CHECK_ERR(ledger_consistency_verify(&p, &rt[m], &rt[n - 1]),
		    GH_EBADSIG);
		CHECK_ERR(
		    ledger_consistency_verify(&p, &rt[n], &rt[m]), GH_EBADSIG);
		rejected += 8;
	}
	/* The degenerate sizes. */
	{
		ledger_consistency p;
		CHECK_OK(ledger_logdb_consistency(db, 0, 10, &p));
		CHECK_EQ(p.n, 0);
		CHECK_OK(ledger_consistency_verify(&p, &rt[0], &rt[10]));
		CHECK_ERR(ledger_consistency_verify(&p, &rt[1], &rt[10]),
		    GH_EBADSIG);
		CHECK_OK(ledger_logdb_consistency(db, 10, 10, &p));
		CHECK_EQ(p.n, 0);
		CHECK_OK(ledger_consistency_verify(&p, &rt[10], &rt[10]));
		CHECK_ERR(ledger_consistency_verify(&p, &rt[9], &rt[10]),
		    GH_EBADSIG);
		p.first = 11; /* first > second */
		CHECK_ERR(ledger_consistency_verify(&p, &rt[10], &rt[10]),
		    GH_EBADSIG);
		CHECK_ERR(ledger_logdb_consistency(db, 11, 10, &p), GH_EINVAL);
		CHECK_ERR(
		    ledger_logdb_consistency(db, 1, N + 1, &p), GH_ENOENT);
	}
	{
		ledger_inclusion p;
		CHECK_ERR(ledger_logdb_inclusion(db, 5, 5, &p), GH_EINVAL);
		CHECK_ERR(ledger_logdb_inclusion(db, 0, N + 1, &p), GH_ENOENT);
		CHECK_ERR(ledger_logdb_inclusion(db, 0, 0, &p), GH_EINVAL);
	}
	CHECK(rejected > 10000);
	ledger_logdb_close(db);
	free(lh);
	free(rt);
}

/* The root a decoded proof claims to lead to: the log's root of that
 * size when the log has it, else a root of the same 45-leaf tree (a size
 * is bound to its root only by a checkpoint, so a proof is checked
 * against the root of the size it names). */
static const ledger_mhash *
root_for(const ledger_mhash *rt, uint64_t size, uint64_t n)
{
	return (size <= n ? &rt[size] : &rt[45]);
}

/* Deterministic bit-flip and truncation pass over both proof decoders:
 * a damaged encoding is refused, or decodes to a proof that is canonical
 * and no longer verifies against the roots of the sizes it names. */
TEST(merkle_proof_decoders_flip_truncate)
{
	enum { N = 128 };
	ledger_mhash       lh[N], rt[N + 1];
	ledger_logdb      *db = NULL;
	ledger_inclusion   ip, id;
	ledger_consistency cp, cd;
	uint8_t           *enc = NULL, *re = NULL;
	size_t             n, rn;
	long               refused = 0, decoded = 0;

	/* Bits 0..6 of the sizes 20 and 45 flip to sizes <= 127, all in
	 * the log; higher bits give sizes whose proofs are longer. */
	CHECK_OK(make_log(th_path(0, "db"), N, &db, lh));
	for (uint64_t i = 0; i <= N; i++) {
		CHECK_OK(ledger_logdb_root(db, i, &rt[i]));
	}
	CHECK_OK(ledger_logdb_inclusion(db, 13, 45, &ip));
	CHECK_OK(ledger_logdb_consistency(db, 20, 45, &cp));

	CHECK_OK(ledger_inclusion_encode(&ip, &enc, &n));
	CHECK_EQ(n, 19 + 32 * ip.n);
	CHECK_OK(ledger_inclusion_decode(enc, n, &id));
	CHECK_OK(ledger_inclusion_verify(&id, &lh[13], &rt[45]));
	for (size_t l = 0; l < n; l++) {
		CHECK(ledger_inclusion_decode(enc, l, &id) != GH_OK);
		refused++;
	}
	for (size_t i = 0; i < n * 8; i++) {
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (ledger_inclusion_decode(enc, n, &id) == GH_OK) {
			CHECK_OK(ledger_inclusion_encode(&id, &re, &rn));
			CHECK(rn == n && memcmp(re, enc, n) == 0);
			free(re);
			re = NULL;
			CHECK_ERR(ledger_inclusion_verify(
			              &id, &lh[13], root_for(rt, id.size, N)),
			    GH_EBADSIG);
			decoded++;
		} else {
			refused++;
		}
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	/* A trailing byte; a consistency proof where an inclusion one is
	 * expected. */
	{
		uint8_t *big = malloc(n + 1);
		CHECK(big != NULL);
		memcpy(big, enc, n);
		big[n] = 0;
		CHECK_ERR(
		    ledger_inclusion_decode(big, n + 1, &id), GH_ETRAILING);
		free(big);
	}
	CHECK_ERR(ledger_consistency_decode(enc, n, &cd), GH_ETYPE);
	free(enc);
	enc = NULL;

	CHECK_OK(ledger_consistency_encode(&cp, &enc, &n));
	CHECK_OK(ledger_consistency_decode(enc, n, &cd));
	CHECK_OK(ledger_consistency_verify(&cd, &rt[20], &rt[45]));
	for (size_t l = 0; l < n; l++) {
		CHECK(ledger_consistency_decode(enc, l, &cd) != GH_OK);
	}
	for (size_t i = 0; i < n * 8; i++) {
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (ledger_consistency_decode(enc, n, &cd) == GH_OK) {
			CHECK_OK(ledger_consistency_encode(&cd, &re, &rn));
			CHECK(rn == n && memcmp(re, enc, n) == 0);
			free(re);
			re = NULL;
			CHECK_ERR(ledger_consistency_verify(&cd,
			              root_for(rt, cd.first, N),
			              root_for(rt, cd.second, N)),
			    GH_EBADSIG);
			decoded++;
		} else {
			refused++;
		}
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	/* The count byte over the maximum. */
	enc[18] = LEDGER_PROOF_MAX + 1;
	CHECK_ERR(ledger_consistency_decode(enc, n, &cd), GH_ETOOLONG);
	free(enc);
	CHECK(decoded > 0 && refused > 0);
	ledger_logdb_close(db);
}
