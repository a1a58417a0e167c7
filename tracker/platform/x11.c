/*
 * The X11 platform backend (tk_platform_x11; select.c picks it on X11): input counts from
 * XInput2 raw events, idle time from MIT-SCREEN-SAVER, monitors from RandR
 * 1.5 and screen capture with MIT-SHM (XGetImage where shared memory cannot
 * be used). Not for Wayland sessions: there Xwayland sees only X clients'
 * input, so a Wayland backend belongs in its own file.
 *
 * Privacy: key events are counted from the event type alone; this file never
 * reads which key (the raw event's detail) or where the pointer is. Pixels
 * are read only in x11_capture(), which counts its calls (x11.h).
 */
#include "tracker/platform/x11.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <time.h>

/* Linux 5.14; older kernels refuse it with EINVAL, and pages fault in as before. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XInput2.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xrandr.h>
#include <X11/extensions/scrnsaver.h>

#include "lib/xalloc.h"
#include "tracker/platform/platform.h"

/* XTEST slave devices we remember; a server has two per master device. */
#define MAX_XTEST 16

struct shm_cache {
    XShmSegmentInfo si;
    XImage *img; /* NULL when no segment is kept */
};

struct tk_platform_ctx {
    Display *dpy;
    Window root;
    Visual *visual;
    int depth;
    int xi_opcode;
    bool have_shm;
    bool have_randr15;
    XScreenSaverInfo *ss; /* NULL without MIT-SCREEN-SAVER */
    int xtest[MAX_XTEST];
    int n_xtest;
    bool motion_seen;
    uint32_t last_motion;       /* server time (ms) of the last motion event counted */
    int64_t last_input_mono_ms; /* for idle time without MIT-SCREEN-SAVER */
    bool lost;                  /* the connection is gone; Xlib must not be called again */
    struct shm_cache shm;
    bool captured;           /* since the memory of the last capture was given back */
    int64_t last_capture_ms; /* monotonic */
};

static int capture_calls;

static void shm_release(struct tk_platform_ctx *ctx);
static void capture_expire(struct tk_platform_ctx *ctx);

