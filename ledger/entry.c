/* entry.c - entries, votes, certificates and equivocation proofs: their
 * one canonical encoding, hashes and signatures. */
#include <stdlib.h>
#include <string.h>

#include "ledger/priv.h"

static const char *const ledger_kind_names[] = {
	"?",
	"MINT",
	"TRANSFER",
	"ASSET_REGISTER",
	"SHARE_TRANSFER",
	"REVENUE_CLAIM",
	"LEASE_OPEN",
	"LEASE_DRAW",
	"LEASE_CLOSE",
	"LEASE_EXPIRE",
	"PROOF",
	"LOAN_OFFER",
	"LOAN_TAKE",
	"LOAN_REPAY",
	"LOAN_SEIZE",
	"LOAN_CANCEL",
};

const char *
ledger_kind_name(int kind)
{
	if (kind < 1 || kind > LEDGER_KIND_MAX) {
		return ("?");
	}
	return (ledger_kind_names[kind]);
}

int
ledger_kind_scheme(int kind)
{
	switch (kind) {
	case LEDGER_PROOF:
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE:
		return (LEDGER_SCHEME_NODE);
	default:
		return (kind >= 1 && kind <= LEDGER_KIND_MAX
		        ? LEDGER_SCHEME_ACCOUNT
		        : 0);
	}
}

void
ledger_objkey(uint8_t type, const uint8_t id[32], uint8_t out[33])
{
	out[0] = type;
	memcpy(out + 1, id, 32);
}

void
ledger_lot_id(const gh_hash *entry, uint32_t index, ledger_id *out)
{
	uint8_t buf[36];
	gh_hash h;

	memcpy(buf, entry->b, 32);
	gh_be32_put(buf + 32, index);
	gh_hash_tagged(LEDGER_TAG_LOT, buf, sizeof(buf), &h);
	memcpy(out->b, h.b, 32);
}

void
ledger_asset_binding_hash(
    const gh_hash *netid, const uint8_t owner[32], gh_hash *out)
{
	uint8_t buf[64];

	memcpy(buf, netid->b, 32);
	memcpy(buf + 32, owner, 32);
	gh_hash_tagged(LEDGER_TAG_BINDING, buf, sizeof(buf), out);
}

/* ------------------------------------------------------------------ */
/* Entry bodies. */

static void
ledger_body_put(gh_writer *w, const ledger_entry *e)
{
	switch (e->kind) {
	case LEDGER_MINT:
		gh_put_fixed(w, e->body.mint.to.b, 32);
		gh_put_u64(w, e->body.mint.amount);
		break;
	case LEDGER_TRANSFER:
		gh_put_u8(w, e->body.transfer.dest);
		gh_put_fixed(w, e->body.transfer.to.b, 32);
		gh_put_u64(w, e->body.transfer.amount);
		break;
	case LEDGER_ASSET_REGISTER:
		gh_put_fixed(w, e->body.asset.node.b, 32);
		gh_put_fixed(w, e->body.asset.node_sig.b, 64);
		gh_put_u64(w, e->body.asset.supply);
		gh_put_cstr(w, LEDGER_HW_MAX, e->body.asset.hw);
		break;
	case LEDGER_SHARE_TRANSFER:
		gh_put_fixed(w, e->body.share.lot.b, 32);
		gh_put_fixed(w, e->body.share.to.b, 32);
		gh_put_u64(w, e->body.share.amount);
		gh_put_u64(w, e->body.share.pool_total);
		break;
	case LEDGER_REVENUE_CLAIM:
		gh_put_fixed(w, e->body.claim.lot.b, 32);
		gh_put_u64(w, e->body.claim.pool_total);
		break;
	case LEDGER_LEASE_OPEN: {
		const ledger_body_lease_open *o = &e->body.lease_open;
		gh_put_fixed(w, o->asset.b, 32);
		gh_put_fixed(w, o->node.b, 32);
		gh_put_fixed(w, o->receipt_key.b, 32);
		gh_put_fixed(w, o->offer.b, 32);
		gh_put_u64(w, o->offer_seq);
		gh_put_u64(w, o->price);
		gh_put_u8(w, o->billing);
		gh_put_u64(w, o->start);
		gh_put_u64(w, o->expiry);
		break;
	}
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE:
		gh_put_fixed(w, e->body.lease_draw.lease.b, 32);
		gh_put_u64(w, e->body.lease_draw.receipt_seq);
		gh_put_u64(w, e->body.lease_draw.receipt_amount);
		gh_put_fixed(w, e->body.lease_draw.receipt_sig.b, 64);
		break;
	case LEDGER_LEASE_EXPIRE:
	case LEDGER_LOAN_TAKE:
	case LEDGER_LOAN_SEIZE:
	case LEDGER_LOAN_CANCEL:
		gh_put_fixed(w, e->body.ref.id.b, 32);
		break;
	case LEDGER_PROOF:
		gh_put_fixed(w, e->body.proof.lease.b, 32);
		gh_put_fixed(w, e->body.proof.proof.b, 32);
		gh_put_u64(w, e->body.proof.tokens);
		gh_put_u64(w, e->body.proof.device_ns);
		break;
	case LEDGER_LOAN_OFFER:
		gh_put_fixed(w, e->body.loan_offer.borrower.b, 32);
		gh_put_fixed(w, e->body.loan_offer.lot.b, 32);
		gh_put_u64(w, e->body.loan_offer.amount);
		gh_put_u64(w, e->body.loan_offer.due);
		gh_put_u64(w, e->body.loan_offer.maturity);
		gh_put_u64(w, e->body.loan_offer.expiry);
		break;
	case LEDGER_LOAN_REPAY:
		gh_put_fixed(w, e->body.loan_repay.loan.b, 32);
		gh_put_u64(w, e->body.loan_repay.amount);
		break;
	default:
		/* A kind no decoder accepts: make the writer fail. */
		gh_put_str(w, 0, "", 1);
		break;
	}
}

