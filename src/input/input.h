/*
 * Input: probe, demux and decode one file. Knows nothing of encoding.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_INPUT_INPUT_H
#define SH_INPUT_INPUT_H

#include <stdint.h>

#include <libavcodec/packet.h>
#include <libavutil/frame.h>
#include <libavutil/pixfmt.h>
#include <libavutil/rational.h>

#include "shrink/shrink.h"

/* Colour as a stream tags it (UNSPECIFIED where it does not say). */
typedef struct ShColour {
    enum AVColorPrimaries primaries;
    enum AVColorTransferCharacteristic trc;
    enum AVColorSpace space;
    enum AVColorRange range;
    enum AVChromaLocation chroma_loc;
} ShColour;

typedef struct ShInputInfo {
    const char *path;
    int64_t file_size;
    double duration;          /* seconds of video, from the probe; of the range once trimmed */
    /* video */
    const char *video_codec;
    int width, height;        /* coded; the crop's once cropped (sh_input_set_crop) */
    AVRational sar;
    int rotation;             /* clockwise display rotation: 0, 90, 180, 270 */
    int has_display_matrix;
    int32_t display_matrix[9];
    AVRational frame_rate;    /* best guess, for planning */
    AVRational video_tb;
    ShColour colour;          /* the source's */
    int bit_depth;            /* of the source's luma samples */
    int interlaced;           /* the stream's field order says interlaced */
    /* sh_input_set_picture: what the video frames delivered are */
    int picture_set;          /* it was called (with these modes, ShHdr and ShDeinterlace) */
    int hdr_mode, deint_mode;
    int hdr;                  /* the source is HDR: PQ or HLG transfer */
    int tonemapped;           /* ... and is tone-mapped to SDR BT.709 */
    ShColour out_colour;      /* of the frames delivered: what the output says it is */
    /* sh_input_set_crop: the video frames delivered are this rectangle of the picture */
    ShCrop crop;              /* as displayed (width 0: none) */
    int full_width, full_height;  /* coded, before the crop */
    int64_t video_start;      /* video_tb: the stream's start time */
    int64_t range_start;      /* video_tb: where reading begins, video_start + the trim's
                                 start (sh_input_set_range); output time 0 is here */
    /* audio (the best stream), when present */
    int has_audio;
    const char *audio_codec;
    int audio_channels, audio_rate;
    AVRational audio_tb;
    /* MP4/MOV whose index is cut short by the end of the file (an interrupted
     * copy): bytes of it present, and declared; 0 when whole */
    int64_t index_have, index_size;
} ShInputInfo;

/* What decoding saw, known at the end of the stream. */
typedef struct ShInputStats {
    int64_t video_frames;     /* decoded */
    int64_t first_pts;        /* video, video_tb */
    int64_t end_pts;          /* video: last pts + its duration */
    int64_t decode_errors;    /* packets the decoder rejected (concealed) */
    int64_t damaged_frames;   /* video frames decoded with errors concealed (of video_frames) */
} ShInputStats;

typedef struct ShInput ShInput;

/* Open and probe. Errors are logged with the file's name. */
int sh_input_open(ShInput **in, const char *path);
const ShInputInfo *sh_input_info(const ShInput *in);
const ShInputStats *sh_input_stats(const ShInput *in);

/*
 * One warning naming the file when its index is cut short (index_size): the
 * demuxer drops what the lost part listed without a word, audio included.
 * For the caller that makes the output, once (the input is opened again by
 * the solver, the checks and the chunks of a scale-out job).
 */
void sh_input_warn_index(const ShInput *in);

/*
 * The demuxer's view of the file, read-only: its streams, chapters and
 * metadata, for what the job keeps besides the picture and sound (subtitle
 * tracks, chapters, the title: job/subs.c). Never read packets through it.
 */
const struct AVFormatContext *sh_input_format(const ShInput *in);

/* Decode audio too (default: video only). Call before the first read. */
void sh_input_want_audio(ShInput *in, int want);
/*
 * Decode video (the default) or not: without, sh_input_read gives the audio
 * alone (what sh_input_want_audio chose), through the same stream choice,
 * trim and seek (scale-out's plan encodes a film's audio by itself).
 * Call before the first read.
 */
void sh_input_want_video(ShInput *in, int want);

/*
 * Use the N-th audio stream of the file (N >= 1, counted in file order)
 * instead of the best one; 0 keeps the best. The info then describes it.
 * Call before the first read. Returns 0, or AVERROR_STREAM_NOT_FOUND (logged)
 * when there is no such stream or it cannot be decoded.
 */
