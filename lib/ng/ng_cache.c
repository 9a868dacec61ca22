/* ng_cache.c - rtpengine "ng" protocol: the reply cache (a retransmitted
 * request gets the same reply, not a second run). */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "ng/ng.h"

/* Reply cache: a FIFO ring (insertion order is expiry order) plus a
 * chained hash index over it. */

struct centry {
	uint8_t *data;		/* peer, cookie, reply */
	size_t plen, clen, rlen;
	uint64_t t;
	uint32_t hash;
	long next;		/* next slot in the hash chain, -1: end */
	int live;
};

struct ng_cache {
	struct centry *ring;
	size_t cap, head, used;	/* used: occupied slots from head */
	size_t live, bytes, max_bytes;
	long *bucket;
	size_t nbucket;		/* a power of two */
	uint64_t ttl;
};

static uint32_t
chash(struct slice peer, struct slice cookie)
{
	static const uint8_t sep = 0xff;

	return hash32_slice(hash32(hash32_slice(HASH32_INIT, peer), &sep, 1),
	    cookie);
}

struct ng_cache *
ng_cache_new(size_t max_entries, size_t max_bytes, uint64_t ttl_ms)
{
	struct ng_cache *c;
	size_t i;

	if (max_entries == 0 || max_entries > ((size_t)1 << 24))
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->cap = max_entries;
	c->max_bytes = max_bytes;
	c->ttl = ttl_ms;
	c->nbucket = 16;
	while (c->nbucket < max_entries * 2)
		c->nbucket *= 2;
	c->ring = calloc(c->cap, sizeof(*c->ring));
	c->bucket = malloc(c->nbucket * sizeof(*c->bucket));
	if (c->ring == NULL || c->bucket == NULL) {
		ng_cache_free(c);
		return NULL;
	}
	for (i = 0; i < c->nbucket; i++)
		c->bucket[i] = -1;
	return c;
}

static void
unlink_slot(struct ng_cache *c, size_t slot)
{
	struct centry *e = &c->ring[slot];
	long *pp = &c->bucket[e->hash & (c->nbucket - 1)];

	while (*pp >= 0) {
		if ((size_t)*pp == slot) {
			*pp = e->next;
			break;
		}
		pp = &c->ring[*pp].next;
	}
	c->bytes -= e->plen + e->clen + e->rlen;
	free(e->data);
	e->data = NULL;
	e->live = 0;
	c->live--;
}

/* Drop the oldest slot (live or not). */
static void
pop_oldest(struct ng_cache *c)
{
	if (c->used == 0)
		return;
	if (c->ring[c->head].live)
		unlink_slot(c, c->head);
	c->head = (c->head + 1) % c->cap;
	c->used--;
}

void
ng_cache_free(struct ng_cache *c)
{
	if (c == NULL)
		return;
	if (c->ring != NULL && c->bucket != NULL)
		while (c->used > 0)
			pop_oldest(c);
	free(c->ring);
	free(c->bucket);
	free(c);
}

void
ng_cache_expire(struct ng_cache *c, uint64_t now_ms)
{
	while (c->used > 0) {
		struct centry *e = &c->ring[c->head];

		if (e->live && (now_ms < e->t || now_ms - e->t < c->ttl))
			break;
		pop_oldest(c);
	}
}

static long
find(const struct ng_cache *c, struct slice peer, struct slice cookie,
    uint32_t h)
{
	long i;

	for (i = c->bucket[h & (c->nbucket - 1)]; i >= 0; i = c->ring[i].next) {
		const struct centry *e = &c->ring[i];

		if (e->hash == h && e->plen == peer.len &&
		    e->clen == cookie.len &&
		    (peer.len == 0 || memcmp(e->data, peer.p, peer.len) == 0) &&
		    memcmp(e->data + e->plen, cookie.p, cookie.len) == 0)
			return i;
	}
	return -1;
}

int
ng_cache_get(struct ng_cache *c, struct slice peer, struct slice cookie,
    uint64_t now_ms, struct slice *reply)
{
	long i;

	ng_cache_expire(c, now_ms);
	i = find(c, peer, cookie, chash(peer, cookie));
	if (i < 0)
		return E_NOTFOUND;
	*reply = slice_make(c->ring[i].data + c->ring[i].plen +
	    c->ring[i].clen, c->ring[i].rlen);
	return 0;
}

int
ng_cache_put(struct ng_cache *c, struct slice peer, struct slice cookie,
    struct slice reply, uint64_t now_ms)
{
	uint32_t h = chash(peer, cookie);
	size_t need, slot;
	struct centry *e;
	uint8_t *d;
	long i;

	if (peer.len > c->max_bytes || cookie.len > c->max_bytes ||
	    reply.len > c->max_bytes ||
	    peer.len + cookie.len + reply.len > c->max_bytes)
		return E_BIG;
	need = peer.len + cookie.len + reply.len;
	if ((d = malloc(need > 0 ? need : 1)) == NULL)
		return E_NOMEM;
	if (peer.len > 0)
		memcpy(d, peer.p, peer.len);
	if (cookie.len > 0)
		memcpy(d + peer.len, cookie.p, cookie.len);
	if (reply.len > 0)
		memcpy(d + peer.len + cookie.len, reply.p, reply.len);

	ng_cache_expire(c, now_ms);
	if ((i = find(c, peer, cookie, h)) >= 0)
		unlink_slot(c, (size_t)i);
	while (c->used == c->cap || c->bytes + need > c->max_bytes)
		pop_oldest(c);
	slot = (c->head + c->used) % c->cap;
	c->used++;
	e = &c->ring[slot];
	e->data = d;
	e->plen = peer.len;
	e->clen = cookie.len;
	e->rlen = reply.len;
	e->t = now_ms;
	e->hash = h;
	e->live = 1;
	e->next = c->bucket[h & (c->nbucket - 1)];
	c->bucket[h & (c->nbucket - 1)] = (long)slot;
	c->live++;
	c->bytes += need;
	return 0;
}

size_t
ng_cache_count(const struct ng_cache *c)
{
	return c != NULL ? c->live : 0;
}
