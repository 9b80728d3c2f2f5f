/*
 * Text subtitles, chapters and the title, kept (subs.h). The cues are read
 * once from their own opening of the file, with every other stream
 * discarded at the demuxer (no video or audio decoded: a two-hour film's
 * subtitles are a few hundred KB of packets), decoded to check them and to
 * convert them where the container needs another codec, cut to the trim,
 * and kept in memory as output packets in milliseconds from the output's
 * start. Each encode attempt adds them to its file (sh_subs_mux_*).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/mathematics.h>

#include "common/log.h"
#include "input/open.h"
#include "job/job.h"
#include "job/subs.h"

/* Packet bytes kept at most, over every track: text subtitles of a long
 * film are a few hundred KB; a stream of many MB is not text to read. */
#define SH_SUBS_MAX_BYTES ((int64_t)32 << 20)
/* Cues a track keeps at most (a two-hour film has one or two thousand): each
 * is a packet in memory, so a stream of tiny ones is bounded too. */
#define SH_SUBS_MAX_CUES 100000
/* What one converted cue may take. */
#define SH_SUBS_CUE_BYTES (1 << 20)
/* Container bytes, estimated: a track's headers (with MP4's sample
 * description and Matroska's track entry), each cue's index entries (MP4:
 * sizes, times and a chunk offset, and the empty sample the muxer puts in
 * each gap; Matroska: a block group and a cue point; measured: 29 and 31
 * bytes a cue over the packets, 480 short cues in 16 s), a chapter's entry.
 * Only the first encode relies on it: the rate loop measures the rest. */
#define SH_SUBS_TRACK_BYTES 800
#define SH_SUBS_CUE_INDEX_BYTES 36
#define SH_SUBS_CHAPTER_BYTES 96
static const AVRational ms_tb = { 1, 1000 };

typedef struct Track {
    int index;                /* the input's stream */
    int number;               /* among the file's subtitle streams, from 1 */
    AVCodecParameters *par;   /* the output stream's */
    AVDictionary *meta;       /* language, title */
    int disposition;
    AVCodecContext *dec, *enc;  /* enc NULL: the packets are copied */
    AVPacket **pkt;           /* output packets, pts in ms from the output's start */
    int npkt, alloc;
    /* a cue whose end is not known (no duration): it lasts until the next */
    int pending;
    int64_t pend_start;       /* microseconds, the file's time */
    AVSubtitle pend_sub;
    AVPacket *pend_pkt;
    int ended;                /* a cue at or past the range's end was seen */
} Track;

typedef struct Chapter {
    int64_t start, end;       /* ms in the output */
    char *title;
} Chapter;

struct ShSubs {
    const char *path;
    Track t[SH_SUBS_MAX_TRACKS];
    int n;
    Chapter *ch;
    int nch;
    char *title;
    int64_t origin, end;      /* the range in the file's time, microseconds */
    int64_t bytes;            /* packet bytes kept */
    uint8_t *buf;             /* a converted cue */
};

int sh_subs_tracks(const ShSubs *s)
{
    return s ? s->n : 0;
}

int64_t sh_subs_bytes(const ShSubs *s)
{
    int64_t b = 0;
    if (!s)
        return 0;
    for (int i = 0; i < s->n; i++)
        b += SH_SUBS_TRACK_BYTES + s->t[i].par->extradata_size + (int64_t)s->t[i].npkt * SH_SUBS_CUE_INDEX_BYTES;
    for (int i = 0; i < s->nch; i++)
        b += SH_SUBS_CHAPTER_BYTES + 2 * (s->ch[i].title ? (int64_t)strlen(s->ch[i].title) : 0);
    if (s->title)
        b += 64 + 2 * (int64_t)strlen(s->title);
    return b + s->bytes;
}

