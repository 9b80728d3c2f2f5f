/*
 * An RGB canvas for the contact sheet: fills, frames turned as displayed,
 * labels in a 5x7 font of our own (no font library for a few words of
 * capitals and digits), written as PNG by libavcodec's encoder; and the one
 * way a picture reaches its name: a temporary file beside it, renamed.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>

#include "common/log.h"
#include "common/temp.h"
#include "show/show.h"

/* Rows top to bottom, bit 4 the left column. */
static const struct { char c; uint8_t rows[SH_FONT_H]; } font[] = {
    { ' ', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 } },
    { '0', { 0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e } },
    { '1', { 0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e } },
    { '2', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f } },
    { '3', { 0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e } },
    { '4', { 0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02 } },
    { '5', { 0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e } },
    { '6', { 0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e } },
    { '7', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08 } },
    { '8', { 0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e } },
    { '9', { 0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c } },
    { 'A', { 0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
    { 'B', { 0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e } },
    { 'C', { 0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e } },
    { 'D', { 0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c } },
    { 'E', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f } },
    { 'F', { 0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10 } },
    { 'G', { 0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f } },
    { 'H', { 0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11 } },
    { 'I', { 0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e } },
    { 'J', { 0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c } },
    { 'K', { 0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11 } },
    { 'L', { 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f } },
    { 'M', { 0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11 } },
    { 'N', { 0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11 } },
    { 'O', { 0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
    { 'P', { 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10 } },
    { 'Q', { 0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d } },
    { 'R', { 0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11 } },
    { 'S', { 0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e } },
    { 'T', { 0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04 } },
    { 'U', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e } },
    { 'V', { 0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04 } },
    { 'W', { 0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a } },
    { 'X', { 0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11 } },
    { 'Y', { 0x11, 0x11, 0x11, 0x0a, 0x04, 0x04, 0x04 } },
    { 'Z', { 0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f } },
    { '.', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c } },
    { ',', { 0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08 } },
    { ':', { 0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00 } },
    { '-', { 0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00 } },
    { '+', { 0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00 } },
    { '=', { 0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00 } },
    { '(', { 0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02 } },
    { ')', { 0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08 } },
    { '/', { 0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00 } },
    { '%', { 0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03 } },
    { '<', { 0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02 } },
    { '>', { 0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08 } },
    { '_', { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f } },
    { '?', { 0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04 } },
};

const uint8_t *sh_font_glyph(int c)
{
    c = toupper((unsigned char)c);
    for (size_t i = 0; i < sizeof(font) / sizeof(font[0]); i++)
        if (font[i].c == c)
            return font[i].rows;
    return NULL;
}

int sh_image_alloc(ShImage *im, int width, int height, uint32_t rgb)
{
    im->rgb = NULL;
    if (width < 1 || height < 1 || width > 16384 || height > 16384)
        return AVERROR(EINVAL);
    if (!(im->rgb = malloc((size_t)width * height * 3)))
        return AVERROR(ENOMEM);
    im->width = width;
    im->height = height;
    sh_image_fill(im, 0, 0, width, height, rgb);
    return 0;
}

void sh_image_free(ShImage *im)
{
    free(im->rgb);
    im->rgb = NULL;
}

static void put(ShImage *im, int x, int y, uint32_t rgb)
{
    uint8_t *p;
    if (x < 0 || y < 0 || x >= im->width || y >= im->height)
        return;
    p = im->rgb + ((size_t)y * im->width + x) * 3;
    p[0] = rgb >> 16;
    p[1] = rgb >> 8;
    p[2] = rgb;
}

void sh_image_fill(ShImage *im, int x, int y, int w, int h, uint32_t rgb)
{
    for (int j = y; j < y + h; j++)
        for (int i = x; i < x + w; i++)
            put(im, i, j, rgb);
}

