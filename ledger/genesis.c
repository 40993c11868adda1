/* genesis.c - the genesis file: text form, canonical form, network id. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/priv.h"

static int
ledger_parse_u64(const char *s, uint64_t *out)
{
	char              *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0')) {
		return (GH_EINVAL);
	}
	errno = 0;
	v     = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		return (GH_EINVAL);
	}
	*out = v;
	return (GH_OK);
}

static int
ledger_name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max) {
		return (0);
	}
	for (size_t i = 0; i < n; i++) {
		if (!isgraph((unsigned char) s[i])) {
			return (0);
		}
	}
	return (1);
}

int
ledger_genesis_parse(
    const char *text, size_t n, ledger_genesis *g, unsigned *line)
{
	char    *buf = NULL, *save = NULL, *ln;
	unsigned lno      = 0;
	int      rv       = GH_EINVAL;
	int      have_net = 0, have_iss = 0, have_tre = 0, have_fee = 0;
	int      have_grace = 0, have_margin = 0;

	memset(g, 0, sizeof(*g));
	*line = 0;
	if (n > LEDGER_GENESIS_TEXT_MAX) {
		return (GH_EINVAL);
	}
	{
		/* A NUL byte: name its line. */
		const char *z = memchr(text, '\0', n);
		if (z != NULL) {
			*line = 1;
			for (const char *c = text; c < z; c++) {
				*line += *c == '\n';
			}
			return (GH_EINVAL);
		}
	}
	if ((buf = malloc(n + 1)) == NULL) {
		return (GH_ENOMEM);
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	/* strtok_r would merge empty lines and lose the numbering. */
	for (ln = buf; ln != NULL; ln = save) {
		char    *key, *v1, *v2, *extra, *tok;
		uint64_t u;

		lno++;
		save = strchr(ln, '\n');
		if (save != NULL) {
			*save++ = '\0';
		}
		if ((tok = strchr(ln, '#')) != NULL) {
			*tok = '\0';
		}
		key = strtok_r(ln, " \t\r", &tok);
		if (key == NULL) {
			continue;
		}
		v1    = strtok_r(NULL, " \t\r", &tok);
		v2    = strtok_r(NULL, " \t\r", &tok);
		extra = strtok_r(NULL, " \t\r", &tok);
		*line = lno;
		if (v1 == NULL || extra != NULL) {
			goto out;
		}
		if (strcmp(key, "validator") == 0) {
			ledger_validator *v;
			if (v2 == NULL || g->n >= LEDGER_COMMITTEE_MAX
			    || !ledger_name_ok(v2, LEDGER_ADDR_MAX)) {
				goto out;
			}
			v = &g->committee[g->n];
			if (gh_hex_decode(v1, v->key.b, 32) != GH_OK) {
				goto out;
			}
			snprintf(v->addr, sizeof(v->addr), "%s", v2);
			for (uint32_t i = 0; i < g->n; i++) {
				if (memcmp(g->committee[i].key.b, v->key.b, 32)
				    == 0) {
					goto out;
				}
			}
			g->n++;
			continue;
		}
		if (v2 != NULL) {
			goto out;
		}
		if (strcmp(key, "network") == 0 && !have_net) {
			if (!ledger_name_ok(v1, LEDGER_NETNAME_MAX)) {
				goto out;
			}
			snprintf(g->network, sizeof(g->network), "%s", v1);
			have_net = 1;
		} else if (strcmp(key, "issuer") == 0 && !have_iss) {
			if (gh_hex_decode(v1, g->issuer.b, 32) != GH_OK) {
				goto out;
			}
			have_iss = 1;
		} else if (strcmp(key, "treasury") == 0 && !have_tre) {
			if (gh_hex_decode(v1, g->treasury.b, 32) != GH_OK) {
				goto out;
			}
			have_tre = 1;
		} else if (strcmp(key, "fee_bps") == 0 && !have_fee) {
			if (ledger_parse_u64(v1, &u) != GH_OK || u > 10000) {
				goto out;
			}
			g->fee_bps = (uint32_t) u;
			have_fee   = 1;
		} else if (strcmp(key, "lease_grace") == 0 && !have_grace) {
			if (ledger_parse_u64(v1, &g->lease_grace) != GH_OK) {
				goto out;
			}
			have_grace = 1;
		} else if (strcmp(key, "clock_margin") == 0 && !have_margin) {
			if (ledger_parse_u64(v1, &g->clock_margin) != GH_OK) {
				goto out;
			}
			have_margin = 1;
		} else {
			goto out;
		}
	}
	*line = lno;
	if (!have_net || !have_iss || !have_tre || !have_fee || !have_grace
	    || !have_margin || g->n == 0 || g->n % 3 != 1) {
		goto out;
	}
	*line = 0;
	rv    = GH_OK;
out:
	free(buf);
	if (rv != GH_OK) {
		memset(g, 0, sizeof(*g));
	}
	return (rv);
}

