/*
 * The plan file's JSON reader. Strict on purpose: a plan is written by shrink
 * and edited rarely, so anything unexpected is an error with its offset, not
 * a guess.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavutil/base64.h>
#include <libavutil/error.h>
#include <libavutil/mem.h>

#include "chunk/json.h"

#define SH_JSON_MAX_DEPTH 16

typedef struct Parser {
    const char *p, *start;
    int depth;
} Parser;

static void skip_ws(Parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
        ps->p++;
}

static void value_clear(ShJson *v)
{
    av_freep(&v->s);
    for (int i = 0; i < v->n; i++) {
        value_clear(&v->items[i]);
        if (v->keys)
            av_freep(&v->keys[i]);
    }
    av_freep(&v->items);
    av_freep(&v->keys);
    v->n = 0;
}

static int parse_value(Parser *ps, ShJson *v);

static int parse_string(Parser *ps, char **out)
{
    const char *q = ps->p + 1;
    size_t n = 0;
    char *s;
    /* First pass: the length, and that it ends. */
    for (const char *r = q; *r != '"'; r++, n++) {
        if (!*r || (unsigned char)*r < 0x20)
            return AVERROR_INVALIDDATA;
        if (*r == '\\' && !*++r)
            return AVERROR_INVALIDDATA;
    }
    if (!(s = av_malloc(n + 1)))
        return AVERROR(ENOMEM);
    n = 0;
    while (*q != '"') {
        char c = *q++;
        if (c == '\\') {
            c = *q++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                /* Only what our writer makes: control characters, \u00XX. */
                char hex[5] = { 0 };
                char *end;
                long u;
                memcpy(hex, q, 4);
                u = strtol(hex, &end, 16);
                if (strlen(hex) != 4 || *end || u < 1 || u > 0x7f) {
                    av_free(s);
                    return AVERROR_INVALIDDATA;
                }
                c = (char)u;
                q += 4;
                break;
            }
            default:
                av_free(s);
                return AVERROR_INVALIDDATA;
            }
        }
        s[n++] = c;
    }
    s[n] = 0;
    ps->p = q + 1;
    *out = s;
    return 0;
}

static int parse_number(Parser *ps, ShJson *v)
{
    const char *q = ps->p;
    char *end;
    int frac = 0;
    if (*q == '-')
        q++;
    if (!(*q >= '0' && *q <= '9') || (*q == '0' && q[1] >= '0' && q[1] <= '9'))
        return AVERROR_INVALIDDATA;
    while (*q >= '0' && *q <= '9')
        q++;
    if (*q == '.' || *q == 'e' || *q == 'E')
        frac = 1;
    errno = 0;
    v->type = SH_JSON_NUMBER;
    v->d = strtod(ps->p, &end);
    if (end == ps->p || errno)
        return AVERROR_INVALIDDATA;
    if (!frac) {
        errno = 0;
        v->i = strtoll(ps->p, NULL, 10);
        if (errno)
            return AVERROR_INVALIDDATA;
        v->is_int = 1;
    }
    ps->p = end;
    return 0;
}

static int grow_members(ShJson *v, int with_keys)
{
    if (v->n == v->alloc) {
        int want = v->alloc ? v->alloc * 2 : 8;
        ShJson *items = av_realloc_array(v->items, want, sizeof(*items));
        if (!items)
            return AVERROR(ENOMEM);
        v->items = items;
        if (with_keys) {
            char **keys = av_realloc_array(v->keys, want, sizeof(*keys));
            if (!keys)
                return AVERROR(ENOMEM);
            v->keys = keys;
        }
        v->alloc = want;
    }
    memset(&v->items[v->n], 0, sizeof(v->items[0]));
    if (with_keys)
        v->keys[v->n] = NULL;
    return 0;
}

