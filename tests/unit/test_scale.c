/*
 * Unit tests: sh_scale_dims (geometry) and the "scale" stage (src/stages/stage.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>

#include "stages/stage.h"

/* ---- geometry ---------------------------------------------------------- */

static void dims(int w, int h, AVRational sar, int rot, int dh, int *ow, int *oh)
{
    *ow = *oh = -1;
    sh_scale_dims(w, h, sar, rot, dh, ow, oh);
}

/* Square pixels, no rotation: the display height is honoured and the width follows the aspect. */
static void test_dims_plain(void **state)
{
    int w, h;
    (void)state;
    dims(1920, 1080, (AVRational){ 1, 1 }, 0, 720, &w, &h);
    assert_int_equal(w, 1280);
    assert_int_equal(h, 720);
    dims(1920, 1080, (AVRational){ 1, 1 }, 0, 360, &w, &h);
    assert_int_equal(w, 640);
    assert_int_equal(h, 360);
    dims(1280, 720, (AVRational){ 1, 1 }, 180, 360, &w, &h); /* 180 degrees: no swap */
    assert_int_equal(w, 640);
    assert_int_equal(h, 360);
    dims(640, 480, (AVRational){ 0, 1 }, 0, 240, &w, &h);    /* unknown SAR: square */
    assert_int_equal(w, 320);
    assert_int_equal(h, 240);
}

/* A display height <= 0 or above the source's means the source size. */
static void test_dims_source_size(void **state)
{
    static const int wanted[] = { 0, -1, -720, 1081, 2160, 100000 };
    int w, h;
    (void)state;
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        dims(1920, 1080, (AVRational){ 1, 1 }, 0, wanted[i], &w, &h);
        assert_int_equal(w, 1920);
        assert_int_equal(h, 1080);
        dims(1080, 1920, (AVRational){ 1, 1 }, 90, wanted[i], &w, &h);
        assert_int_equal(w, 1080);
        assert_int_equal(h, 1920);
    }
}

/* An odd-sized source gives even dimensions that do not exceed it. */
static void test_dims_odd_source(void **state)
{
    int w, h;
    (void)state;
    dims(321, 241, (AVRational){ 1, 1 }, 0, 0, &w, &h);
    assert_int_equal(h, 240);
    assert_int_equal(w, 320);
    /* 323x240: the nearest even widths are 322 and 324; only 322 fits in the source */
    dims(323, 240, (AVRational){ 1, 1 }, 0, 0, &w, &h);
    assert_int_equal(h, 240);
    assert_int_equal(w, 322);
    dims(240, 323, (AVRational){ 1, 1 }, 90, 0, &w, &h);
    assert_int_equal(w, 240);
    assert_int_equal(h, 322);
}

/* Non-square pixels are baked into the size: 340x256 at SAR 4:3 displays 453.33x256. */
static void test_dims_anamorphic(void **state)
{
    int w, h;
    (void)state;
    dims(340, 256, (AVRational){ 4, 3 }, 0, 0, &w, &h);
    assert_int_equal(h, 256);
    assert_true(w == 452 || w == 454);               /* even, within a step of 453.33 */
    dims(340, 256, (AVRational){ 4, 3 }, 0, 128, &w, &h);
    assert_int_equal(h, 128);
    assert_true(w == 226 || w == 228);               /* 226.67 */
    /* DVD 16:9: 720x480 at 32:27 displays 853.33x480 */
    dims(720, 480, (AVRational){ 32, 27 }, 0, 480, &w, &h);
    assert_int_equal(h, 480);
    assert_int_equal(w, 854);
    /* HDV: 1440x1080 at 4:3 is 1920x1080 */
    dims(1440, 1080, (AVRational){ 4, 3 }, 0, 720, &w, &h);
    assert_int_equal(w, 1280);
    assert_int_equal(h, 720);
}

/* 90/270 rotation: geometry is worked out on the display and handed back in coded orientation. */
static void test_dims_rotation(void **state)
{
    int w, h;
    (void)state;
    /* landscape-coded, displayed portrait 1080x1920: 640 high shows 360x640, coded 640x360 */
    dims(1920, 1080, (AVRational){ 1, 1 }, 90, 640, &w, &h);
    assert_int_equal(w, 640);
    assert_int_equal(h, 360);
    /* portrait-coded, displayed landscape 1920x1080: 720 high shows 1280x720, coded 720x1280 */
    dims(1080, 1920, (AVRational){ 1, 1 }, 270, 720, &w, &h);
    assert_int_equal(w, 720);
    assert_int_equal(h, 1280);
    dims(1080, 1920, (AVRational){ 1, 1 }, 90, 720, &w, &h);
    assert_int_equal(w, 720);
    assert_int_equal(h, 1280);
    /* SAR applies to coded pixels before the rotation: 720x480 at 32:27 shows 480x853.33 */
    dims(720, 480, (AVRational){ 32, 27 }, 90, 0, &w, &h);
    assert_int_equal(w, 852);                        /* display height: 853.33 down to even */
    assert_int_equal(h, 480);                        /* display width: 852*480/853.33 = 479.25 */
}

