/*
 * Where an output may go: the checks every writer makes before any work, so
 * that a path that cannot or may not be written fails in a moment, not
 * after the whole encode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_OUTPATH_H
#define SH_COMMON_OUTPATH_H

#include <stddef.h>

/*
 * The longest file name the file system holding path's directory takes
 * (pathconf _PC_NAME_MAX), NAME_MAX when it cannot say.
 */
long sh_name_max(const char *path);

/*
 * Whether output may be written for input (NULL: no input to protect).
 * Refused, each with one logged line naming output and the reason:
 *  - no file name in it (empty, or ending in '/'), or a name longer than
 *    its file system takes: AVERROR(EINVAL) / AVERROR(ENAMETOOLONG);
 *  - the input itself, by any path (same device and inode): SH_ERROR_SAME_FILE;
 *  - a directory: AVERROR(EISDIR);
 *  - a symbolic link to nothing, or anything that is not a regular file
 *    (FIFO, device, socket), with or without force: SH_ERROR_NOT_REGULAR;
 *  - an existing file without force: SH_ERROR_EXISTS;
 *  - a directory where no file can be created (missing, read-only).
 * A symbolic link to a regular file is replaced with force (the link, never
 * its target). Returns 0 or the negative error.
 */
int sh_output_check(const char *input, const char *output, int force);

#endif
