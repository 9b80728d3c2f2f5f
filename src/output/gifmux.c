/*
 * The GIF muxer, on giflib: the gif encoder's packets (src/encoders/gif.c)
 * into a GIF89a file, memory, or only counted.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GIF89a with a NETSCAPE2.0 looping extension, one graphics control
 * extension per image (delay, "leave in place" disposal, the transparent
 * index) and the LZW data compressed already (src/gif/lzw.c), through
 * EGifPutCode: giflib's own compressor cannot be lossy. Each packet is one
 * image: its header (gif/gif.h, SH_GIF_PKT_HEADER) gives the rectangle,
 * the transparent index and any local colour table; its duration, in the
 * stream's time base, the delay. giflib returns GIF_OK (1) or GIF_ERROR (0):
 * converted here, once.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gif_lib.h>

#include <libavutil/common.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "common/log.h"
#include "gif/gif.h"
#include "output/gifmux.h"

struct ShGifWriter {
    GifFileType *gif;
    int fd;
    ShGifBuf *mem;
    int64_t bytes;
    int error;               /* AVERROR of the last failed write */
    int has_global;
};

static int write_out(GifFileType *gif, const GifByteType *data, int len)
{
    ShGifWriter *w = gif->UserData;
    if (w->fd >= 0) {
        int done = 0;
        while (done < len) {
            ssize_t n = write(w->fd, data + done, len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                w->error = n < 0 ? AVERROR(errno) : AVERROR(EIO);
                return 0;
            }
            done += n;
        }
    } else if (w->mem) {
        int ret = sh_gif_buf_append(w->mem, data, len);
        if (ret < 0) {
            w->error = ret;
            return 0;
        }
    }
    w->bytes += len;
    return len;
}

/* giflib's failure as an AVERROR: the write's own error when it was one. */
static int gif_error(const ShGifWriter *w)
{
    if (w->error)
        return w->error;
    return w->gif && w->gif->Error == E_GIF_ERR_NOT_ENOUGH_MEM ? AVERROR(ENOMEM) : AVERROR(EIO);
}

static ColorMapObject *make_map(const uint8_t *rgb, int n)
{
    ColorMapObject *map = GifMakeMapObject(n, NULL);
    if (!map)
        return NULL;
    for (int i = 0; i < n; i++) {
        map->Colors[i].Red = rgb[3 * i];
        map->Colors[i].Green = rgb[3 * i + 1];
        map->Colors[i].Blue = rgb[3 * i + 2];
    }
    return map;
}

int sh_gif_writer_open(ShGifWriter **pw, int fd, ShGifBuf *mem, int width, int height,
                       const uint8_t *palette, int palette_size)
{
    /* "NETSCAPE2.0", then sub-block 1: loop count (0 = for ever), little-endian */
    static const uint8_t app[11] = { 'N', 'E', 'T', 'S', 'C', 'A', 'P', 'E', '2', '.', '0' };
    static const uint8_t loop[3] = { 1, 0, 0 };
    ShGifWriter *w = av_mallocz(sizeof(*w));
    ColorMapObject *map = NULL;
    int err = 0, ret;

    if (!w)
        return AVERROR(ENOMEM);
    w->fd = fd;
    w->mem = mem;
    if (!(w->gif = EGifOpen(w, write_out, &err))) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    /* Before the screen descriptor, which writes the version: animation needs 89a. */
    EGifSetGifVersion(w->gif, true);
    if (palette && !(map = make_map(palette, palette_size))) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    w->has_global = map != NULL;
    if (EGifPutScreenDesc(w->gif, width, height, map ? map->BitsPerPixel : 8, 0, map) != GIF_OK ||
        EGifPutExtensionLeader(w->gif, APPLICATION_EXT_FUNC_CODE) != GIF_OK ||
        EGifPutExtensionBlock(w->gif, sizeof(app), app) != GIF_OK ||
        EGifPutExtensionBlock(w->gif, sizeof(loop), loop) != GIF_OK ||
        EGifPutExtensionTrailer(w->gif) != GIF_OK) {
        ret = gif_error(w);
        goto fail;
    }
    GifFreeMapObject(map);
    *pw = w;
    return 0;
fail:
    GifFreeMapObject(map);
    if (w->gif)
        EGifCloseFile(w->gif, &err);
    av_free(w);
    return ret;
}

int sh_gif_writer_put(ShGifWriter *w, const ShGifImage *img)
{
    GraphicsControlBlock gcb = { 0 };
    GifByteType ext[4];
    ColorMapObject *map = NULL;
    int ret = 0, len;

    gcb.DisposalMode = DISPOSE_DO_NOT;     /* leave it: later frames draw only what changed */
    gcb.DelayTime = img->delay_cs;
    gcb.TransparentColor = img->transparent >= 0 ? img->transparent : NO_TRANSPARENT_COLOR;
    len = (int)EGifGCBToExtension(&gcb, ext);
    if (img->palette && !(map = make_map(img->palette, img->palette_size)))
        return AVERROR(ENOMEM);
    if (!img->palette && !w->has_global) {
        ret = AVERROR(EINVAL);
        goto end;
    }
    if (EGifPutExtension(w->gif, GRAPHICS_EXT_FUNC_CODE, len, ext) != GIF_OK ||
        EGifPutImageDesc(w->gif, img->x, img->y, img->w, img->h, false, map) != GIF_OK) {
        ret = gif_error(w);
        goto end;
    }
    /* EGifPutImageDesc wrote the minimum code size (the table's bits, at
     * least 2), as sh_gif_code_size() gives it; the sub-blocks follow. */
    for (size_t off = 0; off < img->blocks_size; off += img->blocks[off] + 1) {
        if (EGifPutCodeNext(w->gif, img->blocks + off) != GIF_OK) {
            ret = gif_error(w);
            goto end;
        }
    }
    if (EGifPutCodeNext(w->gif, NULL) != GIF_OK)
        ret = gif_error(w);
end:
    GifFreeMapObject(map);
    return ret;
}

int64_t sh_gif_writer_bytes(const ShGifWriter *w)
{
    return w->bytes;
}

int sh_gif_writer_close(ShGifWriter **pw)
{
    ShGifWriter *w = *pw;
    int err = 0, ret = 0;
    if (!w)
        return 0;
    /* EGifCloseFile writes the trailer and frees the handle even when it fails. */
    if (EGifCloseFile(w->gif, &err) != GIF_OK)
        ret = w->error ? w->error : AVERROR(EIO);
    av_freep(pw);
    return ret;
}

int sh_gif_writer_open_par(ShGifWriter **w, int fd, ShGifBuf *mem, const AVCodecParameters *par)
{
    /* the global colour table, when there is one, is the stream's extradata */
    int n = par->extradata_size / 3;
    return sh_gif_writer_open(w, fd, mem, par->width, par->height, n ? par->extradata : NULL, n);
}

int sh_gif_writer_put_packet(ShGifWriter *w, const AVPacket *pkt, AVRational tb)
{
    ShGifImage img;
    int64_t delay = av_rescale_q(pkt->duration, tb, (AVRational){ 1, 100 });
    int ret;
    if ((ret = sh_gif_packet_image(pkt, &img)) < 0)
        return ret;
    /* the encoder splits longer delays into images of their own */
    img.delay_cs = (int)av_clip64(delay, 0, SH_GIF_MAX_DELAY);
    return sh_gif_writer_put(w, &img);
}
