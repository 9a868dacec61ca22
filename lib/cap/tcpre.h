/* tcpre.h - TCP reassembly of one direction of a captured connection. */
#ifndef SBK_TCPRE_H
#define SBK_TCPRE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/slice.h"

/*
 * Segments go in as captured (out of order, retransmitted, overlapping);
 * the bytes come out in order, once each, through a callback. The stream
 * starts after a SYN, or at the first segment seen when the capture began
 * mid-connection. Segments ahead of the next expected byte are held (copied)
 * up to `max_held` bytes and TCPRE_MAX_SEGS segments; past that, or at
 * tcpre_flush(), the missing bytes are given up: the callback gets a gap
 * (p NULL, len the bytes skipped) and delivery goes on at the first held
 * segment. Bytes that overlap what was delivered already are dropped
 * (the first copy wins).
 */
struct tcpre;

#define TCPRE_MAX_SEGS 1024

/* Delivery: `len` bytes at `p`, or a gap of `len` bytes when p is NULL. */
typedef void (*tcpre_fn)(void *arg, const uint8_t *p, size_t len);

struct tcpre_stats {
	uint64_t delivered;	/* bytes given in order */
	uint64_t dup;		/* bytes seen before (retransmitted) */
	uint64_t held_max;	/* most bytes ever held */
	uint64_t gaps, gap_bytes;	/* given up (cap, or flushed) */
};

/* NULL: E_NOMEM. */
struct tcpre *tcpre_new(size_t max_held) WUR;
void tcpre_free(struct tcpre *r);

/*
 * One segment: sequence number `seq`, `syn` set when it carries SYN (its
 * data then starts at seq + 1), payload `data` (borrowed; copied if held).
 * Calls fn for whatever became deliverable. 0, or E_NOMEM (the segment
 * is dropped and counted as a gap later).
 */
int tcpre_add(struct tcpre *r, uint32_t seq, int syn, struct slice data,
    tcpre_fn fn, void *arg) WUR;

/* Deliver everything held, skipping the holes (end of capture, FIN, RST). */
void tcpre_flush(struct tcpre *r, tcpre_fn fn, void *arg);

/* The next sequence number expected (0 before the first segment). */
uint32_t tcpre_next(const struct tcpre *r);
/* 1 once a SYN or a segment with data has been seen. */
int tcpre_started(const struct tcpre *r);
/* Bytes held now. */
size_t tcpre_held(const struct tcpre *r);
void tcpre_stats(const struct tcpre *r, struct tcpre_stats *s);

#endif
