/*
 * leases.h - leases on the node, both sides of the payment channel.
 *
 * Provider (leases whose node is this one): each new LEASE_OPEN is
 * served when the node's live offer for the asset has a free unit of
 * capacity and the lease fits it (price, billing, length), otherwise
 * closed at zero (a full refund).  Receipts come from the renter's node
 * (request kind NODE_REQ_LEASE); the highest is kept (on disk) and
 * drawn on every draw_every_receipts receipts or draw_every_s seconds;
 * the lease is closed on the last receipt at its expiry.
 *
 * Renter (leases whose receipt key is this node's key): receipts are
 * signed here and sent to the provider's node, for the time elapsed on
 * a reserved lease every receipt_every_s seconds, and when asked by the
 * control command lease-pay (a cumulative amount, or attested device
 * time for a metered lease).  What was sent is on disk before it goes.
 *
 * Jobs: node_leases_job_ok is the jobs' lease check, and
 * node_leases_proved records each proof as a PROOF entry.
 *
 * Prefix node_leases_.  Imports ledger/, market/, attest/, node/.
 * Threads: attach and free on the main thread (after node_own_attach,
 * before node_run; free after node_close); the rest on the worker
 * thread.
 */
#ifndef GH_NODE_LEASES_H
#define GH_NODE_LEASES_H

#include "attest/attest.h"
#include "node/own.h"

typedef struct node_leases node_leases;

int  node_leases_attach(node *n, const node_config *c, node_ledger *l,
     node_market *m, node_own *o, node_leases **out);
void node_leases_free(node_leases *ls); /* NULL ok */

/* The jobs' lease check (node_jobs_config.lease_ok, arg = ls): an
 * active lease of this node, inside its window, served, whose receipt
 * key is the renter's node (peer). */
int node_leases_job_ok(void *arg, const uint8_t lease[32],
    const gh_ed_pub *renter, char *why, size_t whycap);
/* After a job: a PROOF entry per proof (node_jobs_config.proved). */
void node_leases_proved(void *arg, const attest_transcript *t);

/* lease-pay request: [32] lease, u8 mode, u64 value; mode
 * NODE_LEASES_PAY_AMOUNT: value is the cumulative amount owed;
 * NODE_LEASES_PAY_DEVICE_NS: attested device time to add (metered).
 * Reply: u64 receipt seq, u64 cumulative amount. */
enum {
	NODE_LEASES_PAY_AMOUNT    = 0,
	NODE_LEASES_PAY_DEVICE_NS = 1,
};

#endif /* GH_NODE_LEASES_H */
