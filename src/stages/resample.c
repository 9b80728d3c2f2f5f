/*
 * resample: downmix and resample with libswresample, cut into the
 * encoder's frame size, aligned to the video: input at `origin` becomes
 * sample 0 (earlier samples are dropped, a late start is padded with
 * silence) and output stops after `max_samples`, so audio and video end
 * together. Output pts count samples at the output rate.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <libavutil/audio_fifo.h>
#include <libavutil/error.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>

#include "stages/stage.h"

typedef struct ResamplePriv {
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVChannelLayout out_layout;
    int out_rate, frame_size;
    enum AVSampleFormat out_fmt;
    AVRational in_tb;
    int64_t origin, max_samples;
    int64_t emitted, to_drop;
    int64_t pad;              /* silence still to emit before the first input sample */
    int started, flushed, eof;
    /* what the context was made for: some streams change mid-way (5.1 -> stereo) */
    AVChannelLayout in_layout;
    int in_rate, in_fmt;
} ResamplePriv;

static int resample_init(void *priv, const ShStreamInfo *in, ShStreamInfo *out, const ShStageArgs *args)
{
    ResamplePriv *s = priv;
    if (args->sample_rate <= 0 || args->channels <= 0)
        return AVERROR(EINVAL);
    s->out_rate = args->sample_rate;
    s->out_fmt = args->sample_fmt == AV_SAMPLE_FMT_NONE ? AV_SAMPLE_FMT_FLT : args->sample_fmt;
    s->frame_size = args->frame_size;
    s->origin = args->origin;
    s->max_samples = args->max_samples;
    s->in_tb = in->time_base;
    av_channel_layout_default(&s->out_layout, args->channels);
    if (!(s->fifo = av_audio_fifo_alloc(s->out_fmt, args->channels, 4096)))
        return AVERROR(ENOMEM);
    out->sample_rate = s->out_rate;
    out->channels = args->channels;
    out->sample_fmt = s->out_fmt;
    out->time_base = (AVRational){ 1, s->out_rate };
    return 0;
}

/* A context for frames like this one. */
static int open_swr(ResamplePriv *s, const AVFrame *in)
{
    AVChannelLayout in_layout = { 0 };
    int ret;

    av_channel_layout_uninit(&s->in_layout);
    if ((ret = av_channel_layout_copy(&s->in_layout, &in->ch_layout)) < 0)
        return ret;
    s->in_rate = in->sample_rate;
    s->in_fmt = in->format;
    if (in->ch_layout.order != AV_CHANNEL_ORDER_UNSPEC && in->ch_layout.nb_channels > 0)
        ret = av_channel_layout_copy(&in_layout, &in->ch_layout);
    else
        av_channel_layout_default(&in_layout, in->ch_layout.nb_channels > 0 ? in->ch_layout.nb_channels : 1), ret = 0;
    if (ret < 0)
        return ret;
    swr_free(&s->swr);
    ret = swr_alloc_set_opts2(&s->swr, &s->out_layout, s->out_fmt, s->out_rate,
                              &in_layout, in->format, in->sample_rate, 0, NULL);
    av_channel_layout_uninit(&in_layout);
    if (ret < 0)
        return ret;
    return swr_init(s->swr);
}

static int resample_setup(ResamplePriv *s, const AVFrame *in)
{
    int ret;

    if ((ret = open_swr(s, in)) < 0)
        return ret;
    /* Place the first sample in time relative to the video's first frame. */
    if (in->pts != AV_NOPTS_VALUE) {
        int64_t off = av_rescale_q(in->pts - s->origin, s->in_tb, (AVRational){ 1, s->out_rate });
        /* The silence is made a frame at a time by receive(), never more than
         * will be emitted: a late start (or a damaged timestamp) can be hours,
         * gigabytes if made at once. */
        if (off < 0)
            s->to_drop = -off;
        else
            s->pad = s->max_samples > 0 ? FFMIN(off, s->max_samples) : off;
    }
    s->started = 1;
    return 0;
}