/* Tiny requests still give at least 2x2. */
static void test_dims_minimum(void **state)
{
    int w, h;
    (void)state;
    dims(1920, 1080, (AVRational){ 1, 1 }, 0, 1, &w, &h);
    assert_int_equal(h, 2);
    assert_true(w >= 2 && w <= 4);
    dims(16, 2000, (AVRational){ 1, 1 }, 0, 36, &w, &h);  /* very tall: width would be 0.29 */
    assert_int_equal(h, 36);
    assert_int_equal(w, 2);
}

/* Over many sources, SARs, rotations and heights: even, >= 2, not above the source, aspect kept. */
static void test_dims_properties(void **state)
{
    static const int srcs[][2] = {
        { 1920, 1080 }, { 1280, 720 }, { 640, 480 }, { 321, 241 }, { 323, 240 }, { 340, 256 },
        { 720, 576 }, { 720, 480 }, { 1080, 1920 }, { 99, 101 }, { 3840, 1606 }, { 176, 144 },
    };
    static const AVRational sars[] = { { 1, 1 }, { 4, 3 }, { 32, 27 }, { 8, 9 }, { 64, 45 }, { 16, 11 } };
    static const int rots[] = { 0, 90, 180, 270 };
    static const int heights[] = { -1, 0, 2, 3, 36, 99, 100, 240, 241, 359, 360, 480, 719, 720, 1080, 5000 };
    (void)state;
    for (size_t a = 0; a < sizeof(srcs) / sizeof(srcs[0]); a++)
    for (size_t b = 0; b < sizeof(sars) / sizeof(sars[0]); b++)
    for (size_t c = 0; c < sizeof(rots) / sizeof(rots[0]); c++)
    for (size_t d = 0; d < sizeof(heights) / sizeof(heights[0]); d++) {
        int W = srcs[a][0], H = srcs[a][1], rot = rots[c], want = heights[d];
        AVRational sar = sars[b];
        int swap = rot == 90 || rot == 270, w, h, dw, dh;
        double sdw = W * av_q2d(sar), sdh = H, ideal;
        if (swap) {
            double t = sdw;
            sdw = sdh;
            sdh = t;
        }
        dims(W, H, sar, rot, want, &w, &h);
        dw = swap ? h : w;
        dh = swap ? w : h;
        if (w < 2 || h < 2 || (w & 1) || (h & 1))
            fail_msg("%dx%d sar %d:%d rot %d want %d: %dx%d not even >= 2",
                     W, H, sar.num, sar.den, rot, want, w, h);
        /* height: the wanted one (to even), or the source's when out of range */
        if (want <= 0 || want > sdh) {
            if (dh != 2 * (int)(sdh / 2))
                fail_msg("%dx%d sar %d:%d rot %d want %d: display height %d, source %.2f",
                         W, H, sar.num, sar.den, rot, want, dh, sdh);
        } else if (abs(dh - want) > 1 || dh > sdh) {
            fail_msg("%dx%d sar %d:%d rot %d want %d: display height %d",
                     W, H, sar.num, sar.den, rot, want, dh);
        }
        /* never larger than the source: coded for square pixels, display otherwise */
        if (sar.num == sar.den ? (w > W || h > H) : (dw >= sdw + 1 || dh > sdh))
            fail_msg("%dx%d sar %d:%d rot %d want %d: %dx%d is larger than the source",
                     W, H, sar.num, sar.den, rot, want, w, h);
        /* aspect within one 2-pixel rounding step (the 2-pixel minimum aside) */
        ideal = dh * sdw / sdh;
        if (fabs(dw - ideal) > 2.0 && !(dw == 2 && ideal < 2))
            fail_msg("%dx%d sar %d:%d rot %d want %d: display %dx%d, ideal width %.2f",
                     W, H, sar.num, sar.den, rot, want, dw, dh, ideal);
    }
}

/* ---- the stage ------------------------------------------------------------ */

static AVFrame *make_frame(int w, int h, enum AVPixelFormat fmt, int y, int u, int v)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->width = w;
    f->height = h;
    f->format = fmt;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int p = 0; p < 3; p++) {
        int pw = p ? AV_CEIL_RSHIFT(w, d->log2_chroma_w) : w;
        int ph = p ? AV_CEIL_RSHIFT(h, d->log2_chroma_h) : h;
        for (int r = 0; r < ph; r++)
            memset(f->data[p] + (ptrdiff_t)r * f->linesize[p], p == 0 ? y : p == 1 ? u : v, pw);
    }
    return f;
}

