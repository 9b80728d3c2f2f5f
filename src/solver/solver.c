/*
 * The target-size solver. A starved full-size picture looks worse than a
 * smaller, smoother one scaled up, and where the balance lies depends on the
 * film; so measure it, on samples of this film:
 *
 *   1. Sample a few short segments spread over the input (sample.c).
 *   2. For candidate rungs (picture height x frame rate) encode the sample
 *      at a constant quality near the rate the budget leaves that rung, and
 *      score it at the display size (capped at 720p) with dropped frames held,
 *      as a viewer sees it (measure.c).
 *   3. Per rung, a rate-quality line through its measurements (SSIM in dB
 *      against log2 of the bitrate) predicts the quality at the budget; the
 *      best prediction wins: the upper envelope across rungs.
 *   4. The winner is measured once more with the final encode's preset, so
 *      the predicted quality reported is for the encode that will be made.
 *
 * The search climbs from the prior, the bits-per-pixel rule (plan.c), which
 * is also the fallback.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "solver/measure.h"
#include "solver/plan.h"
#include "solver/sample.h"
#include "stages/stage.h"

/* Sample: 6% of the frames counted, between 36 and 240 of them, plus warm-ups. */
#define SH_SAMPLE_FRACTION 0.06
#define SH_SAMPLE_MIN 36
#define SH_SAMPLE_MAX 240
/* Slopes (per doubling of the bitrate) until a rung has two points of its own. */
#define SH_SLOPE_SSIM_DB 1.2
#define SH_SLOPE_PSNR 2.0
/* Bits per pixel at the source's picture and rate above which the search stops at once. */
#define SH_SEARCH_ENOUGH_BPP 0.1
/* x264's rate halves about every 6 CRF steps. */
#define SH_CRF_PER_OCTAVE 6.0

typedef struct Search {
    const ShSample *sample;
    const ShEncoderDesc *enc;
    const ShInputInfo *info;
    ShPlan *plan;
    ShSolverReport *rep;
    /* rate model: log2(bps) = a + 0.75 log2(pixels) + 0.6 log2(fps) - crf / 6;
     * pixels cost less than linearly, frames even less (fewer frames are
     * further apart and predict each other worse). a starts from a prior
     * measured here on film content with x264 veryfast, then learns. */
    double a_sum;
    int a_n;
    int speed;                /* ShSpeed */
} Search;

/*
 * --speed balanced (the default) admits encoders several times slower than
 * x264 medium, but a slower one has to earn its time: 0.25 dB of SSIM per
 * halving of the speed (SVT-AV1 at a third of x264's speed needs 0.4 dB,
 * about what 10% more bitrate buys). --speed best takes any gain.
 */
#define SH_SSIM_DB_PER_SPEED_HALVING 0.25

static double time_cost_db(const ShEncoderDesc *enc, int speed)
{
    if (speed == SH_SPEED_BEST || !(enc->rel_speed > 0) || enc->rel_speed >= 1)
        return 0;
    return SH_SSIM_DB_PER_SPEED_HALVING * log2(1 / enc->rel_speed);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define SH_RATE_PRIOR_A 8.4

static double log_rate_shape(const ShRung *r)
{
    return 0.75 * log2((double)r->width * r->height) + 0.6 * log2(av_q2d(r->fps));
}

static double crf_for(const Search *s, const ShRung *r, double bps)
{
    /* The prior counts as one observation, so one odd sample cannot throw it far. */
    double a = (s->a_sum + SH_RATE_PRIOR_A) / (s->a_n + 1);
    return av_clipd(SH_CRF_PER_OCTAVE * (a + log_rate_shape(r) - log2(bps)), 1, 51);
}

static void learn(Search *s, const ShRung *r, const ShMeasure *m)
{
    s->a_sum += log2(FFMAX(m->bps, 1)) + m->crf / SH_CRF_PER_OCTAVE - log_rate_shape(r);
    s->a_n++;
}

/* Median slope of the rungs measured twice: content decides how quality grows with rate. */
static void slopes(const ShSolverReport *rep, double *ssim_slope, double *psnr_slope)
{
    double ss[SH_SOLVER_MAX_CANDIDATES], ps[SH_SOLVER_MAX_CANDIDATES];
    int n = 0;
    for (int i = 0; i < rep->ncandidates; i++) {
        const ShCandidate *c = &rep->cand[i];
        double d = c->nmeasures == 2 ? log2(c->bps[1] / c->bps[0]) : 0;
        if (fabs(d) < 0.25)
            continue;
        ss[n] = (c->ssim_db[1] - c->ssim_db[0]) / d;
        ps[n] = (c->psnr[1] - c->psnr[0]) / d;
        if (ss[n] > 0 && ps[n] > 0)
            n++;
    }
    *ssim_slope = SH_SLOPE_SSIM_DB;
    *psnr_slope = SH_SLOPE_PSNR;
    if (!n)
        return;
    for (int i = 1; i < n; i++)      /* tiny insertion sorts */
        for (int k = i; k > 0 && ss[k] < ss[k - 1]; k--) {
            double t = ss[k]; ss[k] = ss[k - 1]; ss[k - 1] = t;
        }
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && ps[k] < ps[k - 1]; k--) {
            double t = ps[k]; ps[k] = ps[k - 1]; ps[k - 1] = t;
        }
    *ssim_slope = av_clipd(ss[n / 2], 0.2, 4);
    *psnr_slope = av_clipd(ps[n / 2], 0.3, 6);
}

