/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "common/log.h"
#include "job/source.h"

struct ShFrameSource {
    ShFrameCache *cache;            /* from a cache: the frames; re-decode: the index */
    const ShFrameCache *index;
    /* re-decode */
    char *path;
    double start, end;
    ShRung rung;
    enum AVPixelFormat pix_fmt;
    const ShInputInfo *like;     /* the job's input: its picture decisions are repeated */
    ShInput *in;
    ShStage *chain[2];
    AVFrame *frame, *tmp;
    int in_ended, fps_ended;        /* end of stream sent to fps, to scale */
    int touched;                    /* read from since it was opened */
    int64_t next;
};

int sh_video_chain_create(ShStage *chain[2], const ShInputInfo *info, const ShRung *rung,
                          enum AVPixelFormat pix_fmt)
{
    ShStreamInfo vin = { 0 };
    ShStageArgs va = { 0 };
    int ret;
    vin.type = AVMEDIA_TYPE_VIDEO;
    vin.time_base = info->video_tb;
    vin.width = info->width;
    vin.height = info->height;
    vin.sar = info->sar;
    va.fps = rung->fps;
    va.width = rung->width;
    va.height = rung->height;
    va.pix_fmt = pix_fmt;
    if ((ret = sh_stage_create(&chain[0], "fps", &vin, &va)) < 0 ||
        (ret = sh_stage_create(&chain[1], "scale", &chain[0]->out, &va)) < 0)
        return ret;
    return 0;
}

int sh_source_from_cache(ShFrameSource **ps, ShFrameCache *c)
{
    ShFrameSource *s = av_mallocz(sizeof(*s));
    if (!s)
        return AVERROR(ENOMEM);
    s->cache = c;
    s->index = c;
    *ps = s;
    return 0;
}

static void redecode_close(ShFrameSource *s)
{
    sh_stage_free(&s->chain[0]);
    sh_stage_free(&s->chain[1]);
    sh_input_close(&s->in);
}

/* Open the input anew: a fresh demuxer and decoder give the same frames as the first time. */
static int redecode_open(ShFrameSource *s)
{
    int ret;
    redecode_close(s);
    s->in_ended = s->fps_ended = s->touched = 0;
    s->next = 0;
    /* The same pictures as the first decode: deinterlaced and tone-mapped alike. */
    if ((ret = sh_input_open(&s->in, s->path)) < 0 || (ret = sh_input_set_picture_like(s->in, s->like)) < 0 ||
        (ret = sh_input_set_range(s->in, s->start, s->end)) < 0)
        return ret;
    sh_input_want_audio(s->in, 0);
    if ((ret = sh_video_chain_create(s->chain, sh_input_info(s->in), &s->rung, s->pix_fmt)) < 0)
        sh_log(SH_LOG_ERROR, s->path, "cannot set up the decode again: %s", av_err2str(ret));
    return ret;
}

int sh_source_redecode(ShFrameSource **ps, const char *path, const ShInputInfo *like, double start, double end,
                       const ShRung *rung, enum AVPixelFormat pix_fmt, const ShFrameCache *index)
{
    ShFrameSource *s = av_mallocz(sizeof(*s));
    int ret;
    if (!s || !(s->path = av_strdup(path)) || !(s->frame = av_frame_alloc()) || !(s->tmp = av_frame_alloc())) {
        sh_source_free(&s);
        return AVERROR(ENOMEM);
    }
    s->index = index;
    s->like = like;
    s->start = start;
    s->end = end;
    s->rung = *rung;
    s->pix_fmt = pix_fmt;
    /* Opened now: an input that cannot be opened again fails before any encode. */
    if ((ret = redecode_open(s)) < 0) {
        sh_source_free(&s);
        return ret;
    }
    *ps = s;
    return 0;
}

int sh_source_rewind(ShFrameSource *s)
{
    if (s->cache)
        return sh_frame_cache_rewind(s->cache);
    /* Still at the start (opened, nothing read): no need to open again. */
    if (!s->touched && s->in)
        return 0;
    return redecode_open(s);
}

