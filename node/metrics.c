/*
 * metrics.c - the node's counters and gauges, and their Prometheus text
 * exposition (format 0.0.4) at /metrics.  Counters are atomics so any
 * thread may update them; the page reads a consistent-enough snapshot.
 */
#include <stdlib.h>
#include <string.h>

#include "node/web.h"

/* Certification latency buckets, seconds (upper bounds). */
static const double node_lat_le[]
    = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };
#define NODE_LAT_N (sizeof(node_lat_le) / sizeof(node_lat_le[0]))

struct node_metrics {
	uint64_t v[NODE_M_COUNT];
	uint32_t util_ppm;
	uint64_t lat_count;
	uint64_t lat_sum_us;
	uint64_t lat_bucket[NODE_LAT_N]; /* not cumulative */
};

int
node_metrics_new(node_metrics **out)
{
	*out = calloc(1, sizeof(**out));
	return (*out == NULL ? GH_ENOMEM : GH_OK);
}

void
node_metrics_free(node_metrics *m)
{
	free(m);
}

void
node_metrics_add(node_metrics *m, node_metric which, uint64_t v)
{
	if (m != NULL && (unsigned) which < NODE_M_COUNT) {
		__atomic_fetch_add(&m->v[which], v, __ATOMIC_RELAXED);
	}
}

uint64_t
node_metrics_value(const node_metrics *m, node_metric which)
{
	if (m == NULL || (unsigned) which >= NODE_M_COUNT) {
		return (0);
	}
	return (__atomic_load_n(&m->v[which], __ATOMIC_RELAXED));
}

void
node_metrics_set_utilization(node_metrics *m, uint32_t ppm)
{
	if (m != NULL) {
		__atomic_store_n(&m->util_ppm, ppm > 1000000 ? 1000000 : ppm,
		    __ATOMIC_RELAXED);
	}
}

void
node_metrics_cert_latency(node_metrics *m, uint64_t us)
{
	if (m == NULL) {
		return;
	}
	for (size_t i = 0; i < NODE_LAT_N; i++) {
		if ((double) us <= node_lat_le[i] * 1e6) {
			__atomic_fetch_add(
			    &m->lat_bucket[i], 1, __ATOMIC_RELAXED);
			break;
		}
	}
	__atomic_fetch_add(&m->lat_sum_us, us, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->lat_count, 1, __ATOMIC_RELAXED);
}

static void
node_m_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
node_m_one(FILE *f, const char *name, const char *type, const char *help,
    unsigned long long v)
{
	node_m_head(f, name, type, help);
	fprintf(f, "%s %llu\n", name, v);
}

