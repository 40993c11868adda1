/*
 * own.c - entries on the node's own chain (LEASE_DRAW, LEASE_CLOSE,
 * PROOF): filled, signed with the node key and submitted one at a
 * time, so that no two ever share a sequence number.  The entry being
 * certified is kept in <data_dir>/node/own-pending.bin until it is
 * applied: after a crash, or when some validators voted but too few,
 * that same entry is submitted again before anything new is signed
 * (signing another one at its seq would be an equivocation and freeze
 * the node's chain).  Also the control command "node-sign".
 *
 * Threads: worker thread only.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/own.h"
#include "node/priv.h"

#define NODE_OWN_QUEUE    64
#define NODE_OWN_RETRY_MS 2000

typedef struct {
	ledger_entry  e;
	node_own_done done;
	void         *arg;
} node_own_item;

struct node_own {
	node          *n;
	node_ledger   *l;
	ledger_store  *s;
	gh_ed_pub      pub;
	char           pending[PATH_MAX];
	node_own_item *q; /* ring of NODE_OWN_QUEUE */
	uint32_t       head, count;
	int            busy;       /* an entry is out for votes */
	int            recovering; /* ... and it is the pending file's */
	int            in_next;    /* node_own_next is on the stack */
	uint64_t       last_seq;   /* our last certified entry */
	gh_hash        last_head;
};

static void node_own_next(node_own *o);

static void
node_own_cb(void *arg, int status, const gh_hash *h, uint32_t votes)
{
	node_own     *o = arg;
	node_own_item it;
	int           recovered = o->recovering;
	uint64_t      seq       = 0;

	o->busy       = 0;
	o->recovering = 0;
	/* The seq this entry holds: the queue head's, or the pending
	 * file's (read before the file goes). */
	if (!recovered && o->count > 0) {
		seq = o->q[o->head].e.seq;
	} else {
		ledger_entry e;
		uint8_t     *p = NULL;
		size_t       n;
		if (gh_file_read(o->pending, LEDGER_ENTRY_MAX, &p, &n) == GH_OK
		    && ledger_entry_decode(p, n, &e) == GH_OK) {
			seq = e.seq;
		}
		free(p);
	}
	if (status == GH_OK || votes == 0) {
		/* Applied, or refused by every validator: nobody holds a
		 * vote for it, so the next entry may take its seq. */
		(void) unlink(o->pending);
	} else {
		node_log(0, "warn",
		    "msg=\"own entry not certified, will retry\" err=\"%s\" "
		    "votes=%u",
		    gh_strerror(status), (unsigned) votes);
	}
	if (status == GH_OK && seq > o->last_seq) {
		o->last_seq  = seq;
		o->last_head = *h;
	}
	if (!recovered && o->count > 0) {
		it      = o->q[o->head];
		o->head = (o->head + 1) % NODE_OWN_QUEUE;
		o->count--;
		if (it.done != NULL) {
			it.done(it.arg, status, h);
		}
	}
	if (!o->in_next) {
		node_own_next(o);
	}
}

/* Submits the pending file's entry again; 1 when it went out. */
static int
node_own_recover(node_own *o)
{
	ledger_account a;
	ledger_entry   e;
	uint8_t       *p = NULL;
	size_t         n;
	int            rv;

	if (access(o->pending, F_OK) != 0) {
		return (0);
	}
	if ((rv = gh_file_read(o->pending, LEDGER_ENTRY_MAX, &p, &n)) != GH_OK
	    || (rv = ledger_entry_decode(p, n, &e)) != GH_OK) {
		node_log(0, "warn", "msg=\"unreadable own-pending file\"");
		(void) unlink(o->pending);
		free(p);
		return (0);
	}
	rv = ledger_store_account(o->s, o->pub.b, 1, &a);
	if ((rv != GH_OK && rv != GH_ENOENT) || e.seq <= a.seq
	    || e.seq <= o->last_seq) {
		/* Applied (or its seq taken): nothing to finish. */
		(void) unlink(o->pending);
		free(p);
		return (0);
	}
	o->busy       = 1;
	o->recovering = 1;
	rv            = node_ledger_submit(o->l, p, n, node_own_cb, o);
	free(p);
	if (rv != GH_OK) {
		o->busy       = 0;
		o->recovering = 0;
		return (0);
	}
	return (1);
}