int sh_input_select_audio(ShInput *in, int track);

/*
 * Read only the seconds [start, end) of the video (end 0: to the end; both
 * from the video's start, as a player counts). The info then describes the
 * range: range_start is where it begins and duration its length, so a plan
 * made from the info budgets the trimmed length. Demux seeks to the keyframe
 * before start. Of the frames before start only the last one comes out, the
 * picture on screen at start, with its pts moved to range_start (so the
 * output opens there, with no gap, whatever durations a variable-rate file
 * declares); frames at or after end are dropped, audio frames from end on
 * too, the last frame lasts until end, and reading stops there. Call before
 * the first read. Returns 0, or SH_ERROR_BAD_RANGE (logged) when start is at
 * or past the end of the video or end <= start.
 */
int sh_input_set_range(ShInput *in, double start, double end);

/*
 * The next decoded frame, video or audio, in demux order; *type says which.
 * Timestamps are in the stream's time base (video_tb or audio_tb), with
 * missing video timestamps filled from the previous frame's.
 * Returns 0, AVERROR_EOF, or a negative error.
 */
int sh_input_read(ShInput *in, AVFrame *frame, enum AVMediaType *type);

/*
 * Continue reading from about ts (video_tb): demux restarts at the keyframe
 * at or before it, decoders are flushed; frames before ts still come out and
 * are the caller's to skip. Returns 0 or a negative error (not seekable).
 */
int sh_input_seek(ShInput *in, int64_t ts);

/*
 * The source's own video bytes between two times (video_tb), from the
 * container's index where it has one (no reading), else by demuxing (no
 * decoding). The source's encoder spent bits where the film is hard, so
 * this says how hard a stretch is compared with the whole. Returns the
 * bytes, or a negative error. Leaves the read position undefined: seek after.
 */
int64_t sh_input_source_bytes(ShInput *in, int64_t from, int64_t to);

/*
 * Every video packet from the read position to the end, demuxed and not
 * decoded (other streams are not read): fn(opaque, pkt) for each, in file
 * order; a non-zero return stops the scan with that value. For what the
 * source's encoder decided: its keyframes and where it spent its bytes.
 * Returns 0 at the end, fn's return, or a read error (logged). Leaves the
 * read position at the end: a handle of its own, or seek after.
 */
int sh_input_scan_video(ShInput *in, int (*fn)(void *opaque, const AVPacket *pkt), void *opaque);

/*
 * Deliver the video as it should be seen (default: as decoded). hdr is an
 * ShHdr: a PQ or HLG source is tone-mapped to SDR BT.709 unless
 * SH_HDR_KEEP. deint is an ShDeinterlace: with AUTO, bwdif runs when the
 * stream's field order or the first frame says interlaced, on the frames
 * flagged so. Timestamps and the frame rate are kept. Sets the info's
 * picture fields (out_colour: the tags the output should carry). Call
 * before the first read.
 */
int sh_input_set_picture(ShInput *in, int hdr, int deint);
/* The same as another input of the same file was given (if it was): the
 * picture modes and the crop. */
int sh_input_set_picture_like(ShInput *in, const ShInputInfo *like);

/*
 * Deliver only the rectangle c of the picture (crop.c). c is in the
 * displayed picture's pixels (rotation applied, before the aspect ratio) and
 * is rounded to even offsets and sizes (4:2:0 chroma); width 0 crops nothing.
 * Frames come out cropped in place (no copy: their data pointers move), and
 * the info's width and height become the crop's in coded orientation, so
 * every reader sizes the picture that remains. A frame of another size than
 * the stream's (a mid-stream change) is left whole. Call before the first
 * read. Returns 0, or SH_ERROR_BAD_OPTION (logged) when c is empty or not
 * inside the picture.
 */
int sh_input_set_crop(ShInput *in, const ShCrop *c);

/*
 * Find black bars (cropdetect.c): frames spread over info's range (without
 * its first and last 5%, where titles fade) through libavfilter's cropdetect,
 * each on its own; *c is the smallest rectangle holding every frame's picture
 * (a dark scene or a fade crops nothing away), in the displayed picture's
 * pixels, even, or width 0 when there are no bars of at least 2% of the
 * width or height. Opens path again; the picture modes of info are not
 * needed (black stays black). Returns 0 or a negative error (logged).
 */
int sh_input_detect_crop(const char *path, const ShInputInfo *info, ShCrop *c);

void sh_input_close(ShInput **in);

#endif
