/*
 * The solver's models: the rate a quality setting gives a rung (a prior
 * that learns from each measurement), and the quality a rung will have at
 * its budget (a line through its measurements in SSIM dB against log2 of
 * the bitrate).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include "metrics/temporal.h"
#include "solver/search.h"

/*
 * --speed balanced (the default) admits encoders several times slower than
 * x264 medium, but a slower one has to earn its time: 0.25 dB of SSIM per
 * halving of the speed (x265 at 0.45 of x264's speed needs 0.29 dB,
 * about what 10% more bitrate buys). --speed best takes any gain.
 */
#define SH_SSIM_DB_PER_SPEED_HALVING 0.25

double sh_solver_time_cost_db(const ShEncoderDesc *enc, int speed)
{
    if (speed == SH_SPEED_BEST || !(enc->rel_speed > 0) || enc->rel_speed >= 1)
        return 0;
    return SH_SSIM_DB_PER_SPEED_HALVING * log2(1 / enc->rel_speed);
}

#define SH_RATE_PRIOR_A 8.4

static double log_rate_shape(const ShRung *r)
{
    return 0.75 * log2((double)r->width * r->height) + 0.6 * log2(av_q2d(r->fps));
}

double sh_solver_crf_slope(const Search *s)
{
    /* The prior counts as one observation here too. */
    return av_clipd((s->slope_sum + SH_CRF_PER_OCTAVE) / (s->slope_n + 1), 2.5, 9);
}

double sh_solver_crf_for(const Search *s, const ShRung *r, double bps)
{
    /* The prior counts as one observation, so one odd sample cannot throw it far.
     * a is kept on the prior's 6-per-octave scale; the learned slope is
     * applied around the learned point. */
    double a = (s->a_sum + SH_RATE_PRIOR_A) / (s->a_n + 1);
    double crf6 = SH_CRF_PER_OCTAVE * (a + log_rate_shape(r) - log2(bps));
    double mid = s->a_n ? s->crf_mid : crf6;
    return av_clipd(mid + (crf6 - mid) * sh_solver_crf_slope(s) / SH_CRF_PER_OCTAVE, 1, 51);
}

void sh_solver_learn(Search *s, const ShRung *r, const ShMeasure *m)
{
    s->a_sum += log2(FFMAX(m->bps, 1)) + m->crf / SH_CRF_PER_OCTAVE - log_rate_shape(r);
    s->crf_mid = (s->crf_mid * s->a_n + m->crf) / (s->a_n + 1);
    s->a_n++;
}

/* Two points of one rung: CRF steps per halving of the rate between them. */
void sh_solver_learn_slope(Search *s, const ShCandidate *c)
{
    double d;
    if (c->nmeasures < 2 || fabs(c->crf[1] - c->crf[0]) < 2)
        return;
    d = log2(c->bps[0] / c->bps[1]);
    if (fabs(d) < 0.25)
        return;
    s->slope_sum += av_clipd((c->crf[1] - c->crf[0]) / d, 2.5, 9);
    s->slope_n++;
}

void sh_solver_measure_q(const ShMeasure *m, double q[SH_Q_N])
{
    q[SH_Q_SCORE] = sh_quality_score_db(m->q.ssim, m->tssim);
    q[SH_Q_SSIM] = m->q.ssim_db;
    q[SH_Q_TSSIM] = sh_ssim_db(m->tssim);
    q[SH_Q_PSNR] = m->q.psnr;
}

static double median_sorted(double *v, int n)
{
    for (int i = 1; i < n; i++)      /* a tiny insertion sort */
        for (int k = i; k > 0 && v[k] < v[k - 1]; k--) {
            double t = v[k]; v[k] = v[k - 1]; v[k - 1] = t;
        }
    return v[n / 2];
}

/* Median slope of the rungs measured twice: content decides how quality
 * grows with rate. A measure that does not grow (a still picture's temporal
 * SSIM is 1 at any rate) keeps the prior. */
