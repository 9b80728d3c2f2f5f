/*
 * Unit tests: sh_budget_audio, sh_budget_overhead and sh_solver_plan (src/solver/plan.h).
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

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>

#include "metrics/audiokind.h"
#include "solver/plan.h"

/* ---- sh_budget_audio ---------------------------------------------------- */

static ShAudioBudget audio(double total, int channels)
{
    ShAudioBudget b;
    memset(&b, 0x55, sizeof(b)); /* every field must be written */
    sh_budget_audio(total, channels, &b);
    return b;
}

/* About 12% of the total goes to audio while that lies inside [6000, 128000]. */
static void test_audio_twelve_percent(void **state)
{
    static const double totals[] = { 60000, 100000, 250000, 500000, 800000, 1000000, 1066000 };
    (void)state;
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        ShAudioBudget b = audio(totals[i], 2);
        double want = 0.12 * totals[i];
        if (fabs(b.bitrate - want) > fmax(500, 0.005 * totals[i]))
            fail_msg("total %.0f: audio %d, want about %.0f", totals[i], b.bitrate, want);
    }
}

/* The share is clamped to [6000, 128000] b/s. */
static void test_audio_clamped(void **state)
{
    (void)state;
    assert_int_equal(audio(20000, 2).bitrate, 6000);      /* 12% would be 2400 */
    assert_int_equal(audio(40000, 2).bitrate, 6000);
    assert_int_equal(audio(2000000, 2).bitrate, 128000);  /* 12% would be 240000 */
    assert_int_equal(audio(1e9, 2).bitrate, 128000);
}

/* Audio is stripped when its floor would exceed a third of the total, kept at exactly a third. */
static void test_audio_stripped_above_a_third(void **state)
{
    (void)state;
    assert_int_equal(audio(15000, 2).bitrate, 0);   /* 6000 is 40% */
    assert_int_equal(audio(17999, 2).bitrate, 0);
    assert_int_equal(audio(18000, 2).bitrate, 6000); /* exactly a third */
    assert_int_equal(audio(20000, 2).bitrate, 6000);
    assert_int_equal(audio(1000, 1).bitrate, 0);
    assert_int_equal(audio(0, 2).bitrate, 0);
    assert_int_equal(audio(-5000, 2).bitrate, 0);
}

/* A source without audio channels gets no audio at any rate. */
static void test_audio_no_source_channels(void **state)
{
    (void)state;
    assert_int_equal(audio(1000000, 0).bitrate, 0);
    assert_int_equal(audio(1000000, -1).bitrate, 0);
}

/* Mono below 24 kb/s or from a mono source, stereo otherwise (multichannel folds to stereo). */
static void test_audio_channels(void **state)
{
    (void)state;
    assert_int_equal(audio(100000, 2).channels, 1);   /* 12000 */
    assert_int_equal(audio(190000, 2).channels, 1);   /* 22800 */
    assert_int_equal(audio(200000, 2).bitrate, 24000);
    assert_int_equal(audio(200000, 2).channels, 2);
    assert_int_equal(audio(1000000, 2).channels, 2);
    assert_int_equal(audio(1000000, 6).channels, 2);
    assert_int_equal(audio(1000000, 1).channels, 1);
    assert_int_equal(audio(200000, 1).channels, 1);
    /* below the per-channel cap the rate does not depend on the channel count */
    assert_int_equal(audio(500000, 1).bitrate, audio(500000, 2).bitrate);
}

/* Mono never gets more than 64 kb/s, stereo more than 128 kb/s: more is waste for Opus. */
static void test_audio_per_channel_cap(void **state)
{
    (void)state;
    assert_int_equal(audio(1000000, 1).bitrate, 64000);
    assert_int_equal(audio(1e9, 1).bitrate, 64000);
    assert_int_equal(audio(1000000, 2).bitrate, 120000);
    assert_int_equal(audio(1e9, 6).bitrate, 128000);
}

