/*
 * http_test.c - the read-only HTTP API, /metrics and the dashboard:
 * the router in-process against a real ledger store and order book,
 * then curl, promtool and headless Chromium against a real `gpuhour
 * node run` process on 127.0.0.1.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"
#include "market/market.h"
#include "node/web.h"
#include "tests/harness.h"
#include "tests/market/market_util.h"
#include "tests/node/net_util.h"

/* Runs cmd and copies the first line of its output into out. */
static int
ht_line(char *out, size_t cap, const char *cmd)
{
	char *o  = NULL;
	int   rc = th_sh(&o, "%s", cmd);
	char *nl;

	out[0] = '\0';
	if (o != NULL) {
		if ((nl = strchr(o, '\n')) != NULL) {
			*nl = '\0';
		}
		snprintf(out, cap, "%s", o);
		free(o);
	}
	return (rc);
}

/* The value after "name " on a line of o (the CLI's plain output). */
static int
ht_field(const char *o, const char *name, char *out, size_t cap)
{
	const char *p  = o;
	size_t      nl = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == o || p[-1] == '\n') && p[nl] == ' ') {
			size_t n;
			p += nl;
			while (*p == ' ') {
				p++;
			}
			n = strcspn(p, "\n");
			if (n >= cap) {
				return (0);
			}
			memcpy(out, p, n);
			out[n] = '\0';
			return (1);
		}
		p++;
	}
	return (0);
}

typedef struct {
	char asset[80];
	char lot[80];
	char alice[80];
	char mint[80];  /* the MINT entry's hash */
	char lease[80]; /* alice leases her own GPU for 2 h, 50000 drawn */
} ht_devnet;

/* A devnet in dir: alice minted 1000000, registers an asset (supply 4)
 * with node key nkey, pays 1001 into its pool, leases it for 2 hours at
 * 0.1 per hour (escrow 200000) and the node draws a receipt of 50000
 * (fee 1 %: 49500 into the pool). */
static int
ht_devnet_make(const char *dir, const char *nkey, ht_devnet *d)
{
	const char *b = th_bin();
	char        cmd[4096];
	char       *o = NULL;
	int         ok;

	memset(d, 0, sizeof(*d));
	snprintf(cmd, sizeof(cmd),
	    "%s ledger genesis --datadir %s --validators 1 "
	    "--insecure-no-passphrase >/dev/null && %s keys new --kind "
	    "account "
	    "--file %s/a.key --insecure-no-passphrase >/dev/null",
	    b, dir, b, dir);
	if (th_sh(NULL, "%s", cmd) != 0) {
		return (0);
	}
	snprintf(
	    cmd, sizeof(cmd), "%s keys export-pub --file %s/a.key", b, dir);
	if (ht_line(d->alice, sizeof(d->alice), cmd) != 0) {
		return (0);
	}
	if (th_sh(&o,
	        "%s wallet mint --datadir %s --key %s/keys/issuer.key --to %s "
	        "--amount 1000000",
	        b, dir, dir, d->alice)
	    != 0) {
		free(o);
		return (0);
	}
	ok = ht_field(o, "entry", d->mint, sizeof(d->mint));
	free(o);
	o = NULL;
	if (!ok
	    || th_sh(&o,
	           "%s shares register --datadir %s --key %s/a.key --node-key "
	           "%s --supply 4 --hw 'H100 \"SXM\"'",
	           b, dir, dir, nkey)
	        != 0) {
		free(o);
		return (0);
	}
	ok = ht_field(o, "asset", d->asset, sizeof(d->asset))
	    && ht_field(o, "lot", d->lot, sizeof(d->lot));
	free(o);
	if (!ok
	    || th_sh(NULL,
	           "%s wallet transfer --datadir %s --key %s/a.key --pool "
	           "--to "
	           "%s --amount 1001 >/dev/null",
	           b, dir, dir, d->asset)
	        != 0
	    || th_sh(NULL,
	           "%s keys new --kind node --file %s/r.key "
	           "--insecure-no-passphrase >/dev/null",
	           b, dir)
	        != 0) {
		return (0);
	}
	o = NULL;
	if (th_sh(&o,
	        "%s lease open --datadir %s --key %s/a.key --asset %s --hours "
	        "2 "
	        "--price 100000 --receipt-key %s/r.key",
	        b, dir, dir, d->asset, dir)
	    != 0) {
		free(o);
		return (0);
	}
	ok = ht_field(o, "lease", d->lease, sizeof(d->lease));
	free(o);
	return (ok
	    && th_sh(NULL,
	           "%s lease draw --datadir %s --node-key %s --lease %s "
	           "--receipt $(%s lease receipt --receipt-key %s/r.key "
	           "--lease "
	           "%s --seq 1 --amount 50000) >/dev/null",
	           b, dir, nkey, d->lease, b, dir, d->lease)
	        == 0);
}

/* Records two utilization proofs (PROOF entries by the asset's node,
 * certified by the devnet's validator) on d's lease: 1800 s and 900 s
 * of device time, 1000 and 500 tokens. */
static int
ht_add_proofs(const char *dir, const char *nkey, const ht_devnet *d)
{
	char            path[PATH_MAX + 32];
	ledger_genesis *g  = malloc(sizeof(*g));
	ledger_cert    *c  = malloc(sizeof(*c));
	ledger_store   *s  = NULL;
	gh_ed_key      *nk = NULL, *vk = NULL;
	unsigned        line;
	int             rv = GH_ENOMEM;

	if (g == NULL || c == NULL) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/genesis.txt", dir);
	if ((rv = ledger_genesis_load(path, g, &line)) != GH_OK
	    || (rv = ledger_store_open(dir, g, NULL, &s)) != GH_OK
	    || (rv = gh_keyfile_open_node(nkey, NULL, 0, &nk)) != GH_OK) {
		goto out;
	}
	snprintf(path, sizeof(path), "%s/keys/validator-0.key", dir);
	if ((rv = gh_keyfile_open_node(path, NULL, 0, &vk)) != GH_OK) {
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		ledger_entry   e;
		ledger_account a;
		gh_ed_pub      pub;
		ledger_cert   *cp = c;
		int            res;
		uint64_t       now = gh_time_now();

		memset(&e, 0, sizeof(e));
		gh_ed_key_pub(nk, &pub);
		e.kind   = LEDGER_PROOF;
		e.scheme = LEDGER_SCHEME_NODE;
		e.netid  = *ledger_store_netid(s);
		memcpy(e.author, pub.b, 32);
		e.time = now;
		e.seq  = 1;
		if (ledger_store_account(s, pub.b, 1, &a) == GH_OK) {
			e.seq  = a.seq + 1;
			e.prev = a.head;
		}
		if ((rv = gh_hex_decode(d->lease, e.body.proof.lease.b, 32))
		    != GH_OK) {
			goto out;
		}
		memset(e.body.proof.proof.b, 0x50 + i, 32);
		e.body.proof.tokens = i == 0 ? 1000 : 500;
		e.body.proof.device_ns
		    = (i == 0 ? 1800ULL : 900ULL) * 1000000000ULL;
		if ((rv = ledger_entry_sign_node(&e, nk)) != GH_OK
		    || (rv = ledger_store_certify(s, &vk, 1, &e, now, c))
		        != GH_OK
		    || (rv = ledger_store_ingest(s, &cp, 1, &res)) != GH_OK) {
			goto out;
		}
		if ((rv = res) != GH_OK) {
			goto out;
		}
	}
	rv = GH_OK;
out:
	gh_ed_key_free(nk);
	gh_ed_key_free(vk);
	ledger_store_close(s);
	free(g);
	free(c);
	return (rv);
}

