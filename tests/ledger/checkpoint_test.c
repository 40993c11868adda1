/*
 * checkpoint_test.c - signed checkpoints, evidence of split views, proof
 * bundles, and their decoders (bit flips and truncation).
 */
#include <stdlib.h>

#include "ledger/ledger.h"
#include "tests/harness.h"

static void
entry_of(uint64_t i, gh_hash *e)
{
	uint8_t b[8];

	gh_be64_put(b, i);
	gh_sha256(b, 8, e->b);
}

static int
fill(ledger_logdb *db, uint64_t from, uint64_t to)
{
	gh_hash b[64];
	int     rv = GH_OK;

	while (from < to && rv == GH_OK) {
		size_t c = to - from < 64 ? (size_t) (to - from) : 64;
		for (size_t i = 0; i < c; i++) {
			entry_of(from + i, &b[i]);
		}
		rv = ledger_logdb_append(db, b, c, NULL);
		from += c;
	}
	return (rv);
}

static gh_ed_key *
key_of(uint8_t s)
{
	uint8_t    seed[32] = { s, 0x5a };
	gh_ed_key *k        = NULL;

	return (gh_ed_key_from_seed(seed, &k) == GH_OK ? k : NULL);
}

/* A checkpoint of db at size, signed by k. */
static int
cp_make(ledger_logdb *db, gh_ed_key *k, uint64_t size, uint64_t time,
    ledger_checkpoint *cp)
{
	int rv;

	memset(cp, 0, sizeof(*cp));
	gh_hash_tagged(GH_TAG_GENESIS, "net", 3, &cp->network);
	cp->size = size;
	cp->time = time;
	if ((rv = ledger_logdb_root(db, size, &cp->root)) != GH_OK) {
		return (rv);
	}
	ledger_checkpoint_sign(cp, k);
	return (GH_OK);
}

TEST(checkpoint_sign_verify_encode)
{
	ledger_logdb     *db = NULL;
	gh_ed_key        *k  = key_of(1);
	ledger_checkpoint cp, d;
	uint8_t           enc[LEDGER_CHECKPOINT_LEN];
	long              refused = 0, badsig = 0;

	CHECK(k != NULL);
	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 0, &db));
	CHECK_OK(fill(db, 0, 77));
	CHECK_OK(cp_make(db, k, 77, 1700000000, &cp));
	CHECK_OK(ledger_checkpoint_verify(&cp));
	ledger_checkpoint_encode(&cp, enc);
	CHECK(
	    enc[0] == LEDGER_LOG_VERSION && enc[1] == LEDGER_TYPE_CHECKPOINT);
	CHECK_OK(ledger_checkpoint_decode(enc, sizeof(enc), &d));
	CHECK_MEM(&d, &cp, sizeof(cp));
	/* Every truncation is refused; every bit flip is refused or breaks
	 * the signature. */
	for (size_t l = 0; l < sizeof(enc); l++) {
		CHECK(ledger_checkpoint_decode(enc, l, &d) != GH_OK);
		refused++;
	}
	for (size_t i = 0; i < sizeof(enc) * 8; i++) {
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (ledger_checkpoint_decode(enc, sizeof(enc), &d) == GH_OK) {
			uint8_t re[LEDGER_CHECKPOINT_LEN];
			ledger_checkpoint_encode(&d, re);
			CHECK_MEM(re, enc, sizeof(re));
			CHECK_ERR(ledger_checkpoint_verify(&d), GH_EBADSIG);
			badsig++;
		} else {
			refused++;
		}
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	CHECK(badsig > 0 && refused > 0);
	{
		uint8_t big[LEDGER_CHECKPOINT_LEN + 1];
		memcpy(big, enc, sizeof(enc));
		big[sizeof(enc)] = 0;
		CHECK_ERR(ledger_checkpoint_decode(big, sizeof(big), &d),
		    GH_ETRAILING);
	}
	gh_ed_key_free(k);
	ledger_logdb_close(db);
}

