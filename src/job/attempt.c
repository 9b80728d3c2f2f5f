/*
 * One encode attempt: the frames of a source (the cache the decode pass
 * filled, or a re-decode) through the video encoder into a new temporary
 * file beside the output, with the kept audio packets interleaved by time.
 * Each frame lasts until the next kept one (the held frame), so dropping
 * frames never shortens the film.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/temp.h"
#include "common/tmpspace.h"
#include "job/state.h"
#include "output/mux.h"
#include "shrink/size.h"

/* ---- encoding helpers ---- */

/*
 * Where the encoder takes whole kb/s, scale time so one step is a small
 * fraction of the rate. Fixed for the job: x264 refuses a second pass whose
 * time base differs from the first's. Sized for half the planned rate, so
 * corrections downwards keep a fine step too.
 */
int sh_job_time_scale(const Job *j, int64_t bitrate)
{
    int64_t k, kmax = (j->plan.venc->max_time_den > 0 ? j->plan.venc->max_time_den : INT_MAX) /
                      FFMAX(j->info->video_tb.den, 1);
    if (!(j->plan.venc->caps & SH_ENC_CAP_WHOLE_KBPS) || bitrate <= 0)
        return 1;
    k = (800000 + bitrate - 1) / bitrate;
    return (int)av_clip64(k, 1, FFMIN(kmax, 1 << 20));
}

/* HDR kept stays 10-bit where the encoder can; everything else is 8-bit. */
enum AVPixelFormat sh_job_video_pix_fmt(const Job *j)
{
    return sh_encoder_pix_fmt(j->plan.venc, j->info->hdr && !j->info->tonemapped ? j->info->bit_depth : 8);
}

/* The floor's: made by the rule's encoder, whatever the search chose (encode_floor). */
enum AVPixelFormat sh_job_floor_pix_fmt(const Job *j)
{
    return sh_encoder_pix_fmt(j->plan.floor_venc ? j->plan.floor_venc : j->plan.venc,
                              j->info->hdr && !j->info->tonemapped ? j->info->bit_depth : 8);
}

int sh_job_open_video_encoder(Job *j, ShEncoder **enc, const ShRung *rung, int pass,
                              int64_t bitrate, int qp, int *too_low)
{
    ShEncoderConfig cfg = { 0 };
    int ret;

    cfg.width = rung->width;
    cfg.height = rung->height;
    cfg.pix_fmt = sh_job_video_pix_fmt(j);
    cfg.has_colour = 1;
    cfg.colour = j->info->out_colour;
    cfg.time_base = j->info->video_tb;
    cfg.frame_rate = rung->fps;
    /* Slower than the encoder takes (a still held for hours): it gets its
     * slowest rate, and send_held() repeats the picture at that rate. */
    if (j->plan.venc->min_fps.num > 0 && av_cmp_q(cfg.frame_rate, j->plan.venc->min_fps) < 0)
        cfg.frame_rate = j->plan.venc->min_fps;
    cfg.bitrate = sh_encoder_clamp_bitrate(j->plan.venc, bitrate);
    cfg.time_scale = pass ? j->time_scale : sh_job_time_scale(j, bitrate);
    cfg.qp = qp;
    cfg.fast = j->fast_preset;
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
    if (ret < 0 && !(too_low && *too_low)) {
        sh_log(SH_LOG_ERROR, j->input, "cannot open the %s encoder: %s",
               j->plan.venc->name, av_err2str(ret));
        j->encoder_failed = 1;
    }
    return ret;
}

int sh_job_encoder_failed(Job *j, const ShEncoder *enc, int ret)
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


/* ---- the full encode: cache -> encoder -> muxer, with the audio ---- */

struct ShEncodeRun {
    ShMuxer *mx;
    ShEncoder *enc;
    int vst, ast;
    int64_t next_audio;
    int64_t video_bytes;
    AVPacket *pkt, *apkt;
    AVFrame *held;           /* one frame back: its duration is known when the next arrives */
    int64_t *frame_pts, *frame_dur;
    int64_t nframes, frames_alloc;
    int64_t origin, end_pts;  /* video_tb: what becomes 0 in the file; where its last frame ends */
    int audio;
    const ShSubs *subs;       /* the subtitle tracks, chapters, title (NULL: none in this file) */
    ShSubsCursor subc;
};

