/*
 * Unit tests: the input's crop (src/input/crop.c): a rectangle given as
 * displayed becomes the right pixels off each side of the coded picture at
 * every rotation, and back; rounding to even; refusals.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "input/stream.h"

/* A 320x240 coded picture shown turned by rot: the fields crop.c reads. */
static void setup(ShInput *in, int rot)
{
    memset(in, 0, sizeof(*in));
    in->info.path = "unit";
    in->info.width = in->info.full_width = 320;
    in->info.height = in->info.full_height = 240;
    in->info.rotation = rot;
}

static void expect_sides(const ShInput *in, int l, int t, int r, int b)
{
    assert_int_equal(in->crop_l, l);
    assert_int_equal(in->crop_t, t);
    assert_int_equal(in->crop_r, r);
    assert_int_equal(in->crop_b, b);
    assert_int_equal(in->info.width, 320 - l - r);
    assert_int_equal(in->info.height, 240 - t - b);
}

/* Displayed: 10 off the left, 20 off the top, 30 off the right, 40 off the bottom. */
static void test_rotations(void **state)
{
    ShInput in;
    ShCrop back;
    (void)state;
    /* as shown 320x240: x 10..289, y 20..199 */
    setup(&in, 0);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 280, 180, 10, 20 }), 0);
    expect_sides(&in, 10, 20, 30, 40);
    /* 180: the coded picture's left is the shown right */
    setup(&in, 180);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 280, 180, 10, 20 }), 0);
    expect_sides(&in, 30, 40, 10, 20);
    /* 90 clockwise, shown 240x320: the coded top is the shown right, the coded left the shown top */
    setup(&in, 90);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 200, 260, 10, 20 }), 0);
    /* shown: left 10, top 20, right 240-10-200 = 30, bottom 320-20-260 = 40 */
    expect_sides(&in, 20, 30, 40, 10);
    sh_input_crop_from_coded(&in.info, in.crop_l, in.crop_t, in.crop_r, in.crop_b, &back);
    assert_int_equal(back.width, 200);
    assert_int_equal(back.height, 260);
    assert_int_equal(back.x, 10);
    assert_int_equal(back.y, 20);
    /* 270: the coded top is the shown left, the coded left the shown bottom */
    setup(&in, 270);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 200, 260, 10, 20 }), 0);
    expect_sides(&in, 40, 10, 20, 30);
    sh_input_crop_from_coded(&in.info, in.crop_l, in.crop_t, in.crop_r, in.crop_b, &back);
    assert_int_equal(back.width, 200);
    assert_int_equal(back.height, 260);
    assert_int_equal(back.x, 10);
    assert_int_equal(back.y, 20);
}

static void test_even_and_refusals(void **state)
{
    ShInput in;
    (void)state;
    setup(&in, 0);
    /* odd offsets and sizes round down to even (4:2:0 chroma) */
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 101, 51, 11, 7 }), 0);
    assert_int_equal(in.info.crop.width, 100);
    assert_int_equal(in.info.crop.height, 50);
    assert_int_equal(in.info.crop.x, 10);
    assert_int_equal(in.info.crop.y, 6);
    /* the whole picture is no crop */
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 320, 240, 0, 0 }), 0);
    assert_int_equal(in.info.crop.width, 0);
    assert_int_equal(in.info.width, 320);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 321, 240, 0, 0 }), SH_ERROR_BAD_OPTION);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 100, 100, 221, 0 }), SH_ERROR_BAD_OPTION);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 1, 100, 0, 0 }), SH_ERROR_BAD_OPTION);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 100, -2, 0, 0 }), SH_ERROR_BAD_OPTION);
    /* a refusal leaves the picture whole */
    assert_int_equal(in.info.width, 320);
    assert_int_equal(in.info.height, 240);
    /* 240 wide as shown when turned: 241 is outside */
    setup(&in, 90);
    assert_int_equal(sh_input_set_crop(&in, &(ShCrop){ 242, 100, 0, 0 }), SH_ERROR_BAD_OPTION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotations),
        cmocka_unit_test(test_even_and_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
