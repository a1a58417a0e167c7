/*
 * The Wayland platform backend (tk_platform_wayland; select.c tries it
 * before X11): screen capture with wlr-screencopy over wl_shm, one output
 * at a time, and activity as ACTIVE SECONDS from the compositor's idle
 * notification with a 1 s timeout (ext_idle_notifier_v1, else KDE's
 * org_kde_kwin_idle). The routes are chosen from the globals the
 * compositor offers, never from $XDG_CURRENT_DESKTOP, and describe() says
 * which were taken and why the others were not.
 *
 * Where the compositor offers no screencopy (GNOME, KDE), capture goes
 * through the ScreenCast portal and one PipeWire frame (screencast.h):
 * the user consents once. GNOME's idle comes from
 * org.gnome.Mutter.IdleMonitor (mutter-idle.h). Not for:
 * org.freedesktop.ScreenSaver idle. A
 * compositor that offers neither a capture nor an idle route is refused at
 * open(), so that select.c falls back to X11 (Xwayland) and says why.
 *
 * Activity: Wayland gives no global key or button events, so keys, mouse
 * and synthetic stay 0 and measure() says TK_MEASURE_ACTIVE_SECONDS. The
 * idle notification comes IDLE_TIMEOUT_MS after the last input and
 * "resumed" at the next one, so between a resumed at R and the idled at I
 * there was input at least once in every second of [R, I - 1 s]: those
 * seconds are active. The notifications are read by a thread of their own
 * on a second connection, so each is timed when it arrives, not when the
 * engine next drains (once a second). Synthetic input (wtype, a virtual
 * pointer, remote control) cannot be told apart on Wayland.
 *
 * Privacy: this file never sees a key, a button or where the pointer is,
 * only "idle" and "resumed". Pixels are read only in the capture
 * functions, which count their calls (wayland.h).
 */
#include "tracker/platform/wayland.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <wayland-client.h>

#include "lib/xalloc.h"
#include "tracker/platform/ext-idle-notify-v1-client-protocol.h"
#include "tracker/platform/kde-idle-client-protocol.h"
#include "tracker/platform/screencast.h"
#include "tracker/platform/mutter-idle.h"
#include "tracker/platform/platform.h"
#include "tracker/platform/wlr-screencopy-unstable-v1-client-protocol.h"
#include "tracker/platform/xdg-output-unstable-v1-client-protocol.h"

/* The idle notification's timeout: the resolution of active seconds. */
#define IDLE_TIMEOUT_MS 1000
/*
 * How much earlier than IDLE_TIMEOUT_MS an idle notification may come
 * (KWin's fire at about 0.96 s), and how late one may arrive: an interval
 * is shortened by this much so a late or early notification does not add a
 * second that had no input.
 */
#define IDLE_SLACK_MS 50
/* How long a compositor may take to answer a request before the call gives up. */
#define ANSWER_MS 5000
/* Rows converted and handed to the sink at a time. */
#define STRIPE_ROWS 64
/* Idle notifications kept between drains; more in a second is impossible. */
#define MAX_EVENTS 256

struct output {
    struct wl_output *wl;
    struct zxdg_output_v1 *xdg; /* where the output lies: wl_output says 0,0 on wlroots */
    uint32_t id; /* the registry name */
    char name[64];
    char description[128];
    int x, y, width, height;
    struct output *next;
};

enum idle_route { IDLE_NONE, IDLE_EXT, IDLE_KDE, IDLE_MUTTER };

/* A notification, timed on arrival: wall-clock milliseconds, and which. */
struct idle_event {
    int64_t ms;
    bool idled;
};

/* The idle thread's connection, its objects and what it hands to drain(). */
struct idle_watch {
    struct wl_display *dpy;
    struct wl_registry *reg;
    struct wl_seat *seat;
    struct ext_idle_notifier_v1 *ext;
    struct org_kde_kwin_idle *kde;
    struct ext_idle_notification_v1 *ext_n;
    struct org_kde_kwin_idle_timeout *kde_t;
    struct tk_mutter_idle *mutter; /* IDLE_MUTTER: D-Bus instead of the above */
    pthread_t thread;
    bool inited; /* the lock is */
    bool running;
    int stop[2]; /* written to stop the thread */
    int wake[2]; /* the thread writes a byte per notification: tk_platform.fd */

    pthread_mutex_t lock; /* guards what follows */
    struct idle_event ev[MAX_EVENTS];
    int n_ev;
    bool lost;
};

struct tk_platform_ctx {
    struct wl_display *dpy;
    struct wl_registry *reg;
    struct wl_shm *shm;
    struct zwlr_screencopy_manager_v1 *screencopy;
    uint32_t screencopy_version;
    struct zxdg_output_manager_v1 *xdg_outputs;
    bool have_ext_idle, have_kde_idle, have_seat;
    uint32_t ext_idle_id, kde_idle_id, seat_id;
    uint32_t ext_idle_version, kde_idle_version, seat_version;
    struct output *outputs; /* in the order the compositor announced them */
    char socket[108];
    bool lost;

    enum idle_route idle;
    char no_dbus_idle[200]; /* why the D-Bus idle route was not taken */
    struct idle_watch w;
    /* Active-second bookkeeping (drain's thread only). */
    bool active;          /* since from_ms (no idled since) */
    bool from_resume;     /* from_ms is a resumed, not the start of the watch */
    bool inferred;        /* no idled came after the start: input since from_ms */
    int64_t from_ms;      /* wall ms */
    int64_t idle_since;   /* wall ms of the last input before the last idled; 0: active */
    int64_t next_s;       /* the first wall second not counted yet */
};

static int capture_calls;