/* Audio packets up to time t (video_tb, rebased), or all of them. */
static int write_audio_until(Job *j, ShEncodeRun *e, int64_t t, int all)
{
    int64_t end = av_rescale_q(e->end_pts - e->origin, j->info->video_tb, j->atb);
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

static int64_t frame_duration(const ShEncodeRun *e, int64_t pts)
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

static int write_video_packets(Job *j, ShEncodeRun *e)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(e->enc, e->pkt)) >= 0) {
        e->pkt->duration = frame_duration(e, e->pkt->pts);
        e->pkt->pts -= e->origin;
        e->pkt->dts -= e->origin;
        e->video_bytes += e->pkt->size;
        if ((ret = write_audio_until(j, e, e->pkt->dts, 0)) < 0 ||
            (ret = sh_subs_mux_until(e->subs, e->mx, &e->subc,
                                     av_rescale_q(e->pkt->dts, j->info->video_tb, (AVRational){ 1, 1000 }))) < 0 ||
            (ret = sh_mux_write(e->mx, e->vst, e->pkt)) < 0) {
            j->output_failed = 1;
            return ret;
        }
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : sh_job_encoder_failed(j, e->enc, ret);
}

/*
 * Send the held frame, now that the next frame's time (or the end of the
 * film) says how long it lasts: each frame lasts until the next kept one,
 * the last until the end of the source, so dropping frames never shortens
 * the film.
 */
static int send_one(Job *j, ShEncodeRun *e, AVFrame *f, int64_t dur)
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
    if ((ret = sh_job_faces_attach(j, f)) < 0) {
        av_frame_unref(f);
        return ret;
    }
    ret = sh_encoder_send_frame(e->enc, f);
    av_frame_unref(f);
    if (ret < 0)
        return sh_job_encoder_failed(j, e->enc, ret);
    return write_video_packets(j, e);
}

static int send_held(Job *j, ShEncodeRun *e, int64_t next_pts)
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
    ShEncodeRun *e = arg;
    int ret;
    if ((ret = sh_job_check_interrupt()) < 0)
        return ret;
    if (e->held->buf[0] && (ret = send_held(j, e, f ? f->pts : e->end_pts)) < 0)
        return ret;
    if (f) {
        av_frame_move_ref(e->held, f);
        return 0;
    }
    if ((ret = sh_encoder_send_frame(e->enc, NULL)) < 0)
        return sh_job_encoder_failed(j, e->enc, ret);
    return write_video_packets(j, e);
}

int sh_job_run_open(Job *j, ShEncodeRun **run, Attempt *at, const ShRung *rung, int audio, int pass, int qp,
                    int64_t origin, int *too_low)
{
    ShEncodeRun *e = av_mallocz(sizeof(*e));
    int ret;

    if (!(*run = e))
        return AVERROR(ENOMEM);
    e->vst = e->ast = -1;
    e->origin = origin;
    e->end_pts = j->end_pts;
    e->audio = audio && j->apar;
    /* In every output, the floor's too (their bytes came off the budget
     * first); not in a first pass, nor in a long film's stretches (the join
     * adds them once: long.c). */
    e->subs = pass != 1 && !j->in_stretches ? j->subs : NULL;
    e->pkt = av_packet_alloc();
    e->apkt = av_packet_alloc();
    e->held = av_frame_alloc();
    if (!e->pkt || !e->apkt || !e->held)
        return AVERROR(ENOMEM);
    if ((ret = sh_job_open_video_encoder(j, &e->enc, rung, pass, at->bitrate, qp, too_low)) < 0)
        return ret;
    /* From here on a failure is the output's (no room, not writable). */
    j->output_failed = 1;
    if ((ret = sh_temp_create_beside(at->path, sizeof(at->path), j->output)) < 0) {
        sh_log(SH_LOG_ERROR, j->output, "cannot create a file beside it: %s", av_err2str(ret));
        return ret;
    }
    if ((ret = sh_mux_open(&e->mx, at->path, j->plan.container)) < 0)
        return ret;
    if ((ret = e->vst = sh_mux_add_stream(e->mx, e->enc->par, e->enc->time_base,
                                          j->info->has_display_matrix ? j->info->display_matrix : NULL)) < 0)
        return ret;
    if (e->audio && (ret = e->ast = sh_mux_add_stream(e->mx, j->apar, j->atb, NULL)) < 0)
        return ret;
    if ((ret = sh_subs_mux_setup(e->subs, e->mx, &e->subc)) < 0)
        return ret;
    if ((ret = sh_mux_write_header(e->mx)) < 0)
        return ret;
    j->output_failed = 0;
    /* (Without audio the spool is not touched: long.c encodes while the decode fills it.) */
    if (e->audio && (ret = sh_spool_rewind(j->audio)) < 0)
        return ret;
    return 0;
}

