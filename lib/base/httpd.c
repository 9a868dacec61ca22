/* httpd.c - a tiny HTTP/1.1 GET server on the event loop (for /metrics). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/httpd.h"

struct conn {
	struct httpd *h;
	struct conn *prev, *next;	/* oldest first */
	int fd;
	int64_t timer;
	size_t rlen;
	struct buf *out;		/* the response, once known */
	size_t off;			/* written so far */
	int draining;			/* all written: reading to EOF */
	uint8_t *rbuf;			/* max_request bytes */
};

struct httpd {
	struct ev_loop *loop;
	struct httpd_conf c;
	httpd_fn *fn;
	void *arg;
	const struct logger *lg;
	int fd;
	struct conn *head, *tail;
	struct buf *body;		/* the handler's scratch */
	struct httpd_stats st;
};

static void
conn_close(struct conn *k)
{
	struct httpd *h = k->h;

	(void)ev_fd_del(h->loop, k->fd);
	close(k->fd);
	if (k->timer > 0)
		(void)ev_timer_del(h->loop, (uint64_t)k->timer);
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		h->head = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	else
		h->tail = k->prev;
	h->st.open--;
	buf_free(k->out);
	free(k->rbuf);
	free(k);
}

static void
on_timeout(struct ev_loop *loop, uint64_t id, void *arg)
{
	struct conn *k = arg;

	(void)loop;
	(void)id;
	k->timer = 0;
	k->h->st.timeouts++;
	conn_close(k);
}

