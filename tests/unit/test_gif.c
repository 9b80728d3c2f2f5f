/*
 * Unit tests: GIF LZW (lossless and lossy), the frame optimiser and delays
 * (src/gif/), decoded back with giflib's own decoder.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <gif_lib.h>

#include <libavutil/common.h>
#include <libavutil/frame.h>
#include <libavutil/mem.h>

#include "gif/gif.h"
#include "output/gifmux.h"
#include "output/mux.h"
#include "stages/stage.h"

/* ---- helpers ---- */

typedef struct Reader {
    const ShGifBuf *b;
    size_t pos;
} Reader;

static int read_mem(GifFileType *gif, GifByteType *buf, int len)
{
    Reader *r = gif->UserData;
    size_t n = FFMIN((size_t)len, r->b->size - r->pos);
    memcpy(buf, r->b->data + r->pos, n);
    r->pos += n;
    return (int)n;
}

/* Decode a whole GIF from memory with giflib; NULL when it does not decode. */
static GifFileType *decode(const ShGifBuf *b, Reader *r)
{
    int err = 0;
    GifFileType *gif;
    r->b = b;
    r->pos = 0;
    gif = DGifOpen(r, read_mem, &err);
    if (!gif)
        return NULL;
    if (DGifSlurp(gif) != GIF_OK) {
        DGifCloseFile(gif, &err);
        return NULL;
    }
    return gif;
}

static void random_palette(uint8_t *pal, int n, unsigned seed)
{
    srand(seed);
    for (int i = 0; i < 3 * n; i++)
        pal[i] = rand() & 0xff;
}

/* A picture with runs and noise: what LZW meets in practice. */
static void fill_picture(uint8_t *pix, int w, int h, int colours, unsigned seed)
{
    srand(seed);
    for (int i = 0; i < w * h; i++)
        pix[i] = (rand() % 4 == 0) ? rand() % colours : (i / 7 + i / (3 * w)) % colours;
}

/* One image through the writer into memory; returns the file. */
static void write_one(ShGifBuf *file, const uint8_t *pix, int w, int h, const uint8_t *pal, int table,
                      int max_err, uint8_t *shown)
{
    ShGifWriter *wr = NULL;
    ShGifLzw *lzw = NULL;
    ShGifBuf blocks = { 0 };
    ShGifImage img = { 0 };
    memcpy(shown, pix, (size_t)w * h);
    assert_int_equal(sh_gif_lzw_alloc(&lzw), 0);
    assert_int_equal(sh_gif_lzw_encode(lzw, shown, w, w, h, sh_gif_code_size(table), pal, -1, max_err, &blocks), 0);
    assert_int_equal(sh_gif_writer_open(&wr, -1, file, w, h, pal, table), 0);
    img.w = w;
    img.h = h;
    img.delay_cs = 10;
    img.transparent = -1;
    img.blocks = blocks.data;
    img.blocks_size = blocks.size;
    assert_int_equal(sh_gif_writer_put(wr, &img), 0);
    assert_int_equal(sh_gif_writer_close(&wr), 0);
    sh_gif_buf_free(&blocks);
    sh_gif_lzw_free(&lzw);
}

/* ---- LZW ---- */

static void lossless_roundtrip(int w, int h, int table, unsigned seed)
{
    uint8_t pal[256 * 3];
    uint8_t *pix = malloc((size_t)w * h), *shown = malloc((size_t)w * h);
    ShGifBuf file = { 0 };
    Reader r;
    GifFileType *gif;
    int err;

    random_palette(pal, table, seed);
    fill_picture(pix, w, h, table, seed);
    write_one(&file, pix, w, h, pal, table, 0, shown);
    assert_memory_equal(shown, pix, (size_t)w * h);      /* lossless: nothing rewritten */
    assert_memory_equal(file.data, "GIF89a", 6);
    gif = decode(&file, &r);
    assert_non_null(gif);
    assert_int_equal(gif->ImageCount, 1);
    assert_int_equal(gif->SavedImages[0].ImageDesc.Width, w);
    assert_memory_equal(gif->SavedImages[0].RasterBits, pix, (size_t)w * h);
    DGifCloseFile(gif, &err);
    sh_gif_buf_free(&file);
    free(pix);
    free(shown);
}

