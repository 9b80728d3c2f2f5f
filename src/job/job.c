/*
 * One job: one input -> one verified output no larger than the target.
 *
 *   decode once --> fps --> scale --> frame cache --> x264 pass 1
 *               \-> resample --> Opus --> audio packets (kept)
 *   frame cache --> x264 pass 2 --+--> MP4 (temp file) --> verify --> rename
 *   audio packets ----------------/
 *
 * Pass 2 is repeated with a corrected bitrate while the file is over the
 * target or wastes more than the accepted margin; the audio is encoded once
 * and its exact size is known before the first pass 2.
 *
 * This file is the top level: plan (plan.c), then encode (analyse.c,
 * target.c, attempt.c), and the result; state.h lists the rooms.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/temp.h"
#include "encoders/encoder.h"
#include "faces/track.h"
#include "job/job.h"
#include "job/long.h"
#include "job/rateloop.h"
#include "job/report.h"
#include "job/state.h"
#include "output/mux.h"
#include "shrink/shrink.h"
#include "solver/palette.h"
#include "stages/stage.h"

static volatile sig_atomic_t job_interrupted;

void sh_job_interrupt(void)
{
    job_interrupted = 1;
}

int sh_job_interrupted(void)
{
    return job_interrupted;
}

int sh_job_check_interrupt(void)
{
    return job_interrupted ? SH_ERROR_INTERRUPTED : 0;
}

/* Tell the caller how far the job is, ten times a second at most (and at
 * each new stage): the callback may draw on a terminal and must not slow
 * the frame loops. */
void sh_job_progress(Job *j, const char *stage, double fraction, int64_t bytes)
{
    ShProgress p;
    double now;
    if (!j->opt->progress)
        return;
    now = sh_now();
    if (now - j->progress_last < 0.1 && j->progress_stage && !strcmp(stage, j->progress_stage))
        return;
    j->progress_last = now;
    j->progress_stage = stage;
    p.stage = stage;
    p.fraction = isfinite(fraction) ? av_clipd(fraction, 0, 1) : 0;
    p.bytes = bytes;
    p.target_bytes = j->opt->target_bytes;
    p.elapsed = now - j->t0;
    j->opt->progress(j->opt->progress_opaque, &p);
}

/*
 * Encoders that make their output themselves from the opened input, for the
 * job's container: SH_ENC_CAP_WHOLE_FILM (the learned codec, neural.c) and
 * SH_ENC_CAP_PALETTE (GIF: its size is not a bitrate; the solver's palette
 * fit chooses and encodes, leaving one temporary file). Checking the file
 * and putting it in place are the job's, as for any output. The first video
 * encoder with cap that writes the container and --codec allows, or NULL.
 */
static const ShEncoderDesc *find_own_encoder(const Job *j, unsigned cap)
{
    for (const ShEncoderDesc *d = sh_encoder_next(NULL); d; d = sh_encoder_next(d))
        if ((d->caps & cap) && d->type == AVMEDIA_TYPE_VIDEO && sh_encoder_supports_container(d, j->format->muxer) &&
            (!j->opt->codec || !strcmp(j->opt->codec, "auto") || !strcmp(j->opt->codec, d->name)))
            return d;   /* (another --codec goes on to the solver, which says it cannot) */
    return NULL;
}

static int run_palette_fit(Job *j, const ShEncoderDesc *d, Attempt *best, ShPhase *phase)
{
    ShPaletteJob fc = { .input = j->input, .in = j->in, .info = j->info, .opt = j->opt,
                        .output = j->output, .target_bytes = j->opt->target_bytes,
                        .interrupted = sh_job_interrupted };
    int ret = sh_palette_fit(d, &fc);
    j->plan.venc = d;
    j->plan.target_bytes = fc.target_bytes;
    j->final_rung = (ShRung){ fc.width, fc.height, fc.fps };
    j->duration = fc.duration;
    j->output_failed = fc.output_failed;
    j->res->attempts = fc.attempts;
    j->res->min_bytes = fc.min_bytes;
    j->search.searched = fc.sample_encodes > 0;
    j->search.encodes = fc.sample_encodes;
    j->search.sample_seconds = fc.sample_seconds;
    j->search.eval_width = fc.eval_width;
    j->search.eval_height = fc.eval_height;
    j->search.predicted_ssim = fc.predicted_ssim;
    /* faces weighed in the palettes (gif/faces.c): the JSON's roi */
    j->search.roi_looks = fc.roi_looks;
    j->search.roi_faces = fc.roi_faces;
    j->search.roi_share = fc.roi_share;
    j->search.roi_seconds = fc.roi_seconds;
    j->plan.roi_strength = fc.roi_outside > 0 ? 1 - fc.roi_outside / 255.0 : 0;
    snprintf(j->search.roi_reason, sizeof(j->search.roi_reason), "%s", fc.roi_reason);
    if (ret < 0 || j->opt->plan_only)
        return ret;
    snprintf(best->path, sizeof(best->path), "%s", fc.path);
    best->bytes = fc.bytes;
    j->res->video_bitrate = fc.duration > 0 ? (int64_t)(fc.bytes * 8 / fc.duration) : 0;
    *phase = SH_PHASE_OUTPUT;
    return sh_job_finish_output(j, best);
}

