/*
 * Join: the chunk files and the plan's audio into one file, packets copied
 * (no re-encoding). Each chunk starts with an IDR and all of them come from
 * one encoder configuration, so when their codec parameters (SPS/PPS) are
 * byte for byte the same they share one MP4 sample description and the
 * joined stream decodes as one. Chunk k's timestamps are moved by its start
 * in the film, from the plan's exact source timestamps, so the result lasts
 * exactly what the film lasts; the audio's packets are copied as they are.
 *
 * Never over the target: each chunk is within its budget and the budgets
 * sum to the target less the audio and the joined container's share; the
 * joined file is measured anyway, and if it is over, nothing is written and
 * the chunks to encode again are named with their new budgets.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <libavformat/avformat.h>
#include <libavutil/mathematics.h>

#include "common/log.h"
#include "common/temp.h"
#include "input/open.h"
#include "job/job.h"
#include "output/mux.h"
#include "chunk/h264.h"
#include "chunk/chunk.h"

/* Chunks over the target give up this share of their size, at most, when redone. */
#define SH_REDO_MAX_SHARE 0.05
/* And a little more than the excess, so the second join lands under. */
#define SH_REDO_MARGIN 1.002

/* Streams of the audio file read at most (the audio, and a long film's subtitle tracks: job/subs.h). */
#define SH_JOIN_SIDE_MAX 20

typedef struct Source {
    AVFormatContext *fmt;
    int st;                   /* the stream read; -1: every stream map names */
    const int *map;           /* st -1: the output stream of each of the file's (-1: not read) */
    AVPacket *pkt;
    int have;                 /* pkt holds the next packet */
} Source;

static void source_close(Source *s)
{
    av_packet_free(&s->pkt);
    sh_media_close(&s->fmt);
    s->have = 0;
}

