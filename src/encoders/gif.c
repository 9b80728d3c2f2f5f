/*
 * GIF: palettised frames in, one packet per GIF image out.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The encoder keeps the canvas (what a player shows, RGB) and compares each
 * new frame with it: pixels whose new colour is the shown one, or close to
 * it, become transparent, so the previous frame shows through ("leave in
 * place" disposal); the image is cropped to the rectangle that still
 * changes; a frame with nothing left is merged into the one on screen,
 * which then lasts longer; a frame less than 2 cs after the last one shown
 * is dropped. One image is held back until the next position is known: its
 * delay (the packet's duration) is the difference of the two positions,
 * rounded to centiseconds from the start, so rounding never accumulates.
 * A delay longer than GIF's longest goes on in 1x1 transparent images.
 * The LZW (src/gif/lzw.c) may be lossy. The muxer is output/gifmux.c.
 *
 * Knobs, from ShEncoderConfig: colors (index `colors` is the transparent
 * one), palette (one for the clip, else each frame's data[1]) and lossy.
 * Packets are in 1/100 s. GIF's size is not a bitrate: SH_ENC_CAP_PALETTE.
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "encoders/encoder.h"
#include "gif/gif.h"

#define CS ((AVRational){ 1, 100 })

typedef struct Pending {
    int valid;
    int64_t pos_cs;
    ShGifImage img;          /* blocks and palette point into the buffers below */
    ShGifBuf blocks;
    uint8_t palette[256 * 3];
} Pending;

typedef struct GifPriv {
    int width, height, colors;
    int has_global;
    AVRational tb;            /* of the frames */
    ShGifLzw *lzw;
    int table_size, code_size;
    uint8_t global[256 * 3];
    uint8_t *canvas;          /* RGB24 */
    uint8_t *idx;             /* the frame's indices, rewritten as shown */
    int64_t last_pos_cs;      /* of the last frame shown, -1 before the first */
    int64_t end_cs;           /* the film's end, from the frames' durations or set_end */
    Pending pending;
    int max_err, keep_err;    /* lossy LZW; "unchanged" within this */
    int flushed;
    AVPacket **out;           /* made, not yet received */
    int nout, out_head, out_alloc;
    ShGifEncState state;
} GifPriv;

int sh_gif_changed_rect(const uint8_t *pix, ptrdiff_t stride, int w, int h, int transparent,
                        int *px, int *py, int *pw, int *ph)
{
    int x0 = w, x1 = -1, y0 = h, y1 = -1;
    for (int y = 0; y < h; y++) {
        const uint8_t *row = pix + y * stride;
        int l = 0, r = w - 1;
        while (l < w && row[l] == transparent)
            l++;
        if (l == w)
            continue;
        while (row[r] == transparent)
            r--;
        x0 = FFMIN(x0, l);
        x1 = FFMAX(x1, r);
        if (y0 == h)
            y0 = y;
        y1 = y;
    }
    if (x1 < 0)
        return 0;
    *px = x0;
    *py = y0;
    *pw = x1 - x0 + 1;
    *ph = y1 - y0 + 1;
    return 1;
}

static void gif_close(ShEncoder *enc)
{
    GifPriv *s = enc->priv;
    if (!s)
        return;
    sh_gif_lzw_free(&s->lzw);
    sh_gif_buf_free(&s->pending.blocks);
    for (int i = 0; i < s->nout; i++)
        av_packet_free(&s->out[s->out_head + i]);
    av_free(s->out);
    av_free(s->canvas);
    av_free(s->idx);
    av_freep(&enc->priv);
}

static int gif_open(ShEncoder *enc, const ShEncoderConfig *cfg)
{
    GifPriv *s;
    int ret;

    if (cfg->colors < 1 || cfg->colors > 255 || cfg->width < 1 || cfg->height < 1 ||
        cfg->width > 65535 || cfg->height > 65535 || cfg->time_base.num <= 0 || cfg->time_base.den <= 0)
        return AVERROR(EINVAL);
    if (!(s = enc->priv = av_mallocz(sizeof(*s))))
        return AVERROR(ENOMEM);
    s->width = cfg->width;
    s->height = cfg->height;
    s->colors = cfg->colors;
    s->has_global = cfg->palette != NULL;
    s->tb = cfg->time_base;
    s->table_size = sh_gif_table_size(cfg->colors);
    s->code_size = sh_gif_code_size(s->table_size);
    s->last_pos_cs = -1;
    s->end_cs = -1;
    /* lossy 100 lets a pixel be ~25 levels off per channel in the LZW and
     * ~12 when deciding it has not changed; error-free at 0. */
    s->max_err = cfg->lossy > 0 ? 3 * (cfg->lossy / 4) * (cfg->lossy / 4) + 3 : 0;
    s->keep_err = 3 * (cfg->lossy / 8) * (cfg->lossy / 8) + (cfg->palette ? 0 : 12);
    /* padded: the search scales the canvas with libswscale, whose SIMD
     * reads up to 16 bytes past a row (valgrind saw it past the end) */
    s->canvas = av_mallocz((size_t)cfg->width * cfg->height * 3 + AV_INPUT_BUFFER_PADDING_SIZE);
    s->idx = av_malloc((size_t)cfg->width * cfg->height);
    enc->par = avcodec_parameters_alloc();
    if (!s->canvas || !s->idx || !enc->par)
        return AVERROR(ENOMEM);
    if (cfg->palette)
        memcpy(s->global, cfg->palette, (size_t)cfg->colors * 3);
    if ((ret = sh_gif_lzw_alloc(&s->lzw)) < 0)
        return ret;
    enc->time_base = CS;
    enc->par->codec_type = AVMEDIA_TYPE_VIDEO;
    enc->par->codec_id = AV_CODEC_ID_GIF;
    enc->par->format = AV_PIX_FMT_PAL8;
    enc->par->width = cfg->width;
    enc->par->height = cfg->height;
    if (cfg->palette) {
        /* the global colour table, padded to its power of two, for the muxer */
        size_t n = (size_t)s->table_size * 3;
        if (!(enc->par->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE)))
            return AVERROR(ENOMEM);
        memcpy(enc->par->extradata, s->global, n);
        enc->par->extradata_size = (int)n;
    }
    s->state.canvas = s->canvas;
    s->state.pending_bytes = -1;
    return 0;
}

