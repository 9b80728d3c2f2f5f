/*
 * The source's profile for the long job: bytes over time, one decode's time.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/mathematics.h>
#include <libavutil/mem.h>

#include "job/job.h"
#include "job/profile.h"
#include "job/state.h"
#include "shrink/shrink.h"

#define SH_PROFILE_DECODE_SECONDS 20
#define SH_PROFILE_EXPONENT 0.6

typedef struct Scan {
    ShSourceProfile *p;
    int64_t origin;
    AVRational tb;
} Scan;

static int scan_packet(void *opaque, const AVPacket *pkt)
{
    Scan *sc = opaque;
    int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    int64_t i;
    if (sh_job_interrupted())
        return SH_ERROR_INTERRUPTED;
    if (t == AV_NOPTS_VALUE || t < sc->origin)
        return 0;
    i = (int64_t)((t - sc->origin) * av_q2d(sc->tb));
    if (i < sc->p->nsec)
        sc->p->sec_bytes[i] += pkt->size;
    return 0;
}

int sh_profile_scan(ShSourceProfile *p, const char *path, const ShInputInfo *info, int64_t origin)
{
    ShInput *in = NULL;
    Scan sc = { p, origin, info->video_tb };
    int ret;
    p->nsec = (int)ceil(info->duration) + 2;
    if (!(p->sec_bytes = av_calloc(p->nsec, sizeof(*p->sec_bytes))))
        return AVERROR(ENOMEM);
    /* A handle of its own: the scan reads the whole file from its start. */
    if ((ret = sh_input_open(&in, path)) >= 0)
        ret = sh_input_scan_video(in, scan_packet, &sc);
    sh_input_close(&in);
    return ret;
}

int sh_profile_decode_time(ShSourceProfile *p, const char *path, const ShInputInfo *info, double start)
{
    ShInput *in = NULL;
    AVFrame *f = av_frame_alloc();
    enum AVMediaType type;
    double a = start + 0.4 * info->duration, t0 = sh_now(), first = NAN, last = NAN;
    int ret;

    if (!f)
        return AVERROR(ENOMEM);
    /* Its own handle, nothing else running: the decode alone, as `ffmpeg -i FILM -f null -` times it. */
    if ((ret = sh_input_open(&in, path)) < 0 ||
        (ret = sh_input_set_range(in, a, a + SH_PROFILE_DECODE_SECONDS)) < 0)
        goto end;
    while ((ret = sh_input_read(in, f, &type)) >= 0) {
        double t = f->pts * av_q2d(info->video_tb);
        first = isnan(first) ? t : first;
        last = t;
        av_frame_unref(f);
    }
    if (ret == AVERROR_EOF && last > first)
        p->decode_seconds = (sh_now() - t0) / (last - first) * info->duration;
    if (ret == AVERROR_EOF)
        ret = 0;
end:
    av_frame_free(&f);
    sh_input_close(&in);
    return ret;
}

double sh_profile_weight(const ShSourceProfile *p, double a, double b)
{
    double bytes = 0, secs = b - a;
    if (!(secs > 0))
        return 0;
    for (int i = FFMAX((int)floor(a), 0); i < p->nsec && i < b; i++)
        bytes += p->sec_bytes[i] * (FFMIN(b, i + 1) - FFMAX(a, i));
    return secs * pow(FFMAX(bytes / secs, 1), SH_PROFILE_EXPONENT);
}

void sh_profile_uninit(ShSourceProfile *p)
{
    av_freep(&p->sec_bytes);
    p->nsec = 0;
}
