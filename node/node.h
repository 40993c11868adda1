/*
 * node.h - the node daemon's network layer: configuration, peers and
 * their handshake, gossip with pull repair, generic requests, generic
 * sync, limits, and the local control socket.  Prefix node_.
 *
 * Threads.  A node has one worker thread (the one that calls node_run):
 * every handler below, every reply callback and every LMDB access runs
 * there, so handlers need no locks.  nng's callbacks only move messages
 * onto the worker's bounded queue; they never block.  node_stop may be
 * called from any thread (a signal thread).
 *
 * How the ledger plugs in.  Each gossip kind (certified entries, votes,
 * checkpoints, equivocation proofs, offers) registers a node_kind: a
 * validate function (ok / drop with a penalty / pending on a missing
 * predecessor), an apply function, and optionally the three sync
 * functions (frontier, plan, range).  Each request kind (vote request,
 * certificate submission, lease and job traffic) registers a
 * node_req_kind.  Control commands (the CLI's) register a node_ctl_cmd.
 * The node owns transport, authentication, dedup, forwarding, pull
 * repair, the unchecked table, scoring and limits; handlers only judge
 * and store bytes.
 */
#ifndef GH_NODE_H
#define GH_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ------------------------------------------------------------------ */
/* Limits and wire constants. */

#define NODE_WIRE_VERSION 1
#define NODE_MSG_MAX      (1u << 20) /* largest peer frame (RECVMAXSZ) */
#define NODE_BODY_MAX     (NODE_MSG_MAX - 256)
#define NODE_ADDR_MAX     128 /* "tcp://host:port" */
#define NODE_CTL_MAX      (1u << 20)
#define NODE_CMD_MAX      32
#define NODE_IWANT_MAX    64     /* ids per IWANT */
#define NODE_DIGEST_MAX   512    /* ids per digest reply */
#define NODE_PEERS_XCHG   32     /* addresses per PEERS reply */
#define NODE_ITEMS_MAX    1024   /* items per sync range reply */
#define NODE_FRESH_MS     120000 /* envelope clock window (replays) */

/* Peer frame types (the second byte of every frame). */
enum {
	NODE_MSG_HELLO = 1,  /* handshake request */
	NODE_MSG_PUSH,       /* one gossip item */
	NODE_MSG_DIGEST,     /* "ids you saw since cursor C" */
	NODE_MSG_IWANT,      /* "send me these ids" */
	NODE_MSG_PEERS,      /* peer exchange */
	NODE_MSG_REQUEST,    /* generic request: kind + body */
	NODE_MSG_SYNC_FRONT, /* sync: a kind's frontier */
	NODE_MSG_SYNC_RANGE, /* sync: a kind's range */
	NODE_MSG_REPLY = 64, /* any reply: status + body */
};

/* Gossip kinds.  1..15 are the network's own; the ledger and the market
 * use the ones reserved here. */
enum {
	NODE_KIND_ANNOUNCE = 1, /* signed chain of test announcements */
	NODE_KIND_EQUIVOCATION
	= 16,                      /* ledger: equivocation proof (priority) */
	NODE_KIND_CERT       = 17, /* ledger: certified entry */
	NODE_KIND_VOTE       = 18, /* ledger: vote */
	NODE_KIND_CHECKPOINT = 19, /* log: signed checkpoint */
	NODE_KIND_OFFER      = 32, /* market: offer */
	NODE_KIND_MAX        = 255,
};

/* ------------------------------------------------------------------ */
/* Envelope: every peer frame.
 *
 *   u8 version, u8 type, [32] network id, [32] from (Ed25519), [32] to
 *   (zero in a HELLO to an unknown seed), [32] re (the hash of the
 *   request a reply answers, else zero), u64 time_ms, u64 nonce,
 *   str body (max NODE_BODY_MAX), [64] signature by `from` over
 *   hash(GH_TAG_MESSAGE, everything before the signature).
 *
 * A frame is thus signed by its sender's node key, bound to the
 * network, to its receiver and (replies) to its request; the receiver
 * rejects frames outside NODE_FRESH_MS and frames whose hash it has
 * seen (replays).
 */
typedef struct {
	uint8_t        type;
	gh_hash        netid;
	gh_ed_pub      from;
	gh_ed_pub      to;
	gh_hash        re;
	uint64_t       time_ms;
	uint64_t       nonce;
	const uint8_t *body; /* borrowed from the decoded buffer */
	uint32_t       body_len;
	gh_sig         sig;
	gh_hash        hash; /* decode fills: the signed hash */
} node_env;

