/*
 * Names as they are printed. A file name is bytes: it may hold escape
 * sequences, newlines or bytes that are not UTF-8. One writer for JSON (always
 * valid UTF-8 JSON, the exact bytes alongside when they are not UTF-8) and one
 * form for people (never a raw control character on a terminal). Every name
 * and message shrink prints goes through one of them (docs/JSON.md).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#ifndef SH_COMMON_TEXT_H
#define SH_COMMON_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Whether s is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
int sh_utf8_valid(const char *s);

/*
 * s as a JSON string on f ("null" for NULL): '"' and '\' escaped, control
 * characters (below 0x20, and DEL) as \u00XX, and every maximal ill-formed
 * subsequence of UTF-8 replaced by one U+FFFD, as WHATWG's decoder and
 * Python's bytes.decode("utf-8", "replace") do. The result is valid UTF-8.
 */
void sh_json_write_string(FILE *f, const char *s);

/* s's bytes in base64 as a JSON string: the exact name beside a lossy one (when !sh_utf8_valid). */
void sh_json_write_base64(FILE *f, const char *s);

/*
 * s for a person's terminal, into buf: valid UTF-8 as it is, except each byte
 * of a control character (C0, DEL, C1, bidirectional controls, U+2028/9) and
 * each byte that is not UTF-8, which shows as \xHH. The result holds no byte
 * below 0x20 and is valid UTF-8. Cut with "..." when buf is too small.
 * Returns buf ("(null)" for NULL).
 */
const char *sh_display_into(char *buf, size_t len, const char *s);

/*
 * sh_display_into one of 4 rotating static buffers: up to 4 names in one
 * printf, from the main thread only (other threads: sh_display_into).
 */
#define SH_DISPLAY_MAX 6144
const char *sh_display(const char *s);

#endif
