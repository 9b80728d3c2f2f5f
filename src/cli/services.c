/*
 * The services --for knows, as data: the built-in table (checked on
 * PRESETS_CHECKED), then the installed file (SH_DATADIR/shrink/services),
 * the user's ($XDG_CONFIG_HOME/shrink/services, else
 * ~/.config/shrink/services) and --services FILE, each later one adding
 * services and replacing earlier ones of the same name. The format is
 * docs/SERVICES.md's: one service a line, `name | bytes | label | basis |
 * checked`. A file is refused whole at its first bad line, named with the
 * line ("shrink: FILE:LINE: error: reason", exit 2): a limit that is
 * silently dropped or misread is an upload that fails later.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavutil/mem.h>

#include "cli/cli.h"
#include "shrink/size.h"

#ifndef SH_DATADIR
#define SH_DATADIR "/usr/local/share"
#endif

/*
 * Upload limits, checked on PRESETS_CHECKED against what the services and
 * the usual references commonly document. Where a service may count in
 * binary units (MiB) or count encoded bytes, the byte count takes the
 * smaller reading, so the file passes either way. Keep this list short: a
 * preset is a promise that the file will go through. data/services, which
 * `make install` installs, says the same (tests/cli/test_show.sh checks).
 */
static const Preset builtin[] = {
    { "discord",  10000000,   "10 MB",
      "free accounts' upload limit; 10 MB read as decimal is under 10 MiB too", PRESETS_CHECKED },
    { "email",    18000000,   "25 MB",
      "Gmail's 25 MB counts the message after base64 (x4/3, plus line breaks): 18 MB encodes "
      "to about 24.7 MB; Outlook.com's 20 MB needs --target 14MB", PRESETS_CHECKED },
    { "whatsapp", 16000000,   "16 MB",
      "videos sent as media (larger files go as documents); decimal, under 16 MiB too", PRESETS_CHECKED },
    { "mms",      600000,     "300 KB-1 MB",
      "carrier-dependent: 600 KB passes most carriers; the strictest take 300 KB (--target 280k)", PRESETS_CHECKED },
    { "slack",    1000000000, "1 GB",
      "per file; decimal, under 1 GiB too", PRESETS_CHECKED },
    { "telegram", 2000000000, "2 GB",
      "per file for accounts without Premium; decimal, under 2 GiB too", PRESETS_CHECKED },
    { "floppy",   1457664,    "1.44 MB",
      "a 3.5\" HD disk holds 1,474,560 bytes, of which FAT12 leaves 2847 sectors of 512 B for files",
      PRESETS_CHECKED },
};

/* A services file is a short list written by hand: anything much larger is not one. */
#define FILE_MAX (64 * 1024)
#define LINE_MAX_BYTES 1024
#define ROWS_MAX 256
#define NAME_LEN_MAX 32
#define LABEL_LEN_MAX 40
#define BYTES_MIN 1000LL                 /* 1 kB: shrink's smallest films are a few kB */
#define BYTES_MAX 10000000000000LL       /* 10 TB */

static Preset table[ROWS_MAX + FF_ARRAY_ELEMS(builtin)];
static int ntable, loaded;
static ServiceSource sources[4];
static int nsources;

const Preset *preset_find(const char *name)
{
    for (int i = 0; i < ntable; i++)
        if (!strcasecmp(table[i].name, name))
            return &table[i];
    return NULL;
}

int services_builtin_count(void)
{
    return FF_ARRAY_ELEMS(builtin);
}

const Preset *services_table(int *n)
{
    *n = ntable;
    return table;
}

const ServiceSource *services_sources(int *n)
{
    *n = nsources;
    return sources;
}

static int bad(const char *file, int line, const char *fmt, const char *arg)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, arg);
    if (line)
        fprintf(stderr, "shrink: %s:%d: error: %s\n", sh_display(file), line, sh_display(msg));
    else
        fprintf(stderr, "shrink: %s: error: %s\n", sh_display(file), sh_display(msg));
    return -1;
}