/*
 * Encodes and signs an envelope (fills e->hash and e->sig).  *out is
 * malloc'd (caller frees).  GH_ETOOLONG for a body over NODE_BODY_MAX.
 */
int node_env_encode(node_env *e, const gh_ed_key *k, uint8_t **out, size_t *n);
/* Decodes without checking the signature (e borrows p).  Rejects
 * trailing bytes, unknown versions and types. */
int node_env_decode(const uint8_t *p, size_t n, node_env *e);
/* GH_OK or GH_EBADSIG. */
int node_env_verify(const node_env *e);

/* A gossip item: u8 kind, str payload.  The id is
 * hash(GH_TAG_MESSAGE, kind || payload). */
void node_item_id(uint8_t kind, const uint8_t *p, size_t n, gh_hash *id);

/* ------------------------------------------------------------------ */
/* Bodies of peer frames (all canonical; decoders borrow their input). */

typedef struct {
	char     addr[NODE_ADDR_MAX + 1]; /* where the sender listens */
	uint64_t boot;                    /* changes at every start */
} node_hello;
int node_hello_encode(const node_hello *h, gh_writer *w);
int node_hello_decode(const uint8_t *p, size_t n, node_hello *h);

typedef struct {
	uint8_t        kind;
	const uint8_t *payload;
	uint32_t       len;
} node_item;
int node_item_encode(const node_item *it, gh_writer *w);
int node_item_decode(const uint8_t *p, size_t n, node_item *it);

/* DIGEST request: boot of the peer the cursor belongs to, the cursor. */
typedef struct {
	uint64_t boot;
	uint64_t since;
} node_digest_req;
int node_digest_req_encode(const node_digest_req *d, gh_writer *w);
int node_digest_req_decode(const uint8_t *p, size_t n, node_digest_req *d);

/* DIGEST reply: the replier's boot, its next cursor, ids (borrowed). */
typedef struct {
	uint64_t       boot;
	uint64_t       next;
	uint32_t       count;
	const uint8_t *ids; /* count * 32 bytes */
} node_digest;
int node_digest_encode(const node_digest *d, gh_writer *w);
int node_digest_decode(const uint8_t *p, size_t n, node_digest *d);

/* IWANT request: a list of ids (at most NODE_IWANT_MAX). */
int node_ids_encode(const gh_hash *ids, uint32_t count, gh_writer *w);
int node_ids_decode(const uint8_t *p, size_t n, uint32_t max,
    const uint8_t **ids, uint32_t *count);

/* A list of items (IWANT reply, sync range reply): u32 count, then
 * count items.  The decoder checks the form; node_items_next walks it. */
typedef struct {
	gh_reader r;
	uint32_t  left;
} node_items_iter;
int node_items_begin(
    const uint8_t *p, size_t n, uint32_t max, node_items_iter *it);
int node_items_next(node_items_iter *it, node_item *item);

/* A reply: u16 status (gh_err), str body. */
int node_reply_decode(const uint8_t *p, size_t n, uint16_t *status,
    const uint8_t **body, uint32_t *len);

/* ------------------------------------------------------------------ */
/* Bounded caches and limits (unit-tested on their own). */

/* A bounded set of 32-byte ids; the oldest is evicted when full. */
typedef struct node_seen node_seen;
int                      node_seen_new(uint32_t cap, node_seen **out);
void                     node_seen_free(node_seen *s);
/* 1 if id was already present; else inserts it and returns 0. */
int      node_seen_add(node_seen *s, const gh_hash *id);
int      node_seen_has(const node_seen *s, const gh_hash *id);
uint32_t node_seen_count(const node_seen *s);

/* A token bucket: rate tokens per second, at most burst. */
typedef struct {
	double   tokens;
	double   rate;
	double   burst;
	uint64_t last_ns;
} node_bucket;
void node_bucket_init(
    node_bucket *b, double rate, double burst, uint64_t now_ns);
/* 1 if cost tokens were available (and takes them), else 0. */
int node_bucket_take(node_bucket *b, double cost, uint64_t now_ns);

/* Peer scores: start at 0, penalties subtract, good traffic adds up to
 * NODE_SCORE_MAX; at or below NODE_SCORE_BAN the peer is banned. */
