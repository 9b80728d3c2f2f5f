/*
 * Unit tests: the rate-correction loop's decisions (src/job/rateloop.h),
 * driven by model encoders whose size for a bitrate is known exactly.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "job/rateloop.h"
#include "shrink/shrink.h"

/* A model encoder: video bytes for a bitrate over the duration. */
typedef int64_t (*Model)(int64_t bitrate, double duration);

#define DUR 60.0
#define TARGET ((int64_t)1000000)
#define FIXED ((int64_t)40000)    /* audio + container, the same in every file */

/* Makes 10% more than asked (x264's usual drift at low rates). */
static int64_t model_linear(int64_t b, double d)
{
    return (int64_t)(b * d / 8 * 1.10);
}

/* Makes 25% less than asked: the first attempt lands well under. */
static int64_t model_shy(int64_t b, double d)
{
    return (int64_t)(b * d / 8 * 0.75);
}

/* A staircase: size moves in steps of 50 kb/s of rate (x264 at low rates). */
static int64_t model_stairs(int64_t b, double d)
{
    int64_t step = 50000;
    return (int64_t)((b / step) * step * d / 8 * 1.05);
}

/* Cannot go under 1.5x the target, whatever the rate (headers, a floor). */
static int64_t model_floor(int64_t b, double d)
{
    int64_t v = (int64_t)(b * d / 8);
    return v < TARGET * 3 / 2 ? TARGET * 3 / 2 : v;
}

/* A still picture: hardly more bytes at any rate, far under the target. */
static int64_t model_still(int64_t b, double d)
{
    (void)d;
    return TARGET / 3 + b / 1000;
}

/* Not monotonic: alternately 8% over and 8% under the line as the rate moves
 * by 5 kb/s, so a secant can jump back and forth. */
static int64_t model_zigzag(int64_t b, double d)
{
    double k = (b / 5000) % 2 ? 1.08 : 0.92;
    return (int64_t)(b * d / 8 * k);
}

typedef struct Run {
    ShRateAttempt a[SH_RATE_MAX_ATTEMPTS];
    int n, best;
    ShRateStop stop;
} Run;

/* What target.c does, with the model in place of the encoder. */
static void run_loop(const ShRateGoal *g, Model m, Run *r)
{
    int64_t b;
    r->n = 0;
    r->stop = SH_RATE_GO;
    assert_int_equal(sh_rate_first(g, &b), 0);
    while (r->stop == SH_RATE_GO) {
        int64_t v;
        assert_true(r->n < SH_RATE_MAX_ATTEMPTS);
        assert_true(b >= 1);
        v = m(b, g->duration);
        r->a[r->n] = (ShRateAttempt){ b, v + FIXED, v };
        r->n++;
        r->stop = sh_rate_next(g, r->a, r->n, &b);
    }
    r->best = sh_rate_best(r->a, r->n, g->target_bytes);
}

static ShRateGoal goal(void)
{
    ShRateGoal g = { .target_bytes = TARGET, .duration = DUR, .fixed_bytes = FIXED, .drift = 1 };
    return g;
}

/* No rate is asked twice: an encode that teaches nothing. */
static void assert_no_repeat(const Run *r)
{
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < i; k++)
            if (r->a[i].bitrate == r->a[k].bitrate)
                fail_msg("attempt %d repeats attempt %d's %lld b/s", i, k, (long long)r->a[i].bitrate);
}

/* The first rate: what the target leaves at 98.5%, over the duration. */
static void test_first(void **state)
{
    ShRateGoal g = goal();
    int64_t b = 0;
    (void)state;
    assert_int_equal(sh_rate_first(&g, &b), 0);
    /* (985000 - 40000) * 8 / 60 */
    assert_int_equal(b, 126000);
    assert_int_equal(b, (int64_t)(((int64_t)(TARGET * SH_RATE_AIM) - FIXED) * 8 / DUR));
    /* A probe that made 1.5x its rate: ask for 1/1.5 of it, aimed at 98%. */
    g.probed = 1;
    g.drift = 1.5;
    assert_int_equal(sh_rate_first(&g, &b), 0);
    assert_int_equal(b, (int64_t)(((int64_t)(TARGET * SH_RATE_AIM_PROBED) - FIXED) * 8 / DUR / 1.5));
    /* A wild drift is believed at most 2x. */
    g.drift = 7;
    assert_int_equal(sh_rate_first(&g, &b), 0);
    assert_int_equal(b, (int64_t)(((int64_t)(TARGET * SH_RATE_AIM_PROBED) - FIXED) * 8 / DUR / 2.0));
    /* The encoder's largest caps it. */
    g.probed = 0;
    g.max_bitrate = 50000;
    assert_int_equal(sh_rate_first(&g, &b), 0);
    assert_int_equal(b, 50000);
    /* Audio and container take it all: too small. */
    g.fixed_bytes = TARGET;
    b = -1;
    assert_int_equal(sh_rate_first(&g, &b), SH_ERROR_TARGET_TOO_SMALL);
    assert_int_equal(b, -1);
}

