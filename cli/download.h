/*
 * Downloads that are not JSON (an invoice's PDF or CSV, a timesheet's CSV)
 * for the command-line client, and writing them to a file or stdout.
 * Errors are reported as cli_call reports them (cli/client.h): one message
 * on stderr and an exit status.
 */
#ifndef STINT_CLI_DOWNLOAD_H
#define STINT_CLI_DOWNLOAD_H

#include <stddef.h>

#include "cli/client.h"

/*
 * GET /api/v1PATH and hand over the body, newly allocated, whatever its
 * type. Returns CLI_OK, or an exit status after printing why (a 4xx/5xx
 * answer is reported with the server's message).
 */
int cli_download(struct cli_client *c, const char *path, char **ret_data, size_t *ret_len);

/*
 * Writes len bytes to path ("-": stdout) through a temporary file and a
 * rename, so a failed write never leaves half a file. CLI_OK or CLI_FAILED
 * (after printing why).
 */
int cli_save(const char *path, const char *data, size_t len);

#endif
