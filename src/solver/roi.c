/*
 * Faces and the bits: the sample's faces found, every measurement scored
 * inside them too (measure.c), and the regions turned on where that wins.
 *
 * A viewer looks at faces first and forgives a soft wall sooner than a soft
 * face, so the choice weighs the quality inside the faces beside the whole
 * picture's: each calibrated candidate's score, plus SH_ROI_FACE_WEIGHT of
 * its face SSIM (dB) over the best candidate's, ranked, among the options
 * whose whole-picture score stays within SH_ROI_MAX_LOSS_DB of the best's
 * (the background still counts: a face sharp in a smear is no better film).
 * The options are every calibrated candidate as it is and, for encoders that
 * take regions (SH_ENC_CAP_ROI), with them at each of SH_ROI_STRENGTHS,
 * measured on the sample at the budget like calibration itself: no
 * prediction of what regions do, a measurement of it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/common.h>

#include "common/clock.h"
#include "common/log.h"
#include "faces/detect.h"
#include "faces/track.h"
#include "solver/roi.h"

/* The sample is looked at where its segments start (cuts: another place in
 * the film), as many as the looks' time allows: at most SH_ROI_SAMPLE_SHARE
 * of the time the samples took to decode, at least SH_ROI_SAMPLE_MIN looks,
 * a second look a second into a segment when there is time for it. A look
 * costs 30-70 ms here (faces/track.c); a small clip's whole job can be 3 s
 * (tree_cinepak at 100 kb/s: 14 looks once a second were 15% of it). */
#define SH_ROI_SAMPLE_SHARE 0.25
#define SH_ROI_SAMPLE_MIN 3
#define SH_ROI_SAMPLE_MAX 24
/* How much the faces count beside the whole picture's score. */
#define SH_ROI_FACE_WEIGHT 0.5
/* The whole picture may lose at most this much (score dB) for the faces. */
#define SH_ROI_MAX_LOSS_DB 0.2
/* The most regions gave the whole picture's score at the same size on the
 * shared clips (+0.30 dB, x264 on liveportrait): a candidate further behind
 * the best than that and the loss allowed cannot catch up, and its four
 * sample encodes with regions are not run. */
#define SH_ROI_MAX_WHOLE_GAIN_DB 0.4
/* Quality offsets tried (libavcodec's scale: x 51 quantiser steps in x264
 * and x265, so about -6 and -3 QP inside the faces): on the shared clips the
 * stronger one gains 1.4 dB in the faces for 0.14 dB of the whole picture
 * with x264, the weaker half of both; x265 pays more (docs/FACES.md). */
static const double roi_strengths[] = { 0.12, 0.06 };
#define NSTRENGTHS ((int)FF_ARRAY_ELEMS(roi_strengths))

