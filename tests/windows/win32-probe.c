/*
 * A test driver for the Windows platform backend (win32.c), the Windows
 * sibling of tests/integration/x11-probe.c: opens the backend, runs the
 * commands given on the command line in order and prints one JSON line for
 * each, so that tests/integration/test_wine_platform.py can drive it under
 * Wine with xdotool and check what the tracker would have counted.
 *
 *   win32-probe COMMAND...
 *     activity SECONDS   drain input for SECONDS: {"keys":..,"mouse":..,"synthetic":..}
 *     activity -         the same, until standard input ends
 *     discard SECONDS    drain input for SECONDS and forget it, reporting what was
 *                        forgotten: {"discarded":{"keys":..,"mouse":..,"synthetic":..}}
 *                        (a test's own set-up clicks, before it counts)
 *     idle               {"idle_ms":..}
 *     monitors           {"monitors":[{"index":..,"name":..,"x":..,..,"primary":..}]}
 *     capture all|N FILE capture_rows straight into a binary PPM at FILE (no frame in
 *                        memory): {"width":..,"height":..,"single_colour":..}
 *     stream N           N captures of the whole screen streamed into a JPEG at the
 *                        default quality, as the recorder takes its screenshots (capture,
 *                        blank check and encode): {"runs":N,"median_ms":..,"p90_ms":..,
 *                        "jpeg_bytes":..,"blank":..} (for bench/wine.sh)
 *     describe           {"describe":"win32: ..."}
 *
 * It prints {"ready":true} once the backend is open (its hooks are in), and
 * {"captures":N} (the backend's own count of capture calls) last. Like the
 * backend, it never sees which key was pressed. Exit status 2: the backend
 * would not open; 1: a command failed.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracker/capture.h"
#include "tracker/platform/platform.h"
#include "tracker/platform/win32.h"

static const struct tk_platform *P = &tk_platform_native;

static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

/* Set when standard input has ended (a thread reads it: Windows cannot poll a pipe). */
static volatile LONG stdin_ended;

static DWORD WINAPI stdin_reader(void *arg)
{
    char buf[256];
    DWORD n;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);

    (void)arg;
    while (ReadFile(in, buf, sizeof(buf), &n, NULL) && n > 0)
        ;
    InterlockedExchange(&stdin_ended, 1);
    return 0;
}

/*
 * Drains input for a number of seconds, or with "-" until standard input
 * ends (so that a test can stop it right after its input has arrived).
 */
static int cmd_activity(struct tk_platform_ctx *ctx, const char *arg, bool discard)
{
    struct tk_activity acc = {0};
    bool until_eof = strcmp(arg, "-") == 0;
    ULONGLONG end = GetTickCount64() + (ULONGLONG)(until_eof ? 600000 : atof(arg) * 1000);
    bool last = false;

    if (until_eof) {
        HANDLE t = CreateThread(NULL, 0, stdin_reader, NULL, 0, NULL);
        if (!t) {
            fprintf(stderr, "win32-probe: cannot start a thread\n");
            return 1;
        }
        CloseHandle(t);
    }
    for (;;) {
        int rc = P->drain(ctx, &acc);
        if (rc < 0) {
            fprintf(stderr, "win32-probe: input stopped: %s\n", strerror(-rc));
            return 1;
        }
        if (last)
            break;
        /* One more drain after the end catches what came with it. */
        if (GetTickCount64() >= end || InterlockedCompareExchange(&stdin_ended, 0, 0))
            last = true;
        Sleep(last ? 100 : 50);
    }
    printf("%s{\"keys\":%d,\"mouse\":%d,\"synthetic\":%d}%s\n", discard ? "{\"discarded\":" : "",
           acc.keys, acc.mouse, acc.synthetic, discard ? "}" : "");
    return 0;
}

static int cmd_monitors(struct tk_platform_ctx *ctx)
{
    struct tk_monitor m[TK_MAX_MONITORS];
    int n = P->monitors(ctx, m, TK_MAX_MONITORS);

    if (n < 0) {
        fprintf(stderr, "win32-probe: cannot list monitors: %s\n", strerror(-n));
        return 1;
    }
    printf("{\"monitors\":[");
    for (int i = 0; i < n; i++) {
        printf("%s{\"index\":%d,\"name\":", i ? "," : "", m[i].index);
        print_json_string(m[i].name);
        printf(",\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d,\"primary\":%s}", m[i].x, m[i].y,
               m[i].width, m[i].height, m[i].primary ? "true" : "false");
    }
    printf("]}\n");
    return 0;
}

/* A rows sink that writes a binary PPM as the rows come, and tells a single-colour picture. */
struct ppm {
    FILE *f;
    int width, height;
    bool single;
    bool have_first;
    unsigned char first[3];
};

static int ppm_begin(void *ud, int width, int height, char *err, size_t errlen)
{
    struct ppm *p = ud;

    p->width = width;
    p->height = height;
    if (fprintf(p->f, "P6\n%d %d\n255\n", width, height) < 0) {
        snprintf(err, errlen, "cannot write the picture");
        return -EIO;
    }
    return 0;
}

static int ppm_rows(void *ud, const unsigned char *rgb, int stride, int n, char *err, size_t errlen)
{
    struct ppm *p = ud;

    for (int y = 0; y < n; y++) {
        const unsigned char *row = rgb + (size_t)y * stride;
        if (fwrite(row, 3, (size_t)p->width, p->f) != (size_t)p->width) {
            snprintf(err, errlen, "cannot write the picture");
            return -EIO;
        }
        if (!p->have_first) {
            memcpy(p->first, row, 3);
            p->have_first = true;
        }
        for (int x = 0; x < p->width && p->single; x++)
            p->single = memcmp(row + 3 * x, p->first, 3) == 0;
    }
    return 0;
}

