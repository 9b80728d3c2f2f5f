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
#include <stdio.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "solver/roi.h"
#include "solver/search.h"
#include "stages/stage.h"

/* Sample: 6% of the frames counted, between 36 and 240 of them, plus warm-ups. */
#define SH_SAMPLE_FRACTION 0.06
#define SH_SAMPLE_MIN 36
#define SH_SAMPLE_MAX 240
/* Bits per pixel at the source's picture and rate above which the search stops at once. */
#define SH_SEARCH_ENOUGH_BPP 0.1

ShRung sh_solver_rung_at(const ShInputInfo *info, int display_h, AVRational fps)
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

/* Measure (height index, rate index) pairs; q[i]: predicted quality, or -inf. */
static void try_rungs(Search *s, const int *heights, const AVRational *rates, const int (*hr)[2], int n,
                      double *q, int *err)
{
    const ShEncoderDesc *encs[SH_SEARCH_BATCH] = { 0 };
    ShRung r[SH_SEARCH_BATCH] = { 0 };
    int idx[SH_SEARCH_BATCH];
    n = FFMIN(n, SH_SEARCH_BATCH);
    for (int i = 0; i < n; i++) {
        encs[i] = s->enc;
        r[i] = sh_solver_rung_at(s->info, heights[hr[i][0]], rates[hr[i][1]]);
    }
    sh_solver_measure_rungs(s, encs, r, n, idx);
    sh_solver_best_candidate(s->rep);   /* refreshes every prediction */
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 && idx[i] != AVERROR(ERANGE) && !*err)
            *err = idx[i];
        q[i] = idx[i] >= 0 && s->rep->cand[idx[i]].feasible ? s->rep->cand[idx[i]].pred[SH_Q_SCORE] : -INFINITY;
    }
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
    /* The search measures: the source's own rate is a candidate up to 60 fps
     * (a 120 or 240 fps phone clip starts at 60: past that, frames cost bits
     * no viewer sees). */
    nr = sh_plan_rates(info, opt, SH_SOLVER_MIN_FPS, SH_SOLVER_MAX_FPS, rates, 64);
    if (!nh || !nr)
        return AVERROR(EINVAL);
    bh = nearest_height(heights, nh, s->plan->display_height);
    br = nearest_rate(rates, nr, av_q2d(s->plan->fps));
    {
        /* The prior's rung, and beside it the source's own size and the
         * source's own frame rate: always tried. Frames are given up last,
         * so the full rate is measured, never only reached by steps that a
         * choppier neighbour may stop (a 60 fps source whose prior is 20 fps
         * would step to 30 and stop there). */
        int hr[3][2] = { { bh, br } }, n = 1;
        double q[3];
        if (bh > 0)
            hr[n][0] = 0, hr[n][1] = br, n++;
        if (br > 0)
            hr[n][0] = bh, hr[n][1] = 0, n++;
        try_rungs(s, heights, rates, (const int (*)[2])hr, n, q, &err);
        best = q[0];
        /* Bits to spare at the source's own picture and rate: a smaller or
         * choppier picture cannot win, so spend no encodes looking. */
        if (bh == 0 && br == 0 && s->plan->bpp >= SH_SEARCH_ENOUGH_BPP)
            return err;
        for (int i = 1; i < n; i++)
            if (q[i] > best)
                best = q[i], bh = hr[i][0], br = hr[i][1];
    }
    for (int pass = 0; pass < 3 && !err; pass++) {
        int along_rates = pass == 1, moved = 1;
        while (moved && !err) {
            int hr[2][2], n = 0, pick = -1;
            double q[2];
            moved = 0;
            /* Both neighbours at once (they are independent); the better wins. */
            for (int dir = -1; dir <= 1; dir += 2) {
                int h = bh, r = br;
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
                hr[n][0] = h;
                hr[n][1] = r;
                n++;
            }
            if (!n)
                break;
            try_rungs(s, heights, rates, (const int (*)[2])hr, n, q, &err);
            for (int i = 0; i < n; i++)
                if (q[i] > best + 0.02 && (pick < 0 || q[i] > q[pick]))
                    pick = i;
            if (pick >= 0) {
                best = q[pick], bh = hr[pick][0], br = hr[pick][1], moved = 1;
            }
        }
    }
    return err;
}

