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
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
    /* CRF steps per halving of the rate: 6 in x264's mid range, but nearer
     * 3.5 at the high settings tiny budgets need; learned from the rungs
     * measured twice, so second guesses land nearer. */
    double slope_sum;
    int slope_n;
    double crf_mid;           /* mean setting measured so far */
    int speed;                /* ShSpeed */
    const ShEncoderDesc *refused; /* the last encoder whose limits ruled a rung out, logged */
} Search;

/*
 * --speed balanced (the default) admits encoders several times slower than
 * x264 medium, but a slower one has to earn its time: 0.25 dB of SSIM per
 * halving of the speed (x265 at 0.45 of x264's speed needs 0.29 dB,
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

static double crf_slope(const Search *s)
{
    /* The prior counts as one observation here too. */
    return av_clipd((s->slope_sum + SH_CRF_PER_OCTAVE) / (s->slope_n + 1), 2.5, 9);
}

static double crf_for(const Search *s, const ShRung *r, double bps)
{
    /* The prior counts as one observation, so one odd sample cannot throw it far.
     * a is kept on the prior's 6-per-octave scale; the learned slope is
     * applied around the learned point. */
    double a = (s->a_sum + SH_RATE_PRIOR_A) / (s->a_n + 1);
    double crf6 = SH_CRF_PER_OCTAVE * (a + log_rate_shape(r) - log2(bps));
    double mid = s->a_n ? s->crf_mid : crf6;
    return av_clipd(mid + (crf6 - mid) * crf_slope(s) / SH_CRF_PER_OCTAVE, 1, 51);
}

static void learn(Search *s, const ShRung *r, const ShMeasure *m)
{
    s->a_sum += log2(FFMAX(m->bps, 1)) + m->crf / SH_CRF_PER_OCTAVE - log_rate_shape(r);
    s->crf_mid = (s->crf_mid * s->a_n + m->crf) / (s->a_n + 1);
    s->a_n++;
}

/* Two points of one rung: CRF steps per halving of the rate between them. */
static void learn_slope(Search *s, const ShCandidate *c)
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

/* Octaves a prediction may reach above the highest measured rate: beyond
 * that the line is a guess. */
#define SH_PREDICT_MAX_UP 1.5
/* A setting this low is the encoder's best: a point there that is still
 * under the budget means the content cannot use more bits (a still frame). */
#define SH_CRF_SATURATED 1.5

/* Octaves to move a measurement made at setting crf towards the budget:
 * down freely; up at most SH_PREDICT_MAX_UP, and not at all from the
 * encoder's best setting. */
static double step_up(double d, double crf)
{
    if (d <= 0)
        return d;
    return crf <= SH_CRF_SATURATED ? 0 : FFMIN(d, SH_PREDICT_MAX_UP);
}

/*
 * Quality at the candidate's budget: between two points, the line through
 * them; outside, a line from the nearer point with their slope (or the
 * median slope of the search) that never falls with more bits, reaches at
 * most SH_PREDICT_MAX_UP octaves up, and stays flat above a point made at
 * the encoder's best setting.
 */
static void predict(ShCandidate *c, double ssim_slope, double psnr_slope)
{
    double t = log2(FFMAX(c->video_bps, 1)), x0, x1, dx;
    int lo = 0, hi = c->nmeasures - 1, at;
    if (c->nmeasures == 2 && c->bps[1] < c->bps[0])
        lo = 1, hi = 0;
    x0 = log2(FFMAX(c->bps[lo], 1));
    x1 = log2(FFMAX(c->bps[hi], 1));
    if (c->nmeasures == 2 && x1 - x0 > 0.25) {
        if (t >= x0 && t <= x1) {
            double w = (t - x0) / (x1 - x0);
            c->pred_ssim_db = c->ssim_db[lo] + w * (c->ssim_db[hi] - c->ssim_db[lo]);
            c->pred_psnr = c->psnr[lo] + w * (c->psnr[hi] - c->psnr[lo]);
            goto done;
        }
        ssim_slope = FFMAX((c->ssim_db[hi] - c->ssim_db[lo]) / (x1 - x0), 0);
        psnr_slope = FFMAX((c->psnr[hi] - c->psnr[lo]) / (x1 - x0), 0);
    }
    at = t > x1 ? hi : lo;
    dx = step_up(t - (t > x1 ? x1 : x0), c->crf[at]);
    if (c->nmeasures == 1 || !(x1 - x0 > 0.25)) {
        /* One point (or two at one rate): the nearer measure, the borrowed slope. */
        at = c->nmeasures == 2 && fabs(t - x1) < fabs(t - x0) ? hi : lo;
    }
    c->pred_ssim_db = c->ssim_db[at] + ssim_slope * dx;
    c->pred_psnr = c->psnr[at] + psnr_slope * dx;
done:
    c->pred_ssim_db = av_clipd(c->pred_ssim_db, 0, SH_QUALITY_DB_MAX);
    c->pred_psnr = av_clipd(c->pred_psnr, 0, SH_QUALITY_DB_MAX);
    c->pred_ssim = 1 - pow(10, -c->pred_ssim_db / 10);
}

