/*
 * Output: mux encoded packets into a file, and verify a finished file.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_OUTPUT_MUX_H
#define SH_OUTPUT_MUX_H

#include <stdint.h>

#include <libavcodec/avcodec.h>

typedef struct ShMuxer ShMuxer;

/* format: a libavformat muxer name ("mp4"). */
int  sh_mux_open(ShMuxer **mx, const char *path, const char *format);
/* display_matrix may be NULL. Returns the stream index or a negative error. */
int  sh_mux_add_stream(ShMuxer *mx, const AVCodecParameters *par, AVRational time_base,
                       const int32_t *display_matrix);
/* Metadata of the file (stream -1) or of a stream, and a stream's
 * disposition (AV_DISPOSITION_*): before the header. Ignored for GIF. */
int  sh_mux_set_tag(ShMuxer *mx, int stream, const char *key, const char *value);
void sh_mux_set_disposition(ShMuxer *mx, int stream, int disposition);
/* Chapter id from start to end (in tb), titled (may be NULL): before the header. */
int  sh_mux_add_chapter(ShMuxer *mx, int64_t id, int64_t start, int64_t end, AVRational tb, const char *title);
/*
 * Write packets in the order given (av_write_frame) rather than interleaved
 * by the muxer: for a caller that interleaves in runs itself. Interleaved
 * packet by packet, every audio packet and video frame is its own MP4 chunk,
 * 16 bytes of index each (3.4% of a 150 kb/s film); scale-out's join writes
 * a second of audio, then the video up to there, about one chunk a second.
 * Call before the header.
 */
void sh_mux_keep_order(ShMuxer *mx);
int  sh_mux_write_header(ShMuxer *mx);
/* pkt is in the time base given to add_stream; rescaled here, once. Takes the packet's data. */
int  sh_mux_write(ShMuxer *mx, int stream, AVPacket *pkt);
/* Write the trailer (MP4: moov moved to the front) and close the file. */
int  sh_mux_finish(ShMuxer *mx);
void sh_mux_free(ShMuxer **mx);

typedef struct ShVerifyExpect {
    const char *video_codec;  /* "h264" */
    int width, height;
    int audio;                /* 1: an audio stream must be there; 0: none */
    int subtitles;            /* subtitle streams there must be (-1: not checked) */
    double duration;          /* seconds */
    double tolerance;         /* seconds */
    int64_t max_bytes;
} ShVerifyExpect;

/*
 * Reopen a finished file with libavformat and check it against the plan:
 * size, streams, dimensions, duration, and that the first video packet
 * decodes. Logs the first mismatch; returns 0 or SH_ERROR_VERIFY.
 */
int sh_output_verify(const char *path, const ShVerifyExpect *e);

#endif
