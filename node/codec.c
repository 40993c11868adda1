/* codec.c - canonical encodings of peer frames and control replies. */
#include <stdlib.h>
#include <string.h>

#include "node/priv.h"

/* Reads a u8 type header as a sub-object ("version, type first"). */
#define TRY(x)                                                                \
	do {                                                                  \
		if ((rv = (x)) != GH_OK) {                                    \
			return (rv);                                          \
		}                                                             \
	} while (0)

static int
node_type_known(uint8_t t)
{
	return ((t >= NODE_MSG_HELLO && t <= NODE_MSG_SYNC_RANGE)
	    || t == NODE_MSG_REPLY);
}

static void
node_env_put_unsigned(const node_env *e, gh_writer *w)
{
	gh_put_header(w, NODE_WIRE_VERSION, e->type);
	gh_put_fixed(w, e->netid.b, 32);
	gh_put_fixed(w, e->from.b, 32);
	gh_put_fixed(w, e->to.b, 32);
	gh_put_fixed(w, e->re.b, 32);
	gh_put_u64(w, e->time_ms);
	gh_put_u64(w, e->nonce);
	gh_put_str(w, NODE_BODY_MAX, e->body, e->body_len);
}

int
node_env_encode(node_env *e, const gh_ed_key *k, uint8_t **out, size_t *n)
{
	gh_writer w;
	int       rv;

	*out = NULL;
	*n   = 0;
	gh_writer_init(&w);
	node_env_put_unsigned(e, &w);
	if ((rv = gh_writer_err(&w)) != GH_OK) {
		gh_writer_free(&w);
		return (rv);
	}
	gh_hash_tagged(NODE_TAG_FRAME, w.p, w.len, &e->hash);
	gh_ed_sign(k, &e->hash, &e->sig);
	gh_put_fixed(&w, e->sig.b, 64);
	return (gh_writer_take(&w, out, n));
}

int
node_env_decode(const uint8_t *p, size_t n, node_env *e)
{
	gh_reader r;
	size_t    signed_len;
	int       rv;

	memset(e, 0, sizeof(*e));
	if (n > NODE_MSG_MAX) {
		return (GH_ETOOLONG);
	}
	gh_reader_init(&r, p, n);
	TRY(gh_get_header(&r, NODE_WIRE_VERSION, &e->type));
	if (!node_type_known(e->type)) {
		return (GH_ETYPE);
	}
	TRY(gh_get_fixed(&r, e->netid.b, 32));
	TRY(gh_get_fixed(&r, e->from.b, 32));
	TRY(gh_get_fixed(&r, e->to.b, 32));
	TRY(gh_get_fixed(&r, e->re.b, 32));
	TRY(gh_get_u64(&r, &e->time_ms));
	TRY(gh_get_u64(&r, &e->nonce));
	TRY(gh_get_str(&r, NODE_BODY_MAX, &e->body, &e->body_len));
	signed_len = r.off;
	TRY(gh_get_fixed(&r, e->sig.b, 64));
	TRY(gh_reader_end(&r));
	gh_hash_tagged(NODE_TAG_FRAME, p, signed_len, &e->hash);
	return (GH_OK);
}

int
node_env_verify(const node_env *e)
{
	return (gh_ed_verify(&e->from, &e->hash, &e->sig));
}

void
node_item_id(uint8_t kind, const uint8_t *p, size_t n, gh_hash *id)
{
	gh_hasher h;

	gh_hasher_init(&h, GH_TAG_MESSAGE);
	gh_hasher_update(&h, &kind, 1);
	gh_hasher_update(&h, p, n);
	gh_hasher_final(&h, id);
}

int
node_hello_encode(const node_hello *h, gh_writer *w)
{
	gh_put_cstr(w, NODE_ADDR_MAX, h->addr);
	gh_put_u64(w, h->boot);
	return (gh_writer_err(w));
}

int
node_hello_decode(const uint8_t *p, size_t n, node_hello *h)
{
	gh_reader r;
	int       rv;

	memset(h, 0, sizeof(*h));
	gh_reader_init(&r, p, n);
	TRY(gh_get_cstr(&r, NODE_ADDR_MAX, h->addr, sizeof(h->addr)));
	TRY(gh_get_u64(&r, &h->boot));
	return (gh_reader_end(&r));
}