/* What a container takes for a text codec: the codec itself (a copy), or what to convert it to. */
static enum AVCodecID output_codec(const char *muxer, enum AVCodecID in)
{
    if (!strcmp(muxer, "mp4") || !strcmp(muxer, "mov"))
        return AV_CODEC_ID_MOV_TEXT;
    if (!strcmp(muxer, "webm"))
        return AV_CODEC_ID_WEBVTT;
    if (in == AV_CODEC_ID_SUBRIP || in == AV_CODEC_ID_ASS || in == AV_CODEC_ID_SSA || in == AV_CODEC_ID_WEBVTT)
        return in;
    return AV_CODEC_ID_SUBRIP;
}

static int is_text(enum AVCodecID id)
{
    const AVCodecDescriptor *d = avcodec_descriptor_get(id);
    return d && (d->props & AV_CODEC_PROP_TEXT_SUB) && avcodec_find_decoder(id);
}

/* ---- the cues ---- */

static int keep_packet(ShSubs *s, Track *t, AVPacket *p)
{
    if (s->bytes + p->size > SH_SUBS_MAX_BYTES || t->npkt >= SH_SUBS_MAX_CUES) {
        if (t->npkt >= SH_SUBS_MAX_CUES)
            sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: more than %d cues, not subtitles to keep "
                   "(--subs none leaves them out)", t->number, SH_SUBS_MAX_CUES);
        else
            sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: more than %lld MB of text, not subtitles to keep "
                   "(--subs none leaves them out)", t->number, (long long)(SH_SUBS_MAX_BYTES >> 20));
        return AVERROR_INVALIDDATA;
    }
    if (t->npkt == t->alloc) {
        int n = t->alloc ? 2 * t->alloc : 256;
        AVPacket **a = av_realloc_array(t->pkt, n, sizeof(*a));
        if (!a)
            return AVERROR(ENOMEM);
        t->pkt = a;
        t->alloc = n;
    }
    t->pkt[t->npkt++] = p;
    s->bytes += p->size;
    return 0;
}

/*
 * The cue [start, end) (microseconds, the file's time) cut to the range and
 * moved to the output's time: the copied packet (cp) or the decoded cue
 * (sub) converted. Nothing when it lies outside the range.
 */
static int emit(ShSubs *s, Track *t, int64_t start, int64_t end, const AVPacket *cp, AVSubtitle *sub)
{
    int64_t a = FFMAX(start, s->origin), b = FFMIN(end, s->end), pts, dur;
    AVPacket *p = NULL;
    int ret;

    if (b <= a)
        return 0;
    pts = av_rescale_q(a - s->origin, AV_TIME_BASE_Q, ms_tb);
    dur = FFMAX(av_rescale_q(b - s->origin, AV_TIME_BASE_Q, ms_tb) - pts, 1);
    if (t->enc) {
        uint32_t sd = sub->start_display_time, ed = sub->end_display_time;
        int64_t spts = sub->pts;
        /* The encoder sees the cue as the output shows it. */
        sub->pts = a;
        sub->start_display_time = 0;
        sub->end_display_time = (uint32_t)dur;
        ret = avcodec_encode_subtitle(t->enc, s->buf, SH_SUBS_CUE_BYTES, sub);
        sub->pts = spts;
        sub->start_display_time = sd;
        sub->end_display_time = ed;
        if (ret < 0) {
            sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: the cue at %.3f s cannot be converted to %s: %s",
                   t->number, start / 1e6, avcodec_get_name(t->par->codec_id), av_err2str(ret));
            return ret;
        }
        if (!ret)
            return 0;
        if (!(p = av_packet_alloc()) || av_new_packet(p, ret) < 0) {
            av_packet_free(&p);
            return AVERROR(ENOMEM);
        }
        memcpy(p->data, s->buf, ret);
    } else {
        if (!(p = av_packet_alloc()))
            return AVERROR(ENOMEM);
        if ((ret = av_packet_ref(p, cp)) < 0) {
            av_packet_free(&p);
            return ret;
        }
    }
    p->pts = p->dts = pts;
    p->duration = dur;
    p->flags |= AV_PKT_FLAG_KEY;
    p->stream_index = 0;
    if ((ret = keep_packet(s, t, p)) < 0)
        av_packet_free(&p);
    return ret;
}

