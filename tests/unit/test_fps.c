/*
 * Unit tests: the "fps" stage and sh_fps_slot (src/stages/stage.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/mathematics.h>

#include "stages/stage.h"

#define MAX_FRAMES 2048

/* The stage under test plus a tiny picture to stamp timestamps on. */
typedef struct Fixture {
    ShStage *st;
    AVFrame *src, *out;
    int64_t kept[MAX_FRAMES];
    int nkept;
} Fixture;

static int setup(void **state)
{
    Fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->src = av_frame_alloc();
    f->out = av_frame_alloc();
    if (!f->src || !f->out)
        return -1;
    f->src->width = 16;
    f->src->height = 16;
    f->src->format = AV_PIX_FMT_YUV420P;
    if (av_frame_get_buffer(f->src, 0) < 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    Fixture *f = *state;
    sh_stage_free(&f->st);
    av_frame_free(&f->src);
    av_frame_free(&f->out);
    free(f);
    return 0;
}

static ShStreamInfo video_info(AVRational tb, AVRational rate)
{
    ShStreamInfo in = { 0 };
    in.type = AVMEDIA_TYPE_VIDEO;
    in.time_base = tb;
    in.width = 16;
    in.height = 16;
    in.pix_fmt = AV_PIX_FMT_YUV420P;
    in.sar = (AVRational){ 1, 1 };
    in.frame_rate = rate;
    return in;
}

static void create_fps(Fixture *f, AVRational tb, AVRational src_rate, AVRational out_rate)
{
    ShStreamInfo in = video_info(tb, src_rate);
    ShStageArgs args = { 0 };
    args.fps = out_rate;
    assert_int_equal(sh_stage_create(&f->st, "fps", &in, &args), 0);
    assert_non_null(f->st);
    assert_int_equal(f->st->out.frame_rate.num, out_rate.num);
    assert_int_equal(f->st->out.frame_rate.den, out_rate.den);
}

/* Drain the stage into f->kept; expect EAGAIN (or EOF once flushed). */
static void drain(Fixture *f, int flushed)
{
    int ret;
    while ((ret = sh_stage_receive(f->st, f->out)) == 0) {
        assert_true(f->nkept < MAX_FRAMES);
        /* the picture travels with its timestamp */
        assert_int_equal(f->out->width, 16);
        assert_non_null(f->out->data[0]);
        f->kept[f->nkept++] = f->out->pts;
        av_frame_unref(f->out);
    }
    assert_int_equal(ret, flushed ? AVERROR_EOF : AVERROR(EAGAIN));
}

static void push(Fixture *f, int64_t pts)
{
    f->src->pts = pts;
    assert_int_equal(sh_stage_send(f->st, f->src), 0);
    drain(f, 0);
}

static void flush(Fixture *f)
{
    assert_int_equal(sh_stage_send(f->st, NULL), 0);
    drain(f, 1);
}

/* 30 fps in 1/90000 reduced to 10 fps keeps frames 0, 3, 6, ... with their own pts. */
static void test_30_to_10_keeps_every_third(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 10, 1 });
    for (int i = 0; i < 90; i++)
        push(f, (int64_t)i * 3000);
    flush(f);
    assert_int_equal(f->nkept, 30);
    for (int k = 0; k < f->nkept; k++)
        assert_int_equal(f->kept[k], (int64_t)(3 * k) * 3000);
}

/* 29.97 in 1/30000 (pts = i*1001) reduced to 14.985 keeps every other frame. */
static void test_ntsc_halved_keeps_every_other(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 30000 }, (AVRational){ 30000, 1001 }, (AVRational){ 30000, 2002 });
    for (int i = 0; i < 100; i++)
        push(f, (int64_t)i * 1001);
    flush(f);
    assert_int_equal(f->nkept, 50);
    for (int k = 0; k < f->nkept; k++)
        assert_int_equal(f->kept[k], (int64_t)(2 * k) * 1001);
}

/* Same rate in and out keeps every frame, pts untouched (1/12288, an MP4 time base). */
static void test_same_rate_keeps_all(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 12288 }, (AVRational){ 24, 1 }, (AVRational){ 24, 1 });
    for (int i = 0; i < 48; i++)
        push(f, (int64_t)i * 512);
    flush(f);
    assert_int_equal(f->nkept, 48);
    for (int k = 0; k < f->nkept; k++)
        assert_int_equal(f->kept[k], (int64_t)k * 512);
}

/* A stream that does not start at 0 is counted from its first frame and never renumbered. */
static void test_nonzero_start_not_renumbered(void **state)
{
    Fixture *f = *state;
    const int64_t start = 123456789;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 10, 1 });
    for (int i = 0; i < 30; i++)
        push(f, start + (int64_t)i * 3000);
    flush(f);
    assert_int_equal(f->nkept, 10);
    for (int k = 0; k < f->nkept; k++)
        assert_int_equal(f->kept[k], start + (int64_t)(3 * k) * 3000);
}