/* The best is the largest at or under the target, the first of equals. */
static void test_best(void **state)
{
    ShRateAttempt a[] = {
        { 100, TARGET + 1, 0 }, { 90, TARGET - 500, 0 }, { 95, TARGET - 100, 0 }, { 96, TARGET - 100, 0 },
    };
    (void)state;
    assert_int_equal(sh_rate_best(a, 1, TARGET), -1);
    assert_int_equal(sh_rate_best(a, 2, TARGET), 1);
    assert_int_equal(sh_rate_best(a, 4, TARGET), 2);
    assert_int_equal(sh_rate_best(a, 4, TARGET + 1), 0);
}

/* The bracketing step: secant, bisection near an end, too narrow. */
static void test_bracket(void **state)
{
    ShRateAttempt sec[] = { { 100000, 0, 700000 }, { 140000, 0, 1100000 } };
    ShRateAttempt near[] = { { 100000, 0, 700000 }, { 140000, 0, 1100000 } };
    ShRateAttempt narrow[] = { { 100000, 0, 700000 }, { 100300, 0, 1100000 } };
    ShRateAttempt one[] = { { 100000, 0, 500000 } };
    (void)state;
    /* 900000 is half way in bytes: half way in rate. */
    assert_int_equal(sh_rate_bracket(sec, 2, 900000), 120000);
    /* 710000 is 2.5% of the way: the secant would land next to lo, bisect. */
    assert_int_equal(sh_rate_bracket(near, 2, 710000), 120000);
    /* A bracket 0.3% wide is not worth an encode. */
    assert_int_equal(sh_rate_bracket(narrow, 2, 900000), 0);
    /* One side: proportional, at most 3x up ... */
    assert_int_equal(sh_rate_bracket(one, 1, 600000), 120000);
    assert_int_equal(sh_rate_bracket(one, 1, 5000000), 300000);
    /* ... and at most halved down. */
    assert_int_equal(sh_rate_bracket(one, 1, 100000), 50000);
}

/* A drifting encoder over the target at first: corrected into the band,
 * the over-target file never chosen. */
static void test_converges_from_over(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_linear, &r);
    assert_true(r.a[0].bytes > TARGET);            /* the first is over */
    assert_int_equal(r.stop, SH_RATE_ACCEPTED);
    assert_in_range(r.n, 2, 3);
    assert_true(r.best > 0);
    assert_true(r.a[r.best].bytes <= TARGET);
    assert_true(r.a[r.best].bytes >= TARGET * SH_RATE_ACCEPT_LOW);
    assert_no_repeat(&r);
}

/* Under at first: stepped up into the band. */
static void test_converges_from_under(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_shy, &r);
    assert_true(r.a[0].bytes < TARGET * SH_RATE_ACCEPT_LOW);
    assert_int_equal(r.stop, SH_RATE_ACCEPTED);
    assert_in_range(r.n, 2, 3);
    assert_true(r.a[r.best].bytes <= TARGET && r.a[r.best].bytes >= TARGET * SH_RATE_ACCEPT_LOW);
    /* The second attempt asks for 1/0.75 of the first, aimed at 98.5% */
    /* The second asks for what the first's bytes say lands at 98.5%: 126000 * 945000 / 708750 */
    assert_int_equal(r.a[0].video_bytes, 708750);
    assert_in_range(r.a[1].bitrate, 167999, 168001);
}

/* A staircase: 126 kb/s lands on the 100 kb/s step (under the band),
 * 151.2 kb/s on the 150 kb/s one (over), the secant's 136 kb/s on the
 * first step again: a cliff, nothing between, stop with the first. Never
 * over, never the same rate twice. */
static void test_staircase(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_stairs, &r);
    assert_int_equal(r.stop, SH_RATE_CLIFF);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.a[1].bitrate, 151200);
    assert_int_equal(r.a[2].bitrate, 136080);
    assert_int_equal(r.best, 0);
    assert_no_repeat(&r);
    assert_true(r.best >= 0);
    assert_true(r.a[r.best].bytes <= TARGET);
    for (int i = 0; i < r.n; i++)
        if (i != r.best && r.a[i].bytes <= TARGET)
            assert_true(r.a[i].bytes <= r.a[r.best].bytes);
}

/* An encoder with a size floor over the target: every attempt over, the
 * rate halves at most per step and stays >= 1 b/s, no best, and the loop
 * stops by itself as soon as a much lower rate made as many bytes (the job
 * then tries a smaller picture, then the floor encode). */