static void predict(ShCandidate *c, double ssim_slope, double psnr_slope)
{
    double t = log2(FFMAX(c->video_bps, 1)), x0, x1, w;
    int lo = 0, hi = c->nmeasures - 1;
    if (c->nmeasures == 2 && c->bps[1] < c->bps[0])
        lo = 1, hi = 0;
    x0 = log2(c->bps[lo]);
    x1 = log2(c->bps[hi]);
    if (c->nmeasures == 2 && x1 - x0 > 0.25) {
        /* Between or beyond two points: the line through them. */
        w = (t - x0) / (x1 - x0);
        c->pred_ssim_db = c->ssim_db[lo] + w * (c->ssim_db[hi] - c->ssim_db[lo]);
        c->pred_psnr = c->psnr[lo] + w * (c->psnr[hi] - c->psnr[lo]);
    } else {
        c->pred_ssim_db = c->ssim_db[0] + ssim_slope * (t - log2(c->bps[0]));
        c->pred_psnr = c->psnr[0] + psnr_slope * (t - log2(c->bps[0]));
    }
    c->pred_ssim = 1 - pow(10, -c->pred_ssim_db / 10);
}

/*
 * Measure a rung (once, or twice when the first encode missed the budget by
 * more than a quarter), unless it was measured already. Returns its index.
 */
static int measure_rung(Search *s, const ShEncoderDesc *enc, const ShRung *r)
{
    ShSolverReport *rep = s->rep;
    ShCandidate *c;
    ShMeasure m;
    double crf;
    int ret;

    for (int i = 0; i < rep->ncandidates; i++)
        if (rep->cand[i].enc == enc && rep->cand[i].rung.width == r->width &&
            rep->cand[i].rung.height == r->height && !av_cmp_q(rep->cand[i].rung.fps, r->fps))
            return i;
    if (enc->min_size > 0 && (r->width < enc->min_size || r->height < enc->min_size))
        return AVERROR(ERANGE);
    if (rep->ncandidates == SH_SOLVER_MAX_CANDIDATES)
        return AVERROR(ENOSPC);
    c = &rep->cand[rep->ncandidates];
    memset(c, 0, sizeof(*c));
    c->enc = enc;
    c->time_cost_db = time_cost_db(enc, s->speed);
    c->rung = *r;
    c->video_bps = sh_plan_video_bps(s->plan, av_q2d(r->fps));
    if (c->video_bps <= 0)
        return AVERROR(ERANGE);
    crf = crf_for(s, r, c->video_bps);
    for (int k = 0; k < 2; k++) {
        if ((ret = sh_measure_candidate(s->sample, enc, r, crf, 1, &m)) < 0)
            return ret;
        rep->encodes++;
        /* The rate model is the first encoder's; others map their quality
         * scale onto it only roughly, and the second point corrects. */
        if (enc == s->enc)
            learn(s, r, &m);
        c->crf[k] = m.crf;
        c->bps[k] = m.bps;
        c->ssim_db[k] = m.q.ssim_db;
        c->psnr[k] = m.q.psnr;
        c->nmeasures = k + 1;
        c->feasible = !(crf >= 51 && m.bps > c->video_bps * 1.15);
        if (!c->feasible || fabs(log2(m.bps / c->video_bps)) < 0.5)
            break;
        /* Missed by more than 40%: a second point on the other side, so the
         * prediction interpolates rather than leans on a borrowed slope. */
        crf = av_clipd(m.crf + SH_CRF_PER_OCTAVE * log2(m.bps / c->video_bps), 1, 51);
        if (fabs(crf - m.crf) < 0.5)
            break;
    }
    return rep->ncandidates++;
}

