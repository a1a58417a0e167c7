/*
 * cli_track_run on Windows: the timer runs in stint.exe's own process
 * (cli_record), uploading on the engine's thread with libcurl and Schannel
 * (tk_transport_curl). There is no stint-recorder and no helper process
 * here: docs/HACKING.md says why. Not for Linux (track-exec.c).
 */
#include "cli/track.h"

#include "cli/client.h"
#include "cli/record.h"
#include "tracker/upload-pass.h"

int cli_track_run(const struct cli_client *client, const struct cli_record_args *a)
{
    return cli_record(a, client->token, &tk_transport_curl, NULL);
}
