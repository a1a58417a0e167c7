/*
 * The command table of stint on Linux: every command. The build picks this
 * file or commands-laptop.c (Windows: the commands that make sense on a
 * laptop); main.c and cmd-help.c only walk the table.
 */
#include <stddef.h>

#include "cli/cli.h"

const struct cli_command *const cli_commands[] = {
    &cmd_signup, &cmd_login, &cmd_logout, &cmd_whoami, &cmd_contracts, &cmd_diary,
    &cmd_track,
    &cmd_status,
    &cmd_sync,
    &cmd_screenshot,
    &cmd_memo,   &cmd_tag,   &cmd_delete, &cmd_manual,
    &cmd_timesheet, &cmd_invoices, &cmd_invoice, &cmd_approve, &cmd_dispute, &cmd_earnings,
    &cmd_rooms, &cmd_room, &cmd_messages, &cmd_send, &cmd_watch, &cmd_search,
    &cmd_files, &cmd_download,
    &cmd_help,   NULL,
};

/* The tracker's upload helper (tracker/transport.h): it runs, but is not listed. */
const struct cli_command *const cli_hidden_commands[] = {&cmd_upload, NULL};
