/*
 * devnet.h - private to cli/: the single-process devnet that the
 * ledger, wallet and shares commands use until the network lands.  A
 * devnet data dir holds genesis.txt, keys/ (validator-N.key, issuer.key,
 * treasury.key) and ledger/ (the LMDB store).  The CLI opens it, signs
 * with the account key file, has the local validator keys vote,
 * certifies and applies.
 *
 * Threads: main thread only.
 */
#ifndef GH_CLI_DEVNET_H
#define GH_CLI_DEVNET_H

#include "ledger/ledger.h"

typedef struct cli_devnet cli_devnet;

/* The data dir: --datadir, else $GPUHOUR_HOME/devnet. */
int cli_devnet_dir(const char *opt, char *out, size_t cap);

/*
 * Opens the devnet at dir: its genesis and store, and (when voters is
 * set) every validator key file found under keys/ (passphrase from
 * $GPUHOUR_PASSPHRASE when encrypted).  Close with cli_devnet_close.
 */
int  cli_devnet_open(const char *dir, int voters, cli_devnet **out);
void cli_devnet_close(cli_devnet *d);

/*
 * Node mode (`--node CONFIG`): the running node's store, opened
 * read-only (the node owns it).  Account entries are signed here and
 * handed to the node, which collects the votes; node-chain entries
 * (prepare_node/submit_node, k may be NULL) are signed by the node
 * itself with its own key.  Submissions return once the entry is
 * applied in the node's store.
 */
int cli_devnet_open_node(const char *config, cli_devnet **out);
/* --datadir DIR (or the default devnet) or, with node set, that node;
 * both set is a usage error (GH_EINVAL). */
int cli_devnet_open_any(
    const char *dir, const char *config, int voters, cli_devnet **out);
/* The node's key in node mode; GH_ENOENT for a devnet. */
int           cli_devnet_node_pub(const cli_devnet *d, gh_ed_pub *out);
ledger_store *cli_devnet_store(cli_devnet *d);

/*
 * Fills the chain fields of a new entry by k (network, author, seq,
 * prev, time).  If a local validator already voted on that chain
 * position for another entry (a command interrupted after voting), that
 * entry is certified and applied first, so the author never signs two
 * entries for one version.
 */
int cli_devnet_prepare(
    cli_devnet *d, const gh_acct_key *k, int kind, ledger_entry *e);

/* Signs e with k, certifies it with the local validators and applies
 * it.  Returns the entry's result (GH_OK or why it was refused) and
 * its hash. */
int cli_devnet_submit(
    cli_devnet *d, ledger_entry *e, const gh_acct_key *k, gh_hash *h);

/* The same for a node's chain, signed with a node key. */
int cli_devnet_prepare_node(
    cli_devnet *d, const gh_ed_key *k, int kind, ledger_entry *e);
int cli_devnet_submit_node(
    cli_devnet *d, ledger_entry *e, const gh_ed_key *k, gh_hash *h);
/* Opens a node key file (passphrase as for account keys). */
int cli_devnet_node_keyfile(
    const char *path, const char *passenv, gh_ed_key **out);

/* Opens an account key file (passphrase from the variable named by
 * passenv, else $GPUHOUR_PASSPHRASE, else a prompt) */
int cli_devnet_account_key(
    const char *path, const char *passenv, gh_acct_key **out);

/* Parses 64 hex digits into 32 bytes. */
int cli_parse_id(const char *s, uint8_t out[32]);
/* Parses a decimal u64 (no sign, no leading zeros but "0"). */
int cli_parse_u64(const char *s, uint64_t *out);

#endif
