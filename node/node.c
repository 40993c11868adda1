/*
 * node.c - the node: sockets, the worker loop, peers, gossip, pull
 * repair, requests, sync and the control socket.
 *
 * Every peer exchange is REQ/REP: each node listens with one REP socket
 * (a few contexts) and keeps one REQ socket per outbound connection, a
 * fresh context per request, a timeout on every aio.  nng's callbacks
 * only link the finished context or request onto the worker's queue;
 * the worker thread owns all other state.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>

#include "node/priv.h"
#include "node/web.h"

#define NODE_PEERS_MAX     512  /* known peers kept */
#define NODE_CONNS_MAX     320  /* outbound connections (peers + seeds) */
#define NODE_IN_CTXS       16   /* peer requests served at once */
#define NODE_CTL_CTXS      4    /* control requests served at once */
#define NODE_PIPES         512  /* inbound pipes tracked for scoring */
#define NODE_UNCHECKED_MAX 4096 /* items waiting for a predecessor */
#define NODE_UNCHECKED_S   600  /* and for how long */
#define NODE_OUT_PER_CONN  64   /* requests in flight per connection */
#define NODE_DIGEST_SEND   256  /* ids per digest reply we send */
#define NODE_IWANT_CHUNKS  4    /* IWANTs per digest reply */
#define NODE_FAILS_DOWN    3    /* failed requests before reconnecting */
#define NODE_SYNC_PEERS    3    /* peers asked per sync round */
#define NODE_TICK_MS       50

enum { NODE_ST_RECV, NODE_ST_SEND, NODE_ST_BUSY };

typedef struct node_inctx {
	node              *n;
	nng_ctx            ctx;
	nng_aio           *aio;
	int                ctl;
	int                state;
	nng_msg           *msg;
	struct node_inctx *next;
} node_inctx;

typedef struct {
	int         used;
	gh_ed_pub   pub;
	char        addr[NODE_ADDR_MAX + 1];
	int32_t     score;
	uint64_t    banned_until; /* unix seconds */
	uint64_t    last_seen;    /* unix seconds */
	uint64_t    next_dial_ms; /* monotonic */
	uint32_t    backoff_ms;
	int         conn;     /* outbound connection, -1 */
	int         hello_ok; /* said HELLO to us since we started */
	int         dialback; /* dialed us: connect back (gossip both ways) */
	int         dirty;    /* to be written to LMDB */
	node_bucket bucket;
} node_peer;

typedef struct {
	int        used;
	uint32_t   gen;
	nng_socket sock;
	char       addr[NODE_ADDR_MAX + 1];
	int        peer; /* -1 until the handshake names it */
	int        seed; /* seed index, -1 */
	int        up;
	uint32_t   outstanding;
	uint32_t   fails;
	uint64_t   dboot; /* digest cursor: the peer's boot and position */
	uint64_t   dsince;
} node_conn;

typedef struct {
	char     addr[NODE_ADDR_MAX + 1];
	int      conn;
	int      self;
	uint64_t next_dial_ms;
	uint32_t backoff_ms;
} node_seed;

typedef struct node_out node_out;
typedef void (*node_done_fn)(
    node *n, node_out *o, int err, const uint8_t *body, size_t len);

struct node_out {
	node         *n;
	int           conn;
	uint32_t      gen;
	int           peer;
	nng_ctx       ctx;
	nng_aio      *aio;
	int           state;
	int           err;
	nng_msg      *reply;
	uint8_t       type;
	uint8_t       kind;
	gh_hash       req_hash;
	gh_ed_pub     expect; /* zero: any (a seed's first HELLO) */
	uint64_t      sent_ns;
	node_done_fn  done;
	node_reply_fn cb;
	void         *cbarg;
	gh_hash      *ids;
	uint32_t      nids;
	node_out     *next; /* all requests in flight */
	node_out     *prev;
	node_out     *dnext; /* finished, waiting for the worker */
};

typedef struct {
	uint32_t    id;
	nng_pipe    pipe;
	int32_t     score;
	int         peer;
	uint64_t    last_ms;
	node_bucket bucket;
} node_pipe;

typedef struct {
	gh_hash  id;
	uint8_t  kind;
	uint8_t *p;
	uint32_t len;
	uint64_t at_ms;
	uint32_t copies;
} node_sitem;

typedef struct {
	int      used;
	gh_hash  waits;
	gh_hash  id;
	uint8_t  kind;
	uint8_t *p;
	uint32_t len;
	uint64_t at_ms;
	int      forward;
} node_unchk;

struct node {
	node_config cfg;
	gh_ed_key  *key;
	gh_ed_pub   pub;
	uint64_t    boot;
	uint64_t    start_ms;
	uint64_t    nonce;

	MDB_env        *env;
	MDB_dbi         peers_db;
	node_ann_store *ann;

	nng_socket rep;
	nng_socket ctl;
	int        rep_open;
	int        ctl_open;
	node_inctx in[NODE_IN_CTXS];
	node_inctx cin[NODE_CTL_CTXS];

	pthread_mutex_t mtx;
	pthread_cond_t  cv;
	node_inctx     *qhead[2], *qtail[2]; /* 0: priority lane */
	node_out       *dhead, *dtail;
	int             stop;
	uint64_t        cb_dropped;
	int             inbound; /* pipes on the REP socket */

	node_peer peers[NODE_PEERS_MAX];
	node_conn conns[NODE_CONNS_MAX];
	node_seed seeds[NODE_SEEDS_MAX];
	node_pipe pipes[NODE_PIPES];
	node_out *outs;
	uint32_t  nouts;

	node_kind       kinds[NODE_KIND_MAX + 1];
	int             has_kind[NODE_KIND_MAX + 1];
	node_req_kind   reqs[256];
	int             has_req[256];
	node_ctl_cmd    cmds[64];
	uint32_t        ncmds;
	node_inctx     *cur_ctl;
	int             cur_deferred;
	node_inctx     *cur_req; /* the peer request being handled */
	const node_env *cur_env;
	int             cur_req_deferred;
	/* node_post: callbacks from other threads, run by the worker. */
	struct node_posted *phead, *ptail;

	node_seen  *seen;
	node_seen  *replay;
	node_sitem *store;
	node_idmap  store_map;
	uint64_t    next_lseq; /* local sequence of the next stored item */
	uint32_t    store_count;
	node_unchk  unchecked[NODE_UNCHECKED_MAX];
	uint32_t    nunchecked;

	node_status st;
	uint64_t    stop_at_ms;
	uint64_t    next_gossip_ms, next_pex_ms, next_sync_ms;
	uint64_t    next_slow_ms;
	uint64_t    next_tick_ms;

	node_http    *http; /* HTTP API (http.c); NULL when off */
	node_metrics *metrics;
	struct {
		void (*fn)(void *arg);
		void    *arg;
		uint32_t every_ms;
		uint64_t next_ms;
	} timers[8];
	int ntimers;
};

/* ------------------------------------------------------------------ */
/* Small helpers. */

uint64_t
node_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000);
}

static uint64_t
node_mono_ms(void)
{
	return (gh_mono_ns() / 1000000);
}

void
node_log(int debug_on, const char *level, const char *fmt, ...)
{
	char      ts[32];
	char      line[1024];
	time_t    t = time(NULL);
	struct tm tm;
	va_list   ap;

	/* debug_on: 1 debug, 0 info, -1 warnings and errors only. */
	if ((strcmp(level, "debug") == 0 && debug_on < 1)
	    || (strcmp(level, "info") == 0 && debug_on < 0)) {
		return;
	}
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ts=%s level=%s pid=%d %s\n", ts, level,
	    (int) getpid(), line);
}

#define NLOG(n, lvl, ...) node_log((n)->cfg.log_debug, lvl, __VA_ARGS__)

static void
node_short(const gh_ed_pub *p, char out[17])
{
	gh_hex_encode(p->b, 8, out);
}

static int
node_is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++) {
		acc |= p[i];
	}
	return (acc == 0);
}

static uint32_t
node_rand(uint32_t upper)
{
	return (upper <= 1 ? 0 : randombytes_uniform(upper));
}

/* ------------------------------------------------------------------ */
/* The worker's queue (the only state nng's callbacks touch). */

static void
node_in_cb(void *arg)
{
	node_inctx *ic = arg;
	node       *n  = ic->n;
	int         rv = nng_aio_result(ic->aio);

	if (ic->state == NODE_ST_SEND) {
		if (rv != 0) {
			nng_msg_free(nng_aio_get_msg(ic->aio));
		}
		if (rv == NNG_ECLOSED) {
			return;
		}
		ic->state = NODE_ST_RECV;
		nng_ctx_recv(ic->ctx, ic->aio);
		return;
	}
	if (rv != 0) {
		if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
			nng_ctx_recv(ic->ctx, ic->aio);
		}
		return;
	}
	ic->msg   = nng_aio_get_msg(ic->aio);
	ic->state = NODE_ST_BUSY;
	ic->next  = NULL;
	pthread_mutex_lock(&n->mtx);
	{
		/* Peek at the frame: a PUSH of a priority kind takes the
		 * priority lane (equivocation proofs first). */
		int      lane = 1;
		uint8_t *b    = nng_msg_body(ic->msg);
		size_t   l    = nng_msg_len(ic->msg);
		size_t   koff = 2 + 32 * 4 + 16 + 4;
		if (!ic->ctl && l > koff && b[1] == NODE_MSG_PUSH
		    && n->has_kind[b[koff]] && n->kinds[b[koff]].priority) {
			lane = 0;
		}
		if (n->qtail[lane] != NULL) {
			n->qtail[lane]->next = ic;
		} else {
			n->qhead[lane] = ic;
		}
		n->qtail[lane] = ic;
	}
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mtx);
}

static void
node_out_cb(void *arg)
{
	node_out *o  = arg;
	node     *n  = o->n;
	int       rv = nng_aio_result(o->aio);

	if (o->state == NODE_ST_SEND) {
		if (rv == 0) {
			o->state = NODE_ST_RECV;
			nng_ctx_recv(o->ctx, o->aio);
			return;
		}
		nng_msg_free(nng_aio_get_msg(o->aio));
		o->err = rv;
	} else {
		o->err   = rv;
		o->reply = rv == 0 ? nng_aio_get_msg(o->aio) : NULL;
	}
	o->state = NODE_ST_BUSY;
	pthread_mutex_lock(&n->mtx);
	o->dnext = NULL;
	if (n->dtail != NULL) {
		n->dtail->dnext = o;
	} else {
		n->dhead = o;
	}
	n->dtail = o;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mtx);
}

static void
node_pipe_cb(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	node *n = arg;
	int   over;

	pthread_mutex_lock(&n->mtx);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		n->inbound++;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		n->inbound--;
	}
	over = ev == NNG_PIPE_EV_ADD_POST
	    && (uint32_t) n->inbound > n->cfg.max_inbound;
	pthread_mutex_unlock(&n->mtx);
	if (over) {
		nng_pipe_close(p);
	}
}

void
node_stop(node *n)
{
	pthread_mutex_lock(&n->mtx);
	n->stop = 1;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mtx);
}

/* ------------------------------------------------------------------ */
/* Peer table. */

static int
node_peer_find(node *n, const gh_ed_pub *pub)
{
	for (int i = 0; i < NODE_PEERS_MAX; i++) {
		if (n->peers[i].used
		    && memcmp(n->peers[i].pub.b, pub->b, 32) == 0) {
			return (i);
		}
	}
	return (-1);
}

static int
node_peer_banned(node *n, int p)
{
	return (p >= 0 && n->peers[p].banned_until > gh_time_now());
}

