/*
 * Listening to the sound track: stretches of its audio, spread over the
 * range like the solver's video samples, downmixed and resampled by
 * libswresample to what the features want (mono, 16 kHz, float), into
 * metrics/audiokind.c. Only the audio is decoded; a seek costs the audio
 * back to the video keyframe before it, which the demuxer lands on. A file
 * that cannot seek is judged on the stretches heard before.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libswresample/swresample.h>

#include "common/log.h"
#include "input/listen.h"

/* Closer than this to the next stretch, decode on rather than seek. */
#define LISTEN_READ_ON_S 3.0

typedef struct Ear {
    ShAudioFeatures *feat;
    SwrContext *swr;
    AVChannelLayout in_layout;
    int in_rate, in_fmt;
    float out[4096];
} Ear;

static int ear_setup(Ear *e, const AVFrame *f)
{
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, in = { 0 };
    int ret;
    swr_free(&e->swr);
    av_channel_layout_uninit(&e->in_layout);
    if (f->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC && f->ch_layout.nb_channels > 0)
        ret = av_channel_layout_copy(&in, &f->ch_layout);
    else
        av_channel_layout_default(&in, f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : 1), ret = 0;
    if (ret >= 0)
        ret = swr_alloc_set_opts2(&e->swr, &mono, AV_SAMPLE_FMT_FLT, SH_AK_RATE, &in, f->format, f->sample_rate, 0,
                                  NULL);
    if (ret >= 0)
        ret = swr_init(e->swr);
    if (ret >= 0)
        ret = av_channel_layout_copy(&e->in_layout, &f->ch_layout);
    av_channel_layout_uninit(&in);
    e->in_rate = f->sample_rate;
    e->in_fmt = f->format;
    return ret;
}

/* Source samples per swr_convert: at any rate from 4 kHz up their 16 kHz
 * samples (and the resampler's delay) fit the output buffer, so swr never
 * has to keep output back. */
#define LISTEN_CHUNK 512
#define LISTEN_MAX_PLANES 64

/* The first `skip` source samples of f are not heard; at most `*left` 16 kHz samples are. */
static int hear(Ear *e, const AVFrame *f, int skip, int64_t *left)
{
    const uint8_t *in[LISTEN_MAX_PLANES];
    int planar = av_sample_fmt_is_planar(f->format), planes = planar ? f->ch_layout.nb_channels : 1;
    int step = av_get_bytes_per_sample(f->format) * (planar ? 1 : f->ch_layout.nb_channels), ret;
    if (planes > LISTEN_MAX_PLANES || planes < 1 || f->sample_rate < 4000)
        return AVERROR(ENOSYS);
    if (!e->swr || f->sample_rate != e->in_rate || f->format != e->in_fmt ||
        av_channel_layout_compare(&f->ch_layout, &e->in_layout)) {
        if ((ret = ear_setup(e, f)) < 0)
            return ret;
    }
    for (int at = skip; at < f->nb_samples && *left > 0; at += LISTEN_CHUNK) {
        uint8_t *out[1] = { (uint8_t *)e->out };
        int n = FFMIN(LISTEN_CHUNK, f->nb_samples - at), got;
        for (int p = 0; p < planes; p++)
            in[p] = f->extended_data[p] + (size_t)at * step;
        if ((got = swr_convert(e->swr, out, (int)(sizeof(e->out) / sizeof(e->out[0])), in, n)) < 0)
            return got;
        got = (int)FFMIN(got, *left);
        sh_audio_features_push(e->feat, e->out, got);
        *left -= got;
    }
    return 0;
}

