/*
 * Time as part of the choice, for long inputs (issue 20). A two-hour film
 * at the picture and preset that score best can take an evening on two
 * cores: SVT-AV1 at preset 10 and 640x360 needed 10.7 decodes of the film
 * where its 512x288 scored better still than preset 12 at 640x360 in the
 * same time (docs/LONG.md). So the speed of each choice is measured on
 * the sample, alone, and the choice is the best quality for the time:
 *
 *   1. The chosen encoder is measured one and two heights down (the
 *      search's quick encodes: their quality at the budget).
 *   2. Those rungs, the chosen one and every other encoder's calibrated
 *      best are encoded once with the final preset and once with the quick
 *      one, one at a time, timed: seconds per frame and the quality at the
 *      budget with each preset.
 *   3. Each (rung, preset) gets a predicted wall time for the job, and its
 *      score loses SH_TIME_OVER_DB per doubling past the budget; the best
 *      score after that wins. A choice within the budget costs nothing for
 *      its time; past it, twice the time has to buy more than twice the
 *      bits would (about 1.2 dB), so the budget holds unless the quality
 *      it costs is large.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "solver/search.h"

/* Heights below the chosen one measured for the time. */
#define SH_TIME_DOWN 2
/* x264's first pass (its fast first-pass settings) costs about a third of
 * its second: two passes cost this many of the timed one-pass encode. */
#define SH_TIME_TWO_PASS_COST 1.35
/* An encoder whose stretches cannot be joined encodes the whole film:
 * from the cache after the decode, now and then twice. */
#define SH_TIME_WHOLE_FILM_COST 1.5
/* The sample's encodes run alone on frames already in memory; the film's
 * run decodes, encodes the audio and switches between more threads than
 * cores beside them: on the hour film (docs/LONG.md) the job took 1.29x
 * what the alone-speeds and the decode added up to. */
#define SH_TIME_PIPELINE_COST 1.3
/* SSIM dB a choice loses per doubling of the time past the budget. */
#define SH_TIME_OVER_DB 1.5

/* The job's wall time with a candidate at seconds-per-frame spf: the decode
 * pass (the encoder fed as it goes: the two share the cores, so their
 * times add) and the rest of the encode. */
static double predict_seconds(const Search *s, const ShSolverOptions *opt, const ShCandidate *c, double spf,
                              double elapsed)
{
    double frames = s->plan->duration * av_q2d(c->rung.fps);
    double enc = frames * spf * SH_TIME_PIPELINE_COST;
    if (c->enc->caps & SH_ENC_CAP_TWO_PASS)
        enc *= SH_TIME_TWO_PASS_COST;
    if (!(c->enc->caps & SH_ENC_CAP_JOINS_CHUNKS))
        enc *= SH_TIME_WHOLE_FILM_COST;
    return elapsed + opt->decode_seconds + enc;
}

static double over_db(double seconds, double budget)
{
    return seconds > budget ? SH_TIME_OVER_DB * log2(seconds / budget) : 0;
}

/*
 * The choices weighed: the chosen candidate, its encoder SH_TIME_DOWN
 * heights down at its frame rate (measured now by the search's quick
 * encodes: their quality at the budget), and every other encoder's
 * calibrated best. Their indices go to w[], *nw of them.
 */
static int list_choices(Search *s, const ShSolverOptions *opt, int best, int *w, int *nw)
{
    ShSolverReport *rep = s->rep;
    const ShCandidate *c0 = &rep->cand[best];
    const ShEncoderDesc *encs[SH_TIME_DOWN];
    ShRung r[SH_TIME_DOWN];
    int heights[32], nh = sh_plan_heights(s->info, opt, heights, 32), n = 0, idx[SH_TIME_DOWN];

    for (int i = 0; i < nh && n < SH_TIME_DOWN; i++) {
        ShRung d = sh_solver_rung_at(s->info, heights[i], c0->rung.fps);
        if (d.height < c0->rung.height && (!n || d.height < r[n - 1].height)) {
            encs[n] = c0->enc;
            r[n++] = d;
        }
    }
    if (n) {
        sh_solver_measure_rungs(s, encs, r, n, idx);
        sh_solver_best_candidate(rep);   /* refreshes every prediction */
    }
    *nw = 0;
    w[(*nw)++] = best;
    for (int i = 0; i < n; i++) {
        if (idx[i] == AVERROR(ENOMEM) || idx[i] == SH_ERROR_INTERRUPTED)
            return idx[i];
        if (idx[i] >= 0 && rep->cand[idx[i]].feasible)
            w[(*nw)++] = idx[i];
    }
    for (int i = 0; i < rep->ncandidates && *nw < SH_SEARCH_BATCH / 2; i++)
        if (rep->cand[i].enc != c0->enc && rep->cand[i].calibrated && rep->cand[i].feasible)
            w[(*nw)++] = i;
    return 0;
}

