/*
 * The job's plan step: the solver's choice for the opened input, or a plan
 * given back (ShJobPlan, include/shrink/job.h) taken as it is or budgeted
 * again for another range and target; and the plan written out as plain data.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/rational.h>

#include "common/log.h"
#include "job/job.h"
#include "job/long.h"
#include "job/profile.h"
#include "job/state.h"

/* The solver over the opened input; its errors said in the options' terms. */
static int solve(Job *j, const ShSolverOptions *so)
{
    int ret;
    if ((ret = sh_solver_plan(&j->plan, j->input, j->info, so, &j->search)) < 0) {
        const ShEncoderDesc *d;
        if (ret == SH_ERROR_INTERRUPTED)
            return ret;
        d = so->codec ? sh_encoder_find(so->codec) : NULL;
        if (ret == AVERROR_ENCODER_NOT_FOUND && d && d->min_size > 0 &&
            (j->info->width < d->min_size || j->info->height < d->min_size)) {
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: needs pictures of at least %dx%d, the input is %dx%d",
                   so->codec, d->min_size, d->min_size, j->info->width, j->info->height);
            ret = SH_ERROR_BAD_OPTION;
        } else if (ret == AVERROR_ENCODER_NOT_FOUND && so->codec && !d) {
            char names[256];
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: no such encoder (%s)", so->codec,
                   sh_codec_names(names, sizeof(names)));
            ret = SH_ERROR_BAD_OPTION;
        } else if (ret == AVERROR_ENCODER_NOT_FOUND && so->codec) {
            sh_log(SH_LOG_ERROR, j->input, "--codec %s: not an available encoder that writes %s",
                   so->codec, j->format->name);
            ret = SH_ERROR_BAD_OPTION;
        } else
            sh_log(SH_LOG_ERROR, j->input, "no usable encoder for %s: %s", j->format->name, av_err2str(ret));
        return ret;
    }
    for (int i = 0; i < j->search.ncandidates; i++) {
        const ShCandidate *c = &j->search.cand[i];
        char cal[64] = "";
        if (c->calibrated)
            snprintf(cal, sizeof(cal), "; final preset: score %.2f dB", c->cal[SH_Q_SCORE]);
        sh_log(SH_LOG_VERBOSE, j->input, "candidate %s %dx%d %.3g fps: crf %.1f -> %.0f b/s ssim %.2f dB "
               "temporal %.2f dB%s; at %.0f b/s predicted score %.2f dB (ssim %.2f, temporal %.2f) psnr %.2f%s%s%s",
               c->enc ? c->enc->name : "?", c->rung.width, c->rung.height, av_q2d(c->rung.fps), c->crf[0], c->bps[0],
               c->q[0][SH_Q_SSIM], c->q[0][SH_Q_TSSIM], c->nmeasures > 1 ? " (2 points)" : "", c->video_bps,
               c->pred[SH_Q_SCORE], c->pred[SH_Q_SSIM], c->pred[SH_Q_TSSIM], c->pred[SH_Q_PSNR], cal,
               c->feasible ? "" : " (cannot reach)", i == j->search.chosen ? " <- chosen" : "");
    }
    if (j->search.searched)
        sh_log(SH_LOG_VERBOSE, j->input, "search: %.1f s of samples (%.2fx the film's difficulty), %d encodes, "
               "%.2f s (sampling %.2f s, calibration %.2f s)", j->search.sample_seconds, j->search.difficulty,
               j->search.encodes, j->search.seconds, j->search.sampling_seconds, j->search.calibration_seconds);
    return 0;
}

/*
 * A film long enough for the stretches (long.c) is planned against a time
 * budget: SH_LONG_TIME_BUDGET decodes of it (SH_LONG_TIME_FAST with --speed
 * fast; none with --speed best) for the whole job, one decode measured
 * first on a part of it. The solver weighs its choices' measured speeds
 * against what is left (solver/timing.c).
 */
static int time_budget(Job *j, ShSolverOptions *so)
{
    const ShOptions *opt = j->opt;
    ShSourceProfile p = { 0 };
    int ret;
    if (j->info->duration < SH_LONG_MIN_SECONDS || strcmp(j->format->muxer, "mp4") || opt->speed == SH_SPEED_BEST ||
        opt->no_search)
        return 0;
    if ((ret = sh_profile_decode_time(&p, j->input, j->info, opt->start)) < 0 || !(p.decode_seconds > 0))
        return ret == AVERROR(ENOMEM) ? ret : 0;   /* undecodable there: no budget, the decode pass will say */
    j->decode_seconds = p.decode_seconds;
    j->time_budget = (opt->speed == SH_SPEED_FAST ? SH_LONG_TIME_FAST : SH_LONG_TIME_BUDGET) * p.decode_seconds;
    so->decode_seconds = j->decode_seconds;
    so->time_budget = FFMAX(j->time_budget - (sh_now() - j->t0), 1);
    return 0;
}

