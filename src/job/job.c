/*
 * One job: one input -> one verified output no larger than the target.
 *
 *   decode once --> fps --> scale --> frame cache --> x264 pass 1
 *               \-> resample --> Opus --> audio packets (kept)
 *   frame cache --> x264 pass 2 --+--> MP4 (temp file) --> verify --> rename
 *   audio packets ----------------/
 *
 * Pass 2 is repeated with a corrected bitrate while the file is over the
 * target or wastes more than the accepted margin; the audio is encoded once
 * and its exact size is known before the first pass 2.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"
#include "common/tmpspace.h"
#include "encoders/encoder.h"
#include "input/cache.h"
#include "input/input.h"
#include "input/spool.h"
#include "job/audio.h"
#include "job/disk.h"
#include "job/job.h"
#include "job/report.h"
#include "job/source.h"
#include "output/format.h"
#include "output/mux.h"
#include "shrink/shrink.h"
#include "shrink/size.h"
#include "solver/palette.h"
#include "solver/plan.h"
#include "stages/stage.h"

/* Frames kept in memory before the cache spills to a temporary file. */
#define SH_CACHE_MEM_LIMIT ((size_t)64 << 20)
/* Audio packets kept in memory (17 minutes at 128 kb/s) before they go to a file too. */
#define SH_AUDIO_MEM_LIMIT ((size_t)16 << 20)
/* Pass-2 encodes at most, and the band a result is accepted in. */
#define SH_MAX_ATTEMPTS 6
#define SH_AIM 0.985
/* A one-pass encoder's first encode after its probe: the probe predicts its
 * size within about 2%, so aim at the middle of the band. */
#define SH_AIM_PROBED 0.98
#define SH_ACCEPT_LOW 0.96
/* Pass log files per encoder, at most (x264 and x265 write 4). */
#define SH_MAX_STATS_FILES 8

static volatile sig_atomic_t job_interrupted;

void sh_job_interrupt(void)
{
    job_interrupted = 1;
}

int sh_job_interrupted(void)
{
    return job_interrupted;
}

typedef struct Attempt {
    int64_t bitrate;
    int64_t bytes;           /* file size */
    int64_t video_bytes;     /* sum of video packet sizes */
    char path[PATH_MAX];
} Attempt;

typedef struct Job {
    const ShOptions *opt;
    ShJobResult *res;
    const char *input;
    char output[PATH_MAX];
    const ShFormat *format;
    ShInput *in;
    const ShInputInfo *info;
    ShPlan plan;
    ShSolverReport search;
    ShRung rung;             /* the plan's picture and rate: what the cache holds */
    ShRung final_rung;       /* what the output has */
    int final_audio;
    int time_scale;          /* see rate_time_scale() */
    int64_t origin;          /* video_tb pts that becomes 0 in the output */
    int64_t end_pts;         /* video_tb: end of the last frame */
    double duration;         /* seconds, measured by decoding */
    ShFrameCache *cache;
    ShFrameCache *floor_cache; /* the floor picture and rate, from the source too */
    ShFrameSource *source, *floor_source;  /* what the encodes read: the caches, or a re-decode */
    ShDiskPlan disk;         /* the temporary disk's bound, and whether the cache fits it */
    int output_failed;       /* the failure was writing the output */
    int encoder_failed;      /* ... or an encoder's */
    ShPacketSpool *audio;    /* encoded audio, in the audio encoder's time base */
    int64_t pass1_bytes;     /* what the first pass made of the planned bitrate */
    AVCodecParameters *apar;
    AVRational atb;
    char tmpdir[PATH_MAX];
    char stats[PATH_MAX];
    char stats_files[SH_MAX_STATS_FILES][PATH_MAX];
    int nstats_files;
    double t0, progress_last;  /* progress: when the job started, when last reported */
    const char *progress_stage;
    int progress_attempts;     /* encodes started, for the encode stage's share */
} Job;

static int check_interrupt(void)
{
    return job_interrupted ? SH_ERROR_INTERRUPTED : 0;
}

/* The decode pass's share of the job's progress; the encodes share the rest. */
#define SH_PROGRESS_ANALYSIS 0.4

static double now_seconds(void);

/* Tell the caller how far the job is, ten times a second at most (and at
 * each new stage): the callback may draw on a terminal and must not slow
 * the frame loops. */
static void report_progress(Job *j, const char *stage, double fraction, int64_t bytes)
{
    ShProgress p;
    double now;
    if (!j->opt->progress)
        return;
    now = now_seconds();
    if (now - j->progress_last < 0.1 && j->progress_stage && !strcmp(stage, j->progress_stage))
        return;
    j->progress_last = now;
    j->progress_stage = stage;
    p.stage = stage;
    p.fraction = isfinite(fraction) ? av_clipd(fraction, 0, 1) : 0;
    p.bytes = bytes;
    p.target_bytes = j->opt->target_bytes;
    p.elapsed = now - j->t0;
    j->opt->progress(j->opt->progress_opaque, &p);
}

/* ---- paths ---- */

