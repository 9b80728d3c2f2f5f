/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <libavutil/common.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/mem.h>

#include "common/temp.h"
#include "common/tmpspace.h"
#include "input/cache.h"

struct ShFrameCache {
    int width, height;
    enum AVPixelFormat fmt;
    size_t frame_bytes;
    size_t mem_frames;        /* how many fit in memory */
    uint8_t **mem;            /* one buffer per in-memory frame */
    FILE *spill;
    int64_t spill_bytes, disk_limit;
    enum ShCacheFull full_mode;
    int dropped;              /* pictures dropped: an index of pts only */
    int64_t *pts;
    int64_t count, alloc, next;
};

int sh_frame_cache_open(ShFrameCache **pc, int width, int height, enum AVPixelFormat fmt, size_t mem_limit)
{
    ShFrameCache *c = av_mallocz(sizeof(*c));
    int size;
    if (!c)
        return AVERROR(ENOMEM);
    size = av_image_get_buffer_size(fmt, width, height, 1);
    if (size <= 0) {
        av_free(c);
        return size < 0 ? size : AVERROR(EINVAL);
    }
    c->width = width;
    c->height = height;
    c->fmt = fmt;
    c->frame_bytes = (size_t)size;
    c->mem_frames = mem_limit / c->frame_bytes;
    c->disk_limit = INT64_MAX;
    *pc = c;
    return 0;
}

void sh_frame_cache_set_disk_limit(ShFrameCache *c, int64_t disk_limit, enum ShCacheFull mode)
{
    c->disk_limit = FFMAX(disk_limit, 0);
    c->full_mode = mode;
}

int sh_frame_cache_has_pictures(const ShFrameCache *c) { return !c->dropped; }
size_t sh_frame_cache_frame_bytes(const ShFrameCache *c) { return c->frame_bytes; }

/* Keep the pts, free the pictures and the spill: the disk is given back now. */
static void drop_pictures(ShFrameCache *c)
{
    for (int64_t i = 0; c->mem && i < c->count && (size_t)i < c->mem_frames; i++)
        av_free(c->mem[i]);
    av_freep(&c->mem);
    c->mem_frames = 0;
    if (c->spill)
        fclose(c->spill);
    c->spill = NULL;
    c->spill_bytes = 0;
    c->dropped = 1;
}

int sh_frame_cache_put(ShFrameCache *c, const AVFrame *f)
{
    uint8_t *buf = NULL;
    int ret;

    if (f->width != c->width || f->height != c->height || f->format != c->fmt)
        return AVERROR(EINVAL);
    if (c->count == c->alloc) {
        int64_t n = c->alloc ? c->alloc * 2 : 1024;
        void *p = av_realloc_array(c->pts, n, sizeof(*c->pts));
        if (!p)
            return AVERROR(ENOMEM);
        c->pts = p;
        if ((size_t)c->count < c->mem_frames) {
            p = av_realloc_array(c->mem, FFMIN((size_t)n, c->mem_frames), sizeof(*c->mem));
            if (!p)
                return AVERROR(ENOMEM);
            c->mem = p;
        }
        c->alloc = n;
    }
    if (!c->dropped && (size_t)c->count >= c->mem_frames &&
        c->spill_bytes + (int64_t)c->frame_bytes > c->disk_limit) {
        if (c->full_mode == SH_CACHE_FULL_REFUSE)
            return SH_ERROR_CACHE_FULL;
        drop_pictures(c);
    }
    if (c->dropped)
        goto index;
    if ((size_t)c->count < c->mem_frames) {
        if (!(buf = av_malloc(c->frame_bytes)))
            return AVERROR(ENOMEM);
        c->mem[c->count] = buf;
    } else {
        if (!c->spill) {
            if (!(c->spill = sh_temp_anon()))
                return AVERROR(errno ? errno : EIO);
            /* Whole frames at a time: no buffer, so a full disk shows here, not at a later flush. */
            setvbuf(c->spill, NULL, _IONBF, 0);
        }
        if (!(buf = av_malloc(c->frame_bytes)))
            return AVERROR(ENOMEM);
    }
    ret = av_image_copy_to_buffer(buf, (int)c->frame_bytes, (const uint8_t *const *)f->data,
                                  f->linesize, c->fmt, c->width, c->height, 1);
    if (ret >= 0 && (size_t)c->count >= c->mem_frames) {
        errno = 0;
        if (fwrite(buf, 1, c->frame_bytes, c->spill) != c->frame_bytes)
            ret = AVERROR(errno ? errno : EIO);
        else
            c->spill_bytes += c->frame_bytes;
        av_free(buf);
        if (sh_tmp_is_full(ret) && c->full_mode == SH_CACHE_FULL_DROP) {
            /* Someone else filled the disk: decoding again needs no room. */
            drop_pictures(c);
            ret = 0;
        }
    }
    if (ret < 0)
        return ret;
index:
    c->pts[c->count++] = f->pts;
    return 0;
}

