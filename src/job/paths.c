/*
 * The job's paths: the output's (from the options, or STEM.shrunk.EXT beside
 * the input), checked before any work; the encoder's pass logs in a
 * temporary directory, registered so that a signal removes them too.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"
#include "job/disk.h"
#include "job/state.h"

static int default_output(char *out, size_t len, const char *input, const char *ext)
{
    const char *slash = strrchr(input, '/');
    const char *base = slash ? slash + 1 : input;
    const char *dot = strrchr(base, '.');
    int stem = (int)(dot && dot != base ? dot - input : (ptrdiff_t)strlen(input));
    int n = snprintf(out, len, "%.*s.shrunk.%s", stem, input, ext);
    return n < 0 || (size_t)n >= len ? AVERROR(ENAMETOOLONG) : 0;
}

int sh_job_check_paths(Job *j)
{
    const ShOptions *o = j->opt;
    struct stat so;
    int ret;

    if (o->output) {
        if (strlen(o->output) >= sizeof(j->output))
            return AVERROR(ENAMETOOLONG);
        strcpy(j->output, o->output);
    }
    /* A directory's name has no extension to read a format from: the
     * checks below say what is wrong with it. */
    if ((ret = sh_format_resolve(o->format, o->output && !(stat(o->output, &so) == 0 && S_ISDIR(so.st_mode)) ?
                                 o->output : NULL, &j->format)) < 0)
        return ret;
    if (!o->format && !o->output && sh_codec_format(o->codec)) {
        /* Nothing says the format but --codec: the encoder's own container
         * (VP9 goes into WebM), not an MP4 it cannot write. */
        j->format = sh_format_find(sh_codec_format(o->codec));
    }
    if (!o->output && (ret = default_output(j->output, sizeof(j->output), j->input, j->format->ext)) < 0)
        return ret;
    if (o->plan_only)
        return 0;   /* nothing will be written */
    if ((ret = sh_output_check(j->input, j->output, o->force)) < 0)
        return ret;
    /* And now, not after the whole decode, if there is room to write it. */
    return sh_disk_check_start(j->output, o->target_bytes);
}

/* ---- temporary pass logs ---- */

/* The pass log and the files the encoder writes beside it (its descriptor
 * lists them), registered so that a signal removes them too. */
int sh_job_stats_paths(Job *j)
{
    static const char *const plain[] = { "", NULL };
    const char *const *suffix = j->plan.venc->stats_files ? j->plan.venc->stats_files : plain;
    int ret;
    if ((ret = sh_temp_mkdir(j->tmpdir, sizeof(j->tmpdir))) < 0) {
        /* Name the directory ($TMPDIR), not the template that was not made. */
        const char *slash = strrchr(j->tmpdir, '/');
        int n = slash && slash != j->tmpdir ? (int)(slash - j->tmpdir) : 1;
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", n, j->tmpdir);
        j->tmpdir[0] = 0;
        sh_log(SH_LOG_ERROR, dir, "cannot create a temporary directory there (TMPDIR): %s", av_err2str(ret));
        return ret;
    }
    if (strlen(j->tmpdir) + 32 > sizeof(j->stats))
        return AVERROR(ENAMETOOLONG);
    memcpy(j->stats, j->tmpdir, strlen(j->tmpdir));
    strcpy(j->stats + strlen(j->tmpdir), "/pass.log");
    for (int i = 0; suffix[i] && i < SH_MAX_STATS_FILES; i++) {
        if (strlen(suffix[i]) > 16)
            return AVERROR(ENAMETOOLONG);
        strcpy(j->stats_files[i], j->stats);
        strcat(j->stats_files[i], suffix[i]);
        if ((ret = sh_temp_register(j->stats_files[i])) < 0)
            return ret;
        j->nstats_files = i + 1;
    }
    return 0;
}

void sh_job_remove_stats(Job *j)
{
    for (int i = 0; i < j->nstats_files; i++)
        sh_temp_remove(j->stats_files[i]);
    sh_temp_remove(j->tmpdir);
}
