/*
 * checkpoint.c - validators' signed checkpoints of their logs, evidence
 * of a split view (two checkpoints of one validator that contradict each
 * other) and proof bundles, with their canonical encodings.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger.h"

/* The signed part: everything but the signature. */
#define LEDGER_CP_BODY_LEN (LEDGER_CHECKPOINT_LEN - 64)

/* Largest nested proof encoding: header, two u64, count, hashes. */
#define LEDGER_PROOF_ENC_MAX (2 + 8 + 8 + 1 + 32 * LEDGER_PROOF_MAX)

static void
ledger_checkpoint_body(const ledger_checkpoint *cp, uint8_t *out)
{
	uint8_t *p = out;

	*p++ = LEDGER_LOG_VERSION;
	*p++ = LEDGER_TYPE_CHECKPOINT;
	memcpy(p, cp->network.b, 32);
	p += 32;
	gh_be64_put(p, cp->size);
	p += 8;
	memcpy(p, cp->root.b, 32);
	p += 32;
	gh_be64_put(p, cp->time);
	p += 8;
	memcpy(p, cp->validator.b, 32);
}

void
ledger_checkpoint_hash(const ledger_checkpoint *cp, gh_hash *out)
{
	uint8_t body[LEDGER_CP_BODY_LEN];

	ledger_checkpoint_body(cp, body);
	gh_hash_tagged(GH_TAG_CHECKPOINT, body, sizeof(body), out);
}

void
ledger_checkpoint_sign(ledger_checkpoint *cp, const gh_ed_key *key)
{
	gh_hash h;

	gh_ed_key_pub(key, &cp->validator);
	ledger_checkpoint_hash(cp, &h);
	gh_ed_sign(key, &h, &cp->sig);
}

int
ledger_checkpoint_verify(const ledger_checkpoint *cp)
{
	gh_hash h;

	ledger_checkpoint_hash(cp, &h);
	return (gh_ed_verify(&cp->validator, &h, &cp->sig));
}

void
ledger_checkpoint_encode(
    const ledger_checkpoint *cp, uint8_t out[LEDGER_CHECKPOINT_LEN])
{
	ledger_checkpoint_body(cp, out);
	memcpy(out + LEDGER_CP_BODY_LEN, cp->sig.b, 64);
}