static int
node_peer_upsert(node *n, const gh_ed_pub *pub, const char *addr)
{
	int p = node_peer_find(n, pub);

	if (p < 0) {
		for (int i = 0; i < NODE_PEERS_MAX && p < 0; i++) {
			if (!n->peers[i].used) {
				p = i;
			}
		}
		/* Full: replace an address never confirmed by a handshake
		 * (peer exchange must not fill the table with junk). */
		for (int i = 0; i < NODE_PEERS_MAX && p < 0; i++) {
			node_peer *q = &n->peers[i];
			if (q->conn < 0 && q->last_seen == 0 && !q->hello_ok
			    && q->banned_until == 0) {
				p = i;
			}
		}
		if (p < 0) {
			return (-1);
		}
		memset(&n->peers[p], 0, sizeof(n->peers[p]));
		n->peers[p].used = 1;
		n->peers[p].pub  = *pub;
		n->peers[p].conn = -1;
		node_bucket_init(&n->peers[p].bucket, n->cfg.rate,
		    n->cfg.burst, gh_mono_ns());
	}
	if (addr != NULL && addr[0] != '\0'
	    && strcmp(n->peers[p].addr, addr) != 0) {
		snprintf(
		    n->peers[p].addr, sizeof(n->peers[p].addr), "%s", addr);
	}
	n->peers[p].dirty = 1;
	return (p);
}

/* Peer record in LMDB: cstr addr, u32 score, u64 banned_until, u64
 * last_seen. */
static void
node_peers_flush(node *n)
{
	MDB_txn *txn = NULL;
	int      rc;

	if ((rc = mdb_txn_begin(n->env, NULL, 0, &txn)) != 0) {
		return;
	}
	for (int i = 0; i < NODE_PEERS_MAX; i++) {
		node_peer *p = &n->peers[i];
		gh_writer  w;
		MDB_val    k, v;
		if (!p->used || !p->dirty) {
			continue;
		}
		gh_writer_init(&w);
		gh_put_cstr(&w, NODE_ADDR_MAX, p->addr);
		gh_put_u32(&w, (uint32_t) p->score);
		gh_put_u64(&w, p->banned_until);
		gh_put_u64(&w, p->last_seen);
		if (gh_writer_err(&w) == GH_OK) {
			k  = (MDB_val) { 32, p->pub.b };
			v  = (MDB_val) { w.len, w.p };
			rc = mdb_put(txn, n->peers_db, &k, &v, 0);
		}
		gh_writer_free(&w);
		if (rc != 0) {
			break;
		}
		p->dirty = 0;
	}
	if (rc != 0 || mdb_txn_commit(txn) != 0) {
		if (rc != 0) {
			mdb_txn_abort(txn);
		}
		NLOG(n, "warn", "msg=\"peer table not saved\"");
	}
}

static int
node_peers_load(node *n)
{
	MDB_txn    *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	int         rc;

	if ((rc = mdb_txn_begin(n->env, NULL, MDB_RDONLY, &txn)) != 0
	    || (rc = mdb_cursor_open(txn, n->peers_db, &cur)) != 0) {
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		gh_reader r;
		gh_ed_pub pub;
		char      addr[NODE_ADDR_MAX + 1];
		uint32_t  score;
		uint64_t  ban, seen;
		int       p;
		if (k.mv_size != 32) {
			continue;
		}
		memcpy(pub.b, k.mv_data, 32);
		gh_reader_init(&r, v.mv_data, v.mv_size);
		if (gh_get_cstr(&r, NODE_ADDR_MAX, addr, sizeof(addr)) != GH_OK
		    || gh_get_u32(&r, &score) != GH_OK
		    || gh_get_u64(&r, &ban) != GH_OK
		    || gh_get_u64(&r, &seen) != GH_OK
		    || gh_reader_end(&r) != GH_OK) {
			NLOG(n, "warn", "msg=\"damaged peer record skipped\"");
			continue;
		}
		if ((p = node_peer_upsert(n, &pub, addr)) < 0) {
			break;
		}
		n->peers[p].score        = (int32_t) score;
		n->peers[p].banned_until = ban;
		n->peers[p].last_seen    = seen;
		n->peers[p].dirty        = 0;
	}
	rc = rc == MDB_NOTFOUND ? 0 : rc;
out:
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return (node_mdb_err(rc));
}

/* ------------------------------------------------------------------ */
/* Connections and requests. */

static void
node_conn_close(node *n, int ci, const char *why)
{
	node_conn *c   = &n->conns[ci];
	uint64_t   now = node_mono_ms();

	if (!c->used) {
		return;
	}
	if (c->peer >= 0) {
		node_peer *p = &n->peers[c->peer];
		char       s[17];
		node_short(&p->pub, s);
		if (c->up) {
			NLOG(n, "info", "msg=\"peer down\" peer=%s why=\"%s\"",
			    s, why);
		}
		if (p->conn == ci) {
			p->conn = -1;
		}
		p->backoff_ms = p->backoff_ms == 0 ? n->cfg.reconnect_min_ms
		                                   : p->backoff_ms * 2;
		if (p->backoff_ms > n->cfg.reconnect_max_ms) {
			p->backoff_ms = n->cfg.reconnect_max_ms;
		}
		p->next_dial_ms = now + p->backoff_ms;
	}
	if (c->seed >= 0) {
		node_seed *s = &n->seeds[c->seed];
		if (s->conn == ci) {
			s->conn = -1;
		}
		s->backoff_ms = s->backoff_ms == 0 ? n->cfg.reconnect_min_ms
		                                   : s->backoff_ms * 2;
		if (s->backoff_ms > n->cfg.reconnect_max_ms) {
			s->backoff_ms = n->cfg.reconnect_max_ms;
		}
		s->next_dial_ms = now + s->backoff_ms;
	}
	nng_close(c->sock);
	c->used = 0;
	c->up   = 0;
	c->gen++;
}

static int
node_env_send(node *n, uint8_t type, const gh_ed_pub *to, const gh_hash *re,
    const uint8_t *body, size_t len, nng_msg **out, gh_hash *hash)
{
	node_env e;
	uint8_t *p = NULL;
	size_t   pl;
	int      rv;

	*out = NULL;
	memset(&e, 0, sizeof(e));
	e.type  = type;
	e.netid = n->cfg.netid;
	e.from  = n->pub;
	if (to != NULL) {
		e.to = *to;
	}
	if (re != NULL) {
		e.re = *re;
	}
	e.time_ms  = node_now_us() / 1000;
	e.nonce    = ++n->nonce;
	e.body     = body;
	e.body_len = (uint32_t) len;
	if (len > NODE_BODY_MAX) {
		return (GH_ETOOLONG);
	}
	if ((rv = node_env_encode(&e, n->key, &p, &pl)) != GH_OK) {
		return (rv);
	}
	if (nng_msg_alloc(out, 0) != 0 || nng_msg_append(*out, p, pl) != 0) {
		nng_msg_free(*out);
		*out = NULL;
		free(p);
		return (GH_ENOMEM);
	}
	free(p);
	if (hash != NULL) {
		*hash = e.hash;
	}
	n->st.bytes_out += pl;
	n->st.frames_out++;
	return (GH_OK);
}

/* Sends one request on connection ci; done runs on the worker. */
static node_out *
node_out_send(node *n, int ci, uint8_t type, const uint8_t *body, size_t len,
    node_done_fn done)
{
	node_conn *c = &n->conns[ci];
	node_out  *o = NULL;
	nng_msg   *m = NULL;
	gh_ed_pub  zero;

	if (!c->used || c->outstanding >= NODE_OUT_PER_CONN) {
		return (NULL);
	}
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		return (NULL);
	}
	memset(&zero, 0, sizeof(zero));
	o->n    = n;
	o->conn = ci;
	o->gen  = c->gen;
	o->peer = c->peer;
	o->type = type;
	o->done = done;
	if (c->peer >= 0) {
		o->expect = n->peers[c->peer].pub;
	}
	if (node_env_send(n, type, c->peer >= 0 ? &o->expect : &zero, NULL,
	        body, len, &m, &o->req_hash)
	    != GH_OK) {
		free(o);
		return (NULL);
	}
	if (nng_ctx_open(&o->ctx, c->sock) != 0
	    || nng_aio_alloc(&o->aio, node_out_cb, o) != 0) {
		nng_msg_free(m);
		if (o->aio == NULL) {
			nng_ctx_close(o->ctx);
		}
		free(o);
		return (NULL);
	}
	o->sent_ns = gh_mono_ns();
	o->state   = NODE_ST_SEND;
	o->next    = n->outs;
	if (n->outs != NULL) {
		n->outs->prev = o;
	}
	n->outs = o;
	n->nouts++;
	c->outstanding++;
	nng_aio_set_timeout(o->aio, (nng_duration) n->cfg.request_ms);
	nng_aio_set_msg(o->aio, m);
	nng_ctx_send(o->ctx, o->aio);
	return (o);
}

static void node_peer_pen(node *n, int p, node_pen pen);
static int  node_conn_hello(node *n, int ci);

/* Checks a reply frame; returns its status and body (borrowed). */
static int
node_out_check(node *n, node_out *o, const uint8_t **body, uint32_t *blen,
    gh_ed_pub *from)
{
	node_env e;
	uint16_t status;
	int      rv;

	*body = NULL;
	*blen = 0;
	if (o->err != 0) {
		return (node_nng_err(o->err));
	}
	n->st.bytes_in += nng_msg_len(o->reply);
	n->st.frames_in++;
	if ((rv = node_env_decode(
	         nng_msg_body(o->reply), nng_msg_len(o->reply), &e))
	    != GH_OK) {
		return (GH_EPROTO);
	}
	if (e.type != NODE_MSG_REPLY
	    || memcmp(e.netid.b, n->cfg.netid.b, 32) != 0
	    || memcmp(e.to.b, n->pub.b, 32) != 0
	    || memcmp(e.re.b, o->req_hash.b, 32) != 0
	    || (!node_is_zero(o->expect.b, 32)
	        && memcmp(e.from.b, o->expect.b, 32) != 0)) {
		return (GH_EPROTO);
	}
	if (node_env_verify(&e) != GH_OK) {
		return (GH_EBADSIG);
	}
	if ((rv = node_reply_decode(e.body, e.body_len, &status, body, blen))
	    != GH_OK) {
		return (GH_EPROTO);
	}
	*from = e.from;
	return (status);
}

static void
node_out_finish(node *n, node_out *o)
{
	const uint8_t *body = NULL;
	uint32_t       blen = 0;
	gh_ed_pub      from;
	int            live = o->conn >= 0 && n->conns[o->conn].used
	    && n->conns[o->conn].gen == o->gen;
	int err;

	memset(&from, 0, sizeof(from));
	err = node_out_check(n, o, &body, &blen, &from);
	if (live) {
		node_conn *c = &n->conns[o->conn];
		c->outstanding--;
		if (err == GH_ETIMEDOUT || err == GH_ECLOSED) {
			if (++c->fails >= NODE_FAILS_DOWN
			    || o->type == NODE_MSG_HELLO) {
				node_conn_close(n, o->conn, gh_strerror(err));
				live = 0;
			}
		} else if (err == GH_EPERM && o->type != NODE_MSG_HELLO
		    && c->up) {
			/* The peer restarted (it no longer knows our
			 * handshake) or banned us: handshake again; a
			 * refused HELLO closes the connection. */
			c->up = 0;
			(void) node_conn_hello(n, o->conn);
			live = n->conns[o->conn].used
			    && n->conns[o->conn].gen == o->gen;
		} else if (err == GH_EPROTO || err == GH_EBADSIG) {
			if (o->peer >= 0) {
				node_peer_pen(n, o->peer,
				    err == GH_EBADSIG ? NODE_PEN_BADSIG
				                      : NODE_PEN_MALFORMED);
			}
		} else {
			c->fails = 0;
		}
	}
	if (!live) {
		o->conn = -1;
	}
	o->done(n, o, err, body, blen);
	if (o->prev != NULL) {
		o->prev->next = o->next;
	} else {
		n->outs = o->next;
	}
	if (o->next != NULL) {
		o->next->prev = o->prev;
	}
	n->nouts--;
	nng_msg_free(o->reply);
	nng_ctx_close(o->ctx);
	nng_aio_free(o->aio);
	free(o->ids);
	free(o);
}

