/*
 * Leveled logging: one line per message, prefixed with the UTC time and level.
 */
#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

static enum st_log_level min_level = ST_LOG_INFO;
static FILE *log_stream;

void st_log_set_level(enum st_log_level level)
{
    min_level = level;
}

void st_log_set_stream(FILE *f)
{
    log_stream = f;
}

int st_log_parse_level(const char *s, enum st_log_level *ret_level)
{
    static const char *names[] = {"debug", "info", "warn", "error"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i]) == 0) {
            *ret_level = (enum st_log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

void st_log(enum st_log_level level, const char *fmt, ...)
{
    static const char *tags[] = {"debug", "info", "warn", "error"};
    char msg[2048], stamp[32];
    struct timespec ts;
    struct tm tm;
    va_list ap;

    if (level < min_level)
        return;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One fprintf call so that lines from several threads do not interleave. */
    fprintf(log_stream ? log_stream : stderr, "%s %s: %s\n", stamp, tags[level], msg);
}
