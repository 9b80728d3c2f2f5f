/*
 * Measuring rungs: each rung's sample encodes (one to three, to bracket its
 * budget) run as a job; the jobs of one step of the search run on threads,
 * and their results are committed in order.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "solver/search.h"

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
        if ((jb->ret = sh_measure_candidate(jb->s->sample, jb->enc, &jb->rung, crf, jb->quick, jb->roi, &jb->m[0])) >= 0)
            jb->nm = 1;
        return;
    }

    for (int k = 0; k < 3; k++) {
        ShMeasure *m = &jb->m[k];
        double next;
        if ((jb->ret = sh_measure_candidate(jb->s->sample, jb->enc, &jb->rung, crf, 1, 0, m)) < 0)
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
        sh_solver_measure_q(m, c->q[k]);
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

void sh_solver_final_job(RungJob *jb, const Search *s, const ShCandidate *c, int quick, int timed)
{
    memset(jb, 0, sizeof(*jb));
    jb->s = s;
    jb->enc = c->enc;
    jb->rung = c->rung;
    jb->c = *c;
    jb->crf = sh_solver_crf_at(s, c);
    jb->final = 1;
    jb->quick = quick;
    jb->timed = timed;
}

/* Sample encodes run this many at a time at most: each holds an encoder. */
#define SH_SEARCH_THREADS 4
/* Above this many pixels a candidate's encoder is big enough (SVT-AV1 at
 * 1080p: hundreds of MB) that two at once could break the memory bound.
 * Measured peaks (whole job, --codec auto, 500 KB, 720p sources): two at
 * once at 1280x720 and 1150x720 were 667-718 MiB, at 1066x600 574 MiB, at
 * 854x480 481 MiB; one at a time 344-505 MiB at 854x480 to 1280x720, the
 * job's wall time 0 to 8% longer (x264, x265 and SVT-AV1 fill both cores on
 * their own above 480 lines). */
#define SH_SEARCH_PARALLEL_MAX_PIXELS (640 * 480)

/*
 * Run the jobs on up to one thread per core. The candidates of one step of
 * the search are independent, and a sample encode at a small picture keeps
 * one core of two busy at best (x264's threads have few rows to share).
 */
void sh_solver_run_jobs(RungJob *jobs, int n)
{
    JobQueue q = { .jobs = jobs, .n = n };
    pthread_t th[SH_SEARCH_THREADS];
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = (int)FFMIN(FFMIN(n, SH_SEARCH_THREADS), FFMAX(cores, 1)), started = 0;

    for (int i = 0; i < n; i++)
        if ((int64_t)jobs[i].rung.width * jobs[i].rung.height > SH_SEARCH_PARALLEL_MAX_PIXELS || jobs[i].timed)
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

/*
 * Measure n rungs (each with its encoder) that are not measured yet, at
 * once. idx[i] is the candidate's index, or a negative error (ERANGE: the
 * encoder cannot make that picture, or the rate leaves it nothing).
 */
void sh_solver_measure_rungs(Search *s, const ShEncoderDesc *const *encs, const ShRung *rungs, int n, int *idx)
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
        jb->c.time_cost_db = sh_solver_time_cost_db(enc, s->speed);
        jb->c.rung = *r;
        jb->c.video_bps = sh_plan_video_bps(s->plan, av_q2d(r->fps));
        /* More than the encoder takes: it gets its largest, under the target. */
        if (enc->max_bitrate > 0 && jb->c.video_bps > enc->max_bitrate)
            jb->c.video_bps = (double)enc->max_bitrate;
        if (jb->c.video_bps <= 0) {
            idx[i] = AVERROR(ERANGE);
            continue;
        }
        jb->crf = sh_solver_crf_for(s, r, jb->c.video_bps);
        jb->slope = sh_solver_crf_slope(s);
        job_of[i] = nj++;
    }
    sh_solver_run_jobs(jobs, nj);
    /* Commit in order: the rate model learns as if they had run one by one. */
    for (int k = 0; k < nj; k++) {
        RungJob *jb = &jobs[k];
        int at = -1;
        rep->encodes += jb->nm;
        if (jb->enc == s->enc) {
            for (int m = 0; m < jb->nm; m++)
                sh_solver_learn(s, &jb->rung, &jb->m[m]);
            sh_solver_learn_slope(s, &jb->c);
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