/* ------------------------------------------------------------------ */
/* Scoring. */

static void
node_peer_pen(node *n, int p, node_pen pen)
{
	node_peer *pr = &n->peers[p];
	char       s[17];

	if (p < 0 || !pr->used) {
		return;
	}
	if (pen != NODE_PEN_GOOD) {
		node_short(&pr->pub, s);
		NLOG(n, "debug", "msg=\"penalty\" peer=%s pen=%d score=%d", s,
		    (int) pen, (int) pr->score);
	}
	if (node_score_apply(&pr->score, pen) && !node_peer_banned(n, p)) {
		node_short(&pr->pub, s);
		pr->banned_until = gh_time_now() + n->cfg.ban_s;
		pr->hello_ok     = 0;
		NLOG(n, "warn", "msg=\"peer banned\" peer=%s seconds=%u", s,
		    n->cfg.ban_s);
		if (pr->conn >= 0) {
			node_conn_close(n, pr->conn, "banned");
		}
		for (int i = 0; i < NODE_PIPES; i++) {
			if (n->pipes[i].id != 0 && n->pipes[i].peer == p) {
				nng_pipe_close(n->pipes[i].pipe);
				n->pipes[i].id = 0;
			}
		}
	}
	pr->dirty = 1;
}

static node_pipe *
node_pipe_get(node *n, nng_pipe pipe)
{
	uint32_t   id     = nng_pipe_id(pipe);
	node_pipe *oldest = &n->pipes[0];
	uint64_t   now    = node_mono_ms();

	for (int i = 0; i < NODE_PIPES; i++) {
		if (n->pipes[i].id == id && id != 0) {
			n->pipes[i].last_ms = now;
			return (&n->pipes[i]);
		}
		if (n->pipes[i].last_ms < oldest->last_ms) {
			oldest = &n->pipes[i];
		}
	}
	memset(oldest, 0, sizeof(*oldest));
	oldest->id      = id;
	oldest->pipe    = pipe;
	oldest->peer    = -1;
	oldest->last_ms = now;
	/* Before a handshake a connection gets the same rate as a peer. */
	node_bucket_init(
	    &oldest->bucket, n->cfg.rate, n->cfg.burst, gh_mono_ns());
	return (oldest);
}

static void
node_pipe_pen(node *n, node_pipe *pp, node_pen pen)
{
	n->st.dropped++;
	NLOG(n, "debug", "msg=\"frame refused\" pipe=%u pen=%d score=%d",
	    pp->id, (int) pen, (int) pp->score);
	if (pp->peer >= 0) {
		node_peer_pen(n, pp->peer, pen);
	}
	if (pp->id != 0 && node_score_apply(&pp->score, pen)) {
		NLOG(n, "warn", "msg=\"connection closed\" pipe=%u why=score",
		    pp->id);
		nng_pipe_close(pp->pipe);
		pp->id = 0;
	}
}

/* ------------------------------------------------------------------ */
/* Gossip store, unchecked table, ingest and forwarding. */

static node_sitem *
node_store_find(node *n, const gh_hash *id)
{
	uint32_t slot;
	if (node_idmap_get(&n->store_map, id, &slot) != GH_OK) {
		return (NULL);
	}
	return (&n->store[slot]);
}

static uint64_t
node_store_oldest(const node *n)
{
	return (n->next_lseq - n->store_count);
}

static void
node_store_evict_one(node *n)
{
	uint64_t    l  = node_store_oldest(n);
	node_sitem *it = &n->store[(l - 1) % n->cfg.store_cap];

	node_idmap_del(&n->store_map, &it->id);
	free(it->p);
	memset(it, 0, sizeof(*it));
	n->store_count--;
}

static void
node_store_add(node *n, const gh_hash *id, uint8_t kind, const uint8_t *p,
    size_t len, uint32_t copies)
{
	node_sitem *it;
	uint8_t    *c;

	if ((c = malloc(len ? len : 1)) == NULL) {
		return;
	}
	if (n->store_count == n->cfg.store_cap) {
		node_store_evict_one(n);
	}
	it = &n->store[(n->next_lseq - 1) % n->cfg.store_cap];
	memcpy(c, p, len);
	it->id     = *id;
	it->kind   = kind;
	it->p      = c;
	it->len    = (uint32_t) len;
	it->at_ms  = node_mono_ms();
	it->copies = copies;
	(void) node_idmap_put(&n->store_map, id,
	    (uint32_t) ((n->next_lseq - 1) % n->cfg.store_cap));
	n->next_lseq++;
	n->store_count++;
}

static void
node_unchecked_add(node *n, uint8_t kind, const uint8_t *p, size_t len,
    const gh_hash *id, const gh_hash *waits, int forward)
{
	node_unchk *u      = NULL;
	node_unchk *oldest = NULL;

	for (int i = 0; i < NODE_UNCHECKED_MAX; i++) {
		if (!n->unchecked[i].used) {
			u = &n->unchecked[i];
			break;
		}
		if (oldest == NULL || n->unchecked[i].at_ms < oldest->at_ms) {
			oldest = &n->unchecked[i];
		}
	}
	if (u == NULL) {
		free(oldest->p);
		memset(oldest, 0, sizeof(*oldest));
		n->nunchecked--;
		u = oldest;
	}
	if ((u->p = malloc(len ? len : 1)) == NULL) {
		return;
	}
	memcpy(u->p, p, len);
	u->used    = 1;
	u->kind    = kind;
	u->len     = (uint32_t) len;
	u->id      = *id;
	u->waits   = *waits;
	u->at_ms   = node_mono_ms();
	u->forward = forward;
	n->nunchecked++;
}

static void node_push_done(
    node *n, node_out *o, int err, const uint8_t *body, size_t len);

static void
node_forward(node *n, uint8_t kind, const uint8_t *p, size_t len, int src)
{
	int       cand[NODE_CONNS_MAX];
	int       nc = 0;
	uint32_t  want;
	gh_writer w;
	node_item it = { kind, p, (uint32_t) len };

	for (int i = 0; i < NODE_CONNS_MAX; i++) {
		if (n->conns[i].used && n->conns[i].up
		    && (src < 0 || n->conns[i].peer != src)) {
			cand[nc++] = i;
		}
	}
	want = n->kinds[kind].priority ? (uint32_t) nc : n->cfg.fanout;
	gh_writer_init(&w);
	if (node_item_encode(&it, &w) != GH_OK) {
		gh_writer_free(&w);
		return;
	}
	for (uint32_t k = 0; k < want && nc > 0; k++) {
		uint32_t j  = node_rand((uint32_t) nc);
		int      ci = cand[j];
		cand[j]     = cand[--nc];
		(void) node_out_send(
		    n, ci, NODE_MSG_PUSH, w.p, w.len, node_push_done);
	}
	gh_writer_free(&w);
}

/* Validates and applies an item not yet seen here; releases the items
 * that waited for it. */
static int
node_ingest_new(node *n, uint8_t kind, const uint8_t *p, size_t len,
    const gh_hash *id, int src, int forward, uint32_t copies)
{
	const node_kind *k = &n->kinds[kind];
	gh_hash          waits, unlocks;
	gh_hash          stack[64];
	int              sp = 0;
	int              rv;

	memset(&waits, 0, sizeof(waits));
	rv = k->validate(k->arg, p, len, &waits);
	if (rv == GH_EPENDING) {
		node_unchecked_add(n, kind, p, len, id, &waits, forward);
		return (rv);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	memset(&unlocks, 0, sizeof(unlocks));
	if ((rv = k->apply(k->arg, p, len, &unlocks)) != GH_OK) {
		NLOG(n, "error", "msg=\"apply failed\" kind=%s err=\"%s\"",
		    k->name, gh_strerror(rv));
		return (GH_OK); /* our fault, not the sender's */
	}
	n->st.items++;
	/* Items that came by sync (not forwarded) stay out of the gossip
	 * store: pull repair is for fresh gossip, and a node catching up
	 * on a long history would otherwise offer all of it in digests to
	 * peers that have it (a flood of IWANT traffic). */
	if (forward || src < 0) {
		node_store_add(n, id, kind, p, len, copies);
	}
	if (forward) {
		node_forward(n, kind, p, len, src);
	}
	if (!node_is_zero(unlocks.b, 32)) {
		stack[sp++] = unlocks;
	}
	/* Released items run through validate and apply in turn. */
	while (sp > 0 && n->nunchecked > 0) {
		gh_hash key = stack[--sp];
		for (int i = 0; i < NODE_UNCHECKED_MAX; i++) {
			node_unchk *u = &n->unchecked[i];
			node_unchk  c;
			if (!u->used || memcmp(u->waits.b, key.b, 32) != 0) {
				continue;
			}
			c = *u;
			memset(u, 0, sizeof(*u));
			n->nunchecked--;
			k = &n->kinds[c.kind];
			memset(&waits, 0, sizeof(waits));
			rv = k->validate(k->arg, c.p, c.len, &waits);
			if (rv == GH_EPENDING) {
				node_unchecked_add(n, c.kind, c.p, c.len,
				    &c.id, &waits, c.forward);
			} else if (rv == GH_OK) {
				memset(&unlocks, 0, sizeof(unlocks));
				if (k->apply(k->arg, c.p, c.len, &unlocks)
				    == GH_OK) {
					n->st.items++;
					node_store_add(
					    n, &c.id, c.kind, c.p, c.len, 1);
					if (c.forward) {
						node_forward(
						    n, c.kind, c.p, c.len, -1);
					}
					if (!node_is_zero(unlocks.b, 32)
					    && sp < 64) {
						stack[sp++] = unlocks;
					}
				}
			}
			free(c.p);
		}
	}
	return (GH_OK);
}

/* An item from peer src (or -1: local).  Returns what validate said;
 * GH_EEXIST for one seen before. */
static int
node_ingest(
    node *n, uint8_t kind, const uint8_t *p, size_t len, int src, int forward)
{
	gh_hash     id;
	node_sitem *it;

	if (!n->has_kind[kind]) {
		return (GH_ETYPE);
	}
	if (len > n->kinds[kind].max_len) {
		return (GH_ETOOLONG);
	}
	node_item_id(kind, p, len, &id);
	if (src >= 0) {
		n->st.copies++;
	}
	if (node_seen_add(n->seen, &id)) {
		if ((it = node_store_find(n, &id)) != NULL && src >= 0) {
			it->copies++;
		}
		return (GH_EEXIST);
	}
	return (node_ingest_new(
	    n, kind, p, len, &id, src, forward, src >= 0 ? 1 : 0));
}

int
node_publish(node *n, uint8_t kind, const uint8_t *p, size_t len, gh_hash *id)
{
	int rv;

	node_item_id(kind, p, len, id);
	rv = node_ingest(n, kind, p, len, -1, 1);
	return (rv == GH_EPENDING ? GH_EPREV : rv);
}

/* ------------------------------------------------------------------ */
/* Outbound protocol: HELLO, DIGEST/IWANT, PEERS, SYNC, REQUEST. */

static void node_digest_send(node *n, int ci);

static void
node_push_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	(void) n;
	(void) o;
	(void) err;
	(void) body;
	(void) len;
}