#define NODE_SCORE_MAX 100
#define NODE_SCORE_BAN (-100)
typedef enum {
	NODE_PEN_GOOD = 0,  /* +1 */
	NODE_PEN_MALFORMED, /* -25 */
	NODE_PEN_BADSIG,    /* -50 */
	NODE_PEN_OVERSIZE,  /* -50 */
	NODE_PEN_FLOOD,     /* -5 per message over the rate */
	NODE_PEN_REPLAY,    /* -10 */
	NODE_PEN_INVALID,   /* -10: well-formed but rejected by a kind */
	NODE_PEN_TIMEOUT,   /* -1 */
} node_pen;
/* Applies a penalty to *score (clamped); returns 1 if now banned. */
int node_score_apply(int32_t *score, node_pen pen);
/* The penalty for a validate() error code. */
node_pen node_pen_for(int err);

/* ------------------------------------------------------------------ */
/* Configuration: a text file of `key = value` lines, '#' comments. */

#define NODE_SEEDS_MAX 32

typedef struct {
	char     data_dir[1024];
	char     listen[NODE_ADDR_MAX + 1];
	char     seeds[NODE_SEEDS_MAX][NODE_ADDR_MAX + 1];
	uint32_t nseeds;
	char     node_key[1024];
	char     node_key_pass_env[64];
	char     genesis[1024];
	gh_hash  netid;       /* filled by node_config_load from genesis */
	uint32_t max_peers;   /* outbound connections kept */
	uint32_t max_inbound; /* inbound connections accepted */
	uint32_t fanout;      /* peers each new item is pushed to */
	uint32_t gossip_ms;   /* pull repair interval */
	uint32_t sync_ms;     /* sync interval */
	uint32_t request_ms;  /* request timeout */
	uint32_t reconnect_min_ms;
	uint32_t reconnect_max_ms;
	uint32_t ban_s;
	uint32_t rate; /* frames per second per peer */
	uint32_t burst;
	uint32_t seen_cap;      /* ids remembered */
	uint32_t store_cap;     /* items kept for pull repair */
	uint32_t retain_s;      /* how long items are kept */
	uint32_t drop_push_pct; /* test knob: drop % of inbound pushes */
	char     http_listen[NODE_ADDR_MAX + 1]; /* "127.0.0.1:PORT"; "" off */
	int      log_debug;                      /* 1 debug, 0 info, -1 warn */
	int      ledger;       /* the genesis is a ledger genesis */
	uint32_t checkpoint_s; /* validators sign a checkpoint this often */
	char     book[1024];   /* offer book file; empty: <data_dir>/book */
	/* Leases (leases.c): the provider draws after this many new
	 * receipts or this many seconds (0: never by time); the renter's
	 * node sends a receipt for a reserved lease this often (0: only
	 * when asked, by `gpuhour lease pay`). */
	uint32_t draw_every_receipts;
	uint32_t draw_every_s;
	uint32_t receipt_every_s;
	/* Jobs: the model served (empty: none) and the CPU threads (0:
	 * all); `node run --serve-model/--job-threads` override them. */
	char     serve_model[1024];
	uint32_t job_threads;
	/* "auto" (CUDA when a device is there and agrees with the CPU
	 * reference on a self-test), "cpu" or "cuda". */
	char backend[8];
	/* claims.c: claim the revenue of the lots held by this key's
	 * account every claim_every_s seconds (empty path: never). */
	char     claim_key[1024];
	char     claim_key_pass_env[64];
	uint32_t claim_every_s;
} node_config;

/* Defaults for every field (paths empty). */
void node_config_default(node_config *c);
/*
 * Parses config text (p, n) into c (on top of its current values).
 * GH_EINVAL with a message in err (cap bytes) naming the line.
 */
int node_config_parse(
    const char *p, size_t n, node_config *c, char *err, size_t errcap);
/* Reads path, parses it, checks the required keys, and computes the
 * network id from the genesis file. */
int node_config_load(
    const char *path, node_config *c, char *err, size_t errcap);
/* The text of `node run --help`'s configuration section. */
const char *node_config_help(void);

/* ------------------------------------------------------------------ */
/* Handlers the ledger, the market and the CLI plug in. */

typedef struct node node;

