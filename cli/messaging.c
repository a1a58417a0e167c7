/*
 * Rooms and messages as text for the messaging commands (messaging.h):
 * the cleaning of others' text for a terminal, local times, sizes, finding
 * a room by id or title, and the one way a message is printed.
 */
#include "cli/messaging.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/output.h"
#include "lib/json.h"
#include "lib/utc.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* More candidates than this are counted, not listed, when a title is ambiguous. */
#define MAX_LISTED 10

/* Skips a control sequence's body (after ESC [ or CSI): parameters, intermediates, final. */
static const unsigned char *skip_csi(const unsigned char *p)
{
    while (*p >= 0x20 && *p <= 0x3F)
        p++;
    if (*p >= 0x40 && *p <= 0x7E)
        p++;
    return p;
}

/* Skips a control string (OSC, DCS, SOS, PM, APC) up to BEL, ST (ESC \ or U+009C) or the end. */
static const unsigned char *skip_string(const unsigned char *p)
{
    while (*p) {
        if (*p == 0x07)
            return p + 1;
        if (p[0] == 0x1B && p[1] == '\\')
            return p + 2;
        if (p[0] == 0xC2 && p[1] == 0x9C)
            return p + 2;
        p++;
    }
    return p;
}

static bool bidi_control(long cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

char *cli_msg_clean(const char *s, bool multiline, const char *indent)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t ilen = multiline && indent ? strlen(indent) : 0;
    size_t lines = 0, cap, o = 0;
    char *out;

    for (const char *q = s; *q; q++)
        lines += *q == '\n';
    /* Every byte becomes at most one byte, a newline at most 1 + ilen. */
    cap = strlen(s) + lines * ilen + 1;
    out = xmalloc(cap);
    while (*p) {
        long cp;
        size_t n;

        if (p[0] == 0x1B) {
            unsigned char next = p[1];
            if (next == '[') {
                p = skip_csi(p + 2);
            } else if (next == ']' || next == 'P' || next == 'X' || next == '^' || next == '_') {
                p = skip_string(p + 2);
            } else if (next >= 0x20 && next <= 0x7E) {
                /* ESC, intermediates, then one final byte: "ESC ( B", "ESC c". */
                p++;
                while (*p >= 0x20 && *p <= 0x2F)
                    p++;
                if (*p >= 0x30 && *p <= 0x7E)
                    p++;
            } else {
                p++;
            }
            continue;
        }
        n = st_utf8_decode(p, &cp);
        if (cp == 0x9B) {
            p = skip_csi(p + n);
            continue;
        }
        if (cp == 0x9D || cp == 0x90 || cp == 0x98 || cp == 0x9E || cp == 0x9F) {
            p = skip_string(p + n);
            continue;
        }
        if (cp == '\n' && multiline) {
            out[o++] = '\n';
            memcpy(out + o, indent, ilen);
            o += ilen;
        } else if (cp == '\t') {
            out[o++] = ' ';
        } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || bidi_control(cp)) {
            out[o++] = '?';
        } else {
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    out[o] = '\0';
    return out;
}

void cli_format_local_time(const char *rfc3339, char out[CLI_LOCAL_TIME_LEN])
{
    int64_t t;
    time_t tt;
    struct tm tm;

    if (!rfc3339 || st_utc_parse(rfc3339, &t) < 0) {
        snprintf(out, CLI_LOCAL_TIME_LEN, "?");
        return;
    }
    tt = (time_t)t;
    if (!localtime_r(&tt, &tm) || strftime(out, CLI_LOCAL_TIME_LEN, "%Y-%m-%d %H:%M", &tm) == 0)
        snprintf(out, CLI_LOCAL_TIME_LEN, "?");
}

void cli_format_size(long long bytes, char out[CLI_SIZE_LEN])
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    double v = (double)bytes;
    int u = -1;

    if (bytes < 1024) {
        snprintf(out, CLI_SIZE_LEN, "%lld B", bytes < 0 ? 0 : bytes);
        return;
    }
    while (v >= 1024 && u < 3) {
        v /= 1024;
        u++;
    }
    snprintf(out, CLI_SIZE_LEN, "%.1f %s", v, units[u]);
}

static bool title_prefix(const char *title, const char *arg)
{
    return strncasecmp(title, arg, strlen(arg)) == 0;
}

