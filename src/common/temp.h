/*
 * Temporary files: every path the library creates is registered here so that
 * it can be removed on success, failure and signals alike.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_TEMP_H
#define SH_COMMON_TEMP_H

#include <stdio.h>

/*
 * Create an empty file "DIR/.NAME.XXXXXX.part" (exclusive, mode 0600) and
 * register it. path receives the name. A NAME too long for that to fit the
 * file system's longest name is cut (on a UTF-8 character) and marked:
 * "DIR/.NAME-START~.XXXXXX.part". Returns 0 or a negative AVERROR.
 */
int sh_temp_create_beside(char *path, size_t len, const char *dest);

/*
 * The destination a path made by sh_temp_create_beside stands for
 * ("DIR/.NAME.XXXXXX.part" -> "DIR/NAME"), for messages: the temporary name
 * is gone by the time the user reads them ("NAME-START~" for a cut NAME).
 * Other paths are copied as they are.
 */
const char *sh_temp_dest_name(char *buf, size_t len, const char *path);

/* Create a private directory under $TMPDIR (or /tmp) and register it. */
int sh_temp_mkdir(char *path, size_t len);

/* Register a path (file or empty directory) for removal. */
int sh_temp_register(const char *path);

/* Remove the path now (if it exists) and forget it. */
void sh_temp_remove(const char *path);

/* Forget the path without removing it (it was renamed into place). */
void sh_temp_forget(const char *path);

/* An unnamed read-write file that disappears when closed or at exit, even on SIGKILL. */
FILE *sh_temp_anon(void);

/*
 * Put a finished temporary file in place: rename it onto dest (an existing
 * dest is replaced only with force, and only when it is a regular file or a
 * link to one; atomically refused otherwise) and stop tracking it, with
 * signals held across the two. while_doing says what was going on for the message when dest
 * appeared meanwhile ("encoding"). Logs; returns 0, SH_ERROR_EXISTS or a
 * negative AVERROR (the temporary file is then still registered).
 */
int sh_temp_commit(const char *path, const char *dest, int force, const char *while_doing);

#endif
