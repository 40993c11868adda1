/*
 * book.c - the order book: offers by asset in a hash table, and ranked
 * in buckets, one skip list per (GPU model, region, billing, memory).  Each
 * bucket keeps bounds on what it holds (largest memory, longest lease,
 * the models served) so a match skips the buckets that cannot qualify
 * and merges the others best first, stopping at the price cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/market.h"

#define BOOK_LEVELS       16
#define BOOK_FILE_VERSION 1
#define BOOK_FILE_TYPE    3
#define BOOK_FILE_MAX     (1u << 30)

typedef struct book_entry book_entry;
struct book_entry {
	market_offer offer;
	gh_hash      id;
	int          level;
	book_entry  *next[]; /* level links */
};

/*
 * A bucket: the offers of one (GPU model, region, billing, memory), in a
 * skip list.  The bounds only grow (a removal leaves them as they are),
 * so they are safe upper bounds for skipping.
 */
typedef struct {
	book_entry *head[BOOK_LEVELS];
	size_t      count;
	char        model[MARKET_GPU_MODEL_MAX + 1];
	char        region[MARKET_REGION_MAX + 1];
	uint8_t     billing;
	uint64_t    memory; /* GPU memory: a size from a short list */
	uint64_t    max_memory;
	uint64_t    max_lease;
	uint64_t    max_until;
	uint64_t    served; /* bit (first byte of model hash % 64) */
} book_list;

struct market_book {
	book_entry      **slots; /* open addressing by asset id */
	size_t            nslots;
	size_t            count;
	book_list        *lists;
	size_t            nlists;
	size_t            caplists;
	uint64_t          rng;
	market_book_stats stats;
};

static int
book_rank(const book_entry *a, const book_entry *b)
{
	const market_offer *x = &a->offer, *y = &b->offer;

	if (x->price != y->price) {
		return (x->price < y->price ? -1 : 1);
	}
	if (x->throughput != y->throughput) {
		return (x->throughput > y->throughput ? -1 : 1);
	}
	if (x->memory_mib != y->memory_mib) {
		return (x->memory_mib > y->memory_mib ? -1 : 1);
	}
	return (memcmp(a->id.b, b->id.b, 32));
}

/* The link out of x at lvl; x == NULL is the list's head. */
static book_entry **
book_link(book_list *l, book_entry *x, int lvl)
{
	return (x == NULL ? &l->head[lvl] : &x->next[lvl]);
}

/* For each level, the link that points at the first entry not ranked
 * before e. */
static void
book_list_find(book_list *l, const book_entry *e, book_entry ***update)
{
	book_entry *x = NULL;
	book_entry *n;

	for (int lvl = BOOK_LEVELS - 1; lvl >= 0; lvl--) {
		while ((n = *book_link(l, x, lvl)) != NULL
		    && book_rank(n, e) < 0) {
			x = n;
		}
		update[lvl] = book_link(l, x, lvl);
	}
}

static void
book_list_insert(book_list *l, book_entry *e)
{
	book_entry        **update[BOOK_LEVELS];
	const market_offer *o = &e->offer;

	book_list_find(l, e, update);
	for (int lvl = 0; lvl < e->level; lvl++) {
		e->next[lvl] = *update[lvl];
		*update[lvl] = e;
	}
	l->count++;
	l->max_memory
	    = o->memory_mib > l->max_memory ? o->memory_mib : l->max_memory;
	l->max_lease
	    = o->max_lease > l->max_lease ? o->max_lease : l->max_lease;
	l->max_until
	    = o->avail_until > l->max_until ? o->avail_until : l->max_until;
	for (uint32_t i = 0; i < o->n_models; i++) {
		l->served |= 1ULL << (o->models[i].b[0] & 63);
	}
}

static void
book_list_remove(book_list *l, book_entry *e)
{
	book_entry **update[BOOK_LEVELS];

	book_list_find(l, e, update);
	for (int lvl = 0; lvl < e->level; lvl++) {
		if (*update[lvl] == e) {
			*update[lvl] = e->next[lvl];
		}
	}
	l->count--;
}

