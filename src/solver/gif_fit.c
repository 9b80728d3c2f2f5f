/*
 * The palettised encoders' fit (SH_ENC_CAP_PALETTE: GIF): chooses picture
 * size, frame rate, colours, palette (one for the clip or one per frame),
 * dither and lossiness so the GIF is at most the target, then encodes the
 * film and corrects it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * 1. Sample: all of a short clip, or stretches spread over the film
 *    (solver/sample.c), as frames and as luma references at the display
 *    size (at most 720p).
 * 2. Measure candidates on the sample: each is encoded for real (counted
 *    bytes, nothing written) and scored the way a viewer sees it, luma SSIM
 *    at the display size with dropped frames held. The film's size is
 *    predicted from the sample's bytes per image: the first image of a
 *    stretch costs what a keyframe costs, the others what a change costs.
 *    For each height the fastest rate that fits is found; the best height
 *    by SSIM wins; then the knobs (lossy LZW, error diffusion, per-frame
 *    palettes, fewer colours, dither or none) are tried at the size they
 *    make affordable.
 * 3. Decode the film once, dropping frames to a rate faster than planned
 *    and scaling a little larger, into the frame cache (memory, then an
 *    unnamed file): a two-hour film is held small, and corrections can go
 *    up without decoding again.
 * 4. Encode the film from the cache; correct the frame rate or the
 *    picture size from the measured bytes at most twice: three whole-film
 *    encodes at most. The largest result at or under the target is kept.
 * GIF has no sound: audio is never written.
 * Steps 1-2 are solver/gif_search.c's, 3-4 gif/film.c's (frames through
 * gif/chain.c, the gif encoder and the muxer); the loop is here.
 */
#include <math.h>
#include <string.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "common/log.h"
#include "common/temp.h"
#include "gif/fitter.h"

/* bytes ~ knob^e between two encodes that differ in that knob only; else the default. */
static double elasticity(double k0, double k1, double s0, double s1, double dflt)
{
    if (k0 <= 0 || k1 <= 0 || fabs(k1 / k0 - 1) < 0.01 || s0 <= 0 || s1 <= 0)
        return dflt;
    return av_clipd(log(s1 / s0) / log(k1 / k0), 0.3, 1.6);
}

/*
 * The next whole-film encode from the last one's bytes: one knob moves,
 * along the elasticity measured between the last two encodes where they
 * differ in it. Below 10 fps the frame rate (bytes follow the number of
 * frames closely; a GIF needs no even cadence), up to the cache's rate;
 * at 10 fps and more, with fewer than 30 frames in all, or past the
 * cache's rate, the picture size (bytes follow the pixels less closely:
 * resampling changes what LZW sees).
 * Returns 1 with c changed, 0 when nothing would change.
 */
static int correct(const Fitter *f, const Film *film, Config *c, double want, const Config *tried,
                   const double *sizes, int n)
{
    double ratio = want / FFMAX(sizes[n], 1), fps = av_q2d(c->fps), film_fps = av_q2d(film->fps);
    int fps_free = f->ctx->opt->fps <= 0, height_free = f->ctx->opt->height <= 0;
    Config old = *c;

    /* a few frames in all: a frame more or less is too coarse a step */
    if (fps_free && (sh_gif_rate_corrects(f, fps) || !height_free)) {
        /* measured only between two encodes of the same picture size */
        double e = n && tried[n - 1].height_px == c->height_px ?
                   elasticity(av_q2d(tried[n - 1].fps), fps, sizes[n - 1], sizes[n], 0.9) : 0.9;
        double want_fps = fps * pow(ratio, 1 / e);
        c->fps = av_d2q(FFMIN(want_fps, film_fps), 100000);
        if (want_fps <= film_fps * 1.001 || !height_free)
            return av_cmp_q(c->fps, old.fps) != 0;
        ratio /= pow(av_q2d(c->fps) / fps, e);   /* what the rate could not take */
    }
    if (height_free) {
        double px = (double)c->width_px * c->height_px, e = 1.0, h;
        if (n && !av_cmp_q(tried[n - 1].fps, tried[n].fps))
            e = elasticity((double)tried[n - 1].width_px * tried[n - 1].height_px, px, sizes[n - 1], sizes[n], 1.0);
        h = c->height * pow(ratio, 1 / (2 * e));
        c->height = sh_gif_even_height(FFMIN(h, film->display_h));
        sh_gif_config_dims(f, c);
        if (fps_free && ((h > film->display_h + 1 && ratio > 1) || c->height == old.height)) {
            /* the cache's largest picture, or a step finer than 2 px: the rest by the rate */
            ratio /= pow((double)c->height / old.height, 2 * e);
            c->fps = av_d2q(FFMIN(av_q2d(c->fps) * pow(ratio, 1 / 0.9), film_fps), 100000);
        }
    }
    for (int i = 0; i <= n && fps_free; i++) {
        if (tried[i].width_px == c->width_px && tried[i].height_px == c->height_px && !av_cmp_q(tried[i].fps, c->fps)) {
            /* Encoded already (the size's step spans the goal): keep this
             * size and move the rate instead, which steps finer. */
            *c = old;
            c->fps = av_d2q(FFMIN(fps * pow(want / FFMAX(sizes[n], 1), 1 / 0.9), film_fps), 100000);
            break;
        }
    }
    return c->height != old.height || av_cmp_q(c->fps, old.fps) != 0;
}

