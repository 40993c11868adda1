/*
 * claims.h - a node that claims its owner's revenue by itself: every
 * claim_every_s seconds it looks for the lots held by the account of
 * the configured claim key that have accrued something, and submits a
 * REVENUE_CLAIM for each, signed with that key (one at a time).  The
 * account's chain must have no other signer while the node runs (two
 * signers could fork it); the README suggests moving the lots to an
 * account kept for this.  Prefix node_claims_.  Imports ledger/, node/.
 *
 * Threads: attach and free on the main thread (after
 * node_ledger_attach, before node_run; free after node_close); the
 * timer runs on the worker thread.
 */
#ifndef GH_NODE_CLAIMS_H
#define GH_NODE_CLAIMS_H

#include "ledger/ledger.h"
#include "node/node.h"

typedef struct node_claims node_claims;

/* Takes ownership of key (freed by node_claims_free, also on error). */
int  node_claims_attach(node *n, const node_config *c, node_ledger *l,
     gh_acct_key *key, node_claims **out);
void node_claims_free(node_claims *cl); /* NULL ok */

#endif /* GH_NODE_CLAIMS_H */