static void
node_peers_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	gh_reader r;
	uint32_t  cnt;

	(void) o;
	if (err != GH_OK) {
		return;
	}
	gh_reader_init(&r, body, len);
	if (gh_get_u32(&r, &cnt) != GH_OK || cnt > NODE_PEERS_XCHG) {
		return;
	}
	for (uint32_t i = 0; i < cnt; i++) {
		gh_ed_pub pub;
		char      addr[NODE_ADDR_MAX + 1];
		if (gh_get_fixed(&r, pub.b, 32) != GH_OK
		    || gh_get_cstr(&r, NODE_ADDR_MAX, addr, sizeof(addr))
		        != GH_OK) {
			return;
		}
		if (memcmp(pub.b, n->pub.b, 32) == 0
		    || strncmp(addr, "tcp://", 6) != 0
		    || node_peer_find(n, &pub) >= 0) {
			continue;
		}
		(void) node_peer_upsert(n, &pub, addr);
	}
}

static void
node_hello_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	node_hello h;
	gh_ed_pub  from;
	node_env   e;
	int        ci = o->conn;
	int        p;
	char       s[17];

	if (ci < 0) {
		return;
	}
	if (err != GH_OK || node_hello_decode(body, len, &h) != GH_OK) {
		node_conn_close(
		    n, ci, err != GH_OK ? gh_strerror(err) : "bad hello");
		return;
	}
	/* The reply was verified against o->expect or, for a seed, is
	 * signed by whoever answered: read its sender. */
	if (node_env_decode(nng_msg_body(o->reply), nng_msg_len(o->reply), &e)
	    != GH_OK) {
		node_conn_close(n, ci, "bad hello");
		return;
	}
	from = e.from;
	if (memcmp(from.b, n->pub.b, 32) == 0) {
		if (n->conns[ci].seed >= 0) {
			n->seeds[n->conns[ci].seed].self = 1;
		}
		node_conn_close(n, ci, "self");
		return;
	}
	if ((p = node_peer_upsert(n, &from, h.addr)) < 0
	    || node_peer_banned(n, p)) {
		node_conn_close(n, ci, "refused");
		return;
	}
	if (n->peers[p].conn >= 0 && n->peers[p].conn != ci) {
		node_conn_close(n, ci, "duplicate");
		return;
	}
	n->conns[ci].peer      = p;
	n->conns[ci].up        = 1;
	n->peers[p].conn       = ci;
	n->peers[p].backoff_ms = 0;
	n->peers[p].last_seen  = gh_time_now();
	if (n->conns[ci].seed >= 0) {
		n->seeds[n->conns[ci].seed].backoff_ms = 0;
	}
	node_short(&from, s);
	NLOG(n, "info", "msg=\"peer up\" peer=%s addr=%s", s, h.addr);
	node_digest_send(n, ci);
	(void) node_out_send(n, ci, NODE_MSG_PEERS, NULL, 0, node_peers_done);
}

/* Sends (or re-sends) the handshake on connection ci. */
static int
node_conn_hello(node *n, int ci)
{
	node_hello h;
	gh_writer  w;

	memset(&h, 0, sizeof(h));
	snprintf(h.addr, sizeof(h.addr), "%s", n->cfg.listen);
	h.boot = n->boot;
	gh_writer_init(&w);
	(void) node_hello_encode(&h, &w);
	if (gh_writer_err(&w) != GH_OK
	    || node_out_send(
	           n, ci, NODE_MSG_HELLO, w.p, w.len, node_hello_done)
	        == NULL) {
		gh_writer_free(&w);
		node_conn_close(n, ci, "hello not sent");
		return (GH_ENOMEM);
	}
	gh_writer_free(&w);
	return (GH_OK);
}

static int
node_conn_open(node *n, const char *addr, int peer, int seed)
{
	node_conn *c  = NULL;
	int        ci = -1;

	for (int i = 0; i < NODE_CONNS_MAX; i++) {
		if (!n->conns[i].used) {
			ci = i;
			break;
		}
	}
	if (ci < 0) {
		return (GH_EFULL);
	}
	c = &n->conns[ci];
	if (nng_req0_open(&c->sock) != 0) {
		return (GH_ENOMEM);
	}
	nng_socket_set_size(c->sock, NNG_OPT_RECVMAXSZ, NODE_MSG_MAX);
	nng_socket_set_ms(
	    c->sock, NNG_OPT_REQ_RESENDTIME, NNG_DURATION_INFINITE);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMINT,
	    (nng_duration) n->cfg.reconnect_min_ms);
	nng_socket_set_ms(c->sock, NNG_OPT_RECONNMAXT,
	    (nng_duration) n->cfg.reconnect_max_ms);
	if (nng_dial(c->sock, addr, NULL, NNG_FLAG_NONBLOCK) != 0) {
		nng_close(c->sock);
		return (GH_EINVAL);
	}
	c->used        = 1;
	c->up          = 0;
	c->peer        = peer;
	c->seed        = seed;
	c->outstanding = 0;
	c->fails       = 0;
	c->dboot       = 0;
	c->dsince      = 0;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	if (peer >= 0) {
		n->peers[peer].conn = ci;
	}
	if (seed >= 0) {
		n->seeds[seed].conn = ci;
	}
	return (node_conn_hello(n, ci));
}

static void
node_iwant_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	node_items_iter iter;
	node_item       it;

	if (err != GH_OK) {
		/* Ask this peer for its whole digest again later. */
		if (o->conn >= 0) {
			n->conns[o->conn].dsince = 0;
		}
		return;
	}
	if (node_items_begin(body, len, NODE_IWANT_MAX, &iter) != GH_OK) {
		node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
		return;
	}
	while (node_items_next(&iter, &it) == GH_OK) {
		gh_hash id;
		int     asked = 0;
		int     rv;
		node_item_id(it.kind, it.payload, it.len, &id);
		for (uint32_t i = 0; i < o->nids && !asked; i++) {
			asked = memcmp(o->ids[i].b, id.b, 32) == 0;
		}
		if (!asked) {
			node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
			return;
		}
		rv = node_ingest(n, it.kind, it.payload, it.len, o->peer, 0);
		if (o->peer >= 0) {
			node_peer_pen(n, o->peer, node_pen_for(rv));
		}
	}
}

static void
node_digest_done(
    node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	node_digest d;
	gh_hash     want[NODE_IWANT_MAX];
	uint32_t    nw     = 0;
	uint32_t    chunks = 0;
	int         ci     = o->conn;

	if (err != GH_OK || ci < 0) {
		return;
	}
	if (node_digest_decode(body, len, &d) != GH_OK) {
		node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
		return;
	}
	for (uint32_t i = 0; i <= d.count; i++) {
		if (i < d.count) {
			gh_hash id;
			memcpy(id.b, d.ids + (size_t) i * 32, 32);
			if (node_seen_has(n->seen, &id)) {
				continue;
			}
			want[nw++] = id;
		}
		if ((nw == NODE_IWANT_MAX || (i == d.count && nw > 0))
		    && chunks < NODE_IWANT_CHUNKS) {
			gh_writer w;
			node_out *q;
			gh_writer_init(&w);
			if (node_ids_encode(want, nw, &w) == GH_OK
			    && (q = node_out_send(n, ci, NODE_MSG_IWANT, w.p,
			            w.len, node_iwant_done))
			        != NULL
			    && (q->ids = malloc(nw * sizeof(gh_hash)))
			        != NULL) {
				memcpy(q->ids, want, nw * sizeof(gh_hash));
				q->nids = nw;
			}
			gh_writer_free(&w);
			chunks++;
			nw = 0;
		}
	}
	n->conns[ci].dboot  = d.boot;
	n->conns[ci].dsince = d.next;
	/* A full page: there is more; ask again at once. */
	if (d.count >= NODE_DIGEST_SEND) {
		node_digest_send(n, ci);
	}
}

static void
node_digest_send(node *n, int ci)
{
	node_digest_req d = { n->conns[ci].dboot, n->conns[ci].dsince };
	gh_writer       w;

	gh_writer_init(&w);
	if (node_digest_req_encode(&d, &w) == GH_OK) {
		(void) node_out_send(
		    n, ci, NODE_MSG_DIGEST, w.p, w.len, node_digest_done);
	}
	gh_writer_free(&w);
}

static void node_front_done(
    node *n, node_out *o, int err, const uint8_t *body, size_t len);

static void
node_range_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	node_items_iter iter;
	node_item       it;
	uint32_t        count = 0;

	if (err != GH_OK) {
		return;
	}
	if (node_items_begin(body, len, NODE_ITEMS_MAX, &iter) != GH_OK) {
		node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
		return;
	}
	if (n->kinds[o->kind].prepare != NULL) {
		node_items_iter pi = iter;
		const uint8_t **ps = calloc(NODE_ITEMS_MAX, sizeof(*ps));
		size_t         *ns = calloc(NODE_ITEMS_MAX, sizeof(*ns));
		uint32_t        c  = 0;
		while (ps != NULL && ns != NULL && c < NODE_ITEMS_MAX
		    && node_items_next(&pi, &it) == GH_OK) {
			if (it.kind == o->kind
			    && it.len <= n->kinds[o->kind].max_len) {
				ps[c]   = it.payload;
				ns[c++] = it.len;
			}
		}
		if (c > 0) {
			n->kinds[o->kind].prepare(
			    n->kinds[o->kind].arg, ps, ns, c);
		}
		free(ps);
		free(ns);
	}
	while (node_items_next(&iter, &it) == GH_OK) {
		int rv;
		if (it.kind != o->kind) {
			node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
			return;
		}
		rv = node_ingest(n, it.kind, it.payload, it.len, o->peer, 0);
		node_peer_pen(n, o->peer, node_pen_for(rv));
		count++;
	}
	/* A full range: there is more; ask again now rather than at the
	 * next sync interval. */
	if (count >= NODE_ITEMS_MAX / 4 && o->conn >= 0
	    && n->conns[o->conn].used && n->conns[o->conn].up) {
		uint8_t   kb[5] = { o->kind, 0, 0, 0, 0 };
		node_out *q;
		if (n->kinds[o->kind].flush != NULL) {
			n->kinds[o->kind].flush(n->kinds[o->kind].arg);
		}
		q = node_out_send(n, o->conn, NODE_MSG_SYNC_FRONT, kb,
		    sizeof(kb), node_front_done);
		if (q != NULL) {
			q->kind = kb[0];
		}
	}
}

static void
node_front_done(node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	const node_kind *k = &n->kinds[o->kind];
	gh_writer        req, w;
	node_out        *q;

	if (err != GH_OK || o->conn < 0) {
		return;
	}
	gh_writer_init(&req);
	gh_writer_init(&w);
	if (k->plan(k->arg, body, len, &req) != GH_OK) {
		node_peer_pen(n, o->peer, NODE_PEN_MALFORMED);
		goto out;
	}
	if (req.len == 0) {
		goto out;
	}
	gh_put_u8(&w, o->kind);
	gh_put_str(&w, NODE_BODY_MAX, req.p, req.len);
	if (gh_writer_err(&w) == GH_OK
	    && (q = node_out_send(n, o->conn, NODE_MSG_SYNC_RANGE, w.p, w.len,
	            node_range_done))
	        != NULL) {
		q->kind = o->kind;
	}
out:
	gh_writer_free(&req);
	gh_writer_free(&w);
}

static void
node_request_done(
    node *n, node_out *o, int err, const uint8_t *body, size_t len)
{
	(void) n;
	o->cb(o->cbarg, err, body, len);
}

int
node_request(node *n, const gh_ed_pub *peer, uint8_t kind, const uint8_t *req,
    size_t len, node_reply_fn cb, void *arg)
{
	int       p = node_peer_find(n, peer);
	gh_writer w;
	node_out *o = NULL;

	if (p < 0 || n->peers[p].conn < 0 || !n->conns[n->peers[p].conn].up) {
		return (GH_ENOENT);
	}
	gh_writer_init(&w);
	gh_put_u8(&w, kind);
	gh_put_str(&w, NODE_BODY_MAX, req, len);
	if (gh_writer_err(&w) == GH_OK) {
		o = node_out_send(n, n->peers[p].conn, NODE_MSG_REQUEST, w.p,
		    w.len, node_request_done);
	}
	if (o != NULL) {
		o->cb    = cb;
		o->cbarg = arg;
	}
	gh_writer_free(&w);
	return (o != NULL ? GH_OK : GH_EFULL);
}