/*
 * The output at path against the source, as the solver predicts it: into
 * the result's measured_*, and visually_lossless. A failure to measure is
 * a warning, not the job's failure (AVERROR(ENOMEM) and an interrupt are).
 */
int sh_job_measure_result(Job *j, const char *path)
{
    ShJobResult *res = j->res;
    ShQuality q = { 0 }, fq = { 0 };
    double t = 0;
    int w = j->search.eval_width, h = j->search.eval_height, ret;
    if (!w)
        sh_scale_dims(j->info->width, j->info->height, j->info->sar, j->info->rotation, 720, &w, &h);
    ret = sh_report_measure(j->input, j->info, path, j->opt->start, j->duration, w, h, j->faces,
                            j->search.roi_faces > 0, &q, &t, &fq);
    if (ret == AVERROR(ENOMEM))
        return ret;
    if ((ret = sh_job_check_interrupt()) < 0)
        return ret;
    if (!(q.ssim > 0)) {
        sh_log(SH_LOG_WARNING, j->output, "could not measure the result against the source");
        return 0;
    }
    res->measured_ssim = q.ssim;
    res->measured_tssim = t;
    res->measured_psnr = q.psnr;
    res->measured_face_ssim = fq.ssim;
    res->visually_lossless = q.ssim >= SH_VISUALLY_LOSSLESS && t >= SH_VISUALLY_LOSSLESS;
    sh_log(SH_LOG_VERBOSE, j->input, "measured: SSIM %.5f, temporal SSIM %.5f, PSNR %.2f dB%s", q.ssim, t, q.psnr,
           res->visually_lossless ? ": visually lossless" : "");
    return 0;
}

static void fill_search(const ShSolverReport *sr, ShJobResult *r)
{
    r->searched = sr->searched;
    r->chosen = sr->chosen;
    r->ncandidates = FFMIN(sr->ncandidates, SH_MAX_CANDIDATES);
    for (int i = 0; i < r->ncandidates; i++) {
        const ShCandidate *c = &sr->cand[i];
        ShCandidateInfo *o = &r->candidates[i];
        o->encoder = c->enc ? c->enc->name : NULL;
        o->width = c->rung.width;
        o->height = c->rung.height;
        o->fps = av_q2d(c->rung.fps);
        o->video_bitrate = c->video_bps;
        o->measures = c->nmeasures;
        for (int k = 0; k < c->nmeasures; k++) {
            o->crf[k] = c->crf[k];
            o->sample_bitrate[k] = c->bps[k];
            o->sample_ssim[k] = sh_ssim_from_db(c->q[k][SH_Q_SSIM]);
            o->sample_tssim[k] = sh_ssim_from_db(c->q[k][SH_Q_TSSIM]);
            o->sample_psnr[k] = c->q[k][SH_Q_PSNR];
        }
        o->feasible = c->feasible;
        o->ssim = sh_ssim_from_db(c->pred[SH_Q_SSIM]);
        o->tssim = sh_ssim_from_db(c->pred[SH_Q_TSSIM]);
        o->psnr = c->pred[SH_Q_PSNR];
        o->score_db = c->pred[SH_Q_SCORE];
        o->speed_cost_db = c->time_cost_db;
        if (c->calibrated) {
            o->final_ssim = sh_ssim_from_db(c->cal[SH_Q_SSIM]);
            o->final_tssim = sh_ssim_from_db(c->cal[SH_Q_TSSIM]);
            o->final_psnr = c->cal[SH_Q_PSNR];
            o->final_score_db = c->cal[SH_Q_SCORE];
        }
        for (int p = 0; p < 2; p++) {
            o->frame_seconds[p] = c->spf[p];
            o->expected_seconds[p] = c->seconds[p];
        }
        o->quick_score_db = c->quick_measured ? c->quick[SH_Q_SCORE] : 0;
        o->face_db[0] = c->face_db[0];
        o->face_db[1] = c->face_db[1];
    }
    r->eval_width = sr->eval_width;
    r->eval_height = sr->eval_height;
    r->sample_seconds = sr->sample_seconds;
    r->sample_encodes = sr->encodes;
    r->solver_seconds = sr->seconds;
    r->predicted_ssim = sr->predicted_ssim;
    r->predicted_tssim = sr->predicted_tssim;
    r->predicted_psnr = sr->predicted_psnr;
    r->expected_seconds = sr->expected_seconds;
}

