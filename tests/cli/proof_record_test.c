/* proof_record_test.c - `gpuhour proof record`: PROOF entries from a
 * transcript, refused for a node that does not serve the lease. */
#include <stdlib.h>

#include "tests/harness.h"

TEST_T(proof_record_on_the_devnet_and_refusals, 300)
{
	char       *out = NULL;
	const char *h   = th_tmpdir();
	char        lease[65];
	const char *p;

	CHECK_EQ(
	    th_sh(&out,
	        "export GPUHOUR_HOME=%s G=%s; set -e; "
	        "$G ledger genesis --insecure-no-passphrase; "
	        "for k in owner renter; do $G keys new --kind account "
	        "--name $k --insecure-no-passphrase; done; "
	        "for k in gpu0 other rkey; do $G keys new --kind node "
	        "--name $k --insecure-no-passphrase; done; "
	        "$G wallet mint --key $GPUHOUR_HOME/devnet/keys/issuer.key "
	        "--to $($G keys export-pub renter) --amount 10000000; "
	        "A=$($G shares register --key $GPUHOUR_HOME/keys/owner.key "
	        "--node-key $GPUHOUR_HOME/keys/gpu0.key --supply 100 "
	        "--json | sed 's/.*\"asset\":\"\\([0-9a-f]*\\)\".*/\\1/'); "
	        "$G lease open --key $GPUHOUR_HOME/keys/renter.key --asset "
	        "$A --hours 1 --price 1000 --receipt-key "
	        "$GPUHOUR_HOME/keys/rkey.key --json",
	        h, th_bin()),
	    0);
	CHECK((p = strstr(out, "{\"lease\":\"")) != NULL);
	memcpy(lease, p + 10, 64);
	lease[64] = '\0';
	free(out);
	CHECK_EQ(th_sh(NULL,
	             "export GPUHOUR_HOME=%s G=%s; $G model make-test --out "
	             "%s/m.gguf && for k in gpu0 other; do $G job run-local "
	             "--model %s/m.gguf --lease %s --prompt hi -n 8 --key "
	             "%s/keys/$k.key --out %s/$k.t || exit 1; done",
	             h, th_bin(), h, h, lease, h, h),
	    0);
	/* the serving node records it; the entry verifies with the log */
	CHECK_EQ(th_sh(&out,
	             "export GPUHOUR_HOME=%s G=%s; E=$($G proof record "
	             "--node-key %s/keys/gpu0.key --entry-out %s/e %s/gpu0.t "
	             "| cut -d' ' -f2) && $G ledger proof $E --out %s/b && $G "
	             "proof verify %s/gpu0.t --lease %s --bundle %s/b --entry "
	             "%s/e",
	             h, th_bin(), h, h, h, h, h, lease, h, h),
	    0);
	CHECK(strstr(out, "included in the log") != NULL);
	free(out);
	/* recording it again is refused; another node is refused */
	CHECK(th_sh(NULL,
	          "GPUHOUR_HOME=%s %s proof record --node-key "
	          "%s/keys/gpu0.key %s/gpu0.t",
	          h, th_bin(), h, h)
	    != 0);
	CHECK_EQ(th_sh(&out,
	             "GPUHOUR_HOME=%s %s proof record --node-key "
	             "%s/keys/other.key %s/other.t",
	             h, th_bin(), h, h),
	    4);
	CHECK(strstr(out, "PROOF refused") != NULL);
	free(out);
	/* usage errors */
	CHECK_EQ(th_sh(NULL, "%s proof record %s/gpu0.t", th_bin(), h), 2);
	CHECK_EQ(
	    th_sh(NULL, "%s proof verify --node-key x %s/gpu0.t", th_bin(), h),
	    2);
}
