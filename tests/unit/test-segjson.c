/*
 * The diary writes each segment's JSON by hand (segments_json_text in
 * server/segments.c) rather than through a jansson tree. These tests hold
 * it to the tree's answer byte for byte: json_dumps(segments_to_json(r),
 * JSON_COMPACT) for thousands of random rows, with hostile memos and tags
 * (quotes, backslashes, every control character, multi-byte text), every
 * flag, every screenshot state, both activity measures (counts, with or
 * without active seconds, and active seconds with the counts as null), and
 * with and without the week's figures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/xalloc.h"
#include "server/segments.h"

static unsigned rnd(unsigned *state, unsigned n)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) % n;
}

/* A string with a bit of everything jansson escapes or passes through. */
static char *random_text(unsigned *st, size_t max)
{
    static const char *const pieces[] = {
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f",
        "\x7f", "é", "€", "😀", "<b>", "&amp;", "\u2028", "'", "{}", "[]",
    };
    size_t n = rnd(st, (unsigned)max + 1), len = 0;
    char *s = xcalloc(1, n * 8 + 1);

    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[rnd(st, sizeof(pieces) / sizeof(pieces[0]))];
        memcpy(s + len, p, strlen(p));
        len += strlen(p);
    }
    return s;
}

static void fill_row(unsigned *st, struct seg_row *r)
{
    char *dev = random_text(st, 6), *reason = random_text(st, 5);

    memset(r, 0, sizeof(*r));
    if (rnd(st, 4))
        snprintf(r->s.id, sizeof(r->s.id), "0f8a3c2e-1b4d-4e5f-8a9b-%012u", rnd(st, 1000000));
    snprintf(r->s.contract_id, sizeof(r->s.contract_id), "7d1e9a40-5c2b-4f3a-9e8d-%012u",
             rnd(st, 1000));
    snprintf(r->s.device_id, sizeof(r->s.device_id), "%s", dev);
    r->seg_s = 600;
    r->s.start = 1764000000 + (int64_t)rnd(st, 100000) * 600;
    for (int k = 0; k < ST_SEG_BUCKETS; k++) {
        r->s.b[k].tracked_s = (int)rnd(st, 61);
        r->s.b[k].keys = (int)rnd(st, 500);
        r->s.b[k].mouse = (int)rnd(st, 500);
        r->s.b[k].synthetic = (int)rnd(st, 10);
        r->s.b[k].active_s = (int)rnd(st, 61);
    }
    /* Counts (with or without active seconds) and active seconds (counts shown as null). */
    switch (rnd(st, 3)) {
    case 0:
        break;
    case 1:
        r->s.has_active_s = true;
        break;
    default:
        r->s.measure = ST_MEASURE_ACTIVE_SECONDS;
        r->s.has_active_s = true;
        break;
    }
    r->s.memo = rnd(st, 5) ? random_text(st, 40) : NULL;
    r->s.tags = json_array();
    for (unsigned n = rnd(st, 4), i = 0; i < n; i++) {
        char *t = random_text(st, 6);
        json_array_append_new(r->s.tags, json_string(t));
        free(t);
    }
    r->s.flags = rnd(st, 128);
    r->flags = rnd(st, 128);
    r->s.shot_status = (enum st_shot_status)rnd(st, 4);
    if (r->s.shot_status != ST_SHOT_NONE && rnd(st, 2))
        r->s.shot_taken_at = r->s.start + rnd(st, 600);
    if (rnd(st, 3) == 0)
        snprintf(r->s.shot_reason, sizeof(r->s.shot_reason), "%s", reason);
    if (rnd(st, 2))
        snprintf(r->shot_blob, sizeof(r->shot_blob), "%064x", rnd(st, 1u << 30));
    r->week_computed = rnd(st, 2);
    r->billable_s = (int)rnd(st, 601);
    r->over_limit_s = (int)rnd(st, 601);
    r->received_at = r->s.start + 600 + rnd(st, 100000);
    r->deleted = rnd(st, 2);
    r->manual = rnd(st, 2);
    free(dev);
    free(reason);
}

static void test_hand_written_json_is_janssons_byte_for_byte(void **state)
{
    unsigned st = 12345;

    for (int i = 0; i < 5000; i++) {
        struct seg_row r;
        json_t *o;
        char *want, *got;
        size_t len;

        fill_row(&st, &r);
        o = segments_to_json(&r);
        want = json_dumps(o, JSON_COMPACT);
        got = segments_json_text(&r, &len);
        if (strcmp(want, got) != 0)
            fail_msg("row %d:\nwant %s\ngot  %s", i, want, got);
        assert_int_equal(len, strlen(want));
        free(want);
        free(got);
        json_decref(o);
        segments_release(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_written_json_is_janssons_byte_for_byte),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
