/*
 * Unit tests for the input edge of every request: json.c (strict parsing and
 * field checks) and uuid.c (the ids clients send and the ones we make).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/uuid.h"

/* Parses a NUL-terminated text; returns the object or NULL, and checks err is set on failure. */
static json_t *parse(const char *s)
{
    char err[256] = "";
    json_t *v = st_json_parse_object(s, strlen(s), err, sizeof(err));

    if (!v && err[0] == '\0')
        fail_msg("'%s' failed without a message", s);
    return v;
}

static void assert_rejected(const char *s)
{
    json_t *v = parse(s);

    if (v) {
        json_decref(v);
        fail_msg("'%s' was accepted", s);
    }
}

static void assert_accepted(const char *s)
{
    json_t *v = parse(s);

    if (!v)
        fail_msg("'%s' was rejected", s);
    json_decref(v);
}

/* n objects nested as {"a":{"a":...inner...}}. */
static char *nested(int n, const char *open, const char *inner, const char *close)
{
    size_t lo = strlen(open), li = strlen(inner), lc = strlen(close);
    char *s = malloc((size_t)n * (lo + lc) + li + 1);
    char *p = s;

    assert_non_null(s);
    for (int i = 0; i < n; i++, p += lo)
        memcpy(p, open, lo);
    memcpy(p, inner, li);
    p += li;
    for (int i = 0; i < n; i++, p += lc)
        memcpy(p, close, lc);
    *p = '\0';
    return s;
}

/* Wraps s (and frees it) as the value of "a" in an object. */
static char *in_object(char *s)
{
    char *obj = malloc(strlen(s) + 8);

    assert_non_null(obj);
    strcpy(obj, "{\"a\":");
    strcat(obj, s);
    strcat(obj, "}");
    free(s);
    return obj;
}

/* ---- st_json_parse_object ---- */

static void test_parse_valid(void **state)
{
    json_t *v = parse("{\"a\": 1, \"b\": \"x\", \"c\": [true, null], \"d\": {}}");

    assert_non_null(v);
    assert_int_equal(st_json_int(v, "a", -1), 1);
    assert_string_equal(st_json_str(v, "b", NULL), "x");
    assert_int_equal(json_array_size(json_object_get(v, "c")), 2);
    json_decref(v);
    assert_accepted("{}");
    assert_accepted("  {\"a\":1}\n");
}

static void test_parse_empty(void **state)
{
    char err[128] = "";

    assert_null(st_json_parse_object("", 0, err, sizeof(err)));
    assert_true(strlen(err) > 0);
    /* Only the given length counts, even when more bytes follow. */
    assert_null(st_json_parse_object("{}", 0, err, sizeof(err)));
    assert_rejected("   ");
    assert_rejected("\n");
}

static void test_parse_uses_len(void **state)
{
    char err[128];
    const char *s = "{\"a\":1}garbage";
    json_t *v = st_json_parse_object(s, 7, err, sizeof(err));

    assert_non_null(v);
    json_decref(v);
    assert_null(st_json_parse_object(s, strlen(s), err, sizeof(err)));
    assert_null(st_json_parse_object(s, 6, err, sizeof(err)));
}

