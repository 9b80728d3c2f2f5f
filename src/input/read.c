/*
 * Reading the opened input: packets demuxed and decoded, video timestamps
 * filled in, frames counted, the range trimmed (the picture on screen at
 * the start opens it), a single picture held for the file's length.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>

#include <libavutil/mathematics.h>

#include "common/log.h"
#include "input/stream.h"

/* Fill in the pts; returns the frame's duration (video_tb). */
static int64_t fix_video_timestamps(ShInput *in, AVFrame *f)
{
    int64_t dur = f->pkt_duration;
    f->pts = f->best_effort_timestamp;
    if (f->pts == AV_NOPTS_VALUE)
        f->pts = in->next_video_pts;
    if (f->pts == AV_NOPTS_VALUE)
        f->pts = 0;
    if (dur <= 0 && in->info.frame_rate.num > 0)
        dur = av_rescale_q(1, av_inv_q(in->info.frame_rate), in->info.video_tb);
    if (dur <= 0)
        dur = 1;
    in->next_video_pts = f->pts + dur;
    return dur;
}

/* A video frame delivered: what the stats say about the stream. */
static void count_video_frame(ShInput *in, const AVFrame *f, int64_t dur)
{
    ShInputStats *s = &in->stats;
    if (s->first_pts == AV_NOPTS_VALUE || f->pts < s->first_pts)
        s->first_pts = f->pts;
    if (s->end_pts == AV_NOPTS_VALUE || f->pts + dur > s->end_pts)
        s->end_pts = f->pts + dur;
    s->video_frames++;
    if (f->decode_error_flags || f->flags & AV_FRAME_FLAG_CORRUPT)
        s->damaged_frames++;
}

/*
 * The trim, on a video frame with its pts filled in. Returns 1 with a frame
 * to deliver in f, 0 when f was dropped or held back. Frames before the
 * start are held: the last of them is the picture on screen at the start,
 * whatever duration it declares (variable-rate files declare a tick for
 * frames that stay for seconds), so when the next frame comes after the
 * start, the held one opens the range at the start and that one follows.
 */
static int trim_video_frame(ShInput *in, AVFrame *f, int64_t *dur)
{
    int64_t start = in->info.range_start, end = in->range_end, next = f->pts;
    if (f->pts < start) {
        av_frame_unref(in->before);
        av_frame_move_ref(in->before, f);
        in->before_dur = *dur;
        return 0;
    }
    if (end != AV_NOPTS_VALUE && f->pts >= end) {
        /* The film goes on past the end: the last frame stays until then,
         * whatever duration it declared. */
        if (!in->video_ended && in->stats.end_pts != AV_NOPTS_VALUE)
            in->stats.end_pts = FFMAX(in->stats.end_pts, end);
        in->video_ended = 1;
        av_frame_unref(f);
        if (!in->before->buf[0])
            return 0;
        /* The whole range lies within the held frame's time on screen. */
    } else if (in->before->buf[0] && f->pts > start) {
        av_frame_move_ref(in->after, f);
        in->after_dur = *dur;
    } else {
        av_frame_unref(in->before);
        if (end != AV_NOPTS_VALUE)
            *dur = FFMIN(*dur, end - f->pts);
        return 1;
    }
    av_frame_move_ref(f, in->before);
    f->pts = start;
    *dur = end != AV_NOPTS_VALUE ? FFMIN(next, end) - start : next - start;
    return 1;
}

/* The held frames, when the stream ends before anything after them came. Returns 1 with one. */
static int trim_flush(ShInput *in, AVFrame *f)
{
    int64_t start = in->info.range_start, dur;
    if (in->after && in->after->buf[0]) {
        dur = in->after_dur;
        av_frame_move_ref(f, in->after);
    } else if (in->before && in->before->buf[0]) {
        /* The range starts within the last frame: it lasts to the end. */
        dur = FFMAX(in->before->pts + in->before_dur, in->probe_end) - start;
        av_frame_move_ref(f, in->before);
        f->pts = start;
    } else {
        return 0;
    }
    if (in->range_end != AV_NOPTS_VALUE)
        dur = FFMIN(dur, in->range_end - f->pts);
    count_video_frame(in, f, FFMAX(dur, 1));
    return 1;
}

