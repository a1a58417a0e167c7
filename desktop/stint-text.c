/*
 * stint-text.h: linkify. The text is scanned once; what is not a URL is
 * copied through g_markup_escape_text, and a URL is escaped the same way in
 * both the attribute and the element, so no byte of user text reaches the
 * markup unescaped.
 */
#include "desktop/stint-text.h"

#include <string.h>

static const char *find_link(const char *text, const char *from)
{
    for (const char *q = from; *q; q++) {
        if ((g_ascii_strncasecmp(q, "http://", 7) == 0 ||
             g_ascii_strncasecmp(q, "https://", 8) == 0) &&
            (q == text || !g_ascii_isalnum(q[-1])))
            return q;
    }
    return NULL;
}

static void append_escaped(GString *out, const char *text, gssize len)
{
    char *esc = g_markup_escape_text(text, len);

    g_string_append(out, esc);
    g_free(esc);
}

char *stint_text_linkify(const char *text, GPtrArray *ret_links)
{
    GString *out = g_string_new(NULL);
    const char *p = text;

    while (*p) {
        const char *h = find_link(text, p);
        const char *e;
        if (!h) {
            append_escaped(out, p, -1);
            break;
        }
        append_escaped(out, p, h - p);
        e = h;
        while (*e && !g_ascii_isspace(*e) && !strchr("<>\"`", *e))
            e++;
        while (e > h && strchr(".,;:!?)]}'", e[-1]))
            e--;
        if (strchr(h, ':') + 3 >= e) { /* the scheme alone */
            append_escaped(out, h, e - h);
        } else {
            char *esc = g_markup_escape_text(h, e - h);
            g_string_append_printf(out, "<a href=\"%s\">%s</a>", esc, esc);
            g_free(esc);
            if (ret_links)
                g_ptr_array_add(ret_links, g_strndup(h, e - h));
        }
        p = e;
    }
    return g_string_free(out, FALSE);
}