typedef struct {
	uint8_t     kind;     /* NODE_KIND_* */
	const char *name;     /* for logs */
	uint32_t    max_len;  /* largest payload; bigger ones are dropped */
	int         priority; /* 1: queued, forwarded and served first */
	void       *arg;
	/*
	 * Judges a payload (worker thread; no blocking I/O).  Returns GH_OK
	 * (valid and new: apply then forward), GH_EEXIST (known: drop
	 * quietly), GH_EPENDING (needs a predecessor: *waits names it, the
	 * node keeps the item in its unchecked table), or an error: the
	 * item is dropped and the peer that sent it penalised by
	 * node_pen_for(err).
	 */
	int (*validate)(void *arg, const uint8_t *p, size_t n, gh_hash *waits);
	/* Stores a validated payload.  *unlocks (zeroed first) names what
	 * items waiting in the unchecked table may now be waiting for. */
	int (*apply)(void *arg, const uint8_t *p, size_t n, gh_hash *unlocks);
	/* Sync (all three NULL when the kind does not sync).  frontier:
	 * what this node has.  plan: given a peer's frontier, the range
	 * request to send it (nothing written: nothing to ask).  range:
	 * serve a request with a node_items list of at most max items. */
	int (*frontier)(void *arg, gh_writer *out);
	int (*plan)(
	    void *arg, const uint8_t *theirs, size_t n, gh_writer *req);
	int (*range)(void *arg, const uint8_t *req, size_t n, uint32_t max,
	    gh_writer *out);
	/* Optional: apply may queue its writes; flush commits them.  The
	 * node calls it after each frame it handles (worker thread). */
	void (*flush)(void *arg);
	/* Optional: called with a sync range's payloads (borrowed for the
	 * call) before they are validated one by one, so that a kind can
	 * do the costly checks of the batch on several threads and let
	 * validate reuse the results.  Judges nothing itself. */
	void (*prepare)(void *arg, const uint8_t *const *p, const size_t *n,
	    uint32_t count);
} node_kind;

/* Writes a node_items list: call node_items_put for each item, then
 * node_items_end (which patches the count). */
typedef struct {
	gh_writer *w;
	size_t     at;
	uint32_t   count;
} node_items_writer;
void node_items_start(node_items_writer *iw, gh_writer *w);
void node_items_put(
    node_items_writer *iw, uint8_t kind, const uint8_t *p, size_t n);
void node_items_end(node_items_writer *iw);

typedef struct {
	uint8_t     kind;
	const char *name;
	uint32_t    max_req;
	void       *arg;
	/* Serves one request from an authenticated peer (worker thread);
	 * writes the reply body to out.  An error is sent back as the
	 * reply's status. */
	int (*handle)(void *arg, const gh_ed_pub *peer, const uint8_t *req,
	    size_t n, gh_writer *out);
} node_req_kind;

/* Request kinds.  1..15 are the network's own. */
enum {
	NODE_REQ_PING       = 1,  /* echo: the body comes back */
	NODE_REQ_VOTE       = 16, /* ledger: vote request */
	NODE_REQ_CERT       = 17, /* ledger: certificate submission */
	NODE_REQ_LOG_PROOF  = 18, /* ledger: an entry's inclusion bundle */
	NODE_REQ_LEASE      = 32, /* market: lease traffic */
	NODE_REQ_JOB        = 33, /* market: job traffic */
	NODE_REQ_JOB_CANCEL = 34, /* market: cancel a job (its id) */
};

/* Called once on the worker thread with the outcome of node_request:
 * err GH_OK and the reply body (borrowed for the call), or an error
 * (GH_ETIMEDOUT, GH_ECLOSED, the peer's status...). */
typedef void (*node_reply_fn)(
    void *arg, int err, const uint8_t *body, size_t n);

typedef struct {
	const char *name; /* `gpuhour node NAME` */
	void       *arg;
	/* Runs a control command on the worker thread: req is the CLI's
	 * argument bytes, out the reply body. */
	int (*handle)(void *arg, node *n, const uint8_t *req, size_t len,
	    gh_writer *out);
} node_ctl_cmd;

/* ------------------------------------------------------------------ */
/* The node. */

/*
 * Opens a node: the LMDB env <data_dir>/node (peer table), the
 * listener, the control socket <data_dir>/node/control.sock (0600).
 * Takes ownership of key (freed by node_close, also on error).  The
 * announce test kind and the built-in control commands (status, peers,
 * stop, announce, messages) are registered.  Main thread.
 */