static uint64_t
ht_now(void *arg)
{
	(void) arg;
	return (MU_NOW);
}

/*
 * A strict reader of the Prometheus text format 0.0.4: every line is a
 * HELP, a TYPE or a sample; a sample's family has a TYPE line before it
 * and a HELP line; names are [a-zA-Z_:][a-zA-Z0-9_:]*; label values are
 * quoted; values parse as floats; counters are named *_total; histogram
 * samples are _bucket (with le), _sum or _count, and buckets are
 * cumulative and end with le="+Inf" equal to _count.  Returns the number
 * of samples, or -line on the first bad line.
 */
static int
ht_prom_check(const char *text)
{
	char        types[64][64], kinds[64][16];
	int         ntypes = 0, nhelp = 0, samples = 0, line = 0;
	double      last_bucket = -1;
	const char *p           = text;

	while (*p != '\0') {
		char   l[512], name[64];
		size_t n = strcspn(p, "\n");
		size_t i = 0, k;
		line++;
		if (n >= sizeof(l) || p[n] != '\n') {
			return (-line);
		}
		memcpy(l, p, n);
		l[n] = '\0';
		p += n + 1;
		if (strncmp(l, "# HELP ", 7) == 0) {
			nhelp++;
			continue;
		}
		if (strncmp(l, "# TYPE ", 7) == 0) {
			char t[16];
			if (ntypes == 64
			    || sscanf(l + 7, "%63s %15s", types[ntypes], t)
			        != 2
			    || (strcmp(t, "counter") != 0
			        && strcmp(t, "gauge") != 0
			        && strcmp(t, "histogram") != 0)) {
				return (-line);
			}
			if (strcmp(t, "counter") == 0) {
				size_t tl = strlen(types[ntypes]);
				if (tl < 6
				    || strcmp(types[ntypes] + tl - 6, "_total")
				        != 0) {
					return (-line);
				}
			}
			snprintf(
			    kinds[ntypes], sizeof(kinds[ntypes]), "%s", t);
			ntypes++;
			last_bucket = -1;
			continue;
		}
		if (l[0] == '#' || l[0] == '\0') {
			return (-line);
		}
		if (!(isalpha((unsigned char) l[0]) || l[0] == '_'
		        || l[0] == ':')) {
			return (-line);
		}
		while (isalnum((unsigned char) l[i]) || l[i] == '_'
		    || l[i] == ':') {
			i++;
		}
		if (i >= sizeof(name)) {
			return (-line);
		}
		memcpy(name, l, i);
		name[i] = '\0';
		{
			const char *lab = NULL;
			char       *end;
			double      v;
			int         fam = -1;
			if (l[i] == '{') {
				lab = l + i;
				k   = i + 1;
				while (l[k] != '}' && l[k] != '\0') {
					size_t s = k;
					while (isalnum((unsigned char) l[k])
					    || l[k] == '_') {
						k++;
					}
					if (k == s || l[k] != '='
					    || l[k + 1] != '"') {
						return (-line);
					}
					k += 2;
					while (l[k] != '"' && l[k] != '\0') {
						k++;
					}
					if (l[k] != '"') {
						return (-line);
					}
					k++;
					if (l[k] == ',') {
						k++;
					}
				}
				if (l[k] != '}') {
					return (-line);
				}
				i = k + 1;
			}
			if (l[i] != ' ') {
				return (-line);
			}
			v = strtod(l + i + 1, &end);
			if (end == l + i + 1 || *end != '\0') {
				return (-line);
			}
			for (int t = ntypes - 1; t >= 0 && fam < 0; t--) {
				size_t tl = strlen(types[t]);
				if (strcmp(name, types[t]) == 0
				    || (strcmp(kinds[t], "histogram") == 0
				        && strncmp(name, types[t], tl) == 0
				        && (strcmp(name + tl, "_bucket") == 0
				            || strcmp(name + tl, "_sum") == 0
				            || strcmp(name + tl, "_count")
				                == 0))) {
					fam = t;
				}
			}
			if (fam < 0 || fam != ntypes - 1) {
				return (-line); /* undeclared or out of its
				                   family */
			}
			if (strcmp(kinds[fam], "histogram") == 0) {
				size_t tl = strlen(types[fam]);
				if (strcmp(name + tl, "_bucket") == 0) {
					if (lab == NULL
					    || strstr(lab, "le=\"") == NULL
					    || v < last_bucket) {
						return (-line);
					}
					last_bucket = v;
				} else if (strcmp(name + tl, "_count") == 0
				    && v != last_bucket) {
					return (-line);
				}
			}
			samples++;
		}
	}
	return (nhelp == ntypes ? samples : -line);
}

static int
ht_serve(const node_web_ctx *c, const char *uri, node_web_res *r)
{
	free(r->body);
	return (node_web_serve(c, "GET", uri, r));
}