int tk_x11_capture_calls(void)
{
    return __atomic_load_n(&capture_calls, __ATOMIC_SEQ_CST);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Catching X protocol errors for the requests that may fail (a BadAccess
 * from MIT-SHM on a remote display, a bad atom), which Xlib's default
 * handler would turn into exit(). The handler is process-global in Xlib, so
 * it is installed only around those requests and passes every error of
 * other connections on to the handler it replaced.
 */
static XErrorHandler trap_prev;
static Display *trap_dpy;
static int trap_error;

static int trap_handler(Display *d, XErrorEvent *e)
{
    if (d == trap_dpy) {
        if (!trap_error)
            trap_error = e->error_code;
        return 0;
    }
    return trap_prev ? trap_prev(d, e) : 0;
}

static void trap_push(Display *d)
{
    XSync(d, False);
    trap_dpy = d;
    trap_error = 0;
    trap_prev = XSetErrorHandler(trap_handler);
}

static int trap_pop(Display *d)
{
    XSync(d, False);
    XSetErrorHandler(trap_prev);
    trap_dpy = NULL;
    return trap_error;
}

/*
 * Whether the X server closed the connection. Checked before reading, as
 * Xlib's answer to a closed connection is to call exit().
 */
static bool connection_lost(struct tk_platform_ctx *ctx)
{
    struct pollfd p = {.fd = ConnectionNumber(ctx->dpy), .events = POLLIN};
    char c;

    if (ctx->lost)
        return true;
    if (poll(&p, 1, 0) > 0) {
        if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
            ctx->lost = true;
        else if ((p.revents & POLLIN) && recv(p.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
            ctx->lost = true;
    }
    return ctx->lost;
}

/* XTEST devices: their events are synthetic (xdotool, remote-control tools, bots). */
static void refresh_xtest(struct tk_platform_ctx *ctx)
{
    XIDeviceInfo *info;
    int n = 0;

    ctx->n_xtest = 0;
    info = XIQueryDevice(ctx->dpy, XIAllDevices, &n);
    if (!info)
        return;
    for (int i = 0; i < n && ctx->n_xtest < MAX_XTEST; i++) {
        bool slave = info[i].use == XISlavePointer || info[i].use == XISlaveKeyboard ||
                     info[i].use == XIFloatingSlave;
        if (slave && info[i].name && strstr(info[i].name, "XTEST"))
            ctx->xtest[ctx->n_xtest++] = info[i].deviceid;
    }
    XIFreeDeviceInfo(info);
}

static bool is_xtest(const struct tk_platform_ctx *ctx, int deviceid)
{
    for (int i = 0; i < ctx->n_xtest; i++)
        if (ctx->xtest[i] == deviceid)
            return true;
    return false;
}

static int select_events(struct tk_platform_ctx *ctx)
{
    unsigned char raw[XIMaskLen(XI_LASTEVENT)] = {0};
    unsigned char hier[XIMaskLen(XI_LASTEVENT)] = {0};
    XIEventMask masks[2] = {
        {.deviceid = XIAllMasterDevices, .mask_len = sizeof(raw), .mask = raw},
        {.deviceid = XIAllDevices, .mask_len = sizeof(hier), .mask = hier},
    };

    XISetMask(raw, XI_RawKeyPress);
    XISetMask(raw, XI_RawButtonPress);
    XISetMask(raw, XI_RawMotion);
    XISetMask(hier, XI_HierarchyChanged);
    trap_push(ctx->dpy);
    XISelectEvents(ctx->dpy, ctx->root, masks, 2);
    return trap_pop(ctx->dpy) ? -EIO : 0;
}

static int x11_open(const char *display, struct tk_platform_ctx **ret_ctx, char *err, size_t errlen)
{
    struct tk_platform_ctx *ctx;
    const char *name = display && *display ? display : getenv("DISPLAY");
    int ev, erb, major = 2, minor = 2, rc;
    XWindowAttributes wa;

    if (!name || !*name) {
        snprintf(err, errlen, "no display: $DISPLAY is not set");
        return -ENXIO;
    }
    ctx = xcalloc(1, sizeof(*ctx));
    ctx->dpy = XOpenDisplay(name);
    if (!ctx->dpy) {
        snprintf(err, errlen, "cannot open display '%s'", name);
        free(ctx);
        return -ECONNREFUSED;
    }
    ctx->root = DefaultRootWindow(ctx->dpy);
    if (!XGetWindowAttributes(ctx->dpy, ctx->root, &wa)) {
        snprintf(err, errlen, "cannot read the root window of display '%s'", name);
        rc = -EIO;
        goto fail;
    }
    ctx->visual = wa.visual;
    ctx->depth = wa.depth;

    if (!XQueryExtension(ctx->dpy, "XInputExtension", &ctx->xi_opcode, &ev, &erb)) {
        snprintf(err, errlen, "the X server has no XInput2");
        rc = -ENOTSUP;
        goto fail;
    }
    /* 2.2 is the first version whose raw events carry the source device. */
    if (XIQueryVersion(ctx->dpy, &major, &minor) != Success || major * 100 + minor < 202) {
        snprintf(err, errlen, "the X server has XInput %d.%d; 2.2 is needed", major, minor);
        rc = -ENOTSUP;
        goto fail;
    }
    if (select_events(ctx) < 0) {
        snprintf(err, errlen, "the X server refused to report input events");
        rc = -EIO;
        goto fail;
    }
    refresh_xtest(ctx);

    if (XScreenSaverQueryExtension(ctx->dpy, &ev, &erb))
        ctx->ss = XScreenSaverAllocInfo();
    ctx->have_shm = XShmQueryExtension(ctx->dpy);
    if (XRRQueryExtension(ctx->dpy, &ev, &erb)) {
        int rmaj = 0, rmin = 0;
        if (XRRQueryVersion(ctx->dpy, &rmaj, &rmin))
            ctx->have_randr15 = rmaj > 1 || (rmaj == 1 && rmin >= 5);
    }
    ctx->last_input_mono_ms = mono_ms();
    XFlush(ctx->dpy);
    *ret_ctx = ctx;
    return 0;
fail:
    XCloseDisplay(ctx->dpy);
    free(ctx);
    return rc;
}

static void x11_close(struct tk_platform_ctx *ctx)
{
    if (!ctx)
        return;
    shm_release(ctx);
    if (ctx->ss)
        XFree(ctx->ss);
    /*
     * On a lost connection XCloseDisplay() would write to it and Xlib would
     * exit(); the Display is left behind instead, a few kilobytes once.
     */
    if (!ctx->lost)
        XCloseDisplay(ctx->dpy);
    free(ctx);
}

static int x11_fd(struct tk_platform_ctx *ctx)
{
    return ConnectionNumber(ctx->dpy);
}

/*
 * Counts one raw event. Only the event's type, time and source device are
 * read: a key press is a key press, whichever key it was.
 */
static void count_raw(struct tk_platform_ctx *ctx, int evtype, const XIRawEvent *raw,
                      struct tk_activity *acc)
{
    bool synthetic = is_xtest(ctx, raw->sourceid);
    uint32_t t = (uint32_t)raw->time;

    switch (evtype) {
    case XI_RawKeyPress:
        acc->keys++;
        break;
    case XI_RawButtonPress:
        /* Clicks and scroll steps (buttons 4-7) count alike. */
        acc->mouse++;
        break;
    case XI_RawMotion:
        if (ctx->motion_seen && (uint32_t)(t - ctx->last_motion) < TK_MOTION_WINDOW_MS)
            return;
        ctx->motion_seen = true;
        ctx->last_motion = t;
        acc->mouse++;
        break;
    default:
        return;
    }
    if (synthetic)
        acc->synthetic++;
    ctx->last_input_mono_ms = mono_ms();
}

static int x11_drain(struct tk_platform_ctx *ctx, struct tk_activity *acc)
{
    XEvent ev;

    if (connection_lost(ctx))
        return -EPIPE;
    capture_expire(ctx);
    while (XPending(ctx->dpy) > 0) {
        XGenericEventCookie *cookie = &ev.xcookie;

        XNextEvent(ctx->dpy, &ev);
        if (cookie->type != GenericEvent || cookie->extension != ctx->xi_opcode)
            continue;
        if (!XGetEventData(ctx->dpy, cookie))
            continue;
        if (cookie->evtype == XI_HierarchyChanged)
            refresh_xtest(ctx);
        else
            count_raw(ctx, cookie->evtype, cookie->data, acc);
        XFreeEventData(ctx->dpy, cookie);
    }
    return 0;
}

static int64_t x11_idle_ms(struct tk_platform_ctx *ctx)
{
    if (connection_lost(ctx))
        return -EPIPE;
    capture_expire(ctx);
    if (ctx->ss && XScreenSaverQueryInfo(ctx->dpy, ctx->root, ctx->ss))
        return (int64_t)ctx->ss->idle;
    /* Without MIT-SCREEN-SAVER: the time since the last input this context drained. */
    return mono_ms() - ctx->last_input_mono_ms;
}

static int root_size(struct tk_platform_ctx *ctx, int *ret_w, int *ret_h)
{
    Window r;
    int x, y;
    unsigned int w, h, bw, depth;

    if (!XGetGeometry(ctx->dpy, ctx->root, &r, &x, &y, &w, &h, &bw, &depth))
        return -EIO;
    *ret_w = (int)w;
    *ret_h = (int)h;
    return 0;
}

static int x11_monitors(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max)
{
    XRRMonitorInfo *mi = NULL;
    int n = 0, w, h;

    if (connection_lost(ctx))
        return -EPIPE;
    if (max <= 0)
        return 0;
    if (ctx->have_randr15)
        mi = XRRGetMonitors(ctx->dpy, ctx->root, True, &n);
    if (mi && n > 0) {
        int count = n < max ? n : max;
        for (int i = 0; i < count; i++) {
            char *name = NULL;
            memset(&out[i], 0, sizeof(out[i]));
            out[i].index = i;
            out[i].x = mi[i].x;
            out[i].y = mi[i].y;
            out[i].width = mi[i].width;
            out[i].height = mi[i].height;
            out[i].primary = mi[i].primary;
            if (mi[i].name != None) {
                trap_push(ctx->dpy);
                name = XGetAtomName(ctx->dpy, mi[i].name);
                trap_pop(ctx->dpy);
            }
            snprintf(out[i].name, sizeof(out[i].name), "%s", name ? name : "monitor");
            if (name)
                XFree(name);
        }
        XRRFreeMonitors(mi);
        return count;
    }
    if (mi)
        XRRFreeMonitors(mi);
    /* No RandR 1.5: the whole screen is one monitor. */
    if (root_size(ctx, &w, &h) < 0)
        return -EIO;
    memset(&out[0], 0, sizeof(out[0]));
    snprintf(out[0].name, sizeof(out[0].name), "screen");
    out[0].width = w;
    out[0].height = h;
    out[0].primary = true;
    return 1;
}

/* Capture. */

/* A channel's place in a pixel: shift and width of its (contiguous) mask. */
struct channel {
    int shift, bits;
    uint32_t max;
};

static bool channel_of(unsigned long mask, struct channel *ret)
{
    int shift = 0, bits = 0;

    if (!mask || mask > 0xffffffffUL)
        return false;
    while (!(mask & 1)) {
        mask >>= 1;
        shift++;
    }
    while (mask & 1) {
        mask >>= 1;
        bits++;
    }
    if (mask || bits > 16)
        return false;
    ret->shift = shift;
    ret->bits = bits;
    ret->max = (1u << bits) - 1;
    return true;
}

static unsigned char channel_value(uint32_t v, const struct channel *c)
{
    uint32_t x = (v >> c->shift) & c->max;

    if (c->bits >= 8)
        return (unsigned char)(x >> (c->bits - 8));
    return (unsigned char)((x * 255 + c->max / 2) / c->max);
}

/*
 * Maps in the page tables of a range in one call rather than one fault per
 * page (Linux 5.14 and later; elsewhere the pages fault in as they are read).
 */
static void prefault(void *p, size_t n, int advice)
{
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)4095;

    if (e > a)
        madvise((void *)a, e - a, advice);
}

/*
 * Converts rows [from, from + rows) of a TrueColor image (16, 24 or 32 bits
 * a pixel: depths 15 to 30) into packed RGB at row dst_y of f, which is as
 * wide as the image. The usual layout, BGRX in memory, takes a fast path.
 */
static int image_rows_to_rgb(const XImage *img, int from, int rows, struct tk_frame *f, int dst_y,
                             char *err, size_t errlen)
{
    struct channel r, g, b;
    int bpp = img->bits_per_pixel / 8;
    bool msb = img->byte_order == MSBFirst;
    bool bgrx;

    if ((bpp != 2 && bpp != 3 && bpp != 4) || img->bits_per_pixel % 8 ||
        !channel_of(img->red_mask, &r) || !channel_of(img->green_mask, &g) ||
        !channel_of(img->blue_mask, &b)) {
        snprintf(err, errlen,
                 "cannot capture the screen: unsupported visual (depth %d, %d bits a pixel)",
                 img->depth, img->bits_per_pixel);
        return -ENOTSUP;
    }
    bgrx = bpp == 4 && !msb && r.shift == 16 && g.shift == 8 && b.shift == 0 && r.bits == 8 &&
           g.bits == 8 && b.bits == 8;
    for (int y = 0; y < rows; y++) {
        const unsigned char *src =
            (const unsigned char *)img->data + (size_t)(from + y) * img->bytes_per_line;
        unsigned char *dst = f->rgb + (size_t)(dst_y + y) * f->stride;
        if (bgrx) {
            for (int x = 0; x < f->width; x++) {
                dst[0] = src[2];
                dst[1] = src[1];
                dst[2] = src[0];
                src += 4;
                dst += 3;
            }
            continue;
        }
        for (int x = 0; x < f->width; x++) {
            uint32_t v = 0;
            for (int i = 0; i < bpp; i++)
                v |= (uint32_t)src[i] << (8 * (msb ? bpp - 1 - i : i));
            dst[0] = channel_value(v, &r);
            dst[1] = channel_value(v, &g);
            dst[2] = channel_value(v, &b);
            src += bpp;
            dst += 3;
        }
    }
    return 0;
}

/*
 * The screen is read in stripes of STRIPE_ROWS rows, each converted and
 * handed on before the next is read: what a capture holds is one stripe
 * (480 KB at 1920 pixels across, 32 bits a pixel, and 360 KB of it as RGB),
 * not a copy of the screen (8 MB at 1920x1080). With capture_rows() the
 * recorder encodes the rows as they come, so no frame exists at all. A
 * stripe costs a round trip to the server: 17 of them for 1080 rows.
 *
 * The stripe goes through a shared-memory segment: one copy inside the
 * server instead of the pixels through the socket. It is removed
 * (IPC_RMID) as soon as the server has attached it, so a crash leaves
 * nothing behind.
 *
 * What a capture leaves (this segment, and the freed frame and encoder
 * buffers that malloc keeps for reuse) stays for CAPTURE_LINGER_MS, so
 * that a burst (each monitor in turn, a retry) does not fault it all in
 * again, and is given back by the next drain() or idle_ms() after that:
 * with screenshots minutes apart, nothing of them stays resident.
 */
#define STRIPE_ROWS 64
#define CAPTURE_LINGER_MS 5000

static void shm_release(struct tk_platform_ctx *ctx)
{
    struct shm_cache *c = &ctx->shm;

    if (!c->img)
        return;
    if (!ctx->lost) {
        XShmDetach(ctx->dpy, &c->si);
        XFlush(ctx->dpy);
    }
    shmdt(c->si.shmaddr);
    c->img->data = NULL;
    XDestroyImage(c->img);
    memset(c, 0, sizeof(*c));
}

static void capture_expire(struct tk_platform_ctx *ctx)
{
    if (!ctx->captured || mono_ms() - ctx->last_capture_ms < CAPTURE_LINGER_MS)
        return;
    shm_release(ctx);
#ifdef __GLIBC__
    /* glibc keeps a freed block of the frame's size in its heap after the first one. */
    malloc_trim(0);
#endif
    ctx->captured = false;
}

/* Makes ctx->shm a segment of w x h pixels. 0, or 1 when shared memory cannot be used. */
static int shm_prepare(struct tk_platform_ctx *ctx, int w, int h)
{
    struct shm_cache *c = &ctx->shm;
    /* The image keeps a pointer to its XShmSegmentInfo: it must be c->si itself. */
    XShmSegmentInfo *si = &c->si;
    XImage *img;
    size_t size;
    bool attached;

    if (c->img && c->img->width == w && c->img->height == h)
        return 0;
    shm_release(ctx);
    si->shmid = -1;
    si->shmaddr = (char *)-1;
    img = XShmCreateImage(ctx->dpy, ctx->visual, (unsigned)ctx->depth, ZPixmap, NULL, si,
                          (unsigned)w, (unsigned)h);
    if (!img)
        return 1;
    size = (size_t)img->bytes_per_line * img->height;
    si->shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (si->shmid < 0)
        goto fail;
    si->shmaddr = shmat(si->shmid, NULL, 0);
    if (si->shmaddr == (char *)-1)
        goto fail;
    img->data = si->shmaddr;
    si->readOnly = False;
    /* Allocated here in one call, so that the server does not fault page by page. */
    prefault(si->shmaddr, size, MADV_POPULATE_WRITE);
    trap_push(ctx->dpy);
    XShmAttach(ctx->dpy, si);
    attached = trap_pop(ctx->dpy) == 0;
    shmctl(si->shmid, IPC_RMID, NULL);
    si->shmid = -1;
    if (!attached) {
        /* A display on another machine, or in another IPC namespace: stop trying. */
        ctx->have_shm = false;
        goto fail;
    }
    c->img = img;
    return 0;
fail:
    if (si->shmid >= 0)
        shmctl(si->shmid, IPC_RMID, NULL);
    if (si->shmaddr != (char *)-1)
        shmdt(si->shmaddr);
    img->data = NULL;
    XDestroyImage(img);
    memset(c, 0, sizeof(*c));
    return 1;
}

/* Reads one stripe through shared memory. Returns 1 when it cannot be used here. */
static int stripe_shm(struct tk_platform_ctx *ctx, int x, int y, int w, int rows, XImage **ret_img,
                      char *err, size_t errlen)
{
    Bool ok;

    if (shm_prepare(ctx, w, rows) != 0)
        return 1;
    trap_push(ctx->dpy);
    ok = XShmGetImage(ctx->dpy, ctx->root, ctx->shm.img, x, y, AllPlanes);
    if (trap_pop(ctx->dpy))
        ok = False;
    if (!ok) {
        shm_release(ctx);
        snprintf(err, errlen, "cannot capture the screen: the X server refused to copy it");
        return -EIO;
    }
    *ret_img = ctx->shm.img;
    return 0;
}

/* Reads one stripe through the socket (no shared memory): a new image, destroyed by the caller. */
static int stripe_plain(struct tk_platform_ctx *ctx, int x, int y, int w, int rows,
                        XImage **ret_img, char *err, size_t errlen)
{
    XImage *img;

    trap_push(ctx->dpy);
    img = XGetImage(ctx->dpy, ctx->root, x, y, (unsigned)w, (unsigned)rows, AllPlanes, ZPixmap);
    if (trap_pop(ctx->dpy) || !img) {
        if (img)
            XDestroyImage(img);
        snprintf(err, errlen, "cannot capture the screen: the X server refused to copy it");
        return -EIO;
    }
    *ret_img = img;
    return 0;
}

/*
 * Reads the rectangle stripe by stripe, converting each into RGB rows for
 * sink. The last stripe overlaps the one before when the height is not a
 * multiple of STRIPE_ROWS, so every stripe (and the shared segment) has one
 * size; only its new rows are handed over.
 */
static int grab_rows(struct tk_platform_ctx *ctx, int x, int y, int w, int h,
                     const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    int rows = h < STRIPE_ROWS ? h : STRIPE_ROWS;
    struct tk_frame stripe = {.width = w, .height = rows, .stride = w * 3};
    int rc;

    if ((rc = sink->begin(sink->ud, w, h, err, errlen)) < 0)
        return rc;
    stripe.rgb = xmalloc((size_t)stripe.stride * rows);
    for (int top = 0; top < h && rc == 0; top += rows) {
        int sy = top + rows <= h ? top : h - rows; /* the stripe read */
        int fresh = rows - (top - sy);             /* its rows not handed over yet */
        XImage *img = NULL;
        bool plain = !ctx->have_shm;

        if (!plain) {
            rc = stripe_shm(ctx, x, y + sy, w, rows, &img, err, errlen);
            if (rc == 1) {
                plain = true; /* shared memory cannot be used here: the socket from now on */
                rc = 0;
            }
        }
        if (plain)
            rc = stripe_plain(ctx, x, y + sy, w, rows, &img, err, errlen);
        if (rc == 0)
            rc = image_rows_to_rgb(img, top - sy, fresh, &stripe, 0, err, errlen);
        if (plain && img)
            XDestroyImage(img);
        if (rc == 0)
            rc = sink->rows(sink->ud, stripe.rgb, stripe.stride, fresh, err, errlen);
    }
    tk_frame_release(&stripe);
    return rc;
}

/* A sink that keeps the rows as a whole frame, for capture(). */
struct frame_fill {
    struct tk_frame f;
    int filled;
};

static int fill_begin(void *ud, int width, int height, char *err, size_t errlen)
{
    struct tk_frame *f = &((struct frame_fill *)ud)->f;

    f->width = width;
    f->height = height;
    f->stride = width * 3;
    f->rgb = xmalloc((size_t)f->stride * height);
    prefault(f->rgb, (size_t)f->stride * height, MADV_POPULATE_WRITE);
    return 0;
}

static int fill_rows(void *ud, const unsigned char *rgb, int stride, int n, char *err,
                     size_t errlen)
{
    struct frame_fill *ff = ud;

    for (int i = 0; i < n; i++)
        memcpy(ff->f.rgb + (size_t)(ff->filled + i) * ff->f.stride, rgb + (size_t)i * stride,
               (size_t)ff->f.width * 3);
    ff->filled += n;
    return 0;
}

/*
 * The rectangle to capture: the chosen monitor, or the bounding box of
 * all, inside the root window. Counts the call (the privacy tests read the
 * count). 0, or < 0 with err.
 */
static int capture_rect(struct tk_platform_ctx *ctx, int monitor, int *ret_x, int *ret_y,
                        int *ret_w, int *ret_h, char *err, size_t errlen)
{
    struct tk_monitor mon[TK_MAX_MONITORS];
    int n, x0, y0, x1, y1, sw, sh;

    __atomic_add_fetch(&capture_calls, 1, __ATOMIC_SEQ_CST);
    if (connection_lost(ctx)) {
        snprintf(err, errlen, "cannot capture the screen: the X connection was lost");
        return -EPIPE;
    }
    n = x11_monitors(ctx, mon, TK_MAX_MONITORS);
    if (n <= 0) {
        snprintf(err, errlen, "cannot capture the screen: no monitor found");
        return n < 0 ? n : -EIO;
    }
    if (monitor != TK_MONITOR_ALL && (monitor < 0 || monitor >= n)) {
        snprintf(err, errlen, "no monitor %d (there are %d)", monitor, n);
        return -EINVAL;
    }
    if (monitor == TK_MONITOR_ALL) {
        x0 = mon[0].x, y0 = mon[0].y;
        x1 = mon[0].x + mon[0].width, y1 = mon[0].y + mon[0].height;
        for (int i = 1; i < n; i++) {
            x0 = mon[i].x < x0 ? mon[i].x : x0;
            y0 = mon[i].y < y0 ? mon[i].y : y0;
            x1 = mon[i].x + mon[i].width > x1 ? mon[i].x + mon[i].width : x1;
            y1 = mon[i].y + mon[i].height > y1 ? mon[i].y + mon[i].height : y1;
        }
    } else {
        x0 = mon[monitor].x, y0 = mon[monitor].y;
        x1 = x0 + mon[monitor].width, y1 = y0 + mon[monitor].height;
    }
    /* The server refuses a rectangle that leaves the root window. */
    if (root_size(ctx, &sw, &sh) < 0) {
        snprintf(err, errlen, "cannot capture the screen: cannot read its size");
        return -EIO;
    }
    x0 = x0 < 0 ? 0 : x0;
    y0 = y0 < 0 ? 0 : y0;
    x1 = x1 > sw ? sw : x1;
    y1 = y1 > sh ? sh : y1;
    if (x1 <= x0 || y1 <= y0) {
        snprintf(err, errlen, "cannot capture the screen: the monitor lies outside it");
        return -EIO;
    }
    if (x1 - x0 > TK_FRAME_MAX_SIDE || y1 - y0 > TK_FRAME_MAX_SIDE ||
        (int64_t)(x1 - x0) * (y1 - y0) > TK_FRAME_MAX_PIXELS) {
        snprintf(err, errlen, "cannot capture the screen: %dx%d is too large", x1 - x0, y1 - y0);
        return -EINVAL;
    }
    *ret_x = x0;
    *ret_y = y0;
    *ret_w = x1 - x0;
    *ret_h = y1 - y0;
    return 0;
}

static int x11_capture_rows(struct tk_platform_ctx *ctx, int monitor,
                            const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    int x, y, w, h, rc;

    if ((rc = capture_rect(ctx, monitor, &x, &y, &w, &h, err, errlen)) < 0)
        return rc;
    rc = grab_rows(ctx, x, y, w, h, sink, err, errlen);
    ctx->captured = true;
    ctx->last_capture_ms = mono_ms();
    return rc;
}

static int x11_capture(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                       char *err, size_t errlen)
{
    struct frame_fill ff = {0};
    struct tk_rows_sink sink = {.begin = fill_begin, .rows = fill_rows, .ud = &ff};
    int rc = x11_capture_rows(ctx, monitor, &sink, err, errlen);

    if (rc < 0) {
        tk_frame_release(&ff.f);
        return rc;
    }
    *ret_frame = ff.f;
    return 0;
}

const struct tk_platform tk_platform_x11 = {
    .name = "x11",
    .open = x11_open,
    .close = x11_close,
    .fd = x11_fd,
    .drain = x11_drain,
    .idle_ms = x11_idle_ms,
    .monitors = x11_monitors,
    .capture = x11_capture,
    .capture_rows = x11_capture_rows,
};