#define GET(x)                                                                \
	do {                                                                  \
		if ((rv = (x)) != GH_OK)                                      \
			return (rv);                                          \
	} while (0)

static int
ledger_body_get(gh_reader *r, ledger_entry *e)
{
	int rv;

	switch (e->kind) {
	case LEDGER_MINT:
		GET(gh_get_fixed(r, e->body.mint.to.b, 32));
		GET(gh_get_u64(r, &e->body.mint.amount));
		break;
	case LEDGER_TRANSFER:
		GET(gh_get_u8(r, &e->body.transfer.dest));
		if (e->body.transfer.dest != LEDGER_DEST_ACCOUNT
		    && e->body.transfer.dest != LEDGER_DEST_POOL) {
			return (GH_ENONCANON);
		}
		GET(gh_get_fixed(r, e->body.transfer.to.b, 32));
		GET(gh_get_u64(r, &e->body.transfer.amount));
		break;
	case LEDGER_ASSET_REGISTER:
		GET(gh_get_fixed(r, e->body.asset.node.b, 32));
		GET(gh_get_fixed(r, e->body.asset.node_sig.b, 64));
		GET(gh_get_u64(r, &e->body.asset.supply));
		GET(gh_get_cstr(r, LEDGER_HW_MAX, e->body.asset.hw,
		    sizeof(e->body.asset.hw)));
		break;
	case LEDGER_SHARE_TRANSFER:
		GET(gh_get_fixed(r, e->body.share.lot.b, 32));
		GET(gh_get_fixed(r, e->body.share.to.b, 32));
		GET(gh_get_u64(r, &e->body.share.amount));
		GET(gh_get_u64(r, &e->body.share.pool_total));
		break;
	case LEDGER_REVENUE_CLAIM:
		GET(gh_get_fixed(r, e->body.claim.lot.b, 32));
		GET(gh_get_u64(r, &e->body.claim.pool_total));
		break;
	case LEDGER_LEASE_OPEN: {
		ledger_body_lease_open *o = &e->body.lease_open;
		GET(gh_get_fixed(r, o->asset.b, 32));
		GET(gh_get_fixed(r, o->node.b, 32));
		GET(gh_get_fixed(r, o->receipt_key.b, 32));
		GET(gh_get_fixed(r, o->offer.b, 32));
		GET(gh_get_u64(r, &o->offer_seq));
		GET(gh_get_u64(r, &o->price));
		GET(gh_get_u8(r, &o->billing));
		if (o->billing != 1 && o->billing != 2) {
			return (GH_ENONCANON);
		}
		GET(gh_get_u64(r, &o->start));
		GET(gh_get_u64(r, &o->expiry));
		break;
	}
	case LEDGER_LEASE_DRAW:
	case LEDGER_LEASE_CLOSE:
		GET(gh_get_fixed(r, e->body.lease_draw.lease.b, 32));
		GET(gh_get_u64(r, &e->body.lease_draw.receipt_seq));
		GET(gh_get_u64(r, &e->body.lease_draw.receipt_amount));
		GET(gh_get_fixed(r, e->body.lease_draw.receipt_sig.b, 64));
		break;
	case LEDGER_LEASE_EXPIRE:
	case LEDGER_LOAN_TAKE:
	case LEDGER_LOAN_SEIZE:
	case LEDGER_LOAN_CANCEL:
		GET(gh_get_fixed(r, e->body.ref.id.b, 32));
		break;
	case LEDGER_PROOF:
		GET(gh_get_fixed(r, e->body.proof.lease.b, 32));
		GET(gh_get_fixed(r, e->body.proof.proof.b, 32));
		GET(gh_get_u64(r, &e->body.proof.tokens));
		GET(gh_get_u64(r, &e->body.proof.device_ns));
		break;
	case LEDGER_LOAN_OFFER:
		GET(gh_get_fixed(r, e->body.loan_offer.borrower.b, 32));
		GET(gh_get_fixed(r, e->body.loan_offer.lot.b, 32));
		GET(gh_get_u64(r, &e->body.loan_offer.amount));
		GET(gh_get_u64(r, &e->body.loan_offer.due));
		GET(gh_get_u64(r, &e->body.loan_offer.maturity));
		GET(gh_get_u64(r, &e->body.loan_offer.expiry));
		break;
	case LEDGER_LOAN_REPAY:
		GET(gh_get_fixed(r, e->body.loan_repay.loan.b, 32));
		GET(gh_get_u64(r, &e->body.loan_repay.amount));
		break;
	default:
		return (GH_ETYPE);
	}
	return (GH_OK);
}

