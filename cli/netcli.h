/*
 * netcli.h - private to cli/: `--node CONFIG`, the commands' way to a
 * running node.  The account key signs here; the node only receives
 * signed entries.  Main thread only.
 */
#ifndef GH_CLI_NETCLI_H
#define GH_CLI_NETCLI_H

#include "ledger/ledger.h"
#include "node/node.h"

/* Calls a control command of the node configured by config; returns the
 * node's status (GH_ECLOSED when no node answers).  *body malloc'd. */
int cli_net_call(const char *config, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, uint8_t **body, size_t *blen);
int cli_net_info(const char *config, node_ledger_info *info);
/* GH_ENOENT for an account the node has never seen (zeroed). */
int cli_net_account(const char *config, const uint8_t id[32], int nodechain,
    ledger_account *a);
/* Fills the chain fields of a new entry by k from the node's view. */
int cli_net_prepare(
    const char *config, const gh_acct_key *k, int kind, ledger_entry *e);
/* Signs e, hands it to the node, waits until it is certified and
 * applied there (bounded); *h is the entry hash. */
int cli_net_submit(
    const char *config, ledger_entry *e, const gh_acct_key *k, gh_hash *h);

#endif