/* Pull one frame out of input -> fps -> scale. */
static int redecode_next(ShFrameSource *s, AVFrame *out)
{
    enum AVMediaType type;
    int ret;
    for (;;) {
        ret = sh_stage_receive(s->chain[1], out);
        if (ret != AVERROR(EAGAIN))
            return ret;
        if (s->fps_ended)
            return AVERROR_EOF;     /* scale had its end and says EAGAIN: nothing more */
        ret = sh_stage_receive(s->chain[0], s->tmp);
        if (ret >= 0) {
            ret = sh_stage_send(s->chain[1], s->tmp);
            av_frame_unref(s->tmp);
            if (ret < 0)
                return ret;
            continue;
        }
        if (ret == AVERROR_EOF) {
            s->fps_ended = 1;
            if ((ret = sh_stage_send(s->chain[1], NULL)) < 0)
                return ret;
            continue;
        }
        if (ret != AVERROR(EAGAIN))
            return ret;
        if (s->in_ended)
            return AVERROR_EOF;
        ret = sh_input_read(s->in, s->frame, &type);
        if (ret == AVERROR_EOF) {
            s->in_ended = 1;
            if ((ret = sh_stage_send(s->chain[0], NULL)) < 0)
                return ret;
            continue;
        }
        if (ret < 0)
            return ret;
        if (type == AVMEDIA_TYPE_VIDEO)
            ret = sh_stage_send(s->chain[0], s->frame);
        av_frame_unref(s->frame);
        if (ret < 0)
            return ret;
    }
}

/* What a cache gives: the picture, its pts and square pixels, nothing else
 * (no side data, colour tags or flags the encoder might write differently). */
static int bare_frame(AVFrame *f)
{
    AVFrame *b = av_frame_alloc();
    if (!b) {
        av_frame_unref(f);
        return AVERROR(ENOMEM);
    }
    b->format = f->format;
    b->width = f->width;
    b->height = f->height;
    b->pts = f->pts;
    b->sample_aspect_ratio = (AVRational){ 1, 1 };
    for (int i = 0; i < AV_NUM_DATA_POINTERS; i++) {
        b->data[i] = f->data[i];
        b->linesize[i] = f->linesize[i];
        if (f->buf[i] && !(b->buf[i] = av_buffer_ref(f->buf[i]))) {
            av_frame_free(&b);
            av_frame_unref(f);
            return AVERROR(ENOMEM);
        }
    }
    b->extended_data = b->data;
    av_frame_unref(f);
    av_frame_move_ref(f, b);
    av_frame_free(&b);
    return 0;
}

int sh_source_get(ShFrameSource *s, AVFrame *out)
{
    int ret;
    if (s->cache)
        return sh_frame_cache_get(s->cache, out);
    s->touched = 1;
    ret = redecode_next(s, out);
    if (ret == AVERROR_EOF && s->next < sh_frame_cache_count(s->index))
        goto differs;
    if (ret < 0)
        return ret;
    if (s->next >= sh_frame_cache_count(s->index) || out->pts != sh_frame_cache_pts(s->index, s->next)) {
        av_frame_unref(out);
        goto differs;
    }
    s->next++;
    return bare_frame(out);
differs:
    /* The encoder's first pass saw other frames: its log would not match. */
    sh_log(SH_LOG_ERROR, s->path, "decoded differently the second time (frame %lld of %lld)",
           (long long)s->next, (long long)sh_frame_cache_count(s->index));
    return AVERROR_INVALIDDATA;
}

int64_t sh_source_count(const ShFrameSource *s)
{
    return sh_frame_cache_count(s->index);
}

int sh_source_is_redecode(const ShFrameSource *s)
{
    return !s->cache;
}

void sh_source_free(ShFrameSource **ps)
{
    ShFrameSource *s = *ps;
    if (!s)
        return;
    redecode_close(s);
    av_frame_free(&s->frame);
    av_frame_free(&s->tmp);
    av_free(s->path);
    av_freep(ps);
}