int sh_frame_cache_rewind(ShFrameCache *c)
{
    c->next = 0;
    if (c->spill) {
        if (fflush(c->spill) || fseeko(c->spill, 0, SEEK_SET))
            return AVERROR(errno);
    }
    return 0;
}

int sh_frame_cache_seal(ShFrameCache *c)
{
    if (c->spill && fflush(c->spill))
        return AVERROR(errno);
    return 0;
}

/* Frame i into out; a spilled frame is read with pread (no shared offset). */
static int read_frame(const ShFrameCache *c, int64_t i, AVFrame *out, int use_stream)
{
    uint8_t *src, *tmp = NULL;
    uint8_t *data[4];
    int linesize[4], ret;

    if (i < 0 || i >= c->count)
        return AVERROR_EOF;
    if (c->dropped)
        return AVERROR(ENODATA);
    out->width = c->width;
    out->height = c->height;
    out->format = c->fmt;
    if ((ret = av_frame_get_buffer(out, 0)) < 0)
        return ret;
    if ((size_t)i < c->mem_frames) {
        src = c->mem[i];
    } else {
        size_t got;
        if (!(tmp = av_malloc(c->frame_bytes))) {
            av_frame_unref(out);
            return AVERROR(ENOMEM);
        }
        if (use_stream) {
            got = fread(tmp, 1, c->frame_bytes, c->spill);
        } else {
            ssize_t r = pread(fileno(c->spill), tmp, c->frame_bytes,
                              (off_t)((size_t)(i - (int64_t)c->mem_frames) * c->frame_bytes));
            got = r < 0 ? 0 : (size_t)r;
        }
        if (got != c->frame_bytes) {
            av_free(tmp);
            av_frame_unref(out);
            return AVERROR(EIO);
        }
        src = tmp;
    }
    av_image_fill_arrays(data, linesize, src, c->fmt, c->width, c->height, 1);
    av_image_copy(out->data, out->linesize, (const uint8_t **)data, linesize, c->fmt, c->width, c->height);
    av_free(tmp);
    out->pts = c->pts[i];
    out->sample_aspect_ratio = (AVRational){ 1, 1 };
    return 0;
}

int sh_frame_cache_get(ShFrameCache *c, AVFrame *out)
{
    int ret = read_frame(c, c->next, out, 1);
    if (ret >= 0)
        c->next++;
    return ret;
}

int sh_frame_cache_read(const ShFrameCache *c, int64_t i, AVFrame *out)
{
    return read_frame(c, i, out, 0);
}

int64_t sh_frame_cache_count(const ShFrameCache *c) { return c->count; }
int64_t sh_frame_cache_pts(const ShFrameCache *c, int64_t i) { return c->pts[i]; }

int64_t sh_frame_cache_find(const ShFrameCache *c, int64_t pts)
{
    int64_t lo = 0, hi = c->count - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (c->pts[mid] == pts)
            return mid;
        if (c->pts[mid] < pts)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

void sh_frame_cache_free(ShFrameCache **pc)
{
    ShFrameCache *c = *pc;
    if (!c)
        return;
    for (int64_t i = 0; c->mem && i < c->count && (size_t)i < c->mem_frames; i++)
        av_free(c->mem[i]);
    av_free(c->mem);
    av_free(c->pts);
    if (c->spill)
        fclose(c->spill);
    av_freep(pc);
}