int sh_job_run_send(Job *j, ShEncodeRun *e, AVFrame *f)
{
    return sink_encode(j, f, e);
}

int64_t sh_job_run_video_bytes(const ShEncodeRun *e)
{
    return e->video_bytes;
}

int sh_job_run_finish(Job *j, ShEncodeRun *e, Attempt *at, int64_t end_pts)
{
    struct stat sb;
    int ret;
    e->end_pts = end_pts;
    if ((ret = sink_encode(j, NULL, e)) < 0 || (ret = write_audio_until(j, e, 0, 1)) < 0 ||
        (ret = sh_subs_mux_until(e->subs, e->mx, &e->subc, INT64_MAX)) < 0 || (ret = sh_job_check_interrupt()) < 0)
        return ret;
    j->output_failed = 1;
    if ((ret = sh_mux_finish(e->mx)) < 0)
        return ret;
    if (stat(at->path, &sb) < 0)
        return AVERROR(errno);
    j->output_failed = 0;
    at->bytes = sb.st_size;
    at->video_bytes = e->video_bytes;
    return 0;
}

void sh_job_run_free(ShEncodeRun **run, Attempt *at, int failed)
{
    ShEncodeRun *e = *run;
    if (e) {
        sh_mux_free(&e->mx);
        sh_encoder_free(&e->enc);
        av_packet_free(&e->pkt);
        av_packet_free(&e->apkt);
        av_frame_free(&e->held);
        av_free(e->frame_pts);
        av_free(e->frame_dur);
        av_freep(run);
    }
    if (failed && at && at->path[0]) {
        sh_temp_remove(at->path);
        at->path[0] = 0;
    }
}

/*
 * One complete encode of a cache into a new temporary file beside the
 * output: pass 2 at a bitrate, or one pass at a constant quantiser
 * (qp >= 0). *too_low is set when the encoder refused the bitrate as under its floor.
 */
int sh_job_attempt(Job *j, Attempt *at, ShFrameSource *src, const ShRung *rung, int audio,
                          int pass, int qp, int *too_low)
{
    ShEncodeRun *e = NULL;
    AVFrame *frame = av_frame_alloc();
    int64_t nframes = 0;
    double done;
    int ret;

    if (!frame) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_job_run_open(j, &e, at, rung, audio, pass, qp, j->origin, too_low)) < 0 ||
        (ret = sh_source_rewind(src)) < 0)
        goto end;
    /* Encode k (from 0) fills 1-0.4^k .. 1-0.4^(k+1) of the encoding's share:
     * most jobs need one or two encodes, and the bar never goes back. */
    done = 1 - pow(0.4, j->progress_attempts++);
    while ((ret = sh_source_get(src, frame)) >= 0) {
        double part = (double)++nframes / FFMAX(sh_source_count(src), 1);
        ret = sh_job_run_send(j, e, frame);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
        if (!j->in_stretches)
            sh_job_progress(j, "encode", SH_PROGRESS_ANALYSIS + (1 - SH_PROGRESS_ANALYSIS) *
                            (done + (1 - done) * 0.6 * part),
                            e->video_bytes + (e->audio ? (int64_t)(sh_spool_bytes(j->audio) * part) : 0));
    }
    if (ret == AVERROR_EOF)
        ret = sh_job_run_finish(j, e, at, j->end_pts);
end:
    sh_job_run_free(&e, at, ret < 0);
    av_frame_free(&frame);
    return ret;
}


void sh_job_log_attempt(const Job *j, const char *what, const Attempt *a)
{
    char s1[32], s2[32];
    sh_log(SH_LOG_VERBOSE, j->input, "%s at %lld b/s: %s (%.1f%% of %s)", what,
           (long long)a->bitrate, sh_size_format(s1, sizeof(s1), a->bytes),
           100.0 * a->bytes / j->plan.target_bytes, sh_size_format(s2, sizeof(s2), j->plan.target_bytes));
}