static void
node_own_next(node_own *o)
{
	o->in_next = 1;
	while (!o->busy) {
		node_own_item *it;
		ledger_account a;
		uint8_t       *p = NULL;
		size_t         n;
		int            rv;

		if (node_own_recover(o)) {
			break;
		}
		if (o->busy || o->count == 0) {
			break;
		}
		it = &o->q[o->head];
		rv = ledger_store_account(o->s, o->pub.b, 1, &a);
		if (rv == GH_OK || rv == GH_ENOENT) {
			if (rv == GH_ENOENT) {
				memset(&a, 0, sizeof(a));
			}
			if (o->last_seq > a.seq) {
				a.seq  = o->last_seq;
				a.head = o->last_head;
			}
			it->e.scheme = LEDGER_SCHEME_NODE;
			it->e.netid  = *ledger_store_netid(o->s);
			memcpy(it->e.author, o->pub.b, 32);
			it->e.seq  = a.seq + 1;
			it->e.prev = a.head;
			it->e.time = gh_time_now();
			rv         = ledger_entry_sign_node(
			            &it->e, node_key_get(o->n));
		}
		if (rv == GH_OK) {
			rv = ledger_entry_encode(&it->e, &p, &n);
		}
		if (rv == GH_OK) {
			rv = gh_file_write_atomic(o->pending, p, n, 0600);
		}
		if (rv == GH_OK) {
			o->busy = 1;
			rv = node_ledger_submit(o->l, p, n, node_own_cb, o);
			if (rv != GH_OK) {
				o->busy = 0;
				(void) unlink(o->pending);
			}
		}
		free(p);
		if (rv != GH_OK) {
			node_own_item done = *it;
			o->head            = (o->head + 1) % NODE_OWN_QUEUE;
			o->count--;
			if (done.done != NULL) {
				done.done(done.arg, rv, NULL);
			}
		}
	}
	o->in_next = 0;
}

int
node_own_submit(
    node_own *o, const ledger_entry *e, node_own_done done, void *arg)
{
	node_own_item *it;

	if (ledger_kind_scheme(e->kind) != LEDGER_SCHEME_NODE) {
		return (GH_EINVAL);
	}
	if (o->count >= NODE_OWN_QUEUE) {
		return (GH_EFULL);
	}
	it       = &o->q[(o->head + o->count) % NODE_OWN_QUEUE];
	it->e    = *e;
	it->done = done;
	it->arg  = arg;
	o->count++;
	if (!o->in_next) {
		node_own_next(o);
	}
	return (GH_OK);
}

static void
node_own_timer(void *arg)
{
	node_own *o = arg;

	if (!o->busy && !o->in_next) {
		node_own_next(o);
	}
}

typedef struct {
	node *n;
	void *token;
} node_own_ctl;

static void
node_own_ctl_done(void *arg, int status, const gh_hash *h)
{
	node_own_ctl *t = arg;

	node_ctl_finish(t->n, t->token, status,
	    status == GH_OK && h != NULL ? h->b : NULL,
	    status == GH_OK && h != NULL ? 32 : 0);
	free(t);
}

/* "node-sign": an encoded entry of a node-signed kind whose body and
 * consumes the CLI filled; the node fills its chain fields, signs it
 * and answers with the hash once it is certified. */
static int
node_own_ctl_sign(
    void *arg, node *n, const uint8_t *req, size_t len, gh_writer *out)
{
	node_own     *o = arg;
	node_own_ctl *t;
	ledger_entry  e;
	int           rv;

	(void) out;
	if ((rv = ledger_entry_decode(req, len, &e)) != GH_OK) {
		return (rv);
	}
	if ((t = malloc(sizeof(*t))) == NULL) {
		return (GH_ENOMEM);
	}
	t->n     = n;
	t->token = node_ctl_defer(n);
	if ((rv = node_own_submit(o, &e, node_own_ctl_done, t)) != GH_OK) {
		node_ctl_finish(n, t->token, rv, NULL, 0);
		free(t);
	}
	return (GH_EPENDING);
}

int
node_own_attach(node *n, const node_config *c, node_ledger *l, node_own **out)
{
	node_own    *o = NULL;
	node_ctl_cmd cc;
	int          rv;

	*out = NULL;
	if ((o = calloc(1, sizeof(*o))) == NULL
	    || (o->q = calloc(NODE_OWN_QUEUE, sizeof(*o->q))) == NULL) {
		rv = GH_ENOMEM;
		goto fail;
	}
	o->n = n;
	o->l = l;
	o->s = node_ledger_store(l);
	node_pub(n, &o->pub);
	if (snprintf(o->pending, sizeof(o->pending), "%s/node/own-pending.bin",
	        c->data_dir)
	    >= (int) sizeof(o->pending)) {
		rv = GH_ETOOLONG;
		goto fail;
	}
	memset(&cc, 0, sizeof(cc));
	cc.name   = "node-sign";
	cc.arg    = o;
	cc.handle = node_own_ctl_sign;
	if ((rv = node_register_ctl(n, &cc)) != GH_OK
	    || (rv = node_register_timer(
	            n, NODE_OWN_RETRY_MS, node_own_timer, o))
	        != GH_OK) {
		goto fail;
	}
	*out = o;
	return (GH_OK);
fail:
	node_own_free(o);
	return (rv);
}

void
node_own_free(node_own *o)
{
	if (o == NULL) {
		return;
	}
	free(o->q);
	free(o);
}
