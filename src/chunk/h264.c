/*
 * Making H.264 chunks share one set of parameter sets without re-encoding.
 *
 * Chunks of one plan come from one encoder configuration, so their SPS are
 * the same, and so are their PPS but for one field: x264 writes the
 * two-pass's starting quantiser as pic_init_qp, which differs per chunk
 * (its --stitchable option, which pins it, is not reachable through the
 * encoder descriptor). pic_init_qp only offsets each slice's slice_qp_delta,
 * so a chunk is moved to chunk 0's PPS by rewriting slice_qp_delta in its
 * slice headers by the difference: the quantiser of every slice, and so
 * every decoded picture, stays the same. With CABAC the slice data starts
 * byte-aligned after the header, so only the header is rewritten and the
 * data is copied as it is. Anything else that differs, or a stream this
 * does not cover (CAVLC, slice groups, scaling matrices), is refused.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <libavcodec/packet.h>
#include <libavutil/error.h>
#include <libavutil/intreadwrite.h>
#include <libavutil/mem.h>

#include "chunk/h264.h"

/* ---- bits ---- */

typedef struct Bits {
    const uint8_t *buf;
    size_t size, pos;         /* pos in bits */
    int overrun;
} Bits;

static unsigned get_bit(Bits *b)
{
    unsigned v;
    if (b->pos >= b->size * 8) {
        b->overrun = 1;
        return 0;
    }
    v = (b->buf[b->pos >> 3] >> (7 - (b->pos & 7))) & 1;
    b->pos++;
    return v;
}

static uint32_t get_bits(Bits *b, int n)
{
    uint32_t v = 0;
    while (n--)
        v = (v << 1) | get_bit(b);
    return v;
}

static uint32_t get_ue(Bits *b)
{
    int zeros = 0;
    while (!get_bit(b) && !b->overrun)
        if (++zeros > 31) {
            b->overrun = 1;
            return 0;
        }
    return ((1u << zeros) - 1) + get_bits(b, zeros);
}

static int32_t get_se(Bits *b)
{
    uint32_t v = get_ue(b);
    return v & 1 ? (int32_t)((v + 1) / 2) : -(int32_t)(v / 2);
}

typedef struct Writer {
    uint8_t *buf;
    size_t cap, pos;          /* pos in bits */
} Writer;

static void put_bit(Writer *w, unsigned v)
{
    if ((w->pos >> 3) >= w->cap)
        return;               /* sized by the caller: cannot happen */
    if (!(w->pos & 7))
        w->buf[w->pos >> 3] = 0;
    w->buf[w->pos >> 3] |= (v & 1) << (7 - (w->pos & 7));
    w->pos++;
}

static void put_ue(Writer *w, uint32_t v)
{
    int len = 0;
    uint64_t x = (uint64_t)v + 1;
    for (uint64_t t = x; t > 1; t >>= 1)
        len++;
    for (int i = 0; i < len; i++)
        put_bit(w, 0);
    for (int i = len; i >= 0; i--)
        put_bit(w, (unsigned)(x >> i) & 1);
}

static void put_se(Writer *w, int32_t v)
{
    put_ue(w, v > 0 ? 2u * (uint32_t)v - 1 : 2u * (uint32_t)(-v));
}

static void copy_bits(Writer *w, Bits *b, size_t from, size_t to)
{
    b->pos = from;
    while (b->pos < to)
        put_bit(w, get_bit(b));
}

/* ---- NAL units ---- */

/* Emulation prevention bytes out: the RBSP. */
static size_t unescape(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t o = 0;
    int zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (zeros >= 2 && src[i] == 3) {
            zeros = 0;
            continue;
        }
        dst[o++] = src[i];
        zeros = src[i] ? 0 : zeros + 1;
    }
    return o;
}

/* And back in; dst holds 3n/2 + 2. */
static size_t escape(uint8_t *dst, const uint8_t *src, size_t n)
{
    size_t o = 0;
    int zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (zeros >= 2 && src[i] <= 3) {
            dst[o++] = 3;
            zeros = 0;
        }
        dst[o++] = src[i];
        zeros = src[i] ? 0 : zeros + 1;
    }
    if (zeros)
        dst[o++] = 3;
    return o;
}

/* The bit after the last 1 (rbsp_stop_one_bit) of an RBSP. */
static size_t last_one_bit(const uint8_t *rbsp, size_t n)
{
    while (n && !rbsp[n - 1])
        n--;
    if (!n)
        return 0;
    for (int i = 0; i < 8; i++)
        if (rbsp[n - 1] & (1 << i))
            return n * 8 - i;
    return n * 8;
}

