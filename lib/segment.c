/*
 * Segment rules shared by the tracker and the server. See segment.h.
 */
#include "lib/segment.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/week.h"
#include "lib/xalloc.h"

static const char *const flag_names[] = {
    "idle_kept", "clock_jump", "unusual_input", "manual", "over_limit", "overlap", "no_screenshot",
};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))

const char *st_flag_name(unsigned bit)
{
    for (unsigned i = 0; i < NFLAGS; i++)
        if (bit == 1u << i)
            return flag_names[i];
    return NULL;
}

unsigned st_flag_parse(const char *name)
{
    for (unsigned i = 0; i < NFLAGS; i++)
        if (strcmp(name, flag_names[i]) == 0)
            return 1u << i;
    return 0;
}

json_t *st_flags_to_json(unsigned flags)
{
    json_t *a = json_array();

    for (unsigned i = 0; i < NFLAGS; i++)
        if (flags & (1u << i))
            json_array_append_new(a, json_string(flag_names[i]));
    return a;
}

const char *st_shot_status_name(enum st_shot_status s)
{
    switch (s) {
    case ST_SHOT_OK:
        return "ok";
    case ST_SHOT_FAILED:
        return "failed";
    case ST_SHOT_DISABLED:
        return "disabled";
    case ST_SHOT_NONE:
        break;
    }
    return NULL;
}

const char *st_measure_name(enum st_measure m)
{
    return m == ST_MEASURE_ACTIVE_SECONDS ? "active_seconds" : "counts";
}

int st_measure_parse(const char *name, enum st_measure *ret_m)
{
    if (strcmp(name, "counts") == 0)
        *ret_m = ST_MEASURE_COUNTS;
    else if (strcmp(name, "active_seconds") == 0)
        *ret_m = ST_MEASURE_ACTIVE_SECONDS;
    else
        return -EINVAL;
    return 0;
}

void st_segment_release(struct st_segment *s)
{
    free(s->memo);
    json_decref(s->tags);
    s->memo = NULL;
    s->tags = NULL;
}

static bool has_control(const char *s, bool allow_newline)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c < 0x20 && !(allow_newline && (c == '\n' || c == '\t'))) || c == 0x7f)
            return true;
    }
    return false;
}

int st_segment_check_tags(json_t *tags, char *err, size_t errlen)
{
    size_t i, j;
    json_t *t;

    if (!json_is_array(tags) || json_array_size(tags) > ST_SEG_TAGS_MAX) {
        snprintf(err, errlen, "'tags' must be an array of at most %d tags", ST_SEG_TAGS_MAX);
        return -EINVAL;
    }
    json_array_foreach(tags, i, t) {
        size_t n;
        if (!json_is_string(t)) {
            snprintf(err, errlen, "'tags' must hold strings");
            return -EINVAL;
        }
        n = st_utf8_length(json_string_value(t));
        if (n == 0 || n > ST_SEG_TAG_MAX || has_control(json_string_value(t), false)) {
            snprintf(err, errlen, "a tag must be 1 to %d printable characters", ST_SEG_TAG_MAX);
            return -EINVAL;
        }
        for (j = 0; j < i; j++)
            if (json_equal(json_array_get(tags, j), t)) {
                snprintf(err, errlen, "a tag is listed twice");
                return -EINVAL;
            }
    }
    return 0;
}

/*
 * One minute object. *active is -1 before the first minute, then whether
 * the first one carried active_s: all ten carry it or none does.
 */
static int bucket_from_json(json_t *m, int bucket_s, int i, enum st_measure measure, int *active,
                            struct st_bucket *b, char *err, size_t errlen)
{
    const struct st_json_field fields[] = {
        {"tracked_s", ST_JSON_INT, true, false, 0, bucket_s},
        {"keys", ST_JSON_INT, true, false, 0, ST_SEG_COUNT_MAX},
        {"mouse", ST_JSON_INT, true, false, 0, ST_SEG_COUNT_MAX},
        {"synthetic", ST_JSON_INT, true, false, 0, 2 * ST_SEG_COUNT_MAX},
        {"active_s", ST_JSON_INT, false, false, 0, bucket_s},
        {NULL, 0, false, false, 0, 0},
    };
    bool has;
    char msg[200];

