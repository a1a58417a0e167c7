/*
 * Unit tests of the segment rules shared by tracker and server
 * (lib/segment.c): what an upload may hold and what is refused, the
 * round trip through the upload form, the figures the Work Diary shows
 * (tracked seconds, activity, unusual input), the "only extends" test of
 * a re-upload, and the storage form of the buckets. Both measures of
 * activity: counts, and active seconds (Wayland).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/segment.h"
#include "lib/utc.h"

#define SEG_S 600 /* ten-minute segments: 60 s buckets */
#define START "2026-11-23T10:20:00Z"

/* A valid upload in canonical form: what st_segment_to_json writes back. */
static const char valid_text[] =
    "{\"id\":\"33333333-3333-4333-8333-333333333333\","
    "\"contract_id\":\"11111111-1111-4111-8111-111111111111\","
    "\"device_id\":\"laptop-1\","
    "\"start\":\"" START "\","
    "\"minutes\":["
    "{\"tracked_s\":60,\"keys\":40,\"mouse\":12,\"synthetic\":0},"
    "{\"tracked_s\":60,\"keys\":0,\"mouse\":30,\"synthetic\":2},"
    "{\"tracked_s\":60,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":45,\"keys\":7,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0},"
    "{\"tracked_s\":0,\"keys\":0,\"mouse\":0,\"synthetic\":0}],"
    "\"memo\":\"Fixing the login form\","
    "\"tags\":[\"frontend\",\"bug\"],"
    "\"flags\":[\"idle_kept\"],"
    "\"screenshot\":{\"status\":\"ok\",\"taken_at\":\"2026-11-23T10:24:10Z\"}}";

static json_t *valid(void)
{
    json_error_t e;
    json_t *o = json_loads(valid_text, 0, &e);

    if (!o)
        fail_msg("the valid upload does not parse: %s", e.text);
    return o;
}

static json_t *minute(json_t *o, int i)
{
    return json_array_get(json_object_get(o, "minutes"), (size_t)i);
}

static json_t *shot(json_t *o)
{
    return json_object_get(o, "screenshot");
}

/* A string of n copies of piece. */
static json_t *repeated(const char *piece, int n)
{
    size_t len = strlen(piece);
    char *s = malloc(len * (size_t)n + 1);
    json_t *v;

    assert_non_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + (size_t)i * len, piece, len);
    s[len * (size_t)n] = '\0';
    v = json_string(s);
    free(s);
    return v;
}

/* Checks obj is accepted, and frees it. */
static void accept_upload(json_t *obj, const char *what)
{
    struct st_segment s;
    char err[256] = "";

    if (st_segment_from_json(obj, SEG_S, &s, err, sizeof(err)) != 0)
        fail_msg("%s: refused: %s", what, err);
    st_segment_release(&s);
    json_decref(obj);
}

/* Checks obj is refused with a message naming needle, and frees it. */
static void reject_upload(json_t *obj, const char *needle, const char *what)
{
    struct st_segment s;
    char err[256] = "";

    if (st_segment_from_json(obj, SEG_S, &s, err, sizeof(err)) != -EINVAL) {
        st_segment_release(&s);
        fail_msg("%s: accepted", what);
    }
    if (!strstr(err, needle))
        fail_msg("%s: the message '%s' does not mention %s", what, err, needle);
    json_decref(obj);
}

static struct st_segment parse_valid(void)
{
    struct st_segment s;
    char err[256] = "";
    json_t *o = valid();

    if (st_segment_from_json(o, SEG_S, &s, err, sizeof(err)) != 0)
        fail_msg("the valid upload is refused: %s", err);
    json_decref(o);
    return s;
}

/* ---- reading an upload ---- */

static void a_valid_upload_is_read_field_by_field(void **state)
{
    struct st_segment s = parse_valid();
    int64_t start, taken;

    assert_int_equal(st_utc_parse(START, &start), 0);
    assert_int_equal(st_utc_parse("2026-11-23T10:24:10Z", &taken), 0);
    assert_string_equal(s.id, "33333333-3333-4333-8333-333333333333");
    assert_string_equal(s.contract_id, "11111111-1111-4111-8111-111111111111");
    assert_string_equal(s.device_id, "laptop-1");
    assert_int_equal(s.start, start);
    assert_int_equal(s.b[0].keys, 40);
    assert_int_equal(s.b[0].mouse, 12);
    assert_int_equal(s.b[1].synthetic, 2);
    assert_int_equal(s.b[3].tracked_s, 45);
    assert_string_equal(s.memo, "Fixing the login form");
    assert_int_equal(json_array_size(s.tags), 2);
    assert_string_equal(json_string_value(json_array_get(s.tags, 1)), "bug");
    assert_int_equal(s.flags, ST_FLAG_IDLE_KEPT);
    assert_int_equal(s.shot_status, ST_SHOT_OK);
    assert_int_equal(s.shot_taken_at, taken);
    st_segment_release(&s);
}

