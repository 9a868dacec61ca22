/* sipterm_check.c - sip-tls-term's configuration checked, nothing bound. */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "base/secfile.h"
#include "sip/digest.h"
#include "sip/sipterm_check.h"

/* As sipterm.c's limit: a larger credentials file is refused. */

static void
tell(sipterm_check_fn *report, void *arg, const char *what, int err,
    const char *detail)
{
	if (report != NULL)
		report(arg, what, err, detail);
}

static int
first(struct sipterm_fail *f, int have, enum sipterm_step step, int err,
    int sys, const char *why)
{
	if (have != 0 || err == 0)
		return have;
	f->step = step;
	f->err = err;
	f->sys = sys;
	sbk_why(f->why, sizeof(f->why), "%s", why);
	return err;
}

/*
 * Could secfile_append() open `path`? An existing file must be a regular
 * file we may write; a new one needs a directory we may write to. Nothing
 * is created: a check must leave no trace.
 */
static int
keylog_ok(const char *path, char *why, size_t n)
{
	struct stat st;
	char *dir, *sl;
	int r = 0;

	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			sbk_why(why, n, "%s: not a regular file", path);
		else if (access(path, W_OK) != 0)
			sbk_why(why, n, "%s: %s", path, strerror(errno));
		else
			return 0;
		return E_IO;
	}
	if ((dir = strdup(path)) == NULL)
		return E_NOMEM;
	sl = strrchr(dir, '/');
	if (sl == NULL)
		(void)snprintf(dir, strlen(dir) + 1, ".");
	else if (sl == dir)
		sl[1] = '\0';
	else
		*sl = '\0';
	if (access(dir, W_OK | X_OK) != 0) {
		sbk_why(why, n, "%s: directory %s: %s", path, dir,
		    strerror(errno));
		r = E_IO;
	} else
		sbk_why(why, n, "%s: will be created", path);
	free(dir);
	return r;
}

/* Read and parse the credentials file; 0 and the entry count in *cnt. */
static int
creds_ok(const char *path, size_t *cnt, int *sys, char *why, size_t n)
{
	struct digest_creds *cr = NULL;
	int r = digest_creds_read(path, &cr, sys, why, n);

	if (r == 0) {
		*cnt = digest_creds_count(cr);
		digest_creds_free(cr);
	}
	return r;
}

int
sipterm_check(const struct sipterm_conf *conf, const struct logger *lg,
    sipterm_check_fn *report, void *arg, struct sipterm_fail *f)
{
	struct tls_conf tc = conf->tls;
	struct tls_server *ts;
	char why[256], d[300];
	size_t cnt = 0;
	int e, sys, r = 0;

	memset(f, 0, sizeof(*f));
	for (cnt = 0; cnt < tc.ncerts + tc.nsni; cnt++) {
		const char *k = cnt < tc.ncerts ? tc.certs[cnt].key :
		    tc.sni[cnt - tc.ncerts].ck.key;

		/* tls_server_new() refuses it when strict, else warns. */
		if (k == NULL || secfile_check_private(k, why, sizeof(why)) !=
		    E_PERM)
			continue;
		(void)snprintf(d, sizeof(d), "%s: %s", k, why);
		tell(report, arg, "key-mode", E_PERM, d);
		if (tc.key_mode_strict)
			r = first(f, r, SIPTERM_TLS, E_PERM, 0, d);
	}
	cnt = 0;
	/* The key log is checked on its own below: opening it would make it;
	 * the key modes above: the certificates and keys load or not. */
	tc.keylog = NULL;
	tc.key_mode_strict = 0;
	if ((ts = tls_server_new(&tc, lg, &e)) != NULL) {
		tls_server_free(ts);
		(void)snprintf(d, sizeof(d), "%zu certificate%s and key%s "
		    "load and match%s", tc.ncerts + tc.nsni,
		    tc.ncerts + tc.nsni > 1 ? "s" : "",
		    tc.ncerts + tc.nsni > 1 ? "s" : "",
		    tc.ca_file != NULL ? ", CA file loads" : "");
		tell(report, arg, "tls", 0, d);
	} else {
		(void)snprintf(d, sizeof(d), "%s", e == E_IO ?
		    "a certificate, key or CA file cannot be read" :
		    e == E_CRYPTO ? "a certificate or key is bad, or a key "
		    "does not match its certificate" : sbk_strerror(e));
		tell(report, arg, "tls", e, d);
		r = first(f, r, SIPTERM_TLS, e, 0, d);
	}
	if (conf->tls.keylog != NULL) {
		e = keylog_ok(conf->tls.keylog, why, sizeof(why));
		tell(report, arg, "tls-keylog", e, why);
		r = first(f, r, SIPTERM_TLS, e, 0, why);
	}
	if (conf->auth_file != NULL) {
		e = creds_ok(conf->auth_file, &cnt, &sys, why, sizeof(why));
		if (e == 0)
			(void)snprintf(d, sizeof(d), "%s: %zu entries",
			    conf->auth_file, cnt);
		else
			(void)snprintf(d, sizeof(d), "%s: %s%s%s",
			    conf->auth_file, sys != 0 ? strerror(sys) :
			    sbk_strerror(e), why[0] ? ": " : "", why);
		tell(report, arg, "auth", e, d);
		r = first(f, r, SIPTERM_AUTH, e, sys, why);
	}
	return r;
}