static void test_parse_not_object(void **state)
{
    static const char *const bad[] = {"[]", "[{}]", "42", "\"s\"", "null", "true", "-0.5"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_rejected(bad[i]);
}

static void test_parse_malformed(void **state)
{
    static const char *const bad[] = {
        "{",
        "}",
        "{\"a\":}",
        "{'a':1}",
        "{\"a\":1,}",
        "{\"a\":1} x",
        "{\"a\":1}{}",
        "{a:1}",
        "{\"a\" 1}",
        "{\"a\":01}",
        "{\"a\":NaN}",
        "{\"a\":.5}",
        "{\"a\":\"\t\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":tru}",
        "{\"a\":\"unterminated}",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_rejected(bad[i]);
}

static void test_parse_duplicate_keys(void **state)
{
    assert_rejected("{\"a\":1,\"a\":2}");
    assert_rejected("{\"a\":1,\"b\":{\"c\":1,\"c\":1}}");
    /* Keys that differ only in case are different keys. */
    assert_accepted("{\"a\":1,\"A\":2}");
}

static void test_parse_invalid_utf8(void **state)
{
    static const char *const bad[] = {
        "{\"a\":\"\xff\"}",             /* never valid */
        "{\"a\":\"\x80\"}",             /* a lone continuation byte */
        "{\"a\":\"\xc3\"}",             /* truncated two-byte form */
        "{\"a\":\"\xe2\x82\"}",         /* truncated three-byte form */
        "{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
        "{\"a\":\"\xc1\xbf\"}",         /* overlong */
        "{\"a\":\"\xe0\x80\xaf\"}",     /* overlong '/' in three bytes */
        "{\"a\":\"\xe0\x9f\xbf\"}",     /* overlong U+07FF */
        "{\"a\":\"\xf0\x80\x80\xaf\"}", /* overlong '/' in four bytes */
        "{\"a\":\"\xf0\x8f\xbf\xbf\"}", /* overlong U+FFFF */
        "{\"a\":\"\xed\xa0\x80\"}",     /* surrogate U+D800 */
        "{\"a\":\"\xed\xbf\xbf\"}",     /* surrogate U+DFFF */
        "{\"a\":\"\xf4\x90\x80\x80\"}", /* U+110000 */
        "{\"a\":\"\xf5\x80\x80\x80\"}", /* lead byte past U+10FFFF */
        "{\"a\":\"\xf8\x88\x80\x80\x80\"}",
        "{\"\xff\":1}",  /* in a key */
        "{\"a\":1}\xc3", /* after the value, at the very end */
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_rejected(bad[i]);
        /* Our own check refuses it, not only jansson's. */
        assert_false(st_utf8_valid(bad[i], strlen(bad[i])));
    }
}

static void test_parse_valid_utf8(void **state)
{
    static const char *const good[] = {
        "{\"a\":\"\xc3\xa9\"}",         /* U+00E9 */
        "{\"a\":\"\xc2\x80\"}",         /* U+0080, the smallest two-byte */
        "{\"a\":\"\xe0\xa0\x80\"}",     /* U+0800, the smallest three-byte */
        "{\"a\":\"\xed\x9f\xbf\"}",     /* U+D7FF, just below the surrogates */
        "{\"a\":\"\xee\x80\x80\"}",     /* U+E000, just above them */
        "{\"a\":\"\xef\xbf\xbf\"}",     /* U+FFFF */
        "{\"a\":\"\xf0\x90\x80\x80\"}", /* U+10000 */
        "{\"a\":\"\xf4\x8f\xbf\xbf\"}", /* U+10FFFF, the last */
        "{\"\xe2\x82\xac\":\"\xf0\x9d\x84\x9e\"}",
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_accepted(good[i]);
        assert_true(st_utf8_valid(good[i], strlen(good[i])));
    }
}

static void test_parse_escapes(void **state)
{
    json_t *v;

    assert_rejected("{\"a\":\"\\u0000\"}");
    assert_rejected("{\"a\\u0000b\":1}");
    assert_rejected("{\"a\":\"\\ud800\"}");
    assert_rejected("{\"a\":\"\\udc00\"}");
    assert_rejected("{\"a\":\"\\ud800x\"}");
    assert_rejected("{\"a\":\"\\udc00\\ud800\"}");
    /* A raw NUL inside the body, within len. */
    {
        char err[128];
        const char body[] = "{\"a\":\"x\0y\"}";

        assert_null(st_json_parse_object(body, sizeof(body) - 1, err, sizeof(err)));
    }
    /* A proper surrogate pair is one character. */
    v = parse("{\"a\":\"\\ud834\\udd1e\"}");
    assert_non_null(v);
    assert_string_equal(st_json_str(v, "a", NULL), "\xf0\x9d\x84\x9e");
    assert_int_equal(st_utf8_length(st_json_str(v, "a", NULL)), 1);
    json_decref(v);
    assert_accepted("{\"a\":\"\\u0001\\n\\\"\\\\\\/\"}");
}

static void test_parse_depth(void **state)
{
    char *s;

    /* Sixteen nested objects are allowed, whatever the innermost holds. */
    s = nested(15, "{\"a\":", "{}", "}");
    assert_accepted(s);
    free(s);
    s = nested(15, "{\"a\":", "{\"b\":1}", "}");
    assert_accepted(s);
    free(s);
    s = nested(15, "{\"a\":", "{\"b\":[]}", "}");
    assert_rejected(s);
    free(s);
    s = nested(16, "{\"a\":", "{}", "}");
    assert_rejected(s);
    free(s);
    s = nested(16, "{\"a\":", "1", "}");
    assert_accepted(s);
    free(s);
    /* Arrays count as levels too. */
    s = in_object(nested(15, "[", "1", "]"));
    assert_accepted(s);
    free(s);
    s = in_object(nested(16, "[", "1", "]"));
    assert_rejected(s);
    free(s);
    /* Far deeper than anyone needs: refused, without blowing the stack. */
    s = nested(100000, "{\"a\":", "1", "}");
    assert_rejected(s);
    free(s);
    s = in_object(nested(100000, "[", "", "]"));
    assert_rejected(s);
    free(s);
}

static void test_utf8_helpers(void **state)
{
    assert_true(st_utf8_valid("", 0));
    assert_true(st_utf8_valid("abc", 3));
    assert_false(st_utf8_valid("a\0c", 3));
    assert_true(st_utf8_valid("\xc3\xa9", 2));
    assert_false(st_utf8_valid("\xc3\xa9", 1));
    assert_false(st_utf8_valid("\xf0\x9d\x84", 3));
    assert_int_equal(st_utf8_length(""), 0);
    assert_int_equal(st_utf8_length("abc"), 3);
    assert_int_equal(st_utf8_length("\xc3\xa9t\xc3\xa9"), 3);
    assert_int_equal(st_utf8_length("\xe2\x82\xac\xf0\x9d\x84\x9e"), 2);
}

/* ---- st_json_check ---- */

/* clang-format off */
static const struct st_json_field fields[] = {
    {"name", ST_JSON_STRING, true, false, 1, 10},
    {"count", ST_JSON_INT, false, false, 0, 100},
    {"memo", ST_JSON_STRING, false, true, 0, 0},
    {"tags", ST_JSON_ARRAY, false, false, 0, 3},
    {"active", ST_JSON_BOOL, false, false, 0, 0},
    {"meta", ST_JSON_OBJECT, false, true, 0, 0},
    {"when", ST_JSON_STRING, true, true, 0, 0},
    {NULL, 0, false, false, 0, 0},
};
/* clang-format on */

/* Parses s and checks it against fields; returns the result and copies the message. */
static int check(const char *s, char *err, size_t errlen)
{
    json_t *v = parse(s);
    int r;

    if (!v)
        fail_msg("'%s' did not parse", s);
    err[0] = '\0';
    r = st_json_check(v, fields, err, errlen);
    json_decref(v);
    return r;
}

static void assert_check_fails(const char *s, const char *word)
{
    char err[256];

    if (check(s, err, sizeof(err)) != -EINVAL)
        fail_msg("'%s' passed the check", s);
    if (!strstr(err, word))
        fail_msg("'%s': the message '%s' does not name '%s'", s, err, word);
}

static void assert_check_passes(const char *s)
{
    char err[256];

    if (check(s, err, sizeof(err)) != 0)
        fail_msg("'%s' failed the check: %s", s, err);
}

static void test_check_valid(void **state)
{
    assert_check_passes("{\"name\":\"x\",\"when\":null}");
    assert_check_passes("{\"name\":\"x\",\"when\":\"now\",\"count\":5,\"memo\":\"m\","
                        "\"tags\":[1,2],\"active\":false,\"meta\":{\"k\":1}}");
    assert_check_passes("{\"name\":\"x\",\"when\":\"\",\"memo\":null,\"meta\":null}");
}

static void test_check_unknown_field(void **state)
{
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"bogus\":1}", "bogus");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"Name\":\"y\"}", "Name");
}

