/*
 * A small leveled logger for the programs (stintd, stint, the tracker).
 * Library code does not log; it returns errors and the program that decides
 * what to do logs once. Thread-safe: each message is one write.
 */
#ifndef STINT_LOG_H
#define STINT_LOG_H

#include <stdio.h>

enum st_log_level {
    ST_LOG_DEBUG,
    ST_LOG_INFO,
    ST_LOG_WARN,
    ST_LOG_ERROR,
};

/* Messages below this level are dropped. Default: ST_LOG_INFO. */
void st_log_set_level(enum st_log_level level);
/* Where messages go. Default: stderr. The stream is borrowed. */
void st_log_set_stream(FILE *f);
/* Parses "debug", "info", "warn" or "error"; returns 0 or -EINVAL. */
int st_log_parse_level(const char *s, enum st_log_level *ret_level);

void st_log(enum st_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define st_debug(...) st_log(ST_LOG_DEBUG, __VA_ARGS__)
#define st_info(...) st_log(ST_LOG_INFO, __VA_ARGS__)
#define st_warn(...) st_log(ST_LOG_WARN, __VA_ARGS__)
#define st_error(...) st_log(ST_LOG_ERROR, __VA_ARGS__)

#endif
