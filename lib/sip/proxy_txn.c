/* proxy_txn.c - outside->inside client transactions (retransmits, 408). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/proxy_int.h"

static unsigned
txn_hash(struct slice k)
{
	return (unsigned)(hash64_slice(HASH64_INIT, k) % TXN_BUCKETS);
}

struct txn **
px_txn_find(struct proxy *px, struct slice key)
{
	struct txn **pp = &px->txn[txn_hash(key)];

	while (*pp != NULL && !slice_eq(slice_make((*pp)->key, (*pp)->klen),
	    key))
		pp = &(*pp)->next;
	return pp;
}

void
px_txn_free(struct proxy *px, struct txn *t)
{
	struct txn **pp = px_txn_find(px, slice_make(t->key, t->klen));

	if (*pp == t) {
		*pp = t->next;
		px->ntxn--;
	}
	if (t->timer > 0)
		(void)ev_timer_del(px->loop, (uint64_t)t->timer);
	buf_free(t->fwd);
	buf_free(t->orig);
	buf_free(t->udp_alt);
	free(t);
}

void
px_txn_timer(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct txn *t = arg;
	struct proxy *px = t->px;
	uint64_t now = ev_now_ms(loop), next;

	(void)id;
	t->timer = 0;
	if (now >= t->deadline_ms) {
		struct sip_msg m;
		struct target back = { 1, t->flow, { .len = 0 }, 0, 0 };

		px->st.timeouts++;
		if (t->own) {
			/* Timer F: give up, nobody to tell. */
			log_msg(px->lg, LOG_INFO, "inside did not answer our "
			    "BYE: given up");
			px_txn_free(px, t);
			return;
		}
		log_msg(px->lg, LOG_INFO, "inside did not answer: 408");
		if (sip_parse(&m, buf_slice(t->orig)) == 0) {
			px_media_end(px, &m, PX_END_FAILED);
			px_reply(px, &m, &back, 408, NULL);
		}
		px_txn_free(px, t);
		return;
	}
	if (!t->tcp && (!t->got_resp || !t->invite)) {
		if (!t->got_resp)
			px_send_inside(px, &t->dst, buf_slice(t->fwd));
		if (t->interval < 4000 || t->invite)
			t->interval *= 2;
	}
	next = t->interval;
	if ((t->got_resp && t->invite) || t->tcp)
		next = t->deadline_ms - now;	/* wait for the final answer */
	if (now + next > t->deadline_ms)
		next = t->deadline_ms - now;
	t->timer = ev_timer_add(loop, next, px_txn_timer, t);
}

struct txn *
px_txn_start(struct proxy *px, struct slice key, uint64_t flow,
    const struct target *dst, struct slice fwd, struct slice orig,
    int invite, struct slice udp_alt)
{
	struct txn *t;

	if (px->ntxn >= px->conf.max_txns || key.len > sizeof(t->key))
		return NULL;
	if (*px_txn_find(px, key) != NULL)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->px = px;
	memcpy(t->key, key.p, key.len);
	t->klen = key.len;
	t->flow = flow;
	t->dst = dst->dst;
	t->tcp = dst->tcp;
	t->invite = invite;
	t->interval = px->conf.t1_ms;
	t->deadline_ms = ev_now_ms(px->loop) + px->conf.timeout_ms;
	if ((t->fwd = buf_new(MAX_SIP)) == NULL ||
	    (t->orig = buf_new(MAX_SIP)) == NULL ||
	    buf_append_slice(t->fwd, fwd) != 0 ||
	    buf_append_slice(t->orig, orig) != 0) {
		buf_free(t->fwd);
		buf_free(t->orig);
		free(t);
		return NULL;
	}
	if (udp_alt.len > 0 && ((t->udp_alt = buf_new(MAX_SIP + 4096)) == NULL
	    || buf_append_slice(t->udp_alt, udp_alt) != 0)) {
		buf_free(t->udp_alt);
		t->udp_alt = NULL;
	}
	/* Reliable transports are not retransmitted (RFC 3261 §17.1.1.2). */
	t->timer = ev_timer_add(px->loop, t->tcp ? px->conf.timeout_ms :
	    t->interval, px_txn_timer, t);
	t->next = px->txn[txn_hash(key)];
	px->txn[txn_hash(key)] = t;
	px->ntxn++;
	return t;
}

/* Transaction key: our branch and the CSeq method. */
int
px_txn_key(const struct sip_msg *m, struct slice branch, char *out, size_t n)
{
	int k = snprintf(out, n, "%.*s %.*s", (int)branch.len,
	    (const char *)branch.p, (int)m->cseq_method.len,
	    (const char *)m->cseq_method.p);

	return k < 0 || (size_t)k >= n ? -1 : k;
}

/* A CANCEL goes where its INVITE went, on the same transport. */
void
px_cancel_follows(struct proxy *px, struct slice branch, struct target *t)
{
	char key[BRANCH_MAX + 16];
	int k = snprintf(key, sizeof(key), "%.*s INVITE", (int)branch.len,
	    (const char *)branch.p);
	struct txn *tx;

	if (k <= 0 || (size_t)k >= sizeof(key))
		return;
	if ((tx = *px_txn_find(px, slice_make(key, (size_t)k))) != NULL) {
		t->dst = tx->dst;
		t->tcp = tx->tcp;
		t->conn = 0;
	}
}
