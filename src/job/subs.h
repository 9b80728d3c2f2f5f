/*
 * What a film keeps besides its picture and sound: its text subtitle
 * tracks, its chapters and its title (issue 18). Read once, before the plan
 * (their bytes come off the budget before the video's share), timed to the
 * trim, converted for the output's container and muxed into every encode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_JOB_SUBS_H
#define SH_JOB_SUBS_H

#include <stdint.h>

#include "input/input.h"
#include "output/mux.h"

/* Subtitle tracks kept at most (a DVD rip lists thirty languages: the first ones). */
#define SH_SUBS_MAX_TRACKS 16

typedef struct ShSubs ShSubs;

/*
 * Read from the opened input in (its info: the range) the subtitle tracks
 * which says (ShOptions.subs: SH_SUBS_ALL, SH_SUBS_NONE or a track number
 * from 1), its chapters and its title, for the libavformat muxer named.
 * Text tracks are read from a second opening of the file (packets only, no
 * video decoded): SRT/ASS/WebVTT are copied as they are where the container
 * takes them, anything else converted (MP4/MOV: mov_text; Matroska: SubRip;
 * WebM: WebVTT). Image subtitles (PGS, DVB, VobSub) are named in a warning
 * and left out. Cues are cut to the range and start at its start (0 in the
 * output); chapters too. *s is NULL when nothing is kept (GIF, or nothing
 * there). Returns 0, AVERROR_STREAM_NOT_FOUND (logged) when track N is not
 * there or not text, AVERROR_INVALIDDATA (logged) when a kept track's
 * packets do not decode, or another negative error.
 */
int sh_subs_open(ShSubs **s, const ShInput *in, const ShInputInfo *info, int which, const char *muxer);

/* Subtitle tracks kept (0 for NULL). */
int sh_subs_tracks(const ShSubs *s);
/* What they, the chapters and the title add to the output, estimated (0 for NULL). */
int64_t sh_subs_bytes(const ShSubs *s);

/* Where an output's muxing of the tracks is: zeroed by the caller. */
typedef struct ShSubsCursor {
    int first;                /* the first track's stream in the muxer */
    int next[SH_SUBS_MAX_TRACKS];
} ShSubsCursor;

/* Add the tracks, chapters and title to mx, before its header (s may be NULL). */
int sh_subs_mux_setup(const ShSubs *s, ShMuxer *mx, ShSubsCursor *c);
/* Write each track's packets that start at or before t (ms in the output;
 * INT64_MAX: all that are left), not written yet. */
int sh_subs_mux_until(const ShSubs *s, ShMuxer *mx, ShSubsCursor *c, int64_t t_ms);

void sh_subs_free(ShSubs **s);

#endif
