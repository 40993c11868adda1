/*
 * report.c - the owner's report on an asset: revenue from its pool,
 * leases, draws and utilization proofs, from the ledger's applied
 * entries.  A lease is named by the hash of its LEASE_OPEN entry; the
 * lease figures stay zero until the ledger applies lease entries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/market.h"

int
market_report_init(market_report *r, const ledger_id *asset, uint64_t now,
    uint64_t bucket_s, uint32_t nbuckets)
{
	memset(r, 0, sizeof(*r));
	if (nbuckets > MARKET_REPORT_BUCKETS_MAX
	    || (nbuckets > 0 && bucket_s == 0)) {
		return (GH_EINVAL);
	}
	r->asset    = *asset;
	r->now      = now;
	r->bucket_s = bucket_s;
	r->nbuckets = nbuckets;
	return (GH_OK);
}

void
market_report_clear(market_report *r)
{
	if (r == NULL) {
		return;
	}
	free(r->lease_ids);
	free(r->lease_drawn);
	free(r->lease_done);
	r->lease_ids   = NULL;
	r->lease_drawn = NULL;
	r->lease_done  = NULL;
	r->nlease = r->caplease = 0;
}

/* Index of lease id in the sorted table, or where it would go (-1 - at). */
static long
market_report_find(const market_report *r, const uint8_t id[32])
{
	size_t lo = 0, hi = r->nlease;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int    c   = memcmp(r->lease_ids[mid].b, id, 32);
		if (c == 0) {
			return ((long) mid);
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return (-1 - (long) lo);
}

static int
market_report_lease_add(market_report *r, const uint8_t id[32])
{
	long   at = market_report_find(r, id);
	size_t i;

	if (at >= 0) {
		return (GH_EEXIST);
	}
	i = (size_t) (-1 - at);
	if (r->nlease == r->caplease) {
		size_t     cap = r->caplease ? r->caplease * 2 : 16;
		ledger_id *ids = realloc(r->lease_ids, cap * sizeof(*ids));
		uint64_t  *dr;
		uint8_t   *dn;
		if (ids == NULL) {
			return (GH_ENOMEM);
		}
		r->lease_ids = ids;
		if ((dr = realloc(r->lease_drawn, cap * sizeof(*dr)))
		    == NULL) {
			return (GH_ENOMEM);
		}
		r->lease_drawn = dr;
		if ((dn = realloc(r->lease_done, cap)) == NULL) {
			return (GH_ENOMEM);
		}
		r->lease_done = dn;
		r->caplease   = cap;
	}
	memmove(r->lease_ids + i + 1, r->lease_ids + i,
	    (r->nlease - i) * sizeof(*r->lease_ids));
	memmove(r->lease_drawn + i + 1, r->lease_drawn + i,
	    (r->nlease - i) * sizeof(*r->lease_drawn));
	memmove(r->lease_done + i + 1, r->lease_done + i, r->nlease - i);
	memcpy(r->lease_ids[i].b, id, 32);
	r->lease_drawn[i] = 0;
	r->lease_done[i]  = 0;
	r->nlease++;
	return (GH_OK);
}

static void
market_report_bucket(market_report *r, uint64_t t, uint64_t ns)
{
	uint64_t back;

	if (r->nbuckets == 0 || t > r->now) {
		return;
	}
	back = (r->now - t) / r->bucket_s;
	if (back < r->nbuckets) {
		r->bucket_ns[r->nbuckets - 1 - back] += ns;
	}
}

int
market_report_add(market_report *r, const ledger_entry *e, const gh_hash *h)
{
	long at;
	int  rv;

	switch (e->kind) {
	case LEDGER_ASSET_REGISTER:
		if (memcmp(h->b, r->asset.b, 32) == 0) {
			r->registered = e->time;
			r->supply     = e->body.asset.supply;
		}
		return (GH_OK);
	case LEDGER_TRANSFER:
		if (e->body.transfer.dest == LEDGER_DEST_POOL
		    && memcmp(e->body.transfer.to.b, r->asset.b, 32) == 0) {
			return (gh_add_u64(r->pool_direct,
			    e->body.transfer.amount, &r->pool_direct));
		}
		return (GH_OK);
	case LEDGER_LEASE_OPEN: {
		const ledger_body_lease_open *lo = &e->body.lease_open;
		uint64_t                      secs, esc;
		if (memcmp(lo->asset.b, r->asset.b, 32) != 0
		    || lo->expiry <= lo->start) {
			return (GH_OK);
		}
		if ((rv = market_report_lease_add(r, h->b)) != GH_OK) {
			return (rv == GH_EEXIST ? GH_OK : rv);
		}
		r->leases++;
		r->leases_open++;
		secs = lo->expiry - lo->start;
		if ((rv = gh_add_u64(r->lease_s, secs, &r->lease_s))
		    != GH_OK) {
			return (rv);
		}
		if ((rv = ledger_escrow_amount(secs, lo->price, &esc))
		    != GH_OK) {
			return (rv);
		}
		return (gh_add_u64(r->escrowed, esc, &r->escrowed));
	}
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE:
	case LEDGER_LEASE_EXPIRE: {
		const uint8_t *lid = e->kind == LEDGER_LEASE_EXPIRE
		    ? e->body.ref.id.b
		    : e->body.lease_draw.lease.b;
		if ((at = market_report_find(r, lid)) < 0) {
			return (GH_OK);
		}
		if (e->kind != LEDGER_LEASE_EXPIRE) {
			/* Receipts are cumulative: a draw pays the part not
			 * drawn yet. */
			uint64_t amt = e->body.lease_draw.receipt_amount;
			if (amt > r->lease_drawn[at]) {
				r->drawn += amt - r->lease_drawn[at];
				r->lease_drawn[at] = amt;
			}
		}
		if (e->kind != LEDGER_LEASE_DRAW && !r->lease_done[at]) {
			r->lease_done[at] = 1;
			r->leases_open--;
		}
		return (GH_OK);
	}
	case LEDGER_PROOF:
		if (market_report_find(r, e->body.proof.lease.b) < 0) {
			return (GH_OK);
		}
		r->proofs++;
		if ((rv = gh_add_u64(
		         r->tokens, e->body.proof.tokens, &r->tokens))
		        != GH_OK
		    || (rv = gh_add_u64(r->device_ns, e->body.proof.device_ns,
		            &r->device_ns))
		        != GH_OK) {
			return (rv);
		}
		market_report_bucket(r, e->time, e->body.proof.device_ns);
		return (GH_OK);
	default:
		return (GH_OK);
	}
}

void
market_report_asset(market_report *r, const ledger_asset *a)
{
	r->supply   = a->supply;
	r->revenue  = a->paid_in;
	r->paid_out = a->paid_out;
}

typedef struct {
	market_report *r;
	int            rv;
} market_report_scan;

static int
market_report_each(void *arg, uint64_t pos, const ledger_cert *c)
{
	market_report_scan *sc = arg;

	(void) pos;
	sc->rv = market_report_add(sc->r, &c->entry, &c->hash);
	return (sc->rv != GH_OK);
}

int
market_report_build(ledger_store *s, const ledger_id *asset, uint64_t now,
    uint64_t bucket_s, uint32_t nbuckets, market_report *r)
{
	ledger_asset      *a = NULL;
	market_report_scan sc;
	int                rv;

	if ((rv = market_report_init(r, asset, now, bucket_s, nbuckets))
	    != GH_OK) {
		return (rv);
	}
	if ((a = malloc(sizeof(*a))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = ledger_store_asset(s, asset, a)) != GH_OK) {
		goto out;
	}
	sc.r  = r;
	sc.rv = GH_OK;
	if ((rv = ledger_store_walk(s, 0, 0, market_report_each, &sc))
	    != GH_OK) {
		goto out;
	}
	if ((rv = sc.rv) != GH_OK) {
		goto out;
	}
	market_report_asset(r, a);
	rv = GH_OK;
out:
	free(a);
	if (rv != GH_OK) {
		market_report_clear(r);
	}
	return (rv);
}

void
market_report_figures_get(
    const market_report *r, uint64_t power_price, market_report_figures *f)
{
	uint64_t period = r->now > r->registered ? r->now - r->registered : 0;

	memset(f, 0, sizeof(*f));
	f->gpu_hours_sold = (double) r->lease_s / 3600.0;
	f->gpu_hours_used = (double) r->device_ns / 3.6e12;
	f->utilization    = period > 0
	       ? (double) r->device_ns / ((double) period * 1e9)
	       : 0.0;
	if (f->utilization > 1.0) {
		f->utilization = 1.0;
	}
	f->revenue = (double) r->revenue / 1e6;
	f->revenue_per_gpu_hour
	    = r->lease_s > 0 ? f->revenue / f->gpu_hours_sold : -1.0;
	f->energy_kwh = r->has_energy ? (double) r->energy_mj / 3.6e9 : -1.0;
	f->revenue_per_kwh = r->has_energy && r->energy_mj > 0
	    ? f->revenue / f->energy_kwh
	    : -1.0;
	if (r->has_energy && power_price > 0) {
		f->power_cost = f->energy_kwh * (double) power_price / 1e6;
		f->margin     = f->revenue - f->power_cost;
	} else {
		f->power_cost = -1.0;
		f->margin     = -1.0;
	}
}

/* A figure, or null when it is unknown (negative). */
static void
market_json_num(FILE *f, const char *name, double v)
{
	if (v < 0) {
		fprintf(f, ",\"%s\":null", name);
	} else {
		fprintf(f, ",\"%s\":%.6f", name, v);
	}
}

int
market_report_json(
    const market_report *r, uint64_t power_price, char **out, size_t *n)
{
	market_report_figures fg;
	char                  hex[65];
	char                 *p  = NULL;
	size_t                pn = 0;
	FILE                 *f;

	*out = NULL;
	*n   = 0;
	if ((f = open_memstream(&p, &pn)) == NULL) {
		return (GH_ENOMEM);
	}
	market_report_figures_get(r, power_price, &fg);
	gh_hex_encode(r->asset.b, 32, hex);
	fprintf(f,
	    "{\"asset\":\"%s\",\"registered\":%llu,\"now\":%llu,"
	    "\"supply\":%llu,\"revenue_micro\":%llu,\"paid_out_micro\":%llu,"
	    "\"pool_direct_micro\":%llu,\"leases\":%llu,\"leases_open\":%llu,"
	    "\"lease_seconds\":%llu,\"escrowed_micro\":%llu,"
	    "\"drawn_micro\":%llu,\"proofs\":%llu,\"tokens\":%llu,"
	    "\"device_ns\":%llu,\"energy_known\":%s",
	    hex, (unsigned long long) r->registered,
	    (unsigned long long) r->now, (unsigned long long) r->supply,
	    (unsigned long long) r->revenue, (unsigned long long) r->paid_out,
	    (unsigned long long) r->pool_direct,
	    (unsigned long long) r->leases,
	    (unsigned long long) r->leases_open,
	    (unsigned long long) r->lease_s, (unsigned long long) r->escrowed,
	    (unsigned long long) r->drawn, (unsigned long long) r->proofs,
	    (unsigned long long) r->tokens, (unsigned long long) r->device_ns,
	    r->has_energy ? "true" : "false");
	market_json_num(f, "gpu_hours_sold", fg.gpu_hours_sold);
	market_json_num(f, "utilization", fg.utilization);
	market_json_num(f, "gpu_hours_used", fg.gpu_hours_used);
	market_json_num(f, "revenue", fg.revenue);
	market_json_num(f, "revenue_per_gpu_hour", fg.revenue_per_gpu_hour);
	market_json_num(f, "energy_kwh", fg.energy_kwh);
	market_json_num(f, "revenue_per_kwh", fg.revenue_per_kwh);
	if (power_price > 0) {
		fprintf(f, ",\"power_price_micro_per_kwh\":%llu",
		    (unsigned long long) power_price);
	} else {
		fprintf(f, ",\"power_price_micro_per_kwh\":null");
	}
	market_json_num(f, "power_cost", fg.power_cost);
	if (fg.margin < 0 && fg.power_cost >= 0) {
		fprintf(f, ",\"margin\":%.6f", fg.margin);
	} else {
		market_json_num(f, "margin", fg.margin);
	}
	fprintf(f, ",\"bucket_s\":%llu,\"utilization_series\":[",
	    (unsigned long long) r->bucket_s);
	for (uint32_t i = 0; i < r->nbuckets; i++) {
		fprintf(f, "%s%.6f", i ? "," : "",
		    (double) r->bucket_ns[i] / ((double) r->bucket_s * 1e9));
	}
	fprintf(f, "]}");
	if (fclose(f) != 0 || p == NULL) {
		free(p);
		return (GH_ENOMEM);
	}
	*out = p;
	*n   = pn;
	return (GH_OK);
}
