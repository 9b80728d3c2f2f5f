/*
 * The monotonic clock, in seconds: for durations, never for dates.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_CLOCK_H
#define SH_COMMON_CLOCK_H

double sh_now(void);

#endif