static void the_optional_fields_may_be_left_out_or_null(void **state)
{
    struct st_segment s;
    char err[256];
    json_t *o = valid();

    json_object_del(o, "id");
    json_object_del(o, "memo");
    json_object_set_new(o, "tags", json_null());
    json_object_set_new(o, "flags", json_null());
    json_object_del(o, "screenshot");
    assert_int_equal(st_segment_from_json(o, SEG_S, &s, err, sizeof(err)), 0);
    assert_string_equal(s.id, "");
    assert_string_equal(s.memo, "");
    assert_int_equal(json_array_size(s.tags), 0);
    assert_int_equal(s.flags, 0);
    assert_int_equal(s.shot_status, ST_SHOT_NONE);
    assert_int_equal(s.shot_taken_at, 0);
    st_segment_release(&s);
    json_decref(o);
}

static void unknown_fields_and_bad_ids_are_refused(void **state)
{
    json_t *o;

    o = valid();
    json_object_set_new(o, "owner", json_string("me"));
    reject_upload(o, "'owner'", "an unknown field");

    o = valid();
    json_object_set_new(minute(o, 2), "scrolls", json_integer(3));
    reject_upload(o, "minutes[2]", "an unknown field in a minute");

    o = valid();
    json_object_set_new(shot(o), "width", json_integer(1920));
    reject_upload(o, "screenshot", "an unknown field in the screenshot");

    o = valid();
    json_object_set_new(o, "contract_id", json_string("not-a-contract"));
    reject_upload(o, "'contract_id'", "a short contract id");

    o = valid();
    json_object_set_new(o, "contract_id", json_string("11111111-1111-4111-8111-11111111111g"));
    reject_upload(o, "'contract_id'", "a contract id with a non-hex digit");

    o = valid();
    json_object_set_new(o, "contract_id", json_string("111111111-111-4111-8111-111111111111"));
    reject_upload(o, "'contract_id'", "a contract id with a misplaced dash");

    o = valid();
    json_object_del(o, "contract_id");
    reject_upload(o, "'contract_id'", "no contract id");

    o = valid();
    json_object_set_new(o, "id", json_string("33333333+3333-4333-8333-333333333333"));
    reject_upload(o, "'id'", "a segment id that is not a UUID");

    o = valid();
    json_object_set_new(o, "device_id", json_string(""));
    reject_upload(o, "'device_id'", "an empty device id");

    o = valid();
    json_object_set_new(o, "device_id", json_string("laptop\x01"));
    reject_upload(o, "'device_id'", "a device id with a control character");
}

static void the_start_must_be_a_slot_boundary_after_2000(void **state)
{
    json_t *o;

    o = valid();
    json_object_set_new(o, "start", json_string("2026-11-23T10:21:00Z"));
    reject_upload(o, "'start'", "a start one minute past a boundary");

    o = valid();
    json_object_set_new(o, "start", json_string("2026-11-23T10:20:01Z"));
    reject_upload(o, "'start'", "a start one second past a boundary");

    o = valid();
    json_object_set_new(o, "start", json_string("1999-12-31T23:50:00Z"));
    json_object_del(o, "screenshot");
    reject_upload(o, "'start'", "a start in 1999");

    o = valid();
    json_object_set_new(o, "start", json_string("yesterday"));
    reject_upload(o, "'start'", "a start that is not a time");

    o = valid();
    json_object_set_new(o, "start", json_integer(1795429200));
    reject_upload(o, "'start'", "a start given as a number");

    /* The first slot of 2000 is fine, and so is a start in another offset. */
    o = valid();
    json_object_set_new(o, "start", json_string("2000-01-01T00:00:00Z"));
    json_object_del(o, "screenshot");
    accept_upload(o, "the first slot of 2000");

    o = valid();
    json_object_set_new(o, "start", json_string("2026-11-23T11:20:00+01:00"));
    accept_upload(o, "the same start written at +01:00");
}

static void there_must_be_exactly_ten_minutes(void **state)
{
    json_t *o;

    o = valid();
    json_array_remove(json_object_get(o, "minutes"), 9);
    reject_upload(o, "'minutes'", "nine minutes");

    o = valid();
    json_array_append(json_object_get(o, "minutes"), minute(o, 9));
    reject_upload(o, "'minutes'", "eleven minutes");

    o = valid();
    json_array_set_new(json_object_get(o, "minutes"), 4, json_integer(0));
    reject_upload(o, "minutes[4]", "a minute that is not an object");
}

