/* test_proxy_auth.c - digest authentication and bans wired into the proxy. */
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "sip/digest.h"
#include "sip/sipterm.h"
#include "t.h"

/*
 * The whole of sip-tls-term (lib/sip/sipterm: TLS, flows, proxy with the
 * built-in registrar, --auth, bans) in this process; a forked child is the
 * phone, over real TLS on loopback. The child writes one line per check
 * ("1 name" or "0 name") into a pipe; the parent runs the loop until the
 * child is done, then turns the lines into TAP.
 */

static char dir[] = "/tmp/sbk-test-proxy-auth-XXXXXX";
static char cert[300], key[300], creds[300];
static struct net_addr listen_at;
static int check_fd;

static int
mk_cert(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	FILE *f;
	int ok = 0;

	if (pk == NULL || x == NULL)
		goto out;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, pk);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"gw", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (!X509_sign(x, pk, EVP_sha256()) || (f = fopen(cert, "w")) == NULL)
		goto out;
	PEM_write_X509(f, x);
	fclose(f);
	if ((f = fopen(key, "w")) == NULL)
		goto out;
	PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
	fclose(f);
	chmod(key, 0600);
	ok = 1;
out:
	X509_free(x);
	EVP_PKEY_free(pk);
	return ok;
}

static int
mk_creds(void)
{
	static const char *users[][2] = { { "alice", "alice-pw" },
	    { "bob", "bob-pw" } };
	FILE *f = fopen(creds, "w");
	char hex[65];
	size_t i;
	int a;

	if (f == NULL)
		return 0;
	for (i = 0; i < 2; i++)
		for (a = 0; a < DIGEST_NALG; a++)
			if (digest_ha1_hex((enum digest_alg)a,
			    slice_cstr(users[i][0]), SLICE_LIT("lab"),
			    slice_cstr(users[i][1]), hex, sizeof(hex)) == 0)
				fprintf(f, "%s:lab:%s\n", users[i][0], hex);
	return fclose(f) == 0;
}

/* ---- the phone (child) ---- */

struct phone {
	int fd;
	SSL *ssl;
	unsigned cseq;
	char sent[4096];	/* the last request */
	int nsent;
	char last[4096];	/* the last response */
};

static void
check(int ok, const char *name)
{
	char line[200];
	int n = snprintf(line, sizeof(line), "%d %s\n", ok ? 1 : 0, name);

	if (n > 0 && write(check_fd, line, (size_t)n) < 0)
		_exit(2);
}

