/*
 * The whole-film encoders (SH_ENC_CAP_WHOLE_FILM: the learned codec,
 * docs/NEURAL.md): the solver's picture and rates, one decode of the film
 * through the fps and scale stages into the encoder, its one packet into a
 * temporary file, checked by decoding it, then put in place.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/common.h>
#include <libavutil/file.h>
#include <libavutil/mem.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/temp.h"
#include "job/chain.h"
#include "job/job.h"
#include "job/source.h"
#include "job/state.h"
#include "neural/decode.h"
#include "solver/neural.h"

typedef struct Feed {
    Job *j;
    ShEncoder *enc;
    AVFrame *upright;
    int rotation;
    int64_t frames;
} Feed;

static void progress(void *opaque, double fraction)
{
    sh_job_progress(opaque, "training", 0.1 + 0.85 * fraction, 0);
}

static int interrupted(void)
{
    return sh_job_interrupted();
}

/* A plane turned clockwise by rot (90, 180, 270) into dst (dw x dh). */
static void turn_plane(const uint8_t *s, ptrdiff_t ss, int w, int h, int rot, uint8_t *d, ptrdiff_t ds)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int dx = rot == 90 ? h - 1 - y : rot == 180 ? w - 1 - x : y;
            int dy = rot == 90 ? x : rot == 180 ? h - 1 - y : w - 1 - x;
            d[dy * ds + dx] = s[y * ss + x];
        }
}

static int sink(void *opaque, AVFrame *f)
{
    Feed *fd = opaque;
    Job *j = fd->j;
    AVFrame *send = f;
    int ret;
    if (!f)
        return 0;
    f->pts -= j->origin;
    if (fd->rotation) {
        AVFrame *u = fd->upright;
        int swap = fd->rotation != 180;
        av_frame_unref(u);
        u->width = swap ? f->height : f->width;
        u->height = swap ? f->width : f->height;
        u->format = f->format;
        if ((ret = av_frame_get_buffer(u, 0)) < 0)
            return ret;
        av_frame_copy_props(u, f);
        for (int c = 0; c < 3; c++)
            turn_plane(f->data[c], f->linesize[c], f->width, f->height, fd->rotation, u->data[c], u->linesize[c]);
        send = u;
    }
    if ((ret = sh_encoder_send_frame(fd->enc, send)) < 0)
        return ret;
    fd->frames++;
    if (j->info->duration > 0)
        sh_job_progress(j, "decode", 0.1 * FFMIN(1, f->pts * av_q2d(j->info->video_tb) / j->info->duration), 0);
    return sh_job_check_interrupt();
}

/* Read back what was written, as a player would: the header, the model, the first and last pictures. */
static int verify(Job *j, const char *path, const ShNeuralPlan *np, int64_t frames_expected)
{
    uint8_t *buf = NULL;
    size_t size = 0;
    ShNnDecoder *d = NULL;
    AVFrame *f = av_frame_alloc();
    char why[160] = "";
    int ret;

    if (!f)
        return AVERROR(ENOMEM);
    if ((ret = av_file_map(path, &buf, &size, 0, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, j->output, "cannot read back the output: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_nn_decoder_open(&d, buf, size, 1, why, sizeof(why))) < 0) {
        sh_log(SH_LOG_ERROR, j->output, "the output does not decode: %s", why);
        ret = SH_ERROR_VERIFY;
        goto end;
    }
    {
        const ShNnHeader *h = sh_nn_decoder_header(d);
        double dur = h->frames / av_q2d(h->fps);
        if ((int64_t)size > j->opt->target_bytes || h->model.width != np->width || h->model.height != np->height ||
            av_cmp_q(h->fps, np->fps) || fabs(dur - j->duration) > 1 / av_q2d(np->fps) + 0.002 ||
            frames_expected < 1) {
            sh_log(SH_LOG_ERROR, j->output, "the output is not what was encoded: %zu bytes, %dx%d, %u frames",
                   size, h->model.width, h->model.height, h->frames);
            ret = SH_ERROR_VERIFY;
            goto end;
        }
        if ((ret = sh_nn_decoder_frame(d, 0, f)) < 0 || (ret = sh_nn_decoder_frame(d, h->frames - 1, f)) < 0)
            goto end;
    }
    ret = 0;
end:
    if (buf)
        av_file_unmap(buf, size);
    sh_nn_decoder_free(&d);
    av_frame_free(&f);
    return ret;
}

static int write_file(Job *j, Attempt *best, const AVPacket *pkt)
{
    FILE *fp;
    int ret;
    if ((ret = sh_temp_create_beside(best->path, sizeof(best->path), j->output)) < 0) {
        j->output_failed = 1;
        return ret;
    }
    if (!(fp = fopen(best->path, "wb")) || fwrite(pkt->data, 1, pkt->size, fp) != (size_t)pkt->size ||
        fflush(fp) || fsync(fileno(fp))) {
        ret = AVERROR(errno ? errno : EIO);
        sh_log(SH_LOG_ERROR, j->output, "cannot write the output: %s", av_err2str(ret));
        if (fp)
            fclose(fp);
        j->output_failed = 1;
        return ret;
    }
    if (fclose(fp)) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, j->output, "cannot write the output: %s", av_err2str(ret));
        j->output_failed = 1;
        return ret;
    }
    best->bytes = pkt->size;
    return 0;
}

