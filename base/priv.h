/* priv.h - base/ internals shared between its files; not public. */
#ifndef GH_BASE_PRIV_H
#define GH_BASE_PRIV_H

#include "base.h"

/* The secret seed of a key, for the keyfile writer only.  The caller
 * wipes seed. */
void gh_ed_key_seed(const gh_ed_key *k, uint8_t seed[32]);
void gh_acct_key_seed(const gh_acct_key *k, uint8_t seed[32]);

#endif
