/*
 * Inputs are the local files named, read through our own descriptor: see
 * open.h for what is refused and why. Why not the "file" protocol with a
 * whitelist: it would still parse the name ("file:x" loses its prefix, a
 * name with a colon is a protocol to look up) and still open a FIFO blocking.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/intreadwrite.h>

#include "common/log.h"
#include "input/open.h"

/* What the file protocol reads at a time. */
#define SH_MEDIA_IO_BUFFER 32768

/* Demuxers that read further files or network streams named inside the
 * input: a playlist named x.mp4 would otherwise make shrink encode whatever
 * file it names. Refused by name after probing, before they read a byte of
 * it as theirs; the I/O hooks below refuse any nested open besides. */
static const struct {
    const char *name, *what;
} refused_formats[] = {
    { "hls", "an HLS playlist" },
    { "dash", "a DASH manifest" },
    { "concat", "an ffconcat script" },
    { "imf", "an IMF composition playlist" },
    { "sdp", "an SDP session description" },
    { "rtsp", "an RTSP description" },
    { "avisynth", "an AviSynth script" },
    { "vapoursynth", "a VapourSynth script" },
};

typedef struct MediaIO {
    int fd;
} MediaIO;

static int media_read(void *opaque, uint8_t *buf, int size)
{
    MediaIO *io = opaque;
    ssize_t n;
    do
        n = read(io->fd, buf, size);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return AVERROR(errno);
    return n ? (int)n : AVERROR_EOF;
}

static int64_t media_seek(void *opaque, int64_t offset, int whence)
{
    MediaIO *io = opaque;
    off_t pos;
    if (whence & AVSEEK_SIZE) {
        struct stat sb;
        return fstat(io->fd, &sb) < 0 ? AVERROR(errno) : (int64_t)sb.st_size;
    }
    pos = lseek(io->fd, offset, whence & ~AVSEEK_FORCE);
    return pos < 0 ? AVERROR(errno) : (int64_t)pos;
}

/* A demuxer asking for another file: the input is read, nothing it names. */
static int refuse_nested(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                         AVDictionary **options)
{
    (void)pb;
    (void)flags;
    (void)options;
    sh_log(SH_LOG_WARNING, s->url, "refused to open \"%s\", which it names: only the file given is read", url);
    return AVERROR(EPERM);
}

static void media_io_free(AVIOContext **ppb)
{
    AVIOContext *pb = *ppb;
    MediaIO *io;
    if (!pb)
        return;
    io = pb->opaque;
    if (io) {
        close(io->fd);
        av_free(io);
    }
    av_freep(&pb->buffer);
    avio_context_free(ppb);
}

static const char *file_kind(mode_t mode)
{
    return S_ISFIFO(mode) ? "a named pipe (FIFO)" : S_ISCHR(mode) ? "a character device"
         : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "a special file";
}

/* Refuse what is not a regular file; logged unless quiet. */
static int check_regular(const char *path, const struct stat *sb, int quiet)
{
    if (S_ISREG(sb->st_mode))
        return 0;
    if (S_ISDIR(sb->st_mode)) {
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "is a directory");
        return AVERROR(EISDIR);
    }
    if (!quiet)
        sh_log(SH_LOG_ERROR, path, "is %s, not a regular file: shrink reads only regular files",
               file_kind(sb->st_mode));
    return SH_ERROR_REFUSED;
}

int sh_open_regular(const char *path, int64_t *size, int quiet)
{
    struct stat sb;
    int fd = -1, fl, ret;

    /* Before opening: opening a FIFO waits for a writer, some devices act on open. */
    if (stat(path, &sb) == 0 && (ret = check_regular(path, &sb, quiet)) < 0)
        return ret;
    /* O_NONBLOCK: were it swapped for a FIFO since the stat, open must not wait either. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0 || fstat(fd, &sb) < 0) {
        ret = AVERROR(errno);
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "%s", av_err2str(ret));
        goto fail;
    }
    if ((ret = check_regular(path, &sb, quiet)) < 0)
        goto fail;
    if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        ret = AVERROR(errno);
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "%s", av_err2str(ret));
        goto fail;
    }
    if (size)
        *size = sb.st_size;
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return ret;
}

/* The format libav would take the file for, judged from its first bytes, or NULL. */
static const char *probe_format(int fd, const char *path)
{
    uint8_t buf[4096 + AVPROBE_PADDING_SIZE] = { 0 };
    AVProbeData pd = { .filename = path, .buf = buf };
    const AVInputFormat *f = NULL;
    ssize_t n = pread(fd, buf, sizeof(buf) - AVPROBE_PADDING_SIZE, 0);
    int score = 0;
    if (n <= 0)
        return NULL;
    pd.buf_size = (int)n;
    f = av_probe_input_format3(&pd, 1, &score);
    return f && score > AVPROBE_SCORE_RETRY ? (f->long_name ? f->long_name : f->name) : NULL;
}

/* Why opening failed, in the user's words: a known format that cannot be
 * read (cut short, damaged: with libav's own reason), or not one. Returns
 * the error to report: demuxers return odd codes for bad data (EBUSY). */
static int open_error(int fd, const char *path, int err)
{
    const char *why = sh_log_av_error(NULL);
    const char *format = probe_format(fd, path);
    if (format) {
        sh_log(SH_LOG_ERROR, path, "damaged or incomplete %s file%s%s%s", format,
               *why ? " (" : "", why, *why ? ")" : "");
        return AVERROR_INVALIDDATA;
    }
    if (err == AVERROR_INVALIDDATA)
        sh_log(SH_LOG_ERROR, path, "not a recognised video file");
    else
        sh_log(SH_LOG_ERROR, path, "cannot open: %s", av_err2str(err));
    return err;
}

/* Refuse a demuxer that reads other files; logged unless quiet. */
static int check_format(const AVInputFormat *f, const char *path, int quiet)
{
    if (!strcmp(f->name, "image2")) {
        /* The pattern demuxer: "img%03d.png" is a sequence of other files. */
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "refused: a still image or an image sequence, not a video");
        return SH_ERROR_REFUSED;
    }
    for (size_t i = 0; i < sizeof(refused_formats) / sizeof(refused_formats[0]); i++) {
        if (strcmp(f->name, refused_formats[i].name))
            continue;
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "refused: %s refers to other files; only the file given is read",
                   refused_formats[i].what);
        return SH_ERROR_REFUSED;
    }
    return 0;
}