int sh_solver_find_faces(ShSample *s, const ShInputInfo *info, const ShSolverOptions *opt, ShSolverReport *rep)
{
    ShFaceTrack *t = NULL;
    AVFrame *f = av_frame_alloc();
    const ShFaceTrackStats *st;
    uint8_t chosen[FF_ARRAY_ELEMS(s->seg_start)];
    int ret, planned = 0;

    rep->roi_looks = -1;
    if (!f)
        return AVERROR(ENOMEM);
    memset(chosen, 0, sizeof(chosen));
    chosen[0] = 1;
    if (opt->roi == SH_ROI_OFF) {
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "off (--roi off)");
        ret = 0;
        goto end;
    }
    /* Looks are asked for frame by frame below (the interval never comes due). */
    if ((ret = sh_face_track_open(&t, s->time_base, 1e9, info->rotation)) < 0) {
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), ret == AVERROR(ENOSYS) ?
                 "off: this build has no face detector" : "off: the face detector did not start");
        ret = ret == AVERROR(ENOMEM) ? ret : 0;
        goto end;
    }
    for (int64_t i = 0, seg = 0, next = INT64_MAX;; i++) {
        int look = 0;
        if (s->interrupted && s->interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        if ((ret = sh_frame_cache_read(s->master, i, f)) == AVERROR_EOF)
            break;
        if (ret < 0)
            goto end;
        /* The first frame counted in a segment: a look, or no faces until one. */
        while (seg < s->segments && f->pts >= s->seg_measure[seg]) {
            look = chosen[seg] > 0;
            if (!look && (ret = sh_face_track_clear(t, f->pts)) < 0)
                goto end;
            next = chosen[seg] > 1 ? s->seg_measure[seg] + (s->seg_end[seg] - s->seg_measure[seg]) / chosen[seg]
                                   : INT64_MAX;
            seg++;
        }
        if (!look && seg >= 1 && chosen[seg - 1] > 1 && f->pts >= next) {
            /* The segment's other looks, evenly through it. */
            look = 1;
            next += (s->seg_end[seg - 1] - s->seg_measure[seg - 1]) / chosen[seg - 1];
        }
        if (look && (ret = sh_face_track_frame(t, f, 1)) < 0)
            goto end;
        av_frame_unref(f);
        if (look && !planned) {
            /* The first look's cost says how many there is time for: one at
             * each segment's start as far as they go (spread over the film),
             * then more inside each, evenly. */
            const ShFaceTrackStats *s0 = sh_face_track_stats(t);
            int n = s->segments, allowed = s0->seconds > 0 ?
                (int)(SH_ROI_SAMPLE_SHARE * rep->sampling_seconds / s0->seconds) : SH_ROI_SAMPLE_MAX;
            allowed = av_clip(allowed, SH_ROI_SAMPLE_MIN, SH_ROI_SAMPLE_MAX);
            memset(chosen, 0, sizeof(chosen));
            for (int k = 0; k < FFMIN(allowed, n); k++)
                chosen[FFMIN(allowed, n) > 1 ? (int)lrint((double)k * (n - 1) / (FFMIN(allowed, n) - 1)) : 0] = 1;
            for (int k = 0; allowed > n && k < allowed - n; k++)
                chosen[k % n]++;
            planned = 1;
            /* This segment's own further looks. */
            if (seg >= 1 && chosen[seg - 1] > 1)
                next = s->seg_measure[seg - 1] + (s->seg_end[seg - 1] - s->seg_measure[seg - 1]) / chosen[seg - 1];
        }
    }
    st = sh_face_track_stats(t);
    rep->roi_looks = st->looks;
    rep->roi_faces = st->looks_with_faces;
    rep->roi_share = st->looks_with_faces ? st->share_sum / st->looks_with_faces : 0;
    rep->roi_seconds = st->seconds;
    if (!st->looks_with_faces)
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "off: no face in %d looks at the samples", st->looks);
    else {
        s->faces = t;
        t = NULL;
    }
    ret = 0;
end:
    if (ret < 0 && ret != AVERROR(ENOMEM) && ret != SH_ERROR_INTERRUPTED) {
        sh_log(SH_LOG_VERBOSE, NULL, "faces: the detector failed (%s); regions off", av_err2str(ret));
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "off: the face detector failed");
        ret = 0;
    }
    sh_face_track_free(&t);
    av_frame_free(&f);
    return ret;
}

double sh_solver_face_at_budget(const ShCandidate *c, const ShMeasure *m, const double slope[SH_Q_N])
{
    double d;
    if (!m->face_frames)
        return 0;
    d = sh_solver_step_up(log2(c->video_bps / FFMAX(m->bps, 1)), m->crf);
    return av_clipd(m->face.ssim_db + slope[SH_Q_SSIM] * d, 0.01, SH_QUALITY_DB_MAX);
}

typedef struct Option {
    int cand;
    double strength;          /* 0: as it is */
    double q[SH_Q_N];         /* the whole picture at the budget */
    double face;              /* face SSIM dB at the budget */
} Option;

/*
 * Two measurements of a candidate with regions, at settings either side of
 * its budget (or near it), to its budget: a line in log rate through both,
 * each measure alike. Regions at a constant setting make a bigger file (the
 * faces got better and nothing paid for them); what they are worth is what
 * they do at the same size, where the background pays: measured there, not
 * moved there along a slope made without them.
 */