void sh_image_blit(ShImage *im, int x, int y, const AVFrame *f, int rotation)
{
    int swap = rotation == 90 || rotation == 270;
    int dw = swap ? f->height : f->width, dh = swap ? f->width : f->height;
    for (int dy = 0; dy < dh; dy++)
        for (int dx = 0; dx < dw; dx++) {
            /* The coded pixel shown at (dx, dy) once turned clockwise. */
            int cx = dx, cy = dy;
            const uint8_t *p;
            if (rotation == 90)
                cx = dy, cy = f->height - 1 - dx;
            else if (rotation == 180)
                cx = f->width - 1 - dx, cy = f->height - 1 - dy;
            else if (rotation == 270)
                cx = f->width - 1 - dy, cy = dx;
            p = f->data[0] + (ptrdiff_t)cy * f->linesize[0] + cx * 3;
            put(im, x + dx, y + dy, (uint32_t)p[0] << 16 | p[1] << 8 | p[2]);
        }
}

int sh_text_width(const char *s, int scale)
{
    size_t n = strlen(s);
    return n ? (int)(n * 6 - 1) * scale : 0;
}

int sh_image_text(ShImage *im, int x, int y, int scale, uint32_t rgb, const char *s)
{
    int x0 = x;
    for (; *s; s++, x += 6 * scale) {
        const uint8_t *g = sh_font_glyph(*s);
        if (!g)
            g = sh_font_glyph('?');
        for (int r = 0; r < SH_FONT_H; r++)
            for (int c = 0; c < 5; c++)
                if (g[r] & (0x10 >> c))
                    sh_image_fill(im, x + c * scale, y + r * scale, scale, scale, rgb);
    }
    return x > x0 ? x - x0 - scale : 0;
}

int sh_show_write_file(const char *dest, const void *data, size_t len, int force)
{
    char tmp[4096];
    FILE *f;
    int ret, made = 0;

    if ((ret = sh_temp_create_beside(tmp, sizeof(tmp), dest)) < 0)
        goto end;
    made = 1;
    if (!(f = fopen(tmp, "wb"))) {
        ret = AVERROR(errno);
        goto end;
    }
    errno = 0;
    if (fwrite(data, 1, len, f) != len)
        ret = AVERROR(errno ? errno : EIO);
    if (fclose(f) != 0 && ret >= 0)
        ret = AVERROR(errno);
    if (ret < 0)
        goto end;
    /* sh_temp_commit says why itself. */
    if ((ret = sh_temp_commit(tmp, dest, force, "writing the report")) < 0)
        made = 0, sh_temp_remove(tmp);
    return ret;
end:
    sh_log(SH_LOG_ERROR, dest, "cannot write: %s", av_err2str(ret));
    if (made)
        sh_temp_remove(tmp);
    return ret;
}

int sh_image_write_png(const ShImage *im, const char *dest, int force)
{
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_PNG);
    AVCodecContext *ctx = NULL;
    AVFrame *frame = NULL;
    AVPacket *pkt = NULL;
    int ret;

    if (!codec) {
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    if (!(ctx = avcodec_alloc_context3(codec)) || !(frame = av_frame_alloc()) || !(pkt = av_packet_alloc())) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ctx->width = frame->width = im->width;
    ctx->height = frame->height = im->height;
    ctx->pix_fmt = AV_PIX_FMT_RGB24;
    ctx->time_base = (AVRational){ 1, 1 };
    frame->format = AV_PIX_FMT_RGB24;
    if ((ret = avcodec_open2(ctx, codec, NULL)) < 0 || (ret = av_frame_get_buffer(frame, 0)) < 0)
        goto end;
    for (int y = 0; y < im->height; y++)
        memcpy(frame->data[0] + (ptrdiff_t)y * frame->linesize[0], im->rgb + (size_t)y * im->width * 3,
               (size_t)im->width * 3);
    frame->pts = 0;
    if ((ret = avcodec_send_frame(ctx, frame)) < 0 || (ret = avcodec_send_frame(ctx, NULL)) < 0 ||
        (ret = avcodec_receive_packet(ctx, pkt)) < 0)
        goto end;
end:
    if (ret < 0)
        sh_log(SH_LOG_ERROR, dest, "cannot encode the PNG: %s", av_err2str(ret));
    else
        ret = sh_show_write_file(dest, pkt->data, pkt->size, force);
    avcodec_free_context(&ctx);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    return ret;
}