void sh_solver_slopes(const ShSolverReport *rep, double slope[SH_Q_N])
{
    for (int q = 0; q < SH_Q_N; q++) {
        double v[SH_SOLVER_MAX_CANDIDATES];
        int n = 0, psnr = q == SH_Q_PSNR;
        for (int i = 0; i < rep->ncandidates; i++) {
            const ShCandidate *c = &rep->cand[i];
            double d = c->nmeasures == 2 ? log2(c->bps[1] / c->bps[0]) : 0;
            if (fabs(d) < 0.25)
                continue;
            v[n] = (c->q[1][q] - c->q[0][q]) / d;
            if (v[n] > 0)
                n++;
        }
        if (!n)
            slope[q] = psnr ? SH_SLOPE_PSNR : SH_SLOPE_SSIM_DB;
        else
            slope[q] = psnr ? av_clipd(median_sorted(v, n), 0.3, 6) : av_clipd(median_sorted(v, n), 0.2, 4);
    }
}

/* Octaves a prediction may reach above the highest measured rate: beyond
 * that the line is a guess. */
#define SH_PREDICT_MAX_UP 1.5
/* A setting this low is the encoder's best: a point there that is still
 * under the budget means the content cannot use more bits (a still frame). */
#define SH_CRF_SATURATED 1.5

/* Octaves to move a measurement made at setting crf towards the budget:
 * down freely; up at most SH_PREDICT_MAX_UP, and not at all from the
 * encoder's best setting. */
double sh_solver_step_up(double d, double crf)
{
    if (d <= 0)
        return d;
    return crf <= SH_CRF_SATURATED ? 0 : FFMIN(d, SH_PREDICT_MAX_UP);
}

void sh_solver_at_budget(const ShCandidate *c, const ShMeasure *m, const double slope[SH_Q_N], double q[SH_Q_N])
{
    double d = sh_solver_step_up(log2(c->video_bps / FFMAX(m->bps, 1)), m->crf), mq[SH_Q_N];
    sh_solver_measure_q(m, mq);
    for (int i = 0; i < SH_Q_N; i++)
        q[i] = av_clipd(mq[i] + slope[i] * d, 0, SH_QUALITY_DB_MAX);
}

/*
 * Quality at the candidate's budget, each measure alike: between two points,
 * the line through them; outside, a line from the nearer point with their
 * slope (or the median slope of the search) that never falls with more bits,
 * reaches at most SH_PREDICT_MAX_UP octaves up, and stays flat above a point
 * made at the encoder's best setting.
 */
static void predict(ShCandidate *c, const double slope[SH_Q_N])
{
    double t = log2(FFMAX(c->video_bps, 1)), x0, x1, dx;
    int lo = 0, hi = c->nmeasures - 1, at, two;
    if (c->nmeasures == 2 && c->bps[1] < c->bps[0])
        lo = 1, hi = 0;
    x0 = log2(FFMAX(c->bps[lo], 1));
    x1 = log2(FFMAX(c->bps[hi], 1));
    two = c->nmeasures == 2 && x1 - x0 > 0.25;
    at = t > x1 ? hi : lo;
    dx = sh_solver_step_up(t - (t > x1 ? x1 : x0), c->crf[at]);
    if (!two) {
        /* One point (or two at one rate): the nearer measure, the borrowed slope. */
        at = c->nmeasures == 2 && fabs(t - x1) < fabs(t - x0) ? hi : lo;
    }
    for (int q = 0; q < SH_Q_N; q++) {
        double v;
        if (two && t >= x0 && t <= x1) {
            double w = (t - x0) / (x1 - x0);
            v = c->q[lo][q] + w * (c->q[hi][q] - c->q[lo][q]);
        } else {
            double k = two ? FFMAX((c->q[hi][q] - c->q[lo][q]) / (x1 - x0), 0) : slope[q];
            v = c->q[at][q] + k * dx;
        }
        c->pred[q] = av_clipd(v, 0, SH_QUALITY_DB_MAX);
    }
}

