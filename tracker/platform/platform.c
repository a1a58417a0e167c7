/*
 * What every build of the platform layer shares, whichever backends it
 * holds: the frame's ownership, the defaults of the optional functions of
 * struct tk_platform, and a whole frame made from a backend's stripes.
 */
#include "tracker/platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

void tk_frame_release(struct tk_frame *f)
{
    if (!f)
        return;
    free(f->rgb);
    memset(f, 0, sizeof(*f));
}

/* A sink that keeps the rows as a whole frame. */
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
    return 0;
}

static int fill_rows(void *ud, const unsigned char *rgb, int stride, int n, char *err,
                     size_t errlen)
{
    struct frame_fill *ff = ud;

    if (n < 0 || n > ff->f.height - ff->filled) {
        snprintf(err, errlen, "the capture handed over more rows than its height");
        return -EIO;
    }
    for (int i = 0; i < n; i++)
        memcpy(ff->f.rgb + (size_t)(ff->filled + i) * ff->f.stride, rgb + (size_t)i * stride,
               (size_t)ff->f.width * 3);
    ff->filled += n;
    return 0;
}

int tk_platform_capture_whole(int (*capture_rows)(struct tk_platform_ctx *ctx, int monitor,
                                                  const struct tk_rows_sink *sink, char *err,
                                                  size_t errlen),
                              struct tk_platform_ctx *ctx, int monitor,
                              struct tk_frame *ret_frame, char *err, size_t errlen)
{
    struct frame_fill ff = {0};
    struct tk_rows_sink sink = {.begin = fill_begin, .rows = fill_rows, .ud = &ff};
    int rc = capture_rows(ctx, monitor, &sink, err, errlen);

    if (rc < 0) {
        tk_frame_release(&ff.f);
        return rc;
    }
    *ret_frame = ff.f;
    return 0;
}

void tk_platform_describe(const struct tk_platform *p, struct tk_platform_ctx *ctx, char *out,
                          size_t outlen)
{
    if (p->describe && ctx)
        p->describe(ctx, out, outlen);
    else
        snprintf(out, outlen, "%s", p->name);
}

enum tk_measure tk_platform_measure(const struct tk_platform *p, struct tk_platform_ctx *ctx)
{
    return p->measure && ctx ? p->measure(ctx) : TK_MEASURE_COUNTS;
}