/* One rung to measure: the worker fills c and m, touching nothing shared. */
typedef struct RungJob {
    const Search *s;
    const ShEncoderDesc *enc;
    ShRung rung;
    double crf;               /* the first encode's setting */
    double slope;             /* CRF steps per octave for the second guess */
    int final;                /* one encode with the final preset (calibration) */
    ShCandidate c;
    ShMeasure m[3];
    int nm;
    int ret;
} RungJob;

/* Octaves between a measured rate and the rung's budget. */
static double miss(const ShMeasure *m, double bps)
{
    return log2(FFMAX(m->bps, 1) / bps);
}

/*
 * Measure a rung once; twice when the first encode missed the budget by
 * more than 40% (a second point on the other side, so the prediction
 * interpolates rather than leans on a borrowed slope); three times when
 * both still miss by more than 30%: the rate's response to the setting
 * bends at high settings, and a line between points an order of magnitude
 * apart predicts the quality between them badly. The two points nearest the
 * budget are kept.
 */
static void run_rung_job(RungJob *jb)
{
    ShCandidate *c = &jb->c;
    const double want = c->video_bps;
    double crf = jb->crf;
    int keep[2] = { 0, 1 };

    if (jb->final) {
        if ((jb->ret = sh_measure_candidate(jb->s->sample, jb->enc, &jb->rung, crf, 0, &jb->m[0])) >= 0)
            jb->nm = 1;
        return;
    }

    for (int k = 0; k < 3; k++) {
        ShMeasure *m = &jb->m[k];
        double next;
        if ((jb->ret = sh_measure_candidate(jb->s->sample, jb->enc, &jb->rung, crf, 1, m)) < 0)
            return;
        jb->nm = k + 1;
        c->feasible = !(crf >= 51 && m->bps > want * 1.15);
        if (!c->feasible)
            break;
        if (k == 0) {
            if (fabs(miss(m, want)) < 0.5)
                break;
            next = m->crf + jb->slope * miss(m, want);
        } else {
            const ShMeasure *a = &jb->m[k - 1];
            double d = miss(m, want) - miss(a, want);
            if (k == 2 || fabs(miss(m, want)) < 0.38 || fabs(miss(a, want)) < 0.38)
                break;
            /* The secant through the last two points, in log rate. */
            if (fabs(d) < 0.05)
                break;
            next = m->crf + (m->crf - a->crf) / d * (0 - miss(m, want));
        }
        next = av_clipd(next, 1, 51);
        if (fabs(next - crf) < 0.5)
            break;
        crf = next;
    }
    if (jb->nm == 3) {
        /* The two nearest the budget, one on each side when there are. */
        int best = 0;
        for (int k = 1; k < 3; k++)
            if (fabs(miss(&jb->m[k], want)) < fabs(miss(&jb->m[best], want)))
                best = k;
        keep[0] = best;
        keep[1] = -1;
        for (int pass = 0; pass < 2 && keep[1] < 0; pass++)
            for (int k = 0; k < 3; k++) {
                int across = (miss(&jb->m[k], want) > 0) != (miss(&jb->m[best], want) > 0);
                if (k == best || (pass == 0 && !across))
                    continue;
                if (keep[1] < 0 || fabs(miss(&jb->m[k], want)) < fabs(miss(&jb->m[keep[1]], want)))
                    keep[1] = k;
            }
    }
    c->nmeasures = FFMIN(jb->nm, 2);
    for (int k = 0; k < c->nmeasures; k++) {
        const ShMeasure *m = &jb->m[keep[k]];
        c->crf[k] = m->crf;
        c->bps[k] = m->bps;
        c->ssim_db[k] = m->q.ssim_db;
        c->psnr[k] = m->q.psnr;
    }
}