static int
node_item_get(gh_reader *r, node_item *it)
{
	int rv;

	TRY(gh_get_u8(r, &it->kind));
	TRY(gh_get_str(r, NODE_BODY_MAX, &it->payload, &it->len));
	return (GH_OK);
}

int
node_item_encode(const node_item *it, gh_writer *w)
{
	gh_put_u8(w, it->kind);
	gh_put_str(w, NODE_BODY_MAX, it->payload, it->len);
	return (gh_writer_err(w));
}

int
node_item_decode(const uint8_t *p, size_t n, node_item *it)
{
	gh_reader r;
	int       rv;

	memset(it, 0, sizeof(*it));
	gh_reader_init(&r, p, n);
	TRY(node_item_get(&r, it));
	return (gh_reader_end(&r));
}

int
node_digest_req_encode(const node_digest_req *d, gh_writer *w)
{
	gh_put_u64(w, d->boot);
	gh_put_u64(w, d->since);
	return (gh_writer_err(w));
}

int
node_digest_req_decode(const uint8_t *p, size_t n, node_digest_req *d)
{
	gh_reader r;
	int       rv;

	memset(d, 0, sizeof(*d));
	gh_reader_init(&r, p, n);
	TRY(gh_get_u64(&r, &d->boot));
	TRY(gh_get_u64(&r, &d->since));
	return (gh_reader_end(&r));
}

int
node_digest_encode(const node_digest *d, gh_writer *w)
{
	if (d->count > NODE_DIGEST_MAX) {
		return (GH_ETOOLONG);
	}
	gh_put_u64(w, d->boot);
	gh_put_u64(w, d->next);
	gh_put_str(w, NODE_DIGEST_MAX * 32, d->ids, (size_t) d->count * 32);
	return (gh_writer_err(w));
}

int
node_digest_decode(const uint8_t *p, size_t n, node_digest *d)
{
	gh_reader r;
	uint32_t  len;
	int       rv;

	memset(d, 0, sizeof(*d));
	gh_reader_init(&r, p, n);
	TRY(gh_get_u64(&r, &d->boot));
	TRY(gh_get_u64(&r, &d->next));
	TRY(gh_get_str(&r, NODE_DIGEST_MAX * 32, &d->ids, &len));
	if (len % 32 != 0) {
		return (GH_ENONCANON);
	}
	d->count = len / 32;
	return (gh_reader_end(&r));
}

int
node_ids_encode(const gh_hash *ids, uint32_t count, gh_writer *w)
{
	if (count > NODE_IWANT_MAX) {
		return (GH_ETOOLONG);
	}
	gh_put_u32(w, count);
	for (uint32_t i = 0; i < count; i++) {
		gh_put_fixed(w, ids[i].b, 32);
	}
	return (gh_writer_err(w));
}

int
node_ids_decode(const uint8_t *p, size_t n, uint32_t max, const uint8_t **ids,
    uint32_t *count)
{
	gh_reader r;
	uint32_t  c;
	int       rv;

	*ids   = NULL;
	*count = 0;
	gh_reader_init(&r, p, n);
	TRY(gh_get_u32(&r, &c));
	if (c > max) {
		return (GH_ETOOLONG);
	}
	if (gh_reader_left(&r) != (size_t) c * 32) {
		return (gh_reader_left(&r) < (size_t) c * 32 ? GH_ETRUNC
		                                             : GH_ETRAILING);
	}
	*ids   = p + 4;
	*count = c;
	return (GH_OK);
}

int
node_items_begin(const uint8_t *p, size_t n, uint32_t max, node_items_iter *it)
{
	node_item item;
	gh_reader r;
	uint32_t  c;
	int       rv;

	memset(it, 0, sizeof(*it));
	gh_reader_init(&r, p, n);
	TRY(gh_get_u32(&r, &c));
	if (c > max) {
		return (GH_ETOOLONG);
	}
	/* Check the whole form first so a walker never sees half a list. */
	it->r = r;
	for (uint32_t i = 0; i < c; i++) {
		TRY(node_item_get(&r, &item));
	}
	TRY(gh_reader_end(&r));
	it->left = c;
	return (GH_OK);
}

int
node_items_next(node_items_iter *it, node_item *item)
{
	if (it->left == 0) {
		return (GH_ENOENT);
	}
	it->left--;
	return (node_item_get(&it->r, item));
}

void
node_items_start(node_items_writer *iw, gh_writer *w)
{
	iw->w     = w;
	iw->at    = w->len;
	iw->count = 0;
	gh_put_u32(w, 0);
}

