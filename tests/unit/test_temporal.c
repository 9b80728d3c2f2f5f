/*
 * Unit tests: temporal fidelity, SSIM of frame differences (src/metrics/temporal.h),
 * and the solver's score that combines it with spatial SSIM.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Properties on synthetic motion (a textured bar moving across a textured
 * background): a faithful copy scores 1, held frames score below it and
 * lower the longer they are held, a still scene held scores 1, a cut breaks
 * the run; and one oracle: FFmpeg's own tblend (grainextract) and ssim
 * filters, run by the ffmpeg CLI on the same raw frames (skipped when ffmpeg
 * is not installed; tests may use the CLI, the product never does).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavutil/error.h>
#include <libavutil/frame.h>

#include "metrics/metrics.h"
#include "metrics/temporal.h"
#include "solver/search.h"

enum { W = 96, H = 64, FRAMES = 24 };

/* Frame i of a scene: a background with texture, and (moving) a bar that
 * travels 3 px a frame. */
static AVFrame *scene(int i, int moving)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->format = AV_PIX_FMT_GRAY8;
    f->width = W;
    f->height = H;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int v = 60 + ((x / 5 + y / 3) % 3) * 30 + (x * y) % 7;
            int bx = moving ? (10 + 3 * i) % W : 10;
            if (x >= bx && x < bx + 12)
                v = 200 + ((x + y) % 4) * 10;
            f->data[0][y * f->linesize[0] + x] = (uint8_t)v;
        }
    return f;
}

/* Temporal SSIM of a scene against the same scene shown with every frame
 * held for `hold` frames (1: nothing held). */
static double held(int hold, int moving)
{
    ShTemporalAcc t = { 0 };
    AVFrame *shown = NULL;
    double v = -1;
    for (int i = 0; i < FRAMES; i++) {
        AVFrame *ref = scene(i, moving);
        if (i % hold == 0) {
            av_frame_free(&shown);
            shown = scene(i, moving);
        }
        assert_int_equal(sh_temporal_add(&t, ref, shown), 0);
        av_frame_free(&ref);
    }
    assert_int_equal(t.diffs, FRAMES - 1);
    assert_int_equal(sh_temporal_result(&t, &v), 0);
    av_frame_free(&shown);
    sh_temporal_free(&t);
    return v;
}

static void test_faithful_is_one(void **state)
{
    (void)state;
    assert_true(fabs(held(1, 1) - 1) < 1e-9);
}

static void test_held_frames_judder(void **state)
{
    double t2, t4, t8;
    (void)state;
    t2 = held(2, 1);
    t4 = held(4, 1);
    t8 = held(8, 1);
    /* Half the differences are lost at hold 2: far from 1, and worse the longer it is held. */
    assert_true(t2 < 0.95);
    assert_true(t4 < t2 - 0.01);
    assert_true(t8 < t4);
    assert_true(t8 > 0);
}

static void test_still_scene_held_is_one(void **state)
{
    (void)state;
    /* Nothing moves: holding frames costs nothing, and the measure says so. */
    assert_true(fabs(held(6, 0) - 1) < 1e-9);
}

static void test_break_starts_a_run(void **state)
{
    ShTemporalAcc t = { 0 };
    AVFrame *a = scene(0, 1), *b = scene(5, 1);
    double v;
    (void)state;
    assert_int_equal(sh_temporal_result(&t, &v), AVERROR(EINVAL));
    assert_int_equal(sh_temporal_add(&t, a, a), 0);
    assert_int_equal(t.diffs, 0);
    /* A cut: b follows a on the sample's timeline, not in the film. Shown
     * as b itself: no difference is compared across the cut. */
    sh_temporal_break(&t);
    assert_int_equal(sh_temporal_add(&t, b, b), 0);
    assert_int_equal(t.diffs, 0);
    assert_int_equal(sh_temporal_add(&t, b, a), 0);
    assert_int_equal(t.diffs, 1);
    assert_int_equal(sh_temporal_result(&t, &v), 0);
    assert_true(v < 1);
    /* A frame of another size is refused. */
    {
        AVFrame *small = av_frame_alloc();
        small->format = AV_PIX_FMT_GRAY8;
        small->width = W / 2;
        small->height = H / 2;
        assert_int_equal(av_frame_get_buffer(small, 0), 0);
        assert_int_equal(sh_temporal_add(&t, small, small), AVERROR(EINVAL));
        av_frame_free(&small);
    }
    av_frame_free(&a);
    av_frame_free(&b);
    sh_temporal_free(&t);
    sh_temporal_free(&t);     /* twice: harmless */
}

static void test_score(void **state)
{
    (void)state;
    /* The product of both: perfect is the cap, each factor lowers it alike. */
    assert_true(sh_quality_score_db(1, 1) >= SH_QUALITY_DB_MAX - 1e-9);
    assert_true(sh_quality_score_db(0.95, 0.99) > sh_quality_score_db(0.94, 0.99));
    assert_true(sh_quality_score_db(0.95, 0.99) > sh_quality_score_db(0.95, 0.98));
    assert_true(fabs(sh_quality_score_db(0.95, 0.99) - sh_ssim_db(0.95 * 0.99)) < 1e-9);
    /* The juggling clip of issue 15: 6 fps (0.938, 0.948) loses to 24 fps (0.929, 0.980). */
    assert_true(sh_quality_score_db(0.929, 0.980) > sh_quality_score_db(0.938, 0.948));
    assert_true(isfinite(sh_quality_score_db(0, 0)));
}