/* A repeated timestamp is dropped even when the output rate equals the input rate. */
static void test_duplicates_dropped(void **state)
{
    Fixture *f = *state;
    static const int64_t pts[] = { 0, 1000, 1000, 2000, 2000, 2000, 3000 };
    static const int64_t want[] = { 0, 1000, 2000, 3000 };
    create_fps(f, (AVRational){ 1, 25000 }, (AVRational){ 25, 1 }, (AVRational){ 25, 1 });
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
        push(f, pts[i]);
    flush(f);
    assert_int_equal(f->nkept, 4);
    assert_memory_equal(f->kept, want, sizeof(want));
}

/* Timestamps going backwards are dropped, so output pts strictly increase. */
static void test_backwards_dropped(void **state)
{
    Fixture *f = *state;
    static const int64_t pts[] = { 0, 1000, 2000, 1000, 0, 3000, 2500, 4000 };
    static const int64_t want[] = { 0, 1000, 2000, 3000, 4000 };
    create_fps(f, (AVRational){ 1, 25000 }, (AVRational){ 25, 1 }, (AVRational){ 25, 1 });
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++)
        push(f, pts[i]);
    flush(f);
    assert_int_equal(f->nkept, 5);
    assert_memory_equal(f->kept, want, sizeof(want));
}

/* 29.97 written in milliseconds (33/34 ms steps) to 29.97 keeps every frame. */
static void test_jittery_ms_same_rate_keeps_all(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 1000 }, (AVRational){ 30000, 1001 }, (AVRational){ 30000, 1001 });
    for (int i = 0; i < 300; i++)
        push(f, av_rescale(i, 1001, 30)); /* round to nearest ms */
    flush(f);
    assert_int_equal(f->nkept, 300);
    for (int k = 0; k < f->nkept; k++)
        assert_int_equal(f->kept[k], av_rescale(k, 1001, 30));
}

/* 30 fps with +-3 ms of jitter reduced to 15 fps keeps exactly one frame per slot: the even ones. */
static void test_jittery_vfr_one_per_slot(void **state)
{
    Fixture *f = *state;
    static const int jitter[] = { 0, 3, -3, 2, -1, -3, 1, 3, -2, 0, 2 };
    const int n = 301;
    int64_t pts[301];
    create_fps(f, (AVRational){ 1, 1000 }, (AVRational){ 30, 1 }, (AVRational){ 15, 1 });
    for (int i = 0; i < n; i++) {
        pts[i] = av_rescale(i, 1000, 30) + (i ? jitter[i % 11] : 0);
        push(f, pts[i]);
    }
    flush(f);
    assert_int_equal(f->nkept, (n + 1) / 2);
    for (int k = 0; k < f->nkept; k++) {
        assert_int_equal(f->kept[k], pts[2 * k]);
        /* one per 1/15 s slot: every kept frame in a slot of its own */
        assert_int_equal(sh_fps_slot(f->kept[k], 0, (AVRational){ 1, 1000 }, (AVRational){ 15, 1 }), k);
    }
}

/* Frames without a timestamp cannot be placed in time and are dropped. */
static void test_nopts_dropped(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 30, 1 });
    push(f, AV_NOPTS_VALUE);   /* before the first timestamp: must not become the origin */
    push(f, 9000);
    push(f, AV_NOPTS_VALUE);
    push(f, 12000);
    push(f, AV_NOPTS_VALUE);
    push(f, 15000);
    flush(f);
    assert_int_equal(f->nkept, 3);
    assert_int_equal(f->kept[0], 9000);
    assert_int_equal(f->kept[1], 12000);
    assert_int_equal(f->kept[2], 15000);
}

/* Before any input receive asks for more; after send(NULL) it says EOF, and stays at EOF. */
static void test_eof(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 10, 1 });
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR(EAGAIN));
    assert_int_equal(sh_stage_send(f->st, NULL), 0);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR_EOF);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR_EOF);
}

/* A frame sent just before EOF is still delivered, then EOF follows. */
static void test_pending_frame_before_eof(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 10, 1 });
    f->src->pts = 4242;
    assert_int_equal(sh_stage_send(f->st, f->src), 0);
    assert_int_equal(sh_stage_send(f->st, NULL), 0);
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->pts, 4242);
    av_frame_unref(f->out);
    assert_int_equal(sh_stage_receive(f->st, f->out), AVERROR_EOF);
}

/* While a kept frame waits to be received, send refuses with EAGAIN and loses nothing. */
static void test_send_while_full_is_eagain(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 30, 1 });
    f->src->pts = 0;
    assert_int_equal(sh_stage_send(f->st, f->src), 0);
    f->src->pts = 3000;
    assert_int_equal(sh_stage_send(f->st, f->src), AVERROR(EAGAIN));
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->pts, 0);
    av_frame_unref(f->out);
    assert_int_equal(sh_stage_send(f->st, f->src), 0);
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->pts, 3000);
    av_frame_unref(f->out);
}

