/*
 * Benchmark: what one screenshot costs the tracker. Captures the screen
 * with the native backend and encodes it as the tracker does (JPEG at the
 * default quality), many times, and prints the median and 90th percentile
 * of each step, the JPEG size, and the slower options (WebP, blur) for
 * comparison. bench/capture.sh runs it under Xvfb beside scrot, and
 * bench/capture-wayland.sh (--backend wayland) on a headless sway beside grim.
 *
 * "Warm" runs follow each other, so the backend's shared-memory segment
 * and the allocator's pages are reused; "cold" runs each open a new
 * connection first and give freed memory back to the system (not timed),
 * as a screenshot ten minutes after the last one finds nothing kept.
 * Both time what the recorder does: capture, blank check, encode.
 *
 *   bench-capture [--display NAME] [--runs N] [--cold-runs N] [--slow-runs N]
 *                 [--monitor all|N] [--backend x11|wayland]
 *   bench-capture [--display NAME] --once FILE     one capture + encode to FILE
 *
 * Output: one "name value" pair a line, times in milliseconds.
 */
#include <stdbool.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tracker/capture.h"
#include "tracker/platform/platform.h"

static const struct tk_platform *P = &tk_platform_x11;

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time of this thread: unlike wall time, not stretched by other load (the X server's copy is
 * not in it). */
static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, int p)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[(n - 1) * p / 100];
}

static void report(const char *name, double *v, int n)
{
    printf("%s_median_ms %.2f\n", name, pct(v, n, 50));
    printf("%s_p90_ms %.2f\n", name, pct(v, n, 90));
}