/* The bucket of offer o, created when create is set; NULL if absent or
 * out of memory. */
static book_list *
book_bucket(market_book *b, const market_offer *o, int create)
{
	book_list *v;

	for (size_t i = 0; i < b->nlists; i++) {
		v = &b->lists[i];
		if (v->billing == o->billing && v->memory == o->memory_mib
		    && strcmp(v->model, o->gpu_model) == 0
		    && strcmp(v->region, o->region) == 0) {
			return (v);
		}
	}
	if (!create) {
		return (NULL);
	}
	if (b->nlists == b->caplists) {
		size_t cap = b->caplists ? b->caplists * 2 : 16;
		if ((v = realloc(b->lists, cap * sizeof(*v))) == NULL) {
			return (NULL);
		}
		b->lists    = v;
		b->caplists = cap;
	}
	v = &b->lists[b->nlists++];
	memset(v, 0, sizeof(*v));
	memcpy(v->model, o->gpu_model, sizeof(v->model));
	memcpy(v->region, o->region, sizeof(v->region));
	v->billing = o->billing;
	v->memory  = o->memory_mib;
	return (v);
}

static size_t
book_slot_of(const market_book *b, const market_asset_id *a)
{
	/* Asset ids are hashes: their first bytes are already uniform. */
	return ((size_t) gh_be64_get(a->b) & (b->nslots - 1));
}

/* The slot holding asset, or the empty slot where it would go. */
static size_t
book_find_slot(const market_book *b, const market_asset_id *a)
{
	size_t i = book_slot_of(b, a);

	while (b->slots[i] != NULL
	    && memcmp(b->slots[i]->offer.asset.b, a->b, 32) != 0) {
		i = (i + 1) & (b->nslots - 1);
	}
	return (i);
}

static int
book_grow(market_book *b)
{
	book_entry **old  = b->slots;
	size_t       oldn = b->nslots;
	size_t       n    = oldn ? oldn * 2 : 1024;

	if ((b->slots = calloc(n, sizeof(*b->slots))) == NULL) {
		b->slots = old;
		return (GH_ENOMEM);
	}
	b->nslots = n;
	for (size_t i = 0; i < oldn; i++) {
		if (old[i] != NULL) {
			b->slots[book_find_slot(b, &old[i]->offer.asset)]
			    = old[i];
		}
	}
	free(old);
	return (GH_OK);
}

