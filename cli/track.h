/*
 * How `stint track` runs the timer once cmd-track.c has checked the
 * command line and the sign-in; the build picks the file: track-exec.c on
 * Linux (exec stint-recorder, uploads through helper processes),
 * track-inproc.c on Windows (cli_record in this process, libcurl).
 */
#ifndef STINT_CLI_TRACK_H
#define STINT_CLI_TRACK_H

#define CLI_TRACK_MAX_TAGS 20

struct cli_client;
struct cli_record_args;

/* Runs the timer; returns an exit status (or does not return: exec). */
int cli_track_run(const struct cli_client *client, const struct cli_record_args *a);

#endif