/* Write what the socket takes; close when all is out. */
static void
flush(struct conn *k)
{
	while (k->off < buf_len(k->out)) {
		ssize_t n = send(k->fd, buf_data(k->out) + k->off,
		    buf_len(k->out) - k->off, MSG_NOSIGNAL);

		if (n > 0) {
			k->off += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (ev_fd_mod(k->h->loop, k->fd, EV_WRITE) == 0)
				return;
			break;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	/* A lingering close: what the client still sends is read and
	 * dropped until it closes (or the timer fires), so that closing with
	 * unread bytes does not reset the connection before the client has
	 * read the answer. */
	(void)shutdown(k->fd, SHUT_WR);
	if (k->off < buf_len(k->out) ||
	    ev_fd_mod(k->h->loop, k->fd, EV_READ) != 0) {
		conn_close(k);
		return;
	}
	k->draining = 1;
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

/* The response: status line, headers and (unless HEAD or an error) the
 * handler's body. */
static void
respond(struct conn *k, int status, const char *ctype, int head)
{
	struct httpd *h = k->h;
	struct slice body = status == 200 ? buf_slice(h->body) :
	    slice_cstr(reason(status));
	int r;

	if (status != 200)
		ctype = "text/plain; charset=utf-8";
	if (status == 400 || status == 405 || status == 431)
		h->st.bad++;
	h->st.requests++;
	if ((k->out = buf_new(body.len + 512)) == NULL) {
		conn_close(k);
		return;
	}
	r = buf_printf(k->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n%s\r\n", status,
	    reason(status), ctype, body.len, status == 405 ?
	    "Allow: GET, HEAD\r\n" : "");
	if (r == 0 && !head)
		r = buf_append_slice(k->out, body);
	if (r != 0) {
		conn_close(k);
		return;
	}
	if (ev_fd_mod(h->loop, k->fd, 0) != 0) {
		conn_close(k);
		return;
	}
	flush(k);
}

int
httpd_parse_head(struct slice head, struct httpd_req *r)
{
	struct slice line, version;
	long q;

	memset(r, 0, sizeof(*r));
	if (!slice_split(&head, '\n', &line))
		return 400;
	if (line.len > 0 && line.p[line.len - 1] == '\r')
		line.len--;
	if (!slice_split(&line, ' ', &r->method) ||
	    !slice_split(&line, ' ', &r->path) || line.len == 0)
		return 400;
	version = line;
	if (!slice_eq_cstr(version, "HTTP/1.1") &&
	    !slice_eq_cstr(version, "HTTP/1.0"))
		return 400;
	r->head = slice_eq_cstr(r->method, "HEAD");
	if (!r->head && !slice_eq_cstr(r->method, "GET"))
		return 405;
	if (r->path.len == 0 || r->path.p[0] != '/')
		return 400;
	if ((q = slice_chr(r->path, '?')) >= 0)
		r->path.len = (size_t)q;
	return 0;
}

/* The request head is complete: its first line decides. */
static void
request(struct conn *k, struct slice head)
{
	struct httpd *h = k->h;
	const char *ctype = "text/plain; charset=utf-8";
	struct httpd_req r;
	int status;

	if ((status = httpd_parse_head(head, &r)) != 0) {
		respond(k, status, NULL, 0);
		return;
	}
	buf_reset(h->body);
	status = h->fn(h->arg, r.path, h->body, &ctype);
	respond(k, status, ctype, r.head);
}

long
httpd_head_end(struct slice s)
{
	for (size_t i = 0; i + 1 < s.len; i++) {
		if (s.p[i] == '\n' && s.p[i + 1] == '\n')
			return (long)i + 2;
		if (i + 3 < s.len && memcmp(s.p + i, "\r\n\r\n", 4) == 0)
			return (long)i + 4;
	}
	return -1;
}

static void
on_conn(struct ev_loop *loop, int fd, unsigned ev, void *arg)
{
	struct conn *k = arg;
	ssize_t n;
	long end;

	(void)loop;
	(void)fd;
	if (k->draining) {
		n = recv(k->fd, k->rbuf, k->h->c.max_request, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(k);
		return;
	}
	if (k->out != NULL) {		/* writing */
		flush(k);
		return;
	}
	if (ev & EV_ERROR) {
		conn_close(k);
		return;
	}
	n = recv(k->fd, k->rbuf + k->rlen, k->h->c.max_request - k->rlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(k);
		return;
	}
	k->rlen += (size_t)n;
	if ((end = httpd_head_end(slice_make(k->rbuf, k->rlen))) >= 0)
		request(k, slice_make(k->rbuf, (size_t)end));
	else if (k->rlen == k->h->c.max_request)
		respond(k, 431, NULL, 0);
}

static void
on_accept(struct ev_loop *loop, int lfd, unsigned ev, void *arg)
{
	struct httpd *h = arg;

	(void)ev;
	for (int i = 0; i < 16; i++) {
		struct conn *k;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (h->st.open >= h->c.max_conns) {
			h->st.evicted++;
			conn_close(h->head);
		}
		if ((k = calloc(1, sizeof(*k))) == NULL ||
		    (k->rbuf = malloc(h->c.max_request)) == NULL) {
			free(k);
			close(fd);
			continue;
		}
		k->h = h;
		k->fd = fd;
		if (ev_fd_add(loop, fd, EV_READ, on_conn, k) != 0) {
			free(k->rbuf);
			free(k);
			close(fd);
			continue;
		}
		k->prev = h->tail;
		if (h->tail != NULL)
			h->tail->next = k;
		else
			h->head = k;
		h->tail = k;
		h->st.open++;
		k->timer = ev_timer_add(loop, h->c.timeout_ms, on_timeout, k);
		if (k->timer <= 0)
			conn_close(k);
	}
}

struct httpd *
httpd_new(struct ev_loop *loop, const struct httpd_conf *c, httpd_fn *fn,
    void *arg, const struct logger *lg, int *err)
{
	struct httpd *h = calloc(1, sizeof(*h));

	*err = E_NOMEM;
	if (h == NULL)
		return NULL;
	h->loop = loop;
	h->c = *c;
	h->fn = fn;
	h->arg = arg;
	h->lg = lg;
	h->fd = -1;
	if (h->c.max_conns == 0)
		h->c.max_conns = 8;
	if (h->c.timeout_ms == 0)
		h->c.timeout_ms = 5000;
	if (h->c.max_request < 64)
		h->c.max_request = 4096;
	if (h->c.max_response == 0)
		h->c.max_response = 8u << 20;
	if ((h->body = buf_new(h->c.max_response)) == NULL)
		goto bad;
	*err = E_IO;
	if (net_tcp_listen(&h->c.addr, 64, 0, &h->fd) != 0)
		goto bad;
	if ((*err = ev_fd_add(loop, h->fd, EV_READ, on_accept, h)) != 0)
		goto bad;
	*err = 0;
	return h;
bad:
	if (h->fd >= 0)
		close(h->fd);
	buf_free(h->body);
	free(h);
	return NULL;
}

void
httpd_free(struct httpd *h)
{
	if (h == NULL)
		return;
	while (h->head != NULL)
		conn_close(h->head);
	(void)ev_fd_del(h->loop, h->fd);
	close(h->fd);
	buf_free(h->body);
	free(h);
}

int
httpd_local(const struct httpd *h, struct net_addr *a)
{
	return net_local_addr(h->fd, a);
}

void
httpd_stats(const struct httpd *h, struct httpd_stats *st)
{
	*st = h->st;
}
