/*
 * harness.h - the test harness.  A test is
 *
 *	TEST(name) { CHECK(x == 1); CHECK_OK(f()); }
 *
 * Tests register themselves at load time; the runner forks one child per
 * test (a crash or a hang fails that test only) and ends with the line
 * "N passed, N failed".  A failed CHECK prints the file, line, the
 * expression and, for error codes, gh_strerror(), then returns from the
 * test.
 */
#ifndef GH_TESTS_HARNESS_H
#define GH_TESTS_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

typedef void (*th_fn)(void);
void th_register(
    const char *name, const char *file, th_fn fn, unsigned timeout_s);
void th_fail(const char *file, int line, const char *expr, const char *why);
/* Whether a CHECK of the running test has failed so far. */
int th_failed(void);
/* fn(arg) runs once if the running test ends failed, after it returns
 * and before its folder is removed (NULL clears it). */
void th_on_fail(void (*fn)(void *), void *arg);

#define TH_TIMEOUT_DEFAULT 120

/* TEST_T(name, seconds) sets a longer limit for a slow test. */
#define TEST_T(name, secs)                                                    \
	static void                              name(void);                  \
	__attribute__((constructor)) static void name##_register(void)        \
	{                                                                     \
		th_register(#name, __FILE__, name, (secs));                   \
	}                                                                     \
	static void name(void)
#define TEST(name) TEST_T(name, TH_TIMEOUT_DEFAULT)

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			th_fail(__FILE__, __LINE__, #cond, NULL);             \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_ERR(expr, want)                                                 \
	do {                                                                  \
		int th_rv_ = (expr);                                          \
		if (th_rv_ != (want)) {                                       \
			char th_b_[256];                                      \
			snprintf(th_b_, sizeof(th_b_),                        \
			    "got \"%s\" (%d), want \"%s\" (%d)",              \
			    gh_strerror(th_rv_), th_rv_, gh_strerror(want),   \
			    (int) (want));                                    \
			th_fail(__FILE__, __LINE__, #expr, th_b_);            \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_OK(expr) CHECK_ERR(expr, GH_OK)

#define CHECK_EQ(a, b)                                                        \
	do {                                                                  \
		unsigned long long th_a_ = (unsigned long long) (a);          \
		unsigned long long th_b_ = (unsigned long long) (b);          \
		if (th_a_ != th_b_) {                                         \
			char th_m_[128];                                      \
			snprintf(th_m_, sizeof(th_m_), "%llu != %llu", th_a_, \
			    th_b_);                                           \
			th_fail(__FILE__, __LINE__, #a " == " #b, th_m_);     \
			return;                                               \
		}                                                             \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)
#define CHECK_STR(a, b)    CHECK(strcmp((a), (b)) == 0)

/* A fresh temporary folder for this test, removed when the test ends.
 * Returns a static path valid for the test's lifetime. */
const char *th_tmpdir(void);
/* Path of a file inside th_tmpdir() (static buffer, one per call slot
 * 0..7). */
const char *th_path(int slot, const char *name);
/* Absolute path of the built gpuhour binary and the source tree. */
const char *th_bin(void);
const char *th_src(void);
/*
 * Runs a shell command (printf-style), its stdout and stderr captured
 * into *out (malloc'd, NUL-terminated, caller frees; may be NULL to
 * discard).  Returns the exit status, or -1 if it did not exit normally.
 */
int th_sh(char **out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Deterministic pseudo-random numbers for property tests. */
uint64_t th_rand(uint64_t *state);

#endif