/* Reads one checkpoint from r (the caller checks what follows). */
static int
ledger_checkpoint_get(gh_reader *r, ledger_checkpoint *cp)
{
	uint8_t type;
	int     rv;

	if ((rv = gh_get_header(r, LEDGER_LOG_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != LEDGER_TYPE_CHECKPOINT) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(r, cp->network.b, 32)) != GH_OK
	    || (rv = gh_get_u64(r, &cp->size)) != GH_OK
	    || (rv = gh_get_fixed(r, cp->root.b, 32)) != GH_OK
	    || (rv = gh_get_u64(r, &cp->time)) != GH_OK
	    || (rv = gh_get_fixed(r, cp->validator.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(r, cp->sig.b, 64)) != GH_OK) {
		return (rv);
	}
	return (GH_OK);
}

int
ledger_checkpoint_decode(const uint8_t *p, size_t n, ledger_checkpoint *out)
{
	gh_reader         r;
	ledger_checkpoint t;
	int               rv;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	gh_reader_init(&r, p, n);
	if ((rv = ledger_checkpoint_get(&r, &t)) != GH_OK
	    || (rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	*out = t;
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Evidence. */

int
ledger_evidence_check(const ledger_evidence *ev)
{
	const ledger_checkpoint *a = &ev->a, *b = &ev->b;
	int                      rv;

	if (memcmp(a->validator.b, b->validator.b, 32) != 0
	    || memcmp(a->network.b, b->network.b, 32) != 0
	    || a->size > b->size) {
		return (GH_EINVAL);
	}
	switch (ev->kind) {
	case LEDGER_EV_SAME_SIZE:
		if (a->size != b->size
		    || memcmp(a->root.b, b->root.b, 32) == 0) {
			return (GH_EINVAL);
		}
		/* One order only, so one pair has one encoding. */
		if (memcmp(a->root.b, b->root.b, 32) > 0) {
			return (GH_EINVAL);
		}
		break;
	case LEDGER_EV_TIME:
		if (!(a->size < b->size && a->time > b->time)) {
			return (GH_EINVAL);
		}
		break;
	case LEDGER_EV_INCONSISTENT:
		if (a->size >= b->size || ev->proof.first != a->size
		    || ev->proof.second != b->size) {
			return (GH_EINVAL);
		}
		rv = ledger_consistency_verify(&ev->proof, &a->root, &b->root);
		if (rv == GH_OK) {
			return (GH_EINVAL); /* they are consistent */
		}
		if (rv != GH_EBADSIG) {
			return (rv);
		}
		break;
	default:
		return (GH_EINVAL);
	}
	if ((rv = ledger_checkpoint_verify(a)) != GH_OK
	    || (rv = ledger_checkpoint_verify(b)) != GH_OK) {
		return (rv);
	}
	return (GH_OK);
}

int
ledger_evidence_encode(const ledger_evidence *ev, uint8_t **out, size_t *n)
{
	gh_writer w;
	uint8_t   cp[LEDGER_CHECKPOINT_LEN];
	uint8_t  *pr  = NULL;
	size_t    prn = 0;
	int       rv;

	*out = NULL;
	*n   = 0;
	if (ev->kind < LEDGER_EV_SAME_SIZE
	    || ev->kind > LEDGER_EV_INCONSISTENT) {
		return (GH_EINVAL);
	}
	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_LOG_VERSION, LEDGER_TYPE_EVIDENCE);
	gh_put_u8(&w, ev->kind);
	ledger_checkpoint_encode(&ev->a, cp);
	gh_put_fixed(&w, cp, sizeof(cp));
	ledger_checkpoint_encode(&ev->b, cp);
	gh_put_fixed(&w, cp, sizeof(cp));
	if (ev->kind == LEDGER_EV_INCONSISTENT) {
		if ((rv = ledger_consistency_encode(&ev->proof, &pr, &prn))
		    != GH_OK) {
			gh_writer_free(&w);
			return (rv);
		}
		gh_put_str(&w, LEDGER_PROOF_ENC_MAX, pr, prn);
		free(pr);
	}
	return (gh_writer_take(&w, out, n));
}

int
ledger_evidence_decode(const uint8_t *p, size_t n, ledger_evidence *out)
{
	gh_reader       r;
	ledger_evidence t;
	uint8_t         type;
	const uint8_t  *pr;
	uint32_t        prn;
	int             rv;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, LEDGER_LOG_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != LEDGER_TYPE_EVIDENCE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_u8(&r, &t.kind)) != GH_OK) {
		return (rv);
	}
	if (t.kind < LEDGER_EV_SAME_SIZE || t.kind > LEDGER_EV_INCONSISTENT) {
		return (GH_ETYPE);
	}
	if ((rv = ledger_checkpoint_get(&r, &t.a)) != GH_OK
	    || (rv = ledger_checkpoint_get(&r, &t.b)) != GH_OK) {
		return (rv);
	}
	if (t.kind == LEDGER_EV_INCONSISTENT) {
		if ((rv = gh_get_str(&r, LEDGER_PROOF_ENC_MAX, &pr, &prn))
		        != GH_OK
		    || (rv = ledger_consistency_decode(pr, prn, &t.proof))
		        != GH_OK) {
			return (rv);
		}
	}
	if ((rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	*out = t;
	return (GH_OK);
}

/* ------------------------------------------------------------------ */
/* Proof bundles. */

int
ledger_bundle_verify(const ledger_bundle *b)
{
	ledger_mhash leaf;
	int          rv;

	if (b->has_checkpoint) {
		if (b->cp.size != b->proof.size
		    || memcmp(b->cp.root.b, b->root.b, 32) != 0) {
			return (GH_EBADSIG);
		}
		if ((rv = ledger_checkpoint_verify(&b->cp)) != GH_OK) {
			return (rv);
		}
	}
	ledger_merkle_leaf(b->entry.b, sizeof(b->entry.b), &leaf);
	return (ledger_inclusion_verify(&b->proof, &leaf, &b->root));
}

int
ledger_bundle_check(
    const ledger_bundle *b, const ledger_genesis *g, const gh_hash *entry)
{
	gh_hash netid;

	ledger_genesis_netid(g, &netid);
	if (!b->has_checkpoint || memcmp(b->entry.b, entry->b, 32) != 0
	    || memcmp(b->cp.network.b, netid.b, 32) != 0
	    || ledger_genesis_member(g, &b->cp.validator) < 0) {
		return (GH_EPROTO);
	}
	return (ledger_bundle_verify(b));
}

int
ledger_bundle_encode(const ledger_bundle *b, uint8_t **out, size_t *n)
{
	gh_writer w;
	uint8_t   cp[LEDGER_CHECKPOINT_LEN];
	uint8_t  *pr  = NULL;
	size_t    prn = 0;
	int       rv;

	*out = NULL;
	*n   = 0;
	if ((rv = ledger_inclusion_encode(&b->proof, &pr, &prn)) != GH_OK) {
		return (rv);
	}
	gh_writer_init(&w);
	gh_put_header(&w, LEDGER_LOG_VERSION, LEDGER_TYPE_BUNDLE);
	gh_put_fixed(&w, b->entry.b, 32);
	gh_put_fixed(&w, b->root.b, 32);
	gh_put_str(&w, LEDGER_PROOF_ENC_MAX, pr, prn);
	free(pr);
	gh_put_bool(&w, b->has_checkpoint != 0);
	if (b->has_checkpoint) {
		ledger_checkpoint_encode(&b->cp, cp);
		gh_put_fixed(&w, cp, sizeof(cp));
	}
	return (gh_writer_take(&w, out, n));
}

int
ledger_bundle_decode(const uint8_t *p, size_t n, ledger_bundle *out)
{
	gh_reader      r;
	ledger_bundle  t;
	uint8_t        type;
	const uint8_t *pr;
	uint32_t       prn;
	int            rv;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	gh_reader_init(&r, p, n);
	if ((rv = gh_get_header(&r, LEDGER_LOG_VERSION, &type)) != GH_OK) {
		return (rv);
	}
	if (type != LEDGER_TYPE_BUNDLE) {
		return (GH_ETYPE);
	}
	if ((rv = gh_get_fixed(&r, t.entry.b, 32)) != GH_OK
	    || (rv = gh_get_fixed(&r, t.root.b, 32)) != GH_OK
	    || (rv = gh_get_str(&r, LEDGER_PROOF_ENC_MAX, &pr, &prn)) != GH_OK
	    || (rv = ledger_inclusion_decode(pr, prn, &t.proof)) != GH_OK
	    || (rv = gh_get_bool(&r, &t.has_checkpoint)) != GH_OK) {
		return (rv);
	}
	if (t.has_checkpoint) {
		if ((rv = ledger_checkpoint_get(&r, &t.cp)) != GH_OK) {
			return (rv);
		}
		/* The root is stated once; a bundle that disagrees with its
		 * own checkpoint is malformed, not merely unverified. */
		if (memcmp(t.cp.root.b, t.root.b, 32) != 0
		    || t.cp.size != t.proof.size) {
			return (GH_ENONCANON);
		}
	}
	if ((rv = gh_reader_end(&r)) != GH_OK) {
		return (rv);
	}
	*out = t;
	return (GH_OK);
}
