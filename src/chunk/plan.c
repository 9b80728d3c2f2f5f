/*
 * The scale-out plan: the solver's choice for the whole film, the chunks
 * and their budgets, the audio (the file: planfile.c).
 *
 * Chunk boundaries sit on source keyframes near equal steps (the source's
 * encoder put them at scene cuts or regular intervals: a new IDR there costs
 * little), and, when frames are dropped, only on frames that open an output
 * slot of the whole film's grid, so the chunks keep the same frames the
 * single-process encode keeps. Each chunk's share of the video budget
 * follows its measured complexity (the source's own bytes over it, read from
 * the demuxer without decoding: sh_input_scan_video): seconds x (bytes per second)^0.6, the share
 * x264's two-pass gives a stretch of that complexity over a whole film
 * (qcomp 0.6: bits ~ complexity^0.6).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>
#include <libavutil/mem.h>
#include <libavutil/sha.h>

#include "common/log.h"
#include "common/temp.h"
#include "encoders/encoder.h"
#include "input/input.h"
#include "input/open.h"
#include "job/job.h"
#include "job/subs.h"
#include "chunk/chunk_int.h"
#include "shrink/job.h"
#include "solver/plan.h"

/* x264's default qcomp: the exponent of complexity its two-pass spends bits by. */
#define SH_CHUNK_EXPONENT 0.6
/* Without --chunks or --chunk-length: about this long each. */
#define SH_CHUNK_DEFAULT_SECONDS 60.0
/* Shorter chunks than this are not made (each costs an IDR and a rate-control warm-up). */
#define SH_CHUNK_MIN_SECONDS 1.0
/* How far from its ideal place a boundary may move to reach a keyframe: this share of a chunk. */
#define SH_CHUNK_SNAP 0.25
#define SH_CHUNK_HASH_SPAN ((int64_t)1 << 20)

typedef struct Frame {
    int64_t pts;
    int size;
    int key;
} Frame;

/* ---- the input's fingerprint ---- */

static int hash_span(int fd, struct AVSHA *sha, int64_t off, int64_t len)
{
    uint8_t buf[65536];
    while (len > 0) {
        ssize_t n = pread(fd, buf, (size_t)FFMIN(len, (int64_t)sizeof(buf)), off);
        if (n < 0)
            return AVERROR(errno);
        if (!n)
            break;
        av_sha_update(sha, buf, (unsigned)n);
        off += n;
        len -= n;
    }
    return 0;
}

int sh_chunk_hash_file(const char *path, char *hex, int64_t *size)
{
    struct AVSHA *sha = av_sha_alloc();
    uint8_t digest[32];
    int64_t len = 0;
    int fd = -1, ret;

    if (!sha)
        return AVERROR(ENOMEM);
    if ((fd = ret = sh_open_regular(path, &len, 0)) < 0)
        goto end;
    /* The container's header is at the start, or (MP4 without faststart) at
     * the end: both ends, and the size, tell one file from another without
     * reading a film twice. */
    av_sha_init(sha, 256);
    if ((ret = hash_span(fd, sha, 0, FFMIN(len, SH_CHUNK_HASH_SPAN))) < 0 ||
        (len > SH_CHUNK_HASH_SPAN &&
         (ret = hash_span(fd, sha, FFMAX(SH_CHUNK_HASH_SPAN, len - SH_CHUNK_HASH_SPAN),
                          SH_CHUNK_HASH_SPAN)) < 0)) {
        sh_log(SH_LOG_ERROR, path, "cannot read it: %s", av_err2str(ret));
        goto end;
    }
    av_sha_final(sha, digest);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    *size = len;
    ret = 0;
end:
    if (fd >= 0)
        close(fd);
    av_free(sha);
    return ret;
}

int sh_chunk_check_input(const ShChunkPlan *plan, const char *input)
{
    char hex[65];
    int64_t size;
    int ret = sh_chunk_hash_file(input, hex, &size);
    if (ret < 0)
        return ret;
    if (size != plan->input_size) {
        sh_log(SH_LOG_ERROR, input, "is not the plan's input: %lld bytes, the plan was made from %lld",
               (long long)size, (long long)plan->input_size);
        return SH_ERROR_PLAN_INPUT;
    }
    if (strcmp(hex, plan->input_hash)) {
        sh_log(SH_LOG_ERROR, input, "is not the plan's input: same size, different content");
        return SH_ERROR_PLAN_INPUT;
    }
    return 0;
}

