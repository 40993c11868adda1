/* view_test.c - gh_get_view: borrowed views of a reader's bytes. */
#include "tests/harness.h"

TEST(reader_view_borrows_and_checks_the_length)
{
	const uint8_t  buf[5] = { 1, 2, 3, 4, 5 };
	const uint8_t *v      = NULL;
	gh_reader      r;

	gh_reader_init(&r, buf, sizeof(buf));
	CHECK_OK(gh_get_view(&r, 2, &v));
	CHECK(v == buf);
	CHECK_OK(gh_get_view(&r, 0, &v));
	CHECK(v == buf + 2);
	CHECK_ERR(gh_get_view(&r, 4, &v), GH_ETRUNC);
	CHECK_EQ(gh_reader_left(&r), 3); /* unchanged by the failure */
	CHECK_OK(gh_get_view(&r, 3, &v));
	CHECK(v == buf + 2);
	CHECK_OK(gh_reader_end(&r));
}
