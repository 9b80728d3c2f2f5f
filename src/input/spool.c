/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "common/temp.h"
#include "input/spool.h"

typedef struct SpoolEntry {
    int64_t pts, dts, duration;
    int64_t offset;           /* in the file, once spilled */
    uint8_t *data;            /* in memory, or NULL */
    int size, flags;
} SpoolEntry;

struct ShPacketSpool {
    SpoolEntry *e;
    int64_t count, alloc, next;
    int64_t bytes;
    size_t mem_limit, mem_used;
    FILE *spill;
    int64_t spill_end;
};

int sh_spool_open(ShPacketSpool **ps, size_t mem_limit)
{
    ShPacketSpool *s = av_mallocz(sizeof(*s));
    if (!s)
        return AVERROR(ENOMEM);
    s->mem_limit = mem_limit;
    *ps = s;
    return 0;
}

int sh_spool_put(ShPacketSpool *s, const AVPacket *pkt)
{
    SpoolEntry *e;
    if (s->count == s->alloc) {
        int64_t n = s->alloc ? s->alloc * 2 : 256;
        void *p = av_realloc_array(s->e, n, sizeof(*s->e));
        if (!p)
            return AVERROR(ENOMEM);
        s->e = p;
        s->alloc = n;
    }
    e = &s->e[s->count];
    *e = (SpoolEntry){ .pts = pkt->pts, .dts = pkt->dts, .duration = pkt->duration,
                       .size = pkt->size, .flags = pkt->flags };
    if (s->mem_used + pkt->size <= s->mem_limit) {
        if (!(e->data = av_memdup(pkt->data, pkt->size ? pkt->size : 1)))
            return AVERROR(ENOMEM);
        s->mem_used += pkt->size;
    } else {
        /* Past the bound: this packet and the rest go to disk, appended. */
        if (!s->spill && !(s->spill = sh_temp_anon()))
            return AVERROR(errno ? errno : EIO);
        if (fseeko(s->spill, s->spill_end, SEEK_SET) < 0 ||
            fwrite(pkt->data, 1, pkt->size, s->spill) != (size_t)pkt->size)
            return AVERROR(errno ? errno : EIO);
        e->offset = s->spill_end;
        s->spill_end += pkt->size;
    }
    s->bytes += pkt->size;
    s->count++;
    return 0;
}

int sh_spool_rewind(ShPacketSpool *s)
{
    s->next = 0;
    if (s->spill && fflush(s->spill) < 0)
        return AVERROR(errno);
    return 0;
}

int sh_spool_get(ShPacketSpool *s, AVPacket *pkt)
{
    const SpoolEntry *e;
    int ret;
    if (s->next >= s->count)
        return AVERROR_EOF;
    e = &s->e[s->next];
    if ((ret = av_new_packet(pkt, e->size)) < 0)
        return ret;
    if (e->data) {
        memcpy(pkt->data, e->data, e->size);
    } else if (fseeko(s->spill, e->offset, SEEK_SET) < 0 ||
               fread(pkt->data, 1, e->size, s->spill) != (size_t)e->size) {
        av_packet_unref(pkt);
        return AVERROR(errno ? errno : EIO);
    }
    pkt->pts = e->pts;
    pkt->dts = e->dts;
    pkt->duration = e->duration;
    pkt->flags = e->flags;
    s->next++;
    return 0;
}

int64_t sh_spool_count(const ShPacketSpool *s)
{
    return s ? s->count : 0;
}

int64_t sh_spool_bytes(const ShPacketSpool *s)
{
    return s ? s->bytes : 0;
}

int sh_spool_info(const ShPacketSpool *s, int64_t i, int64_t *pts, int64_t *dts, int64_t *duration, int *flags,
                  int *size)
{
    const SpoolEntry *e;
    if (i < 0 || i >= s->count)
        return AVERROR(EINVAL);
    e = &s->e[i];
    if (pts) *pts = e->pts;
    if (dts) *dts = e->dts;
    if (duration) *duration = e->duration;
    if (flags) *flags = e->flags;
    if (size) *size = e->size;
    return 0;
}

void sh_spool_free(ShPacketSpool **ps)
{
    ShPacketSpool *s = *ps;
    if (!s)
        return;
    for (int64_t i = 0; i < s->count; i++)
        av_free(s->e[i].data);
    av_free(s->e);
    if (s->spill)
        fclose(s->spill);
    av_freep(ps);
}