static void bucket_counts_are_checked(void **state)
{
    json_t *o;

    o = valid();
    json_object_set_new(minute(o, 3), "tracked_s", json_integer(61));
    reject_upload(o, "minutes[3]", "61 s tracked in a 60 s minute");

    o = valid();
    json_object_set_new(minute(o, 3), "tracked_s", json_integer(-1));
    reject_upload(o, "tracked_s", "negative tracked time");

    o = valid();
    json_object_set_new(minute(o, 0), "keys", json_integer(-1));
    reject_upload(o, "keys", "negative keys");

    o = valid();
    json_object_set_new(minute(o, 0), "mouse", json_integer(-5));
    reject_upload(o, "mouse", "negative mouse");

    o = valid();
    json_object_set_new(minute(o, 1), "synthetic", json_integer(-1));
    reject_upload(o, "synthetic", "negative synthetic");

    o = valid();
    json_object_set_new(minute(o, 0), "keys", json_integer(ST_SEG_COUNT_MAX + 1));
    reject_upload(o, "keys", "keys over the cap");

    o = valid();
    json_object_set_new(minute(o, 0), "keys", json_string("40"));
    reject_upload(o, "keys", "keys as a string");

    o = valid();
    json_object_del(minute(o, 0), "mouse");
    reject_upload(o, "mouse", "a minute without mouse");

    /* minute 1: 0 keys + 30 mouse; 30 synthetic is the most there can be. */
    o = valid();
    json_object_set_new(minute(o, 1), "synthetic", json_integer(31));
    reject_upload(o, "synthetic", "more synthetic events than events");

    o = valid();
    json_object_set_new(minute(o, 1), "synthetic", json_integer(30));
    accept_upload(o, "every event synthetic");

    o = valid();
    json_object_set_new(minute(o, 5), "keys", json_integer(1));
    reject_upload(o, "minutes[5]", "a key press in a minute with no tracked time");

    o = valid();
    json_object_set_new(minute(o, 6), "mouse", json_integer(1));
    reject_upload(o, "minutes[6]", "a mouse event in a minute with no tracked time");

    o = valid();
    json_object_set_new(minute(o, 3), "tracked_s", json_integer(60));
    accept_upload(o, "a full minute");
}

static void only_tracker_flags_are_accepted(void **state)
{
    static const char *const server_only[] = {"manual",        "over_limit", "overlap",
                                              "no_screenshot", "bogus",      ""};
    struct st_segment s;
    char err[256];
    json_t *o;

    for (size_t i = 0; i < sizeof(server_only) / sizeof(server_only[0]); i++) {
        o = valid();
        json_array_append_new(json_object_get(o, "flags"), json_string(server_only[i]));
        reject_upload(o, "'flags'", server_only[i]);
    }
    o = valid();
    json_array_append_new(json_object_get(o, "flags"), json_integer(1));
    reject_upload(o, "'flags'", "a flag given as a number");

    o = valid();
    json_object_set_new(o, "flags", json_pack("[sss]", "clock_jump", "unusual_input", "idle_kept"));
    assert_int_equal(st_segment_from_json(o, SEG_S, &s, err, sizeof(err)), 0);
    assert_int_equal(s.flags, ST_FLAG_IDLE_KEPT | ST_FLAG_CLOCK_JUMP | ST_FLAG_UNUSUAL_INPUT);
    st_segment_release(&s);
    json_decref(o);
}

static void the_screenshot_is_checked(void **state)
{
    json_t *o;

    o = valid();
    json_object_set_new(shot(o), "status", json_string("pending"));
    reject_upload(o, "'status'", "an unknown screenshot status");

    o = valid();
    json_object_del(shot(o), "status");
    reject_upload(o, "'status'", "a screenshot without a status");

    o = valid();
    json_object_set_new(shot(o), "taken_at", json_string("2026-11-23T10:19:59Z"));
    reject_upload(o, "'taken_at'", "a screenshot taken a second before the slot");

    o = valid();
    json_object_set_new(shot(o), "taken_at", json_string("2026-11-23T10:30:00Z"));
    reject_upload(o, "'taken_at'", "a screenshot taken at the next slot's start");

    o = valid();
    json_object_set_new(shot(o), "taken_at", json_string("soon"));
    reject_upload(o, "'taken_at'", "a screenshot time that is not a time");

    o = valid();
    json_object_del(shot(o), "taken_at");
    reject_upload(o, "'taken_at'", "an ok screenshot without a time");

    o = valid();
    json_object_set_new(shot(o), "reason", json_string("bad\x1b[31m"));
    reject_upload(o, "'reason'", "a reason with an escape sequence");

    /* The edges of the slot, and the statuses that need no time. */
    o = valid();
    json_object_set_new(shot(o), "taken_at", json_string(START));
    accept_upload(o, "a screenshot at the slot's first second");

    o = valid();
    json_object_set_new(shot(o), "taken_at", json_string("2026-11-23T10:29:59Z"));
    accept_upload(o, "a screenshot at the slot's last second");

    o = valid();
    json_object_set_new(
        o, "screenshot",
        json_pack("{s:s,s:s}", "status", "failed", "reason", "the display was locked"));
    accept_upload(o, "a failed screenshot without a time");

    o = valid();
    json_object_set_new(o, "screenshot", json_pack("{s:s}", "status", "disabled"));
    accept_upload(o, "screenshots disabled");
}

