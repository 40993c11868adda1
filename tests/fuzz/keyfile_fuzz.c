/* keyfile_fuzz.c - libFuzzer target for the key file decoder. */
#include "base/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gh_keyfile_info info;

	(void) gh_keyfile_decode(data, size, &info);
	return (0);
}
