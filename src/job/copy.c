/*
 * The input already fits: copy it, byte for byte, the way a job writes its
 * output (temporary file beside the destination, then a rename that never
 * replaces a file without force). Re-encoding it could only make it worse.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/common.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"
#include "input/input.h"
#include "input/open.h"
#include "job/job.h"
#include "shrink/shrink.h"

/* STEM.shrunk.EXT beside the input: a copy keeps its container, so its extension. */
static int copy_name(char *out, size_t len, const char *input)
{
    const char *slash = strrchr(input, '/');
    const char *base = slash ? slash + 1 : input;
    const char *dot = strrchr(base, '.');
    int n;
    if (dot && dot != base)
        n = snprintf(out, len, "%.*s.shrunk%s", (int)(dot - input), input, dot);
    else
        n = snprintf(out, len, "%s.shrunk", input);
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

/* At most size bytes, the size measured: a file that grows meanwhile is not
 * followed past it. *phase becomes SH_PHASE_INPUT when reading failed. */
static int copy_bytes(int in, int out, const char *input, const char *output, int64_t size, int64_t *bytes,
                      ShPhase *phase)
{
    static char buf[1 << 16];
    ssize_t n;
    int ret;
    *bytes = 0;
    while (*bytes < size && (n = read(in, buf, (size_t)FFMIN((int64_t)sizeof(buf), size - *bytes))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = AVERROR(errno);
            sh_log(SH_LOG_ERROR, input, "read error: %s", av_err2str(ret));
            *phase = SH_PHASE_INPUT;
            return ret;
        }
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                ret = AVERROR(errno);
                sh_log(SH_LOG_ERROR, output, "write error: %s", av_err2str(ret));
                return ret;
            }
            off += w;
        }
        *bytes += n;
        if (sh_job_interrupted())
            return SH_ERROR_INTERRUPTED;
    }
    return 0;
}

/* Decode up to the first video frame. */
static int first_frame(ShInput *in, const char *path)
{
    AVFrame *frame = av_frame_alloc();
    enum AVMediaType type;
    int ret;
    if (!frame)
        return AVERROR(ENOMEM);
    while ((ret = sh_input_read(in, frame, &type)) >= 0 && type != AVMEDIA_TYPE_VIDEO)
        av_frame_unref(frame);
    av_frame_free(&frame);
    if (ret == AVERROR_EOF) {
        sh_log(SH_LOG_ERROR, path, "no video frame could be decoded");
        return AVERROR_INVALIDDATA;
    }
    return ret;
}

/*
 * The bytes copied are the file as it was when opened: one that grew,
 * shrank or was rewritten while it was read (a download still running) is
 * a copy of nothing in particular, and may be over the target.
 */
static int check_unchanged(int fd, const struct stat *before, const char *input, int64_t copied)
{
    struct stat now;
    if (fstat(fd, &now) < 0) {
        int ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, input, "%s", av_err2str(ret));
        return ret;
    }
    if (copied == before->st_size && now.st_size == before->st_size &&
        now.st_mtim.tv_sec == before->st_mtim.tv_sec && now.st_mtim.tv_nsec == before->st_mtim.tv_nsec)
        return 0;
    sh_log(SH_LOG_ERROR, input, "changed while it was being copied (%lld bytes when opened, %lld now); "
           "not copied (run again once it is complete)", (long long)before->st_size, (long long)now.st_size);
    return SH_ERROR_CHANGED;
}

int sh_job_copy(const ShOptions *opt, ShJobResult *res)
{
    char output[PATH_MAX], tmp[PATH_MAX] = "";
    ShInput *probe = NULL;
    double t0 = sh_now();
    ShPhase phase = SH_PHASE_SETUP;
    int fin = -1, fout = -1, ret;
    int64_t bytes = 0;
    struct stat before;

    memset(res, 0, sizeof(*res));
    sh_log_install_av_bridge();
    if (opt->output) {
        if (strlen(opt->output) >= sizeof(output)) {
            ret = AVERROR(ENAMETOOLONG);
            goto end;
        }
        strcpy(output, opt->output);
    } else if ((ret = copy_name(output, sizeof(output), opt->input)) < 0) {
        goto end;
    }
    snprintf(res->output, sizeof(res->output), "%s", output);
    if ((ret = sh_output_check(opt->input, output, opt->force)) < 0)
        goto end;

    /* Measured when opened: what is copied, and what must still be so after. */
    phase = SH_PHASE_INPUT;
    /* A regular file, or refused (never a FIFO or a device swapped in since the batch looked). */
    if ((fin = ret = sh_open_regular(opt->input, NULL, 0)) < 0)
        goto end;
    if (fstat(fin, &before) < 0) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, opt->input, "%s", av_err2str(ret));
        goto end;
    }
    if (opt->target_bytes > 0 && before.st_size > opt->target_bytes) {
        sh_log(SH_LOG_ERROR, opt->input, "grew to %lld bytes since it was measured, over the target of %lld; "
               "not copied (run again once it is complete)", (long long)before.st_size, (long long)opt->target_bytes);
        ret = SH_ERROR_CHANGED;
        goto end;
    }
    /* A file that fits but is not a video is not a success, nor is one whose
     * pictures are missing (an index whose data was cut off). */
    if ((ret = sh_input_open(&probe, opt->input)) < 0 || (ret = first_frame(probe, opt->input)) < 0)
        goto end;
    sh_input_warn_index(probe);   /* the copy is as damaged as the input */
    {
        const ShInputInfo *info = sh_input_info(probe);
        res->duration = info->duration;
        res->codec = info->video_codec;
        res->width = info->width;
        res->height = info->height;
        res->fps = info->frame_rate.num > 0 ? av_q2d(info->frame_rate) : 0;
        res->audio = info->has_audio;
        res->audio_codec = info->audio_codec;
        res->audio_channels = info->audio_channels;
    }

    phase = SH_PHASE_OUTPUT;
    if ((ret = sh_temp_create_beside(tmp, sizeof(tmp), output)) < 0) {
        sh_log(SH_LOG_ERROR, output, "cannot write there: %s", av_err2str(ret));
        tmp[0] = 0;
        goto end;
    }
    if ((fout = open(tmp, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, output, "cannot write there: %s", av_err2str(ret));
        goto end;
    }
    if ((ret = copy_bytes(fin, fout, opt->input, output, before.st_size, &bytes, &phase)) < 0)
        goto end;
    if ((ret = check_unchanged(fin, &before, opt->input, bytes)) < 0) {
        phase = SH_PHASE_INPUT;
        goto end;
    }
    if (close(fout) < 0) {
        fout = -1;
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, output, "write error: %s", av_err2str(ret));
        goto end;
    }
    fout = -1;
    if ((ret = sh_temp_commit(tmp, output, opt->force, "copying")) < 0)
        goto end;
    tmp[0] = 0;
    res->bytes = bytes;
    /* The source itself, byte for byte: more of the target would buy nothing. */
    res->visually_lossless = 1;
    phase = SH_PHASE_NONE;
    ret = 0;
end:
    if (fout >= 0)
        close(fout);
    if (fin >= 0)
        close(fin);
    if (tmp[0])
        sh_temp_remove(tmp);
    sh_input_close(&probe);
    res->failed_phase = ret < 0 ? phase : SH_PHASE_NONE;
    res->seconds = sh_now() - t0;
    return ret;
}