int
ledger_genesis_format(const ledger_genesis *g, char **out)
{
	size_t cap = 1024 + (size_t) g->n * (LEDGER_ADDR_MAX + 96);
	size_t len = 0;
	char  *p, hex[65];

	*out = NULL;
	if ((p = malloc(cap)) == NULL) {
		return (GH_ENOMEM);
	}
	len += (size_t) snprintf(p + len, cap - len,
	    "# gpuhour genesis: the network id is the hash of its canonical "
	    "form.\n"
	    "# Committee of n = 3f+1 validators (Ed25519 key, address).\n"
	    "network %s\n",
	    g->network);
	for (uint32_t i = 0; i < g->n; i++) {
		gh_hex_encode(g->committee[i].key.b, 32, hex);
		len += (size_t) snprintf(p + len, cap - len,
		    "validator %s %s\n", hex, g->committee[i].addr);
	}
	gh_hex_encode(g->issuer.b, 32, hex);
	len += (size_t) snprintf(p + len, cap - len, "issuer %s\n", hex);
	gh_hex_encode(g->treasury.b, 32, hex);
	len += (size_t) snprintf(p + len, cap - len, "treasury %s\n", hex);
	len += (size_t) snprintf(p + len, cap - len,
	    "fee_bps %u\nlease_grace %llu\nclock_margin %llu\n",
	    (unsigned) g->fee_bps, (unsigned long long) g->lease_grace,
	    (unsigned long long) g->clock_margin);
	if (len >= cap) {
		free(p);
		return (GH_EINTERNAL);
	}
	*out = p;
	return (GH_OK);
}

void
ledger_genesis_netid(const ledger_genesis *g, gh_hash *out)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_ENTRY_VERSION, LEDGER_T_GENESIS);
	gh_put_cstr(&w, LEDGER_NETNAME_MAX, g->network);
	gh_put_u32(&w, g->n);
	for (uint32_t i = 0; i < g->n && i < LEDGER_COMMITTEE_MAX; i++) {
		gh_put_fixed(&w, g->committee[i].key.b, 32);
		gh_put_cstr(&w, LEDGER_ADDR_MAX, g->committee[i].addr);
	}
	gh_put_fixed(&w, g->issuer.b, 32);
	gh_put_fixed(&w, g->treasury.b, 32);
	gh_put_u32(&w, g->fee_bps);
	gh_put_u64(&w, g->lease_grace);
	gh_put_u64(&w, g->clock_margin);
	if (gh_writer_err(&w) != GH_OK) {
		memset(out, 0, sizeof(*out));
	} else {
		gh_hash_tagged(GH_TAG_GENESIS, w.p, w.len, out);
	}
	gh_writer_free(&w);
}

uint32_t
ledger_genesis_quorum(const ledger_genesis *g)
{
	uint32_t f = g->n == 0 ? 0 : (g->n - 1) / 3;
	return (2 * f + 1);
}

int
ledger_genesis_member(const ledger_genesis *g, const gh_ed_pub *k)
{
	for (uint32_t i = 0; i < g->n && i < LEDGER_COMMITTEE_MAX; i++) {
		if (memcmp(g->committee[i].key.b, k->b, 32) == 0) {
			return ((int) i);
		}
	}
	return (-1);
}

int
ledger_genesis_load(const char *path, ledger_genesis *g, unsigned *line)
{
	uint8_t *p = NULL;
	size_t   n = 0;
	int      rv;

	*line = 0;
	memset(g, 0, sizeof(*g));
	if ((rv = gh_file_read(path, LEDGER_GENESIS_TEXT_MAX, &p, &n))
	    != GH_OK) {
		return (rv);
	}
	rv = ledger_genesis_parse((const char *) p, n, g, line);
	free(p);
	return (rv);
}
