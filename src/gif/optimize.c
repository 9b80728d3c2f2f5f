/*
 * The GIF stream: frames in, optimised and compressed images out.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The stream keeps the canvas (what a player shows, RGB) and compares each
 * new frame with it: pixels whose new colour is the shown one, or close to
 * it, become transparent, so the previous frame shows through ("leave in
 * place" disposal); the image is cropped to the rectangle that still
 * changes; a frame with nothing left is merged into the one on screen,
 * which then lasts longer. One image is held back until the next position
 * is known: its delay is the difference of the two positions.
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "gif/gif.h"

typedef struct Pending {
    int valid;
    int64_t pos_cs;
    ShGifImage img;          /* blocks and palette point into the buffers below */
    ShGifBuf blocks;
    uint8_t palette[256 * 3];
} Pending;

struct ShGifStream {
    ShGifStreamConfig cfg;
    ShGifWriter *writer;
    ShGifLzw *lzw;
    int table_size, code_size;
    uint8_t global[256 * 3];
    uint8_t *canvas;          /* RGB24 */
    uint8_t *idx;             /* the frame's indices, rewritten as shown */
    int64_t last_pos_cs;      /* of the last frame shown, -1 before the first */
    Pending pending;
    int64_t images;
    int max_err, keep_err;    /* lossy LZW; "unchanged" within this */
    int finished;
    int64_t final_bytes;      /* once finished */
};

int64_t sh_gif_position_cs(int64_t pts, int64_t origin, AVRational tb)
{
    return av_rescale_q_rnd(pts - origin, tb, (AVRational){ 1, 100 }, AV_ROUND_NEAR_INF);
}

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

int sh_gif_stream_open(ShGifStream **ps, const ShGifStreamConfig *cfg, int fd, ShGifBuf *mem)
{
    ShGifStream *s;
    int ret;

    if (cfg->colors < 1 || cfg->colors > 255 || cfg->width < 1 || cfg->height < 1 ||
        cfg->width > 65535 || cfg->height > 65535)
        return AVERROR(EINVAL);
    if (!(s = av_mallocz(sizeof(*s))))
        return AVERROR(ENOMEM);
    s->cfg = *cfg;
    s->cfg.palette = cfg->palette ? s->global : NULL;   /* a copy: the caller's may go */
    s->table_size = sh_gif_table_size(cfg->colors);
    s->code_size = sh_gif_code_size(s->table_size);
    s->last_pos_cs = -1;
    /* lossy 100 lets a pixel be ~25 levels off per channel in the LZW and
     * ~12 when deciding it has not changed; error-free at 0. */
    s->max_err = cfg->lossy > 0 ? 3 * (cfg->lossy / 4) * (cfg->lossy / 4) + 3 : 0;
    s->keep_err = 3 * (cfg->lossy / 8) * (cfg->lossy / 8) + (cfg->palette ? 0 : 12);
    s->canvas = av_mallocz((size_t)cfg->width * cfg->height * 3);
    s->idx = av_malloc((size_t)cfg->width * cfg->height);
    if (!s->canvas || !s->idx) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    if (cfg->palette)
        memcpy(s->global, cfg->palette, (size_t)cfg->colors * 3);
    if ((ret = sh_gif_lzw_alloc(&s->lzw)) < 0 ||
        (ret = sh_gif_writer_open(&s->writer, fd, mem, cfg->width, cfg->height,
                                  cfg->palette ? s->global : NULL, s->table_size)) < 0)
        goto fail;
    *ps = s;
    return 0;
fail:
    sh_gif_stream_free(&s);
    return ret;
}

/* Write the held image, lasting until pos_cs; a delay longer than GIF's
 * longest goes on in 1x1 transparent images. */
static int flush_pending(ShGifStream *s, int64_t pos_cs)
{
    Pending *p = &s->pending;
    int64_t left;
    int ret;
    if (!p->valid)
        return 0;
    left = FFMAX(pos_cs - p->pos_cs, SH_GIF_MIN_DELAY);
    p->img.delay_cs = (int)FFMIN(left, SH_GIF_MAX_DELAY);
    if ((ret = sh_gif_writer_put(s->writer, &p->img)) < 0)
        return ret;
    left -= p->img.delay_cs;
    while (left > 0) {
        uint8_t one = (uint8_t)s->cfg.colors;
        ShGifImage img = { 0 };
        ShGifBuf b = { 0 };
        if ((ret = sh_gif_lzw_encode(s->lzw, &one, 1, 1, 1, s->code_size, s->global, -1, 0, &b)) < 0)
            return ret;
        img.w = img.h = 1;
        img.delay_cs = (int)FFMIN(FFMAX(left, SH_GIF_MIN_DELAY), SH_GIF_MAX_DELAY);
        img.transparent = s->cfg.colors;
        img.palette = p->img.palette;
        img.palette_size = p->img.palette_size;
        img.blocks = b.data;
        img.blocks_size = b.size;
        ret = sh_gif_writer_put(s->writer, &img);
        sh_gif_buf_free(&b);
        if (ret < 0)
            return ret;
        s->images++;
        left -= img.delay_cs;
    }
    p->valid = 0;
    return 0;
}

int sh_gif_stream_put(ShGifStream *s, const AVFrame *f, int64_t pos_cs)
{
    const int W = s->cfg.width, H = s->cfg.height, T = s->cfg.colors;
    const uint8_t *pal;
    uint8_t local[256 * 3];
    int first = s->last_pos_cs < 0, x, y, w, h, ret;
    Pending *p = &s->pending;

    if (f->width != W || f->height != H || f->format != AV_PIX_FMT_PAL8)
        return AVERROR(EINVAL);
    if (!first && pos_cs < s->last_pos_cs + SH_GIF_MIN_DELAY)
        return 0;   /* too soon to be seen: players would stretch it to 10 cs */
    if (s->cfg.palette) {
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
    if (!s->cfg.palette) {
        memset(p->palette, 0, sizeof(p->palette));
        memcpy(p->palette, local, (size_t)T * 3);
        p->img.palette = p->palette;
        p->img.palette_size = s->table_size;
    }
    p->img.blocks = p->blocks.data;
    p->img.blocks_size = p->blocks.size;
    s->last_pos_cs = pos_cs;
    s->images++;
    return 0;
}

int sh_gif_stream_finish(ShGifStream *s, int64_t end_cs)
{
    int ret;
    if (s->finished)
        return 0;
    s->finished = 1;
    if ((ret = flush_pending(s, end_cs)) < 0) {
        sh_gif_writer_close(&s->writer);
        return ret;
    }
    s->final_bytes = sh_gif_writer_bytes(s->writer) + 1;   /* and the trailer */
    return sh_gif_writer_close(&s->writer);
}

const uint8_t *sh_gif_stream_canvas(const ShGifStream *s)
{
    return s->canvas;
}

int64_t sh_gif_stream_bytes(const ShGifStream *s)
{
    if (s->finished)
        return s->final_bytes;
    /* the held image and the trailer are not written yet */
    return (s->writer ? sh_gif_writer_bytes(s->writer) : 0) +
           (s->pending.valid ? (int64_t)s->pending.blocks.size + 20 : 0);
}

int64_t sh_gif_stream_images(const ShGifStream *s)
{
    return s->images;
}

void sh_gif_stream_free(ShGifStream **ps)
{
    ShGifStream *s = *ps;
    if (!s)
        return;
    sh_gif_writer_close(&s->writer);
    sh_gif_lzw_free(&s->lzw);
    sh_gif_buf_free(&s->pending.blocks);
    av_free(s->canvas);
    av_free(s->idx);
    av_freep(ps);
}
