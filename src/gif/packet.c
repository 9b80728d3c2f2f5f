/*
 * GIF images as packets, between the gif encoder and the GIF muxer.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/intreadwrite.h>

#include "gif/gif.h"

int sh_gif_table_size(int colors)
{
    int n = 2;
    while (n < colors + 1 && n < 256)
        n <<= 1;
    return n;
}

int sh_gif_code_size(int table_size)
{
    int bits = 1;
    while ((1 << bits) < table_size)
        bits++;
    return bits < 2 ? 2 : bits;
}

int sh_gif_packet_make(AVPacket *pkt, const ShGifImage *img)
{
    int npal = img->palette ? img->palette_size : 0;
    size_t size = SH_GIF_PKT_HEADER + (size_t)npal * 3 + img->blocks_size;
    uint8_t *p;
    int ret;
    if (size > INT32_MAX)
        return AVERROR(EINVAL);
    if ((ret = av_new_packet(pkt, (int)size)) < 0)
        return ret;
    p = pkt->data;
    AV_WL16(p, img->x);
    AV_WL16(p + 2, img->y);
    AV_WL16(p + 4, img->w);
    AV_WL16(p + 6, img->h);
    AV_WL16(p + 8, img->transparent + 1);
    AV_WL16(p + 10, npal);
    if (npal)
        memcpy(p + SH_GIF_PKT_HEADER, img->palette, (size_t)npal * 3);
    if (img->blocks_size)
        memcpy(p + SH_GIF_PKT_HEADER + npal * 3, img->blocks, img->blocks_size);
    return 0;
}

int sh_gif_packet_image(const AVPacket *pkt, ShGifImage *img)
{
    const uint8_t *p = pkt->data;
    int npal;
    memset(img, 0, sizeof(*img));
    if (!p || pkt->size < SH_GIF_PKT_HEADER)
        return AVERROR_INVALIDDATA;
    npal = AV_RL16(p + 10);
    if (npal > 256 || pkt->size < SH_GIF_PKT_HEADER + npal * 3)
        return AVERROR_INVALIDDATA;
    img->x = AV_RL16(p);
    img->y = AV_RL16(p + 2);
    img->w = AV_RL16(p + 4);
    img->h = AV_RL16(p + 6);
    img->transparent = AV_RL16(p + 8) - 1;
    img->palette = npal ? p + SH_GIF_PKT_HEADER : NULL;
    img->palette_size = npal;
    img->blocks = p + SH_GIF_PKT_HEADER + npal * 3;
    img->blocks_size = (size_t)pkt->size - SH_GIF_PKT_HEADER - npal * 3;
    return 0;
}
