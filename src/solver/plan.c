/*
 * A simple plan: bits per pixel decide the picture size and frame rate.
 * This is the one function the rate-quality solver replaces.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/error.h>

#include "solver/plan.h"
#include "stages/stage.h"

#define SH_AUDIO_MIN_BPS 6000
#define SH_AUDIO_MAX_BPS 128000
#define SH_AUDIO_MAX_BPS_PER_CHANNEL 64000

void sh_budget_audio(double total_bps, int src_channels, ShAudioBudget *out)
{
    double a = total_bps * 0.12;
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

int sh_solver_plan(ShPlan *p, const ShInputInfo *info, const ShSolverOptions *opt)
{
    double src_fps = info->frame_rate.num > 0 ? av_q2d(info->frame_rate) : 0;
    AVRational base = info->frame_rate;
    double dur = info->duration;
    double best_util = -1, best_rate = 0, disp_h, total_bps;
    int64_t frames_est;
    int swap = info->rotation == 90 || info->rotation == 270;

    memset(p, 0, sizeof(*p));
    p->target_bytes = opt->target_bytes;
    p->duration = dur;
    p->container = "mp4";
    /* The first available encoder of each kind that writes the container. */
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d)) {
        if (!sh_encoder_available(d) || !sh_encoder_supports_container(d, p->container))
            continue;
        if (d->type == AVMEDIA_TYPE_VIDEO && !p->venc)
            p->venc = d;
        else if (d->type == AVMEDIA_TYPE_AUDIO && !p->aenc)
            p->aenc = d;
    }
    if (!p->venc)
        return AVERROR_ENCODER_NOT_FOUND;
    if (!(src_fps > 0) || src_fps > 240) {
        base = (AVRational){ 30, 1 };
        src_fps = 30;
    }

    /* Audio first: its share comes off the top. */
    frames_est = (int64_t)(dur * fmin(src_fps, 30)) + 1;
    total_bps = (opt->target_bytes - sh_budget_overhead(frames_est, 0)) * 8.0 / dur;
    if (info->has_audio && !opt->no_audio && p->aenc)
        sh_budget_audio(total_bps, info->audio_channels, &p->audio);
    if (!p->audio.bitrate)
        p->aenc = NULL;
    p->audio_rate = 48000;

    disp_h = swap ? info->width * av_q2d(info->sar) : info->height;
    /* Every (height, fps) pair; fps is the source rate divided by a whole
     * number so dropping keeps an even cadence, at most 30 (above that the
     * bits buy more as pixels). The pair must afford SH_PLAN_MIN_BPP; among
     * those the utility h * sqrt(fps) favours height over smoothness, with
     * a steeper price below 10 fps, where motion turns into a slideshow. When
     * none is affordable, the smallest pixel rate is the floor. */
    for (size_t i = 0; i <= sizeof(plan_heights) / sizeof(plan_heights[0]); i++) {
        int want_h = i ? plan_heights[i - 1] : (int)lrint(disp_h);
        int w, h;
        if (i && want_h >= (int)lrint(disp_h))
            continue;
        sh_scale_dims(info->width, info->height, info->sar, info->rotation, want_h, &w, &h);
        for (int n = 1; n == 1 || src_fps / n >= SH_PLAN_MIN_FPS - 1e-9; n++) {
            AVRational fps = av_div_q(base, (AVRational){ n, 1 });
            double f = av_q2d(fps);
            int64_t frames = (int64_t)(dur * f) + 1;
            int64_t apk = p->audio.bitrate ? (int64_t)(dur * 1000 / p->audio.frame_ms) + 1 : 0;
            int64_t ov = sh_budget_overhead(frames, apk);
            double vbps = (opt->target_bytes - ov) * 8.0 / dur - p->audio.bitrate;
            double bpp = vbps / ((double)w * h * f);
            double util = (swap ? w : h) * sqrt(fmin(f, 30)) * fmin(1.0, f / 10);
            double rate = (double)w * h * f;
            int better;
            if (f > 30.5)
                continue;
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
            p->fps = fps;
            p->bpp = bpp;
            p->video_bitrate = (int64_t)vbps;
            p->overhead_bytes = ov;
        }
    }
    p->at_floor = best_util < 0;
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, SH_PLAN_MIN_HEIGHT,
                  &p->floor.width, &p->floor.height);
    {
        int n = 1;
        while (src_fps / (n + 1) >= SH_PLAN_MIN_FPS - 1e-9)
            n++;
        p->floor.fps = av_div_q(base, (AVRational){ n, 1 });
    }
    return 0;
}
