/* fuzz_cap.c - libFuzzer target for the frame decoder, defrag and rewrite. */
/*
 * Also pcap-decrypt's rewrite of the output's SIP (its SDP made plain
 * RTP) on UDP and TCP payloads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap/cap.h"
#include "cap/pcapdec_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int dlts[] = {
	CAP_DLT_NULL, CAP_DLT_EN10MB, CAP_DLT_RAW, CAP_DLT_LOOP,
	CAP_DLT_LINUX_SLL, CAP_DLT_IPV4, CAP_DLT_IPV6, CAP_DLT_LINUX_SLL2,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cap_defrag *d;
	static struct pcapdec *pd;
	struct pcapdec_opts o;
	int err;
	struct cap_pkt p, u;
	struct cap_dgram g;
	uint8_t *frame, out[70000];
	uint64_t serial;
	size_t on;
	int dlt;

	if (size < 1)
		return 0;
	if (d == NULL)
		d = cap_defrag_new(8, 65535, 1000);
	if (pd == NULL) {
		memset(&o, 0, sizeof(o));
		pd = pcapdec_new(&o, &err);
	}
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	/* An exact-size copy so ASan sees reads past the end. */
	frame = malloc(size - 1 ? size - 1 : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 1, size - 1);
	if (cap_decode(dlt, frame, size - 1, &p) == 0) {
		if ((p.kind == CAP_UDP || p.kind == CAP_TCP) && pd != NULL &&
		    pcapdec_looks_like_sip(p.payload))
			(void)pcapdec_sip_plain(pd, p.payload, p.kind == CAP_TCP,
			    out, sizeof(out), &on);
		if (p.kind == CAP_TCP)
			(void)cap_fix_tcp_checksum(frame, size - 1, &p);
		if (p.kind == CAP_UDP) {
			(void)cap_rewrite_udp(frame, size - 1, &p,
			    p.payload.p, p.payload.len / 2, out, sizeof(out),
			    &on);
		} else if (p.kind == CAP_FRAG && d != NULL) {
			if (cap_defrag_add(d, &p, data[0], &serial, &g) == 1) {
				(void)cap_decode_l4(&p, g.next, g.data, &u);
				(void)cap_rewrite_frag(frame, size - 1, &p,
				    g.data.p, g.data.len / 2, out,
				    sizeof(out), &on);
			}
		}
	}
	free(frame);
	return 0;
}