typedef struct Attempt {
    char path[4096];
    int64_t bytes;
    Config c;
    int colors;
} Attempt;

/*
 * The plan: sample the film, then search; without samples a rule, and
 * when nothing fits on the samples' word the floor (encoded, it decides).
 * Fills the job's plan outputs (for --plan and --json).
 */
static int plan_fit(Fitter *f, Config *plan, int *at_floor)
{
    ShPaletteJob *ctx = f->ctx;
    const ShInputInfo *info = f->info;
    Eval plan_e = { 0 };
    int ret;

    /* GIFs are short films mostly: a clip of up to 480 frames is read
     * whole (one stretch in the middle of a 14 s clip was static and
     * predicted a seventh of the bytes; 240 frames of a 300-frame clip
     * left its last second out), a longer film in up to 240 frames of
     * stretches. */
    {
        double frames = info->duration * f->src_fps;
        int max_frames = frames <= GIF_WHOLE_FRAMES ? GIF_WHOLE_FRAMES : 240;
        ret = sh_sample_collect(&f->sample, ctx->input, info, ctx->opt->start, info->duration, 1.0, 48,
                                max_frames);
    }
    if (ret >= 0 && f->sample->segments == 1 &&
        (f->sample->seg_end[0] - f->sample->seg_start[0]) * av_q2d(f->sample->time_base) >=
        info->duration - 1.5 / f->src_fps) {
        f->whole = 1;
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif: the sample is the whole film");
    }
    if (ret == AVERROR(ENOMEM) || ret == SH_ERROR_INTERRUPTED)
        return ret;
    if (ret < 0) {
        /* Too short to sample, or not seekable: a guess, and the encodes correct it. */
        sh_log(SH_LOG_VERBOSE, ctx->input, "sampling failed (%s): planning by rule", av_err2str(ret));
        sh_gif_rule_config(f, plan);
        ret = 0;
    } else {
        if (!(f->eval_pic = av_frame_alloc()))
            return AVERROR(ENOMEM);
        f->eval_pic->width = f->sample->eval_w;
        f->eval_pic->height = f->sample->eval_h;
        f->eval_pic->format = AV_PIX_FMT_YUV420P;
        if ((ret = av_frame_get_buffer(f->eval_pic, 0)) < 0 || (ret = sh_gif_search(f, plan, &plan_e)) < 0)
            return ret;
    }
    *at_floor = ret > 0;
    if (*at_floor)
        sh_gif_floor_config(f, plan);
    sh_gif_log_plan(f, *at_floor ? "plan (at the floor)" : "plan", plan, plan->k.colors);
    if (!*at_floor && f->sample)
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif search: %d sample encodes, predicted %lld bytes, ssim %.4f",
               f->evals, (long long)plan_e.bytes, plan_e.ssim);
    ctx->width = plan->gif_w;
    ctx->height = plan->gif_h;
    ctx->fps = plan->fps;
    ctx->duration = info->duration;
    ctx->sample_encodes = f->evals;
    if (f->sample) {
        ctx->sample_seconds = f->sample->seconds;
        ctx->eval_width = f->sample->eval_w;
        ctx->eval_height = f->sample->eval_h;
    }
    ctx->predicted_ssim = *at_floor ? 0 : plan_e.ssim;
    return 0;
}