/* ------------------------------------------------------------------ */
/* Inbound peer frames. */

static nng_msg *
node_reply(
    node *n, const node_env *req, int status, const uint8_t *body, size_t len)
{
	gh_writer w;
	nng_msg  *m = NULL;

	gh_writer_init(&w);
	gh_put_u16(&w, (uint16_t) status);
	gh_put_str(&w, NODE_BODY_MAX, body, len);
	if (gh_writer_err(&w) == GH_OK) {
		(void) node_env_send(n, NODE_MSG_REPLY, &req->from, &req->hash,
		    w.p, w.len, &m, NULL);
	}
	gh_writer_free(&w);
	return (m);
}

static nng_msg *
node_on_hello(node *n, const node_env *e, node_pipe *pp)
{
	node_hello h;
	gh_writer  w;
	nng_msg   *m;
	int        p;
	char       s[17];

	if (node_hello_decode(e->body, e->body_len, &h) != GH_OK
	    || strncmp(h.addr, "tcp://", 6) != 0) {
		node_pipe_pen(n, pp, NODE_PEN_MALFORMED);
		return (NULL);
	}
	p = node_peer_find(n, &e->from);
	if (node_peer_banned(n, p)) {
		return (node_reply(n, e, GH_EPERM, NULL, 0));
	}
	if ((p = node_peer_upsert(n, &e->from, h.addr)) < 0) {
		return (node_reply(n, e, GH_EFULL, NULL, 0));
	}
	if (!n->peers[p].hello_ok) {
		node_short(&e->from, s);
		NLOG(n, "debug", "msg=\"hello\" peer=%s addr=%s", s, h.addr);
	}
	n->peers[p].hello_ok  = 1;
	n->peers[p].last_seen = gh_time_now();
	/* Bind the connection to the key (its garbage then costs the key)
	 * only for a HELLO addressed to us: one with a zero address could
	 * be replayed by someone else within the freshness window. */
	if (memcmp(e->to.b, n->pub.b, 32) == 0) {
		pp->peer = p;
	}
	/* Connect back: pushes flow on our own outbound connections, so a
	 * peer that dialed us should hear from us too (or the nodes that
	 * joined last would only ever be pushed to by few). */
	if (n->peers[p].conn < 0) {
		n->peers[p].dialback     = 1;
		n->peers[p].next_dial_ms = 0;
	}
	memset(&h, 0, sizeof(h));
	snprintf(h.addr, sizeof(h.addr), "%s", n->cfg.listen);
	h.boot = n->boot;
	gh_writer_init(&w);
	(void) node_hello_encode(&h, &w);
	m = gh_writer_err(&w) == GH_OK ? node_reply(n, e, GH_OK, w.p, w.len)
	                               : NULL;
	gh_writer_free(&w);
	return (m);
}

static nng_msg *
node_on_push(node *n, const node_env *e, int p)
{
	node_item it;
	int       rv;

	if ((rv = node_item_decode(e->body, e->body_len, &it)) != GH_OK) {
		node_peer_pen(n, p, node_pen_for(rv));
		return (node_reply(n, e, rv, NULL, 0));
	}
	/* Test knob: a lossy network drops the push in transit. */
	if (n->cfg.drop_push_pct > 0
	    && node_rand(100) < n->cfg.drop_push_pct) {
		return (node_reply(n, e, GH_OK, NULL, 0));
	}
	rv = node_ingest(n, it.kind, it.payload, it.len, p, 1);
	node_peer_pen(n, p, node_pen_for(rv));
	return (node_reply(n, e, rv, NULL, 0));
}

static nng_msg *
node_on_digest(node *n, const node_env *e, int p)
{
	node_digest_req q;
	node_digest     d;
	gh_writer       w;
	uint8_t        *ids = NULL;
	uint64_t        from;
	nng_msg        *m;
	int             rv;

	if ((rv = node_digest_req_decode(e->body, e->body_len, &q)) != GH_OK) {
		node_peer_pen(n, p, node_pen_for(rv));
		return (node_reply(n, e, rv, NULL, 0));
	}
	from = q.boot == n->boot ? q.since + 1 : 1;
	if (from < node_store_oldest(n)) {
		from = node_store_oldest(n);
	}
	if ((ids = malloc(NODE_DIGEST_SEND * 32)) == NULL) {
		return (node_reply(n, e, GH_ENOMEM, NULL, 0));
	}
	memset(&d, 0, sizeof(d));
	d.boot = n->boot;
	d.next = from - 1;
	for (uint64_t l = from; l < n->next_lseq && d.count < NODE_DIGEST_SEND;
	     l++) {
		node_sitem *it = &n->store[(l - 1) % n->cfg.store_cap];
		memcpy(ids + (size_t) d.count * 32, it->id.b, 32);
		d.count++;
		d.next = l;
	}
	d.ids = ids;
	gh_writer_init(&w);
	rv = node_digest_encode(&d, &w);
	m  = node_reply(
	     n, e, rv, rv == GH_OK ? w.p : NULL, rv == GH_OK ? w.len : 0);
	gh_writer_free(&w);
	free(ids);
	return (m);
}

static nng_msg *
node_on_iwant(node *n, const node_env *e, int p)
{
	const uint8_t    *ids;
	uint32_t          cnt;
	gh_writer         w;
	node_items_writer iw;
	nng_msg          *m;
	int               rv;

	if ((rv = node_ids_decode(
	         e->body, e->body_len, NODE_IWANT_MAX, &ids, &cnt))
	    != GH_OK) {
		node_peer_pen(n, p, node_pen_for(rv));
		return (node_reply(n, e, rv, NULL, 0));
	}
	gh_writer_init(&w);
	node_items_start(&iw, &w);
	/* Priority kinds first. */
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < cnt; i++) {
			gh_hash     id;
			node_sitem *it;
			memcpy(id.b, ids + (size_t) i * 32, 32);
			if ((it = node_store_find(n, &id)) == NULL
			    || n->kinds[it->kind].priority != (pass == 0)
			    || w.len + it->len > NODE_BODY_MAX / 2) {
				continue;
			}
			node_items_put(&iw, it->kind, it->p, it->len);
		}
	}
	node_items_end(&iw);
	rv = gh_writer_err(&w);
	m  = node_reply(
	     n, e, rv, rv == GH_OK ? w.p : NULL, rv == GH_OK ? w.len : 0);
	gh_writer_free(&w);
	return (m);
}

static nng_msg *
node_on_peers(node *n, const node_env *e, int p)
{
	gh_writer w;
	nng_msg  *m;
	int       idx[NODE_PEERS_MAX];
	int       ni  = 0;
	uint32_t  cnt = 0;

	for (int i = 0; i < NODE_PEERS_MAX; i++) {
		if (n->peers[i].used && i != p && n->peers[i].addr[0] != '\0'
		    && !node_peer_banned(n, i)) {
			idx[ni++] = i;
		}
	}
	gh_writer_init(&w);
	gh_put_u32(&w, 0);
	while (ni > 0 && cnt < NODE_PEERS_XCHG) {
		uint32_t j = node_rand((uint32_t) ni);
		gh_put_fixed(&w, n->peers[idx[j]].pub.b, 32);
		gh_put_cstr(&w, NODE_ADDR_MAX, n->peers[idx[j]].addr);
		idx[j] = idx[--ni];
		cnt++;
	}
	if (gh_writer_err(&w) == GH_OK) {
		gh_be32_put(w.p, cnt);
	}
	m = node_reply(n, e, gh_writer_err(&w), w.p, w.len);
	gh_writer_free(&w);
	return (m);
}

