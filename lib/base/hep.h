/* hep.h - HEPv3 (Homer capture protocol): encode, decode, send over UDP. */
#ifndef SBK_HEP_H
#define SBK_HEP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/net.h"
#include "base/slice.h"

/*
 * HEPv3 ("HEP3", sipcapture's HEP3 Network Protocol Specification): a
 * 6-byte header ("HEP3", total length, big-endian) and chunks, each
 * vendor (0: generic), type, length (header included) and data. The
 * generic chunks we write and read:
 *
 *    1 IP family (2 IPv4, 10 IPv6)   2 IP protocol (17 UDP, 6 TCP, 22 TLS)
 *    3/4 IPv4 source/destination     5/6 IPv6 source/destination
 *    7/8 source/destination port     9/10 time: seconds, microseconds
 *   11 payload type (1 SIP, 5 RTCP as JSON, 100 log)
 *   12 capture agent id              14 authentication key
 *   15 payload                       17 correlation id (a Call-ID)
 *
 * TLS has no IP protocol number: like reSIProcate's and sofia-sip's
 * agents we write 22 (IPPROTO_IDP) for SIP over TLS, as Homer expects.
 *
 * The encoder writes the chunks in the order of sngrep's fixed layout
 * (family, protocol, ports, times, type, capture id, addresses, key,
 * payload), which is where sngrep 1.x reads them, and the correlation
 * id after the payload, where it ignores it; the decoder takes any
 * order and skips unknown chunks and vendors.
 */

enum {
	HEP_IPPROTO_TCP = 6,
	HEP_IPPROTO_UDP = 17,
	HEP_IPPROTO_TLS = 22,	/* not an IP protocol: the convention */
};

enum {
	HEP_TYPE_SIP = 1,
	HEP_TYPE_RTCP_JSON = 5,
	HEP_TYPE_LOG = 100,
};

#define HEP_MAX 65535		/* the header's length field */

/* One captured message. Slices are borrowed (decode: into the input). */
struct hep_msg {
	struct net_addr src, dst;	/* the same family; ports included */
	uint8_t proto;			/* HEP_IPPROTO_* */
	uint8_t type;			/* HEP_TYPE_* */
	uint32_t sec, usec;		/* wall-clock time of the message */
	uint32_t capture_id;
	struct slice auth;		/* empty: no chunk 14 */
	struct slice payload;
	struct slice correlation;	/* empty: no chunk 17 */
};

/*
 * Encode `m` into `out` (`cap` bytes), the length in *len. E_INVAL (src
 * and dst families differ or are unset), E_BIG (over `cap` or HEP_MAX).
 */
int hep_encode(const struct hep_msg *m, uint8_t *out, size_t cap,
    size_t *len) WUR;

/*
 * Decode one HEPv3 datagram; `m`'s slices point into `in`. E_SHORT
 * (truncated header or chunk), E_SYNTAX (no "HEP3", a chunk length under
 * 6, a fixed-size chunk of the wrong size, an unknown family, no
 * payload, no addresses). Unknown chunks are skipped.
 */
int hep_decode(struct slice in, struct hep_msg *m) WUR;

/*
 * A sender: one non-blocking UDP socket towards a collector. A message
 * that does not fit the socket's buffer is dropped and counted: a
 * collector that is slow or gone never slows the caller.
 */
struct hep;

struct hep_conf {
	struct net_addr dst;		/* the collector */
	uint32_t capture_id;
	const char *auth;		/* copied; NULL: no key */
};

/*
 * Parse "udp:ADDR:PORT" (UDP is the only transport) into c->dst.
 * E_SYNTAX, E_UNSUPPORTED (tcp:, tls:, sctp:), E_RANGE (port).
 */
int hep_url_parse(const char *s, struct hep_conf *c) WUR;

/* A new sender (`c` copied), or NULL with *err (E_IO: errno, E_NOMEM). */
struct hep *hep_new(const struct hep_conf *c, int *err) WUR;
void hep_free(struct hep *h);

/*
 * Send `m` (its capture id and key are set from the configuration; time
 * 0 is filled with the clock now). 0, E_AGAIN (dropped: buffer full,
 * counted), E_BIG (does not encode, counted) or E_IO (counted).
 */
int hep_send(struct hep *h, struct hep_msg *m);

struct hep_stats {
	uint64_t sent, dropped, errors;
};
void hep_stats(const struct hep *h, struct hep_stats *st);

#endif
