/*
 * Unit tests: the packet spool (src/input/spool.h), in memory and spilled.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libavcodec/packet.h>
#include <libavutil/error.h>

#include "input/spool.h"

/* Packet i: size 1 + (i * 37) % 300, bytes from i, timestamps from i. */
static int make_packet(AVPacket *pkt, int i)
{
    int size = 1 + (i * 37) % 300, ret;
    if ((ret = av_new_packet(pkt, size)) < 0)
        return ret;
    for (int k = 0; k < size; k++)
        pkt->data[k] = (uint8_t)(i * 7 + k);
    pkt->pts = 1000 + i * 960;
    pkt->dts = pkt->pts - 312;
    pkt->duration = 960;
    pkt->flags = i % 5 ? 0 : AV_PKT_FLAG_KEY;
    return 0;
}

/* Put n packets, read them back twice, compare everything. */
static void round_trip(size_t mem_limit, int n)
{
    ShPacketSpool *s = NULL;
    AVPacket *pkt = av_packet_alloc(), *want = av_packet_alloc();
    int64_t bytes = 0;
    assert_non_null(pkt);
    assert_int_equal(sh_spool_open(&s, mem_limit), 0);
    for (int i = 0; i < n; i++) {
        assert_int_equal(make_packet(pkt, i), 0);
        bytes += pkt->size;
        assert_int_equal(sh_spool_put(s, pkt), 0);
        av_packet_unref(pkt);
    }
    assert_int_equal(sh_spool_count(s), n);
    assert_int_equal(sh_spool_bytes(s), bytes);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(sh_spool_rewind(s), 0);
        for (int i = 0; i < n; i++) {
            int64_t pts, dts, dur;
            int flags, size;
            assert_int_equal(sh_spool_info(s, i, &pts, &dts, &dur, &flags, &size), 0);
            assert_int_equal(sh_spool_get(s, pkt), 0);
            assert_int_equal(make_packet(want, i), 0);
            assert_int_equal(pkt->size, want->size);
            assert_int_equal(size, want->size);
            assert_memory_equal(pkt->data, want->data, want->size);
            assert_int_equal(pkt->pts, want->pts);
            assert_int_equal(pts, want->pts);
            assert_int_equal(pkt->dts, want->dts);
            assert_int_equal(dts, want->dts);
            assert_int_equal(pkt->duration, 960);
            assert_int_equal(dur, 960);
            assert_int_equal(pkt->flags, want->flags);
            assert_int_equal(flags, want->flags);
            av_packet_unref(pkt);
            av_packet_unref(want);
        }
        assert_int_equal(sh_spool_get(s, pkt), AVERROR_EOF);
    }
    assert_int_equal(sh_spool_info(s, n, NULL, NULL, NULL, NULL, NULL), AVERROR(EINVAL));
    sh_spool_free(&s);
    assert_null(s);
    sh_spool_free(&s);   /* NULL is fine */
    av_packet_free(&pkt);
    av_packet_free(&want);
}

static void test_in_memory(void **state)  { (void)state; round_trip(SIZE_MAX, 500); }
/* Past 4 KiB the packets go to the unnamed temporary file. */
static void test_spilled(void **state)    { (void)state; round_trip(4096, 500); }
static void test_all_on_disk(void **state) { (void)state; round_trip(0, 200); }
static void test_empty(void **state)      { (void)state; round_trip(0, 0); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_memory),
        cmocka_unit_test(test_spilled),
        cmocka_unit_test(test_all_on_disk),
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