static void test_check_missing_required(void **state)
{
    assert_check_fails("{\"when\":null}", "name");
    assert_check_fails("{\"name\":\"x\"}", "when");
    assert_check_fails("{}", "name");
}

static void test_check_wrong_types(void **state)
{
    assert_check_fails("{\"name\":5,\"when\":null}", "name");
    assert_check_fails("{\"name\":[\"x\"],\"when\":null}", "name");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":\"5\"}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":1.5}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":5.0}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":true}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"active\":1}", "active");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"active\":\"true\"}", "active");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"tags\":{}}", "tags");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"meta\":[]}", "meta");
    assert_check_fails("{\"name\":\"x\",\"when\":5}", "when");
}

static void test_check_nulls(void **state)
{
    assert_check_fails("{\"name\":null,\"when\":null}", "name");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":null}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"tags\":null}", "tags");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"active\":null}", "active");
}

static void test_check_ranges(void **state)
{
    assert_check_passes("{\"name\":\"x\",\"when\":null,\"count\":0}");
    assert_check_passes("{\"name\":\"x\",\"when\":null,\"count\":100}");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":-1}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":101}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":-9223372036854775808}", "count");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"count\":9223372036854775807}", "count");
    /* Lengths are in characters, not bytes. */
    assert_check_passes("{\"name\":\"0123456789\",\"when\":null}");
    assert_check_passes("{\"name\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                        "\xa9\xc3\xa9\xc3\xa9\",\"when\":null}");
    assert_check_fails("{\"name\":\"01234567890\",\"when\":null}", "name");
    assert_check_fails("{\"name\":\"\",\"when\":null}", "name");
    assert_check_passes("{\"name\":\"x\",\"when\":null,\"tags\":[]}");
    assert_check_passes("{\"name\":\"x\",\"when\":null,\"tags\":[1,2,3]}");
    assert_check_fails("{\"name\":\"x\",\"when\":null,\"tags\":[1,2,3,4]}", "tags");
}

