/*
 * A simple plan: bits per pixel decide the picture size and frame rate.
 * This is the one function the rate-quality solver replaces.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/error.h>

#include "metrics/audiokind.h"
#include "solver/plan.h"
#include "stages/stage.h"

#define SH_AUDIO_MIN_BPS 6000
#define SH_AUDIO_MAX_BPS 128000
#define SH_AUDIO_MAX_BPS_PER_CHANNEL 64000
/* What a silent track costs in MP4 at 120 ms frames, whatever the bitrate
 * asked: libopus's smallest packet, 27 B (1.8 kb/s; FFmpeg 5.1's wrapper has
 * no DTX), and the container's ~6 B each (docs/SOLVER.md). */
#define SH_AUDIO_SILENCE_BPS 2200
/* Audio's usual share of the rate (sh_budget_audio). */
#define SH_AUDIO_SHARE 0.12

void sh_budget_audio(double total_bps, int src_channels, ShAudioBudget *out)
{
    double a = total_bps * SH_AUDIO_SHARE;
    memset(out, 0, sizeof(*out));
    if (src_channels <= 0 || total_bps <= 0)
        return;
    if (a < SH_AUDIO_MIN_BPS)
        a = SH_AUDIO_MIN_BPS;
    if (a > SH_AUDIO_MAX_BPS)
        a = SH_AUDIO_MAX_BPS;
    if (a > total_bps / 3)
        return;
    out->channels = (a < 24000 || src_channels < 2) ? 1 : 2;
    if (a > SH_AUDIO_MAX_BPS_PER_CHANNEL * out->channels)
        a = SH_AUDIO_MAX_BPS_PER_CHANNEL * out->channels;
    out->bitrate = (int)(a / 500) * 500;
    out->frame_ms = out->bitrate < 12000 ? 120 : out->bitrate < 32000 ? 60 : out->bitrate < 64000 ? 40 : 20;
}

/* Speech is kept while its floor is at most this share of the total: the
 * picture keeps at least as much as the voice (docs/SOLVER.md). */
#define SH_AUDIO_SPEECH_MAX_SHARE 0.5

void sh_budget_audio_kind(double total_bps, int src_channels, int kind, ShAudioBudget *out)
{
    sh_budget_audio(total_bps, src_channels, out);
    if (src_channels > 0 && total_bps > 0) {
        if (kind == SH_AUDIO_SPEECH && !out->bitrate && SH_AUDIO_MIN_BPS <= total_bps * SH_AUDIO_SPEECH_MAX_SHARE)
            sh_budget_audio_fixed(SH_AUDIO_MIN_BPS, 1, out);
        else if (kind == SH_AUDIO_SILENCE && SH_AUDIO_SILENCE_BPS <= total_bps * SH_AUDIO_SHARE)
            /* Nothing to hear: the floor's bitrate (a sound the samples missed
             * still gets it), priced at what silence spends. */
            sh_budget_audio_fixed(SH_AUDIO_MIN_BPS, 1, out);
        else if (kind == SH_AUDIO_SILENCE)
            memset(out, 0, sizeof(*out));
    }
    out->kind = kind;
}

double sh_budget_audio_cost(const ShAudioBudget *b)
{
    return b->kind == SH_AUDIO_SILENCE ? FFMIN(b->bitrate, SH_AUDIO_SILENCE_BPS) : b->bitrate;
}

/*
 * One picture for the whole film (a still with a sound track): the sound
 * is what plays, the picture a fixed cost. It keeps half the budget up to
 * 150 KB (a 1080p picture at a good quality), the sound takes the rest.
 */
static void budget_audio_still(double total_bps, double dur, int src_channels, ShAudioBudget *out)
{
    double pic_bps = fmin(total_bps / 2, 150000 * 8.0 / dur);
    double a = fmin(total_bps - pic_bps, SH_AUDIO_MAX_BPS);
    memset(out, 0, sizeof(*out));
    if (a < SH_AUDIO_MIN_BPS && total_bps * 0.9 >= SH_AUDIO_MIN_BPS)
        a = SH_AUDIO_MIN_BPS;
    if (a < SH_AUDIO_MIN_BPS)
        return;
    sh_budget_audio_fixed((int)(a / 500) * 500, src_channels, out);
    if (out->bitrate > SH_AUDIO_MAX_BPS_PER_CHANNEL * out->channels)
        sh_budget_audio_fixed(SH_AUDIO_MAX_BPS_PER_CHANNEL * out->channels, src_channels, out);
}

