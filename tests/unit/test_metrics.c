/* test_metrics.c - unit tests for the Prometheus registry and the tiny
 * HTTP server that serves it. */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/httpd.h"
#include "base/metrics.h"
#include "t.h"

static void
good(void *arg, struct metrics_out *o)
{
	(void)arg;
	metrics_family(o, "x_packets_total", METRICS_COUNTER,
	    "Packets.\nBy side.");
	metrics_sample(o, 3, "side", "out\"side", "r", "a\\b\nc", NULL);
	metrics_sample(o, 18446744073709551615ULL, NULL);
	metrics_family(o, "x_open", METRICS_GAUGE, "Open now.");
	metrics_sample_f(o, 0.25, NULL);
}

static void
histo(void *arg, struct metrics_out *o)
{
	static const double le[3] = { 0.001, 0.01, 0.5 };
	static const uint64_t cum[3] = { 1, 4, 4 };

	(void)arg;
	metrics_family(o, "x_seconds", METRICS_HISTOGRAM, "Times.");
	metrics_histogram(o, le, cum, 3, 5, 1.25);
}

static int mode;

static void
bad(void *arg, struct metrics_out *o)
{
	(void)arg;
	switch (mode) {
	case 0: metrics_family(o, "x_packets", METRICS_COUNTER, "h"); break;
	case 1: metrics_family(o, "x_open", METRICS_GAUGE, "again"); break;
	case 2: metrics_family(o, "9x", METRICS_GAUGE, "h"); break;
	case 3: metrics_sample(o, 1, NULL); break;	/* no family */
	case 4:
		metrics_family(o, "y", METRICS_GAUGE, "h");
		metrics_sample(o, 1, "bad-label", "v", NULL);
		break;
	case 5:
		metrics_family(o, "y_seconds", METRICS_HISTOGRAM, "h");
		metrics_sample(o, 1, NULL);	/* not a histogram sample */
		break;
	case 6: {
		static const double le[2] = { 1, 0.5 };	/* not increasing */
		static const uint64_t cum[2] = { 1, 1 };

		metrics_family(o, "y_seconds", METRICS_HISTOGRAM, "h");
		metrics_histogram(o, le, cum, 2, 1, 1);
		break;
	}
	}
}

static void
registry(void)
{
	struct metrics *m = metrics_new();
	struct buf *b = buf_new(4096), *small = buf_new(40);
	const char *want =
	    "# HELP x_packets_total Packets.\\nBy side.\n"
	    "# TYPE x_packets_total counter\n"
	    "x_packets_total{side=\"out\\\"side\",r=\"a\\\\b\\nc\"} 3\n"
	    "x_packets_total 18446744073709551615\n"
	    "# HELP x_open Open now.\n"
	    "# TYPE x_open gauge\n"
	    "x_open 0.25\n";

	T_OK(m != NULL && b != NULL && small != NULL, "new");
	T_EQ_INT(metrics_add(m, good, NULL), 0, "add");
	T_EQ_INT(metrics_render(m, b), 0, "render");
	T_EQ_STR(buf_str(b), want, "text format, escapes, u64 max");
	T_EQ_INT(metrics_render(m, small), E_BIG, "over the cap: E_BIG");
	{
		struct metrics *hm = metrics_new();

		buf_reset(b);
		T_OK(hm != NULL && metrics_add(hm, histo, NULL) == 0 &&
		    metrics_render(hm, b) == 0, "histogram renders");
		T_EQ_STR(buf_str(b), "# HELP x_seconds Times.\n"
		    "# TYPE x_seconds histogram\n"
		    "x_seconds_bucket{le=\"0.001\"} 1\n"
		    "x_seconds_bucket{le=\"0.01\"} 4\n"
		    "x_seconds_bucket{le=\"0.5\"} 4\n"
		    "x_seconds_bucket{le=\"+Inf\"} 5\n"
		    "x_seconds_sum 1.25\n"
		    "x_seconds_count 5\n", "histogram text");
		metrics_free(hm);
	}
	T_EQ_INT(metrics_add(m, bad, NULL), 0, "add a bad collector");
	for (mode = 0; mode < 7; mode++) {
		buf_reset(b);
		T_EQ_INT(metrics_render(m, b), E_INVAL,
		    "broken rule %d refused", mode);
	}
	for (int i = 2; i < METRICS_COLLECTORS_MAX; i++)
		if (metrics_add(m, good, NULL) != 0)
			T_OK(0, "add %d", i);
	T_EQ_INT(metrics_add(m, good, NULL), E_LIMIT, "collector limit");
	buf_reset(b);
	T_EQ_INT(metrics_http(m, slice_cstr("/other"), b, &(const char *){""}),
	    404, "other path: 404");
	metrics_free(m);
	metrics_free(NULL);
	buf_free(b);
	buf_free(small);
}

/* One exchange with the server while the loop runs: send `req`, read
 * the answer into `out` until the server closes. */