/* Every sample of plane p in rows [r0, r1) is within tol of want. */
static void check_plane(const AVFrame *f, int p, int r0, int r1, int want, int tol)
{
    int pw = p ? (f->width + 1) / 2 : f->width;
    for (int r = r0; r < r1; r++)
        for (int x = 0; x < pw; x++) {
            int got = f->data[p][(ptrdiff_t)r * f->linesize[p] + x];
            if (abs(got - want) > tol)
                fail_msg("plane %d (%d,%d): %d, want %d +- %d", p, x, r, got, want, tol);
        }
}

typedef struct Fixture {
    ShStage *st;
    AVFrame *in, *out;
} Fixture;

static int setup(void **state)
{
    Fixture *f = calloc(1, sizeof(*f));
    if (!f || !(f->out = av_frame_alloc()))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    sh_stage_free(&f->st);
    av_frame_free(&f->in);
    av_frame_free(&f->out);
    free(f);
    return 0;
}

static int create_scale(Fixture *f, int in_w, int in_h, enum AVPixelFormat in_fmt, int w, int h)
{
    ShStreamInfo in = { 0 };
    ShStageArgs args = { 0 };
    in.type = AVMEDIA_TYPE_VIDEO;
    in.time_base = (AVRational){ 1, 90000 };
    in.width = in_w;
    in.height = in_h;
    in.pix_fmt = in_fmt;
    in.sar = (AVRational){ 1, 1 };
    args.width = w;
    args.height = h;
    args.pix_fmt = AV_PIX_FMT_YUV420P;
    return sh_stage_create(&f->st, "scale", &in, &args);
}

/* Send f->in, receive one frame into f->out and check its geometry, format and pts. */
static void scale_one(Fixture *f, int w, int h, int64_t pts)
{
    f->in->pts = pts;
    assert_int_equal(sh_stage_send(f->st, f->in), 0);
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->width, w);
    assert_int_equal(f->out->height, h);
    assert_int_equal(f->out->format, AV_PIX_FMT_YUV420P);
    assert_int_equal(f->out->pts, pts);
    assert_int_equal(f->out->sample_aspect_ratio.num, f->out->sample_aspect_ratio.den);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR(EAGAIN)); /* one in, one out */
}

/* 640x360 yuv420p halved: right size, format, pts, and the colour survives (area path). */
static void test_stage_downscale(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 180), 0);
    assert_int_equal(f->st->out.width, 320);
    assert_int_equal(f->st->out.height, 180);
    assert_int_equal(f->st->out.pix_fmt, AV_PIX_FMT_YUV420P);
    assert_int_equal(f->st->out.sar.num, f->st->out.sar.den);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 200, 100, 150);
    scale_one(f, 320, 180, 123456);
    check_plane(f->out, 0, 0, 180, 200, 2);
    check_plane(f->out, 1, 0, 90, 100, 2);
    check_plane(f->out, 2, 0, 90, 150, 2);
    av_frame_unref(f->out);
}

/* A small reduction (bicubic path) keeps a flat colour flat. */
static void test_stage_small_reduction(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 480, 270), 0);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 90, 60, 200);
    scale_one(f, 480, 270, 7);
    check_plane(f->out, 0, 0, 270, 90, 2);
    check_plane(f->out, 1, 0, 135, 60, 2);
    check_plane(f->out, 2, 0, 135, 200, 2);
    av_frame_unref(f->out);
}

/* yuvj420p (full range) becomes limited-range yuv420p: black 0 -> 16, white 255 -> 235. */
static void test_stage_full_range_jpeg_format(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUVJ420P, 320, 180), 0);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUVJ420P, 0, 128, 128);
    for (int r = 180; r < 360; r++)                     /* bottom half white */
        memset(f->in->data[0] + (ptrdiff_t)r * f->in->linesize[0], 255, 640);
    f->in->color_range = AVCOL_RANGE_JPEG;
    scale_one(f, 320, 180, 3003);
    assert_int_equal(f->out->color_range, AVCOL_RANGE_MPEG);
    check_plane(f->out, 0, 0, 80, 16, 2);
    check_plane(f->out, 0, 100, 180, 235, 2);
    check_plane(f->out, 1, 0, 90, 128, 2);
    av_frame_unref(f->out);
}

/* Full range flagged on plain yuv420p at the output size is converted, not passed through. */
static void test_stage_full_range_same_size(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 320, 180, AV_PIX_FMT_YUV420P, 320, 180), 0);
    f->in = make_frame(320, 180, AV_PIX_FMT_YUV420P, 0, 128, 128);
    f->in->color_range = AVCOL_RANGE_JPEG;
    scale_one(f, 320, 180, 1);
    assert_ptr_not_equal(f->out->data[0], f->in->data[0]);
    assert_int_equal(f->out->color_range, AVCOL_RANGE_MPEG);
    check_plane(f->out, 0, 0, 180, 16, 2);
    av_frame_unref(f->out);
}