static void the_memo_is_capped_and_printable(void **state)
{
    json_t *o;

    o = valid();
    json_object_set_new(o, "memo", repeated("m", ST_SEG_MEMO_MAX + 1));
    reject_upload(o, "'memo'", "a memo of 1001 characters");

    /* The cap counts characters, not bytes: 1000 two-byte letters fit. */
    o = valid();
    json_object_set_new(o, "memo", repeated("\xc3\xa9", ST_SEG_MEMO_MAX));
    accept_upload(o, "a memo of 1000 accented letters");

    o = valid();
    json_object_set_new(o, "memo", json_string("line one\nline two\twith a tab"));
    accept_upload(o, "a memo with a newline and a tab");

    o = valid();
    json_object_set_new(o, "memo", json_string("beep\a"));
    reject_upload(o, "'memo'", "a memo with a bell");

    o = valid();
    json_object_set_new(o, "memo", json_string("carriage\rreturn"));
    reject_upload(o, "'memo'", "a memo with a carriage return");

    o = valid();
    json_object_set_new(o, "memo", json_string("delete\x7f"));
    reject_upload(o, "'memo'", "a memo with DEL");
}

static void tags_are_checked(void **state)
{
    json_t *o, *many;

    o = valid();
    json_object_set_new(o, "tags", json_pack("[sss]", "bug", "frontend", "bug"));
    reject_upload(o, "twice", "a repeated tag");

    o = valid();
    many = json_array();
    for (int i = 0; i <= ST_SEG_TAGS_MAX; i++)
        json_array_append_new(many, json_sprintf("tag-%d", i));
    json_object_set_new(o, "tags", many);
    reject_upload(o, "'tags'", "21 tags");

    o = valid();
    many = json_array();
    for (int i = 0; i < ST_SEG_TAGS_MAX; i++)
        json_array_append_new(many, json_sprintf("tag-%d", i));
    json_object_set_new(o, "tags", many);
    accept_upload(o, "20 tags");

    o = valid();
    json_object_set_new(o, "tags", json_pack("[o]", repeated("t", ST_SEG_TAG_MAX + 1)));
    reject_upload(o, "tag", "a tag of 41 characters");

    o = valid();
    json_object_set_new(o, "tags", json_pack("[o]", repeated("t", ST_SEG_TAG_MAX)));
    accept_upload(o, "a tag of 40 characters");

    o = valid();
    json_object_set_new(o, "tags", json_pack("[s]", ""));
    reject_upload(o, "tag", "an empty tag");

    o = valid();
    json_object_set_new(o, "tags", json_pack("[s]", "tab\there"));
    reject_upload(o, "tag", "a tag with a tab");

    o = valid();
    json_object_set_new(o, "tags", json_pack("[i]", 7));
    reject_upload(o, "'tags'", "a tag that is a number");

    o = valid();
    json_object_set_new(o, "tags", json_string("bug"));
    reject_upload(o, "'tags'", "tags as a string");
}

/* ---- the upload form ---- */

static void to_json_gives_back_the_upload(void **state)
{
    struct st_segment a = parse_valid(), b;
    char err[256];
    json_t *in = valid(), *out = st_segment_to_json(&a);

    /* Byte for byte the same object the tracker sent. */
    if (!json_equal(in, out)) {
        char *s = json_dumps(out, JSON_SORT_KEYS);
        fail_msg("round trip changed the upload: %s", s);
    }
    assert_int_equal(st_segment_from_json(out, SEG_S, &b, err, sizeof(err)), 0);
    assert_string_equal(a.id, b.id);
    assert_string_equal(a.contract_id, b.contract_id);
    assert_string_equal(a.device_id, b.device_id);
    assert_int_equal(a.start, b.start);
    assert_memory_equal(a.b, b.b, sizeof(a.b));
    assert_string_equal(a.memo, b.memo);
    assert_true(json_equal(a.tags, b.tags));
    assert_int_equal(a.flags, b.flags);
    assert_int_equal(a.shot_status, b.shot_status);
    assert_int_equal(a.shot_taken_at, b.shot_taken_at);
    assert_string_equal(a.shot_reason, b.shot_reason);
    st_segment_release(&a);
    st_segment_release(&b);
    json_decref(in);
    json_decref(out);
}

static void to_json_leaves_out_what_is_not_set_and_server_flags(void **state)
{
    struct st_segment a = parse_valid(), b;
    char err[256];
    json_t *out;

    a.id[0] = '\0';
    a.shot_status = ST_SHOT_FAILED;
    a.shot_taken_at = 0;
    snprintf(a.shot_reason, sizeof(a.shot_reason), "no display");
    a.flags |= ST_FLAG_MANUAL | ST_FLAG_OVERLAP; /* the server's own: never uploaded */
    out = st_segment_to_json(&a);
    assert_null(json_object_get(out, "id"));
    assert_null(json_object_get(shot(out), "taken_at"));
    assert_string_equal(json_string_value(json_object_get(shot(out), "reason")), "no display");
    assert_int_equal(json_array_size(json_object_get(out, "flags")), 1);

    /* And what it writes is an upload the server accepts. */
    assert_int_equal(st_segment_from_json(out, SEG_S, &b, err, sizeof(err)), 0);
    assert_int_equal(b.flags, ST_FLAG_IDLE_KEPT);
    assert_int_equal(b.shot_status, ST_SHOT_FAILED);
    assert_string_equal(b.shot_reason, "no display");
    st_segment_release(&a);
    st_segment_release(&b);
    json_decref(out);
}

