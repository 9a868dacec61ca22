/* test_tcpconn.c - unit tests for SIP over TCP: framing, reuse, closes. */
#include <errno.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/ev.h"
#include "base/net.h"
#include "sip/tcpconn.h"
#include "t.h"

#define MSG1 "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 1\r\nContent-Length: 4\r\n" \
	"\r\nbody"
#define MSG2 "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: 2\r\nl: 0\r\n\r\n"

struct side {
	int msgs, closed, last_err;
	uint64_t last_conn, closed_conn;
	char last[512];
	size_t last_len;
};

static void
on_msg(void *arg, uint64_t conn, const struct net_addr *peer,
    struct slice msg)
{
	struct side *s = arg;

	(void)peer;
	s->msgs++;
	s->last_conn = conn;
	s->last_len = msg.len < sizeof(s->last) ? msg.len : sizeof(s->last);
	memcpy(s->last, msg.p, s->last_len);
}

static void
on_closed(void *arg, uint64_t conn, const struct net_addr *peer, int err)
{
	struct side *s = arg;

	(void)peer;
	s->closed++;
	s->closed_conn = conn;
	s->last_err = err;
}

/* Run the loop until *counter reaches `want` (or about 5 s pass). */
static int
run_n(struct ev_loop *l, const int *counter, int want, int rounds)
{
	int i;

	for (i = 0; i < rounds && *counter < want; i++)
		(void)ev_run_once(l, 10);
	return *counter >= want;
}

static int
run_until(struct ev_loop *l, const int *counter, int want)
{
	return run_n(l, counter, want, 500);
}