/* The next height above rung r at its frame rate, or r itself at the top. */
static ShRung rung_up(const ShInputInfo *info, const int *heights, int nh, ShRung r)
{
    for (int i = nh - 1; i >= 0; i--) {
        ShRung u = sh_solver_rung_at(info, heights[i], r.fps);
        if (u.height > r.height)
            return u;
    }
    return r;
}

static double score_of(const ShSolverReport *rep, int idx)
{
    return idx >= 0 && rep->cand[idx].feasible ? rep->cand[idx].pred[SH_Q_SCORE] : -INFINITY;
}

/*
 * --codec auto: the other encoders that write the container and that the
 * --speed allows are measured at the first encoder's best rung, one height
 * up (a better codec affords more pixels) and, where the first found it
 * within 1 dB of its peak, the source's own size; then further up from the
 * first, one height at a time, for as long as the larger picture scores
 * better by the hill climb's 0.02 dB. On Sintel at 400 kb/s x264's peak was
 * 768x432 and SVT-AV1's is 1280x720, two heights above (whole film: SSIM
 * 0.9854 and temporal 0.9799 there against 0.9813 and 0.9792 at 854x480,
 * where the search had stopped). The best predicted quality across all of
 * them wins. A codec's advantage is largest where bits are scarce, so it is
 * measured, not assumed.
 */
static int choose_codec(Search *s, const ShSolverOptions *opt)
{
    const ShInputInfo *info = s->info;
    const ShEncoderDesc *encs[SH_SEARCH_BATCH] = { 0 }, *climb[SH_SEARCH_BATCH] = { 0 };
    ShRung r[SH_SEARCH_BATCH] = { 0 }, top[SH_SEARCH_BATCH] = { 0 };
    double last[SH_SEARCH_BATCH];
    int heights[32], nh, b = sh_solver_best_candidate(s->rep), err = 0, n = 0, nc = 0, src_close = 0;
    int idx[SH_SEARCH_BATCH];
    ShRung at, up, src;
    if (b < 0)
        return 0;
    at = s->rep->cand[b].rung;
    nh = sh_plan_heights(info, opt, heights, 32);
    up = rung_up(info, heights, nh, at);
    src = sh_solver_rung_at(info, heights[0], at.fps);
    /* The source's size is worth a sample encode when the first encoder
     * found it close to its peak (within 1 dB): at a starved budget it is
     * far below, and the largest picture is the dearest encode. */
    for (int i = 0; i < s->rep->ncandidates; i++) {
        const ShCandidate *c = &s->rep->cand[i];
        if (c->enc == s->enc && c->rung.height == src.height && c->feasible &&
            c->pred[SH_Q_SCORE] >= s->rep->cand[b].pred[SH_Q_SCORE] - 1.0)
            src_close = 1;
    }
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d && n + 3 <= SH_SEARCH_BATCH; d = sh_encoder_next(d)) {
        if (d == s->enc || d->type != AVMEDIA_TYPE_VIDEO || (d->caps & SH_ENC_CAP_PALETTE) ||
            !sh_encoder_available(d) ||
            !sh_encoder_supports_container(d, s->plan->container) || !sh_encoder_speed_ok(d, opt->speed))
            continue;
        encs[n] = d;
        r[n++] = at;
        if (up.height != at.height) {
            encs[n] = d;
            r[n++] = up;
        }
        if (src_close && src.height != up.height && n < SH_SEARCH_BATCH) {
            encs[n] = d;
            r[n++] = src;
        }
    }
    sh_solver_measure_rungs(s, encs, r, n, idx);
    sh_solver_best_candidate(s->rep);   /* refreshes every prediction */
    for (int i = 0; i < n && !err; i++)
        if (idx[i] < 0 && idx[i] != AVERROR(ERANGE))
            err = idx[i];
    /* An encoder whose picture one height up scored better than at x264's
     * peak, and whose source size did not score better still, climbs on. */
    for (int i = 0; i < n && !err; ) {
        double q_at = -INFINITY, q_up = -INFINITY, q_src = -INFINITY;
        int j = i;
        for (; j < n && encs[j] == encs[i]; j++) {
            double q = score_of(s->rep, idx[j]);
            if (r[j].height == at.height)
                q_at = q;
            else if (r[j].height == up.height)
                q_up = q;
            else
                q_src = q;
        }
        if (q_up > q_at + 0.02 && q_up >= q_src) {
            climb[nc] = encs[i];
            top[nc] = up;
            last[nc++] = q_up;
        }
        i = j;
    }
    while (nc > 0 && !err) {
        double prev[SH_SEARCH_BATCH];
        int m = 0, keep = 0;
        for (int k = 0; k < nc; k++) {
            ShRung u = rung_up(info, heights, nh, top[k]);
            if (u.height == top[k].height)
                continue;
            encs[m] = climb[k];
            prev[m] = last[k];
            r[m++] = u;
        }
        if (!m)
            break;
        sh_solver_measure_rungs(s, encs, r, m, idx);
        sh_solver_best_candidate(s->rep);
        for (int k = 0; k < m && !err; k++) {
            double q = score_of(s->rep, idx[k]);
            if (idx[k] < 0 && idx[k] != AVERROR(ERANGE)) {
                err = idx[k];
            } else if (q > prev[k] + 0.02) {
                climb[keep] = encs[k];
                top[keep] = r[k];
                last[keep++] = q;
            }
        }
        nc = keep;
    }
    return err;
}