/* ---- the figures ---- */

static void tracked_is_the_exact_sum_and_activity_counts_busy_minutes(void **state)
{
    struct st_segment s = parse_valid();

    /* 60 + 60 + 60 + 45: no rounding to whole minutes. */
    assert_int_equal(st_segment_tracked(&s), 225);
    /* Minutes 0, 1 (mouse only) and 3 had input; minute 2 was tracked but quiet. */
    assert_int_equal(st_segment_activity(&s), 3);

    memset(s.b, 0, sizeof(s.b));
    assert_int_equal(st_segment_tracked(&s), 0);
    assert_int_equal(st_segment_activity(&s), 0);
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        s.b[i].tracked_s = 60;
        s.b[i].keys = 1;
    }
    assert_int_equal(st_segment_tracked(&s), 600);
    assert_int_equal(st_segment_activity(&s), 10);
    st_segment_release(&s);
}

static void unusual_means_more_than_half_synthetic(void **state)
{
    struct st_segment s = parse_valid();

    memset(s.b, 0, sizeof(s.b));
    assert_false(st_segment_unusual(&s)); /* no input at all */

    s.b[0] = (struct st_bucket){60, 10, 0, 0, 0};
    s.b[1] = (struct st_bucket){60, 6, 4, 10, 0};
    assert_false(st_segment_unusual(&s)); /* 10 of 20: exactly half */

    s.b[0].synthetic = 1;
    assert_true(st_segment_unusual(&s)); /* 11 of 20 */

    s.b[0].synthetic = 0;
    s.b[2] = (struct st_bucket){60, 0, 1, 0, 0};
    assert_false(st_segment_unusual(&s)); /* 10 of 21 */

    memset(s.b, 0, sizeof(s.b));
    s.b[9] = (struct st_bucket){60, 0, 3, 2, 0};
    assert_true(st_segment_unusual(&s)); /* 2 of 3 */

    /* The largest counts a bucket may hold do not overflow the sum. */
    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        s.b[i] = (struct st_bucket){60, ST_SEG_COUNT_MAX, ST_SEG_COUNT_MAX, 2 * ST_SEG_COUNT_MAX, 0};
    assert_true(st_segment_unusual(&s));
    st_segment_release(&s);
}

/* ---- re-uploads ---- */

/* A copy of s that owns its own memo and tags. */
static struct st_segment copy(const struct st_segment *s)
{
    struct st_segment c = *s;

    c.memo = strdup(s->memo);
    c.tags = json_deep_copy(s->tags);
    return c;
}

static void extends_accepts_only_growth(void **state)
{
    struct st_segment old = parse_valid(), next;

#define CASE(expect, what, change)                                                                 \
    do {                                                                                           \
        next = copy(&old);                                                                         \
        change;                                                                                    \
        if (st_segment_extends(&old, &next) != (expect))                                           \
            fail_msg("%s: expected %s", what, (expect) ? "extends" : "does not extend");           \
        st_segment_release(&next);                                                                 \
    } while (0)

    CASE(true, "the same upload again", (void)0);
    CASE(true, "more seconds", next.b[3].tracked_s = 60);
    CASE(true, "seconds in a later minute", next.b[4].tracked_s = 20);
    CASE(true, "more keys and mouse", (next.b[0].keys++, next.b[1].mouse += 5));
    CASE(false, "fewer seconds", next.b[3].tracked_s = 44);
    CASE(false, "fewer keys", next.b[0].keys = 39);
    CASE(false, "fewer synthetic", next.b[1].synthetic = 1);
    CASE(false, "a changed memo", (free(next.memo), next.memo = strdup("Something else")));
    CASE(false, "a tag added", json_array_append_new(next.tags, json_string("urgent")));
    CASE(false, "a tag removed", json_array_remove(next.tags, 1));
    CASE(true, "a flag added", next.flags |= ST_FLAG_CLOCK_JUMP);
    CASE(false, "a flag removed", next.flags = 0);
    CASE(false, "another contract", next.contract_id[0] = '2');
    CASE(false, "another device", snprintf(next.device_id, sizeof(next.device_id), "desktop"));
    CASE(false, "another start", next.start += SEG_S);
    CASE(true, "no screenshot details: the stored ones stay",
         (next.shot_status = ST_SHOT_NONE, next.shot_taken_at = 0));
    CASE(false, "the screenshot status changed", next.shot_status = ST_SHOT_FAILED);
    CASE(false, "the screenshot time changed", next.shot_taken_at += 1);

    /* Stored without details: any details may come. */
    old.shot_status = ST_SHOT_NONE;
    old.shot_taken_at = 0;
    CASE(true, "screenshot details where none were",
         (next.shot_status = ST_SHOT_OK, next.shot_taken_at = old.start + 250));

    /* Only the image's arrival set the status: the time may fill in, once. */
    old.shot_status = ST_SHOT_OK;
    CASE(true, "the time fills in", next.shot_taken_at = old.start + 250);
    CASE(false, "the status changes while the time fills in",
         (next.shot_status = ST_SHOT_FAILED, next.shot_taken_at = old.start + 250));
#undef CASE
    st_segment_release(&old);
}

