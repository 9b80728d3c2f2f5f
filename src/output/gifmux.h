/*
 * The GIF muxer (giflib): the gif encoder's packets into a GIF89a that loops.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_OUTPUT_GIFMUX_H
#define SH_OUTPUT_GIFMUX_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

#include "gif/gif.h"

typedef struct ShGifWriter ShGifWriter;

/*
 * Start a looping GIF89a of width x height: into fd (>= 0), else into mem
 * (non-NULL), else only counted. palette: the global colour table (RGB
 * triplets, palette_size entries, a power of two) or NULL.
 */
int sh_gif_writer_open(ShGifWriter **w, int fd, ShGifBuf *mem, int width, int height,
                       const uint8_t *palette, int palette_size);
/* The same for the gif encoder's stream: its size, and its global colour table in extradata. */
int sh_gif_writer_open_par(ShGifWriter **w, int fd, ShGifBuf *mem, const AVCodecParameters *par);
/* One image, compressed already. */
int sh_gif_writer_put(ShGifWriter *w, const ShGifImage *img);
/* One packet of the gif encoder; its duration (in tb) is the image's delay. */
int sh_gif_writer_put_packet(ShGifWriter *w, const AVPacket *pkt, AVRational tb);
/* Bytes written so far (the trailer is one more). */
int64_t sh_gif_writer_bytes(const ShGifWriter *w);
/* Write the trailer and close; returns 0 or AVERROR. Frees *w either way. */
int sh_gif_writer_close(ShGifWriter **w);

#endif
