/* cache.c - bounded id sets and maps (seen-cache, replay cache). */
#include <stdlib.h>
#include <string.h>

#include "node/priv.h"

static uint32_t
node_idmap_slot(const node_idmap *m, const gh_hash *id)
{
	/* Ids are hashes: their first bytes are already uniform. */
	return ((uint32_t) gh_be32_get(id->b) & m->mask);
}

int
node_idmap_init(node_idmap *m, uint32_t max_entries)
{
	uint32_t size = 16;

	memset(m, 0, sizeof(*m));
	if (max_entries == 0 || max_entries > (1u << 28)) {
		return (GH_EINVAL);
	}
	while (size < max_entries * 2) {
		size <<= 1;
	}
	m->keys = calloc(size, sizeof(*m->keys));
	m->vals = calloc(size, sizeof(*m->vals));
	if (m->keys == NULL || m->vals == NULL) {
		node_idmap_fini(m);
		return (GH_ENOMEM);
	}
	m->mask = size - 1;
	return (GH_OK);
}

void
node_idmap_fini(node_idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

int
node_idmap_get(const node_idmap *m, const gh_hash *id, uint32_t *val)
{
	uint32_t i = node_idmap_slot(m, id);

	while (m->vals[i] != 0) {
		if (memcmp(m->keys[i].b, id->b, 32) == 0) {
			*val = m->vals[i] - 1;
			return (GH_OK);
		}
		i = (i + 1) & m->mask;
	}
	return (GH_ENOENT);
}

int
node_idmap_put(node_idmap *m, const gh_hash *id, uint32_t val)
{
	uint32_t i = node_idmap_slot(m, id);

	if (val == UINT32_MAX) {
		return (GH_EINVAL);
	}
	while (m->vals[i] != 0) {
		if (memcmp(m->keys[i].b, id->b, 32) == 0) {
			m->vals[i] = val + 1;
			return (GH_OK);
		}
		i = (i + 1) & m->mask;
	}
	if (m->count >= (m->mask + 1) / 2) {
		return (GH_EFULL);
	}
	m->keys[i] = *id;
	m->vals[i] = val + 1;
	m->count++;
	return (GH_OK);
}

void
node_idmap_del(node_idmap *m, const gh_hash *id)
{
	uint32_t i = node_idmap_slot(m, id);
	uint32_t j;

	while (m->vals[i] != 0 && memcmp(m->keys[i].b, id->b, 32) != 0) {
		i = (i + 1) & m->mask;
	}
	if (m->vals[i] == 0) {
		return;
	}
	/* Backward shift: pull later members of the probe run into the
	 * hole so lookups never stop early. */
	m->vals[i] = 0;
	m->count--;
	j = i;
	for (;;) {
		uint32_t home;
		j = (j + 1) & m->mask;
		if (m->vals[j] == 0) {
			break;
		}
		home = node_idmap_slot(m, &m->keys[j]);
		/* Move j into i if home is not cyclically in (i, j]. */
		if (((j - home) & m->mask) >= ((j - i) & m->mask)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->vals[j] = 0;
			i          = j;
		}
	}
}

struct node_seen {
	node_idmap map;
	gh_hash   *ring;
	uint32_t   cap;
	uint32_t   head; /* next slot to fill */
	uint32_t   count;
};

int
node_seen_new(uint32_t cap, node_seen **out)
{
	node_seen *s;
	int        rv;

	*out = NULL;
	if (cap == 0) {
		return (GH_EINVAL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		return (GH_ENOMEM);
	}
	if ((rv = node_idmap_init(&s->map, cap)) != GH_OK) {
		free(s);
		return (rv);
	}
	if ((s->ring = calloc(cap, sizeof(*s->ring))) == NULL) {
		node_seen_free(s);
		return (GH_ENOMEM);
	}
	s->cap = cap;
	*out   = s;
	return (GH_OK);
}

void
node_seen_free(node_seen *s)
{
	if (s == NULL) {
		return;
	}
	node_idmap_fini(&s->map);
	free(s->ring);
	free(s);
}

int
node_seen_has(const node_seen *s, const gh_hash *id)
{
	uint32_t v;
	return (node_idmap_get(&s->map, id, &v) == GH_OK);
}

int
node_seen_add(node_seen *s, const gh_hash *id)
{
	if (node_seen_has(s, id)) {
		return (1);
	}
	if (s->count == s->cap) {
		node_idmap_del(&s->map, &s->ring[s->head]);
		s->count--;
	}
	s->ring[s->head] = *id;
	(void) node_idmap_put(&s->map, id, s->head);
	s->head = (s->head + 1) % s->cap;
	s->count++;
	return (0);
}

uint32_t
node_seen_count(const node_seen *s)
{
	return (s->count);
}