TEST_T(http_router_inprocess, 120)
{
	const char     *d = th_tmpdir();
	char            dir[PATH_MAX], nkey[PATH_MAX + 16], uri[PATH_MAX + 32];
	ht_devnet       dv;
	ledger_genesis *g    = malloc(sizeof(*g));
	ledger_store   *s    = NULL;
	market_book    *book = NULL;
	gh_ed_key      *k    = NULL;
	node_metrics   *m    = NULL;
	node_web_ctx    c;
	node_web_res    r;
	market_offer    o;
	uint8_t        *enc = NULL;
	size_t          encn;
	unsigned        line;
	uint8_t         seed[32] = { 7 };

	CHECK(g != NULL);
	snprintf(dir, sizeof(dir), "%s/dn", d);
	snprintf(nkey, sizeof(nkey), "%s/n.key", d);
	CHECK_EQ(
	    th_sh(NULL,
	        "%s keys new --kind node --file %s --insecure-no-passphrase "
	        ">/dev/null",
	        th_bin(), nkey),
	    0);
	CHECK(ht_devnet_make(dir, nkey, &dv));
	CHECK_OK(ht_add_proofs(dir, nkey, &dv));
	snprintf(uri, sizeof(uri), "%s/genesis.txt", dir);
	CHECK_OK(ledger_genesis_load(uri, g, &line));
	CHECK_OK(ledger_store_open(dir, g, NULL, &s));
	CHECK_OK(market_book_new(&book));
	CHECK_OK(gh_ed_key_from_seed(seed, &k));
	mu_offer(&o, 3);
	snprintf(o.gpu_model, sizeof(o.gpu_model), "H100 \"SXM\"\\x");
	CHECK_OK(market_offer_sign(&o, k));
	CHECK_OK(market_offer_encode(&o, &enc, &encn));
	CHECK_OK(market_book_ingest(book, enc, encn, MU_NOW, NULL, NULL));
	free(enc);
	CHECK_OK(node_metrics_new(&m));
	node_metrics_add(m, NODE_M_TOKENS, 1234);
	node_metrics_cert_latency(m, 3000);
	node_metrics_cert_latency(m, 700000);
	node_metrics_cert_latency(m, 99000000);

	memset(&c, 0, sizeof(c));
	memset(&r, 0, sizeof(r));
	c.src.store = s;
	c.src.book  = book;
	c.metrics   = m;
	c.now       = ht_now;

	/* Assets, with the pool and the lots. */
	CHECK_OK(ht_serve(&c, "/api/v1/assets", &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, dv.asset) != NULL);
	CHECK(strstr(r.body, "\"paid_in\":50501") != NULL);
	CHECK(strstr(r.body, "\"hw\":\"H100 \\\"SXM\\\"\"") != NULL);
	snprintf(uri, sizeof(uri), "/api/v1/assets/%s", dv.asset);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, dv.lot) != NULL);
	CHECK(strstr(r.body, "\"accrued\":50501") != NULL);
	CHECK(strstr(r.body, "\"supply\":4") != NULL);
	/* The report: revenue from the pool. */
	snprintf(
	    uri, sizeof(uri), "/api/v1/assets/%s/report?buckets=6", dv.asset);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, "\"revenue_micro\":50501") != NULL);
	CHECK(strstr(r.body, "\"drawn_micro\":50000") != NULL);
	CHECK(strstr(r.body, "\"lease_seconds\":7200") != NULL);
	CHECK(strstr(r.body, "\"leases_open\":1") != NULL);
	CHECK(strstr(r.body, "\"pool_direct_micro\":1001") != NULL);
	/* Accounts. */
	snprintf(uri, sizeof(uri), "/api/v1/accounts/%s", dv.alice);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, "\"balance\":798999") != NULL);
	/* The log: head, an entry, its inclusion proof (verified). */
	CHECK_OK(ht_serve(&c, "/api/v1/log", &r));
	CHECK(strstr(r.body, "\"size\":7") != NULL);
	snprintf(uri, sizeof(uri), "/api/v1/log/proof/%s", dv.mint);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, "\"index\":0") != NULL);
	CHECK(strstr(r.body, "\"verified\":true") != NULL);
	snprintf(uri, sizeof(uri), "/api/v1/log/proof/%s?size=1", dv.mint);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK(strstr(r.body, "\"path\":[]") != NULL);
	snprintf(uri, sizeof(uri), "/api/v1/entries/%s", dv.mint);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK(strstr(r.body, "\"kind\":\"MINT\"") != NULL);
	CHECK(strstr(r.body, "\"signature_ok\":true") != NULL);
	/* Offers from the book; JSON strings escaped. */
	CHECK_OK(ht_serve(&c, "/api/v1/offers", &r));
	CHECK_EQ(r.status, 200);
	CHECK(
	    strstr(r.body, "\"gpu_model\":\"H100 \\\"SXM\\\"\\\\x\"") != NULL);
	CHECK(strstr(r.body, "\"count\":1") != NULL);
	/* Leases and proofs: none on this ledger yet. */
	CHECK_OK(ht_serve(&c, "/api/v1/leases", &r));
	CHECK(strstr(r.body, dv.lease) != NULL);
	CHECK(strstr(r.body, "\"state\":\"active\"") != NULL);
	CHECK(strstr(r.body, "\"drawn\":50000") != NULL);
	CHECK(strstr(r.body, "\"escrow\":200000") != NULL);
	CHECK_OK(ht_serve(&c, "/api/v1/leases?state=closed", &r));
	CHECK(strstr(r.body, "\"leases\":[]") != NULL);
	CHECK_OK(ht_serve(&c, "/api/v1/leases?state=bogus", &r));
	CHECK_EQ(r.status, 400);
	CHECK_OK(ht_serve(&c, "/api/v1/leases", &r));
	/* Proofs, newest first, with their verification. */
	CHECK_OK(ht_serve(&c, "/api/v1/proofs?limit=5", &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.body, "\"count\":2") != NULL);
	CHECK(strstr(r.body, "\"tokens\":500,") != NULL);
	CHECK(strstr(r.body, "\"tokens\":500,")
	    < strstr(r.body, "\"tokens\":1000,"));
	CHECK(strstr(r.body,
	          "\"signature\":true,\"certified\":true,"
	          "\"in_log\":true,\"recorded\":true")
	    != NULL);
	CHECK(strstr(r.body, "\"signature\":false") == NULL);
	snprintf(
	    uri, sizeof(uri), "/api/v1/proofs?asset=%s&limit=1", dv.asset);
	CHECK_OK(ht_serve(&c, uri, &r));
	CHECK(strstr(r.body, "\"count\":1") != NULL);
	CHECK_OK(ht_serve(&c,
	    "/api/v1/proofs?asset="
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    &r));
	CHECK(strstr(r.body, "\"proofs\":[]") != NULL);
	/* The report at the real time: proofs in the last bucket. */
	{
		node_web_ctx rc = c;
		rc.now          = NULL;
		snprintf(uri, sizeof(uri),
		    "/api/v1/assets/%s/report?bucket=3600&buckets=2",
		    dv.asset);
		CHECK_OK(ht_serve(&rc, uri, &r));
		CHECK(strstr(r.body,
		          "\"proofs\":2,\"tokens\":1500,"
		          "\"device_ns\":2700000000000")
		    != NULL);
		CHECK(strstr(
		          r.body, "\"utilization_series\":[0.000000,0.750000]")
		        != NULL
		    || strstr(r.body,
		           "\"utilization_series\":[0.250000,0.500000]")
		        != NULL
		    || strstr(r.body,
		           "\"utilization_series\":[0.500000,0.250000]")
		        != NULL);
	}
	/* Errors: JSON bodies with the right status. */
	{
		static const struct {
			const char *uri;
			int         status;
		} bad[] = {
			{ "/api/v1/assets/zz", 400 },
			{ "/api/v1/assets/"
			  "000000000000000000000000000000000000000000000000000"
			  "00000"
			  "00000000",
			    404 },
			{ "/api/v1/leases?limit=0", 400 },
			{ "/api/v1/leases?limit=99999999999999999999999",
			    400 },
			{ "/api/v1/proofs?asset=xyz", 400 },
			{ "/api/v1/nope", 404 }, { "/nope.html", 404 },
			{ "/api/v1/log/proof/"
			  "000000000000000000000000000000000000000000000000000"
			  "00000"
			  "00000000",
			    404 },
			{ "/api/v1/accounts/12", 400 },
			{ "/api/v1/a/b/c/d/e/f/g/h", 404 },
			{ "api/v1/status", 400 },
			{ "/api/v1/status", 503 }, /* no node in-process */
		};
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			CHECK_OK(ht_serve(&c, bad[i].uri, &r));
			if (r.status != bad[i].status) {
				fprintf(stderr, "%s: %d %s\n", bad[i].uri,
				    r.status, r.body);
			}
			CHECK_EQ(r.status, bad[i].status);
			CHECK(strncmp(r.body, "{\"error\":", 9) == 0);
		}
	}
	free(r.body);
	r.body = NULL;
	CHECK_OK(node_web_serve(&c, "POST", "/api/v1/assets", &r));
	CHECK_EQ(r.status, 405);
	/* Garbage request-targets: an answer, never a crash. */
	{
		uint64_t st = 99;
		char     u[600];
		for (int i = 0; i < 3000; i++) {
			size_t            n = 1 + th_rand(&st) % 200;
			static const char al[]
			    = "/api/v1/assetsofrlgpchkn?=&%0123456789abcdef.";
			for (size_t j = 0; j < n; j++) {
				u[j] = al[th_rand(&st) % (sizeof(al) - 1)];
			}
			u[0] = '/';
			u[n] = '\0';
			CHECK_OK(ht_serve(&c, u, &r));
			CHECK(r.status == 200 || r.status == 400
			    || r.status == 404 || r.status == 503);
		}
		memset(u, 'a', 599);
		u[0]   = '/';
		u[599] = '\0';
		CHECK_OK(ht_serve(&c, u, &r));
		CHECK_EQ(r.status, 404);
	}
	/* The dashboard is embedded. */
	CHECK_OK(ht_serve(&c, "/", &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.ctype, "text/html") != NULL);
	CHECK(strstr(r.body, "/dashboard.js") != NULL);
	CHECK_OK(ht_serve(&c, "/dashboard.js", &r));
	CHECK(strstr(r.ctype, "javascript") != NULL);
	/* Metrics: strict format, the values we set. */
	CHECK_OK(ht_serve(&c, "/metrics", &r));
	CHECK_EQ(r.status, 200);
	CHECK(strstr(r.ctype, "version=0.0.4") != NULL);
	CHECK(ht_prom_check(r.body) > 10);
	CHECK(strstr(r.body, "\ngpuhour_tokens_total 1234\n") != NULL);
	CHECK(strstr(r.body, "\ngpuhour_ledger_height 7\n") != NULL);
	CHECK(strstr(r.body, "\ngpuhour_market_offers 1\n") != NULL);
	CHECK(strstr(r.body,
	          "gpuhour_certification_latency_seconds_bucket{le=\"0.005\"} "
	          "1\n")
	    != NULL);
	CHECK(strstr(r.body,
	          "gpuhour_certification_latency_seconds_bucket{le=\"1\"} 2\n")
	    != NULL);
	CHECK(strstr(r.body, "gpuhour_certification_latency_seconds_count 3\n")
	    != NULL);
	/* The checker itself refuses broken pages. */
	CHECK(ht_prom_check("x 1\n") < 0);
	CHECK(ht_prom_check("# HELP a_total h\n# TYPE a_total counter\n"
	                    "a_total one\n")
	    < 0);
	CHECK(ht_prom_check("# HELP a h\n# TYPE a counter\na 1\n") < 0);
	CHECK(ht_prom_check("# HELP a_total h\n# TYPE a_total counter\n"
	                    "a_total 1\n")
	    == 1);
	free(r.body);
	node_metrics_free(m);
	market_book_free(book);
	gh_ed_key_free(k);
	ledger_store_close(s);
	free(g);
}