static int default_output(char *out, size_t len, const char *input, const char *ext)
{
    const char *slash = strrchr(input, '/');
    const char *base = slash ? slash + 1 : input;
    const char *dot = strrchr(base, '.');
    int stem = (int)(dot && dot != base ? dot - input : (ptrdiff_t)strlen(input));
    int n = snprintf(out, len, "%.*s.shrunk.%s", stem, input, ext);
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

static int check_paths(Job *j)
{
    const ShOptions *o = j->opt;
    struct stat so;
    int ret;

    if (o->output) {
        if (strlen(o->output) >= sizeof(j->output))
            return AVERROR(ENAMETOOLONG);
        strcpy(j->output, o->output);
    }
    /* A directory's name has no extension to read a format from: the
     * checks below say what is wrong with it. */
    if ((ret = sh_format_resolve(o->format, o->output && !(stat(o->output, &so) == 0 && S_ISDIR(so.st_mode)) ?
                                 o->output : NULL, &j->format)) < 0)
        return ret;
    if (!o->format && !o->output && sh_codec_format(o->codec)) {
        /* Nothing says the format but --codec: the encoder's own container
         * (VP9 goes into WebM), not an MP4 it cannot write. */
        j->format = sh_format_find(sh_codec_format(o->codec));
    }
    if (!o->output && (ret = default_output(j->output, sizeof(j->output), j->input, j->format->ext)) < 0)
        return ret;
    if (o->plan_only)
        return 0;   /* nothing will be written */
    if ((ret = sh_output_check(j->input, j->output, o->force)) < 0)
        return ret;
    /* And now, not after the whole decode, if there is room to write it. */
    return sh_disk_check_start(j->output, o->target_bytes);
}

/* ---- temporary pass logs ---- */

/* The pass log and the files the encoder writes beside it (its descriptor
 * lists them), registered so that a signal removes them too. */
static int make_stats_paths(Job *j)
{
    static const char *const plain[] = { "", NULL };
    const char *const *suffix = j->plan.venc->stats_files ? j->plan.venc->stats_files : plain;
    int ret;
    if ((ret = sh_temp_mkdir(j->tmpdir, sizeof(j->tmpdir))) < 0) {
        /* Name the directory ($TMPDIR), not the template that was not made. */
        const char *slash = strrchr(j->tmpdir, '/');
        int n = slash && slash != j->tmpdir ? (int)(slash - j->tmpdir) : 1;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", n, j->tmpdir);
        j->tmpdir[0] = 0;
        sh_log(SH_LOG_ERROR, dir, "cannot create a temporary directory there (TMPDIR): %s", av_err2str(ret));
        return ret;
    }
    if (strlen(j->tmpdir) + 32 > sizeof(j->stats))
        return AVERROR(ENAMETOOLONG);
    memcpy(j->stats, j->tmpdir, strlen(j->tmpdir));
    strcpy(j->stats + strlen(j->tmpdir), "/pass.log");
    for (int i = 0; suffix[i] && i < SH_MAX_STATS_FILES; i++) {
        if (strlen(suffix[i]) > 16)
            return AVERROR(ENAMETOOLONG);
        strcpy(j->stats_files[i], j->stats);
        strcat(j->stats_files[i], suffix[i]);
        if ((ret = sh_temp_register(j->stats_files[i])) < 0)
            return ret;
        j->nstats_files = i + 1;
    }
    return 0;
}

static void remove_stats(Job *j)
{
    for (int i = 0; i < j->nstats_files; i++)
        sh_temp_remove(j->stats_files[i]);
    sh_temp_remove(j->tmpdir);
}

/* ---- encoding helpers ---- */

/*
 * Where the encoder takes whole kb/s, scale time so one step is a small
 * fraction of the rate. Fixed for the job: x264 refuses a second pass whose
 * time base differs from the first's. Sized for half the planned rate, so
 * corrections downwards keep a fine step too.
 */
static int rate_time_scale(const Job *j, int64_t bitrate)
{
    int64_t k, kmax = (j->plan.venc->max_time_den > 0 ? j->plan.venc->max_time_den : INT_MAX) /
                      FFMAX(j->info->video_tb.den, 1);
    if (!(j->plan.venc->caps & SH_ENC_CAP_WHOLE_KBPS) || bitrate <= 0)
        return 1;
    k = (800000 + bitrate - 1) / bitrate;
    return (int)av_clip64(k, 1, FFMIN(kmax, 1 << 20));
}

/* HDR kept stays 10-bit where the encoder can; everything else is 8-bit. */
static enum AVPixelFormat video_pix_fmt(const Job *j)
{
    return sh_encoder_pix_fmt(j->plan.venc, j->info->hdr && !j->info->tonemapped ? j->info->bit_depth : 8);
}

/* The floor's: made by the rule's encoder, whatever the search chose (encode_floor). */
static enum AVPixelFormat floor_pix_fmt(const Job *j)
{
    return sh_encoder_pix_fmt(j->plan.floor_venc ? j->plan.floor_venc : j->plan.venc,
                              j->info->hdr && !j->info->tonemapped ? j->info->bit_depth : 8);
}

static int open_video_encoder(const Job *j, ShEncoder **enc, const ShRung *rung, int pass,
                              int64_t bitrate, int qp, int *too_low)
{
    ShEncoderConfig cfg = { 0 };
    int ret;

    cfg.width = rung->width;
    cfg.height = rung->height;
    cfg.pix_fmt = video_pix_fmt(j);
    cfg.has_colour = 1;
    cfg.colour = j->info->out_colour;
    cfg.time_base = j->info->video_tb;
    cfg.frame_rate = rung->fps;
    /* Slower than the encoder takes (a still held for hours): it gets its
     * slowest rate, and send_held() repeats the picture at that rate. */
    if (j->plan.venc->min_fps.num > 0 && av_cmp_q(cfg.frame_rate, j->plan.venc->min_fps) < 0)
        cfg.frame_rate = j->plan.venc->min_fps;
    cfg.bitrate = sh_encoder_clamp_bitrate(j->plan.venc, bitrate);
    cfg.time_scale = pass ? j->time_scale : rate_time_scale(j, bitrate);
    cfg.qp = qp;
    if (pass && !(j->plan.venc->caps & SH_ENC_CAP_TWO_PASS)) {
        /* A one-pass encoder's first pass is its probe: the quick preset. */
        cfg.fast = 1;
        pass = 0;
    }
    cfg.pass = pass;
    cfg.stats_path = pass ? j->stats : NULL;
    ret = sh_encoder_open(enc, j->plan.venc, &cfg);
    if (too_low)
        *too_low = ret == SH_ENC_ERROR_RATE_FLOOR;
    if (ret < 0 && !(too_low && *too_low))
        sh_log(SH_LOG_ERROR, j->input, "cannot open the %s encoder: %s",
               j->plan.venc->name, av_err2str(ret));
    return ret;
}

static int keep_audio_packet(Job *j, AVPacket *pkt)
{
    int ret;
    if (!j->audio && (ret = sh_spool_open(&j->audio, SH_AUDIO_MEM_LIMIT)) < 0)
        return ret;
    if ((ret = sh_spool_put(j->audio, pkt)) < 0)
        sh_tmp_write_failed("audio packets", ret);
    return ret;
}

static int encoder_failed(Job *j, const ShEncoder *enc, int ret)
{
    /* libav's reason, e.g. a pass log it cannot write */
    const char *why = enc->desc->lavc_name ? sh_log_av_error(enc->desc->lavc_name) : "";
    int64_t avail;
    if (j->tmpdir[0] && sh_tmp_free(j->tmpdir, &avail) >= 0 && avail < ((int64_t)1 << 20)) {
        /* Its pass log could not be written: TMPDIR is full, not the encoder broken. */
        sh_log(SH_LOG_ERROR, sh_tmp_dir(), "TMPDIR is full: the %s encoder's pass log: %s%s%s%s", enc->desc->name,
               av_err2str(AVERROR(ENOSPC)), *why ? " (" : "", why, *why ? ")" : "");
        return AVERROR(ENOSPC);
    }
    sh_log(SH_LOG_ERROR, j->input, "%s encoder failed: %s%s%s%s", enc->desc->name, av_err2str(ret),
           *why ? " (" : "", why, *why ? ")" : "");
    j->encoder_failed = 1;    /* the encoder's fault even in the decode pass, not the input's */
    return ret;
}

/* Drain an encoder; packets go to keep (audio) or are counted and dropped (pass 1). */
static int drain_encoder(Job *j, ShEncoder *enc, AVPacket *pkt, int keep)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
        if (keep)
            ret = keep_audio_packet(j, pkt);
        else
            j->pass1_bytes += pkt->size;
        av_packet_unref(pkt);
        if (ret < 0)
            return ret;
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : encoder_failed(j, enc, ret);
}

/* Pull every frame out of a stage chain (a then b) and hand it to fn. */
typedef int (*FrameSink)(Job *j, AVFrame *f, void *arg);

static int stage_failed(const Job *j, const ShStage *st, int ret)
{
    sh_log(SH_LOG_ERROR, j->input, "%s stage failed: %s", st->desc->name, av_err2str(ret));
    return ret;
}

