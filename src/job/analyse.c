/*
 * The decode pass: the whole input decoded once. Video through the fps and
 * scale stages into the frame cache (and the encoder's first pass, when the
 * plan has one), and into the floor's cache; audio through the resampler
 * into the audio encoder, whose packets are kept for every attempt.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/tmpspace.h"
#include "job/audio.h"
#include "job/chain.h"
#include "job/state.h"
#include "stages/stage.h"

static int keep_audio_packet(Job *j, AVPacket *pkt)
{
    int ret;
    if (!j->audio && (ret = sh_spool_open(&j->audio, SH_AUDIO_MEM_LIMIT)) < 0)
        return ret;
    if ((ret = sh_spool_put(j->audio, pkt)) < 0)
        sh_tmp_write_failed("audio packets", ret);
    return ret;
}

/* Drain an encoder; packets go to keep (audio) or are counted and dropped (pass 1). */
static int drain_encoder(Job *j, ShEncoder *enc, AVPacket *pkt, int keep)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(enc, pkt)) >= 0) {
        if (keep)
            ret = keep_audio_packet(j, pkt);
        else
            j->pass1_bytes += pkt->size;
        av_packet_unref(pkt);
        if (ret < 0)
            return ret;
    }
    return ret == AVERROR(EAGAIN) || ret == AVERROR_EOF ? 0 : sh_job_encoder_failed(j, enc, ret);
}

typedef struct AnalysisCtx {
    Job *j;
    ShEncoder *venc, *aenc;
    AVPacket *pkt;
    int video_ended, audio_ended;  /* a stage may end its stream early, and only once */
} AnalysisCtx;

static int sink_video_pass1(void *arg, AVFrame *f)
{
    AnalysisCtx *a = arg;
    Job *j = a->j;
    int ret;
    if (a->video_ended)
        return 0;
    a->video_ended = !f;
    if (f && (ret = sh_frame_cache_put(j->cache, f)) < 0)
        return sh_tmp_write_failed("frame cache", ret);
    if (!a->venc)
        return 0;
    if ((ret = sh_encoder_send_frame(a->venc, f)) < 0)
        return sh_job_encoder_failed(j, a->venc, ret);
    return drain_encoder(j, a->venc, a->pkt, 0);
}

static int sink_floor(void *arg, AVFrame *f)
{
    Job *j = arg;
    int ret;
    if (f && (ret = sh_frame_cache_put(j->floor_cache, f)) < 0)
        return sh_tmp_write_failed("frame cache", ret);
    return 0;
}

static int sink_audio(void *arg, AVFrame *f)
{
    AnalysisCtx *a = arg;
    Job *j = a->j;
    int ret;
    if (a->audio_ended)
        return 0;
    a->audio_ended = !f;
    if ((ret = sh_encoder_send_frame(a->aenc, f)) < 0)
        return sh_job_encoder_failed(j, a->aenc, ret);
    return drain_encoder(j, a->aenc, a->pkt, 1);
}

/*
 * Decode the whole input once: video into the frame cache (and x264's first
 * pass, when the plan has two), audio into Opus packets kept in memory.
 */
