/*
 * Layered configuration: defaults < config file < environment < flags.
 * A program describes its settings in a table of struct st_config_key,
 * each pointing at the variable it fills; the layers are applied in that
 * order by calling the loaders in that order. Values are checked against
 * the key's type and range; an error names the key and where it came from.
 */
#ifndef STINT_CONFIG_H
#define STINT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum st_config_type {
    ST_CONFIG_STRING, /* dst is a char[size] */
    ST_CONFIG_INT,    /* dst is an int; min..max */
    ST_CONFIG_BOOL,   /* dst is a bool; true/false, yes/no, on/off, 1/0 */
};

struct st_config_key {
    const char *name; /* in the file: "name = value" */
    const char *env;  /* environment variable, or NULL */
    enum st_config_type type;
    void *dst;
    size_t size;
    int min, max;
};

#define ST_CONFIG_MAX_FILE (64 * 1024)

/* Sets one key from text; 0, or -EINVAL / -ENOENT (no such key) with err filled. */
int st_config_set(const struct st_config_key *keys, const char *name, const char *value,
                  char *err, size_t errlen);
/*
 * Reads "name = value" lines ('#' starts a comment; blank lines are
 * skipped) from path. Returns 0, -ENOENT when the file does not exist, or
 * -EINVAL with err naming the line.
 */
int st_config_load_file(const struct st_config_key *keys, const char *path, char *err,
                        size_t errlen);
/* Applies every key whose environment variable is set; 0 or -EINVAL. */
int st_config_load_env(const struct st_config_key *keys, char *err, size_t errlen);

#endif
