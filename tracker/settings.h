/*
 * The tracker's settings on this machine, shared by both faces: `stint
 * track` reads them and the desktop app reads and writes them, so that the
 * two behave the same and keep one journal. They live in one file,
 * $XDG_CONFIG_HOME/stint/tracker.conf ("name = value" lines, lib/config.h),
 * and some can be overridden from the environment:
 *
 *   quota_kb        STINT_QUOTA_KB      disk quota of the journal (0: 1 GiB)
 *   idle_minutes    STINT_IDLE_MINUTES  no input this long opens the idle prompt (0: 10)
 *   jpeg_quality    STINT_JPEG_QUALITY  1-100 (0: 70)
 *   format          STINT_SHOT_FORMAT   jpeg or webp
 *   monitor         -                   "all" or a monitor's index (0, 1, ...)
 *   blur            -                   blur screenshots before they leave the machine
 *   data_dir        -                   the journal's folder (empty: $XDG_DATA_HOME/stint)
 *   show_thumbnail  -                   the desktop app shows the last screenshot
 *
 * Not for: the sign-in (lib/signin.h) or the server's settings.
 *
 * Errors: functions return 0 or a negative errno with a sentence in err.
 * Ownership: strings returned by *_dup / *_path are the caller's (free()).
 */
#ifndef STINT_TRACKER_SETTINGS_H
#define STINT_TRACKER_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#define TK_SETTINGS_PATH_MAX 1024

struct tk_settings {
    int quota_kb;     /* 0: TK_QUOTA_DEFAULT_BYTES */
    int idle_minutes; /* 0: TK_IDLE_THRESHOLD_DEFAULT_S */
    int jpeg_quality; /* 0: the encoder's default */
    char format[8];   /* "jpeg" or "webp" */
    char monitor[8];  /* "all" or an index */
    bool blur;
    bool show_thumbnail;
    char data_dir[TK_SETTINGS_PATH_MAX]; /* absolute, or "" for the default */
};

struct tk_engine_opts;

/* The defaults: what a missing file means. */
void tk_settings_init(struct tk_settings *s);

/* The path of tracker.conf, newly allocated, or NULL without a home directory. */
char *tk_settings_path(void);

/*
 * Reads tracker.conf (a missing file is the defaults) and then the
 * environment into ret. -EINVAL with the file, line and key in err for a
 * value that is malformed or out of range. ret is written only on success.
 */
int tk_settings_load(struct tk_settings *ret, char *err, size_t errlen);

/*
 * Writes s to tracker.conf atomically (temporary file, fsync, rename),
 * keeping the comments and the order of the lines already there: a key
 * already in the file gets its new value in place, a key not there is
 * added when it differs from the default.
 */
int tk_settings_save(const struct tk_settings *s, char *err, size_t errlen);

/* TK_MONITOR_ALL (-1) or the monitor's index. */
int tk_settings_monitor(const struct tk_settings *s);

/* The journal's folder: data_dir, else tk_journal_default_dir(). Newly allocated, or NULL. */
char *tk_settings_data_dir_dup(const struct tk_settings *s);

/*
 * Fills the engine options the settings decide (quota, idle, encoding,
 * monitor, data dir). o borrows s->data_dir: keep s while o is in use.
 */
void tk_settings_apply(const struct tk_settings *s, struct tk_engine_opts *o);

#endif