static int fifo_add(ResamplePriv *s, const AVFrame *in)
{
    uint8_t **buf = NULL;
    int n = swr_get_out_samples(s->swr, in ? in->nb_samples : 0);
    int ret;

    if (n <= 0)
        return 0;
    if ((ret = av_samples_alloc_array_and_samples(&buf, NULL, s->out_layout.nb_channels, n, s->out_fmt, 0)) < 0)
        return ret;
    ret = swr_convert(s->swr, buf, n, in ? (const uint8_t **)in->extended_data : NULL, in ? in->nb_samples : 0);
    if (ret > 0) {
        int got = ret;
        ret = av_audio_fifo_write(s->fifo, (void **)buf, got);
    }
    av_freep(&buf[0]);
    av_freep(&buf);
    if (ret < 0)
        return ret;
    if (s->to_drop > 0) {
        int d = (int)FFMIN(s->to_drop, av_audio_fifo_size(s->fifo));
        av_audio_fifo_drain(s->fifo, d);
        s->to_drop -= d;
    }
    return 0;
}

static int resample_send(void *priv, const AVFrame *in)
{
    ResamplePriv *s = priv;
    int ret;

    if (!in) {
        s->eof = 1;
        if (s->swr && !s->flushed) {
            s->flushed = 1;
            return fifo_add(s, NULL);
        }
        return 0;
    }
    if (!s->started && (ret = resample_setup(s, in)) < 0)
        return ret;
    if (in->sample_rate != s->in_rate || in->format != s->in_fmt ||
        av_channel_layout_compare(&in->ch_layout, &s->in_layout)) {
        /* The stream changed: what the old context holds first, then a new one.
         * Fed to the old one, such a frame is read with the wrong plane count. */
        if ((ret = fifo_add(s, NULL)) < 0 || (ret = open_swr(s, in)) < 0)
            return ret;
    }
    return fifo_add(s, in);
}

static int resample_receive(void *priv, AVFrame *out)
{
    ResamplePriv *s = priv;
    int fifo = av_audio_fifo_size(s->fifo);
    int64_t avail = fifo + s->pad;
    int n = s->frame_size > 0 ? s->frame_size : s->pad ? (int)FFMIN(s->pad, 1 << 16) : fifo;
    int k, ret;

    if (s->max_samples > 0 && s->emitted >= s->max_samples)
        return AVERROR_EOF;
    if (avail < n || !avail) {
        if (!s->eof || !avail)
            return s->eof ? AVERROR_EOF : AVERROR(EAGAIN);
        n = (int)avail; /* the last, short frame */
    }
    if (s->max_samples > 0 && s->emitted + n > s->max_samples)
        n = (int)(s->max_samples - s->emitted);
    out->nb_samples = n;
    out->format = s->out_fmt;
    out->sample_rate = s->out_rate;
    if ((ret = av_channel_layout_copy(&out->ch_layout, &s->out_layout)) < 0)
        return ret;
    if ((ret = av_frame_get_buffer(out, 0)) < 0)
        return ret;
    /* The pending silence first, then what the fifo holds. */
    k = (int)FFMIN(s->pad, n);
    if (k)
        av_samples_set_silence(out->extended_data, 0, k, out->ch_layout.nb_channels, s->out_fmt);
    s->pad -= k;
    if (n > k) {
        int planar = av_sample_fmt_is_planar(s->out_fmt);
        int planes = planar ? out->ch_layout.nb_channels : 1;
        int offset = k * av_get_bytes_per_sample(s->out_fmt) * (planar ? 1 : out->ch_layout.nb_channels);
        uint8_t *at[64];
        if (planes > 64) {
            av_frame_unref(out);
            return AVERROR(EINVAL);
        }
        for (int p = 0; p < planes; p++)
            at[p] = out->extended_data[p] + offset;
        if ((ret = av_audio_fifo_read(s->fifo, (void **)at, n - k)) < 0) {
            av_frame_unref(out);
            return ret;
        }
    }
    out->pts = s->emitted;
    out->time_base = (AVRational){ 1, s->out_rate };
    s->emitted += n;
    return 0;
}

static void resample_uninit(void *priv)
{
    ResamplePriv *s = priv;
    swr_free(&s->swr);
    if (s->fifo)
        av_audio_fifo_free(s->fifo);
    av_channel_layout_uninit(&s->out_layout);
    av_channel_layout_uninit(&s->in_layout);
}

const ShStageDesc sh_stage_resample = {
    .name = "resample",
    .type = AVMEDIA_TYPE_AUDIO,
    .priv_size = sizeof(ResamplePriv),
    .init = resample_init,
    .send = resample_send,
    .receive = resample_receive,
    .uninit = resample_uninit,
};