/* Linear-probing delete with backward shift: no tombstones. */
static void
book_slot_clear(market_book *b, size_t i)
{
	size_t j = i;

	b->slots[i] = NULL;
	for (;;) {
		size_t k;
		j = (j + 1) & (b->nslots - 1);
		if (b->slots[j] == NULL) {
			return;
		}
		k = book_slot_of(b, &b->slots[j]->offer.asset);
		/* Move j back to i unless its home lies cyclically in
		 * (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) {
			continue;
		}
		b->slots[i] = b->slots[j];
		b->slots[j] = NULL;
		i           = j;
	}
}

int
market_book_new(market_book **out)
{
	market_book *b;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL) {
		return (GH_ENOMEM);
	}
	b->rng = 0x853c49e6748fea9bULL;
	if (book_grow(b) != GH_OK) {
		free(b);
		return (GH_ENOMEM);
	}
	*out = b;
	return (GH_OK);
}

void
market_book_free(market_book *b)
{
	if (b == NULL) {
		return;
	}
	for (size_t i = 0; i < b->nslots; i++) {
		free(b->slots[i]);
	}
	free(b->slots);
	free(b->lists);
	free(b);
}

size_t
market_book_size(const market_book *b)
{
	return (b->count);
}

void
market_book_stats_get(const market_book *b, market_book_stats *out)
{
	*out = b->stats;
}

static void
book_unlink(market_book *b, book_entry *e)
{
	book_list_remove(book_bucket(b, &e->offer, 0), e);
}

static int
book_level(market_book *b)
{
	int lvl = 1;

	/* Geometric with p = 1/4; deterministic so that a book's shape
	 * (and its speed) is reproducible. */
	b->rng = b->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	for (uint64_t r = b->rng >> 16; (r & 3) == 0 && lvl < BOOK_LEVELS;
	     r >>= 2) {
		lvl++;
	}
	return (lvl);
}

/* Puts a checked, verified offer into the book. */
static int
book_put(market_book *b, const market_offer *o, const gh_hash *id)
{
	size_t      i   = book_find_slot(b, &o->asset);
	book_entry *old = b->slots[i];
	book_entry *e;
	book_list  *l;
	int         lvl;

	if (old != NULL && o->seq <= old->offer.seq) {
		b->stats.replayed++;
		return (GH_ESEQ);
	}
	if (old != NULL && memcmp(old->offer.node.b, o->node.b, 32) != 0) {
		/* The asset's node is fixed by its registration. */
		b->stats.unregistered++;
		return (GH_ENOENT);
	}
	if (old != NULL) {
		book_unlink(b, old);
		free(old);
		b->slots[i] = NULL;
		b->count--;
		book_slot_clear(b, i);
		if (o->capacity == 0) {
			b->stats.withdrawn++;
			return (GH_OK);
		}
		b->stats.replaced++;
	} else if (o->capacity == 0) {
		/* Withdrawing what we never held: nothing to do. */
		b->stats.withdrawn++;
		return (GH_OK);
	} else {
		b->stats.accepted++;
	}
	if ((b->count + 1) * 2 > b->nslots && book_grow(b) != GH_OK) {
		return (GH_ENOMEM);
	}
	if ((l = book_bucket(b, o, 1)) == NULL) {
		return (GH_ENOMEM);
	}
	lvl = book_level(b);
	e   = malloc(sizeof(*e) + sizeof(book_entry *) * (size_t) lvl);
	if (e == NULL) {
		return (GH_ENOMEM);
	}
	e->offer = *o;
	e->id    = *id;
	e->level = lvl;
	book_list_insert(l, e);
	b->slots[book_find_slot(b, &o->asset)] = e;
	b->count++;
	return (GH_OK);
}

/* Decode and check one offer: the part that may run on any thread. */
static int
book_check(
    const uint8_t *p, size_t n, uint64_t now, market_offer *o, gh_hash *id)
{
	int rv;

	if ((rv = market_offer_decode(p, n, o)) != GH_OK) {
		return (rv);
	}
	if ((rv = market_offer_id(o, id)) != GH_OK) {
		return (rv);
	}
	if (gh_ed_verify(&o->node, id, &o->sig) != GH_OK) {
		return (GH_EBADSIG);
	}
	return (market_offer_check(o, now));
}

/* Counts a drop and returns rv; for GH_OK, does the sequential part. */
static int
book_admit(market_book *b, int rv, const market_offer *o, const gh_hash *id,
    market_asset_fn assets, void *arg)
{
	switch (rv) {
	case GH_OK:
		break;
	case GH_EBADSIG:
		b->stats.bad_sig++;
		return (rv);
	case GH_EWINDOW:
		b->stats.expired++;
		return (rv);
	case GH_EINVAL:
		b->stats.invalid++;
		return (rv);
	default:
		b->stats.malformed++;
		return (rv);
	}
	if (assets != NULL && assets(arg, &o->asset, &o->node) != GH_OK) {
		b->stats.unregistered++;
		return (GH_ENOENT);
	}
	return (book_put(b, o, id));
}

int
market_book_ingest(market_book *b, const uint8_t *p, size_t n, uint64_t now,
    market_asset_fn assets, void *arg)
{
	market_offer o;
	gh_hash      id;
	int          rv = book_check(p, n, now, &o, &id);

	return (book_admit(b, rv, &o, &id, assets, arg));
}

int
market_book_ingest_batch(market_book *b, const uint8_t *const *p,
    const size_t *n, size_t count, uint64_t now, market_asset_fn assets,
    void *arg, int *results)
{
	market_offer *o;
	gh_hash      *id;
	int          *rv;

	o  = malloc(sizeof(*o) * (count ? count : 1));
	id = malloc(sizeof(*id) * (count ? count : 1));
	rv = malloc(sizeof(*rv) * (count ? count : 1));
	if (o == NULL || id == NULL || rv == NULL) {
		free(o);
		free(id);
		free(rv);
		return (GH_ENOMEM);
	}
#pragma omp parallel for schedule(dynamic, 64)
	for (size_t i = 0; i < count; i++) {
		rv[i] = book_check(p[i], n[i], now, &o[i], &id[i]);
	}
	for (size_t i = 0; i < count; i++) {
		int r = book_admit(b, rv[i], &o[i], &id[i], assets, arg);
		if (results != NULL) {
			results[i] = r;
		}
	}
	free(o);
	free(id);
	free(rv);
	return (GH_OK);
}

size_t
market_book_expire(market_book *b, uint64_t now)
{
	size_t dropped = 0;

	for (size_t i = 0; i < b->nslots;) {
		book_entry *e = b->slots[i];
		if (e == NULL || e->offer.expiry > now) {
			i++;
			continue;
		}
		book_unlink(b, e);
		free(e);
		b->count--;
		book_slot_clear(b, i);
		dropped++;
		/* The backward shift may have moved another entry into
		 * slot i: look at it again. */
	}
	return (dropped);
}

int
market_book_get(
    const market_book *b, const market_asset_id *asset, market_offer *out)
{
	book_entry *e = b->slots[book_find_slot(b, asset)];

	if (e == NULL) {
		return (GH_ENOENT);
	}
	*out = e->offer;
	return (GH_OK);
}

static int
book_matches(const market_offer *o, const market_filter *f, uint64_t now)
{
	uint64_t secs;

	if (o->expiry <= now || o->avail_until <= now) {
		return (0);
	}
	if (f->min_memory_mib > o->memory_mib
	    || (f->max_price != 0 && o->price > f->max_price)
	    || (f->billing != 0 && o->billing != f->billing)) {
		return (0);
	}
	if (f->gpu_model != NULL && strcmp(f->gpu_model, o->gpu_model) != 0) {
		return (0);
	}
	if (f->region != NULL && strcmp(f->region, o->region) != 0) {
		return (0);
	}
	if (f->hours != 0) {
		if (gh_mul_u64(f->hours, 3600, &secs) != GH_OK
		    || secs < o->min_lease || secs > o->max_lease
		    || o->avail_until - now < secs) {
			return (0);
		}
	}
	if (f->model != NULL) {
		uint32_t i;
		for (i = 0; i < o->n_models; i++) {
			if (memcmp(o->models[i].b, f->model->b, 32) == 0) {
				break;
			}
		}
		if (i == o->n_models) {
			return (0);
		}
	}
	return (1);
}

/* Whether bucket l can hold an offer that passes f at now. */
static int
book_list_may_match(const book_list *l, const market_filter *f, uint64_t now)
{
	uint64_t secs = 0;

	if (l->count == 0 || l->max_until <= now
	    || (f->billing != 0 && l->billing != f->billing)
	    || (f->gpu_model != NULL && strcmp(f->gpu_model, l->model) != 0)
	    || (f->region != NULL && strcmp(f->region, l->region) != 0)
	    || f->min_memory_mib > l->max_memory) {
		return (0);
	}
	if (f->hours != 0
	    && (gh_mul_u64(f->hours, 3600, &secs) != GH_OK
	        || secs > l->max_lease)) {
		return (0);
	}
	if (f->model != NULL
	    && (l->served & (1ULL << (f->model->b[0] & 63))) == 0) {
		return (0);
	}
	return (1);
}

#define BOOK_MERGE_MAX 64

int
market_book_match(const market_book *b, const market_filter *f, uint64_t now,
    market_offer *out, size_t max, size_t *count)
{
	const book_entry  *stack[BOOK_MERGE_MAX];
	const book_entry **cur  = stack;
	size_t             ncur = 0;
	size_t             k    = 0;

	*count = 0;
	if (b->nlists > BOOK_MERGE_MAX
	    && (cur = malloc(b->nlists * sizeof(*cur))) == NULL) {
		return (GH_ENOMEM);
	}
	for (size_t i = 0; i < b->nlists; i++) {
		const book_list *l = &b->lists[i];
		if (!book_list_may_match(l, f, now)) {
			continue;
		}
		cur[ncur++] = l->head[0];
	}
	/* Merge the candidate buckets best first.  Each cursor first
	 * skips to its next qualifying offer; a bucket whose next offer
	 * is above the price cap is done. */
	while (k < max) {
		size_t best = ncur;
		for (size_t i = 0; i < ncur; i++) {
			while (cur[i] != NULL
			    && (f->max_price == 0
			        || cur[i]->offer.price <= f->max_price)
			    && !book_matches(&cur[i]->offer, f, now)) {
				cur[i] = cur[i]->next[0];
			}
			if (cur[i] != NULL && f->max_price != 0
			    && cur[i]->offer.price > f->max_price) {
				cur[i] = NULL;
			}
			if (cur[i] != NULL
			    && (best == ncur
			        || book_rank(cur[i], cur[best]) < 0)) {
				best = i;
			}
		}
		if (best == ncur) {
			break;
		}
		out[k++]  = cur[best]->offer;
		cur[best] = cur[best]->next[0];
	}
	*count = k;
	if (cur != stack) {
		free(cur);
	}
	return (GH_OK);
}

int
market_book_save(const market_book *b, const char *path)
{
	gh_writer w;
	uint8_t  *p = NULL;
	size_t    n;
	int       rv;

	gh_writer_init(&w);
	gh_put_header(&w, BOOK_FILE_VERSION, BOOK_FILE_TYPE);
	gh_put_u32(&w, (uint32_t) b->count);
	for (size_t i = 0; i < b->nslots; i++) {
		const book_entry *e = b->slots[i];
		uint8_t          *q;
		size_t            m;
		if (e == NULL) {
			continue;
		}
		if ((rv = market_offer_encode(&e->offer, &q, &m)) != GH_OK) {
			gh_writer_free(&w);
			return (rv);
		}
		gh_put_str(&w, MARKET_OFFER_MAX, q, m);
		free(q);
	}
	if ((rv = gh_writer_take(&w, &p, &n)) != GH_OK) {
		return (rv);
	}
	rv = gh_file_write_atomic(path, p, n, 0600);
	free(p);
	return (rv);
}

int
market_book_load(market_book *b, const char *path, uint64_t now,
    market_asset_fn assets, void *arg)
{
	uint8_t  *buf = NULL;
	size_t    n;
	gh_reader r;
	uint8_t   type;
	uint32_t  count;
	int       rv;

	if ((rv = gh_file_read(path, BOOK_FILE_MAX, &buf, &n)) != GH_OK) {
		return (rv);
	}
	gh_reader_init(&r, buf, n);
	if ((rv = gh_get_header(&r, BOOK_FILE_VERSION, &type)) != GH_OK
	    || (rv = gh_get_u32(&r, &count)) != GH_OK) {
		rv = GH_ECORRUPT;
		goto out;
	}
	if (type != BOOK_FILE_TYPE) {
		rv = GH_ECORRUPT;
		goto out;
	}
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *p;
		uint32_t       m;
		if (gh_get_str(&r, MARKET_OFFER_MAX, &p, &m) != GH_OK) {
			rv = GH_ECORRUPT;
			goto out;
		}
		/* Each offer is judged again: it may have expired, or its
		 * asset may be gone. */
		(void) market_book_ingest(b, p, m, now, assets, arg);
	}
	rv = gh_reader_end(&r) == GH_OK ? GH_OK : GH_ECORRUPT;
out:
	free(buf);
	return (rv);
}