    if (!json_is_object(m)) {
        snprintf(err, errlen, "minutes[%d] must be an object", i);
        return -EINVAL;
    }
    if (st_json_check(m, fields, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "minutes[%d]: %s", i, msg);
        return -EINVAL;
    }
    b->tracked_s = (int)st_json_int(m, "tracked_s", 0);
    b->keys = (int)st_json_int(m, "keys", 0);
    b->mouse = (int)st_json_int(m, "mouse", 0);
    b->synthetic = (int)st_json_int(m, "synthetic", 0);
    has = json_object_get(m, "active_s") != NULL;
    b->active_s = (int)st_json_int(m, "active_s", 0);
    if (measure == ST_MEASURE_ACTIVE_SECONDS && !has) {
        snprintf(err, errlen, "minutes[%d]: 'active_s' is required when 'activity_measure' is "
                              "active_seconds", i);
        return -EINVAL;
    }
    if (*active >= 0 && has != (*active == 1)) {
        snprintf(err, errlen, "minutes[%d]: 'active_s' must be in all ten minutes or in none", i);
        return -EINVAL;
    }
    *active = has;
    if (b->active_s > b->tracked_s) {
        snprintf(err, errlen, "minutes[%d]: 'active_s' exceeds 'tracked_s'", i);
        return -EINVAL;
    }
    if (measure == ST_MEASURE_ACTIVE_SECONDS && (b->keys || b->mouse || b->synthetic)) {
        snprintf(err, errlen, "minutes[%d]: 'keys', 'mouse' and 'synthetic' must be 0 when "
                              "'activity_measure' is active_seconds (counts are unavailable)", i);
        return -EINVAL;
    }
    if (b->synthetic > b->keys + b->mouse) {
        snprintf(err, errlen, "minutes[%d]: 'synthetic' exceeds keys + mouse", i);
        return -EINVAL;
    }
    if (b->tracked_s == 0 && (b->keys || b->mouse)) {
        snprintf(err, errlen, "minutes[%d]: input counted in a minute with no tracked time", i);
        return -EINVAL;
    }
    return 0;
}

