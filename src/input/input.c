/*
 * The input: opened and probed (its streams, picture, rate, colour, length),
 * sought, its audio track and range chosen. Reading it is read.c's.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/pixdesc.h>

#include "common/log.h"
#include "input/open.h"
#include "input/stream.h"

/* Bigger than any real video; a header claiming more is damaged or hostile. */
#define SH_MAX_PIXELS (16384LL * 16384LL)

int sh_input_open_decoder(ShInput *in, InputStream *s, int threads)
{
    const AVCodec *codec = avcodec_find_decoder(s->st->codecpar->codec_id);
    int ret;
    if (!codec) {
        sh_log(SH_LOG_ERROR, in->info.path, "no decoder for %s",
               avcodec_get_name(s->st->codecpar->codec_id));
        return AVERROR_DECODER_NOT_FOUND;
    }
    if (!(s->dec = avcodec_alloc_context3(codec)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(s->dec, s->st->codecpar)) < 0)
        return ret;
    s->dec->pkt_timebase = s->st->time_base;
    if (threads) {
        s->dec->thread_count = 0;
        s->dec->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    }
    if ((ret = avcodec_open2(s->dec, codec, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, in->info.path, "cannot open the %s decoder: %s",
               codec->name, av_err2str(ret));
        return ret;
    }
    return 0;
}

static int find_video_stream(AVFormatContext *fmt)
{
    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    /* Cover art is not the video. */
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        AVStream *st = fmt->streams[i];
        if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    }
    return -1;
}

/* An audio stream we can decode: channels and a rate known, a decoder present. */
static int audio_usable(const AVStream *st)
{
    return st->codecpar->ch_layout.nb_channels > 0 && st->codecpar->sample_rate > 0 &&
           avcodec_find_decoder(st->codecpar->codec_id);
}

static void use_audio_stream(ShInput *in, int index)
{
    ShInputInfo *info = &in->info;
    if (in->a.st)
        in->a.st->discard = AVDISCARD_ALL;
    in->a.index = index;
    in->a.st = in->fmt->streams[index];
    in->a.st->discard = AVDISCARD_DEFAULT;
    info->has_audio = 1;
    info->audio_codec = avcodec_get_name(in->a.st->codecpar->codec_id);
    info->audio_channels = in->a.st->codecpar->ch_layout.nb_channels;
    info->audio_rate = in->a.st->codecpar->sample_rate;
    info->audio_tb = in->a.st->time_base;
}

/* Image demuxers ("image2", "png_pipe", ...) give one picture, not a video. */
static int is_still_image(const AVFormatContext *fmt)
{
    const char *name = fmt->iformat->name;
    size_t n = strlen(name);
    return !strcmp(name, "image2") || (n > 5 && !strcmp(name + n - 5, "_pipe"));
}

