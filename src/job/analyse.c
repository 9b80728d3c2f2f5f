/*
 * The decode pass: the whole input decoded once. Audio through the resampler
 * into the audio encoder, whose packets are kept for every encode; video to
 * whoever runs the pass: the analysis here (the fps and scale stages into the
 * frame cache, the encoder's first pass, the floor's cache), or the long
 * job's stretches (long.c).
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

typedef struct AudioCtx {
    Job *j;
    ShEncoder *enc;
    AVPacket *pkt;
    int ended;               /* a stage may end its stream early, and only once */
} AudioCtx;

static int sink_audio(void *arg, AVFrame *f)
{
    AudioCtx *a = arg;
    int ret;
    if (a->ended)
        return 0;
    a->ended = !f;
    if ((ret = sh_encoder_send_frame(a->enc, f)) < 0)
        return sh_job_encoder_failed(a->j, a->enc, ret);
    return drain_encoder(a->j, a->enc, a->pkt, 1);
}

int sh_job_decode_pass(Job *j, int (*video)(void *opaque, AVFrame *decoded, AVFrame *tmp), void *opaque)
{
    const ShInputInfo *info = j->info;
    ShStage *achain[1] = { NULL };
    AudioCtx actx = { .j = j };
    AVFrame *frame = av_frame_alloc(), *tmp = av_frame_alloc();
    enum AVMediaType type;
    int ret, audio = j->plan.aenc != NULL;

    actx.pkt = av_packet_alloc();
    if (!frame || !tmp || !actx.pkt) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* Audio stops with the video (as probed; trimmed again at the mux). */
    if (audio && (ret = sh_audio_path_open(&actx.enc, &achain[0], j->plan.aenc, &j->plan.audio, j->plan.audio_rate,
                                           info->audio_tb, av_rescale_q(j->origin, info->video_tb, info->audio_tb),
                                           (int64_t)ceil(info->duration * j->plan.audio_rate), j->input)) < 0)
        goto end;
    if (audio)
        j->atb = actx.enc->time_base;
    sh_input_want_audio(j->in, audio);

    while ((ret = sh_input_read(j->in, frame, &type)) >= 0) {
        if ((ret = sh_job_check_interrupt()) < 0)
            goto end;
        if (type == AVMEDIA_TYPE_VIDEO) {
            ret = video(opaque, frame, tmp);
            if (!j->in_stretches)
                sh_job_progress(j, "analysis", SH_PROGRESS_ANALYSIS * (frame->pts - j->origin) *
                                av_q2d(info->video_tb) / info->duration, 0);
        } else
            ret = sh_chain_run(achain, 1, frame, tmp, j->input, sink_audio, &actx);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if (ret != AVERROR_EOF)
        goto end;
    /* The audio first: the video's end may need all of it (the long job's join). */
    if (audio && (ret = sh_chain_run(achain, 1, NULL, tmp, j->input, sink_audio, &actx)) < 0)
        goto end;
    if (audio && !sh_spool_count(j->audio)) {
        /* Planned, but nothing came (all of it damaged, or none in the range):
         * an output without audio, not one that fails its check. */
        sh_log(SH_LOG_WARNING, j->input, "no audio could be decoded: the output has none");
        audio = 0;
    }
    if (audio)
        j->apar = avcodec_parameters_alloc();
    if (audio && (!j->apar || avcodec_parameters_copy(j->apar, actx.enc->par) < 0)) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    ret = video(opaque, NULL, tmp);
end:
    sh_stage_free(&achain[0]);
    sh_encoder_free(&actx.enc);
    av_packet_free(&actx.pkt);
    av_frame_free(&frame);
    av_frame_free(&tmp);
    return ret;
}

int sh_job_decoded(Job *j, int64_t frames)
{
    const ShInputStats *st = sh_input_stats(j->in);
    if (!frames) {
        sh_log(SH_LOG_ERROR, j->input, "no video frame could be decoded");
        return AVERROR_INVALIDDATA;
    }
    if (st->damaged_frames == st->video_frames) {
        /* Concealment over every picture (a header with the wrong size, say): nothing to keep. */
        sh_log(SH_LOG_ERROR, j->input, "every video frame is damaged (%lld of %lld concealed)",
               (long long)st->damaged_frames, (long long)st->video_frames);
        return AVERROR_INVALIDDATA;
    }
    if (st->decode_errors || st->damaged_frames)
        sh_log(SH_LOG_WARNING, j->input, "damaged: %lld packets skipped, %lld of %lld frames concealed",
               (long long)st->decode_errors, (long long)st->damaged_frames, (long long)st->video_frames);
    j->end_pts = st->end_pts;
    j->duration = (st->end_pts - j->origin) * av_q2d(j->info->video_tb);
    /* Cut short (an interrupted download or copy): the output is what could be read. */
    if (j->duration < j->info->duration - FFMAX(1.0, 0.05 * j->info->duration))
        sh_log(SH_LOG_WARNING, j->input, "the video stops at %.2f s of the %.2f s the file announces "
               "(cut short?): the output is that long", j->duration, j->info->duration);
    return 0;
}

/* ---- the analysis: the caches and the first pass ---- */

typedef struct AnalysisCtx {
    Job *j;
    ShStage *vchain[2], *fchain[2];
    ShEncoder *venc;
    AVPacket *pkt;
    int video_ended;         /* a stage may end its stream early, and only once */
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
    if (f && (ret = sh_job_faces_attach(j, f)) < 0)
        return ret;
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

static int analyse_video(void *arg, AVFrame *decoded, AVFrame *tmp)
{
    AnalysisCtx *a = arg;
    int ret = sh_job_faces_frame(a->j, decoded);
    if (ret >= 0)
        ret = sh_chain_run(a->vchain, 2, decoded, tmp, a->j->input, sink_video_pass1, a);
    if (ret >= 0)
        ret = sh_chain_run(a->fchain, 2, decoded, tmp, a->j->input, sink_floor, a->j);
    return ret;
}

/*
 * Decode the whole input once: video into the frame cache (and x264's first
 * pass, when the plan has two), audio into Opus packets kept in memory.
 */
int sh_job_analyse(Job *j, int pass1)
{
    const ShInputInfo *info = j->info;
    AnalysisCtx ctx = { .j = j };
    int ret;

    if (!(ctx.pkt = av_packet_alloc())) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    /* Drop frames before scaling them: the dropped ones cost nothing. */
    if ((ret = sh_video_chain_create(ctx.vchain, info, &j->rung, sh_job_video_pix_fmt(j))) < 0)
        goto end;
    /* Predicted over the disk bound: only the pts are kept, the encodes decode again. */
    if ((ret = sh_frame_cache_open(&j->cache, j->rung.width, j->rung.height,
                                   sh_job_video_pix_fmt(j), j->disk.redecode ? 0 : SH_CACHE_MEM_LIMIT)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->cache, j->disk.redecode ? 0 : j->disk.cache_limit, SH_CACHE_FULL_DROP);
    /* The floor picture too, straight from the source: tiny, and the floor
     * encode then gives the same bytes whatever the plan was, so the
     * smallest size it reports is one that works. */
    if ((ret = sh_video_chain_create(ctx.fchain, info, &j->plan.floor, sh_job_floor_pix_fmt(j))) < 0 ||
        (ret = sh_frame_cache_open(&j->floor_cache, j->plan.floor.width, j->plan.floor.height,
                                   sh_job_floor_pix_fmt(j), j->disk.floor_redecode ? 0 : SH_CACHE_MEM_LIMIT / 8)) < 0)
        goto end;
    sh_frame_cache_set_disk_limit(j->floor_cache, j->disk.floor_redecode ? 0 : j->disk.floor_limit,
                                  SH_CACHE_FULL_DROP);
    if (pass1 && (ret = sh_job_open_video_encoder(j, &ctx.venc, &j->rung, 1, j->plan.video_bitrate, -1, NULL)) < 0)
        goto end;
    ret = sh_job_decode_pass(j, analyse_video, &ctx);
end:
    sh_stage_free(&ctx.vchain[0]);
    sh_stage_free(&ctx.vchain[1]);
    sh_stage_free(&ctx.fchain[0]);
    sh_stage_free(&ctx.fchain[1]);
    sh_encoder_free(&ctx.venc);
    av_packet_free(&ctx.pkt);
    return ret;
}
