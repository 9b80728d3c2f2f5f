/*
 * Faces in the job: the solver decided on the samples whether regions win
 * (solver/roi.c); when they do, the decode pass looks for faces on the film
 * itself (faces/track.c) and every frame sent to the encoder, in pass 1 and
 * pass 2 alike, carries the regions on at its time.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "faces/detect.h"
#include "faces/track.h"
#include "job/state.h"

/* Once a second of film, fewer on long ones (at most this many looks, 64 ms
 * each on this machine kind), and never more than SH_JOB_FACE_SHARE of the
 * job's time: a small picture's encode is quicker than the looks at
 * its source (a ten-minute 240x240 talking head in x264: 27 s of looks in a
 * job of 85 s before the bound). */
#define SH_JOB_FACE_INTERVAL 1.0
#define SH_JOB_FACE_MAX_LOOKS 900
#define SH_JOB_FACE_SHARE 0.06
/* ... of the job's time so far, after the first few looks: a short clip's
 * job is over before a second of looks. */
#define SH_JOB_FACE_MIN_LOOKS 3

int sh_job_faces_open(Job *j)
{
    double interval;
    int ret;
    j->roi_strength = 0;
    if (!(j->plan.roi_strength > 0) || !j->plan.venc || !(j->plan.venc->caps & SH_ENC_CAP_ROI))
        return 0;
    interval = FFMAX(SH_JOB_FACE_INTERVAL, j->info->duration / SH_JOB_FACE_MAX_LOOKS);
    if ((ret = sh_face_track_open(&j->faces, j->info->video_tb, interval, j->info->rotation)) < 0) {
        /* The samples' detector ran: this one should too. Without it, no regions. */
        if (ret == AVERROR(ENOMEM))
            return ret;
        snprintf(j->search.roi_reason, sizeof(j->search.roi_reason), "off: the face detector did not start");
        return 0;
    }
    sh_face_track_set_budget(j->faces, SH_JOB_FACE_SHARE, j->t0, SH_JOB_FACE_MIN_LOOKS);
    j->roi_strength = j->plan.roi_strength;
    return 0;
}

int sh_job_faces_frame(Job *j, const AVFrame *decoded)
{
    int ret;
    if (!j->faces || !decoded)
        return 0;
    if ((ret = sh_face_track_frame(j->faces, decoded, 0)) < 0) {
        if (ret == AVERROR(ENOMEM))
            return ret;
        /* A detector's failure costs the regions, not the film. */
        sh_log(SH_LOG_WARNING, j->input, "face detection failed (%s): the output has no regions", av_err2str(ret));
        snprintf(j->search.roi_reason, sizeof(j->search.roi_reason), "off: face detection failed");
        sh_face_track_free(&j->faces);
        j->roi_strength = 0;
    }
    return 0;
}

int sh_job_faces_attach(const Job *j, AVFrame *f)
{
    ShFaceRegion r[SH_FACES_MAX];
    if (!j->faces || !(j->roi_strength > 0))
        return 0;
    return sh_face_regions_attach(f, r, sh_face_track_at(j->faces, f->pts, r, SH_FACES_MAX), j->roi_strength);
}

void sh_job_faces_result(const Job *j, ShJobResult *r)
{
    const ShSolverReport *sr = &j->search;
    static const char *const modes[] = { "auto", "faces", "off" };
    r->roi_mode = modes[j->opt->roi >= SH_ROI_AUTO && j->opt->roi <= SH_ROI_OFF ? j->opt->roi : 0];
    /* GIF's fitter looks on its decode pass and weighs the faces in the
     * palettes (gif/faces.c): its looks, its reason, strength 1 - outside/255. */
    int palette = j->plan.venc && (j->plan.venc->caps & SH_ENC_CAP_PALETTE);
    r->roi_looks = sr->roi_looks;
    r->roi_faces = r->roi_looks >= 0 ? sr->roi_faces : -1;
    r->roi_share = sr->roi_share;
    r->roi_detect_seconds = sr->roi_seconds;
    r->roi_strength = j->faces ? j->roi_strength : j->opt->plan_only || palette ? j->plan.roi_strength : 0;
    for (int i = 0; i < 2; i++) {
        r->roi_face_db[i] = sr->roi_face_db[i];
        r->roi_score_db[i] = sr->roi_score_db[i];
    }
    if (j->faces) {
        const ShFaceTrackStats *st = sh_face_track_stats(j->faces);
        r->roi_detect_seconds += st->seconds;
        if (sr->roi_looks < 0) {
            /* Nothing looked at the samples: what the film's own looks found. */
            r->roi_looks = st->looks;
            r->roi_faces = st->looks_with_faces;
            r->roi_share = st->looks_with_faces ? st->share_sum / st->looks_with_faces : 0;
        }
    }
    if (sr->roi_reason[0])
        snprintf(r->roi_reason, sizeof(r->roi_reason), "%s", sr->roi_reason);
    else if (j->opt->roi == SH_ROI_OFF)
        snprintf(r->roi_reason, sizeof(r->roi_reason), "off (--roi off)");
    else if (!sh_faces_detector_name())
        snprintf(r->roi_reason, sizeof(r->roi_reason), "off: this build has no face detector");
    else if (!sr->searched)
        snprintf(r->roi_reason, sizeof(r->roi_reason), "off: no samples were measured (the rule alone)");
    else
        snprintf(r->roi_reason, sizeof(r->roi_reason), "off");
}

const char *sh_faces_detector(void)
{
    return sh_faces_detector_name();
}
