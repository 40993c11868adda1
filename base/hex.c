/* hex.c - lowercase hex for keys, hashes and ids. */
#include <string.h>

#include "base.h"

void
gh_hex_encode(const void *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t    *b        = p;

	for (size_t i = 0; i < n; i++) {
		out[2 * i]     = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
gh_hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return (c - '0');
	}
	if (c >= 'a' && c <= 'f') {
		return (c - 'a' + 10);
	}
	if (c >= 'A' && c <= 'F') {
		return (c - 'A' + 10);
	}
	return (-1);
}

int
gh_hex_decode(const char *s, void *out, size_t n)
{
	uint8_t *b = out;

	if (s == NULL || strlen(s) != 2 * n) {
		return (GH_EINVAL);
	}
	for (size_t i = 0; i < n; i++) {
		int hi = gh_hex_digit(s[2 * i]);
		int lo = gh_hex_digit(s[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			return (GH_EINVAL);
		}
		b[i] = (uint8_t) ((hi << 4) | lo);
	}
	return (GH_OK);
}