static int
raw_connect(const struct net_addr *a)
{
	int fd = socket(net_addr_family(a), SOCK_STREAM, 0);

	if (fd >= 0 && connect(fd, &a->u.sa, a->len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
main(void)
{
	struct ev_loop *l = ev_new(NULL);
	struct side sa, sb;
	struct tcpconn_cbs ca = { on_msg, on_closed, &sa };
	struct tcpconn_cbs cb = { on_msg, on_closed, &sb };
	struct tcpconn_conf conf;
	struct tcpconn_table *a, *b;
	struct net_addr la, dead;
	uint64_t c1 = 0, c2 = 0, c3 = 0;
	int lfd, fd, r, one = 1;
	char rb[64];
	ssize_t n;

	memset(&sa, 0, sizeof(sa));
	memset(&sb, 0, sizeof(sb));
	memset(&conf, 0, sizeof(conf));
	conf.max_msg = 200;
	conf.wq_max = 4096;
	a = tcpconn_new(l, &conf, &ca, NULL);
	conf.idle_ms = 1;
	b = tcpconn_new(l, &conf, &cb, NULL);
	T_OK(l != NULL && a != NULL && b != NULL, "tables");
	T_OK(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &la) == 0 &&
	    net_tcp_listen(&la, 16, 0, &lfd) == 0 &&
	    net_local_addr(lfd, &la) == 0, "listener");
	T_EQ_INT(tcpconn_listen(a, lfd), 0, "listen");

	/* A message split over three segments is delivered once, whole. */
	fd = raw_connect(&la);
	T_OK(fd >= 0, "raw connect");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
	    sizeof(one));
	T_EQ_INT(write(fd, MSG1, 10), 10, "segment 1");
	(void)run_n(l, &sa.msgs, 1, 10);
	T_EQ_INT(sa.msgs, 0, "nothing after part of the start line");
	T_EQ_INT(write(fd, MSG1 + 10, 50), 50, "segment 2");
	(void)run_n(l, &sa.msgs, 1, 10);
	T_EQ_INT(sa.msgs, 0, "nothing before the body is complete");
	T_EQ_INT(write(fd, MSG1 + 60, sizeof(MSG1) - 61),
	    (ssize_t)sizeof(MSG1) - 61, "segment 3");
	T_OK(run_until(l, &sa.msgs, 1), "message after the last segment");
	T_EQ_MEM(sa.last, sa.last_len, MSG1, sizeof(MSG1) - 1, "whole");
	/* Two messages and a keep-alive ping in one segment. */
	T_EQ_INT(write(fd, "\r\n\r\n" MSG2 MSG1, sizeof(MSG2 MSG1) + 3),
	    (ssize_t)sizeof(MSG2 MSG1) + 3, "ping and two messages");
	T_OK(run_until(l, &sa.msgs, 3), "both messages");
	T_EQ_MEM(sa.last, sa.last_len, MSG1, sizeof(MSG1) - 1, "in order");
	n = recv(fd, rb, sizeof(rb), 0);
	T_EQ_MEM(rb, n > 0 ? (size_t)n : 0, "\r\n", 2, "pong");
	/* An oversize message closes the stream. */
	{
		char big[300];
		memset(big, 'x', sizeof(big));
		memcpy(big, "OPTIONS ", 8);
		T_EQ_INT(write(fd, big, sizeof(big)), (ssize_t)sizeof(big),
		    "oversize");
		T_OK(run_until(l, &sa.closed, 1), "closed on oversize");
		T_EQ_INT(sa.last_err, 0, "was up");
		n = recv(fd, rb, sizeof(rb), 0);
		T_EQ_INT(n, 0, "EOF at the peer");
		close(fd);
	}

	/* One connection per destination, reused. */
	T_EQ_INT(tcpconn_send(b, &la, MSG2, sizeof(MSG2) - 1, &c1), 0,
	    "send connects");
	T_EQ_INT(tcpconn_send(b, &la, MSG1, sizeof(MSG1) - 1, &c2), 0,
	    "send again");
	T_OK(c1 != 0 && c1 == c2, "same connection");
	T_EQ_INT(tcpconn_count(b), 1, "one connection");
	T_OK(run_until(l, &sa.msgs, 5), "both arrive");
	T_EQ_INT(tcpconn_find(b, &la, &c3), 0, "find");
	T_EQ_INT(c3, c1, "found the same");
	T_EQ_INT(tcpconn_send(b, &la, "x", 5000, NULL), E_LIMIT,
	    "more than the queue cap");
	/* The answer side replies on the connection the request came on. */
	T_EQ_INT(tcpconn_send_conn(a, sa.last_conn, MSG2, sizeof(MSG2) - 1),
	    0, "reply on the connection");
	T_OK(run_until(l, &sb.msgs, 1), "reply arrives");
	/* The far end closes: the next send reconnects. */
	tcpconn_close(a, sa.last_conn);
	T_EQ_INT(tcpconn_send_conn(a, sa.last_conn, "x", 1), E_NOTFOUND,
	    "closed handle is gone");
	T_OK(run_until(l, &sb.closed, 1), "close seen");
	T_EQ_INT(sb.closed_conn, c1, "that connection");
	T_EQ_INT(sb.last_err, 0, "it was up");
	T_EQ_INT(tcpconn_send(b, &la, MSG2, sizeof(MSG2) - 1, &c3), 0,
	    "send after close");
	T_OK(c3 != 0 && c3 != c1, "a new connection");
	T_OK(run_until(l, &sa.msgs, 6), "arrives on it");

	/* Idle connections are closed (b has a 1 ms idle timeout). */
	T_OK(run_until(l, &sb.closed, 2), "idle timeout");
	T_EQ_INT(tcpconn_count(b), 0, "none left");

	/* A refused connect is reported as never up. */
	dead = la;
	tcpconn_stop_listening(a);
	r = tcpconn_send(b, &dead, MSG2, sizeof(MSG2) - 1, NULL);
	if (r == 0) {
		T_OK(run_until(l, &sb.closed, 3), "refused");
		T_EQ_INT(sb.last_err, E_IO, "never up");
	} else {
		T_EQ_INT(r, E_IO, "refused at once");
	}

	tcpconn_free(a);
	tcpconn_free(b);
	tcpconn_free(NULL);
	ev_free(l);
	return t_done();
}
