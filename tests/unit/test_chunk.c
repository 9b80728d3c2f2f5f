/*
 * Unit tests: scale-out's pieces that need no encoding (src/chunk/): the
 * budget split and the rebalance, the plan file (a round trip, and a plan
 * written by the shrink before the rename read as it was), the chunk number
 * in a file name, and the H.264 parameter-set rewrite on parameter sets and
 * an IDR slice taken once from x264.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>

#include "chunk/chunk_int.h"
#include "chunk/h264.h"
#include "solver/plan.h"

/* A plan written by shrink plan (the build before src/scale became src/chunk) for a 6 s
 * 320x240 25 fps clip with a sine tone: --target 200k --chunks 3. Its audio file had 101 packets. */
static const char old_plan[] =
    "{\n"
    "  \"shrink_plan\": 1,\n"
    "  \"input\": {\"path\": \"/tmp/chunkwork/clip.mp4\", \"size\": 285269, \"sha256\": \"1d462452dc5358c9486bda8dae0dcceccff33a6f5ae708f27aaa78a3ff18467e\"},\n"
    "  \"target\": 200000,\n"
    "  \"video\": {\"encoder\": \"x264\", \"codec\": \"h264\", \"speed\": \"balanced\", \"width\": 320, \"height\": 240, \"display_height\": 240,\n"
    "            \"fps_num\": 25, \"fps_den\": 1, \"time_base_num\": 1, \"time_base_den\": 12800, \"start_pts\": 0},\n"
    "  \"trim\": {\"start\": 0.000000, \"end\": 0.000000},\n"
    "  \"duration\": 6.000000,\n"
    "  \"audio\": {\"path\": \"oldplan.audio.mp4\", \"track\": 0, \"bitrate\": 31500, \"channels\": 1, \"bytes\": 32897},\n"
    "  \"reserve\": 3466,\n"
    "  \"complexity\": {\"measure\": \"source-bytes\", \"exponent\": 0.600},\n"
    "  \"chunks\": [\n"
    "    {\"index\": 0, \"start_pts\": 0, \"end_pts\": 25600, \"start\": 0.000000, \"end\": 2.000000, \"frames\": 50, \"keyframe\": true, \"source_bytes\": 72219, \"weight\": 0.324242, \"container\": 1636, \"budget\": 54694},\n"
    "    {\"index\": 1, \"start_pts\": 25600, \"end_pts\": 51200, \"start\": 2.000000, \"end\": 4.000000, \"frames\": 50, \"keyframe\": true, \"source_bytes\": 80767, \"weight\": 0.346752, \"container\": 1636, \"budget\": 58377},\n"
    "    {\"index\": 2, \"start_pts\": 51200, \"end_pts\": 76800, \"start\": 4.000000, \"end\": 6.000000, \"frames\": 50, \"keyframe\": true, \"source_bytes\": 73996, \"weight\": 0.329006, \"container\": 1636, \"budget\": 55473}\n"
    "  ]\n"
    "}\n";
#define OLD_PLAN_AUDIO_PACKETS 101

