/* ng_ctl.h - an ng control client: requests from KEY=VALUE words, and one
 * blocking request/reply exchange on the ng retry schedule. */
#ifndef SBK_NG_CTL_H
#define SBK_NG_CTL_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/slice.h"

/*
 * One request member, from a command-line word:
 *   KEY=VALUE    a string          (call-id=abc)
 *   KEY=@FILE    a string read from FILE (sdp=@offer.sdp): `at_file` is
 *                set and `val` names the file; the caller reads it and
 *                points `val` at its bytes before encoding
 *   KEY:=N       an integer        (delete-delay:=0)
 *   KEY[]=VALUE  an element of the list KEY (flags[]=trust-address)
 * Slices borrow the word (or whatever the caller points them at).
 */
enum ng_arg_kind {
	NG_ARG_STR = 0,
	NG_ARG_INT,
	NG_ARG_LIST,
};

struct ng_arg {
	struct slice key, val;
	enum ng_arg_kind kind;
	int at_file;
};

/* Parse `word` into `a`. Returns 0 or E_SYNTAX (no '=', empty key). */
int ng_arg_parse(struct ng_arg *a, struct slice word) WUR;
/* A string member `key`=`val` (for arguments given by position). */
void ng_arg_str(struct ng_arg *a, const char *key, struct slice val);

/*
 * Append one bencoded dictionary to `out`: the members `a[0..n-1]` in
 * their order (every element of a list where its key first appears), then
 * `command`: `cmd` unless `cmd` is NULL. Returns 0, E_SYNTAX (a KEY:=N
 * whose value is not an integer; its index in *bad when `bad` is not
 * NULL), E_BIG (the buf's cap) or E_NOMEM; `out` is left as it was on
 * failure.
 */
int ng_args_encode(struct buf *out, const char *cmd, const struct ng_arg *a,
    size_t n, size_t *bad) WUR;

/*
 * Send datagram `req` on connected UDP socket `fd` (blocking or not), at
 * most `tries` times `timeout_ms` apart, until a datagram starting with
 * `cookie` and a space arrives; that reply replaces the contents of `rep`
 * (whose cap should be at least NG_DGRAM_MAX). Other datagrams and
 * ECONNREFUSED (nobody listening yet) are ignored. Returns 0, E_TIMEOUT
 * (no reply after the last try), E_INVAL or E_IO (errno set).
 */
int ng_exchange(int fd, struct slice req, struct slice cookie,
    unsigned tries, unsigned timeout_ms, struct buf *rep) WUR;

#endif