/*
 * MP4/MOV: a moov box that runs past the end of the file. The demuxer reads
 * what is there without a word, so tracks listed after the cut vanish (an
 * output without audio, exit 0, unless someone says so). Walks the top-level
 * boxes: a few reads, however big the file.
 */
static void mp4_index_cut(int fd, int64_t size, ShMediaFacts *facts)
{
    int64_t pos = 0;
    for (int n = 0; n < 100000 && pos <= size - 8; n++) {
        uint8_t h[16];
        int64_t box, hdr = 8;
        if (pread(fd, h, sizeof(h), pos) < 8)
            return;
        box = AV_RB32(h);
        if (box == 1) {
            if (pos > size - 16)
                return;
            box = (int64_t)AV_RB64(h + 8);
            hdr = 16;
        } else if (box == 0) {
            box = size - pos;    /* to the end of the file */
        }
        if (box < hdr)
            return;              /* not boxes: the demuxer judged it */
        if (!memcmp(h + 4, "moov", 4)) {
            if (box > size - pos) {
                facts->index_have = size - pos;
                facts->index_size = box;
            }
            return;
        }
        if (box > size - pos)
            return;
        pos += box;
    }
}

int sh_media_open(AVFormatContext **pfmt, const char *path, unsigned flags, ShMediaFacts *facts)
{
    int quiet = !!(flags & SH_MEDIA_QUIET);
    ShMediaFacts f = { 0 };
    AVFormatContext *fmt = NULL;
    AVIOContext *pb = NULL;
    const AVInputFormat *ifmt = NULL;
    AVDictionary *opts = NULL;
    MediaIO *io = NULL;
    uint8_t *buf = NULL;
    int fd, ret;

    if ((fd = sh_open_regular(path, &f.size, quiet)) < 0)
        return fd;
    if (!f.size) {
        if (!quiet)
            sh_log(SH_LOG_ERROR, path, "empty file");
        close(fd);
        return AVERROR_INVALIDDATA;
    }
    if (!(io = av_mallocz(sizeof(*io))) || !(buf = av_malloc(SH_MEDIA_IO_BUFFER)) ||
        !(pb = avio_alloc_context(buf, SH_MEDIA_IO_BUFFER, 0, io, media_read, NULL, media_seek))) {
        close(fd);
        av_free(io);
        av_free(buf);
        return AVERROR(ENOMEM);
    }
    io->fd = fd;
    sh_log_av_error_clear();
    /* Probe first, so a refused demuxer never reads the file as its own. */
    if ((ret = av_probe_input_buffer2(pb, &ifmt, path, NULL, 0, 0)) < 0) {
        if (!quiet)
            ret = open_error(fd, path, ret);
        goto fail;
    }
    if ((ret = check_format(ifmt, path, quiet)) < 0)
        goto fail;
    if (!(fmt = avformat_alloc_context())) {
        ret = AVERROR(ENOMEM);
        goto fail;
    }
    fmt->pb = pb;
    fmt->io_open = refuse_nested;
    /* And for demuxers that open URLs through the protocols directly: none allowed. */
    av_dict_set(&opts, "protocol_whitelist", "none", 0);
    ret = avformat_open_input(&fmt, path, ifmt, &opts);   /* frees fmt on failure, not pb */
    av_dict_free(&opts);
    if (ret < 0) {
        if (!quiet)
            ret = open_error(fd, path, ret);
        goto fail;
    }
    if (strstr(fmt->iformat->name, "mov"))
        mp4_index_cut(fd, f.size, &f);
    if (facts)
        *facts = f;
    *pfmt = fmt;
    return 0;
fail:
    media_io_free(&pb);
    return ret;
}

void sh_media_close(AVFormatContext **pfmt)
{
    AVIOContext *pb;
    if (!*pfmt)
        return;
    pb = (*pfmt)->pb;
    avformat_close_input(pfmt);   /* leaves a caller's own I/O open */
    media_io_free(&pb);
}