static char *trim(char *s)
{
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    return s;
}

static int valid_date(const char *s)
{
    static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int y, m, d;
    for (int i = 0; i < 10; i++)
        if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
            return 0;
    if (s[10])
        return 0;
    y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    return y >= 2000 && y <= 2999 && m >= 1 && m <= 12 && d >= 1 && d <= days[m - 1];
}

/* A row read from a file owns its strings (a built-in one points at constants). */
static void preset_clear(Preset *p)
{
    if (p->source) {
        av_freep(&p->name);
        av_freep(&p->limit);
        av_freep(&p->basis);
        av_freep(&p->checked);
    }
    memset(p, 0, sizeof(*p));
}

/* One line's five fields into p (strings still in buf). Returns 0, 1 (no service:
 * blank or a comment) or -1 (said). */
static int parse_line(char *buf, const char *file, int line, Preset *p)
{
    char *f[5], *s = trim(buf), *bar;
    int64_t bytes;
    int n = 0, ret;

    if (!*s || *s == '#')
        return 1;
    for (unsigned char *c = (unsigned char *)s; *c; c++)
        if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
            return bad(file, line, "a control character (0x%s); a services line is printable text",
                       (char[3]){ "0123456789abcdef"[*c >> 4], "0123456789abcdef"[*c & 15], 0 });
    for (char *c = s; *c; c++)
        n += *c == '|';
    if (n != 4) {
        char cnt[16];
        snprintf(cnt, sizeof(cnt), "%d", n + 1);
        return bad(file, line, "%s fields; a service is 5: name | bytes | label | basis | checked (YYYY-MM-DD)", cnt);
    }
    for (n = 0; n < 4; n++) {
        bar = strchr(s, '|');
        *bar = 0;
        f[n] = trim(s);
        s = bar + 1;
    }
    f[4] = trim(s);
    if (!*f[0] || strlen(f[0]) > NAME_LEN_MAX)
        return bad(file, line, "name '%s': 1 to 32 letters, digits, '-' or '_'", f[0]);
    for (char *c = f[0]; *c; c++) {
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return bad(file, line, "name '%s': 1 to 32 letters, digits, '-' or '_'", f[0]);
        *c = (char)tolower((unsigned char)*c);
    }
    if ((ret = sh_size_parse(f[1], &bytes)) < 0 || bytes < BYTES_MIN || bytes > BYTES_MAX)
        return bad(file, line, "bytes '%s': a size from 1kB to 10TB (25MB, 8MiB, 1457664)", f[1]);
    if (!*f[2] || strlen(f[2]) > LABEL_LEN_MAX)
        return bad(file, line, "label '%s': the limit as the service states it, 1 to 40 characters", f[2]);
    if (!*f[3])
        return bad(file, line, "%sno basis: say why this many bytes (the margin taken, and where it comes from)", "");
    if (!valid_date(f[4]))
        return bad(file, line, "checked '%s': the date the limit was checked, YYYY-MM-DD", f[4]);
    p->source = file;
    if (!(p->name = av_strdup(f[0])) || !(p->limit = av_strdup(f[2])) || !(p->basis = av_strdup(f[3])) ||
        !(p->checked = av_strdup(f[4]))) {
        preset_clear(p);
        return bad(file, line, "%sout of memory", "");
    }
    p->bytes = bytes;
    p->line = line;
    return 0;
}

/* Read path whole into buf (at most FILE_MAX bytes). Returns the length, -ENOENT
 * quietly for a missing optional file, or -1 (said). */