/* A packet made: into the queue receive_packet empties. */
static int emit(GifPriv *s, const ShGifImage *img, int64_t pos_cs)
{
    AVPacket *pkt;
    int ret;
    if (s->out_head + s->nout == s->out_alloc) {
        int n = s->out_alloc ? 2 * s->out_alloc : 4;
        AVPacket **a;
        if (s->out_head) {
            /* the received ones' slots are free: move the others to the front */
            memmove(s->out, s->out + s->out_head, s->nout * sizeof(*s->out));
            s->out_head = 0;
        } else if ((a = av_realloc_array(s->out, n, sizeof(*a)))) {
            s->out = a;
            s->out_alloc = n;
        } else {
            return AVERROR(ENOMEM);
        }
    }
    if (!(pkt = av_packet_alloc()))
        return AVERROR(ENOMEM);
    if ((ret = sh_gif_packet_make(pkt, img)) < 0) {
        av_packet_free(&pkt);
        return ret;
    }
    pkt->pts = pkt->dts = pos_cs;
    pkt->duration = img->delay_cs;
    pkt->flags |= AV_PKT_FLAG_KEY;
    s->out[s->out_head + s->nout++] = pkt;
    return 0;
}

/* Send the held image, lasting until pos_cs; a delay longer than GIF's
 * longest goes on in 1x1 transparent images. */
static int flush_pending(GifPriv *s, int64_t pos_cs)
{
    Pending *p = &s->pending;
    int64_t left, at;
    int ret;
    if (!p->valid)
        return 0;
    left = FFMAX(pos_cs - p->pos_cs, SH_GIF_MIN_DELAY);
    p->img.delay_cs = (int)FFMIN(left, SH_GIF_MAX_DELAY);
    if ((ret = emit(s, &p->img, p->pos_cs)) < 0)
        return ret;
    left -= p->img.delay_cs;
    at = p->pos_cs + p->img.delay_cs;
    while (left > 0) {
        uint8_t one = (uint8_t)s->colors;
        ShGifImage img = { 0 };
        ShGifBuf b = { 0 };
        if ((ret = sh_gif_lzw_encode(s->lzw, &one, 1, 1, 1, s->code_size, s->global, -1, 0, &b)) < 0)
            return ret;
        img.w = img.h = 1;
        img.delay_cs = (int)FFMIN(FFMAX(left, SH_GIF_MIN_DELAY), SH_GIF_MAX_DELAY);
        img.transparent = s->colors;
        img.palette = p->img.palette;
        img.palette_size = p->img.palette_size;
        img.blocks = b.data;
        img.blocks_size = b.size;
        ret = emit(s, &img, at);
        sh_gif_buf_free(&b);
        if (ret < 0)
            return ret;
        s->state.images++;
        left -= img.delay_cs;
        at += img.delay_cs;
    }
    p->valid = 0;
    s->state.pending_bytes = -1;
    return 0;
}

