/*
 * libFuzzer target: st_segment_from_json (lib/segment.h) on arbitrary
 * bytes, parsed the way the server parses a body (st_json_parse_object).
 * The first byte picks the segment length; the rest is the JSON.
 *
 * Besides what the sanitizers catch, it checks the module's own promises
 * on every segment it accepts: the strings it read are the ones sent (none
 * cut short), the tracked seconds fit the segment, the activity is 0-10, a
 * segment extends itself, and its upload form (st_segment_to_json) reads
 * back to the same segment.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "lib/segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int lengths[] = {60, 600, 3600, 86400};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-segment: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct st_segment s = {0}, back = {0};
    char err[256], err2[256];
    json_t *obj, *out;
    int seg_s;

    if (size < 1)
        return 0;
    seg_s = lengths[data[0] % 4];
    obj = st_json_parse_object((const char *)data + 1, size - 1, err, sizeof(err));
    if (!obj)
        return 0;
    if (st_segment_from_json(obj, seg_s, &s, err, sizeof(err)) < 0) {
        if (!err[0])
            fail("a refusal with no message");
        json_decref(obj);
        return 0;
    }
    if (strcmp(s.contract_id, json_string_value(json_object_get(obj, "contract_id"))) != 0)
        fail("'contract_id' was read as something else than what was sent");
    if (strcmp(s.device_id, json_string_value(json_object_get(obj, "device_id"))) != 0)
        fail("'device_id' was read as something else than what was sent");
    if (strcmp(s.memo, st_json_str(obj, "memo", "")) != 0)
        fail("'memo' was read as something else than what was sent");
    if (st_segment_tracked(&s) < 0 || st_segment_tracked(&s) > seg_s)
        fail("tracked seconds outside the segment");
    if (st_segment_activity(&s) < 0 || st_segment_activity(&s) > 10)
        fail("activity outside 0-10");
    if (!st_segment_extends(&s, &s))
        fail("a segment does not extend itself");
    out = st_segment_to_json(&s);
    if (st_segment_from_json(out, seg_s, &back, err2, sizeof(err2)) < 0) {
        fprintf(stderr, "fuzz-segment: the upload form does not read back: %s\n", err2);
        abort();
    }
    if (!st_segment_extends(&s, &back) || !st_segment_extends(&back, &s))
        fail("the upload form reads back to another segment");
    st_segment_release(&back);
    json_decref(out);
    st_segment_release(&s);
    json_decref(obj);
    return 0;
}
