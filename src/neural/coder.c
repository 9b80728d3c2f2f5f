/*
 * The learned codec's entropy coding (docs/NEURAL.md). Written here: no
 * Debian library offers a plain adaptive binary range coder, and it is 60
 * lines (the design is LZMA's, Igor Pavlov, public domain).
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <math.h>
#include <string.h>

#include <libavutil/common.h>

#include "neural/coder.h"

#define PROB_BITS 12
#define PROB_ONE (1 << PROB_BITS)
#define ADAPT 5
#define TOP (1u << 24)

void sh_range_enc_init(ShRangeEnc *e, uint8_t *buf, size_t cap)
{
    memset(e, 0, sizeof(*e));
    e->buf = buf;
    e->cap = cap;
    e->range = 0xFFFFFFFFu;
    e->cache_size = 1;
}

static void put_byte(ShRangeEnc *e, uint8_t b)
{
    if (e->buf && e->pos < e->cap)
        e->buf[e->pos] = b;
    e->pos++;
}

static void shift_low(ShRangeEnc *e)
{
    if ((uint32_t)e->low < 0xFF000000u || (e->low >> 32)) {
        uint8_t carry = (uint8_t)(e->low >> 32), temp = e->cache;
        do {
            put_byte(e, (uint8_t)(temp + carry));
            temp = 0xFF;
        } while (--e->cache_size);
        e->cache = (uint8_t)(e->low >> 24);
    }
    e->cache_size++;
    e->low = (e->low & 0x00FFFFFFu) << 8;
}

void sh_range_enc_bit(ShRangeEnc *e, uint16_t *p, int bit)
{
    uint32_t bound = (e->range >> PROB_BITS) * *p;
    if (!bit) {
        e->range = bound;
        *p += (PROB_ONE - *p) >> ADAPT;
    } else {
        e->low += bound;
        e->range -= bound;
        *p -= *p >> ADAPT;
    }
    while (e->range < TOP) {
        e->range <<= 8;
        shift_low(e);
    }
}

size_t sh_range_enc_finish(ShRangeEnc *e)
{
    for (int i = 0; i < 5; i++)
        shift_low(e);
    return e->pos;
}

static uint8_t get_byte(ShRangeDec *d)
{
    return d->pos < d->size ? d->buf[d->pos++] : (d->pos++, 0);
}

void sh_range_dec_init(ShRangeDec *d, const uint8_t *buf, size_t size)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->size = size;
    d->range = 0xFFFFFFFFu;
    for (int i = 0; i < 5; i++)
        d->code = (d->code << 8) | get_byte(d);
}

int sh_range_dec_bit(ShRangeDec *d, uint16_t *p)
{
    uint32_t bound = (d->range >> PROB_BITS) * *p;
    int bit;
    if (d->code < bound) {
        d->range = bound;
        *p += (PROB_ONE - *p) >> ADAPT;
        bit = 0;
    } else {
        d->code -= bound;
        d->range -= bound;
        *p -= *p >> ADAPT;
        bit = 1;
    }
    while (d->range < TOP) {
        d->range <<= 8;
        d->code = (d->code << 8) | get_byte(d);
    }
    return bit;
}

/*
 * Integers: zero or not (in a context of the neighbours already coded),
 * the sign, then the magnitude less one in unary up to UNARY, each place
 * its own probability, and the rest as Exp-Golomb with fixed halves.
 */
#define UNARY 14
#define ZCTX 6

typedef struct IntCtx {
    uint16_t zero[ZCTX], sign, mag[UNARY], half;
    uint16_t slice;           /* a whole slice of zeros */
} IntCtx;

static void ctx_init(IntCtx *c)
{
    uint16_t *p = (uint16_t *)c;
    for (size_t i = 0; i < sizeof(*c) / sizeof(*p); i++)
        p[i] = PROB_ONE / 2;
}

typedef struct Coder {
    int enc;
    ShRangeEnc e;
    ShRangeDec d;
} Coder;