int sh_input_listen(const char *path, const ShInputInfo *info, int track, ShAudioFeatures *feat,
                    ShAudioKind *kind)
{
    Ear e = { .feat = feat };
    ShInput *in = NULL;
    AVFrame *f = av_frame_alloc();
    AVRational tb = info->video_tb;
    double dur = info->duration;
    int n = dur > SH_LISTEN_STRETCHES * SH_LISTEN_SECONDS ? SH_LISTEN_STRETCHES : 1;
    double len = n > 1 ? SH_LISTEN_SECONDS : dur;
    int64_t pos = AV_NOPTS_VALUE;
    int ret = 0;

    memset(feat, 0, sizeof(*feat));
    *kind = SH_AUDIO_UNKNOWN;
    if (!f)
        return AVERROR(ENOMEM);
    if (!info->has_audio)
        goto end;
    if ((ret = sh_input_open(&in, path)) < 0 || (ret = sh_input_select_audio(in, track)) < 0)
        goto end;
    if (!sh_input_info(in)->has_audio)
        goto end;
    sh_input_want_video(in, 0);
    sh_input_want_audio(in, 1);
    for (int i = 0; i < n; i++) {
        /* Stretch i: [t, t + len) seconds into the range. */
        double t = n > 1 ? (dur - len) * i / (n - 1) : 0;
        int64_t ts = info->range_start + av_rescale_q(llrint(t * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
        int64_t left = llrint(len * SH_AK_RATE);
        enum AVMediaType type;
        if ((pos == AV_NOPTS_VALUE && ts > info->video_start) ||
            (pos != AV_NOPTS_VALUE && av_compare_ts(ts, tb, pos, info->audio_tb) > 0 &&
             av_rescale_q(ts, tb, AV_TIME_BASE_Q) - av_rescale_q(pos, info->audio_tb, AV_TIME_BASE_Q) >
             LISTEN_READ_ON_S * AV_TIME_BASE)) {
            /* The seek finds the video's keyframe, so the demuxer must see the
             * video (MPEG-TS reads its timestamps). Not seekable: what was heard
             * says it (reading on could decode a film's whole sound). */
            sh_input_want_video(in, 1);
            ret = sh_input_seek(in, ts);
            sh_input_want_video(in, 0);
            if (ret < 0) {
                sh_log(SH_LOG_VERBOSE, path, "listening: cannot seek (%s); %d of %d stretches heard", av_err2str(ret),
                       i, n);
                ret = 0;
                break;
            }
        }
        sh_audio_features_break(feat);
        swr_free(&e.swr);
        while (left > 0) {
            int64_t skip = 0;
            if ((ret = sh_input_read(in, f, &type)) < 0)
                break;
            if (type != AVMEDIA_TYPE_AUDIO || f->pts == AV_NOPTS_VALUE || f->sample_rate <= 0) {
                av_frame_unref(f);
                continue;
            }
            pos = f->pts + av_rescale_q(f->nb_samples, (AVRational){ 1, f->sample_rate }, info->audio_tb);
            /* Samples before the stretch (a seek lands on the keyframe before it) are not heard. */
            if (av_compare_ts(f->pts, info->audio_tb, ts, tb) < 0)
                skip = av_rescale_q(ts, tb, (AVRational){ 1, f->sample_rate }) -
                       av_rescale_q(f->pts, info->audio_tb, (AVRational){ 1, f->sample_rate });
            if (skip < f->nb_samples)
                ret = hear(&e, f, (int)skip, &left);
            av_frame_unref(f);
            if (ret < 0) {
                /* Not the job's failure: the budget takes the sound for music. */
                sh_log(SH_LOG_WARNING, path, "cannot resample the audio to listen to it (%s): taken for music",
                       av_err2str(ret));
                goto end;
            }
        }
        if (ret == AVERROR_EOF) {
            ret = 0;
            break;
        }
        if (ret < 0)
            goto end;   /* logged by the input */
    }
    *kind = sh_audio_features_kind(feat);
    sh_log(SH_LOG_VERBOSE, path, "audio: %s: %.1f s heard, %.0f%% silent; %d s with sound: LSTER %.3f, HZCRR %.3f, "
           "%.0f%% of them speech-like", sh_audio_kind_name(*kind) ? sh_audio_kind_name(*kind) : "not measured",
           feat->frames * (double)SH_AK_FRAME / SH_AK_RATE, 100 * sh_audio_features_silent_share(feat), feat->windows,
           sh_audio_features_lster(feat), sh_audio_features_hzcrr(feat), 100 * sh_audio_features_speech_share(feat));
end:
    swr_free(&e.swr);
    av_channel_layout_uninit(&e.in_layout);
    sh_input_close(&in);
    av_frame_free(&f);
    return ret;
}