TEST(checkpoint_add_latest_and_evidence)
{
	ledger_logdb      *db = NULL;
	gh_ed_key         *k = key_of(1), *k2 = key_of(2);
	ledger_checkpoint  c50, c80, c80b, c90t, c100, c120, got, *all = NULL;
	ledger_consistency p, bad;
	ledger_evidence   *ev = NULL;
	gh_hash            net, other;
	size_t             n;
	int                o;

	CHECK(k != NULL && k2 != NULL);
	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 0, &db));
	CHECK_OK(fill(db, 0, 120));
	gh_hash_tagged(GH_TAG_GENESIS, "net", 3, &net);
	gh_hash_tagged(GH_TAG_GENESIS, "other", 5, &other);
	CHECK_OK(cp_make(db, k, 50, 1000, &c50));
	CHECK_OK(cp_make(db, k, 80, 1010, &c80));
	CHECK_OK(cp_make(db, k, 100, 1020, &c100));
	CHECK_OK(cp_make(db, k, 120, 1030, &c120));

	CHECK_ERR(ledger_logdb_checkpoint_add(db, &c50, &other, NULL, &o),
	    GH_ENETID);
	c50.time++;
	CHECK_ERR(
	    ledger_logdb_checkpoint_add(db, &c50, &net, NULL, &o), GH_EBADSIG);
	c50.time--;
	CHECK_ERR(
	    ledger_logdb_checkpoint_get(db, &c50.validator, &got), GH_ENOENT);
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c50, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_LATEST);
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c50, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_IGNORED);

	/* Growing with a consistency proof. */
	CHECK_OK(ledger_logdb_consistency(db, 50, 80, &p));
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c80, &net, &p, &o));
	CHECK_EQ(o, LEDGER_CP_LATEST);
	CHECK_OK(ledger_logdb_checkpoint_get(db, &c80.validator, &got));
	CHECK_MEM(&got, &c80, sizeof(got));
	/* An older one is ignored; a proof of the wrong sizes is refused. */
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c50, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_IGNORED);
	CHECK_ERR(
	    ledger_logdb_checkpoint_add(db, &c100, &net, &p, &o), GH_EINVAL);

	/* Same size, another root: evidence. */
	c80b = c80;
	c80b.root.b[0] ^= 1;
	ledger_checkpoint_sign(&c80b, k);
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c80b, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_EVIDENCE);
	CHECK_OK(ledger_logdb_checkpoint_get(db, &c80.validator, &got));
	CHECK_MEM(&got, &c80, sizeof(got)); /* the latest is unchanged */

	/* Larger but earlier: time went backwards. */
	CHECK_OK(cp_make(db, k, 90, 1005, &c90t));
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c90t, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_EVIDENCE);

	/* Larger, with a proof that does not link the roots. */
	CHECK_OK(ledger_logdb_consistency(db, 80, 100, &bad));
	bad.path[1].b[3] ^= 0x10;
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c100, &net, &bad, &o));
	CHECK_EQ(o, LEDGER_CP_EVIDENCE);
	/* With the right proof it is accepted. */
	CHECK_OK(ledger_logdb_consistency(db, 80, 100, &p));
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c100, &net, &p, &o));
	CHECK_EQ(o, LEDGER_CP_LATEST);
	/* Without a proof a larger one is taken on trust. */
	CHECK_OK(ledger_logdb_checkpoint_add(db, &c120, &net, NULL, &o));
	CHECK_EQ(o, LEDGER_CP_LATEST);

	/* Another validator has its own latest. */
	{
		ledger_checkpoint o50;
		CHECK_OK(cp_make(db, k2, 50, 999, &o50));
		CHECK_OK(
		    ledger_logdb_checkpoint_add(db, &o50, &net, NULL, &o));
		CHECK_EQ(o, LEDGER_CP_LATEST);
	}
	CHECK_OK(ledger_logdb_checkpoints(db, &all, &n));
	CHECK_EQ(n, 2);
	free(all);

	CHECK_OK(ledger_logdb_evidence(db, &ev, &n));
	CHECK_EQ(n, 3);
	{
		int kinds = 0;
		for (size_t i = 0; i < n; i++) {
			CHECK_OK(ledger_evidence_check(&ev[i]));
			kinds |= 1 << ev[i].kind;
			CHECK(ev[i].a.size <= ev[i].b.size);
		}
		CHECK_EQ(kinds,
		    (1 << LEDGER_EV_SAME_SIZE) | (1 << LEDGER_EV_TIME)
		        | (1 << LEDGER_EV_INCONSISTENT));
	}
	/* What is not evidence is refused. */
	{
		ledger_evidence e;
		memset(&e, 0, sizeof(e));
		e.kind = LEDGER_EV_SAME_SIZE;
		e.a    = c80;
		e.b    = c80;
		CHECK_ERR(ledger_evidence_check(&e), GH_EINVAL);
		e.kind = LEDGER_EV_TIME;
		e.a    = c50;
		e.b    = c80;
		CHECK_ERR(ledger_evidence_check(&e), GH_EINVAL);
		e.kind  = LEDGER_EV_INCONSISTENT;
		e.b     = c100;
		e.a     = c80;
		e.proof = p;
		CHECK_ERR(ledger_evidence_check(&e), GH_EINVAL);
		/* Two validators never make evidence. */
		for (size_t i = 0; i < n; i++) {
			e = ev[i];
			ledger_checkpoint_sign(&e.b, k2);
			CHECK(ledger_evidence_check(&e) != GH_OK);
		}
		/* A forged signature. */
		e = ev[0];
		e.a.sig.b[5] ^= 1;
		CHECK_ERR(ledger_evidence_check(&e), GH_EBADSIG);
	}
	free(ev);
	gh_ed_key_free(k);
	gh_ed_key_free(k2);
	ledger_logdb_close(db);
}