static void test_lzw_lossless_roundtrip(void **state)
{
    (void)state;
    lossless_roundtrip(64, 48, 256, 1);
    lossless_roundtrip(500, 400, 256, 2);   /* many dictionary resets */
    lossless_roundtrip(33, 17, 4, 3);       /* minimum code size 2 */
    lossless_roundtrip(1, 1, 2, 4);
    lossless_roundtrip(300, 200, 32, 5);
}

static void test_lzw_lossy(void **state)
{
    const int w = 256, h = 160, table = 256, max_err = 3 * 20 * 20;
    uint8_t pal[256 * 3];
    uint8_t *pix = malloc(w * h), *shown = malloc(w * h), *exact = malloc(w * h);
    ShGifBuf lossy = { 0 }, lossless = { 0 };
    Reader r;
    GifFileType *gif;
    int err, changed = 0;
    (void)state;

    /* a grey ramp as palette, a noisy gradient as picture: lossy has room */
    for (int i = 0; i < 256; i++)
        pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = i;
    srand(7);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            pix[y * w + x] = av_clip_uint8(x + (rand() % 9) - 4);
    write_one(&lossless, pix, w, h, pal, table, 0, exact);
    write_one(&lossy, pix, w, h, pal, table, max_err, shown);
    assert_true(lossy.size < lossless.size * 0.9);
    gif = decode(&lossy, &r);
    assert_non_null(gif);
    /* decodes to what the encoder says is shown, each pixel within the error */
    assert_memory_equal(gif->SavedImages[0].RasterBits, shown, (size_t)w * h);
    for (int i = 0; i < w * h; i++) {
        int d = shown[i] - pix[i];
        assert_true(3 * d * d <= max_err + 3);
        changed += d != 0;
    }
    assert_true(changed > 0);
    DGifCloseFile(gif, &err);
    sh_gif_buf_free(&lossy);
    sh_gif_buf_free(&lossless);
    free(pix);
    free(shown);
    free(exact);
}

/* ---- the optimiser ---- */

static void test_changed_rect(void **state)
{
    uint8_t pix[20 * 10];
    int x, y, w, h;
    (void)state;
    memset(pix, 9, sizeof(pix));
    assert_int_equal(sh_gif_changed_rect(pix, 20, 20, 10, 9, &x, &y, &w, &h), 0);
    pix[3 * 20 + 5] = 1;
    pix[7 * 20 + 12] = 2;
    assert_int_equal(sh_gif_changed_rect(pix, 20, 20, 10, 9, &x, &y, &w, &h), 1);
    assert_int_equal(x, 5);
    assert_int_equal(y, 3);
    assert_int_equal(w, 8);
    assert_int_equal(h, 5);
}

static AVFrame *pal8(int w, int h, const uint8_t *pal, int n)
{
    AVFrame *f = av_frame_alloc();
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_PAL8;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int i = 0; i < n; i++)
        ((uint32_t *)f->data[1])[i] = 0xffu << 24 | pal[3 * i] << 16 | pal[3 * i + 1] << 8 | pal[3 * i + 2];
    for (int y = 0; y < h; y++)
        memset(f->data[0] + y * f->linesize[0], 0, w);
    return f;
}

