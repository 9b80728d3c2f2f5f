/*
 * The GIF fitter's search: candidates (picture size, frame rate, colours,
 * clip or per-frame palette, dither, lossiness) measured on the sample
 * (solver/sample.c) through the gif encoder, scored by luma SSIM at the
 * evaluation size with dropped frames held; the film's bytes predicted
 * from the sample's. docs/GIF.md says how and why.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>

#include "common/log.h"
#include "gif/fitter.h"
#include "metrics/metrics.h"

/*
 * Whether reference i is scored, `share` of them in all: a Weyl sequence
 * (i times the golden ratio, modulo 1) picks them evenly but never in step
 * with a frame rate. Every 6th frame of a 30 fps clip met only the frames
 * a 15 fps GIF shows, never the ones it holds: 15 fps scored 0.836 on the
 * sample and 0.754 on the film, and won the search for that.
 */
static int scored(int64_t i, double share)
{
    double x = (double)i * 0.6180339887498949;
    return x - floor(x) < share;
}

/* Score the reference frames before `until` against the canvas on screen. */
static int score_until(Fitter *f, int64_t until, int64_t *iref, double share, ShQualityAcc *acc, AVFrame *ref)
{
    ShSample *s = f->sample;
    ShQuality q;
    int ret;
    while (*iref < sh_frame_cache_count(s->ref) && sh_frame_cache_pts(s->ref, *iref) < until) {
        if ((ret = sh_frame_cache_get(s->ref, ref)) < 0)
            return ret;
        if (scored((*iref)++, share)) {
            ret = sh_quality_plane(ref->data[0], ref->linesize[0], f->eval_pic->data[0],
                                   f->eval_pic->linesize[0], ref->width, ref->height, &q);
            if (ret < 0) {
                av_frame_unref(ref);
                return ret;
            }
            sh_quality_acc_add(acc, &q);
        }
        av_frame_unref(ref);
    }
    return 0;
}

static int score_canvas(Fitter *f, const ShGifStream *st, const Config *c)
{
    const uint8_t *src[4] = { sh_gif_stream_canvas(st) };
    int stride[4] = { c->width_px * 3 };
    int ret;
    if (f->rotation) {
        /* the references are in the source's coded orientation */
        size_t need = (size_t)c->width_px * c->height_px * 3;
        if (need > f->coded_size) {
            av_freep(&f->coded);
            if (!(f->coded = av_malloc(need + AV_INPUT_BUFFER_PADDING_SIZE)))   /* swscale reads past */
                return AVERROR(ENOMEM);
            f->coded_size = need;
        }
        sh_gif_turn_rgb(src[0], (ptrdiff_t)c->gif_w * 3, c->gif_w, c->gif_h, 360 - f->rotation, f->coded, stride[0]);
        src[0] = f->coded;
    }
    f->to_eval = sws_getCachedContext(f->to_eval, c->width_px, c->height_px, AV_PIX_FMT_RGB24,
                                      f->eval_pic->width, f->eval_pic->height, AV_PIX_FMT_YUV420P,
                                      SWS_BICUBIC, NULL, NULL, NULL);
    if (!f->to_eval)
        return AVERROR(EINVAL);
    ret = sws_scale(f->to_eval, src, stride, 0, c->height_px, f->eval_pic->data, f->eval_pic->linesize);
    return ret < 0 ? ret : 0;
}

/*
 * Frames the film shows at a rate: one per slot that a source frame falls
 * in (sh_gif_choose_frames rounds to the nearest slot) and that begins before the
 * film ends. Duration x rate undercounts when there are few slots: 9.6 s
 * at 0.25 fps shows 3 frames, not 2.4, and the plan came out 12% over.
 */
static double film_slots(const Fitter *f, AVRational fps)
{
    double r = FFMIN(av_q2d(fps), f->src_fps);
    double last = FFMAX(f->duration - 1 / f->src_fps, 0);
    return FFMAX(1, FFMIN(floor(last * r + 0.5) + 1, ceil(f->duration * r - 1e-6)));
}

/* Where the slots of stretch k start, on the sample's timeline. */
static int64_t seg_origin(const Fitter *f, int k)
{
    return f->whole ? f->sample->seg_start[k] : f->sample->seg_measure[k];
}