/* Everything but the signature. */
static void
ledger_entry_put_unsigned(gh_writer *w, const ledger_entry *e)
{
	gh_put_header(w, LEDGER_ENTRY_VERSION, e->kind);
	gh_put_u8(w, e->scheme);
	gh_put_fixed(w, e->netid.b, 32);
	gh_put_fixed(w, e->author, 32);
	gh_put_u64(w, e->seq);
	gh_put_fixed(w, e->prev.b, 32);
	gh_put_u64(w, e->time);
	gh_put_u8(w, (uint8_t) e->nconsumes);
	for (uint32_t i = 0; i < e->nconsumes && i < LEDGER_CONSUMES_MAX;
	     i++) {
		gh_put_u8(w, e->consumes[i].type);
		gh_put_fixed(w, e->consumes[i].id.b, 32);
		gh_put_u64(w, e->consumes[i].version);
	}
	ledger_body_put(w, e);
}

/* Consumed objects are sorted by (type, id), distinct, and never the
 * author's own chain (consumed implicitly). */
static int
ledger_consumes_ok(const ledger_entry *e)
{
	if (e->nconsumes > LEDGER_CONSUMES_MAX) {
		return (0);
	}
	for (uint32_t i = 0; i < e->nconsumes; i++) {
		uint8_t t = e->consumes[i].type;
		if (t < LEDGER_OBJ_ASSET || t > LEDGER_OBJ_LOAN) {
			return (0);
		}
		if (i > 0) {
			const ledger_objver *a = &e->consumes[i - 1];
			const ledger_objver *b = &e->consumes[i];
			if (a->type > b->type
			    || (a->type == b->type
			        && memcmp(a->id.b, b->id.b, 32) >= 0)) {
				return (0);
			}
		}
	}
	return (1);
}