/* ---- the source's frames, from the demuxer (no decoding) ---- */

static int cmp_frames(const void *a, const void *b)
{
    const Frame *x = a, *y = b;
    return x->pts < y->pts ? -1 : x->pts > y->pts;
}

typedef struct Scan {
    Frame *frames;
    int64_t n, alloc, last_end;
} Scan;

/* One video packet of the source: its pts, size and key flag. */
static int scan_packet(void *opaque, const AVPacket *pkt)
{
    Scan *s = opaque;
    int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    if (sh_job_interrupted())
        return SH_ERROR_INTERRUPTED;
    if (t == AV_NOPTS_VALUE)
        return 0;
    if (s->n == s->alloc) {
        int64_t want = s->alloc ? s->alloc * 2 : 4096;
        Frame *f = av_realloc_array(s->frames, want, sizeof(*f));
        if (!f)
            return AVERROR(ENOMEM);
        s->frames = f;
        s->alloc = want;
    }
    s->frames[s->n++] = (Frame){ t, pkt->size, !!(pkt->flags & AV_PKT_FLAG_KEY) };
    s->last_end = FFMAX(s->last_end, t + FFMAX(pkt->duration, 0));
    return 0;
}

/* Every video packet's pts, size and key flag, in pts order; *end: the last one's end. */
static int scan_frames(const char *path, Frame **out, int64_t *nout, int64_t *end)
{
    ShInput *in = NULL;
    Scan s = { .last_end = INT64_MIN };
    int ret;

    /* A handle of its own: the scan reads the whole file from its start. */
    if ((ret = sh_input_open(&in, path)) < 0 || (ret = sh_input_scan_video(in, scan_packet, &s)) < 0)
        goto end;
    if (!s.n) {
        sh_log(SH_LOG_ERROR, path, "no video packets");
        ret = SH_ERROR_NO_VIDEO;
        goto end;
    }
    qsort(s.frames, s.n, sizeof(*s.frames), cmp_frames);
    *out = s.frames;
    s.frames = NULL;
    *nout = s.n;
    *end = s.last_end;
    ret = 0;
end:
    av_free(s.frames);
    sh_input_close(&in);
    return ret;
}

/* ---- cutting ---- */

/*
 * Whether a frame at pts opens an output slot on the film's grid. Frames
 * are dropped to the output rate by slots of 1/fps counted from the film's
 * first frame (stages/fps.c); a chunk counts its own from its first frame,
 * so a boundary off the grid would keep different frames near it.
 */
static int on_grid(const ShChunkPlan *p, int64_t pts, int64_t origin, AVRational src_rate)
{
    double slots;
    if (!src_rate.num || av_cmp_q(p->fps, src_rate) >= 0)
        return 1;    /* no frame is dropped */
    slots = (pts - origin) * av_q2d(p->video_tb) * av_q2d(p->fps);
    return fabs(slots - llrint(slots)) < 1.0 / 16;
}

