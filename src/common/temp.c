/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/error.h>

#include "common/log.h"
#include "common/outpath.h"
#include "common/temp.h"
#include "shrink/shrink.h"

/*
 * A fixed table of fixed buffers: the signal handler walks it, so nothing
 * here may be allocated or moved while a signal can arrive. A slot is live
 * when its first byte is non-zero; registration writes the name first and
 * the first byte last.
 */
/* (256: a long film's stretches, up to SH_LONG_MAX_STRETCHES, wait for their join.) */
#define SH_TEMP_SLOTS 256
static char temp_paths[SH_TEMP_SLOTS][PATH_MAX];
static volatile sig_atomic_t temp_is_dir[SH_TEMP_SLOTS];

int sh_temp_register(const char *path)
{
    size_t n = strlen(path);
    if (!n || n >= PATH_MAX)
        return AVERROR(ENAMETOOLONG);
    for (int i = 0; i < SH_TEMP_SLOTS; i++) {
        if (temp_paths[i][0])
            continue;
        memcpy(temp_paths[i] + 1, path + 1, n);
        temp_is_dir[i] = 0;
        __atomic_store_n(&temp_paths[i][0], path[0], __ATOMIC_SEQ_CST);
        return 0;
    }
    sh_log(SH_LOG_ERROR, path, "too many temporary files");
    return AVERROR(ENOSPC);
}

static int temp_find(const char *path)
{
    for (int i = 0; i < SH_TEMP_SLOTS; i++)
        if (temp_paths[i][0] && !strcmp(temp_paths[i], path))
            return i;
    return -1;
}

void sh_temp_forget(const char *path)
{
    int i = path ? temp_find(path) : -1;
    if (i >= 0)
        __atomic_store_n(&temp_paths[i][0], 0, __ATOMIC_SEQ_CST);
}

void sh_temp_remove(const char *path)
{
    int i;
    if (!path || !path[0])
        return;
    i = temp_find(path);
    if (i >= 0 && temp_is_dir[i])
        rmdir(path);
    else
        unlink(path);
    sh_temp_forget(path);
}

void sh_temp_cleanup_all(void)
{
    /* Files first, then directories that held them. Only unlink/rmdir: async-signal-safe. */
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < SH_TEMP_SLOTS; i++) {
            if (!temp_paths[i][0] || temp_is_dir[i] != pass)
                continue;
            if (pass)
                rmdir(temp_paths[i]);
            else
                unlink(temp_paths[i]);
            temp_paths[i][0] = 0;
        }
}

int sh_temp_create_beside(char *path, size_t len, const char *dest)
{
    const char *slash = strrchr(dest, '/');
    const char *base = slash ? slash + 1 : dest;
    int dirlen = slash ? (int)(slash - dest + 1) : 0;
    /* "." + NAME + ".XXXXXX.part" must fit the file system's longest name
     * too: a NAME near it keeps its start, cut on a UTF-8 character and
     * marked with '~' (".NAME-START~.XXXXXX.part"), still recognisable. */
    long room = sh_name_max(dest) - 13;
    int keep = (int)strlen(base), cut = 0;
    sigset_t all, old;
    int fd, ret, n;

    if (keep > room && room > 1) {
        keep = (int)room - 1;
        while (keep > 0 && ((unsigned char)base[keep] & 0xC0) == 0x80)
            keep--;
        cut = 1;
    }
    n = snprintf(path, len, "%.*s.%.*s%s.XXXXXX.part", dirlen, dest, keep, base, cut ? "~" : "");
    if (n < 0 || (size_t)n >= len)
        return AVERROR(ENAMETOOLONG);
    /* No signal between creating the file and registering it. */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    fd = mkstemps(path, 5);
    if (fd < 0) {
        ret = AVERROR(errno);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return ret;
    }
    /* mkstemp makes 0600; the finished file gets what any new file would. */
    {
        mode_t mask = umask(0);
        umask(mask);
        fchmod(fd, 0666 & ~mask);
    }
    close(fd);
    ret = sh_temp_register(path);
    if (ret < 0)
        unlink(path);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}

const char *sh_temp_dest_name(char *buf, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    /* ".NAME" + ".XXXXXX.part": the inverse of sh_temp_create_beside's pattern */
    if (base[0] == '.' && n > 1 + 12 && !strcmp(base + n - 5, ".part") && base[n - 12] == '.')
        snprintf(buf, len, "%.*s%.*s", dirlen, path, (int)(n - 13), base + 1);
    else
        snprintf(buf, len, "%s", path);
    return buf;
}

int sh_temp_mkdir(char *path, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    sigset_t all, old;
    int n, ret;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    n = snprintf(path, len, "%s/shrink-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= len)
        return AVERROR(ENAMETOOLONG);
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    if (!mkdtemp(path)) {
        ret = AVERROR(errno);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return ret;
    }
    ret = sh_temp_register(path);
    if (ret >= 0)
        temp_is_dir[temp_find(path)] = 1;
    else
        rmdir(path);
    sigprocmask(SIG_SETMASK, &old, NULL);
    return ret;
}

FILE *sh_temp_anon(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    FILE *f;
    int fd;

    if (!tmp || !*tmp)
        tmp = "/tmp";
    /* O_TMPFILE: the file has no name, so not even SIGKILL can leave it behind. */
    fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        /* File systems without O_TMPFILE: a name that lives a moment. */
        if (snprintf(path, sizeof(path), "%s/shrink-cache-XXXXXX", tmp) >= (int)sizeof(path))
            return NULL;
        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0)
            return NULL;
        unlink(path);
    }
    f = fdopen(fd, "w+b");
    if (!f)
        close(fd);
    return f;
}

int sh_temp_commit(const char *path, const char *dest, int force, const char *while_doing)
{
    struct stat sl, sb;
    sigset_t all, old;
    int ret;

    /* What force may replace is a regular file (or a link to one), as checked
     * before the work: not a FIFO, a device or a dangling link that appeared
     * meanwhile. (Without force, renameat2 refuses anything that is there.) */
    if (force && lstat(dest, &sl) == 0 && (S_ISLNK(sl.st_mode) ? stat(dest, &sb) < 0 || !S_ISREG(sb.st_mode)
                                                                 : !S_ISREG(sl.st_mode))) {
        sh_log(SH_LOG_ERROR, dest, "became something other than a regular file while %s; refusing to replace it",
               while_doing);
        return SH_ERROR_NOT_REGULAR;
    }
    /* The rename and forgetting the temporary name go together: a second
     * signal's cleanup must not see one without the other. */
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    ret = force ? rename(path, dest) : renameat2(AT_FDCWD, path, AT_FDCWD, dest, RENAME_NOREPLACE);
    if (ret < 0)
        ret = AVERROR(errno);
    else
        sh_temp_forget(path);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (ret == AVERROR(EEXIST)) {
        sh_log(SH_LOG_ERROR, dest, "appeared while %s (use --force to replace it)", while_doing);
        return SH_ERROR_EXISTS;
    }
    if (ret < 0)
        sh_log(SH_LOG_ERROR, dest, "cannot rename into place: %s", av_err2str(ret));
    return ret;
}
