/*
 * Scratch space in TMPDIR: how much one run may use (its bound), how much is
 * free, and the message when it runs out. The scratch is the frame cache's
 * spill, the packet spools and the encoders' pass logs; outputs are not
 * scratch (they go beside the destination).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_TMPSPACE_H
#define SH_COMMON_TMPSPACE_H

#include <stdint.h>

/* The default bound: 2 GB, or the target when that is larger. */
#define SH_TMP_DEFAULT_MAX ((int64_t)2000000000)

/* $TMPDIR, or /tmp. */
const char *sh_tmp_dir(void);

/*
 * The bound for a job with this target: SHRINK_TMP_MAX (a size, as --target
 * takes) or max(2 GB, target), divided among the jobs sh_tmp_set_share()
 * said run at once. *explicit is set when SHRINK_TMP_MAX gave it. A
 * malformed SHRINK_TMP_MAX is logged and gives SH_ERROR_BAD_OPTION.
 */
int sh_tmp_bound(int64_t target, int64_t *bound, int *explicit);

/* n jobs of this process's children share one bound (forked chunk encodes). */
void sh_tmp_set_share(int n);

/* The bound of the job running now, for the parts that do not know the job
 * (the solver's samples): set by the job, INT64_MAX when none is. */
void sh_tmp_set_current(int64_t bound);
int64_t sh_tmp_current(void);

/* Bytes free for an unprivileged writer in the file system holding dir. */
int sh_tmp_free(const char *dir, int64_t *bytes);

/* ENOSPC or EDQUOT: the disk (or the quota) is full. */
int sh_tmp_is_full(int err);

/*
 * A write into TMPDIR failed: log one line naming TMPDIR and what was being
 * written ("frame cache"), and return err. A full disk is given as such so
 * the caller's exit code says "cannot be written" (6), not "bad input".
 */
int sh_tmp_write_failed(const char *what, int err);

#endif
