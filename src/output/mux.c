/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavformat/avformat.h>

#include "common/log.h"
#include "common/temp.h"
#include "input/open.h"
#include "output/gifmux.h"
#include "output/mux.h"
#include "shrink/shrink.h"

/* Video, audio and the subtitle tracks kept (job/subs.h: 16 at most). */
#define SH_MAX_STREAMS 20

struct ShMuxer {
    AVFormatContext *fmt;
    AVRational src_tb[SH_MAX_STREAMS];
    const char *path;
    char url[PATH_MAX + 8];   /* "file:" + path */
    char name[PATH_MAX];      /* for messages: the destination, not the temporary name */
    int header_written;
    int keep_order;           /* sh_mux_keep_order: av_write_frame, the caller interleaves */
    /* "gif": giflib's writer (output/gifmux.c), not libavformat's */
    int is_gif;
    ShGifWriter *gif;
    AVCodecParameters *gif_par;
    int gif_fd;
};

int sh_mux_open(ShMuxer **pmx, const char *path, const char *format)
{
    ShMuxer *mx = av_mallocz(sizeof(*mx));
    int ret;
    if (!mx)
        return AVERROR(ENOMEM);
    mx->path = path;
    sh_temp_dest_name(mx->name, sizeof(mx->name), path);
    /* The path is a local file's: "file:" keeps libav from reading a protocol
     * into a name with a colon ("out:1.mp4"). The context's url too: the MP4
     * muxer reopens it to move the index to the front (faststart). */
    snprintf(mx->url, sizeof(mx->url), "file:%s", path);
    mx->gif_fd = -1;
    if (!strcmp(format, "gif")) {
        /* GIF's images come compressed already, lossy LZW included (the gif
         * encoder's packets): written by giflib, beside libavformat's muxers. */
        mx->is_gif = 1;
        *pmx = mx;
        return 0;
    }
    if ((ret = avformat_alloc_output_context2(&mx->fmt, NULL, format, mx->url)) < 0)
        goto fail;
    *pmx = mx;
    return 0;
fail:
    sh_mux_free(&mx);
    return ret;
}

int sh_mux_add_stream(ShMuxer *mx, const AVCodecParameters *par, AVRational time_base,
                      const int32_t *display_matrix)
{
    AVStream *st;
    int ret;
    if (mx->is_gif) {
        /* one video stream: GIF has no sound */
        if (mx->gif_par || par->codec_id != AV_CODEC_ID_GIF)
            return AVERROR(EINVAL);
        if (!(mx->gif_par = avcodec_parameters_alloc()))
            return AVERROR(ENOMEM);
        if ((ret = avcodec_parameters_copy(mx->gif_par, par)) < 0)
            return ret;
        mx->src_tb[0] = time_base;
        return 0;
    }
    if (mx->fmt->nb_streams >= SH_MAX_STREAMS)
        return AVERROR(EINVAL);
    if (!(st = avformat_new_stream(mx->fmt, NULL)))
        return AVERROR(ENOMEM);
    if ((ret = avcodec_parameters_copy(st->codecpar, par)) < 0)
        return ret;
    st->codecpar->codec_tag = 0;
    /* HEVC in MP4/MOV as hvc1 (parameter sets in the sample description
     * only): Apple's players refuse hev1, the muxer's default. */
    if (par->codec_id == AV_CODEC_ID_HEVC && (!strcmp(mx->fmt->oformat->name, "mp4") ||
                                              !strcmp(mx->fmt->oformat->name, "mov")))
        st->codecpar->codec_tag = MKTAG('h', 'v', 'c', '1');
    st->time_base = time_base;    /* a hint: the muxer may choose another */
    if (display_matrix) {
        uint8_t *m = av_stream_new_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
        if (!m)
            return AVERROR(ENOMEM);
        memcpy(m, display_matrix, 9 * sizeof(int32_t));
    }
    mx->src_tb[st->index] = time_base;
    return st->index;
}

int sh_mux_set_tag(ShMuxer *mx, int stream, const char *key, const char *value)
{
    if (mx->is_gif)
        return 0;
    if (stream >= (int)mx->fmt->nb_streams)
        return AVERROR(EINVAL);
    return av_dict_set(stream < 0 ? &mx->fmt->metadata : &mx->fmt->streams[stream]->metadata, key, value, 0);
}

void sh_mux_set_disposition(ShMuxer *mx, int stream, int disposition)
{
    if (!mx->is_gif && stream >= 0 && stream < (int)mx->fmt->nb_streams)
        mx->fmt->streams[stream]->disposition = disposition;
}