static size_t
exchange(struct ev_loop *loop, const struct net_addr *a, const char *req,
    char *out, size_t n)
{
	size_t got = 0;
	int fd, r;

	r = net_tcp_connect(a, &fd);
	if (r != 0 && r != E_AGAIN)
		return 0;
	for (int i = 0; i < 5; i++)	/* connect completes */
		(void)ev_run_once(loop, 10);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		close(fd);
		return 0;
	}
	for (int i = 0; i < 200 && got < n - 1; i++) {
		ssize_t k;

		(void)ev_run_once(loop, 10);
		k = recv(fd, out + got, n - 1 - got, MSG_DONTWAIT);
		if (k == 0)
			break;
		if (k > 0)
			got += (size_t)k;
	}
	out[got] = '\0';
	close(fd);
	return got;
}

static void
server(void)
{
	struct ev_loop *loop = ev_new(NULL);
	struct metrics *m = metrics_new();
	struct httpd_conf hc;
	struct httpd_stats st;
	struct httpd *h;
	struct net_addr a;
	char out[8192];
	int err, fd;

	memset(&hc, 0, sizeof(hc));
	hc.timeout_ms = 1000;
	if (loop == NULL || m == NULL ||
	    net_addr_parse(slice_cstr("127.0.0.1:0"), &hc.addr) != 0 ||
	    metrics_add(m, good, NULL) != 0) {
		T_OK(0, "set-up");
		return;
	}
	h = httpd_new(loop, &hc, metrics_http, m, NULL, &err);
	T_OK(h != NULL && httpd_local(h, &a) == 0, "listening");
	if (h == NULL)
		return;
	exchange(loop, &a, "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n",
	    out, sizeof(out));
	T_OK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 &&
	    strstr(out, "Content-Type: text/plain; version=0.0.4") != NULL &&
	    strstr(out, "\r\n\r\n# HELP x_packets_total") != NULL,
	    "GET /metrics (query ignored): 200 and the scrape");
	exchange(loop, &a, "GET / HTTP/1.0\r\n\r\n", out, sizeof(out));
	T_OK(strncmp(out, "HTTP/1.1 404 ", 13) == 0, "GET /: 404");
	exchange(loop, &a, "DELETE /metrics HTTP/1.1\r\n\r\n", out,
	    sizeof(out));
	T_OK(strncmp(out, "HTTP/1.1 405 ", 13) == 0 &&
	    strstr(out, "Allow: GET, HEAD\r\n") != NULL, "DELETE: 405");
	exchange(loop, &a, "hello\n\n", out, sizeof(out));
	T_OK(strncmp(out, "HTTP/1.1 400 ", 13) == 0, "garbage: 400");
	/* Silent client: closed at the timeout, the loop runs meanwhile. */
	fd = -1;
	if (net_tcp_connect(&a, &fd) == 0 || fd >= 0) {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;
		int closed = 0;

		for (int i = 0; i < 300 && !closed; i++) {
			(void)ev_run_once(loop, 10);
			closed = poll(&p, 1, 0) == 1 &&
			    recv(fd, &c, 1, MSG_DONTWAIT) == 0;
		}
		T_OK(closed, "a silent client is closed at the timeout");
		close(fd);
	}
	httpd_stats(h, &st);
	T_OK(st.requests == 4 && st.bad == 2 && st.timeouts >= 1,
	    "stats: %llu requests, %llu bad, %llu timeouts",
	    (unsigned long long)st.requests, (unsigned long long)st.bad,
	    (unsigned long long)st.timeouts);
	httpd_free(h);
	httpd_free(NULL);
	metrics_free(m);
	ev_free(loop);
}

static void
parser(void)
{
	static const struct {
		const char *in;
		int status;
		const char *path;
	} c[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n", 0, "/metrics" },
		{ "GET /metrics?x=1&y HTTP/1.0\n\n", 0, "/metrics" },
		{ "HEAD / HTTP/1.1\r\n\r\n", 0, "/" },
		{ "GET metrics HTTP/1.1\r\n\r\n", 400, NULL },
		{ "GET /metrics HTTP/2\r\n\r\n", 400, NULL },
		{ "GET /metrics\r\n\r\n", 400, NULL },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400, NULL },
		{ "get /metrics HTTP/1.1\r\n\r\n", 405, NULL },
		{ "PUT /metrics HTTP/1.1\r\n\r\n", 405, NULL },
		{ "", 400, NULL },
	};
	struct httpd_req r;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int st = httpd_parse_head(slice_cstr(c[i].in), &r);

		T_OK(st == c[i].status && (c[i].path == NULL ||
		    slice_eq_cstr(r.path, c[i].path)), "parse %zu: %d", i, st);
	}
	T_EQ_INT(httpd_head_end(slice_cstr("GET / HTTP/1.1\r\nA: b\r\n\r\nX")),
	    24, "head end: CRLF CRLF");
	T_EQ_INT(httpd_head_end(slice_cstr("GET / HTTP/1.1\n\n")), 16,
	    "head end: LF LF");
	T_EQ_INT(httpd_head_end(slice_cstr("GET / HTTP/1.1\r\n\r")), -1,
	    "head not complete");
}

int
main(void)
{
	registry();
	parser();
	server();
	return t_done();
}
