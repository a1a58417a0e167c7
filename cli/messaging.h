/*
 * What the messaging commands (rooms, room, messages, send, watch, search)
 * share: finding a room from what a user typed, and showing rooms and
 * messages as text. Text from others goes through cli_msg_clean, so a
 * message cannot drive the terminal. No WebSocket here (ws.h).
 */
#ifndef STINT_CLI_MESSAGING_H
#define STINT_CLI_MESSAGING_H

#include <jansson.h>
#include <stdbool.h>

#include "cli/client.h"

/* "2026-11-23 10:20" in the local time zone, and a NUL. */
#define CLI_LOCAL_TIME_LEN 32
#define CLI_SIZE_LEN 32

/*
 * Returns a copy of s, newly allocated, for a terminal: ANSI escape
 * sequences (CSI, OSC, DCS and two-byte ESC sequences) are dropped whole,
 * other control characters (C0, DEL, C1), bidirectional overrides and
 * broken UTF-8 become '?', except that with multiline, '\n' stays and
 * every line after the first is prefixed with indent. Tabs become spaces.
 */
char *cli_msg_clean(const char *s, bool multiline, const char *indent);

/* Formats an RFC 3339 time as local "YYYY-MM-DD HH:MM"; "?" when it does not parse. */
void cli_format_local_time(const char *rfc3339, char out[CLI_LOCAL_TIME_LEN]);

/* "512 B", "1.5 KiB", "12.3 MiB", "1.2 GiB". */
void cli_format_size(long long bytes, char out[CLI_SIZE_LEN]);

/*
 * Finds the caller's room that arg names: a room id, a contract id, an
 * exact title, else a title prefix that fits one room only (case is
 * ignored for ASCII letters). Returns CLI_OK and a new reference to the
 * room object of GET /rooms in *ret_room; otherwise prints why and returns
 * CLI_REFUSED (no such room), CLI_USAGE (ambiguous: the candidates are
 * listed) or the status of the failed request. cmd names the command in
 * messages.
 */
int cli_room_find(struct cli_client *c, const char *cmd, const char *arg, json_t **ret_room);

/*
 * Prints one message as text on stdout:
 *   2026-11-23 10:20  [ROOM] AUTHOR: TEXT (edited)
 *       more lines of the text
 *       file: NAME (SIZE)
 * room_title (NULL: left out) and the message id (with ids) are
 * prefixed. A deleted message prints "[deleted]". A reply names the
 * message it answers when that one is in page (an array of messages; may
 * be NULL): its author and how it began; with ids, its id.
 */
void cli_msg_print(json_t *msg, const char *room_title, bool ids, json_t *page);

#endif
