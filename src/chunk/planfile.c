/*
 * The plan file (docs/SCALE.md has the schema): written whole to a
 * temporary file and renamed, read strictly (a missing or mistyped field is
 * an error naming it); and the chunk number in a chunk file's name.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/common.h>
#include <libavutil/mem.h>

#include "chunk/chunk_int.h"
#include "chunk/json.h"
#include "common/log.h"
#include "common/temp.h"
#include "common/text.h"
#include "solver/plan.h"

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
    if (p->crop.width)
        fprintf(f, "  \"crop\": {\"width\": %d, \"height\": %d, \"x\": %d, \"y\": %d},\n", p->crop.width,
                p->crop.height, p->crop.x, p->crop.y);
    else
        fprintf(f, "  \"crop\": null,\n");
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
                (long long)sh_budget_overhead(sh_chunk_out_frames(p, c), 0), (long long)c->budget,
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
    /* (absent in plans from before the crop: none) */
    o = sh_json_get(root, "crop");
    what = "crop";
    if (o && o->type == SH_JSON_OBJECT) {
        GET_INT(o, "width", p->crop.width, 2, 16384);
        GET_INT(o, "height", p->crop.height, 2, 16384);
        GET_INT(o, "x", p->crop.x, 0, 16384);
        GET_INT(o, "y", p->crop.y, 0, 16384);
    } else if (o && o->type != SH_JSON_NULL) {
        goto bad;
    }
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