static int
ledger_entry_well_formed(const ledger_entry *e)
{
	static const gh_hash zero;

	if (ledger_kind_scheme(e->kind) == 0
	    || e->scheme != ledger_kind_scheme(e->kind) || e->seq == 0
	    || !ledger_consumes_ok(e)) {
		return (0);
	}
	/* The first entry of a chain has no predecessor. */
	if (e->seq == 1 && memcmp(e->prev.b, zero.b, 32) != 0) {
		return (0);
	}
	if (e->kind == LEDGER_LEASE_OPEN && e->body.lease_open.billing != 1
	    && e->body.lease_open.billing != 2) {
		return (0);
	}
	return (1);
}

int
ledger_entry_encode(const ledger_entry *e, uint8_t **p, size_t *n)
{
	gh_writer w;
	int       rv;

	*p = NULL;
	*n = 0;
	if (!ledger_entry_well_formed(e)) {
		return (GH_EINVAL);
	}
	gh_writer_init(&w);
	ledger_entry_put_unsigned(&w, e);
	gh_put_fixed(&w, e->sig.b, 64);
	if (gh_writer_err(&w) == GH_OK && w.len > LEDGER_ENTRY_MAX) {
		gh_writer_free(&w);
		return (GH_ETOOLONG);
	}
	rv = gh_writer_take(&w, p, n);
	return (rv == GH_OK ? GH_OK : GH_EINVAL);
}

int
ledger_entry_decode(const uint8_t *p, size_t n, ledger_entry *e)
{
	gh_reader r;
	uint8_t   nc;
	int       rv;

	memset(e, 0, sizeof(*e));
	if (n > LEDGER_ENTRY_MAX) {
		return (GH_ETOOLONG);
	}
	gh_reader_init(&r, p, n);
	GET(gh_get_header(&r, LEDGER_ENTRY_VERSION, &e->kind));
	if (ledger_kind_scheme(e->kind) == 0) {
		return (GH_ETYPE);
	}
	GET(gh_get_u8(&r, &e->scheme));
	GET(gh_get_fixed(&r, e->netid.b, 32));
	GET(gh_get_fixed(&r, e->author, 32));
	GET(gh_get_u64(&r, &e->seq));
	GET(gh_get_fixed(&r, e->prev.b, 32));
	GET(gh_get_u64(&r, &e->time));
	GET(gh_get_u8(&r, &nc));
	if (nc > LEDGER_CONSUMES_MAX) {
		return (GH_ETOOLONG);
	}
	e->nconsumes = nc;
	for (uint32_t i = 0; i < nc; i++) {
		GET(gh_get_u8(&r, &e->consumes[i].type));
		GET(gh_get_fixed(&r, e->consumes[i].id.b, 32));
		GET(gh_get_u64(&r, &e->consumes[i].version));
	}
	GET(ledger_body_get(&r, e));
	GET(gh_get_fixed(&r, e->sig.b, 64));
	GET(gh_reader_end(&r));
	if (!ledger_entry_well_formed(e)) {
		memset(e, 0, sizeof(*e));
		return (GH_ENONCANON);
	}
	return (GH_OK);
}

void
ledger_entry_hash(const ledger_entry *e, gh_hash *out)
{
	gh_writer w;
	uint8_t   stack[LEDGER_ENTRY_MAX];

	/* Hash straight from a writer; entries are small. */
	gh_writer_init(&w);
	ledger_entry_put_unsigned(&w, e);
	if (gh_writer_err(&w) != GH_OK || w.len > sizeof(stack)) {
		memset(out, 0, sizeof(*out));
		gh_writer_free(&w);
		return;
	}
	memcpy(stack, w.p, w.len);
	gh_hash_tagged(GH_TAG_ENTRY, stack, w.len, out);
	gh_writer_free(&w);
}

int
ledger_entry_sign_account(ledger_entry *e, const gh_acct_key *k)
{
	gh_acct_pub pub;
	gh_hash     h;

	gh_acct_key_pub(k, &pub);
	if (e->scheme != LEDGER_SCHEME_ACCOUNT
	    || memcmp(pub.b, e->author, 32) != 0) {
		return (GH_EBADKEY);
	}
	ledger_entry_hash(e, &h);
	return (gh_acct_sign(k, &h, &e->sig));
}