static int run_chain(Job *j, ShStage **chain, int n, const AVFrame *in, AVFrame *tmp,
                     FrameSink sink, void *arg)
{
    int ret = sh_stage_send(chain[0], in);
    if (ret < 0)
        return stage_failed(j, chain[0], ret);
    for (;;) {
        ret = sh_stage_receive(chain[0], tmp);
        if (ret == AVERROR(EAGAIN))
            return 0;
        if (ret == AVERROR_EOF) {
            if (n > 1)
                return run_chain(j, chain + 1, n - 1, NULL, tmp, sink, arg);
            return sink(j, NULL, arg);
        }
        if (ret < 0)
            return stage_failed(j, chain[0], ret);
        if (n > 1) {
            AVFrame *f = av_frame_clone(tmp);
            av_frame_unref(tmp);
            if (!f)
                return AVERROR(ENOMEM);
            ret = run_chain(j, chain + 1, n - 1, f, tmp, sink, arg);
            av_frame_free(&f);
        } else {
            ret = sink(j, tmp, arg);
            av_frame_unref(tmp);
        }
        if (ret < 0)
            return ret;
    }
}

typedef struct AnalysisCtx {
    ShEncoder *venc, *aenc;
    AVPacket *pkt;
    int video_ended, audio_ended;  /* a stage may end its stream early, and only once */
} AnalysisCtx;

static int sink_video_pass1(Job *j, AVFrame *f, void *arg)
{
    AnalysisCtx *a = arg;
    int ret;
    if (a->video_ended)
        return 0;
    a->video_ended = !f;
    if (f && (ret = sh_frame_cache_put(j->cache, f)) < 0)
        return sh_tmp_write_failed("frame cache", ret);
    if (!a->venc)
        return 0;
    if ((ret = sh_encoder_send_frame(a->venc, f)) < 0)
        return encoder_failed(j, a->venc, ret);
    return drain_encoder(j, a->venc, a->pkt, 0);
}

static int sink_floor(Job *j, AVFrame *f, void *arg)
{
    int ret;
    (void)arg;
    if (f && (ret = sh_frame_cache_put(j->floor_cache, f)) < 0)
        return sh_tmp_write_failed("frame cache", ret);
    return 0;
}

static int sink_audio(Job *j, AVFrame *f, void *arg)
{
    AnalysisCtx *a = arg;
    int ret;
    if (a->audio_ended)
        return 0;
    a->audio_ended = !f;
    if ((ret = sh_encoder_send_frame(a->aenc, f)) < 0)
        return encoder_failed(j, a->aenc, ret);
    return drain_encoder(j, a->aenc, a->pkt, 1);
}

/*
 * Decode the whole input once: video into the frame cache (and x264's first
 * pass, when the plan has two), audio into Opus packets kept in memory.
 */