static int put_frame(GifPriv *s, const AVFrame *f, int64_t pos_cs)
{
    const int W = s->width, H = s->height, T = s->colors;
    const uint8_t *pal;
    uint8_t local[256 * 3];
    int first = s->last_pos_cs < 0, x, y, w, h, ret;
    Pending *p = &s->pending;

    if (f->width != W || f->height != H || f->format != AV_PIX_FMT_PAL8)
        return AVERROR(EINVAL);
    if (!first && pos_cs < s->last_pos_cs + SH_GIF_MIN_DELAY)
        return 0;   /* too soon to be seen: players would stretch it to 10 cs */
    if (s->has_global) {
        pal = s->global;
    } else {
        const uint32_t *argb = (const uint32_t *)f->data[1];
        memset(local, 0, sizeof(local));
        for (int i = 0; i < T; i++) {
            local[3 * i] = argb[i] >> 16 & 0xff;
            local[3 * i + 1] = argb[i] >> 8 & 0xff;
            local[3 * i + 2] = argb[i] & 0xff;
        }
        pal = local;
    }
    /* Unchanged pixels: transparent. */
    for (int j = 0; j < H; j++) {
        const uint8_t *src = f->data[0] + j * f->linesize[0];
        const uint8_t *cv = s->canvas + (size_t)j * W * 3;
        uint8_t *dst = s->idx + (size_t)j * W;
        for (int i = 0; i < W; i++) {
            int c = src[i];
            if (c >= T)
                return AVERROR(EINVAL);
            if (!first) {
                int dr = pal[3 * c] - cv[3 * i], dg = pal[3 * c + 1] - cv[3 * i + 1],
                    db = pal[3 * c + 2] - cv[3 * i + 2];
                if (dr * dr + dg * dg + db * db <= s->keep_err)
                    c = T;
            }
            dst[i] = c;
        }
    }
    if (first) {
        x = y = 0;
        w = W;
        h = H;
    } else if (!sh_gif_changed_rect(s->idx, W, W, H, T, &x, &y, &w, &h)) {
        return 0;   /* identical: the one on screen lasts longer */
    }
    if ((ret = flush_pending(s, pos_cs)) < 0)
        return ret;
    p->blocks.size = 0;
    if ((ret = sh_gif_lzw_encode(s->lzw, s->idx + (size_t)y * W + x, W, w, h, s->code_size, pal,
                                 first ? -1 : T, s->max_err, &p->blocks)) < 0)
        return ret;
    /* The canvas takes what will be shown, lossy substitutions included. */
    for (int j = y; j < y + h; j++) {
        const uint8_t *row = s->idx + (size_t)j * W;
        uint8_t *cv = s->canvas + (size_t)j * W * 3;
        for (int i = x; i < x + w; i++) {
            if (row[i] == T)
                continue;
            memcpy(cv + 3 * i, pal + 3 * row[i], 3);
        }
    }
    p->valid = 1;
    p->pos_cs = pos_cs;
    memset(&p->img, 0, sizeof(p->img));
    p->img.x = x;
    p->img.y = y;
    p->img.w = w;
    p->img.h = h;
    p->img.transparent = first ? -1 : T;
    if (!s->has_global) {
        memset(p->palette, 0, sizeof(p->palette));
        memcpy(p->palette, local, (size_t)T * 3);
        p->img.palette = p->palette;
        p->img.palette_size = s->table_size;
    }
    p->img.blocks = p->blocks.data;
    p->img.blocks_size = p->blocks.size;
    s->last_pos_cs = pos_cs;
    s->state.images++;
    s->state.pending_bytes = (int64_t)p->blocks.size;
    return 0;
}

static int gif_send_frame(ShEncoder *enc, const AVFrame *f)
{
    GifPriv *s = enc->priv;
    int64_t pos_cs;
    if (s->flushed)
        return AVERROR_EOF;
    if (!f) {
        /* The last image lasts until the end: the last frame's, or the one set. */
        s->flushed = 1;
        return flush_pending(s, s->end_cs >= 0 ? s->end_cs : s->last_pos_cs + SH_GIF_MIN_DELAY);
    }
    pos_cs = av_rescale_q_rnd(f->pts, s->tb, CS, AV_ROUND_NEAR_INF);
    if (f->pkt_duration > 0)
        s->end_cs = FFMAX(s->end_cs, av_rescale_q_rnd(f->pts + f->pkt_duration, s->tb, CS, AV_ROUND_NEAR_INF));
    return put_frame(s, f, pos_cs);
}

static int gif_receive_packet(ShEncoder *enc, AVPacket *pkt)
{
    GifPriv *s = enc->priv;
    if (!s->nout)
        return s->flushed ? AVERROR_EOF : AVERROR(EAGAIN);
    av_packet_move_ref(pkt, s->out[s->out_head]);
    av_packet_free(&s->out[s->out_head++]);
    if (!--s->nout)
        s->out_head = 0;
    return 0;
}

const ShGifEncState *sh_gif_encoder_state(const ShEncoder *enc)
{
    return &((const GifPriv *)enc->priv)->state;
}

void sh_gif_encoder_set_end(ShEncoder *enc, int64_t end)
{
    GifPriv *s = enc->priv;
    s->end_cs = av_rescale_q_rnd(end, s->tb, CS, AV_ROUND_NEAR_INF);
}

const ShEncoderDesc sh_encoder_gif = {
    .name           = "gif",
    .codec          = "gif",
    .type           = AVMEDIA_TYPE_VIDEO,
    .caps           = SH_ENC_CAP_PALETTE,
    .containers     = "gif",
    .pix_fmt        = AV_PIX_FMT_PAL8,
    .open           = gif_open,
    .send_frame     = gif_send_frame,
    .receive_packet = gif_receive_packet,
    .close          = gif_close,
};
