/* ctl.c - the control socket's frames and its client. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>

#include "node/priv.h"

int
node_nng_err(int rv)
{
	switch (rv) {
	case 0:
		return (GH_OK);
	case NNG_ETIMEDOUT:
		return (GH_ETIMEDOUT);
	case NNG_ENOMEM:
		return (GH_ENOMEM);
	case NNG_EMSGSIZE:
		return (GH_ETOOLONG);
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return (GH_EINVAL);
	case NNG_EPERM:
		return (GH_EPERM);
	case NNG_EADDRINUSE:
		return (GH_EBUSY);
	case NNG_ECLOSED:
	case NNG_ECANCELED:
	case NNG_ECONNREFUSED:
	case NNG_ECONNRESET:
	case NNG_ECONNSHUT:
	case NNG_ENOENT:
	case NNG_EUNREACHABLE:
		return (GH_ECLOSED);
	default:
		return (GH_EIO);
	}
}

int
node_ctl_req_encode(
    const char *cmd, const uint8_t *body, size_t len, gh_writer *w)
{
	gh_put_header(w, NODE_WIRE_VERSION, NODE_CTL_REQ);
	gh_put_cstr(w, NODE_CMD_MAX, cmd);
	gh_put_str(w, NODE_CTL_MAX, body, len);
	return (gh_writer_err(w));
}

int
node_ctl_req_decode(const uint8_t *p, size_t n, char *cmd, size_t cmdcap,
    const uint8_t **body, uint32_t *len)
{
	gh_reader r;
	uint8_t   type;
	int       rv;

	*body = NULL;
	*len  = 0;
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, NODE_WIRE_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != NODE_CTL_REQ) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_cstr(&r, NODE_CMD_MAX, cmd, cmdcap)) != GH_OK
	    || (rv = gh_get_str(&r, NODE_CTL_MAX, body, len)) != GH_OK) {
		return (rv);
	}
	return (gh_reader_end(&r));
}

int
node_ctl_rep_encode(int status, const uint8_t *body, size_t len, gh_writer *w)
{
	gh_put_u16(w, (uint16_t) status);
	gh_put_str(w, NODE_CTL_MAX, body, len);
	return (gh_writer_err(w));
}

int
node_ctl_rep_decode(const uint8_t *p, size_t n, uint16_t *status,
    const uint8_t **body, uint32_t *len)
{
	gh_reader r;
	int       rv;

	*body = NULL;
	*len  = 0;
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_u16(&r, status)) != GH_OK
	    || (rv = gh_get_str(&r, NODE_CTL_MAX, body, len)) != GH_OK) {
		return (rv);
	}
	if (*status >= GH_ERR_COUNT) {
		return (GH_ENONCANON);
	}
	return (gh_reader_end(&r));
}

int
node_ctl_url(const char *data_dir, char *out, size_t cap)
{
	int n = snprintf(out, cap, "ipc://%s/node/control.sock", data_dir);
	/* sun_path holds 108 bytes. */
	if (n < 0 || (size_t) n >= cap || n - 6 >= 108) {
		return (GH_ETOOLONG);
	}
	return (GH_OK);
}

int
node_ctl_call(const char *data_dir, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, int *status, uint8_t **body, size_t *blen)
{
	nng_socket     s = NNG_SOCKET_INITIALIZER;
	nng_msg       *m = NULL;
	gh_writer      w;
	char           url[PATH_MAX + 16];
	const uint8_t *b;
	uint32_t       bl;
	uint16_t       st;
	int            rv;
	int            nrv;

	*status = GH_EINTERNAL;
	*body   = NULL;
	*blen   = 0;
	gh_writer_init(&w);
	if ((rv = node_ctl_url(data_dir, url, sizeof(url))) != GH_OK
	    || (rv = node_ctl_req_encode(cmd, req, len, &w)) != GH_OK) {
		goto out;
	}
	if ((nrv = nng_req0_open(&s)) != 0) {
		rv = node_nng_err(nrv);
		goto out;
	}
	nng_socket_set_ms(s, NNG_OPT_SENDTIMEO, (nng_duration) timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_RECVTIMEO, (nng_duration) timeout_ms);
	nng_socket_set_ms(s, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_size(s, NNG_OPT_RECVMAXSZ, NODE_CTL_MAX + 64);
	if ((nrv = nng_dial(s, url, NULL, 0)) != 0) {
		rv = GH_ECLOSED;
		goto out;
	}
	if ((nrv = nng_send(s, w.p, w.len, 0)) != 0) {
		rv = node_nng_err(nrv);
		goto out;
	}
	if ((nrv = nng_recvmsg(s, &m, 0)) != 0) {
		rv = node_nng_err(nrv);
		goto out;
	}
	if ((rv = node_ctl_rep_decode(
	         nng_msg_body(m), nng_msg_len(m), &st, &b, &bl))
	    != GH_OK) {
		goto out;
	}
	if ((*body = malloc(bl + 1)) == NULL) {
		rv = GH_ENOMEM;
		goto out;
	}
	if (bl > 0) {
		memcpy(*body, b, bl);
	}
	(*body)[bl] = 0;
	*blen       = bl;
	*status     = st;
	rv          = GH_OK;
out:
	nng_msg_free(m);
	nng_close(s);
	gh_writer_free(&w);
	return (rv);
}
