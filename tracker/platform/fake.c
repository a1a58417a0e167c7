/*
 * The fake platform backend: a desktop that tests script through fake.h
 * (activity to report, idle time, what capture returns) and that counts
 * every capture call, to prove that nothing is captured while the timer is
 * stopped. Not for production: it never touches a real display.
 *
 * The state is process-global behind one mutex, because tests drive it from
 * their own thread while the engine calls the backend from another.
 */
#include "tracker/platform/fake.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define FAKE_MONITORS 2

struct tk_platform_ctx {
    int unused;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    struct tk_activity pending;
    int64_t idle_ms;
    int capture_mode;
    int capture_calls;
    int last_monitor;
    bool open_fails;
    enum tk_measure measure;
} st = {.last_monitor = TK_MONITOR_ALL};

void tk_fake_add_activity(int keys, int mouse, int synthetic)
{
    pthread_mutex_lock(&lock);
    st.pending.keys += keys;
    st.pending.mouse += mouse;
    st.pending.synthetic += synthetic;
    pthread_mutex_unlock(&lock);
}

void tk_fake_add_active_seconds(int seconds)
{
    pthread_mutex_lock(&lock);
    st.pending.active_s += seconds;
    pthread_mutex_unlock(&lock);
}

void tk_fake_set_measure(enum tk_measure m)
{
    pthread_mutex_lock(&lock);
    st.measure = m;
    pthread_mutex_unlock(&lock);
}

void tk_fake_set_idle_ms(int64_t ms)
{
    pthread_mutex_lock(&lock);
    st.idle_ms = ms;
    pthread_mutex_unlock(&lock);
}

void tk_fake_set_capture_mode(int mode)
{
    pthread_mutex_lock(&lock);
    st.capture_mode = mode;
    pthread_mutex_unlock(&lock);
}

int tk_fake_capture_calls(void)
{
    int n;

    pthread_mutex_lock(&lock);
    n = st.capture_calls;
    pthread_mutex_unlock(&lock);
    return n;
}

int tk_fake_last_capture_monitor(void)
{
    int m;

    pthread_mutex_lock(&lock);
    m = st.last_monitor;
    pthread_mutex_unlock(&lock);
    return m;
}

void tk_fake_set_open_fails(bool fails)
{
    pthread_mutex_lock(&lock);
    st.open_fails = fails;
    pthread_mutex_unlock(&lock);
}

void tk_fake_reset(void)
{
    pthread_mutex_lock(&lock);
    memset(&st, 0, sizeof(st));
    st.last_monitor = TK_MONITOR_ALL;
    pthread_mutex_unlock(&lock);
}

static int fake_open(const char *display, struct tk_platform_ctx **ret_ctx, char *err,
                     size_t errlen)
{
    bool fails;

    pthread_mutex_lock(&lock);
    fails = st.open_fails;
    pthread_mutex_unlock(&lock);
    if (fails) {
        snprintf(err, errlen, "no display: the fake display is switched off");
        return -ENXIO;
    }
    *ret_ctx = xcalloc(1, sizeof(**ret_ctx));
    return 0;
}

static void fake_close(struct tk_platform_ctx *ctx)
{
    free(ctx);
}

static int fake_fd(struct tk_platform_ctx *ctx)
{
    return -1;
}

static int fake_drain(struct tk_platform_ctx *ctx, struct tk_activity *acc)
{
    pthread_mutex_lock(&lock);
    acc->keys += st.pending.keys;
    acc->mouse += st.pending.mouse;
    acc->synthetic += st.pending.synthetic;
    acc->active_s += st.pending.active_s;
    memset(&st.pending, 0, sizeof(st.pending));
    pthread_mutex_unlock(&lock);
    return 0;
}

static enum tk_measure fake_measure(struct tk_platform_ctx *ctx)
{
    enum tk_measure m;

    pthread_mutex_lock(&lock);
    m = st.measure;
    pthread_mutex_unlock(&lock);
    return m;
}