/* An odd-sized source (321x241) scales to the even size asked for, colour intact. */
static void test_stage_odd_source(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 321, 241, AV_PIX_FMT_YUV420P, 320, 240), 0);
    f->in = make_frame(321, 241, AV_PIX_FMT_YUV420P, 77, 140, 110);
    scale_one(f, 320, 240, 42);
    check_plane(f->out, 0, 0, 240, 77, 2);
    check_plane(f->out, 1, 0, 120, 140, 2);
    check_plane(f->out, 2, 0, 120, 110, 2);
    av_frame_unref(f->out);
}

/* Same size and format, limited range: the frame passes through as a reference, unchanged. */
static void test_stage_passthrough(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 320, 180, AV_PIX_FMT_YUV420P, 320, 180), 0);
    f->in = make_frame(320, 180, AV_PIX_FMT_YUV420P, 33, 44, 55);
    f->in->color_range = AVCOL_RANGE_MPEG;
    scale_one(f, 320, 180, 99);
    assert_ptr_equal(f->out->data[0], f->in->data[0]);
    check_plane(f->out, 0, 0, 180, 33, 0);
    av_frame_unref(f->out);
}

/* The input size may change mid-stream: every frame still comes out at the output size. */
static void test_stage_input_size_change(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 180), 0);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 50, 128, 128);
    scale_one(f, 320, 180, 0);
    check_plane(f->out, 0, 0, 180, 50, 2);
    av_frame_unref(f->out);
    av_frame_free(&f->in);
    f->in = make_frame(1280, 720, AV_PIX_FMT_YUVJ420P, 180, 128, 128);
    f->in->color_range = AVCOL_RANGE_JPEG;
    scale_one(f, 320, 180, 3000);
    check_plane(f->out, 0, 0, 180, 16 + (180 * 219 + 127) / 255, 2);
    av_frame_unref(f->out);
}

/* The range is read from each frame: a full-range frame does not make the next limited one full. */
static void test_stage_range_per_frame(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 180), 0);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 0, 128, 128);
    f->in->color_range = AVCOL_RANGE_JPEG;     /* full-range black */
    scale_one(f, 320, 180, 0);
    check_plane(f->out, 0, 0, 180, 16, 2);
    av_frame_unref(f->out);
    av_frame_free(&f->in);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 16, 128, 128);
    f->in->color_range = AVCOL_RANGE_MPEG;     /* limited-range black: stays 16 */
    scale_one(f, 320, 180, 3000);
    check_plane(f->out, 0, 0, 180, 16, 2);
    av_frame_unref(f->out);
}

/* Receive asks for input until EOF; send refuses while a frame waits; EOF after send(NULL). */
static void test_stage_eagain_eof(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 180), 0);
    f->in = make_frame(640, 360, AV_PIX_FMT_YUV420P, 10, 128, 128);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR(EAGAIN));
    f->in->pts = 1;
    assert_int_equal(sh_stage_send(f->st, f->in), 0);
    f->in->pts = 2;
    assert_int_equal(sh_stage_send(f->st, f->in), AVERROR(EAGAIN));
    assert_int_equal(sh_stage_send(f->st, NULL), 0);
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->pts, 1);
    av_frame_unref(f->out);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR_EOF);
}

/* Odd, too small or zero output sizes are refused at creation. */
static void test_stage_rejects_bad_size(void **state)
{
    Fixture *f = *state;
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 321, 180), AVERROR(EINVAL));
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 181), AVERROR(EINVAL));
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 0, 180), AVERROR(EINVAL));
    assert_int_equal(create_scale(f, 640, 360, AV_PIX_FMT_YUV420P, 320, 0), AVERROR(EINVAL));
    assert_null(f->st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dims_plain),
        cmocka_unit_test(test_dims_source_size),
        cmocka_unit_test(test_dims_odd_source),
        cmocka_unit_test(test_dims_anamorphic),
        cmocka_unit_test(test_dims_rotation),
        cmocka_unit_test(test_dims_minimum),
        cmocka_unit_test(test_dims_properties),
        cmocka_unit_test_setup_teardown(test_stage_downscale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_small_reduction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_full_range_jpeg_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_full_range_same_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_odd_source, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_passthrough, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_input_size_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_range_per_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_eagain_eof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_rejects_bad_size, setup, teardown),
    };
    av_log_set_level(AV_LOG_ERROR); /* swscale warns about yuvj formats */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
