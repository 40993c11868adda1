/* job_cli_test.c - `gpuhour job run-local|share|open`, `proof verify`
 * and `audit` on the built binary. */
#include <stdlib.h>

#include "attest/attest.h"
#include "base/base.h"
#include "ledger/ledger.h"
#include "tests/harness.h"

#define LEASE                                                                 \
	"5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define OTHER                                                                 \
	"5b5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"

TEST_T(cli_job_run_local_verify_audit, 300)
{
	const char *d   = th_tmpdir();
	char       *out = NULL;
	uint8_t    *p   = NULL;
	size_t      n;
	char        path[4096];

	CHECK_EQ(
	    th_sh(NULL,
	        "cd '%s' && '%s' model make-test --out m.gguf --type f16 "
	        "&& '%s' model make-test --out m2.gguf --type f16 --seed 2 "
	        "&& printf 'hello world\\n\\nthe cat sat\\n' > p.txt "
	        "&& '%s' keys new --kind node --file k "
	        "--insecure-no-passphrase",
	        d, th_bin(), th_bin(), th_bin()),
	    0);
	CHECK_EQ(
	    th_sh(&out,
	        "cd '%s' && '%s' job run-local --model m.gguf --lease " LEASE
	        " --file p.txt -n 40 --seed 4 --temp 0.7 --top-p "
	        "0.9 --key k --out t.bin",
	        d, th_bin()),
	    0);
	CHECK(strstr(out, "prompt 1: ") != NULL); /* two prompts: the blank
	                                             line is skipped */
	CHECK(strstr(out, "prompt 2: ") == NULL);
	free(out);
	CHECK_EQ(
	    th_sh(&out, "cd '%s' && '%s' proof verify t.bin --lease " LEASE, d,
	        th_bin()),
	    0);
	CHECK(strstr(out, "ok: 2 proofs") != NULL);
	free(out);
	/* another lease, an impossible peak, a tampered byte */
	CHECK_EQ(
	    th_sh(NULL, "cd '%s' && '%s' proof verify t.bin --lease " OTHER, d,
	        th_bin()),
	    5);
	CHECK_EQ(
	    th_sh(&out,
	        "cd '%s' && '%s' proof verify t.bin --peak-flops 1000 --json",
	        d, th_bin()),
	    5);
	CHECK(strstr(out, "\"ok\":false") != NULL);
	free(out);
	snprintf(path, sizeof(path), "%s/t.bin", d);
	CHECK_OK(gh_file_read(path, 1 << 20, &p, &n));
	for (size_t off = 200; off < n; off += n / 7) {
		char bad[4200];
		p[off] ^= 0x10;
		snprintf(bad, sizeof(bad), "%s/bad.bin", d);
		CHECK_OK(gh_file_write_atomic(bad, p, n, 0600));
		CHECK(th_sh(NULL, "cd '%s' && '%s' proof verify bad.bin", d,
		          th_bin())
		    != 0);
		p[off] ^= 0x10;
	}
	free(p);
	/* audit: honest passes; the wrong model is refused */
	CHECK_EQ(th_sh(&out,
	             "cd '%s' && '%s' audit --transcript t.bin --model m.gguf "
	             "--samples 3 --fraction 0.1 --seed-from " LEASE,
	             d, th_bin()),
	    0);
	CHECK(strstr(out, "0.271000") != NULL);
	free(out);
	CHECK_EQ(
	    th_sh(NULL,
	        "cd '%s' && '%s' audit --transcript t.bin --model m2.gguf", d,
	        th_bin()),
	    5);
	/* share with a third party, who opens it with its key */
	CHECK_EQ(th_sh(&out, "cd '%s' && '%s' keys show --json --file k", d,
	             th_bin()),
	    0);
	{
		char *q = strstr(out, "\"public_key\":");
		char  pub[65];
		CHECK(q != NULL);
		q = strchr(q + 13, '"');
		CHECK(q != NULL);
		memcpy(pub, q + 1, 64);
		pub[64] = '\0';
		CHECK_EQ(
		    th_sh(NULL,
		        "cd '%s' && '%s' job share --to %s --in t.bin --out "
		        "s.bin && '%s' job open --key k --in s.bin --out "
		        "o.bin && cmp t.bin o.bin && ! cmp -s t.bin s.bin",
		        d, th_bin(), pub, th_bin()),
		    0);
	}
	free(out);
	/* usage errors */
	CHECK_EQ(
	    th_sh(NULL, "'%s' job run-local --lease " LEASE, th_bin()), 2);
	CHECK_EQ(
	    th_sh(NULL, "'%s' job run-local --lease zz --prompt x", th_bin()),
	    2);
	CHECK_EQ(th_sh(NULL, "'%s' job bogus", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "'%s' proof verify", th_bin()), 2);
	CHECK_EQ(th_sh(NULL, "'%s' audit --samples 0", th_bin()), 2);
	CHECK_EQ(
	    th_sh(NULL, "cd '%s' && '%s' proof verify p.txt", d, th_bin()), 5);
	CHECK_EQ(th_sh(&out, "'%s' job --help", th_bin()), 0);
	CHECK(strstr(out, "run-local") != NULL);
	free(out);
}

/* proof verify --bundle --entry: a PROOF entry naming the proof, in a
 * two-leaf log. */