static int parse_sps(ShH264Params *p, const uint8_t *rbsp, size_t n)
{
    Bits b = { rbsp, n, 8, 0 };
    int profile = (int)get_bits(&b, 8);
    get_bits(&b, 16);
    get_ue(&b);
    p->chroma_format_idc = 1;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 || profile == 83 ||
        profile == 86 || profile == 118 || profile == 128 || profile == 138 || profile == 139 ||
        profile == 134 || profile == 135) {
        p->chroma_format_idc = (int)get_ue(&b);
        if (p->chroma_format_idc == 3)
            p->separate_colour_plane = (int)get_bit(&b);
        get_ue(&b);
        get_ue(&b);
        get_bit(&b);
        if (get_bit(&b))
            return AVERROR_PATCHWELCOME;     /* scaling matrices: not from x264's defaults */
    }
    p->log2_max_frame_num = (int)get_ue(&b) + 4;
    p->poc_type = (int)get_ue(&b);
    if (p->poc_type == 0) {
        p->log2_max_poc_lsb = (int)get_ue(&b) + 4;
    } else if (p->poc_type == 1) {
        uint32_t cycle;
        p->delta_pic_order_always_zero = (int)get_bit(&b);
        get_se(&b);
        get_se(&b);
        cycle = get_ue(&b);
        for (uint32_t i = 0; i < cycle && !b.overrun; i++)
            get_se(&b);
    }
    get_ue(&b);
    get_bit(&b);
    get_ue(&b);
    get_ue(&b);
    p->frame_mbs_only = (int)get_bit(&b);
    return b.overrun || p->log2_max_frame_num > 16 || p->log2_max_poc_lsb > 16 ? AVERROR_INVALIDDATA : 0;
}

static int parse_pps(ShH264Params *p, const uint8_t *rbsp, size_t n)
{
    Bits b = { rbsp, n, 8, 0 };
    get_ue(&b);
    get_ue(&b);
    p->cabac = (int)get_bit(&b);
    p->bottom_field_pic_order = (int)get_bit(&b);
    if (get_ue(&b))
        return AVERROR_PATCHWELCOME;         /* slice groups */
    p->num_ref_idx_default[0] = (int)get_ue(&b) + 1;
    p->num_ref_idx_default[1] = (int)get_ue(&b) + 1;
    p->weighted_pred = (int)get_bit(&b);
    p->weighted_bipred_idc = (int)get_bits(&b, 2);
    p->init_qp_pos = b.pos;
    p->pic_init_qp = 26 + get_se(&b);
    p->init_qp_end = b.pos;
    get_se(&b);
    get_se(&b);
    p->deblocking_control = (int)get_bit(&b);
    get_bit(&b);
    p->redundant_pic_cnt_present = (int)get_bit(&b);
    return b.overrun ? AVERROR_INVALIDDATA : 0;
}

/* avcC: version, profile, compat, level, 0xFC|lengthSizeMinusOne, 0xE0|nSPS, {len, SPS}, nPPS, {len, PPS}. */
int sh_h264_parse_avcc(ShH264Params *p, const uint8_t *data, int size)
{
    int pos = 6, ret;
    memset(p, 0, sizeof(*p));
    if (size < 7 || data[0] != 1)
        return AVERROR_INVALIDDATA;
    p->nal_length_size = (data[4] & 3) + 1;
    for (int set = 0; set < 2; set++) {
        int count = set ? data[pos++] : data[5] & 31;
        if (count != 1 || pos + 2 > size)
            return AVERROR_PATCHWELCOME;     /* one SPS and one PPS, as x264 makes */
        {
            int len = AV_RB16(data + pos);
            uint8_t *rbsp;
            size_t n;
            pos += 2;
            if (len < 2 || pos + len > size)
                return AVERROR_INVALIDDATA;
            if (!(rbsp = av_malloc(len)))
                return AVERROR(ENOMEM);
            n = unescape(rbsp, data + pos, len);
            ret = set ? parse_pps(p, rbsp, n) : parse_sps(p, rbsp, n);
            if (!set) {
                p->sps_offset = pos;
                p->sps_size = len;
                p->level = data[pos + 3];
            } else {
                p->pps_offset = pos;
                p->pps_size = len;
                /* The PPS without its pic_init_qp, to compare the rest. */
                if (ret >= 0 && n <= sizeof(p->pps_rest)) {
                    Bits b = { rbsp, n, 0, 0 };
                    Writer w = { p->pps_rest, sizeof(p->pps_rest), 0 };
                    copy_bits(&w, &b, 0, p->init_qp_pos);
                    /* to the stop bit: the zeros after it only align, and differ with the field's length */
                    copy_bits(&w, &b, p->init_qp_end, last_one_bit(rbsp, n));
                    p->pps_rest_bits = w.pos;
                } else if (ret >= 0) {
                    ret = AVERROR_PATCHWELCOME;
                }
            }
            av_free(rbsp);
            if (ret < 0)
                return ret;
            pos += len;
        }
    }
    return 0;
}