static nng_msg *
node_on_request(node *n, const node_env *e, int p)
{
	gh_reader      r;
	uint8_t        kind;
	const uint8_t *body;
	uint32_t       blen;
	gh_writer      w;
	nng_msg       *m;
	int            rv;

	gh_reader_init(&r, e->body, e->body_len);
	if ((rv = gh_get_u8(&r, &kind)) != GH_OK
	    || (rv = gh_get_str(&r, NODE_BODY_MAX, &body, &blen)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		node_peer_pen(n, p, node_pen_for(rv));
		return (node_reply(n, e, rv, NULL, 0));
	}
	gh_writer_init(&w);
	if (e->type == NODE_MSG_REQUEST) {
		if (!n->has_req[kind]) {
			rv = GH_EUNSUPPORTED;
		} else if (blen > n->reqs[kind].max_req) {
			node_peer_pen(n, p, NODE_PEN_OVERSIZE);
			rv = GH_ETOOLONG;
		} else {
			n->cur_env = e;
			rv         = n->reqs[kind].handle(
			            n->reqs[kind].arg, &e->from, body, blen, &w);
			n->cur_env = NULL;
			if (rv == GH_EPENDING && n->cur_req_deferred) {
				gh_writer_free(&w);
				return (NULL); /* node_req_finish answers */
			}
		}
	} else if (!n->has_kind[kind] || n->kinds[kind].frontier == NULL) {
		rv = GH_EUNSUPPORTED;
	} else if (e->type == NODE_MSG_SYNC_FRONT) {
		rv = n->kinds[kind].frontier(n->kinds[kind].arg, &w);
	} else {
		rv = n->kinds[kind].range(
		    n->kinds[kind].arg, body, blen, NODE_ITEMS_MAX, &w);
		if (rv != GH_OK && node_pen_for(rv) != NODE_PEN_INVALID) {
			node_peer_pen(n, p, node_pen_for(rv));
		}
	}
	if (rv == GH_OK && gh_writer_err(&w) != GH_OK) {
		rv = gh_writer_err(&w);
	}
	m = node_reply(
	    n, e, rv, rv == GH_OK ? w.p : NULL, rv == GH_OK ? w.len : 0);
	gh_writer_free(&w);
	return (m);
}

/* The gate every inbound peer frame passes: rate, form, network,
 * address, signature, freshness, replay, handshake, ban, peer rate. */
static nng_msg *
node_in_peer(node *n, nng_msg *msg)
{
	const uint8_t *b   = nng_msg_body(msg);
	size_t         len = nng_msg_len(msg);
	node_pipe     *pp  = node_pipe_get(n, nng_msg_get_pipe(msg));
	uint64_t       now = node_now_us() / 1000;
	node_env       e;
	int            p;
	int            rv;

	n->st.bytes_in += len;
	n->st.frames_in++;
	if (!node_bucket_take(&pp->bucket, 1, gh_mono_ns())) {
		node_pipe_pen(n, pp, NODE_PEN_FLOOD);
		return (NULL);
	}
	if ((rv = node_env_decode(b, len, &e)) != GH_OK) {
		node_pipe_pen(n, pp, node_pen_for(rv));
		return (NULL);
	}
	if (memcmp(e.netid.b, n->cfg.netid.b, 32) != 0) {
		n->st.dropped++;
		return (node_reply(n, &e, GH_ENETID, NULL, 0));
	}
	if (e.type == NODE_MSG_REPLY
	    || (memcmp(e.to.b, n->pub.b, 32) != 0
	        && !(e.type == NODE_MSG_HELLO && node_is_zero(e.to.b, 32)))) {
		node_pipe_pen(n, pp, NODE_PEN_MALFORMED);
		return (NULL);
	}
	if (node_env_verify(&e) != GH_OK) {
		node_pipe_pen(n, pp, NODE_PEN_BADSIG);
		return (NULL);
	}
	if (e.time_ms + NODE_FRESH_MS < now || e.time_ms > now + NODE_FRESH_MS
	    || node_seen_add(n->replay, &e.hash)) {
		node_pipe_pen(n, pp, NODE_PEN_REPLAY);
		return (NULL);
	}
	if (pp->peer >= 0
	    && memcmp(n->peers[pp->peer].pub.b, e.from.b, 32) != 0) {
		/* One connection speaks for one key. */
		node_pipe_pen(n, pp, NODE_PEN_MALFORMED);
		return (NULL);
	}
	if (e.type == NODE_MSG_HELLO) {
		return (node_on_hello(n, &e, pp));
	}
	p = node_peer_find(n, &e.from);
	if (p < 0 || !n->peers[p].hello_ok || node_peer_banned(n, p)) {
		n->st.dropped++;
		return (node_reply(n, &e, GH_EPERM, NULL, 0));
	}
	pp->peer = p;
	if (!node_bucket_take(&n->peers[p].bucket, 1, gh_mono_ns())) {
		node_peer_pen(n, p, NODE_PEN_FLOOD);
		n->st.dropped++;
		return (node_reply(n, &e, GH_EBUSY, NULL, 0));
	}
	n->peers[p].last_seen = gh_time_now();
	switch (e.type) {
	case NODE_MSG_PUSH:
		return (node_on_push(n, &e, p));
	case NODE_MSG_DIGEST:
		return (node_on_digest(n, &e, p));
	case NODE_MSG_IWANT:
		return (node_on_iwant(n, &e, p));
	case NODE_MSG_PEERS:
		return (node_on_peers(n, &e, p));
	default:
		return (node_on_request(n, &e, p));
	}
}

/* ------------------------------------------------------------------ */
/* Control socket. */

static void
node_ic_reply(node_inctx *ic, nng_msg *m)
{
	if (m == NULL) {
		ic->state = NODE_ST_RECV;
		nng_ctx_recv(ic->ctx, ic->aio);
		return;
	}
	ic->state = NODE_ST_SEND;
	nng_aio_set_msg(ic->aio, m);
	nng_ctx_send(ic->ctx, ic->aio);
}

static nng_msg *
node_ctl_msg(int status, const uint8_t *body, size_t len)
{
	gh_writer w;
	nng_msg  *m = NULL;

	gh_writer_init(&w);
	if (node_ctl_rep_encode(status, body, len, &w) != GH_OK) {
		gh_writer_free(&w);
		gh_writer_init(&w);
		(void) node_ctl_rep_encode(GH_ETOOLONG, NULL, 0, &w);
	}
	if (nng_msg_alloc(&m, 0) != 0 || nng_msg_append(m, w.p, w.len) != 0) {
		nng_msg_free(m);
		m = NULL;
	}
	gh_writer_free(&w);
	return (m);
}

void *
node_ctl_defer(node *n)
{
	n->cur_deferred = 1;
	return (n->cur_ctl);
}

void
node_ctl_finish(
    node *n, void *token, int status, const uint8_t *body, size_t len)
{
	(void) n;
	node_ic_reply(token, node_ctl_msg(status, body, len));
}

static nng_msg *
node_in_ctl(node *n, node_inctx *ic, nng_msg *msg)
{
	char           cmd[NODE_CMD_MAX + 1];
	const uint8_t *body;
	uint32_t       blen;
	uint64_t       uid = UINT64_MAX;
	gh_writer      w;
	nng_msg       *m;
	int            rv;

	/* The socket file is 0600 in a 0700 folder; check the peer too. */
	if (nng_pipe_get_uint64(
	        nng_msg_get_pipe(msg), NNG_OPT_IPC_PEER_UID, &uid)
	        == 0
	    && uid != (uint64_t) getuid()) {
		return (node_ctl_msg(GH_EPERM, NULL, 0));
	}
	if ((rv = node_ctl_req_decode(nng_msg_body(msg), nng_msg_len(msg), cmd,
	         sizeof(cmd), &body, &blen))
	    != GH_OK) {
		return (node_ctl_msg(rv, NULL, 0));
	}
	for (uint32_t i = 0; i < n->ncmds; i++) {
		if (strcmp(n->cmds[i].name, cmd) != 0) {
			continue;
		}
		gh_writer_init(&w);
		n->cur_ctl      = ic;
		n->cur_deferred = 0;
		rv = n->cmds[i].handle(n->cmds[i].arg, n, body, blen, &w);
		n->cur_ctl = NULL;
		if (rv == GH_EPENDING && n->cur_deferred) {
			gh_writer_free(&w);
			return (NULL);
		}
		if (rv == GH_OK && gh_writer_err(&w) != GH_OK) {
			rv = gh_writer_err(&w);
		}
		m = node_ctl_msg(
		    rv, rv == GH_OK ? w.p : NULL, rv == GH_OK ? w.len : 0);
		gh_writer_free(&w);
		return (m);
	}
	return (node_ctl_msg(GH_EUNSUPPORTED, NULL, 0));
}

/* Deferred peer replies and callbacks posted from other threads. */

struct node_req_token {
	node_inctx *ic;
	gh_ed_pub   from;
	gh_hash     hash;
};

typedef struct node_posted {
	void (*fn)(void *arg);
	void               *arg;
	struct node_posted *next;
} node_posted;

void *
node_req_defer(node *n)
{
	struct node_req_token *t;

	if (n->cur_req == NULL || n->cur_env == NULL
	    || (t = malloc(sizeof(*t))) == NULL) {
		return (NULL);
	}
	t->ic               = n->cur_req;
	t->from             = n->cur_env->from;
	t->hash             = n->cur_env->hash;
	n->cur_req_deferred = 1;
	return (t);
}

void
node_req_finish(
    node *n, void *token, int status, const uint8_t *body, size_t len)
{
	struct node_req_token *t = token;
	node_env               e;

	memset(&e, 0, sizeof(e));
	e.from = t->from;
	e.hash = t->hash;
	node_ic_reply(t->ic, node_reply(n, &e, status, body, len));
	free(t);
}

int
node_post(node *n, void (*fn)(void *arg), void *arg)
{
	node_posted *p = malloc(sizeof(*p));

	if (p == NULL) {
		return (GH_ENOMEM);
	}
	p->fn   = fn;
	p->arg  = arg;
	p->next = NULL;
	pthread_mutex_lock(&n->mtx);
	if (n->ptail != NULL) {
		n->ptail->next = p;
	} else {
		n->phead = p;
	}
	n->ptail = p;
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mtx);
	return (GH_OK);
}

/* Worker: runs what was posted (returns whether anything was). */
static int
node_run_posted(node *n)
{
	node_posted *p;

	pthread_mutex_lock(&n->mtx);
	p        = n->phead;
	n->phead = n->ptail = NULL;
	pthread_mutex_unlock(&n->mtx);
	if (p == NULL) {
		return (0);
	}
	while (p != NULL) {
		node_posted *next = p->next;
		p->fn(p->arg);
		free(p);
		p = next;
	}
	return (1);
}

/* Built-in commands. */

static void
node_fill_status(node *n, node_status *s)
{
	*s           = n->st;
	s->pub       = n->pub;
	s->netid     = n->cfg.netid;
	s->uptime_ms = node_mono_ms() - n->start_ms;
	snprintf(s->listen, sizeof(s->listen), "%s", n->cfg.listen);
	s->peers_active = s->peers_known = s->peers_banned = 0;
	for (int i = 0; i < NODE_PEERS_MAX; i++) {
		if (!n->peers[i].used) {
			continue;
		}
		s->peers_known++;
		s->peers_banned += node_peer_banned(n, i);
		s->peers_active
		    += n->peers[i].conn >= 0 && n->conns[n->peers[i].conn].up;
	}
	pthread_mutex_lock(&n->mtx);
	s->dropped += n->cb_dropped;
	pthread_mutex_unlock(&n->mtx);
	s->unchecked = n->nunchecked;
}

static int
node_cmd_status(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_status s;

	(void) arg;
	(void) req;
	if (len != 0) {
		return (GH_EINVAL);
	}
	node_fill_status(n, &s);
	return (node_status_encode(&s, out));
}

