/* wav.h - a mono 16-bit PCM WAV writer placing audio by RTP timestamp. */
#ifndef SBK_WAV_H
#define SBK_WAV_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Samples are placed by their RTP timestamp: the first call fixes the
 * start, gaps are filled with silence, and samples that arrive late
 * (reordered) are written back into the silence left for them. A gap
 * longer than `max_gap` samples (a timestamp jump, not loss) restarts the
 * timeline at the new timestamp without silence. Files need to be seekable.
 */
struct wav;

/* Create `path` (mode 0644) for `rate` Hz. NULL: *err set (E_IO, errno). */
struct wav *wav_open(const char *path, uint32_t rate, uint32_t max_gap,
    int *err) WUR;

/*
 * Place `n` samples at RTP timestamp `ts`. Returns 0, E_IO, or E_RANGE when
 * the samples fall before the start or the file would pass 2 GiB (they are
 * dropped).
 */
int wav_put(struct wav *w, uint32_t ts, const int16_t *pcm, size_t n) WUR;

/* Samples written so far (including silence). */
uint64_t wav_samples(const struct wav *w);

/* Write the final sizes and close; returns 0 or E_IO. wav_close(NULL): 0. */
int wav_close(struct wav *w);

#endif