int64_t sh_budget_overhead(int64_t video_frames, int64_t audio_packets)
{
    /* Measured here: ~780 B fixed, 11.8 B per H.264 frame with B-frames,
     * about 5 B per audio packet (sample size and time tables). */
    return 1024 + video_frames * 12 + audio_packets * 6;
}

static const int plan_heights[] = {
    2160, 1440, 1080, 720, 576, 540, 480, 432, 360, 288, 270, 240,
    216, 180, 144, 120, 108, 96, 72, 60, 48, SH_PLAN_MIN_HEIGHT,
};

double sh_plan_video_bps(const ShPlan *p, double fps)
{
    int64_t frames = (int64_t)(p->duration * fps) + 1;
    int64_t apk = p->audio.bitrate ? (int64_t)(p->duration * 1000 / p->audio.frame_ms) + 1 : 0;
    return (p->target_bytes - p->fixed_bytes - sh_budget_overhead(frames, apk)) * 8.0 / p->duration -
           sh_budget_audio_cost(&p->audio);
}

static double source_fps(const ShInputInfo *info, AVRational *base)
{
    double f = info->frame_rate.num > 0 ? av_q2d(info->frame_rate) : 0;
    *base = info->frame_rate;
    if (!(f > 0) || f > 240) {
        *base = (AVRational){ 30, 1 };
        f = 30;
    }
    return f;
}

static double display_height(const ShInputInfo *info)
{
    int swap = info->rotation == 90 || info->rotation == 270;
    return swap ? info->width * av_q2d(info->sar) : info->height;
}

int sh_plan_heights(const ShInputInfo *info, const ShSolverOptions *o, int *out, int max)
{
    int src = (int)lrint(display_height(info)), n = 0;
    if (o->height > 0) {
        out[n++] = FFMIN(o->height, src);
        return n;
    }
    for (size_t i = 0; i <= sizeof(plan_heights) / sizeof(plan_heights[0]) && n < max; i++) {
        int h = i ? plan_heights[i - 1] : src, w, ch;
        if ((i && h >= src) || (o->max_height > 0 && h > o->max_height))
            continue;
        /* Larger pictures do not fit the memory bound (the decoder, the
         * cache and x264's lookahead); --height can still ask for one. */
        sh_scale_dims(info->width, info->height, info->sar, info->rotation, h, &w, &ch);
        if ((int64_t)w * ch > SH_PLAN_MAX_PIXELS)
            continue;
        out[n++] = h;
    }
    if (!n && o->max_height > 0)
        out[n++] = FFMIN(o->max_height, src);
    return n;
}

int sh_plan_rates(const ShInputInfo *info, const ShSolverOptions *o, double min_fps, double max_fps,
                  AVRational *out, int max)
{
    AVRational base;
    double src = source_fps(info, &base);
    int n = 0;
    if (o->fps > 0) {
        out[n++] = o->fps >= src ? base : av_d2q(o->fps, 1001000);
        return n;
    }
    /* The source rate divided by a whole number: dropping keeps an even cadence. */
    for (int d = 1; n < max && (d == 1 || src / d >= min_fps - 1e-9); d++) {
        AVRational f = av_div_q(base, (AVRational){ d, 1 });
        if (av_q2d(f) > max_fps)
            continue;
        if (o->min_fps > 0 && av_q2d(f) < FFMIN(o->min_fps, src) - 1e-6)
            break;
        out[n++] = f;
    }
    return n;
}

void sh_budget_audio_fixed(int bitrate, int src_channels, ShAudioBudget *out)
{
    memset(out, 0, sizeof(*out));
    if (src_channels <= 0 || bitrate <= 0)
        return;
    out->bitrate = FFMAX(bitrate, SH_AUDIO_MIN_BPS);
    out->channels = (out->bitrate < 24000 || src_channels < 2) ? 1 : 2;
    out->frame_ms = out->bitrate < 12000 ? 120 : out->bitrate < 32000 ? 60 : out->bitrate < 64000 ? 40 : 20;
}

