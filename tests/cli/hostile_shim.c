/*
 * Test-only LD_PRELOAD shim for tests/cli/test_hostile_paths.sh: forces two
 * orderings a test cannot time from outside, without any hook in shrink.
 *
 *   SHIM_SIGNAL_AFTER_RENAME=N, SHIM_RENAME_TO=S
 *                               raise signal N just after the first rename
 *                               (rename/renameat/renameat2) onto a name
 *                               ending in S that succeeds: "Ctrl-C in the
 *                               instant after the output's rename" (x264
 *                               renames its pass log too).
 *   SHIM_GROW_PATH=P, SHIM_GROW_BYTES=B
 *                               append B bytes to P the first time a read of
 *                               64 KiB or more is made on P (a copy's read,
 *                               not a demuxer's): "the input grows while it
 *                               is copied". The file SHIM_GROW_MARK (when
 *                               set) is created then: the test knows it did.
 *
 * Built by the test script with cc -shared -fPIC; never part of shrink.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int renamed, grown;

static void after_rename(int ret, const char *dest)
{
    const char *s = getenv("SHIM_SIGNAL_AFTER_RENAME"), *to = getenv("SHIM_RENAME_TO");
    size_t n = strlen(dest), m = to ? strlen(to) : 0;
    if (ret == 0 && s && !renamed && n >= m && (!to || !strcmp(dest + n - m, to))) {
        renamed = 1;
        raise(atoi(s));
    }
}

int rename(const char *a, const char *b)
{
    int (*real)(const char *, const char *) = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
    int ret = real(a, b);
    after_rename(ret, b);
    return ret;
}

int renameat(int da, const char *a, int db, const char *b)
{
    int (*real)(int, const char *, int, const char *) =
        (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");
    int ret = real(da, a, db, b);
    after_rename(ret, b);
    return ret;
}

int renameat2(int da, const char *a, int db, const char *b, unsigned int flags)
{
    int (*real)(int, const char *, int, const char *, unsigned int) =
        (int (*)(int, const char *, int, const char *, unsigned int))dlsym(RTLD_NEXT, "renameat2");
    int ret = real(da, a, db, b, flags);
    after_rename(ret, b);
    return ret;
}

static void maybe_grow(int fd, size_t count)
{
    const char *path = getenv("SHIM_GROW_PATH"), *bytes = getenv("SHIM_GROW_BYTES");
    const char *mark = getenv("SHIM_GROW_MARK");
    char link[64], target[PATH_MAX], real[PATH_MAX];
    ssize_t n;
    if (grown || !path || !bytes || count < 65536)
        return;
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    if ((n = readlink(link, target, sizeof(target) - 1)) < 0)
        return;
    target[n] = 0;
    if (!realpath(path, real) || strcmp(real, target))
        return;
    grown = 1;
    {
        int out = open(path, O_WRONLY | O_APPEND);
        long left = atol(bytes);
        char buf[4096];
        memset(buf, 0x55, sizeof(buf));
        while (out >= 0 && left > 0) {
            ssize_t w = write(out, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));
            if (w <= 0)
                break;
            left -= w;
        }
        if (out >= 0)
            close(out);
    }
    if (mark)
        close(open(mark, O_WRONLY | O_CREAT, 0644));
}

ssize_t read(int fd, void *buf, size_t count)
{
    ssize_t (*real)(int, void *, size_t) = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    ssize_t ret = real(fd, buf, count);
    if (ret > 0)
        maybe_grow(fd, count);
    return ret;
}