int sh_h264_compatible(const ShH264Params *a, const uint8_t *adata, const ShH264Params *b, const uint8_t *bdata)
{
    /* The SPS but its level (byte 3: NAL header, profile, constraint flags, level): x264 derives
     * the level from the frame rate it is told, which the job's time scale multiplies by a
     * factor that follows each chunk's bitrate; join writes the highest. */
    const uint8_t *sa = adata + a->sps_offset, *sb = bdata + b->sps_offset;
    return a->nal_length_size == b->nal_length_size && a->sps_size == b->sps_size && a->sps_size > 4 &&
           !memcmp(sa, sb, 3) && !memcmp(sa + 4, sb + 4, a->sps_size - 4) &&
           a->pps_rest_bits == b->pps_rest_bits &&
           !memcmp(a->pps_rest, b->pps_rest, (a->pps_rest_bits + 7) / 8) && a->cabac;
}

/*
 * One slice NAL (escaped, with its header byte) with slice_qp_delta moved
 * by delta, into out (escaped). Returns its size or a negative error.
 */
static int rewrite_slice(const ShH264Params *p, const uint8_t *nal, size_t n, int delta, uint8_t *out,
                         uint8_t *rbsp, uint8_t *tmp)
{
    size_t len = unescape(rbsp, nal, n);
    Bits b = { rbsp, len, 8, 0 };
    Writer w = { tmp, len + 16, 0 };
    int nal_type = nal[0] & 31, ref_idc = (nal[0] >> 5) & 3, slice_type, field = 0, qp_delta;
    int nref[2];
    size_t qp_pos, qp_end, hdr_end;

    get_ue(&b);
    slice_type = (int)(get_ue(&b) % 5);     /* 0 P, 1 B, 2 I, 3 SP, 4 SI */
    get_ue(&b);
    if (p->separate_colour_plane)
        get_bits(&b, 2);
    get_bits(&b, p->log2_max_frame_num);
    if (!p->frame_mbs_only && (field = (int)get_bit(&b)))
        get_bit(&b);
    if (nal_type == 5)
        get_ue(&b);
    if (p->poc_type == 0) {
        get_bits(&b, p->log2_max_poc_lsb);
        if (p->bottom_field_pic_order && !field)
            get_se(&b);
    }
    if (p->poc_type == 1 && !p->delta_pic_order_always_zero) {
        get_se(&b);
        if (p->bottom_field_pic_order && !field)
            get_se(&b);
    }
    if (p->redundant_pic_cnt_present)
        get_ue(&b);
    if (slice_type == 1)
        get_bit(&b);
    nref[0] = p->num_ref_idx_default[0];
    nref[1] = p->num_ref_idx_default[1];
    if (slice_type == 0 || slice_type == 1 || slice_type == 3) {
        if (get_bit(&b)) {
            nref[0] = (int)get_ue(&b) + 1;
            if (slice_type == 1)
                nref[1] = (int)get_ue(&b) + 1;
        }
    }
    for (int list = 0; list < (slice_type == 1 ? 2 : 1); list++) {
        uint32_t idc;
        if (slice_type == 2 || slice_type == 4 || !get_bit(&b))
            continue;
        do {
            idc = get_ue(&b);
            if (idc <= 2)
                get_ue(&b);
        } while (idc != 3 && !b.overrun);
    }
    if ((p->weighted_pred && (slice_type == 0 || slice_type == 3)) || (p->weighted_bipred_idc == 1 && slice_type == 1)) {
        int chroma = p->separate_colour_plane ? 0 : p->chroma_format_idc;
        get_ue(&b);
        if (chroma)
            get_ue(&b);
        for (int list = 0; list < (slice_type == 1 ? 2 : 1); list++)
            for (int i = 0; i < nref[list] && !b.overrun; i++) {
                if (get_bit(&b)) {
                    get_se(&b);
                    get_se(&b);
                }
                if (chroma && get_bit(&b))
                    for (int j = 0; j < 4; j++)
                        get_se(&b);
            }
    }
    if (ref_idc) {
        if (nal_type == 5) {
            get_bits(&b, 2);
        } else if (get_bit(&b)) {
            uint32_t op;
            do {
                op = get_ue(&b);
                if (op == 1 || op == 3)
                    get_ue(&b);
                if (op == 2)
                    get_ue(&b);
                if (op == 3 || op == 6)
                    get_ue(&b);
                if (op == 4)
                    get_ue(&b);
            } while (op && !b.overrun);
        }
    }
    if (p->cabac && slice_type != 2 && slice_type != 4)
        get_ue(&b);
    qp_pos = b.pos;
    qp_delta = get_se(&b);
    qp_end = b.pos;
    if (slice_type == 3 || slice_type == 4) {
        if (slice_type == 3)
            get_bit(&b);
        get_se(&b);
    }
    if (p->deblocking_control && get_ue(&b) != 1) {
        get_se(&b);
        get_se(&b);
    }
    hdr_end = b.pos;
    if (b.overrun || !p->cabac)
        return AVERROR_INVALIDDATA;
    /* The header to the quantiser, the new delta, the rest of the header,
     * cabac_alignment_one_bits, then the slice data's bytes as they were. */
    copy_bits(&w, &b, 0, qp_pos);
    put_se(&w, qp_delta + delta);
    copy_bits(&w, &b, qp_end, hdr_end);
    while (w.pos & 7)
        put_bit(&w, 1);
    {
        size_t data = (hdr_end + 7) / 8, head = w.pos / 8;
        if (head + (len - data) > len + 16)
            return AVERROR_INVALIDDATA;
        memcpy(tmp + head, rbsp + data, len - data);
        return (int)escape(out, tmp, head + (len - data));
    }
}