static void fill_result(const Job *j, ShJobResult *r)
{
    fill_search(&j->search, r);
    r->quick_preset = j->fast_preset;
    r->decode_seconds = j->decode_seconds;
    r->time_budget = j->time_budget;
    snprintf(r->output, sizeof(r->output), "%s", j->output);
    r->duration = j->duration > 0 ? j->duration : j->plan.duration;
    r->codec = j->plan.venc ? j->plan.venc->codec : NULL;
    r->encoder = j->plan.venc ? j->plan.venc->name : NULL;
    const ShRung *rung = j->final_rung.width ? &j->final_rung : &j->rung;
    r->width = rung->width;
    r->height = rung->height;
    r->fps = rung->fps.num ? av_q2d(rung->fps) : 0;
    r->crop = j->crop;
    /* Planned only (--plan, or a failure before the decode): what the plan says. */
    r->audio = j->final_rung.width ? j->final_audio : j->cache ? j->apar != NULL : j->plan.aenc != NULL;
    if (!r->video_bitrate)
        r->video_bitrate = j->plan.video_bitrate;
    r->audio_codec = r->audio && j->plan.aenc ? j->plan.aenc->codec : NULL;
    r->audio_bitrate = r->audio ? j->plan.audio.bitrate : 0;
    r->audio_channels = r->audio ? j->plan.audio.channels : 0;
    sh_job_audio_reason(j, r);
    r->subtitles = sh_subs_tracks(j->subs);
    sh_job_faces_result(j, r);
}

/*
 * The whole film at once: the decode pass into the caches, then encodes
 * until one fits (at smaller pictures when none does at the plan's), or the
 * floor's to say what the smallest size is.
 */
static int encode_film(Job *j, Attempt *best, ShPhase *phase)
{
    int ret;
    *phase = SH_PHASE_INPUT;
    /* Starved by the bits-per-pixel rule is not starved for the encoder: a
     * pinned picture and rate below the rule's 0.06 b/px still get the
     * bitrate (x264 goes far lower); the floor is for when it refuses. */
    if ((ret = sh_job_analyse(j, j->plan.video_bitrate > 0 &&
                              (j->plan.venc->caps & (SH_ENC_CAP_TWO_PASS | SH_ENC_CAP_PROBE_PASS)))) < 0 ||
        (ret = sh_job_decoded(j, sh_frame_cache_count(j->cache))) < 0)
        return ret;
    if ((ret = sh_frame_cache_has_pictures(j->floor_cache) ? sh_source_from_cache(&j->floor_source, j->floor_cache) :
               sh_source_redecode(&j->floor_source, j->input, j->info, j->opt->start, j->opt->end, &j->plan.floor,
                                  sh_job_floor_pix_fmt(j), j->floor_cache)) < 0 ||
        (ret = sh_frame_cache_has_pictures(j->cache) ? sh_source_from_cache(&j->source, j->cache) :
               sh_source_redecode(&j->source, j->input, j->info, j->opt->start, j->opt->end, &j->rung,
                                  sh_job_video_pix_fmt(j), j->cache)) < 0)
        return ret;

    *phase = SH_PHASE_ENCODE;
    ret = j->plan.video_bitrate <= 0 ? SH_ERROR_TARGET_TOO_SMALL : sh_job_encode_to_target(j, best, &j->res->attempts);
    if ((ret == SH_ERROR_TARGET_TOO_SMALL || ret == AVERROR(ERANGE)) && j->plan.video_bitrate > 0)
        ret = sh_job_encode_smaller(j, best, &j->res->attempts);
    if (ret != SH_ERROR_TARGET_TOO_SMALL && ret != AVERROR(ERANGE))
        return ret;
    /* Starved at the smallest picture, refused by x264, or never under the
     * target: the floor encode says whether anything fits, and if not, its
     * size is the smallest that does. */
    if (best->path[0])
        sh_temp_remove(best->path);
    best->path[0] = 0;
    if ((ret = sh_job_encode_floor(j, best)) < 0)
        return ret;
    j->res->attempts++;
    if (best->bytes > j->plan.target_bytes) {
        j->res->min_bytes = best->bytes;
        return SH_ERROR_TARGET_TOO_SMALL;
    }
    return 0;
}