static void test_stream_merge_and_crop(void **state)
{
    const int W = 40, H = 30;
    uint8_t pal[16 * 3];
    ShGifStreamConfig cfg = { W, H, 16, pal, 0 };
    ShGifStream *s = NULL;
    ShGifBuf file = { 0 };
    AVFrame *a, *b;
    Reader r;
    GifFileType *gif;
    GraphicsControlBlock g0, g1;
    int err;
    (void)state;

    for (int i = 0; i < 16; i++)
        pal[3 * i] = pal[3 * i + 1] = pal[3 * i + 2] = i * 16;
    a = pal8(W, H, pal, 16);
    b = pal8(W, H, pal, 16);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            a->data[0][y * a->linesize[0] + x] = b->data[0][y * b->linesize[0] + x] = (x + y) % 16;
    /* b differs from a in a 6x4 rectangle at (10, 20) */
    for (int y = 20; y < 24; y++)
        for (int x = 10; x < 16; x++)
            b->data[0][y * b->linesize[0] + x] = (b->data[0][y * b->linesize[0] + x] + 5) % 16;

    assert_int_equal(sh_gif_stream_open(&s, &cfg, -1, &file), 0);
    assert_int_equal(sh_gif_stream_put(s, a, 0), 0);
    assert_int_equal(sh_gif_stream_put(s, a, 10), 0);   /* identical: merged */
    assert_int_equal(sh_gif_stream_put(s, b, 31), 0);   /* changed: cropped */
    assert_int_equal(sh_gif_stream_put(s, b, 32), 0);   /* under 2 cs later: dropped */
    assert_int_equal(sh_gif_stream_finish(s, 50), 0);
    assert_int_equal(sh_gif_stream_images(s), 2);

    gif = decode(&file, &r);
    assert_non_null(gif);
    assert_int_equal(gif->ImageCount, 2);
    assert_int_equal(DGifSavedExtensionToGCB(gif, 0, &g0), GIF_OK);
    assert_int_equal(DGifSavedExtensionToGCB(gif, 1, &g1), GIF_OK);
    assert_int_equal(g0.DelayTime, 31);                  /* 0 -> 31: the merged frame's time included */
    assert_int_equal(g1.DelayTime, 19);                  /* 31 -> 50 */
    assert_int_equal(g0.DisposalMode, DISPOSE_DO_NOT);
    assert_int_equal(gif->SavedImages[1].ImageDesc.Left, 10);
    assert_int_equal(gif->SavedImages[1].ImageDesc.Top, 20);
    assert_int_equal(gif->SavedImages[1].ImageDesc.Width, 6);
    assert_int_equal(gif->SavedImages[1].ImageDesc.Height, 4);
    assert_int_equal(g1.TransparentColor, 16);           /* the slot after the colours */
    assert_null(gif->SavedImages[1].ImageDesc.ColorMap); /* the clip palette */
    assert_int_equal(gif->SColorMap->ColorCount, 32);    /* 16 colours + transparent -> 32 */
    /* the cropped image shows b's pixels */
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 6; x++)
            assert_int_equal(gif->SavedImages[1].RasterBits[y * 6 + x], b->data[0][(20 + y) * b->linesize[0] + 10 + x]);
    DGifCloseFile(gif, &err);
    sh_gif_stream_free(&s);
    sh_gif_buf_free(&file);
    av_frame_free(&a);
    av_frame_free(&b);
}

/* Delays are differences of rounded cumulative positions: no drift. */
static void test_delays_cumulative(void **state)
{
    const AVRational tb = { 1, 90000 };
    const int n = 90;
    uint8_t pal[4 * 3] = { 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255 };
    ShGifStreamConfig cfg = { 8, 8, 4, NULL, 0 };   /* per-frame palettes */
    ShGifStream *s = NULL;
    ShGifBuf file = { 0 };
    Reader r;
    GifFileType *gif;
    int64_t sum = 0;
    int err;
    (void)state;

    /* 3 fps from pts 1000 (the origin): positions 0, 33, 67, 100, ... */
    assert_int_equal(sh_gif_position_cs(1000 + 30000, 1000, tb), 33);
    assert_int_equal(sh_gif_position_cs(1000 + 60000, 1000, tb), 67);
    assert_int_equal(sh_gif_stream_open(&s, &cfg, -1, &file), 0);
    for (int i = 0; i < n; i++) {
        AVFrame *f = pal8(8, 8, pal, 4);
        f->data[0][0] = i % 4;   /* every frame changes */
        assert_int_equal(sh_gif_stream_put(s, f, sh_gif_position_cs(1000 + i * 30000, 1000, tb)), 0);
        av_frame_free(&f);
    }
    assert_int_equal(sh_gif_stream_finish(s, 3000), 0);   /* 30 s */
    gif = decode(&file, &r);
    assert_non_null(gif);
    assert_int_equal(gif->ImageCount, n);
    for (int i = 0; i < gif->ImageCount; i++) {
        GraphicsControlBlock g;
        assert_int_equal(DGifSavedExtensionToGCB(gif, i, &g), GIF_OK);
        assert_true(g.DelayTime == 33 || g.DelayTime == 34);
        assert_non_null(gif->SavedImages[i].ImageDesc.ColorMap);
        assert_int_equal(gif->SavedImages[i].ImageDesc.ColorMap->ColorCount, 8);  /* 4 + transparent */
        sum += g.DelayTime;
    }
    assert_int_equal(sum, 3000);
    DGifCloseFile(gif, &err);
    sh_gif_stream_free(&s);
    sh_gif_buf_free(&file);
}

