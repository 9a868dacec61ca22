/* proc.c - child processes for a supervisor: find, spawn, describe. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/buf.h"
#include "gw/proc.h"

/* `dir`/`name` if executable: a new string; NULL otherwise. */
static char *
try_dir(struct slice dir, const char *name, int *err)
{
	struct buf *b = buf_new(PATH_MAX);
	char *r = NULL;

	if (b == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	if (dir.len > 0 && buf_append_slice(b, dir) == 0 &&
	    buf_printf(b, "/%s", name) == 0 &&
	    access(buf_str(b), X_OK) == 0 &&
	    (r = strdup(buf_str(b))) == NULL)
		*err = E_NOMEM;
	buf_free(b);
	return r;
}

char *
proc_find(const char *name, const char *dir, const char *path, int *err)
{
	struct slice p = slice_cstr(path), d;
	char *r;
	int e = 0;

	if (name == NULL || name[0] == '\0') {
		*err = E_NOTFOUND;
		return NULL;
	}
	if (strchr(name, '/') != NULL) {
		if ((r = strdup(name)) == NULL)
			*err = E_NOMEM;
		return r;
	}
	if (dir != NULL && (r = try_dir(slice_cstr(dir), name, &e)) != NULL)
		return r;
	while (e == 0 && p.len > 0) {
		(void)slice_split(&p, ':', &d);
		if ((r = try_dir(d, name, &e)) != NULL)
			return r;
	}
	*err = e != 0 ? e : E_NOTFOUND;
	return NULL;
}

char *
proc_self_dir(void)
{
	char self[PATH_MAX], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return strdup(self[0] != '\0' ? self : "/");
}

/* In the child: only async-signal-safe calls; never returns. */
static void __attribute__((noreturn))
child(char *const argv[], char *const envp[], const struct proc_opts *o,
    pid_t parent, int out_w, int err_w)
{
	sigset_t none;
	int e = 0, s;

	sigemptyset(&none);
	for (s = 1; s < NSIG; s++)
		(void)signal(s, SIG_DFL);	/* fails for KILL, STOP: fine */
	if (o->pdeathsig != 0 &&
	    (prctl(PR_SET_PDEATHSIG, o->pdeathsig) != 0 ||
	    getppid() != parent))	/* the parent died already */
		e = errno != 0 ? errno : ESRCH;
	else if (out_w >= 0 && dup2(out_w, STDOUT_FILENO) < 0)
		e = errno;
	else if (sigprocmask(SIG_SETMASK, o->mask != NULL ? o->mask : &none,
	    NULL) != 0)
		e = errno;
	else {
		execve(argv[0], argv, envp);
		e = errno;
	}
	if (write(err_w, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

/* The caller's environment with `nv` ("NAME=VALUE") added, or NULL:
 * NAME is set already (or no memory), the environment as it is. */
static char **
env_with(const char *nv)
{
	const char *eq = strchr(nv, '=');
	size_t n = 0, len;
	char **v;

	if (eq == NULL)
		return NULL;
	len = (size_t)(eq - nv) + 1;	/* "NAME=" */
	for (; environ[n] != NULL; n++)
		if (strncmp(environ[n], nv, len) == 0)
			return NULL;
	if ((v = malloc((n + 2) * sizeof(*v))) == NULL)
		return NULL;
	memcpy(v, environ, n * sizeof(*v));
	v[n] = (char *)(uintptr_t)nv;
	v[n + 1] = NULL;
	return v;
}

int
proc_spawn(char *const argv[], const struct proc_opts *o, pid_t *pid,
    int *outfd, int *exec_err)
{
	int p[2] = { -1, -1 }, ep[2], e = 0, saved;
	pid_t parent = getpid();
	char **mine = NULL;
	ssize_t n;

	*pid = 0;
	*exec_err = 0;
	if (outfd != NULL)
		*outfd = -1;
	if (o->pipe_stdout && (outfd == NULL || pipe2(p, O_CLOEXEC) != 0))
		return E_IO;
	/* only our end non-blocking: the child's stdout stays blocking */
	if (p[0] >= 0 &&
	    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK) != 0)
		goto fail;
	if (pipe2(ep, O_CLOEXEC) != 0)
		goto fail;
	fflush(stdout);		/* not twice from the child's copy */
	if (o->env_default != NULL)
		mine = env_with(o->env_default);
	if ((*pid = fork()) < 0) {
		saved = errno;
		close(ep[0]);
		close(ep[1]);
		errno = saved;
		goto fail;
	}
	if (*pid == 0)
		child(argv, mine != NULL ? mine : environ, o, parent, p[1],
		    ep[1]);
	free(mine);
	mine = NULL;
	close(ep[1]);
	if (p[1] >= 0)
		close(p[1]);
	/* exec closes the error pipe (close-on-exec) when it works */
	while ((n = read(ep[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (n == (ssize_t)sizeof(e)) {
		while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
			;
		*pid = 0;
		*exec_err = e;
		if (p[0] >= 0)
			close(p[0]);
		return E_NOTFOUND;
	}
	if (outfd != NULL)
		*outfd = p[0];
	return 0;
fail:
	saved = errno;
	free(mine);
	if (p[0] >= 0) {
		close(p[0]);
		close(p[1]);
	}
	errno = saved;
	return E_IO;
}

int
proc_status_str(int st, char *out, size_t n)
{
	int r;

	if (WIFEXITED(st))
		r = snprintf(out, n, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		r = snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(st),
		    strsignal(WTERMSIG(st)));
	else
		r = snprintf(out, n, "wait status 0x%x", (unsigned)st);
	return r >= 0 && (size_t)r < n ? 0 : E_BIG;
}