/* Frame length: 120 ms below 12 kb/s, 60 below 32k, 40 below 64k, else 20. */
static void test_audio_frame_ms(void **state)
{
    (void)state;
    assert_int_equal(audio(50000, 2).bitrate, 6000);
    assert_int_equal(audio(50000, 2).frame_ms, 120);
    assert_true(audio(99000, 2).bitrate < 12000);
    assert_int_equal(audio(99000, 2).frame_ms, 120);
    assert_int_equal(audio(100000, 2).bitrate, 12000);
    assert_int_equal(audio(100000, 2).frame_ms, 60);
    assert_true(audio(266000, 2).bitrate < 32000);
    assert_int_equal(audio(266000, 2).frame_ms, 60);
    assert_int_equal(audio(266667, 2).bitrate, 32000);
    assert_int_equal(audio(266667, 2).frame_ms, 40);
    assert_true(audio(533000, 2).bitrate < 64000);
    assert_int_equal(audio(533000, 2).frame_ms, 40);
    assert_int_equal(audio(533334, 2).bitrate, 64000);
    assert_int_equal(audio(533334, 2).frame_ms, 20);
    assert_int_equal(audio(5000000, 2).frame_ms, 20);
}

/* More total never means less audio, fewer channels or longer frames; limits always hold. */
static void test_audio_monotonic(void **state)
{
    ShAudioBudget prev = audio(0, 2);
    (void)state;
    for (double t = 250; t <= 3000000; t += 250) {
        ShAudioBudget b = audio(t, 2);
        if (b.bitrate < prev.bitrate || b.channels < prev.channels ||
            (prev.bitrate && b.frame_ms > prev.frame_ms))
            fail_msg("total %.0f: %d b/s %d ch %d ms after %d b/s %d ch %d ms",
                     t, b.bitrate, b.channels, b.frame_ms, prev.bitrate, prev.channels, prev.frame_ms);
        if (b.bitrate && (b.bitrate < 6000 || b.bitrate > 128000 || b.bitrate > t / 3.0 + 1e-9 ||
                          b.channels < 1 || b.channels > 2))
            fail_msg("total %.0f: %d b/s %d ch out of bounds", t, b.bitrate, b.channels);
        prev = b;
    }
    assert_int_equal(prev.bitrate, 128000);
}

/* ---- sh_budget_audio_kind: what the sound is ---------------------------- */

static ShAudioBudget audio_kind(double total, int channels, int kind)
{
    ShAudioBudget b;
    memset(&b, 0x55, sizeof(b)); /* every field must be written */
    sh_budget_audio_kind(total, channels, kind, &b);
    return b;
}

/* Music and the unmeasured: the rule of sh_budget_audio, field for field. */
static void test_kind_music_as_before(void **state)
{
    static const double totals[] = { 1000, 15000, 17999, 18000, 20000, 60000, 250000, 1e6 };
    (void)state;
    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
        for (int kind = SH_AUDIO_UNKNOWN; kind <= SH_AUDIO_MUSIC; kind += SH_AUDIO_MUSIC) {
            ShAudioBudget a = audio(totals[i], 2), b = audio_kind(totals[i], 2, kind);
            assert_int_equal(b.bitrate, a.bitrate);
            assert_int_equal(b.channels, a.channels);
            assert_int_equal(b.frame_ms, a.frame_ms);
            assert_int_equal(b.kind, kind);
        }
    }
}

/* Speech keeps 6 kb/s mono, long frames, down to where that is half the total
 * (the 20 kb/s screencast leaves about 17 kb/s after the container). */
static void test_kind_speech_kept_to_half(void **state)
{
    ShAudioBudget b;
    (void)state;
    assert_int_equal(audio(17100, 2).bitrate, 0);    /* music: dropped */
    b = audio_kind(17100, 2, SH_AUDIO_SPEECH);
    assert_int_equal(b.bitrate, 6000);
    assert_int_equal(b.channels, 1);
    assert_int_equal(b.frame_ms, 120);
    assert_int_equal(b.kind, SH_AUDIO_SPEECH);
    assert_int_equal(audio_kind(12000, 6, SH_AUDIO_SPEECH).bitrate, 6000);   /* exactly half */
    assert_int_equal(audio_kind(11999, 2, SH_AUDIO_SPEECH).bitrate, 0);
    assert_int_equal(audio_kind(11999, 2, SH_AUDIO_SPEECH).kind, SH_AUDIO_SPEECH);
    /* Above music's drop point speech gets the same share as music. */
    assert_int_equal(audio_kind(100000, 2, SH_AUDIO_SPEECH).bitrate, audio(100000, 2).bitrate);
    assert_int_equal(audio_kind(1e6, 2, SH_AUDIO_SPEECH).bitrate, 120000);
    assert_int_equal(audio_kind(0, 2, SH_AUDIO_SPEECH).bitrate, 0);
    assert_int_equal(audio_kind(50000, 0, SH_AUDIO_SPEECH).bitrate, 0);
}