static int grab(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *f)
{
    char err[256];

    if (P->capture(ctx, monitor, f, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench-capture: %s\n", err);
        return -1;
    }
    return 0;
}

static int encode(const struct tk_frame *f, const struct tk_encode_opts *o, size_t *ret_len)
{
    char err[256];
    void *bytes;

    if (tk_shot_encode(f, o, &bytes, ret_len, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench-capture: %s\n", err);
        return -1;
    }
    free(bytes);
    return 0;
}

/* The recorder's default: the rows straight into the JPEG stream (no frame). */
static int streamed(struct tk_platform_ctx *ctx, int monitor, void **bytes, size_t *len)
{
    struct tk_shot_sink sk;
    char err[256] = "";
    bool blank = false;

    tk_shot_sink_init(&sk, 0);
    if (P->capture_rows(ctx, monitor, &sk.sink, err, sizeof(err)) < 0) {
        tk_shot_stream_abort(sk.stream);
        fprintf(stderr, "bench-capture: %s\n", err);
        return -1;
    }
    if (tk_shot_stream_end(sk.stream, &blank, bytes, len, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench-capture: %s\n", err);
        return -1;
    }
    if (blank) {
        fprintf(stderr, "bench-capture: the frame turned blank\n");
        return -1;
    }
    return 0;
}

/* One screenshot as the recorder takes it by default (streamed), written to path. */
static int once(struct tk_platform_ctx *ctx, int monitor, const char *path)
{
    void *bytes = NULL;
    size_t len = 0;
    FILE *fp;
    int rc = 1;

    if (streamed(ctx, monitor, &bytes, &len) < 0)
        return 1;
    fp = fopen(path, "wb");
    if (fp && fwrite(bytes, 1, len, fp) == len && fclose(fp) == 0)
        rc = 0;
    else
        fprintf(stderr, "bench-capture: cannot write '%s'\n", path);
    free(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    const char *display = NULL, *once_path = NULL;
    int runs = 50, cold_runs = 10, slow_runs = 5, monitor = TK_MONITOR_ALL, rc = 1;
    struct tk_platform_ctx *ctx;
    struct tk_encode_opts jpeg = {0}, webp = {.format = TK_SHOT_WEBP}, blur = {.blur = true};
    struct tk_frame f = {0};
    double *cap, *blank, *enc, *tot, *cpu, *slow;
    char err[256], reason[128];
    size_t len = 0, wlen = 0, blen = 0;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--display") == 0)
            display = argv[i + 1];
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--cold-runs") == 0)
            cold_runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--slow-runs") == 0)
            slow_runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--monitor") == 0)
            monitor = strcmp(argv[i + 1], "all") == 0 ? TK_MONITOR_ALL : atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--once") == 0)
            once_path = argv[i + 1];
        else if (strcmp(argv[i], "--backend") == 0 && strcmp(argv[i + 1], "wayland") == 0)
            P = &tk_platform_wayland;
        else if (strcmp(argv[i], "--backend") == 0 && strcmp(argv[i + 1], "x11") == 0)
            P = &tk_platform_x11;
        else {
            fprintf(stderr, "bench-capture: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    if (runs < 1 || runs > 10000 || cold_runs < 1 || cold_runs > 1000 || slow_runs < 1 ||
        slow_runs > 1000) {
        fprintf(stderr, "bench-capture: --runs 1..10000, --cold-runs and --slow-runs 1..1000\n");
        return 2;
    }
    if (P->open(display, &ctx, err, sizeof(err)) < 0) {
        fprintf(stderr, "bench-capture: %s\n", err);
        return 1;
    }
    if (once_path) {
        rc = once(ctx, monitor, once_path);
        P->close(ctx);
        return rc;
    }
    cap = calloc((size_t)runs, sizeof(double));
    blank = calloc((size_t)runs, sizeof(double));
    cpu = calloc((size_t)runs, sizeof(double));
    enc = calloc((size_t)runs, sizeof(double));
    tot = calloc((size_t)runs, sizeof(double));
    slow = calloc((size_t)(slow_runs > cold_runs ? slow_runs : cold_runs), sizeof(double));
    if (!cap || !blank || !enc || !tot || !cpu || !slow)
        goto out;

    /* One untimed round first, so that page faults and lazy set-up are not measured. */
    if (grab(ctx, monitor, &f) < 0 || encode(&f, &jpeg, &len) < 0)
        goto out;
    printf("width %d\nheight %d\n", f.width, f.height);
    printf("blank %s\n", tk_frame_blank(&f, reason, sizeof(reason)) ? "yes" : "no");
    tk_frame_release(&f);

    /* What the recorder does for a screenshot: capture, blank check, encode. */
    for (int i = 0; i < runs; i++) {
        double c0 = cpu_ms(), t0 = now_ms(), t1, t2, t3;
        if (grab(ctx, monitor, &f) < 0)
            goto out;
        t1 = now_ms();
        if (tk_frame_blank(&f, reason, sizeof(reason))) {
            fprintf(stderr, "bench-capture: the frame turned blank\n");
            goto out;
        }
        t2 = now_ms();
        if (encode(&f, &jpeg, &len) < 0)
            goto out;
        t3 = now_ms();
        tk_frame_release(&f);
        cap[i] = t1 - t0;
        blank[i] = t2 - t1;
        enc[i] = t3 - t2;
        tot[i] = t3 - t0;
        cpu[i] = cpu_ms() - c0;
    }
    report("capture", cap, runs);
    report("blank_check", blank, runs);
    report("encode_jpeg", enc, runs);
    report("capture_encode", tot, runs);
    report("capture_encode_cpu", cpu, runs);
    printf("jpeg_quality %d\njpeg_bytes %zu\n", TK_SHOT_QUALITY_DEFAULT, len);

    for (int i = 0; i < cold_runs; i++) {
        struct tk_platform_ctx *fresh;
        double t0;
        bool failed;
        if (P->open(display, &fresh, err, sizeof(err)) < 0) {
            fprintf(stderr, "bench-capture: %s\n", err);
            goto out;
        }
#ifdef __GLIBC__
        /* As the backend does once a capture's memory has lingered (x11.c). */
        malloc_trim(0);
#endif
        t0 = now_ms();
        failed = grab(fresh, monitor, &f) < 0 || tk_frame_blank(&f, reason, sizeof(reason)) ||
                 encode(&f, &jpeg, &len) < 0;
        slow[i] = now_ms() - t0;
        tk_frame_release(&f);
        P->close(fresh);
        if (failed)
            goto out;
    }
    report("cold_capture_encode", slow, cold_runs);

    /* The recorder's default path: streamed, no frame. Warm, then cold. */
    for (int i = 0; i < runs; i++) {
        double c0 = cpu_ms(), t0 = now_ms();
        void *bytes = NULL;
        if (streamed(ctx, monitor, &bytes, &len) < 0)
            goto out;
        tot[i] = now_ms() - t0;
        cpu[i] = cpu_ms() - c0;
        free(bytes);
    }
    report("streamed_capture_encode", tot, runs);
    report("streamed_capture_encode_cpu", cpu, runs);
    printf("streamed_jpeg_bytes %zu\n", len);
    for (int i = 0; i < cold_runs; i++) {
        struct tk_platform_ctx *fresh;
        void *bytes = NULL;
        double t0;
        if (P->open(display, &fresh, err, sizeof(err)) < 0) {
            fprintf(stderr, "bench-capture: %s\n", err);
            goto out;
        }
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        t0 = now_ms();
        if (streamed(fresh, monitor, &bytes, &len) < 0) {
            P->close(fresh);
            goto out;
        }
        slow[i] = now_ms() - t0;
        free(bytes);
        P->close(fresh);
    }
    report("streamed_cold_capture_encode", slow, cold_runs);

    if (grab(ctx, monitor, &f) < 0)
        goto out;
    for (int i = 0; i < slow_runs; i++) {
        double t0 = now_ms();
        if (encode(&f, &webp, &wlen) < 0)
            goto out;
        slow[i] = now_ms() - t0;
    }
    report("encode_webp", slow, slow_runs);
    printf("webp_bytes %zu\n", wlen);
    for (int i = 0; i < slow_runs; i++) {
        double t0 = now_ms();
        if (encode(&f, &blur, &blen) < 0)
            goto out;
        slow[i] = now_ms() - t0;
    }
    report("blur_encode_jpeg", slow, slow_runs);
    printf("blur_jpeg_bytes %zu\n", blen);
    rc = 0;
out:
    tk_frame_release(&f);
    free(cap);
    free(blank);
    free(cpu);
    free(enc);
    free(tot);
    free(slow);
    P->close(ctx);
    return rc;
}