int cli_room_find(struct cli_client *c, const char *cmd, const char *arg, json_t **ret_room)
{
    json_t *resp = NULL, *rooms, *room, *found = NULL;
    size_t i, exact = 0, prefix = 0;
    int r;

    r = cli_call(c, "GET", "/rooms", NULL, &resp);
    if (r != CLI_OK)
        return r;
    rooms = json_object_get(resp, "rooms");
    /* An id wins, then a contract's id, then a whole title, then a prefix. */
    json_array_foreach(rooms, i, room)
    {
        if (strcmp(st_json_str(room, "id", ""), arg) == 0 ||
            strcmp(st_json_str(room, "contract_id", ""), arg) == 0) {
            found = room;
            goto done;
        }
    }
    json_array_foreach(rooms, i, room)
    {
        const char *title = st_json_str(room, "title", "");
        if (strcasecmp(title, arg) == 0) {
            exact++;
            found = room;
        }
    }
    if (exact == 1)
        goto done;
    if (exact == 0) {
        json_array_foreach(rooms, i, room)
        {
            if (title_prefix(st_json_str(room, "title", ""), arg)) {
                prefix++;
                found = room;
            }
        }
        if (prefix == 1)
            goto done;
    }
    if (exact == 0 && prefix == 0) {
        char *clean = cli_msg_clean(arg, false, NULL);
        fprintf(stderr, "stint: %s: refused: no room of yours is called '%s' (see 'stint rooms')\n",
                cmd, clean);
        free(clean);
        r = CLI_REFUSED;
        goto out;
    }
    {
        char *clean = cli_msg_clean(arg, false, NULL);
        size_t listed = 0;
        fprintf(stderr, "stint: %s: '%s' fits %zu rooms; name one by its id:\n", cmd, clean,
                exact ? exact : prefix);
        free(clean);
        json_array_foreach(rooms, i, room)
        {
            const char *title = st_json_str(room, "title", "");
            if (exact ? strcasecmp(title, arg) != 0 : !title_prefix(title, arg))
                continue;
            if (++listed > MAX_LISTED) {
                fprintf(stderr, "  ...\n");
                break;
            }
            char *t = cli_msg_clean(title, false, NULL),
                 *id = cli_msg_clean(st_json_str(room, "id", ""), false, NULL);
            fprintf(stderr, "  %s  %s\n", id, t);
            free(t);
            free(id);
        }
        r = CLI_USAGE;
        goto out;
    }
done:
    *ret_room = json_incref(found);
    r = CLI_OK;
out:
    json_decref(resp);
    return r;
}

/* Cuts s (cleaned, one line) after about n characters, on a character boundary, with "...". */
static char *cli_msg_snippet(char *s, size_t n)
{
    size_t chars = 0;

    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && chars++ == n) {
            strcpy(p, "...");
            break;
        }
    }
    return s;
}

void cli_msg_print(json_t *msg, const char *room_title, bool ids, json_t *page)
{
    char when[CLI_LOCAL_TIME_LEN];
    json_t *files = json_object_get(msg, "files"), *f;
    char *author =
        cli_msg_clean(st_json_str(json_object_get(msg, "author"), "name", "?"), false, NULL);
    const char *reply_to = st_json_str(msg, "reply_to", NULL);
    size_t i;

    cli_format_local_time(st_json_str(msg, "created_at", NULL), when);
    printf("%s  ", when);
    if (ids) {
        char *id = cli_msg_clean(st_json_str(msg, "id", "?"), false, NULL);
        printf("[%s] ", id);
        free(id);
    }
    if (room_title) {
        char *t = cli_msg_clean(room_title, false, NULL);
        printf("[%s] ", t);
        free(t);
    }
    printf("%s", author);
    if (reply_to) {
        /* The message answered, when it is on the same page: who and how it began. */
        json_t *m, *to = NULL;
        size_t k;
        json_array_foreach(page, k, m)
            if (strcmp(st_json_str(m, "id", ""), reply_to) == 0)
                to = m;
        if (ids) {
            char *id = cli_msg_clean(reply_to, false, NULL);
            printf(" (reply to %s)", id);
            free(id);
        } else if (to && !st_json_bool(to, "deleted", false)) {
            char *who = cli_msg_clean(st_json_str(json_object_get(to, "author"), "name", "?"),
                                      false, NULL);
            char *text = cli_msg_clean(st_json_str(to, "text", ""), false, NULL);
            printf(" (replying to %s: \"%s\")", who, cli_msg_snippet(text, 40));
            free(who);
            free(text);
        } else {
            printf(" (replying to an earlier message)");
        }
    }
    if (st_json_bool(msg, "deleted", false)) {
        printf(": [deleted]\n");
        goto out;
    }
    {
        char *text = cli_msg_clean(st_json_str(msg, "text", ""), true, "    ");
        printf(":%s%s%s\n", *text ? " " : "", text,
               st_json_str(msg, "edited_at", NULL) ? " (edited)" : "");
        free(text);
    }
    json_array_foreach(files, i, f)
    {
        char size[CLI_SIZE_LEN];
        char *name = cli_msg_clean(st_json_str(f, "name", "?"), false, NULL);
        cli_format_size(st_json_int(f, "size", 0), size);
        printf("    file: %s (%s)", name, size);
        if (ids) {
            char *id = cli_msg_clean(st_json_str(f, "id", "?"), false, NULL);
            printf(" [%s]", id);
            free(id);
        }
        printf("\n");
        free(name);
    }
out:
    free(author);
}