int sh_job_solve(Job *j)
{
    const ShOptions *opt = j->opt;
    ShSolverOptions so = { 0 };
    int ret;

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
    so.fixed_bytes = sh_subs_bytes(j->subs);
    so.interrupted = sh_job_interrupted;
    so.roi = opt->roi;
    if ((ret = sh_job_listen(j)) < 0)
        return ret;
    so.audio_kind = j->audio_kind;
    if ((ret = time_budget(j, &so)) < 0 || (ret = solve(j, &so)) < 0)
        return ret;
    j->fast_preset = j->plan.fast_preset;
    return 0;
}

/* An encoder a plan names: one this build has, of the type, for the container. */
static int plan_encoder(const Job *j, const char *name, enum AVMediaType type, const ShEncoderDesc **d)
{
    *d = NULL;
    if (!name[0])
        return 0;
    *d = sh_encoder_find(name);
    if (*d && (*d)->type == type && sh_encoder_available(*d) &&
        sh_encoder_supports_container(*d, j->format->muxer))
        return 0;
    sh_log(SH_LOG_ERROR, j->input, "the plan's encoder %.32s is not one this build has for %s", name, j->format->name);
    return SH_ERROR_BAD_OPTION;
}

int sh_job_take_plan(Job *j, const ShJobPlan *g)
{
    const ShOptions *o = j->opt;
    const ShEncoderDesc *venc, *fvenc, *aenc;
    ShSolverOptions so = { 0 };
    int ret;

    /* A plan's picture is kept: the chunks of one plan must join. */
    j->keep_picture = 1;
    if (g->version != SH_JOB_PLAN_VERSION) {
        sh_log(SH_LOG_ERROR, j->input, "a plan of version %d (this build reads %d)", g->version, SH_JOB_PLAN_VERSION);
        return SH_ERROR_BAD_OPTION;
    }
    if (strcmp(g->container, j->format->muxer)) {
        sh_log(SH_LOG_ERROR, j->input, "the plan is for the %.32s container, the output is %s",
               g->container, j->format->name);
        return SH_ERROR_BAD_OPTION;
    }
    if ((ret = plan_encoder(j, g->encoder, AVMEDIA_TYPE_VIDEO, &venc)) < 0 ||
        (ret = plan_encoder(j, g->floor_encoder, AVMEDIA_TYPE_VIDEO, &fvenc)) < 0 ||
        (ret = plan_encoder(j, g->audio_encoder, AVMEDIA_TYPE_AUDIO, &aenc)) < 0)
        return ret;
    if (!venc || g->width <= 0 || g->height <= 0 || g->fps_num <= 0 || g->fps_den <= 0 ||
        g->floor_width <= 0 || g->floor_height <= 0 || g->floor_fps_num <= 0 || g->floor_fps_den <= 0) {
        sh_log(SH_LOG_ERROR, j->input, "the plan has no video encoder, picture or frame rate");
        return SH_ERROR_BAD_OPTION;
    }
    memset(&j->search, 0, sizeof(j->search));
    j->search.chosen = -1;
    j->search.predicted_ssim = g->predicted_ssim;
    j->search.predicted_tssim = g->predicted_tssim;
    j->search.predicted_psnr = g->predicted_psnr;
    j->audio_fixed = g->audio_fixed;
    j->audio_kind = g->audio_kind;
    if (g->start == o->start && g->end == o->end && g->target_bytes == o->target_bytes && !(o->no_audio && aenc)) {
        /* What it was made for: the plan as it is. */
        ShPlan *p = &j->plan;
        memset(p, 0, sizeof(*p));
        p->venc = venc;
        p->aenc = aenc;
        p->container = j->format->muxer;
        p->width = g->width;
        p->height = g->height;
        p->display_height = g->display_height;
        p->fps = (AVRational){ g->fps_num, g->fps_den };
        p->bpp = g->bpp;
        p->at_floor = g->at_floor;
        p->floor = (ShRung){ g->floor_width, g->floor_height, { g->floor_fps_num, g->floor_fps_den } };
        p->floor_venc = fvenc;
        if (aenc) {
            p->audio.bitrate = g->audio_bitrate;
            p->audio.channels = g->audio_channels;
            p->audio.frame_ms = g->audio_frame_ms;
            p->audio.kind = g->audio_kind;
        }
        p->audio_rate = g->audio_sample_rate;
        p->video_bitrate = g->video_bitrate;
        p->overhead_bytes = g->overhead_bytes;
        p->duration = g->duration;
        p->target_bytes = g->target_bytes;
        return 0;
    }
    /* Another range or target (a chunk of the film): the rule alone with
     * the plan's encoder, picture, rate and audio pinned budgets it again. */
    so.target_bytes = o->target_bytes;
    so.container = j->format->muxer;
    so.codec = venc->name;
    so.no_audio = o->no_audio || !aenc;
    so.audio_bitrate = aenc ? g->audio_bitrate : 0;
    so.audio_kind = g->audio_kind;
    so.height = g->display_height;
    so.fps = (double)g->fps_num / g->fps_den;
    so.start = o->start;
    so.no_search = 1;
    so.interrupted = sh_job_interrupted;
    if ((ret = solve(j, &so)) < 0)
        return ret;
    j->search.chosen = -1;
    j->search.predicted_ssim = g->predicted_ssim;
    j->search.predicted_tssim = g->predicted_tssim;
    j->search.predicted_psnr = g->predicted_psnr;
    if (j->plan.venc != venc || j->plan.width != g->width || j->plan.height != g->height ||
        fabs(av_q2d(j->plan.fps) - (double)g->fps_num / g->fps_den) > 1e-6) {
        /* The chunks of one plan would not join. */
        sh_log(SH_LOG_ERROR, j->input, "the plan's %s %dx%d at %.4g fps cannot be kept here: %s %dx%d at %.4g fps",
               venc->name, g->width, g->height, (double)g->fps_num / g->fps_den, j->plan.venc->name,
               j->plan.width, j->plan.height, av_q2d(j->plan.fps));
        return SH_ERROR_BAD_OPTION;
    }
    return 0;
}