/* Silence: the floor's bitrate, mono, but costed at what it spends (less);
 * kept while that is at most 12% of the total (about where music keeps its
 * audio too), dropped below: there is nothing to hear. */
static void test_kind_silence_cheap(void **state)
{
    ShAudioBudget b;
    double cost;
    (void)state;
    b = audio_kind(40000, 2, SH_AUDIO_SILENCE);
    assert_int_equal(b.bitrate, 6000);
    assert_int_equal(b.channels, 1);
    assert_int_equal(b.frame_ms, 120);
    assert_int_equal(b.kind, SH_AUDIO_SILENCE);
    cost = sh_budget_audio_cost(&b);
    assert_true(cost > 1000 && cost < 3000);
    b = audio_kind(1e6, 2, SH_AUDIO_SILENCE);
    assert_int_equal(b.bitrate, 6000);
    assert_true(sh_budget_audio_cost(&b) == cost);
    assert_int_equal(audio_kind(cost / 0.12, 2, SH_AUDIO_SILENCE).bitrate, 6000);
    b = audio_kind(cost / 0.12 - 1, 2, SH_AUDIO_SILENCE);
    assert_int_equal(b.bitrate, 0);
    assert_true(sh_budget_audio_cost(&b) == 0);
    /* Anything else costs its bitrate. */
    b = audio_kind(100000, 2, SH_AUDIO_MUSIC);
    assert_true(sh_budget_audio_cost(&b) == b.bitrate);
    b = audio_kind(17100, 2, SH_AUDIO_SPEECH);
    assert_true(sh_budget_audio_cost(&b) == 6000);
}

/* ---- sh_budget_overhead ------------------------------------------------- */

/* Overhead is positive and grows with every video frame and audio packet, by a plausible MP4 amount. */
static void test_overhead_monotonic(void **state)
{
    (void)state;
    assert_true(sh_budget_overhead(0, 0) > 0);
    for (int64_t v = 0; v < 100000; v += 997)
        for (int64_t a = 0; a < 10000; a += 1009) {
            int64_t o = sh_budget_overhead(v, a);
            int64_t dv = sh_budget_overhead(v + 1, a) - o;
            int64_t da = sh_budget_overhead(v, a + 1) - o;
            if (dv < 4 || dv > 64 || da < 4 || da > 64)
                fail_msg("overhead(%lld, %lld): +%lld per frame, +%lld per packet",
                         (long long)v, (long long)a, (long long)dv, (long long)da);
        }
}

/* ---- sh_solver_plan ----------------------------------------------------- */

static ShInputInfo base_info(void)
{
    ShInputInfo in = { 0 };
    in.path = "fake.mp4";
    in.duration = 60.0;
    in.video_codec = "h264";
    in.width = 1280;
    in.height = 720;
    in.sar = (AVRational){ 1, 1 };
    in.frame_rate = (AVRational){ 24, 1 };
    in.video_tb = (AVRational){ 1, 12288 };
    in.has_audio = 1;
    in.audio_codec = "aac";
    in.audio_channels = 2;
    in.audio_rate = 48000;
    in.audio_tb = (AVRational){ 1, 48000 };
    return in;
}

static void need_encoders(void)
{
    if (!avcodec_find_encoder_by_name("libx264"))
        skip();
}

static ShPlan plan_for(const ShInputInfo *in, int64_t target, int no_audio)
{
    ShSolverOptions opt = { .target_bytes = target, .no_audio = no_audio };
    ShPlan p;
    int ret = sh_plan_rule(&p, in, &opt);
    if (ret < 0)
        fail_msg("sh_plan_rule(%lld bytes): %d", (long long)target, ret);
    return p;
}

/* Source display size: width and height as the viewer sees them. */
static void display_size(const ShInputInfo *in, double *dw, double *dh)
{
    double w = in->width * av_q2d(in->sar), h = in->height;
    int swap = in->rotation == 90 || in->rotation == 270;
    *dw = swap ? h : w;
    *dh = swap ? w : h;
}

