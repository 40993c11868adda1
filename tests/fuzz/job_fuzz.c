/* job_fuzz.c - libFuzzer target for the job payload decoder (what a
 * provider opens from a sealed request) and the transcript decoder. */
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	attest_job        j;
	attest_transcript t;
	uint8_t          *q = NULL;
	size_t            n;
	gh_hash           id;

	if (attest_job_decode(data, size, &j) == GH_OK) {
		/* canonical: what decodes re-encodes to the same bytes */
		if (attest_job_encode(&j, &q, &n) != GH_OK || n != size
		    || memcmp(q, data, n) != 0
		    || attest_job_id(&j, &id) != GH_OK) {
			abort();
		}
		free(q);
		attest_job_clear(&j);
	}
	if (attest_transcript_decode(data, size, &t) == GH_OK) {
		char why[128];
		(void) attest_transcript_verify(
		    &t, NULL, NULL, 1000000000000ULL, why, sizeof(why));
		attest_transcript_clear(&t);
	}
	return (0);
}