typedef struct JobQueue {
    RungJob *jobs;
    int n, next;
    pthread_mutex_t lock;
} JobQueue;

static void *job_worker(void *arg)
{
    JobQueue *q = arg;
    for (;;) {
        int i;
        pthread_mutex_lock(&q->lock);
        i = q->next++;
        pthread_mutex_unlock(&q->lock);
        if (i >= q->n)
            return NULL;
        run_rung_job(&q->jobs[i]);
    }
}

/* Sample encodes run this many at a time at most: each holds an encoder. */
#define SH_SEARCH_THREADS 4
/* Above this many pixels a candidate's encoder is big enough (SVT-AV1 at
 * 1080p: hundreds of MB) that two at once could break the memory bound. */
#define SH_SEARCH_PARALLEL_MAX_PIXELS (1280 * 720)

/*
 * Run the jobs on up to one thread per core. The candidates of one step of
 * the search are independent, and a sample encode at a small picture keeps
 * one core of two busy at best (x264's threads have few rows to share).
 */
static void run_jobs(RungJob *jobs, int n)
{
    JobQueue q = { .jobs = jobs, .n = n };
    pthread_t th[SH_SEARCH_THREADS];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = (int)FFMIN(FFMIN(n, SH_SEARCH_THREADS), FFMAX(cores, 1)), started = 0;

    for (int i = 0; i < n; i++)
        if ((int64_t)jobs[i].rung.width * jobs[i].rung.height > SH_SEARCH_PARALLEL_MAX_PIXELS)
            workers = 1;
    if (workers > 1 && pthread_mutex_init(&q.lock, NULL))
        workers = 1;
    if (workers <= 1) {
        for (int i = 0; i < n; i++)
            run_rung_job(&jobs[i]);
        return;
    }
    /* A thread that cannot start leaves its share to the others. */
    for (int i = 1; i < workers; i++)
        if (!pthread_create(&th[started], NULL, job_worker, &q))
            started++;
    job_worker(&q);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_mutex_destroy(&q.lock);
}

static int same_rung(const ShEncoderDesc *a, const ShRung *ra, const ShEncoderDesc *b, const ShRung *rb)
{
    return a == b && ra->width == rb->width && ra->height == rb->height && !av_cmp_q(ra->fps, rb->fps);
}

static int find_candidate(const ShSolverReport *rep, const ShEncoderDesc *enc, const ShRung *r)
{
    for (int i = 0; i < rep->ncandidates; i++)
        if (same_rung(rep->cand[i].enc, &rep->cand[i].rung, enc, r))
            return i;
    return -1;
}

#define SH_SEARCH_BATCH 8

/*
 * Measure n rungs (each with its encoder) that are not measured yet, at
 * once. idx[i] is the candidate's index, or a negative error (ERANGE: the
 * encoder cannot make that picture, or the rate leaves it nothing).
 */