/* A file of this text in TMPDIR; its path into path (PATH_MAX). */
static void write_temp(char *path, const char *text)
{
    const char *dir = getenv("TMPDIR");
    FILE *f;
    int fd;
    snprintf(path, 4096, "%s/test_chunk_XXXXXX", dir && *dir ? dir : "/tmp");
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(f = fdopen(fd, "w"));
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static ShChunkPlan *read_plan_text(const char *text)
{
    char path[4096];
    ShChunkPlan *p = NULL;
    write_temp(path, text);
    assert_int_equal(sh_chunk_plan_read(&p, path), 0);
    unlink(path);
    return p;
}

/* ---- the plan file ------------------------------------------------------ */

/* The old binary's plan reads with every field where it was. */
static void test_plan_old_file(void **state)
{
    ShChunkPlan *p = read_plan_text(old_plan);
    (void)state;
    assert_string_equal(p->input, "/tmp/chunkwork/clip.mp4");
    assert_int_equal(p->input_size, 285269);
    assert_string_equal(p->input_hash, "1d462452dc5358c9486bda8dae0dcceccff33a6f5ae708f27aaa78a3ff18467e");
    assert_int_equal(p->target_bytes, 200000);
    assert_string_equal(p->encoder, "x264");
    assert_string_equal(p->codec, "h264");
    assert_int_equal(p->speed, SH_SPEED_BALANCED);
    assert_int_equal(p->width, 320);
    assert_int_equal(p->height, 240);
    assert_int_equal(p->display_height, 240);
    assert_int_equal(p->fps.num, 25);
    assert_int_equal(p->fps.den, 1);
    assert_int_equal(p->video_tb.num, 1);
    assert_int_equal(p->video_tb.den, 12800);
    assert_string_equal(p->audio_path, "oldplan.audio.mp4");
    assert_int_equal(p->audio_bitrate, 31500);
    assert_int_equal(p->audio_channels, 1);
    assert_int_equal(p->audio_bytes, 32897);
    assert_int_equal(p->reserve_bytes, 3466);
    assert_true(fabs(p->exponent - 0.6) < 1e-9);
    assert_true(fabs(p->duration - 6.0) < 1e-9);
    assert_int_equal(p->nchunks, 3);
    assert_int_equal(p->chunks[1].start, 25600);
    assert_int_equal(p->chunks[1].end, 51200);
    assert_true(fabs(p->chunks[1].start_s - 2.0) < 1e-9);   /* from the exact timestamps */
    assert_int_equal(p->chunks[2].source_bytes, 73996);
    assert_int_equal(p->chunks[2].budget, 55473);
    assert_int_equal(p->chunks[0].keyframe, 1);
    sh_chunk_plan_free(&p);
    assert_null(p);
}

/* Written and read back: every field the same (a non-UTF-8 path through path_base64). */
static void test_plan_round_trip(void **state)
{
    ShChunkPlan *p = read_plan_text(old_plan), *q = NULL;
    char path[4096];
    (void)state;
    snprintf(p->input, sizeof(p->input), "/films/caf\xe9 \"1\"\\n.mkv");   /* Latin-1, a quote, a backslash */
    p->speed = SH_SPEED_BEST;
    p->trim_start = 1.25;
    p->trim_end = 7.5;
    p->chunks[1].budget = 40000;
    p->chunks[2].keyframe = 0;
    write_temp(path, "");
    assert_int_equal(sh_chunk_plan_write(p, path), 0);
    assert_int_equal(sh_chunk_plan_read(&q, path), 0);
    unlink(path);
    assert_string_equal(q->input, p->input);
    assert_int_equal(q->input_size, p->input_size);
    assert_string_equal(q->input_hash, p->input_hash);
    assert_int_equal(q->target_bytes, p->target_bytes);
    assert_int_equal(q->speed, SH_SPEED_BEST);
    assert_int_equal(q->width, p->width);
    assert_int_equal(q->height, p->height);
    assert_int_equal(q->fps.num, p->fps.num);
    assert_int_equal(q->video_tb.den, p->video_tb.den);
    assert_int_equal(q->video_start, p->video_start);
    assert_true(q->trim_start == 1.25 && q->trim_end == 7.5);
    assert_string_equal(q->audio_path, p->audio_path);
    assert_int_equal(q->audio_bytes, p->audio_bytes);
    assert_int_equal(q->reserve_bytes, p->reserve_bytes);
    assert_int_equal(q->nchunks, p->nchunks);
    for (int k = 0; k < p->nchunks; k++) {
        assert_int_equal(q->chunks[k].start, p->chunks[k].start);
        assert_int_equal(q->chunks[k].end, p->chunks[k].end);
        assert_int_equal(q->chunks[k].frames, p->chunks[k].frames);
        assert_int_equal(q->chunks[k].source_bytes, p->chunks[k].source_bytes);
        assert_int_equal(q->chunks[k].budget, p->chunks[k].budget);
        assert_int_equal(q->chunks[k].keyframe, p->chunks[k].keyframe);
        assert_true(fabs(q->chunks[k].weight - p->chunks[k].weight) < 1e-6);
    }
    assert_int_equal(q->chunks[1].budget, 40000);
    assert_int_equal(q->chunks[2].keyframe, 0);
    sh_chunk_plan_free(&p);
    sh_chunk_plan_free(&q);
}

/* A plan with a field missing, of another version, or chunks that do not follow each other is refused. */
static void test_plan_refused(void **state)
{
    static const struct { const char *from, *to; } edits[] = {
        { "\"shrink_plan\": 1", "\"shrink_plan\": 2" },
        { "\"target\": 200000", "\"target\": 0" },
        { "\"budget\": 58377", "\"budjet\": 58377" },
        { "\"start_pts\": 51200", "\"start_pts\": 51199" },
        { "\"keyframe\": true", "\"keyframe\": 1" },
    };
    (void)state;
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char text[sizeof(old_plan) + 16], path[4096];
        const char *at = strstr(old_plan, edits[i].from);
        ShChunkPlan *p = NULL;
        assert_non_null(at);
        snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - old_plan), old_plan, edits[i].to,
                 at + strlen(edits[i].from));
        write_temp(path, text);
        assert_int_equal(sh_chunk_plan_read(&p, path), AVERROR_INVALIDDATA);
        assert_null(p);
        unlink(path);
    }
}

