/* proxy_keying.c - the SRTP keying a TLS phone speaks, learnt from it. */
#include <stdlib.h>
#include <string.h>

#include "sip/proxy_int.h"

/*
 * The rule (sip-tls-term(1), "Media"): a WebSocket phone always gets
 * DTLS-SRTP with ICE; a TLS phone gets what --outside-keying says (SDES
 * by default) until it offers or answers with a body of its own: an
 * a=fingerprint makes it a DTLS-SRTP phone, an a=crypto without one an
 * SDES phone, for the rest of its flow. So an answer going to a phone
 * follows the keying of the offer it sent, and calls to it from the
 * inside are offered the keying it used last. Only the flows of DTLS
 * phones are held (a set of flow handles, forgotten with the flow).
 */
#define KEY_BUCKETS 256

struct kflow {
	uint64_t flow;
	struct kflow *next;
};

struct px_keying {
	struct kflow *b[KEY_BUCKETS];
};

static struct kflow **
find(struct px_keying *k, uint64_t flow)
{
	struct kflow **pp = &k->b[flow % KEY_BUCKETS];

	while (*pp != NULL && (*pp)->flow != flow)
		pp = &(*pp)->next;
	return pp;
}

/* A line of `sdp` that starts with `pfx`? */
static int
has_line(struct slice sdp, const char *pfx)
{
	struct slice s = sdp, line;
	size_t n = strlen(pfx);

	while (s.len > 0) {
		(void)slice_split(&s, '\n', &line);
		if (line.len >= n && memcmp(line.p, pfx, n) == 0)
			return 1;
	}
	return 0;
}

void
px_keying_learn(struct proxy *px, uint64_t flow, struct slice sdp)
{
	int dtls = has_line(sdp, "a=fingerprint:");
	struct kflow **pp, *x;

	if (!dtls && !has_line(sdp, "a=crypto:"))
		return;		/* says nothing about keying */
	if (px->keying == NULL &&
	    (!dtls || (px->keying = calloc(1, sizeof(*px->keying))) == NULL))
		return;
	pp = find(px->keying, flow);
	if (dtls && *pp == NULL && (x = calloc(1, sizeof(*x))) != NULL) {
		x->flow = flow;
		*pp = x;
	} else if (!dtls && *pp != NULL) {
		x = *pp;
		*pp = x->next;
		free(x);
	}
}

int
px_keying_dtls(struct proxy *px, uint64_t flow)
{
	if (flow_kind(px->flows, flow) != FLOW_TLS || px->conf.outside_dtls)
		return 1;
	return px->keying != NULL && *find(px->keying, flow) != NULL;
}

void
px_keying_forget(struct proxy *px, uint64_t flow)
{
	struct kflow **pp, *x;

	if (px->keying == NULL || (x = *(pp = find(px->keying, flow))) == NULL)
		return;
	*pp = x->next;
	free(x);
}

void
px_keying_free(struct proxy *px)
{
	size_t i;

	if (px->keying == NULL)
		return;
	for (i = 0; i < KEY_BUCKETS; i++)
		while (px->keying->b[i] != NULL) {
			struct kflow *x = px->keying->b[i];

			px->keying->b[i] = x->next;
			free(x);
		}
	free(px->keying);
	px->keying = NULL;
}
