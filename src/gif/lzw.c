/*
 * GIF's LZW, with an optional lossy mode.
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The dictionary is a trie: child[code][colour] finds an extension at once,
 * and each code's children are also chained (first_child/next_sibling) so
 * the lossy mode can look at the few extensions that exist rather than all
 * 256 colours. Lossy (the idea of gifsicle's --lossy, written afresh): when
 * the current string cannot be extended by the pixel's colour, take the
 * closest colour that does extend it if it is within max_err. Strings get
 * longer, codes fewer; the error is bounded per pixel and does not spread.
 * Code widths follow giflib's decoder exactly: a code is read with the
 * width in force when the decoder has assigned every code below 2^width.
 */
#include <string.h>

#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "gif/gif.h"

#define LZW_CODES 4096

struct ShGifLzw {
    uint16_t child[LZW_CODES * 256];   /* 0: no such extension */
    uint16_t first_child[LZW_CODES];
    uint16_t next_sibling[LZW_CODES];
    uint16_t parent[LZW_CODES];
    uint8_t colour[LZW_CODES];
    /* the bit writer */
    uint32_t bits;
    int nbits;
    uint8_t block[256];                /* [0] is the length */
    ShGifBuf *out;
    int error;
};

int sh_gif_buf_append(ShGifBuf *b, const void *data, size_t len)
{
    if (b->size + len > b->alloc) {
        size_t n = FFMAX(b->alloc * 2, b->size + len + 4096);
        void *p = av_realloc(b->data, n);
        if (!p)
            return AVERROR(ENOMEM);
        b->data = p;
        b->alloc = n;
    }
    memcpy(b->data + b->size, data, len);
    b->size += len;
    return 0;
}

void sh_gif_buf_free(ShGifBuf *b)
{
    av_freep(&b->data);
    b->size = b->alloc = 0;
}

int sh_gif_lzw_alloc(ShGifLzw **lzw)
{
    /* zeroed: an empty trie */
    *lzw = av_mallocz(sizeof(**lzw));
    return *lzw ? 0 : AVERROR(ENOMEM);
}

void sh_gif_lzw_free(ShGifLzw **lzw)
{
    av_freep(lzw);
}

static void flush_block(ShGifLzw *z)
{
    int ret;
    if (!z->block[0])
        return;
    if ((ret = sh_gif_buf_append(z->out, z->block, z->block[0] + 1)) < 0)
        z->error = ret;
    z->block[0] = 0;
}

static void put_code(ShGifLzw *z, int code, int width)
{
    z->bits |= (uint32_t)code << z->nbits;
    z->nbits += width;
    while (z->nbits >= 8) {
        z->block[++z->block[0]] = z->bits & 0xff;
        z->bits >>= 8;
        z->nbits -= 8;
        if (z->block[0] == 255)
            flush_block(z);
    }
}

/* Forget every string above the roots: only the entries made are undone. */
static void reset_dict(ShGifLzw *z, int first, int next)
{
    for (int c = first; c < next; c++) {
        z->child[z->parent[c] * 256 + z->colour[c]] = 0;
        z->first_child[z->parent[c]] = 0;
        z->first_child[c] = 0;
    }
}

static int colour_dist(const uint8_t *pal, int a, int b)
{
    int dr = pal[3 * a] - pal[3 * b], dg = pal[3 * a + 1] - pal[3 * b + 1], db = pal[3 * a + 2] - pal[3 * b + 2];
    /* green counts most, blue least, roughly as the eye weighs them */
    return (2 * dr * dr + 4 * dg * dg + db * db + 3) / 7 * 3;
}

int sh_gif_lzw_encode(ShGifLzw *z, uint8_t *pix, ptrdiff_t stride, int w, int h, int min_code_size,
                      const uint8_t *palette, int transparent, int max_err, ShGifBuf *out)
{
    const int clear = 1 << min_code_size, eoi = clear + 1, first = clear + 2;
    int next = first, width = min_code_size + 1, cur;

    if (min_code_size < 2 || min_code_size > 8 || w <= 0 || h <= 0)
        return AVERROR(EINVAL);
    z->bits = 0;
    z->nbits = 0;
    z->block[0] = 0;
    z->out = out;
    z->error = 0;

    put_code(z, clear, width);
    cur = pix[0];
    if (cur >= clear)
        return AVERROR(EINVAL);
    for (int y = 0; y < h; y++) {
        uint8_t *row = pix + y * stride;
        for (int x = !y; x < w; x++) {
            int p = row[x], ext;
            if (p >= clear)
                return AVERROR(EINVAL);
            ext = z->child[cur * 256 + p];
            if (!ext && max_err > 0 && p != transparent) {
                int best = max_err + 1;
                for (int c = z->first_child[cur]; c; c = z->next_sibling[c]) {
                    int q = z->colour[c], d;
                    if (q == transparent)
                        continue;
                    d = colour_dist(palette, p, q);
                    if (d < best) {
                        best = d;
                        ext = c;
                    }
                }
                if (ext)
                    row[x] = z->colour[ext];   /* what will be shown */
            }
            if (ext) {
                cur = ext;
                continue;
            }
            put_code(z, cur, width);
            if (next >= (1 << width) && width < 12)
                width++;
            if (next >= LZW_CODES - 1) {
                /* Full: start again, as giflib's own encoder does. */
                put_code(z, clear, width);
                reset_dict(z, first, next);
                next = first;
                width = min_code_size + 1;
            } else {
                z->child[cur * 256 + p] = next;
                z->parent[next] = cur;
                z->colour[next] = p;
                z->first_child[next] = 0;
                z->next_sibling[next] = z->first_child[cur];
                z->first_child[cur] = next;
                next++;
            }
            cur = p;
        }
    }
    put_code(z, cur, width);
    if (next >= (1 << width) && width < 12)
        width++;
    put_code(z, eoi, width);
    if (z->nbits > 0)
        put_code(z, 0, 8 - z->nbits);
    flush_block(z);
    reset_dict(z, first, next);
    return z->error;
}
