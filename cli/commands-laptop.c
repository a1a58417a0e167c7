/*
 * The command table of stint.exe on Windows: what a freelancer needs on
 * the laptop that tracks (sign-in, contracts, the timer and its queue, the
 * diary and its edits). The client's side (timesheets, invoices,
 * approvals), messaging and files stay on Linux and the web app. There is
 * no upload helper: `stint.exe track` uploads in-process.
 */
#include <stddef.h>

#include "cli/cli.h"

const struct cli_command *const cli_commands[] = {
    &cmd_login, &cmd_logout, &cmd_whoami, &cmd_contracts, &cmd_diary,
    &cmd_track,
    &cmd_status,
    &cmd_sync,
    &cmd_screenshot,
    &cmd_memo,  &cmd_tag,    &cmd_delete, &cmd_manual,
    &cmd_help,  NULL,
};

const struct cli_command *const cli_hidden_commands[] = {NULL};
