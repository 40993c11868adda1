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
 * node's status (GH_ECLOSED when no node answers, GH_EINVAL when config
 * cannot be read: never a status the node could give).  *body
 * malloc'd. */
int cli_net_call(const char *config, const char *cmd, const uint8_t *req,
    size_t len, uint32_t timeout_ms, uint8_t **body, size_t *blen);
int cli_net_info(const char *config, node_ledger_info *info);
/*
 * The node's inclusion bundle of entry h (its ledger-prove: from its own
 * log, else from a validator's), checked here against the genesis its
 * config names (ledger_bundle_check).  GH_OK; the node's GH_ENOENT (in
 * no log it reaches) or GH_EPENDING (under no checkpoint yet);
 * GH_EPROTO or GH_EBADSIG for a bundle that does not check out; or why
 * the node could not be asked.
 */
int cli_net_prove(const char *config, const gh_hash *h, ledger_bundle *out);
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
/*
 * The same for an entry already signed.  The entry is kept in
 * $GPUHOUR_HOME/pending/ until the node has it; when votes did not
 * come (closed, timed out, too few) it stays, and the next command by
 * that account resubmits it instead of signing a second entry for the
 * same position (which validators would take as an equivocation).
 */
int cli_net_hand_signed(const char *config, const ledger_entry *e, gh_hash *h);
/* What cli_net_resume did with a kept entry. */
typedef struct {
	int      found;  /* an entry for that position was kept */
	int      handed; /* the node's answer: GH_OK when it is applied */
	int      waits;  /* no answer that settles it: still kept */
	gh_hash  h;      /* its hash */
	uint64_t seq;
	uint8_t  kind;
} cli_net_kept;
/*
 * Before preparing the entry at position next of author's chain:
 * resubmits a kept entry for that position.  GH_OK when none waits,
 * GH_EEXIST when one was completed (or refused for good: read the
 * chain again), else why it still waits (the command stops).  out, when
 * not NULL, tells which.
 */
int cli_net_resume(const char *config, const uint8_t author[32], uint64_t next,
    cli_net_kept *out);
/*
 * `wallet resume`: completes the entry kept for k's account, and nothing
 * else.  GH_OK with out->found 0 when none waits (or it was applied
 * since); GH_OK with out->found 1 when it is applied now; the node's
 * refusal (the entry is dropped, the position is free); or why it still
 * waits (kept).
 */
int cli_net_finish(
    const char *config, const gh_acct_key *k, cli_net_kept *out);

#endif