int node_open(const node_config *c, gh_ed_key *key, node **out);
/* Register handlers: after node_open, before node_run (GH_EEXIST for a
 * kind or name already taken). */
int node_register_kind(node *n, const node_kind *k);
int node_register_request(node *n, const node_req_kind *k);
int node_register_ctl(node *n, const node_ctl_cmd *c);
/* Calls fn(arg) on the worker thread about every every_ms (at most 8
 * timers; GH_EFULL).  After node_open, before node_run. */
int node_register_timer(
    node *n, uint32_t every_ms, void (*fn)(void *arg), void *arg);
/* Runs the worker loop on the calling thread until node_stop. */
int node_run(node *n);
/* Asks node_run to return (any thread, async-signal-unsafe). */
void node_stop(node *n);
/* Closes sockets, flushes the peer table, frees everything (NULL ok). */
void node_close(node *n);

/*
 * Worker thread only, inside a control handler: keeps the command's
 * reply open (the handler then returns GH_EPENDING) and returns a token
 * for node_ctl_finish, which must be called exactly once (status, body
 * copied).  The CLI's own timeout bounds the wait.
 */
void *node_ctl_defer(node *n);
void  node_ctl_finish(
     node *n, void *token, int status, const uint8_t *body, size_t len);

/*
 * Worker thread only, inside a request handler (node_req_kind.handle):
 * keeps the peer's request open (the handler then returns GH_EPENDING)
 * and returns a token for node_req_finish, which must be called exactly
 * once on the worker thread (NULL when out of memory: answer now).  The
 * request holds one of the node's request contexts until then.
 */
void *node_req_defer(node *n);
void  node_req_finish(
     node *n, void *token, int status, const uint8_t *body, size_t len);
/* Any thread: runs fn(arg) on the worker thread soon (GH_ENOMEM). */
int node_post(node *n, void (*fn)(void *arg), void *arg);

/* Worker thread only: publish a local item (validate, apply, push). */
int node_publish(
    node *n, uint8_t kind, const uint8_t *p, size_t len, gh_hash *id);
/* Worker thread only: send a request to an active peer. */
int node_request(node *n, const gh_ed_pub *peer, uint8_t kind,
    const uint8_t *req, size_t len, node_reply_fn cb, void *arg);
/* The node's public key. */
void node_pub(const node *n, gh_ed_pub *out);

/* ------------------------------------------------------------------ */
/* Control socket client (the CLI). */

/* <data_dir>/node/control.sock as an nng ipc:// URL. */
int node_ctl_url(const char *data_dir, char *out, size_t cap);
/*
 * Sends one command and waits (at most timeout_ms) for the reply.
 * *status receives the node's gh_err; *body (malloc'd, caller frees)
 * the reply body.  GH_ECLOSED when no node listens there.
 */
int node_ctl_call(const char *data_dir, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, int *status, uint8_t **body,
    size_t *blen);

/* Reply of `status`. */
typedef struct {
	gh_ed_pub pub;
	gh_hash   netid;
	char      listen[NODE_ADDR_MAX + 1];
	uint64_t  uptime_ms;
	uint32_t  peers_active;
	uint32_t  peers_known;
	uint32_t  peers_banned;
	uint64_t  items;    /* gossip items accepted */
	uint64_t  copies;   /* item copies received (incl. duplicates) */
	uint64_t  bytes_in; /* peer frame bytes */
	uint64_t  bytes_out;
	uint64_t  frames_in;
	uint64_t  frames_out;
	uint64_t  dropped;   /* frames refused (limits, garbage) */
	uint32_t  unchecked; /* items waiting for a predecessor */
} node_status;
int node_status_encode(const node_status *s, gh_writer *w);
int node_status_decode(const uint8_t *p, size_t n, node_status *s);

/* One row of `peers`. */
typedef struct {
	gh_ed_pub pub;
	char      addr[NODE_ADDR_MAX + 1];
	int32_t   score;
	uint64_t  banned_until; /* unix seconds, 0 if not banned */
	uint64_t  last_seen;    /* unix seconds */
	uint8_t   active;       /* outbound connection up */
} node_peer_row;
/* The body is u32 count then rows; node_peer_row_next walks it. */
int node_peer_row_encode(const node_peer_row *r, gh_writer *w);
int node_peer_row_decode(gh_reader *r, node_peer_row *row);