/* ---- the storage form of the buckets ---- */

static void buckets_round_trip_through_their_storage_form(void **state)
{
    struct st_bucket b[ST_SEG_BUCKETS], back[ST_SEG_BUCKETS];
    char text[512];

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        b[i] = (struct st_bucket){i * 6, i * 1000, ST_SEG_COUNT_MAX - i, 2 * ST_SEG_COUNT_MAX - i, 0};
    st_buckets_format(b, false, text, sizeof(text));
    assert_int_equal(strncmp(text, "0,0,1000000,2000000,6,1000,999999,1999999,", 42), 0);
    memset(back, 0xff, sizeof(back));
    assert_int_equal(st_buckets_parse(text, back, NULL), 0);
    assert_memory_equal(b, back, sizeof(b));

    memset(b, 0, sizeof(b));
    st_buckets_format(b, false, text, sizeof(text));
    assert_string_equal(text, "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                              "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0");
}

static void bucket_text_that_is_not_forty_counts_is_refused(void **state)
{
    static const char *const zeros39 = "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                                       "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0";
    struct st_bucket b[ST_SEG_BUCKETS], before[ST_SEG_BUCKETS];
    char text[512];
    const char *bad[8];

    char forty_one[128], negative[128], junk[128], trailing[128], too_big[128];

    snprintf(forty_one, sizeof(forty_one), "%s,0,0", zeros39);
    snprintf(negative, sizeof(negative), "-1,%s", zeros39);
    snprintf(junk, sizeof(junk), "x,%s", zeros39);
    snprintf(trailing, sizeof(trailing), "%s,0,", zeros39);
    snprintf(too_big, sizeof(too_big), "%s,2000001", zeros39);
    bad[0] = zeros39;
    bad[1] = forty_one;
    bad[2] = negative;
    bad[3] = junk;
    bad[4] = trailing;
    bad[5] = too_big;
    bad[6] = "";
    bad[7] = "1,2,3";

    snprintf(text, sizeof(text), "%s,0", zeros39);
    assert_int_equal(st_buckets_parse(text, b, NULL), 0); /* forty: the control */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(b, 0x5a, sizeof(b));
        memcpy(before, b, sizeof(b));
        if (st_buckets_parse(bad[i], b, NULL) != -EINVAL)
            fail_msg("'%s' was accepted", bad[i]);
        assert_memory_equal(b, before, sizeof(b)); /* untouched on failure */
    }
}


/* ---- active seconds ---- */

/* The valid upload turned into an active-seconds one: counts 0, active_s per minute. */
static json_t *valid_active(void)
{
    static const int active[ST_SEG_BUCKETS] = {42, 60, 0, 45, 0, 0, 0, 0, 0, 0};
    json_t *o = valid();

    json_object_set_new(o, "activity_measure", json_string("active_seconds"));
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        json_t *m = minute(o, i);
        json_object_set_new(m, "keys", json_integer(0));
        json_object_set_new(m, "mouse", json_integer(0));
        json_object_set_new(m, "synthetic", json_integer(0));
        json_object_set_new(m, "active_s", json_integer(active[i]));
    }
    return o;
}

static struct st_segment parse_active(void)
{
    struct st_segment s;
    char err[256] = "";
    json_t *o = valid_active();

    if (st_segment_from_json(o, SEG_S, &s, err, sizeof(err)) != 0)
        fail_msg("the valid active-seconds upload is refused: %s", err);
    json_decref(o);
    return s;
}

static void an_active_seconds_upload_is_read(void **state)
{
    struct st_segment s = parse_active();

    assert_int_equal(s.measure, ST_MEASURE_ACTIVE_SECONDS);
    assert_true(s.has_active_s);
    assert_int_equal(s.b[0].active_s, 42);
    assert_int_equal(s.b[3].active_s, 45);
    assert_int_equal(s.b[0].keys, 0);
    /* Level: minutes with an active second, whatever the counts say. */
    assert_int_equal(st_segment_activity(&s), 3);
    assert_true(st_bucket_has_input(&s, 0));
    assert_false(st_bucket_has_input(&s, 2));
    assert_false(st_segment_unusual(&s));
    st_segment_release(&s);
}

