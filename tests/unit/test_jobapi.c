/*
 * Unit tests: the plan/encode seam of the public job API (include/shrink/job.h)
 * on a short synthetic clip (made with the ffmpeg program; skipped without it).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "shrink/shrink.h"

static char dir[4096], clip[4200];

static void log_cb(void *opaque, ShLogLevel level, const char *file, const char *msg)
{
    (void)opaque;
    if (level <= SH_LOG_WARNING)
        fprintf(stderr, "  shrink: %s: %s\n", file ? file : "", msg);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char cmd[8600];
    (void)state;
    snprintf(dir, sizeof(dir), "%s/test_jobapi.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(clip, sizeof(clip), "%s/clip.mkv", dir);
    /* 6 s of moving picture and a tone: enough to need a correction loop, quick to encode. */
    snprintf(cmd, sizeof(cmd), "ffmpeg -nostdin -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 "
             "-f lavfi -i sine=frequency=440:sample_rate=48000 -t 6 -c:v mpeg4 -q:v 3 -c:a pcm_s16le '%s'", clip);
    if (system(cmd) != 0)
        clip[0] = 0;
    sh_log_set_callback(log_cb, NULL);
    return 0;
}

static int teardown(void **state)
{
    char cmd[4200];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static ShOptions options(const char *out, int64_t target)
{
    ShOptions o = { 0 };
    o.input = clip;
    o.output = out;
    o.codec = "x264";
    o.target_bytes = target;
    o.force = 1;
    return o;
}

static int64_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Plan, then encode the plan as it is: the plan's choice, under the target,
 * the same as sh_job_run makes. */
static void test_plan_then_encode(void **state)
{
    ShJobPlan plan;
    ShJobResult *res = calloc(1, sizeof(*res)), *run = calloc(1, sizeof(*run));
    char out[4200], out_run[4200];
    ShOptions o;
    (void)state;
    if (!clip[0])
        skip();
    snprintf(out, sizeof(out), "%s/whole.mp4", dir);
    snprintf(out_run, sizeof(out_run), "%s/run.mp4", dir);
    o = options(out, 60000);
    o.no_search = 1;    /* the rule alone: the same choice each time */
    assert_int_equal(sh_job_plan(&o, &plan, res), 0);
    assert_int_equal(plan.version, SH_JOB_PLAN_VERSION);
    assert_string_equal(plan.encoder, "x264");
    assert_string_equal(plan.container, "mp4");
    assert_true(plan.width > 0 && plan.height > 0 && plan.width % 2 == 0);
    assert_true(plan.fps_num > 0 && plan.fps_den > 0);
    assert_int_equal(plan.target_bytes, 60000);
    assert_true(fabs(plan.duration - 6.0) < 0.1);
    assert_true(plan.video_bitrate > 0);
    /* The plan is what --plan reports. */
    assert_int_equal(res->width, plan.width);
    assert_int_equal(res->height, plan.height);
    assert_true(fabs(res->fps - (double)plan.fps_num / plan.fps_den) < 1e-9);
    assert_int_equal(file_size(out), -1);   /* planning writes nothing */

    assert_int_equal(sh_job_encode(&o, &plan, res), 0);
    assert_int_equal(res->width, plan.width);
    assert_int_equal(res->height, plan.height);
    assert_string_equal(res->encoder, "x264");
    assert_int_equal(res->audio, plan.audio_encoder[0] != 0);
    assert_true(res->bytes > 0 && res->bytes <= 60000);
    assert_int_equal(file_size(out), res->bytes);

    /* The one call chooses the same. */
    o.output = out_run;
    assert_int_equal(sh_job_run(&o, run), 0);
    assert_int_equal(run->width, res->width);
    assert_int_equal(run->height, res->height);
    assert_true(fabs(run->fps - res->fps) < 1e-9);
    assert_int_equal(run->audio, res->audio);
    assert_true(run->bytes <= 60000);
    free(res);
    free(run);
}

/* A plan of the whole film encoded over a range to a smaller target (a
 * scale-out chunk): the plan's picture, rate and encoder kept, the range's
 * length, under its own target. */
static void test_encode_range(void **state)
{
    ShJobPlan plan;
    ShJobResult *res = calloc(1, sizeof(*res));
    char out[4200];
    ShOptions o;
    (void)state;
    if (!clip[0])
        skip();
    snprintf(out, sizeof(out), "%s/chunk.mp4", dir);
    o = options(out, 80000);
    assert_int_equal(sh_job_plan(&o, &plan, res), 0);
    o.start = 2;
    o.end = 4;
    o.target_bytes = 15000;
    o.no_audio = 1;
    o.codec = NULL;    /* not read: the plan decides */
    assert_int_equal(sh_job_encode(&o, &plan, res), 0);
    assert_string_equal(res->encoder, plan.encoder);
    assert_int_equal(res->width, plan.width);
    assert_int_equal(res->height, plan.height);
    assert_true(fabs(res->fps - (double)plan.fps_num / plan.fps_den) < 1e-6);
    assert_int_equal(res->audio, 0);
    assert_true(fabs(res->duration - 2.0) < 0.1);
    assert_true(res->bytes > 0 && res->bytes <= 15000);
    assert_int_equal(file_size(out), res->bytes);
    free(res);
}

/* A plan this build cannot take: refused before anything is written. */
static void test_bad_plans(void **state)
{
    ShJobPlan plan, bad;
    ShJobResult *res = calloc(1, sizeof(*res));
    char out[4200];
    ShOptions o;
    (void)state;
    if (!clip[0])
        skip();
    snprintf(out, sizeof(out), "%s/bad.mp4", dir);
    o = options(out, 60000);
    o.no_search = 1;
    assert_int_equal(sh_job_plan(&o, &plan, res), 0);

    bad = plan;
    bad.version = 99;
    assert_int_equal(sh_job_encode(&o, &bad, res), SH_ERROR_BAD_OPTION);
    bad = plan;
    snprintf(bad.encoder, sizeof(bad.encoder), "no-such-encoder");
    assert_int_equal(sh_job_encode(&o, &bad, res), SH_ERROR_BAD_OPTION);
    bad = plan;
    snprintf(bad.container, sizeof(bad.container), "matroska");   /* the output says mp4 */
    assert_int_equal(sh_job_encode(&o, &bad, res), SH_ERROR_BAD_OPTION);
    bad = plan;
    bad.fps_den = 0;
    assert_int_equal(sh_job_encode(&o, &bad, res), SH_ERROR_BAD_OPTION);
    assert_int_equal(file_size(out), -1);
    free(res);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_then_encode),
        cmocka_unit_test(test_encode_range),
        cmocka_unit_test(test_bad_plans),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