/*
 * Visually lossless (SSIM and temporal SSIM both at least SH_VISUALLY_LOSSLESS,
 * 0.99) is the top: a viewer sees no difference past it, and the sample's
 * score differences there are noise. A prediction is not a measurement,
 * though: x264 on person_walking at 100 kb/s was predicted 0.9914 and
 * measured 0.9873, below the line, and the faster encoder it won on (both
 * "lossless") lost to the recipe; docs/SOLVER.md's accuracy table has
 * errors of 0.004-0.025. So a candidate reaches the top only when both its
 * predicted SSIMs are SH_PREDICTED_LOSSLESS (0.995) or more, where that
 * error still leaves it lossless; below, its own score ranks it (at most
 * just under the top). Among equals (after a slower encoder's margin) the
 * one with the most frames, then the most pixels, wins. That also fills
 * the target: an encoder at its best setting on a small rung leaves bytes
 * over that a larger one uses.
 */
#define SH_PREDICTED_LOSSLESS 0.995

static double ranked_score(const double q[SH_Q_N])
{
    const double top = sh_ssim_db(SH_PREDICTED_LOSSLESS * SH_PREDICTED_LOSSLESS);
    const double each = sh_ssim_db(SH_PREDICTED_LOSSLESS);
    if (q[SH_Q_SSIM] >= each && q[SH_Q_TSSIM] >= each)
        return top;
    return FFMIN(q[SH_Q_SCORE], top - 1e-3);
}

double sh_solver_rank(const ShCandidate *c, const double q[SH_Q_N])
{
    return ranked_score(q) - c->time_cost_db;
}

int sh_solver_better(const ShCandidate *a, const double qa[SH_Q_N], const ShCandidate *b, const double qb[SH_Q_N])
{
    double ea = sh_solver_rank(a, qa), eb = sh_solver_rank(b, qb);
    if (fabs(ea - eb) > 1e-9)
        return ea > eb;
    if (fabs(av_q2d(a->rung.fps) - av_q2d(b->rung.fps)) > 1e-6)
        return av_q2d(a->rung.fps) > av_q2d(b->rung.fps);
    return (int64_t)a->rung.width * a->rung.height > (int64_t)b->rung.width * b->rung.height;
}

int sh_solver_best_candidate(ShSolverReport *rep)
{
    double slope[SH_Q_N];
    int best = -1;
    sh_solver_slopes(rep, slope);
    for (int i = 0; i < rep->ncandidates; i++) {
        ShCandidate *c = &rep->cand[i];
        predict(c, slope);
        if (c->feasible && (best < 0 || sh_solver_better(c, c->pred, &rep->cand[best], rep->cand[best].pred)))
            best = i;
    }
    return best;
}

/* The quality setting that gives the candidate its budget, from its own
 * measurements (each encoder has its own scale): along the line through its
 * two points, or from the one point with the learned slope. */
double sh_solver_crf_at(const Search *s, const ShCandidate *c)
{
    int k = 0;
    if (c->nmeasures == 2) {
        double d = log2(c->bps[0] / c->bps[1]);
        if (fabs(d) >= 0.25 && fabs(c->crf[1] - c->crf[0]) >= 0.5) {
            double slope = av_clipd((c->crf[1] - c->crf[0]) / d, 2.5, 9);
            return av_clipd(c->crf[0] + slope * log2(c->bps[0] / c->video_bps), 1, 51);
        }
        if (fabs(log2(c->bps[1] / c->video_bps)) < fabs(log2(c->bps[0] / c->video_bps)))
            k = 1;
    }
    return av_clipd(c->crf[k] + sh_solver_crf_slope(s) * log2(c->bps[k] / c->video_bps), 1, 51);
}