int sh_h264_set_level(uint8_t *data, int size, const ShH264Params *p, int level)
{
    if (p->sps_offset + 3 >= size || level <= 0 || level > 255)
        return AVERROR(EINVAL);
    data[3] = (uint8_t)level;                 /* AVCLevelIndication */
    data[p->sps_offset + 3] = (uint8_t)level; /* level_idc: a whole byte, no escaping can change */
    return 0;
}

int sh_h264_rebase_packet(const ShH264Params *p, int delta, AVPacket *pkt)
{
    AVPacket *np = NULL;
    uint8_t *rbsp = NULL, *tmp = NULL, *out;
    size_t in = 0, o = 0, cap = (size_t)pkt->size * 3 / 2 + 64;
    int ret = 0, ls = p->nal_length_size;

    if (!delta)
        return 0;
    if (!(np = av_packet_alloc()) || (ret = av_new_packet(np, (int)cap)) < 0 ||
        !(rbsp = av_malloc(pkt->size + 16)) || !(tmp = av_malloc(pkt->size + 32))) {
        ret = ret < 0 ? ret : AVERROR(ENOMEM);
        goto end;
    }
    out = np->data;
    while (in + ls <= (size_t)pkt->size) {
        size_t n = 0;
        int type;
        for (int i = 0; i < ls; i++)
            n = (n << 8) | pkt->data[in + i];
        in += ls;
        if (!n || in + n > (size_t)pkt->size || o + ls + n * 3 / 2 + 8 > cap) {
            ret = AVERROR_INVALIDDATA;
            goto end;
        }
        type = pkt->data[in] & 31;
        if (type == 1 || type == 5) {
            int len = rewrite_slice(p, pkt->data + in, n, delta, out + o + ls, rbsp, tmp);
            if (len < 0) {
                ret = len;
                goto end;
            }
            for (int i = 0; i < ls; i++)
                out[o + i] = (uint8_t)((unsigned)len >> (8 * (ls - 1 - i)));
            o += ls + len;
        } else {
            memcpy(out + o, pkt->data + in - ls, ls + n);
            o += ls + n;
        }
        in += n;
    }
    if (in != (size_t)pkt->size) {
        ret = AVERROR_INVALIDDATA;
        goto end;
    }
    np->size = (int)o;
    if ((ret = av_packet_copy_props(np, pkt)) < 0)
        goto end;
    av_packet_unref(pkt);
    av_packet_move_ref(pkt, np);
end:
    av_packet_free(&np);
    av_free(rbsp);
    av_free(tmp);
    return ret;
}
