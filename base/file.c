/* file.c - atomic writes, bounded reads, folders, clocks, checked math. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

static int
gh_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return (gh_err_from_errno(errno));
		}
		p += w;
		n -= (size_t) w;
	}
	return (GH_OK);
}

int
gh_file_write_atomic(const char *path, const void *p, size_t n, unsigned mode)
{
	char  tmp[PATH_MAX];
	char  dir[PATH_MAX];
	char *slash;
	int   fd = -1;
	int   rv;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid())
	        >= (int) sizeof(tmp)
	    || snprintf(dir, sizeof(dir), "%s", path) >= (int) sizeof(dir)) {
		return (GH_ETOOLONG);
	}
	if ((fd = open(
	         tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t) mode))
	    < 0) {
		return (gh_err_from_errno(errno));
	}
	/* open() honours the umask; make the mode exact. */
	if (fchmod(fd, (mode_t) mode) != 0) {
		rv = gh_err_from_errno(errno);
		goto fail;
	}
	if ((rv = gh_write_all(fd, p, n)) != GH_OK) {
		goto fail;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		rv = gh_err_from_errno(errno);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rv = gh_err_from_errno(errno);
		goto fail;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == dir) {
		dir[1] = '\0';
	} else {
		*slash = '\0';
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void) fsync(fd);
		close(fd);
	}
	return (GH_OK);
fail:
	if (fd >= 0) {
		close(fd);
	}
	unlink(tmp);
	return (rv);
}

int
gh_file_read(const char *path, size_t max, uint8_t **p, size_t *n)
{
	struct stat st;
	uint8_t    *buf = NULL;
	size_t      got = 0;
	int         fd;
	int         rv;

	*p = NULL;
	*n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		return (gh_err_from_errno(errno));
	}
	if (fstat(fd, &st) != 0) {
		rv = gh_err_from_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rv = GH_EINVAL;
		goto out;
	}
	if ((uint64_t) st.st_size > max) {
		rv = GH_ELIMIT;
		goto out;
	}
	if ((buf = malloc((size_t) st.st_size + 1)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	while (got < (size_t) st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t) st.st_size - got);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r < 0) {
			rv = gh_err_from_errno(errno);
			goto out;
		}
		if (r == 0) {
			break;
		}
		got += (size_t) r;
	}
	buf[got] = '\0'; /* convenience for text files */
	*p       = buf;
	*n       = got;
	buf      = NULL;
	rv       = GH_OK;
out:
	free(buf);
	close(fd);
	return (rv);
}

int
gh_mkdir_p(const char *path, unsigned mode)
{
	char   buf[PATH_MAX];
	size_t len;

	if ((len = strlen(path)) == 0 || len >= sizeof(buf)) {
		return (GH_EINVAL);
	}
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0') {
			continue;
		}
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, (mode_t) mode) != 0 && errno != EEXIST) {
			return (gh_err_from_errno(errno));
		}
		buf[i] = c;
	}
	return (GH_OK);
}

uint64_t
gh_time_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t) ts.tv_sec);
}

uint64_t
gh_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec);
}

int
gh_add_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (__builtin_add_overflow(a, b, out)) {
		return (GH_EOVERFLOW);
	}
	return (GH_OK);
}

int
gh_sub_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (__builtin_sub_overflow(a, b, out)) {
		return (GH_EOVERFLOW);
	}
	return (GH_OK);
}

int
gh_mul_u64(uint64_t a, uint64_t b, uint64_t *out)
{
	if (__builtin_mul_overflow(a, b, out)) {
		return (GH_EOVERFLOW);
	}
	return (GH_OK);
}

int
gh_muldiv_u64(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
	gh_u128 q;

	if (c == 0) {
		return (GH_EINVAL);
	}
	q = ((gh_u128) a * b) / c;
	if (q > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*out = (uint64_t) q;
	return (GH_OK);
}