int sh_input_open(ShInput **pin, const char *path)
{
    ShInput *in = av_mallocz(sizeof(*in));
    ShInputInfo *info;
    AVCodecParameters *par;
    ShMediaFacts facts;
    int ret, vi, ai;

    if (!in)
        return AVERROR(ENOMEM);
    info = &in->info;
    info->path = path;
    in->v.index = in->a.index = -1;

    if ((ret = sh_media_open(&in->fmt, path, 0, &facts)) < 0)
        goto fail;
    info->file_size = facts.size;
    info->index_have = facts.index_have;
    info->index_size = facts.index_size;
    if ((ret = avformat_find_stream_info(in->fmt, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, path, "cannot read stream information: %s", av_err2str(ret));
        goto fail;
    }
    if ((vi = find_video_stream(in->fmt)) < 0) {
        ret = AVERROR_STREAM_NOT_FOUND;
        sh_log(SH_LOG_ERROR, path, "no video stream");
        goto fail;
    }
    if (is_still_image(in->fmt)) {
        ret = AVERROR_INVALIDDATA;
        sh_log(SH_LOG_ERROR, path, "a still image (%s), not a video",
               avcodec_get_name(in->fmt->streams[vi]->codecpar->codec_id));
        goto fail;
    }
    in->v.index = vi;
    in->v.st = in->fmt->streams[vi];
    par = in->v.st->codecpar;
    if (par->width <= 0 || par->height <= 0 || (int64_t)par->width * par->height > SH_MAX_PIXELS) {
        ret = AVERROR_INVALIDDATA;
        sh_log(SH_LOG_ERROR, path, "invalid picture size %dx%d", par->width, par->height);
        goto fail;
    }
    info->video_codec = avcodec_get_name(par->codec_id);
    info->width = info->full_width = par->width;
    info->height = info->full_height = par->height;
    info->sar = av_guess_sample_aspect_ratio(in->fmt, in->v.st, NULL);
    if (info->sar.num <= 0 || info->sar.den <= 0)
        info->sar = (AVRational){ 1, 1 };
    info->video_tb = in->v.st->time_base;
    info->video_start = in->v.st->start_time != AV_NOPTS_VALUE ? in->v.st->start_time : 0;
    info->range_start = info->video_start;
    info->frame_rate = av_guess_frame_rate(in->fmt, in->v.st, NULL);
    info->colour = (ShColour){ par->color_primaries, par->color_trc, par->color_space, par->color_range,
                               par->chroma_location };
    info->out_colour = info->colour;
    info->bit_depth = av_pix_fmt_desc_get(par->format) ? av_pix_fmt_desc_get(par->format)->comp[0].depth : 8;
    info->interlaced = par->field_order != AV_FIELD_UNKNOWN && par->field_order != AV_FIELD_PROGRESSIVE;
    {
        size_t sz = 0;
        const uint8_t *m = av_stream_get_side_data(in->v.st, AV_PKT_DATA_DISPLAYMATRIX, &sz);
        if (m && sz >= 9 * sizeof(int32_t)) {
            double angle = av_display_rotation_get((const int32_t *)m);
            int rot = 0;
            if (!isnan(angle)) {
                rot = (int)lrint(-angle) % 360;
                if (rot < 0)
                    rot += 360;
                rot = (rot + 45) / 90 * 90 % 360;
            }
            info->rotation = rot;
            info->has_display_matrix = 1;
            memcpy(info->display_matrix, m, sizeof(info->display_matrix));
        }
    }
    if (in->v.st->duration > 0 && in->v.st->duration != AV_NOPTS_VALUE)
        info->duration = in->v.st->duration * av_q2d(in->v.st->time_base);
    else if (in->fmt->duration > 0)
        info->duration = in->fmt->duration / (double)AV_TIME_BASE;
    if (!(info->duration > 0)) {
        ret = AVERROR_INVALIDDATA;
        sh_log(SH_LOG_ERROR, path, "unknown duration (a still image or a damaged stream?)");
        goto fail;
    }
    /* One picture in a longer file (a still with a sound track): players
     * hold it as long as the file lasts, and so does the output, at one
     * frame for the whole (sh_input_read holds it to the end). */
    if (in->v.st->nb_frames == 1 && in->fmt->duration > 0 &&
        in->fmt->duration / (double)AV_TIME_BASE > info->duration + 0.5) {
        info->duration = in->fmt->duration / (double)AV_TIME_BASE;
        info->frame_rate = av_d2q(1 / info->duration, 1 << 24);
        in->still = 1;
    }

    ai = av_find_best_stream(in->fmt, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
    if (ai >= 0 && audio_usable(in->fmt->streams[ai]))
        use_audio_stream(in, ai);
    for (unsigned i = 0; i < in->fmt->nb_streams; i++)
        if ((int)i != vi && (int)i != in->a.index)
            in->fmt->streams[i]->discard = AVDISCARD_ALL;

    if ((ret = sh_input_open_decoder(in, &in->v, 1)) < 0)
        goto fail;
    if (!(in->pkt = av_packet_alloc())) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    in->stats.first_pts = AV_NOPTS_VALUE;
    in->stats.end_pts = AV_NOPTS_VALUE;
    in->next_video_pts = AV_NOPTS_VALUE;
    *pin = in;
    return 0;
fail:
    sh_input_close(&in);
    return ret;
}

const ShInputInfo *sh_input_info(const ShInput *in) { return &in->info; }

void sh_input_warn_index(const ShInput *in)
{
    const ShInputInfo *info = &in->info;
    if (info->index_size)
        sh_log(SH_LOG_WARNING, info->path, "damaged: its index (moov) is cut short, %lld of %lld bytes: "
               "tracks and frames it lists after the cut are lost%s", (long long)info->index_have,
               (long long)info->index_size, info->has_audio ? "" : " (no audio is left)");
}
const ShInputStats *sh_input_stats(const ShInput *in) { return &in->stats; }
const AVFormatContext *sh_input_format(const ShInput *in) { return in->fmt; }

void sh_input_want_audio(ShInput *in, int want)
{
    in->want_audio = want && in->info.has_audio;
    if (in->a.st)
        in->a.st->discard = in->want_audio ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

int sh_input_read(ShInput *in, AVFrame *frame, enum AVMediaType *type)
{
    int ret = in->prep ? sh_prep_read(in->prep, in, frame, type) : sh_input_read_raw(in, frame, type);
    /* After the picture stages: bwdif sees whole fields, the crop the result. */
    if (ret >= 0 && *type == AVMEDIA_TYPE_VIDEO && in->info.crop.width)
        ret = sh_input_crop_frame(in, frame);
    return ret;
}

int sh_input_set_picture(ShInput *in, int hdr, int deint)
{
    sh_prep_free(&in->prep);
    return sh_prep_open(&in->prep, &in->info, hdr, deint);
}

int sh_input_set_picture_like(ShInput *in, const ShInputInfo *like)
{
    int ret = like->picture_set ? sh_input_set_picture(in, like->hdr_mode, like->deint_mode) : 0;
    if (ret >= 0 && like->crop.width)
        ret = sh_input_set_crop(in, &like->crop);
    return ret;
}

int sh_input_seek(ShInput *in, int64_t ts)
{
    int ret = av_seek_frame(in->fmt, in->v.index, ts, AVSEEK_FLAG_BACKWARD);
    if (ret < 0)
        return ret;
    for (InputStream *s = &in->v; s; s = s == &in->v ? &in->a : NULL) {
        if (s->dec)
            avcodec_flush_buffers(s->dec);
        s->flushed = s->done = 0;
    }
    in->demux_eof = 0;
    in->pending = NULL;
    in->next_video_pts = AV_NOPTS_VALUE;
    in->video_ended = in->audio_ended = 0;
    if (in->before)
        av_frame_unref(in->before);
    if (in->after)
        av_frame_unref(in->after);
    return in->prep ? sh_prep_reset(in->prep) : 0;
}

int sh_input_select_audio(ShInput *in, int track)
{
    int n = 0;
    if (track <= 0)
        return 0;
    for (unsigned i = 0; i < in->fmt->nb_streams; i++) {
        AVStream *st = in->fmt->streams[i];
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO || ++n != track)
            continue;
        if (!audio_usable(st)) {
            sh_log(SH_LOG_ERROR, in->info.path, "audio track %d (%s) cannot be decoded", track,
                   avcodec_get_name(st->codecpar->codec_id));
            return AVERROR_STREAM_NOT_FOUND;
        }
        use_audio_stream(in, (int)i);
        return 0;
    }
    if (n)
        sh_log(SH_LOG_ERROR, in->info.path, "has no audio track %d (it has %d)", track, n);
    else
        sh_log(SH_LOG_ERROR, in->info.path, "has no audio track %d (it has none)", track);
    return AVERROR_STREAM_NOT_FOUND;
}

int sh_input_set_range(ShInput *in, double start, double end)
{
    ShInputInfo *info = &in->info;
    AVRational tb = info->video_tb;
    double total = info->duration;
    int ret;

    if (!(start >= 0) || !(end >= 0) || (end && !(end > start))) {
        sh_log(SH_LOG_ERROR, info->path, "the trim %.3f-%.3f s is empty or negative", start, end);
        return SH_ERROR_BAD_RANGE;
    }
    if (start >= total) {
        sh_log(SH_LOG_ERROR, info->path, "the trim starts at %.3f s, at or past the end of the video (%.3f s)",
               start, total);
        return SH_ERROR_BAD_RANGE;
    }
    {
        /* Less than a frame of a video cannot be shown. (Slower than one
         * frame a second, a slide show or a still, a shorter range is the
         * picture on screen then, held for it.) */
        double len = (end && end < total ? end : total) - start;
        double frame_s = info->frame_rate.num > 0 && av_q2d(info->frame_rate) >= 1 && !in->still
                       ? av_q2d(av_inv_q(info->frame_rate)) : 0;
        if (len < frame_s - 1e-6) {
            sh_log(SH_LOG_ERROR, info->path, "the trim %.3f-%.3f s is shorter than one frame (%.3f s at %.4g fps)",
                   start, start + len, frame_s, av_q2d(info->frame_rate));
            return SH_ERROR_BAD_RANGE;
        }
    }
    if (!start && (!end || end >= total))
        return 0;
    if (!in->before && !(in->before = av_frame_alloc()))
        return AVERROR(ENOMEM);
    if (!in->after && !(in->after = av_frame_alloc()))
        return AVERROR(ENOMEM);
    in->trimmed = 1;
    in->probe_end = info->video_start + av_rescale_q(llrint(total * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
    info->range_start = info->video_start + av_rescale_q(llrint(start * AV_TIME_BASE), AV_TIME_BASE_Q, tb);
    in->range_end = end && end < total
                  ? info->video_start + av_rescale_q(llrint(end * AV_TIME_BASE), AV_TIME_BASE_Q, tb)
                  : AV_NOPTS_VALUE;
    info->duration = (end && end < total ? end : total) - start;
    if (start > 0 && (ret = sh_input_seek(in, info->range_start)) < 0)
        /* Not seekable: decoding from the beginning and dropping gets there too. */
        sh_log(SH_LOG_VERBOSE, info->path, "cannot seek to the start (%s); decoding up to it",
               av_err2str(ret));
    return 0;
}

void sh_input_want_video(ShInput *in, int want)
{
    in->skip_video = !want;
    in->v.st->discard = want ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
}

int64_t sh_input_source_bytes(ShInput *in, int64_t from, int64_t to)
{
    int n = avformat_index_get_entries_count(in->v.st);
    int64_t bytes = 0;
    int ret;

    /* An index that covers the stream: sizes without reading anything. */
    if (n > 1) {
        const AVIndexEntry *last = avformat_index_get_entry(in->v.st, n - 1);
        if (last && last->size > 0 && last->timestamp >= to - (to - from) / 8) {
            for (int i = 0; i < n; i++) {
                const AVIndexEntry *e = avformat_index_get_entry(in->v.st, i);
                if (e->timestamp >= from && e->timestamp < to)
                    bytes += e->size;
            }
            return bytes;
        }
    }
    if ((ret = av_seek_frame(in->fmt, in->v.index, from, AVSEEK_FLAG_BACKWARD)) < 0 && from > 0)
        return ret;
    while ((ret = av_read_frame(in->fmt, in->pkt)) >= 0) {
        int64_t t = in->pkt->pts != AV_NOPTS_VALUE ? in->pkt->pts : in->pkt->dts;
        int v = in->pkt->stream_index == in->v.index;
        if (v && t != AV_NOPTS_VALUE && t >= to) {
            av_packet_unref(in->pkt);
            break;
        }
        if (v && (t == AV_NOPTS_VALUE || t >= from))
            bytes += in->pkt->size;
        av_packet_unref(in->pkt);
    }
    return ret < 0 && ret != AVERROR_EOF ? ret : bytes;
}

int sh_input_scan_video(ShInput *in, int (*fn)(void *opaque, const AVPacket *pkt), void *opaque)
{
    enum AVDiscard audio = in->a.st ? in->a.st->discard : AVDISCARD_ALL;
    int ret, stop = 0;

    if (in->a.st)
        in->a.st->discard = AVDISCARD_ALL;
    while ((ret = av_read_frame(in->fmt, in->pkt)) >= 0) {
        if (in->pkt->stream_index == in->v.index)
            stop = fn(opaque, in->pkt);
        av_packet_unref(in->pkt);
        if (stop)
            break;
    }
    if (in->a.st)
        in->a.st->discard = audio;
    if (stop)
        return stop;
    if (ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, in->info.path, "cannot read its video: %s", av_err2str(ret));
    return ret;
}

static void close_stream(InputStream *s)
{
    avcodec_free_context(&s->dec);
}

void sh_input_close(ShInput **pin)
{
    ShInput *in = *pin;
    if (!in)
        return;
    close_stream(&in->v);
    close_stream(&in->a);
    av_frame_free(&in->before);
    av_frame_free(&in->after);
    sh_prep_free(&in->prep);
    av_packet_free(&in->pkt);
    sh_media_close(&in->fmt);
    av_freep(pin);
}