static int analyse(Job *j, int pass1)
{
    const ShInputInfo *info = j->info;
    ShStage *vchain[2] = { NULL, NULL }, *fchain[2] = { NULL, NULL }, *achain[1] = { NULL };
    AnalysisCtx ctx = { 0 };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc();
    enum AVMediaType type;
    int ret, audio = j->plan.aenc != NULL;

    ctx.pkt = av_packet_alloc();
    if (!frame || !tmp || !ctx.pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* Drop frames before scaling them: the dropped ones cost nothing. */
    if ((ret = sh_video_chain_create(vchain, info, &j->rung, video_pix_fmt(j))) < 0)
        goto end;
    /* Predicted over the disk bound: only the pts are kept, the encodes decode again. */
    if ((ret = sh_frame_cache_open(&j->cache, j->rung.width, j->rung.height,
                                   video_pix_fmt(j), j->disk.redecode ? 0 : SH_CACHE_MEM_LIMIT)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->cache, j->disk.redecode ? 0 : j->disk.cache_limit, SH_CACHE_FULL_DROP);
    /* The floor picture too, straight from the source: tiny, and the floor
     * encode then gives the same bytes whatever the plan was, so the
     * smallest size it reports is one that works. */
    if ((ret = sh_video_chain_create(fchain, info, &j->plan.floor, floor_pix_fmt(j))) < 0 ||
        (ret = sh_frame_cache_open(&j->floor_cache, j->plan.floor.width, j->plan.floor.height,
                                   floor_pix_fmt(j), j->disk.floor_redecode ? 0 : SH_CACHE_MEM_LIMIT / 8)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->floor_cache, j->disk.floor_redecode ? 0 : j->disk.floor_limit,
                                  SH_CACHE_FULL_DROP);
    if (pass1 && (ret = open_video_encoder(j, &ctx.venc, &j->rung, 1, j->plan.video_bitrate, -1, NULL)) < 0)
        goto end;

    /* Audio stops with the video (as probed; trimmed again at the mux). */
    if (audio && (ret = sh_audio_path_open(&ctx.aenc, &achain[0], j->plan.aenc, &j->plan.audio, j->plan.audio_rate,
                                           info->audio_tb, av_rescale_q(j->origin, info->video_tb, info->audio_tb),
                                           (int64_t)ceil(info->duration * j->plan.audio_rate), j->input)) < 0)
        goto end;
    if (audio)
        j->atb = ctx.aenc->time_base;
    sh_input_want_audio(j->in, audio);

    while ((ret = sh_input_read(j->in, frame, &type)) >= 0) {
        if ((ret = check_interrupt()) < 0)
            goto end;
        if (type == AVMEDIA_TYPE_VIDEO) {
            ret = run_chain(j, vchain, 2, frame, tmp, sink_video_pass1, &ctx);
            if (ret >= 0)
                ret = run_chain(j, fchain, 2, frame, tmp, sink_floor, NULL);
            report_progress(j, "analysis", SH_PROGRESS_ANALYSIS * (frame->pts - j->origin) *
                            av_q2d(info->video_tb) / info->duration, 0);
        } else
            ret = run_chain(j, achain, 1, frame, tmp, sink_audio, &ctx);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    if ((ret = run_chain(j, vchain, 2, NULL, tmp, sink_video_pass1, &ctx)) < 0 ||
        (ret = run_chain(j, fchain, 2, NULL, tmp, sink_floor, NULL)) < 0)
        goto end;
    if (audio && (ret = run_chain(j, achain, 1, NULL, tmp, sink_audio, &ctx)) < 0)
        goto end;
    if (audio && !sh_spool_count(j->audio)) {
        /* Planned, but nothing came (all of it damaged, or none in the range):
         * an output without audio, not one that fails its check. */
        sh_log(SH_LOG_WARNING, j->input, "no audio could be decoded: the output has none");
        audio = 0;
    }
    if (audio)
        j->apar = avcodec_parameters_alloc();
    if (audio && (!j->apar || avcodec_parameters_copy(j->apar, ctx.aenc->par) < 0)) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = 0;
end:
    sh_stage_free(&vchain[0]);
    sh_stage_free(&vchain[1]);
    sh_stage_free(&fchain[0]);
    sh_stage_free(&fchain[1]);
    sh_stage_free(&achain[0]);
    sh_encoder_free(&ctx.venc);
    sh_encoder_free(&ctx.aenc);
    av_packet_free(&ctx.pkt);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    return ret;
}

/* ---- the full encode: cache -> encoder -> muxer, with the audio ---- */

typedef struct EncodeCtx {
    ShMuxer *mx;
    ShEncoder *enc;
    int vst, ast;
    int64_t next_audio;
    int64_t video_bytes;
    AVPacket *pkt, *apkt;
    AVFrame *held;           /* one frame back: its duration is known when the next arrives */
    int64_t *frame_pts, *frame_dur;
    int64_t nframes, frames_alloc;
} EncodeCtx;

/* Audio packets up to time t (video_tb, rebased), or all of them. */
static int write_audio_until(Job *j, EncodeCtx *e, int64_t t, int all)
{
    int64_t end = av_rescale_q(j->end_pts - j->origin, j->info->video_tb, j->atb);
    while (e->ast >= 0 && e->next_audio < sh_spool_count(j->audio)) {
        int64_t pts, dts;
        int ret;
        sh_spool_info(j->audio, e->next_audio, &pts, &dts, NULL, NULL, NULL);
        if (!all && av_compare_ts(dts, j->atb, t, j->info->video_tb) > 0)
            break;
        e->next_audio++;
        if ((ret = sh_spool_get(j->audio, e->apkt)) < 0) {
            sh_log(SH_LOG_ERROR, NULL, "audio packets: %s", av_err2str(ret));
            return ret;
        }
        if (pts >= end) {
            av_packet_unref(e->apkt);
            continue;       /* past the end of the video */
        }
        if ((ret = sh_mux_write(e->mx, e->ast, e->apkt)) < 0) {
            j->output_failed = 1;
            return ret;
        }
    }
    return 0;
}

static int64_t frame_duration(const EncodeCtx *e, int64_t pts)
{
    int64_t lo = 0, hi = e->nframes - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (e->frame_pts[mid] == pts)
            return e->frame_dur[mid];
        if (e->frame_pts[mid] < pts)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return 0;
}

static int write_video_packets(Job *j, EncodeCtx *e)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(e->enc, e->pkt)) >= 0) {
        e->pkt->duration = frame_duration(e, e->pkt->pts);
        e->pkt->pts -= j->origin;
        e->pkt->dts -= j->origin;
        e->video_bytes += e->pkt->size;
        if ((ret = write_audio_until(j, e, e->pkt->dts, 0)) < 0 ||
            (ret = sh_mux_write(e->mx, e->vst, e->pkt)) < 0) {
            j->output_failed = 1;
            return ret;
        }
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : encoder_failed(j, e->enc, ret);
}

/*
 * Send the held frame, now that the next frame's time (or the end of the
 * film) says how long it lasts: each frame lasts until the next kept one,
 * the last until the end of the source, so dropping frames never shortens
 * the film.
 */
static int send_one(Job *j, EncodeCtx *e, AVFrame *f, int64_t dur)
{
    int ret;
    if (e->nframes == e->frames_alloc) {
        int64_t n = e->frames_alloc ? e->frames_alloc * 2 : 1024;
        void *a = av_realloc_array(e->frame_pts, n, sizeof(*e->frame_pts));
        void *b = a ? av_realloc_array(e->frame_dur, n, sizeof(*e->frame_dur)) : NULL;
        if (a)
            e->frame_pts = a;
        if (!b)
            return AVERROR(ENOMEM);
        e->frame_dur = b;
        e->frames_alloc = n;
    }
    e->frame_pts[e->nframes] = f->pts;
    e->frame_dur[e->nframes++] = FFMAX(dur, 1);
    f->pict_type = AV_PICTURE_TYPE_NONE;
    ret = sh_encoder_send_frame(e->enc, f);
    av_frame_unref(f);
    if (ret < 0)
        return encoder_failed(j, e->enc, ret);
    return write_video_packets(j, e);
}

static int send_held(Job *j, EncodeCtx *e, int64_t next_pts)
{
    /* Longer than the encoder's slowest frame rate allows: the picture
     * again every 1/min_fps (its copies cost next to nothing). */
    const AVRational min_fps = j->plan.venc->min_fps;
    int64_t step = min_fps.num > 0 ? av_rescale_q(1, av_inv_q(min_fps), j->info->video_tb) : 0;
    int ret;
    while (step > 0 && next_pts - e->held->pts > step) {
        AVFrame *copy = av_frame_clone(e->held);
        if (!copy)
            return AVERROR(ENOMEM);
        ret = send_one(j, e, copy, step);
        av_frame_free(&copy);
        if (ret < 0)
            return ret;
        e->held->pts += step;
    }
    return send_one(j, e, e->held, next_pts - e->held->pts);
}

static int sink_encode(Job *j, AVFrame *f, void *arg)
{
    EncodeCtx *e = arg;
    int ret;
    if ((ret = check_interrupt()) < 0)
        return ret;
    if (e->held->buf[0] && (ret = send_held(j, e, f ? f->pts : j->end_pts)) < 0)
        return ret;
    if (f) {
        av_frame_move_ref(e->held, f);
        return 0;
    }
    if ((ret = sh_encoder_send_frame(e->enc, NULL)) < 0)
        return encoder_failed(j, e->enc, ret);
    return write_video_packets(j, e);
}

/*
 * One complete encode of a cache into a new temporary file beside the
 * output: pass 2 at a bitrate, or one pass at a constant quantiser
 * (qp >= 0). *too_low is set when the encoder refused the bitrate as under its floor.
 */
static int encode_attempt(Job *j, Attempt *at, ShFrameSource *src, const ShRung *rung, int audio,
                          int pass, int qp, int *too_low)
{
    EncodeCtx e = { .vst = -1, .ast = -1 };
    AVFrame *frame = av_frame_alloc();
    struct stat sb;
    int64_t nframes = 0;
    double done;
    int ret;

    e.pkt = av_packet_alloc();
    e.apkt = av_packet_alloc();
    e.held = av_frame_alloc();
    if (!frame || !e.pkt || !e.apkt || !e.held) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = open_video_encoder(j, &e.enc, rung, pass, at->bitrate, qp, too_low)) < 0)
        goto end;
    /* From here on a failure is the output's (no room, not writable). */
    j->output_failed = 1;
    if ((ret = sh_temp_create_beside(at->path, sizeof(at->path), j->output)) < 0) {
        sh_log(SH_LOG_ERROR, j->output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_mux_open(&e.mx, at->path, j->plan.container)) < 0)
        goto end;
    if ((ret = e.vst = sh_mux_add_stream(e.mx, e.enc->par, e.enc->time_base,
                                         j->info->has_display_matrix ? j->info->display_matrix : NULL)) < 0)
        goto end;
    if (audio && j->apar && (ret = e.ast = sh_mux_add_stream(e.mx, j->apar, j->atb, NULL)) < 0)
        goto end;
    if ((ret = sh_mux_write_header(e.mx)) < 0)
        goto end;
    j->output_failed = 0;
    if ((ret = sh_source_rewind(src)) < 0 || (j->audio && (ret = sh_spool_rewind(j->audio)) < 0))
        goto end;
    /* Encode k (from 0) fills 1-0.4^k .. 1-0.4^(k+1) of the encoding's share:
     * most jobs need one or two encodes, and the bar never goes back. */
    done = 1 - pow(0.4, j->progress_attempts++);
    while ((ret = sh_source_get(src, frame)) >= 0) {
        double part = (double)++nframes / FFMAX(sh_source_count(src), 1);
        ret = sink_encode(j, frame, &e);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
        report_progress(j, "encode", SH_PROGRESS_ANALYSIS + (1 - SH_PROGRESS_ANALYSIS) *
                        (done + (1 - done) * 0.6 * part),
                        e.video_bytes + (audio && j->apar ? (int64_t)(sh_spool_bytes(j->audio) * part) : 0));
    }
    if (ret != AVERROR_EOF || (ret = sink_encode(j, NULL, &e)) < 0 ||
        (ret = write_audio_until(j, &e, 0, 1)) < 0 || (ret = check_interrupt()) < 0)
        goto end;
    j->output_failed = 1;
    if ((ret = sh_mux_finish(e.mx)) < 0)
        goto end;
    if (stat(at->path, &sb) < 0) {
        ret = AVERROR(errno);
        goto end;
    }
    j->output_failed = 0;
    at->bytes = sb.st_size;
    at->video_bytes = e.video_bytes;
end:
    sh_mux_free(&e.mx);
    sh_encoder_free(&e.enc);
    av_packet_free(&e.pkt);
    av_packet_free(&e.apkt);
    av_frame_free(&e.held);
    av_free(e.frame_pts);
    av_free(e.frame_dur);
    av_frame_free(&frame);
    if (ret < 0 && at->path[0]) {
        sh_temp_remove(at->path);
        at->path[0] = 0;
    }
    return ret;
}

