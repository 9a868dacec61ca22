/* fuzz_hep.c - libFuzzer target: HEPv3 decoding of arbitrary datagrams;
 * what decodes must encode again and decode to the same message. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/hep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[HEP_MAX];
	struct hep_msg m, m2;
	size_t len;

	if (hep_decode(slice_make(data, size), &m) != 0)
		return 0;
	/* Everything a decoded message holds is within the input. */
	if (m.payload.len > size || m.auth.len > size ||
	    m.correlation.len > size)
		__builtin_trap();
	if (hep_encode(&m, out, sizeof(out), &len) != 0)
		return 0;	/* e.g. an empty auth chunk is not written */
	/* (An IPv4-mapped IPv6 pair is written as IPv4: compare the
	 * addresses only when the family stayed.) */
	if (hep_decode(slice_make(out, len), &m2) != 0 ||
	    (net_addr_family(&m.src) == net_addr_family(&m2.src) &&
	    (!net_addr_eq(&m.src, &m2.src) || !net_addr_eq(&m.dst, &m2.dst))) ||
	    m.proto != m2.proto || m.type != m2.type || m.sec != m2.sec ||
	    m.usec != m2.usec || m.capture_id != m2.capture_id ||
	    !slice_eq(m.payload, m2.payload) || !slice_eq(m.auth, m2.auth) ||
	    !slice_eq(m.correlation, m2.correlation))
		__builtin_trap();
	return 0;
}