static int cut(ShChunkPlan *p, const Frame *fr, int64_t n, int64_t origin, int64_t end,
               AVRational src_rate, int nchunks)
{
    int64_t step = (end - origin) / nchunks, prev = origin, lo = 0;
    int prev_key = 1;    /* the film's start is the first chunk's, a keyframe or not */
    ShChunk *c;

    if (!(p->chunks = av_calloc(nchunks, sizeof(*p->chunks))))
        return AVERROR(ENOMEM);
    p->nchunks = 0;
    for (int k = 1; k <= nchunks; k++) {
        int64_t ideal = origin + step * k, snap = (int64_t)(step * SH_CHUNK_SNAP), best = -1, best_key = -1;
        int64_t b;
        if (k < nchunks) {
            /* The nearest eligible keyframe within the snap distance, else the nearest eligible frame. */
            while (lo < n && fr[lo].pts <= prev)
                lo++;
            for (int64_t i = lo; i < n && fr[i].pts < end && fr[i].pts <= ideal + snap; i++) {
                int64_t d = llabs(fr[i].pts - ideal);
                if (fr[i].pts - prev < step / 4 || !on_grid(p, fr[i].pts, origin, src_rate))
                    continue;
                if (best < 0 || d < llabs(fr[best].pts - ideal))
                    best = i;
                if (fr[i].key && d <= snap && (best_key < 0 || d < llabs(fr[best_key].pts - ideal)))
                    best_key = i;
            }
            if (best_key >= 0)
                best = best_key;
            if (best < 0)
                continue;     /* no frame to cut at here: the chunk grows */
            b = fr[best].pts;
        } else {
            b = end;
        }
        c = &p->chunks[p->nchunks++];
        c->start = prev;
        c->end = b;
        c->keyframe = prev_key;
        prev_key = best >= 0 && fr[best].key;
        prev = b;
    }
    /* Frames and the source's bytes in each. */
    for (int64_t i = 0, k = 0; i < n; i++) {
        if (fr[i].pts < origin || fr[i].pts >= end)
            continue;
        while (k < p->nchunks - 1 && fr[i].pts >= p->chunks[k].end)
            k++;
        p->chunks[k].frames++;
        p->chunks[k].source_bytes += fr[i].size;
    }
    for (int k = 0; k < p->nchunks; k++) {
        p->chunks[k].start_s = (p->chunks[k].start - p->video_start) * av_q2d(p->video_tb);
        p->chunks[k].end_s = (p->chunks[k].end - p->video_start) * av_q2d(p->video_tb);
    }
    return 0;
}

int64_t sh_chunk_out_frames(const ShChunkPlan *p, const ShChunk *c)
{
    return (int64_t)ceil((c->end - c->start) * av_q2d(p->video_tb) * av_q2d(p->fps)) + 1;
}

/*
 * The budget: the target less the audio file and the joined container's
 * estimate, split by weight; each chunk's file also carries its own
 * container bytes, added to its share (they are not in the joined file,
 * where one index replaces them all).
 */
int sh_chunk_split_budget(ShChunkPlan *p, int64_t audio_packets)
{
    int64_t out_frames = 0, video;
    double total_w = 0;
    for (int k = 0; k < p->nchunks; k++) {
        ShChunk *c = &p->chunks[k];
        double secs = (c->end - c->start) * av_q2d(p->video_tb);
        double rate = secs > 0 ? c->source_bytes / secs : 0;
        c->weight = secs > 0 ? secs * pow(FFMAX(rate, 1), p->exponent) : 0;
        total_w += c->weight;
        out_frames += sh_chunk_out_frames(p, c);
    }
    p->reserve_bytes = sh_budget_overhead(out_frames, audio_packets);
    video = p->target_bytes - p->audio_bytes - p->reserve_bytes;
    if (video <= 0 || !(total_w > 0)) {
        sh_log(SH_LOG_ERROR, p->input, "target %lld bytes leaves nothing for the video after %lld of audio",
               (long long)p->target_bytes, (long long)p->audio_bytes);
        return SH_ERROR_TARGET_TOO_SMALL;
    }
    for (int k = 0; k < p->nchunks; k++) {
        ShChunk *c = &p->chunks[k];
        c->weight /= total_w;
        c->budget = (int64_t)floor(video * c->weight) + sh_budget_overhead(sh_chunk_out_frames(p, c), 0);
    }
    return 0;
}

/* ---- the plan ---- */

static int audio_path_for(char *out, size_t len, const char *plan_path)
{
    const char *slash = strrchr(plan_path, '/');
    const char *base = slash ? slash + 1 : plan_path;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - plan_path) : (int)strlen(plan_path);
    int n = snprintf(out, len, "%.*s.audio.mp4", stem, plan_path);
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

