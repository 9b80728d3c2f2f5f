/*
 * GIF: the pieces behind the "gif" encoder (src/encoders/gif.c).
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   RGB frames --palette stage--> PAL8 --gif encoder: optimise (unchanged
 *   pixels transparent, changed rectangle, identical frames merged), lossy
 *   LZW--> packets --ShGifWriter (output/gifmux.c, giflib)--> file or memory
 *
 * The fitter (solver/gif_search.c, solver/gif_fit.c, gif/chain.c,
 * gif/film.c) chooses picture size, frame rate, colours, palette, dither
 * and lossiness from samples, then encodes the whole film at most three
 * times. Times are centiseconds from the start of the film: a frame's
 * delay is the difference of two cumulative positions, so rounding never
 * accumulates.
 */
#ifndef SH_GIF_GIF_H
#define SH_GIF_GIF_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/packet.h>
#include <libavutil/frame.h>

#include "encoders/encoder.h"

/* GIF's shortest delay that players honour (shorter ones become 10 cs) and its longest. */
#define SH_GIF_MIN_DELAY 2
#define SH_GIF_MAX_DELAY 65535

/* A growable byte buffer. */
typedef struct ShGifBuf {
    uint8_t *data;
    size_t size, alloc;
} ShGifBuf;

int  sh_gif_buf_append(ShGifBuf *b, const void *data, size_t len);
void sh_gif_buf_free(ShGifBuf *b);

/* ---- LZW (lzw.c) ---- */

typedef struct ShGifLzw ShGifLzw;

int  sh_gif_lzw_alloc(ShGifLzw **lzw);
void sh_gif_lzw_free(ShGifLzw **lzw);

/*
 * Compress a w x h picture of palette indices into GIF data sub-blocks
 * (a length byte and up to 255 bytes each; no terminator), appended to out.
 * min_code_size is the GIF's (2..8; every index must be below 1 << it).
 * max_err > 0 makes it lossy: where the current string has no extension by
 * a pixel's own colour, the pixel may take the colour of an existing
 * extension whose squared RGB distance (palette: RGB triplets) is at most
 * max_err. Such pixels are rewritten in pix, so the caller knows what is
 * shown. The transparent index (-1: none) is never given nor taken.
 * With max_err 0 the output decodes to exactly pix. Returns 0 or AVERROR.
 */
int sh_gif_lzw_encode(ShGifLzw *lzw, uint8_t *pix, ptrdiff_t stride, int w, int h, int min_code_size,
                      const uint8_t *palette, int transparent, int max_err, ShGifBuf *out);

/* ---- images and packets (packet.c) ---- */

/* One image of the animation, compressed already. */
typedef struct ShGifImage {
    int x, y, w, h;
    int delay_cs;              /* 0..SH_GIF_MAX_DELAY */
    int transparent;           /* index, or -1 */
    const uint8_t *palette;    /* local colour table (RGB triplets), or NULL for the global one */
    int palette_size;          /* entries: a power of two, 2..256 */
    const uint8_t *blocks;     /* LZW sub-blocks, from sh_gif_lzw_encode */
    size_t blocks_size;
} ShGifImage;

/*
 * A packet of the gif encoder is one image: SH_GIF_PKT_HEADER bytes (x, y,
 * w, h, the transparent index + 1 (0: none), the local colour table's
 * entries (0: the global one), 16 bits little-endian each), then the local
 * colour table (RGB triplets), then the LZW sub-blocks. Its duration is the
 * image's delay; the muxer (output/gifmux.c) writes it.
 */
#define SH_GIF_PKT_HEADER 12

/* pkt <- img (its delay is the caller's to put in pkt->duration). */
int sh_gif_packet_make(AVPacket *pkt, const ShGifImage *img);
/* img <- pkt; img points into the packet's data; delay_cs is left 0. */
int sh_gif_packet_image(const AVPacket *pkt, ShGifImage *img);

/* The table size for n colours plus a transparent slot: a power of two, 2..256. */
int sh_gif_table_size(int colors);
/* GIF's LZW minimum code size for a table of this size. */
int sh_gif_code_size(int table_size);