static int cmd_capture(struct tk_platform_ctx *ctx, const char *which, const char *path)
{
    struct ppm p = {.single = true};
    struct tk_rows_sink sink = {.begin = ppm_begin, .rows = ppm_rows, .ud = &p};
    int monitor = strcmp(which, "all") == 0 ? TK_MONITOR_ALL : atoi(which);
    char err[256] = "";
    int rc;

    p.f = fopen(path, "wb");
    if (!p.f) {
        fprintf(stderr, "win32-probe: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    rc = P->capture_rows(ctx, monitor, &sink, err, sizeof(err));
    if (fclose(p.f) != 0 && rc == 0) {
        fprintf(stderr, "win32-probe: cannot write '%s'\n", path);
        return 1;
    }
    if (rc < 0) {
        printf("{\"error\":");
        print_json_string(err);
        printf("}\n");
        return 0;
    }
    printf("{\"width\":%d,\"height\":%d,\"single_colour\":%s}\n", p.width, p.height,
           p.single ? "true" : "false");
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

#define STREAM_MAX_RUNS 1000

static int cmd_stream(struct tk_platform_ctx *ctx, const char *arg)
{
    int runs = atoi(arg);
    double ms[STREAM_MAX_RUNS];
    LARGE_INTEGER freq, t0, t1;
    size_t len = 0;
    bool blank = false;
    char err[256] = "";

    if (runs < 1 || runs > STREAM_MAX_RUNS) {
        fprintf(stderr, "win32-probe: stream takes 1 to %d runs\n", STREAM_MAX_RUNS);
        return 1;
    }
    QueryPerformanceFrequency(&freq);
    for (int i = 0; i < runs; i++) {
        struct tk_shot_sink sk;
        void *bytes = NULL;
        int rc;

        tk_shot_sink_init(&sk, 0);
        QueryPerformanceCounter(&t0);
        rc = P->capture_rows(ctx, TK_MONITOR_ALL, &sk.sink, err, sizeof(err));
        if (rc < 0) {
            tk_shot_stream_abort(sk.stream);
            fprintf(stderr, "win32-probe: %s\n", err);
            return 1;
        }
        rc = tk_shot_stream_end(sk.stream, &blank, &bytes, &len, err, sizeof(err));
        QueryPerformanceCounter(&t1);
        free(bytes);
        if (rc < 0) {
            fprintf(stderr, "win32-probe: %s\n", err);
            return 1;
        }
        ms[i] = (double)(t1.QuadPart - t0.QuadPart) * 1000.0 / (double)freq.QuadPart;
    }
    qsort(ms, (size_t)runs, sizeof(ms[0]), cmp_double);
    printf("{\"runs\":%d,\"median_ms\":%.2f,\"p90_ms\":%.2f,\"jpeg_bytes\":%lu,\"blank\":%s}\n",
           runs, runs % 2 ? ms[runs / 2] : (ms[runs / 2 - 1] + ms[runs / 2]) / 2,
           ms[(runs * 9) / 10 < runs ? (runs * 9) / 10 : runs - 1], (unsigned long)len,
           blank ? "true" : "false");
    return 0;
}

int main(int argc, char **argv)
{
    struct tk_platform_ctx *ctx = NULL;
    char err[256] = "", line[512];
    int rc = 0;

    if (P->open(NULL, &ctx, err, sizeof(err)) < 0) {
        fprintf(stderr, "win32-probe: %s\n", err);
        return 2;
    }
    printf("{\"ready\":true}\n");
    fflush(stdout);
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *cmd = argv[i];
        if (strcmp(cmd, "activity") == 0 && i + 1 < argc) {
            rc = cmd_activity(ctx, argv[++i], false);
        } else if (strcmp(cmd, "discard") == 0 && i + 1 < argc) {
            rc = cmd_activity(ctx, argv[++i], true);
        } else if (strcmp(cmd, "idle") == 0) {
            int64_t ms = P->idle_ms(ctx);
            if (ms < 0) {
                fprintf(stderr, "win32-probe: cannot read the idle time\n");
                rc = 1;
            } else {
                printf("{\"idle_ms\":%lld}\n", (long long)ms);
            }
        } else if (strcmp(cmd, "monitors") == 0) {
            rc = cmd_monitors(ctx);
        } else if (strcmp(cmd, "capture") == 0 && i + 2 < argc) {
            rc = cmd_capture(ctx, argv[i + 1], argv[i + 2]);
            i += 2;
        } else if (strcmp(cmd, "stream") == 0 && i + 1 < argc) {
            rc = cmd_stream(ctx, argv[++i]);
        } else if (strcmp(cmd, "describe") == 0) {
            tk_platform_describe(P, ctx, line, sizeof(line));
            printf("{\"describe\":");
            print_json_string(line);
            printf("}\n");
        } else {
            fprintf(stderr, "win32-probe: unknown command or missing argument: '%s'\n", cmd);
            rc = 1;
        }
        fflush(stdout);
    }
    printf("{\"captures\":%d}\n", tk_win32_capture_calls());
    fflush(stdout);
    P->close(ctx);
    return rc;
}