/* The file opened (shrink's own way) and its streams probed. */
static int file_open(Source *s, const char *path)
{
    int ret;
    if (!(s->pkt = av_packet_alloc()))
        return AVERROR(ENOMEM);
    if ((ret = sh_media_open(&s->fmt, path, 0, NULL)) < 0)
        return ret;
    if ((ret = avformat_find_stream_info(s->fmt, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, path, "cannot read it: %s", av_err2str(ret));
        return ret;
    }
    return 0;
}

static int source_open(Source *s, const char *path, enum AVMediaType type)
{
    int ret;
    if ((ret = file_open(s, path)) < 0)
        return ret;
    if ((s->st = av_find_best_stream(s->fmt, type, -1, -1, NULL, 0)) < 0) {
        sh_log(SH_LOG_ERROR, path, "no %s stream", type == AVMEDIA_TYPE_VIDEO ? "video" : "audio");
        return AVERROR_INVALIDDATA;
    }
    return 0;
}

/* The next packet of the source's stream into s->pkt; s->have = 0 at the end. */
static int source_next(Source *s, const char *path)
{
    int ret;
    while ((ret = av_read_frame(s->fmt, s->pkt)) >= 0) {
        if (s->pkt->stream_index == s->st ||
            (s->st < 0 && s->pkt->stream_index < SH_JOIN_SIDE_MAX && s->map[s->pkt->stream_index] >= 0)) {
            s->have = 1;
            return 0;
        }
        av_packet_unref(s->pkt);
    }
    s->have = 0;
    if (ret == AVERROR_EOF)
        return 0;
    sh_log(SH_LOG_ERROR, path, "cannot read it: %s", av_err2str(ret));
    return ret;
}

static int same_params(const AVCodecParameters *a, const AVCodecParameters *b)
{
    return a->codec_id == b->codec_id && a->width == b->width && a->height == b->height &&
           a->format == b->format && a->extradata_size == b->extradata_size &&
           (!a->extradata_size || !memcmp(a->extradata, b->extradata, a->extradata_size));
}

/*
 * Each chunk: there, a video of the planned codec and size, as long as
 * planned, its codec parameters those of chunk 0, within its budget.
 * Chunks over their budget go to res->redo.
 */
static int check_chunks(const ShChunkPlan *p, char **files, ShH264Params *h264, int *delta,
                        ShChunkJoinResult *res)
{
    AVCodecParameters *first = NULL;
    double frame_s = av_q2d(av_inv_q(p->fps));
    int ret = 0;

    for (int k = 0; k < p->nchunks && ret >= 0; k++) {
        const ShChunk *c = &p->chunks[k];
        Source s = { 0 };
        struct stat sb;
        double dur, want;
        AVCodecParameters *par;

        if (stat(files[k], &sb) < 0) {
            ret = AVERROR(errno);
            sh_log(SH_LOG_ERROR, files[k], "chunk %d: %s", k, av_err2str(ret));
            break;
        }
        if ((ret = source_open(&s, files[k], AVMEDIA_TYPE_VIDEO)) < 0) {
            source_close(&s);
            break;
        }
        par = s.fmt->streams[s.st]->codecpar;
        dur = s.fmt->duration > 0 ? s.fmt->duration / (double)AV_TIME_BASE : 0;
        want = k == p->nchunks - 1 ? p->duration - (c->start - p->chunks[0].start) * av_q2d(p->video_tb)
                                   : (c->end - c->start) * av_q2d(p->video_tb);
        if (strcmp(avcodec_get_name(par->codec_id), p->codec) || par->width != p->width || par->height != p->height) {
            sh_log(SH_LOG_ERROR, files[k], "chunk %d is %s %dx%d, the plan says %s %dx%d: not a chunk of this plan",
                   k, avcodec_get_name(par->codec_id), par->width, par->height, p->codec, p->width, p->height);
            ret = AVERROR_INVALIDDATA;
        } else if (s.fmt->nb_streams != 1) {
            sh_log(SH_LOG_ERROR, files[k], "chunk %d has %u streams, a chunk has only its video", k, s.fmt->nb_streams);
            ret = AVERROR_INVALIDDATA;
        } else if (fabs(dur - want) > frame_s + 0.002) {
            sh_log(SH_LOG_ERROR, files[k], "chunk %d lasts %.3f s, the plan says %.3f s: not a chunk of this plan "
                   "(or of another version of it)", k, dur, want);
            ret = AVERROR_INVALIDDATA;
        } else if (!first) {
            if (!(first = avcodec_parameters_alloc()) || (ret = avcodec_parameters_copy(first, par)) < 0)
                ret = AVERROR(ENOMEM);
            else if (par->codec_id == AV_CODEC_ID_H264 &&
                     sh_h264_parse_avcc(&h264[0], par->extradata, par->extradata_size) < 0)
                memset(&h264[0], 0, sizeof(h264[0]));    /* then only identical chunks join */
            else
                res->level = h264[0].level;
        } else if (!same_params(first, par)) {
            /* x264's pic_init_qp differs per chunk: moved onto chunk 0's (h264.c). */
            int ok = par->codec_id == AV_CODEC_ID_H264 && h264[0].nal_length_size &&
                     first->width == par->width && first->height == par->height && first->format == par->format &&
                     sh_h264_parse_avcc(&h264[k], par->extradata, par->extradata_size) >= 0 &&
                     sh_h264_compatible(&h264[0], first->extradata, &h264[k], par->extradata);
            if (ok) {
                delta[k] = h264[k].pic_init_qp - h264[0].pic_init_qp;
                res->level = FFMAX(res->level, h264[k].level);
            } else {
                sh_log(SH_LOG_ERROR, files[k], "chunk %d's codec parameters (SPS/PPS) differ from chunk 0's (%s) "
                       "beyond its starting quantiser: they cannot share one stream; encode every chunk with the same "
                       "shrink and plan", k, files[0]);
                ret = AVERROR_INVALIDDATA;
            }
        }
        if (ret >= 0 && sb.st_size > c->budget) {
            ShChunkRedo *r = av_realloc_array(res->redo, res->nredo + 1, sizeof(*r));
            if (!r) {
                ret = AVERROR(ENOMEM);
            } else {
                res->redo = r;
                r[res->nredo++] = (ShChunkRedo){ k, sb.st_size, c->budget };
            }
        }
        source_close(&s);
    }
    avcodec_parameters_free(&first);
    if (ret >= 0 && res->nredo) {
        sh_log(SH_LOG_ERROR, NULL, "%d chunk%s over %s budget in the plan (rebalanced?): encode %s again",
               res->nredo, res->nredo > 1 ? "s are" : " is", res->nredo > 1 ? "their" : "its",
               res->nredo > 1 ? "them" : "it");
        return SH_ERROR_REDO;
    }
    return ret;
}

/* Over the target by excess: the biggest chunks give it up, each at most SH_REDO_MAX_SHARE. */
static int plan_redo(const ShChunkPlan *p, char **files, int64_t excess, ShChunkJoinResult *res)
{
    int64_t *size = av_calloc(p->nchunks, sizeof(*size)), picked = 0;
    char *used = av_calloc(p->nchunks, 1);
    int ret = 0;

    if (!size || !used) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int k = 0; k < p->nchunks; k++) {
        struct stat sb;
        size[k] = stat(files[k], &sb) == 0 ? sb.st_size : 0;
    }
    excess = (int64_t)ceil(excess * SH_REDO_MARGIN) + 64;
    while (picked * SH_REDO_MAX_SHARE < excess) {
        int best = -1;
        for (int k = 0; k < p->nchunks; k++)
            if (!used[k] && (best < 0 || size[k] > size[best]))
                best = k;
        if (best < 0)
            break;
        used[best] = 1;
        picked += size[best];
    }
    if (!(res->redo = av_calloc(p->nchunks, sizeof(*res->redo)))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int k = 0; k < p->nchunks; k++) {
        int64_t cut;
        if (!used[k])
            continue;
        cut = picked ? (int64_t)ceil((double)excess * size[k] / picked) : excess;
        res->redo[res->nredo++] = (ShChunkRedo){ k, size[k], FFMAX(size[k] - cut, 1) };
    }
end:
    av_free(size);
    av_free(used);
    return ret;
}

