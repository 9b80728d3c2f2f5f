/*
 * Between the parts of src/chunk/; not used outside it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CHUNK_CHUNK_INT_H
#define SH_CHUNK_CHUNK_INT_H

#include <stdint.h>

#include <libavutil/rational.h>

#include "chunk/chunk.h"

typedef struct ShChunkAudioArgs {
    const char *input;
    int track;                /* 0: the best audio stream */
    int bitrate, channels, frame_ms;
    AVRational video_tb;
    int64_t video_start;      /* video_tb */
    int64_t origin;           /* video_tb: becomes sample 0 (the film's start) */
    int64_t end_pts;          /* video_tb: the video's end; audio stops there */
    const char *output;       /* replaced */
} ShChunkAudioArgs;

/* The film's audio into its own MP4 (audio.c). */
int sh_chunk_encode_audio(const ShChunkAudioArgs *a, int64_t *bytes, int64_t *packets);

/* SHA-256 of the first and last MiB of a file, in hex (65 bytes), and its size (plan.c). */
int sh_chunk_hash_file(const char *path, char *hex, int64_t *size);

#endif
