/* state.c - the state machine: objects, the rules of each entry kind,
 * the invariants and the state hash, all inside an LMDB transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/priv.h"

int
ledger_mdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (GH_OK);
	case MDB_NOTFOUND:
		return (GH_ENOENT);
	case MDB_KEYEXIST:
		return (GH_EEXIST);
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
	case MDB_READERS_FULL:
		return (GH_EFULL);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_DBI:
	case MDB_INCOMPATIBLE:
		return (GH_ECORRUPT);
	case ENOMEM:
		return (GH_ENOMEM);
	default:
		return (rc > 0 ? gh_err_from_errno(rc) : GH_EIO);
	}
}

/* ------------------------------------------------------------------ */
/* Object encodings. */

static int
ledger_obj_read(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], gh_reader *r)
{
	uint8_t k[LEDGER_OBJKEY_LEN];
	MDB_val key, val;
	int     rc;

	ledger_objkey(type, id, k);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	if ((rc = mdb_get(txn, db->objects, &key, &val)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	gh_reader_init(r, val.mv_data, val.mv_size);
	return (GH_OK);
}

static int
ledger_obj_write(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], gh_writer *w)
{
	uint8_t k[LEDGER_OBJKEY_LEN];
	MDB_val key, val;
	int     rv;

	if ((rv = gh_writer_err(w)) != GH_OK) {
		gh_writer_free(w);
		return (rv);
	}
	ledger_objkey(type, id, k);
	key.mv_size = sizeof(k);
	key.mv_data = k;
	val.mv_size = w->len;
	val.mv_data = w->p;
	rv          = ledger_mdb_err(mdb_put(txn, db->objects, &key, &val, 0));
	gh_writer_free(w);
	return (rv);
}

int
ledger_account_get(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], ledger_account *a)
{
	gh_reader r;
	int       rv;

	memset(a, 0, sizeof(*a));
	if ((rv = ledger_obj_read(txn, db, type, id, &r)) != GH_OK) {
		return (rv);
	}
	if (gh_get_u64(&r, &a->seq) != GH_OK
	    || gh_get_fixed(&r, a->head.b, 32) != GH_OK
	    || gh_get_u64(&r, &a->balance) != GH_OK
	    || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

static int
ledger_account_put(MDB_txn *txn, const ledger_dbs *db, uint8_t type,
    const uint8_t id[32], const ledger_account *a)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_u64(&w, a->seq);
	gh_put_fixed(&w, a->head.b, 32);
	gh_put_u64(&w, a->balance);
	return (ledger_obj_write(txn, db, type, id, &w));
}

static int
ledger_asset_decode(gh_reader *r, ledger_asset *a)
{
	if (gh_get_fixed(r, a->owner.b, 32) != GH_OK
	    || gh_get_fixed(r, a->node.b, 32) != GH_OK
	    || gh_get_u64(r, &a->supply) != GH_OK
	    || gh_get_u64(r, &a->paid_in) != GH_OK
	    || gh_get_u64(r, &a->paid_out) != GH_OK
	    || gh_get_cstr(r, LEDGER_HW_MAX, a->hw, sizeof(a->hw)) != GH_OK
	    || gh_reader_end(r) != GH_OK || a->supply == 0
	    || a->paid_out > a->paid_in) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_asset_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_asset *a)
{
	gh_reader r;
	int       rv;

	memset(a, 0, sizeof(*a));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_ASSET, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_asset_decode(&r, a));
}

static int
ledger_asset_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_asset *a)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, a->owner.b, 32);
	gh_put_fixed(&w, a->node.b, 32);
	gh_put_u64(&w, a->supply);
	gh_put_u64(&w, a->paid_in);
	gh_put_u64(&w, a->paid_out);
	gh_put_cstr(&w, LEDGER_HW_MAX, a->hw);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_ASSET, id->b, &w));
}