static int
node_cmd_peers(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	uint32_t cnt = 0;
	size_t   at  = out->len;

	(void) arg;
	(void) req;
	if (len != 0) {
		return (GH_EINVAL);
	}
	gh_put_u32(out, 0);
	for (int i = 0; i < NODE_PEERS_MAX; i++) {
		node_peer    *p = &n->peers[i];
		node_peer_row r;
		if (!p->used) {
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.pub = p->pub;
		snprintf(r.addr, sizeof(r.addr), "%s", p->addr);
		r.score        = p->score;
		r.banned_until = node_peer_banned(n, i) ? p->banned_until : 0;
		r.last_seen    = p->last_seen;
		r.active       = p->conn >= 0 && n->conns[p->conn].up;
		(void) node_peer_row_encode(&r, out);
		cnt++;
	}
	if (gh_writer_err(out) == GH_OK) {
		gh_be32_put(out->p + at, cnt);
	}
	return (gh_writer_err(out));
}

static int
node_cmd_stop(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	(void) arg;
	(void) req;
	(void) len;
	(void) out;
	NLOG(n, "info", "msg=\"stop requested\" via=control");
	/* Leave time for the reply to leave before the sockets close. */
	n->stop_at_ms = node_mono_ms() + 100;
	return (GH_OK);
}

static int
node_cmd_announce(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_ann  a;
	gh_reader r;
	gh_writer w;
	gh_hash   id;
	uint64_t  seq;
	int       rv;

	(void) arg;
	memset(&a, 0, sizeof(a));
	gh_reader_init(&r, req, len);
	if ((rv = gh_get_cstr(&r, NODE_ANN_TEXT_MAX, a.text, sizeof(a.text)))
	        != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	rv = node_ann_store_head(n->ann, &n->pub, &seq, &a.prev);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	a.author  = n->pub;
	a.seq     = seq + 1;
	a.time_ms = node_now_us() / 1000;
	if ((rv = node_ann_sign(&a, n->key)) != GH_OK) {
		return (rv);
	}
	gh_writer_init(&w);
	if ((rv = node_ann_encode(&a, &w)) == GH_OK
	    && (rv = node_publish(n, NODE_KIND_ANNOUNCE, w.p, w.len, &id))
	        == GH_OK) {
		gh_put_fixed(out, id.b, 32);
		gh_put_u64(out, a.seq);
	}
	gh_writer_free(&w);
	return (rv != GH_OK ? rv : gh_writer_err(out));
}

typedef struct {
	node      *n;
	gh_writer *out;
	uint32_t   cnt;
} node_msgs_ctx;

static void
node_msgs_each(void *arg, const uint8_t *p, size_t len, uint64_t recv_us)
{
	node_msgs_ctx *c = arg;
	node_msg_row   row;
	node_ann       a;
	node_sitem    *it;

	if (node_ann_decode(p, len, &a) != GH_OK) {
		return;
	}
	memset(&row, 0, sizeof(row));
	node_item_id(NODE_KIND_ANNOUNCE, p, len, &row.id);
	row.author  = a.author;
	row.seq     = a.seq;
	row.recv_us = recv_us;
	if ((it = node_store_find(c->n, &row.id)) != NULL) {
		row.copies = it->copies;
	}
	memcpy(row.text, a.text, sizeof(row.text));
	(void) node_msg_row_encode(&row, c->out);
	c->cnt++;
}

static int
node_cmd_messages(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_msgs_ctx c  = { n, out, 0 };
	size_t        at = out->len;
	int           rv;

	(void) arg;
	(void) req;
	if (len != 0) {
		return (GH_EINVAL);
	}
	gh_put_u32(out, 0);
	if ((rv = node_ann_store_each(n->ann, 10000, node_msgs_each, &c))
	    != GH_OK) {
		return (rv);
	}
	if (gh_writer_err(out) == GH_OK) {
		gh_be32_put(out->p + at, c.cnt);
	}
	return (gh_writer_err(out));
}

typedef struct {
	node    *n;
	void    *token;
	uint64_t t0;
} node_ping_ctx;

static void
node_ping_done(void *arg, int err, const uint8_t *body, size_t len)
{
	node_ping_ctx *c = arg;
	uint8_t        rtt[8];

	(void) body;
	(void) len;
	gh_be64_put(rtt, (gh_mono_ns() - c->t0) / 1000);
	node_ctl_finish(c->n, c->token, err, err == GH_OK ? rtt : NULL,
	    err == GH_OK ? 8 : 0);
	free(c);
}

static int
node_cmd_ping(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	gh_ed_pub      pub;
	node_ping_ctx *c;
	int            rv;

	(void) arg;
	(void) out;
	if (len != 32) {
		return (GH_EINVAL);
	}
	memcpy(pub.b, req, 32);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		return (GH_ENOMEM);
	}
	c->n  = n;
	c->t0 = gh_mono_ns();
	if ((rv = node_request(n, &pub, NODE_REQ_PING,
	         (const uint8_t *) "ping", 4, node_ping_done, c))
	    != GH_OK) {
		free(c);
		return (rv);
	}
	c->token = node_ctl_defer(n);
	return (GH_EPENDING);
}

static int
node_req_ping(void *arg, const gh_ed_pub *peer, const uint8_t *req, size_t n,
    gh_writer *out)
{
	(void) arg;
	(void) peer;
	gh_put_fixed(out, req, n);
	return (gh_writer_err(out));
}

/* ------------------------------------------------------------------ */
/* Registration. */

int
node_register_kind(node *n, const node_kind *k)
{
	if (k->validate == NULL || k->apply == NULL || k->max_len == 0
	    || k->max_len > NODE_BODY_MAX - 64
	    || ((k->frontier == NULL) != (k->plan == NULL))
	    || ((k->frontier == NULL) != (k->range == NULL))) {
		return (GH_EINVAL);
	}
	if (n->has_kind[k->kind]) {
		return (GH_EEXIST);
	}
	n->kinds[k->kind]    = *k;
	n->has_kind[k->kind] = 1;
	return (GH_OK);
}

int
node_register_request(node *n, const node_req_kind *k)
{
	if (k->handle == NULL || k->max_req > NODE_BODY_MAX - 64) {
		return (GH_EINVAL);
	}
	if (n->has_req[k->kind]) {
		return (GH_EEXIST);
	}
	n->reqs[k->kind]    = *k;
	n->has_req[k->kind] = 1;
	return (GH_OK);
}

int
node_register_ctl(node *n, const node_ctl_cmd *c)
{
	if (c->handle == NULL || c->name == NULL
	    || strlen(c->name) > NODE_CMD_MAX) {
		return (GH_EINVAL);
	}
	for (uint32_t i = 0; i < n->ncmds; i++) {
		if (strcmp(n->cmds[i].name, c->name) == 0) {
			return (GH_EEXIST);
		}
	}
	if (n->ncmds == sizeof(n->cmds) / sizeof(n->cmds[0])) {
		return (GH_EFULL);
	}
	n->cmds[n->ncmds++] = *c;
	return (GH_OK);
}

int
node_register_timer(
    node *n, uint32_t every_ms, void (*fn)(void *arg), void *arg)
{
	if (fn == NULL || every_ms == 0) {
		return (GH_EINVAL);
	}
	if (n->ntimers == (int) (sizeof(n->timers) / sizeof(n->timers[0]))) {
		return (GH_EFULL);
	}
	n->timers[n->ntimers].fn       = fn;
	n->timers[n->ntimers].arg      = arg;
	n->timers[n->ntimers].every_ms = every_ms;
	n->timers[n->ntimers].next_ms  = node_mono_ms() + every_ms;
	n->ntimers++;
	return (GH_OK);
}

const gh_ed_key *
node_key_get(const node *n)
{
	return (n->key);
}

const node_config *
node_cfg_get(const node *n)
{
	return (&n->cfg);
}

void
node_pub(const node *n, gh_ed_pub *out)
{
	*out = n->pub;
}

/* ------------------------------------------------------------------ */
/* Open, run, close. */

static int
node_listen_ctl(node *n)
{
	char         url[PATH_MAX + 16];
	nng_listener l;
	int          rv;

	if ((rv = node_ctl_url(n->cfg.data_dir, url, sizeof(url))) != GH_OK) {
		return (rv);
	}
	/* A stale socket file from a crash: remove it (a live node would
	 * still hold the env lock, checked before). */
	(void) unlink(url + 6);
	if (nng_rep0_open(&n->ctl) != 0) {
		return (GH_ENOMEM);
	}
	n->ctl_open = 1;
	nng_socket_set_size(n->ctl, NNG_OPT_RECVMAXSZ, NODE_CTL_MAX + 64);
	if ((rv = nng_listener_create(&l, n->ctl, url)) != 0) {
		return (node_nng_err(rv));
	}
	(void) nng_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600);
	if ((rv = nng_listener_start(l, 0)) != 0) {
		return (node_nng_err(rv));
	}
	if (chmod(url + 6, 0600) != 0) {
		return (gh_err_from_errno(errno));
	}
	return (GH_OK);
}

static int
node_inctx_start(node *n, node_inctx *ic, nng_socket s, int ctl)
{
	ic->n   = n;
	ic->ctl = ctl;
	if (nng_ctx_open(&ic->ctx, s) != 0
	    || nng_aio_alloc(&ic->aio, node_in_cb, ic) != 0) {
		return (GH_ENOMEM);
	}
	ic->state = NODE_ST_RECV;
	nng_ctx_recv(ic->ctx, ic->aio);
	return (GH_OK);
}

int
node_open(const node_config *c, gh_ed_key *key, node **out)
{
	node                      *n = NULL;
	char                       path[PATH_MAX];
	MDB_txn                   *txn = NULL;
	node_kind                  ak;
	int                        rv = GH_ENOMEM;
	int                        rc;
	static const node_req_kind ping
	    = { NODE_REQ_PING, "ping", 64, NULL, node_req_ping };
	static const node_ctl_cmd cmds[] = {
		{ "status", NULL, node_cmd_status },
		{ "peers", NULL, node_cmd_peers },
		{ "stop", NULL, node_cmd_stop },
		{ "announce", NULL, node_cmd_announce },
		{ "messages", NULL, node_cmd_messages },
		{ "ping", NULL, node_cmd_ping },
	};

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		gh_ed_key_free(key);
		return (GH_ENOMEM);
	}
	n->cfg = *c;
	n->key = key;
	gh_ed_key_pub(key, &n->pub);
	randombytes_buf(&n->boot, sizeof(n->boot));
	n->boot |= 1;
	/* Frame nonces start at random so two runs never sign the same
	 * frame (the replay cache would drop the second). */
	randombytes_buf(&n->nonce, sizeof(n->nonce));
	n->nonce >>= 1;
	n->start_ms  = node_mono_ms();
	n->next_lseq = 1;
	pthread_mutex_init(&n->mtx, NULL);
	pthread_cond_init(&n->cv, NULL);
	for (int i = 0; i < NODE_CONNS_MAX; i++) {
		n->conns[i].peer = n->conns[i].seed = -1;
	}
	for (uint32_t i = 0; i < c->nseeds; i++) {
		snprintf(n->seeds[i].addr, sizeof(n->seeds[i].addr), "%s",
		    c->seeds[i]);
		n->seeds[i].conn = -1;
		n->seeds[i].self = strcmp(c->seeds[i], c->listen) == 0;
	}
	if ((n->store = calloc(c->store_cap, sizeof(*n->store))) == NULL
	    || node_idmap_init(&n->store_map, c->store_cap) != GH_OK
	    || node_seen_new(c->seen_cap, &n->seen) != GH_OK
	    || node_seen_new(65536, &n->replay) != GH_OK
	    || node_metrics_new(&n->metrics) != GH_OK) {
		goto fail;
	}

	/* State: <data_dir>/node, 0700, an LMDB env.  MDB_NOSYNC: the peer
	 * table and test announcements are cheap to lose in a crash. */
	if (snprintf(path, sizeof(path), "%s/node", c->data_dir)
	    >= (int) sizeof(path)) {
		rv = GH_ETOOLONG;
		goto fail;
	}
	if ((rv = gh_mkdir_p(path, 0700)) != GH_OK) {
		goto fail;
	}
	(void) chmod(path, 0700);
	if ((rc = mdb_env_create(&n->env)) != 0
	    || (rc = mdb_env_set_maxdbs(n->env, 8)) != 0
	    || (rc = mdb_env_set_mapsize(n->env, (size_t) 1 << 30)) != 0
	    || (rc = mdb_env_open(n->env, path, MDB_NOTLS | MDB_NOSYNC, 0600))
	        != 0) {
		rv = rc == EAGAIN || rc == EBUSY ? GH_EBUSY : node_mdb_err(rc);
		goto fail;
	}
	if ((rc = mdb_txn_begin(n->env, NULL, 0, &txn)) != 0
	    || (rc = mdb_dbi_open(txn, "peers", MDB_CREATE, &n->peers_db)) != 0
	    || (rc = mdb_txn_commit(txn)) != 0) {
		if (txn != NULL && rc != 0) {
			mdb_txn_abort(txn);
		}
		rv = node_mdb_err(rc);
		goto fail;
	}
	if ((rv = node_peers_load(n)) != GH_OK
	    || (rv = node_ann_store_open(n->env, &n->ann)) != GH_OK) {
		goto fail;
	}
	/* Only one node per data dir: the env lock file would let two
	 * share it, so take an exclusive lock on a file of our own. */
	{
		char  lp[PATH_MAX + 16];
		FILE *f;
		snprintf(lp, sizeof(lp), "%s/node.pid", path);
		if ((f = fopen(lp, "a+")) == NULL) {
			rv = gh_err_from_errno(errno);
			goto fail;
		}
		if (lockf(fileno(f), F_TLOCK, 0) != 0) {
			fclose(f);
			rv = GH_EBUSY;
			goto fail;
		}
		/* Held until the process exits. */
		if (ftruncate(fileno(f), 0) == 0) {
			fprintf(f, "%d\n", (int) getpid());
			fflush(f);
		}
	}
	node_ann_kind_fill(n->ann, &ak);
	(void) node_register_kind(n, &ak);
	(void) node_register_request(n, &ping);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void) node_register_ctl(n, &cmds[i]);
	}

	if (nng_rep0_open(&n->rep) != 0) {
		rv = GH_ENOMEM;
		goto fail;
	}
	n->rep_open = 1;
	nng_socket_set_size(n->rep, NNG_OPT_RECVMAXSZ, NODE_MSG_MAX);
	nng_pipe_notify(n->rep, NNG_PIPE_EV_ADD_POST, node_pipe_cb, n);
	nng_pipe_notify(n->rep, NNG_PIPE_EV_REM_POST, node_pipe_cb, n);
	if ((rc = nng_listen(n->rep, c->listen, NULL, 0)) != 0) {
		rv = node_nng_err(rc);
		goto fail;
	}
	if ((rv = node_listen_ctl(n)) != GH_OK) {
		goto fail;
	}
	*out = n;
	return (GH_OK);
fail:
	node_close(n);
	return (rv);
}