/* The coded size for a display height, grown until the encoder takes it. */
static void floor_dims(const ShInputInfo *info, const ShEncoderDesc *enc, int height, int *w, int *h)
{
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, height, w, h);
    while (enc && enc->min_size > 0 && (*w < enc->min_size || *h < enc->min_size) && height < 4096) {
        height += 2;
        sh_scale_dims(info->width, info->height, info->sar, info->rotation, height, w, h);
    }
}

/*
 * Below the usual floor (36 px, 1 fps): a film in a few KB. The same rule
 * over smaller pictures and rates under one frame a second, where a frame
 * must also pay for its headers (SH_PLAN_FRAME_BITS) before any picture.
 * Not reached when the user pinned the height or the rate. When even this
 * is starved the plan stays at the floor rung, and the floor encode (one
 * constant quantiser, the encoder's largest) decides.
 */
static void plan_extreme(ShPlan *p, const ShInputInfo *info, const ShSolverOptions *opt, int swap)
{
    static const int heights[] = { 72, 60, 48, 36, 32, 24, SH_PLAN_FLOOR_HEIGHT };
    static const int dens[] = { 1, 2, 4, 6, 10, 15, 20, 30, SH_PLAN_FLOOR_FPS_DEN };
    double best_util = -1;

    p->width = p->floor.width;
    p->height = p->floor.height;
    p->display_height = swap ? p->floor.width : p->floor.height;
    p->fps = p->floor.fps;
    p->video_bitrate = (int64_t)sh_plan_video_bps(p, av_q2d(p->fps));
    p->bpp = p->video_bitrate / ((double)p->width * p->height * av_q2d(p->fps));
    if (opt->height > 0 || opt->fps > 0 || opt->min_fps > 0)
        return;
    for (size_t i = 0; i < sizeof(heights) / sizeof(heights[0]); i++) {
        int w, h;
        if (heights[i] > display_height(info) || (opt->max_height > 0 && heights[i] > opt->max_height))
            continue;
        floor_dims(info, p->venc, heights[i], &w, &h);
        for (size_t r = 0; r < sizeof(dens) / sizeof(dens[0]); r++) {
            double f = 1.0 / dens[r];
            double vbps = sh_plan_video_bps(p, f);
            double util = (swap ? w : h) * sqrt(f) * (f / 10);
            if (vbps / f < SH_PLAN_FRAME_BITS + SH_PLAN_MIN_BPP * w * h || util <= best_util)
                continue;
            best_util = util;
            p->width = w;
            p->height = h;
            p->display_height = swap ? w : h;
            p->fps = (AVRational){ 1, dens[r] };
            p->video_bitrate = (int64_t)vbps;
            p->bpp = vbps / ((double)w * h * f);
        }
    }
    p->at_floor = best_util < 0;
    p->overhead_bytes = sh_budget_overhead((int64_t)(p->duration * av_q2d(p->fps)) + 1, 0);
}