static int parse_container(Parser *ps, ShJson *v, int object)
{
    char close = object ? '}' : ']';
    int ret;
    if (++ps->depth > SH_JSON_MAX_DEPTH)
        return AVERROR_INVALIDDATA;
    v->type = object ? SH_JSON_OBJECT : SH_JSON_ARRAY;
    ps->p++;
    skip_ws(ps);
    if (*ps->p == close) {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        if ((ret = grow_members(v, object)) < 0)
            return ret;
        if (object) {
            skip_ws(ps);
            if (*ps->p != '"')
                return AVERROR_INVALIDDATA;
            if ((ret = parse_string(ps, &v->keys[v->n])) < 0)
                return ret;
            skip_ws(ps);
            if (*ps->p++ != ':') {
                v->n++;
                return AVERROR_INVALIDDATA;
            }
        }
        ret = parse_value(ps, &v->items[v->n]);
        v->n++;
        if (ret < 0)
            return ret;
        skip_ws(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p != close)
            return AVERROR_INVALIDDATA;
        ps->p++;
        ps->depth--;
        return 0;
    }
}

static int parse_value(Parser *ps, ShJson *v)
{
    skip_ws(ps);
    switch (*ps->p) {
    case '{': return parse_container(ps, v, 1);
    case '[': return parse_container(ps, v, 0);
    case '"':
        v->type = SH_JSON_STRING;
        return parse_string(ps, &v->s);
    case 't':
    case 'f':
    case 'n': {
        static const struct { const char *word; ShJsonType type; int b; } words[] = {
            { "true", SH_JSON_BOOL, 1 }, { "false", SH_JSON_BOOL, 0 }, { "null", SH_JSON_NULL, 0 },
        };
        for (int i = 0; i < 3; i++)
            if (!strncmp(ps->p, words[i].word, strlen(words[i].word))) {
                v->type = words[i].type;
                v->boolean = words[i].b;
                ps->p += strlen(words[i].word);
                return 0;
            }
        return AVERROR_INVALIDDATA;
    }
    default:
        return parse_number(ps, v);
    }
}

int sh_json_parse(ShJson **root, const char *text, size_t *where)
{
    Parser ps = { .p = text, .start = text };
    ShJson *v = av_mallocz(sizeof(*v));
    int ret;
    if (!v)
        return AVERROR(ENOMEM);
    ret = parse_value(&ps, v);
    if (ret >= 0) {
        skip_ws(&ps);
        if (*ps.p)
            ret = AVERROR_INVALIDDATA;   /* trailing garbage */
    }
    if (where)
        *where = (size_t)(ps.p - ps.start);
    if (ret < 0) {
        sh_json_free(&v);
        return ret;
    }
    *root = v;
    return 0;
}

void sh_json_free(ShJson **root)
{
    if (!*root)
        return;
    value_clear(*root);
    av_freep(root);
}

const ShJson *sh_json_get(const ShJson *obj, const char *key)
{
    if (!obj || obj->type != SH_JSON_OBJECT)
        return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key))
            return &obj->items[i];
    return NULL;
}

int sh_json_int(const ShJson *obj, const char *key, int64_t *out)
{
    const ShJson *v = sh_json_get(obj, key);
    if (!v || v->type != SH_JSON_NUMBER || !v->is_int)
        return AVERROR_INVALIDDATA;
    *out = v->i;
    return 0;
}

int sh_json_num(const ShJson *obj, const char *key, double *out)
{
    const ShJson *v = sh_json_get(obj, key);
    if (!v || v->type != SH_JSON_NUMBER)
        return AVERROR_INVALIDDATA;
    *out = v->d;
    return 0;
}

int sh_json_str(const ShJson *obj, const char *key, char *out, size_t len)
{
    const ShJson *v = sh_json_get(obj, key);
    if (!v || v->type != SH_JSON_STRING || strlen(v->s) >= len)
        return AVERROR_INVALIDDATA;
    strcpy(out, v->s);
    return 0;
}

int sh_json_path(const ShJson *obj, const char *key, char *out, size_t len)
{
    char raw_key[64];
    const ShJson *raw;
    int n;

    snprintf(raw_key, sizeof(raw_key), "%s_base64", key);
    if (!(raw = sh_json_get(obj, raw_key)) || raw->type == SH_JSON_NULL)
        return sh_json_str(obj, key, out, len);
    /* The exact bytes of a name that is not UTF-8 (the string beside it has U+FFFD for them). */
    if (raw->type != SH_JSON_STRING || AV_BASE64_DECODE_SIZE(strlen(raw->s)) >= len ||
        (n = av_base64_decode((uint8_t *)out, raw->s, (int)len - 1)) < 0 || memchr(out, 0, n))
        return AVERROR_INVALIDDATA;
    out[n] = 0;
    return 0;
}
