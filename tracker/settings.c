/*
 * tracker.conf: the settings both faces of the tracker share (settings.h).
 * Reading goes through lib/config's key table; writing edits the file line
 * by line so a person's comments survive the desktop app's settings window.
 */
#include "tracker/settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/config.h"
#include "lib/os.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/journal.h"

#define LINE_MAX_LEN 1024
#define KEYS 8

void tk_settings_init(struct tk_settings *s)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->format, sizeof(s->format), "jpeg");
    snprintf(s->monitor, sizeof(s->monitor), "all");
    s->show_thumbnail = true;
}

/* The key table over s: the one list of what tracker.conf may hold. */
static void keys_for(struct tk_settings *s, struct st_config_key keys[KEYS + 1])
{
    const struct st_config_key k[KEYS + 1] = {
        {"quota_kb", "STINT_QUOTA_KB", ST_CONFIG_INT, &s->quota_kb, 0, 1, 1 << 30},
        {"idle_minutes", "STINT_IDLE_MINUTES", ST_CONFIG_INT, &s->idle_minutes, 0, 1, 1440},
        {"jpeg_quality", "STINT_JPEG_QUALITY", ST_CONFIG_INT, &s->jpeg_quality, 0, 1, 100},
        {"format", "STINT_SHOT_FORMAT", ST_CONFIG_STRING, s->format, sizeof(s->format), 0, 0},
        {"monitor", NULL, ST_CONFIG_STRING, s->monitor, sizeof(s->monitor), 0, 0},
        {"blur", NULL, ST_CONFIG_BOOL, &s->blur, 0, 0, 0},
        {"data_dir", NULL, ST_CONFIG_STRING, s->data_dir, sizeof(s->data_dir), 0, 0},
        {"show_thumbnail", NULL, ST_CONFIG_BOOL, &s->show_thumbnail, 0, 0, 0},
        {NULL, NULL, 0, NULL, 0, 0, 0},
    };
    memcpy(keys, k, sizeof(k));
}

char *tk_settings_path(void)
{
    char *dir = st_os_config_dir();
    char *path = dir ? xasprintf("%s/tracker.conf", dir) : NULL;

    free(dir);
    return path;
}

/* Checks the values the key table cannot: the format, the monitor, the folder. */
static int check(const struct tk_settings *s, char *err, size_t errlen)
{
    if (strcmp(s->format, "jpeg") != 0 && strcmp(s->format, "webp") != 0) {
        snprintf(err, errlen, "format is jpeg or webp, not '%s'", s->format);
        return -EINVAL;
    }
    if (strcmp(s->monitor, "all") != 0) {
        char *end;
        long v = strtol(s->monitor, &end, 10);
        if (!s->monitor[0] || *end || v < 0 || v >= TK_MAX_MONITORS) {
            snprintf(err, errlen, "monitor is 'all' or a number from 0 to %d, not '%s'",
                     TK_MAX_MONITORS - 1, s->monitor);
            return -EINVAL;
        }
    }
    if (s->data_dir[0] && (s->data_dir[0] != '/' || strpbrk(s->data_dir, "#\n"))) {
        snprintf(err, errlen, "data_dir must be an absolute path without '#', not '%s'",
                 s->data_dir);
        return -EINVAL;
    }
    return 0;
}

int tk_settings_load(struct tk_settings *ret, char *err, size_t errlen)
{
    struct tk_settings s;
    struct st_config_key keys[KEYS + 1];
    char *path;
    int r;

    tk_settings_init(&s);
    keys_for(&s, keys);
    path = tk_settings_path();
    if (path) {
        r = st_config_load_file(keys, path, err, errlen);
        free(path);
        if (r < 0 && r != -ENOENT)
            return r;
    }
    if ((r = st_config_load_env(keys, err, errlen)) < 0)
        return r;
    if ((r = check(&s, err, errlen)) < 0)
        return r;
    *ret = s;
    return 0;
}

/* The value of key i of s as the file holds it; "" means "leave it out" for a default. */
static void value_of(const struct st_config_key *k, char *out, size_t len)
{
    switch (k->type) {
    case ST_CONFIG_STRING:
        snprintf(out, len, "%s", (const char *)k->dst);
        break;
    case ST_CONFIG_INT:
        snprintf(out, len, "%d", *(const int *)k->dst);
        break;
    case ST_CONFIG_BOOL:
        snprintf(out, len, "%s", *(const bool *)k->dst ? "true" : "false");
        break;
    }
}