static int best_candidate(ShSolverReport *rep)
{
    double ss, ps;
    int best = -1;
    slopes(rep, &ss, &ps);
    for (int i = 0; i < rep->ncandidates; i++) {
        ShCandidate *c = &rep->cand[i];
        predict(c, ss, ps);
        if (c->feasible && (best < 0 || c->pred_ssim_db - c->time_cost_db >
                                        rep->cand[best].pred_ssim_db - rep->cand[best].time_cost_db))
            best = i;
    }
    return best;
}

static ShRung rung_at(const ShInputInfo *info, int display_h, AVRational fps)
{
    ShRung r;
    sh_scale_dims(info->width, info->height, info->sar, info->rotation, display_h, &r.width, &r.height);
    r.fps = fps;
    return r;
}

/* Nearest entry of a descending list. */
static int nearest_height(const int *h, int n, int want)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (abs(h[i] - want) < abs(h[best] - want))
            best = i;
    return best;
}

static int nearest_rate(const AVRational *r, int n, double want)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (fabs(log(av_q2d(r[i]) / want)) < fabs(log(av_q2d(r[best]) / want)))
            best = i;
    return best;
}

/* Measure (height index, rate index) and return its predicted quality, or -inf. */
static double try_rung(Search *s, const int *heights, const AVRational *rates, int hi, int ri, int *err)
{
    ShRung r = rung_at(s->info, heights[hi], rates[ri]);
    int i = measure_rung(s, s->enc, &r), best;
    if (i < 0) {
        if (i != AVERROR(ERANGE))
            *err = i;
        return -INFINITY;
    }
    best = best_candidate(s->rep);   /* refreshes every prediction */
    (void)best;
    return s->rep->cand[i].feasible ? s->rep->cand[i].pred_ssim_db : -INFINITY;
}

/*
 * Hill-climb over the grid: along heights from the prior (the source's own
 * size is always tried), then along frame rates at the best height, then
 * heights again at the best rate. Quality against rung is single-peaked in
 * practice (too small blurs, too large starves), so this finds the peak in
 * a handful of sample encodes instead of the whole grid.
 */
static int search(Search *s, const ShSolverOptions *opt)
{
    const ShInputInfo *info = s->info;
    int heights[32], nh, nr, bh, br, err = 0;
    AVRational rates[64];
    double best;

    nh = sh_plan_heights(info, opt, heights, 32);
    /* The search measures: the source's own rate (60 fps too) is a candidate. */
    nr = sh_plan_rates(info, opt, SH_SOLVER_MIN_FPS, 1000, rates, 64);
    if (!nh || !nr)
        return AVERROR(EINVAL);
    bh = nearest_height(heights, nh, s->plan->display_height);
    br = nearest_rate(rates, nr, av_q2d(s->plan->fps));
    best = try_rung(s, heights, rates, bh, br, &err);
    /* Bits to spare at the source's own picture and rate: a smaller or
     * choppier picture cannot win, so spend no encodes looking. */
    if (bh == 0 && br == 0 && s->plan->bpp >= SH_SEARCH_ENOUGH_BPP)
        return err;
    if (bh > 0) {
        double q = try_rung(s, heights, rates, 0, br, &err);
        if (q > best)
            best = q, bh = 0;
    }
    for (int pass = 0; pass < 3 && !err; pass++) {
        int along_rates = pass == 1, moved = 1;
        while (moved && !err) {
            moved = 0;
            for (int dir = -1; dir <= 1; dir += 2) {
                int h = bh, r = br;
                double q;
                if (along_rates) {
                    /* Rates are dense (source/n): step by about half or double. */
                    r = nearest_rate(rates, nr, av_q2d(rates[br]) * (dir < 0 ? 2 : 0.5));
                    if (r == br)
                        continue;
                } else {
                    h = bh + dir;
                    if (h < 0 || h >= nh)
                        continue;
                }
                q = try_rung(s, heights, rates, h, r, &err);
                if (q > best + 0.02) {
                    best = q, bh = h, br = r, moved = 1;
                    break;
                }
            }
        }
    }
    return err;
}

/* The quality setting that gives the candidate its budget, from its own
 * measurement nearest that rate (each encoder has its own scale). */
static double crf_at(const ShCandidate *c)
{
    int k = 0;
    if (c->nmeasures == 2 && fabs(log2(c->bps[1] / c->video_bps)) < fabs(log2(c->bps[0] / c->video_bps)))
        k = 1;
    return av_clipd(c->crf[k] + SH_CRF_PER_OCTAVE * log2(c->bps[k] / c->video_bps), 1, 51);
}