TEST_T(cli_proof_verify_inclusion, 120)
{
	const char       *d = th_tmpdir();
	char              path[4096];
	uint8_t          *p = NULL, *enc = NULL;
	size_t            n, encn;
	attest_transcript t;
	gh_ed_key        *k = NULL;
	gh_ed_pub         pub;
	ledger_entry      e;
	ledger_bundle     b;
	ledger_mhash      l0, l1;
	gh_hash           eh, pid;

	CHECK_EQ(th_sh(NULL,
	             "cd '%s' && '%s' model make-test --out m.gguf "
	             "&& '%s' keys new --kind node --file k "
	             "--insecure-no-passphrase && '%s' job run-local --model "
	             "m.gguf --lease " LEASE " --prompt 'hello there' -n 20 "
	             "--key k --out t.bin",
	             d, th_bin(), th_bin(), th_bin()),
	    0);
	snprintf(path, sizeof(path), "%s/t.bin", d);
	CHECK_OK(gh_file_read(path, 1 << 20, &p, &n));
	CHECK_OK(attest_transcript_decode(p, n, &t));
	snprintf(path, sizeof(path), "%s/k", d);
	CHECK_OK(gh_keyfile_open_node(path, NULL, 0, &k));
	gh_ed_key_pub(k, &pub);
	CHECK_OK(attest_proof_id(&t.results[0].proof, &pid));
	memset(&e, 0, sizeof(e));
	e.kind   = LEDGER_PROOF;
	e.scheme = LEDGER_SCHEME_NODE;
	memcpy(e.author, pub.b, 32);
	e.seq  = 1;
	e.time = 1800000000;
	memcpy(e.body.proof.lease.b, t.results[0].proof.lease, 32);
	e.body.proof.proof     = pid;
	e.body.proof.tokens    = t.results[0].n_in + t.results[0].n_out;
	e.body.proof.device_ns = t.results[0].proof.device_ns;
	CHECK_OK(ledger_entry_sign_node(&e, k));
	CHECK_OK(ledger_entry_encode(&e, &enc, &encn));
	snprintf(path, sizeof(path), "%s/entry", d);
	CHECK_OK(gh_file_write_atomic(path, enc, encn, 0600));
	free(enc);
	ledger_entry_hash(&e, &eh);
	memset(&b, 0, sizeof(b));
	b.entry = eh;
	ledger_merkle_leaf(eh.b, 32, &l0);
	{
		uint8_t other[32];
		memset(other, 0x77, 32);
		ledger_merkle_leaf(other, 32, &l1);
	}
	ledger_merkle_node(&l0, &l1, &b.root);
	b.proof.index   = 0;
	b.proof.size    = 2;
	b.proof.n       = 1;
	b.proof.path[0] = l1;
	CHECK_OK(ledger_bundle_verify(&b));
	CHECK_OK(ledger_bundle_encode(&b, &enc, &encn));
	snprintf(path, sizeof(path), "%s/bundle", d);
	CHECK_OK(gh_file_write_atomic(path, enc, encn, 0600));
	free(enc);
	CHECK_EQ(th_sh(NULL,
	             "cd '%s' && '%s' proof verify t.bin --lease " LEASE
	             " --bundle bundle --entry entry",
	             d, th_bin()),
	    0);
	/* an audit seeded from a later checkpoint over this log */
	{
		ledger_checkpoint cp;
		uint8_t           cb[LEDGER_CHECKPOINT_LEN];
		memset(&cp, 0, sizeof(cp));
		cp.size = 2;
		cp.root = b.root;
		cp.time = t.results[0].proof.time + 60;
		ledger_checkpoint_sign(&cp, k);
		ledger_checkpoint_encode(&cp, cb);
		snprintf(path, sizeof(path), "%s/cp", d);
		CHECK_OK(gh_file_write_atomic(path, cb, sizeof(cb), 0600));
		CHECK_EQ(
		    th_sh(NULL,
		        "cd '%s' && '%s' audit --transcript t.bin --model "
		        "m.gguf --checkpoint cp --samples 2",
		        d, th_bin()),
		    0);
		cp.time = t.results[0].proof.time - 60;
		ledger_checkpoint_sign(&cp, k);
		ledger_checkpoint_encode(&cp, cb);
		CHECK_OK(gh_file_write_atomic(path, cb, sizeof(cb), 0600));
		CHECK_EQ(
		    th_sh(NULL,
		        "cd '%s' && '%s' audit --transcript t.bin --model "
		        "m.gguf --checkpoint cp --samples 2",
		        d, th_bin()),
		    5);
		cb[100] ^= 1; /* a broken signature */
		CHECK_OK(gh_file_write_atomic(path, cb, sizeof(cb), 0600));
		CHECK_EQ(
		    th_sh(NULL,
		        "cd '%s' && '%s' audit --transcript t.bin --model "
		        "m.gguf --checkpoint cp",
		        d, th_bin()),
		    5);
	}
	/* a bundle for another leaf: not included */
	snprintf(path, sizeof(path), "%s/bundle", d);
	b.proof.index = 1;
	CHECK_OK(ledger_bundle_encode(&b, &enc, &encn));
	CHECK_OK(gh_file_write_atomic(path, enc, encn, 0600));
	free(enc);
	CHECK_EQ(th_sh(NULL,
	             "cd '%s' && '%s' proof verify t.bin --bundle bundle "
	             "--entry entry",
	             d, th_bin()),
	    5);
	/* an entry naming another proof */
	b.proof.index = 0;
	e.body.proof.proof.b[0] ^= 1;
	CHECK_OK(ledger_entry_sign_node(&e, k));
	CHECK_OK(ledger_entry_encode(&e, &enc, &encn));
	snprintf(path, sizeof(path), "%s/entry", d);
	CHECK_OK(gh_file_write_atomic(path, enc, encn, 0600));
	free(enc);
	CHECK_EQ(th_sh(NULL,
	             "cd '%s' && '%s' proof verify t.bin --bundle bundle "
	             "--entry entry",
	             d, th_bin()),
	    5);
	gh_ed_key_free(k);
	attest_transcript_clear(&t);
	free(p);
}
