/* secfile.c - files that hold secrets: key logs opened safely, key files checked. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/secfile.h"

int
secfile_append(const char *path, int *fd, char *why, size_t whysz)
{
	struct stat st;
	int f, e;

	f = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC
	    | O_NOCTTY | O_NONBLOCK, 0600);
	if (f < 0) {
		e = errno;
		sbk_why(why, whysz, "%s", e == ELOOP ?
		    "a symbolic link: refused for a file of keys" :
		    strerror(e));
		errno = e;
		return E_IO;
	}
	if (fstat(f, &st) != 0) {
		e = errno;
		sbk_why(why, whysz, "%s", strerror(e));
		close(f);
		errno = e;
		return E_IO;
	}
	if (!S_ISREG(st.st_mode)) {
		sbk_why(why, whysz, "not a regular file");
		close(f);
		return E_INVAL;
	}
	if (st.st_uid != geteuid()) {
		sbk_why(why, whysz, "owned by uid %u, not by us: refused for a "
		    "file of keys", (unsigned)st.st_uid);
		close(f);
		return E_PERM;
	}
	/* An existing file may have looser bits: keys are secrets. */
	if ((st.st_mode & 07777) != 0600 && fchmod(f, 0600) != 0) {
		e = errno;
		sbk_why(why, whysz, "chmod 0600: %s", strerror(e));
		close(f);
		errno = e;
		return E_IO;
	}
	/* O_NONBLOCK only guarded the open (a FIFO would block it). */
	if ((e = fcntl(f, F_GETFL)) < 0 ||
	    fcntl(f, F_SETFL, e & ~O_NONBLOCK) != 0) {
		e = errno;
		sbk_why(why, whysz, "%s", strerror(e));
		close(f);
		errno = e;
		return E_IO;
	}
	*fd = f;
	return 0;
}

int
secfile_check_private(const char *path, char *why, size_t whysz)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		int e = errno;

		sbk_why(why, whysz, "%s", strerror(e));
		errno = e;
		return E_IO;
	}
	if ((st.st_mode & 077) != 0) {
		sbk_why(why, whysz, "mode %04o: group or others can read "
		    "the private key (chmod 600)",
		    (unsigned)(st.st_mode & 07777));
		return E_PERM;
	}
	return 0;
}