int
ledger_entry_sign_node(ledger_entry *e, const gh_ed_key *k)
{
	gh_ed_pub pub;
	gh_hash   h;

	gh_ed_key_pub(k, &pub);
	if (e->scheme != LEDGER_SCHEME_NODE
	    || memcmp(pub.b, e->author, 32) != 0) {
		return (GH_EBADKEY);
	}
	ledger_entry_hash(e, &h);
	gh_ed_sign(k, &h, &e->sig);
	return (GH_OK);
}

static int
ledger_entry_verify_hash(const ledger_entry *e, const gh_hash *h)
{
	if (e->scheme == LEDGER_SCHEME_ACCOUNT) {
		gh_acct_pub pub;
		memcpy(pub.b, e->author, 32);
		return (gh_acct_verify(&pub, h, &e->sig));
	}
	if (e->scheme == LEDGER_SCHEME_NODE) {
		gh_ed_pub pub;
		memcpy(pub.b, e->author, 32);
		return (gh_ed_verify(&pub, h, &e->sig));
	}
	return (GH_EBADSIG);
}

int
ledger_entry_verify_sig(const ledger_entry *e)
{
	gh_hash h;

	ledger_entry_hash(e, &h);
	return (ledger_entry_verify_hash(e, &h));
}

/* ------------------------------------------------------------------ */
/* Votes. */

void
ledger_vote_hash(const gh_hash *netid, const gh_hash *entry, gh_hash *out)
{
	uint8_t buf[64];

	memcpy(buf, netid->b, 32);
	memcpy(buf + 32, entry->b, 32);
	gh_hash_tagged(GH_TAG_VOTE, buf, sizeof(buf), out);
}

int
ledger_vote_encode(const ledger_vote *v, uint8_t out[LEDGER_VOTE_SIZE])
{
	out[0] = LEDGER_ENTRY_VERSION;
	out[1] = LEDGER_T_VOTE;
	memcpy(out + 2, v->netid.b, 32);
	memcpy(out + 34, v->entry.b, 32);
	memcpy(out + 66, v->validator.b, 32);
	memcpy(out + 98, v->sig.b, 64);
	return (GH_OK);
}

int
ledger_vote_decode(const uint8_t *p, size_t n, ledger_vote *v)
{
	gh_reader r;
	uint8_t   t;
	int       rv;

	memset(v, 0, sizeof(*v));
	gh_reader_init(&r, p, n);
	GET(gh_get_header(&r, LEDGER_ENTRY_VERSION, &t));
	if (t != LEDGER_T_VOTE) {
		return (GH_ETYPE);
	}
	GET(gh_get_fixed(&r, v->netid.b, 32));
	GET(gh_get_fixed(&r, v->entry.b, 32));
	GET(gh_get_fixed(&r, v->validator.b, 32));
	GET(gh_get_fixed(&r, v->sig.b, 64));
	return (gh_reader_end(&r));
}

int
ledger_vote_verify(const ledger_vote *v)
{
	gh_hash h;

	ledger_vote_hash(&v->netid, &v->entry, &h);
	return (gh_ed_verify(&v->validator, &h, &v->sig));
}

/* ------------------------------------------------------------------ */
/* Certificates. */

static int
ledger_cert_sorted(const ledger_cert *c)
{
	for (uint32_t i = 1; i < c->nvotes; i++) {
		if (memcmp(c->voter[i - 1].b, c->voter[i].b, 32) >= 0) {
			return (0);
		}
	}
	return (1);
}

