/* committee_test.c - a 4-validator committee in one process: conflicting
 * entries for one object version never both become certified, whatever
 * the order the votes arrive in, and the equivocation is proven. */
#include <stdlib.h>

#include "tests/harness.h"
#include "tests/ledger/fixture.h"

TEST_T(ledger_committee_conflicts_never_both_certified, 300)
{
	fx                f;
	ledger_store     *vs[4]         = { NULL };
	ledger_store_opts o             = { 0, 1, 1, 0 };
	ledger_cert      *ca            = calloc(1, sizeof(*ca));
	uint64_t          rnd           = 12345;
	int               certified_one = 0, proofs = 0;
	char              name[32];

	CHECK_OK(fx_genesis(&f, 4));
	for (int i = 0; i < 4; i++) {
		snprintf(name, sizeof(name), "val%d", i);
		CHECK_OK(
		    ledger_store_open(th_path(i, name), &f.g, &o, &vs[i]));
	}
	for (int round = 0; round < 150; round++) {
		gh_acct_key *k        = NULL;
		uint8_t      seed[32] = { 0 };
		ledger_entry e[2];
		uint8_t     *p[2] = { NULL, NULL };
		size_t       n[2];
		ledger_vote  votes[2][4];
		int          nv[2] = { 0, 0 };
		int          order[8];
		int          ok[2];

		seed[0]  = 0x55;
		seed[1]  = (uint8_t) round;
		seed[2]  = (uint8_t) (round >> 8);
		seed[31] = 1;
		CHECK_OK(gh_acct_key_from_seed(seed, &k));
		for (int j = 0; j < 2; j++) {
			fx_entry(&f, NULL, k, LEDGER_ASSET_REGISTER, &e[j]);
			fx_asset_body(&f, &e[j], 10 + (uint64_t) j);
			CHECK_OK(ledger_entry_sign_account(&e[j], k));
			CHECK_OK(ledger_entry_encode(&e[j], &p[j], &n[j]));
		}
		/* A random interleaving of the 8 vote requests (some
		 * dropped: a validator may not hear of both). */
		for (int i = 0; i < 8; i++) {
			order[i] = i;
		}
		for (int i = 7; i > 0; i--) {
			int j    = (int) (th_rand(&rnd) % (uint64_t) (i + 1));
			int t    = order[i];
			order[i] = order[j];
			order[j] = t;
		}
		for (int i = 0; i < 8; i++) {
			int which = order[i] / 4, v = order[i] % 4;
			int rv;
			if (th_rand(&rnd) % 8 == 0) {
				continue; /* lost on the way */
			}
			rv = ledger_store_vote(vs[v], f.val[v], p[which],
			    n[which], 0, &votes[which][nv[which]]);
			if (rv == GH_OK) {
				nv[which]++;
			} else {
				CHECK(rv == GH_ECONFLICT || rv == GH_EFROZEN);
			}
		}
		for (int j = 0; j < 2; j++) {
			ok[j] = ledger_cert_build(
			            &f.g, &e[j], votes[j], (size_t) nv[j], ca)
			    == GH_OK;
			if (ok[j]) {
				int res;
				CHECK_OK(ledger_cert_verify(&f.g, ca));
				for (int v = 0; v < 4; v++) {
					CHECK_OK(ledger_store_ingest(
					    vs[v], &ca, 1, &res));
					CHECK_EQ(res, GH_OK);
				}
				certified_one++;
			}
		}
		CHECK(!(ok[0] && ok[1]));
		/* Each validator that heard both holds a proof. */
		for (int v = 0; v < 4; v++) {
			ledger_id   id;
			uint8_t    *pp = NULL;
			size_t      pn;
			gh_acct_pub pub;
			gh_acct_key_pub(k, &pub);
			memcpy(id.b, pub.b, 32);
			if (ledger_store_equivocation(
			        vs[v], LEDGER_OBJ_ACCOUNT, &id, &pp, &pn)
			    == GH_OK) {
				const uint8_t *a, *b;
				size_t         an, bn;
				CHECK_OK(ledger_equiv_decode(
				    pp, pn, &a, &an, &b, &bn));
				CHECK_OK(ledger_equiv_verify(
				    &f.netid, a, an, b, bn, NULL));
				proofs++;
				free(pp);
			}
		}
		free(p[0]);
		free(p[1]);
		gh_acct_key_free(k);
	}
	CHECK(certified_one > 0);
	CHECK(proofs > 0);
	printf("    150 conflicting pairs: %d certified (never both), %d "
	       "equivocation proofs held\n",
	    certified_one, proofs);
	/* Every validator applied the same certificates. */
	{
		gh_hash h0, h;
		CHECK_OK(ledger_store_state_hash(vs[0], &h0));
		for (int v = 1; v < 4; v++) {
			CHECK_OK(ledger_store_state_hash(vs[v], &h));
			CHECK_MEM(h0.b, h.b, 32);
		}
	}
	for (int i = 0; i < 4; i++) {
		ledger_store_close(vs[i]);
	}
	free(ca);
	fx_free(&f);
}
