/* secfile.h - files that hold secrets: key logs opened safely, key files checked. */
#ifndef SBK_SECFILE_H
#define SBK_SECFILE_H

#include <stddef.h>

#include "base/err.h"

/*
 * Open `path` for appending secrets (SRTP key lines, TLS key logs). The
 * file is created 0600 if missing; an existing one must be a regular file
 * owned by the effective user, and is reset to 0600. A symbolic link as
 * the last component is refused (O_NOFOLLOW), so a link planted where a key
 * log will go cannot redirect the keys. Returns 0 and a descriptor in *fd
 * (the caller closes it), or E_IO (errno set: ELOOP for a link), E_PERM
 * (another user's file) or E_INVAL (not a regular file), with the reason
 * in `why`.
 */
int secfile_append(const char *path, int *fd, char *why, size_t whysz) WUR;

/*
 * Check a private key file before it is used: it must be a regular file
 * that group and others cannot read or write. Returns 0, E_PERM (mode too
 * open: the reason in `why` names the mode), or E_IO (stat failed, errno
 * set).
 */
int secfile_check_private(const char *path, char *why, size_t whysz) WUR;

#endif
