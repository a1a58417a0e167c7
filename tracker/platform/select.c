/*
 * tk_platform_native on Linux: picks the desktop's backend (Wayland, then
 * X11) when it opens, at run time, so one build serves X11 and Wayland
 * sessions. The candidates
 * are tried in the order of the table below; the first whose open()
 * succeeds is used and every later call is passed to it. Why the others
 * were not taken is kept for describe(), which `stint status` and the
 * desktop app's diagnostics show.
 *
 * Not for: choosing routes within a backend (capture, idle): each backend
 * probes its own and says so in its own describe().
 */
#include "tracker/platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/xalloc.h"

struct candidate {
    const struct tk_platform *p;
    /* Whether this session is one for p at all; why not in why. NULL: always try. */
    bool (*wanted)(char *why, size_t whylen);
};

/*
 * A Wayland session: $WAYLAND_DISPLAY is set, or the default socket
 * (wayland-0 in $XDG_RUNTIME_DIR) exists, as libwayland would connect.
 * Whether the compositor answers is for open() to find out.
 */
static bool wayland_wanted(char *why, size_t whylen)
{
    const char *wd = getenv("WAYLAND_DISPLAY"), *rt = getenv("XDG_RUNTIME_DIR");
    char path[4096];
    struct stat st;

    if (wd && *wd)
        return true;
    if (rt && *rt) {
        snprintf(path, sizeof(path), "%s/wayland-0", rt);
        if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
            return true;
    }
    snprintf(why, whylen, "$WAYLAND_DISPLAY is not set and there is no wayland-0 socket");
    return false;
}

static const struct candidate candidates[] = {
    {&tk_platform_wayland, wayland_wanted},
    {&tk_platform_x11, NULL},
};

#define NCANDIDATES (sizeof(candidates) / sizeof(candidates[0]))

struct tk_platform_ctx {
    const struct tk_platform *impl;
    struct tk_platform_ctx *inner;
    char skipped[512]; /* "wayland: $WAYLAND_DISPLAY is not set; " ... */
};

static int sel_open(const char *display, struct tk_platform_ctx **ret_ctx, char *err,
                    size_t errlen)
{
    struct tk_platform_ctx *ctx = xcalloc(1, sizeof(*ctx));
    char why[256];
    int r = -ENXIO;

    snprintf(err, errlen, "no desktop to track");
    for (size_t i = 0; i < NCANDIDATES; i++) {
        const struct candidate *c = &candidates[i];
        size_t used = strlen(ctx->skipped);

        why[0] = '\0';
        if (c->wanted && !c->wanted(why, sizeof(why))) {
            snprintf(ctx->skipped + used, sizeof(ctx->skipped) - used, "%s%s: %s",
                     used ? "; " : "", c->p->name, why);
            continue;
        }
        r = c->p->open(display, &ctx->inner, err, errlen);
        if (r == 0) {
            ctx->impl = c->p;
            *ret_ctx = ctx;
            return 0;
        }
        snprintf(ctx->skipped + used, sizeof(ctx->skipped) - used, "%s%s: %s", used ? "; " : "",
                 c->p->name, err);
    }
    free(ctx);
    return r;
}

static void sel_close(struct tk_platform_ctx *ctx)
{
    if (!ctx)
        return;
    ctx->impl->close(ctx->inner);
    free(ctx);
}

static int sel_fd(struct tk_platform_ctx *ctx)
{
    return ctx->impl->fd(ctx->inner);
}

static int sel_drain(struct tk_platform_ctx *ctx, struct tk_activity *acc)
{
    return ctx->impl->drain(ctx->inner, acc);
}

static int64_t sel_idle_ms(struct tk_platform_ctx *ctx)
{
    return ctx->impl->idle_ms(ctx->inner);
}

static int sel_monitors(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max)
{
    return ctx->impl->monitors(ctx->inner, out, max);
}

static int sel_capture(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                       char *err, size_t errlen)
{
    return ctx->impl->capture(ctx->inner, monitor, ret_frame, err, errlen);
}

static int sel_capture_rows(struct tk_platform_ctx *ctx, int monitor,
                            const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    struct tk_frame f = {0};
    const struct tk_platform *p = ctx->impl;
    int r;

    if (p->capture_rows)
        return p->capture_rows(ctx->inner, monitor, sink, err, errlen);
    /* A backend with capture() only: hand its frame over as one stripe. */
    if ((r = p->capture(ctx->inner, monitor, &f, err, errlen)) < 0)
        return r;
    r = sink->begin(sink->ud, f.width, f.height, err, errlen);
    if (r == 0)
        r = sink->rows(sink->ud, f.rgb, f.stride, f.height, err, errlen);
    tk_frame_release(&f);
    return r;
}

static enum tk_measure sel_measure(struct tk_platform_ctx *ctx)
{
    return tk_platform_measure(ctx->impl, ctx->inner);
}

static void sel_describe(struct tk_platform_ctx *ctx, char *out, size_t outlen)
{
    char inner[512];

    tk_platform_describe(ctx->impl, ctx->inner, inner, sizeof(inner));
    if (ctx->skipped[0])
        snprintf(out, outlen, "%s (not taken: %s)", inner, ctx->skipped);
    else
        snprintf(out, outlen, "%s", inner);
}

const struct tk_platform tk_platform_native = {
    .name = "auto",
    .open = sel_open,
    .close = sel_close,
    .fd = sel_fd,
    .drain = sel_drain,
    .idle_ms = sel_idle_ms,
    .monitors = sel_monitors,
    .capture = sel_capture,
    .capture_rows = sel_capture_rows,
    .measure = sel_measure,
    .describe = sel_describe,
};