/* Quality values (SH_Q_*, dB) from SSIM and temporal SSIM. */
static void q_of(double ssim, double tssim, double q[SH_Q_N])
{
    q[SH_Q_SCORE] = sh_quality_score_db(ssim, tssim);
    q[SH_Q_SSIM] = sh_ssim_db(ssim);
    q[SH_Q_TSSIM] = sh_ssim_db(tssim);
    q[SH_Q_PSNR] = 40;
}

/* The solver's comparison: the score up to visually lossless (both SSIMs at
 * least 0.995 as predicted), less a slower encoder's margin; past the top, more frames,
 * then more pixels. */
static void test_better(void **state)
{
    ShCandidate small = { .rung = { 320, 180, { 15, 1 } } }, fps = { .rung = { 320, 180, { 30, 1 } } };
    ShCandidate big = { .rung = { 640, 360, { 15, 1 } } }, slow = { .rung = { 640, 360, { 30, 1 } }, .time_cost_db = 0.2 };
    double lo[SH_Q_N], mid[SH_Q_N], hi[SH_Q_N], top[SH_Q_N], lopsided[SH_Q_N], past[SH_Q_N], near[SH_Q_N];
    (void)state;
    q_of(0.95, 0.96, lo);
    q_of(0.96, 0.96, mid);
    q_of(0.97, 0.97, hi);
    q_of(0.996, 0.996, top);
    q_of(0.992, 0.992, near);          /* lossless if measured so; a prediction may be 0.004 high */
    q_of(0.999, 0.998, past);
    q_of(0.9999, 0.993, lopsided);   /* a higher product than `top`, but not lossless in time */
    /* Below the top the score decides, whatever the rung. */
    assert_true(sh_solver_better(&small, mid, &fps, lo));
    assert_false(sh_solver_better(&fps, lo, &small, mid));
    /* Both past it: equal; the full frame rate wins over a sharper score, then pixels. */
    assert_true(sh_solver_better(&fps, top, &small, past));
    assert_false(sh_solver_better(&small, past, &fps, top));
    assert_true(sh_solver_better(&big, top, &small, past));
    /* Lossless needs both: a sharp picture that judders does not reach the top. */
    assert_true(sh_quality_score_db(0.9999, 0.993) > sh_quality_score_db(0.996, 0.996));
    assert_true(sh_solver_better(&small, top, &fps, lopsided));
    /* The margin still counts: a slower encoder at the top loses to a faster one at it. */
    assert_false(sh_solver_better(&slow, past, &fps, top));
    /* A predicted 0.992 is not at the top (person_walking at 100 kb/s: x264 predicted 0.9914,
     * measured 0.9873): a slower encoder predicted past the top wins over it. */
    assert_true(sh_solver_better(&slow, past, &fps, near));
    assert_false(sh_solver_better(&fps, near, &slow, past));
    /* ... and wins below the top where it is ahead by more than its margin. */
    assert_true(sh_solver_better(&slow, hi, &fps, mid));
    assert_false(sh_solver_better(&slow, mid, &fps, mid));
}

/* ---- the oracle: FFmpeg's tblend + ssim ---------------------------------- */

static void write_frames(const char *path, int hold)
{
    FILE *f = fopen(path, "wb");
    AVFrame *shown = NULL;
    assert_non_null(f);
    for (int i = 0; i < FRAMES; i++) {
        if (i % hold == 0) {
            av_frame_free(&shown);
            shown = scene(i, 1);
        }
        for (int y = 0; y < H; y++)
            assert_int_equal(fwrite(shown->data[0] + y * shown->linesize[0], 1, W, f), W);
    }
    av_frame_free(&shown);
    fclose(f);
}

static void test_ffmpeg_oracle(void **state)
{
    const char *tmp = getenv("SH_TEST_TMP");
    char dir[256], cmd[2048], line[1024];
    (void)state;
    if (system("ffmpeg -nostdin -hide_banner -loglevel quiet -version >/dev/null 2>&1") != 0)
        skip();
    snprintf(dir, sizeof(dir), "%s/temporal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    for (int hold = 1; hold <= 4; hold *= 2) {
        char ref[300], dist[300];
        double ff = NAN;
        FILE *p;
        snprintf(ref, sizeof(ref), "%s/ref.gray", dir);
        snprintf(dist, sizeof(dist), "%s/dist.gray", dir);
        write_frames(ref, 1);
        write_frames(dist, hold);
        snprintf(cmd, sizeof(cmd),
                 "ffmpeg -nostdin -hide_banner -nostats -loglevel info "
                 "-f rawvideo -pix_fmt gray -s %dx%d -i '%s' -f rawvideo -pix_fmt gray -s %dx%d -i '%s' "
                 "-lavfi '[0:v]tblend=all_mode=grainextract[a];[1:v]tblend=all_mode=grainextract[b];[a][b]ssim' "
                 "-f null - 2>&1", W, H, ref, W, H, dist);
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p)) {
            const char *k = strstr(line, "All:");
            if (k && strstr(line, "SSIM"))
                ff = strtod(k + 4, NULL);
        }
        pclose(p);
        if (!isfinite(ff))
            fail_msg("no SSIM from: %s", cmd);
        /* Ours, on the same frames. */
        {
            double v = held(hold, 1);
            if (fabs(v - ff) > 2e-3)
                fail_msg("hold %d: ours %.5f, FFmpeg's tblend + ssim %.5f", hold, v, ff);
        }
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faithful_is_one),
        cmocka_unit_test(test_held_frames_judder),
        cmocka_unit_test(test_still_scene_held_is_one),
        cmocka_unit_test(test_break_starts_a_run),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_better),
        cmocka_unit_test(test_ffmpeg_oracle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