static void test_parse_huge_integer(void **state)
{
    /* Past 64 bits: refused by the parser, never wrapped. */
    assert_rejected("{\"count\":9223372036854775808}");
    assert_rejected("{\"count\":-9223372036854775809}");
    assert_rejected("{\"count\":99999999999999999999999999}");
}

static void test_getters(void **state)
{
    json_t *v = parse("{\"s\":\"x\",\"i\":7,\"b\":true,\"n\":null}");

    assert_non_null(v);
    assert_string_equal(st_json_str(v, "s", "d"), "x");
    assert_string_equal(st_json_str(v, "n", "d"), "d");
    assert_string_equal(st_json_str(v, "missing", "d"), "d");
    assert_string_equal(st_json_str(v, "i", "d"), "d");
    assert_int_equal(st_json_int(v, "i", -1), 7);
    assert_int_equal(st_json_int(v, "n", -1), -1);
    assert_true(st_json_bool(v, "b", false));
    assert_false(st_json_bool(v, "n", false));
    json_decref(v);
}

static void test_dump(void **state)
{
    json_t *v = json_pack("{s:i}", "a", 1);
    char *s = st_json_dump(v);

    assert_string_equal(s, "{\"a\":1}");
    free(s);
    json_decref(v);
    s = st_json_dump(json_null());
    assert_string_equal(s, "null");
    free(s);
}

/* ---- uuid.c ---- */

static void test_uuid_valid(void **state)
{
    static const char *const good[] = {
        "123e4567-e89b-12d3-a456-426614174000",
        "123E4567-E89B-12D3-A456-426614174000",
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-4fff-bfff-ffffffffffff",
    };
    static const char *const bad[] = {
        "",
        "123e4567-e89b-12d3-a456-42661417400",
        "123e4567-e89b-12d3-a456-4266141740000",
        "123e4567e89b-12d3-a456-4266141740000",
        "123e4567-e89b-12d3-a456_426614174000",
        "123e4567-e89b-12d3-a4564-26614174000",
        "123e4567-e89b-12d3-a456-42661417400g",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "urn:uuid:123e4567-e89b-12d3-a456-426614174000",
        " 23e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-426614174000 ",
        "123e4567-e89b-12d3-a456-42661417400\n",
        "123e4567+e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-4266141740\xc3\xa9",
        ("123e4567-e89b-12d3-a456-\x00"
         "26614174000"),
    };

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!st_uuid_valid(good[i]))
            fail_msg("'%s' rejected", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (st_uuid_valid(bad[i]))
            fail_msg("'%s' accepted", bad[i]);
    assert_false(st_uuid_valid(NULL));
}

static void test_uuid_new(void **state)
{
    char a[ST_UUID_LEN + 1], b[ST_UUID_LEN + 1];

    st_uuid_new(a);
    st_uuid_new(b);
    assert_string_not_equal(a, b);
    for (int i = 0; i < 1000; i++) {
        st_uuid_new(a);
        assert_int_equal(strlen(a), ST_UUID_LEN);
        assert_true(st_uuid_valid(a));
        /* Version 4, variant 10xx, lowercase. */
        assert_int_equal(a[14], '4');
        assert_non_null(strchr("89ab", a[19]));
        for (int k = 0; k < ST_UUID_LEN; k++)
            assert_false(a[k] >= 'A' && a[k] <= 'F');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_valid),
        cmocka_unit_test(test_parse_empty),
        cmocka_unit_test(test_parse_uses_len),
        cmocka_unit_test(test_parse_not_object),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_parse_invalid_utf8),
        cmocka_unit_test(test_parse_valid_utf8),
        cmocka_unit_test(test_parse_escapes),
        cmocka_unit_test(test_parse_depth),
        cmocka_unit_test(test_utf8_helpers),
        cmocka_unit_test(test_check_valid),
        cmocka_unit_test(test_check_unknown_field),
        cmocka_unit_test(test_check_missing_required),
        cmocka_unit_test(test_check_wrong_types),
        cmocka_unit_test(test_check_nulls),
        cmocka_unit_test(test_check_ranges),
        cmocka_unit_test(test_parse_huge_integer),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_dump),
        cmocka_unit_test(test_uuid_valid),
        cmocka_unit_test(test_uuid_new),
    };

    return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