int sh_chunk_plan(const ShOptions *opt, const ShChunkOptions *so, const char *plan_path,
                  ShChunkPlan **pplan, ShJobResult *res)
{
    ShChunkPlan *p = av_mallocz(sizeof(*p));
    ShOptions po = *opt;
    ShJobPlan jp;
    ShInput *in = NULL;
    ShSubs *subs = NULL;
    const ShInputInfo *info;
    Frame *frames = NULL;
    int64_t nframes = 0, last_end, origin, end, audio_packets = 0;
    AVRational src_rate;
    char audio_out[PATH_MAX];
    ShPhase phase = SH_PHASE_INPUT;   /* where a failure after the solver's is */
    int nchunks, ret;

    memset(res, 0, sizeof(*res));
    if (!p)
        return AVERROR(ENOMEM);
    /* Find out now, not after the analysis, if the plan and its audio can be written. */
    if (so->audio_output)
        snprintf(audio_out, sizeof(audio_out), "%s", so->audio_output);
    else if ((ret = audio_path_for(audio_out, sizeof(audio_out), plan_path)) < 0)
        goto end;
    for (int i = 0; i < 2; i++) {
        char probe[PATH_MAX];
        const char *dest = i ? audio_out : plan_path;
        if ((ret = sh_temp_create_beside(probe, sizeof(probe), dest)) < 0) {
            sh_log(SH_LOG_ERROR, dest, "cannot write there: %s", av_err2str(ret));
            res->failed_phase = SH_PHASE_OUTPUT;
            goto end;
        }
        sh_temp_remove(probe);
    }
    /* The solver's choice for the whole film: what every chunk will be.
     * Unless asked otherwise, an encoder whose chunks join under one set of
     * parameter sets (h264.c rewrites them); other encoders' chunks join
     * only when theirs are identical. */
    if (!po.codec || !strcmp(po.codec, "auto")) {
        const ShEncoderDesc *d = sh_encoder_with_caps(SH_ENC_CAP_JOINS_CHUNKS);
        po.codec = d ? d->name : NULL;
    }
    po.plan_only = 1;
    po.progress = NULL;
    if ((ret = sh_job_plan(&po, &jp, res)) < 0)
        goto end;
    if (!res->encoder || !(res->fps > 0) || !res->width) {
        sh_log(SH_LOG_ERROR, opt->input, "the solver made no video plan");
        ret = AVERROR(EINVAL);
        goto end;
    }
    if (res->video_bitrate <= 0) {
        sh_log(SH_LOG_ERROR, opt->input, "target %lld bytes is below what the solver can make "
               "(try it without chunks to learn the smallest size)", (long long)opt->target_bytes);
        ret = SH_ERROR_TARGET_TOO_SMALL;
        goto end;
    }
    if (!realpath(opt->input, p->input)) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, opt->input, "%s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_chunk_hash_file(p->input, p->input_hash, &p->input_size)) < 0)
        goto end;
    if ((ret = sh_input_open(&in, opt->input)) < 0 || (ret = sh_input_select_audio(in, opt->audio_track)) < 0 ||
        (ret = sh_input_set_range(in, opt->start, opt->end)) < 0)
        goto end;
    sh_input_warn_index(in);
    info = sh_input_info(in);
    p->target_bytes = opt->target_bytes;
    snprintf(p->encoder, sizeof(p->encoder), "%s", res->encoder);
    snprintf(p->codec, sizeof(p->codec), "%s", res->codec);
    p->speed = opt->speed;
    p->width = res->width;
    p->height = res->height;
    p->display_height = info->rotation == 90 || info->rotation == 270 ? res->width : res->height;
    p->crop = res->crop;
    p->fps = av_d2q(res->fps, 1001000);
    p->video_tb = info->video_tb;
    p->video_start = info->video_start;
    p->trim_start = opt->start;
    p->trim_end = opt->end;
    p->audio_track = opt->audio_track;
    p->exponent = SH_CHUNK_EXPONENT;
    src_rate = info->frame_rate;
    origin = info->range_start;

    if ((ret = scan_frames(opt->input, &frames, &nframes, &last_end)) < 0)
        goto end;
    end = last_end;
    if (opt->end > 0)
        end = FFMIN(end, info->video_start + av_rescale_q(llrint(opt->end * AV_TIME_BASE), AV_TIME_BASE_Q,
                                                          info->video_tb));
    if (end <= origin) {
        sh_log(SH_LOG_ERROR, opt->input, "no video in the range");
        ret = SH_ERROR_BAD_RANGE;
        goto end;
    }
    p->duration = (end - origin) * av_q2d(info->video_tb);
    nchunks = so->chunks > 0 ? so->chunks
            : (int)ceil(p->duration / (so->chunk_seconds > 0 ? so->chunk_seconds : SH_CHUNK_DEFAULT_SECONDS));
    if (!so->chunks && so->min_chunks > 0)
        nchunks = FFMAX(nchunks, so->min_chunks);
    if (!so->chunks && so->max_chunks > 0)
        nchunks = FFMIN(nchunks, so->max_chunks);
    nchunks = av_clip(FFMIN(nchunks, (int)(p->duration / SH_CHUNK_MIN_SECONDS)), 1, SH_CHUNK_MAX);
    if ((ret = cut(p, frames, nframes, origin, end, src_rate, nchunks)) < 0)
        goto end;

    /* The subtitle tracks, chapters and title ride in the audio file to the
     * join (counted in its size, off the budget's top); without sound there
     * is no such file. (Read before the audio: the input is then at its end.) */
    phase = SH_PHASE_INPUT;
    if ((ret = sh_subs_open(&subs, in, info, opt->subs, "mp4")) < 0)
        goto end;
    if (!res->audio && sh_subs_tracks(subs))
        sh_log(SH_LOG_WARNING, opt->input, "its subtitle tracks are left out: in chunks they are kept "
               "only with the sound");
    res->subtitles = res->audio ? sh_subs_tracks(subs) : 0;
    phase = SH_PHASE_ENCODE;
    if (res->audio) {
        ShAudioBudget ab;
        ShChunkAudioArgs aa = { 0 };
        sh_budget_audio_fixed(res->audio_bitrate, info->audio_channels, &ab);
        aa.in = in;
        aa.bitrate = res->audio_bitrate;
        aa.channels = res->audio_channels;
        aa.frame_ms = ab.frame_ms;
        aa.kind = jp.audio_kind;
        aa.origin = origin;
        aa.end_pts = end;
        aa.output = audio_out;
        aa.subs = subs;
        if ((ret = sh_chunk_encode_audio(&aa, &p->audio_bytes, &audio_packets)) < 0)
            goto end;
        p->audio_bitrate = res->audio_bitrate;
        p->audio_channels = res->audio_channels;
        /* Written relative to the plan when beside it, so the pair can move together. */
        {
            const char *ps = strrchr(plan_path, '/'), *as = strrchr(audio_out, '/');
            size_t pd = ps ? (size_t)(ps - plan_path) : 0, ad = as ? (size_t)(as - audio_out) : 0;
            if (pd == ad && !strncmp(plan_path, audio_out, pd))
                snprintf(p->audio_path, sizeof(p->audio_path), "%s", as ? as + 1 : audio_out);
            else if (!realpath(audio_out, p->audio_path))
                snprintf(p->audio_path, sizeof(p->audio_path), "%s", audio_out);
        }
    }
    phase = SH_PHASE_PLAN;
    if ((ret = sh_chunk_split_budget(p, audio_packets)) < 0)
        goto end;
    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_chunk_plan_write(p, plan_path)) < 0)
        goto end;
    *pplan = p;
    p = NULL;
end:
    if (ret < 0 && res->failed_phase == SH_PHASE_NONE)
        res->failed_phase = phase;
    sh_subs_free(&subs);
    sh_input_close(&in);
    av_free(frames);
    sh_chunk_plan_free(&p);
    return ret;
}

int sh_chunk_rebalance(ShChunkPlan *p, const int *idx, const int64_t *budgets, int n)
{
    for (int i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= p->nchunks) {
            sh_log(SH_LOG_ERROR, NULL, "chunk %d: the plan has chunks 0 to %d", idx[i], p->nchunks - 1);
            return SH_ERROR_BAD_OPTION;
        }
        if (budgets[i] <= 0 || budgets[i] > p->chunks[idx[i]].budget) {
            sh_log(SH_LOG_ERROR, NULL, "chunk %d: a new budget must be lower than its %lld bytes",
                   idx[i], (long long)p->chunks[idx[i]].budget);
            return SH_ERROR_BAD_OPTION;
        }
    }
    for (int i = 0; i < n; i++)
        p->chunks[idx[i]].budget = budgets[i];
    return 0;
}

void sh_chunk_plan_free(ShChunkPlan **pp)
{
    if (!*pp)
        return;
    av_free((*pp)->chunks);
    av_freep(pp);
}