/*
 * What the decode pass caches: taller and faster than the plan, so a
 * correction can go up as well as down without decoding again. At the
 * display height (at most GIF_MAX_HEIGHT) when that fits its size: the
 * GIF's pictures are then resampled once, from it, as FFmpeg's are from
 * the source (a cache at 1.25x the GIF's height, itself resampled from the
 * source, cost 0.007 SSIM on a 60 s cartoon); else a little taller than
 * the plan, as a two-hour film needs.
 */
static void cache_size(const Fitter *f, const Config *plan, AVRational *cache_fps, int *cache_h)
{
    const ShInputInfo *info = f->info;
    const int tall[2] = { FFMAX(f->hmax, plan->height),
                          FFMIN(sh_gif_even_height(plan->height * GIF_CACHE_MARGIN), FFMAX(f->hmax, plan->height)) };
    int cw, ch;
    *cache_fps = plan->fps;
    for (int t = 0; t < 2; t++) {
        /* Up to the source's rate (divided by a whole number) while the
         * cache stays under its size, twice the plan's at least: room to
         * correct upwards, and for sh_gif_choose_frames() to take the frame
         * nearest each slot's middle, as FFmpeg's fps filter does from
         * the source (a 4 fps cache for a 0.93 fps GIF of a 60 s
         * cartoon cost 0.004 SSIM against frames from all 24). */
        double plan_fps = av_q2d(plan->fps), bytes;
        int div = 1;
        *cache_h = tall[t];
        sh_scale_dims(info->width, info->height, info->sar, info->rotation, *cache_h, &cw, &ch);
        while (f->src_fps / div > 2 * plan_fps &&
               f->duration * (f->src_fps / div) * cw * ch * 1.5 > GIF_CACHE_BYTES)
            div++;
        *cache_fps = f->src_fps / div >= plan_fps ? av_d2q(f->src_fps / div, 100000) : plan->fps;
        bytes = f->duration * av_q2d(*cache_fps) * cw * ch * 1.5;
        if (bytes <= GIF_CACHE_BYTES && f->src_fps / div >= FFMIN(2 * plan_fps, f->src_fps) - 1e-9)
            break;
    }
}

/*
 * The attempt loop: encode the film from the cache, correct the rate or
 * the picture from the bytes measured (correct()), three encodes at most;
 * the largest result at or under the target is kept, in ctx->path.
 */