int sh_job_analyse(Job *j, int pass1)
{
    const ShInputInfo *info = j->info;
    ShStage *vchain[2] = { NULL, NULL }, *fchain[2] = { NULL, NULL }, *achain[1] = { NULL };
    AnalysisCtx ctx = { .j = j };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc();
    enum AVMediaType type;
    int ret, audio = j->plan.aenc != NULL;

    ctx.pkt = av_packet_alloc();
    if (!frame || !tmp || !ctx.pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* Drop frames before scaling them: the dropped ones cost nothing. */
    if ((ret = sh_video_chain_create(vchain, info, &j->rung, sh_job_video_pix_fmt(j))) < 0)
        goto end;
    /* Predicted over the disk bound: only the pts are kept, the encodes decode again. */
    if ((ret = sh_frame_cache_open(&j->cache, j->rung.width, j->rung.height,
                                   sh_job_video_pix_fmt(j), j->disk.redecode ? 0 : SH_CACHE_MEM_LIMIT)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->cache, j->disk.redecode ? 0 : j->disk.cache_limit, SH_CACHE_FULL_DROP);
    /* The floor picture too, straight from the source: tiny, and the floor
     * encode then gives the same bytes whatever the plan was, so the
     * smallest size it reports is one that works. */
    if ((ret = sh_video_chain_create(fchain, info, &j->plan.floor, sh_job_floor_pix_fmt(j))) < 0 ||
        (ret = sh_frame_cache_open(&j->floor_cache, j->plan.floor.width, j->plan.floor.height,
                                   sh_job_floor_pix_fmt(j), j->disk.floor_redecode ? 0 : SH_CACHE_MEM_LIMIT / 8)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->floor_cache, j->disk.floor_redecode ? 0 : j->disk.floor_limit,
                                  SH_CACHE_FULL_DROP);
    if (pass1 && (ret = sh_job_open_video_encoder(j, &ctx.venc, &j->rung, 1, j->plan.video_bitrate, -1, NULL)) < 0)
        goto end;

    /* Audio stops with the video (as probed; trimmed again at the mux). */
    if (audio && (ret = sh_audio_path_open(&ctx.aenc, &achain[0], j->plan.aenc, &j->plan.audio, j->plan.audio_rate,
                                           info->audio_tb, av_rescale_q(j->origin, info->video_tb, info->audio_tb),
                                           (int64_t)ceil(info->duration * j->plan.audio_rate), j->input)) < 0)
        goto end;
    if (audio)
        j->atb = ctx.aenc->time_base;
    sh_input_want_audio(j->in, audio);

    while ((ret = sh_input_read(j->in, frame, &type)) >= 0) {
        if ((ret = sh_job_check_interrupt()) < 0)
            goto end;
        if (type == AVMEDIA_TYPE_VIDEO) {
            ret = sh_chain_run(vchain, 2, frame, tmp, j->input, sink_video_pass1, &ctx);
            if (ret >= 0)
                ret = sh_chain_run(fchain, 2, frame, tmp, j->input, sink_floor, j);
            sh_job_progress(j, "analysis", SH_PROGRESS_ANALYSIS * (frame->pts - j->origin) *
                            av_q2d(info->video_tb) / info->duration, 0);
        } else
            ret = sh_chain_run(achain, 1, frame, tmp, j->input, sink_audio, &ctx);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    if ((ret = sh_chain_run(vchain, 2, NULL, tmp, j->input, sink_video_pass1, &ctx)) < 0 ||
        (ret = sh_chain_run(fchain, 2, NULL, tmp, j->input, sink_floor, j)) < 0)
        goto end;
    if (audio && (ret = sh_chain_run(achain, 1, NULL, tmp, j->input, sink_audio, &ctx)) < 0)
        goto end;
    if (audio && !sh_spool_count(j->audio)) {
        /* Planned, but nothing came (all of it damaged, or none in the range):
         * an output without audio, not one that fails its check. */
        sh_log(SH_LOG_WARNING, j->input, "no audio could be decoded: the output has none");
        audio = 0;
    }
    if (audio)
        j->apar = avcodec_parameters_alloc();
    if (audio && (!j->apar || avcodec_parameters_copy(j->apar, ctx.aenc->par) < 0)) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = 0;
end:
    sh_stage_free(&vchain[0]);
    sh_stage_free(&vchain[1]);
    sh_stage_free(&fchain[0]);
    sh_stage_free(&fchain[1]);
    sh_stage_free(&achain[0]);
    sh_encoder_free(&ctx.venc);
    sh_encoder_free(&ctx.aenc);
    av_packet_free(&ctx.pkt);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    return ret;
}
