/*
 * One frame from a PipeWire stream (pw-frame.h), over libpipewire-0.3
 * loaded with dlopen() on first use. Only the exported functions below are
 * resolved; the rest of what is used (the loop's iterate, the pod builder,
 * the format parser) are inline functions of the headers.
 */
#include "tracker/platform/pw-frame.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pipewire/pipewire.h>
#include <spa/param/video/format-utils.h>

#include "lib/xalloc.h"
#include "tracker/platform/platform.h"

static struct {
    bool loaded;
    typeof(pw_init) *init;
    typeof(pw_loop_new) *loop_new;
    typeof(pw_loop_destroy) *loop_destroy;
    typeof(pw_context_new) *context_new;
    typeof(pw_context_destroy) *context_destroy;
    typeof(pw_context_connect) *connect;
    typeof(pw_context_connect_fd) *connect_fd;
    typeof(pw_core_disconnect) *disconnect;
    typeof(pw_properties_new) *props_new;
    typeof(pw_stream_new) *stream_new;
    typeof(pw_stream_add_listener) *stream_listen;
    typeof(pw_stream_connect) *stream_connect;
    typeof(pw_stream_update_params) *stream_update;
    typeof(pw_stream_dequeue_buffer) *dequeue;
    typeof(pw_stream_queue_buffer) *queue;
    typeof(pw_stream_destroy) *stream_destroy;
} P;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
    void *so = dlopen("libpipewire-0.3.so.0", RTLD_NOW | RTLD_LOCAL);
    bool ok;

    if (!so)
        return;
#define SYM(field, name) (P.field = (typeof(P.field))dlsym(so, name)) != NULL
    ok = SYM(init, "pw_init") && SYM(loop_new, "pw_loop_new") &&
         SYM(loop_destroy, "pw_loop_destroy") && SYM(context_new, "pw_context_new") &&
         SYM(context_destroy, "pw_context_destroy") && SYM(connect, "pw_context_connect") &&
         SYM(connect_fd, "pw_context_connect_fd") && SYM(disconnect, "pw_core_disconnect") &&
         SYM(props_new, "pw_properties_new") && SYM(stream_new, "pw_stream_new") &&
         SYM(stream_listen, "pw_stream_add_listener") &&
         SYM(stream_connect, "pw_stream_connect") &&
         SYM(stream_update, "pw_stream_update_params") &&
         SYM(dequeue, "pw_stream_dequeue_buffer") && SYM(queue, "pw_stream_queue_buffer") &&
         SYM(stream_destroy, "pw_stream_destroy");
#undef SYM
    if (!ok) {
        dlclose(so);
        return;
    }
    P.init(NULL, NULL);
    P.loaded = true;
}