/* ---- the encoder (src/encoders/gif.c) ---- */

/*
 * What the gif encoder holds, for the search's measurements: what a player
 * shows after the last frame sent, and the image held back until the next
 * position is known.
 */
typedef struct ShGifEncState {
    const uint8_t *canvas;     /* RGB24, width*3 bytes a row */
    int64_t images;            /* images made (sent as packets or held) */
    int64_t pending_bytes;     /* the held image's LZW bytes, -1: none held */
} ShGifEncState;

/* The state of an open gif encoder (SH_ENC_CAP_PALETTE). */
const ShGifEncState *sh_gif_encoder_state(const ShEncoder *enc);
/* The end of the film, in the encoder's time base, when no frame's duration
 * says it: the last image lasts until then. */
void sh_gif_encoder_set_end(ShEncoder *enc, int64_t end);

/* ---- the stream: the encoder and the muxer, for the fitter (stream.c) ---- */

typedef struct ShGifStreamConfig {
    int width, height;
    int colors;                /* visible colours, 1..255; index `colors` is transparent */
    const uint8_t *palette;    /* global palette (RGB triplets, `colors` of them), or NULL:
                                * each frame brings its own in data[1] */
    int lossy;                 /* 0: lossless; up to 200 */
} ShGifStreamConfig;

typedef struct ShGifStream ShGifStream;

int sh_gif_stream_open(ShGifStream **s, const ShGifStreamConfig *cfg, int fd, ShGifBuf *mem);
/*
 * One PAL8 frame (indices below cfg.colors; data[1] the palette as AVFrame
 * keeps it, 0xAARRGGBB) shown from pos_cs. Frames must come in order; one
 * less than SH_GIF_MIN_DELAY after the last shown one is dropped, one
 * identical to what is on screen extends the last one's delay.
 */
int sh_gif_stream_put(ShGifStream *s, const AVFrame *pal8, int64_t pos_cs);
/* The last frame lasts until end_cs. Writes the trailer. */
int sh_gif_stream_finish(ShGifStream *s, int64_t end_cs);
/* What is on screen after the last put: RGB24, width*3 bytes a row. */
const uint8_t *sh_gif_stream_canvas(const ShGifStream *s);
int64_t sh_gif_stream_bytes(const ShGifStream *s);
int64_t sh_gif_stream_images(const ShGifStream *s);   /* images written or pending */
void sh_gif_stream_free(ShGifStream **s);

/* Centiseconds from the origin, rounded: a frame's position. */
int64_t sh_gif_position_cs(int64_t pts, int64_t origin, AVRational tb);

/* Bounding box of the pixels that are not `transparent`; 0 when there is none. */
int sh_gif_changed_rect(const uint8_t *pix, ptrdiff_t stride, int w, int h, int transparent,
                        int *x, int *y, int *rw, int *rh);

/* ---- palettes (src/stages/palette.c) ---- */

/*
 * How pixels take palette colours, for the palette stage's `dither`
 * argument. NONE takes the colour nearest to the pixel's 5-bit cell (32
 * levels a channel): film grain within a cell maps to one index, which LZW
 * and the unchanged-pixel test like. EXACT takes the colour nearest to the
 * pixel itself, no dither either: smooth gradients keep every palette step
 * (a cartoon: +0.003 SSIM and 3% fewer bytes; grainy film: 2.3x the bytes).
 */
enum { SH_DITHER_NONE = 0, SH_DITHER_ORDERED = 1, SH_DITHER_DIFFUSION = 2, SH_DITHER_EXACT = 3 };

/*
 * One palette for many RGB24 frames (libimagequant's histogram): at most
 * `colors` RGB triplets into out; returns how many, or AVERROR. weights:
 * NULL, or per frame NULL or a weight plane (width x height, 1..255) by
 * which its pixels count (the palette stage's importance).
 */
int sh_gif_global_palette(AVFrame *const *rgb, uint8_t *const *weights, int n, int colors, uint8_t *out);

#endif