int
ledger_lot_decode(const uint8_t *p, size_t n, ledger_lot *l)
{
	gh_reader r;

	memset(l, 0, sizeof(*l));
	gh_reader_init(&r, p, n);
	if (gh_get_fixed(&r, l->asset.b, 32) != GH_OK
	    || gh_get_fixed(&r, l->holder.b, 32) != GH_OK
	    || gh_get_u64(&r, &l->amount) != GH_OK
	    || gh_get_u64(&r, &l->cursor) != GH_OK
	    || gh_get_u64(&r, &l->carry) != GH_OK
	    || gh_get_u64(&r, &l->version) != GH_OK
	    || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

int
ledger_lot_get(
    MDB_txn *txn, const ledger_dbs *db, const ledger_id *id, ledger_lot *l)
{
	gh_reader r;
	int       rv;

	memset(l, 0, sizeof(*l));
	if ((rv = ledger_obj_read(txn, db, LEDGER_OBJ_LOT, id->b, &r))
	    != GH_OK) {
		return (rv);
	}
	return (ledger_lot_decode(r.p, r.len, l));
}

static int
ledger_lot_put(MDB_txn *txn, const ledger_dbs *db, const ledger_id *id,
    const ledger_lot *l)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_fixed(&w, l->asset.b, 32);
	gh_put_fixed(&w, l->holder.b, 32);
	gh_put_u64(&w, l->amount);
	gh_put_u64(&w, l->cursor);
	gh_put_u64(&w, l->carry);
	gh_put_u64(&w, l->version);
	return (ledger_obj_write(txn, db, LEDGER_OBJ_LOT, id->b, &w));
}

static const uint8_t ledger_global_id[32];

static int
ledger_minted_get(MDB_txn *txn, const ledger_dbs *db, uint64_t *minted)
{
	gh_reader r;
	int       rv;

	*minted = 0;
	rv = ledger_obj_read(txn, db, LEDGER_OBJ_GLOBAL, ledger_global_id, &r);
	if (rv == GH_ENOENT) {
		return (GH_OK);
	}
	if (rv != GH_OK) {
		return (rv);
	}
	if (gh_get_u64(&r, minted) != GH_OK || gh_reader_end(&r) != GH_OK) {
		return (GH_ECORRUPT);
	}
	return (GH_OK);
}

static int
ledger_minted_put(MDB_txn *txn, const ledger_dbs *db, uint64_t minted)
{
	gh_writer w;

	gh_writer_init(&w);
	gh_put_u64(&w, minted);
	return (ledger_obj_write(
	    txn, db, LEDGER_OBJ_GLOBAL, ledger_global_id, &w));
}

/* ------------------------------------------------------------------ */
/* Rules. */

int
ledger_rules_waits(int err)
{
	/* A certified entry that fails only for these reasons was valid at
	 * 2f+1 validators: what it needs has not arrived here yet. */
	return (err == GH_ESEQ || err == GH_EPREV || err == GH_ENOENT
	    || err == GH_EFUNDS || err == GH_EPENDING);
}

/*
 * Settles a lot's accrual at pool total rp: returns the payout and
 * updates cursor and carry.  a(R'-c)+r < 2^128 always (a, R' < 2^64 and
 * r < S); the payout fits u64 because it never exceeds R' - P.
 */
static int
ledger_lot_settle(ledger_lot *l, uint64_t supply, uint64_t rp, uint64_t *pay)
{
	gh_u128 acc;

	if (rp < l->cursor) {
		return (GH_EINVAL);
	}
	acc = (gh_u128) l->amount * (gh_u128) (rp - l->cursor)
	    + (gh_u128) l->carry;
	if (acc / supply > UINT64_MAX) {
		return (GH_EOVERFLOW);
	}
	*pay      = (uint64_t) (acc / supply);
	l->carry  = (uint64_t) (acc % supply);
	l->cursor = rp;
	return (GH_OK);
}

typedef struct {
	int               write;
	MDB_txn          *txn;
	const ledger_dbs *db;
} ledger_ctx;

static int
ledger_credit_account(ledger_ctx *c, const uint8_t id[32], uint64_t amount)
{
	ledger_account a;
	int            rv;

	rv = ledger_account_get(c->txn, c->db, LEDGER_OBJ_ACCOUNT, id, &a);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if ((rv = gh_add_u64(a.balance, amount, &a.balance)) != GH_OK) {
		return (rv);
	}
	return (c->write
	        ? ledger_account_put(c->txn, c->db, LEDGER_OBJ_ACCOUNT, id, &a)
	        : GH_OK);
}

static int
ledger_rules_run(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h, int write)
{
	ledger_ctx     c = { write, txn, db };
	ledger_account me;
	ledger_asset   as;
	ledger_lot     lot;
	ledger_id      lot_id;
	uint8_t        ctype;
	uint8_t        kb[LEDGER_OBJKEY_LEN + 8];
	MDB_val        key, val;
	uint64_t       minted, pay = 0;
	int            rv;

	if (memcmp(e->netid.b, netid->b, 32) != 0) {
		return (GH_ENETID);
	}
	ctype = e->scheme == LEDGER_SCHEME_NODE ? LEDGER_OBJ_NODE
	                                        : LEDGER_OBJ_ACCOUNT;
	rv    = ledger_account_get(txn, db, ctype, e->author, &me);
	if (rv != GH_OK && rv != GH_ENOENT) {
		return (rv);
	}
	if (e->seq <= me.seq) {
		return (GH_ECONFLICT); /* that version is consumed: replay */
	}
	if (e->seq > me.seq + 1) {
		return (GH_ESEQ);
	}
	if (memcmp(e->prev.b, me.head.b, 32) != 0) {
		return (GH_EPREV);
	}
	/* Consumed objects other than the chain: lots only, so far. */
	for (uint32_t i = 0; i < e->nconsumes; i++) {
		const ledger_objver *ov = &e->consumes[i];
		if (ov->type != LEDGER_OBJ_LOT) {
			return (GH_EUNSUPPORTED);
		}
		if ((rv = ledger_lot_get(txn, db, &ov->id, &lot)) != GH_OK) {
			return (rv);
		}
		if (ov->version < lot.version) {
			return (GH_ECONFLICT);
		}
		if (ov->version > lot.version) {
			return (GH_ESEQ);
		}
	}

	switch (e->kind) {
	case LEDGER_MINT:
		if (memcmp(e->author, g->issuer.b, 32) != 0) {
			return (GH_EPERM);
		}
		if (e->nconsumes != 0 || e->body.mint.amount == 0) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_minted_get(txn, db, &minted)) != GH_OK) {
			return (rv);
		}
		if ((rv = gh_add_u64(minted, e->body.mint.amount, &minted))
		    != GH_OK) {
			return (rv);
		}
		if (write
		    && (rv = ledger_minted_put(txn, db, minted)) != GH_OK) {
			return (rv);
		}
		if ((rv = ledger_credit_account(
		         &c, e->body.mint.to.b, e->body.mint.amount))
		    != GH_OK) {
			return (rv);
		}
		/* The issuer may mint to itself: reread its chain. */
		if ((rv = ledger_account_get(txn, db, ctype, e->author, &me))
		        != GH_OK
		    && rv != GH_ENOENT) {
			return (rv);
		}
		break;
	case LEDGER_TRANSFER: {
		const ledger_body_transfer *t = &e->body.transfer;
		if (e->nconsumes != 0 || t->amount == 0) {
			return (GH_EINVAL);
		}
		if (me.balance < t->amount) {
			return (GH_EFUNDS);
		}
		if (t->dest == LEDGER_DEST_POOL) {
			if ((rv = ledger_asset_get(txn, db, &t->to, &as))
			    != GH_OK) {
				return (rv);
			}
			if ((rv = gh_add_u64(
			         as.paid_in, t->amount, &as.paid_in))
			    != GH_OK) {
				return (rv);
			}
			if (write
			    && (rv = ledger_asset_put(txn, db, &t->to, &as))
			        != GH_OK) {
				return (rv);
			}
			me.balance -= t->amount;
		} else if (memcmp(t->to.b, e->author, 32) == 0) {
			/* To oneself: nothing moves. */
		} else {
			if ((rv = ledger_credit_account(
			         &c, t->to.b, t->amount))
			    != GH_OK) {
				return (rv);
			}
			me.balance -= t->amount;
		}
		break;
	}
	case LEDGER_ASSET_REGISTER: {
		const ledger_body_asset_register *b = &e->body.asset;
		gh_hash                           bh;
		if (e->nconsumes != 0 || b->supply == 0) {
			return (GH_EINVAL);
		}
		ledger_asset_binding_hash(netid, e->author, &bh);
		if (gh_ed_verify(&b->node, &bh, &b->node_sig) != GH_OK) {
			return (GH_EBADSIG);
		}
		memset(&as, 0, sizeof(as));
		memcpy(as.owner.b, e->author, 32);
		as.node   = b->node;
		as.supply = b->supply;
		memcpy(as.hw, b->hw, sizeof(as.hw));
		memset(&lot, 0, sizeof(lot));
		memcpy(lot.asset.b, h->b, 32);
		memcpy(lot.holder.b, e->author, 32);
		lot.amount = b->supply;
		ledger_lot_id(h, 0, &lot_id);
		if (write) {
			ledger_id aid;
			memcpy(aid.b, h->b, 32);
			if ((rv = ledger_asset_put(txn, db, &aid, &as))
			        != GH_OK
			    || (rv = ledger_lot_put(txn, db, &lot_id, &lot))
			        != GH_OK) {
				return (rv);
			}
		}
		break;
	}
	case LEDGER_SHARE_TRANSFER:
	case LEDGER_REVENUE_CLAIM: {
		const ledger_id *lid = e->kind == LEDGER_SHARE_TRANSFER
		    ? &e->body.share.lot
		    : &e->body.claim.lot;
		uint64_t         rp  = e->kind == LEDGER_SHARE_TRANSFER
		             ? e->body.share.pool_total
		             : e->body.claim.pool_total;
		if (e->nconsumes != 1 || e->consumes[0].type != LEDGER_OBJ_LOT
		    || memcmp(e->consumes[0].id.b, lid->b, 32) != 0) {
			return (GH_EINVAL);
		}
		if ((rv = ledger_lot_get(txn, db, lid, &lot)) != GH_OK) {
			return (rv);
		}
		if (memcmp(lot.holder.b, e->author, 32) != 0) {
			return (GH_EPERM);
		}
		if ((rv = ledger_asset_get(txn, db, &lot.asset, &as))
		    != GH_OK) {
			return (rv == GH_ENOENT ? GH_ECORRUPT : rv);
		}
		if (rp < lot.cursor) {
			return (GH_EINVAL);
		}
		if (rp > as.paid_in) {
			return (GH_EPENDING); /* a total we have not reached */
		}
		if ((rv = ledger_lot_settle(&lot, as.supply, rp, &pay))
		    != GH_OK) {
			return (rv);
		}
		if (as.paid_out > as.paid_in - pay) {
			return (GH_ECORRUPT); /* the pool would go negative */
		}
		as.paid_out += pay;
		if ((rv = gh_add_u64(me.balance, pay, &me.balance)) != GH_OK) {
			return (rv);
		}
		lot.version++;
		if (e->kind == LEDGER_SHARE_TRANSFER) {
			const ledger_body_share_transfer *s = &e->body.share;
			ledger_lot                        nl;
			if (s->amount == 0) {
				return (GH_EINVAL);
			}
			if (s->amount > lot.amount) {
				return (GH_EFUNDS);
			}
			lot.amount -= s->amount;
			memset(&nl, 0, sizeof(nl));
			nl.asset  = lot.asset;
			nl.holder = s->to;
			nl.amount = s->amount;
			nl.cursor = rp;
			ledger_lot_id(h, 1, &lot_id);
			if (write
			    && (rv = ledger_lot_put(txn, db, &lot_id, &nl))
			        != GH_OK) {
				return (rv);
			}
		}
		if (write
		    && ((rv = ledger_lot_put(txn, db, lid, &lot)) != GH_OK
		        || (rv = ledger_asset_put(txn, db, &lot.asset, &as))
		            != GH_OK)) {
			return (rv);
		}
		break;
	}
	default:
		/* LEASE_*, PROOF and LOAN_*: framed and decoded; their rules
		 * come with the market, proofs and loans issues. */
		return (GH_EUNSUPPORTED);
	}

	if (!write) {
		return (GH_OK);
	}
	me.seq  = e->seq;
	me.head = *h;
	if ((rv = ledger_account_put(txn, db, ctype, e->author, &me))
	    != GH_OK) {
		return (rv);
	}
	ledger_objkey(ctype, e->author, kb);
	gh_be64_put(kb + LEDGER_OBJKEY_LEN, e->seq);
	key.mv_size = sizeof(kb);
	key.mv_data = kb;
	val.mv_size = 32;
	val.mv_data = (void *) h->b;
	return (ledger_mdb_err(mdb_put(txn, db->chains, &key, &val, 0)));
}