int tk_wayland_capture_calls(void)
{
    return __atomic_load_n(&capture_calls, __ATOMIC_SEQ_CST);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Floor division for wall seconds (a clock before 1970 is not worth a wrong second). */
static int64_t second_of(int64_t ms)
{
    return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/*
 * Waits for the compositor's events and dispatches them until *done, the
 * connection fails or ANSWER_MS pass. 0, -ETIMEDOUT or -EPIPE.
 */
static int dispatch_until(struct wl_display *dpy, const bool *done)
{
    int64_t deadline = mono_ms() + ANSWER_MS;

    while (!*done) {
        struct pollfd p = {.fd = wl_display_get_fd(dpy), .events = POLLIN};
        int64_t left = deadline - mono_ms();
        int r;

        if (wl_display_dispatch_pending(dpy) < 0)
            return -EPIPE;
        if (*done)
            break;
        if (left <= 0)
            return -ETIMEDOUT;
        while (wl_display_prepare_read(dpy) != 0)
            if (wl_display_dispatch_pending(dpy) < 0)
                return -EPIPE;
        if (wl_display_flush(dpy) < 0 && errno != EAGAIN) {
            wl_display_cancel_read(dpy);
            return -EPIPE;
        }
        r = poll(&p, 1, (int)left);
        if (r <= 0) {
            wl_display_cancel_read(dpy);
            if (r < 0 && errno != EINTR)
                return -EPIPE;
            continue;
        }
        if (wl_display_read_events(dpy) < 0)
            return -EPIPE;
    }
    return 0;
}

/* A roundtrip with a deadline (wl_display_roundtrip waits for ever). */
static void sync_done(void *data, struct wl_callback *cb, uint32_t serial)
{
    *(bool *)data = true;
}

static const struct wl_callback_listener sync_listener = {.done = sync_done};

static int roundtrip(struct wl_display *dpy)
{
    bool done = false;
    struct wl_callback *cb = wl_display_sync(dpy);
    int r;

    wl_callback_add_listener(cb, &sync_listener, &done);
    r = dispatch_until(dpy, &done);
    wl_callback_destroy(cb);
    return r;
}

/* Outputs. */

static void out_geometry(void *data, struct wl_output *o, int32_t x, int32_t y, int32_t pw,
                         int32_t ph, int32_t subpixel, const char *make, const char *model,
                         int32_t transform)
{
    struct output *out = data;

    out->x = x;
    out->y = y;
    if (!out->description[0])
        snprintf(out->description, sizeof(out->description), "%s %s", make ? make : "",
                 model ? model : "");
}

static void out_mode(void *data, struct wl_output *o, uint32_t flags, int32_t w, int32_t h,
                     int32_t refresh)
{
    struct output *out = data;

    if (flags & WL_OUTPUT_MODE_CURRENT) {
        out->width = w;
        out->height = h;
    }
}

static void out_done(void *data, struct wl_output *o)
{
}

static void out_scale(void *data, struct wl_output *o, int32_t factor)
{
}

static void out_name(void *data, struct wl_output *o, const char *name)
{
    struct output *out = data;

    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
}

static void out_description(void *data, struct wl_output *o, const char *d)
{
    struct output *out = data;

    snprintf(out->description, sizeof(out->description), "%s", d ? d : "");
}

static const struct wl_output_listener output_listener = {
    .geometry = out_geometry,
    .mode = out_mode,
    .done = out_done,
    .scale = out_scale,
    .name = out_name,
    .description = out_description,
};

static void xo_position(void *data, struct zxdg_output_v1 *x, int32_t px, int32_t py)
{
    struct output *out = data;

    out->x = px;
    out->y = py;
}

static void xo_size(void *data, struct zxdg_output_v1 *x, int32_t w, int32_t h)
{
}

static void xo_done(void *data, struct zxdg_output_v1 *x)
{
}

static void xo_name(void *data, struct zxdg_output_v1 *x, const char *name)
{
    struct output *out = data;

    if (!out->name[0])
        snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
}

static void xo_description(void *data, struct zxdg_output_v1 *x, const char *d)
{
}

static const struct zxdg_output_v1_listener xdg_output_listener = {
    .logical_position = xo_position,
    .logical_size = xo_size,
    .done = xo_done,
    .name = xo_name,
    .description = xo_description,
};

static void watch_position(struct tk_platform_ctx *ctx, struct output *out)
{
    if (!ctx->xdg_outputs || out->xdg)
        return;
    out->xdg = zxdg_output_manager_v1_get_xdg_output(ctx->xdg_outputs, out->wl);
    zxdg_output_v1_add_listener(out->xdg, &xdg_output_listener, out);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static void reg_global(void *data, struct wl_registry *reg, uint32_t id, const char *iface,
                       uint32_t version)
{
    struct tk_platform_ctx *ctx = data;

    if (strcmp(iface, wl_shm_interface.name) == 0 && !ctx->shm) {
        ctx->shm = wl_registry_bind(reg, id, &wl_shm_interface, 1);
    } else if (strcmp(iface, zwlr_screencopy_manager_v1_interface.name) == 0 && !ctx->screencopy) {
        ctx->screencopy_version = min_u32(version, 3);
        ctx->screencopy = wl_registry_bind(reg, id, &zwlr_screencopy_manager_v1_interface,
                                           ctx->screencopy_version);
    } else if (strcmp(iface, wl_output_interface.name) == 0) {
        struct output *out = xcalloc(1, sizeof(*out)), **tail = &ctx->outputs;
        out->id = id;
        out->wl = wl_registry_bind(reg, id, &wl_output_interface, min_u32(version, 4));
        wl_output_add_listener(out->wl, &output_listener, out);
        while (*tail)
            tail = &(*tail)->next;
        *tail = out;
        watch_position(ctx, out);
    } else if (strcmp(iface, zxdg_output_manager_v1_interface.name) == 0 && !ctx->xdg_outputs) {
        ctx->xdg_outputs =
            wl_registry_bind(reg, id, &zxdg_output_manager_v1_interface, min_u32(version, 2));
        for (struct output *o = ctx->outputs; o; o = o->next)
            watch_position(ctx, o);
    } else if (strcmp(iface, ext_idle_notifier_v1_interface.name) == 0) {
        ctx->have_ext_idle = true;
        ctx->ext_idle_id = id;
        ctx->ext_idle_version = 1;
    } else if (strcmp(iface, org_kde_kwin_idle_interface.name) == 0) {
        ctx->have_kde_idle = true;
        ctx->kde_idle_id = id;
        ctx->kde_idle_version = 1;
    } else if (strcmp(iface, wl_seat_interface.name) == 0 && !ctx->have_seat) {
        ctx->have_seat = true;
        ctx->seat_id = id;
        ctx->seat_version = 1;
    }
}

static void reg_global_remove(void *data, struct wl_registry *reg, uint32_t id)
{
    struct tk_platform_ctx *ctx = data;

    for (struct output **p = &ctx->outputs; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            struct output *gone = *p;
            *p = gone->next;
            if (gone->xdg)
                zxdg_output_v1_destroy(gone->xdg);
            if (wl_output_get_version(gone->wl) >= WL_OUTPUT_RELEASE_SINCE_VERSION)
                wl_output_release(gone->wl);
            else
                wl_output_destroy(gone->wl);
            free(gone);
            return;
        }
    }
}

static const struct wl_registry_listener registry_listener = {
    .global = reg_global,
    .global_remove = reg_global_remove,
};

/* The idle thread. */

static void push_event(struct idle_watch *w, bool idled)
{
    char b = 1;

    pthread_mutex_lock(&w->lock);
    if (w->n_ev < MAX_EVENTS) {
        w->ev[w->n_ev].ms = wall_ms();
        w->ev[w->n_ev].idled = idled;
        w->n_ev++;
    }
    pthread_mutex_unlock(&w->lock);
    if (write(w->wake[1], &b, 1) < 0) {
        /* The pipe is full: drain() has bytes to read already. */
    }
}

static void ext_idled(void *data, struct ext_idle_notification_v1 *n)
{
    push_event(data, true);
}

static void ext_resumed(void *data, struct ext_idle_notification_v1 *n)
{
    push_event(data, false);
}

static const struct ext_idle_notification_v1_listener ext_listener = {
    .idled = ext_idled,
    .resumed = ext_resumed,
};

static void kde_idle(void *data, struct org_kde_kwin_idle_timeout *t)
{
    push_event(data, true);
}

static void kde_resumed(void *data, struct org_kde_kwin_idle_timeout *t)
{
    push_event(data, false);
}

static const struct org_kde_kwin_idle_timeout_listener kde_listener = {
    .idle = kde_idle,
    .resumed = kde_resumed,
};

struct idle_ids {
    struct idle_watch *w;
    enum idle_route route;
    bool seen;
};

/* The idle connection's registry: binds the seat and the chosen notifier. */
static void idle_global(void *data, struct wl_registry *reg, uint32_t id, const char *iface,
                        uint32_t version)
{
    struct idle_ids *ids = data;
    struct idle_watch *w = ids->w;

    if (strcmp(iface, wl_seat_interface.name) == 0 && !w->seat)
        w->seat = wl_registry_bind(reg, id, &wl_seat_interface, 1);
    else if (ids->route == IDLE_EXT && strcmp(iface, ext_idle_notifier_v1_interface.name) == 0)
        w->ext = wl_registry_bind(reg, id, &ext_idle_notifier_v1_interface, 1);
    else if (ids->route == IDLE_KDE && strcmp(iface, org_kde_kwin_idle_interface.name) == 0)
        w->kde = wl_registry_bind(reg, id, &org_kde_kwin_idle_interface, 1);
}

static void idle_global_remove(void *data, struct wl_registry *reg, uint32_t id)
{
}

static const struct wl_registry_listener idle_registry_listener = {
    .global = idle_global,
    .global_remove = idle_global_remove,
};

static void on_mutter(void *ud, bool idled)
{
    push_event(ud, idled);
}

/* The thread's loop on mutter's D-Bus connection. */
static bool mutter_loop(struct idle_watch *w)
{
    struct pollfd p[2] = {{.fd = tk_mutter_idle_fd(w->mutter), .events = POLLIN},
                          {.fd = w->stop[0], .events = POLLIN}};

    for (;;) {
        if (tk_mutter_idle_dispatch(w->mutter, on_mutter, w) < 0)
            return false;
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            return false;
        if (p[1].revents)
            return true;
    }
}

static void *idle_thread(void *arg)
{
    struct idle_watch *w = arg;
    struct pollfd p[2] = {{.fd = w->dpy ? wl_display_get_fd(w->dpy) : -1, .events = POLLIN},
                          {.fd = w->stop[0], .events = POLLIN}};

    if (w->mutter) {
        if (mutter_loop(w))
            return NULL;
        goto lost;
    }
    for (;;) {
        while (wl_display_prepare_read(w->dpy) != 0)
            if (wl_display_dispatch_pending(w->dpy) < 0)
                goto lost;
        wl_display_flush(w->dpy);
        if (poll(p, 2, -1) < 0) {
            wl_display_cancel_read(w->dpy);
            if (errno == EINTR)
                continue;
            goto lost;
        }
        if (p[1].revents) {
            wl_display_cancel_read(w->dpy);
            return NULL;
        }
        if (wl_display_read_events(w->dpy) < 0 || wl_display_dispatch_pending(w->dpy) < 0)
            goto lost;
    }
lost:
    pthread_mutex_lock(&w->lock);
    w->lost = true;
    pthread_mutex_unlock(&w->lock);
    {
        char b = 1;
        if (write(w->wake[1], &b, 1) < 0) {
            /* drain() sees lost on its next call anyway. */
        }
    }
    return NULL;
}

static void idle_watch_stop(struct idle_watch *w)
{
    if (w->running) {
        char b = 1;
        if (write(w->stop[1], &b, 1) == 1)
            pthread_join(w->thread, NULL);
        else
            pthread_detach(w->thread); /* cannot happen with an empty pipe */
        w->running = false;
    }
    if (w->ext_n)
        ext_idle_notification_v1_destroy(w->ext_n);
    if (w->ext)
        ext_idle_notifier_v1_destroy(w->ext);
    if (w->kde_t)
        org_kde_kwin_idle_timeout_release(w->kde_t);
    if (w->kde)
        org_kde_kwin_idle_destroy(w->kde);
    tk_mutter_idle_close(w->mutter);
    if (w->seat)
        wl_seat_destroy(w->seat);
    if (w->reg)
        wl_registry_destroy(w->reg);
    if (w->dpy)
        wl_display_disconnect(w->dpy);
    for (int i = 0; i < 2; i++) {
        if (w->stop[i] >= 0)
            close(w->stop[i]);
        if (w->wake[i] >= 0)
            close(w->wake[i]);
    }
    if (w->inited)
        pthread_mutex_destroy(&w->lock);
    memset(w, 0, sizeof(*w));
    w->stop[0] = w->stop[1] = w->wake[0] = w->wake[1] = -1;
}

/* Opens the idle thread's own connection and starts it. 0 or < 0 with err. */
static int idle_watch_start(struct idle_watch *w, const char *socket, enum idle_route route,
                            char *err, size_t errlen)
{
    struct idle_ids ids = {.w = w, .route = route};
    int r;

    memset(w, 0, sizeof(*w));
    w->stop[0] = w->stop[1] = w->wake[0] = w->wake[1] = -1;
    pthread_mutex_init(&w->lock, NULL);
    w->inited = true;
    if (pipe2(w->stop, O_CLOEXEC) < 0 || pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        snprintf(err, errlen, "cannot watch idle time: %s", strerror(errno));
        r = -errno;
        goto fail;
    }
    if (route == IDLE_MUTTER) {
        if ((r = tk_mutter_idle_open(&w->mutter, err, errlen)) < 0)
            goto fail;
        goto start;
    }
    w->dpy = wl_display_connect(socket);
    if (!w->dpy) {
        snprintf(err, errlen, "cannot watch idle time: the compositor closed a second connection");
        r = -ECONNREFUSED;
        goto fail;
    }
    w->reg = wl_display_get_registry(w->dpy);
    wl_registry_add_listener(w->reg, &idle_registry_listener, &ids);
    if ((r = roundtrip(w->dpy)) < 0 || !w->seat || (!w->ext && !w->kde)) {
        snprintf(err, errlen, "cannot watch idle time: the compositor took back its idle protocol");
        r = r < 0 ? r : -ENOTSUP;
        goto fail;
    }
    if (w->ext) {
        w->ext_n = ext_idle_notifier_v1_get_idle_notification(w->ext, IDLE_TIMEOUT_MS, w->seat);
        ext_idle_notification_v1_add_listener(w->ext_n, &ext_listener, w);
    } else {
        w->kde_t = org_kde_kwin_idle_get_idle_timeout(w->kde, w->seat, IDLE_TIMEOUT_MS);
        org_kde_kwin_idle_timeout_add_listener(w->kde_t, &kde_listener, w);
    }
    if ((r = roundtrip(w->dpy)) < 0) {
        snprintf(err, errlen, "cannot watch idle time: the compositor did not answer");
        goto fail;
    }
start:
    if ((r = pthread_create(&w->thread, NULL, idle_thread, w)) != 0) {
        snprintf(err, errlen, "cannot watch idle time: %s", strerror(r));
        r = -r;
        goto fail;
    }
    w->running = true;
    return 0;
fail:
    idle_watch_stop(w);
    return r;
}

/* Open and close. */

static void free_outputs(struct tk_platform_ctx *ctx)
{
    while (ctx->outputs) {
        struct output *o = ctx->outputs;
        ctx->outputs = o->next;
        if (o->xdg)
            zxdg_output_v1_destroy(o->xdg);
        wl_output_destroy(o->wl);
        free(o);
    }
}

static void wl_close(struct tk_platform_ctx *ctx)
{
    if (!ctx)
        return;
    idle_watch_stop(&ctx->w);
    free_outputs(ctx);
    if (ctx->xdg_outputs)
        zxdg_output_manager_v1_destroy(ctx->xdg_outputs);
    if (ctx->screencopy)
        zwlr_screencopy_manager_v1_destroy(ctx->screencopy);
    if (ctx->shm)
        wl_shm_destroy(ctx->shm);
    if (ctx->reg)
        wl_registry_destroy(ctx->reg);
    if (ctx->dpy)
        wl_display_disconnect(ctx->dpy);
    free(ctx);
}

/*
 * The compositor's socket: display when it names one (an X display such as
 * ":0" does not), else $WAYLAND_DISPLAY, else "wayland-0", as libwayland
 * itself chooses.
 */
static void socket_name(const char *display, char *out, size_t outlen)
{
    const char *env = getenv("WAYLAND_DISPLAY");

    if (display && *display && !strchr(display, ':'))
        snprintf(out, outlen, "%s", display);
    else
        snprintf(out, outlen, "%s", env && *env ? env : "wayland-0");
}

static int wl_open(const char *display, struct tk_platform_ctx **ret_ctx, char *err,
                   size_t errlen)
{
    struct tk_platform_ctx *ctx = xcalloc(1, sizeof(*ctx));
    int r;

    ctx->w.stop[0] = ctx->w.stop[1] = ctx->w.wake[0] = ctx->w.wake[1] = -1;
    socket_name(display, ctx->socket, sizeof(ctx->socket));
    ctx->dpy = wl_display_connect(ctx->socket);
    if (!ctx->dpy) {
        snprintf(err, errlen, "cannot connect to the Wayland compositor '%s'", ctx->socket);
        free(ctx);
        return -ECONNREFUSED;
    }
    ctx->reg = wl_display_get_registry(ctx->dpy);
    wl_registry_add_listener(ctx->reg, &registry_listener, ctx);
    /* The globals, then the outputs' names and modes. */
    if ((r = roundtrip(ctx->dpy)) < 0 || (r = roundtrip(ctx->dpy)) < 0) {
        snprintf(err, errlen, "the Wayland compositor '%s' did not answer", ctx->socket);
        goto fail;
    }
    if (ctx->have_seat && ctx->have_ext_idle)
        ctx->idle = IDLE_EXT;
    else if (ctx->have_seat && ctx->have_kde_idle)
        ctx->idle = IDLE_KDE;
    if (ctx->idle != IDLE_NONE &&
        (r = idle_watch_start(&ctx->w, ctx->socket, ctx->idle, err, errlen)) < 0)
        goto fail;
    if (ctx->idle == IDLE_NONE) {
        /* No idle protocol: GNOME's mutter says it on the session bus. */
        if (idle_watch_start(&ctx->w, ctx->socket, IDLE_MUTTER, ctx->no_dbus_idle,
                             sizeof(ctx->no_dbus_idle)) == 0)
            ctx->idle = IDLE_MUTTER;
    }
    if (!(ctx->screencopy && ctx->shm) && ctx->idle == IDLE_NONE) {
        snprintf(err, errlen,
                 "the Wayland compositor '%s' offers neither wlr-screencopy nor an idle "
                 "route (ext_idle_notifier_v1, org_kde_kwin_idle; %s: %s)",
                 ctx->socket, "org.gnome.Mutter.IdleMonitor", ctx->no_dbus_idle);
        r = -ENOTSUP;
        goto fail;
    }
    /* Until the first notification the state is unknown (see on_event()). */
    ctx->active = true;
    ctx->from_resume = false;
    ctx->from_ms = wall_ms();
    ctx->next_s = second_of(ctx->from_ms);
    *ret_ctx = ctx;
    return 0;
fail:
    wl_close(ctx);
    return r;
}

static int wl_fd(struct tk_platform_ctx *ctx)
{
    return ctx->w.running ? ctx->w.wake[0] : wl_display_get_fd(ctx->dpy);
}

/* Activity. */

/* Adds the seconds [a, b] (wall ms, both touched) not counted yet. */
static void count_seconds(struct tk_platform_ctx *ctx, int64_t a_ms, int64_t b_ms,
                          struct tk_activity *acc)
{
    int64_t first = second_of(a_ms), last = second_of(b_ms);

    if (first < ctx->next_s)
        first = ctx->next_s;
    if (last < first)
        return;
    acc->active_s += (int)(last - first + 1);
    ctx->next_s = last + 1;
}

/*
 * One notification. A resumed starts an active interval at its arrival; an
 * idled ends it: the last input was IDLE_TIMEOUT_MS before (less the slack,
 * so a late notification adds no second), and every second from the
 * resumed to then had input.
 *
 * Before the first notification the state is unknown: the compositor sends
 * no resumed for input that comes before its first idled. If the idled
 * comes clearly later than IDLE_TIMEOUT_MS after the watch began, there was
 * input, but only the last one's second is known, and counted. If no idled
 * has come IDLE_TIMEOUT_MS + IDLE_SLACK_MS after the start, there was input
 * in that time and at least once a second ever since: drain() then counts
 * from there on ("inferred"), so that a user busy from the start loses a
 * second or two, not everything until a pause.
 */
static void on_event(struct tk_platform_ctx *ctx, const struct idle_event *e,
                     struct tk_activity *acc)
{
    if (!e->idled) {
        if (!ctx->active || (!ctx->from_resume && !ctx->inferred)) {
            ctx->active = true;
            ctx->from_resume = true;
            ctx->inferred = false;
            ctx->from_ms = e->ms;
        }
        ctx->idle_since = 0;
        return;
    }
    if (ctx->active && ctx->from_resume) {
        int64_t end = e->ms - IDLE_TIMEOUT_MS - IDLE_SLACK_MS;
        count_seconds(ctx, ctx->from_ms, end > ctx->from_ms ? end : ctx->from_ms, acc);
    } else if (ctx->active && ctx->inferred) {
        int64_t end = e->ms - IDLE_TIMEOUT_MS - IDLE_SLACK_MS;
        if (end >= ctx->from_ms)
            count_seconds(ctx, ctx->from_ms, end, acc);
    } else if (ctx->active) {
        int64_t last = e->ms - IDLE_TIMEOUT_MS;
        if (last - IDLE_SLACK_MS >= ctx->from_ms)
            count_seconds(ctx, last, last, acc);
    }
    ctx->active = false;
    ctx->inferred = false;
    ctx->idle_since = e->ms - IDLE_TIMEOUT_MS;
}

static int wl_drain(struct tk_platform_ctx *ctx, struct tk_activity *acc)
{
    struct idle_event ev[MAX_EVENTS];
    char buf[64];
    int n = 0;
    bool lost = false;

    if (ctx->lost)
        return -EPIPE;
    /* The main connection: outputs coming and going. */
    if (wl_display_dispatch_pending(ctx->dpy) < 0 || wl_display_flush(ctx->dpy) < 0) {
        if (errno != EAGAIN) {
            ctx->lost = true;
            return -EPIPE;
        }
    }
    if (wl_display_prepare_read(ctx->dpy) == 0) {
        struct pollfd p = {.fd = wl_display_get_fd(ctx->dpy), .events = POLLIN};
        if (poll(&p, 1, 0) > 0) {
            if (wl_display_read_events(ctx->dpy) < 0) {
                ctx->lost = true;
                return -EPIPE;
            }
        } else {
            wl_display_cancel_read(ctx->dpy);
        }
    }
    if (wl_display_dispatch_pending(ctx->dpy) < 0) {
        ctx->lost = true;
        return -EPIPE;
    }
    if (!ctx->w.running)
        return 0;
    while (read(ctx->w.wake[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&ctx->w.lock);
    n = ctx->w.n_ev;
    memcpy(ev, ctx->w.ev, sizeof(ev[0]) * (size_t)n);
    ctx->w.n_ev = 0;
    lost = ctx->w.lost;
    pthread_mutex_unlock(&ctx->w.lock);
    for (int i = 0; i < n; i++)
        on_event(ctx, &ev[i], acc);
    if (ctx->active && !ctx->from_resume && !ctx->inferred &&
        wall_ms() >= ctx->from_ms + IDLE_TIMEOUT_MS + IDLE_SLACK_MS) {
        /* No idled after the first timeout: input since then, at least once a second. */
        ctx->inferred = true;
        ctx->from_ms += IDLE_TIMEOUT_MS + IDLE_SLACK_MS;
    }
    if (ctx->active && (ctx->from_resume || ctx->inferred)) {
        /*
         * No idled yet: there was input within the last IDLE_TIMEOUT_MS
         * (or the notification is on its way), so every second that ended
         * before then had input. The seconds after wait for the next drain.
         */
        int64_t certain = wall_ms() - IDLE_TIMEOUT_MS - IDLE_SLACK_MS;
        int64_t last_ended = second_of(certain) * 1000 - 1;
        if (last_ended >= ctx->from_ms)
            count_seconds(ctx, ctx->from_ms, last_ended, acc);
    }
    if (lost) {
        ctx->lost = true;
        return -EPIPE;
    }
    return 0;
}

static int64_t wl_idle_ms(struct tk_platform_ctx *ctx)
{
    int64_t since = ctx->active ? 0 : ctx->idle_since, now = wall_ms();

    if (ctx->lost)
        return -EPIPE;
    if (!ctx->w.running)
        return -ENOTSUP;
    /* A notification drain() has not applied yet is newer than ctx's state. */
    pthread_mutex_lock(&ctx->w.lock);
    if (ctx->w.n_ev > 0) {
        const struct idle_event *e = &ctx->w.ev[ctx->w.n_ev - 1];
        since = e->idled ? e->ms - IDLE_TIMEOUT_MS : 0;
    }
    pthread_mutex_unlock(&ctx->w.lock);
    return since > 0 && now > since ? now - since : 0;
}

static int wl_monitors(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max)
{
    int n = 0;

    if (ctx->lost)
        return -EPIPE;
    for (struct output *o = ctx->outputs; o && n < max; o = o->next) {
        if (o->width <= 0 || o->height <= 0)
            continue; /* announced, not configured yet */
        memset(&out[n], 0, sizeof(out[n]));
        out[n].index = n;
        snprintf(out[n].name, sizeof(out[n].name), "%.63s",
                 o->name[0] ? o->name : o->description[0] ? o->description : "output");
        out[n].x = o->x;
        out[n].y = o->y;
        out[n].width = o->width;
        out[n].height = o->height;
        out[n].primary = n == 0;
        n++;
    }
    return n;
}

/* Capture. */

/* One output's frame as the compositor copied it into shared memory. */
struct shot {
    struct output *out;
    struct zwlr_screencopy_frame_v1 *frame;
    uint32_t format;
    int width, height, stride;
    bool have_buffer, buffer_done, ready, failed, y_invert;
    bool v3;       /* the frame lists its buffer kinds and ends with buffer_done */
    bool settled;  /* the buffer to use is known, or the frame failed */
    bool finished; /* the copy is ready, or failed */
    int fd;
    void *map;
    size_t size;
    struct wl_buffer *buffer;
};

static void sc_buffer(void *data, struct zwlr_screencopy_frame_v1 *f, uint32_t format,
                      uint32_t width, uint32_t height, uint32_t stride)
{
    struct shot *s = data;

    /* The first shm format offered: the compositor lists its preferred first. */
    if (s->have_buffer)
        return;
    s->have_buffer = true;
    s->format = format;
    s->width = (int)width;
    s->height = (int)height;
    s->stride = (int)stride;
    if (!s->v3)
        s->settled = true;
}

static void sc_flags(void *data, struct zwlr_screencopy_frame_v1 *f, uint32_t flags)
{
    struct shot *s = data;

    s->y_invert = flags & ZWLR_SCREENCOPY_FRAME_V1_FLAGS_Y_INVERT;
}

static void sc_ready(void *data, struct zwlr_screencopy_frame_v1 *f, uint32_t hi, uint32_t lo,
                     uint32_t nsec)
{
    ((struct shot *)data)->ready = true;
    ((struct shot *)data)->finished = true;
}

static void sc_failed(void *data, struct zwlr_screencopy_frame_v1 *f)
{
    struct shot *s = data;

    s->failed = s->settled = s->finished = true;
}

static void sc_damage(void *data, struct zwlr_screencopy_frame_v1 *f, uint32_t x, uint32_t y,
                      uint32_t w, uint32_t h)
{
}

static void sc_dmabuf(void *data, struct zwlr_screencopy_frame_v1 *f, uint32_t format,
                      uint32_t w, uint32_t h)
{
}

static void sc_buffer_done(void *data, struct zwlr_screencopy_frame_v1 *f)
{
    ((struct shot *)data)->buffer_done = true;
    ((struct shot *)data)->settled = true;
}

static const struct zwlr_screencopy_frame_v1_listener screencopy_listener = {
    .buffer = sc_buffer,
    .flags = sc_flags,
    .ready = sc_ready,
    .failed = sc_failed,
    .damage = sc_damage,
    .linux_dmabuf = sc_dmabuf,
    .buffer_done = sc_buffer_done,
};

static void shot_release(struct shot *s)
{
    if (s->frame)
        zwlr_screencopy_frame_v1_destroy(s->frame);
    if (s->buffer)
        wl_buffer_destroy(s->buffer);
    if (s->map && s->map != MAP_FAILED)
        munmap(s->map, s->size);
    if (s->fd >= 0)
        close(s->fd);
    memset(s, 0, sizeof(*s));
}

static bool format_known(uint32_t f)
{
    return f == WL_SHM_FORMAT_XRGB8888 || f == WL_SHM_FORMAT_ARGB8888 ||
           f == WL_SHM_FORMAT_XBGR8888 || f == WL_SHM_FORMAT_ABGR8888;
}

/* Has the compositor copy one output into shared memory. 0, or < 0 with err. */
static int shot_take(struct tk_platform_ctx *ctx, struct output *out, struct shot *s, char *err,
                     size_t errlen)
{
    struct wl_shm_pool *pool;
    int r = 0;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->out = out;
    /* Version 3 lists every buffer kind and then says buffer_done; before, one buffer event. */
    s->v3 = ctx->screencopy_version >= 3;
    s->frame = zwlr_screencopy_manager_v1_capture_output(ctx->screencopy, 0, out->wl);
    zwlr_screencopy_frame_v1_add_listener(s->frame, &screencopy_listener, s);
    if ((r = dispatch_until(ctx->dpy, &s->settled)) < 0 || s->failed) {
        snprintf(err, errlen, "cannot capture the screen: the compositor %s",
                 r == -ETIMEDOUT ? "did not answer" : "refused to copy it");
        return r < 0 ? r : -EIO;
    }
    if (!s->have_buffer || !format_known(s->format)) {
        snprintf(err, errlen, "cannot capture the screen: unsupported pixel format 0x%x",
                 (unsigned)s->format);
        return -ENOTSUP;
    }
    if (s->width <= 0 || s->height <= 0 || s->width > TK_FRAME_MAX_SIDE ||
        s->height > TK_FRAME_MAX_SIDE || (int64_t)s->width * s->height > TK_FRAME_MAX_PIXELS ||
        s->stride < s->width * 4) {
        snprintf(err, errlen, "cannot capture the screen: %dx%d is too large or wrong", s->width,
                 s->height);
        return -EINVAL;
    }
    s->size = (size_t)s->stride * (size_t)s->height;
    s->fd = memfd_create("stint-capture", MFD_CLOEXEC);
    if (s->fd < 0 || ftruncate(s->fd, (off_t)s->size) < 0) {
        snprintf(err, errlen, "cannot capture the screen: %s", strerror(errno));
        return -errno;
    }
    s->map = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (s->map == MAP_FAILED) {
        snprintf(err, errlen, "cannot capture the screen: %s", strerror(errno));
        return -errno;
    }
    pool = wl_shm_create_pool(ctx->shm, s->fd, (int32_t)s->size);
    s->buffer = wl_shm_pool_create_buffer(pool, 0, s->width, s->height, s->stride, s->format);
    wl_shm_pool_destroy(pool);
    zwlr_screencopy_frame_v1_copy(s->frame, s->buffer);
    r = dispatch_until(ctx->dpy, &s->finished);
    if (r < 0 || s->failed) {
        snprintf(err, errlen, "cannot capture the screen: the compositor %s",
                 r == -ETIMEDOUT ? "did not answer" : r < 0 ? "went away" : "refused to copy it");
        return r < 0 ? r : -EIO;
    }
    return 0;
}

/* Row y (top to bottom) of a shot as RGB into dst, width pixels. */
static void shot_row_rgb(const struct shot *s, int y, unsigned char *dst)
{
    int sy = s->y_invert ? s->height - 1 - y : y;
    const unsigned char *src = (const unsigned char *)s->map + (size_t)sy * s->stride;
    bool xrgb = s->format == WL_SHM_FORMAT_XRGB8888 || s->format == WL_SHM_FORMAT_ARGB8888;

    /*
     * Little-endian 32-bit words: XRGB is B, G, R, X in memory; XBGR is R, G,
     * B, X. One loop each, without a test per pixel, so the compiler can
     * vectorise them (the conversion is most of a capture's CPU time).
     */
    if (xrgb) {
        for (int x = 0; x < s->width; x++, src += 4, dst += 3) {
            dst[0] = src[2];
            dst[1] = src[1];
            dst[2] = src[0];
        }
    } else {
        for (int x = 0; x < s->width; x++, src += 4, dst += 3) {
            dst[0] = src[0];
            dst[1] = src[1];
            dst[2] = src[2];
        }
    }
}

/*
 * The ScreenCast portal route: the monitor the user chose to share (the
 * portal shares one; `monitor` cannot pick another), one PipeWire frame,
 * BGRx or RGBx, handed to the sink stripe by stripe as RGB.
 */
static int portal_capture_rows(const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    struct tk_pw_frame f = {0};
    unsigned char *stripe;
    int r;

    if ((r = tk_screencast_frame(&f, err, errlen)) < 0)
        return r;
    if ((r = sink->begin(sink->ud, f.width, f.height, err, errlen)) < 0)
        goto out;
    stripe = xmalloc((size_t)f.width * 3 * STRIPE_ROWS);
    for (int top = 0; top < f.height && r == 0; top += STRIPE_ROWS) {
        int rows = f.height - top < STRIPE_ROWS ? f.height - top : STRIPE_ROWS;
        for (int k = 0; k < rows; k++) {
            const unsigned char *src = f.px + (size_t)(top + k) * f.stride;
            unsigned char *dst = stripe + (size_t)k * f.width * 3;
            int a = f.rgb_first ? 0 : 2, c = f.rgb_first ? 2 : 0;
            for (int x = 0; x < f.width; x++, src += 4, dst += 3) {
                dst[0] = src[a];
                dst[1] = src[1];
                dst[2] = src[c];
            }
        }
        r = sink->rows(sink->ud, stripe, f.width * 3, rows, err, errlen);
    }
    free(stripe);
out:
    free(f.px);
    return r;
}

/*
 * Captures every chosen output, then hands the bounding box of them to the
 * sink stripe by stripe (black where no output lies). One output is the
 * usual case; then the box is that output.
 */
static int wl_capture_rows(struct tk_platform_ctx *ctx, int monitor,
                           const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    struct tk_monitor mon[TK_MAX_MONITORS];
    struct shot shots[TK_MAX_MONITORS];
    struct output *outs[TK_MAX_MONITORS];
    int n, nshots = 0, x0 = 0, y0 = 0, x1 = 0, y1 = 0, w, h, r = 0;
    unsigned char *stripe = NULL;

    __atomic_add_fetch(&capture_calls, 1, __ATOMIC_SEQ_CST);
    memset(shots, 0, sizeof(shots));
    if (ctx->lost) {
        snprintf(err, errlen, "cannot capture the screen: the Wayland connection was lost");
        return -EPIPE;
    }
    n = wl_monitors(ctx, mon, TK_MAX_MONITORS);
    if (!ctx->screencopy || !ctx->shm) {
        if (monitor != TK_MONITOR_ALL && n > 0 && (monitor < 0 || monitor >= n)) {
            snprintf(err, errlen, "no monitor %d (there are %d)", monitor, n);
            return -EINVAL;
        }
        return portal_capture_rows(sink, err, errlen);
    }
    if (n <= 0) {
        snprintf(err, errlen, "cannot capture the screen: no monitor found");
        return n < 0 ? n : -EIO;
    }
    if (monitor != TK_MONITOR_ALL && (monitor < 0 || monitor >= n)) {
        snprintf(err, errlen, "no monitor %d (there are %d)", monitor, n);
        return -EINVAL;
    }
    /* wl_monitors() listed the configured outputs in order: find them again. */
    {
        int i = 0;
        for (struct output *o = ctx->outputs; o && i < n; o = o->next) {
            if (o->width <= 0 || o->height <= 0)
                continue;
            outs[i++] = o;
        }
    }
    for (int i = 0; i < n; i++) {
        if (monitor != TK_MONITOR_ALL && i != monitor)
            continue;
        if ((r = shot_take(ctx, outs[i], &shots[nshots], err, errlen)) < 0) {
            nshots++;
            goto out;
        }
        /* Where the output lies; its size is the frame's (the mode, in pixels). */
        shots[nshots].out = outs[i];
        nshots++;
    }
    x0 = shots[0].out->x, y0 = shots[0].out->y;
    x1 = x0 + shots[0].width, y1 = y0 + shots[0].height;
    for (int i = 1; i < nshots; i++) {
        const struct shot *s = &shots[i];
        x0 = s->out->x < x0 ? s->out->x : x0;
        y0 = s->out->y < y0 ? s->out->y : y0;
        x1 = s->out->x + s->width > x1 ? s->out->x + s->width : x1;
        y1 = s->out->y + s->height > y1 ? s->out->y + s->height : y1;
    }
    w = x1 - x0;
    h = y1 - y0;
    if (w > TK_FRAME_MAX_SIDE || h > TK_FRAME_MAX_SIDE ||
        (int64_t)w * h > TK_FRAME_MAX_PIXELS) {
        snprintf(err, errlen, "cannot capture the screen: %dx%d is too large", w, h);
        r = -EINVAL;
        goto out;
    }
    if ((r = sink->begin(sink->ud, w, h, err, errlen)) < 0)
        goto out;
    stripe = xmalloc((size_t)w * 3 * STRIPE_ROWS);
    for (int top = 0; top < h && r == 0; top += STRIPE_ROWS) {
        int rows = h - top < STRIPE_ROWS ? h - top : STRIPE_ROWS;
        if (nshots > 1)
            memset(stripe, 0, (size_t)w * 3 * rows);
        for (int i = 0; i < nshots; i++) {
            const struct shot *s = &shots[i];
            for (int k = 0; k < rows; k++) {
                int y = y0 + top + k - s->out->y;
                if (y >= 0 && y < s->height)
                    shot_row_rgb(s, y, stripe + (size_t)k * w * 3 + (size_t)(s->out->x - x0) * 3);
            }
        }
        r = sink->rows(sink->ud, stripe, w * 3, rows, err, errlen);
    }
out:
    free(stripe);
    for (int i = 0; i < nshots; i++)
        shot_release(&shots[i]);
    return r;
}

static int wl_capture(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                      char *err, size_t errlen)
{
    return tk_platform_capture_whole(wl_capture_rows, ctx, monitor, ret_frame, err, errlen);
}

static enum tk_measure wl_measure(struct tk_platform_ctx *ctx)
{
    return TK_MEASURE_ACTIVE_SECONDS;
}

static void wl_describe(struct tk_platform_ctx *ctx, char *out, size_t outlen)
{
    char capture[160], idle[400];
    int n = 0;

    for (struct output *o = ctx->outputs; o; o = o->next)
        n++;
    if (ctx->screencopy && ctx->shm)
        snprintf(capture, sizeof(capture), "wlr-screencopy v%u (%d output%s)",
                 ctx->screencopy_version, n, n == 1 ? "" : "s");
    else
        snprintf(capture, sizeof(capture),
                 "ScreenCast portal (consent %s), as zwlr_screencopy_manager_v1 is not "
                 "offered",
                 tk_screencast_consent_kept() ? "kept" : "not yet given");
    if (ctx->idle == IDLE_MUTTER)
        snprintf(idle, sizeof(idle),
                 "org.gnome.Mutter.IdleMonitor (D-Bus), active seconds (neither "
                 "ext_idle_notifier_v1 nor org_kde_kwin_idle offered)");
    else if (ctx->idle == IDLE_EXT)
        snprintf(idle, sizeof(idle), "ext_idle_notifier_v1, active seconds");
    else if (ctx->idle == IDLE_KDE)
        snprintf(idle, sizeof(idle),
                 "org_kde_kwin_idle, active seconds (ext_idle_notifier_v1 not offered)");
    else
        snprintf(idle, sizeof(idle),
                 "none (%s; org.gnome.Mutter.IdleMonitor: %s)",
                 ctx->have_seat ? "neither ext_idle_notifier_v1 nor org_kde_kwin_idle offered"
                                : "no wl_seat",
                 ctx->no_dbus_idle);
    snprintf(out, outlen, "wayland '%s': capture: %s; idle: %s", ctx->socket, capture, idle);
}

const struct tk_platform tk_platform_wayland = {
    .name = "wayland",
    .open = wl_open,
    .close = wl_close,
    .fd = wl_fd,
    .drain = wl_drain,
    .idle_ms = wl_idle_ms,
    .monitors = wl_monitors,
    .capture = wl_capture,
    .capture_rows = wl_capture_rows,
    .measure = wl_measure,
    .describe = wl_describe,
};
