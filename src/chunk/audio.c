/*
 * The plan's audio: the whole film's sound encoded once, into its own file.
 * Opus streams cut into chunks and put end to end glitch (each carries its
 * own pre-skip), and its size must be known exactly before the video
 * budgets are split, so plan makes it and join copies its packets.
 *
 *   input (audio alone) --> resample (video's start = sample 0)
 *                       --> Opus --> MP4 (temp file, output/mux.c) --> rename
 *   the film's subtitle tracks, chapters, title (job/subs.c) --/
 *
 * The join copies every audio and subtitle stream of it, and its chapters
 * and title, into the film's file: its size, which the budget takes off
 * the top, counts them.
 *
 * The job's own pieces: the input's stream choice, trim and decode
 * (sh_input_want_video(0): no video is decoded), the job's audio path
 * (job/audio.c: encoder and resample stage) and its cut at the video's end.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include <libavutil/mathematics.h>

#include "chunk/chunk_int.h"
#include "common/log.h"
#include "common/temp.h"
#include "encoders/encoder.h"
#include "input/input.h"
#include "job/audio.h"
#include "job/job.h"
#include "job/subs.h"
#include "output/mux.h"
#include "stages/stage.h"

typedef struct AudioCtx {
    const char *path;         /* the input, for messages */
    ShStage *rs;
    ShEncoder *enc;
    ShMuxer *mx;
    AVPacket *pkt;
    AVFrame *tmp;
    int64_t end;              /* encoder time base: packets from here on are past the video */
    int64_t packets;
    const ShSubs *subs;
    ShSubsCursor sc;
} AudioCtx;

static int write_packets(AudioCtx *c)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(c->enc, c->pkt)) >= 0) {
        if (c->pkt->pts >= c->end) {
            av_packet_unref(c->pkt);
            continue;          /* past the end of the video, as in the job */
        }
        c->packets++;
        if ((ret = sh_subs_mux_until(c->subs, c->mx, &c->sc,
                                     av_rescale_q(c->pkt->pts, c->enc->time_base, (AVRational){ 1, 1000 }))) < 0 ||
            (ret = sh_mux_write(c->mx, 0, c->pkt)) < 0)
            return ret;
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, c->path, "opus encoder failed: %s", av_err2str(ret));
    return ret;
}

/* One decoded frame (NULL: the end) through the resampler into the encoder. */
static int push(AudioCtx *c, const AVFrame *f)
{
    int ret = sh_stage_send(c->rs, f);
    if (ret < 0)
        return ret;
    for (;;) {
        ret = sh_stage_receive(c->rs, c->tmp);
        if (ret == AVERROR(EAGAIN))
            return 0;
        if (ret == AVERROR_EOF) {
            if ((ret = sh_encoder_send_frame(c->enc, NULL)) < 0 && ret != AVERROR_EOF)
                return ret;
            return write_packets(c);
        }
        if (ret < 0)
            return ret;
        ret = sh_encoder_send_frame(c->enc, c->tmp);
        av_frame_unref(c->tmp);
        if (ret < 0 || (ret = write_packets(c)) < 0)
            return ret;
    }
}

int sh_chunk_encode_audio(const ShChunkAudioArgs *a, int64_t *bytes, int64_t *packets)
{
    const ShInputInfo *info = sh_input_info(a->in);
    AudioCtx c = { .path = info->path, .subs = a->subs };
    AVFrame *frame = av_frame_alloc();
    const ShEncoderDesc *desc = sh_encoder_first(AVMEDIA_TYPE_AUDIO, "mp4");
    enum AVMediaType type;
    ShAudioBudget budget;
    char tmp_path[PATH_MAX] = "";
    struct stat sb;
    int ret;

    c.pkt = av_packet_alloc();
    c.tmp = av_frame_alloc();
    if (!frame || !c.pkt || !c.tmp) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (!desc) {
        sh_log(SH_LOG_ERROR, c.path, "no audio encoder for MP4 in this build");
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    if (!info->has_audio) {
        sh_log(SH_LOG_ERROR, c.path, "no audio stream to encode");
        ret = AVERROR_STREAM_NOT_FOUND;
        goto end;
    }
    sh_input_want_video(a->in, 0);
    sh_input_want_audio(a->in, 1);

    budget.bitrate = a->bitrate;
    budget.channels = a->channels;
    budget.frame_ms = a->frame_ms;
    budget.kind = a->kind;
    if ((ret = sh_audio_path_open(&c.enc, &c.rs, desc, &budget, 48000, info->audio_tb,
                                  av_rescale_q(a->origin, info->video_tb, info->audio_tb),
                                  (int64_t)ceil((a->end_pts - a->origin) * av_q2d(info->video_tb) * 48000),
                                  c.path)) < 0)
        goto end;
    c.end = av_rescale_q(a->end_pts - a->origin, info->video_tb, c.enc->time_base);

    if ((ret = sh_temp_create_beside(tmp_path, sizeof(tmp_path), a->output)) < 0) {
        sh_log(SH_LOG_ERROR, a->output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_mux_open(&c.mx, tmp_path, "mp4")) < 0 ||
        (ret = sh_mux_add_stream(c.mx, c.enc->par, c.enc->time_base, NULL)) < 0 ||
        (ret = sh_subs_mux_setup(c.subs, c.mx, &c.sc)) < 0 || (ret = sh_mux_write_header(c.mx)) < 0)
        goto end;

    /* The frames before the film's start (from the keyframe the trim seeks to) the resampler drops. */
    while ((ret = sh_input_read(a->in, frame, &type)) >= 0) {
        if (sh_job_interrupted()) {
            av_frame_unref(frame);
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        ret = type == AVMEDIA_TYPE_AUDIO ? push(&c, frame) : 0;
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if (ret != AVERROR_EOF || (ret = push(&c, NULL)) < 0)
        goto end;
    if (!c.packets) {
        sh_log(SH_LOG_ERROR, c.path, "no audio could be decoded");
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    if ((ret = sh_subs_mux_until(c.subs, c.mx, &c.sc, INT64_MAX)) < 0 || (ret = sh_mux_finish(c.mx)) < 0)
        goto end;
    if (stat(tmp_path, &sb) < 0 || rename(tmp_path, a->output) < 0) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, a->output, "cannot put the audio in place: %s", av_err2str(ret));
        goto end;
    }
    sh_temp_forget(tmp_path);
    tmp_path[0] = 0;
    *bytes = sb.st_size;
    *packets = c.packets;
    ret = 0;
end:
    if (tmp_path[0])
        sh_temp_remove(tmp_path);
    sh_mux_free(&c.mx);
    sh_encoder_free(&c.enc);
    sh_stage_free(&c.rs);
    av_packet_free(&c.pkt);
    av_frame_free(&c.tmp);
    av_frame_free(&frame);
    return ret;
}
