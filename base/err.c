/* err.c - the project's error strings and errno mapping. */
#include <errno.h>

#include "base.h"

static const char *const gh_err_strings[GH_ERR_COUNT] = {
	[GH_OK]        = "success",
	[GH_EINVAL]    = "invalid argument",
	[GH_ENOMEM]    = "out of memory",
	[GH_ETRUNC]    = "truncated input",
	[GH_ETRAILING] = "trailing bytes after the encoding",
	[GH_ETOOLONG]  = "field longer than its maximum",
	[GH_EVERSION]  = "unknown version",
	[GH_ETYPE]     = "unknown or unexpected type",
	[GH_ENONCANON] = "non-canonical encoding",
	[GH_EBADSIG]   = "bad signature",
	[GH_EBADKEY]   = "malformed key",
	[GH_EIO]       = "input/output error",
	[GH_ENOENT]    = "not found",
	[GH_EEXIST]    = "already exists",
	[GH_EPERM]     = "permission denied",
	[GH_EDECRYPT] = "decryption failed (wrong passphrase or damaged data)",
	[GH_ECORRUPT] = "stored data is damaged",
	[GH_EFULL]    = "store or queue is full",
	[GH_ETIMEDOUT]    = "timed out",
	[GH_ECLOSED]      = "closed",
	[GH_EPROTO]       = "protocol error",
	[GH_EOVERFLOW]    = "arithmetic overflow",
	[GH_EFUNDS]       = "insufficient funds",
	[GH_ENETID]       = "wrong network id",
	[GH_ESEQ]         = "sequence number out of order",
	[GH_EPREV]        = "previous hash does not match",
	[GH_ECONFLICT]    = "object version already consumed",
	[GH_EFROZEN]      = "object is frozen by an equivocation proof",
	[GH_EWINDOW]      = "outside the allowed time window",
	[GH_EQUORUM]      = "too few valid votes",
	[GH_EPENDING]     = "preconditions not met yet",
	[GH_EUNSUPPORTED] = "not supported",
	[GH_EDEVICE]      = "device error",
	[GH_EBUSY]        = "busy",
	[GH_ELIMIT]       = "over a limit",
	[GH_ECANCELED]    = "cancelled",
	[GH_EINTERNAL]    = "internal error",
};

const char *
gh_strerror(int err)
{
	if (err < 0 || err >= GH_ERR_COUNT || gh_err_strings[err] == NULL) {
		return ("unknown error");
	}
	return (gh_err_strings[err]);
}

int
gh_err_from_errno(int e)
{
	switch (e) {
	case 0:
		return (GH_OK);
	case ENOENT:
	case ENOTDIR:
		return (GH_ENOENT);
	case EEXIST:
		return (GH_EEXIST);
	case EACCES:
	case EPERM:
	case EROFS:
		return (GH_EPERM);
	case ENOMEM:
		return (GH_ENOMEM);
	case ENOSPC:
	case EDQUOT:
		return (GH_EFULL);
	case EINVAL:
		return (GH_EINVAL);
	case ETIMEDOUT:
		return (GH_ETIMEDOUT);
	case EBUSY:
		return (GH_EBUSY);
	default:
		return (GH_EIO);
	}
}