static void at_budget_two(const ShCandidate *c, const ShMeasure *m, const double slope[SH_Q_N], Option *o)
{
    double qa[SH_Q_N], qb[SH_Q_N], xa = log2(FFMAX(m[0].bps, 1)), xb = log2(FFMAX(m[1].bps, 1));
    double t = log2(FFMAX(c->video_bps, 1)), u;
    if (fabs(xb - xa) < 0.05) {
        /* As good as one point: the nearer one, moved along the slopes. */
        const ShMeasure *n = fabs(xa - t) < fabs(xb - t) ? &m[0] : &m[1];
        sh_solver_at_budget(c, n, slope, o->q);
        o->face = sh_solver_face_at_budget(c, n, slope);
        return;
    }
    /* Not further than a third of an octave past the points: beyond, the line is a guess. */
    u = av_clipd((t - xa) / (xb - xa), -0.33 / fabs(xb - xa), 1 + 0.33 / fabs(xb - xa));
    sh_solver_measure_q(&m[0], qa);
    sh_solver_measure_q(&m[1], qb);
    for (int i = 0; i < SH_Q_N; i++)
        o->q[i] = av_clipd(qa[i] + u * (qb[i] - qa[i]), 0, SH_QUALITY_DB_MAX);
    o->face = av_clipd(m[0].face.ssim_db + u * (m[1].face.ssim_db - m[0].face.ssim_db), 0.01, SH_QUALITY_DB_MAX);
}

