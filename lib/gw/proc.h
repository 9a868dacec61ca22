/* proc.h - child processes for a supervisor: find, spawn, describe. */
#ifndef SBK_PROC_H
#define SBK_PROC_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/err.h"

/*
 * Find program `name`: as it is if it holds a '/'; else `dir`/`name` if
 * that is executable (dir may be NULL); else the first executable
 * `name` in the ':'-separated list `path` (may be NULL). Returns a new
 * string the caller frees, or NULL: E_NOTFOUND or E_NOMEM in *err.
 */
char *proc_find(const char *name, const char *dir, const char *path,
    int *err) WUR;

/* The directory of the running executable, new string; NULL if unknown. */
char *proc_self_dir(void) WUR;

struct proc_opts {
	/*
	 * The child's signal mask across exec (NULL: nothing blocked). A
	 * signal blocked here waits, pending, until the program unblocks it
	 * or reads it from a signalfd: none is lost before the program has
	 * installed its handlers.
	 */
	const sigset_t *mask;
	int pipe_stdout;	/* the child's stdout into *outfd */
	int pdeathsig;		/* sent to the child when the caller dies; 0 */
	/* "NAME=VALUE" added to the child's environment unless the caller's
	 * has NAME already; NULL: none */
	const char *env_default;
};

/*
 * Start argv[0] (a path, no $PATH search) with `argv` and the caller's
 * environment (plus o->env_default); signal dispositions are reset to the default in the child.
 * Returns 0 with the child's *pid (and, with pipe_stdout, the read end of
 * its stdout in *outfd, non-blocking, close-on-exec: the caller closes
 * it). Returns E_IO if a pipe or fork failed (errno says why), or
 * E_NOTFOUND if the program could not be run: the child is reaped
 * already and *exec_err holds exec's errno.
 */
int proc_spawn(char *const argv[], const struct proc_opts *o, pid_t *pid,
    int *outfd, int *exec_err) WUR;

/*
 * Describe wait status `st`, "exited with status N" or "killed by signal
 * N (Name)", into `out` (`n` bytes, NUL-terminated). Returns 0 or E_BIG.
 */
int proc_status_str(int st, char *out, size_t n);

#endif