static void a_counts_upload_may_carry_active_seconds(void **state)
{
    json_t *o = valid();
    struct st_segment s;
    char err[256] = "";

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        json_object_set_new(minute(o, i), "active_s", json_integer(i < 4 ? 30 : 0));
    /* Minute 2 has active seconds but no counts: under counts it has no input. */
    assert_int_equal(st_segment_from_json(o, SEG_S, &s, err, sizeof(err)), 0);
    assert_int_equal(s.measure, ST_MEASURE_COUNTS);
    assert_true(s.has_active_s);
    assert_int_equal(s.b[2].active_s, 30);
    assert_int_equal(st_segment_activity(&s), 3);
    st_segment_release(&s);
    json_object_set_new(o, "activity_measure", json_string("counts"));
    accept_upload(o, "counts named explicitly");

    /* Without active_s, as every tracker before it sent. */
    o = valid();
    assert_int_equal(st_segment_from_json(o, SEG_S, &s, err, sizeof(err)), 0);
    assert_int_equal(s.measure, ST_MEASURE_COUNTS);
    assert_false(s.has_active_s);
    st_segment_release(&s);
    json_decref(o);
}

static void active_seconds_are_checked(void **state)
{
    json_t *o;

    o = valid_active();
    json_object_set_new(minute(o, 3), "active_s", json_integer(46));
    reject_upload(o, "'active_s' exceeds 'tracked_s'", "more active seconds than tracked");

    o = valid_active();
    json_object_set_new(minute(o, 0), "active_s", json_integer(61));
    reject_upload(o, "active_s", "more active seconds than a minute has");

    o = valid_active();
    json_object_set_new(minute(o, 0), "active_s", json_integer(-1));
    reject_upload(o, "active_s", "negative active seconds");

    o = valid_active();
    json_object_set_new(minute(o, 0), "active_s", json_string("42"));
    reject_upload(o, "active_s", "active seconds as a string");

    o = valid_active();
    json_object_set_new(minute(o, 0), "active_s", json_null());
    reject_upload(o, "active_s", "null active seconds");

    o = valid_active();
    json_object_set_new(minute(o, 1), "keys", json_integer(3));
    reject_upload(o, "counts are unavailable", "keys with active seconds");

    o = valid_active();
    json_object_set_new(minute(o, 1), "mouse", json_integer(1));
    reject_upload(o, "must be 0", "mouse with active seconds");

    o = valid_active();
    json_object_del(minute(o, 5), "active_s");
    reject_upload(o, "'active_s' is required", "a minute without active seconds");

    o = valid();
    json_object_set_new(minute(o, 0), "active_s", json_integer(10));
    reject_upload(o, "all ten minutes or in none", "active_s in one minute of a counts segment");

    o = valid();
    for (int i = 0; i < ST_SEG_BUCKETS - 1; i++)
        json_object_set_new(minute(o, i), "active_s", json_integer(0));
    reject_upload(o, "all ten minutes or in none", "active_s missing in the last minute");

    o = valid_active();
    json_object_set_new(o, "activity_measure", json_string("keystrokes"));
    reject_upload(o, "'activity_measure' must be counts or active_seconds", "an unknown measure");

    o = valid_active();
    json_object_set_new(o, "activity_measure", json_integer(1));
    reject_upload(o, "activity_measure", "a measure that is not a string");

    o = valid_active();
    json_object_set_new(o, "activity_measure", json_null());
    reject_upload(o, "activity_measure", "a null measure");
}

static void active_seconds_round_trip_through_the_upload_form(void **state)
{
    struct st_segment a = parse_active(), b;
    json_t *in = valid_active(), *out = st_segment_to_json(&a);
    char err[256] = "";

    if (!json_equal(in, out)) {
        char *x = json_dumps(out, JSON_SORT_KEYS);
        fail_msg("to_json differs: %s", x);
    }
    assert_int_equal(st_segment_from_json(out, SEG_S, &b, err, sizeof(err)), 0);
    assert_int_equal(b.measure, ST_MEASURE_ACTIVE_SECONDS);
    assert_true(st_segment_extends(&a, &b) && st_segment_extends(&b, &a));
    json_decref(in);
    json_decref(out);
    st_segment_release(&a);
    st_segment_release(&b);

    /* A counts segment says nothing new: neither the measure nor active_s. */
    a = parse_valid();
    out = st_segment_to_json(&a);
    assert_null(json_object_get(out, "activity_measure"));
    assert_null(json_object_get(minute(out, 0), "active_s"));
    json_decref(out);
    a.has_active_s = true;
    a.b[0].active_s = 17;
    out = st_segment_to_json(&a);
    assert_null(json_object_get(out, "activity_measure"));
    assert_int_equal(json_integer_value(json_object_get(minute(out, 0), "active_s")), 17);
    assert_int_equal(json_integer_value(json_object_get(minute(out, 9), "active_s")), 0);
    json_decref(out);
    st_segment_release(&a);
}

static void unusual_input_is_never_derived_from_active_seconds(void **state)
{
    struct st_segment s = {0};

    s.b[0].keys = 1;
    s.b[0].synthetic = 1; /* all synthetic: unusual under counts */
    assert_true(st_segment_unusual(&s));
    s.measure = ST_MEASURE_ACTIVE_SECONDS;
    assert_false(st_segment_unusual(&s));
}