static void measure_rungs(Search *s, const ShEncoderDesc *const *encs, const ShRung *rungs, int n, int *idx)
{
    ShSolverReport *rep = s->rep;
    RungJob jobs[SH_SEARCH_BATCH];
    int job_of[SH_SEARCH_BATCH], nj = 0;

    for (int i = 0; i < n && i < SH_SEARCH_BATCH; i++) {
        const ShEncoderDesc *enc = encs[i];
        const ShRung *r = &rungs[i];
        RungJob *jb;
        job_of[i] = -1;
        if ((idx[i] = find_candidate(rep, enc, r)) >= 0)
            continue;
        for (int k = 0; k < nj && job_of[i] < 0; k++)
            if (same_rung(jobs[k].enc, &jobs[k].rung, enc, r))
                job_of[i] = k;
        if (job_of[i] >= 0)
            continue;
        {
            char why[128];
            if (!sh_encoder_takes(enc, r->width, r->height, r->fps, why, sizeof(why))) {
                /* Below its smallest picture is routine (small rungs); a rate
                 * it refuses is worth saying, once an encoder. */
                if (r->width >= enc->min_size && r->height >= enc->min_size && s->refused != enc) {
                    sh_log(SH_LOG_VERBOSE, s->info->path, "no %dx%d %.4g fps candidate for %s: %s",
                           r->width, r->height, av_q2d(r->fps), enc->name, why);
                    s->refused = enc;
                }
                idx[i] = AVERROR(ERANGE);
                continue;
            }
        }
        if (rep->ncandidates + nj >= SH_SOLVER_MAX_CANDIDATES) {
            idx[i] = AVERROR(ENOSPC);
            continue;
        }
        jb = &jobs[nj];
        memset(jb, 0, sizeof(*jb));
        jb->s = s;
        jb->enc = enc;
        jb->rung = *r;
        jb->c.enc = enc;
        jb->c.time_cost_db = time_cost_db(enc, s->speed);
        jb->c.rung = *r;
        jb->c.video_bps = sh_plan_video_bps(s->plan, av_q2d(r->fps));
        /* More than the encoder takes: it gets its largest, under the target. */
        if (enc->max_bitrate > 0 && jb->c.video_bps > enc->max_bitrate)
            jb->c.video_bps = (double)enc->max_bitrate;
        if (jb->c.video_bps <= 0) {
            idx[i] = AVERROR(ERANGE);
            continue;
        }
        jb->crf = crf_for(s, r, jb->c.video_bps);
        jb->slope = crf_slope(s);
        job_of[i] = nj++;
    }
    run_jobs(jobs, nj);
    /* Commit in order: the rate model learns as if they had run one by one. */
    for (int k = 0; k < nj; k++) {
        RungJob *jb = &jobs[k];
        int at = -1;
        rep->encodes += jb->nm;
        if (jb->enc == s->enc) {
            for (int m = 0; m < jb->nm; m++)
                learn(s, &jb->rung, &jb->m[m]);
            learn_slope(s, &jb->c);
        }
        if (jb->ret >= 0 && jb->c.nmeasures) {
            at = rep->ncandidates++;
            rep->cand[at] = jb->c;
        }
        for (int i = 0; i < n && i < SH_SEARCH_BATCH; i++)
            if (job_of[i] == k)
                idx[i] = at >= 0 ? at : jb->ret;
    }
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
        r[i] = rung_at(s->info, heights[hr[i][0]], rates[hr[i][1]]);
    }
    measure_rungs(s, encs, r, n, idx);
    best_candidate(s->rep);   /* refreshes every prediction */
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 && idx[i] != AVERROR(ERANGE) && !*err)
            *err = idx[i];
        q[i] = idx[i] >= 0 && s->rep->cand[idx[i]].feasible ? s->rep->cand[idx[i]].pred_ssim_db : -INFINITY;
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
    /* The search measures: the source's own rate (60 fps too) is a candidate. */
    nr = sh_plan_rates(info, opt, SH_SOLVER_MIN_FPS, 1000, rates, 64);
    if (!nh || !nr)
        return AVERROR(EINVAL);
    bh = nearest_height(heights, nh, s->plan->display_height);
    br = nearest_rate(rates, nr, av_q2d(s->plan->fps));
    {
        /* The prior's rung, and the source's own size beside it: always tried. */
        int hr[2][2] = { { bh, br }, { 0, br } };
        double q[2];
        try_rungs(s, heights, rates, (const int (*)[2])hr, bh > 0 ? 2 : 1, q, &err);
        best = q[0];
        /* Bits to spare at the source's own picture and rate: a smaller or
         * choppier picture cannot win, so spend no encodes looking. */
        if (bh == 0 && br == 0 && s->plan->bpp >= SH_SEARCH_ENOUGH_BPP)
            return err;
        if (bh > 0 && q[1] > best)
            best = q[1], bh = 0;
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

/* The quality setting that gives the candidate its budget, from its own
 * measurements (each encoder has its own scale): along the line through its
 * two points, or from the one point with the learned slope. */
static double crf_at(const Search *s, const ShCandidate *c)
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
    return av_clipd(c->crf[k] + crf_slope(s) * log2(c->bps[k] / c->video_bps), 1, 51);
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
    {
        const ShEncoderDesc *encs[SH_SEARCH_BATCH] = { 0 };
        ShRung r[SH_SEARCH_BATCH] = { 0 };
        int idx[SH_SEARCH_BATCH], n = 0;
        for (const ShEncoderDesc *d = sh_encoder_next(NULL); d && n + 2 <= SH_SEARCH_BATCH; d = sh_encoder_next(d)) {
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
        }
        measure_rungs(s, encs, r, n, idx);
        for (int i = 0; i < n && !err; i++)
            if (idx[i] < 0 && idx[i] != AVERROR(ERANGE))
                err = idx[i];
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
    double ss, ps, t0 = now(), score = -INFINITY;

    slopes(rep, &ss, &ps);
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
        } else if (c->pred_ssim_db <= rep->cand[cand_of[k]].pred_ssim_db) {
            continue;
        }
        memset(&jobs[k], 0, sizeof(jobs[k]));
        jobs[k].s = s;
        jobs[k].enc = c->enc;
        jobs[k].rung = c->rung;
        jobs[k].c = *c;
        jobs[k].crf = crf_at(s, c);
        jobs[k].final = 1;
        cand_of[k] = i;
    }
    run_jobs(jobs, nj);
    for (int k = 0; k < nj; k++) {
        ShCandidate *c = &rep->cand[cand_of[k]];
        const ShMeasure *m = &jobs[k].m[0];
        double d, q;
        rep->encodes += jobs[k].nm;
        if (jobs[k].ret < 0) {
            if (jobs[k].ret == AVERROR(ENOMEM) || jobs[k].ret == SH_ERROR_INTERRUPTED)
                return jobs[k].ret;
            continue;   /* that encoder keeps its quick-preset prediction, uncalibrated */
        }
        d = step_up(log2(c->video_bps / m->bps), m->crf);
        c->calibrated = 1;
        c->cal_ssim_db = av_clipd(m->q.ssim_db + ss * d, 0, SH_QUALITY_DB_MAX);
        c->cal_psnr = av_clipd(m->q.psnr + ps * d, 0, SH_QUALITY_DB_MAX);
        q = c->cal_ssim_db - c->time_cost_db;
        if (q > score)
            score = q, pick = cand_of[k];
    }
    if (pick >= 0)
        *best = pick;
    rep->calibration_seconds = now() - t0;
    return 0;
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
    rep->sampling_seconds = now() - t0;
    if (ret < 0)
        goto done_err;
    rep->searched = 1;
    sample->interrupted = opt->interrupted;
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
    if (best >= 0 && (ret = calibrate(&s, &best)) < 0)
        goto done_err;
    if (best >= 0) {
        ShCandidate *c = &rep->cand[best];
        int swap = info->rotation == 90 || info->rotation == 270;
        rep->chosen = best;
        plan->venc = c->enc;
        plan->width = c->rung.width;
        plan->height = c->rung.height;
        plan->display_height = swap ? c->rung.width : c->rung.height;
        plan->fps = c->rung.fps;
        plan->video_bitrate = (int64_t)c->video_bps;
        plan->bpp = c->video_bps / ((double)c->rung.width * c->rung.height * av_q2d(c->rung.fps));
        if (c->calibrated) {
            rep->predicted_psnr = c->cal_psnr;
            rep->predicted_ssim = 1 - pow(10, -c->cal_ssim_db / 10);
        } else {
            rep->predicted_ssim = c->pred_ssim;
            rep->predicted_psnr = c->pred_psnr;
        }
    }
done:
    ret = 0;
done_err:
    if (ret < 0 && ret != AVERROR(ENOMEM) && ret != SH_ERROR_INTERRUPTED) {
        /* A search that fails (odd input, no seeking) leaves the rule's plan. */
        sh_log(SH_LOG_VERBOSE, path, "search failed (%s); using the rule", av_err2str(ret));
        ret = 0;
    }
    rep->seconds = now() - t0;
    sh_sample_free(&sample);
    return ret;
}
