/*
 * Strict JSON input checking. Everything a client sends passes through
 * st_json_parse_object and st_json_check before a handler reads it.
 */
#include "lib/json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/xalloc.h"

bool st_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n >= len)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        /* Overlong forms, surrogates and values past U+10FFFF. */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

size_t st_utf8_length(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/*
 * The nesting depth of containers under v, where v itself (a container) is
 * at depth. Scalars add no level: sixteen nested objects are sixteen levels
 * whether the innermost is empty or holds a number.
 */
static int depth_of(json_t *v, int depth)
{
    int max = depth;
    json_t *x;

    if (json_is_object(v)) {
        const char *k;
        json_object_foreach(v, k, x) {
            if (!json_is_object(x) && !json_is_array(x))
                continue;
            int d = depth_of(x, depth + 1);
            if (d > max)
                max = d;
            if (max > ST_JSON_MAX_DEPTH)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_array_foreach(v, i, x) {
            if (!json_is_object(x) && !json_is_array(x))
                continue;
            int d = depth_of(x, depth + 1);
            if (d > max)
                max = d;
            if (max > ST_JSON_MAX_DEPTH)
                break;
        }
    }
    return max;
}

json_t *st_json_parse_object(const char *buf, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *v;

    if (len == 0) {
        snprintf(err, errlen, "the request body is empty; a JSON object is expected");
        return NULL;
    }
    if (!st_utf8_valid(buf, len)) {
        snprintf(err, errlen, "the request body is not valid UTF-8");
        return NULL;
    }
    /* jansson caps nesting itself (2048); ours is far lower and checked below. */
    v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!v) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column,
                 jerr.text);
        return NULL;
    }
    if (!json_is_object(v)) {
        snprintf(err, errlen, "the request body must be a JSON object");
        json_decref(v);
        return NULL;
    }
    if (depth_of(v, 1) > ST_JSON_MAX_DEPTH) {
        snprintf(err, errlen, "JSON nested deeper than %d levels", ST_JSON_MAX_DEPTH);
        json_decref(v);
        return NULL;
    }
    return v;
}

static const char *kind_name(enum st_json_kind k)
{
    switch (k) {
    case ST_JSON_STRING:
        return "a string";
    case ST_JSON_INT:
        return "an integer";
    case ST_JSON_BOOL:
        return "true or false";
    case ST_JSON_ARRAY:
        return "an array";
    case ST_JSON_OBJECT:
        return "an object";
    }
    return "?";
}

static bool kind_matches(json_t *v, enum st_json_kind k)
{
    switch (k) {
    case ST_JSON_STRING:
        return json_is_string(v);
    case ST_JSON_INT:
        return json_is_integer(v);
    case ST_JSON_BOOL:
        return json_is_boolean(v);
    case ST_JSON_ARRAY:
        return json_is_array(v);
    case ST_JSON_OBJECT:
        return json_is_object(v);
    }
    return false;
}

int st_json_check(json_t *obj, const struct st_json_field *fields, char *err, size_t errlen)
{
    const char *key;
    json_t *v;

    json_object_foreach(obj, key, v) {
        const struct st_json_field *f = fields;
        while (f->name && strcmp(f->name, key) != 0)
            f++;
        if (!f->name) {
            snprintf(err, errlen, "unknown field '%.64s'", key);
            return -EINVAL;
        }
    }
    for (const struct st_json_field *f = fields; f->name; f++) {
        v = json_object_get(obj, f->name);
        if (!v || json_is_null(v)) {
            if (f->required && !(v && f->nullable)) {
                snprintf(err, errlen, "'%s' is required", f->name);
                return -EINVAL;
            }
            if (v && !f->nullable) {
                snprintf(err, errlen, "'%s' must be %s, not null", f->name, kind_name(f->kind));
                return -EINVAL;
            }
            continue;
        }
        if (!kind_matches(v, f->kind)) {
            snprintf(err, errlen, "'%s' must be %s", f->name, kind_name(f->kind));
            return -EINVAL;
        }
        if (f->min == 0 && f->max == 0)
            continue;
        if (f->kind == ST_JSON_STRING) {
            long long n = (long long)st_utf8_length(json_string_value(v));
            if (n < f->min || n > f->max) {
                snprintf(err, errlen, "'%s' must be %lld to %lld characters long", f->name,
                         f->min, f->max);
                return -EINVAL;
            }
        } else if (f->kind == ST_JSON_INT) {
            long long n = json_integer_value(v);
            if (n < f->min || n > f->max) {
                snprintf(err, errlen, "'%s' must be between %lld and %lld", f->name, f->min,
                         f->max);
                return -EINVAL;
            }
        } else if (f->kind == ST_JSON_ARRAY) {
            long long n = (long long)json_array_size(v);
            if (n < f->min || n > f->max) {
                snprintf(err, errlen, "'%s' must hold %lld to %lld items", f->name, f->min,
                         f->max);
                return -EINVAL;
            }
        }
    }
    return 0;
}

const char *st_json_str(json_t *obj, const char *key, const char *def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : def;
}

long long st_json_int(json_t *obj, const char *key, long long def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

bool st_json_bool(json_t *obj, const char *key, bool def)
{
    json_t *v = json_object_get(obj, key);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

char *st_json_dump(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        s = xstrdup("null");
    return s;
}
