/*
 * Unit tests for desktop/stint-text.c: user text becomes Pango markup in
 * which nothing the user wrote is markup. Each case is checked twice: the
 * exact markup, and, parsed back with GMarkup (what Pango uses), the text
 * content equal to the input and every link an http(s) URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "desktop/stint-text.h"

struct parsed {
    GString *text;
    GPtrArray *hrefs;
    int depth;
    gboolean bad_element;
};

static void on_start(GMarkupParseContext *ctx, const char *element, const char **names,
                     const char **values, gpointer user_data, GError **error)
{
    struct parsed *p = user_data;

    p->depth++;
    if (g_str_equal(element, "markup"))
        return;
    if (!g_str_equal(element, "a") || !names[0] || names[1] || !g_str_equal(names[0], "href")) {
        p->bad_element = TRUE;
        return;
    }
    g_ptr_array_add(p->hrefs, g_strdup(values[0]));
}

static void on_end(GMarkupParseContext *ctx, const char *element, gpointer user_data,
                   GError **error)
{
    ((struct parsed *)user_data)->depth--;
}

static void on_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer user_data,
                    GError **error)
{
    g_string_append_len(((struct parsed *)user_data)->text, text, (gssize)len);
}

static const GMarkupParser parser = {on_start, on_end, on_text, NULL, NULL};

/* Linkifies text and checks the round trip; returns the markup. */
static char *check(const char *text, const char *const *want_links)
{
    g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);
    char *markup = stint_text_linkify(text, links);
    g_autofree char *doc = g_strconcat("<markup>", markup, "</markup>", NULL);
    struct parsed p = {g_string_new(NULL), g_ptr_array_new_with_free_func(g_free), 0, FALSE};
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, &p, NULL);
    gboolean ok = g_markup_parse_context_parse(ctx, doc, -1, NULL) &&
                  g_markup_parse_context_end_parse(ctx, NULL);
    size_t n = 0;

    assert_true(ok);
    assert_false(p.bad_element);
    assert_string_equal(p.text->str, text);
    for (; want_links && want_links[n]; n++) {
        assert_true(n < links->len);
        assert_string_equal(g_ptr_array_index(links, n), want_links[n]);
        assert_string_equal(g_ptr_array_index(p.hrefs, n), want_links[n]);
    }
    assert_int_equal(links->len, n);
    assert_int_equal(p.hrefs->len, n);
    for (guint i = 0; i < p.hrefs->len; i++)
        assert_true(g_ascii_strncasecmp(g_ptr_array_index(p.hrefs, i), "http", 4) == 0);
    g_markup_parse_context_free(ctx);
    g_string_free(p.text, TRUE);
    g_ptr_array_unref(p.hrefs);
    return markup;
}

static void test_plain_text_is_escaped(void **state)
{
    g_autofree char *m = check("<b>bold?</b> & \"quotes\" 'single' &amp;", NULL);

    assert_string_equal(m, "&lt;b&gt;bold?&lt;/b&gt; &amp; &quot;quotes&quot; &apos;single&apos; "
                           "&amp;amp;");
    g_free(check("", NULL));
    g_free(check("line one\nline two\ttab", NULL));
    g_free(check("<span foreground=\"red\">x</span><a href=\"javascript:alert(1)\">y</a>", NULL));
}

static void test_links_become_anchors(void **state)
{
    g_autofree char *m = check("see https://example.com/a?b=1&c=2.",
                               (const char *[]){"https://example.com/a?b=1&c=2", NULL});

    assert_string_equal(m, "see <a href=\"https://example.com/a?b=1&amp;c=2\">"
                           "https://example.com/a?b=1&amp;c=2</a>.");
    g_free(check("(HTTP://Example.com/x), http://b.example/y!",
                 (const char *[]){"HTTP://Example.com/x", "http://b.example/y", NULL}));
    g_free(check("https://a.example/é/ü?q=ß", (const char *[]){"https://a.example/é/ü?q=ß", NULL}));
}

static void test_no_link_without_a_url(void **state)
{
    /* A scheme alone, one inside a word, and other schemes stay text. */
    g_free(check("http:// and https://. then xhttp://a.example", NULL));
    g_free(check("javascript:alert(1) ftp://a.example file:///etc/passwd", NULL));
    g_free(check("mailto:a@example.com data:text/html,<script>x</script>", NULL));
}

static void test_a_url_cannot_break_out(void **state)
{
    g_autofree char *m = check("http://a.example/\"><script>alert(1)</script>",
                               (const char *[]){"http://a.example/", NULL});

    assert_non_null(strstr(m, "&lt;script&gt;"));
    g_free(check("https://a.example/'onmouseover='x' `y`",
                 (const char *[]){"https://a.example/'onmouseover='x", NULL}));
    g_free(check("https://a.example/<b>", (const char *[]){"https://a.example/", NULL}));
}

static void test_control_characters(void **state)
{
    /* g_markup_escape_text turns them into character references GMarkup accepts. */
    g_free(check("bell\x07 esc\x1b[31m https://a.example/\x01x",
                 (const char *[]){"https://a.example/\x01x", NULL}));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_text_is_escaped), cmocka_unit_test(test_links_become_anchors),
        cmocka_unit_test(test_no_link_without_a_url), cmocka_unit_test(test_a_url_cannot_break_out),
        cmocka_unit_test(test_control_characters),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
