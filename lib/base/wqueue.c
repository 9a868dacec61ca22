/* wqueue.c - capped write queues that hold no memory while empty. */
#include "base/wqueue.h"

size_t
wq_len(const struct buf *q)
{
	return q != NULL ? buf_len(q) : 0;
}

int
wq_push(struct buf **q, size_t cap, const void *p, size_t len)
{
	size_t queued = wq_len(*q);

	if (len > cap || queued > cap - len)
		return E_LIMIT;
	if (*q == NULL && (*q = buf_new(cap)) == NULL)
		return E_NOMEM;
	if (buf_append(*q, p, len) != 0)
		return queued + len > buf_max(*q) ? E_LIMIT : E_NOMEM;
	return 0;
}

int
wq_flush(struct buf **q, wq_write_fn *w, void *arg)
{
	while (wq_len(*q) > 0) {
		size_t done = 0;
		int r = w(arg, buf_data(*q), buf_len(*q), &done);

		if (r != 0)
			return r;
		if (done == 0)
			return E_AGAIN;
		buf_consume(*q, done);
	}
	/* An idle connection keeps no queue. */
	buf_free(*q);
	*q = NULL;
	return 0;
}

int
wq_send(struct buf **q, size_t cap, const void *p, size_t len,
    wq_write_fn *w, void *arg, size_t *sent)
{
	const uint8_t *b = p;
	size_t queued = wq_len(*q), off = 0;
	int r;

	if (sent != NULL)
		*sent = 0;
	if (len > cap || queued > cap - len)
		return E_LIMIT;
	if (queued == 0) {
		while (off < len) {
			size_t done = 0;

			r = w(arg, b + off, len - off, &done);
			if (r == E_AGAIN || (r == 0 && done == 0))
				break;
			if (r != 0) {
				if (sent != NULL)
					*sent = off;
				return r;
			}
			off += done;
		}
		if (off == len)
			return 0;
	}
	if ((r = wq_push(q, cap, b + off, len - off)) != 0 && sent != NULL)
		*sent = off;
	return r;
}