/* The report's lease arithmetic on entries the ledger will apply once
 * leases land: opens, draws (cumulative receipts), close, expire,
 * proofs, the utilization series. */
TEST(http_report_leases_and_proofs)
{
	market_report        *r = malloc(sizeof(*r));
	ledger_entry          e;
	ledger_id             asset, other;
	gh_hash               l1, l2, l3, ph;
	char                 *js;
	size_t                jn;
	market_report_figures f;

	CHECK(r != NULL);
	memset(asset.b, 0xaa, 32);
	memset(other.b, 0xbb, 32);
	memset(l1.b, 1, 32);
	memset(l2.b, 2, 32);
	memset(l3.b, 3, 32);
	CHECK_OK(market_report_init(r, &asset, 100000, 3600, 4));
	memset(&e, 0, sizeof(e));
	e.kind              = LEDGER_ASSET_REGISTER;
	e.time              = 100000 - 36000;
	e.body.asset.supply = 10;
	CHECK_OK(market_report_add(r, &e, (const gh_hash *) &asset));
	/* Two leases of the asset, one of another. */
	memset(&e, 0, sizeof(e));
	e.kind                   = LEDGER_LEASE_OPEN;
	e.body.lease_open.asset  = asset;
	e.body.lease_open.start  = 1000;
	e.body.lease_open.expiry = 1000 + 3 * 3600;
	e.body.lease_open.price  = 2000000;
	CHECK_OK(market_report_add(r, &e, &l1));
	CHECK_OK(market_report_add(r, &e, &l1)); /* twice: counted once */
	e.body.lease_open.expiry = 1000 + 2 * 3600;
	CHECK_OK(market_report_add(r, &e, &l2));
	e.body.lease_open.asset = other;
	CHECK_OK(market_report_add(r, &e, &l3));
	CHECK_EQ(r->leases, 2);
	CHECK_EQ(r->lease_s, 5 * 3600);
	CHECK_EQ(r->escrowed, 10000000);
	/* Draws on l1: 1.0 then 2.5 cumulative; an older receipt adds 0. */
	memset(&e, 0, sizeof(e));
	e.kind = LEDGER_LEASE_DRAW;
	memcpy(e.body.lease_draw.lease.b, l1.b, 32);
	e.body.lease_draw.receipt_amount = 1000000;
	CHECK_OK(market_report_add(r, &e, &ph));
	e.body.lease_draw.receipt_amount = 2500000;
	CHECK_OK(market_report_add(r, &e, &ph));
	e.body.lease_draw.receipt_amount = 2000000;
	CHECK_OK(market_report_add(r, &e, &ph));
	CHECK_EQ(r->drawn, 2500000);
	CHECK_EQ(r->leases_open, 2);
	e.kind                           = LEDGER_LEASE_CLOSE;
	e.body.lease_draw.receipt_amount = 3000000;
	CHECK_OK(market_report_add(r, &e, &ph));
	CHECK_EQ(r->drawn, 3000000);
	CHECK_EQ(r->leases_open, 1);
	/* A draw on another asset's lease is not ours. */
	memcpy(e.body.lease_draw.lease.b, l3.b, 32);
	CHECK_OK(market_report_add(r, &e, &ph));
	CHECK_EQ(r->drawn, 3000000);
	memset(&e, 0, sizeof(e));
	e.kind = LEDGER_LEASE_EXPIRE;
	memcpy(e.body.ref.id.b, l2.b, 32);
	CHECK_OK(market_report_add(r, &e, &ph));
	CHECK_EQ(r->leases_open, 0);
	/* Proofs: 1800 s of device time an hour ago, 900 s just now. */
	memset(&e, 0, sizeof(e));
	e.kind = LEDGER_PROOF;
	memcpy(e.body.proof.lease.b, l1.b, 32);
	e.body.proof.tokens    = 1000;
	e.body.proof.device_ns = 1800ULL * 1000000000ULL;
	e.time                 = 100000 - 3600 - 10;
	CHECK_OK(market_report_add(r, &e, &ph));
	e.body.proof.device_ns = 900ULL * 1000000000ULL;
	e.time                 = 100000;
	CHECK_OK(market_report_add(r, &e, &ph));
	memcpy(e.body.proof.lease.b, l3.b, 32);
	CHECK_OK(market_report_add(r, &e, &ph));
	CHECK_EQ(r->proofs, 2);
	CHECK_EQ(r->tokens, 2000);
	CHECK_EQ(r->bucket_ns[3], 900ULL * 1000000000ULL);
	CHECK_EQ(r->bucket_ns[2], 1800ULL * 1000000000ULL);
	CHECK_EQ(r->bucket_ns[0], 0);
	/* Figures: R = 3.0 paid in, 2700 s of 36000 s, 4 kWh at 0.25. */
	{
		ledger_asset a;
		memset(&a, 0, sizeof(a));
		a.supply  = 10;
		a.paid_in = 3000000;
		market_report_asset(r, &a);
	}
	r->has_energy = 1;
	r->energy_mj  = 4ULL * 3600000000ULL;
	market_report_figures_get(r, 250000, &f);
	CHECK(f.utilization > 0.0749 && f.utilization < 0.0751);
	CHECK(f.revenue_per_gpu_hour > 0.5999
	    && f.revenue_per_gpu_hour < 0.6001);
	CHECK(f.energy_kwh > 3.9999 && f.energy_kwh < 4.0001);
	CHECK(f.revenue_per_kwh > 0.7499 && f.revenue_per_kwh < 0.7501);
	CHECK(f.margin > 1.9999 && f.margin < 2.0001);
	CHECK_OK(market_report_json(r, 250000, &js, &jn));
	CHECK(strstr(js, "\"gpu_hours_sold\":5.000000") != NULL);
	CHECK(strstr(js, "\"lease_seconds\":18000") != NULL);
	CHECK(strstr(js, "\"margin\":2.000000") != NULL);
	CHECK(strstr(js,
	          "\"utilization_series\":[0.000000,0.000000,0.500000,"
	          "0.250000]")
	    != NULL);
	free(js);
	/* Without energy: per-kWh figures and the margin are unknown. */
	r->has_energy = 0;
	CHECK_OK(market_report_json(r, 250000, &js, &jn));
	CHECK(strstr(js, "\"margin\":null") != NULL);
	CHECK(strstr(js, "\"revenue_per_kwh\":null") != NULL);
	free(js);
	market_report_clear(r);
	CHECK_ERR(market_report_init(r, &asset, 1, 0, 4), GH_EINVAL);
	CHECK_ERR(market_report_init(r, &asset, 1, 60, 100000), GH_EINVAL);
	free(r);
}

