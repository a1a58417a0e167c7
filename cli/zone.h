/*
 * Local time for the command-line client: which zone the user sees (the
 * --tz option, else the zone of their account), and reading and writing
 * wall-clock times in it. Zones come from lib/tz.h; nothing here touches
 * the process's TZ.
 */
#ifndef STINT_CLI_ZONE_H
#define STINT_CLI_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "cli/client.h"
#include "lib/tz.h"

/*
 * Finds the zone named option, or, when option is NULL, the zone of the
 * signed-in user (GET /me; UTC when the account has none). Returns CLI_OK
 * and *ret_tz, or an exit status after printing why: CLI_USAGE for an
 * option that names no zone.
 */
int cli_zone_resolve(struct cli_client *c, const char *option, const struct st_tz **ret_tz);

/*
 * Parses a time given on the command line: RFC 3339 with a zone
 * ("2026-11-23T10:20:00Z", "...+01:00"), or a wall-clock time in tz:
 * "YYYY-MM-DD HH:MM", "YYYY-MM-DD HH:MM:SS" (or with a 'T' instead of the
 * space). A wall-clock time that does not exist (skipped by a DST change)
 * is refused; one that exists twice means the earlier. Returns 0 or -EINVAL.
 */
int cli_parse_time(const char *s, const struct st_tz *tz, int64_t *ret_t);

/* Formats t in tz as "HH:MM", or "HH:MM:SS" with seconds; out holds 9 bytes. */
void cli_format_clock(int64_t t, const struct st_tz *tz, int seconds, char out[9]);

/* Formats the local date of t in tz as "YYYY-MM-DD"; out holds 11 bytes. */
void cli_format_date(int64_t t, const struct st_tz *tz, char out[11]);

#endif
