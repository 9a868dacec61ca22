/* relay_epoll.c - the relay's epoll engine: each readable socket read
 * with recvmmsg, its packets written with sendmmsg. */
#include "relay/relay_int.h"

/* relay_send_fn: the `n` packets of `arg` (struct net_pkt *[]) from the
 * port socket of `to`, in one sendmmsg. */
static size_t
epoll_send(struct relay *r, const struct relay_comp *from,
    const struct relay_comp *to, size_t n, void *arg, size_t *bytes)
{
	struct net_pkt **v = arg;
	int sent;

	(void)from;
	for (size_t i = 0; i < n; i++) {
		r->outv[i] = *v[i];
		r->outv[i].addr = to->peer;
	}
	if (n == 1)
		sent = net_send(to->fd, &r->outv[0]) == 0 ? 1 : 0;
	else
		sent = net_send_batch(to->fd, r->outv, n);
	if (sent < 0)
		sent = 0;
	for (size_t i = 0; i < (size_t)sent; i++)
		*bytes += r->outv[i].len;
	return (size_t)sent;
}

void
relay_epoll_read(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct relay_fdref *ref = arg;
	struct relay_stream *s = ref->s;
	struct relay *r = s->r;
	unsigned budget = r->cfg.budget;
	int a = ref->side;

	(void)loop;
	(void)events;
	while (budget > 0) {
		size_t want = budget < r->cfg.batch ? budget : r->cfg.batch;
		size_t nout[2] = { 0, 0 };
		int n;

		n = want == 1 ? (net_recv(fd, &r->pkts[0]) == 0 ? 1 : 0) :
		    net_recv_batch(fd, r->pkts, want);
		if (n <= 0)
			break;
		budget -= (unsigned)n;
		for (int i = 0; i < n; i++) {
			int c = process(s, a, ref->comp, &r->pkts[i], PKT_CAP);

			if (c >= 0)
				r->out[c][nout[c]++] = &r->pkts[i];
		}
		for (int c = 0; c < 2; c++)
			if (nout[c] > 0)
				(void)relay_forward(r, s, a, c, nout[c],
				    epoll_send, r->out[c]);
		if ((size_t)n < want)
			break;
	}
}
