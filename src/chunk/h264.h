/*
 * H.264 chunks onto one set of parameter sets (h264.c): what is read from
 * an avcC, and the slice-header rewrite that moves a chunk from its own
 * pic_init_qp to chunk 0's.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_CHUNK_H264_H
#define SH_CHUNK_H264_H

#include <stddef.h>
#include <stdint.h>

#include <libavcodec/packet.h>

typedef struct ShH264Params {
    int nal_length_size;
    /* SPS */
    int chroma_format_idc, separate_colour_plane;
    int log2_max_frame_num, poc_type, log2_max_poc_lsb, delta_pic_order_always_zero, frame_mbs_only;
    int sps_offset, sps_size;            /* in the avcC */
    int level;                           /* level_idc */
    /* PPS */
    int cabac, bottom_field_pic_order, num_ref_idx_default[2], weighted_pred, weighted_bipred_idc;
    int pic_init_qp, deblocking_control, redundant_pic_cnt_present;
    size_t init_qp_pos, init_qp_end;     /* bits in the PPS's RBSP */
    int pps_offset, pps_size;
    uint8_t pps_rest[256];               /* the PPS's RBSP without pic_init_qp */
    size_t pps_rest_bits;
} ShH264Params;

/* Read an avcC (MP4 extradata) with one SPS and one PPS. AVERROR_PATCHWELCOME: a stream this does not cover. */
int sh_h264_parse_avcc(ShH264Params *p, const uint8_t *data, int size);

/* Whether b's chunks can be moved onto a's parameter sets: the same SPS, the same PPS but pic_init_qp, CABAC. */
int sh_h264_compatible(const ShH264Params *a, const uint8_t *adata, const ShH264Params *b, const uint8_t *bdata);

/* Write level_idc into an avcC (its header and its SPS). */
int sh_h264_set_level(uint8_t *data, int size, const ShH264Params *p, int level);

/*
 * Rewrite a packet (length-prefixed NAL units) of the stream p describes so
 * that it decodes identically under a PPS whose pic_init_qp is
 * p->pic_init_qp - delta: every slice_qp_delta grows by delta. No-op for 0.
 */
int sh_h264_rebase_packet(const ShH264Params *p, int delta, AVPacket *pkt);

#endif