/*
 * The next bitrate: aim the video bytes at what the target leaves. The
 * tried bitrates bracket the goal: lo is the highest one that came out
 * under, hi the lowest that came out over. With one side known, step
 * along the measured size-bitrate elasticity; with both, take the secant, or bisect when
 * the secant lands next to a tried point: at low rates x264's size is a
 * staircase of the bitrate and the secant can stall on one step. Returns 0
 * when the bracket is too narrow to be worth another encode.
 */
static int64_t next_bitrate(const Attempt *a, int n, int64_t goal_video)
{
    const Attempt *lo = NULL, *hi = NULL, *last = &a[n - 1];
    double b;
    for (int i = 0; i < n; i++) {
        if (a[i].video_bytes <= goal_video && (!lo || a[i].bitrate > lo->bitrate))
            lo = &a[i];
        if (a[i].video_bytes > goal_video && (!hi || a[i].bitrate < hi->bitrate))
            hi = &a[i];
    }
    if (lo && hi) {
        double span = (double)(hi->bitrate - lo->bitrate);
        if (span < 0.004 * lo->bitrate)
            return 0;
        if (hi->video_bytes > lo->video_bytes)
            b = lo->bitrate + (double)(goal_video - lo->video_bytes) * span /
                              (hi->video_bytes - lo->video_bytes);
        else
            b = 0;
        if (b < lo->bitrate + 0.1 * span || b > hi->bitrate - 0.1 * span)
            b = lo->bitrate + 0.5 * span;
    } else {
        /* One side only: size ~ bitrate^e. e is 1 in theory but far less
         * for content that cannot use the bits (screen captures); measure it
         * from the last two attempts when there are two. */
        const Attempt *prev = n >= 2 ? &a[n - 2] : NULL;
        double e = 1.0;
        if (prev && prev->bitrate != last->bitrate && prev->video_bytes > 0 && last->video_bytes > 0)
            e = av_clipd(log((double)last->video_bytes / prev->video_bytes) /
                         log((double)last->bitrate / prev->bitrate), 0.2, 1.5);
        b = last->bitrate * pow((double)goal_video / FFMAX(last->video_bytes, 1), 1.0 / e);
        b = av_clipd(b, last->bitrate * 0.5, last->bitrate * 3.0);
    }
    b = FFMAX(b, 1);    /* a film in a few KB runs at a few b/s */
    for (int i = 0; i < n; i++)
        if (llabs(a[i].bitrate - (int64_t)b) <= a[i].bitrate / 1000)
            return 0;   /* tried already: nothing new to learn */
    return (int64_t)b;
}

static void log_attempt(const Job *j, const char *what, const Attempt *a)
{
    char s1[32], s2[32];
    sh_log(SH_LOG_VERBOSE, j->input, "%s at %lld b/s: %s (%.1f%% of %s)", what,
           (long long)a->bitrate, sh_size_format(s1, sizeof(s1), a->bytes),
           100.0 * a->bytes / j->plan.target_bytes, sh_size_format(s2, sizeof(s2), j->plan.target_bytes));
}

/* Keep the largest file at or under the target; remove the others. */
static void keep_best(Attempt *best, Attempt *cand, int64_t target)
{
    if (cand->bytes <= target && (!best->path[0] || cand->bytes > best->bytes)) {
        if (best->path[0])
            sh_temp_remove(best->path);
        *best = *cand;
    } else {
        sh_temp_remove(cand->path);
    }
    cand->path[0] = 0;
}

static int encode_to_target(Job *j, Attempt *best, int *attempts)
{
    Attempt a[SH_MAX_ATTEMPTS] = { 0 };
    const int64_t target = j->plan.target_bytes;
    int64_t fixed, goal;
    int n = 0, too_low = 0, ret;

    /* Bytes that are not video: audio (exact, encoded already) and the
     * container (estimated now, measured after the first attempt). */
    const int probed = j->pass1_bytes > 0 && !(j->plan.venc->caps & SH_ENC_CAP_TWO_PASS);
    double drift = 1;

    fixed = sh_spool_bytes(j->audio) + sh_budget_overhead(sh_frame_cache_count(j->cache), sh_spool_count(j->audio));
    goal = (int64_t)(target * (probed ? SH_AIM_PROBED : SH_AIM)) - fixed;
    if (goal <= 0)
        return SH_ERROR_TARGET_TOO_SMALL;
    if (j->pass1_bytes) {
        drift = j->pass1_bytes * 8 / j->duration / j->plan.video_bitrate;
        sh_log(SH_LOG_VERBOSE, j->input, "%s at %lld b/s: %lld bytes (%.1f%% of its bitrate)",
               probed ? "probe" : "pass 1", (long long)j->plan.video_bitrate, (long long)j->pass1_bytes,
               100.0 * drift);
    }
    /* A two-pass encoder's second pass corrects itself from the log; a
     * one-pass encoder is asked for the bitrate its probe says lands on the goal. */
    a[0].bitrate = (int64_t)(goal * 8 / j->duration / (probed ? av_clipd(drift, 0.5, 2.0) : 1.0));
    a[0].bitrate = sh_encoder_clamp_bitrate(j->plan.venc, a[0].bitrate);
    j->final_rung = j->rung;
    j->final_audio = j->apar != NULL;
    for (n = 0; n < SH_MAX_ATTEMPTS; n++) {
        if (n) {
            /* Measured: everything in the file that is not video. */
            fixed = a[n - 1].bytes - a[n - 1].video_bytes;
            goal = (int64_t)(target * SH_AIM) - fixed;
            if (goal <= 0)
                break;
            if (!(a[n].bitrate = next_bitrate(a, n, goal)))
                break;
            a[n].bitrate = sh_encoder_clamp_bitrate(j->plan.venc, a[n].bitrate);
            if (a[n].bitrate == a[n - 1].bitrate)
                break;      /* at the encoder's largest already */
        }
        /* One-pass encoders (SVT-AV1 in FFmpeg 5.1) rely on this loop alone. */
        ret = encode_attempt(j, &a[n], j->source, &j->rung, 1,
                             j->plan.venc->caps & SH_ENC_CAP_TWO_PASS ? 2 : 0, -1, &too_low);
        if (ret < 0) {
            if (too_low)
                break;
            return ret;
        }
        *attempts = n + 1;
        log_attempt(j, j->plan.venc->caps & SH_ENC_CAP_TWO_PASS ? "pass 2" : "encode", &a[n]);
        keep_best(best, &a[n], target);
        if (best->path[0] && best->bytes >= target * SH_ACCEPT_LOW)
            return 0;
        if (best->path[0] && j->plan.venc->max_bitrate > 0 && a[n].bitrate >= j->plan.venc->max_bitrate) {
            sh_log(SH_LOG_VERBOSE, j->input, "%s takes at most %lld b/s: the file stays under the target",
                   j->plan.venc->name, (long long)j->plan.venc->max_bitrate);
            return 0;
        }
        /* On a cliff of the staircase: this rate gave a size seen before, so
         * the bracket holds no size in between worth another encode. */
        for (int i = 0; i < n && best->path[0]; i++)
            if (a[i].video_bytes == a[n].video_bytes && a[i].bitrate != a[n].bitrate)
                return 0;
        /* Saturated: the content cannot use more bits at this picture size
         * (a still frame, say). More attempts would only cost time. */
        if (n && a[n].bitrate > a[n - 1].bitrate * 1.4 &&
            a[n].video_bytes < a[n - 1].video_bytes * 1.02 && best->path[0])
            return 0;
    }
    if (best->path[0])
        return 0;      /* under the target, if not as close as hoped */
    return too_low ? SH_ERROR_TARGET_TOO_SMALL : AVERROR(ERANGE);
}

