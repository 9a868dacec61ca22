/* resolve.c - the gateway's defaults that need the system: routes, ports. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "base/net.h"
#include "base/slice.h"
#include "gw/resolve.h"

static int
resolve_inside(struct gwconf *c, char *why, size_t whysz)
{
	char a[NET_ADDR_STRLEN], r[256];
	struct net_addr na, src;
	int tcp, e = 0;
	const char *up = gwconf_upstream(c, &tcp);
	struct slice o = slice_cstr(gwconf_get(c, "outside")), host;

	(void)slice_split(&o, '!', &host);
	if (up != NULL) {
		if (net_addr_parse(slice_cstr(up), &na) != 0 ||
		    (e = net_route_src(&na, &src)) == E_IO) {
			sbk_why(why, whysz, "inside: %s", strerror(errno));
			return E_IO;
		}
		if (e != 0 || net_addr_format_host(&src, a, sizeof(a)) != 0) {
			sbk_why(why, whysz, "inside: no route to %s: %s", up,
			    strerror(errno));
			return E_IO;
		}
		host = slice_cstr(a);
	}
	if ((e = gwconf_set(c, slice_cstr("inside"), host, r, sizeof(r)))
	    != 0) {
		sbk_why(why, whysz, "inside: %s", r);
		return e;
	}
	return 0;
}

int
gw_resolve(struct gwconf *c, char *why, size_t whysz)
{
	char a[NET_ADDR_STRLEN], r[256];
	struct net_addr na;
	int fd = -1, e;

	if (!gwconf_is_set(c, "inside") &&
	    (e = resolve_inside(c, why, whysz)) != 0)
		return e;
	if (net_addr_parse(slice_cstr(gwconf_get(c, "ng")), &na) != 0 ||
	    net_addr_port(&na) != 0)
		return 0;
	if (net_udp_bind(&na, 0, &fd) != 0 || net_local_addr(fd, &na) != 0 ||
	    net_addr_format(&na, a, sizeof(a)) != 0) {
		sbk_why(why, whysz, "ng: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return E_IO;
	}
	close(fd);
	if ((e = gwconf_set(c, slice_cstr("ng"), slice_cstr(a), r, sizeof(r)))
	    != 0) {
		sbk_why(why, whysz, "ng: %s", r);
		return e;
	}
	return 0;
}
