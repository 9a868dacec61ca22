/* wav.c - a mono 16-bit PCM WAV writer placing audio by RTP timestamp. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cap/wav.h"

#define WAV_HDR 44
#define WAV_MAX_SAMPLES (((uint64_t)1 << 31) / 2 - WAV_HDR)

struct wav {
	FILE *fp;
	uint32_t rate, max_gap;
	int started;
	uint32_t last_ts;
	int64_t last_pos;	/* sample position of last_ts */
	uint64_t end;		/* samples in the file */
	int bad;
};

static void
le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
	le16(p, (uint16_t)v);
	le16(p + 2, (uint16_t)(v >> 16));
}

static int
write_header(struct wav *w)
{
	uint8_t h[WAV_HDR];
	uint32_t data = (uint32_t)(w->end * 2);

	memcpy(h, "RIFF", 4);
	le32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	le32(h + 16, 16);
	le16(h + 20, 1);		/* PCM */
	le16(h + 22, 1);		/* mono */
	le32(h + 24, w->rate);
	le32(h + 28, w->rate * 2);
	le16(h + 32, 2);
	le16(h + 34, 16);
	memcpy(h + 36, "data", 4);
	le32(h + 40, data);
	if (fseeko(w->fp, 0, SEEK_SET) != 0 ||
	    fwrite(h, 1, sizeof(h), w->fp) != sizeof(h))
		return E_IO;
	return 0;
}

struct wav *
wav_open(const char *path, uint32_t rate, uint32_t max_gap, int *err)
{
	struct wav *w;
	int fd;

	if ((w = calloc(1, sizeof(*w))) == NULL) {
		*err = E_NOMEM;
		return NULL;
	}
	w->rate = rate;
	w->max_gap = max_gap;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || (w->fp = fdopen(fd, "w+b")) == NULL) {
		*err = E_IO;
		if (fd >= 0)
			close(fd);
		free(w);
		return NULL;
	}
	if (write_header(w) != 0) {
		*err = E_IO;
		fclose(w->fp);
		free(w);
		return NULL;
	}
	return w;
}

static int
put_samples(struct wav *w, const int16_t *pcm, size_t n)
{
	uint8_t b[512];
	size_t i, k;

	while (n > 0) {
		k = n < sizeof(b) / 2 ? n : sizeof(b) / 2;
		for (i = 0; i < k; i++)
			le16(b + 2 * i, pcm != NULL ? (uint16_t)pcm[i] : 0);
		if (fwrite(b, 2, k, w->fp) != k)
			return E_IO;
		if (pcm != NULL)
			pcm += k;
		n -= k;
	}
	return 0;
}

int
wav_put(struct wav *w, uint32_t ts, const int16_t *pcm, size_t n)
{
	int64_t pos;
	int r;

	if (!w->started) {
		w->started = 1;
		w->last_ts = ts;
		w->last_pos = 0;
	}
	pos = w->last_pos + (int32_t)(ts - w->last_ts);
	if (pos > (int64_t)w->end + w->max_gap)
		pos = (int64_t)w->end;	/* a jump, not a gap */
	if (pos < 0 || (uint64_t)pos + n > WAV_MAX_SAMPLES)
		return E_RANGE;
	w->last_ts = ts;
	w->last_pos = pos;
	if ((uint64_t)pos > w->end) {
		if ((r = put_samples(w, NULL, (size_t)((uint64_t)pos -
		    w->end))) != 0)
			goto io;
		w->end = (uint64_t)pos;
	} else if ((uint64_t)pos < w->end) {
		if (fseeko(w->fp, WAV_HDR + pos * 2, SEEK_SET) != 0)
			goto io;
	}
	if ((r = put_samples(w, pcm, n)) != 0)
		goto io;
	if ((uint64_t)pos + n > w->end)
		w->end = (uint64_t)pos + n;
	if (fseeko(w->fp, (off_t)(WAV_HDR + w->end * 2), SEEK_SET) != 0)
		goto io;
	return 0;
io:
	w->bad = 1;
	return E_IO;
}

uint64_t
wav_samples(const struct wav *w)
{
	return w->end;
}

int
wav_close(struct wav *w)
{
	int r = 0;

	if (w == NULL)
		return 0;
	if (w->bad || write_header(w) != 0 || ferror(w->fp))
		r = E_IO;
	if (fclose(w->fp) != 0)
		r = E_IO;
	free(w);
	return r;
}