static void
node_tick(node *n)
{
	uint64_t now    = node_mono_ms();
	int      active = 0, used = 0;
	int      upc[NODE_CONNS_MAX];
	int      nup = 0;

	for (int i = 0; i < NODE_CONNS_MAX; i++) {
		used += n->conns[i].used;
		if (n->conns[i].used && n->conns[i].up) {
			upc[nup++] = i;
			active++;
		}
	}
	/* Dial known peers, a couple per tick, while under the cap. */
	for (int tries = 0; tries < 2 && (uint32_t) used < n->cfg.max_peers;
	     tries++) {
		int cand[NODE_PEERS_MAX];
		int nc = 0;
		for (int i = 0; i < NODE_PEERS_MAX; i++) {
			node_peer *p = &n->peers[i];
			if (p->used && p->conn < 0 && p->addr[0] != '\0'
			    && p->next_dial_ms <= now
			    && strcmp(p->addr, n->cfg.listen) != 0
			    && !node_peer_banned(n, i)) {
				cand[nc++] = i;
			}
		}
		if (nc == 0) {
			break;
		}
		{
			int p = cand[node_rand((uint32_t) nc)];
			if (node_conn_open(n, n->peers[p].addr, p, -1)
			    != GH_OK) {
				n->peers[p].next_dial_ms
				    = now + n->cfg.reconnect_max_ms;
			} else {
				used++;
			}
		}
	}
	/* Dial back the peers that dialed us, up to max_inbound. */
	for (int i = 0; i < NODE_PEERS_MAX
	     && (uint32_t) used < n->cfg.max_peers + n->cfg.max_inbound
	     && used < NODE_CONNS_MAX - NODE_SEEDS_MAX;
	     i++) {
		node_peer *p = &n->peers[i];
		if (!p->used || !p->dialback) {
			continue;
		}
		if (p->conn >= 0 || node_peer_banned(n, i)) {
			p->dialback = 0;
			continue;
		}
		if (p->next_dial_ms > now || p->addr[0] == '\0') {
			continue;
		}
		p->dialback = 0;
		if (node_conn_open(n, p->addr, i, -1) == GH_OK) {
			used++;
		}
	}
	/* Seeds: until we have enough peers. */
	for (uint32_t i = 0; i < n->cfg.nseeds; i++) {
		node_seed *s    = &n->seeds[i];
		int        have = 0;
		if (s->self || s->conn >= 0 || s->next_dial_ms > now
		    || (uint32_t) active >= n->cfg.max_peers) {
			continue;
		}
		for (int j = 0; j < NODE_PEERS_MAX && !have; j++) {
			have = n->peers[j].used && n->peers[j].conn >= 0
			    && strcmp(n->peers[j].addr, s->addr) == 0;
		}
		if (!have
		    && node_conn_open(n, s->addr, -1, (int) i) != GH_OK) {
			s->next_dial_ms = now + n->cfg.reconnect_max_ms;
		}
	}
	if (now >= n->next_gossip_ms && nup > 0) {
		n->next_gossip_ms = now + n->cfg.gossip_ms;
		node_digest_send(n, upc[node_rand((uint32_t) nup)]);
	}
	if (now >= n->next_pex_ms && nup > 0) {
		int known = 0;
		for (int i = 0; i < NODE_PEERS_MAX; i++) {
			known += n->peers[i].used;
		}
		/* Often while the table is small, rarely once it is not. */
		n->next_pex_ms = now
		    + ((uint32_t) known < 2 * n->cfg.max_peers
		            ? 4 * (uint64_t) n->cfg.gossip_ms
		            : 30000);
		(void) node_out_send(n, upc[node_rand((uint32_t) nup)],
		    NODE_MSG_PEERS, NULL, 0, node_peers_done);
	}
	if (now >= n->next_sync_ms && nup > 0) {
		n->next_sync_ms = now + n->cfg.sync_ms;
		for (int k = 0; k <= NODE_KIND_MAX; k++) {
			if (!n->has_kind[k] || n->kinds[k].frontier == NULL) {
				continue;
			}
			for (int j = 0; j < NODE_SYNC_PEERS && j < nup; j++) {
				int       x = (int) node_rand((uint32_t) nup);
				uint8_t   kb[5] = { (uint8_t) k, 0, 0, 0, 0 };
				node_out *o;
				int       t  = upc[x];
				upc[x]       = upc[nup - 1];
				upc[nup - 1] = t;
				/* Body: u8 kind, empty str. */
				o = node_out_send(n, t, NODE_MSG_SYNC_FRONT,
				    kb, sizeof(kb), node_front_done);
				if (o != NULL) {
					o->kind = kb[0];
				}
			}
		}
	}
	if (now >= n->next_slow_ms) {
		n->next_slow_ms = now + 1000;
		while (n->store_count > 0
		    && n->store[(node_store_oldest(n) - 1) % n->cfg.store_cap]
		                .at_ms
		            + (uint64_t) n->cfg.retain_s * 1000
		        < now) {
			node_store_evict_one(n);
		}
		for (int i = 0; i < NODE_UNCHECKED_MAX && n->nunchecked > 0;
		     i++) {
			node_unchk *u = &n->unchecked[i];
			if (u->used
			    && u->at_ms + NODE_UNCHECKED_S * 1000 < now) {
				free(u->p);
				memset(u, 0, sizeof(*u));
				n->nunchecked--;
			}
		}
		for (int i = 0; i < NODE_PEERS_MAX; i++) {
			node_peer *p = &n->peers[i];
			if (p->used && p->banned_until != 0
			    && p->banned_until <= gh_time_now()) {
				p->banned_until = 0;
				p->score        = 0;
				p->dirty        = 1;
			}
		}
		node_peers_flush(n);
	}
}

int
node_run(node *n)
{
	char s[17];

	for (int i = 0; i < NODE_IN_CTXS; i++) {
		if (node_inctx_start(n, &n->in[i], n->rep, 0) != GH_OK) {
			return (GH_ENOMEM);
		}
	}
	for (int i = 0; i < NODE_CTL_CTXS; i++) {
		if (node_inctx_start(n, &n->cin[i], n->ctl, 1) != GH_OK) {
			return (GH_ENOMEM);
		}
	}
	node_short(&n->pub, s);
	NLOG(n, "info", "msg=\"node running\" node=%s listen=%s seeds=%u", s,
	    n->cfg.listen, n->cfg.nseeds);
	for (;;) {
		node_inctx *ic = NULL;
		node_out   *o  = NULL;
		int         stop;

		(void) node_run_posted(n);
		pthread_mutex_lock(&n->mtx);
		if (n->qhead[0] == NULL && n->qhead[1] == NULL
		    && n->dhead == NULL && n->phead == NULL && !n->stop) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += NODE_TICK_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&n->cv, &n->mtx, &ts);
		}
		for (int lane = 0; lane < 2 && ic == NULL; lane++) {
			if ((ic = n->qhead[lane]) != NULL) {
				n->qhead[lane] = ic->next;
				if (n->qhead[lane] == NULL) {
					n->qtail[lane] = NULL;
				}
			}
		}
		if (ic == NULL && (o = n->dhead) != NULL) {
			n->dhead = o->dnext;
			if (n->dhead == NULL) {
				n->dtail = NULL;
			}
		}
		stop = n->stop;
		pthread_mutex_unlock(&n->mtx);
		if (stop
		    || (n->stop_at_ms != 0
		        && node_mono_ms() >= n->stop_at_ms)) {
			if (ic != NULL) {
				nng_msg_free(ic->msg);
			}
			if (o != NULL) {
				node_out_finish(n, o);
			}
			break;
		}
		if (ic != NULL) {
			nng_msg *msg = ic->msg;
			nng_msg *rep;
			n->cur_req          = ic->ctl ? NULL : ic;
			n->cur_req_deferred = 0;
			rep                 = ic->ctl ? node_in_ctl(n, ic, msg)
			                              : node_in_peer(n, msg);
			n->cur_req          = NULL;
			ic->msg             = NULL;
			nng_msg_free(msg);
			if (!(ic->ctl && rep == NULL)
			    && !(!ic->ctl && rep == NULL
			        && n->cur_req_deferred)) {
				node_ic_reply(ic, rep);
			}
		}
		if (o != NULL) {
			node_out_finish(n, o);
		}
		node_http_poll(n->http);
		for (int k = 0; k <= NODE_KIND_MAX; k++) {
			if (n->has_kind[k] && n->kinds[k].flush != NULL) {
				n->kinds[k].flush(n->kinds[k].arg);
			}
		}
		for (int t = 0; t < n->ntimers; t++) {
			if (node_mono_ms() >= n->timers[t].next_ms) {
				n->timers[t].next_ms
				    = node_mono_ms() + n->timers[t].every_ms;
				n->timers[t].fn(n->timers[t].arg);
			}
		}
		if (node_mono_ms() >= n->next_tick_ms) {
			n->next_tick_ms = node_mono_ms() + NODE_TICK_MS / 2;
			node_tick(n);
		}
	}
	NLOG(n, "info", "msg=\"node stopping\"");
	return (GH_OK);
}

void
node_close(node *n)
{
	if (n == NULL) {
		return;
	}
	/* The HTTP server first: it answers what it still holds. */
	node_http_close(n->http);
	/* Posted callbacks never run now (their owners free their own). */
	while (n->phead != NULL) {
		node_posted *p = n->phead;
		n->phead       = p->next;
		free(p);
	}
	/* Closing the sockets aborts every aio; then the aios are freed
	 * (which waits for their callbacks) before what they point to. */
	if (n->rep_open) {
		nng_close(n->rep);
	}
	if (n->ctl_open) {
		nng_close(n->ctl);
	}
	for (int i = 0; i < NODE_CONNS_MAX; i++) {
		if (n->conns[i].used) {
			nng_close(n->conns[i].sock);
			n->conns[i].used = 0;
		}
	}
	while (n->outs != NULL) {
		node_out *o = n->outs;
		n->outs     = o->next;
		nng_aio_free(o->aio);
		nng_msg_free(o->reply);
		if (o->cb != NULL) {
			o->cb(o->cbarg, GH_ECLOSED, NULL, 0);
		}
		free(o->ids);
		free(o);
	}
	for (int i = 0; i < NODE_IN_CTXS; i++) {
		if (n->in[i].aio != NULL) {
			nng_aio_free(n->in[i].aio);
		}
		nng_msg_free(n->in[i].msg);
	}
	for (int i = 0; i < NODE_CTL_CTXS; i++) {
		if (n->cin[i].aio != NULL) {
			nng_aio_free(n->cin[i].aio);
		}
		nng_msg_free(n->cin[i].msg);
	}
	if (n->env != NULL) {
		node_peers_flush(n);
		mdb_env_close(n->env);
	}
	node_ann_store_free(n->ann);
	if (n->store != NULL) {
		for (uint32_t i = 0; i < n->cfg.store_cap; i++) {
			free(n->store[i].p);
		}
		free(n->store);
	}
	node_idmap_fini(&n->store_map);
	node_seen_free(n->seen);
	node_seen_free(n->replay);
	for (int i = 0; i < NODE_UNCHECKED_MAX; i++) {
		free(n->unchecked[i].p);
	}
	pthread_mutex_destroy(&n->mtx);
	pthread_cond_destroy(&n->cv);
	gh_ed_key_free(n->key);
	node_metrics_free(n->metrics);
	free(n);
}

/* ------------------------------------------------------------------ */
/* HTTP API hooks (the server itself is http.c). */

static void
node_http_status(void *arg, node_status *out)
{
	node_fill_status(arg, out);
}

static void
node_http_wake(void *arg)
{
	node *n = arg;

	pthread_mutex_lock(&n->mtx);
	pthread_cond_signal(&n->cv);
	pthread_mutex_unlock(&n->mtx);
}

int
node_http_start(node *n, const node_http_src *src)
{
	node_web_ctx c;
	int          rv;

	if (n->cfg.http_listen[0] == '\0') {
		return (GH_OK);
	}
	if (n->http != NULL) {
		return (GH_EEXIST);
	}
	memset(&c, 0, sizeof(c));
	if (src != NULL) {
		c.src = *src;
	}
	c.metrics = n->metrics;
	c.arg     = n;
	c.status  = node_http_status;
	c.wake    = node_http_wake;
	if ((rv = node_http_open(n->cfg.http_listen, &c, &n->http)) != GH_OK) {
		return (rv);
	}
	NLOG(n, "info", "msg=\"http api listening\" addr=%s",
	    n->cfg.http_listen);
	return (GH_OK);
}

node_metrics *
node_metrics_of(node *n)
{
	return (n->metrics);
}