static int64_t fake_idle_ms(struct tk_platform_ctx *ctx)
{
    int64_t ms;

    pthread_mutex_lock(&lock);
    ms = st.idle_ms;
    pthread_mutex_unlock(&lock);
    return ms;
}

static int fake_monitors(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max)
{
    int n = max < FAKE_MONITORS ? max : FAKE_MONITORS;

    for (int i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        out[i].index = i;
        snprintf(out[i].name, sizeof(out[i].name), "FAKE-%d", i);
        out[i].x = i * TK_FAKE_MONITOR_W;
        out[i].width = TK_FAKE_MONITOR_W;
        out[i].height = TK_FAKE_MONITOR_H;
        out[i].primary = i == 0;
    }
    return n < 0 ? 0 : n;
}

/*
 * A busy picture: gradients, a checkerboard and pseudo-random specks, so
 * that it is far from blank and encodes to a realistic size.
 */
static void fill_busy(struct tk_frame *f, int x0)
{
    unsigned int seed = 12345;

    for (int y = 0; y < f->height; y++) {
        unsigned char *row = f->rgb + (size_t)y * f->stride;
        for (int x = 0; x < f->width; x++) {
            int gx = x + x0;
            bool check = ((gx / 16) + (y / 16)) % 2;
            seed = seed * 1103515245u + 12345u;
            row[x * 3 + 0] = (unsigned char)(gx * 255 / (2 * TK_FAKE_MONITOR_W));
            row[x * 3 + 1] = (unsigned char)(check ? 200 : 40);
            row[x * 3 + 2] = (unsigned char)((y * 255 / f->height) ^ ((seed >> 16) & 0x3f));
        }
    }
}

static int fake_capture(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                        char *err, size_t errlen)
{
    struct tk_frame f = {0};
    int mode;

    pthread_mutex_lock(&lock);
    st.capture_calls++;
    st.last_monitor = monitor;
    mode = st.capture_mode;
    pthread_mutex_unlock(&lock);

    if (monitor != TK_MONITOR_ALL && (monitor < 0 || monitor >= FAKE_MONITORS)) {
        snprintf(err, errlen, "no monitor %d (there are %d)", monitor, FAKE_MONITORS);
        return -EINVAL;
    }
    if (mode == TK_FAKE_CAPTURE_ERROR) {
        snprintf(err, errlen, "cannot capture the screen: the fake capture failed");
        return -EIO;
    }
    f.width = monitor == TK_MONITOR_ALL ? FAKE_MONITORS * TK_FAKE_MONITOR_W : TK_FAKE_MONITOR_W;
    f.height = TK_FAKE_MONITOR_H;
    f.stride = f.width * 3;
    f.rgb = xmalloc((size_t)f.stride * f.height);
    if (mode == TK_FAKE_CAPTURE_UNIFORM)
        memset(f.rgb, 0x30, (size_t)f.stride * f.height);
    else
        fill_busy(&f, monitor == TK_MONITOR_ALL ? 0 : monitor * TK_FAKE_MONITOR_W);
    *ret_frame = f;
    return 0;
}

/* The same frame, handed over in stripes of 50 rows (and a shorter last one). */
static int fake_capture_rows(struct tk_platform_ctx *ctx, int monitor,
                             const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    struct tk_frame f = {0};
    int rc = fake_capture(ctx, monitor, &f, err, errlen);

    if (rc == 0)
        rc = sink->begin(sink->ud, f.width, f.height, err, errlen);
    for (int top = 0; rc == 0 && top < f.height; top += 50)
        rc = sink->rows(sink->ud, f.rgb + (size_t)top * f.stride, f.stride,
                        f.height - top < 50 ? f.height - top : 50, err, errlen);
    tk_frame_release(&f);
    return rc;
}

const struct tk_platform tk_platform_fake = {
    .name = "fake",
    .open = fake_open,
    .close = fake_close,
    .fd = fake_fd,
    .drain = fake_drain,
    .idle_ms = fake_idle_ms,
    .monitors = fake_monitors,
    .capture = fake_capture,
    .capture_rows = fake_capture_rows,
    .measure = fake_measure,
};