/* Every choice's speed with both presets, and its quality with the preset
 * not measured yet: one at a time, so that each is timed alone. */
static int measure_times(Search *s, const int *w, int nw)
{
    ShSolverReport *rep = s->rep;
    RungJob jobs[SH_SEARCH_BATCH];
    int cand_of[SH_SEARCH_BATCH], preset_of[SH_SEARCH_BATCH], nj = 0;
    double slope[SH_Q_N];

    for (int k = 0; k < nw; k++) {
        const ShCandidate *c = &rep->cand[w[k]];
        for (int p = 0; p < 2 && nj < SH_SEARCH_BATCH; p++) {
            if (c->spf[p] > 0)
                continue;
            sh_solver_final_job(&jobs[nj], s, c, p, 1);
            cand_of[nj] = w[k];
            preset_of[nj++] = p;
        }
    }
    sh_solver_run_jobs(jobs, nj);
    sh_solver_slopes(rep, slope);
    for (int k = 0; k < nj; k++) {
        ShCandidate *c = &rep->cand[cand_of[k]];
        const ShMeasure *m = &jobs[k].m[0];
        rep->encodes += jobs[k].nm;
        if (jobs[k].ret == AVERROR(ENOMEM) || jobs[k].ret == SH_ERROR_INTERRUPTED)
            return jobs[k].ret;
        if (jobs[k].ret < 0 || m->enc_frames <= 0)
            continue;   /* not weighed for the time */
        c->spf[preset_of[k]] = m->enc_seconds / m->enc_frames;
        if (preset_of[k]) {
            sh_solver_at_budget(c, m, slope, c->quick);
            c->quick_measured = 1;
        } else {
            sh_solver_at_budget(c, m, slope, c->cal);
            c->calibrated = 1;
        }
    }
    return 0;
}

int sh_solver_fit_time(Search *s, const ShSolverOptions *opt, double t0, int *best)
{
    ShSolverReport *rep = s->rep;
    int w[SH_SEARCH_BATCH], nw, pick = -1, pick_p = 0, ret;
    double t_start = sh_now(), pick_eff = -INFINITY, elapsed;

    if ((ret = list_choices(s, opt, *best, w, &nw)) < 0 || (ret = measure_times(s, w, nw)) < 0)
        return ret;
    elapsed = sh_now() - t0;
    rep->time_budget = opt->time_budget;
    for (int k = 0; k < nw; k++) {
        ShCandidate *c = &rep->cand[w[k]];
        for (int p = 0; p < 2; p++) {
            const double *q = p ? c->quick : c->cal;
            double eff;
            if (!(c->spf[p] > 0) || (p ? !c->quick_measured : !c->calibrated))
                continue;
            c->seconds[p] = predict_seconds(s, opt, c, c->spf[p], elapsed);
            eff = sh_solver_rank(c, q) - over_db(c->seconds[p], opt->time_budget);
            /* Ties: the final preset, then sh_solver_better's order. */
            if (pick < 0 || eff > pick_eff + 1e-9 ||
                (fabs(eff - pick_eff) <= 1e-9 && !p && sh_solver_better(c, q, &rep->cand[pick], q))) {
                pick = w[k];
                pick_p = p;
                pick_eff = eff;
            }
        }
    }
    sh_log(SH_LOG_VERBOSE, s->info->path, "time: one decode %.1f s, the budget %.0f s; measuring the speeds took %.1f s",
           opt->decode_seconds, opt->time_budget, sh_now() - t_start);
    if (pick < 0)
        return 0;   /* nothing timed: the choice stands, its time unpredicted */
    *best = pick;
    rep->quick_preset = pick_p;
    rep->expected_seconds = rep->cand[pick].seconds[pick_p];
    return 0;
}