/*
 * Plan (the solver, or the plan given), then encode unless opt->plan_only:
 * sh_job_run, sh_job_plan and sh_job_encode are this with their options.
 * j is the caller's (zeroed), for the plan it holds afterwards.
 */
static int job_run(Job *j, const ShOptions *opt, const ShJobPlan *given, ShJobResult *res)
{
    Attempt best = { 0 };
    double t0 = sh_now();
    ShPhase phase = SH_PHASE_SETUP;
    const ShEncoderDesc *own;   /* an encoder that makes the output itself (find_own_encoder) */
    int ret;

    memset(res, 0, sizeof(*res));
    j->t0 = t0;
    j->opt = opt;
    j->res = res;
    j->input = opt->input;
    j->audio_fixed = opt->audio_bitrate > 0;
    job_interrupted = 0;
    sh_log_install_av_bridge();

    if ((ret = sh_job_check_paths(j)) < 0)
        goto end;
    if (!(own = find_own_encoder(j, SH_ENC_CAP_WHOLE_FILM)))
        own = find_own_encoder(j, SH_ENC_CAP_PALETTE);
    phase = SH_PHASE_INPUT;
    if ((ret = sh_input_open(&j->in, j->input)) < 0 ||
        (ret = sh_input_select_audio(j->in, opt->audio_track)) < 0 ||
        (ret = sh_input_set_range(j->in, opt->start, opt->end)) < 0 ||
        /* GIF and the learned codec have no HDR: always tone-mapped. */
        (ret = sh_input_set_picture(j->in, own ? SH_HDR_TONEMAP : opt->hdr, opt->deinterlace)) < 0 ||
        (ret = sh_job_crop(j, given)) < 0)
        goto end;
    sh_input_warn_index(j->in);
    j->info = sh_input_info(j->in);
    j->origin = j->info->range_start;

    if (own) {
        phase = own->caps & SH_ENC_CAP_WHOLE_FILM ? SH_PHASE_PLAN : SH_PHASE_ENCODE;
        ret = own->caps & SH_ENC_CAP_WHOLE_FILM ? sh_job_whole_film(j, own, &best, &phase)
                                                : run_palette_fit(j, own, &best, &phase);
        if (ret < 0 || opt->plan_only)
            goto end;
        res->bytes = best.bytes;
        best.path[0] = 0;
        phase = SH_PHASE_NONE;
        goto end;
    }
    /* Before the plan: their bytes come off the budget first. Not in a
     * scale-out chunk (a plan given): the film's join writes its container. */
    if (!given && (ret = sh_subs_open(&j->subs, j->in, j->info, opt->subs, j->format->muxer)) < 0)
        goto end;
    phase = SH_PHASE_PLAN;
    if (given) {
        ret = sh_job_take_plan(j, given);
    } else {
        /* The search takes a while on long films: say so rather than show "analysis 0%". */
        sh_job_progress(j, "sampling", 0, 0);
        ret = sh_job_solve(j);
    }
    if (ret < 0)
        goto end;
    j->rung = (ShRung){ j->plan.width, j->plan.height, j->plan.fps };
    if (opt->plan_only) {
        ret = 0;
        phase = SH_PHASE_NONE;
        goto end;
    }
    if (j->plan.video_bitrate > sh_encoder_clamp_bitrate(j->plan.venc, j->plan.video_bitrate)) {
        /* A budget past what the encoder takes (a very short film, a big target): its largest. */
        sh_log(SH_LOG_VERBOSE, j->input, "the budget's %lld b/s is more than %s takes: %lld b/s",
               (long long)j->plan.video_bitrate, j->plan.venc->name, (long long)j->plan.venc->max_bitrate);
        j->plan.video_bitrate = j->plan.venc->max_bitrate;
    }
    j->time_scale = sh_job_time_scale(j, j->plan.video_bitrate);
    sh_log(SH_LOG_VERBOSE, j->input, "plan: %dx%d at %.3g fps, %.3f bits/pixel, audio %d b/s%s",
           j->rung.width, j->rung.height, av_q2d(j->rung.fps), j->plan.bpp, j->plan.audio.bitrate,
           j->plan.at_floor ? " (at the floor)" : "");
    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_disk_plan(&j->disk, opt->target_bytes, &j->rung, &j->plan.floor, j->plan.venc->pix_fmt,
                            (j->plan.venc->caps & SH_ENC_CAP_TWO_PASS) && !(j->plan.venc->caps & SH_ENC_CAP_STATS_LAVC),
                            j->info->duration, j->plan.aenc ? j->plan.audio.bitrate : 0,
                            SH_CACHE_MEM_LIMIT, SH_AUDIO_MEM_LIMIT)) < 0)
        goto end;
    phase = SH_PHASE_PLAN;
    if (j->plan.venc->caps & SH_ENC_CAP_TWO_PASS && (ret = sh_job_stats_paths(j)) < 0)
        goto end;

    if ((ret = sh_job_faces_open(j)) < 0)
        goto end;
    if (sh_job_long_wanted(j)) {
        phase = SH_PHASE_INPUT;
        ret = sh_job_encode_long(j, &best, &res->attempts);
    } else {
        ret = encode_film(j, &best, &phase);
    }
    if (ret < 0)
        goto end;
    res->video_bitrate = best.bitrate;
    /* Short of the band under the target: the encoder's best setting left
     * bytes over. Measured, so the result can say whether that is because
     * nothing more is to be had (then --report's numbers are these). */
    if (best.bytes < j->plan.target_bytes * SH_RATE_ACCEPT_LOW && (ret = sh_job_measure_result(j, best.path)) < 0)
        goto end;

    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_job_finish_output(j, &best)) < 0)
        goto end;
    if (opt->report && !res->measured_ssim && (ret = sh_job_measure_result(j, j->output)) < 0)
        goto end;
    res->bytes = best.bytes;
    best.path[0] = 0;
    phase = SH_PHASE_NONE;