int sh_solver_choose_roi(Search *s, const ShSolverOptions *opt, int *best)
{
    ShSolverReport *rep = s->rep;
    RungJob jobs[2][SH_SEARCH_BATCH];
    int job_cand[SH_SEARCH_BATCH], nj = 0, nopt = 0, pick = -1, forced = opt->roi == SH_ROI_FACES;
    Option opts[SH_SOLVER_MAX_CANDIDATES + SH_SEARCH_BATCH];
    double slope[SH_Q_N], t0 = sh_now(), ref_rank, ref_face, wbest = -INFINITY, crf_slope = sh_solver_crf_slope(s);
    const ShCandidate *b = &rep->cand[*best];

    if (!s->sample->faces)
        return 0;
    if (!b->calibrated || !(b->face_db[0] > 0)) {
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "off: the faces could not be scored on the samples");
        return 0;
    }
    sh_solver_slopes(rep, slope);
    /* Each calibrated encoder that takes regions, at each strength: first at
     * the setting that gives the budget without them, ... */
    ref_rank = sh_solver_rank(b, b->cal);
    for (int i = 0; i < rep->ncandidates; i++) {
        const ShCandidate *c = &rep->cand[i];
        if (!c->calibrated || !(c->enc->caps & SH_ENC_CAP_ROI) ||
            (!forced && sh_solver_rank(c, c->cal) < ref_rank - SH_ROI_MAX_LOSS_DB - SH_ROI_MAX_WHOLE_GAIN_DB))
            continue;
        for (int k = 0; k < NSTRENGTHS && nj < SH_SEARCH_BATCH; k++) {
            sh_solver_final_job(&jobs[0][nj], s, c, 0, 0);
            jobs[0][nj].roi = roi_strengths[k];
            job_cand[nj++] = i;
        }
    }
    if (!nj) {
        int any = 0;
        for (int i = 0; i < rep->ncandidates; i++)
            any |= rep->cand[i].calibrated && (rep->cand[i].enc->caps & SH_ENC_CAP_ROI);
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), any ?
                 "off: the encoders that take regions (x264, x265) are too far behind here to catch up with them" :
                 "off: no encoder here takes regions (x264 and x265 do)");
        return 0;
    }
    sh_solver_run_jobs(jobs[0], nj);
    /* ... then at the setting that should bring the bigger file back to it. */
    for (int k = 0; k < nj; k++) {
        const ShCandidate *c = &rep->cand[job_cand[k]];
        rep->encodes += jobs[0][k].nm;
        if (jobs[0][k].ret == AVERROR(ENOMEM) || jobs[0][k].ret == SH_ERROR_INTERRUPTED)
            return jobs[0][k].ret;
        jobs[1][k] = jobs[0][k];
        if (jobs[0][k].ret >= 0)
            jobs[1][k].crf = av_clipd(jobs[0][k].crf + crf_slope * log2(jobs[0][k].m[0].bps / FFMAX(c->video_bps, 1)),
                                      0, 51);
    }
    sh_solver_run_jobs(jobs[1], nj);
    for (int i = 0; i < rep->ncandidates; i++) {
        const ShCandidate *c = &rep->cand[i];
        if (c->calibrated && c->face_db[0] > 0) {
            opts[nopt] = (Option){ .cand = i, .face = c->face_db[0] };
            memcpy(opts[nopt++].q, c->cal, sizeof(c->cal));
        }
    }
    for (int k = 0; k < nj; k++) {
        const ShCandidate *c = &rep->cand[job_cand[k]];
        ShMeasure m[2];
        rep->encodes += jobs[1][k].nm;
        if (jobs[1][k].ret == AVERROR(ENOMEM) || jobs[1][k].ret == SH_ERROR_INTERRUPTED)
            return jobs[1][k].ret;
        if (jobs[0][k].ret < 0 || jobs[1][k].ret < 0 || !jobs[0][k].m[0].face_frames || !jobs[1][k].m[0].face_frames)
            continue;
        m[0] = jobs[0][k].m[0];
        m[1] = jobs[1][k].m[0];
        opts[nopt] = (Option){ .cand = job_cand[k], .strength = jobs[0][k].roi };
        at_budget_two(c, m, slope, &opts[nopt++]);
        sh_log(SH_LOG_VERBOSE, NULL, "faces: %s %dx%d regions at %.2f: %.0f and %.0f b/s for %.0f; face %.2f dB "
               "(without %.2f), score %.2f dB (without %.2f)", c->enc->name, c->rung.width, c->rung.height,
               jobs[0][k].roi, m[0].bps, m[1].bps, c->video_bps, opts[nopt - 1].face, c->face_db[0],
               opts[nopt - 1].q[SH_Q_SCORE], c->cal[SH_Q_SCORE]);
    }
    ref_face = b->face_db[0];
    for (int i = 0; i < nopt; i++) {
        const Option *o = &opts[i];
        double rank = sh_solver_rank(&rep->cand[o->cand], o->q);
        double w = rank + SH_ROI_FACE_WEIGHT * (o->face - ref_face);
        if (forced ? o->strength <= 0 : rank < ref_rank - SH_ROI_MAX_LOSS_DB)
            continue;
        if (w > wbest + 1e-9) {
            wbest = w;
            pick = i;
        }
    }
    rep->roi_face_db[0] = ref_face;
    rep->roi_score_db[0] = b->cal[SH_Q_SCORE];
    if (pick < 0 || opts[pick].strength <= 0) {
        if (pick >= 0 && opts[pick].cand != *best)
            *best = opts[pick].cand;
        snprintf(rep->roi_reason, sizeof(rep->roi_reason),
                 "off: regions did not win on the samples (faces weighed with the whole picture)");
    } else {
        const Option *o = &opts[pick];
        ShCandidate *c = &rep->cand[o->cand];
        memcpy(c->roi_cal, o->q, sizeof(c->roi_cal));
        c->roi_strength = o->strength;
        c->face_db[1] = o->face;
        *best = o->cand;
        rep->roi_face_db[1] = o->face;
        rep->roi_score_db[1] = o->q[SH_Q_SCORE];
        snprintf(rep->roi_reason, sizeof(rep->roi_reason), "on: %+.2f dB in the faces, %+.2f dB the whole picture%s",
                 o->face - ref_face, o->q[SH_Q_SCORE] - b->cal[SH_Q_SCORE], forced ? " (--roi faces)" : "");
    }
    rep->calibration_seconds += sh_now() - t0;
    return 0;
}
