/*
 * Strict JSON input on top of jansson: parse with caps, then check an object
 * against a table of the fields it may hold. Unknown fields, wrong types,
 * missing required fields and out-of-range values are all errors, reported in
 * a sentence a user can act on. Output is plain jansson.
 */
#ifndef STINT_JSON_H
#define STINT_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ST_JSON_MAX_DEPTH 16

enum st_json_kind {
    ST_JSON_STRING, /* min/max: length in characters */
    ST_JSON_INT,    /* min/max: value */
    ST_JSON_BOOL,
    ST_JSON_ARRAY, /* min/max: number of elements */
    ST_JSON_OBJECT,
};

struct st_json_field {
    const char *name;
    enum st_json_kind kind;
    bool required;
    bool nullable;
    long long min;
    long long max;
};

/*
 * Parses len bytes as one JSON object. Returns a new reference, or NULL with
 * a message in err: malformed JSON, invalid UTF-8, a NUL escape, nesting
 * deeper than ST_JSON_MAX_DEPTH, or a value that is not an object.
 */
json_t *st_json_parse_object(const char *buf, size_t len, char *err, size_t errlen);

/*
 * Checks obj against fields (terminated by an entry with name NULL).
 * Returns 0, or -EINVAL with a message in err naming the field.
 */
int st_json_check(json_t *obj, const struct st_json_field *fields, char *err, size_t errlen);

/* Length of a UTF-8 string in code points (the string is valid UTF-8). */
size_t st_utf8_length(const char *s);
/* True when s (len bytes) is well-formed UTF-8 with no NUL byte. */
bool st_utf8_valid(const char *s, size_t len);

/* Returns obj[key] as a string, or def when absent or null. Borrowed. */
const char *st_json_str(json_t *obj, const char *key, const char *def);
/* Returns obj[key] as an integer, or def when absent or null. */
long long st_json_int(json_t *obj, const char *key, long long def);
/* Returns obj[key] as a bool, or def when absent or null. */
bool st_json_bool(json_t *obj, const char *key, bool def);

/* Serializes compactly; the caller frees the string. */
char *st_json_dump(json_t *v);

#endif