static void test_floor(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_floor, &r);
    assert_int_equal(r.best, -1);
    assert_int_equal(r.stop, SH_RATE_FLOORED);
    assert_int_equal(r.n, 2);
    assert_true(r.n <= SH_RATE_MAX_ATTEMPTS);
    for (int i = 1; i < r.n; i++) {
        assert_true(r.a[i].bitrate < r.a[i - 1].bitrate);
        assert_true(r.a[i].bitrate * 2 + 1 >= r.a[i - 1].bitrate);   /* halved at most (truncated) */
        assert_true(r.a[i].bitrate >= 1);
    }
    assert_no_repeat(&r);
}

/* A film in a few KB: rates of a few b/s are asked, never 0. */
static void test_tiny_rates(void **state)
{
    ShRateGoal g = { .target_bytes = 3000, .duration = 3600, .fixed_bytes = 1500, .drift = 1 };
    ShRateAttempt a[1];
    int64_t b = 0;
    (void)state;
    assert_int_equal(sh_rate_first(&g, &b), 0);
    assert_int_equal(b, 3);   /* (2955 - 1500) * 8 / 3600 */
    a[0] = (ShRateAttempt){ b, 1500 + 60000, 60000 };   /* a 40x overshoot */
    assert_int_equal(sh_rate_next(&g, a, 1, &b), SH_RATE_GO);
    assert_true(b >= 1 && b < 3);
}

/* A still picture: more rate buys nothing, the loop stops after the
 * second attempt (saturated) with the best under the target. (With exactly
 * the same bytes it is a cliff, which stops it as well.) */
static void test_saturated(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_still, &r);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.stop, SH_RATE_SATURATED);
    /* one-sided, proportional: 126000 * 945000 / 333459 */
    assert_int_equal(r.a[0].video_bytes, 333459);
    assert_in_range(r.a[1].bitrate, 357075, 357077);
    assert_int_equal(r.best, 1);   /* the larger, both under */
}

/* Under the target at the encoder's largest rate: stop, keep it. */
static void test_encoder_max(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    g.max_bitrate = 60000;
    run_loop(&g, model_linear, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.stop, SH_RATE_ENCODER_MAX);
    assert_int_equal(r.a[0].bitrate, 60000);
    assert_int_equal(r.best, 0);
}

/* Sizes that zigzag around the line: no rate twice, ends within the
 * attempts allowed, the best never over. */
static void test_oscillation(void **state)
{
    ShRateGoal g = goal();
    Run r;
    (void)state;
    run_loop(&g, model_zigzag, &r);
    assert_true(r.n <= SH_RATE_MAX_ATTEMPTS);
    assert_no_repeat(&r);
    if (r.best >= 0)
        assert_true(r.a[r.best].bytes <= TARGET);
    /* Once bracketed, each new rate is strictly inside the bracket so far. */
    for (int i = 2; i < r.n; i++) {
        int64_t lo = 0, hi = INT64_MAX;
        int64_t goal_v = (int64_t)(TARGET * SH_RATE_AIM) - FIXED;
        for (int k = 0; k < i; k++) {
            if (r.a[k].video_bytes <= goal_v && r.a[k].bitrate > lo)
                lo = r.a[k].bitrate;
            if (r.a[k].video_bytes > goal_v && r.a[k].bitrate < hi)
                hi = r.a[k].bitrate;
        }
        if (lo && hi != INT64_MAX)
            assert_true(r.a[i].bitrate > lo && r.a[i].bitrate < hi);
    }
}

/* Six attempts at most, whatever happens: an encoder that never lands in the band. */
static void test_exhausted(void **state)
{
    ShRateGoal g = goal();
    ShRateAttempt a[SH_RATE_MAX_ATTEMPTS];
    int64_t b = 0;
    (void)state;
    for (int i = 0; i < SH_RATE_MAX_ATTEMPTS; i++)
        a[i] = (ShRateAttempt){ 100000 + i * 7919, TARGET / 2 + i * 10, TARGET / 2 - FIXED + i * 10 };
    assert_int_equal(sh_rate_next(&g, a, SH_RATE_MAX_ATTEMPTS, &b), SH_RATE_EXHAUSTED);
}

/* The container and audio leave no room for video: stop. */
static void test_no_room(void **state)
{
    ShRateGoal g = goal();
    ShRateAttempt a[1] = { { 100000, TARGET + 100, 10 } };
    int64_t b = 0;
    (void)state;
    assert_int_equal(sh_rate_next(&g, a, 1, &b), SH_RATE_NO_ROOM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first),
        cmocka_unit_test(test_best),
        cmocka_unit_test(test_bracket),
        cmocka_unit_test(test_converges_from_over),
        cmocka_unit_test(test_converges_from_under),
        cmocka_unit_test(test_staircase),
        cmocka_unit_test(test_floor),
        cmocka_unit_test(test_tiny_rates),
        cmocka_unit_test(test_saturated),
        cmocka_unit_test(test_encoder_max),
        cmocka_unit_test(test_oscillation),
        cmocka_unit_test(test_exhausted),
        cmocka_unit_test(test_no_room),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
