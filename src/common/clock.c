/*
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <time.h>

#include "common/clock.h"

double sh_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}