int
ledger_rules_check(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h)
{
	return (ledger_rules_run(txn, db, g, netid, e, h, 0));
}

int
ledger_rules_apply(MDB_txn *txn, const ledger_dbs *db, const ledger_genesis *g,
    const gh_hash *netid, const ledger_entry *e, const gh_hash *h)
{
	int rv;

	/* Check first so that a refused entry leaves no partial write. */
	if ((rv = ledger_rules_run(txn, db, g, netid, e, h, 0)) != GH_OK) {
		return (rv);
	}
	return (ledger_rules_run(txn, db, g, netid, e, h, 1));
}

/* ------------------------------------------------------------------ */
/* State hash and invariants. */

int
ledger_state_hash_txn(MDB_txn *txn, const ledger_dbs *db, gh_hash *out)
{
	MDB_cursor *cur = NULL;
	MDB_val     k, v;
	gh_hasher   hs;
	uint8_t     len[8];
	int         rc;

	gh_hasher_init(&hs, LEDGER_TAG_STATE);
	if ((rc = mdb_cursor_open(txn, db->objects, &cur)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		gh_be64_put(len, k.mv_size);
		gh_hasher_update(&hs, len, 8);
		gh_hasher_update(&hs, k.mv_data, k.mv_size);
		gh_be64_put(len, v.mv_size);
		gh_hasher_update(&hs, len, 8);
		gh_hasher_update(&hs, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND) {
		return (ledger_mdb_err(rc));
	}
	gh_hasher_final(&hs, out);
	return (GH_OK);
}

typedef struct {
	ledger_id    id;
	ledger_asset a;
	gh_u128      shares;  /* sum of lot amounts */
	gh_u128      accrued; /* sum of a(R - c) + r */
} ledger_inv_asset;

static int
ledger_inv_cmp(const void *key, const void *elem)
{
	return (memcmp(key, ((const ledger_inv_asset *) elem)->id.b, 32));
}

int
ledger_invariants_txn(
    MDB_txn *txn, const ledger_dbs *db, char *why, size_t cap)
{
	MDB_cursor       *cur = NULL;
	MDB_val           k, v;
	ledger_inv_asset *as  = NULL, *na;
	size_t            nas = 0, capas = 0;
	gh_u128           held = 0;
	uint64_t          minted;
	uint8_t           start = LEDGER_OBJ_ACCOUNT;
	int               rc, rv = GH_EINTERNAL;

	if (cap > 0) {
		why[0] = '\0';
	}
	if ((rv = ledger_minted_get(txn, db, &minted)) != GH_OK) {
		return (rv);
	}
	if ((rc = mdb_cursor_open(txn, db->objects, &cur)) != MDB_SUCCESS) {
		return (ledger_mdb_err(rc));
	}
	k.mv_size = 1;
	k.mv_data = &start;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		gh_reader      r;
		if (k.mv_size != LEDGER_OBJKEY_LEN) {
			continue;
		}
		gh_reader_init(&r, v.mv_data, v.mv_size);
		if (kp[0] == LEDGER_OBJ_ACCOUNT) {
			ledger_account a;
			if ((rv = ledger_account_get(
			         txn, db, kp[0], kp + 1, &a))
			    != GH_OK) {
				goto out;
			}
			held += a.balance;
		} else if (kp[0] == LEDGER_OBJ_ASSET) {
			if (nas == capas) {
				capas = capas ? capas * 2 : 16;
				na    = realloc(as, capas * sizeof(*as));
				if (na == NULL) {
					rv = GH_ENOMEM;
					goto out;
				}
				as = na;
			}
			memset(&as[nas], 0, sizeof(as[nas]));
			memcpy(as[nas].id.b, kp + 1, 32);
			if ((rv = ledger_asset_decode(&r, &as[nas].a))
			    != GH_OK) {
				snprintf(why, cap, "asset object damaged");
				goto out;
			}
			held += as[nas].a.paid_in - as[nas].a.paid_out;
			nas++;
		} else if (kp[0] == LEDGER_OBJ_LOT) {
			ledger_lot        l;
			ledger_inv_asset *ia;
			if ((rv = ledger_lot_decode(v.mv_data, v.mv_size, &l))
			    != GH_OK) {
				snprintf(why, cap, "lot object damaged");
				goto out;
			}
			/* Assets sort before lots, so all are known. */
			ia = bsearch(
			    l.asset.b, as, nas, sizeof(*as), ledger_inv_cmp);
			if (ia == NULL || l.cursor > ia->a.paid_in
			    || l.carry >= ia->a.supply) {
				snprintf(why, cap,
				    "lot without its asset, or cursor/carry "
				    "out of range");
				rv = GH_ECORRUPT;
				goto out;
			}
			ia->shares += l.amount;
			ia->accrued
			    += (gh_u128) l.amount * (ia->a.paid_in - l.cursor)
			    + l.carry;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rv = ledger_mdb_err(rc);
		goto out;
	}
	rv = GH_ECORRUPT;
	if (held != minted) {
		snprintf(why, cap,
		    "credits not conserved: minted %llu, held %llu",
		    (unsigned long long) minted, (unsigned long long) held);
		goto out;
	}
	for (size_t i = 0; i < nas; i++) {
		char hex[65];
		gh_hex_encode(as[i].id.b, 32, hex);
		if (as[i].shares != as[i].a.supply) {
			snprintf(why, cap,
			    "asset %s: lots sum to %llu, supply %llu", hex,
			    (unsigned long long) as[i].shares,
			    (unsigned long long) as[i].a.supply);
			goto out;
		}
		if (as[i].accrued
		    != (gh_u128) as[i].a.supply
		        * (as[i].a.paid_in - as[i].a.paid_out)) {
			snprintf(why, cap,
			    "asset %s: pool accrual does not match S(R - P)",
			    hex);
			goto out;
		}
	}
	rv = GH_OK;
out:
	mdb_cursor_close(cur);
	free(as);
	return (rv);
}
