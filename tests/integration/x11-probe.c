/*
 * A test driver for the platform backends: opens the display, runs the
 * commands given on the command line in order and prints one JSON line for
 * each, so that tests/integration/test_x11.py can drive a real Xvfb with
 * xdotool (and test_wayland.py a headless sway with wtype) and check what
 * the tracker would have counted. The backend is X11 unless --backend says
 * wayland or native (select.c's run-time choice).
 *
 *   x11-probe [--backend x11|wayland|native] [--display NAME] COMMAND...
 *     activity SECONDS   drain input for SECONDS:
 *                        {"keys":..,"mouse":..,"synthetic":..,"active_s":..}
 *     activity -         the same, until standard input ends; a backend that
 *                        measures active seconds is then drained until it
 *                        reports idle (at most 5 s), so that the last second
 *                        of input is counted
 *     settle             drain and drop input until the desktop reports 1 s of idle
 *                        (at most 5 s): {"settled":true|false,"idle_ms":..}
 *     describe           {"backend":..,"measure":"counts"|"active_seconds","describe":..}
 *     idle               {"idle_ms":..}
 *     monitors           {"monitors":[{"index":..,"name":..,"x":..,..}]}
 *     capture all|N      capture, blank check and JPEG encode:
 *                        {"width":..,"height":..,"blank":..,"reason":..,"jpeg_bytes":..}
 *     stream all|N       the same as the recorder does it by default: capture_rows
 *                        straight into a JPEG stream, no frame:
 *                        {"width":..,"height":..,"blank":..,"reason":..,"jpeg_bytes":..}
 *     save FILE          write the last capture's JPEG to FILE
 *     memory             this process's resident memory, now and at its peak:
 *                        {"rss_kb":..,"shmem_kb":..,"hwm_kb":..}
 *
 * It prints {"ready":true} once the display is open and input is selected,
 * and {"captures":N} (the backend's own count of capture calls) last. Like
 * the backend, it never sees which key was pressed.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tracker/capture.h"
#include "tracker/platform/platform.h"
#include "tracker/platform/wayland.h"
#include "tracker/platform/x11.h"

static const struct tk_platform *P = &tk_platform_x11;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/*
 * Drains input for a number of seconds, or with "-" until standard input
 * ends (so that a test can stop it right after its input has arrived).
 */
