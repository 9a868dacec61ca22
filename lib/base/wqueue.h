/* wqueue.h - capped write queues that hold no memory while empty. */
#ifndef SBK_WQUEUE_H
#define SBK_WQUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * A stream connection's unsent bytes. The queue is a `struct buf *` that
 * the connection keeps, NULL while nothing waits: it is allocated when
 * bytes first have to wait and freed when the last of them went, so that
 * an idle connection holds no queue. Messages are queued whole or not at
 * all, under a cap chosen by the connection's owner.
 *
 * A writer puts bytes on the wire (a socket, a TLS layer): it sets *done
 * to how many it took (> 0) and returns 0, or returns E_AGAIN (none taken
 * now) or another negative code (the stream is broken).
 */
typedef int wq_write_fn(void *arg, const uint8_t *p, size_t len,
    size_t *done);

/* Bytes waiting in `q` (NULL: none). */
size_t wq_len(const struct buf *q);

/*
 * Queue `len` bytes without writing: 0, E_LIMIT (the queue would hold
 * more than `cap` bytes: nothing queued) or E_NOMEM.
 */
int wq_push(struct buf **q, size_t cap, const void *p, size_t len) WUR;

/*
 * Write what waits until the writer stops taking it: 0 (all gone, the
 * queue is freed), E_AGAIN (some left), or the writer's error (the rest
 * stays queued).
 */
int wq_flush(struct buf **q, wq_write_fn *w, void *arg) WUR;

/*
 * Send a whole message: when nothing waits, write it at once and queue
 * only what the writer did not take; otherwise queue it behind the rest.
 * 0 (sent or queued), E_LIMIT (over `cap`: nothing sent or queued), the
 * writer's error, or E_NOMEM. After an error, *sent (may be NULL) says
 * how many bytes of the message went: when it is not 0 the stream holds
 * a partial message and cannot continue.
 */
int wq_send(struct buf **q, size_t cap, const void *p, size_t len,
    wq_write_fn *w, void *arg, size_t *sent) WUR;

#endif
