/* web.h - private to node/: the HTTP API's server, request router and
 * metrics page (http.c, metrics.c, the generated dashboard). */
#ifndef GH_NODE_WEB_H
#define GH_NODE_WEB_H

#include <stdio.h>

#include "ledger/ledger.h"
#include "market/market.h"
#include "node/priv.h"

/* Everything a request may read.  status runs on the thread that
 * answers (the worker's when wake is set). */
typedef struct {
	node_http_src src;
	node_metrics *metrics;
	void         *arg;
	void (*status)(void *arg, node_status *out); /* NULL: no node */
	void (*wake)(void *arg);    /* NULL: answer on nng's thread */
	uint64_t (*now)(void *arg); /* unix seconds; NULL: gh_time_now */
} node_web_ctx;

/* One answered request: HTTP status, content type (static), body
 * (malloc'd, caller frees). */
typedef struct {
	int         status;
	const char *ctype;
	char       *body;
	size_t      len;
} node_web_res;

/*
 * Routes one request (method, request-target) and fills *res.  Never
 * fails on bad input: unknown paths are 404, bad parameters 400, other
 * methods 405, missing data sources 503, each with a JSON error body.
 * GH_ENOMEM only.  Reads the ledger in read-only transactions.
 */
int node_web_serve(const node_web_ctx *c, const char *method, const char *uri,
    node_web_res *res);

/* The Prometheus text exposition of the node (status may be NULL). */
int node_web_metrics(const node_web_ctx *c, FILE *f);

/* The embedded dashboard files (generated from node/dashboard/). */
typedef struct {
	const char          *path; /* "/index.html" */
	const char          *ctype;
	const unsigned char *data;
	size_t               len;
} node_web_file;
extern const node_web_file node_web_files[];
extern const size_t        node_web_nfiles;

/* The server: listens on addr ("127.0.0.1:PORT"). */
typedef struct node_http node_http;
int node_http_open(const char *addr, const node_web_ctx *c, node_http **out);
/* Worker thread: answers the queued requests. */
void node_http_poll(node_http *h);
/* Stops the server, answers what is still queued with 503 (NULL ok). */
void node_http_close(node_http *h);

#endif