static int read_file(const char *path, int required, char *buf)
{
    struct stat sb;
    ssize_t got, len = 0;
    /* Non-blocking: a FIFO named as the file must not hang the command. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT && !required)
            return -ENOENT;
        return bad(path, 0, "cannot read the services file: %s", strerror(errno));
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return bad(path, 0, "%snot a regular file; a services file is text", "");
    }
    while ((got = read(fd, buf + len, FILE_MAX + 1 - len)) > 0 && (len += got) <= FILE_MAX)
        ;
    close(fd);
    if (got < 0)
        return bad(path, 0, "cannot read the services file: %s", strerror(errno));
    if (len > FILE_MAX)
        return bad(path, 0, "%slarger than 64 KiB: not a services file", "");
    return (int)len;
}

static int merge(const Preset *p)
{
    for (int i = 0; i < ntable; i++)
        if (!strcasecmp(table[i].name, p->name)) {
            preset_clear(&table[i]);
            table[i] = *p;
            return 0;
        }
    if (ntable >= (int)FF_ARRAY_ELEMS(table))
        return -1;
    table[ntable++] = *p;
    return 0;
}

static int load_file(const char *path, const char *kind, int required)
{
    static char data[FILE_MAX + 1];
    char line[LINE_MAX_BYTES + 1];
    Preset rows[ROWS_MAX];
    int len = read_file(path, required, data), nrows = 0, ln = 0, ret = -1;
    ServiceSource *src = &sources[nsources++];

    src->path = path;
    src->kind = kind;
    src->rows = -1;
    if (len == -ENOENT)
        return 0;
    if (len < 0)
        return -1;
    for (int pos = 0; pos < len; ln++) {
        const char *start = data + pos, *nl = memchr(start, '\n', len - pos);
        int n = nl ? (int)(nl - start) : len - pos, r;
        Preset p = { 0 };
        pos += n + 1;
        if (n > LINE_MAX_BYTES) {
            bad(path, ln + 1, "%sa line longer than 1024 bytes", "");
            goto end;
        }
        if (memchr(start, 0, n)) {
            bad(path, ln + 1, "%sa NUL byte; a services file is text", "");
            goto end;
        }
        memcpy(line, start, n);
        line[n] = 0;
        if (n && line[n - 1] == '\r')
            line[n - 1] = 0;
        if (!sh_utf8_valid(line)) {
            bad(path, ln + 1, "%snot UTF-8 text", "");
            goto end;
        }
        if ((r = parse_line(line, path, ln + 1, &p)) < 0)
            goto end;
        if (r)
            continue;
        for (int i = 0; i < nrows; i++)
            if (!strcmp(rows[i].name, p.name)) {
                char first[64];
                snprintf(first, sizeof(first), "'%s' again (first on line %d)", p.name, rows[i].line);
                bad(path, ln + 1, "%s: one line a service", first);
                preset_clear(&p);
                goto end;
            }
        if (nrows == ROWS_MAX) {
            bad(path, ln + 1, "%smore than 256 services", "");
            preset_clear(&p);
            goto end;
        }
        rows[nrows++] = p;
    }
    /* The table takes the rows (one it has no room for is dropped). */
    src->rows = nrows;
    for (int i = 0; i < nrows; i++)
        if (merge(&rows[i]) < 0)
            preset_clear(&rows[i]);
    nrows = 0;
    ret = 0;
end:
    for (int i = 0; i < nrows; i++)
        preset_clear(&rows[i]);
    return ret;
}

int services_load(const char *file)
{
    static char user[4096];
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (loaded)
        return loaded > 0 ? 0 : -1;
    loaded = -1;
    for (size_t i = 0; i < FF_ARRAY_ELEMS(builtin); i++)
        table[ntable++] = builtin[i];
    /* The XDG spec: a relative XDG_CONFIG_HOME is to be ignored. */
    if (xdg && xdg[0] == '/')
        snprintf(user, sizeof(user), "%s/shrink/services", xdg);
    else if (home && home[0] == '/')
        snprintf(user, sizeof(user), "%s/.config/shrink/services", home);
    if (load_file(SH_DATADIR "/shrink/services", "installed", 0) < 0 ||
        (user[0] && load_file(user, "user", 0) < 0) || (file && load_file(file, "--services", 1) < 0))
        return -1;
    loaded = 1;
    return 0;
}