static int code_bit(Coder *c, uint16_t *p, int bit)
{
    if (c->enc) {
        sh_range_enc_bit(&c->e, p, bit);
        return bit;
    }
    return sh_range_dec_bit(&c->d, p);
}

static int code_fixed(Coder *c, int bit)
{
    uint16_t p = PROB_ONE / 2;   /* fresh each time: no adaptation */
    return code_bit(c, &p, bit);
}

static int32_t code_int(Coder *c, IntCtx *x, int zc, int32_t v)
{
    uint32_t a = v < 0 ? (uint32_t)-(int64_t)v : (uint32_t)v;
    int neg, k = 0;
    if (!code_bit(c, &x->zero[zc], a != 0))
        return 0;
    neg = code_bit(c, &x->sign, v < 0);
    a--;
    uint32_t m = 0;
    for (; m < UNARY && code_bit(c, &x->mag[m], a > m); m++)
        ;
    if (m == UNARY) {
        /* Exp-Golomb order 0 of a - UNARY, at most 24 bits (hostile data stops there) */
        uint32_t r = a - UNARY + 1;
        while (k < 24 && code_fixed(c, c->enc ? (r >> (k + 1)) != 0 : 0) )
            k++;
        uint32_t val = 1;
        for (int i = k - 1; i >= 0; i--)
            val = (val << 1) | (uint32_t)code_fixed(c, c->enc ? (r >> i) & 1 : 0);
        m = UNARY + val - 1;
    }
    return neg ? -(int32_t)(m + 1) : (int32_t)(m + 1);
}

static size_t run(const ShNnModel *cm, Coder *c)
{
    ShNnModel *m = (ShNnModel *)cm;   /* written only when decoding */
    int h = m->hidden;
    int sizes[3] = { h * m->levels, h * h, SH_NN_OUT * h }, bsizes[3] = { h, h, SH_NN_OUT };
    for (int l = 0; l < m->levels; l++) {
        ShNnGrid *g = &m->grid[l];
        IntCtx x;
        size_t slice = (size_t)g->gw * g->gh;
        ctx_init(&x);
        for (int t = 0; t < g->gt; t++) {
            float *v = g->v + slice * t;
            int any = 0;
            if (c->enc)
                for (size_t i = 0; i < slice && !any; i++)
                    any = v[i] != 0;
            if (code_bit(c, &x.slice, !any)) {   /* all zero */
                if (!c->enc)
                    memset(v, 0, slice * sizeof(*v));
                continue;
            }
            for (int y = 0; y < g->gh; y++)
                for (int xx = 0; xx < g->gw; xx++) {
                    size_t i = (size_t)y * g->gw + xx;
                    int zc = (xx > 0 && v[i - 1] != 0) + (y > 0 && v[i - g->gw] != 0) +
                             3 * (t > 0 && v[i - slice] != 0);
                    int32_t n = code_int(c, &x, zc, c->enc ? (int32_t)v[i] : 0);
                    if (!c->enc)
                        v[i] = (float)n;
                }
        }
    }
    for (int k = 0; k < 3; k++) {
        IntCtx x;
        ctx_init(&x);
        for (int i = 0; i < sizes[k] + bsizes[k]; i++) {
            float *w = i < sizes[k] ? &m->w[k][i] : &m->b[k][i - sizes[k]];
            int32_t n = c->enc ? (int32_t)lrintf(*w / m->wstep[k]) : 0;
            n = code_int(c, &x, 0, n);
            if (!c->enc)
                *w = n * m->wstep[k];
        }
    }
    return c->enc ? sh_range_enc_finish(&c->e) : c->d.pos;
}

size_t sh_nn_pack(const ShNnModel *m, uint8_t *buf, size_t cap)
{
    Coder c = { .enc = 1 };
    sh_range_enc_init(&c.e, buf, cap);
    return run(m, &c);
}

void sh_nn_unpack(ShNnModel *m, const uint8_t *buf, size_t size)
{
    Coder c = { .enc = 0 };
    sh_range_dec_init(&c.d, buf, size);
    run(m, &c);
}
