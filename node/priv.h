/* priv.h - node/ internals shared between its files; not public. */
#ifndef GH_NODE_PRIV_H
#define GH_NODE_PRIV_H

#include <lmdb.h>

#include "node/node.h"

/* Domain tags of the network's own signed objects. */
#define NODE_TAG_FRAME    "gpuhour/frame/v1"
#define NODE_TAG_ANNOUNCE "gpuhour/announce/v1"

/* GH_OK or GH_EBADSIG. */
int node_ann_verify(const node_ann *a);

/*
 * An open-addressing map from 32-byte ids to u32 values, linear probing
 * with backward-shift deletion.  Fixed capacity (a power of two at least
 * twice the number of entries it will hold); single thread.
 */
typedef struct {
	gh_hash  *keys;
	uint32_t *vals; /* 0 = empty slot; stored value + 1 */
	uint32_t  mask;
	uint32_t  count;
} node_idmap;
int  node_idmap_init(node_idmap *m, uint32_t max_entries);
void node_idmap_fini(node_idmap *m);
/* GH_OK (found, *val set) or GH_ENOENT. */
int node_idmap_get(const node_idmap *m, const gh_hash *id, uint32_t *val);
/* Inserts or replaces; GH_EFULL if the map holds max_entries. */
int  node_idmap_put(node_idmap *m, const gh_hash *id, uint32_t val);
void node_idmap_del(node_idmap *m, const gh_hash *id);

/* Wall clock in microseconds (arrival times across processes). */
uint64_t node_now_us(void);

/* Control frames.  Request: u8 version, u8 type (1), cstr command (max
 * NODE_CMD_MAX), str body (max NODE_CTL_MAX).  Reply: u16 status, str
 * body.  Decoders borrow their input. */
#define NODE_CTL_REQ 1
int node_ctl_req_encode(
    const char *cmd, const uint8_t *body, size_t len, gh_writer *w);
int node_ctl_req_decode(const uint8_t *p, size_t n, char *cmd, size_t cmdcap,
    const uint8_t **body, uint32_t *len);
int node_ctl_rep_encode(
    int status, const uint8_t *body, size_t len, gh_writer *w);
int node_ctl_rep_decode(const uint8_t *p, size_t n, uint16_t *status,
    const uint8_t **body, uint32_t *len);

/* Maps an nng error into gh_err. */
int node_nng_err(int rv);

/* Maps an LMDB return code into gh_err. */
int node_mdb_err(int rc);

/* Logging to stderr as logfmt lines: ts=... level=... msg="..." k=v. */
void node_log(int debug_on, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The announce kind's store, in the node's LMDB env (worker thread
 * only): announcements by author||seq, and each author's head.
 */
typedef struct node_ann_store node_ann_store;
int  node_ann_store_open(MDB_env *env, node_ann_store **out);
void node_ann_store_free(node_ann_store *s);
/* Fills k with the announce kind's handlers (arg = s). */
void node_ann_kind_fill(node_ann_store *s, node_kind *k);
/* An author's head: GH_ENOENT when it has none. */
int node_ann_store_head(
    node_ann_store *s, const gh_ed_pub *a, uint64_t *seq, gh_hash *h);
/* Calls fn for every stored announcement (bytes borrowed for the call)
 * with the time it was stored; stops at max. */
typedef void (*node_ann_each_fn)(
    void *arg, const uint8_t *p, size_t n, uint64_t recv_us);
int node_ann_store_each(
    node_ann_store *s, uint32_t max, node_ann_each_fn fn, void *arg);

/* The node's key and configuration (borrowed; worker thread). */
const gh_ed_key   *node_key_get(const node *n);
const node_config *node_cfg_get(const node *n);

#endif
