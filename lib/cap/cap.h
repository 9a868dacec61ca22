/* cap.h - capture frames: libpcap I/O, link/IP/UDP/TCP decode, fragments. */
#ifndef SBK_CAP_H
#define SBK_CAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * Three parts, usable alone:
 *
 *  - cap_decode(): a pure function from one frame (link type + bytes) to a
 *    description of where its IP header, addresses, ports and UDP/TCP
 *    payload are. Every read is bounds-checked through lib/base/slice.h; the
 *    result only points into the frame it was given.
 *  - struct cap_defrag: IPv4/IPv6 fragment reassembly with hard caps on
 *    datagrams in flight and bytes per datagram, and timeouts measured in
 *    capture time (never wall-clock time).
 *  - struct cap_reader / cap_writer: pcap and pcapng input through libpcap
 *    (file or "-" for stdin), pcap output.
 *
 * cap_rewrite_udp() builds a copy of a frame whose UDP payload is replaced,
 * keeping link layer, addresses, ports, and fixing lengths and checksums.
 */

/* Link types we decode (libpcap DLT_ values, repeated to avoid the header). */
enum {
	CAP_DLT_NULL = 0,
	CAP_DLT_EN10MB = 1,
	CAP_DLT_RAW = 12,	/* Linux/most: LINKTYPE_RAW is mapped to 12 */
	CAP_DLT_RAW_BSD = 14,
	CAP_DLT_LOOP = 108,
	CAP_DLT_LINUX_SLL = 113,
	CAP_DLT_IPV4 = 228,
	CAP_DLT_IPV6 = 229,
	CAP_DLT_LINUX_SLL2 = 276,
};

#define CAP_VLAN_MAX 4		/* stacked VLAN tags we walk through */
#define CAP_IP6_EXT_MAX 8	/* IPv6 extension headers we walk through */

enum cap_kind {
	CAP_OTHER = 0,		/* not IP, or IP we do not handle: pass through */
	CAP_UDP,		/* a whole UDP datagram */
	CAP_TCP,		/* a TCP segment */
	CAP_FRAG,		/* an IP fragment: feed it to cap_defrag */
};

/* An address and port: family 4 or 6, address in network order. */
struct cap_addr {
	uint8_t family;
	uint8_t a[16];
	uint16_t port;
};

/* `a` as "ADDR:PORT" ("[ADDR]:PORT" for IPv6) into `b` (`n` bytes). */
void cap_addr_format(const struct cap_addr *a, char *b, size_t n);

/*
 * What cap_decode() found. Offsets are from the start of the frame;
 * `payload` and `frag_data` point into the frame.
 */
struct cap_pkt {
	enum cap_kind kind;
	uint8_t ipver;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_UDP, IPPROTO_TCP, ... */
	size_t l3_off;		/* the IP header */
	size_t l4_off;		/* the UDP/TCP header (CAP_UDP/CAP_TCP) */
	size_t ip_end;		/* end of the IP datagram (padding follows) */
	struct cap_addr src, dst;	/* ports 0 unless UDP/TCP */
	struct slice payload;	/* UDP/TCP payload */
	uint16_t udp_sum;	/* UDP checksum as captured (0: none, IPv4) */
	/* TCP */
	uint32_t tcp_seq;
	uint8_t tcp_flags;
	/* Fragments (CAP_FRAG): id, byte offset, more-fragments flag. */
	uint32_t frag_id;
	uint32_t frag_off;
	int frag_more;
	size_t frag_hdr_off;	/* IPv6: the fragment header; IPv4: l3_off */
	struct slice frag_data;	/* this fragment's part of the IP payload */
};

/*
 * Decode `len` bytes of a frame of link type `dlt`. Returns 0 with pkt->kind
 * set (CAP_OTHER for anything that is not UDP, TCP or an IP fragment),
 * E_SHORT when a header is cut off, E_SYNTAX when a header is malformed
 * (bad IP version, lengths that contradict each other), E_UNSUPPORTED for a
 * link type we do not know.
 */
int cap_decode(int dlt, const uint8_t *frame, size_t len,
    struct cap_pkt *pkt) WUR;

/*
 * Parse `ippayload`, the reassembled payload of an IP datagram whose header
 * was decoded into `first` (its first fragment), as UDP/TCP: fills
 * out->kind, ports, payload (pointing into `ippayload`). For IPv6 the
 * payload may still begin with extension headers after the fragment header;
 * `next` is the next-header value from the fragment header (IPv4: the
 * protocol).
 */
int cap_decode_l4(const struct cap_pkt *first, uint8_t next,
    struct slice ippayload, struct cap_pkt *out) WUR;

/* The name of a link type for messages ("ethernet", "linux-sll2"...). */
const char *cap_dlt_name(int dlt);

/* --- fragment reassembly --- */

struct cap_defrag;

/*
 * A reassembler holding at most `max_dgrams` datagrams in flight, each at
 * most `max_bytes` long, dropping a datagram `timeout_us` of capture time
 * after its first fragment. NULL: E_NOMEM.
 */
struct cap_defrag *cap_defrag_new(size_t max_dgrams, size_t max_bytes,
    uint64_t timeout_us) WUR;
void cap_defrag_free(struct cap_defrag *d);

