/*
 * The inputs of a run, so that no output replaces one, and the files it
 * wrote, so that no later item replaces one: known by the file (device and
 * inode, through any link) and by the directory entry (what a rename would
 * replace), whatever order the batch takes them in.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CLI_PROTECT_H
#define SH_CLI_PROTECT_H

#include <sys/types.h>

typedef struct ProtectedInput {
    const char *path;         /* as named (the batch's string, or own) */
    char *own;                /* protect_add_copy's copy of it, or NULL */
    char *entry;              /* real directory + "/" + name; NULL: the directory cannot be resolved */
    dev_t dev;
    ino_t ino;
    int has_id;               /* the file could be stat()ed */
} ProtectedInput;

typedef struct ProtectList {
    ProtectedInput *in;
    int n, alloc;
} ProtectList;

/* Remember an input (path must outlive the list). Returns 0 or AVERROR(ENOMEM). */
int protect_add(ProtectList *pl, const char *path);
/* The same with a copy of path, which the list keeps (a name built for one item). */
int protect_add_copy(ProtectList *pl, const char *path);
/* The input that output is (the same file, or the same directory entry), or NULL. */
const char *protect_find(const ProtectList *pl, const char *output);
void protect_free(ProtectList *pl);

#endif