int sh_job_whole_film(Job *j, const ShEncoderDesc *desc, Attempt *best, ShPhase *phase)
{
    ShNeuralPlan np;
    ShRung fit_rung;
    ShStage *chain[2] = { NULL };
    ShEncoderConfig cfg = { 0 };
    Feed fd = { .j = j };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    enum AVMediaType type;
    int ret;

    fd.upright = av_frame_alloc();
    if (!frame || !tmp || !pkt || !fd.upright) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    j->duration = j->info->duration;
    sh_solver_neural_plan(j->info, j->duration, j->opt->target_bytes, j->opt, &np);
    j->plan.venc = desc;
    j->plan.target_bytes = j->opt->target_bytes;
    j->final_rung = (ShRung){ np.width, np.height, np.fps };
    j->res->video_bitrate = (int64_t)(j->opt->target_bytes * 8 / FFMAX(j->duration, 0.001));
    sh_log(SH_LOG_VERBOSE, j->input, "neural: %dx%d shown at %.3g fps, fitted on %.3g fps, %.0f s to fit",
           np.width, np.height, av_q2d(np.fps), av_q2d(np.fit_fps), np.time_limit);
    if (j->opt->plan_only) {
        ret = 0;
        goto end;
    }

    fit_rung = (ShRung){ np.coded_width, np.coded_height, np.fit_fps };
    fd.rotation = j->info->rotation;
    cfg.width = np.width;
    cfg.height = np.height;
    cfg.pix_fmt = AV_PIX_FMT_YUV444P;
    cfg.time_base = j->info->video_tb;
    cfg.frame_rate = np.fps;
    cfg.has_colour = 1;
    cfg.colour = j->info->out_colour;
    cfg.max_bytes = j->opt->target_bytes;
    cfg.duration = j->duration;
    /* The decode's time comes off the limit (it is the job's), and a moment
     * for writing and checking the file. */
    cfg.deadline = j->t0 + np.time_limit - 1;
    cfg.threads = 2;
    cfg.interrupted = interrupted;
    cfg.progress = progress;
    cfg.progress_opaque = j;
    *phase = SH_PHASE_ENCODE;
    if ((ret = sh_encoder_open(&fd.enc, desc, &cfg)) < 0) {
        sh_log(SH_LOG_ERROR, j->input, "cannot open the %s encoder: %s", desc->name, av_err2str(ret));
        j->encoder_failed = 1;
        goto end;
    }
    {
        *phase = SH_PHASE_INPUT;
        sh_input_want_audio(j->in, 0);
        sh_job_progress(j, "decode", 0, 0);
        if ((ret = sh_video_chain_create(chain, j->info, &fit_rung, AV_PIX_FMT_YUV444P)) < 0)
            goto end;
        while ((ret = sh_input_read(j->in, frame, &type)) >= 0) {
            if (type == AVMEDIA_TYPE_VIDEO)
                ret = sh_chain_run(chain, 2, frame, tmp, j->input, sink, &fd);
            av_frame_unref(frame);
            if (ret < 0)
                goto end;
        }
        if (ret != AVERROR_EOF || (ret = sh_chain_run(chain, 2, NULL, tmp, j->input, sink, &fd)) < 0)
            goto end;
    }
    *phase = SH_PHASE_ENCODE;
    sh_job_progress(j, "training", 0.1, 0);
    if ((ret = sh_encoder_send_frame(fd.enc, NULL)) < 0) {
        if (ret == SH_ERROR_TARGET_TOO_SMALL)
            j->res->min_bytes = fd.enc->min_bytes;
        else if (ret != SH_ERROR_INTERRUPTED)
            j->encoder_failed = 1;
        goto end;
    }
    if ((ret = sh_encoder_receive_packet(fd.enc, pkt)) < 0) {
        j->encoder_failed = 1;
        goto end;
    }
    *phase = SH_PHASE_OUTPUT;
    sh_job_progress(j, "verify", 0.97, 0);
    j->duration = pkt->duration * av_q2d(fd.enc->time_base);
    if ((ret = write_file(j, best, pkt)) < 0)
        goto end;
    if ((ret = verify(j, best->path, &np, fd.frames)) < 0) {
        j->output_failed = 1;
        goto end;
    }
    j->res->attempts = 1;
    if (j->opt->report && (ret = sh_job_measure_result(j, best->path)) < 0)
        goto end;
    j->res->video_bitrate = (int64_t)(best->bytes * 8 / FFMAX(j->duration, 0.001));
    if ((ret = sh_temp_commit(best->path, j->output, j->opt->force, "encoding")) < 0) {
        j->output_failed = 1;
        goto end;
    }
    best->path[0] = 0;
    ret = 0;
end:
    sh_stage_free(&chain[0]);
    sh_stage_free(&chain[1]);
    sh_encoder_free(&fd.enc);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    av_frame_free(&fd.upright);
    av_packet_free(&pkt);
    return ret;
}