/* Properties every plan must have, whatever the target. */
static void check_plan(const ShInputInfo *in, const ShPlan *p, int64_t target, int no_audio)
{
    double sw, sh, f = av_q2d(p->fps), src_f = av_q2d(in->frame_rate);
    int swap = in->rotation == 90 || in->rotation == 270;
    int dw = swap ? p->height : p->width, dh = swap ? p->width : p->height;
    double budget = (target - p->overhead_bytes) * 8.0 / in->duration;
    AVRational n = av_div_q(in->frame_rate, p->fps);
    int64_t frames = (int64_t)(in->duration * f);
    int64_t packets = p->audio.bitrate ? (int64_t)(in->duration * 1000 / p->audio.frame_ms) : 0;

    display_size(in, &sw, &sh);
    assert_non_null(p->venc);
    assert_string_equal(p->container, "mp4");
    assert_int_equal(p->target_bytes, target);
    if (p->width < 2 || p->height < 2 || (p->width & 1) || (p->height & 1))
        fail_msg("target %lld: %dx%d is not even", (long long)target, p->width, p->height);
    /* never above the source: coded for square pixels, display otherwise */
    if (dh > sh || dw > sw + 1 || (in->sar.num == in->sar.den && (p->width > in->width || p->height > in->height)))
        fail_msg("target %lld: %dx%d above the source %dx%d", (long long)target,
                 p->width, p->height, in->width, in->height);
    assert_int_equal(p->display_height, dh);
    /* display aspect within a rounding step */
    if (fabs(dw - dh * sw / sh) > 2.0 && dw > 2)
        fail_msg("target %lld: %dx%d distorts %.0fx%.0f", (long long)target, dw, dh, sw, sh);
    /* rate: the source's divided by a whole number, at most ~30 */
    /* ... or, in the extreme range, one frame every few seconds, down to one a minute */
    if (f < SH_PLAN_MIN_FPS - 1e-9 ? p->fps.num != 1 || p->fps.den > SH_PLAN_FLOOR_FPS_DEN || p->audio.bitrate :
        f > src_f + 1e-9 || f > 30.5 || n.den != 1)
        fail_msg("target %lld: %d/%d fps from %d/%d", (long long)target,
                 p->fps.num, p->fps.den, in->frame_rate.num, in->frame_rate.den);
    /* the bits add up: video + audio = what the target leaves after the container */
    if (fabs(p->video_bitrate + p->audio.bitrate - budget) > 2)
        fail_msg("target %lld: video %lld + audio %d != %.1f", (long long)target,
                 (long long)p->video_bitrate, p->audio.bitrate, budget);
    /* the container estimate counts the output's frames and packets */
    if (p->overhead_bytes < sh_budget_overhead(frames, packets) ||
        p->overhead_bytes > sh_budget_overhead(frames + 2, packets + 2))
        fail_msg("target %lld: overhead %lld for %lld frames, %lld packets", (long long)target,
                 (long long)p->overhead_bytes, (long long)frames, (long long)packets);
    /* bits per pixel as predicted, and enough of them unless at the floor */
    assert_true(fabs(p->bpp * p->width * p->height * f - p->video_bitrate) <= 1.0);
    if (!p->at_floor && p->bpp < SH_PLAN_MIN_BPP)
        fail_msg("target %lld: bpp %.4f below the minimum yet not at the floor", (long long)target, p->bpp);
    /* audio only when wanted, and then fully described */
    if (no_audio || !in->has_audio)
        assert_int_equal(p->audio.bitrate, 0);
    if (p->audio.bitrate) {
        assert_non_null(p->aenc);
        assert_int_equal(p->audio_rate, 48000);
        assert_true(p->audio.channels >= 1 && p->audio.channels <= 2);
        assert_true(p->audio.frame_ms > 0);
    } else {
        assert_null(p->aenc);
    }
}

static ShInputInfo rotated_info(void)
{
    ShInputInfo in = base_info();
    in.rotation = 90;
    return in;
}

static ShInputInfo anamorphic_info(void)
{
    ShInputInfo in = base_info();
    in.width = 1440;
    in.height = 1080;
    in.sar = (AVRational){ 4, 3 };
    in.frame_rate = (AVRational){ 30000, 1001 };
    return in;
}