/* Whether key i holds its default value (then a new line for it is not needed). */
static bool is_default(const struct st_config_key *k, const struct st_config_key *d)
{
    char a[LINE_MAX_LEN], b[LINE_MAX_LEN];

    value_of(k, a, sizeof(a));
    value_of(d, b, sizeof(b));
    return strcmp(a, b) == 0 || (k->type == ST_CONFIG_INT && *(const int *)k->dst == 0);
}


int tk_settings_save(const struct tk_settings *in, char *err, size_t errlen)
{
    struct tk_settings s = *in, defaults;
    struct st_config_key keys[KEYS + 1], dkeys[KEYS + 1];
    bool written[KEYS] = {false};
    char *dir = NULL, *path = NULL, *tmp = NULL;
    char line[LINE_MAX_LEN + 2], value[LINE_MAX_LEN];
    FILE *in_f = NULL, *out_f = NULL;
    int fd = -1, r;

    if ((r = check(&s, err, errlen)) < 0)
        return r;
    tk_settings_init(&defaults);
    keys_for(&s, keys);
    keys_for(&defaults, dkeys);
    if (!(dir = st_os_config_dir())) {
        snprintf(err, errlen, "no home directory: set XDG_CONFIG_HOME");
        return -ENOENT;
    }
    path = xasprintf("%s/tracker.conf", dir);
    tmp = xasprintf("%s/.tracker.conf.XXXXXX", dir);
    if ((r = st_mkdir_p(dir)) < 0 || (fd = mkstemp(tmp)) < 0 || !(out_f = fdopen(fd, "w"))) {
        r = r < 0 ? r : -errno;
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-r));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        goto out;
    }
    fd = -1;

    /* The lines already there: a known key gets its new value; the rest is kept as it was. */
    if ((in_f = fopen(path, "r"))) {
        while (fgets(line, sizeof(line), in_f)) {
            char name[64] = "";
            int i;

            if (sscanf(line, " %63[a-z_] =", name) == 1) {
                for (i = 0; keys[i].name && strcmp(keys[i].name, name) != 0; i++)
                    ;
                if (keys[i].name) {
                    if (!written[i]) {
                        /* A comment after the value stays with it. */
                        char *comment = strchr(line, '#');
                        value_of(&keys[i], value, sizeof(value));
                        if (comment)
                            comment[strcspn(comment, "\n")] = '\0';
                        fprintf(out_f, "%s = %s%s%s\n", keys[i].name, value, comment ? " " : "",
                                comment ? comment : "");
                        written[i] = true;
                    }
                    continue; /* a second line for one key would override the first */
                }
            }
            fputs(line, out_f);
            if (!strchr(line, '\n'))
                fputc('\n', out_f);
        }
        fclose(in_f);
    }
    for (int i = 0; keys[i].name; i++) {
        if (written[i] || is_default(&keys[i], &dkeys[i]))
            continue;
        value_of(&keys[i], value, sizeof(value));
        fprintf(out_f, "%s = %s\n", keys[i].name, value);
    }
    if (fflush(out_f) != 0 || fsync(fileno(out_f)) < 0) {
        r = -errno;
        fclose(out_f);
        unlink(tmp);
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-r));
        goto out;
    }
    if (fclose(out_f) != 0 || (r = st_os_replace(tmp, path)) < 0) {
        r = r < 0 ? r : -errno;
        unlink(tmp);
        snprintf(err, errlen, "cannot write '%s': %s", path, strerror(-r));
        goto out;
    }
    r = 0;
out:
    free(dir);
    free(path);
    free(tmp);
    return r;
}

int tk_settings_monitor(const struct tk_settings *s)
{
    if (strcmp(s->monitor, "all") == 0 || !s->monitor[0])
        return TK_MONITOR_ALL;
    return atoi(s->monitor);
}

char *tk_settings_data_dir_dup(const struct tk_settings *s)
{
    return s->data_dir[0] ? xstrdup(s->data_dir) : tk_journal_default_dir();
}

void tk_settings_apply(const struct tk_settings *s, struct tk_engine_opts *o)
{
    o->quota_bytes = (int64_t)s->quota_kb * 1024;
    o->idle_threshold_s = s->idle_minutes * 60;
    o->monitor = tk_settings_monitor(s);
    o->encode.blur = s->blur;
    o->encode.quality = s->jpeg_quality;
    o->encode.format = strcmp(s->format, "webp") == 0 ? TK_SHOT_WEBP : TK_SHOT_JPEG;
    o->data_dir = s->data_dir[0] ? s->data_dir : NULL;
}
