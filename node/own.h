/*
 * own.h - the node's own chain: entries of the node-signed kinds
 * (LEASE_DRAW, LEASE_CLOSE, PROOF) filled, signed with the node key and
 * submitted one at a time, crash-safe (see own.c), and the control
 * command node-sign through which the CLI has the node sign one.
 * Prefix node_own_.  Imports ledger/ and node/.
 *
 * Threads: attach and free on the main thread (after node_ledger_attach
 * and before node_run; free after node_close); node_own_submit on the
 * worker thread only.
 */
#ifndef GH_NODE_OWN_H
#define GH_NODE_OWN_H

#include "ledger/ledger.h"
#include "node/node.h"

typedef struct node_own node_own;

int node_own_attach(
    node *n, const node_config *c, node_ledger *l, node_own **out);
void node_own_free(node_own *o); /* NULL ok */

/*
 * Queues an entry (kind, body and consumes filled; the chain fields,
 * time and signature are the node's).  done (may be NULL) is called
 * once with the outcome and the entry hash (NULL when it failed before
 * submission).  GH_EFULL when 64 are queued, GH_EINVAL for a kind the
 * node does not sign.
 */
typedef void (*node_own_done)(void *arg, int status, const gh_hash *h);
int node_own_submit(
    node_own *o, const ledger_entry *e, node_own_done done, void *arg);

#endif /* GH_NODE_OWN_H */