static void copy_name(char *dst, size_t len, const char *name)
{
    snprintf(dst, len, "%s", name ? name : "");
}

void sh_job_export_plan(const Job *j, ShJobPlan *out)
{
    const ShPlan *p = &j->plan;
    /* GIF's fitter chose its picture itself: final_rung has it. */
    const ShRung *rung = j->final_rung.width ? &j->final_rung : &j->rung;

    memset(out, 0, sizeof(*out));
    out->version = SH_JOB_PLAN_VERSION;
    out->start = j->opt->start;
    out->end = j->opt->end;
    out->target_bytes = p->target_bytes ? p->target_bytes : j->opt->target_bytes;
    out->duration = p->duration > 0 ? p->duration : j->duration;
    copy_name(out->container, sizeof(out->container), p->container ? p->container : j->format ? j->format->muxer : NULL);
    copy_name(out->encoder, sizeof(out->encoder), p->venc ? p->venc->name : NULL);
    out->width = rung->width;
    out->height = rung->height;
    out->display_height = p->display_height;
    out->fps_num = rung->fps.num;
    out->fps_den = rung->fps.den;
    out->crop = j->crop;   /* (j->info is gone with the input by now) */
    out->video_bitrate = p->video_bitrate;
    out->bpp = p->bpp;
    out->at_floor = p->at_floor;
    copy_name(out->floor_encoder, sizeof(out->floor_encoder), p->floor_venc ? p->floor_venc->name : NULL);
    out->floor_width = p->floor.width;
    out->floor_height = p->floor.height;
    out->floor_fps_num = p->floor.fps.num;
    out->floor_fps_den = p->floor.fps.den;
    copy_name(out->audio_encoder, sizeof(out->audio_encoder), p->aenc ? p->aenc->name : NULL);
    out->audio_bitrate = p->aenc ? p->audio.bitrate : 0;
    out->audio_channels = p->aenc ? p->audio.channels : 0;
    out->audio_frame_ms = p->aenc ? p->audio.frame_ms : 0;
    out->audio_sample_rate = p->audio_rate;
    out->audio_fixed = j->audio_fixed;
    out->audio_kind = j->audio_kind;
    out->overhead_bytes = p->overhead_bytes;
    out->predicted_ssim = j->search.predicted_ssim;
    out->predicted_tssim = j->search.predicted_tssim;
    out->predicted_psnr = j->search.predicted_psnr;
}