/* curl's status code and body for a path. */
static int
ht_curl(int port, const char *path, char **body)
{
	char *o = NULL;
	int   code;

	if (th_sh(&o,
	        "curl -s -m 10 -o %s/body -w '%%{http_code}' "
	        "'http://127.0.0.1:%d%s'",
	        th_tmpdir(), port, path)
	    != 0) {
		free(o);
		return (-1);
	}
	code = atoi(o);
	free(o);
	if (body != NULL) {
		uint8_t *p = NULL;
		size_t   n;
		char     f[PATH_MAX];
		snprintf(f, sizeof(f), "%s/body", th_tmpdir());
		*body = NULL;
		if (gh_file_read(f, 1 << 24, &p, &n) == GH_OK) {
			char *s = malloc(n + 1);
			if (s != NULL) {
				memcpy(s, p, n);
				s[n] = '\0';
			}
			*body = s;
			free(p);
		}
	}
	return (code);
}

typedef struct {
	tn_net    t;
	ht_devnet dv;
	int       hport;
} ht_node;

/* One real node on loopback over a devnet data dir, HTTP on. */
static int
ht_node_start(ht_node *h)
{
	char  extra[128], src[PATH_MAX + 16], key[PATH_MAX + 16];
	char *g = NULL;
	int   rv;

	memset(h, 0, sizeof(*h));
	if ((h->hport = tn_free_port()) < 0) {
		return (GH_EIO);
	}
	snprintf(extra, sizeof(extra), "http_listen = 127.0.0.1:%d", h->hport);
	if ((rv = tn_setup(&h->t, th_tmpdir(), 1, 0, extra)) != GH_OK) {
		return (rv);
	}
	snprintf(key, sizeof(key), "%s/node.key", h->t.dir[0]);
	if (!ht_devnet_make(h->t.dir[0], key, &h->dv)) {
		return (GH_EIO);
	}
	if ((rv = ht_add_proofs(h->t.dir[0], key, &h->dv)) != GH_OK) {
		return (rv);
	}
	/* The node's genesis is the devnet's. */
	snprintf(src, sizeof(src), "%s/genesis.txt", h->t.dir[0]);
	if (th_sh(NULL, "cp '%s' '%s'", src, h->t.genesis) != 0) {
		free(g);
		return (GH_EIO);
	}
	return (tn_start(&h->t, 0));
}