int sh_mux_add_chapter(ShMuxer *mx, int64_t id, int64_t start, int64_t end, AVRational tb, const char *title)
{
    AVChapter *ch, **a;
    if (mx->is_gif)
        return 0;
    if (!(ch = av_mallocz(sizeof(*ch))))
        return AVERROR(ENOMEM);
    ch->id = id;
    ch->time_base = tb;
    ch->start = start;
    ch->end = end;
    if ((title && av_dict_set(&ch->metadata, "title", title, 0) < 0) ||
        !(a = av_realloc_array(mx->fmt->chapters, mx->fmt->nb_chapters + 1, sizeof(*a)))) {
        av_dict_free(&ch->metadata);
        av_free(ch);
        return AVERROR(ENOMEM);
    }
    /* avformat_free_context frees them, as its own. */
    mx->fmt->chapters = a;
    a[mx->fmt->nb_chapters++] = ch;
    return 0;
}

void sh_mux_keep_order(ShMuxer *mx)
{
    mx->keep_order = 1;
}

int sh_mux_write_header(ShMuxer *mx)
{
    AVDictionary *opts = NULL;
    int ret;

    if (mx->is_gif) {
        if (!mx->gif_par)
            return AVERROR(EINVAL);
        mx->gif_fd = open(mx->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        ret = mx->gif_fd < 0 ? AVERROR(errno) : sh_gif_writer_open_par(&mx->gif, mx->gif_fd, NULL, mx->gif_par);
        if (ret < 0) {
            sh_log(SH_LOG_ERROR, mx->name, "cannot write: %s", av_err2str(ret));
            return ret;
        }
        mx->header_written = 1;
        return 0;
    }
    if (!(mx->fmt->oformat->flags & AVFMT_NOFILE) &&
        (ret = avio_open(&mx->fmt->pb, mx->url, AVIO_FLAG_WRITE)) < 0) {
        sh_log(SH_LOG_ERROR, mx->name, "cannot write: %s", av_err2str(ret));
        return ret;
    }
    /* faststart: players can start before the whole file has arrived. */
    av_dict_set(&opts, "movflags", "+faststart", 0);
    mx->fmt->flags |= AVFMT_FLAG_BITEXACT; /* no encoder name tag: reproducible, smaller */
    ret = avformat_write_header(mx->fmt, &opts);
    av_dict_free(&opts);
    if (ret < 0) {
        sh_log(SH_LOG_ERROR, mx->name, "cannot write the header: %s", av_err2str(ret));
        return ret;
    }
    mx->header_written = 1;
    return 0;
}

int sh_mux_write(ShMuxer *mx, int stream, AVPacket *pkt)
{
    int ret;
    if (mx->is_gif) {
        ret = stream || !mx->gif ? AVERROR(EINVAL) : sh_gif_writer_put_packet(mx->gif, pkt, mx->src_tb[0]);
        av_packet_unref(pkt);
        if (ret < 0)
            sh_log(SH_LOG_ERROR, mx->name, "write failed: %s", av_err2str(ret));
        return ret;
    }
    pkt->stream_index = stream;
    /* The stream time base is only final after write_header: rescale here. */
    av_packet_rescale_ts(pkt, mx->src_tb[stream], mx->fmt->streams[stream]->time_base);
    if (mx->keep_order) {
        ret = av_write_frame(mx->fmt, pkt);
        av_packet_unref(pkt);     /* av_write_frame leaves it the caller's: taken, as interleaved */
    } else {
        ret = av_interleaved_write_frame(mx->fmt, pkt);
    }
    if (ret < 0)
        sh_log(SH_LOG_ERROR, mx->name, "write failed: %s", av_err2str(ret));
    return ret;
}

static int gif_finish(ShMuxer *mx)
{
    int ret = sh_gif_writer_close(&mx->gif), r2 = close(mx->gif_fd);
    mx->gif_fd = -1;
    mx->header_written = 0;
    if (ret >= 0 && r2 < 0)
        ret = AVERROR(errno);
    if (ret < 0)
        sh_log(SH_LOG_ERROR, mx->name, "cannot finish the file: %s", av_err2str(ret));
    return ret;
}

int sh_mux_finish(ShMuxer *mx)
{
    int ret;
    if (mx->is_gif)
        return gif_finish(mx);
    ret = av_write_trailer(mx->fmt);
    mx->header_written = 0;
    if (ret < 0)
        sh_log(SH_LOG_ERROR, mx->name, "cannot finish the file: %s", av_err2str(ret));
    if (mx->fmt->pb) {
        int r2 = avio_closep(&mx->fmt->pb);
        if (ret >= 0 && r2 < 0) {
            ret = r2;
            sh_log(SH_LOG_ERROR, mx->name, "cannot close: %s", av_err2str(ret));
        }
    }
    return ret;
}

void sh_mux_free(ShMuxer **pmx)
{
    ShMuxer *mx = *pmx;
    if (!mx)
        return;
    sh_gif_writer_close(&mx->gif);
    if (mx->gif_fd >= 0)
        close(mx->gif_fd);
    avcodec_parameters_free(&mx->gif_par);
    if (mx->fmt) {
        if (mx->fmt->pb)
            avio_closep(&mx->fmt->pb);
        avformat_free_context(mx->fmt);
    }
    av_freep(pmx);
}

static int verify_fail(const char *path, const char *fmt, ...) SH_PRINTF(2, 3);
static int verify_fail(const char *path, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char name[PATH_MAX];
    sh_log(SH_LOG_ERROR, sh_temp_dest_name(name, sizeof(name), path), "output check failed: %s", msg);
    return SH_ERROR_VERIFY;
}

int sh_output_verify(const char *path, const ShVerifyExpect *e)
{
    AVFormatContext *fmt = NULL;
    const AVCodec *codec;
    AVCodecContext *dec = NULL;
    AVPacket *pkt = NULL;
    AVFrame *frame = NULL;
    struct stat sb;
    int ret, vi, ai, got = 0;
    double dur;

    if (stat(path, &sb) < 0)
        return verify_fail(path, "cannot stat the file");
    if (e->max_bytes > 0 && sb.st_size > e->max_bytes)
        return verify_fail(path, "%lld bytes, over the target of %lld", (long long)sb.st_size, (long long)e->max_bytes);
    if ((ret = sh_media_open(&fmt, path, SH_MEDIA_QUIET, NULL)) < 0 ||
        (ret = avformat_find_stream_info(fmt, NULL)) < 0) {
        ret = verify_fail(path, "cannot reopen it");
        goto end;
    }
    vi = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    ai = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (vi < 0) {
        ret = verify_fail(path, "no video stream");
        goto end;
    }
    {
        AVCodecParameters *par = fmt->streams[vi]->codecpar;
        if (e->video_codec && strcmp(avcodec_get_name(par->codec_id), e->video_codec)) {
            ret = verify_fail(path, "wrong video codec");
            goto end;
        }
        if (par->width != e->width || par->height != e->height) {
            ret = verify_fail(path, "%dx%d, planned %dx%d", par->width, par->height, e->width, e->height);
            goto end;
        }
    }
    if ((ai >= 0) != !!e->audio) {
        ret = verify_fail(path, "%s", e->audio ? "audio missing" : "unexpected audio");
        goto end;
    }
    if (e->subtitles >= 0) {
        int n = 0;
        for (unsigned i = 0; i < fmt->nb_streams; i++)
            n += fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_SUBTITLE;
        if (n != e->subtitles) {
            ret = verify_fail(path, "%d subtitle tracks, planned %d", n, e->subtitles);
            goto end;
        }
    }
    dur = fmt->duration > 0 ? fmt->duration / (double)AV_TIME_BASE : 0;
    if (fabs(dur - e->duration) > e->tolerance) {
        ret = verify_fail(path, "duration %.3f s, planned %.3f s", dur, e->duration);
        goto end;
    }
    /* Playable: the first video packet decodes to a picture. */
    codec = avcodec_find_decoder(fmt->streams[vi]->codecpar->codec_id);
    if (!codec || !(dec = avcodec_alloc_context3(codec)) || !(pkt = av_packet_alloc()) ||
        !(frame = av_frame_alloc()) ||
        avcodec_parameters_to_context(dec, fmt->streams[vi]->codecpar) < 0 ||
        avcodec_open2(dec, codec, NULL) < 0) {
        ret = verify_fail(path, "cannot open a decoder for it");
        goto end;
    }
    while (!got && av_read_frame(fmt, pkt) >= 0) {
        if (pkt->stream_index == vi && avcodec_send_packet(dec, pkt) >= 0)
            got = avcodec_receive_frame(dec, frame) >= 0;
        av_packet_unref(pkt);
    }
    if (!got) {
        avcodec_send_packet(dec, NULL);
        got = avcodec_receive_frame(dec, frame) >= 0;
    }
    ret = got ? 0 : verify_fail(path, "the video does not decode");
end:
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    sh_media_close(&fmt);
    return ret;
}