/* ---- the budget --------------------------------------------------------- */

/* The split of the old binary's plan, recomputed from its chunks, gives its budgets to the byte. */
static void test_split_as_before(void **state)
{
    static const int64_t budget[] = { 54694, 58377, 55473 };
    static const double weight[] = { 0.324242, 0.346752, 0.329006 };
    ShChunkPlan *p = read_plan_text(old_plan);
    (void)state;
    for (int k = 0; k < p->nchunks; k++)
        p->chunks[k].weight = p->chunks[k].budget = 0;
    p->reserve_bytes = 0;
    assert_int_equal(sh_chunk_split_budget(p, OLD_PLAN_AUDIO_PACKETS), 0);
    assert_int_equal(p->reserve_bytes, 3466);
    for (int k = 0; k < p->nchunks; k++) {
        assert_int_equal(p->chunks[k].budget, budget[k]);
        assert_true(fabs(p->chunks[k].weight - weight[k]) < 1e-6);
        assert_int_equal(sh_chunk_out_frames(p, &p->chunks[k]), 51);   /* 2 s at 25 fps, and one */
    }
    sh_chunk_plan_free(&p);
}

/* Weight = seconds x (bytes per second)^0.6: four times the source's bytes, 4^0.6 the share;
 * the budgets never sum past the target. */
static void test_split_by_complexity(void **state)
{
    ShChunkPlan *p = read_plan_text(old_plan);
    int64_t video, sum = 0;
    (void)state;
    p->chunks[0].source_bytes = 100000;
    p->chunks[1].source_bytes = 400000;
    p->chunks[2].source_bytes = 100000;
    p->target_bytes = 1000000;
    assert_int_equal(sh_chunk_split_budget(p, 101), 0);
    assert_true(fabs(p->chunks[1].weight / p->chunks[0].weight - pow(4, 0.6)) < 1e-9);
    assert_true(fabs(p->chunks[0].weight - p->chunks[2].weight) < 1e-12);
    assert_true(fabs(p->chunks[0].weight + p->chunks[1].weight + p->chunks[2].weight - 1) < 1e-12);
    video = p->target_bytes - p->audio_bytes - p->reserve_bytes;
    for (int k = 0; k < p->nchunks; k++) {
        int64_t own = sh_budget_overhead(sh_chunk_out_frames(p, &p->chunks[k]), 0);
        assert_int_equal(p->chunks[k].budget, (int64_t)floor(video * p->chunks[k].weight) + own);
        sum += p->chunks[k].budget - own;
    }
    assert_true(sum <= video && sum > video - p->nchunks);
    assert_true(p->audio_bytes + p->reserve_bytes + sum <= p->target_bytes);
    /* Nothing left for the video: refused. */
    p->target_bytes = p->audio_bytes + 10;
    assert_int_equal(sh_chunk_split_budget(p, 101), SH_ERROR_TARGET_TOO_SMALL);
    sh_chunk_plan_free(&p);
}

