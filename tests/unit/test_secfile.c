/* test_secfile.c - unit tests for files of secrets (lib/base/secfile):
 * 0600 on create and reset, no symbolic link, no other user's file, no
 * FIFO, and the private key mode check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/secfile.h"
#include "t.h"

static char dir[PATH_MAX];

static const char *
path(const char *name)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static unsigned
mode_of(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 01;
}

static void
test_append(void)
{
	char why[160], got[64];
	int fd = -1, rfd;
	ssize_t n;

	T_EQ_INT(secfile_append(path("new.log"), &fd, why, sizeof(why)), 0,
	    "a new file opens");
	T_EQ_INT(mode_of(path("new.log")), 0600, "and is created 0600");
	T_OK(fd >= 0 && write(fd, "one\n", 4) == 4, "it takes a write");
	close(fd);
	/* An existing 0644 file: appended to, and reset to 0600. */
	chmod(path("new.log"), 0644);
	T_EQ_INT(secfile_append(path("new.log"), &fd, why, sizeof(why)), 0,
	    "an existing file of ours opens");
	T_EQ_INT(mode_of(path("new.log")), 0600, "its 0644 reset to 0600");
	T_OK(fd >= 0 && write(fd, "two\n", 4) == 4, "the second write");
	close(fd);
	rfd = open(path("new.log"), O_RDONLY);
	n = rfd >= 0 ? read(rfd, got, sizeof(got)) : -1;
	T_EQ_MEM(got, n > 0 ? (size_t)n : 0, "one\ntwo\n", 8,
	    "appended, not truncated");
	if (rfd >= 0)
		close(rfd);
}

static void
test_refused(void)
{
	char why[160] = "", target[PATH_MAX + 64];
	int fd = -1, r;

	/* A link planted where the key log goes, to a file an attacker
	 * wants written (or read back): refused, the target untouched. */
	snprintf(target, sizeof(target), "%s", path("target"));
	T_OK(symlink(target, path("link.log")) == 0, "a symlink");
	r = secfile_append(path("link.log"), &fd, why, sizeof(why));
	T_EQ_INT(r, E_IO, "a symbolic link is refused");
	T_OK(strstr(why, "symbolic link") != NULL, "and says so: %s", why);
	T_EQ_INT(mode_of(path("target")), 01, "its target not created");

	T_OK(mkfifo(path("fifo"), 0600) == 0, "a FIFO");
	r = secfile_append(path("fifo"), &fd, why, sizeof(why));
	T_OK(r == E_INVAL || r == E_IO, "a FIFO is refused, not blocked on "
	    "(%d: %s)", r, why);

	T_OK(mkdir(path("d"), 0700) == 0, "a directory");
	r = secfile_append(path("d"), &fd, why, sizeof(why));
	T_OK(r == E_IO || r == E_INVAL, "a directory is refused");

	if (geteuid() == 0) {
		int f = open(path("theirs.log"), O_CREAT | O_WRONLY, 0644);

		T_OK(f >= 0 && fchown(f, 65534, 65534) == 0,
		    "a file of another user");
		if (f >= 0)
			close(f);
		r = secfile_append(path("theirs.log"), &fd, why, sizeof(why));
		T_EQ_INT(r, E_PERM, "another user's file is refused");
		T_OK(strstr(why, "owned by uid 65534") != NULL, "why: %s",
		    why);
		T_EQ_INT(mode_of(path("theirs.log")), 0644,
		    "and its mode left alone");
	} else {
		T_OK(1, "# skip another user's file: needs root");
	}
}

static void
test_private(void)
{
	char why[160] = "";
	int f = open(path("key.pem"), O_CREAT | O_WRONLY, 0600);

	if (f >= 0)
		close(f);
	T_EQ_INT(secfile_check_private(path("key.pem"), why, sizeof(why)), 0,
	    "a 0600 key passes");
	chmod(path("key.pem"), 0640);
	T_EQ_INT(secfile_check_private(path("key.pem"), why, sizeof(why)),
	    E_PERM, "a 0640 key does not");
	T_OK(strstr(why, "0640") != NULL, "why names the mode: %s", why);
	chmod(path("key.pem"), 0604);
	T_EQ_INT(secfile_check_private(path("key.pem"), why, sizeof(why)),
	    E_PERM, "nor a 0604 one");
	T_EQ_INT(secfile_check_private(path("none.pem"), why, sizeof(why)),
	    E_IO, "a missing key is E_IO");
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test_secfile.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		T_OK(0, "temporary directory: %s", strerror(errno));
		return t_done();
	}
	test_append();
	test_refused();
	test_private();
	{
		const char *names[] = { "new.log", "link.log", "fifo", "target",
		    "theirs.log", "key.pem", "d" };

		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			(void)remove(path(names[i]));
		(void)rmdir(dir);
	}
	return t_done();
}