int sh_plan_rule(ShPlan *p, const ShInputInfo *info, const ShSolverOptions *opt)
{
    AVRational base, rates[64];
    double src_fps = source_fps(info, &base);
    double dur = info->duration;
    double best_util = -1, best_rate = 0, total_bps;
    int heights[32], nh, nr;
    int swap = info->rotation == 90 || info->rotation == 270;

    memset(p, 0, sizeof(*p));
    p->target_bytes = opt->target_bytes;
    p->fixed_bytes = opt->fixed_bytes;
    p->duration = dur;
    p->container = opt->container ? opt->container : "mp4";
    /* The first available encoder of each kind that writes the container
     * (the one asked for, for video). */
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d)) {
        if (!sh_encoder_available(d) || !sh_encoder_supports_container(d, p->container))
            continue;
        if (d->type == AVMEDIA_TYPE_VIDEO && opt->codec && !sh_encoder_matches(d, opt->codec))
            continue;
        /* Pictures are never scaled up: a source smaller than the encoder takes rules it out. */
        if (d->type == AVMEDIA_TYPE_VIDEO && d->min_size > 0 &&
            (info->width < d->min_size || info->height < d->min_size))
            continue;
        if (d->type == AVMEDIA_TYPE_VIDEO && !p->venc)
            p->venc = d;
        else if (d->type == AVMEDIA_TYPE_AUDIO && !p->aenc)
            p->aenc = d;
    }
    if (!p->venc)
        return AVERROR_ENCODER_NOT_FOUND;

    /* Audio first: its share comes off the top. */
    total_bps = (opt->target_bytes - opt->fixed_bytes - sh_budget_overhead((int64_t)(dur * fmin(src_fps, 30)) + 1, 0)) * 8.0 / dur;
    if (info->has_audio && !opt->no_audio && p->aenc) {
        if (opt->audio_bitrate > 0)
            sh_budget_audio_fixed(opt->audio_bitrate, info->audio_channels, &p->audio);
        else if (src_fps * dur < 1.5)
            budget_audio_still(total_bps, dur, info->audio_channels, &p->audio);
        else
            sh_budget_audio_kind(total_bps, info->audio_channels, opt->audio_kind, &p->audio);
        /* Speech is encoded as speech (Opus's voice mode) at any bitrate. */
        p->audio.kind = opt->audio_kind;
    }
    if (!p->audio.bitrate)
        p->aenc = NULL;
    p->audio_rate = 48000;

    /* Every allowed (height, fps) pair. It must afford SH_PLAN_MIN_BPP;
     * among those the utility h * sqrt(fps) favours height over smoothness,
     * with a steeper price below 10 fps, where motion turns into a
     * slideshow. When none is affordable, the smallest pixel rate is the floor. */
    nh = sh_plan_heights(info, opt, heights, 32);
    /* The rule keeps to 30 fps: without measuring, the bits buy more as pixels. */
    nr = sh_plan_rates(info, opt, SH_PLAN_MIN_FPS, 30.5, rates, 64);
    for (int i = 0; i < nh; i++) {
        int w, h;
        sh_scale_dims(info->width, info->height, info->sar, info->rotation, heights[i], &w, &h);
        if (p->venc->min_size > 0 && (w < p->venc->min_size || h < p->venc->min_size))
            continue;   /* SVT-AV1 takes nothing under 64 px */
        for (int r = 0; r < nr; r++) {
            double f = av_q2d(rates[r]);
            double vbps;
            double bpp, util = (swap ? w : h) * sqrt(fmin(f, 30)) * fmin(1.0, f / 10);
            double rate = (double)w * h * f;
            int better;
            vbps = sh_plan_video_bps(p, f);
            bpp = vbps / rate;
            if (bpp >= SH_PLAN_MIN_BPP)
                better = util > best_util;
            else
                better = best_util < 0 && (!best_rate || rate < best_rate);
            if (!better)
                continue;
            if (bpp >= SH_PLAN_MIN_BPP)
                best_util = util;
            best_rate = rate;
            p->width = w;
            p->height = h;
            p->display_height = swap ? w : h;
            p->fps = rates[r];
            p->bpp = bpp;
            p->video_bitrate = (int64_t)vbps;
            p->overhead_bytes = sh_budget_overhead((int64_t)(dur * f) + 1, p->audio.bitrate ?
                                                   (int64_t)(dur * 1000 / p->audio.frame_ms) + 1 : 0);
        }
    }
    p->at_floor = best_util < 0;
    /* The floor: the smallest picture and rate, within what the user pinned. */
    {
        ShSolverOptions fo = *opt;
        int fh[32];
        fo.max_height = 0;
        nh = sh_plan_heights(info, &fo, fh, 32);
        floor_dims(info, p->venc, opt->height > 0 ? fh[0] : FFMIN(SH_PLAN_FLOOR_HEIGHT, fh[nh - 1]),
                   &p->floor.width, &p->floor.height);
        p->floor_venc = p->venc;
        nr = sh_plan_rates(info, opt, SH_PLAN_MIN_FPS, 30.5, rates, 64);
        p->floor.fps = opt->fps > 0 || opt->min_fps > 0 ? rates[nr - 1] : (AVRational){ 1, SH_PLAN_FLOOR_FPS_DEN };
    }
    if (p->at_floor)
        plan_extreme(p, info, opt, swap);
    return 0;
}
