/* ng_ctl.c - an ng control client: requests from KEY=VALUE words, and one
 * blocking request/reply exchange on the ng retry schedule. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "ng/bencode.h"
#include "ng/ng.h"
#include "ng/ng_ctl.h"

int
ng_arg_parse(struct ng_arg *a, struct slice word)
{
	long eq = slice_chr(word, '=');
	size_t kl;

	memset(a, 0, sizeof(*a));
	if (eq <= 0)
		return E_SYNTAX;
	kl = (size_t)eq;
	a->kind = NG_ARG_STR;
	if (kl >= 2 && word.p[kl - 2] == '[' && word.p[kl - 1] == ']') {
		a->kind = NG_ARG_LIST;
		kl -= 2;
	} else if (kl >= 1 && word.p[kl - 1] == ':') {
		a->kind = NG_ARG_INT;
		kl -= 1;
	}
	if (kl == 0)
		return E_SYNTAX;
	a->key = slice_make(word.p, kl);
	a->val = slice_make(word.p + eq + 1, word.len - (size_t)eq - 1);
	if (a->kind != NG_ARG_INT && a->val.len > 0 && a->val.p[0] == '@') {
		a->at_file = 1;
		(void)slice_skip(&a->val, 1);
	}
	return 0;
}

void
ng_arg_str(struct ng_arg *a, const char *key, struct slice val)
{
	memset(a, 0, sizeof(*a));
	a->key = slice_cstr(key);
	a->val = val;
	a->kind = NG_ARG_STR;
}

/* A decimal int64 with an optional '-', nothing else. */
static int
parse_int(struct slice s, int64_t *v)
{
	uint64_t n = 0, lim = INT64_MAX;
	size_t i = 0;
	int neg = 0;

	if (s.len > 0 && s.p[0] == '-') {
		neg = 1;
		lim = (uint64_t)INT64_MAX + 1;
		i = 1;
	}
	if (i == s.len)
		return E_SYNTAX;
	for (; i < s.len; i++) {
		unsigned d = (unsigned)s.p[i] - '0';

		if (d > 9 || n > (lim - d) / 10)
			return E_SYNTAX;
		n = n * 10 + d;
	}
	*v = neg ? (int64_t)(0 - n) : (int64_t)n;
	return 0;
}

static int
put_value(struct buf *b, const struct ng_arg *a)
{
	int64_t v;

	if (a->kind != NG_ARG_INT)
		return bencode_put_str(b, a->val);
	if (parse_int(a->val, &v) != 0)
		return E_SYNTAX;
	return bencode_put_int(b, v);
}

/* Is `a[i]` a list element whose list an earlier member already wrote? */
static int
list_written(const struct ng_arg *a, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (a[j].kind == NG_ARG_LIST && slice_eq(a[j].key, a[i].key))
			return 1;
	return 0;
}

static int
encode_members(struct buf *b, const struct ng_arg *a, size_t n, size_t *bad)
{
	size_t i, j;
	int r;

	for (i = 0; i < n; i++) {
		if (a[i].kind == NG_ARG_LIST && list_written(a, i))
			continue;
		if ((r = bencode_put_str(b, a[i].key)) != 0)
			return r;
		*bad = i;
		if (a[i].kind != NG_ARG_LIST) {
			if ((r = put_value(b, &a[i])) != 0)
				return r;
			continue;
		}
		if ((r = bencode_put_list(b)) != 0)
			return r;
		for (j = i; j < n; j++)
			if (a[j].kind == NG_ARG_LIST &&
			    slice_eq(a[j].key, a[i].key) &&
			    (r = put_value(b, &a[j])) != 0)
				return r;
		if ((r = bencode_put_end(b)) != 0)
			return r;
	}
	return 0;
}

int
ng_args_encode(struct buf *out, const char *cmd, const struct ng_arg *a,
    size_t n, size_t *bad)
{
	size_t len = buf_len(out), where = 0;
	int r;

	if ((r = bencode_put_dict(out)) != 0 ||
	    (r = encode_members(out, a, n, &where)) != 0 ||
	    (cmd != NULL &&
	    (r = bencode_put_kcstr(out, "command", cmd)) != 0) ||
	    (r = bencode_put_end(out)) != 0) {
		buf_truncate(out, len);
		if (r == E_SYNTAX && bad != NULL)
			*bad = where;
		return r;
	}
	return 0;
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read one datagram into `rep`; 1 if it answers `cookie`. */
static int
take_reply(int fd, struct slice cookie, struct buf *rep)
{
	uint8_t *w;
	ssize_t n;

	buf_reset(rep);
	if ((w = buf_reserve(rep, NG_DGRAM_MAX)) == NULL)
		return E_NOMEM;
	n = recv(fd, w, NG_DGRAM_MAX, MSG_DONTWAIT);
	if (n < 0)
		return 0;	/* ECONNREFUSED: nobody yet; EAGAIN */
	buf_commit(rep, (size_t)n);
	return (size_t)n > cookie.len && memcmp(w, cookie.p, cookie.len) == 0 &&
	    w[cookie.len] == ' ';
}

int
ng_exchange(int fd, struct slice req, struct slice cookie, unsigned tries,
    unsigned timeout_ms, struct buf *rep)
{
	struct ng_retry rt;
	uint64_t when, t;
	int st, r;

	if (tries == 0 || timeout_ms == 0 || cookie.len == 0)
		return E_INVAL;
	ng_retry_init(&rt, tries, timeout_ms, now_ms());
	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };

		st = ng_retry_next(&rt, now_ms(), &when);
		if (st == NG_RETRY_GIVEUP)
			return E_TIMEOUT;
		if (st == NG_RETRY_SEND &&
		    send(fd, req.p, req.len, MSG_DONTWAIT) !=
		    (ssize_t)req.len &&
		    errno != ECONNREFUSED && errno != EAGAIN)
			return E_IO;
		t = now_ms();
		r = poll(&pfd, 1, when > t ? (int)(when - t) : 0);
		if (r < 0 && errno != EINTR)
			return E_IO;
		if (r <= 0)
			continue;
		if ((r = take_reply(fd, cookie, rep)) != 0)
			return r < 0 ? r : 0;
	}
}