/* Only lower budgets, only chunks of the plan; a refused call changes nothing. */
static void test_rebalance(void **state)
{
    ShChunkPlan *p = read_plan_text(old_plan);
    int idx[2];
    int64_t b[2];
    (void)state;
    idx[0] = 1, b[0] = 50000;
    assert_int_equal(sh_chunk_rebalance(p, idx, b, 1), 0);
    assert_int_equal(p->chunks[1].budget, 50000);
    assert_int_equal(p->chunks[0].budget, 54694);
    assert_int_equal(p->chunks[2].budget, 55473);
    idx[0] = 0, b[0] = 50000, idx[1] = 2, b[1] = 60000;      /* the second is higher */
    assert_int_equal(sh_chunk_rebalance(p, idx, b, 2), SH_ERROR_BAD_OPTION);
    assert_int_equal(p->chunks[0].budget, 54694);
    idx[0] = 3, b[0] = 1000;                                  /* no chunk 3 */
    assert_int_equal(sh_chunk_rebalance(p, idx, b, 1), SH_ERROR_BAD_OPTION);
    idx[0] = 0, b[0] = 0;
    assert_int_equal(sh_chunk_rebalance(p, idx, b, 1), SH_ERROR_BAD_OPTION);
    idx[0] = 0, b[0] = 54694;                                 /* the same: allowed */
    assert_int_equal(sh_chunk_rebalance(p, idx, b, 1), 0);
    sh_chunk_plan_free(&p);
}

/* ---- chunk file names --------------------------------------------------- */

static void test_chunk_index(void **state)
{
    (void)state;
    assert_int_equal(sh_chunk_index("chunk_12.mp4"), 12);
    assert_int_equal(sh_chunk_index("out/run2/chunk_007.mp4"), 7);   /* the name's, not the folder's */
    assert_int_equal(sh_chunk_index("part3_of_film.mp4"), 3);
    assert_int_equal(sh_chunk_index("film-4-5"), 5);                 /* the last run */
    assert_int_equal(sh_chunk_index("chunk.mp4"), -1);                /* not the 4 of .mp4 */
    assert_int_equal(sh_chunk_index("run2/chunk.mp4"), -1);
    assert_int_equal(sh_chunk_index("c_1234567.mp4"), -1);           /* more than 6 digits */
}

/* ---- H.264: chunks onto chunk 0's parameter sets ------------------------- */

/* x264 (CQP 24 and 30, 32x32, High, CABAC) via the ffmpeg program, once: the avcC of each, and
 * the qp 30 encode's IDR (x264's SEI left out), 4-byte length prefixed. */
static const uint8_t avcc_qp24[44] = {
    0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x17, 0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x49, 0x6c,
    0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc4, 0x89, 0x65, 0x80, 0x01,
    0x00, 0x06, 0x68, 0xeb, 0xe2, 0xcb, 0x22, 0xc0, 0xfd, 0xf8, 0xf8, 0x00,
};

static const uint8_t avcc_qp30[44] = {
    0x01, 0x64, 0x00, 0x0a, 0xff, 0xe1, 0x00, 0x17, 0x67, 0x64, 0x00, 0x0a, 0xac, 0xd9, 0x49, 0x6c,
    0x04, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40, 0x00, 0x00, 0x0c, 0x83, 0xc4, 0x89, 0x65, 0x80, 0x01,
    0x00, 0x06, 0x68, 0xeb, 0xe1, 0x12, 0xc8, 0xb0, 0xfd, 0xf8, 0xf8, 0x00,
};