static int encode_to_target(Fitter *f, Film *film, const Config *plan, int at_floor)
{
    ShPaletteJob *ctx = f->ctx;
    const int64_t target = ctx->target_bytes;
    Attempt best = { 0 }, a = { 0 };
    Config tried[GIF_MAX_ENCODES];
    double sizes[GIF_MAX_ENCODES];
    int ret;

    a.c = *plan;
    for (int n = 0; n < GIF_MAX_ENCODES; n++) {
        if ((ret = sh_gif_encode_film(f, film, &a.c, a.path, sizeof(a.path), &a.bytes, &a.colors)) < 0)
            goto end;
        ctx->attempts++;
        sh_gif_log_plan(f, "encode", &a.c, a.colors);
        sh_log(SH_LOG_VERBOSE, ctx->input, "gif encode %d: %lld bytes (%.1f%% of %lld)", n + 1,
               (long long)a.bytes, 100.0 * a.bytes / target, (long long)target);
        sizes[n] = (double)a.bytes;
        if (a.bytes <= target && (!best.path[0] || a.bytes > best.bytes)) {
            if (best.path[0])
                sh_temp_remove(best.path);
            best = a;
        } else {
            sh_temp_remove(a.path);
        }
        a.path[0] = 0;
        /* The floor over the target: nothing smaller is made. */
        if ((at_floor && !best.path[0]) || (best.path[0] && best.bytes >= target * GIF_ACCEPT))
            break;
        /* The last encode must fit: aim lower then, lower still when none has yet. */
        tried[n] = a.c;
        if (correct(f, film, &a.c, target * (n < GIF_MAX_ENCODES - 2 ? GIF_AIM : best.path[0] ? 0.955 : 0.92),
                    tried, sizes, n) <= 0)
            break;   /* nothing finer to try */
    }
    if (!best.path[0]) {
        if (at_floor) {
            /* The smallest GIF is over: its size is one that works. */
            ctx->min_bytes = (int64_t)sizes[0];
            ret = SH_ERROR_TARGET_TOO_SMALL;
        } else {
            /* Over at every size tried though the samples said it would fit. */
            sh_log(SH_LOG_ERROR, ctx->input, "no GIF came in under the target in %d encodes", ctx->attempts);
            ret = AVERROR(ERANGE);
        }
        goto end;
    }
    snprintf(ctx->path, sizeof(ctx->path), "%s", best.path);
    ctx->bytes = best.bytes;
    ctx->width = best.c.gif_w;
    ctx->height = best.c.gif_h;
    ctx->fps = best.c.fps;
    best.path[0] = 0;
    ret = 0;
end:
    if (best.path[0])
        sh_temp_remove(best.path);
    if (a.path[0])
        sh_temp_remove(a.path);
    return ret;
}

int sh_palette_fit(const ShEncoderDesc *enc, ShPaletteJob *ctx)
{
    Fitter fit = { 0 }, *f = &fit;
    const ShInputInfo *info = ctx->info;
    Config plan = { 0 };
    Film film = { 0 };
    AVRational cache_fps;
    int swap = info->rotation == 90 || info->rotation == 270, at_floor = 0, ret, display_h, cache_h;

    f->ctx = ctx;
    f->enc = enc;
    f->info = info;
    f->rotation = info->rotation;
    f->swap = swap;
    f->duration = info->duration;
    f->src_fps = info->frame_rate.num > 0 && av_q2d(info->frame_rate) < 240 ? av_q2d(info->frame_rate) : 25;
    f->goal = (int64_t)(ctx->target_bytes * GIF_AIM);
    display_h = swap ? (int)(info->width * av_q2d(info->sar)) : info->height;
    f->hmax = FFMAX(GIF_MIN_HEIGHT, FFMIN(display_h, GIF_MAX_HEIGHT) & ~1);
    if (ctx->opt->max_height > 0)
        f->hmax = FFMAX(GIF_MIN_HEIGHT, FFMIN(f->hmax, ctx->opt->max_height) & ~1);
    sh_gif_make_rates(f);
    sh_log(SH_LOG_VERBOSE, ctx->input, "audio: none (GIF has no sound)");

    ctx->roi_looks = -1;
    if ((ret = plan_fit(f, &plan, &at_floor)) < 0)
        goto end;
    if (ctx->opt->plan_only) {
        if (ctx->opt->roi != SH_ROI_OFF)
            snprintf(ctx->roi_reason, sizeof(ctx->roi_reason), "not looked: a GIF's faces are looked for as the film is decoded");
        goto end;
    }
    /* Faces are looked for on the decode pass and weigh in the film's
     * palettes (gif/faces.c); the search on the samples is without them. */
    if ((ret = sh_gif_faces_open(f)) < 0)
        goto end;
    cache_size(f, &plan, &cache_fps, &cache_h);
    if ((ret = sh_gif_decode_film(f, cache_fps, cache_h, &film)) < 0)
        goto end;
    sh_gif_faces_decide(f);
    ctx->duration = film.duration;
    ret = encode_to_target(f, &film, &plan, at_floor);
end:
    sh_frame_cache_free(&film.cache);
    sh_gif_faces_free(f);
    sws_freeContext(f->to_eval);
    av_free(f->coded);
    av_frame_free(&f->eval_pic);
    sh_sample_free(&f->sample);
    return ret;
}
