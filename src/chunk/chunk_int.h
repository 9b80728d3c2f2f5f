/*
 * Between the parts of src/chunk/; not used outside it.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CHUNK_CHUNK_INT_H
#define SH_CHUNK_CHUNK_INT_H

#include <stdint.h>

#include "chunk/chunk.h"

typedef struct ShInput ShInput;

typedef struct ShChunkAudioArgs {
    ShInput *in;              /* the film, its audio track and range chosen, nothing read yet */
    int bitrate, channels, frame_ms;
    int kind;                 /* ShAudioKind: what the sound is (speech: Opus's voice mode) */
    int64_t origin;           /* video_tb: becomes sample 0 (the film's start) */
    int64_t end_pts;          /* video_tb: the video's end; audio stops there */
    const char *output;       /* replaced */
    const struct ShSubs *subs; /* subtitle tracks, chapters, title to carry to the join (job/subs.h; may be NULL) */
} ShChunkAudioArgs;

/* The film's audio alone, read from a->in, into its own MP4 (audio.c). */
int sh_chunk_encode_audio(const ShChunkAudioArgs *a, int64_t *bytes, int64_t *packets);

/* Video frames a chunk will have at the output rate (plan.c). */
int64_t sh_chunk_out_frames(const ShChunkPlan *p, const ShChunk *c);

/*
 * The budget (plan.c): the target less the audio file and the joined
 * container's estimate (reserve_bytes, set here), split by weight =
 * seconds x (source bytes per second)^exponent; each chunk's budget also
 * carries its own file's container bytes. Sets every chunk's weight
 * (normalised) and budget. SH_ERROR_TARGET_TOO_SMALL (logged) when nothing
 * is left for the video.
 */
int sh_chunk_split_budget(ShChunkPlan *p, int64_t audio_packets);

/* SHA-256 of the first and last MiB of a file, in hex (65 bytes), and its size (plan.c). */
int sh_chunk_hash_file(const char *path, char *hex, int64_t *size);

#endif