struct take {
    struct pw_stream *stream;
    struct spa_video_info_raw info;
    bool have_format, done, failed;
    char why[160];
    struct tk_pw_frame frame;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_state(void *data, enum pw_stream_state old, enum pw_stream_state state,
                     const char *error)
{
    struct take *t = data;

    if (state == PW_STREAM_STATE_ERROR || (state == PW_STREAM_STATE_UNCONNECTED && !t->done)) {
        t->failed = true;
        snprintf(t->why, sizeof(t->why), "%s",
                 error ? error : "the stream was disconnected");
    }
}

static void on_param(void *data, uint32_t id, const struct spa_pod *param)
{
    struct take *t = data;
    unsigned char buf[256];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[1];
    uint32_t media_type, media_subtype;

    if (id != SPA_PARAM_Format || !param)
        return;
    if (spa_format_parse(param, &media_type, &media_subtype) < 0 ||
        media_type != SPA_MEDIA_TYPE_video || media_subtype != SPA_MEDIA_SUBTYPE_raw ||
        spa_format_video_raw_parse(param, &t->info) < 0)
        return;
    t->have_format = true;
    /* Shared memory only: a DMA-BUF would need a GPU to read. */
    params[0] = spa_pod_builder_add_object(
        &b, SPA_TYPE_OBJECT_ParamBuffers, SPA_PARAM_Buffers, SPA_PARAM_BUFFERS_dataType,
        SPA_POD_CHOICE_FLAGS_Int((1 << SPA_DATA_MemFd) | (1 << SPA_DATA_MemPtr)));
    P.stream_update(t->stream, params, 1);
}

static void on_process(void *data)
{
    struct take *t = data;
    struct pw_buffer *b = P.dequeue(t->stream);
    struct spa_data *d;
    int w, h, stride;

    if (!b)
        return;
    d = &b->buffer->datas[0];
    w = (int)t->info.size.width;
    h = (int)t->info.size.height;
    stride = d->chunk->stride > 0 ? d->chunk->stride : w * 4;
    if (t->done || !t->have_format || !d->data || d->chunk->size == 0 ||
        (d->chunk->flags & SPA_CHUNK_FLAG_CORRUPTED))
        goto out; /* e.g. a cursor-only update: wait for the next */
    if (w <= 0 || h <= 0 || w > TK_FRAME_MAX_SIDE || h > TK_FRAME_MAX_SIDE ||
        (int64_t)w * h > TK_FRAME_MAX_PIXELS || stride < w * 4 ||
        (uint64_t)d->chunk->offset + (uint64_t)stride * (uint64_t)h > d->maxsize) {
        t->failed = true;
        snprintf(t->why, sizeof(t->why), "a %dx%d frame (stride %d) is too large or wrong", w,
                 h, stride);
        goto out;
    }
    t->frame.width = w;
    t->frame.height = h;
    t->frame.stride = stride;
    t->frame.rgb_first = t->info.format == SPA_VIDEO_FORMAT_RGBx ||
                         t->info.format == SPA_VIDEO_FORMAT_RGBA;
    t->frame.px = xmalloc((size_t)stride * (size_t)h);
    memcpy(t->frame.px, (const unsigned char *)d->data + d->chunk->offset,
           (size_t)stride * (size_t)h);
    t->done = true;
out:
    P.queue(t->stream, b);
}

static const struct pw_stream_events stream_events = {
    PW_VERSION_STREAM_EVENTS,
    .state_changed = on_state,
    .param_changed = on_param,
    .process = on_process,
};

int tk_pw_take_frame(int fd, uint32_t node, int timeout_ms, struct tk_pw_frame *ret_frame,
                     char *err, size_t errlen)
{
    struct take t = {0};
    struct pw_loop *loop = NULL;
    struct pw_context *context = NULL;
    struct pw_core *core = NULL;
    struct spa_hook listener;
    unsigned char buf[1024];
    struct spa_pod_builder b = SPA_POD_BUILDER_INIT(buf, sizeof(buf));
    const struct spa_pod *params[1];
    int64_t deadline = mono_ms() + timeout_ms;
    int r = 0;

    pthread_once(&load_once, load);
    if (!P.loaded) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "libpipewire-0.3.so.0 cannot be loaded");
        return -ENXIO;
    }
    loop = P.loop_new(NULL);
    context = loop ? P.context_new(loop, NULL, 0) : NULL;
    if (!context) {
        if (fd >= 0)
            close(fd);
        snprintf(err, errlen, "cannot start a PipeWire client");
        r = -ENOMEM;
        goto out;
    }
    core = fd >= 0 ? P.connect_fd(context, fd, NULL, 0) : P.connect(context, NULL, 0);
    if (!core) {
        snprintf(err, errlen, "cannot connect to PipeWire: %s", strerror(errno));
        r = -EIO;
        goto out;
    }
    t.stream = P.stream_new(core, "stint-capture",
                            P.props_new(PW_KEY_MEDIA_TYPE, "Video", PW_KEY_MEDIA_CATEGORY,
                                        "Capture", PW_KEY_MEDIA_ROLE, "Screen", NULL));
    if (!t.stream) {
        snprintf(err, errlen, "cannot make a PipeWire stream");
        r = -EIO;
        goto out;
    }
    P.stream_listen(t.stream, &listener, &stream_events, &t);
    params[0] = spa_pod_builder_add_object(
        &b, SPA_TYPE_OBJECT_Format, SPA_PARAM_EnumFormat, SPA_FORMAT_mediaType,
        SPA_POD_Id(SPA_MEDIA_TYPE_video), SPA_FORMAT_mediaSubtype, SPA_POD_Id(SPA_MEDIA_SUBTYPE_raw),
        SPA_FORMAT_VIDEO_format,
        SPA_POD_CHOICE_ENUM_Id(5, SPA_VIDEO_FORMAT_BGRx, SPA_VIDEO_FORMAT_BGRx,
                               SPA_VIDEO_FORMAT_RGBx, SPA_VIDEO_FORMAT_BGRA, SPA_VIDEO_FORMAT_RGBA),
        SPA_FORMAT_VIDEO_size,
        SPA_POD_CHOICE_RANGE_Rectangle(&SPA_RECTANGLE(1280, 720), &SPA_RECTANGLE(1, 1),
                                       &SPA_RECTANGLE(TK_FRAME_MAX_SIDE, TK_FRAME_MAX_SIDE)),
        SPA_FORMAT_VIDEO_framerate,
        SPA_POD_CHOICE_RANGE_Fraction(&SPA_FRACTION(30, 1), &SPA_FRACTION(0, 1),
                                      &SPA_FRACTION(1000, 1)));
    if (P.stream_connect(t.stream, PW_DIRECTION_INPUT, node,
                         PW_STREAM_FLAG_AUTOCONNECT | PW_STREAM_FLAG_MAP_BUFFERS, params,
                         1) < 0) {
        snprintf(err, errlen, "cannot connect to PipeWire node %u", (unsigned)node);
        r = -EIO;
        goto out;
    }
    pw_loop_enter(loop);
    while (!t.done && !t.failed) {
        int64_t left = deadline - mono_ms();
        if (left <= 0)
            break;
        if (pw_loop_iterate(loop, (int)left) < 0 && errno != EINTR)
            break;
    }
    pw_loop_leave(loop);
    if (!t.done) {
        if (t.failed)
            snprintf(err, errlen, "the PipeWire stream failed: %s", t.why);
        else
            snprintf(err, errlen, "no frame came from PipeWire node %u within %d ms",
                     (unsigned)node, timeout_ms);
        r = t.failed ? -EIO : -ETIMEDOUT;
        free(t.frame.px);
        goto out;
    }
    *ret_frame = t.frame;
out:
    if (t.stream)
        P.stream_destroy(t.stream);
    if (core)
        P.disconnect(core);
    if (context)
        P.context_destroy(context);
    if (loop)
        P.loop_destroy(loop);
    return r;
}