static int
phone_open(struct phone *p, SSL_CTX *ctx)
{
	struct timeval tv = { 3, 0 };

	memset(p, 0, sizeof(*p));
	if ((p->fd = socket(listen_at.u.sa.sa_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(p->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(p->fd, &listen_at.u.sa, listen_at.len) != 0)
		return -1;
	p->ssl = SSL_new(ctx);
	SSL_set_fd(p->ssl, p->fd);
	return SSL_connect(p->ssl) == 1 ? 0 : -1;
}

static void
phone_close(struct phone *p)
{
	if (p->ssl != NULL)
		SSL_free(p->ssl);
	if (p->fd > 0)
		close(p->fd);
	p->ssl = NULL;
	p->fd = -1;
}

/* Send `n` bytes, read the answer: its code, 0 if the connection closed. */
static int
phone_send(struct phone *p, const char *m, int n)
{
	size_t got = 0;
	int r;

	if (n <= 0 || SSL_write(p->ssl, m, n) != n)
		return 0;
	p->last[0] = '\0';
	while (got < sizeof(p->last) - 1 && strstr(p->last, "\r\n\r\n") ==
	    NULL) {
		r = SSL_read(p->ssl, p->last + got, (int)(sizeof(p->last) - 1 -
		    got));
		if (r <= 0)
			return 0;
		got += (size_t)r;
		p->last[got] = '\0';
	}
	return strncmp(p->last, "SIP/2.0 ", 8) == 0 ? atoi(p->last + 8) : -1;
}

/* Send a REGISTER (To: `to`, From: `user`), read the answer: its code,
 * 0 if the connection closed. `auth`: an Authorization value or NULL. */
static int
phone_register(struct phone *p, const char *user, const char *to,
    const char *contact, const char *auth)
{
	char *m = p->sent;
	int n;

	p->cseq++;
	n = snprintf(m, sizeof(p->sent), "REGISTER sip:lab SIP/2.0\r\n"
	    "Via: SIP/2.0/TLS 127.0.0.1:5099;branch=z9hG4bKu%u\r\n"
	    "From: <sip:%s@lab>;tag=1\r\nTo: <sip:%s@lab>\r\n"
	    "Call-ID: %s-reg\r\nCSeq: %u REGISTER\r\n%s%s%s"
	    "Contact: %s\r\nContent-Length: 0\r\n\r\n", p->cseq, user, to,
	    user, p->cseq, auth != NULL ? "Authorization: " : "",
	    auth != NULL ? auth : "", auth != NULL ? "\r\n" : "", contact);
	if (n <= 0 || (size_t)n >= sizeof(p->sent))
		return 0;
	p->nsent = n;
	return phone_send(p, m, n);
}

/* The Authorization answering the SHA-256 challenge in p->last. */
static int
answer(const struct phone *p, const char *user, const char *pw, char *out,
    size_t n)
{
	const char *c = strstr(p->last, "algorithm=SHA-256, nonce=\"");
	char nonce[DIGEST_NONCE_LEN + 1], ha1[65], resp[65], v[1024];
	struct digest_params *dp = malloc(sizeof(*dp));
	int ok = 0;

	if (c == NULL || dp == NULL)
		goto out;
	c += strlen("algorithm=SHA-256, nonce=\"");
	if (strlen(c) < DIGEST_NONCE_LEN)
		goto out;
	memcpy(nonce, c, DIGEST_NONCE_LEN);
	nonce[DIGEST_NONCE_LEN] = '\0';
	snprintf(v, sizeof(v), "Digest username=\"%s\", realm=\"lab\", "
	    "nonce=\"%s\", uri=\"sip:lab\", response=\"%064d\", "
	    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c0ffee\"",
	    user, nonce, 0);
	if (digest_parse(slice_cstr(v), dp, NULL, 0) != 0 ||
	    digest_ha1_hex(DIGEST_SHA256, slice_cstr(user), SLICE_LIT("lab"),
	    slice_cstr(pw), ha1, sizeof(ha1)) != 0 ||
	    digest_response_hex(slice_cstr(ha1), SLICE_LIT("REGISTER"), dp,
	    resp, sizeof(resp)) != 0)
		goto out;
	snprintf(out, n, "Digest username=\"%s\", realm=\"lab\", "
	    "nonce=\"%s\", uri=\"sip:lab\", response=\"%s\", "
	    "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c0ffee\"",
	    user, nonce, resp);
	ok = 1;
out:
	free(dp);
	return ok;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Count "Contact: " lines in the last answer. */
static int
contacts(const struct phone *p)
{
	const char *s = p->last;
	int n = 0;

	while ((s = strstr(s, "\r\nContact: ")) != NULL) {
		n++;
		s++;
	}
	return n;
}

static void
phone_main(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	struct phone a, b;
	char auth[1200];

	if (phone_open(&a, ctx) != 0) {
		check(0, "connect");
		return;
	}
	check(phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", NULL)
	    == 401, "no credentials: 401");
	check(strstr(a.last, "WWW-Authenticate: Digest realm=\"lab\", "
	    "qop=\"auth\", algorithm=MD5") != NULL, "an MD5 challenge too");
	check(answer(&a, "alice", "alice-pw", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth)
	    == 200, "the right password: 200");
	check(contacts(&a) == 1, "alice: one binding");
	{
		char x[65];
		check(answer(&a, "alice", "alice-pw", x, sizeof(x)) == 0,
		    "no challenge in a 200");
	}
	{
		char again[4096];
		int n = a.nsent;

		memcpy(again, a.sent, (size_t)n);
		int code = phone_send(&a, again, n);

		/* Past authentication, the registrar's own answer to an
		 * old CSeq (RFC 3261 §10.3 step 7), not a challenge. */
		check(code > 0 && code != 401,
		    "a retransmission (same nc) is not a replay");
		/* The same credentials on a new transaction are. */
		check(phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>",
		    auth) == 401, "a new transaction, the same nc: 401");
	}
	/* bob, authenticated, for alice's address and her bindings. */
	if (phone_open(&b, ctx) != 0) {
		check(0, "bob connects");
		return;
	}
	check(phone_register(&b, "bob", "alice", "*\r\nExpires: 0", NULL) ==
	    401 && answer(&b, "bob", "bob-pw", auth, sizeof(auth)) &&
	    phone_register(&b, "bob", "alice", "*\r\nExpires: 0", auth) == 403,
	    "bob's Contact: * for alice: 403");
	check(phone_register(&b, "bob", "bob", "<sip:b1@10.0.0.2>", NULL) ==
	    401 && answer(&b, "bob", "bob-pw", auth, sizeof(auth)) &&
	    phone_register(&b, "bob", "bob", "<sip:b1@10.0.0.2>", auth) == 200,
	    "bob registers himself");
	check(phone_register(&b, "bob", "bob", "*\r\nExpires: 0", NULL) ==
	    401 && answer(&b, "bob", "bob-pw", auth, sizeof(auth)) &&
	    phone_register(&b, "bob", "bob", "*\r\nExpires: 0", auth) == 200 &&
	    contacts(&b) == 0, "bob's Contact: * removes his own");
	phone_close(&b);
	/* alice's binding survived: a refresh lists it with the new one. */
	check(phone_register(&a, "alice", "alice", "<sip:a2@10.0.0.1>", NULL)
	    == 401 && answer(&a, "alice", "alice-pw", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a2@10.0.0.1>", auth) ==
	    200 && contacts(&a) == 2, "alice's binding is still there");
	/* Stale: the nonce lifetime is 1 s. */
	check(phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", NULL)
	    == 401, "a challenge");
	sleep_ms(2100);
	check(answer(&a, "alice", "alice-pw", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth) ==
	    401 && strstr(a.last, "stale=true") != NULL,
	    "an old nonce: 401 stale=true");
	check(answer(&a, "alice", "alice-pw", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth) ==
	    200, "the fresh nonce: 200");
	/* Wrong passwords: with the replay above, 4 failures ban the
	 * source (127.0.0.1). */
	check(phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", NULL)
	    == 401 && answer(&a, "alice", "guess1", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth) ==
	    401, "a wrong password: 401");
	check(answer(&a, "alice", "guess2", auth, sizeof(auth)) &&
	    phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth) ==
	    401, "another: 401");
	(void)answer(&a, "alice", "guess3", auth, sizeof(auth));
	(void)phone_register(&a, "alice", "alice", "<sip:a1@10.0.0.1>", auth);
	{
		char x;
		check(SSL_read(a.ssl, &x, 1) <= 0, "the third: banned, closed");
	}
	phone_close(&a);
	check(phone_open(&b, ctx) != 0, "banned: a new connection refused");
	phone_close(&b);
	sleep_ms(1600);
	check(phone_open(&b, ctx) == 0 && phone_register(&b, "alice", "alice",
	    "<sip:a1@10.0.0.1>", NULL) == 401, "the ban ends");
	phone_close(&b);
	SSL_CTX_free(ctx);
}

/* ---- the gateway (parent) ---- */

static pid_t child;

static void
bound(void *arg, const char *what, int fd)
{
	(void)arg;
	if (strcmp(what, "listening tls") == 0)
		if (net_local_addr(fd, &listen_at) != 0)
			memset(&listen_at, 0, sizeof(listen_at));
}

static void
poll_child(struct ev_loop *loop, uint64_t id, void *arg)
{
	int *status = arg;

	(void)id;
	if (waitpid(child, status, WNOHANG) == child) {
		ev_stop(loop);
		return;
	}
	if (ev_timer_add(loop, 20, poll_child, arg) <= 0)
		ev_stop(loop);
}

static void
giveup(struct ev_loop *loop, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	kill(child, SIGKILL);
	ev_stop(loop);
}

int
main(void)
{
	struct sipterm_conf c;
	struct sipterm_fail f;
	struct ev_loop *loop;
	struct sipterm *st;
	int pfd[2], status = -1;
	char lines[8192], *s, *nl;
	ssize_t n;
	size_t got = 0;

	T_OK(mkdtemp(dir) != NULL, "temp dir");
	snprintf(cert, sizeof(cert), "%s/gw.pem", dir);
	snprintf(key, sizeof(key), "%s/gw.key", dir);
	snprintf(creds, sizeof(creds), "%s/creds", dir);
	T_OK(mk_cert() && mk_creds(), "certificate and credentials");

	memset(&c, 0, sizeof(c));
	c.tls.certs[0].cert = cert;
	c.tls.certs[0].key = key;
	c.tls.ncerts = 1;
	T_EQ_INT(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &c.listen[0]), 0,
	    "listen");
	c.nlisten = 1;
	T_EQ_INT(net_addr_parse(SLICE_LIT("127.0.0.1:0"), &c.proxy.inside), 0,
	    "inside");
	c.proxy.reach = PROXY_REGISTRAR;
	c.proxy.auth_nonce_s = 1;
	c.auth_file = creds;
	c.auth_realm = "lab";
	c.limits = (struct srclimit_conf){ 64, 0, 0, 4, 60000, 1500 };

	loop = ev_new(&status);
	T_OK(loop != NULL, "loop");
	st = sipterm_new(loop, &c, NULL, bound, NULL, &f);
	T_OK(st != NULL, "sipterm_new (step %d, err %d)", (int)f.step, f.err);
	if (st == NULL)
		return t_done();
	T_OK(pipe(pfd) == 0, "pipe");
	if ((child = fork()) == 0) {
		close(pfd[0]);
		check_fd = pfd[1];
		/* A refused connection is written to once, by the handshake. */
		signal(SIGPIPE, SIG_IGN);
		phone_main();
		_exit(0);
	}
	close(pfd[1]);
	T_OK(ev_timer_add(loop, 20, poll_child, &status) > 0 &&
	    ev_timer_add(loop, 30000, giveup, NULL) > 0, "timers");
	T_EQ_INT(sipterm_run(st), 0, "run");
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "phone exited");
	while (got < sizeof(lines) - 1 && (n = read(pfd[0], lines + got,
	    sizeof(lines) - 1 - got)) > 0)
		got += (size_t)n;
	lines[got] = '\0';
	close(pfd[0]);
	T_OK(strstr(lines, "the ban ends") != NULL, "every check ran");
	for (s = lines; (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		T_OK(s[0] == '1', "%s", s + 2);
	}
	sipterm_free(st);
	ev_free(loop);
	unlink(cert);
	unlink(key);
	unlink(creds);
	rmdir(dir);
	return t_done();
}