/* A still longer than GIF's longest delay goes on in transparent 1x1 images. */
static void test_long_delay(void **state)
{
    uint8_t pal[2 * 3] = { 0, 0, 0, 255, 255, 255 };
    ShGifStreamConfig cfg = { 4, 4, 2, pal, 0 };
    ShGifStream *s = NULL;
    ShGifBuf file = { 0 };
    AVFrame *f = pal8(4, 4, pal, 2);
    Reader r;
    GifFileType *gif;
    int64_t sum = 0;
    int err;
    (void)state;

    assert_int_equal(sh_gif_stream_open(&s, &cfg, -1, &file), 0);
    assert_int_equal(sh_gif_stream_put(s, f, 0), 0);
    assert_int_equal(sh_gif_stream_finish(s, 200000), 0);   /* 2000 s */
    gif = decode(&file, &r);
    assert_non_null(gif);
    assert_int_equal(gif->ImageCount, 4);                   /* 655.35 s at most each */
    for (int i = 0; i < gif->ImageCount; i++) {
        GraphicsControlBlock g;
        assert_int_equal(DGifSavedExtensionToGCB(gif, i, &g), GIF_OK);
        sum += g.DelayTime;
    }
    assert_int_equal(sum, 200000);
    DGifCloseFile(gif, &err);
    sh_gif_stream_free(&s);
    sh_gif_buf_free(&file);
    av_frame_free(&f);
}

/* ---- the palette stage ---- */

static AVFrame *rgb_frame(int w, int h, int64_t pts)
{
    static const uint8_t colours[4][3] = { { 0, 0, 0 }, { 255, 255, 255 }, { 255, 0, 0 }, { 0, 0, 255 } };
    AVFrame *f = av_frame_alloc();
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_RGB24;
    f->pts = pts;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            memcpy(f->data[0] + y * f->linesize[0] + 3 * x, colours[(x / 4 + y / 4) % 4], 3);
    return f;
}

static void run_palette(int dither, const uint8_t *fixed, int colors)
{
    ShStreamInfo in = { 0 };
    ShStageArgs args = { 0 };
    ShStage *st = NULL;
    AVFrame *out = av_frame_alloc();
    in.type = AVMEDIA_TYPE_VIDEO;
    in.time_base = (AVRational){ 1, 1000 };
    in.width = 32;
    in.height = 16;
    in.pix_fmt = AV_PIX_FMT_RGB24;
    args.colors = colors;
    args.dither = dither;
    args.palette = fixed;
    assert_int_equal(sh_stage_create(&st, "palette", &in, &args), 0);
    assert_int_equal(st->out.pix_fmt, AV_PIX_FMT_PAL8);
    for (int i = 0; i < 3; i++) {
        AVFrame *f = rgb_frame(32, 16, 40 * i);
        assert_int_equal(sh_stage_send(st, f), 0);
        assert_int_equal(sh_stage_receive(st, out), 0);
        assert_int_equal(out->format, AV_PIX_FMT_PAL8);
        assert_int_equal(out->pts, 40 * i);                   /* timestamps kept */
        assert_int_equal(out->width, 32);
        /* four flat colours, far apart: each pixel gets exactly its colour back */
        for (int y = 0; y < 16; y++)
            for (int x = 0; x < 32; x++) {
                int idx = out->data[0][y * out->linesize[0] + x];
                uint32_t c = ((uint32_t *)out->data[1])[idx];
                const uint8_t *src = f->data[0] + y * f->linesize[0] + 3 * x;
                assert_true(idx < colors);
                assert_int_equal(c >> 16 & 0xff, src[0]);
                assert_int_equal(c >> 8 & 0xff, src[1]);
                assert_int_equal(c & 0xff, src[2]);
            }
        av_frame_unref(out);
        av_frame_free(&f);
    }
    assert_int_equal(sh_stage_send(st, NULL), 0);
    assert_int_equal(sh_stage_receive(st, out), AVERROR_EOF);
    sh_stage_free(&st);
    av_frame_free(&out);
}

