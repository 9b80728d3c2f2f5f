/*
 * What an MP4 costs beyond its packets, where the sizes of the packets are
 * known but the file is not written yet.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_OUTPUT_OVERHEAD_H
#define SH_OUTPUT_OVERHEAD_H

#include <stdint.h>

/*
 * The index bytes that interleaving video and audio packet by packet adds
 * to an MP4 (the job's encodes: sh_mux_write through the muxer's
 * interleaving), over one track alone: chunk offsets and sample-to-chunk
 * entries. 0 when either count is 0.
 */
int64_t sh_mp4_interleave_overhead(int64_t video_frames, int64_t audio_packets);

/*
 * What to add to sh_budget_overhead() (per frame and per packet, for H.264
 * with B-frames, one track at a time) for an MP4 of this video codec
 * ("h264", "av1": ShEncoderDesc.codec): the interleaving above, less the
 * composition offsets (ctts, 8 bytes a frame) a codec that does not reorder
 * frames does not have (AV1's sdtp costs 1). Can be negative.
 */
int64_t sh_mp4_overhead_correction(int64_t video_frames, int64_t audio_packets, const char *codec);

#endif