/*
 * A stream of one picture ends where the file (or the range) does, not
 * after the duration its one frame declares: a still with a sound track
 * lasts as long as the sound.
 */
static void hold_single_frame(ShInput *in)
{
    ShInputStats *s = &in->stats;
    int64_t end = in->info.range_start + av_rescale_q(llrint(in->info.duration * AV_TIME_BASE),
                                                      AV_TIME_BASE_Q, in->info.video_tb);
    if (s->video_frames != 1 || s->end_pts == AV_NOPTS_VALUE)
        return;
    if (in->trimmed && in->range_end != AV_NOPTS_VALUE)
        end = FFMIN(end, in->range_end);
    s->end_pts = FFMAX(s->end_pts, end);
}

int sh_input_read_raw(ShInput *in, AVFrame *frame, enum AVMediaType *type)
{
    int ret;
    for (;;) {
        /* The frame that followed the one opening a trimmed range. */
        if (in->after && in->after->buf[0]) {
            *type = AVMEDIA_TYPE_VIDEO;
            return trim_flush(in, frame) ? 0 : AVERROR_BUG;
        }
        if (in->pending) {
            InputStream *s = in->pending;
            ret = avcodec_receive_frame(s->dec, frame);
            if (ret >= 0) {
                if (s == &in->v) {
                    int64_t dur = fix_video_timestamps(in, frame);
                    *type = AVMEDIA_TYPE_VIDEO;
                    if (in->trimmed && !trim_video_frame(in, frame, &dur))
                        continue;
                    count_video_frame(in, frame, dur);
                } else {
                    *type = AVMEDIA_TYPE_AUDIO;
                    frame->pts = frame->best_effort_timestamp;
                    if (in->trimmed && in->range_end != AV_NOPTS_VALUE && frame->pts != AV_NOPTS_VALUE &&
                        av_compare_ts(frame->pts, in->info.audio_tb, in->range_end, in->info.video_tb) >= 0) {
                        in->audio_ended = 1;
                        av_frame_unref(frame);
                        continue;
                    }
                }
                return 0;
            }
            in->pending = NULL;
            if (ret == AVERROR_EOF)
                s->done = 1;
            else if (ret != AVERROR(EAGAIN)) {
                /* A damaged frame: counted and concealed, decoding goes on. */
                in->stats.decode_errors++;
                if (s->flushed)
                    s->done = 1;
            }
            continue;
        }
        if (in->demux_eof) {
            InputStream *s = NULL;
            if (!in->v.flushed)
                s = &in->v;
            else if (in->want_audio && in->a.dec && !in->a.flushed)
                s = &in->a;
            if (!s) {
                *type = AVMEDIA_TYPE_VIDEO;
                if (in->trimmed && trim_flush(in, frame))
                    return 0;
                hold_single_frame(in);
                return AVERROR_EOF;
            }
            s->flushed = 1;
            avcodec_send_packet(s->dec, NULL);
            in->pending = s;
            continue;
        }
        if (in->video_ended && (in->audio_ended || !in->want_audio)) {
            /* Past the end of the range: nothing more to read. */
            in->demux_eof = 1;
            continue;
        }
        ret = av_read_frame(in->fmt, in->pkt);
        if (ret < 0) {
            if (ret != AVERROR_EOF) {
                in->stats.decode_errors++;
                sh_log(SH_LOG_WARNING, in->info.path, "read error, stopping early: %s", av_err2str(ret));
            }
            in->demux_eof = 1;
            continue;
        }
        InputStream *s = NULL;
        if (in->pkt->stream_index == in->v.index && !in->video_ended && !in->skip_video)
            s = &in->v;
        else if (in->want_audio && in->pkt->stream_index == in->a.index) {
            if (!in->a.dec && (ret = sh_input_open_decoder(in, &in->a, 0)) < 0) {
                av_packet_unref(in->pkt);
                return ret;
            }
            s = &in->a;
        }
        if (s) {
            ret = avcodec_send_packet(s->dec, in->pkt);
            if (ret < 0 && ret != AVERROR(EAGAIN))
                in->stats.decode_errors++;
            in->pending = s;
        }
        av_packet_unref(in->pkt);
    }
}
