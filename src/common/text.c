/*
 * Names as they are printed: JSON strings and the display form (text.h).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include <libavutil/base64.h>
#include <libavutil/mem.h>

#include "common/text.h"

/*
 * The UTF-8 sequence at p: its length (1-4) with *cp, or minus the length of
 * its maximal ill-formed subpart (Unicode 15, 3.9, D93b): the bytes one U+FFFD
 * stands for. The bounds per lead byte rule out overlong forms (E0 80..9F,
 * F0 80..8F), surrogates (ED A0..BF) and code points past U+10FFFF (F4 90..).
 * Stops at the terminating NUL, which is never a continuation byte.
 */
static int utf8_seq(const unsigned char *p, uint32_t *cp)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    uint32_t v;
    int n;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        v = c & 0x0F;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        v = c & 0x07;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return -1;
    }
    for (int i = 1; i < n; i++) {
        if (p[i] < lo || p[i] > hi)
            return -i;
        v = v << 6 | (p[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return n;
}

int sh_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    int n;
    if (!s)
        return 1;
    for (; *p; p += n)
        if ((n = utf8_seq(p, &cp)) < 0)
            return 0;
    return 1;
}

void sh_json_write_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    int n;

    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (; *p; p += n) {
        if ((n = utf8_seq(p, &cp)) < 0) {
            n = -n;
            fputs("\xEF\xBF\xBD", f);       /* U+FFFD */
        } else if (cp == '"' || cp == '\\') {
            fprintf(f, "\\%c", (int)cp);
        } else if (cp < 0x20 || cp == 0x7f) {
            fprintf(f, "\\u%04x", (unsigned)cp);
        } else {
            fwrite(p, 1, n, f);
        }
    }
    fputc('"', f);
}

void sh_json_write_base64(FILE *f, const char *s)
{
    size_t n = strlen(s);
    char *b64 = av_malloc(AV_BASE64_SIZE(n));
    if (!b64 || !av_base64_encode(b64, AV_BASE64_SIZE(n), (const uint8_t *)s, n))
        fputs("null", f);   /* out of memory: the lossy name is still there */
    else
        fprintf(f, "\"%s\"", b64);
    av_free(b64);
}

/* Code points that move or hide text on a terminal: C1 controls, bidirectional controls, line separators. */
static int hides_text(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The piece of s at p shown: its length in s (*n) and on screen (returned). */
static size_t display_piece(const unsigned char *p, int *n, int *escape)
{
    uint32_t cp;
    int bad = (*n = utf8_seq(p, &cp)) < 0;
    if (bad)
        *n = -*n;
    *escape = bad || cp < 0x20 || cp == 0x7f || hides_text(cp);
    return *escape ? 4 * (size_t)*n : (size_t)*n;
}

const char *sh_display_into(char *buf, size_t len, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "(null)");
    size_t o = 0, total = 0;
    int n, escape;

    if (len < 4) {          /* no room for "...": nothing */
        if (len)
            buf[0] = 0;
        return buf;
    }
    for (const unsigned char *q = p; *q; q += n)
        total += display_piece(q, &n, &escape);
    for (; *p; p += n) {
        size_t w = display_piece(p, &n, &escape);
        /* Cut: keep room for "..." and the NUL (so o + 4 <= len always holds). */
        if (total >= len && o + w + 4 > len) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (escape) {
            for (int i = 0; i < n; i++)
                o += snprintf(buf + o, len - o, "\\x%02x", p[i]);
        } else {
            memcpy(buf + o, p, n);
            o += n;
        }
    }
    buf[o] = 0;
    return buf;
}

const char *sh_display(const char *s)
{
    /* Not _Thread_local: static TLS is set aside in every thread's stack, libraries' threads
     * included, and 24 KB there is too much to ask. The CLI prints from its main thread. */
    static char ring[4][SH_DISPLAY_MAX];
    static unsigned next;
    return sh_display_into(ring[next++ % 4], SH_DISPLAY_MAX, s);
}