end:
    if (ret == SH_ERROR_TARGET_TOO_SMALL)
        phase = SH_PHASE_PLAN;
    else if (ret < 0 && j->output_failed)
        phase = SH_PHASE_OUTPUT;
    else if (ret < 0 && j->encoder_failed)
        phase = SH_PHASE_ENCODE;
    if (best.path[0])
        sh_temp_remove(best.path);
    if (j->tmpdir[0])
        sh_job_remove_stats(j);
    fill_result(j, res);
    res->failed_phase = ret < 0 ? phase : SH_PHASE_NONE;
    res->seconds = sh_now() - t0;
    sh_spool_free(&j->audio);
    sh_subs_free(&j->subs);
    avcodec_parameters_free(&j->apar);
    sh_source_free(&j->source);
    sh_source_free(&j->floor_source);
    sh_frame_cache_free(&j->cache);
    sh_frame_cache_free(&j->floor_cache);
    sh_face_track_free(&j->faces);
    sh_input_close(&j->in);
    return ret;
}

int sh_job_run(const ShOptions *opt, ShJobResult *res)
{
    Job j = { 0 };
    return job_run(&j, opt, NULL, res);
}

int sh_job_plan(const ShOptions *opt, ShJobPlan *plan, ShJobResult *res)
{
    Job j = { 0 };
    ShOptions o = *opt;
    int ret;
    o.plan_only = 1;
    ret = job_run(&j, &o, NULL, res);
    if (ret < 0)
        memset(plan, 0, sizeof(*plan));
    else
        sh_job_export_plan(&j, plan);
    return ret;
}

int sh_job_encode(const ShOptions *opt, const ShJobPlan *plan, ShJobResult *res)
{
    Job j = { 0 };
    ShOptions o = *opt;
    o.plan_only = 0;
    return job_run(&j, &o, plan, res);
}

const char *sh_strerror(int err, char *buf, size_t len)
{
    switch (err) {
    case SH_ERROR_TARGET_TOO_SMALL: snprintf(buf, len, "target too small"); break;
    case SH_ERROR_NO_VIDEO:         snprintf(buf, len, "no video stream"); break;
    case SH_ERROR_VERIFY:           snprintf(buf, len, "output failed verification"); break;
    case SH_ERROR_INTERRUPTED:      snprintf(buf, len, "interrupted"); break;
    case SH_ERROR_SAME_FILE:        snprintf(buf, len, "output is the input"); break;
    case SH_ERROR_EXISTS:           snprintf(buf, len, "output exists"); break;
    case SH_ERROR_BAD_RANGE:        snprintf(buf, len, "trim outside the input"); break;
    case SH_ERROR_BAD_OPTION:       snprintf(buf, len, "options not possible together"); break;
    case SH_ERROR_REFUSED:          snprintf(buf, len, "input refused"); break;
    case SH_ERROR_NOT_REGULAR:      snprintf(buf, len, "output is not a regular file"); break;
    case SH_ERROR_CHANGED:          snprintf(buf, len, "input changed while it was read"); break;
    default:                        av_strerror(err, buf, len); break;
    }
    return buf;
}
