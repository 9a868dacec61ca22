/* srclimit.c - per-source request rates and bans (what Kamailio's pike does). */
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "base/srclimit.h"

#define NIL UINT32_MAX

struct key {
	uint8_t fam;		/* 4 or 6 */
	uint8_t b[8];		/* IPv4: 4 bytes; IPv6: its /64 */
};

struct ent {
	struct key k;
	uint32_t next;		/* hash chain */
	uint32_t prev_l, next_l;	/* its list: LRU (free) or bans */
	uint8_t banned;
	uint64_t milli;		/* tokens x 1000 */
	uint64_t last_ms;	/* last refill */
	uint64_t ban_until;
	uint64_t win_start;
	uint32_t nfail;
};

/* A doubly linked list over entry indexes: head is the newest. */
struct list {
	uint32_t head, tail;
};

struct srclimit {
	struct srclimit_conf c;
	struct ent *e;
	uint32_t *bucket;
	size_t nbucket;		/* a power of two */
	uint32_t nfree;		/* never-used entries left: e[max - nfree] */
	struct list lru;	/* tracked, not banned: head most recent */
	struct list bans;	/* banned, head the newest ban */
	struct srclimit_stats st;
};

static void
list_unlink(struct srclimit *t, struct list *l, uint32_t i)
{
	struct ent *x = &t->e[i];

	if (x->prev_l != NIL)
		t->e[x->prev_l].next_l = x->next_l;
	else
		l->head = x->next_l;
	if (x->next_l != NIL)
		t->e[x->next_l].prev_l = x->prev_l;
	else
		l->tail = x->prev_l;
	x->prev_l = x->next_l = NIL;
}

static void
list_push(struct srclimit *t, struct list *l, uint32_t i)
{
	struct ent *x = &t->e[i];

	x->prev_l = NIL;
	x->next_l = l->head;
	if (l->head != NIL)
		t->e[l->head].prev_l = i;
	l->head = i;
	if (l->tail == NIL)
		l->tail = i;
}

static int
key_of(const struct net_addr *a, struct key *k)
{
	memset(k, 0, sizeof(*k));
	if (net_addr_family(a) == AF_INET) {
		k->fam = 4;
		memcpy(k->b, &a->u.in4.sin_addr, 4);
		return 0;
	}
	if (net_addr_family(a) == AF_INET6) {
		const uint8_t *p = a->u.in6.sin6_addr.s6_addr;
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
		    0, 0xff, 0xff };

		if (memcmp(p, mapped, sizeof(mapped)) == 0) {
			/* ::ffff:a.b.c.d is that IPv4 source. */
			k->fam = 4;
			memcpy(k->b, p + 12, 4);
			return 0;
		}
		k->fam = 6;
		memcpy(k->b, p, 8);
		return 0;
	}
	return E_UNSUPPORTED;
}

static size_t
slot_of(const struct srclimit *t, const struct key *k)
{
	return hash32(HASH32_INIT, k, sizeof(*k)) & (t->nbucket - 1);
}

