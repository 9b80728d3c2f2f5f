/*
 * Library logging: one sink installed by the caller; FFmpeg's own log is
 * routed through it and kept quiet unless asked.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_LOG_H
#define SH_COMMON_LOG_H

#include "shrink/shrink.h"

#ifdef __GNUC__
#define SH_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SH_PRINTF(a, b)
#endif

void sh_log(ShLogLevel level, const char *file, const char *fmt, ...) SH_PRINTF(3, 4);

/* Route av_log into sh_log (warnings and errors at VERBOSE: libav is chatty). */
void sh_log_install_av_bridge(void);


/*
 * The last error line libav logged on the calling thread, without its
 * "[context @ 0x...]" prefix; "" when none since sh_log_av_error_clear(),
 * or when from is not NULL and the line came from another context than the
 * one named so (e.g. "libx264"). For the cause libav's error codes leave
 * out ("moov atom not found").
 */
const char *sh_log_av_error(const char *from);
void sh_log_av_error_clear(void);

#endif
