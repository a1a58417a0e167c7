/*
 * cli_track_run on Linux: replaces this process (exec) with stint-recorder,
 * the long-running half of the tracker (cli/stint-recorder.c), which links no
 * HTTP or TLS library and runs this very binary as `stint _upload` for each
 * upload, a short-lived helper (tracker/transport.h). The token goes over
 * a pipe, never on a command line. Not for Windows (track-inproc.c).
 */
#include "cli/track.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/record.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"

#define RECORDER "stint-recorder"

/* This binary's own path, for the recorder to run as the helper; NULL when unknown. */
static char *self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    /* Replaced by an upgrade meanwhile: the new file at that path is the helper to run. */
    if (n > 10 && strcmp(buf + n - 10, " (deleted)") == 0)
        buf[n - 10] = '\0';
    return xstrdup(buf);
}

/* stint-recorder beside this binary (a build tree), else in LIBEXECDIR. */
static char *recorder_path(const char *self)
{
    if (self) {
        const char *slash = strrchr(self, '/');
        char *p = xasprintf("%.*s/%s", (int)(slash ? slash - self : 1), slash ? self : ".",
                            RECORDER);
        if (access(p, X_OK) == 0)
            return p;
        free(p);
    }
    return xstrdup(STINT_LIBEXECDIR "/" RECORDER);
}

/* A pipe holding the token, its read end left open across exec; -1 after printing why. */
static int token_pipe(const char *token)
{
    int p[2];
    size_t len = strlen(token);

    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("stint: track: pipe");
        return -1;
    }
    /* A token is far below a pipe's buffer: this never blocks. */
    if (write(p[1], token, len) != (ssize_t)len || write(p[1], "\n", 1) != 1 ||
        fcntl(p[0], F_SETFD, 0) < 0) {
        perror("stint: track: pipe");
        close(p[0]);
        close(p[1]);
        return -1;
    }
    close(p[1]);
    return p[0];
}

int cli_track_run(const struct cli_client *client, const struct cli_record_args *a)
{
    int r;

    {
        char *self = self_path(), *recorder = recorder_path(self);
        char fdnum[16], secs[24], mon[16];
        const char *argv2[32 + 2 * CLI_TRACK_MAX_TAGS];
        int n = 0, fd;

        if (!self) {
            fprintf(stderr, "stint: track: cannot find this program's own path\n");
            r = CLI_FAILED;
        } else if ((fd = token_pipe(client->token)) >= 0) {
            snprintf(fdnum, sizeof(fdnum), "%d", fd);
            argv2[n++] = RECORDER;
            argv2[n++] = "--server";
            argv2[n++] = a->server;
            argv2[n++] = "--account";
            argv2[n++] = client->email ? client->email : "";
            argv2[n++] = "--helper";
            argv2[n++] = self;
            argv2[n++] = "--token-fd";
            argv2[n++] = fdnum;
            argv2[n++] = "--contract";
            argv2[n++] = a->contract;
            if (a->memo) {
                argv2[n++] = "--memo";
                argv2[n++] = a->memo;
            }
            for (int i = 0; i < a->ntags; i++) {
                argv2[n++] = "--tag";
                argv2[n++] = a->tags[i];
            }
            if (a->monitor_given) {
                snprintf(mon, sizeof(mon), "%d", a->monitor);
                argv2[n++] = "--monitor";
                argv2[n++] = a->monitor == TK_MONITOR_ALL ? "all" : mon;
            }
            if (a->blur)
                argv2[n++] = "--blur";
            if (a->for_s) {
                snprintf(secs, sizeof(secs), "%ld", a->for_s);
                argv2[n++] = "--for-s";
                argv2[n++] = secs;
            }
            argv2[n] = NULL;
            fflush(stdout);
            fflush(stderr);
            execv(recorder, (char *const *)argv2);
            fprintf(stderr, "stint: track: cannot run the recorder '%s': %s\n", recorder,
                    strerror(errno));
            close(fd);
            r = CLI_FAILED;
        } else {
            r = CLI_FAILED;
        }
        free(self);
        free(recorder);
    }
    return r;
}