struct srclimit *
srclimit_new(const struct srclimit_conf *conf)
{
	struct srclimit *t;
	size_t i;

	if (conf->max == 0 || conf->max >= NIL ||
	    (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->c = *conf;
	if (t->c.burst == 0)
		t->c.burst = t->c.rate;
	for (t->nbucket = 16; t->nbucket < conf->max; t->nbucket <<= 1)
		;
	t->e = calloc(conf->max, sizeof(*t->e));
	t->bucket = malloc(t->nbucket * sizeof(*t->bucket));
	if (t->e == NULL || t->bucket == NULL) {
		srclimit_free(t);
		return NULL;
	}
	for (i = 0; i < t->nbucket; i++)
		t->bucket[i] = NIL;
	t->nfree = (uint32_t)conf->max;
	t->lru.head = t->lru.tail = t->bans.head = t->bans.tail = NIL;
	return t;
}

void
srclimit_free(struct srclimit *t)
{
	if (t == NULL)
		return;
	free(t->e);
	free(t->bucket);
	free(t);
}

static void
chain_unlink(struct srclimit *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[slot_of(t, &t->e[i].k)];

	while (*pp != NIL && *pp != i)
		pp = &t->e[*pp].next;
	if (*pp == i)
		*pp = t->e[i].next;
}

/* Bans that ended go back to the LRU list, oldest first: all bans last
 * ban_ms, so the oldest ban is the list's tail. */
static void
expire_bans(struct srclimit *t, uint64_t now)
{
	uint32_t i;

	while ((i = t->bans.tail) != NIL && t->e[i].ban_until <= now) {
		list_unlink(t, &t->bans, i);
		t->e[i].banned = 0;
		t->e[i].nfail = 0;
		t->st.banned_now--;
		list_push(t, &t->lru, i);
	}
}

static struct ent *
find(struct srclimit *t, const struct net_addr *a, uint64_t now, int add)
{
	struct key k;
	size_t s;
	uint32_t i;

	expire_bans(t, now);
	if (key_of(a, &k) != 0)
		return NULL;
	s = slot_of(t, &k);
	for (i = t->bucket[s]; i != NIL; i = t->e[i].next)
		if (memcmp(&t->e[i].k, &k, sizeof(k)) == 0)
			break;
	if (i != NIL) {
		if (!t->e[i].banned) {
			list_unlink(t, &t->lru, i);
			list_push(t, &t->lru, i);
		}
		return &t->e[i];
	}
	if (!add)
		return NULL;
	if (t->nfree > 0) {
		i = (uint32_t)(t->c.max - t->nfree--);
	} else if ((i = t->lru.tail) != NIL) {
		list_unlink(t, &t->lru, i);
		chain_unlink(t, i);
		t->st.tracked--;
	} else {
		t->st.untracked++;	/* all banned: keep the bans */
		return NULL;
	}
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].k = k;
	t->e[i].milli = (uint64_t)t->c.burst * 1000;
	t->e[i].last_ms = now;
	t->e[i].next = t->bucket[s];
	t->bucket[s] = i;
	t->e[i].prev_l = t->e[i].next_l = NIL;
	list_push(t, &t->lru, i);
	t->st.tracked++;
	return &t->e[i];
}

enum srclimit_verdict
srclimit_conn(struct srclimit *t, const struct net_addr *src, uint64_t now_ms)
{
	struct ent *x = find(t, src, now_ms, 0);

	if (x != NULL && x->banned) {
		t->st.refused_ban++;
		return SRCLIMIT_BANNED;
	}
	return SRCLIMIT_OK;
}

enum srclimit_verdict
srclimit_request(struct srclimit *t, const struct net_addr *src,
    uint64_t now_ms)
{
	struct ent *x;
	uint64_t cap;

	if (t->c.rate == 0 && t->c.fails == 0)
		return SRCLIMIT_OK;
	if ((x = find(t, src, now_ms, 1)) == NULL)
		return SRCLIMIT_OK;
	if (x->banned) {
		t->st.refused_ban++;
		return SRCLIMIT_BANNED;
	}
	if (t->c.rate == 0)
		return SRCLIMIT_OK;
	cap = (uint64_t)t->c.burst * 1000;
	if (now_ms > x->last_ms) {
		uint64_t add = (now_ms - x->last_ms) * t->c.rate;

		x->milli = add >= cap - x->milli ? cap : x->milli + add;
		x->last_ms = now_ms;
	}
	if (x->milli < 1000) {
		t->st.refused_rate++;
		return SRCLIMIT_RATE;
	}
	x->milli -= 1000;
	return SRCLIMIT_OK;
}

int
srclimit_auth_fail(struct srclimit *t, const struct net_addr *src,
    uint64_t now_ms)
{
	struct ent *x;
	uint32_t i;

	if (t->c.fails == 0 || (x = find(t, src, now_ms, 1)) == NULL ||
	    x->banned)
		return 0;
	if (x->nfail == 0 || now_ms - x->win_start > t->c.window_ms) {
		x->win_start = now_ms;
		x->nfail = 0;
	}
	if (++x->nfail < t->c.fails)
		return 0;
	i = (uint32_t)(x - t->e);
	list_unlink(t, &t->lru, i);
	x->banned = 1;
	x->ban_until = now_ms + t->c.ban_ms;
	list_push(t, &t->bans, i);
	t->st.bans++;
	t->st.banned_now++;
	return 1;
}

int
srclimit_banned(struct srclimit *t, const struct net_addr *src,
    uint64_t now_ms)
{
	struct ent *x = find(t, src, now_ms, 0);

	return x != NULL && x->banned;
}

void
srclimit_stats(struct srclimit *t, uint64_t now_ms, struct srclimit_stats *st)
{
	expire_bans(t, now_ms);
	*st = t->st;
}