/* The smallest file this solver can make: the floor picture and rate at x264's
 * largest quantiser, without audio unless the user fixed its bitrate
 * (--audio-bitrate: then the smallest file that works carries it). */
static int encode_floor(Job *j, Attempt *at)
{
    const int audio = j->opt->audio_bitrate > 0 && j->apar;
    int ret;
    /* The rule's encoder, not the search's choice: the same floor, and so the
     * same smallest size, whatever the target (SVT-AV1's 64 px would not do). */
    if (j->plan.floor_venc)
        j->plan.venc = j->plan.floor_venc;
    at->bitrate = 0;
    if ((ret = encode_attempt(j, at, j->floor_source, &j->plan.floor, audio, 0, 51, NULL)) < 0)
        return ret;
    j->final_rung = j->plan.floor;
    j->final_audio = audio;
    log_attempt(j, "floor", at);
    return 0;
}

static int finish_output(Job *j, Attempt *best)
{
    ShVerifyExpect e = { 0 };
    double frame_s = 1.0 / av_q2d(j->final_rung.fps);
    int ret;

    e.video_codec = j->plan.venc->codec;
    e.width = j->final_rung.width;
    e.height = j->final_rung.height;
    e.audio = j->final_audio;
    e.duration = j->duration;
    /* "Within a frame": a video frame, or an audio frame where that is longer. */
    e.tolerance = FFMAX(frame_s, e.audio ? j->plan.audio.frame_ms / 1000.0 : 0) + 0.002;
    e.max_bytes = j->plan.target_bytes;
    if ((ret = sh_output_verify(best->path, &e)) < 0)
        return ret;
    return sh_temp_commit(best->path, j->output, j->opt->force, "encoding");
}

/*
 * Encoders whose size is not a bitrate (SH_ENC_CAP_PALETTE: GIF): the
 * solver's palette fit chooses and encodes from the opened input and
 * leaves one temporary file; checking it and putting it in place are the
 * job's, as for any output.
 */
static const ShEncoderDesc *find_palette_encoder(const Job *j)
{
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d))
        if ((d->caps & SH_ENC_CAP_PALETTE) && d->type == AVMEDIA_TYPE_VIDEO &&
            sh_encoder_supports_container(d, j->format->muxer) &&
            (!j->opt->codec || !strcmp(j->opt->codec, "auto") || !strcmp(j->opt->codec, d->name)))
            return d;   /* (another --codec goes on to the solver, which says it cannot) */
    return NULL;
}

