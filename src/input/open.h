/*
 * Opening an input as the local file of that name, and nothing else: no
 * protocol ever sees the name (so "clip:1.mp4" or "concat:a|b" is just a
 * file name), only regular files are read (a FIFO, a device or a directory
 * is refused without blocking), and no demuxer may open a second file (HLS
 * and DASH playlists, ffconcat scripts, image sequences and MOV references
 * are refused). Every avformat_open_input of shrink goes through here.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_OPEN_H
#define SH_INPUT_OPEN_H

#include <stdint.h>

#include <libavformat/avformat.h>

#include "shrink/shrink.h"

/* sh_media_open flags */
#define SH_MEDIA_QUIET 1      /* log nothing: the caller says what failed (reopening our own output) */

typedef struct ShMediaFacts {
    int64_t size;             /* bytes, from fstat of the descriptor read */
    /* An MP4/MOV whose index (moov box) is cut short by the end of the file:
     * the bytes of it present, of the size it declares. 0 and 0 when whole. */
    int64_t index_have, index_size;
} ShMediaFacts;

/*
 * Open path read-only as a regular file without following it anywhere else:
 * stat refuses what is not a regular file before it is opened (opening a FIFO
 * would wait for a writer, some devices act on open), and fstat of the
 * descriptor checks again (the name may have changed in between). Returns the
 * descriptor (O_CLOEXEC, blocking) or a negative error, logged naming path
 * unless quiet. *size (may be NULL) gets the file's size.
 */
int sh_open_regular(const char *path, int64_t *size, int quiet);

/*
 * avformat_open_input on the file path through sh_open_regular's descriptor,
 * refusing demuxers that read other files, and an empty file. Errors are
 * logged naming path (a known format that fails to open as damaged, with
 * libav's reason), except with SH_MEDIA_QUIET. facts may be NULL.
 * Close with sh_media_close, never avformat_close_input (the I/O is ours).
 */
int sh_media_open(AVFormatContext **fmt, const char *path, unsigned flags, ShMediaFacts *facts);
void sh_media_close(AVFormatContext **fmt);

#endif