#define SWEEP(t) for (int64_t t = 2000; t <= 400000000; t = t * 9 / 8 + 1)

/* Sweep the target upwards: each plan is sound, and more bytes never give a smaller picture at a lower rate. */
static void sweep(const ShInputInfo *in)
{
    ShPlan prev = { 0 };
    int64_t prev_t = 0;
    SWEEP(t) {
        ShPlan p = plan_for(in, t, 0);
        check_plan(in, &p, t, 0);
        /* Turning audio on takes bits from the picture: compare like with like. */
        if (prev_t && prev.audio.bitrate && !p.audio.bitrate)
            fail_msg("target %lld: audio dropped, present at %lld", (long long)t, (long long)prev_t);
        if (prev_t && !prev.audio.bitrate == !p.audio.bitrate && p.display_height <= prev.display_height && av_cmp_q(p.fps, prev.fps) <= 0 &&
            (p.display_height < prev.display_height || av_cmp_q(p.fps, prev.fps) < 0))
            fail_msg("target %lld: %dx%d@%.3f (audio %d) is worse in size and rate than %dx%d@%.3f (audio %d) at %lld",
                     (long long)t, p.width, p.height, av_q2d(p.fps), p.audio.bitrate,
                     prev.width, prev.height, av_q2d(prev.fps), prev.audio.bitrate, (long long)prev_t);
        prev = p;
        prev_t = t;
    }
}

/* 1280x720 24 fps stereo, every target from 2 KB to 400 MB. */
static void test_plan_sweep_landscape(void **state)
{
    ShInputInfo in = base_info();
    (void)state;
    need_encoders();
    sweep(&in);
}

/* The same picture rotated 90 degrees: plans stay portrait on display. */
static void test_plan_sweep_rotated(void **state)
{
    ShInputInfo in = rotated_info();
    (void)state;
    need_encoders();
    sweep(&in);
}

/* Anamorphic 1440x1080 at SAR 4:3 (16:9 on display), 29.97 fps. */
static void test_plan_sweep_anamorphic(void **state)
{
    ShInputInfo in = anamorphic_info();
    (void)state;
    need_encoders();
    sweep(&in);
}

/* With the audio and frame rate unchanged, more bytes never give the video fewer bits per second. */
static void test_plan_video_rate_monotonic(void **state)
{
    ShInputInfo ins[3];
    (void)state;
    need_encoders();
    ins[0] = base_info();
    ins[1] = rotated_info();
    ins[2] = anamorphic_info();
    for (int i = 0; i < 3; i++) {
        ShPlan prev = { 0 };
        int64_t prev_t = 0;
        SWEEP(t) {
            ShPlan p = plan_for(&ins[i], t, 0);
            /* Same audio and frame rate: per-frame container bytes are the same too. */
            if (prev_t && !prev.audio.bitrate == !p.audio.bitrate && p.audio.bitrate >= prev.audio.bitrate &&
                !av_cmp_q(p.fps, prev.fps) &&
                p.video_bitrate + p.audio.bitrate < prev.video_bitrate + prev.audio.bitrate)
                fail_msg("source %d, target %lld: video %lld b/s, below %lld b/s at %lld", i, (long long)t,
                         (long long)p.video_bitrate, (long long)prev.video_bitrate, (long long)prev_t);
            prev = p;
            prev_t = t;
        }
    }
}

/* A generous target keeps the source's size and rate, with full audio. */
static void test_plan_generous(void **state)
{
    ShInputInfo in = base_info();
    ShPlan p;
    (void)state;
    need_encoders();
    p = plan_for(&in, 500000000, 0);
    assert_int_equal(p.width, 1280);
    assert_int_equal(p.height, 720);
    assert_int_equal(av_cmp_q(p.fps, (AVRational){ 24, 1 }), 0);
    assert_false(p.at_floor);
    assert_int_equal(p.audio.bitrate, 128000);
    assert_int_equal(p.audio.channels, 2);

    in.rotation = 270;
    p = plan_for(&in, 500000000, 0);
    assert_int_equal(p.width, 1280);
    assert_int_equal(p.height, 720);
    assert_int_equal(p.display_height, 1280);

    in.rotation = 0;
    in.width = 1440;
    in.height = 1080;
    in.sar = (AVRational){ 4, 3 };
    p = plan_for(&in, 500000000, 0);
    assert_int_equal(p.width, 1920);
    assert_int_equal(p.height, 1080);
}