/* Join writes the video and a second of audio at a time in turn (sh_mux_keep_order), so each
 * track has about one MP4 chunk a second rather than one per packet. */
#define SH_JOIN_RUN_US 1000000

typedef struct Joiner {
    const ShChunkPlan *p;
    ShMuxer *mx;
    int64_t audio_block;      /* microseconds: audio is written up to here */
    int vst;
    AVRational vtb;           /* what video packets are written in */
    Source audio;             /* the audio file: its audio, and its subtitle tracks, chapters, title */
    int side_map[SH_JOIN_SIDE_MAX]; /* its streams' in the output (-1: none) */
    const char *audio_path;
    int64_t last_dts;
    int64_t fixed_dts;        /* packets whose dts had to move to keep them increasing */
    AVPacket *held;           /* the last video packet read: its duration is known at the next */
    int64_t first_dts;        /* the joined stream's first dts (<= 0: the decoding delay) */
    int64_t end;              /* where the last chunk read ends in the film (vtb) */
    ShH264Params *h264;       /* per chunk, when its parameter sets differ from chunk 0's */
    int *delta;               /* per chunk: its pic_init_qp less chunk 0's */
} Joiner;

/* Audio packets up to (and including) time dts in tb, or all with tb.num == 0. */
static int write_audio_until(Joiner *j, int64_t dts, AVRational tb, ShChunkJoinResult *res)
{
    int ret;
    while (j->audio.have) {
        AVPacket *a = j->audio.pkt;
        const AVStream *st = j->audio.fmt->streams[a->stream_index];
        int64_t adts = a->dts != AV_NOPTS_VALUE ? a->dts : a->pts;
        if (tb.num && av_compare_ts(adts, st->time_base, dts, tb) > 0)
            return 0;
        res->audio_packets += st->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
        if ((ret = sh_mux_write(j->mx, j->side_map[a->stream_index], a)) < 0)
            return ret;
        av_packet_unref(a);
        if ((ret = source_next(&j->audio, j->audio_path)) < 0)
            return ret;
    }
    return 0;
}

/*
 * Write the held packet now that the next one's dts (or, at the end, the
 * film's end) says how long it lasts: MP4 keeps dts differences, and the
 * last sample's duration decides where the film ends.
 */
static int write_held(Joiner *j, const AVPacket *next, int64_t end, ShChunkJoinResult *res)
{
    AVPacket *h = j->held;
    int ret;
    if (!h->data)
        return 0;
    if (next)
        h->duration = FFMAX(next->dts - h->dts, 1);
    else
        h->duration = FFMAX(end + j->first_dts - h->dts, 1);
    /* Before the video reaches the next block, the audio of that whole block. */
    if (j->audio.have && (j->audio_block == AV_NOPTS_VALUE ||
                          av_compare_ts(h->dts, j->vtb, j->audio_block, AV_TIME_BASE_Q) >= 0)) {
        int64_t t = av_rescale_q_rnd(h->dts, j->vtb, AV_TIME_BASE_Q, AV_ROUND_DOWN);
        j->audio_block = (t >= 0 ? t / SH_JOIN_RUN_US + 1 : 0) * SH_JOIN_RUN_US;
        if ((ret = write_audio_until(j, j->audio_block, AV_TIME_BASE_Q, res)) < 0)
            return ret;
    }
    if ((ret = sh_mux_write(j->mx, j->vst, h)) < 0)
        return ret;
    av_packet_unref(h);
    res->video_packets++;
    return 0;
}