int st_segment_from_json(json_t *obj, int segment_s, struct st_segment *ret_seg, char *err,
                         size_t errlen)
{
    static const struct st_json_field fields[] = {
        {"id", ST_JSON_STRING, false, false, 36, 36},
        {"contract_id", ST_JSON_STRING, true, false, 36, 36},
        {"device_id", ST_JSON_STRING, true, false, 1, ST_SEG_DEVICE_MAX},
        {"start", ST_JSON_STRING, true, false, 1, 40},
        {"minutes", ST_JSON_ARRAY, true, false, ST_SEG_BUCKETS, ST_SEG_BUCKETS},
        {"memo", ST_JSON_STRING, false, true, 0, ST_SEG_MEMO_MAX},
        {"tags", ST_JSON_ARRAY, false, true, 0, ST_SEG_TAGS_MAX},
        {"flags", ST_JSON_ARRAY, false, true, 0, 8},
        {"screenshot", ST_JSON_OBJECT, false, true, 0, 0},
        {"activity_measure", ST_JSON_STRING, false, false, 1, 20},
        {NULL, 0, false, false, 0, 0},
    };
    static const struct st_json_field shot_fields[] = {
        {"taken_at", ST_JSON_STRING, false, true, 1, 40},
        {"status", ST_JSON_STRING, true, false, 1, 16},
        {"reason", ST_JSON_STRING, false, true, 0, ST_SEG_REASON_MAX},
        {NULL, 0, false, false, 0, 0},
    };
    struct st_segment s = {0};
    json_t *v, *m;
    size_t i;
    char msg[200];
    int bucket_s = segment_s / ST_SEG_BUCKETS;
    int active = -1;

    if (st_json_check(obj, fields, err, errlen) < 0)
        return -EINVAL;
    if (st_measure_parse(st_json_str(obj, "activity_measure", "counts"), &s.measure) < 0) {
        snprintf(err, errlen, "'activity_measure' must be counts or active_seconds");
        return -EINVAL;
    }
    if ((v = json_object_get(obj, "id")) && !st_uuid_valid(json_string_value(v))) {
        snprintf(err, errlen, "'id' is not a UUID");
        return -EINVAL;
    }
    if (st_utc_parse(st_json_str(obj, "start", ""), &s.start) < 0) {
        snprintf(err, errlen, "'start' is not an RFC 3339 time");
        return -EINVAL;
    }
    if (s.start < ST_SEG_START_MIN) {
        snprintf(err, errlen, "'start' is before the year 2000");
        return -EINVAL;
    }
    if (!st_uuid_valid(st_json_str(obj, "contract_id", ""))) {
        snprintf(err, errlen, "'contract_id' is not a contract id");
        return -EINVAL;
    }
    if (!st_slot_aligned(s.start, segment_s)) {
        snprintf(err, errlen, "'start' is not a segment boundary (a multiple of %d s)",
                 segment_s);
        return -EINVAL;
    }
    snprintf(s.contract_id, sizeof(s.contract_id), "%s", st_json_str(obj, "contract_id", ""));
    snprintf(s.device_id, sizeof(s.device_id), "%s", st_json_str(obj, "device_id", ""));
    if (has_control(s.device_id, false)) {
        snprintf(err, errlen, "'device_id' holds control characters");
        return -EINVAL;
    }
    json_array_foreach(json_object_get(obj, "minutes"), i, m) {
        if (bucket_from_json(m, bucket_s, (int)i, s.measure, &active, &s.b[i], err, errlen) < 0)
            return -EINVAL;
    }
    s.has_active_s = active == 1;
    if ((v = json_object_get(obj, "flags")) && json_is_array(v)) {
        json_t *f;
        json_array_foreach(v, i, f) {
            unsigned bit = json_is_string(f) ? st_flag_parse(json_string_value(f)) : 0;
            if (!(bit & ST_TRACKER_FLAGS)) {
                snprintf(err, errlen, "'flags' may hold only idle_kept, clock_jump and "
                                      "unusual_input");
                return -EINVAL;
            }
            s.flags |= bit;
        }
    }
    if ((v = json_object_get(obj, "tags")) && json_is_array(v)) {
        if (st_segment_check_tags(v, err, errlen) < 0)
            return -EINVAL;
    }
    if ((v = json_object_get(obj, "screenshot")) && json_is_object(v)) {
        const char *status, *taken;
        if (st_json_check(v, shot_fields, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "screenshot: %s", msg);
            return -EINVAL;
        }
        status = st_json_str(v, "status", "");
        if (strcmp(status, "ok") == 0)
            s.shot_status = ST_SHOT_OK;
        else if (strcmp(status, "failed") == 0)
            s.shot_status = ST_SHOT_FAILED;
        else if (strcmp(status, "disabled") == 0)
            s.shot_status = ST_SHOT_DISABLED;
        else {
            snprintf(err, errlen, "screenshot: 'status' must be ok, failed or disabled");
            return -EINVAL;
        }
        taken = st_json_str(v, "taken_at", NULL);
        if (taken) {
            if (st_utc_parse(taken, &s.shot_taken_at) < 0 || s.shot_taken_at < s.start ||
                s.shot_taken_at >= s.start + segment_s) {
                snprintf(err, errlen, "screenshot: 'taken_at' must be a time within the segment");
                return -EINVAL;
            }
        } else if (s.shot_status == ST_SHOT_OK) {
            snprintf(err, errlen, "screenshot: 'taken_at' is required when status is ok");
            return -EINVAL;
        }
        snprintf(s.shot_reason, sizeof(s.shot_reason), "%s", st_json_str(v, "reason", ""));
        if (has_control(s.shot_reason, false)) {
            snprintf(err, errlen, "screenshot: 'reason' holds control characters");
            return -EINVAL;
        }
    }
    if (has_control(st_json_str(obj, "memo", ""), true)) {
        snprintf(err, errlen, "'memo' holds control characters");
        return -EINVAL;
    }
    snprintf(s.id, sizeof(s.id), "%s", st_json_str(obj, "id", ""));
    s.memo = xstrdup(st_json_str(obj, "memo", ""));
    v = json_object_get(obj, "tags");
    s.tags = json_is_array(v) ? json_deep_copy(v) : json_array();
    *ret_seg = s;
    return 0;
}

json_t *st_segment_to_json(const struct st_segment *s)
{
    char start[ST_TIME_STRLEN];
    json_t *o, *mins = json_array();

    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        json_t *m = json_pack("{s:i,s:i,s:i,s:i}", "tracked_s", s->b[i].tracked_s, "keys",
                              s->b[i].keys, "mouse", s->b[i].mouse, "synthetic", s->b[i].synthetic);
        if (s->has_active_s || s->measure == ST_MEASURE_ACTIVE_SECONDS)
            json_object_set_new(m, "active_s", json_integer(s->b[i].active_s));
        json_array_append_new(mins, m);
    }
    st_utc_format(s->start, start);
    o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:o,s:o}", "contract_id", s->contract_id, "device_id",
                  s->device_id, "start", start, "minutes", mins, "memo", s->memo ? s->memo : "",
                  "tags", s->tags ? json_incref(s->tags) : json_array(), "flags",
                  st_flags_to_json(s->flags & ST_TRACKER_FLAGS));
    /* A segment not yet named has no id; the reader takes it from the path. */
    if (s->id[0])
        json_object_set_new(o, "id", json_string(s->id));
    if (s->measure != ST_MEASURE_COUNTS)
        json_object_set_new(o, "activity_measure", json_string(st_measure_name(s->measure)));
    if (s->shot_status != ST_SHOT_NONE) {
        json_t *shot = json_pack("{s:s}", "status", st_shot_status_name(s->shot_status));
        if (s->shot_taken_at) {
            char t[ST_TIME_STRLEN];
            st_utc_format(s->shot_taken_at, t);
            json_object_set_new(shot, "taken_at", json_string(t));
        }
        if (s->shot_reason[0])
            json_object_set_new(shot, "reason", json_string(s->shot_reason));
        json_object_set_new(o, "screenshot", shot);
    }
    return o;
}

