/* test_proc.c - unit tests for child processes: find, spawn, status. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "gw/proc.h"
#include "t.h"

/* Everything the child writes to the pipe, up to EOF (5 s at most). */
static size_t
slurp(int fd, char *out, size_t n)
{
	size_t len = 0;
	ssize_t r;
	struct pollfd pf = { .fd = fd, .events = POLLIN };

	while (len + 1 < n && poll(&pf, 1, 5000) > 0) {
		r = read(fd, out + len, n - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	out[len] = '\0';
	return len;
}

static void
test_find(void)
{
	char *p;
	int e = 0;

	p = proc_find("/no/such/prog", NULL, NULL, &e);
	T_EQ_STR(p, "/no/such/prog", "find: a path is taken as it is");
	free(p);
	p = proc_find("sh", NULL, "/nonexistent::/bin", &e);
	T_EQ_STR(p, "/bin/sh", "find: on the path, empty entries skipped");
	free(p);
	p = proc_find("env", "/usr/bin", "/bin", &e);
	T_EQ_STR(p, "/usr/bin/env", "find: the directory comes first");
	free(p);
	p = proc_find("sh", "/nonexistent", "/bin", &e);
	T_EQ_STR(p, "/bin/sh", "find: directory without it: the path");
	free(p);
	e = 0;
	p = proc_find("no-such-program-sbk", "/bin", "/bin:/usr/bin", &e);
	T_OK(p == NULL && e == E_NOTFOUND, "find: not found");
	e = 0;
	p = proc_find("passwd", "/etc", NULL, &e);
	T_OK(p == NULL && e == E_NOTFOUND, "find: not executable");
	p = proc_self_dir();
	T_OK(p != NULL && strstr(p, "tests") != NULL,
	    "self dir: the test's directory (%s)", p != NULL ? p : "NULL");
	free(p);
}

static void
test_spawn(void)
{
	/* no shell between: dash clears the signal mask it starts with */
	char *const ok[] = { "/bin/grep", "^SigBlk", "/proc/self/status",
	    NULL };
	char *const three[] = { "/bin/sh", "-c", "exit 3", NULL };
	char *const bad[] = { "/no/such/prog", NULL };
	char *const sleeper[] = { "/bin/sleep", "30", NULL };
	struct proc_opts po = { NULL, 1, 0, NULL };
	char out[512], st[64];
	sigset_t mask;
	pid_t pid;
	int fd, xe, status;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);	/* 1 */
	sigaddset(&mask, SIGUSR1);	/* 10 */
	po.mask = &mask;
	T_EQ_INT(proc_spawn(ok, &po, &pid, &fd, &xe), 0, "spawn: sh");
	T_OK(pid > 0 && fd >= 0, "spawn: pid and stdout");
	slurp(fd, out, sizeof(out));
	close(fd);
	/* the kernel's view: HUP and USR1 blocked, nothing else */
	T_EQ_STR(out, "SigBlk:\t0000000000000201\n",
	    "spawn: stdout piped, the mask kept across exec");
	T_EQ_INT(waitpid(pid, &status, 0), pid, "spawn: waited");
	T_OK(proc_status_str(status, st, sizeof(st)) == 0, "status str");
	T_EQ_STR(st, "exited with status 0", "status: success");
	po = (struct proc_opts){ NULL, 0, 0, NULL };
	T_EQ_INT(proc_spawn(three, &po, &pid, NULL, &xe), 0, "spawn: exit 3");
	T_EQ_INT(waitpid(pid, &status, 0), pid, "spawn: waited");
	T_OK(proc_status_str(status, st, sizeof(st)) == 0, "status str");
	T_EQ_STR(st, "exited with status 3", "status: exit code");

	po = (struct proc_opts){ NULL, 0, SIGTERM, NULL };
	T_EQ_INT(proc_spawn(bad, &po, &pid, NULL, &xe), E_NOTFOUND,
	    "spawn: missing program");
	T_OK(pid == 0 && xe == ENOENT, "spawn: exec's errno (%d)", xe);
	errno = 0;
	T_OK(waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD,
	    "spawn: the failed child is reaped");

	T_EQ_INT(proc_spawn(sleeper, &po, &pid, NULL, &xe), 0, "spawn: sleep");
	T_EQ_INT(kill(pid, SIGKILL), 0, "kill");
	T_EQ_INT(waitpid(pid, &status, 0), pid, "waited");
	T_OK(proc_status_str(status, st, sizeof(st)) == 0, "status str");
	T_EQ_STR(st, "killed by signal 9 (Killed)", "status: signal");
	T_EQ_INT(proc_status_str(status, st, 8), E_BIG, "status: too small");
	po = (struct proc_opts){ NULL, 1, 0, NULL };
	T_EQ_INT(proc_spawn(ok, &po, &pid, NULL, &xe), E_IO,
	    "spawn: pipe_stdout needs outfd");
}

/* env_default reaches the child unless the name is set already. */
static void
test_env_default(void)
{
	char *const env[] = { "/usr/bin/env", NULL };
	struct proc_opts po = { NULL, 1, 0, "SBK_PROC_TEST=one" };
	char out[65536];
	pid_t pid;
	int fd, xe, status;

	unsetenv("SBK_PROC_TEST");
	T_EQ_INT(proc_spawn(env, &po, &pid, &fd, &xe), 0, "env: spawn");
	slurp(fd, out, sizeof(out));
	close(fd);
	T_EQ_INT(waitpid(pid, &status, 0), pid, "env: waited");
	T_OK(strstr(out, "\nSBK_PROC_TEST=one\n") != NULL ||
	    strncmp(out, "SBK_PROC_TEST=one\n", 18) == 0,
	    "env: the default is added");
	T_OK(strstr(out, "PATH=") != NULL, "env: the rest is kept");
	T_OK(getenv("SBK_PROC_TEST") == NULL, "env: not in the caller's");
	setenv("SBK_PROC_TEST", "two", 1);
	T_EQ_INT(proc_spawn(env, &po, &pid, &fd, &xe), 0, "env: spawn again");
	slurp(fd, out, sizeof(out));
	close(fd);
	T_EQ_INT(waitpid(pid, &status, 0), pid, "env: waited");
	T_OK(strstr(out, "SBK_PROC_TEST=two") != NULL &&
	    strstr(out, "SBK_PROC_TEST=one") == NULL,
	    "env: a value set already wins");
	unsetenv("SBK_PROC_TEST");
}

int
main(void)
{
	test_find();
	test_spawn();
	test_env_default();
	return t_done();
}