static void test_palette_stage(void **state)
{
    static const uint8_t fixed[4 * 3] = { 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255 };
    (void)state;
    run_palette(SH_DITHER_NONE, NULL, 16);       /* a palette per frame */
    run_palette(SH_DITHER_DIFFUSION, NULL, 8);
    run_palette(SH_DITHER_NONE, fixed, 4);       /* the clip palette */
    run_palette(SH_DITHER_DIFFUSION, fixed, 4);
    run_palette(SH_DITHER_EXACT, NULL, 16);
    run_palette(SH_DITHER_EXACT, fixed, 4);
}

/* Greys two levels apart: exact keeps each one, none merges those of one
 * 5-bit cell (the cell's centre stands for it). */
static void test_palette_exact(void **state)
{
    uint8_t pal[8 * 3];
    ShStreamInfo in = { 0 };
    ShStageArgs args = { 0 };
    AVFrame *f = av_frame_alloc(), *out = av_frame_alloc();
    (void)state;
    for (int i = 0; i < 8; i++)
        memset(pal + 3 * i, 96 + 2 * i, 3);   /* 96, 98, ... 110 */
    in.type = AVMEDIA_TYPE_VIDEO;
    in.time_base = (AVRational){ 1, 1000 };
    in.width = 8;
    in.height = 2;
    in.pix_fmt = AV_PIX_FMT_RGB24;
    args.colors = 8;
    args.palette = pal;
    f->width = 8;
    f->height = 2;
    f->format = AV_PIX_FMT_RGB24;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < 2; y++)
        memcpy(f->data[0] + y * f->linesize[0], pal, sizeof(pal));
    for (int dither = SH_DITHER_NONE; dither <= SH_DITHER_EXACT; dither += SH_DITHER_EXACT) {
        ShStage *st = NULL;
        int distinct = 0;
        args.dither = dither;
        assert_int_equal(sh_stage_create(&st, "palette", &in, &args), 0);
        assert_int_equal(sh_stage_send(st, f), 0);
        assert_int_equal(sh_stage_receive(st, out), 0);
        for (int x = 0; x < 8; x++) {
            distinct += !x || out->data[0][x] != out->data[0][x - 1];
            if (dither == SH_DITHER_EXACT)
                assert_int_equal(out->data[0][x], x);
        }
        /* 96..110 spans two cells of 8 levels: two indices without exact */
        assert_int_equal(distinct, dither == SH_DITHER_EXACT ? 8 : 2);
        av_frame_unref(out);
        sh_stage_free(&st);
    }
    av_frame_free(&f);
    av_frame_free(&out);
}

/* Two gradients side by side, red on the left and green on the right. */
static AVFrame *two_gradients(void)
{
    AVFrame *f = av_frame_alloc();
    f->width = 64;
    f->height = 8;
    f->format = AV_PIX_FMT_RGB24;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 64; x++) {
            uint8_t *d = f->data[0] + y * f->linesize[0] + 3 * x;
            int v = (x % 32) * 8;
            d[0] = x < 32 ? v : 0;
            d[1] = x < 32 ? 0 : v;
            d[2] = 0;
        }
    return f;
}

/* Mean absolute error of a palette (RGB triplets) on the left and right halves of two_gradients(). */
static void halves_error(const AVFrame *f, const uint8_t *pal, int n, double *left, double *right)
{
    double e[2] = { 0, 0 };
    for (int x = 0; x < 64; x++) {
        const uint8_t *s = f->data[0] + 3 * x;
        int best = INT32_MAX;
        for (int i = 0; i < n; i++) {
            int d = abs(pal[3 * i] - s[0]) + abs(pal[3 * i + 1] - s[1]) + abs(pal[3 * i + 2] - s[2]);
            best = FFMIN(best, d);
        }
        e[x >= 32] += best / 32.0;
    }
    *left = e[0];
    *right = e[1];
}

/* The importance map: weighted pixels get the colours. With the left half
 * weighted 255 and the right 1, 6 colours go mostly to the left: its error
 * falls below what it was unweighted and below the right's. Per frame (the
 * stage) and for a clip palette (the histogram) alike. */