static int flush_pending(ShSubs *s, Track *t, int64_t end)
{
    int ret;
    if (!t->pending)
        return 0;
    ret = emit(s, t, t->pend_start, end, t->pend_pkt, &t->pend_sub);
    t->pending = 0;
    avsubtitle_free(&t->pend_sub);
    av_packet_unref(t->pend_pkt);
    return ret;
}

/* Whether a plain-text cue is UTF-8, as text subtitle decoders require (an old rip's Latin-1 is not). */
static int is_utf8(const uint8_t *p, int n)
{
    for (int i = 0; i < n; ) {
        int c = p[i], k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (k < 0 || i + k >= n + (k ? 0 : 1))
            return 0;
        for (int j = 1; j <= k; j++)
            if ((p[i + j] & 0xc0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

/* One packet of a kept track: decoded (checked), then copied or converted. */
static int take_packet(ShSubs *s, Track *t, AVPacket *pkt, AVRational tb)
{
    AVSubtitle sub = { 0 };
    int64_t start, end = AV_NOPTS_VALUE;
    int got = 0, ret;

    if (pkt->pts == AV_NOPTS_VALUE)
        pkt->pts = pkt->dts;
    if (pkt->pts == AV_NOPTS_VALUE)
        return 0;    /* a cue with no time cannot be placed */
    ret = avcodec_decode_subtitle2(t->dec, &sub, &got, pkt);
    if (ret < 0) {
        enum AVCodecID id = t->dec->codec_id;
        int plain = id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_ASS || id == AV_CODEC_ID_SSA ||
                    id == AV_CODEC_ID_WEBVTT || id == AV_CODEC_ID_TEXT;
        if (plain && !is_utf8(pkt->data, pkt->size))
            sh_log(SH_LOG_ERROR, s->path, "subtitle track %d (%s): the cue at %.3f s is not UTF-8 text (an older "
                   "encoding such as Latin-1?); --subs none leaves the subtitles out", t->number,
                   avcodec_get_name(id), pkt->pts * av_q2d(tb));
        else
            sh_log(SH_LOG_ERROR, s->path, "subtitle track %d (%s): the cue at %.3f s does not decode: %s "
                   "(--subs none leaves the subtitles out)", t->number, avcodec_get_name(id),
                   pkt->pts * av_q2d(tb), av_err2str(ret));
        return AVERROR_INVALIDDATA;
    }
    start = av_rescale_q(pkt->pts, tb, AV_TIME_BASE_Q);
    if (got && sub.pts != AV_NOPTS_VALUE)
        start = sub.pts + (int64_t)sub.start_display_time * 1000;
    if (got && sub.end_display_time && sub.end_display_time != UINT32_MAX && sub.end_display_time > sub.start_display_time)
        end = start + (int64_t)(sub.end_display_time - sub.start_display_time) * 1000;
    else if (pkt->duration > 0)
        end = start + av_rescale_q(pkt->duration, tb, AV_TIME_BASE_Q);
    /* The one before without an end lasts until this one. */
    if ((ret = flush_pending(s, t, start)) < 0)
        goto end;
    if (start >= s->end)
        t->ended = 1;
    /* An empty cue (a clearing event) shows nothing: its start ended the one before. */
    if (!got || !sub.num_rects)
        goto end;
    if (end == AV_NOPTS_VALUE) {
        t->pending = 1;
        t->pend_start = start;
        t->pend_sub = sub;
        memset(&sub, 0, sizeof(sub));
        ret = av_packet_ref(t->pend_pkt, pkt);
        goto end;
    }
    ret = emit(s, t, start, end, pkt, &sub);
end:
    avsubtitle_free(&sub);
    return ret;
}

static int open_codecs(ShSubs *s, Track *t, const AVStream *st, const char *muxer)
{
    const AVCodecParameters *in = st->codecpar;
    enum AVCodecID out = output_codec(muxer, in->codec_id);
    const AVCodec *dc = avcodec_find_decoder(in->codec_id), *ec;
    int ret;

    if (!(t->par = avcodec_parameters_alloc()) || !(t->dec = avcodec_alloc_context3(dc)) ||
        !(t->pend_pkt = av_packet_alloc()))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_to_context(t->dec, in)) < 0)
        return ret;
    t->dec->pkt_timebase = st->time_base;
    if ((ret = avcodec_open2(t->dec, dc, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: cannot open the %s decoder: %s", t->number,
               dc->name, av_err2str(ret));
        return ret;
    }
    if (out == in->codec_id)
        return avcodec_parameters_copy(t->par, in);
    if (!(ec = avcodec_find_encoder(out))) {
        sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: this build has no %s encoder to convert it", t->number,
               avcodec_get_name(out));
        return AVERROR_ENCODER_NOT_FOUND;
    }
    if (!(t->enc = avcodec_alloc_context3(ec)))
        return AVERROR(ENOMEM);
    t->enc->time_base = ms_tb;
    /* The styles the decoder read (ASS's header, or its default one): the encoder's starting point. */
    if (t->dec->subtitle_header) {
        if (!(t->enc->subtitle_header = av_mallocz(t->dec->subtitle_header_size + 1)))
            return AVERROR(ENOMEM);
        memcpy(t->enc->subtitle_header, t->dec->subtitle_header, t->dec->subtitle_header_size);
        t->enc->subtitle_header_size = t->dec->subtitle_header_size;
    }
    if ((ret = avcodec_open2(t->enc, ec, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, s->path, "subtitle track %d: cannot open the %s encoder: %s", t->number, ec->name,
               av_err2str(ret));
        return ret;
    }
    return avcodec_parameters_from_context(t->par, t->enc);
}

/* The kept tracks' packets, from a second opening of the file with everything else discarded. */
static int read_cues(ShSubs *s, const AVFormatContext *like, const char *muxer)
{
    AVFormatContext *fmt = NULL;
    AVPacket *pkt = av_packet_alloc();
    int ret;

    if (!pkt || !(s->buf = av_malloc(SH_SUBS_CUE_BYTES))) {
        ret = AVERROR(ENOMEM);
        goto end;
    }
    if ((ret = sh_media_open(&fmt, s->path, 0, NULL)) < 0)
        goto end;
    if ((ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        sh_log(SH_LOG_ERROR, s->path, "cannot read stream information: %s", av_err2str(ret));
        goto end;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++)
        fmt->streams[i]->discard = AVDISCARD_ALL;
    for (int k = 0; k < s->n; k++) {
        Track *t = &s->t[k];
        /* The same file read the same way: the same streams. */
        if ((unsigned)t->index >= fmt->nb_streams ||
            fmt->streams[t->index]->codecpar->codec_id != like->streams[t->index]->codecpar->codec_id) {
            sh_log(SH_LOG_ERROR, s->path, "its streams changed while it was read");
            ret = SH_ERROR_CHANGED;
            goto end;
        }
        fmt->streams[t->index]->discard = AVDISCARD_DEFAULT;
        if ((ret = open_codecs(s, t, fmt->streams[t->index], muxer)) < 0)
            goto end;
    }
    for (;;) {
        int k, all_ended = 1;
        if ((ret = av_read_frame(fmt, pkt)) < 0)
            break;
        for (k = 0; k < s->n && s->t[k].index != pkt->stream_index; k++)
            ;
        ret = k < s->n ? take_packet(s, &s->t[k], pkt, fmt->streams[pkt->stream_index]->time_base) : 0;
        av_packet_unref(pkt);
        if (ret < 0)
            goto end;
        if (sh_job_interrupted()) {
            ret = SH_ERROR_INTERRUPTED;
            goto end;
        }
        for (k = 0; k < s->n; k++)
            all_ended &= s->t[k].ended;
        if (all_ended) {
            ret = AVERROR_EOF;
            break;
        }
    }
    if (ret != AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, s->path, "cannot read its subtitles: %s (--subs none leaves them out)", av_err2str(ret));
        goto end;
    }
    ret = 0;
    for (int k = 0; k < s->n && ret >= 0; k++)
        ret = flush_pending(s, &s->t[k], s->end);
end:
    av_packet_free(&pkt);
    sh_media_close(&fmt);
    return ret;
}

/* ---- chapters and the title ---- */

static int take_chapters(ShSubs *s, const AVFormatContext *fmt)
{
    const AVDictionaryEntry *e = av_dict_get(fmt->metadata, "title", NULL, 0);
    if (e && e->value[0] && !(s->title = av_strdup(e->value)))
        return AVERROR(ENOMEM);
    if (!fmt->nb_chapters)
        return 0;
    if (!(s->ch = av_calloc(fmt->nb_chapters, sizeof(*s->ch))))
        return AVERROR(ENOMEM);
    for (unsigned i = 0; i < fmt->nb_chapters; i++) {
        const AVChapter *c = fmt->chapters[i];
        int64_t a = av_rescale_q(c->start, c->time_base, AV_TIME_BASE_Q);
        int64_t b = av_rescale_q(c->end, c->time_base, AV_TIME_BASE_Q);
        Chapter *o = &s->ch[s->nch];
        /* Cut to the range: one that starts before it opens the output. */
        a = FFMAX(a, s->origin);
        b = FFMIN(b, s->end);
        if (b <= a)
            continue;
        o->start = av_rescale_q(a - s->origin, AV_TIME_BASE_Q, ms_tb);
        o->end = av_rescale_q(b - s->origin, AV_TIME_BASE_Q, ms_tb);
        e = av_dict_get(c->metadata, "title", NULL, 0);
        if (e && !(o->title = av_strdup(e->value)))
            return AVERROR(ENOMEM);
        s->nch++;
    }
    return 0;
}

/* ---- which tracks ---- */

static int choose_tracks(ShSubs *s, const AVFormatContext *fmt, int which)
{
    char images[256] = "";
    int n = 0;

    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        enum AVCodecID id = st->codecpar->codec_id;
        const AVDictionaryEntry *lang = av_dict_get(st->metadata, "language", NULL, 0);
        Track *t;
        if (st->codecpar->codec_type != AVMEDIA_TYPE_SUBTITLE)
            continue;
        n++;
        if (which > 0 && n != which)
            continue;
        if (!is_text(id)) {
            if (which > 0) {
                sh_log(SH_LOG_ERROR, s->path, "subtitle track %d is %s, %s: shrink keeps text subtitles only", n,
                       avcodec_get_name(id), avcodec_descriptor_get(id) &&
                       (avcodec_descriptor_get(id)->props & AV_CODEC_PROP_BITMAP_SUB) ? "pictures" : "not text it can read");
                return AVERROR_STREAM_NOT_FOUND;
            }
            av_strlcatf(images, sizeof(images), "%strack %d (%s%s%s)", images[0] ? ", " : "", n, avcodec_get_name(id),
                        lang ? ", " : "", lang ? lang->value : "");
            continue;
        }
        if (s->n == SH_SUBS_MAX_TRACKS) {
            sh_log(SH_LOG_WARNING, s->path, "subtitle track %d left out: %d are kept at most", n, SH_SUBS_MAX_TRACKS);
            continue;
        }
        t = &s->t[s->n++];
        t->index = (int)i;
        t->number = n;
        t->disposition = st->disposition & (AV_DISPOSITION_DEFAULT | AV_DISPOSITION_FORCED |
                                            AV_DISPOSITION_HEARING_IMPAIRED);
        {
            const AVDictionaryEntry *title = av_dict_get(st->metadata, "title", NULL, 0);
            if ((lang && av_dict_set(&t->meta, "language", lang->value, 0) < 0) ||
                (title && av_dict_set(&t->meta, "title", title->value, 0) < 0))
                return AVERROR(ENOMEM);
        }
    }
    if (which > 0 && n < which) {
        if (n)
            sh_log(SH_LOG_ERROR, s->path, "has no subtitle track %d (it has %d)", which, n);
        else
            sh_log(SH_LOG_ERROR, s->path, "has no subtitle track %d (it has none)", which);
        return AVERROR_STREAM_NOT_FOUND;
    }
    if (images[0])
        sh_log(SH_LOG_WARNING, s->path, "image subtitles left out (shrink keeps text subtitles only): %s", images);
    return 0;
}

int sh_subs_open(ShSubs **ps, const ShInput *in, const ShInputInfo *info, int which, const char *muxer)
{
    const AVFormatContext *fmt = sh_input_format(in);
    ShSubs *s;
    int ret;

    *ps = NULL;
    if (!strcmp(muxer, "gif"))
        return 0;
    if (!(s = av_mallocz(sizeof(*s))))
        return AVERROR(ENOMEM);
    s->path = info->path;
    s->origin = av_rescale_q(info->range_start, info->video_tb, AV_TIME_BASE_Q);
    s->end = s->origin + llrint(info->duration * AV_TIME_BASE);
    if ((which != SH_SUBS_NONE && (ret = choose_tracks(s, fmt, which)) < 0) || (ret = take_chapters(s, fmt)) < 0 ||
        (s->n && (ret = read_cues(s, fmt, muxer)) < 0))
        goto fail;
    if (s->n)
        sh_log(SH_LOG_VERBOSE, s->path, "subtitles: %d track%s, %lld bytes of cues; %d chapter%s",
               s->n, s->n == 1 ? "" : "s", (long long)s->bytes, s->nch, s->nch == 1 ? "" : "s");
    if (!s->n && !s->nch && !s->title) {
        sh_subs_free(&s);
        return 0;
    }
    *ps = s;
    return 0;
fail:
    sh_subs_free(&s);
    return ret;
}

/* ---- into an output ---- */

int sh_subs_mux_setup(const ShSubs *s, ShMuxer *mx, ShSubsCursor *c)
{
    int ret;
    memset(c, 0, sizeof(*c));
    c->first = -1;
    if (!s)
        return 0;
    for (int k = 0; k < s->n; k++) {
        const Track *t = &s->t[k];
        const AVDictionaryEntry *e = NULL;
        int st = sh_mux_add_stream(mx, t->par, ms_tb, NULL);
        if (st < 0)
            return st;
        if (!k)
            c->first = st;
        while ((e = av_dict_get(t->meta, "", e, AV_DICT_IGNORE_SUFFIX)))
            if ((ret = sh_mux_set_tag(mx, st, e->key, e->value)) < 0)
                return ret;
        sh_mux_set_disposition(mx, st, t->disposition);
    }
    for (int i = 0; i < s->nch; i++)
        if ((ret = sh_mux_add_chapter(mx, i, s->ch[i].start, s->ch[i].end, ms_tb, s->ch[i].title)) < 0)
            return ret;
    if (s->title && (ret = sh_mux_set_tag(mx, -1, "title", s->title)) < 0)
        return ret;
    return 0;
}

int sh_subs_mux_until(const ShSubs *s, ShMuxer *mx, ShSubsCursor *c, int64_t t_ms)
{
    AVPacket *p;
    int ret;
    if (!s)
        return 0;
    for (int k = 0; k < s->n; k++) {
        const Track *t = &s->t[k];
        for (; c->next[k] < t->npkt && t->pkt[c->next[k]]->pts <= t_ms; c->next[k]++) {
            if (!(p = av_packet_clone(t->pkt[c->next[k]])))
                return AVERROR(ENOMEM);
            ret = sh_mux_write(mx, c->first + k, p);
            av_packet_free(&p);
            if (ret < 0)
                return ret;
        }
    }
    return 0;
}

void sh_subs_free(ShSubs **ps)
{
    ShSubs *s = *ps;
    if (!s)
        return;
    for (int k = 0; k < s->n; k++) {
        Track *t = &s->t[k];
        for (int i = 0; i < t->npkt; i++)
            av_packet_free(&t->pkt[i]);
        av_free(t->pkt);
        avcodec_parameters_free(&t->par);
        av_dict_free(&t->meta);
        avcodec_free_context(&t->dec);
        avcodec_free_context(&t->enc);
        avsubtitle_free(&t->pend_sub);
        av_packet_free(&t->pend_pkt);
    }
    for (int i = 0; i < s->nch; i++)
        av_free(s->ch[i].title);
    av_free(s->ch);
    av_free(s->title);
    av_free(s->buf);
    av_freep(ps);
}