/* The stage holds its own reference: the caller may change its frame after send. */
static void test_send_borrows(void **state)
{
    Fixture *f = *state;
    create_fps(f, (AVRational){ 1, 90000 }, (AVRational){ 30, 1 }, (AVRational){ 30, 1 });
    f->src->pts = 777;
    f->src->data[0][0] = 42;
    assert_int_equal(sh_stage_send(f->st, f->src), 0);
    f->src->pts = 888;
    av_frame_unref(f->src);
    assert_int_equal(sh_stage_receive(f->st, f->out), 0);
    assert_int_equal(f->out->pts, 777);
    assert_int_equal(f->out->data[0][0], 42);
    av_frame_unref(f->out);
}

/* A zero or negative output rate, or an audio input, is refused at creation. */
static void test_create_rejects_bad_args(void **state)
{
    Fixture *f = *state;
    ShStreamInfo in = video_info((AVRational){ 1, 90000 }, (AVRational){ 30, 1 });
    ShStageArgs args = { 0 };
    args.fps = (AVRational){ 0, 1 };
    assert_int_equal(sh_stage_create(&f->st, "fps", &in, &args), AVERROR(EINVAL));
    args.fps = (AVRational){ -10, 1 };
    assert_int_equal(sh_stage_create(&f->st, "fps", &in, &args), AVERROR(EINVAL));
    args.fps = (AVRational){ 10, 0 };
    assert_int_equal(sh_stage_create(&f->st, "fps", &in, &args), AVERROR(EINVAL));
    args.fps = (AVRational){ 10, 1 };
    in.type = AVMEDIA_TYPE_AUDIO;
    assert_int_equal(sh_stage_create(&f->st, "fps", &in, &args), AVERROR(EINVAL));
    assert_null(f->st);
}

/* sh_fps_slot: slot k starts at origin + k/fps, up to 1/8 slot early still counts. */
static void test_slot_boundaries(void **state)
{
    const AVRational tb = { 1, 90000 }, fps = { 10, 1 }; /* a slot is 9000 ticks, slack 1125 */
    const int64_t o = 5000;
    (void)state;
    assert_int_equal(sh_fps_slot(o, o, tb, fps), 0);
    assert_int_equal(sh_fps_slot(o + 8999 - 1125, o, tb, fps), 0);
    assert_int_equal(sh_fps_slot(o + 9000 - 1125, o, tb, fps), 1);
    assert_int_equal(sh_fps_slot(o + 9000, o, tb, fps), 1);
    assert_int_equal(sh_fps_slot(o + 9000 * 7, o, tb, fps), 7);
    assert_int_equal(sh_fps_slot(o + 9000 * 7 - 2250, o, tb, fps), 6); /* a quarter slot early is not enough */
    assert_int_equal(sh_fps_slot(o + 9000 * 1000000LL, o, tb, fps), 1000000);
}

/* sh_fps_slot before the origin rounds towards minus infinity. */
static void test_slot_negative(void **state)
{
    const AVRational tb = { 1, 90000 }, fps = { 10, 1 };
    (void)state;
    assert_int_equal(sh_fps_slot(-1, 0, tb, fps), 0);          /* inside the slack */
    assert_int_equal(sh_fps_slot(-1126, 0, tb, fps), -1);
    assert_int_equal(sh_fps_slot(-9000, 0, tb, fps), -1);
    assert_int_equal(sh_fps_slot(-9000 - 1126, 0, tb, fps), -2);
}

/* sh_fps_slot never decreases with pts and each slot spans 1/fps seconds. */
static void test_slot_monotonic(void **state)
{
    const AVRational tb = { 1, 30000 }, fps = { 24000, 1001 }; /* slot = 1251.25 ticks */
    int64_t prev = sh_fps_slot(0, 0, tb, fps), count = 1;
    (void)state;
    for (int64_t pts = 1; pts <= 1251250; pts++) {
        int64_t s = sh_fps_slot(pts, 0, tb, fps);
        assert_true(s == prev || s == prev + 1);
        count += s != prev;
        prev = s;
    }
    /* 1251250 ticks is exactly 1000 slots: the start of slot 1000, slots 0..1000 seen */
    assert_int_equal(prev, 1000);
    assert_int_equal(count, 1001);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_30_to_10_keeps_every_third, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ntsc_halved_keeps_every_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_rate_keeps_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nonzero_start_not_renumbered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backwards_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jittery_ms_same_rate_keeps_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jittery_vfr_one_per_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nopts_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pending_frame_before_eof, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_while_full_is_eagain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_borrows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_rejects_bad_args, setup, teardown),
        cmocka_unit_test(test_slot_boundaries),
        cmocka_unit_test(test_slot_negative),
        cmocka_unit_test(test_slot_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