TEST_T(http_node_curl_and_metrics, 180)
{
	ht_node *h = malloc(sizeof(*h));
	char    *b = NULL;
	char     path[256];
	int      code;

	CHECK(h != NULL);
	CHECK_OK(ht_node_start(h));
	/* Status: the node's own figures. */
	code = ht_curl(h->hport, "/api/v1/status", &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, "\"ledger\":{\"height\":7") != NULL);
	free(b);
	code = ht_curl(h->hport, "/api/v1/assets", &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, h->dv.asset) != NULL);
	free(b);
	snprintf(path, sizeof(path), "/api/v1/assets/%s", h->dv.asset);
	code = ht_curl(h->hport, path, &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, h->dv.lot) != NULL);
	free(b);
	snprintf(path, sizeof(path), "/api/v1/accounts/%s", h->dv.alice);
	code = ht_curl(h->hport, path, &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, "\"balance\":798999") != NULL);
	free(b);
	snprintf(path, sizeof(path), "/api/v1/log/proof/%s", h->dv.mint);
	code = ht_curl(h->hport, path, &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, "\"verified\":true") != NULL);
	free(b);
	/* The node's own order book answers (empty: no offer was
	 * published on this devnet). */
	code = ht_curl(h->hport, "/api/v1/offers", &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && strstr(b, "\"offers\":[]") != NULL);
	free(b);
	CHECK_EQ(ht_curl(h->hport, "/api/v1/assets/xyz", NULL), 400);
	CHECK_EQ(ht_curl(h->hport, "/api/v1/missing", NULL), 404);
	CHECK_EQ(ht_curl(h->hport, "/api/v1/leases?limit=-1", NULL), 400);
	{
		char *o = NULL;
		CHECK_EQ(th_sh(&o,
		             "curl -s -m 10 -X DELETE -w ' %%{http_code}' "
		             "http://127.0.0.1:%d/api/v1/assets",
		             h->hport),
		    0);
		CHECK(o != NULL && strstr(o, "405") != NULL
		    && strstr(o, "\"error\"") != NULL);
		free(o);
	}
	/* Metrics: our strict reader, and promtool where installed. */
	code = ht_curl(h->hport, "/metrics", &b);
	CHECK_EQ(code, 200);
	CHECK(b != NULL && ht_prom_check(b) > 10);
	CHECK(strstr(b, "\ngpuhour_ledger_height 7\n") != NULL);
	CHECK(strstr(b, "gpuhour_peers{state=\"active\"} 0\n") != NULL);
	CHECK(strstr(b, "\ngpuhour_http_errors_total ") != NULL);
	free(b);
	if (th_sh(NULL, "command -v promtool >/dev/null") == 0) {
		char *o  = NULL;
		int   rc = th_sh(&o,
		      "curl -s -m 10 http://127.0.0.1:%d/metrics | promtool "
		        "check "
		        "metrics",
		      h->hport);
		if (rc != 0) {
			fprintf(stderr, "promtool: %s\n", o ? o : "");
		}
		CHECK_EQ(rc, 0);
		free(o);
	} else if (getenv("CI") != NULL) {
		CHECK(!"promtool is missing in CI (scripts/deps.sh --test)");
	} else {
		fprintf(stderr,
		    "http_test: promtool not installed (scripts/deps.sh "
		    "--test); "
		    "checked /metrics with the test's strict reader only\n");
	}
	/* Many requests at once: all answered. */
	{
		char *o = NULL;
		CHECK_EQ(
		    th_sh(&o,
		        "for i in $(seq 1 40); do curl -s -m 10 -o /dev/null "
		        "-w '%%{http_code}\\n' "
		        "http://127.0.0.1:%d/api/v1/assets & done; wait",
		        h->hport),
		    0);
		CHECK(o != NULL);
		{
			int n200 = 0;
			for (char *p = o; (p = strstr(p, "200")) != NULL;
			     p++) {
				n200++;
			}
			CHECK_EQ(n200, 40);
		}
		free(o);
	}
	/* Stopping while requests are in flight: a clean exit. */
	CHECK_EQ(th_sh(NULL,
	             "(for i in $(seq 1 60); do curl -s -m 5 -o /dev/null "
	             "http://127.0.0.1:%d/api/v1/assets & done; wait) "
	             ">/dev/null 2>&1 &",
	             h->hport),
	    0);
	tn_sleep_ms(30);
	CHECK_EQ(tn_stop(&h->t, 0, SIGTERM), 0);
	/* After the stop, nothing listens. */
	CHECK(ht_curl(h->hport, "/api/v1/status", NULL) <= 0);
	tn_teardown(&h->t);
	free(h);
}

