/* mediactl_sdp.c - what a SIP body says about its media keys: SDES
 * (a=crypto with a suite we know) or DTLS-SRTP (a=fingerprint). */
#include <string.h>

#include "media/suite.h"
#include "sip/mediactl.h"

int
mediactl_sdp_has_crypto(struct slice sdp)
{
	struct slice s = sdp, line;

	while (s.len > 0) {
		(void)slice_split(&s, '\n', &line);
		if (line.len > 0 && line.p[line.len - 1] == '\r')
			line.len--;
		if (line.len > 9 && memcmp(line.p, "a=crypto:", 9) == 0) {
			struct slice rest = slice_make(line.p + 9, line.len - 9);
			struct slice tagp, suite;
			(void)slice_split(&rest, ' ', &tagp);
			(void)slice_split(&rest, ' ', &suite);
			if (suite_by_name(suite) != NULL &&
			    slice_find(rest, SLICE_LIT("inline:")) >= 0)
				return 1;
		}
	}
	/* DTLS-SRTP (RFC 5763) keys SRTP as well. */
	return mediactl_sdp_has_dtls(sdp);
}

int
mediactl_sdp_has_dtls(struct slice sdp)
{
	struct slice s = sdp, line;

	while (s.len > 0) {
		(void)slice_split(&s, '\n', &line);
		if (line.len > 14 && memcmp(line.p, "a=fingerprint:", 14) == 0)
			return 1;
	}
	return 0;
}
