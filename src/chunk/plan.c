/*
 * The scale-out plan: the solver's choice for the whole film, the chunks
 * and their budgets, the audio; written to and read from JSON.
 *
 * Chunk boundaries sit on source keyframes near equal steps (the source's
 * encoder put them at scene cuts or regular intervals: a new IDR there costs
 * little), and, when frames are dropped, only on frames that open an output
 * slot of the whole film's grid, so the chunks keep the same frames the
 * single-process encode keeps. Each chunk's share of the video budget
 * follows its measured complexity (the source's own bytes over it, read from
 * the demuxer without decoding): seconds x (bytes per second)^0.6, the share
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
#include "chunk/json.h"
#include "chunk/chunk_int.h"
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

static int video_stream(AVFormatContext *fmt)
{
    int best = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (best >= 0 && !(fmt->streams[best]->disposition & AV_DISPOSITION_ATTACHED_PIC))
        return best;
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
            !(fmt->streams[i]->disposition & AV_DISPOSITION_ATTACHED_PIC))
            return (int)i;
    return SH_ERROR_NO_VIDEO;
}

/* Every video packet's pts, size and key flag, in pts order; *end: the last one's end. */
static int scan_frames(const char *path, Frame **out, int64_t *nout, int64_t *end)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    Frame *frames = NULL;
    int64_t n = 0, alloc = 0, last_end = INT64_MIN;
    int vi, ret;

    if (!pkt)
        return AVERROR(ENOMEM);
    if ((ret = sh_media_open(&fmt, path, 0, NULL)) < 0)
        goto end;
    if ((ret = avformat_find_stream_info(fmt, NULL)) < 0 || (ret = vi = video_stream(fmt)) < 0) {
        sh_log(SH_LOG_ERROR, path, "cannot read its video: %s", av_err2str(ret));
        goto end;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        if ((int)i != vi)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    while ((ret = av_read_frame(fmt, pkt)) >= 0) {
        int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (pkt->stream_index == vi && t != AV_NOPTS_VALUE) {
            if (n == alloc) {
                int64_t want = alloc ? alloc * 2 : 4096;
                Frame *f = av_realloc_array(frames, want, sizeof(*f));
                if (!f) {
                    av_packet_unref(pkt);
                    ret = AVERROR(ENOMEM);
                    goto end;
                }
                frames = f;
                alloc = want;
            }
            frames[n++] = (Frame){ t, pkt->size, !!(pkt->flags & AV_PKT_FLAG_KEY) };
            last_end = FFMAX(last_end, t + FFMAX(pkt->duration, 0));
        }
        av_packet_unref(pkt);
        if (sh_job_interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, path, "cannot read its video: %s", av_err2str(ret));
        goto end;
    }
    if (!n) {
        sh_log(SH_LOG_ERROR, path, "no video packets");
        ret = SH_ERROR_NO_VIDEO;
        goto end;
    }
    qsort(frames, n, sizeof(*frames), cmp_frames);
    *out = frames;
    frames = NULL;
    *nout = n;
    *end = last_end;
    ret = 0;
end:
    av_free(frames);
    av_packet_free(&pkt);
    sh_media_close(&fmt);
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

/* Video frames a chunk will have at the output rate. */
static int64_t chunk_out_frames(const ShChunkPlan *p, const ShChunk *c)
{
    return (int64_t)ceil((c->end - c->start) * av_q2d(p->video_tb) * av_q2d(p->fps)) + 1;
}

/*
 * The budget: the target less the audio file and the joined container's
 * estimate, split by weight; each chunk's file also carries its own
 * container bytes, added to its share (they are not in the joined file,
 * where one index replaces them all).
 */
static int split_budget(ShChunkPlan *p, int64_t audio_packets)
{
    int64_t out_frames = 0, video;
    double total_w = 0;
    for (int k = 0; k < p->nchunks; k++) {
        ShChunk *c = &p->chunks[k];
        double secs = (c->end - c->start) * av_q2d(p->video_tb);
        double rate = secs > 0 ? c->source_bytes / secs : 0;
        c->weight = secs > 0 ? secs * pow(FFMAX(rate, 1), p->exponent) : 0;
        total_w += c->weight;
        out_frames += chunk_out_frames(p, c);
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
        c->budget = (int64_t)floor(video * c->weight) + sh_budget_overhead(chunk_out_frames(p, c), 0);
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
    ShInput *in = NULL;
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
    if ((ret = sh_job_run(&po, res)) < 0)
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

    phase = SH_PHASE_ENCODE;
    if (res->audio) {
        ShAudioBudget ab;
        ShChunkAudioArgs aa = { 0 };
        sh_budget_audio_fixed(res->audio_bitrate, info->audio_channels, &ab);
        aa.input = opt->input;
        aa.track = opt->audio_track;
        aa.bitrate = res->audio_bitrate;
        aa.channels = res->audio_channels;
        aa.frame_ms = ab.frame_ms;
        aa.video_tb = info->video_tb;
        aa.video_start = info->video_start;
        aa.origin = origin;
        aa.end_pts = end;
        aa.output = audio_out;
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
    if ((ret = split_budget(p, audio_packets)) < 0)
        goto end;
    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_chunk_plan_write(p, plan_path)) < 0)
        goto end;
    *pplan = p;
    p = NULL;
end:
    if (ret < 0 && res->failed_phase == SH_PHASE_NONE)
        res->failed_phase = phase;
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

/* ---- the file ---- */

static const char *speed_name(int speed)
{
    return speed == SH_SPEED_FAST ? "fast" : speed == SH_SPEED_BEST ? "best" : "balanced";
}

int sh_chunk_plan_write(const ShChunkPlan *p, const char *path)
{
    char tmp[PATH_MAX];
    FILE *f;
    int ret;

    if ((ret = sh_temp_create_beside(tmp, sizeof(tmp), path)) < 0) {
        sh_log(SH_LOG_ERROR, path, "cannot write there: %s", av_err2str(ret));
        return ret;
    }
    if (!(f = fopen(tmp, "w"))) {
        ret = AVERROR(errno);
        goto fail;
    }
    fprintf(f, "{\n  \"shrink_plan\": %d,\n  \"input\": {\"path\": ", SH_CHUNK_PLAN_VERSION);
    sh_json_write_string(f, p->input);
    if (!sh_utf8_valid(p->input)) {
        fputs(", \"path_base64\": ", f);
        sh_json_write_base64(f, p->input);
    }
    fprintf(f, ", \"size\": %lld, \"sha256\": \"%s\"},\n", (long long)p->input_size, p->input_hash);
    fprintf(f, "  \"target\": %lld,\n", (long long)p->target_bytes);
    fprintf(f, "  \"video\": {\"encoder\": ");
    sh_json_write_string(f, p->encoder);
    fprintf(f, ", \"codec\": ");
    sh_json_write_string(f, p->codec);
    fprintf(f, ", \"speed\": \"%s\", \"width\": %d, \"height\": %d, \"display_height\": %d,\n"
               "            \"fps_num\": %d, \"fps_den\": %d, \"time_base_num\": %d, \"time_base_den\": %d, "
               "\"start_pts\": %lld},\n",
            speed_name(p->speed), p->width, p->height, p->display_height, p->fps.num, p->fps.den,
            p->video_tb.num, p->video_tb.den, (long long)p->video_start);
    fprintf(f, "  \"trim\": {\"start\": %.6f, \"end\": %.6f},\n  \"duration\": %.6f,\n",
            p->trim_start, p->trim_end, p->duration);
    if (p->audio_path[0]) {
        fprintf(f, "  \"audio\": {\"path\": ");
        sh_json_write_string(f, p->audio_path);
        if (!sh_utf8_valid(p->audio_path)) {
            fputs(", \"path_base64\": ", f);
            sh_json_write_base64(f, p->audio_path);
        }
        fprintf(f, ", \"track\": %d, \"bitrate\": %d, \"channels\": %d, \"bytes\": %lld},\n", p->audio_track,
                p->audio_bitrate, p->audio_channels, (long long)p->audio_bytes);
    } else {
        fprintf(f, "  \"audio\": null,\n");
    }
    fprintf(f, "  \"reserve\": %lld,\n  \"complexity\": {\"measure\": \"source-bytes\", \"exponent\": %.3f},\n",
            (long long)p->reserve_bytes, p->exponent);
    fprintf(f, "  \"chunks\": [\n");
    for (int k = 0; k < p->nchunks; k++) {
        const ShChunk *c = &p->chunks[k];
        fprintf(f, "    {\"index\": %d, \"start_pts\": %lld, \"end_pts\": %lld, \"start\": %.6f, \"end\": %.6f, "
                   "\"frames\": %lld, \"keyframe\": %s, \"source_bytes\": %lld, \"weight\": %.6f, \"container\": %lld, "
                   "\"budget\": %lld}%s\n",
                k, (long long)c->start, (long long)c->end, c->start_s, c->end_s, (long long)c->frames,
                c->keyframe ? "true" : "false", (long long)c->source_bytes, c->weight,
                (long long)sh_budget_overhead(chunk_out_frames(p, c), 0), (long long)c->budget,
                k + 1 < p->nchunks ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    if (fflush(f) || ferror(f)) {
        ret = AVERROR(errno ? errno : EIO);
        fclose(f);
        goto fail;
    }
    if (fclose(f) || rename(tmp, path) < 0) {
        ret = AVERROR(errno);
        goto fail;
    }
    sh_temp_forget(tmp);
    return 0;
fail:
    sh_log(SH_LOG_ERROR, path, "cannot write the plan: %s", av_err2str(ret));
    sh_temp_remove(tmp);
    return ret;
}

static int read_text(const char *path, char **text)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0, alloc = 0;
    int ret = 0;
    if (!f) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, path, "cannot read the plan: %s", av_err2str(ret));
        return ret;
    }
    for (;;) {
        size_t got;
        if (n + 4096 + 1 > alloc) {
            size_t want = alloc ? alloc * 2 : 65536;
            char *b;
            if (want > ((size_t)64 << 20) || !(b = av_realloc(buf, want))) {
                ret = want > ((size_t)64 << 20) ? AVERROR_INVALIDDATA : AVERROR(ENOMEM);
                sh_log(SH_LOG_ERROR, path, "not a plan: too large");
                goto end;
            }
            buf = b;
            alloc = want;
        }
        got = fread(buf + n, 1, alloc - n - 1, f);
        n += got;
        if (!got)
            break;
    }
    if (ferror(f)) {
        ret = AVERROR(EIO);
        sh_log(SH_LOG_ERROR, path, "cannot read the plan: %s", av_err2str(ret));
        goto end;
    }
    buf[n] = 0;
    if (strlen(buf) != n) {
        ret = AVERROR_INVALIDDATA;
        sh_log(SH_LOG_ERROR, path, "not a plan: binary data");
        goto end;
    }
    *text = buf;
    buf = NULL;
end:
    av_free(buf);
    fclose(f);
    return ret;
}

/* Read an int field into a narrower type, in range. */
#define GET_INT(obj, key, dst, lo, hi)                                              \
    do {                                                                            \
        int64_t v_;                                                                 \
        if (sh_json_int(obj, key, &v_) < 0 || v_ < (lo) || v_ > (hi)) {            \
            what = key;                                                             \
            goto bad;                                                               \
        }                                                                           \
        (dst) = v_;                                                                 \
    } while (0)

int sh_chunk_plan_read(ShChunkPlan **pp, const char *path)
{
    ShChunkPlan *p = av_mallocz(sizeof(*p));
    ShJson *root = NULL;
    const ShJson *o, *chunks, *audio;
    const char *what = "";
    char *text = NULL, speed[16];
    size_t where = 0;
    int64_t version;
    int ret;

    if (!p)
        return AVERROR(ENOMEM);
    if ((ret = read_text(path, &text)) < 0)
        goto end;
    if ((ret = sh_json_parse(&root, text, &where)) < 0) {
        sh_log(SH_LOG_ERROR, path, "not a plan: invalid JSON at byte %zu", where);
        goto end;
    }
    if (sh_json_int(root, "shrink_plan", &version) < 0) {
        sh_log(SH_LOG_ERROR, path, "not a shrink plan (no \"shrink_plan\" version)");
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    if (version != SH_CHUNK_PLAN_VERSION) {
        sh_log(SH_LOG_ERROR, path, "plan version %lld; this shrink reads version %d", (long long)version,
               SH_CHUNK_PLAN_VERSION);
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    o = sh_json_get(root, "input");
    what = "input";
    if (sh_json_path(o, "path", p->input, sizeof(p->input)) < 0 ||
        sh_json_str(o, "sha256", p->input_hash, sizeof(p->input_hash)) < 0 || strlen(p->input_hash) != 64)
        goto bad;
    GET_INT(o, "size", p->input_size, 0, INT64_MAX);
    GET_INT(root, "target", p->target_bytes, 1, INT64_MAX);
    o = sh_json_get(root, "video");
    what = "video";
    if (sh_json_str(o, "encoder", p->encoder, sizeof(p->encoder)) < 0 ||
        sh_json_str(o, "codec", p->codec, sizeof(p->codec)) < 0 || sh_json_str(o, "speed", speed, sizeof(speed)) < 0)
        goto bad;
    p->speed = !strcmp(speed, "fast") ? SH_SPEED_FAST : !strcmp(speed, "best") ? SH_SPEED_BEST : SH_SPEED_BALANCED;
    GET_INT(o, "width", p->width, 2, 16384);
    GET_INT(o, "height", p->height, 2, 16384);
    GET_INT(o, "display_height", p->display_height, 2, 16384);
    GET_INT(o, "fps_num", p->fps.num, 1, INT32_MAX);
    GET_INT(o, "fps_den", p->fps.den, 1, INT32_MAX);
    GET_INT(o, "time_base_num", p->video_tb.num, 1, INT32_MAX);
    GET_INT(o, "time_base_den", p->video_tb.den, 1, INT32_MAX);
    GET_INT(o, "start_pts", p->video_start, INT64_MIN / 2, INT64_MAX / 2);
    o = sh_json_get(root, "trim");
    what = "trim";
    if (sh_json_num(o, "start", &p->trim_start) < 0 || sh_json_num(o, "end", &p->trim_end) < 0 ||
        p->trim_start < 0 || p->trim_end < 0)
        goto bad;
    what = "duration";
    if (sh_json_num(root, "duration", &p->duration) < 0 || !(p->duration > 0))
        goto bad;
    audio = sh_json_get(root, "audio");
    what = "audio";
    if (!audio)
        goto bad;
    if (audio->type == SH_JSON_OBJECT) {
        if (sh_json_path(audio, "path", p->audio_path, sizeof(p->audio_path)) < 0 || !p->audio_path[0])
            goto bad;
        GET_INT(audio, "track", p->audio_track, 0, 1000);
        GET_INT(audio, "bitrate", p->audio_bitrate, 1, 1000000);
        GET_INT(audio, "channels", p->audio_channels, 1, 8);
        GET_INT(audio, "bytes", p->audio_bytes, 1, INT64_MAX);
    } else if (audio->type != SH_JSON_NULL) {
        goto bad;
    }
    GET_INT(root, "reserve", p->reserve_bytes, 0, INT64_MAX);
    what = "complexity";
    if (sh_json_num(sh_json_get(root, "complexity"), "exponent", &p->exponent) < 0)
        goto bad;
    chunks = sh_json_get(root, "chunks");
    what = "chunks";
    if (!chunks || chunks->type != SH_JSON_ARRAY || chunks->n < 1 || chunks->n > SH_CHUNK_MAX)
        goto bad;
    if (!(p->chunks = av_calloc(chunks->n, sizeof(*p->chunks)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    p->nchunks = chunks->n;
    for (int k = 0; k < chunks->n; k++) {
        const ShJson *c = &chunks->items[k];
        ShChunk *d = &p->chunks[k];
        int64_t index;
        const ShJson *key = sh_json_get(c, "keyframe");
        GET_INT(c, "index", index, k, k);   /* in order, from 0 */
        (void)index;
        GET_INT(c, "start_pts", d->start, INT64_MIN / 2, INT64_MAX / 2);
        GET_INT(c, "end_pts", d->end, d->start + 1, INT64_MAX / 2);
        GET_INT(c, "frames", d->frames, 0, INT64_MAX);
        GET_INT(c, "source_bytes", d->source_bytes, 0, INT64_MAX);
        GET_INT(c, "budget", d->budget, 1, INT64_MAX);
        what = "weight";
        if (sh_json_num(c, "weight", &d->weight) < 0 || !key || key->type != SH_JSON_BOOL)
            goto bad;
        d->keyframe = key->boolean;
        if (k && d->start != p->chunks[k - 1].end) {
            what = "start_pts (chunks must follow each other)";
            goto bad;
        }
        /* Seconds from the exact timestamps, not from the rounded decimals. */
        d->start_s = (d->start - p->video_start) * av_q2d(p->video_tb);
        d->end_s = (d->end - p->video_start) * av_q2d(p->video_tb);
    }
    *pp = p;
    p = NULL;
    ret = 0;
    goto end;
bad:
    sh_log(SH_LOG_ERROR, path, "not a valid plan: \"%s\" is missing or wrong", what);
    ret = AVERROR_INVALIDDATA;
end:
    sh_json_free(&root);
    av_free(text);
    sh_chunk_plan_free(&p);
    return ret;
}

int sh_chunk_index(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path, *end = NULL, *start;
    const char *dot = strrchr(base, '.');
    const char *stop = dot && dot != base ? dot : base + strlen(base);   /* not the 4 of .mp4 */
    long v;
    for (const char *q = base; q < stop; q++)
        if (*q >= '0' && *q <= '9' && !(q[1] >= '0' && q[1] <= '9'))
            end = q + 1;
    if (!end)
        return -1;
    for (start = end; start > base && start[-1] >= '0' && start[-1] <= '9'; start--)
        ;
    if (end - start > 6)
        return -1;
    v = strtol(start, NULL, 10);
    return (int)v;
}
