/* resolve.h - the gateway's defaults that need the system: routes, ports. */
#ifndef SBK_RESOLVE_H
#define SBK_RESOLVE_H

#include <stddef.h>

#include "base/err.h"
#include "gw/gwconf.h"

/*
 * Fill in what gwconf_check() leaves to the system: `inside`, when unset,
 * becomes the local address the kernel routes to the upstream from (the
 * outside host when there is no upstream); an `ng` address with port 0
 * gets a free UDP port (the kernel picks one, srtp-bridge binds it next).
 * Returns 0, or E_IO / a gwconf_set() error with the reason in `why`
 * ("inside: ...", "ng: ...").
 */
int gw_resolve(struct gwconf *c, char *why, size_t whysz) WUR;

#endif