/*
 * Calibration: each encoder's best rung is encoded once more on the sample
 * with that encoder's final preset, at the setting its own measurements say
 * gives the budget, and the winner is chosen on these. The search's quick
 * presets rank rungs of one encoder well but encoders against each other
 * badly: x265's ultrafast is far further from its medium than x264's
 * veryfast from its medium (on Big Buck Bunny at 86 kb/s the search put x265
 * 0.03 under x264, and SVT-AV1 at preset 12 0.01 under x264, where whole-film
 * encodes measured SVT-AV1 at preset 10 0.04 above). *best is replaced by the
 * calibrated winner; the predicted quality reported is its calibrated one.
 */
static int calibrate(Search *s, int *best)
{
    ShSolverReport *rep = s->rep;
    RungJob jobs[SH_SEARCH_BATCH];
    int cand_of[SH_SEARCH_BATCH], nj = 0, pick = -1;
    double slope[SH_Q_N], t0 = sh_now();

    sh_solver_slopes(rep, slope);
    for (int i = 0; i < rep->ncandidates; i++) {
        const ShCandidate *c = &rep->cand[i];
        int k;
        if (!c->feasible)
            continue;
        for (k = 0; k < nj && jobs[k].enc != c->enc; k++)
            ;
        if (k == nj) {
            if (nj == SH_SEARCH_BATCH)
                continue;
            nj++;
        } else if (!sh_solver_better(c, c->pred, &rep->cand[cand_of[k]], rep->cand[cand_of[k]].pred)) {
            continue;
        }
        sh_solver_final_job(&jobs[k], s, c, 0, s->timed);
        cand_of[k] = i;
    }
    sh_solver_run_jobs(jobs, nj);
    for (int k = 0; k < nj; k++) {
        ShCandidate *c = &rep->cand[cand_of[k]];
        const ShMeasure *m = &jobs[k].m[0];
        rep->encodes += jobs[k].nm;
        if (jobs[k].ret < 0) {
            if (jobs[k].ret == AVERROR(ENOMEM) || jobs[k].ret == SH_ERROR_INTERRUPTED)
                return jobs[k].ret;
            continue;   /* that encoder keeps its quick-preset prediction, uncalibrated */
        }
        c->calibrated = 1;
        if (jobs[k].timed && m->enc_frames > 0)
            c->spf[0] = m->enc_seconds / m->enc_frames;
        sh_solver_at_budget(c, m, slope, c->cal);
        c->face_db[0] = sh_solver_face_at_budget(c, m, slope);
        if (pick < 0 || sh_solver_better(c, c->cal, &rep->cand[pick], rep->cand[pick].cal))
            pick = cand_of[k];
    }
    if (pick >= 0)
        *best = pick;
    rep->calibration_seconds = sh_now() - t0;
    return 0;
}