void
node_items_put(node_items_writer *iw, uint8_t kind, const uint8_t *p, size_t n)
{
	gh_put_u8(iw->w, kind);
	gh_put_str(iw->w, NODE_BODY_MAX, p, n);
	iw->count++;
}

void
node_items_end(node_items_writer *iw)
{
	if (gh_writer_err(iw->w) == GH_OK && iw->w->len >= iw->at + 4) {
		gh_be32_put(iw->w->p + iw->at, iw->count);
	}
}

int
node_reply_decode(const uint8_t *p, size_t n, uint16_t *status,
    const uint8_t **body, uint32_t *len)
{
	gh_reader r;
	int       rv;

	*status = 0;
	*body   = NULL;
	*len    = 0;
	gh_reader_init(&r, p, n);
	TRY(gh_get_u16(&r, status));
	TRY(gh_get_str(&r, NODE_BODY_MAX, body, len));
	if (*status >= GH_ERR_COUNT) {
		return (GH_ENONCANON);
	}
	return (gh_reader_end(&r));
}

/* ------------------------------------------------------------------ */
/* Control replies. */

int
node_status_encode(const node_status *s, gh_writer *w)
{
	gh_put_fixed(w, s->pub.b, 32);
	gh_put_fixed(w, s->netid.b, 32);
	gh_put_cstr(w, NODE_ADDR_MAX, s->listen);
	gh_put_u64(w, s->uptime_ms);
	gh_put_u32(w, s->peers_active);
	gh_put_u32(w, s->peers_known);
	gh_put_u32(w, s->peers_banned);
	gh_put_u64(w, s->items);
	gh_put_u64(w, s->copies);
	gh_put_u64(w, s->bytes_in);
	gh_put_u64(w, s->bytes_out);
	gh_put_u64(w, s->frames_in);
	gh_put_u64(w, s->frames_out);
	gh_put_u64(w, s->dropped);
	gh_put_u32(w, s->unchecked);
	return (gh_writer_err(w));
}

int
node_status_decode(const uint8_t *p, size_t n, node_status *s)
{
	gh_reader r;
	int       rv;

	memset(s, 0, sizeof(*s));
	gh_reader_init(&r, p, n);
	TRY(gh_get_fixed(&r, s->pub.b, 32));
	TRY(gh_get_fixed(&r, s->netid.b, 32));
	TRY(gh_get_cstr(&r, NODE_ADDR_MAX, s->listen, sizeof(s->listen)));
	TRY(gh_get_u64(&r, &s->uptime_ms));
	TRY(gh_get_u32(&r, &s->peers_active));
	TRY(gh_get_u32(&r, &s->peers_known));
	TRY(gh_get_u32(&r, &s->peers_banned));
	TRY(gh_get_u64(&r, &s->items));
	TRY(gh_get_u64(&r, &s->copies));
	TRY(gh_get_u64(&r, &s->bytes_in));
	TRY(gh_get_u64(&r, &s->bytes_out));
	TRY(gh_get_u64(&r, &s->frames_in));
	TRY(gh_get_u64(&r, &s->frames_out));
	TRY(gh_get_u64(&r, &s->dropped));
	TRY(gh_get_u32(&r, &s->unchecked));
	return (gh_reader_end(&r));
}

int
node_peer_row_encode(const node_peer_row *row, gh_writer *w)
{
	gh_put_fixed(w, row->pub.b, 32);
	gh_put_cstr(w, NODE_ADDR_MAX, row->addr);
	gh_put_u32(w, (uint32_t) row->score);
	gh_put_u64(w, row->banned_until);
	gh_put_u64(w, row->last_seen);
	gh_put_bool(w, row->active != 0);
	return (gh_writer_err(w));
}

int
node_peer_row_decode(gh_reader *r, node_peer_row *row)
{
	uint32_t score;
	int      active;
	int      rv;

	memset(row, 0, sizeof(*row));
	TRY(gh_get_fixed(r, row->pub.b, 32));
	TRY(gh_get_cstr(r, NODE_ADDR_MAX, row->addr, sizeof(row->addr)));
	TRY(gh_get_u32(r, &score));
	TRY(gh_get_u64(r, &row->banned_until));
	TRY(gh_get_u64(r, &row->last_seen));
	TRY(gh_get_bool(r, &active));
	row->score  = (int32_t) score;
	row->active = (uint8_t) active;
	return (GH_OK);
}

