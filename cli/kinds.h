/*
 * kinds.h - private to cli/: the logic of `gpuhour lease|loan|asset`,
 * in functions that take a store and keys (the devnet today, a node's
 * store tomorrow).  The builders fill an entry whose chain fields the
 * caller prepared; the printers read the store and write stdout.
 *
 * Threads: main thread only.
 */
#ifndef GH_CLI_KINDS_H
#define GH_CLI_KINDS_H

#include "ledger/ledger.h"
#include "market/market.h"

/* LEASE_OPEN of seconds at price from start (the provider node is the
 * asset's, read from s).  GH_ENOENT for an unknown asset. */
int cli_kinds_lease_open(ledger_store *s, ledger_entry *e,
    const ledger_id *asset, uint64_t start, uint64_t seconds, uint64_t price,
    uint8_t billing, const gh_ed_pub *receipt_key, const ledger_id *offer,
    uint64_t offer_seq);
/* LEASE_DRAW, LEASE_CLOSE (r NULL: at zero) or LEASE_EXPIRE (r NULL). */
int cli_kinds_lease_act(ledger_store *s, ledger_entry *e,
    const ledger_id *lease, const market_receipt *r);
/* LOAN_TAKE, LOAN_REPAY (amount), LOAN_SEIZE or LOAN_CANCEL. */
int cli_kinds_loan_act(
    ledger_store *s, ledger_entry *e, const ledger_id *loan, uint64_t amount);
/* The consumed objects of a claim or share transfer of lot (the loan
 * too when the lot is pledged). */
int cli_kinds_lot_consumes(
    ledger_store *s, ledger_entry *e, const ledger_id *lot);

/* Printers (json: one JSON object or array per call).  now: seconds. */
int cli_kinds_lease_show(ledger_store *s, const ledger_id *id, int json);
int cli_kinds_lease_list(ledger_store *s, int json);
int cli_kinds_loan_show(
    ledger_store *s, const ledger_id *id, uint64_t now, int json);
int cli_kinds_loan_list(ledger_store *s, int json);
int cli_kinds_asset_show(ledger_store *s, const ledger_id *id, int json);

/* Parses a time: unix seconds, or "+S" for now + S.  GH_EINVAL. */
int cli_kinds_time(const char *s, uint64_t now, uint64_t *out);

#endif
