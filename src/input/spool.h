/*
 * The packet spool: encoded packets kept for later passes (the audio, encoded
 * once and muxed into every attempt; a sample's video, decoded to score it).
 * In memory up to a bound, then in an unnamed temporary file, so a two-hour
 * film's audio does not decide the peak memory.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_SPOOL_H
#define SH_INPUT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/packet.h>

typedef struct ShPacketSpool ShPacketSpool;

int  sh_spool_open(ShPacketSpool **s, size_t mem_limit);
/* Keep a copy of the packet's data, timestamps, duration and flags (no side data). */
int  sh_spool_put(ShPacketSpool *s, const AVPacket *pkt);
int  sh_spool_rewind(ShPacketSpool *s);
/* The next packet, in the order put: a new buffer in pkt. AVERROR_EOF after the last. */
int  sh_spool_get(ShPacketSpool *s, AVPacket *pkt);
int64_t sh_spool_count(const ShPacketSpool *s);
int64_t sh_spool_bytes(const ShPacketSpool *s);   /* sum of the packets' sizes */
/* Timestamps of packet i without reading it back. */
int  sh_spool_info(const ShPacketSpool *s, int64_t i, int64_t *pts, int64_t *dts, int64_t *duration, int *flags,
                   int *size);
void sh_spool_free(ShPacketSpool **s);

#endif