static int copy_chunk(Joiner *j, int k, const char *path, ShChunkJoinResult *res)
{
    const ShChunk *c = &j->p->chunks[k];
    Source s = { 0 };
    AVRational tb;
    int64_t off;
    int ret;

    if ((ret = source_open(&s, path, AVMEDIA_TYPE_VIDEO)) < 0)
        goto end;
    tb = s.fmt->streams[s.st]->time_base;
    /* Where the chunk starts in the film, exactly: the plan's source timestamps. */
    off = av_rescale_q(c->start - j->p->chunks[0].start, j->p->video_tb, j->vtb);
    /* Its end: its own length as its job verified it (the last chunk's is the film's decoded end). */
    j->end = s.fmt->streams[s.st]->duration > 0 ? off + av_rescale_q(s.fmt->streams[s.st]->duration, tb, j->vtb)
           : av_rescale_q(c->end - j->p->chunks[0].start, j->p->video_tb, j->vtb);
    while ((ret = source_next(&s, path)) >= 0 && s.have) {
        AVPacket *pkt = s.pkt;
        if (sh_job_interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        if (j->delta[k] && (ret = sh_h264_rebase_packet(&j->h264[k], j->delta[k], pkt)) < 0) {
            sh_log(SH_LOG_ERROR, path, "chunk %d: cannot move its slices onto chunk 0's parameter sets: %s",
                   k, av_err2str(ret));
            goto end;
        }
        av_packet_rescale_ts(pkt, tb, j->vtb);
        if (pkt->pts != AV_NOPTS_VALUE)
            pkt->pts += off;
        if (pkt->dts != AV_NOPTS_VALUE)
            pkt->dts += off;
        /* A chunk's first packets decode before its first picture (B-frames):
         * where that reaches back over the previous chunk's last dts, move
         * the dts up; pts, what is shown when, never changes. */
        if (pkt->dts == AV_NOPTS_VALUE)
            pkt->dts = j->held->data ? j->last_dts + 1 : pkt->pts;
        if (!j->held->data && !res->video_packets)
            j->first_dts = FFMIN(pkt->dts, 0);
        if ((j->held->data || res->video_packets) && pkt->dts <= j->last_dts) {
            pkt->dts = j->last_dts + 1;
            j->fixed_dts++;
            if (pkt->pts != AV_NOPTS_VALUE && pkt->dts > pkt->pts) {
                sh_log(SH_LOG_ERROR, path, "chunk %d's timestamps cannot follow chunk %d's", k, k - 1);
                ret = AVERROR_INVALIDDATA;
                goto end;
            }
        }
        j->last_dts = pkt->dts;
        if ((ret = write_held(j, pkt, 0, res)) < 0)
            goto end;
        av_packet_move_ref(j->held, pkt);
    }
end:
    source_close(&s);
    return ret;
}

/* The audio file: every stream of it read (its audio, and a long film's subtitle tracks: long.c). */
static int side_open(Joiner *j, const char *path)
{
    Source *s = &j->audio;
    for (int i = 0; i < SH_JOIN_SIDE_MAX; i++)
        j->side_map[i] = -1;
    s->st = -1;
    s->map = j->side_map;
    return file_open(s, path);
}

/* Its audio and subtitle streams after the video, with their language and title; its chapters and title. */
static int side_add(Joiner *j)
{
    const AVFormatContext *f = j->audio.fmt;
    const AVDictionaryEntry *e;
    int ret;
    for (unsigned i = 0; i < f->nb_streams && i < SH_JOIN_SIDE_MAX; i++) {
        const AVStream *st = f->streams[i];
        static const char *const keys[] = { "language", "title" };
        if (st->codecpar->codec_type != AVMEDIA_TYPE_AUDIO && st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE)
            continue;   /* (an MP4's chapter track is data: its chapters come below) */
        if ((ret = j->side_map[i] = sh_mux_add_stream(j->mx, st->codecpar, st->time_base, NULL)) < 0)
            return ret;
        for (int k = 0; k < 2; k++)
            if ((e = av_dict_get(st->metadata, keys[k], NULL, 0)) &&
                (ret = sh_mux_set_tag(j->mx, j->side_map[i], keys[k], e->value)) < 0)
                return ret;
        sh_mux_set_disposition(j->mx, j->side_map[i], st->disposition & (AV_DISPOSITION_DEFAULT |
                               AV_DISPOSITION_FORCED | AV_DISPOSITION_HEARING_IMPAIRED));
    }
    for (unsigned i = 0; i < f->nb_chapters; i++) {
        const AVChapter *c = f->chapters[i];
        e = av_dict_get(c->metadata, "title", NULL, 0);
        if ((ret = sh_mux_add_chapter(j->mx, c->id, c->start, c->end, c->time_base, e ? e->value : NULL)) < 0)
            return ret;
    }
    if ((e = av_dict_get(f->metadata, "title", NULL, 0)) && (ret = sh_mux_set_tag(j->mx, -1, "title", e->value)) < 0)
        return ret;
    return 0;
}

int sh_chunk_join_write(const ShChunkPlan *p, char *const *files, const char *audio_path, const char *path,
                        ShChunkJoinResult *res)
{
    Joiner j = { .p = p, .audio_path = audio_path };
    Source first = { 0 };
    struct stat sb;
    int ret;

    res->missing = -1;
    j.h264 = av_calloc(p->nchunks, sizeof(*j.h264));
    j.delta = av_calloc(p->nchunks, sizeof(*j.delta));
    if (!j.h264 || !j.delta) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = check_chunks(p, (char **)files, j.h264, j.delta, res)) < 0)
        goto end;
    if (audio_path && (ret = side_open(&j, audio_path)) < 0)
        goto end;
    if ((ret = source_open(&first, files[0], AVMEDIA_TYPE_VIDEO)) < 0)
        goto end;
    j.vtb = first.fmt->streams[first.st]->time_base;
    {
        /* The source's rotation, as the chunks carry it. */
        AVStream *vs = first.fmt->streams[first.st];
        const uint8_t *m = av_stream_get_side_data(vs, AV_PKT_DATA_DISPLAYMATRIX, NULL);
        /* Chunk 0's parameter sets, at the highest level any chunk claims. */
        if (res->level > j.h264[0].level &&
            (ret = sh_h264_set_level(vs->codecpar->extradata, vs->codecpar->extradata_size, &j.h264[0],
                                     res->level)) < 0)
            goto end;
        if ((ret = sh_mux_open(&j.mx, path, "mp4")) < 0) {
            char name[PATH_MAX];
            sh_log(SH_LOG_ERROR, sh_temp_dest_name(name, sizeof(name), path), "cannot write: %s", av_err2str(ret));
            goto end;
        }
        sh_mux_keep_order(j.mx);
        if ((ret = j.vst = sh_mux_add_stream(j.mx, vs->codecpar, j.vtb, (const int32_t *)m)) < 0)
            goto end;
    }
    /* (Its first packet only once every stream it has is mapped.) */
    if (j.audio.fmt && ((ret = side_add(&j)) < 0 || (ret = source_next(&j.audio, audio_path)) < 0))
        goto end;
    source_close(&first);
    if ((ret = sh_mux_write_header(j.mx)) < 0)
        goto end;
    j.audio_block = AV_NOPTS_VALUE;    /* the first video packet writes the first block's audio */
    if (!(j.held = av_packet_alloc())) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int k = 0; k < p->nchunks; k++)
        if ((ret = copy_chunk(&j, k, files[k], res)) < 0)
            goto end;
    if ((ret = write_held(&j, NULL, j.end, res)) < 0)
        goto end;
    if ((ret = write_audio_until(&j, 0, (AVRational){ 0, 1 }, res)) < 0 || (ret = sh_mux_finish(j.mx)) < 0)
        goto end;
    if (j.fixed_dts)
        sh_log(SH_LOG_VERBOSE, path, "%lld decode timestamps moved at chunk joins", (long long)j.fixed_dts);
    if (stat(path, &sb) < 0) {
        ret = AVERROR(errno);
        goto end;
    }
    res->bytes = sb.st_size;
    res->duration = j.end * av_q2d(j.vtb);
    if (sb.st_size > p->target_bytes) {
        if ((ret = plan_redo(p, (char **)files, sb.st_size - p->target_bytes, res)) >= 0)
            ret = SH_ERROR_REDO;
        goto end;
    }
    ret = 0;