/* A completed datagram (borrowed from the reassembler until its next call). */
struct cap_dgram {
	uint64_t serial;	/* same as returned for each of its fragments */
	uint8_t next;		/* IPv4 protocol / IPv6 fragment next header */
	struct slice data;	/* the reassembled IP payload */
};

/*
 * Feed fragment `p` (kind CAP_FRAG) seen at capture time `ts_us`. Every
 * fragment of one datagram gets the same *serial (never 0). Returns 1 when
 * this fragment completed the datagram (*out set), 0 when it is held, or
 * E_LIMIT (caps reached: the fragment is dropped), E_SYNTAX (overlapping
 * or inconsistent fragments: the datagram is dropped), E_BIG (too long).
 * Datagrams older than the timeout are expired first.
 */
int cap_defrag_add(struct cap_defrag *d, const struct cap_pkt *p,
    uint64_t ts_us, uint64_t *serial, struct cap_dgram *out) WUR;

/* 1 while datagram `serial` is still waiting for fragments, else 0. */
int cap_defrag_pending(const struct cap_defrag *d, uint64_t serial);

/* Number of datagrams dropped so far (timeouts, caps, errors). */
uint64_t cap_defrag_dropped(const struct cap_defrag *d);

/* --- rewriting --- */

/*
 * Write into `out` (room for `outsz` bytes) a copy of the `len`-byte frame
 * decoded as `p` (CAP_UDP) with its UDP payload replaced by `pl` (`pllen`
 * bytes): IPv4 total length and header checksum, IPv6 payload length, UDP
 * length and UDP checksum recomputed (an IPv4 UDP checksum of 0 stays 0).
 * Bytes after the IP datagram (Ethernet padding) are kept. Sets *outlen.
 * Returns 0, E_BIG (out too small), E_RANGE (lengths overflow 16 bits).
 */
int cap_rewrite_udp(const uint8_t *frame, size_t len, const struct cap_pkt *p,
    const uint8_t *pl, size_t pllen, uint8_t *out, size_t outsz,
    size_t *outlen) WUR;

/*
 * The same in place: the UDP payload of the `len`-byte frame decoded as `p`
 * was overwritten with `pllen` bytes (pllen <= the old payload length);
 * move what followed the IP datagram up behind it and fix the lengths and
 * checksums. Sets *outlen. Returns 0 or E_INVAL.
 */
int cap_shrink_udp(uint8_t *frame, size_t len, const struct cap_pkt *p,
    size_t pllen, size_t *outlen) WUR;

/*
 * Rewrite one fragment frame `frame` (decoded as `p`) of a datagram whose
 * new IP payload is `dgram` (`dlen` bytes; the UDP header included):
 * this fragment's data becomes dgram[p->frag_off, ...) for as many bytes as
 * it carried (fewer at the new end), and the fragment that now holds the
 * end loses its more-fragments flag. Fragments wholly past the new end
 * keep only their headers. Fixes IP lengths and the IPv4 header checksum.
 */
int cap_rewrite_frag(const uint8_t *frame, size_t len, const struct cap_pkt *p,
    const uint8_t *dgram, size_t dlen, uint8_t *out, size_t outsz,
    size_t *outlen) WUR;

/* The Internet checksum of the UDP datagram `udp` (header and payload). */
uint16_t cap_udp_checksum(const struct cap_pkt *p, const uint8_t *udp,
    size_t len);

/*
 * The TCP segment of the `len`-byte frame decoded as `p` (CAP_TCP) was
 * edited in place, its length unchanged: recompute its checksum. E_INVAL
 * when the frame does not hold the whole segment.
 */
int cap_fix_tcp_checksum(uint8_t *frame, size_t len, const struct cap_pkt *p)
    WUR;

/* --- libpcap input and output --- */

struct cap_reader;

struct cap_frame {
	int64_t ts_sec;
	uint32_t ts_usec;
	uint32_t caplen;	/* bytes in data */
	uint32_t wirelen;	/* bytes on the wire */
	int dlt;
	const uint8_t *data;	/* borrowed until the next cap_read() */
};

/*
 * Open a pcap or pcapng file ("-": stdin). On failure returns NULL and
 * writes libpcap's reason to `why` (`whysz` bytes).
 */
struct cap_reader *cap_open(const char *path, char *why, size_t whysz) WUR;
void cap_close(struct cap_reader *r);
int cap_reader_dlt(const struct cap_reader *r);
int cap_reader_snaplen(const struct cap_reader *r);

/*
 * Next frame: 1 with *f set, 0 at the end of the input, E_SHORT when the
 * file ends in the middle of a record (truncated), E_IO/E_SYNTAX on other
 * errors (reason in cap_reader_error()).
 */
int cap_read(struct cap_reader *r, struct cap_frame *f) WUR;
const char *cap_reader_error(const struct cap_reader *r);

struct cap_writer;

/* Create a pcap file ("-": stdout) of link type `dlt`. */
struct cap_writer *cap_writer_open(const char *path, int dlt, int snaplen,
    char *why, size_t whysz) WUR;
/* Append one frame; E_IO on write failure. */
int cap_write(struct cap_writer *w, const struct cap_frame *f) WUR;
/* Flush and close; returns E_IO if anything failed to write. */
int cap_writer_close(struct cap_writer *w);

#endif