/* One row of `messages` (items of the announce kind). */
typedef struct {
	gh_hash   id;
	gh_ed_pub author;
	uint64_t  seq;
	uint64_t  recv_us; /* when this node first had it (unix us) */
	uint32_t  copies;  /* copies received */
	char      text[257];
} node_msg_row;
int node_msg_row_encode(const node_msg_row *r, gh_writer *w);
int node_msg_row_decode(gh_reader *r, node_msg_row *row);

/* ------------------------------------------------------------------ */
/* The announce kind: a per-author chain of short signed texts (the
 * network's own test kind; its store shows how a ledger plugs in).
 *
 *   u8 version, u8 type (1), [32] author, u64 seq (from 1), [32] prev
 *   (hash of seq-1, zero for seq 1), u64 time_ms, str text (max 256),
 *   [64] sig by author over hash(GH_TAG_MESSAGE, all before sig).
 */
#define NODE_ANN_TEXT_MAX 256
typedef struct {
	gh_ed_pub author;
	uint64_t  seq;
	gh_hash   prev;
	uint64_t  time_ms;
	char      text[NODE_ANN_TEXT_MAX + 1];
	gh_sig    sig;
} node_ann;
int node_ann_encode(const node_ann *a, gh_writer *w);
int node_ann_decode(const uint8_t *p, size_t n, node_ann *a);
/* Signs a (fills sig) with k, whose public key must be a->author. */
int node_ann_sign(node_ann *a, const gh_ed_key *k);
/* The hash that links chains: hash(GH_TAG_MESSAGE, encoding). */
void node_ann_hash(const node_ann *a, gh_hash *out);

/* ------------------------------------------------------------------ */
/* Read-only HTTP API, dashboard and Prometheus metrics on loopback
 * (http.c, metrics.c, dashboard/).  See docs/http-api.md. */

typedef struct ledger_store ledger_store;
typedef struct market_book  market_book;

/* Where the HTTP API reads from (handles borrowed; NULL: the endpoints
 * that need it answer 503).  The book is read on the worker thread. */
typedef struct {
	ledger_store *store;
	market_book  *book;
} node_http_src;

/*
 * Starts the HTTP server on cfg.http_listen (nothing when it is empty):
 * after node_open, before node_run; node_close stops it.  Requests are
 * answered on the worker thread (nng's HTTP callbacks only queue
 * them).  GH_EEXIST when already started.  Main thread.
 */
int node_http_start(node *n, const node_http_src *src);

/*
 * Counters and gauges the node's subsystems update for /metrics (any
 * thread: atomics).  The node owns one (node_metrics_of).
 */
typedef enum {
	NODE_M_JOBS = 0,  /* counter: jobs served */
	NODE_M_TOKENS,    /* counter: tokens generated */
	NODE_M_DEVICE_NS, /* counter: attested device time, ns */
	NODE_M_REVENUE,   /* counter: micro-units drawn into pools */
	NODE_M_CERTIFIED, /* counter: entries this node certified */
	NODE_M_PROOFS,    /* counter: utilization proofs recorded */
	NODE_M_HTTP_REQS, /* counter: HTTP requests answered */
	NODE_M_HTTP_ERRS, /* counter: HTTP requests answered 4xx/5xx */
	NODE_M_COUNT
} node_metric;
typedef struct node_metrics node_metrics;
int                         node_metrics_new(node_metrics **out);
void                        node_metrics_free(node_metrics *m); /* NULL ok */
void     node_metrics_add(node_metrics *m, node_metric which, uint64_t v);
uint64_t node_metrics_value(const node_metrics *m, node_metric which);
/* Gauge: GPU utilization in parts per million (0..1000000). */
void node_metrics_set_utilization(node_metrics *m, uint32_t ppm);
/* Histogram: one certification latency (entry signed -> certified). */
void node_metrics_cert_latency(node_metrics *m, uint64_t us);
/* The node's metrics (valid until node_close). */
node_metrics *node_metrics_of(node *n);

/* The ledger on the node (ledger_kinds.c). */

/*
 * Opens the ledger store in c->data_dir for the genesis c->genesis and
 * registers, on n: the kinds equivocation (16, priority), certificate
 * (17, with sync by applied position) and checkpoint (19); the vote
 * request (16), answered when the node's key is in the committee; a
 * checkpoint timer (validators); the control commands ledger-info,
 * ledger-account, ledger-history, ledger-has, ledger-submit and
 * ledger-verify.  *out is freed with node_ledger_free after
 * node_close.  Main thread, after node_open, before node_run.
 */
