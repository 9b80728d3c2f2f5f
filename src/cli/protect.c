/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE   /* realpath */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "cli/protect.h"

/*
 * "DIR/NAME" as the entry a rename onto it would replace: the real path of
 * DIR (links and dots resolved) and NAME as it is (a link named here is
 * itself the entry). NULL when DIR cannot be resolved (it does not exist:
 * no file of the run lives there) or out of memory.
 */
static char *entry_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    char dir[PATH_MAX], real[PATH_MAX], *out;
    size_t n;

    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >= (int)sizeof(dir))
        return NULL;
    if (!*base || !realpath(dir, real))
        return NULL;
    n = strlen(real) + 1 + strlen(base) + 1;
    if ((out = av_malloc(n)))
        snprintf(out, n, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
    return out;
}

int protect_add(ProtectList *pl, const char *path)
{
    ProtectedInput *p;
    struct stat sb;
    if (pl->n >= pl->alloc) {
        int want = pl->alloc ? pl->alloc * 2 : 16;
        void *q = av_realloc_array(pl->in, want, sizeof(*pl->in));
        if (!q)
            return AVERROR(ENOMEM);
        pl->in = q;
        pl->alloc = want;
    }
    p = &pl->in[pl->n++];
    memset(p, 0, sizeof(*p));
    p->path = path;
    p->entry = entry_of(path);
    if (stat(path, &sb) == 0) {
        p->dev = sb.st_dev;
        p->ino = sb.st_ino;
        p->has_id = 1;
    }
    return 0;
}

int protect_add_copy(ProtectList *pl, const char *path)
{
    char *own = av_strdup(path);
    int ret;
    if (!own)
        return AVERROR(ENOMEM);
    if ((ret = protect_add(pl, own)) < 0) {
        av_free(own);
        return ret;
    }
    pl->in[pl->n - 1].own = own;
    return 0;
}

const char *protect_find(const ProtectList *pl, const char *output)
{
    struct stat sb;
    int has_id = stat(output, &sb) == 0;
    char *entry = entry_of(output);
    const char *hit = NULL;

    for (int i = 0; i < pl->n && !hit; i++) {
        const ProtectedInput *p = &pl->in[i];
        if ((has_id && p->has_id && p->dev == sb.st_dev && p->ino == sb.st_ino) ||
            (entry && p->entry && !strcmp(entry, p->entry)) || !strcmp(output, p->path))
            hit = p->path;
    }
    av_free(entry);
    return hit;
}

void protect_free(ProtectList *pl)
{
    for (int i = 0; i < pl->n; i++) {
        av_free(pl->in[i].entry);
        av_free(pl->in[i].own);
    }
    av_freep(&pl->in);
    pl->n = pl->alloc = 0;
}
