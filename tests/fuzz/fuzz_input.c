/*
 * Fuzz shrink's input path on any bytes: the data is written to a file and
 * goes through what a job does with an input before encoding: sh_input_open
 * (probe, stream choice, checks), then sh_input_read for every frame, video
 * through the fps and scale stages to a small picture, audio through
 * resample (48 kHz mono, 960-sample frames), as job.c's analysis does, the
 * pictures into a frame cache small enough to spill to its file, and back.
 * Checked: what the probe reports is sane, frames have the size and format
 * the stages promise, timestamps never go backwards after fps, and the cache
 * gives back every picture and pts it was given.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "common/log.h"
#include "input/cache.h"
#include "input/input.h"
#include "stages/stage.h"

#define CHECK(cond) do { if (!(cond)) __builtin_trap(); } while (0)
#define MAX_FRAMES 300        /* per input: decoding is the slow part */
#define OUT_H 36

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[PATH_MAX], path[PATH_MAX + 16];

static void remove_dir(void)
{
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "%s/shrink-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof(path), "%s/input", dir);
    atexit(remove_dir);
    /* The library's own bridge, with no sink: libav stays quiet, the bridge runs. */
    av_log_set_level(AV_LOG_DEBUG);
    sh_log_install_av_bridge();
    return 0;
}

typedef struct Chain {
    ShStage *fps, *scale, *resample;
    ShFrameCache *cache;
    uint32_t sum;             /* of what went into the cache */
    int64_t last_pts;
    int w, h;
} Chain;

static uint32_t picture_sum(const AVFrame *f)
{
    uint32_t sum = (uint32_t)f->pts;
    for (int p = 0; p < 3; p++) {
        int w = p ? (f->width + 1) / 2 : f->width, h = p ? (f->height + 1) / 2 : f->height;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                sum = sum * 31 + f->data[p][y * f->linesize[p] + x];
    }
    return sum;
}

static void check_video_out(Chain *c, const AVFrame *f)
{
    CHECK(f->width == c->w && f->height == c->h);
    CHECK(f->format == AV_PIX_FMT_YUV420P);
    CHECK(f->data[0] && f->data[1] && f->data[2]);
    CHECK(c->last_pts == INT64_MIN || f->pts > c->last_pts);
    c->last_pts = f->pts;
    if (sh_frame_cache_put(c->cache, f) >= 0)
        c->sum += picture_sum(f);
}

/* Everything put in comes back out, in order, twice (each pass rewinds). */
static void check_cache(Chain *c, AVFrame *a)
{
    for (int round = 0; round < 2; round++) {
        uint32_t sum = 0;
        int64_t n = 0, prev = INT64_MIN;
        int ret;
        CHECK(sh_frame_cache_rewind(c->cache) >= 0);
        while ((ret = sh_frame_cache_get(c->cache, a)) >= 0) {
            CHECK(a->width == c->w && a->height == c->h && a->pts > prev);
            CHECK(sh_frame_cache_pts(c->cache, n) == a->pts && sh_frame_cache_find(c->cache, a->pts) == n);
            prev = a->pts;
            sum += picture_sum(a);
            n++;
            av_frame_unref(a);
        }
        CHECK(ret == AVERROR_EOF && n == sh_frame_cache_count(c->cache) && sum == c->sum);
    }
}

/* Push one frame (NULL: the end) through fps then scale; drain both. */
static void run_video(Chain *c, const AVFrame *in, AVFrame *a, AVFrame *b)
{
    if (sh_stage_send(c->fps, in) < 0)
        return;
    for (;;) {
        int ret = sh_stage_receive(c->fps, a);
        if (ret == AVERROR_EOF) {
            if (sh_stage_send(c->scale, NULL) >= 0)
                while (sh_stage_receive(c->scale, b) >= 0) {
                    check_video_out(c, b);
                    av_frame_unref(b);
                }
            return;
        }
        if (ret < 0)
            return;
        ret = sh_stage_send(c->scale, a);
        av_frame_unref(a);
        if (ret < 0)
            return;
        while (sh_stage_receive(c->scale, b) >= 0) {
            check_video_out(c, b);
            av_frame_unref(b);
        }
    }
}

