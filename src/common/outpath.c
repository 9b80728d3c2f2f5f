/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/error.h>

#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"
#include "shrink/shrink.h"

long sh_name_max(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    long n;
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
        return NAME_MAX;
    errno = 0;
    n = pathconf(dir, _PC_NAME_MAX);
    return n > 0 ? n : NAME_MAX;
}

static const char *kind_of(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" :
           S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int sh_output_check(const char *input, const char *output, int force)
{
    const char *slash = strrchr(output, '/');
    const char *base = slash ? slash + 1 : output;
    struct stat sl, so, si;
    char probe[PATH_MAX];
    size_t n = strlen(base);
    long max;
    int ret;

    if (!*output) {
        sh_log(SH_LOG_ERROR, NULL, "the output's name is empty");
        return AVERROR(EINVAL);
    }
    if (!n || !strcmp(base, ".") || !strcmp(base, "..")) {
        /* "out/": a directory's name; rename would refuse it after all the work. */
        sh_log(SH_LOG_ERROR, output, "names a directory, not a file");
        return AVERROR(EISDIR);
    }
    if ((long)n > (max = sh_name_max(output))) {
        sh_log(SH_LOG_ERROR, output, "the file name is %zu bytes, more than the %ld its file system takes "
               "(name a shorter output with -o)", n, max);
        return AVERROR(ENAMETOOLONG);
    }
    if (lstat(output, &sl) == 0) {
        /* The link itself would be replaced: only when it leads to a regular file. */
        if (S_ISLNK(sl.st_mode) && stat(output, &so) < 0) {
            sh_log(SH_LOG_ERROR, output, "is a symbolic link to nothing; refusing to replace it");
            return SH_ERROR_NOT_REGULAR;
        }
        if (!S_ISLNK(sl.st_mode))
            so = sl;
        if (input && stat(input, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino) {
            sh_log(SH_LOG_ERROR, output, "is the input file; refusing to overwrite it");
            return SH_ERROR_SAME_FILE;
        }
        if (S_ISDIR(so.st_mode)) {
            sh_log(SH_LOG_ERROR, output, "is a directory");
            return AVERROR(EISDIR);
        }
        if (!S_ISREG(so.st_mode)) {
            sh_log(SH_LOG_ERROR, output, "is %s%s; refusing to replace it (only a regular file is replaced)",
                   S_ISLNK(sl.st_mode) ? "a symbolic link to " : "", kind_of(so.st_mode));
            return SH_ERROR_NOT_REGULAR;
        }
        if (!force) {
            sh_log(SH_LOG_ERROR, output, "exists (use --force to replace it)");
            return SH_ERROR_EXISTS;
        }
    } else if (errno != ENOENT) {
        ret = AVERROR(errno);
        sh_log(SH_LOG_ERROR, output, "cannot write there: %s", av_err2str(ret));
        return ret;
    }
    /* Find out now, not after the whole decode, if a file can be made there. */
    if ((ret = sh_temp_create_beside(probe, sizeof(probe), output)) < 0) {
        sh_log(SH_LOG_ERROR, output, "cannot write there: %s", av_err2str(ret));
        return ret;
    }
    sh_temp_remove(probe);
    return 0;
}