end:
    source_close(&first);
    source_close(&j.audio);
    sh_mux_free(&j.mx);
    av_packet_free(&j.held);
    av_free(j.h264);
    av_free(j.delta);
    return ret;
}

int sh_chunk_join(const ShChunkPlan *p, const char *plan_dir, char *const *chunks, int nchunks,
                  const char *output, int force, ShChunkJoinResult *res)
{
    char **files = av_calloc(p->nchunks, sizeof(*files));
    char audio_path[PATH_MAX], tmp[PATH_MAX] = "";
    struct stat sb;
    int ret;

    memset(res, 0, sizeof(*res));
    res->missing = -1;
    sh_log_install_av_bridge();
    if (!files) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    for (int i = 0; i < nchunks; i++) {
        int k = sh_chunk_index(chunks[i]);
        if (k < 0 || k >= p->nchunks) {
            sh_log(SH_LOG_ERROR, chunks[i], "not a chunk of this plan: %s", k < 0 ? "no chunk number in its name"
                   : "its number is past the plan's last chunk");
            ret = AVERROR(EINVAL);
            goto end;
        }
        if (files[k]) {
            sh_log(SH_LOG_ERROR, chunks[i], "is chunk %d, and so is %s: give one", k, files[k]);
            ret = AVERROR(EINVAL);
            goto end;
        }
        files[k] = chunks[i];
    }
    for (int k = 0; k < p->nchunks; k++)
        if (!files[k]) {
            sh_log(SH_LOG_ERROR, NULL, "chunk %d of %d is missing: encode it (shrink encode-chunk PLAN %d -o ...) "
                   "and name it here", k, p->nchunks, k);
            res->missing = k;
            ret = AVERROR(ENOENT);
            goto end;
        }
    if (p->audio_path[0]) {
        int n = p->audio_path[0] == '/' ? snprintf(audio_path, sizeof(audio_path), "%s", p->audio_path)
              : snprintf(audio_path, sizeof(audio_path), "%.2000s/%.2000s", plan_dir, p->audio_path);
        if (n < 0 || (size_t)n >= sizeof(audio_path)) {
            ret = AVERROR(ENAMETOOLONG);
            goto end;
        }
        if (stat(audio_path, &sb) < 0 || sb.st_size != p->audio_bytes) {
            sh_log(SH_LOG_ERROR, audio_path, "%s: the plan's audio (%lld bytes) is made by shrink plan",
                   stat(audio_path, &sb) < 0 ? "missing" : "not the plan's audio", (long long)p->audio_bytes);
            ret = AVERROR(ENOENT);
            goto end;
        }
    }
    if ((ret = sh_temp_create_beside(tmp, sizeof(tmp), output)) < 0) {
        sh_log(SH_LOG_ERROR, output, "cannot create a file beside it: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = sh_chunk_join_write(p, files, p->audio_path[0] ? audio_path : NULL, tmp, res)) < 0) {
        if (ret == SH_ERROR_REDO && res->bytes > p->target_bytes)
            sh_log(SH_LOG_ERROR, output, "joined, %lld bytes: over the target of %lld by %lld; nothing was written",
                   (long long)res->bytes, (long long)p->target_bytes, (long long)(res->bytes - p->target_bytes));
        goto end;
    }
    {
        ShVerifyExpect e = { .subtitles = -1 };   /* (the audio file's, whatever it carries) */
        e.video_codec = p->codec;
        e.width = p->width;
        e.height = p->height;
        e.audio = p->audio_path[0] != 0;
        e.duration = p->duration;
        e.tolerance = av_q2d(av_inv_q(p->fps)) + 0.125;
        e.max_bytes = p->target_bytes;
        if ((ret = sh_output_verify(tmp, &e)) < 0)
            goto end;
    }
    if ((ret = sh_temp_commit(tmp, output, force, "joining")) < 0)
        goto end;
    tmp[0] = 0;
    ret = 0;
end:
    if (tmp[0])
        sh_temp_remove(tmp);
    av_free(files);
    return ret;
}

void sh_chunk_join_result_free(ShChunkJoinResult *res)
{
    av_freep(&res->redo);
    res->nredo = 0;
}