TEST_T(http_dashboard_chromium, 240)
{
	ht_node    *h = NULL;
	char       *o = NULL;
	char        shot[PATH_MAX];
	const char *chrome = NULL;
	uint8_t    *png    = NULL;
	size_t      pn     = 0;
	int         rc;

	if (th_sh(NULL, "command -v chromium >/dev/null") == 0) {
		chrome = "chromium";
	} else if (th_sh(NULL, "command -v chromium-browser >/dev/null")
	    == 0) {
		chrome = "chromium-browser";
	}
	if (chrome == NULL) {
		if (getenv("CI") != NULL) {
			CHECK(!"chromium is missing in CI (scripts/deps.sh "
			       "--test)");
		}
		fprintf(stderr,
		    "http_test: SKIP http_dashboard_chromium: chromium not "
		    "installed (scripts/deps.sh --test installs it)\n");
		return;
	}
	h = malloc(sizeof(*h));
	CHECK(h != NULL);
	CHECK_OK(ht_node_start(h));
	rc = th_sh(&o,
	    "HOME=%s timeout 120 %s --headless --no-sandbox --disable-gpu "
	    "--disable-background-networking --no-first-run "
	    "--virtual-time-budget=10000 --dump-dom http://127.0.0.1:%d/ "
	    "2>/dev/null",
	    th_tmpdir(), chrome, h->hport);
	CHECK_EQ(rc, 0);
	CHECK(o != NULL);
	/* The page rendered the API's data. */
	CHECK(strstr(o, "<h1>gpuhour node</h1>") != NULL);
	CHECK(strstr(o, "ledger height 7") != NULL);
	CHECK(strstr(o, h->dv.asset) != NULL);
	CHECK(strstr(o, "H100 \"SXM\"") != NULL
	    || strstr(o, "H100 &quot;SXM") != NULL);
	CHECK(strstr(o, "0.050501") != NULL);  /* revenue, in units */
	CHECK(strstr(o, h->dv.alice) != NULL); /* the share holder */
	CHECK(strstr(o, "100.00 %") != NULL);  /* holds every share */
	CHECK(strstr(o, "no open leases") == NULL);
	{
		char sl[16];
		snprintf(sl, sizeof(sl), "%.12s", h->dv.lease);
		CHECK(strstr(o, sl) != NULL); /* the open lease */
	}
	CHECK(strstr(o, ">2.00<") != NULL); /* its hours */
	CHECK(strstr(o, "no proofs recorded") == NULL);
	CHECK(strstr(o, "verified: signature, certificate, log #6") != NULL);
	CHECK(strstr(o, ">1800.000<") != NULL);      /* device seconds */
	CHECK(strstr(o, "height=\"87.0\"") != NULL); /* the 75 % bar */
	CHECK(strstr(o, "<rect") != NULL); /* the utilization chart */
	free(o);
	o = NULL;
	snprintf(shot, sizeof(shot), "%s/dashboard.png", th_tmpdir());
	rc = th_sh(&o,
	    "cd %s && HOME=%s timeout 120 %s --headless --no-sandbox "
	    "--disable-gpu --disable-background-networking --no-first-run "
	    "--virtual-time-budget=10000 --window-size=1200,1000 "
	    "--screenshot=%s http://127.0.0.1:%d/ 2>&1",
	    th_tmpdir(), th_tmpdir(), chrome, shot, h->hport);
	CHECK_EQ(rc, 0);
	CHECK_OK(gh_file_read(shot, 1 << 26, &png, &pn));
	CHECK(pn > 10000);
	CHECK_MEM(png, "\x89PNG", 4);
	free(png);
	free(o);
	if (getenv("GH_KEEP_SHOT") != NULL) {
		(void) th_sh(NULL, "cp %s '%s'", shot, getenv("GH_KEEP_SHOT"));
	}
	CHECK_EQ(tn_stop(&h->t, 0, SIGTERM), 0);
	tn_teardown(&h->t);
	free(h);
}

TEST(http_config_key_loopback_only)
{
	node_config              c;
	char                     err[128];
	static const char *const good[]
	    = { "127.0.0.1:8080", "localhost:1", "[::1]:65535" };
	static const char *const bad[] = { "0.0.0.0:8080", "10.0.0.1:80",
		"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:8x",
		"example.com:80", ":80", "127.0.0.1:-1" };

	node_config_default(&c);
	CHECK_STR(c.http_listen, "");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "http_listen = %s\n", good[i]);
		CHECK_OK(node_config_parse(
		    line, strlen(line), &c, err, sizeof(err)));
		CHECK_STR(c.http_listen, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[128];
		snprintf(line, sizeof(line), "http_listen = %s\n", bad[i]);
		CHECK_ERR(node_config_parse(
		              line, strlen(line), &c, err, sizeof(err)),
		    GH_EINVAL);
		CHECK(strstr(err, "http_listen") != NULL);
	}
	CHECK(strstr(node_config_help(), "http_listen") != NULL);
}

/* `gpuhour asset report` on a devnet: text, JSON, and bad input. */
TEST_T(http_asset_report_cli, 120)
{
	const char *d = th_tmpdir();
	const char *b = th_bin();
	char        dir[PATH_MAX], nkey[PATH_MAX + 16];
	ht_devnet   dv;
	char       *o = NULL;

	snprintf(dir, sizeof(dir), "%s/dn", d);
	snprintf(nkey, sizeof(nkey), "%s/n.key", d);
	CHECK_EQ(
	    th_sh(NULL,
	        "%s keys new --kind node --file %s --insecure-no-passphrase "
	        ">/dev/null",
	        b, nkey),
	    0);
	CHECK(ht_devnet_make(dir, nkey, &dv));
	CHECK_EQ(
	    th_sh(&o,
	        "%s asset report --datadir %s --no-nvml --power-price 0.25 "
	        "--energy-kwh 0.002 %s",
	        b, dir, dv.asset),
	    0);
	CHECK(strstr(o, "revenue                0.050501") != NULL);
	CHECK(strstr(o, "energy                 0.002000 kWh") != NULL);
	/* 0.001001 / 0.002 kWh; margin 0.001001 - 0.002 * 0.25 */
	CHECK(strstr(o, "revenue per kWh        25.250500") != NULL);
	CHECK(strstr(o, "revenue per GPU-hour   0.025250") != NULL);
	CHECK(strstr(o, "margin                 0.050001") != NULL);
	CHECK(strstr(o, "GPU-hours sold         2.000000 (1 leases, 1 open)")
	    != NULL);
	free(o);
	CHECK_EQ(
	    th_sh(&o,
	        "%s asset report --datadir %s --no-nvml --json --power-price "
	        "1 --energy-kwh 1 %s",
	        b, dir, dv.asset),
	    0);
	CHECK(strstr(o, "\"energy_from\":\"given\"") != NULL);
	CHECK(strstr(o, "\"revenue_micro\":50501") != NULL);
	CHECK(strstr(o, "\"power_price_micro_per_kwh\":1000000") != NULL);
	CHECK(strstr(o, "\"margin\":-0.949499") != NULL);
	free(o);
	/* No energy and no NVML: the per-kWh figures are unknown. */
	CHECK_EQ(th_sh(&o, "%s asset report --datadir %s --no-nvml --json %s",
	             b, dir, dv.asset),
	    0);
	CHECK(strstr(o, "\"energy_kwh\":null") != NULL);
	CHECK(strstr(o, "\"margin\":null") != NULL);
	free(o);
	o = NULL;
	CHECK_EQ(
	    th_sh(NULL, "%s asset report --datadir %s 12 2>/dev/null", b, dir),
	    2);
	CHECK_EQ(th_sh(NULL,
	             "%s asset report --datadir %s --power-price 1.2345678 %s "
	             "2>/dev/null",
	             b, dir, dv.asset),
	    2);
	CHECK_EQ(
	    th_sh(NULL,
	        "%s asset report --datadir %s --energy-kwh -1 %s 2>/dev/null",
	        b, dir, dv.asset),
	    2);
	CHECK_EQ(
	    th_sh(NULL,
	        "%s asset report --datadir %s "
	        "0000000000000000000000000000000000000000000000000000000000"
	        "000000 2>/dev/null",
	        b, dir),
	    3);
	CHECK_EQ(th_sh(NULL, "%s asset frobnicate 2>/dev/null", b), 2);
	CHECK_EQ(th_sh(&o, "%s asset --help", b), 0);
	CHECK(strstr(o, "--power-price") != NULL);
	free(o);
}