static int sample_eval(Fitter *f, const Config *c, Eval *e)
{
    ShSample *s = f->sample;
    Chain ch = { 0 };
    ShGifStream *st = NULL;
    AVFrame *frame = av_frame_alloc(), *ref = av_frame_alloc();
    ShQualityAcc acc = { 0 };
    ShQuality q;
    int64_t nref = sh_frame_cache_count(s->ref), iref = 0;
    double score_share;
    int64_t intra = 0, nintra = 0, inter = 0, ninter = 0;
    int64_t *shown = av_malloc_array(FFMAX(sh_frame_cache_count(s->master), 1), sizeof(*shown));
    int seg = -1, ret;
    double film_frames, d;

    if (!frame || !ref || !shown) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    score_share = FFMIN(1.0, (double)GIF_SCORED / FFMAX(nref, 1));
    for (int64_t i = 0; i < sh_frame_cache_count(s->master); i++)
        shown[i] = -1;
    /* Slots count from where scoring begins; from the film's start when the
     * sample is the film (the first second, a warm-up for other encoders,
     * is part of it). Counting slots from a stretch's warm-up instead put
     * the held frames of slow rates elsewhere than scoring expects: on a
     * 60 s film, 0.067 fps beat 1.4 fps on the samples. */
    for (int k = 0; k < s->segments; k++)
        sh_gif_choose_frames(s->master, seg_origin(f, k), s->seg_end[k], s->time_base, c->fps, shown);
    /* A clip palette, from the frames shown at this size and rate (as
     * palettegen sees them after fps): the same for every dither and
     * lossiness, so kept. */
    if (c->k.global && (f->pal_w != c->width_px || f->pal_h != c->height_px || f->pal_colors != c->k.colors ||
                        av_cmp_q(f->pal_fps, c->fps))) {
        /* as many frames as the film's when the sample is the film: the same palette, the same bytes */
        if ((ret = sh_gif_clip_palette(s->master, shown, c, s->master_w, s->master_h, s->time_base,
                                f->whole ? GIF_PALETTE_FRAMES : 24, NULL, 0, f->pal)) < 0)
            goto end;
        f->pal_n = ret;
        f->pal_w = c->width_px;
        f->pal_h = c->height_px;
        f->pal_colors = c->k.colors;
        f->pal_fps = c->fps;
    }
    if ((ret = sh_gif_chain_open(&ch, c, s->master_w, s->master_h, s->time_base, f->rotation,
                          c->k.global ? f->pal : NULL, f->pal_n)) < 0 ||
        (ret = sh_frame_cache_rewind(s->master)) < 0 || (ret = sh_frame_cache_rewind(s->ref)) < 0)
        goto end;
    for (int64_t i = 0; (ret = sh_frame_cache_get(s->master, frame)) >= 0; i++) {
        int k = -1;
        for (int j = 0; j < s->segments; j++)
            if (frame->pts >= seg_origin(f, j) && frame->pts < s->seg_end[j])
                k = j;
        if (k < 0 || shown[i] < 0) {
            av_frame_unref(frame);
            continue;   /* a warm-up nobody counts, or a frame not shown */
        }
        if (k != seg) {
            /* A stretch is a GIF of its own: it starts with a whole picture. */
            ShGifStreamConfig sc = { c->gif_w, c->gif_h, ch.colors, c->k.global ? ch.pal : NULL, c->k.lossy };
            if (seg >= 0 && (ret = score_until(f, s->seg_end[seg], &iref, score_share, &acc, ref)) < 0)
                goto end;
            sh_gif_stream_free(&st);
            if ((ret = sh_gif_stream_open(&st, &sc, -1, NULL)) < 0)
                goto end;
            seg = k;
        }
        {
            /* until its slot starts, the last one shows */
            int64_t start = seg_origin(f, k) + av_rescale_q(shown[i], av_inv_q(c->fps), s->time_base);
            int64_t before = sh_gif_stream_bytes(st), images = sh_gif_stream_images(st);
            if ((ret = score_until(f, start, &iref, score_share, &acc, ref)) < 0 ||
                (ret = sh_gif_chain_scale(&ch, frame)) < 0 || (ret = sh_gif_chain_palette(&ch)) < 0 ||
                (ret = sh_gif_stream_put(st, ch.pal8, sh_gif_slot_cs(shown[i], c->fps))) < 0)
                goto end;
            if (!images) {
                intra += sh_gif_stream_bytes(st) - before;
                nintra++;
            } else {
                inter += sh_gif_stream_bytes(st) - before;
                ninter++;
            }
            if (sh_gif_stream_images(st) != images && (ret = score_canvas(f, st, c)) < 0)
                goto end;
        }
        av_frame_unref(frame);
        if ((ret = sh_gif_interrupted(f)) < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    if (seg >= 0 && (ret = score_until(f, s->seg_end[seg], &iref, score_share, &acc, ref)) < 0)
        goto end;
    if (!nintra || sh_quality_acc_result(&acc, &q) < 0) {
        ret = AVERROR(EINVAL);
        goto end;
    }
    /* The film: its frames at this rate, the first a whole picture, the
     * others changes, as hard as the sample was (by the source's bitrate:
     * bytes follow difficulty less than linearly in a GIF). */
    film_frames = film_slots(f, c->fps);
    d = pow(av_clipd(s->difficulty, 0.5, 2.0), 0.7);
    if (f->whole) {
        /* The sample is the film: its bytes are the film's, nothing to predict. */
        if ((ret = sh_gif_stream_finish(st, llrint(f->duration * 100))) < 0)
            goto end;
        e->bytes = sh_gif_stream_bytes(st);
    } else {
        double intra_avg = (double)intra / nintra;
        double inter_avg = ninter >= 2 ? (double)inter / ninter : intra_avg;
        e->bytes = (int64_t)(800 + (c->k.global ? 3 * sh_gif_table_size(ch.colors) : 0) + intra_avg +
                             (film_frames - 1) * inter_avg / d);
    }
    e->ssim = q.ssim;
    f->evals++;
    sh_log(SH_LOG_VERBOSE, f->ctx->input, "gif candidate %dx%d %.3g fps, %d colours %s, %s dither, lossy %d: "
           "predicted %lld bytes, ssim %.4f", c->gif_w, c->gif_h, av_q2d(c->fps), ch.colors,
           c->k.global ? "clip palette" : "per-frame palettes", sh_gif_dither_name(c->k.dither), c->k.lossy,
           (long long)e->bytes, e->ssim);
    ret = 0;
end:
    av_free(shown);
    sh_gif_stream_free(&st);
    sh_gif_chain_free(&ch);
    av_frame_free(&frame);
    av_frame_free(&ref);
    return ret;
}

/* ---- the search ---- */

void sh_gif_make_rates(Fitter *f)
{
    static const int slow[] = { 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600 };
    const ShOptions *o = f->ctx->opt;
    double top = FFMIN(f->src_fps, GIF_MAX_FPS);
    AVRational base = av_d2q(f->src_fps, 100000);
    f->nrates = 0;
    if (o->fps > 0) {
        f->rates[f->nrates++] = av_d2q(FFMIN(o->fps, f->src_fps), 100000);
        return;
    }
    /* even cadences of the source down to 1 fps, then a frame every few seconds */
    for (int n = 1; n < 64 && f->nrates < 40; n++) {
        AVRational r = av_div_q(base, (AVRational){ n, 1 });
        if (av_q2d(r) > top + 1e-6)
            continue;
        if (av_q2d(r) < 1.0)
            break;
        if (f->nrates && fabs(av_q2d(f->rates[f->nrates - 1]) - av_q2d(r)) < 0.4)
            continue;
        f->rates[f->nrates++] = r;
    }
    for (size_t i = 0; i < sizeof(slow) / sizeof(slow[0]) && f->nrates < 64; i++) {
        if (f->nrates && av_q2d(f->rates[f->nrates - 1]) <= 1.0 / slow[i])
            continue;
        f->rates[f->nrates++] = (AVRational){ 1, slow[i] };
    }
    if (o->min_fps > 0)
        while (f->nrates > 1 && av_q2d(f->rates[f->nrates - 1]) < o->min_fps - 1e-9)
            f->nrates--;
}

/* Whether the film's encodes correct this rate (rather than the picture size). */
int sh_gif_rate_corrects(const Fitter *f, double fps)
{
    return fps < GIF_RATE_KNOB && f->duration * fps >= 30;
}

/*
 * The fastest rate at this height that fits the goal (index into rates;
 * slower rates have higher indices and fewer bytes), or -1 when even the
 * slowest does not. From the hint, jump to the rate the measured bytes call
 * for (bytes ~ rate^0.8), then close the bracket.
 */
static int fastest_fitting(Fitter *f, Config *c, Eval *best, int hint)
{
    int fit = -1, over = -1, i = av_clip(hint, 0, f->nrates - 1), ret;
    Eval e, over_e = { 0 };
    for (int n = 0; n < 8; n++) {
        double want;
        int j, lo, hi;
        c->fps = f->rates[i];
        if ((ret = sample_eval(f, c, &e)) < 0)
            return ret;
        if (e.bytes <= f->goal) {
            fit = i;
            *best = e;
        } else {
            over = i;
            over_e = e;
        }
        lo = over + 1;
        hi = fit >= 0 ? fit - 1 : f->nrates - 1;
        if (lo > hi)
            break;
        want = av_q2d(f->rates[i]) * pow((double)f->goal / FFMAX(e.bytes, 1), 1.25);
        for (j = lo; j < hi && av_q2d(f->rates[j]) > want; j++)
            ;
        if (j == i)
            j = (lo + hi) / 2;
        i = j;
    }
    if (fit >= 0)
        c->fps = f->rates[fit];
    if (fit >= 0 && over == fit - 1 && over_e.ssim > best->ssim && over_e.bytes > best->bytes &&
        sh_gif_rate_corrects(f, av_q2d(f->rates[fit]))) {
        /* Between two rungs of the ladder (0.5 and 1 fps are twice apart)
         * the film's encodes move the rate until the goal is filled: rank
         * this height by the quality at the goal, along log(bytes), not
         * by a rung that may leave a third of the budget unused. Only
         * where the encodes correct by the rate: above, they change the
         * picture size and the rate stays on its rung (10 fps ranked as
         * if it were 16 beat 20 fps on a 14 s clip, and lost 0.02). */
        double t = log((double)f->goal / best->bytes) / log((double)over_e.bytes / best->bytes);
        best->ssim += av_clipd(t, 0, 1) * (over_e.ssim - best->ssim);
    }
    return fit;
}

/*
 * Choose the plan. Returns 0 with *out set, or 1 when nothing fits the goal
 * (the floor must decide), or AVERROR.
 */
int sh_gif_search(Fitter *f, Config *out, Eval *out_eval)
{
    const ShOptions *o = f->ctx->opt;
    Knobs base = { 255, 1, SH_DITHER_NONE, 0 };
    Config best = { 0 };
    Eval best_e = { 0, -1 };
    int heights[32], nh = 0, hint = 0, best_i = -1, ret;

    if (o->height > 0) {
        heights[nh++] = o->height;
    } else {
        for (double h = f->hmax; h >= GIF_MIN_HEIGHT && nh < 32; h *= 0.8)
            if (!nh || sh_gif_even_height(h) < heights[nh - 1])
                heights[nh++] = sh_gif_even_height(h);
    }
    /* Heights every other rung, largest first, until quality falls twice
     * in a row: below a frame per sampled stretch every slower rate scores
     * alike, so the large pictures that need such rates make a plateau
     * (0.37 on a 60 s film at 100 KB, where 82x46 at 1 fps scores 0.48). */
    for (int i = 0, falls = 0; i < nh; i += o->height > 0 ? 1 : 2) {
        Config c = { .height = heights[i], .fps = { 0, 1 }, .k = base };
        Eval e;
        int r;
        sh_gif_config_dims(f, &c);
        if ((r = fastest_fitting(f, &c, &e, hint)) < -1)
            return r;
        if (r < 0)
            continue;
        hint = r;
        if (e.ssim > best_e.ssim) {
            best = c, best_e = e, best_i = i;
            falls = 0;
        } else if (best_i >= 0 && ++falls >= 2) {
            break;
        }
    }
    /* The rungs beside the best one. */
    for (int d = -1; d <= 1 && best_i >= 0 && o->height <= 0; d += 2) {
        int i = best_i + d, r;
        Config c = { .fps = { 0, 1 }, .k = base };
        Eval e;
        if (i < 0 || i >= nh)
            continue;
        c.height = heights[i];
        sh_gif_config_dims(f, &c);
        if ((r = fastest_fitting(f, &c, &e, hint)) < -1)
            return r;
        if (r >= 0 && e.ssim > best_e.ssim)
            best = c, best_e = e;
    }
    if (best_e.ssim < 0)
        return 1;
    /* The knobs, each at the picture size its bytes make affordable. */
    {
        /* Measured on real clips: no dither scores best per byte (SSIM
         * sees dither as noise), error diffusion sometimes at its price. */
        static const Knobs variants[] = {
            { 255, 1, SH_DITHER_ORDERED, 0 }, { 255, 0, SH_DITHER_NONE, 0 },
            { 255, 1, SH_DITHER_DIFFUSION, 0 }, { 255, 1, SH_DITHER_DIFFUSION, 30 },
            { 255, 1, SH_DITHER_NONE, 40 }, { 64, 1, SH_DITHER_NONE, 0 },
            { 128, 1, SH_DITHER_NONE, 0 }, { 32, 1, SH_DITHER_NONE, 0 }, { 16, 1, SH_DITHER_NONE, 0 },
            { 255, 1, SH_DITHER_EXACT, 0 }, { 64, 1, SH_DITHER_EXACT, 0 },
        };
        Config start = best;
        for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
            Config c = start;
            Eval e;
            c.k = variants[v];
            for (int tries = 0; tries < 3; tries++) {
                double scale;
                if ((ret = sample_eval(f, &c, &e)) < 0)
                    return ret;
                if (e.bytes <= f->goal && (tries || e.bytes > f->goal * 0.85))
                    break;
                /* bytes go about with the pixels: change the height by the square root */
                scale = sqrt((double)f->goal * 0.97 / FFMAX(e.bytes, 1));
                if (o->height > 0 || sh_gif_even_height(c.height * scale) == c.height ||
                    (scale > 1 && c.height >= f->hmax))
                    break;
                c.height = FFMIN(sh_gif_even_height(c.height * scale), f->hmax);
                sh_gif_config_dims(f, &c);
            }
            if (e.bytes <= f->goal && e.ssim > best_e.ssim)
                best = c, best_e = e;
            if ((ret = sh_gif_interrupted(f)) < 0)
                return ret;
        }
    }
    *out = best;
    *out_eval = best_e;
    return 0;
}

/* The smallest GIF this fitter makes: few pixels, a frame every ten minutes or
 * at the slowest rate allowed, 16 colours, the lossiest LZW. */
void sh_gif_floor_config(const Fitter *f, Config *c)
{
    c->height = f->ctx->opt->height > 0 ? f->ctx->opt->height : GIF_MIN_HEIGHT;
    c->fps = f->rates[f->nrates - 1];
    c->k = (Knobs){ 16, 1, SH_DITHER_NONE, 200 };
    sh_gif_config_dims(f, c);
}

/*
 * Without samples: no dither, a clip palette, at most 10 fps, and the
 * height that about half a byte per pixel and frame affords (a middling
 * GIF's cost); slower rates while that is under 32 px.
 */
void sh_gif_rule_config(const Fitter *f, Config *c)
{
    const ShOptions *o = f->ctx->opt;
    int i = 0, w, h;
    double aspect;
    sh_scale_dims(f->info->width, f->info->height, f->info->sar, f->info->rotation, f->hmax, &w, &h);
    aspect = f->swap ? (double)h / w : (double)w / h;
    while (i < f->nrates - 1 && av_q2d(f->rates[i]) > 10)
        i++;
    for (;; i++) {
        double frames = FFMAX(1, f->duration * FFMIN(av_q2d(f->rates[i]), f->src_fps));
        double px = f->goal / (frames * 0.5);
        c->height = o->height > 0 ? o->height : FFMIN(sh_gif_even_height(sqrt(px / aspect)), f->hmax);
        c->fps = f->rates[i];
        if (c->height >= 32 || o->height > 0 || i == f->nrates - 1)
            break;
    }
    c->k = (Knobs){ 255, 1, SH_DITHER_NONE, 0 };
    sh_gif_config_dims(f, c);
}

void sh_gif_log_plan(const Fitter *f, const char *what, const Config *c, int colors)
{
    sh_log(SH_LOG_VERBOSE, f->ctx->input, "%s: gif %dx%d at %.4g fps, %d colours (table %d) %s, %s dither, "
           "lossy %d", what, c->gif_w, c->gif_h, av_q2d(c->fps), colors, sh_gif_table_size(colors),
           c->k.global ? "clip palette" : "per-frame palettes", sh_gif_dither_name(c->k.dither), c->k.lossy);
}