typedef struct node_ledger node_ledger;
int node_ledger_attach(node *n, const node_config *c, node_ledger **out);
/* After node_run returns, before node_close: commits what is queued and
 * stops answering submissions. */
void node_ledger_stop(node_ledger *l); /* NULL ok */
void node_ledger_free(node_ledger *l); /* NULL ok */

/* Reply of ledger-info. */
typedef struct {
	gh_hash  netid;
	uint64_t applied;
	uint64_t pending;
	uint64_t equivs;
	gh_hash  state;
	uint64_t log_size;
	uint8_t  log_root[32];
	uint8_t  validator;   /* this node votes */
	uint32_t checkpoints; /* validators whose checkpoint is held */
} node_ledger_info;
int node_ledger_info_encode(const node_ledger_info *i, gh_writer *w);
int node_ledger_info_decode(const uint8_t *p, size_t n, node_ledger_info *i);

/* The ledger's store (borrowed; thread-safe). */
struct ledger_store;
struct ledger_store *node_ledger_store(node_ledger *l);

/*
 * Worker thread: submits a signed, encoded entry for votes, as the
 * control command ledger-submit does.  done is called once (possibly
 * before this returns) with GH_OK when the entry is certified (applied
 * here, or pending what it follows) or the first refusal, and the
 * number of votes it got; not at all when this returns an error.
 */
typedef void (*node_ledger_done)(
    void *arg, int status, const gh_hash *h, uint32_t votes);
int node_ledger_submit(node_ledger *l, const uint8_t *entry, size_t len,
    node_ledger_done done, void *arg);

/* ------------------------------------------------------------------ */
/* Offers on the node (market_kinds.c). */

/*
 * Registers the offer kind (32, with sync by asset) feeding a
 * market_book kept in c->book (default <data_dir>/book: loaded at
 * start, saved when changed), whose asset check asks l's store (the
 * asset must be registered with the offer's node key); the control
 * commands offer-publish, market-list, market-stats and asset-bind.
 * Main thread, after node_ledger_attach, before node_run.
 */
typedef struct node_market node_market;
int                        node_market_attach(
                           node *n, const node_config *c, node_ledger *l, node_market **out);
/* After node_run returns: saves the book.  NULL ok. */
void node_market_free(node_market *m);
/* The decode throughput the node measured on its engine (milli-tokens
 * per second) and the per-prompt token limit its jobs run under, put
 * in its offers (and the throughput in asset registrations).  Main
 * thread, before node_run. */
void node_market_set_engine(
    node_market *m, uint64_t mtps, uint32_t max_tokens);
/* The node's order book (borrowed; read on the worker thread only),
 * for the HTTP API. */
struct market_book *node_market_book(node_market *m);

/* What the CLI asks a node to offer (the node adds its own hardware
 * figures, a fresh seq and its signature). */
typedef struct {
	uint8_t  asset[32];
	uint64_t price; /* micro-units per GPU-hour */
	uint8_t  billing;
	uint32_t capacity;
	uint64_t avail_from, avail_until;
	uint64_t min_lease, max_lease; /* seconds */
	char     region[32 + 1];
	uint32_t n_models;
	gh_hash  models[16];
	char     energy[32 + 1];
	uint64_t power_price;
	uint64_t expiry;
} node_offer_req;
int node_offer_req_encode(const node_offer_req *r, gh_writer *w);
int node_offer_req_decode(const uint8_t *p, size_t n, node_offer_req *r);

/* A market-list request (zero / empty: no constraint). */
typedef struct {
	char     gpu_model[64 + 1];
	uint64_t min_memory_mib;
	uint64_t max_price;
	char     region[32 + 1];
	uint64_t hours;
	uint8_t  has_model;
	gh_hash  model;
	uint8_t  billing;
	uint32_t max; /* offers wanted, 1..1024 */
} node_market_query;
int node_market_query_encode(const node_market_query *q, gh_writer *w);
int node_market_query_decode(const uint8_t *p, size_t n, node_market_query *q);

/* The machine's own description: the GPU model and memory when a
 * driver shows one, else the CPU's (/proc/cpuinfo) and system memory.
 * gpu is set to 1 when a GPU was found. */
int node_hw_describe(char *model, size_t cap, uint64_t *mem_mib, int *gpu);

#endif /* GH_NODE_H */