static int run_palette_fit(Job *j, const ShEncoderDesc *d, Attempt *best, ShPhase *phase)
{
    ShPaletteJob fc = { .input = j->input, .in = j->in, .info = j->info, .opt = j->opt,
                        .output = j->output, .target_bytes = j->opt->target_bytes,
                        .interrupted = sh_job_interrupted };
    int ret = sh_palette_fit(d, &fc);
    j->plan.venc = d;
    j->plan.target_bytes = fc.target_bytes;
    j->final_rung = (ShRung){ fc.width, fc.height, fc.fps };
    j->duration = fc.duration;
    j->output_failed = fc.output_failed;
    j->res->attempts = fc.attempts;
    j->res->min_bytes = fc.min_bytes;
    j->search.searched = fc.sample_encodes > 0;
    j->search.encodes = fc.sample_encodes;
    j->search.sample_seconds = fc.sample_seconds;
    j->search.eval_width = fc.eval_width;
    j->search.eval_height = fc.eval_height;
    j->search.predicted_ssim = fc.predicted_ssim;
    if (ret < 0 || j->opt->plan_only)
        return ret;
    snprintf(best->path, sizeof(best->path), "%s", fc.path);
    best->bytes = fc.bytes;
    j->res->video_bitrate = fc.duration > 0 ? (int64_t)(fc.bytes * 8 / fc.duration) : 0;
    *phase = SH_PHASE_OUTPUT;
    return finish_output(j, best);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fill_search(const ShSolverReport *sr, ShJobResult *r)
{
    r->searched = sr->searched;
    r->chosen = sr->chosen;
    r->ncandidates = FFMIN(sr->ncandidates, SH_MAX_CANDIDATES);
    for (int i = 0; i < r->ncandidates; i++) {
        const ShCandidate *c = &sr->cand[i];
        ShCandidateInfo *o = &r->candidates[i];
        o->encoder = c->enc ? c->enc->name : NULL;
        o->width = c->rung.width;
        o->height = c->rung.height;
        o->fps = av_q2d(c->rung.fps);
        o->video_bitrate = c->video_bps;
        o->measures = c->nmeasures;
        for (int k = 0; k < c->nmeasures; k++) {
            o->crf[k] = c->crf[k];
            o->sample_bitrate[k] = c->bps[k];
            o->sample_ssim[k] = 1 - pow(10, -c->ssim_db[k] / 10);
            o->sample_psnr[k] = c->psnr[k];
        }
        o->feasible = c->feasible;
        o->ssim = c->pred_ssim;
        o->psnr = c->pred_psnr;
        o->speed_cost_db = c->time_cost_db;
        if (c->calibrated) {
            o->final_ssim = 1 - pow(10, -c->cal_ssim_db / 10);
            o->final_psnr = c->cal_psnr;
        }
    }
    r->eval_width = sr->eval_width;
    r->eval_height = sr->eval_height;
    r->sample_seconds = sr->sample_seconds;
    r->sample_encodes = sr->encodes;
    r->solver_seconds = sr->seconds;
    r->predicted_ssim = sr->predicted_ssim;
    r->predicted_psnr = sr->predicted_psnr;
}

static void fill_result(const Job *j, ShJobResult *r)
{
    fill_search(&j->search, r);
    snprintf(r->output, sizeof(r->output), "%s", j->output);
    r->duration = j->duration > 0 ? j->duration : j->plan.duration;
    r->codec = j->plan.venc ? j->plan.venc->codec : NULL;
    r->encoder = j->plan.venc ? j->plan.venc->name : NULL;
    const ShRung *rung = j->final_rung.width ? &j->final_rung : &j->rung;
    r->width = rung->width;
    r->height = rung->height;
    r->fps = rung->fps.num ? av_q2d(rung->fps) : 0;
    /* Planned only (--plan, or a failure before the decode): what the plan says. */
    r->audio = j->final_rung.width ? j->final_audio : j->cache ? j->apar != NULL : j->plan.aenc != NULL;
    if (!r->video_bitrate)
        r->video_bitrate = j->plan.video_bitrate;
    r->audio_codec = r->audio && j->plan.aenc ? j->plan.aenc->codec : NULL;
    r->audio_bitrate = r->audio ? j->plan.audio.bitrate : 0;
    r->audio_channels = r->audio ? j->plan.audio.channels : 0;
}

int sh_job_run(const ShOptions *opt, ShJobResult *res)
{
    Job job = { 0 }, *j = &job;
    Attempt best = { 0 };
    ShSolverOptions so = { 0 };
    double t0 = now_seconds();
    ShPhase phase = SH_PHASE_SETUP;
    int ret;

    memset(res, 0, sizeof(*res));
    j->t0 = t0;
    j->opt = opt;
    j->res = res;
    j->input = opt->input;
    job_interrupted = 0;
    sh_log_install_av_bridge();

    if ((ret = check_paths(j)) < 0)
        goto end;
    phase = SH_PHASE_INPUT;
    if ((ret = sh_input_open(&j->in, j->input)) < 0 ||
        (ret = sh_input_select_audio(j->in, opt->audio_track)) < 0 ||
        (ret = sh_input_set_range(j->in, opt->start, opt->end)) < 0 ||
        /* GIF has no HDR: it is always tone-mapped. */
        (ret = sh_input_set_picture(j->in, find_palette_encoder(j) ? SH_HDR_TONEMAP : opt->hdr, opt->deinterlace)) < 0)
        goto end;
    sh_input_warn_index(j->in);
    j->info = sh_input_info(j->in);
    j->origin = j->info->range_start;

    {
        const ShEncoderDesc *pal = find_palette_encoder(j);
        if (pal) {
            phase = SH_PHASE_ENCODE;
            if ((ret = run_palette_fit(j, pal, &best, &phase)) < 0 || opt->plan_only)
                goto end;
            res->bytes = best.bytes;
            best.path[0] = 0;
            phase = SH_PHASE_NONE;
            goto end;
        }
    }
    phase = SH_PHASE_PLAN;
    /* The search takes a while on long films: say so rather than show "analysis 0%". */
    report_progress(j, "sampling", 0, 0);
    so.target_bytes = opt->target_bytes;
    so.container = j->format->muxer;
    so.codec = opt->codec && strcmp(opt->codec, "auto") ? opt->codec : NULL;
    so.speed = opt->speed;
    so.no_audio = opt->no_audio;
    so.height = opt->height;
    so.max_height = opt->max_height;
    so.fps = opt->fps;
    so.min_fps = opt->min_fps;
    so.audio_bitrate = opt->audio_bitrate;
    so.start = opt->start;
    so.no_search = opt->no_search;
    so.interrupted = sh_job_interrupted;
    if ((ret = sh_solver_plan(&j->plan, j->input, j->info, &so, &j->search)) < 0) {
        const ShEncoderDesc *d;
        if (ret == SH_ERROR_INTERRUPTED)
            goto end;
        d = so.codec ? sh_encoder_find(so.codec) : NULL;
        if (ret == AVERROR_ENCODER_NOT_FOUND && d && d->min_size > 0 &&
            (j->info->width < d->min_size || j->info->height < d->min_size)) {
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: needs pictures of at least %dx%d, the input is %dx%d",
                   so.codec, d->min_size, d->min_size, j->info->width, j->info->height);
            ret = SH_ERROR_BAD_OPTION;
        } else if (ret == AVERROR_ENCODER_NOT_FOUND && so.codec && !d) {
            char names[256];
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: no such encoder (%s)", so.codec,
                   sh_codec_names(names, sizeof(names)));
            ret = SH_ERROR_BAD_OPTION;
        } else if (ret == AVERROR_ENCODER_NOT_FOUND && so.codec) {
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: not an available encoder that writes %s",
                   so.codec, j->format->name);
            ret = SH_ERROR_BAD_OPTION;
        } else
            sh_log(SH_LOG_ERROR, j->input, "no usable encoder for %s: %s", j->format->name, av_err2str(ret));
        goto end;
    }
    for (int i = 0; i < j->search.ncandidates; i++) {
        const ShCandidate *c = &j->search.cand[i];
        char cal[64] = "";
        if (c->calibrated)
            snprintf(cal, sizeof(cal), "; final preset: ssim %.4f psnr %.2f",
                     1 - pow(10, -c->cal_ssim_db / 10), c->cal_psnr);
        sh_log(SH_LOG_VERBOSE, j->input, "candidate %s %dx%d %.3g fps: crf %.1f -> %.0f b/s ssim %.2f dB%s; "
               "at %.0f b/s predicted ssim %.4f (%.2f dB) psnr %.2f%s%s%s", c->enc ? c->enc->name : "?", c->rung.width,
               c->rung.height, av_q2d(c->rung.fps), c->crf[0], c->bps[0], c->ssim_db[0],
               c->nmeasures > 1 ? " (2 points)" : "", c->video_bps, c->pred_ssim, c->pred_ssim_db,
               c->pred_psnr, cal, c->feasible ? "" : " (cannot reach)", i == j->search.chosen ? " <- chosen" : "");
    }
    if (j->search.searched)
        sh_log(SH_LOG_VERBOSE, j->input, "search: %.1f s of samples (%.2fx the film's difficulty), %d encodes, "
               "%.2f s (sampling %.2f s, calibration %.2f s)", j->search.sample_seconds, j->search.difficulty,
               j->search.encodes, j->search.seconds, j->search.sampling_seconds, j->search.calibration_seconds);
    j->rung = (ShRung){ j->plan.width, j->plan.height, j->plan.fps };
    if (opt->plan_only) {
        ret = 0;
        phase = SH_PHASE_NONE;
        goto end;
    }
    if (j->plan.video_bitrate > sh_encoder_clamp_bitrate(j->plan.venc, j->plan.video_bitrate)) {
        /* A budget past what the encoder takes (a very short film, a big target): its largest. */
        sh_log(SH_LOG_VERBOSE, j->input, "the budget's %lld b/s is more than %s takes: %lld b/s",
               (long long)j->plan.video_bitrate, j->plan.venc->name, (long long)j->plan.venc->max_bitrate);
        j->plan.video_bitrate = j->plan.venc->max_bitrate;
    }
    j->time_scale = rate_time_scale(j, j->plan.video_bitrate);
    sh_log(SH_LOG_VERBOSE, j->input, "plan: %dx%d at %.3g fps, %.3f bits/pixel, audio %d b/s%s",
           j->rung.width, j->rung.height, av_q2d(j->rung.fps), j->plan.bpp, j->plan.audio.bitrate,
           j->plan.at_floor ? " (at the floor)" : "");
    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_disk_plan(&j->disk, opt->target_bytes, &j->rung, &j->plan.floor, j->plan.venc->pix_fmt,
                            (j->plan.venc->caps & SH_ENC_CAP_TWO_PASS) && !(j->plan.venc->caps & SH_ENC_CAP_STATS_LAVC),
                            j->info->duration, j->plan.aenc ? j->plan.audio.bitrate : 0,
                            SH_CACHE_MEM_LIMIT, SH_AUDIO_MEM_LIMIT)) < 0)
        goto end;
    phase = SH_PHASE_PLAN;
    if (j->plan.venc->caps & SH_ENC_CAP_TWO_PASS && (ret = make_stats_paths(j)) < 0)
        goto end;

    phase = SH_PHASE_INPUT;
    /* Starved by the bits-per-pixel rule is not starved for the encoder: a
     * pinned picture and rate below the rule's 0.06 b/px still get the
     * bitrate (x264 goes far lower); the floor is for when it refuses. */
    if ((ret = analyse(j, j->plan.video_bitrate > 0 &&
                          (j->plan.venc->caps & (SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_PROBE_PASS)))) < 0)
        goto end;
    {
        const ShInputStats *st = sh_input_stats(j->in);
        if (!sh_frame_cache_count(j->cache)) {
            sh_log(SH_LOG_ERROR, j->input, "no video frame could be decoded");
            ret = AVERROR_INVALIDDATA;
            goto end;
        }
        if (st->damaged_frames == st->video_frames) {
            /* Concealment over every picture (a header with the wrong size, say): nothing to keep. */
            sh_log(SH_LOG_ERROR, j->input, "every video frame is damaged (%lld of %lld concealed)",
                   (long long)st->damaged_frames, (long long)st->video_frames);
            ret = AVERROR_INVALIDDATA;
            goto end;
        }
        if (st->decode_errors || st->damaged_frames)
            sh_log(SH_LOG_WARNING, j->input, "damaged: %lld packets skipped, %lld of %lld frames concealed",
                   (long long)st->decode_errors, (long long)st->damaged_frames, (long long)st->video_frames);
        j->end_pts = st->end_pts;
        j->duration = (st->end_pts - j->origin) * av_q2d(j->info->video_tb);
        /* Cut short (an interrupted download or copy): the output is what could be read. */
        if (j->duration < j->info->duration - FFMAX(1.0, 0.05 * j->info->duration))
            sh_log(SH_LOG_WARNING, j->input, "the video stops at %.2f s of the %.2f s the file announces "
                   "(cut short?): the output is that long", j->duration, j->info->duration);
    }
    if ((ret = sh_frame_cache_has_pictures(j->floor_cache) ? sh_source_from_cache(&j->floor_source, j->floor_cache) :
               sh_source_redecode(&j->floor_source, j->input, j->info, opt->start, opt->end, &j->plan.floor,
                                  floor_pix_fmt(j), j->floor_cache)) < 0 ||
        (ret = sh_frame_cache_has_pictures(j->cache) ? sh_source_from_cache(&j->source, j->cache) :
               sh_source_redecode(&j->source, j->input, j->info, opt->start, opt->end, &j->rung,
                                  video_pix_fmt(j), j->cache)) < 0)
        goto end;

    phase = SH_PHASE_ENCODE;
    ret = j->plan.video_bitrate <= 0 ? SH_ERROR_TARGET_TOO_SMALL : encode_to_target(j, &best, &res->attempts);
    if (ret == SH_ERROR_TARGET_TOO_SMALL || ret == AVERROR(ERANGE)) {
        /* Starved at the smallest picture, refused by x264, or never under the
         * target: the floor encode says whether anything fits, and if not,
         * its size is the smallest that does. */
        if (best.path[0])
            sh_temp_remove(best.path);
        best.path[0] = 0;
        if ((ret = encode_floor(j, &best)) < 0)
            goto end;
        res->attempts++;
        if (best.bytes > j->plan.target_bytes) {
            res->min_bytes = best.bytes;
            ret = SH_ERROR_TARGET_TOO_SMALL;
            goto end;
        }
    } else if (ret < 0) {
        goto end;
    }
    res->video_bitrate = best.bitrate;

    phase = SH_PHASE_OUTPUT;
    if ((ret = finish_output(j, &best)) < 0)
        goto end;
    if (opt->report) {
        ShQuality q;
        int w = j->search.eval_width, h = j->search.eval_height;
        if (!w)
            sh_scale_dims(j->info->width, j->info->height, j->info->sar, j->info->rotation, 720, &w, &h);
        if (sh_report_measure(j->input, j->info, j->output, opt->start, j->duration, w, h, &q) >= 0) {
            res->measured_ssim = q.ssim;
            res->measured_psnr = q.psnr;
        } else {
            sh_log(SH_LOG_WARNING, j->output, "could not measure the result against the source");
        }
    }
    res->bytes = best.bytes;
    best.path[0] = 0;
    phase = SH_PHASE_NONE;