static int cmd_activity(struct tk_platform_ctx *ctx, const char *arg)
{
    struct tk_activity acc = {0};
    bool until_eof = strcmp(arg, "-") == 0;
    double end = now_s() + (until_eof ? 600 : atof(arg));
    struct pollfd p[2] = {{.fd = P->fd(ctx), .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    bool eof = false;

    for (;;) {
        double left = end - now_s();
        int rc = P->drain(ctx, &acc);
        if (rc < 0) {
            fprintf(stderr, "x11-probe: input stopped: %s\n", strerror(-rc));
            return 1;
        }
        if (left <= 0 || eof)
            break;
        if (poll(p, until_eof ? 2 : 1, left > 0.2 ? 200 : (int)(left * 1000) + 1) > 0 &&
            until_eof && p[1].revents) {
            char buf[256];
            /* The last drain above the loop's end catches what came with the EOF. */
            eof = read(0, buf, sizeof(buf)) <= 0;
        }
    }
    if (until_eof && tk_platform_measure(P, ctx) == TK_MEASURE_ACTIVE_SECONDS) {
        /* Seconds of input are counted once the compositor says idle (or 1 s later). */
        double settle = now_s() + 5;
        int64_t idle;
        while ((idle = P->idle_ms(ctx)) >= 0 && idle < 1000 && now_s() < settle) {
            if (P->drain(ctx, &acc) < 0)
                break;
            poll(p, 1, 50);
        }
        if (P->drain(ctx, &acc) < 0) {
            fprintf(stderr, "x11-probe: input stopped\n");
            return 1;
        }
    }
    printf("{\"keys\":%d,\"mouse\":%d,\"synthetic\":%d,\"active_s\":%d}\n", acc.keys,
           acc.mouse, acc.synthetic, acc.active_s);
    return 0;
}

static int cmd_settle(struct tk_platform_ctx *ctx)
{
    struct tk_activity dropped = {0};
    double end = now_s() + 5;
    int64_t idle;

    while ((idle = P->idle_ms(ctx)) >= 0 && idle < 1000 && now_s() < end) {
        if (P->drain(ctx, &dropped) < 0)
            break;
        poll(NULL, 0, 20);
    }
    P->drain(ctx, &dropped);
    printf("{\"settled\":%s,\"idle_ms\":%lld}\n", idle >= 1000 ? "true" : "false",
           (long long)idle);
    return 0;
}

static int cmd_describe(struct tk_platform_ctx *ctx)
{
    char d[1024];

    tk_platform_describe(P, ctx, d, sizeof(d));
    printf("{\"backend\":");
    print_json_string(P->name);
    printf(",\"measure\":\"%s\",\"describe\":",
           tk_platform_measure(P, ctx) == TK_MEASURE_ACTIVE_SECONDS ? "active_seconds"
                                                                     : "counts");
    print_json_string(d);
    printf("}\n");
    return 0;
}

static int cmd_monitors(struct tk_platform_ctx *ctx)
{
    struct tk_monitor m[TK_MAX_MONITORS];
    int n = P->monitors(ctx, m, TK_MAX_MONITORS);

    if (n < 0) {
        fprintf(stderr, "x11-probe: cannot list monitors: %s\n", strerror(-n));
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

static int cmd_capture(struct tk_platform_ctx *ctx, const char *which, void **jpeg, size_t *len)
{
    struct tk_frame f = {0};
    struct tk_encode_opts o = {0};
    char err[256], reason[128] = "";
    int monitor = strcmp(which, "all") == 0 ? TK_MONITOR_ALL : atoi(which);
    bool blank;
    int rc = P->capture(ctx, monitor, &f, err, sizeof(err));

    if (rc < 0) {
        printf("{\"error\":");
        print_json_string(err);
        printf("}\n");
        return 0;
    }
    blank = tk_frame_blank(&f, reason, sizeof(reason));
    free(*jpeg);
    *jpeg = NULL;
    *len = 0;
    if (tk_shot_encode(&f, &o, jpeg, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "x11-probe: %s\n", err);
        tk_frame_release(&f);
        return 1;
    }
    printf("{\"width\":%d,\"height\":%d,\"blank\":%s,\"reason\":", f.width, f.height,
           blank ? "true" : "false");
    print_json_string(reason);
    printf(",\"jpeg_bytes\":%zu}\n", *len);
    tk_frame_release(&f);
    return 0;
}

/* capture.h's stream sink, with the size kept for the report. */
struct streamed {
    struct tk_shot_sink sk;
    int width, height;
};

static int streamed_begin(void *ud, int width, int height, char *err, size_t errlen)
{
    struct streamed *st = ud;

    st->width = width;
    st->height = height;
    return st->sk.sink.begin(st->sk.sink.ud, width, height, err, errlen);
}

static int streamed_rows(void *ud, const unsigned char *rgb, int stride, int n, char *err,
                         size_t errlen)
{
    struct streamed *st = ud;

    return st->sk.sink.rows(st->sk.sink.ud, rgb, stride, n, err, errlen);
}

static int cmd_stream(struct tk_platform_ctx *ctx, const char *which, void **jpeg, size_t *len)
{
    struct streamed st = {0};
    struct tk_rows_sink sink;
    char err[256] = "";
    int monitor = strcmp(which, "all") == 0 ? TK_MONITOR_ALL : atoi(which);
    bool blank = false;
    int rc;

    tk_shot_sink_init(&st.sk, 0);
    sink = (struct tk_rows_sink){.begin = streamed_begin, .rows = streamed_rows, .ud = &st};
    rc = P->capture_rows(ctx, monitor, &sink, err, sizeof(err));

    free(*jpeg);
    *jpeg = NULL;
    *len = 0;
    if (rc < 0) {
        tk_shot_stream_abort(st.sk.stream);
        printf("{\"error\":");
        print_json_string(err);
        printf("}\n");
        return 0;
    }
    if (tk_shot_stream_end(st.sk.stream, &blank, jpeg, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "x11-probe: %s\n", err);
        return 1;
    }
    printf("{\"width\":%d,\"height\":%d,\"blank\":%s,\"reason\":", st.width, st.height,
           blank ? "true" : "false");
    print_json_string(blank ? err : "");
    printf(",\"jpeg_bytes\":%zu}\n", *len);
    return 0;
}

/* Resident memory, and the part of it that is shared memory (the capture segment). */
static int cmd_memory(void)
{
    FILE *fp = fopen("/proc/self/status", "r");
    char line[256];
    long rss = -1, shmem = -1, hwm = -1;

    if (!fp) {
        fprintf(stderr, "x11-probe: cannot read /proc/self/status\n");
        return 1;
    }
    while (fgets(line, sizeof(line), fp)) {
        sscanf(line, "VmRSS: %ld", &rss);
        sscanf(line, "RssShmem: %ld", &shmem);
        sscanf(line, "VmHWM: %ld", &hwm);
    }
    fclose(fp);
    printf("{\"rss_kb\":%ld,\"shmem_kb\":%ld,\"hwm_kb\":%ld}\n", rss, shmem, hwm);
    return 0;
}

static int cmd_save(const char *path, const void *jpeg, size_t len)
{
    FILE *fp = fopen(path, "wb");

    if (!fp || fwrite(jpeg, 1, len, fp) != len || fclose(fp) != 0) {
        fprintf(stderr, "x11-probe: cannot write '%s'\n", path);
        return 1;
    }
    printf("{\"saved\":");
    print_json_string(path);
    printf("}\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct tk_platform_ctx *ctx = NULL;
    const char *display = NULL;
    char err[256];
    void *jpeg = NULL;
    size_t len = 0;
    int i = 1, rc;

    if (i + 1 < argc && strcmp(argv[i], "--backend") == 0) {
        const char *b = argv[i + 1];
        if (strcmp(b, "wayland") == 0)
            P = &tk_platform_wayland;
        else if (strcmp(b, "native") == 0)
            P = &tk_platform_native;
        else if (strcmp(b, "x11") != 0) {
            fprintf(stderr, "x11-probe: no backend '%s'\n", b);
            return 2;
        }
        i += 2;
    }
    if (i + 1 < argc && strcmp(argv[i], "--display") == 0) {
        display = argv[i + 1];
        i += 2;
    }
    rc = P->open(display, &ctx, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "x11-probe: %s\n", err);
        return 2;
    }
    printf("{\"ready\":true}\n");
    fflush(stdout);
    rc = 0;
    for (; i < argc && rc == 0; i++) {
        const char *cmd = argv[i];
        const char *arg = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(cmd, "activity") == 0 && arg) {
            rc = cmd_activity(ctx, arg);
            i++;
        } else if (strcmp(cmd, "idle") == 0) {
            printf("{\"idle_ms\":%lld}\n", (long long)P->idle_ms(ctx));
        } else if (strcmp(cmd, "settle") == 0) {
            rc = cmd_settle(ctx);
        } else if (strcmp(cmd, "describe") == 0) {
            rc = cmd_describe(ctx);
        } else if (strcmp(cmd, "memory") == 0) {
            rc = cmd_memory();
        } else if (strcmp(cmd, "monitors") == 0) {
            rc = cmd_monitors(ctx);
        } else if (strcmp(cmd, "capture") == 0 && arg) {
            rc = cmd_capture(ctx, arg, &jpeg, &len);
            i++;
        } else if (strcmp(cmd, "stream") == 0 && arg) {
            rc = cmd_stream(ctx, arg, &jpeg, &len);
            i++;
        } else if (strcmp(cmd, "save") == 0 && arg && jpeg) {
            rc = cmd_save(arg, jpeg, len);
            i++;
        } else {
            fprintf(stderr, "x11-probe: bad command '%s'\n", cmd);
            rc = 2;
        }
        fflush(stdout);
    }
    printf("{\"captures\":%d}\n", tk_x11_capture_calls() + tk_wayland_capture_calls());
    free(jpeg);
    P->close(ctx);
    return rc;
}