int
ledger_cert_build(const ledger_genesis *g, const ledger_entry *e,
    const ledger_vote *votes, size_t nvotes, ledger_cert *out)
{
	gh_hash netid;

	memset(out, 0, sizeof(*out));
	out->entry = *e;
	ledger_entry_hash(e, &out->hash);
	ledger_genesis_netid(g, &netid);
	for (size_t i = 0; i < nvotes; i++) {
		const ledger_vote *v = &votes[i];
		uint32_t           j;
		if (memcmp(v->entry.b, out->hash.b, 32) != 0
		    || memcmp(v->netid.b, netid.b, 32) != 0) {
			return (GH_EINVAL);
		}
		if (ledger_genesis_member(g, &v->validator) < 0) {
			continue;
		}
		/* Insertion in key order, dropping duplicates. */
		for (j = 0; j < out->nvotes; j++) {
			if (memcmp(out->voter[j].b, v->validator.b, 32) >= 0) {
				break;
			}
		}
		if (j < out->nvotes
		    && memcmp(out->voter[j].b, v->validator.b, 32) == 0) {
			continue;
		}
		if (out->nvotes >= LEDGER_COMMITTEE_MAX) {
			return (GH_EINVAL);
		}
		memmove(&out->voter[j + 1], &out->voter[j],
		    (out->nvotes - j) * sizeof(out->voter[0]));
		memmove(&out->vsig[j + 1], &out->vsig[j],
		    (out->nvotes - j) * sizeof(out->vsig[0]));
		out->voter[j] = v->validator;
		out->vsig[j]  = v->sig;
		out->nvotes++;
	}
	return (out->nvotes >= ledger_genesis_quorum(g) ? GH_OK : GH_EQUORUM);
}

int
ledger_cert_encode(const ledger_cert *c, uint8_t **p, size_t *n)
{
	gh_writer w;
	uint8_t  *ep = NULL;
	size_t    en = 0;
	int       rv;

	*p = NULL;
	*n = 0;
	if (c->nvotes > LEDGER_COMMITTEE_MAX || !ledger_cert_sorted(c)) {
		return (GH_EINVAL);
	}
	if ((rv = ledger_entry_encode(&c->entry, &ep, &en)) != GH_OK) {
		return (rv);
	}
	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_ENTRY_VERSION, LEDGER_T_CERT);
	gh_put_str(&w, LEDGER_ENTRY_MAX, ep, en);
	gh_put_u16(&w, (uint16_t) c->nvotes);
	for (uint32_t i = 0; i < c->nvotes; i++) {
		gh_put_fixed(&w, c->voter[i].b, 32);
		gh_put_fixed(&w, c->vsig[i].b, 64);
	}
	free(ep);
	return (gh_writer_take(&w, p, n));
}

int
ledger_cert_decode(const uint8_t *p, size_t n, ledger_cert *c)
{
	gh_reader      r;
	const uint8_t *ep;
	uint32_t       en;
	uint16_t       nv;
	uint8_t        t;
	int            rv;

	memset(c, 0, sizeof(*c));
	if (n > LEDGER_CERT_MAX) {
		return (GH_ETOOLONG);
	}
	gh_reader_init(&r, p, n);
	GET(gh_get_header(&r, LEDGER_ENTRY_VERSION, &t));
	if (t != LEDGER_T_CERT) {
		return (GH_ETYPE);
	}
	GET(gh_get_str(&r, LEDGER_ENTRY_MAX, &ep, &en));
	GET(ledger_entry_decode(ep, en, &c->entry));
	GET(gh_get_u16(&r, &nv));
	if (nv > LEDGER_COMMITTEE_MAX) {
		return (GH_ETOOLONG);
	}
	c->nvotes = nv;
	for (uint32_t i = 0; i < nv; i++) {
		GET(gh_get_fixed(&r, c->voter[i].b, 32));
		GET(gh_get_fixed(&r, c->vsig[i].b, 64));
	}
	GET(gh_reader_end(&r));
	if (!ledger_cert_sorted(c)) {
		return (GH_ENONCANON);
	}
	ledger_entry_hash(&c->entry, &c->hash);
	return (GH_OK);
}

int
ledger_cert_verify(const ledger_genesis *g, const ledger_cert *c)
{
	gh_hash  netid, h, vh;
	uint32_t good = 0;
	uint64_t seen = 0; /* committee members counted (n <= 64) */
	int      rv;

	ledger_genesis_netid(g, &netid);
	if (memcmp(c->entry.netid.b, netid.b, 32) != 0) {
		return (GH_ENETID);
	}
	ledger_entry_hash(&c->entry, &h);
	if ((rv = ledger_entry_verify_hash(&c->entry, &h)) != GH_OK) {
		return (rv);
	}
	ledger_vote_hash(&netid, &h, &vh);
	for (uint32_t i = 0; i < c->nvotes && i < LEDGER_COMMITTEE_MAX; i++) {
		int m = ledger_genesis_member(g, &c->voter[i]);
		if (m < 0 || (seen & ((uint64_t) 1 << m)) != 0) {
			continue; /* non-member or duplicate: not counted */
		}
		if (gh_ed_verify(&c->voter[i], &vh, &c->vsig[i]) != GH_OK) {
			return (GH_EBADSIG);
		}
		seen |= (uint64_t) 1 << m;
		good++;
	}
	return (good >= ledger_genesis_quorum(g) ? GH_OK : GH_EQUORUM);
}