static const uint8_t idr_qp30[404] = {
    0x00, 0x00, 0x01, 0x90, 0x65, 0x88, 0x84, 0x00, 0xff, 0xda, 0xe3, 0x97, 0xd3, 0xc4, 0x07, 0x3b,
    0x52, 0xba, 0x88, 0xe9, 0x67, 0x65, 0xe2, 0x8d, 0xa1, 0x11, 0x56, 0xc1, 0x5d, 0x10, 0xcd, 0xca,
    0x56, 0x73, 0x41, 0x83, 0xdb, 0x45, 0x08, 0x58, 0x26, 0x74, 0xa6, 0x32, 0x9a, 0x55, 0x16, 0x2d,
    0xbd, 0xcc, 0xf3, 0x70, 0xf6, 0x98, 0x91, 0x8d, 0x38, 0xa6, 0x35, 0x17, 0xb8, 0xfe, 0x53, 0x19,
    0x3f, 0x46, 0x0c, 0xba, 0x74, 0x9a, 0xd8, 0xd4, 0x8a, 0xcf, 0x53, 0x16, 0x0a, 0xfa, 0x7d, 0x1a,
    0x04, 0x11, 0xaf, 0x9a, 0x00, 0x2a, 0x45, 0xbd, 0x58, 0xf3, 0x0a, 0x16, 0x57, 0x56, 0x07, 0x80,
    0x1b, 0xf7, 0x4c, 0xbe, 0x8f, 0x4f, 0x9c, 0xe7, 0x9e, 0x48, 0x25, 0xa8, 0x15, 0xec, 0x6b, 0xb5,
    0x79, 0xc4, 0x0d, 0x9d, 0x53, 0xc9, 0x58, 0x9d, 0xff, 0x82, 0x54, 0x0b, 0xb8, 0x1c, 0xc5, 0xf7,
    0xf2, 0x46, 0xa8, 0x53, 0xbf, 0xd1, 0x24, 0x58, 0x60, 0x41, 0x2f, 0x69, 0x93, 0x7a, 0xa4, 0x51,
    0x26, 0x17, 0x30, 0xff, 0x51, 0x19, 0x16, 0xbe, 0xcf, 0x8e, 0xc6, 0x2e, 0xe4, 0x18, 0xd6, 0xd6,
    0x25, 0xf9, 0x55, 0x21, 0x29, 0x9b, 0xef, 0x05, 0x49, 0x46, 0xe4, 0x99, 0x7a, 0xfb, 0x95, 0x1f,
    0xb0, 0x3d, 0x56, 0x82, 0xb8, 0xb4, 0xaa, 0xdf, 0x1c, 0x1c, 0xc2, 0x18, 0x1c, 0xad, 0xe1, 0xcc,
    0xae, 0x4a, 0xf0, 0x3a, 0xe4, 0x7a, 0x17, 0x9b, 0xd3, 0x24, 0x2f, 0x7c, 0x68, 0xef, 0xde, 0xfd,
    0x0f, 0xe3, 0x99, 0x93, 0xf7, 0x6b, 0xd1, 0x6f, 0x16, 0x67, 0x75, 0xc2, 0xbf, 0x72, 0x61, 0xe5,
    0xdd, 0xbf, 0xa4, 0x6d, 0x0a, 0xe1, 0xb1, 0xec, 0x9e, 0x3b, 0x93, 0x0d, 0x16, 0xdb, 0x2b, 0xf4,
    0x53, 0x9a, 0x19, 0x09, 0x16, 0xe5, 0x84, 0xb0, 0xf2, 0xfa, 0xd7, 0x38, 0x4a, 0xc1, 0x04, 0x2c,
    0x02, 0x45, 0x69, 0xbd, 0xf7, 0xd7, 0x0d, 0xc2, 0xe2, 0xfc, 0x57, 0x19, 0x73, 0x03, 0x70, 0xaa,
    0xd3, 0x99, 0x6b, 0x30, 0xd7, 0x62, 0x6d, 0x31, 0xdf, 0x84, 0xd4, 0xf8, 0x35, 0x39, 0x8d, 0x16,
    0x4a, 0xaf, 0x55, 0x52, 0x31, 0x0d, 0x0b, 0x54, 0x65, 0x5c, 0xa2, 0xd0, 0x5a, 0xcf, 0x06, 0x81,
    0xb2, 0x05, 0x3b, 0x4b, 0x46, 0x53, 0xb2, 0x8a, 0x82, 0x2e, 0xd4, 0xdb, 0xe6, 0x4f, 0x82, 0x07,
    0x37, 0x45, 0xf1, 0x88, 0xeb, 0x2c, 0x03, 0x48, 0xe8, 0x4d, 0x60, 0xa6, 0xbc, 0x1a, 0x67, 0xea,
    0x91, 0xf9, 0x37, 0xb6, 0xad, 0x0f, 0x30, 0xf2, 0xad, 0x79, 0x19, 0x3d, 0xe8, 0x3a, 0x92, 0xf6,
    0xd6, 0xa6, 0x51, 0x57, 0x44, 0x01, 0xf9, 0x75, 0x48, 0xcc, 0x5d, 0x0c, 0x7f, 0x35, 0xb7, 0x28,
    0x17, 0x44, 0xc8, 0xc7, 0xcb, 0x57, 0xc6, 0xd9, 0x05, 0x0c, 0x08, 0xd5, 0x27, 0x74, 0x26, 0x98,
    0xf9, 0xf1, 0xb0, 0xf6, 0x4f, 0x21, 0xb9, 0xf2, 0x41, 0xb5, 0x2a, 0x49, 0x48, 0x23, 0x2e, 0x64,
    0xb4, 0xee, 0x6b, 0x81,
};


