/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/statvfs.h>

#include <libavutil/common.h>
#include <libavutil/error.h>

#include "common/log.h"
#include "common/tmpspace.h"
#include "shrink/shrink.h"
#include "shrink/size.h"

static int tmp_share = 1;
static int64_t tmp_current = INT64_MAX;

const char *sh_tmp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

int sh_tmp_bound(int64_t target, int64_t *bound, int *explicit)
{
    const char *env = getenv("SHRINK_TMP_MAX");
    int64_t b = FFMAX(SH_TMP_DEFAULT_MAX, target);
    *explicit = 0;
    if (env && *env) {
        if (sh_size_parse(env, &b) < 0) {
            sh_log(SH_LOG_ERROR, NULL, "SHRINK_TMP_MAX=%s: not a size (e.g. 500MB)", env);
            return SH_ERROR_BAD_OPTION;
        }
        *explicit = 1;
    }
    *bound = b / tmp_share;
    return 0;
}

void sh_tmp_set_share(int n)
{
    tmp_share = FFMAX(n, 1);
}

void sh_tmp_set_current(int64_t bound)
{
    tmp_current = bound > 0 ? bound : INT64_MAX;
}

int64_t sh_tmp_current(void)
{
    return tmp_current;
}

int sh_tmp_free(const char *dir, int64_t *bytes)
{
    struct statvfs st;
    if (statvfs(dir, &st) < 0)
        return AVERROR(errno);
    *bytes = (int64_t)st.f_bavail * (int64_t)st.f_frsize;
    return 0;
}

int sh_tmp_is_full(int err)
{
    return err == AVERROR(ENOSPC) || err == AVERROR(EDQUOT);
}

int sh_tmp_write_failed(const char *what, int err)
{
    if (sh_tmp_is_full(err))
        sh_log(SH_LOG_ERROR, sh_tmp_dir(), "TMPDIR is full: %s: %s", what, av_err2str(err));
    else
        sh_log(SH_LOG_ERROR, sh_tmp_dir(), "%s in TMPDIR: %s", what, av_err2str(err));
    return err;
}