/* A 60 fps source is halved to 30; an unknown rate is planned as 30. */
static void test_plan_fps_cap(void **state)
{
    ShInputInfo in = base_info();
    ShPlan p;
    (void)state;
    need_encoders();
    in.frame_rate = (AVRational){ 60, 1 };
    p = plan_for(&in, 500000000, 0);
    assert_true(fabs(av_q2d(p.fps) - 30.0) < 1e-9);
    in.frame_rate = (AVRational){ 60000, 1001 };
    p = plan_for(&in, 500000000, 0);
    assert_int_equal(p.fps.num * 1001LL, 30000LL * p.fps.den);
    in.frame_rate = (AVRational){ 0, 1 };
    p = plan_for(&in, 500000000, 0);
    assert_true(av_q2d(p.fps) > 0 && av_q2d(p.fps) <= 30.0 + 1e-9);
}

/* A tiny target goes below the usual floor (36 px, 1 fps) to fewer frames and
 * smaller pictures; a tinier one ends at the floor: 16 px high at one frame a
 * minute, no audio. */
static void test_plan_tiny_target_at_floor(void **state)
{
    ShInputInfo in = base_info();
    ShPlan p;
    (void)state;
    need_encoders();
    p = plan_for(&in, 2000, 0);
    assert_false(p.at_floor);
    assert_true(av_q2d(p.fps) < SH_PLAN_MIN_FPS);
    assert_true(p.display_height <= 72);
    assert_int_equal(p.audio.bitrate, 0);
    assert_true(p.bpp >= SH_PLAN_MIN_BPP);
    p = plan_for(&in, 1040, 0);   /* less than the container alone */
    assert_true(p.at_floor);
    assert_int_equal(p.display_height, SH_PLAN_FLOOR_HEIGHT);
    assert_int_equal(p.fps.num, 1);
    assert_int_equal(p.fps.den, SH_PLAN_FLOOR_FPS_DEN);
    assert_int_equal(p.floor.height, SH_PLAN_FLOOR_HEIGHT);
    assert_int_equal(p.floor.fps.den, SH_PLAN_FLOOR_FPS_DEN);
    assert_int_equal(p.audio.bitrate, 0);
    assert_null(p.aenc);
    assert_true(p.bpp < SH_PLAN_MIN_BPP);
}

/* no_audio strips audio whatever the budget, and video gets those bits. */
static void test_plan_no_audio(void **state)
{
    ShInputInfo in = base_info();
    ShPlan with, without;
    (void)state;
    need_encoders();
    with = plan_for(&in, 20000000, 0);
    without = plan_for(&in, 20000000, 1);
    check_plan(&in, &without, 20000000, 1);
    assert_true(with.audio.bitrate > 0);
    assert_int_equal(without.audio.bitrate, 0);
    assert_null(without.aenc);
    assert_true(without.video_bitrate > with.video_bitrate);
    in.has_audio = 0;
    without = plan_for(&in, 20000000, 0);
    check_plan(&in, &without, 20000000, 0);
    assert_int_equal(without.audio.bitrate, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_audio_twelve_percent),
        cmocka_unit_test(test_audio_clamped),
        cmocka_unit_test(test_audio_stripped_above_a_third),
        cmocka_unit_test(test_audio_no_source_channels),
        cmocka_unit_test(test_audio_channels),
        cmocka_unit_test(test_audio_per_channel_cap),
        cmocka_unit_test(test_audio_frame_ms),
        cmocka_unit_test(test_audio_monotonic),
        cmocka_unit_test(test_kind_music_as_before),
        cmocka_unit_test(test_kind_speech_kept_to_half),
        cmocka_unit_test(test_kind_silence_cheap),
        cmocka_unit_test(test_overhead_monotonic),
        cmocka_unit_test(test_plan_sweep_landscape),
        cmocka_unit_test(test_plan_sweep_rotated),
        cmocka_unit_test(test_plan_sweep_anamorphic),
        cmocka_unit_test(test_plan_video_rate_monotonic),
        cmocka_unit_test(test_plan_generous),
        cmocka_unit_test(test_plan_fps_cap),
        cmocka_unit_test(test_plan_tiny_target_at_floor),
        cmocka_unit_test(test_plan_no_audio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
