/* limit.c - token buckets and peer scores. */
#include "node/priv.h"

void
node_bucket_init(node_bucket *b, double rate, double burst, uint64_t now_ns)
{
	b->rate    = rate;
	b->burst   = burst;
	b->tokens  = burst;
	b->last_ns = now_ns;
}

int
node_bucket_take(node_bucket *b, double cost, uint64_t now_ns)
{
	if (now_ns > b->last_ns) {
		b->tokens += (double) (now_ns - b->last_ns) * 1e-9 * b->rate;
		if (b->tokens > b->burst) {
			b->tokens = b->burst;
		}
		b->last_ns = now_ns;
	}
	if (b->tokens < cost) {
		return (0);
	}
	b->tokens -= cost;
	return (1);
}

int
node_score_apply(int32_t *score, node_pen pen)
{
	static const int32_t delta[] = {
		[NODE_PEN_GOOD]      = 1,
		[NODE_PEN_MALFORMED] = -25,
		[NODE_PEN_BADSIG]    = -50,
		[NODE_PEN_OVERSIZE]  = -50,
		[NODE_PEN_FLOOD]     = -5,
		[NODE_PEN_REPLAY]    = -10,
		[NODE_PEN_INVALID]   = -10,
		[NODE_PEN_TIMEOUT]   = -1,
	};
	int32_t s = *score;

	if ((unsigned) pen < sizeof(delta) / sizeof(delta[0])) {
		s += delta[pen];
	}
	if (s > NODE_SCORE_MAX) {
		s = NODE_SCORE_MAX;
	}
	if (s < NODE_SCORE_BAN) {
		s = NODE_SCORE_BAN;
	}
	*score = s;
	return (s <= NODE_SCORE_BAN);
}

node_pen
node_pen_for(int err)
{
	switch (err) {
	case GH_OK:
	case GH_EEXIST:
	case GH_EPENDING:
		return (NODE_PEN_GOOD);
	case GH_EBADSIG:
	case GH_EBADKEY:
		return (NODE_PEN_BADSIG);
	case GH_ETOOLONG:
		return (NODE_PEN_OVERSIZE);
	case GH_ETRUNC:
	case GH_ETRAILING:
	case GH_EVERSION:
	case GH_ETYPE:
	case GH_ENONCANON:
		return (NODE_PEN_MALFORMED);
	default:
		return (NODE_PEN_INVALID);
	}
}