int st_segment_tracked(const struct st_segment *s)
{
    int t = 0;

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        t += s->b[i].tracked_s;
    return t;
}

bool st_bucket_has_input(const struct st_segment *s, int i)
{
    if (s->measure == ST_MEASURE_ACTIVE_SECONDS)
        return s->b[i].active_s > 0;
    return s->b[i].keys > 0 || s->b[i].mouse > 0;
}

int st_segment_activity(const struct st_segment *s)
{
    int a = 0;

    for (int i = 0; i < ST_SEG_BUCKETS; i++)
        if (st_bucket_has_input(s, i))
            a++;
    return a;
}

bool st_segment_unusual(const struct st_segment *s)
{
    long long input = 0, synth = 0;

    if (s->measure == ST_MEASURE_ACTIVE_SECONDS)
        return false;
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        input += s->b[i].keys + s->b[i].mouse;
        synth += s->b[i].synthetic;
    }
    return input > 0 && 2 * synth > input;
}

bool st_segment_extends(const struct st_segment *old, const struct st_segment *next)
{
    if (strcmp(old->contract_id, next->contract_id) != 0 ||
        strcmp(old->device_id, next->device_id) != 0 || old->start != next->start)
        return false;
    if (strcmp(old->memo ? old->memo : "", next->memo ? next->memo : "") != 0)
        return false;
    if (!json_equal(old->tags, next->tags))
        return false;
    if ((old->flags & next->flags) != old->flags)
        return false;
    if (old->measure != next->measure || (old->has_active_s && !next->has_active_s))
        return false;
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        const struct st_bucket *a = &old->b[i], *b = &next->b[i];
        if (b->tracked_s < a->tracked_s || b->keys < a->keys || b->mouse < a->mouse ||
            b->synthetic < a->synthetic)
            return false;
        if (old->has_active_s && b->active_s < a->active_s)
            return false;
    }
    /*
     * Screenshot details: an upload without them keeps what is stored; one
     * with them must agree with what is stored, except that a time may be
     * filled in where only the image's arrival had set the status.
     */
    if (old->shot_status != ST_SHOT_NONE && next->shot_status != ST_SHOT_NONE) {
        if (old->shot_status != next->shot_status)
            return false;
        if (old->shot_taken_at && old->shot_taken_at != next->shot_taken_at)
            return false;
    }
    return true;
}

void st_buckets_format(const struct st_bucket b[ST_SEG_BUCKETS], bool active, char *out,
                       size_t outlen)
{
    size_t n = 0;

    out[0] = '\0';
    for (int i = 0; i < ST_SEG_BUCKETS && n < outlen; i++) {
        n += (size_t)snprintf(out + n, outlen - n, "%s%d,%d,%d,%d", i ? "," : "", b[i].tracked_s,
                              b[i].keys, b[i].mouse, b[i].synthetic);
        if (active && n < outlen)
            n += (size_t)snprintf(out + n, outlen - n, ",%d", b[i].active_s);
    }
}

int st_buckets_parse(const char *s, struct st_bucket b[ST_SEG_BUCKETS], bool *ret_active)
{
    int v[ST_SEG_BUCKETS * 5];
    const char *p = s;
    int n = 0, per;

    /* 40 values (the form before active seconds) or 50, and nothing else. */
    while (n < ST_SEG_BUCKETS * 5) {
        char *end;
        long x = strtol(p, &end, 10);
        if (end == p || x < 0 || x > 2 * ST_SEG_COUNT_MAX)
            return -EINVAL;
        v[n++] = (int)x;
        p = end;
        if (*p != ',')
            break;
        p++;
    }
    if (*p || (n != ST_SEG_BUCKETS * 4 && n != ST_SEG_BUCKETS * 5))
        return -EINVAL;
    per = n / ST_SEG_BUCKETS;
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        b[i].tracked_s = v[per * i];
        b[i].keys = v[per * i + 1];
        b[i].mouse = v[per * i + 2];
        b[i].synthetic = v[per * i + 3];
        b[i].active_s = per == 5 ? v[per * i + 4] : 0;
    }
    if (ret_active)
        *ret_active = per == 5;
    return 0;
}