int
node_msg_row_encode(const node_msg_row *row, gh_writer *w)
{
	gh_put_fixed(w, row->id.b, 32);
	gh_put_fixed(w, row->author.b, 32);
	gh_put_u64(w, row->seq);
	gh_put_u64(w, row->recv_us);
	gh_put_u32(w, row->copies);
	gh_put_cstr(w, NODE_ANN_TEXT_MAX, row->text);
	return (gh_writer_err(w));
}

int
node_msg_row_decode(gh_reader *r, node_msg_row *row)
{
	int rv;

	memset(row, 0, sizeof(*row));
	TRY(gh_get_fixed(r, row->id.b, 32));
	TRY(gh_get_fixed(r, row->author.b, 32));
	TRY(gh_get_u64(r, &row->seq));
	TRY(gh_get_u64(r, &row->recv_us));
	TRY(gh_get_u32(r, &row->copies));
	TRY(gh_get_cstr(r, NODE_ANN_TEXT_MAX, row->text, sizeof(row->text)));
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Announcements. */

static void
node_ann_put_unsigned(const node_ann *a, gh_writer *w)
{
	gh_put_header(w, NODE_WIRE_VERSION, NODE_KIND_ANNOUNCE);
	gh_put_fixed(w, a->author.b, 32);
	gh_put_u64(w, a->seq);
	gh_put_fixed(w, a->prev.b, 32);
	gh_put_u64(w, a->time_ms);
	gh_put_cstr(w, NODE_ANN_TEXT_MAX, a->text);
}

int
node_ann_encode(const node_ann *a, gh_writer *w)
{
	node_ann_put_unsigned(a, w);
	gh_put_fixed(w, a->sig.b, 64);
	return (gh_writer_err(w));
}

int
node_ann_decode(const uint8_t *p, size_t n, node_ann *a)
{
	gh_reader r;
	uint8_t   type;
	int       rv;

	memset(a, 0, sizeof(*a));
	gh_reader_init(&r, p, n);
	TRY(gh_get_header(&r, NODE_WIRE_VERSION, &type));
	if (type != NODE_KIND_ANNOUNCE) {
		return (GH_ETYPE);
	}
	TRY(gh_get_fixed(&r, a->author.b, 32));
	TRY(gh_get_u64(&r, &a->seq));
	TRY(gh_get_fixed(&r, a->prev.b, 32));
	TRY(gh_get_u64(&r, &a->time_ms));
	TRY(gh_get_cstr(&r, NODE_ANN_TEXT_MAX, a->text, sizeof(a->text)));
	TRY(gh_get_fixed(&r, a->sig.b, 64));
	TRY(gh_reader_end(&r));
	if (a->seq == 0) {
		return (GH_ENONCANON);
	}
	return (GH_OK);
}

static int
node_ann_signed_hash(const node_ann *a, gh_hash *h)
{
	gh_writer w;
	int       rv;

	gh_writer_init(&w);
	node_ann_put_unsigned(a, &w);
	if ((rv = gh_writer_err(&w)) == GH_OK) {
		gh_hash_tagged(NODE_TAG_ANNOUNCE, w.p, w.len, h);
	}
	gh_writer_free(&w);
	return (rv);
}

int
node_ann_sign(node_ann *a, const gh_ed_key *k)
{
	gh_ed_pub pub;
	gh_hash   h;
	int       rv;

	gh_ed_key_pub(k, &pub);
	if (sodium_memcmp(pub.b, a->author.b, 32) != 0) {
		return (GH_EBADKEY);
	}
	if ((rv = node_ann_signed_hash(a, &h)) != GH_OK) {
		return (rv);
	}
	gh_ed_sign(k, &h, &a->sig);
	return (GH_OK);
}

int
node_ann_verify(const node_ann *a)
{
	gh_hash h;
	int     rv;

	if ((rv = node_ann_signed_hash(a, &h)) != GH_OK) {
		return (rv);
	}
	return (gh_ed_verify(&a->author, &h, &a->sig));
}

void
node_ann_hash(const node_ann *a, gh_hash *out)
{
	gh_writer w;

	memset(out, 0, sizeof(*out));
	gh_writer_init(&w);
	if (node_ann_encode(a, &w) == GH_OK) {
		gh_hash_tagged(NODE_TAG_ANNOUNCE, w.p, w.len, out);
	}
	gh_writer_free(&w);
}