static void test_palette_importance(void **state)
{
    AVFrame *f = two_gradients(), *out = av_frame_alloc();
    uint8_t w[64 * 8], pal[6 * 3];
    const uint8_t *slot = NULL;
    double l[2], r[2];
    ShStreamInfo in = { 0 };
    ShStageArgs args = { 0 };
    (void)state;
    for (int i = 0; i < 64 * 8; i++)
        w[i] = i % 64 < 32 ? 255 : 1;
    in.type = AVMEDIA_TYPE_VIDEO;
    in.time_base = (AVRational){ 1, 1000 };
    in.width = 64;
    in.height = 8;
    in.pix_fmt = AV_PIX_FMT_RGB24;
    args.colors = 6;
    args.importance = &slot;
    for (int k = 0; k < 2; k++) {
        ShStage *st = NULL;
        const uint32_t *argb;
        slot = k ? w : NULL;
        assert_int_equal(sh_stage_create(&st, "palette", &in, &args), 0);
        assert_int_equal(sh_stage_send(st, f), 0);
        assert_int_equal(sh_stage_receive(st, out), 0);
        argb = (const uint32_t *)out->data[1];
        for (int i = 0; i < 6; i++) {
            pal[3 * i] = argb[i] >> 16 & 0xff;
            pal[3 * i + 1] = argb[i] >> 8 & 0xff;
            pal[3 * i + 2] = argb[i] & 0xff;
        }
        halves_error(f, pal, 6, &l[k], &r[k]);
        av_frame_unref(out);
        sh_stage_free(&st);
    }
    print_message("per frame: left %.1f -> %.1f, right %.1f -> %.1f\n", l[0], l[1], r[0], r[1]);
    assert_true(l[1] < l[0] * 0.75);
    assert_true(l[1] < r[1] * 0.75);
    for (int k = 0; k < 2; k++) {
        uint8_t *ws[1] = { k ? w : NULL };
        int n = sh_gif_global_palette(&f, ws, 1, 6, pal);
        assert_true(n >= 2 && n <= 6);
        halves_error(f, pal, n, &l[k], &r[k]);
    }
    print_message("clip palette: left %.1f -> %.1f, right %.1f -> %.1f\n", l[0], l[1], r[0], r[1]);
    assert_true(l[1] < l[0] * 0.75);
    assert_true(l[1] < r[1] * 0.75);
    av_frame_free(&f);
    av_frame_free(&out);
}

/* ---- the encoder and the muxer, as the job drives them ---- */

/*
 * The gif encoder through send_frame/receive_packet: one packet per image,
 * held back until the next position; its duration the delay (frame
 * durations in the frames' time base give the end); the muxer (sh_mux,
 * "gif") writes a file giflib reads back with those delays.
 */
