/*
 * The plan's audio: the whole film's sound encoded once, into its own file.
 * Opus streams cut into chunks and put end to end glitch (each carries its
 * own pre-skip), and its size must be known exactly before the video
 * budgets are split, so plan makes it and join copies its packets.
 *
 *   demux (audio only) --> decode --> resample (video's start = sample 0)
 *                      --> Opus --> MP4 (temp file) --> rename
 *
 * The same stream choice, alignment and cut as a job's audio (input.c,
 * stages/resample.c, job.c's write_audio_until), without decoding video.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/temp.h"
#include "input/open.h"
#include "encoders/encoder.h"
#include "job/audio.h"
#include "job/job.h"
#include "output/mux.h"
#include "chunk/chunk_int.h"
#include "stages/stage.h"

typedef struct AudioCtx {
    const ShChunkAudioArgs *a;
    ShStage *rs;
    ShEncoder *enc;
    ShMuxer *mx;
    AVPacket *pkt;
    AVFrame *tmp;
    int64_t end;              /* encoder time base: packets from here on are past the video */
    int64_t packets;
} AudioCtx;

static int pick_stream(AVFormatContext *fmt, int track)
{
    int n = 0, vi;
    if (track <= 0) {
        vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
        return av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO && ++n == track)
            return (int)i;
    return AVERROR_STREAM_NOT_FOUND;
}

static int write_packets(AudioCtx *c)
{
    int ret;
    while ((ret = sh_encoder_receive_packet(c->enc, c->pkt)) >= 0) {
        if (c->pkt->pts >= c->end) {
            av_packet_unref(c->pkt);
            continue;          /* past the end of the video, as in the job */
        }
        c->packets++;
        if ((ret = sh_mux_write(c->mx, 0, c->pkt)) < 0)
            return ret;
    }
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, c->a->input, "opus encoder failed: %s", av_err2str(ret));
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
    AudioCtx c = { .a = a };
    AVFormatContext *fmt = NULL;
    AVCodecContext *dec = NULL;
    const AVCodec *codec;
    AVFrame *frame = av_frame_alloc();
    AVPacket *in = av_packet_alloc();
    const ShEncoderDesc *desc = sh_encoder_first(AVMEDIA_TYPE_AUDIO, "mp4");
    ShAudioBudget budget;
    char tmp_path[PATH_MAX] = "";
    struct stat sb;
    AVStream *st;
    int ai, ret;

    c.pkt = av_packet_alloc();
    c.tmp = av_frame_alloc();
    if (!frame || !in || !c.pkt || !c.tmp) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if (!desc) {
        sh_log(SH_LOG_ERROR, a->input, "no audio encoder for MP4 in this build");
        ret = AVERROR_ENCODER_NOT_FOUND;
        goto end;
    }
    if ((ret = sh_media_open(&fmt, a->input, 0, NULL)) < 0)
        goto end;
    if ((ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, a->input, "cannot read it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = ai = pick_stream(fmt, a->track)) < 0) {
        sh_log(SH_LOG_ERROR, a->input, "no audio stream to encode");
        goto end;
    }
    st = fmt->streams[ai];
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != ai)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    if (!(codec = avcodec_find_decoder(st->codecpar->codec_id)) || !(dec = avcodec_alloc_context3(codec)) ||
        (ret = avcodec_parameters_to_context(dec, st->codecpar)) < 0 ||
        (ret = avcodec_open2(dec, codec, NULL)) < 0) {
        ret = ret < 0 ? ret : AVERROR_DECODER_NOT_FOUND;
        sh_log(SH_LOG_ERROR, a->input, "cannot decode its audio: %s", av_err2str(ret));
        goto end;
    }
    dec->pkt_timebase = st->time_base;

    budget.bitrate = a->bitrate;
    budget.channels = a->channels;
    budget.frame_ms = a->frame_ms;
    if ((ret = sh_audio_path_open(&c.enc, &c.rs, desc, &budget, 48000, st->time_base,
                                  av_rescale_q(a->origin, a->video_tb, st->time_base),
                                  (int64_t)ceil((a->end_pts - a->origin) * av_q2d(a->video_tb) * 48000),
                                  a->input)) < 0)
        goto end;
    c.end = av_rescale_q(a->end_pts - a->origin, a->video_tb, c.enc->time_base);

    if ((ret = sh_temp_create_beside(tmp_path, sizeof(tmp_path), a->output)) < 0) {
        sh_log(SH_LOG_ERROR, a->output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_mux_open(&c.mx, tmp_path, "mp4")) < 0 ||
        (ret = sh_mux_add_stream(c.mx, c.enc->par, c.enc->time_base, NULL)) < 0 ||
        (ret = sh_mux_write_header(c.mx)) < 0)
        goto end;

    /* A trim: start a second early, the resampler drops what is before the origin. */
    if (a->origin > a->video_start) {
        int64_t ts = av_rescale_q(a->origin - a->video_start, a->video_tb, AV_TIME_BASE_Q) - AV_TIME_BASE;
        if (fmt->start_time != AV_NOPTS_VALUE)
            ts += fmt->start_time;
        if (ts > 0 && av_seek_frame(fmt, -1, ts, AVSEEK_FLAG_BACKWARD) >= 0)
            avcodec_flush_buffers(dec);
    }
    while ((ret = av_read_frame(fmt, in)) >= 0) {
        if (sh_job_interrupted()) {
            av_packet_unref(in);
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        if (in->stream_index == ai) {
            /* A damaged packet is skipped, as the job's decoder does. */
            if (avcodec_send_packet(dec, in) >= 0)
                while ((ret = avcodec_receive_frame(dec, frame)) >= 0) {
                    frame->pts = frame->best_effort_timestamp;
                    ret = push(&c, frame);
                    av_frame_unref(frame);
                    if (ret < 0)
                        break;
                }
            if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_INVALIDDATA) {
                av_packet_unref(in);
                goto end;
            }
        }
        av_packet_unref(in);
    }
    if (ret != AVERROR_EOF)
        goto end;
    avcodec_send_packet(dec, NULL);
    while (avcodec_receive_frame(dec, frame) >= 0) {
        frame->pts = frame->best_effort_timestamp;
        ret = push(&c, frame);
        av_frame_unref(frame);
        if (ret < 0)
            goto end;
    }
    if ((ret = push(&c, NULL)) < 0)
        goto end;
    if (!c.packets) {
        sh_log(SH_LOG_ERROR, a->input, "no audio could be decoded");
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    if ((ret = sh_mux_finish(c.mx)) < 0)
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
    avcodec_free_context(&dec);
    sh_media_close(&fmt);
    av_packet_free(&in);
    av_packet_free(&c.pkt);
    av_frame_free(&c.tmp);
    av_frame_free(&frame);
    return ret;
}