/* Decode one packet under an avcC: the luma plane, 32x32, into y; clean: it must decode without errors. */
static void decode_luma(const uint8_t *avcc, int avcc_size, const uint8_t *data, int size, uint8_t *y, int clean)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int got;
    assert_non_null(dec);
    assert_non_null(pkt);
    assert_non_null(f);
    assert_non_null(dec->extradata = av_mallocz(avcc_size + AV_INPUT_BUFFER_PADDING_SIZE));
    memcpy(dec->extradata, avcc, avcc_size);
    dec->extradata_size = avcc_size;
    dec->thread_count = 1;
    assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
    assert_int_equal(av_new_packet(pkt, size), 0);
    memcpy(pkt->data, data, size);
    pkt->flags |= AV_PKT_FLAG_KEY;
    assert_int_equal(avcodec_send_packet(dec, pkt), 0);
    assert_int_equal(avcodec_send_packet(dec, NULL), 0);
    got = avcodec_receive_frame(dec, f);
    assert_int_equal(got, 0);
    assert_int_equal(f->width, 32);
    assert_int_equal(f->height, 32);
    if (clean)
        assert_int_equal(f->decode_error_flags, 0);
    for (int r = 0; r < 32; r++)
        memcpy(y + 32 * r, f->data[0] + r * f->linesize[0], 32);
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
}

static void test_h264_parse(void **state)
{
    ShH264Params a, b;
    (void)state;
    assert_int_equal(sh_h264_parse_avcc(&a, avcc_qp30, sizeof(avcc_qp30)), 0);
    assert_int_equal(sh_h264_parse_avcc(&b, avcc_qp24, sizeof(avcc_qp24)), 0);
    assert_int_equal(a.nal_length_size, 4);
    assert_int_equal(a.level, 10);
    assert_int_equal(a.chroma_format_idc, 1);
    assert_int_equal(a.frame_mbs_only, 1);
    assert_int_equal(a.cabac, 1);
    assert_int_equal(a.pic_init_qp, 30);
    assert_int_equal(b.pic_init_qp, 24);
    assert_int_equal(a.sps_offset, 8);
    assert_int_equal(a.sps_size, 0x17);
    assert_int_equal(a.pps_size, 6);
    /* Only pic_init_qp differs: either moves onto the other. */
    assert_true(sh_h264_compatible(&b, avcc_qp24, &a, avcc_qp30));
    assert_true(sh_h264_compatible(&a, avcc_qp30, &b, avcc_qp24));
}

/* A PPS that differs beyond pic_init_qp (here: its CABAC flag) is not compatible. */
static void test_h264_incompatible(void **state)
{
    uint8_t other[sizeof(avcc_qp30)];
    ShH264Params a, b;
    (void)state;
    memcpy(other, avcc_qp30, sizeof(other));
    assert_int_equal(sh_h264_parse_avcc(&a, avcc_qp30, sizeof(avcc_qp30)), 0);
    /* The PPS RBSP: pps_id ue(v) '1', sps_id ue(v) '1', then entropy_coding_mode_flag. */
    assert_int_equal(other[a.pps_offset + 1] & 0x20, 0x20);
    other[a.pps_offset + 1] &= (uint8_t)~0x20;
    assert_int_equal(sh_h264_parse_avcc(&b, other, sizeof(other)), 0);
    assert_int_equal(b.cabac, 0);
    assert_false(sh_h264_compatible(&a, avcc_qp30, &b, other));
}