/* The value of an unlabelled sample in a /metrics page (-1: absent). */
static double
ht_metric(const char *page, const char *name)
{
	char        key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	if ((p = strstr(page, key)) == NULL) {
		return (-1);
	}
	return (strtod(p + strlen(key), NULL));
}

/*
 * The ledger's counters on /metrics are fed where certificates are
 * applied: node 1 starts empty and syncs a devnet from node 0 whose
 * lease draw and two proofs are signed by node 1's key (`node
 * wait-sync` waits for it), then a transfer submitted through node 1
 * is certified by node 0's vote and applied.
 */
TEST_T(http_metrics_fed_by_ledger_sync, 180)
{
	tn_net   *t = malloc(sizeof(*t));
	ht_devnet dv;
	char      key[PATH_MAX + 16], src[PATH_MAX + 16];
	char     *b = NULL, *o = NULL;
	int       hport = tn_free_port();
	double    v;

	CHECK(t != NULL && hport > 0);
	CHECK_OK(tn_setup(t, th_tmpdir(), 2, 1,
	    "sync_interval_ms = 300\ngossip_interval_ms = 200"));
	/* Node 0 only serves; node 1 syncs from it and answers HTTP. */
	CHECK_EQ(th_sh(NULL,
	             "sed -i '/^seed = /d' '%s' && echo 'http_listen = "
	             "127.0.0.1:%d' >> '%s'",
	             t->conf[0], hport, t->conf[1]),
	    0);
	snprintf(key, sizeof(key), "%s/node.key", t->dir[1]);
	CHECK(ht_devnet_make(t->dir[0], key, &dv));
	CHECK_OK(ht_add_proofs(t->dir[0], key, &dv));
	snprintf(src, sizeof(src), "%s/genesis.txt", t->dir[0]);
	CHECK_EQ(th_sh(NULL, "cp '%s' '%s'", src, t->genesis), 0);
	/* Node 0 holds the devnet's one validator key, so it also votes
	 * for what node 1 submits. */
	CHECK_EQ(th_sh(NULL,
	             "sed -i 's|^node_key = .*|node_key = %s/keys/"
	             "validator-0.key|' '%s'",
	             t->dir[0], t->conf[0]),
	    0);
	CHECK_OK(tn_start(t, 0));
	CHECK_OK(tn_start(t, 1));
	/* wait-sync: settles at the source's height, says so in JSON, and
	 * draws no bar (not a terminal). */
	CHECK_EQ(th_sh(&o,
	             "'%s' node wait-sync --config '%s' --timeout 60 "
	             "--settle 2 --json 2>&1",
	             th_bin(), t->conf[1]),
	    0);
	CHECK(o != NULL && strstr(o, "\"synced\":true") != NULL);
	CHECK(strstr(o, "\"height\":7,") != NULL);
	CHECK(strchr(o, '\r') == NULL);
	free(o);
	/* Peers it cannot have: not settled, exit 1 at the timeout. */
	CHECK_EQ(th_sh(&o,
	             "'%s' node wait-sync --config '%s' --timeout 1 "
	             "--min-peers 5",
	             th_bin(), t->conf[1]),
	    1);
	CHECK(o != NULL && strstr(o, "not synced: height 7 ") != NULL);
	free(o);
	CHECK_EQ(th_sh(NULL, "'%s' node wait-sync --config '%s' --timeout x",
	             th_bin(), t->conf[1]),
	    2);
	CHECK_EQ(
	    th_sh(NULL, "'%s' node wait-sync --data-dir '%s/none' --timeout 1",
	        th_bin(), th_tmpdir()),
	    6);
	/* On a terminal (util-linux's script), a line shows the height. */
	if (th_sh(NULL, "script -qec true /dev/null") == 0) {
		CHECK_EQ(th_sh(&o,
		             "env -u CI -u GPUHOUR_NO_PROGRESS TERM=xterm "
		             "script -qec \"'%s' node wait-sync --config '%s' "
		             "--timeout 30 --settle 1\" /dev/null",
		             th_bin(), t->conf[1]),
		    0);
		CHECK(o != NULL && strstr(o, "\rsyncing ledger ") != NULL);
		CHECK(strstr(o, "synced: height 7 ") != NULL);
		free(o);
	}
	CHECK_EQ(ht_curl(hport, "/metrics", &b), 200);
	CHECK(b != NULL && ht_prom_check(b) > 10);
	CHECK_EQ(ht_metric(b, "gpuhour_ledger_height"), 7);
	CHECK_EQ(ht_metric(b, "gpuhour_entries_certified_total"), 7);
	CHECK_EQ(ht_metric(b, "gpuhour_proofs_total"), 2);
	/* The draw of 50000 at a 1 % fee: 49500 into the pool. */
	CHECK_EQ(ht_metric(b, "gpuhour_revenue_micro_total"), 49500);
	v = ht_metric(b, "gpuhour_certification_latency_seconds_count");
	CHECK(v > 0 && v <= 7);
	CHECK(ht_metric(b, "gpuhour_certification_latency_seconds_sum") >= 0);
	free(b);
	/* An entry submitted through node 1 (certified by node 0's vote)
	 * counts when node 1 applies it. */
	CHECK_EQ(th_sh(&o,
	             "'%s' wallet transfer --node '%s' --key '%s/a.key' --to "
	             "%064d --amount 5 2>&1",
	             th_bin(), t->conf[1], t->dir[0], 7),
	    0);
	CHECK(o != NULL && strstr(o, "entry ") != NULL);
	free(o);
	CHECK_EQ(ht_curl(hport, "/metrics", &b), 200);
	CHECK(b != NULL);
	CHECK_EQ(ht_metric(b, "gpuhour_entries_certified_total"), 8);
	CHECK(ht_metric(b, "gpuhour_certification_latency_seconds_count") > v);
	CHECK_EQ(ht_metric(b, "gpuhour_proofs_total"), 2);
	free(b);
	if (th_sh(NULL, "command -v promtool >/dev/null") == 0) {
		CHECK_EQ(th_sh(&o,
		             "curl -s -m 10 http://127.0.0.1:%d/metrics | "
		             "promtool check metrics",
		             hport),
		    0);
		free(o);
	}
	CHECK_EQ(tn_stop(t, 1, SIGTERM), 0);
	tn_teardown(t);
	free(t);
}
