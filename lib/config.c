/*
 * Layered configuration (see config.h). Only parsing and checking: which
 * settings exist is up to each program.
 */
#include "lib/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_bool(const char *v, bool *ret)
{
    static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};

    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *ret = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *ret = false;
            return 0;
        }
    }
    return -EINVAL;
}

int st_config_set(const struct st_config_key *keys, const char *name, const char *value,
                  char *err, size_t errlen)
{
    const struct st_config_key *k = keys;

    while (k->name && strcmp(k->name, name) != 0)
        k++;
    if (!k->name) {
        snprintf(err, errlen, "unknown setting '%.64s'", name);
        return -ENOENT;
    }
    switch (k->type) {
    case ST_CONFIG_STRING:
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "'%s' is too long (at most %zu bytes)", name, k->size - 1);
            return -EINVAL;
        }
        memcpy(k->dst, value, strlen(value) + 1);
        return 0;
    case ST_CONFIG_INT: {
        char *end;
        long v;
        errno = 0;
        v = strtol(value, &end, 10);
        if (errno || end == value || *end || v < k->min || v > k->max) {
            snprintf(err, errlen, "'%s' must be a whole number from %d to %d", name, k->min,
                     k->max);
            return -EINVAL;
        }
        *(int *)k->dst = (int)v;
        return 0;
    }
    case ST_CONFIG_BOOL:
        if (parse_bool(value, (bool *)k->dst) < 0) {
            snprintf(err, errlen, "'%s' must be true or false", name);
            return -EINVAL;
        }
        return 0;
    }
    return -EINVAL;
}

static char *trim(char *s)
{
    char *e;

    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int st_config_load_file(const struct st_config_key *keys, const char *path, char *err,
                        size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[1024], msg[256];
    int lineno = 0, r = 0;
    long total = 0;

    if (!f) {
        if (errno == ENOENT)
            return -ENOENT;
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return -EINVAL;
    }
    while (fgets(line, sizeof(line), f)) {
        char *eq, *name, *value, *hash;

        lineno++;
        total += (long)strlen(line);
        if (total > ST_CONFIG_MAX_FILE || (!strchr(line, '\n') && !feof(f))) {
            snprintf(err, errlen, "%s:%d: line or file too long", path, lineno);
            r = -EINVAL;
            break;
        }
        if ((hash = strchr(line, '#')))
            *hash = '\0';
        name = trim(line);
        if (!*name)
            continue;
        if (!(eq = strchr(name, '='))) {
            snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
            r = -EINVAL;
            break;
        }
        *eq = '\0';
        value = trim(eq + 1);
        name = trim(name);
        if (st_config_set(keys, name, value, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            r = -EINVAL;
            break;
        }
    }
    /* A read error (a directory given as the file, say) is not an empty file. */
    if (r == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        r = -EINVAL;
    }
    fclose(f);
    return r;
}

int st_config_load_env(const struct st_config_key *keys, char *err, size_t errlen)
{
    char msg[256];

    for (const struct st_config_key *k = keys; k->name; k++) {
        const char *v = k->env ? getenv(k->env) : NULL;
        if (!v)
            continue;
        if (st_config_set(keys, k->name, v, msg, sizeof(msg)) < 0) {
            snprintf(err, errlen, "$%s: %s", k->env, msg);
            return -EINVAL;
        }
    }
    return 0;
}