/* level_idc goes into the avcC's header and its SPS, and nowhere else. */
static void test_h264_set_level(void **state)
{
    uint8_t d[sizeof(avcc_qp30)];
    ShH264Params a, b;
    (void)state;
    memcpy(d, avcc_qp30, sizeof(d));
    assert_int_equal(sh_h264_parse_avcc(&a, d, sizeof(d)), 0);
    assert_int_equal(sh_h264_set_level(d, sizeof(d), &a, 31), 0);
    assert_int_equal(d[3], 31);
    assert_int_equal(d[a.sps_offset + 3], 31);
    for (size_t i = 0; i < sizeof(d); i++)
        if (i != 3 && i != (size_t)a.sps_offset + 3)
            assert_int_equal(d[i], avcc_qp30[i]);
    assert_int_equal(sh_h264_parse_avcc(&b, d, sizeof(d)), 0);
    assert_int_equal(b.level, 31);
}

/* The qp 30 IDR, its slice_qp_delta moved by 6, decodes under the qp 24 PPS to exactly the
 * picture it decodes to under its own. */
static void test_h264_rebase(void **state)
{
    uint8_t want[32 * 32], got[32 * 32], wrong[32 * 32];
    ShH264Params a, b;
    AVPacket *pkt = av_packet_alloc();
    (void)state;
    assert_non_null(pkt);
    assert_int_equal(sh_h264_parse_avcc(&a, avcc_qp30, sizeof(avcc_qp30)), 0);
    assert_int_equal(sh_h264_parse_avcc(&b, avcc_qp24, sizeof(avcc_qp24)), 0);
    decode_luma(avcc_qp30, sizeof(avcc_qp30), idr_qp30, sizeof(idr_qp30), want, 1);
    /* Without the rewrite the picture is not the same (CABAC's contexts start from the slice's
     * quantiser: the slice does not even parse): the test can fail. */
    av_log_set_level(AV_LOG_QUIET);
    decode_luma(avcc_qp24, sizeof(avcc_qp24), idr_qp30, sizeof(idr_qp30), wrong, 0);
    av_log_set_level(AV_LOG_INFO);
    assert_memory_not_equal(want, wrong, sizeof(want));

    assert_int_equal(av_new_packet(pkt, sizeof(idr_qp30)), 0);
    memcpy(pkt->data, idr_qp30, sizeof(idr_qp30));
    assert_int_equal(sh_h264_rebase_packet(&a, a.pic_init_qp - b.pic_init_qp, pkt), 0);
    assert_memory_not_equal(pkt->data, idr_qp30, FFMIN(pkt->size, (int)sizeof(idr_qp30)));
    decode_luma(avcc_qp24, sizeof(avcc_qp24), pkt->data, pkt->size, got, 1);
    assert_memory_equal(got, want, sizeof(want));

    /* delta 0: the packet as it was. */
    av_packet_unref(pkt);
    assert_int_equal(av_new_packet(pkt, sizeof(idr_qp30)), 0);
    memcpy(pkt->data, idr_qp30, sizeof(idr_qp30));
    assert_int_equal(sh_h264_rebase_packet(&a, 0, pkt), 0);
    assert_int_equal(pkt->size, (int)sizeof(idr_qp30));
    assert_memory_equal(pkt->data, idr_qp30, sizeof(idr_qp30));
    av_packet_free(&pkt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_old_file),
        cmocka_unit_test(test_plan_round_trip),
        cmocka_unit_test(test_plan_refused),
        cmocka_unit_test(test_split_as_before),
        cmocka_unit_test(test_split_by_complexity),
        cmocka_unit_test(test_rebalance),
        cmocka_unit_test(test_chunk_index),
        cmocka_unit_test(test_h264_parse),
        cmocka_unit_test(test_h264_incompatible),
        cmocka_unit_test(test_h264_set_level),
        cmocka_unit_test(test_h264_rebase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