static void extends_keeps_the_measure_and_active_seconds_growing(void **state)
{
    struct st_segment old = parse_active(), next;

#define CASE(expect, what, change)                                                                 \
    do {                                                                                           \
        next = copy(&old);                                                                         \
        change;                                                                                    \
        if (st_segment_extends(&old, &next) != (expect))                                           \
            fail_msg("%s: expected %s", what, (expect) ? "extends" : "does not extend");           \
        st_segment_release(&next);                                                                 \
    } while (0)

    CASE(true, "the same again", (void)0);
    CASE(true, "more active seconds", next.b[0].active_s = 43);
    CASE(false, "fewer active seconds", next.b[1].active_s = 59);
    CASE(false, "the measure changed", next.measure = ST_MEASURE_COUNTS);
    CASE(false, "active seconds gone", (next.measure = ST_MEASURE_COUNTS, next.has_active_s = false));
    st_segment_release(&old);

    old = parse_valid();
    CASE(true, "counts: active seconds added", (next.has_active_s = true, next.b[0].active_s = 5));
    CASE(false, "counts: the measure changed", next.measure = ST_MEASURE_ACTIVE_SECONDS);
    old.has_active_s = true;
    old.b[0].active_s = 5;
    CASE(false, "counts: active seconds dropped", next.has_active_s = false);
    CASE(false, "counts: active seconds went down", next.b[0].active_s = 4);
#undef CASE
    st_segment_release(&old);
}

static void buckets_with_active_seconds_round_trip_and_old_rows_still_parse(void **state)
{
    struct st_bucket b[ST_SEG_BUCKETS], back[ST_SEG_BUCKETS];
    char text[ST_BUCKETS_TEXT_MAX];
    bool active = false;

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        b[i] = (struct st_bucket){60, 2 * ST_SEG_COUNT_MAX, 2 * ST_SEG_COUNT_MAX,
                                  2 * ST_SEG_COUNT_MAX, 60 - i};
    st_buckets_format(b, true, text, sizeof(text));
    assert_true(strlen(text) < sizeof(text) - 1); /* the largest row fits */
    assert_int_equal(strncmp(text, "60,2000000,2000000,2000000,60,60,", 33), 0);
    memset(back, 0xff, sizeof(back));
    assert_int_equal(st_buckets_parse(text, back, &active), 0);
    assert_true(active);
    assert_memory_equal(b, back, sizeof(b));

    /* A row written before active seconds: forty values, no active_s. */
    st_buckets_format(b, false, text, sizeof(text));
    assert_int_equal(st_buckets_parse(text, back, &active), 0);
    assert_false(active);
    assert_int_equal(back[3].active_s, 0);
    assert_int_equal(back[3].keys, 2 * ST_SEG_COUNT_MAX);

    /* 45 or 51 values are neither form. */
    assert_int_equal(st_buckets_parse("0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                                      "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0",
                                      back, &active),
                     -EINVAL);
    st_buckets_format(b, true, text, sizeof(text));
    strcat(text, ",1");
    assert_int_equal(st_buckets_parse(text, back, &active), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_valid_upload_is_read_field_by_field),
        cmocka_unit_test(the_optional_fields_may_be_left_out_or_null),
        cmocka_unit_test(unknown_fields_and_bad_ids_are_refused),
        cmocka_unit_test(the_start_must_be_a_slot_boundary_after_2000),
        cmocka_unit_test(there_must_be_exactly_ten_minutes),
        cmocka_unit_test(bucket_counts_are_checked),
        cmocka_unit_test(only_tracker_flags_are_accepted),
        cmocka_unit_test(the_screenshot_is_checked),
        cmocka_unit_test(the_memo_is_capped_and_printable),
        cmocka_unit_test(tags_are_checked),
        cmocka_unit_test(to_json_gives_back_the_upload),
        cmocka_unit_test(to_json_leaves_out_what_is_not_set_and_server_flags),
        cmocka_unit_test(tracked_is_the_exact_sum_and_activity_counts_busy_minutes),
        cmocka_unit_test(unusual_means_more_than_half_synthetic),
        cmocka_unit_test(extends_accepts_only_growth),
        cmocka_unit_test(buckets_round_trip_through_their_storage_form),
        cmocka_unit_test(bucket_text_that_is_not_forty_counts_is_refused),
        cmocka_unit_test(an_active_seconds_upload_is_read),
        cmocka_unit_test(a_counts_upload_may_carry_active_seconds),
        cmocka_unit_test(active_seconds_are_checked),
        cmocka_unit_test(active_seconds_round_trip_through_the_upload_form),
        cmocka_unit_test(unusual_input_is_never_derived_from_active_seconds),
        cmocka_unit_test(extends_keeps_the_measure_and_active_seconds_growing),
        cmocka_unit_test(buckets_with_active_seconds_round_trip_and_old_rows_still_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