int sh_solver_plan(ShPlan *plan, const char *path, const ShInputInfo *info,
                   const ShSolverOptions *opt, ShSolverReport *rep_out)
{
    ShSolverReport local, *rep = rep_out ? rep_out : &local;
    ShSample *sample = NULL;
    Search s = { 0 };
    double t0 = sh_now();
    int ret, best;

    memset(rep, 0, sizeof(*rep));
    rep->chosen = -1;
    rep->roi_looks = -1;
    if ((ret = sh_plan_rule(plan, info, opt)) < 0)
        return ret;
    /* Starved even at the floor, or asked not to, or nothing left to choose
     * (the picture, the rate and the encoder all given): the rule is the plan,
     * and the samples would only have predicted its quality. */
    if (plan->at_floor || opt->no_search || (opt->height > 0 && opt->fps > 0 && opt->codec))
        goto done;

    ret = sh_sample_collect(&sample, path, info, opt->start, info->duration, SH_SAMPLE_FRACTION,
                            SH_SAMPLE_MIN, SH_SAMPLE_MAX);
    rep->sampling_seconds = sh_now() - t0;
    if (ret < 0)
        goto done_err;
    rep->searched = 1;
    sample->interrupted = opt->interrupted;
    rep->eval_width = sample->eval_w;
    rep->eval_height = sample->eval_h;
    rep->sample_seconds = sample->seconds;
    rep->difficulty = sample->difficulty;
    rep->sample_frames = sh_frame_cache_count(sample->master);
    if ((ret = sh_solver_find_faces(sample, info, opt, rep)) < 0)
        goto done_err;
    s.sample = sample;
    s.enc = plan->venc;
    s.speed = opt->speed;
    s.timed = opt->time_budget > 0 && opt->decode_seconds > 0;
    s.info = info;
    s.plan = plan;
    s.rep = rep;
    if ((ret = search(&s, opt)) < 0)
        goto done_err;
    if (!opt->codec && (ret = choose_codec(&s, opt)) < 0)
        goto done_err;
    best = sh_solver_best_candidate(rep);
    if (best >= 0 && (ret = calibrate(&s, &best)) < 0)
        goto done_err;
    /* Regions are weighed where time is not: a long film's stretches take none (docs/FACES.md). */
    if (best >= 0 && !s.timed && (ret = sh_solver_choose_roi(&s, opt, &best)) < 0)
        goto done_err;
    if (best >= 0 && s.timed && (ret = sh_solver_fit_time(&s, opt, t0, &best)) < 0)
        goto done_err;
    if (best >= 0) {
        ShCandidate *c = &rep->cand[best];
        const double *q = rep->quick_preset ? c->quick : c->roi_strength > 0 ? c->roi_cal :
                          c->calibrated ? c->cal : c->pred;
        int swap = info->rotation == 90 || info->rotation == 270;
        rep->chosen = best;
        plan->venc = c->enc;
        plan->width = c->rung.width;
        plan->height = c->rung.height;
        plan->display_height = swap ? c->rung.width : c->rung.height;
        plan->fps = c->rung.fps;
        plan->fast_preset = rep->quick_preset;
        plan->roi_strength = c->roi_strength;
        plan->video_bitrate = (int64_t)c->video_bps;
        plan->bpp = c->video_bps / ((double)c->rung.width * c->rung.height * av_q2d(c->rung.fps));
        rep->predicted_ssim = sh_ssim_from_db(q[SH_Q_SSIM]);
        rep->predicted_tssim = sh_ssim_from_db(q[SH_Q_TSSIM]);
        rep->predicted_psnr = q[SH_Q_PSNR];
    }
done:
    /* Nothing measured: --roi faces still gives found faces the bits, at the
     * strength the measurements on the shared clips favour. */
    if (!rep->searched && opt->roi == SH_ROI_FACES && plan->venc &&
        (plan->venc->caps & SH_ENC_CAP_ROI)) {
        plan->roi_strength = SH_ROI_STRENGTH_UNMEASURED;
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "on: --roi faces (not measured: no search)");
    }
    ret = 0;
done_err:
    if (ret < 0 && ret != AVERROR(ENOMEM) && ret != SH_ERROR_INTERRUPTED) {
        /* A search that fails (odd input, no seeking) leaves the rule's plan. */
        sh_log(SH_LOG_VERBOSE, path, "search failed (%s); using the rule", av_err2str(ret));
        ret = 0;
    }
    rep->seconds = sh_now() - t0;
    sh_sample_free(&sample);
    return ret;
}
