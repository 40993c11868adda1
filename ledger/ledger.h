/*
 * ledger.h - the ledger: entries, genesis, votes and certificates, the
 * state machine, the LMDB store, and the RFC 6962 transparency log.
 * Prefix ledger_.  Imports base/ only.
 */
#ifndef GH_LEDGER_H
#define GH_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* ================================================================== */
/* Entries, genesis, votes, certificates, state, store.               */
/* (ledger core: entry.c, genesis.c, vote.c, state.c, store.c)        */
/* ================================================================== */

/* ledger core declarations go here */

/* ================================================================== */
/* Transparency log: RFC 6962 Merkle tree, proofs, checkpoints.       */
/* (merkle.c, log.c, checkpoint.c)                                    */
/* ================================================================== */

/* transparency log declarations go here */

#endif /* GH_LEDGER_H */