static void test_encoder_packets_and_mux(void **state)
{
    const ShEncoderDesc *d = sh_encoder_find("gif");
    const AVRational tb = { 1, 1000 };
    uint8_t pal[4 * 3] = { 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0, 255 };
    ShEncoderConfig cfg = { 0 };
    ShEncoder *enc = NULL;
    ShMuxer *mx = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVPacket *got[8] = { NULL };
    const char *tmp = getenv("TMPDIR");
    char path[4096];
    int fd, n = 0, err;
    /* ms: 0 shows a; 100 is a again (merged); 250 shows b; 251 is too soon; the film ends at 700 */
    const int64_t pts[4] = { 0, 100, 250, 251 };
    const int which[4] = { 0, 0, 1, 1 };
    AVFrame *f[2];
    ShGifImage img;
    GifFileType *gif;
    (void)state;

    assert_non_null(d);
    assert_true(d->caps & SH_ENC_CAP_PALETTE);
    snprintf(path, sizeof(path), "%s/test_gif_mux_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    f[0] = pal8(16, 8, pal, 4);
    f[1] = pal8(16, 8, pal, 4);
    for (int y = 2; y < 5; y++)
        for (int x = 3; x < 9; x++)
            f[1]->data[0][y * f[1]->linesize[0] + x] = 2;   /* a 6x3 change at (3, 2) */
    cfg.width = 16;
    cfg.height = 8;
    cfg.pix_fmt = AV_PIX_FMT_PAL8;
    cfg.time_base = tb;
    cfg.colors = 4;
    cfg.palette = pal;
    assert_int_equal(sh_encoder_open(&enc, d, &cfg), 0);
    assert_int_equal(enc->par->codec_id, AV_CODEC_ID_GIF);
    assert_int_equal(enc->par->extradata_size, 8 * 3);        /* 4 colours + transparent -> 8 */
    for (int i = 0; i < 4; i++) {
        f[which[i]]->pts = pts[i];
        f[which[i]]->pkt_duration = (i < 3 ? pts[i + 1] : 700) - pts[i];
        assert_int_equal(sh_encoder_send_frame(enc, f[which[i]]), 0);
        while (sh_encoder_receive_packet(enc, pkt) == 0) {
            assert_true(n < 8);
            got[n++] = av_packet_clone(pkt);
            av_packet_unref(pkt);
        }
        /* nothing comes out before the next image is known */
        assert_int_equal(n, i < 2 ? 0 : 1);
    }
    assert_int_equal(sh_encoder_send_frame(enc, NULL), 0);
    while (sh_encoder_receive_packet(enc, pkt) == 0) {
        got[n++] = av_packet_clone(pkt);
        av_packet_unref(pkt);
    }
    assert_int_equal(sh_encoder_receive_packet(enc, pkt), AVERROR_EOF);
    assert_int_equal(n, 2);
    assert_int_equal(got[0]->pts, 0);
    assert_int_equal(got[0]->duration, 25);                   /* cs: the merged frame's time included */
    assert_int_equal(got[1]->pts, 25);
    assert_int_equal(got[1]->duration, 45);                   /* until the last frame's end, 700 ms */
    assert_int_equal(sh_gif_packet_image(got[1], &img), 0);
    assert_int_equal(img.x, 3);
    assert_int_equal(img.y, 2);
    assert_int_equal(img.w, 6);
    assert_int_equal(img.h, 3);
    assert_int_equal(img.transparent, 4);
    assert_null(img.palette);

    assert_int_equal(sh_mux_open(&mx, path, "gif"), 0);
    assert_int_equal(sh_mux_add_stream(mx, enc->par, enc->time_base, NULL), 0);
    assert_int_equal(sh_mux_write_header(mx), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(sh_mux_write(mx, 0, got[i]), 0);
    assert_int_equal(sh_mux_finish(mx), 0);
    sh_mux_free(&mx);
    gif = DGifOpenFileName(path, &err);
    assert_non_null(gif);
    assert_int_equal(DGifSlurp(gif), GIF_OK);
    assert_int_equal(gif->ImageCount, 2);
    assert_int_equal(gif->SColorMap->ColorCount, 8);
    {
        GraphicsControlBlock g0, g1;
        assert_int_equal(DGifSavedExtensionToGCB(gif, 0, &g0), GIF_OK);
        assert_int_equal(DGifSavedExtensionToGCB(gif, 1, &g1), GIF_OK);
        assert_int_equal(g0.DelayTime, 25);
        assert_int_equal(g1.DelayTime, 45);
        assert_int_equal(g1.TransparentColor, 4);
        assert_int_equal(gif->SavedImages[1].ImageDesc.Left, 3);
        assert_int_equal(gif->SavedImages[1].ImageDesc.Width, 6);
        for (int i = 0; i < 6 * 3; i++)
            assert_int_equal(gif->SavedImages[1].RasterBits[i], 2);
    }
    DGifCloseFile(gif, &err);
    unlink(path);
    for (int i = 0; i < n; i++)
        av_packet_free(&got[i]);
    av_packet_free(&pkt);
    sh_encoder_free(&enc);
    av_frame_free(&f[0]);
    av_frame_free(&f[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lzw_lossless_roundtrip),
        cmocka_unit_test(test_lzw_lossy),
        cmocka_unit_test(test_changed_rect),
        cmocka_unit_test(test_stream_merge_and_crop),
        cmocka_unit_test(test_delays_cumulative),
        cmocka_unit_test(test_long_delay),
        cmocka_unit_test(test_encoder_packets_and_mux),
        cmocka_unit_test(test_palette_stage),
        cmocka_unit_test(test_palette_exact),
        cmocka_unit_test(test_palette_importance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