end:
    if (ret == SH_ERROR_TARGET_TOO_SMALL)
        phase = SH_PHASE_PLAN;
    else if (ret < 0 && j->output_failed)
        phase = SH_PHASE_OUTPUT;
    else if (ret < 0 && j->encoder_failed)
        phase = SH_PHASE_ENCODE;
    if (best.path[0])
        sh_temp_remove(best.path);
    if (j->tmpdir[0])
        remove_stats(j);
    fill_result(j, res);
    res->failed_phase = ret < 0 ? phase : SH_PHASE_NONE;
    res->seconds = now_seconds() - t0;
    sh_spool_free(&j->audio);
    avcodec_parameters_free(&j->apar);
    sh_source_free(&j->source);
    sh_source_free(&j->floor_source);
    sh_frame_cache_free(&j->cache);
    sh_frame_cache_free(&j->floor_cache);
    sh_input_close(&j->in);
    return ret;
}

const char *sh_strerror(int err, char *buf, size_t len)
{
    switch (err) {
    case SH_ERROR_TARGET_TOO_SMALL: snprintf(buf, len, "target too small"); break;
    case SH_ERROR_NO_VIDEO:         snprintf(buf, len, "no video stream"); break;
    case SH_ERROR_VERIFY:           snprintf(buf, len, "output failed verification"); break;
    case SH_ERROR_INTERRUPTED:      snprintf(buf, len, "interrupted"); break;
    case SH_ERROR_SAME_FILE:        snprintf(buf, len, "output is the input"); break;
    case SH_ERROR_EXISTS:           snprintf(buf, len, "output exists"); break;
    case SH_ERROR_BAD_RANGE:        snprintf(buf, len, "trim outside the input"); break;
    case SH_ERROR_BAD_OPTION:       snprintf(buf, len, "options not possible together"); break;
    case SH_ERROR_REFUSED:          snprintf(buf, len, "input refused"); break;
    case SH_ERROR_NOT_REGULAR:      snprintf(buf, len, "output is not a regular file"); break;
    case SH_ERROR_CHANGED:          snprintf(buf, len, "input changed while it was read"); break;
    default:                        av_strerror(err, buf, len); break;
    }
    return buf;
}