/*
 * --codec auto: the other encoders that write the container and that the
 * --speed allows are measured at the first encoder's best rung and one
 * height up (a better codec affords more pixels), and the best predicted
 * quality across all of them wins. A codec's advantage is largest where bits
 * are scarce, so it is measured, not assumed.
 */
static int choose_codec(Search *s, const ShSolverOptions *opt)
{
    const ShInputInfo *info = s->info;
    int heights[32], nh, b = best_candidate(s->rep), err = 0;
    ShRung at, up;
    if (b < 0)
        return 0;
    at = s->rep->cand[b].rung;
    up = at;
    nh = sh_plan_heights(info, opt, heights, 32);
    for (int i = nh - 1; i >= 0; i--) {
        ShRung r = rung_at(info, heights[i], at.fps);
        if (r.height > at.height) {
            up = r;
            break;
        }
    }
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d && !err; d = sh_encoder_next(d)) {
        int i;
        if (d == s->enc || d->type != AVMEDIA_TYPE_VIDEO || d->fit || !sh_encoder_available(d) ||
            !sh_encoder_supports_container(d, s->plan->container) || !sh_encoder_speed_ok(d, opt->speed))
            continue;
        if ((i = measure_rung(s, d, &at)) < 0 && i != AVERROR(ERANGE))
            err = i;
        if (!err && up.height != at.height && (i = measure_rung(s, d, &up)) < 0 && i != AVERROR(ERANGE))
            err = i;
    }
    return err;
}

int sh_solver_plan(ShPlan *plan, const char *path, const ShInputInfo *info,
                   const ShSolverOptions *opt, ShSolverReport *rep_out)
{
    ShSolverReport local, *rep = rep_out ? rep_out : &local;
    ShSample *sample = NULL;
    Search s = { 0 };
    double t0 = now();
    int ret, best;

    memset(rep, 0, sizeof(*rep));
    rep->chosen = -1;
    if ((ret = sh_plan_rule(plan, info, opt)) < 0)
        return ret;
    /* Starved even at the floor, or asked not to: the rule is the plan. */
    if (plan->at_floor || opt->no_search)
        goto done;

    ret = sh_sample_collect(&sample, path, info, opt->start, info->duration, SH_SAMPLE_FRACTION,
                            SH_SAMPLE_MIN, SH_SAMPLE_MAX);
    if (ret < 0)
        goto done_err;
    rep->searched = 1;
    rep->eval_width = sample->eval_w;
    rep->eval_height = sample->eval_h;
    rep->sample_seconds = sample->seconds;
    rep->difficulty = sample->difficulty;
    rep->sample_frames = sh_frame_cache_count(sample->master);
    s.sample = sample;
    s.enc = plan->venc;
    s.speed = opt->speed;
    s.info = info;
    s.plan = plan;
    s.rep = rep;
    if ((ret = search(&s, opt)) < 0)
        goto done_err;
    if (!opt->codec && (ret = choose_codec(&s, opt)) < 0)
        goto done_err;
    best = best_candidate(rep);
    if (best >= 0) {
        ShCandidate *c = &rep->cand[best];
        ShMeasure m;
        int swap = info->rotation == 90 || info->rotation == 270;
        double ss, ps;
        rep->chosen = best;
        plan->venc = c->enc;
        plan->width = c->rung.width;
        plan->height = c->rung.height;
        plan->display_height = swap ? c->rung.width : c->rung.height;
        plan->fps = c->rung.fps;
        plan->video_bitrate = (int64_t)c->video_bps;
        plan->bpp = c->video_bps / ((double)c->rung.width * c->rung.height * av_q2d(c->rung.fps));
        /* Calibrate the prediction with the final encode's preset. */
        slopes(rep, &ss, &ps);
        if (sh_measure_candidate(sample, plan->venc, &c->rung, crf_at(c), 0, &m) >= 0) {
            double d = log2(c->video_bps / m.bps);
            rep->encodes++;
            rep->predicted_psnr = m.q.psnr + ps * d;
            rep->predicted_ssim = 1 - pow(10, -(m.q.ssim_db + ss * d) / 10);
        } else {
            rep->predicted_ssim = c->pred_ssim;
            rep->predicted_psnr = c->pred_psnr;
        }
    }
done:
    ret = 0;
done_err:
    if (ret < 0 && ret != AVERROR(ENOMEM)) {
        /* A search that fails (odd input, no seeking) leaves the rule's plan. */
        sh_log(SH_LOG_VERBOSE, path, "search failed (%s); using the rule", av_err2str(ret));
        ret = 0;
    }
    rep->seconds = now() - t0;
    sh_sample_free(&sample);
    return ret;
}