/* ------------------------------------------------------------------ */
/* Equivocation proofs. */

int
ledger_equiv_encode(const uint8_t *a, size_t an, const uint8_t *b, size_t bn,
    uint8_t **p, size_t *n)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_ENTRY_VERSION, LEDGER_T_EQUIV);
	gh_put_str(&w, LEDGER_ENTRY_MAX, a, an);
	gh_put_str(&w, LEDGER_ENTRY_MAX, b, bn);
	return (gh_writer_take(&w, p, n));
}

int
ledger_equiv_decode(const uint8_t *p, size_t n, const uint8_t **a, size_t *an,
    const uint8_t **b, size_t *bn)
{
	gh_reader r;
	uint32_t  la, lb;
	uint8_t   t;
	int       rv;

	gh_reader_init(&r, p, n);
	GET(gh_get_header(&r, LEDGER_ENTRY_VERSION, &t));
	if (t != LEDGER_T_EQUIV) {
		return (GH_ETYPE);
	}
	GET(gh_get_str(&r, LEDGER_ENTRY_MAX, a, &la));
	GET(gh_get_str(&r, LEDGER_ENTRY_MAX, b, &lb));
	GET(gh_reader_end(&r));
	*an = la;
	*bn = lb;
	return (GH_OK);
}

uint32_t
ledger_entry_objvers(const ledger_entry *e, ledger_objver *out)
{
	out[0].type = e->scheme == LEDGER_SCHEME_NODE ? LEDGER_OBJ_NODE
	                                              : LEDGER_OBJ_ACCOUNT;
	memcpy(out[0].id.b, e->author, 32);
	out[0].version = e->seq - 1;
	for (uint32_t i = 0; i < e->nconsumes; i++) {
		out[1 + i] = e->consumes[i];
	}
	return (1 + e->nconsumes);
}

int
ledger_equiv_verify(const gh_hash *netid, const uint8_t *a, size_t an,
    const uint8_t *b, size_t bn, ledger_objver *obj)
{
	ledger_entry  ea, eb;
	ledger_objver va[1 + LEDGER_CONSUMES_MAX], vb[1 + LEDGER_CONSUMES_MAX];
	gh_hash       ha, hb;
	uint32_t      na, nb;
	int           rv;

	GET(ledger_entry_decode(a, an, &ea));
	GET(ledger_entry_decode(b, bn, &eb));
	if (memcmp(ea.netid.b, netid->b, 32) != 0
	    || memcmp(eb.netid.b, netid->b, 32) != 0) {
		return (GH_ENETID);
	}
	ledger_entry_hash(&ea, &ha);
	ledger_entry_hash(&eb, &hb);
	if (memcmp(ha.b, hb.b, 32) == 0 || ea.scheme != eb.scheme
	    || memcmp(ea.author, eb.author, 32) != 0) {
		return (GH_EINVAL);
	}
	GET(ledger_entry_verify_hash(&ea, &ha));
	GET(ledger_entry_verify_hash(&eb, &hb));
	na = ledger_entry_objvers(&ea, va);
	nb = ledger_entry_objvers(&eb, vb);
	for (uint32_t i = 0; i < na; i++) {
		for (uint32_t j = 0; j < nb; j++) {
			if (va[i].type == vb[j].type
			    && va[i].version == vb[j].version
			    && memcmp(va[i].id.b, vb[j].id.b, 32) == 0) {
				if (obj != NULL) {
					*obj = va[i];
				}
				return (GH_OK);
			}
		}
	}
	return (GH_EINVAL);
}