int
node_web_metrics(const node_web_ctx *c, FILE *f)
{
	const node_metrics *m = c->metrics;
	node_status         st;
	int                 have_st = c->status != NULL;

	memset(&st, 0, sizeof(st));
	if (have_st) {
		c->status(c->arg, &st);
		node_m_one(f, "gpuhour_node_uptime_seconds", "gauge",
		    "Seconds since the node started.",
		    (unsigned long long) (st.uptime_ms / 1000));
		node_m_head(f, "gpuhour_peers", "gauge",
		    "Peers by state: active (connected), known, banned.");
		fprintf(f, "gpuhour_peers{state=\"active\"} %u\n",
		    st.peers_active);
		fprintf(
		    f, "gpuhour_peers{state=\"known\"} %u\n", st.peers_known);
		fprintf(f, "gpuhour_peers{state=\"banned\"} %u\n",
		    st.peers_banned);
		node_m_one(f, "gpuhour_gossip_items_total", "counter",
		    "Gossip items accepted (new).",
		    (unsigned long long) st.items);
		node_m_one(f, "gpuhour_gossip_copies_total", "counter",
		    "Gossip item copies received, duplicates included.",
		    (unsigned long long) st.copies);
		node_m_one(f, "gpuhour_gossip_unchecked", "gauge",
		    "Gossip items waiting for a predecessor.",
		    (unsigned long long) st.unchecked);
		node_m_head(f, "gpuhour_peer_frames_total", "counter",
		    "Peer frames by direction.");
		fprintf(f,
		    "gpuhour_peer_frames_total{direction=\"in\"} %llu\n",
		    (unsigned long long) st.frames_in);
		fprintf(f,
		    "gpuhour_peer_frames_total{direction=\"out\"} %llu\n",
		    (unsigned long long) st.frames_out);
		node_m_head(f, "gpuhour_peer_bytes_total", "counter",
		    "Peer frame bytes by direction.");
		fprintf(f, "gpuhour_peer_bytes_total{direction=\"in\"} %llu\n",
		    (unsigned long long) st.bytes_in);
		fprintf(f,
		    "gpuhour_peer_bytes_total{direction=\"out\"} %llu\n",
		    (unsigned long long) st.bytes_out);
		node_m_one(f, "gpuhour_peer_frames_dropped_total", "counter",
		    "Peer frames refused (limits, garbage).",
		    (unsigned long long) st.dropped);
	}
	if (c->src.store != NULL) {
		uint64_t applied = 0, pending = 0, equivs = 0, size = 0;
		if (ledger_store_counts(
		        c->src.store, &applied, &pending, &equivs)
		    == GH_OK) {
			node_m_one(f, "gpuhour_ledger_height", "gauge",
			    "Certified entries applied to the ledger.",
			    (unsigned long long) applied);
			node_m_one(f, "gpuhour_ledger_pending_entries",
			    "gauge",
			    "Certified entries waiting for preconditions.",
			    (unsigned long long) pending);
			node_m_one(f, "gpuhour_ledger_equivocations", "gauge",
			    "Equivocation proofs stored.",
			    (unsigned long long) equivs);
		}
		if (ledger_store_log_size(c->src.store, &size) == GH_OK) {
			node_m_one(f, "gpuhour_log_size", "gauge",
			    "Leaves of the transparency log.",
			    (unsigned long long) size);
		}
	}
	if (c->src.book != NULL) {
		node_m_one(f, "gpuhour_market_offers", "gauge",
		    "Offers in the order book.",
		    (unsigned long long) market_book_size(c->src.book));
	}
	node_m_one(f, "gpuhour_jobs_total", "counter",
	    "Inference jobs served by this node.",
	    (unsigned long long) node_metrics_value(m, NODE_M_JOBS));
	node_m_one(f, "gpuhour_tokens_total", "counter",
	    "Tokens generated by this node (rate() gives tokens/s).",
	    (unsigned long long) node_metrics_value(m, NODE_M_TOKENS));
	node_m_head(f, "gpuhour_device_seconds_total", "counter",
	    "Attested device time of this node's jobs, seconds.");
	fprintf(f, "gpuhour_device_seconds_total %.9f\n",
	    (double) node_metrics_value(m, NODE_M_DEVICE_NS) / 1e9);
	node_m_head(f, "gpuhour_gpu_utilization_ratio", "gauge",
	    "GPU utilization, 0 to 1.");
	fprintf(f, "gpuhour_gpu_utilization_ratio %.6f\n",
	    m == NULL
	        ? 0.0
	        : (double) __atomic_load_n(&m->util_ppm, __ATOMIC_RELAXED)
	            / 1e6);
	node_m_one(f, "gpuhour_revenue_micro_total", "counter",
	    "Revenue drawn into this node's asset pools by its applied "
	    "LEASE_DRAW/LEASE_CLOSE entries, fee excluded, micro-units.",
	    (unsigned long long) node_metrics_value(m, NODE_M_REVENUE));
	node_m_one(f, "gpuhour_entries_certified_total", "counter",
	    "Certified ledger entries applied by this node.",
	    (unsigned long long) node_metrics_value(m, NODE_M_CERTIFIED));
	node_m_one(f, "gpuhour_proofs_total", "counter",
	    "Utilization proofs signed by this node applied to the ledger.",
	    (unsigned long long) node_metrics_value(m, NODE_M_PROOFS));
	node_m_head(f, "gpuhour_certification_latency_seconds", "histogram",
	    "Time from an entry's own time (its author's clock, whole "
	    "seconds) to its certificate being applied here.");
	{
		unsigned long long cum = 0;
		for (size_t i = 0; i < NODE_LAT_N; i++) {
			cum += m == NULL ? 0
			                 : __atomic_load_n(&m->lat_bucket[i],
			                     __ATOMIC_RELAXED);
			fprintf(f,
			    "gpuhour_certification_latency_seconds_bucket"
			    "{le=\"%g\"} %llu\n",
			    node_lat_le[i], cum);
		}
		fprintf(f,
		    "gpuhour_certification_latency_seconds_bucket{le=\"+Inf\"}"
		    " "
		    "%llu\n",
		    m == NULL ? 0ULL
		              : (unsigned long long) __atomic_load_n(
		                  &m->lat_count, __ATOMIC_RELAXED));
		fprintf(f, "gpuhour_certification_latency_seconds_sum %.6f\n",
		    m == NULL ? 0.0
		              : (double) __atomic_load_n(
		                    &m->lat_sum_us, __ATOMIC_RELAXED)
		            / 1e6);
		fprintf(f,
		    "gpuhour_certification_latency_seconds_count %llu\n",
		    m == NULL ? 0ULL
		              : (unsigned long long) __atomic_load_n(
		                  &m->lat_count, __ATOMIC_RELAXED));
	}
	node_m_one(f, "gpuhour_http_requests_total", "counter",
	    "HTTP API requests answered.",
	    (unsigned long long) node_metrics_value(m, NODE_M_HTTP_REQS));
	node_m_one(f, "gpuhour_http_errors_total", "counter",
	    "HTTP API requests answered with a 4xx or 5xx status.",
	    (unsigned long long) node_metrics_value(m, NODE_M_HTTP_ERRS));
	return (ferror(f) ? GH_ENOMEM : GH_OK);
}