static void run_audio(Chain *c, const AVFrame *in, AVFrame *a)
{
    if (!c->resample || sh_stage_send(c->resample, in) < 0)
        return;
    while (sh_stage_receive(c->resample, a) >= 0) {
        CHECK(a->nb_samples > 0 && a->nb_samples <= 960);
        CHECK(a->ch_layout.nb_channels == 1 && a->sample_rate == 48000);
        av_frame_unref(a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ShInput *in = NULL;
    const ShInputInfo *info;
    ShStreamInfo vin = { 0 }, ain = { 0 };
    ShStageArgs va = { 0 }, aa = { 0 };
    Chain c = { .last_pts = INT64_MIN };
    AVFrame *frame = NULL, *a = NULL, *b = NULL;
    enum AVMediaType type;
    int fd, frames = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        abort();
    if (size && write(fd, data, size) != (ssize_t)size)
        abort();
    close(fd);

    if (sh_input_open(&in, path) < 0)
        return 0;
    info = sh_input_info(in);
    CHECK(info->width > 0 && info->height > 0);
    CHECK((int64_t)info->width * info->height <= 16384LL * 16384LL);
    CHECK(info->duration > 0 && isfinite(info->duration));
    CHECK(info->sar.num > 0 && info->sar.den > 0);
    CHECK(info->video_tb.num > 0 && info->video_tb.den > 0);
    CHECK(info->rotation % 90 == 0 && info->rotation >= 0 && info->rotation < 360);
    CHECK(!info->has_audio || (info->audio_channels > 0 && info->audio_rate > 0));

    vin.type = AVMEDIA_TYPE_VIDEO;
    vin.time_base = info->video_tb;
    vin.width = info->width;
    vin.height = info->height;
    vin.sar = info->sar;
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, OUT_H, &c.w, &c.h);
    CHECK(c.w >= 2 && c.h >= 2 && !(c.w & 1) && !(c.h & 1));
    va.width = c.w;
    va.height = c.h;
    va.pix_fmt = AV_PIX_FMT_YUV420P;
    va.fps = (AVRational){ 10, 1 };
    if (sh_stage_create(&c.fps, "fps", &vin, &va) < 0 ||
        sh_stage_create(&c.scale, "scale", &c.fps->out, &va) < 0 ||
        /* room for a few pictures in memory, the rest in the cache's file */
        sh_frame_cache_open(&c.cache, c.w, c.h, AV_PIX_FMT_YUV420P, 4 * (size_t)c.w * c.h) < 0)
        goto end;
    if (info->has_audio) {
        ain.type = AVMEDIA_TYPE_AUDIO;
        ain.time_base = info->audio_tb;
        aa.sample_rate = 48000;
        aa.channels = 1;
        aa.sample_fmt = AV_SAMPLE_FMT_FLT;
        aa.frame_size = 960;
        aa.origin = av_rescale_q(info->video_start, info->video_tb, info->audio_tb);
        aa.max_samples = (int64_t)ceil(fmin(info->duration, 3600) * 48000);
        if (sh_stage_create(&c.resample, "resample", &ain, &aa) < 0)
            goto end;
    }
    sh_input_want_audio(in, info->has_audio);
    if (!(frame = av_frame_alloc()) || !(a = av_frame_alloc()) || !(b = av_frame_alloc()))
        goto end;
    while (frames < MAX_FRAMES && sh_input_read(in, frame, &type) >= 0) {
        CHECK(type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO);
        if (type == AVMEDIA_TYPE_VIDEO) {
            CHECK(frame->width > 0 && frame->height > 0 && frame->data[0]);
            CHECK(frame->pts != AV_NOPTS_VALUE);
            run_video(&c, frame, a, b);
            frames++;
        } else {
            run_audio(&c, frame, a);
        }
        av_frame_unref(frame);
    }
    run_video(&c, NULL, a, b);
    run_audio(&c, NULL, a);
    check_cache(&c, a);
    {
        const ShInputStats *st = sh_input_stats(in);
        CHECK(st->video_frames >= frames || frames == MAX_FRAMES);
        CHECK(st->decode_errors >= 0);
    }
end:
    av_frame_free(&frame);
    av_frame_free(&a);
    av_frame_free(&b);
    sh_stage_free(&c.fps);
    sh_stage_free(&c.scale);
    sh_stage_free(&c.resample);
    sh_frame_cache_free(&c.cache);
    sh_input_close(&in);
    return 0;
}
