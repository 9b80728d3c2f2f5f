/*
 * shrink: byte sizes with units.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SHRINK_SIZE_H
#define SHRINK_SIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse a size such as "50MB", "1.44mb", "8MiB", "500k", "4096" into bytes.
 * Units are case-insensitive: B; k, KB (1000); KiB (1024); M, MB (1000^2);
 * MiB (1024^2); G, GB (1000^3); GiB (1024^3). A bare number is bytes.
 * Fractions are allowed; the result is rounded down (a size is a ceiling).
 * One space may separate the number and the unit.
 * Returns 0, AVERROR(EINVAL) for malformed or non-positive input, or
 * AVERROR(ERANGE) when the value does not fit in int64_t.
 */
int sh_size_parse(const char *str, int64_t *bytes);

/* Human-readable decimal size, e.g. "49.87 MB", "812 B". Returns buf. */
char *sh_size_format(char *buf, size_t len, int64_t bytes);

#endif /* SHRINK_SIZE_H */