/* Evidence and bundle encodings: round trip, every truncation refused,
 * every bit flip refused or no longer valid. */
TEST(checkpoint_evidence_bundle_flip_truncate)
{
	ledger_logdb      *db = NULL;
	gh_ed_key         *k  = key_of(3);
	ledger_checkpoint  a, b;
	ledger_evidence    ev, d;
	ledger_bundle      bu, bd;
	ledger_consistency bad;
	uint8_t           *enc = NULL, *re = NULL;
	size_t             n, rn;
	long               refused = 0, invalid = 0;
	gh_hash            e;

	CHECK(k != NULL);
	CHECK_OK(ledger_logdb_open(th_path(0, "ledger"), 0, &db));
	CHECK_OK(fill(db, 0, 40));
	CHECK_OK(cp_make(db, k, 21, 50, &a));
	CHECK_OK(cp_make(db, k, 40, 60, &b));
	CHECK_OK(ledger_logdb_consistency(db, 21, 40, &bad));
	bad.path[0].b[0] ^= 1;
	memset(&ev, 0, sizeof(ev));
	ev.kind  = LEDGER_EV_INCONSISTENT;
	ev.a     = a;
	ev.b     = b;
	ev.proof = bad;
	CHECK_OK(ledger_evidence_check(&ev));
	CHECK_OK(ledger_evidence_encode(&ev, &enc, &n));
	CHECK_OK(ledger_evidence_decode(enc, n, &d));
	CHECK_MEM(&d, &ev, sizeof(d));
	for (size_t l = 0; l < n; l++) {
		CHECK(ledger_evidence_decode(enc, l, &d) != GH_OK);
		refused++;
	}
	for (size_t i = 0; i < n * 8; i++) {
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (ledger_evidence_decode(enc, n, &d) == GH_OK) {
			CHECK_OK(ledger_evidence_encode(&d, &re, &rn));
			CHECK(rn == n && memcmp(re, enc, n) == 0);
			free(re);
			re = NULL;
			/* A flip in the proof may leave valid evidence (the
			 * proof still fails); anywhere else it must not. */
			if (i / 8 < 2 + 1 + 2 * LEDGER_CHECKPOINT_LEN) {
				CHECK(ledger_evidence_check(&d) != GH_OK);
			}
			invalid++;
		} else {
			refused++;
		}
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	free(enc);
	enc = NULL;

	/* A bundle: entry 17 under checkpoint b. */
	memset(&bu, 0, sizeof(bu));
	entry_of(17, &e);
	bu.entry          = e;
	bu.root           = b.root;
	bu.has_checkpoint = 1;
	bu.cp             = b;
	CHECK_OK(ledger_logdb_inclusion(db, 17, 40, &bu.proof));
	CHECK_OK(ledger_bundle_verify(&bu));
	CHECK_OK(ledger_bundle_encode(&bu, &enc, &n));
	CHECK_OK(ledger_bundle_decode(enc, n, &bd));
	CHECK_MEM(&bd, &bu, sizeof(bd));
	for (size_t l = 0; l < n; l++) {
		CHECK(ledger_bundle_decode(enc, l, &bd) != GH_OK);
		refused++;
	}
	for (size_t i = 0; i < n * 8; i++) {
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
		if (ledger_bundle_decode(enc, n, &bd) == GH_OK) {
			CHECK_OK(ledger_bundle_encode(&bd, &re, &rn));
			CHECK(rn == n && memcmp(re, enc, n) == 0);
			free(re);
			re = NULL;
			CHECK(ledger_bundle_verify(&bd) != GH_OK);
			invalid++;
		} else {
			refused++;
		}
		enc[i / 8] ^= (uint8_t) (1u << (i % 8));
	}
	free(enc);
	enc = NULL;
	/* Without a checkpoint: verified against the root it states. */
	bu.has_checkpoint = 0;
	memset(&bu.cp, 0, sizeof(bu.cp));
	CHECK_OK(ledger_bundle_verify(&bu));
	CHECK_OK(ledger_bundle_encode(&bu, &enc, &n));
	CHECK_OK(ledger_bundle_decode(enc, n, &bd));
	CHECK_OK(ledger_bundle_verify(&bd));
	free(enc);
	bu.entry.b[0] ^= 1;
	CHECK_ERR(ledger_bundle_verify(&bu), GH_EBADSIG);
	CHECK(refused > 0 && invalid > 0);
	gh_ed_key_free(k);
	ledger_logdb_close(db);
}
