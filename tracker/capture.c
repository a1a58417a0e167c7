/*
 * The frame pipeline between a platform's capture() and the uploader: blank
 * check, blur and encoding (see capture.h). Pure computation on RGB bytes;
 * it knows no display and no network.
 */
#include "tracker/capture.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* jpeglib.h needs FILE and size_t declared first. */
#include <jpeglib.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include "lib/xalloc.h"

#define BLANK_REASON "the screen was blank (a single colour)"

static int frame_check(const struct tk_frame *f, char *err, size_t errlen)
{
    if (!f || !f->rgb || f->width <= 0 || f->height <= 0) {
        snprintf(err, errlen, "the frame is empty");
        return -EINVAL;
    }
    if (f->width > TK_FRAME_MAX_SIDE || f->height > TK_FRAME_MAX_SIDE ||
        (int64_t)f->width * f->height > TK_FRAME_MAX_PIXELS) {
        snprintf(err, errlen, "the frame is too large (%dx%d)", f->width, f->height);
        return -EINVAL;
    }
    if (f->stride < f->width * 3) {
        snprintf(err, errlen, "the frame's stride %d is less than 3 x its width %d", f->stride,
                 f->width);
        return -EINVAL;
    }
    return 0;
}

void tk_frame_copy(const struct tk_frame *src, struct tk_frame *ret_dst)
{
    int row = src->width * 3;
    struct tk_frame d = {.width = src->width, .height = src->height, .stride = row};

    d.rgb = xmalloc((size_t)row * src->height);
    for (int y = 0; y < src->height; y++)
        memcpy(d.rgb + (size_t)y * row, src->rgb + (size_t)y * src->stride, row);
    *ret_dst = d;
}

/* Blank check. */

/*
 * About 65,000 samples on a regular grid: enough to see a window of 1% of
 * the screen, and cheap (well under a millisecond on full HD).
 *
 * "Equal" is against the first pixel or the centre one, whichever more
 * samples match, so that a panel in a corner does not hide a blank rest.
 * The share is 99.9% rather than 99.5%: a white page with two lines of
 * text differs in only about 0.3% of its pixels and is a real screenshot;
 * a locked or refused screen is one colour throughout.
 */
#define BLANK_SAMPLES 65536
#define BLANK_SAME_PER_10000 9990
/* Summed per-channel variance below this is noise on a single colour. */
#define BLANK_MAX_VARIANCE 2.0

static bool same_px(const unsigned char *a, const unsigned char *b)
{
    return a[0] == b[0] && a[1] == b[1] && a[2] == b[2];
}

/*
 * The blank check as rows go by: the grid's samples are kept (3 bytes each,
 * about 200 KB) and judged at the end, because "equal" is also measured
 * against the centre pixel, which only comes halfway. tk_frame_blank()
 * feeds a whole frame through the same code, so both give one verdict.
 */
struct blank_acc {
    int width, height, step;
    int next_row; /* the next row of the frame to come */
    unsigned char centre[3];
    unsigned char *px; /* the samples, in order */
    size_t n, cap;
};

static void blank_begin(struct blank_acc *b, int width, int height)
{
    memset(b, 0, sizeof(*b));
    b->width = width;
    b->height = height;
    /* A square grid step that gives about BLANK_SAMPLES points. */
    b->step = 1;
    while ((int64_t)(width / b->step) * (height / b->step) > BLANK_SAMPLES)
        b->step++;
    b->cap = (size_t)((width + b->step - 1) / b->step) * ((height + b->step - 1) / b->step) * 3;
    b->px = xmalloc(b->cap);
}

/* n rows, the next ones of the frame. */
static void blank_rows(struct blank_acc *b, const unsigned char *rgb, int stride, int n)
{
    for (int i = 0; i < n; i++, b->next_row++) {
        const unsigned char *row = rgb + (size_t)i * stride;
        int y = b->next_row;
        if (y == b->height / 2)
            memcpy(b->centre, row + (size_t)(b->width / 2) * 3, 3);
        if (y % b->step)
            continue;
        for (int x = 0; x < b->width && b->n + 3 <= b->cap; x += b->step) {
            memcpy(b->px + b->n, row + (size_t)x * 3, 3);
            b->n += 3;
        }
    }
}

static bool blank_end(struct blank_acc *b)
{
    uint64_t samples = b->n / 3, same_first = 0, same_centre = 0, same;
    double sum[3] = {0}, sumsq[3] = {0}, var = 0;
    bool blank;

    for (size_t i = 0; i < b->n; i += 3) {
        const unsigned char *p = b->px + i;
        same_first += same_px(p, b->px);
        same_centre += same_px(p, b->centre);
        for (int c = 0; c < 3; c++) {
            sum[c] += p[c];
            sumsq[c] += (double)p[c] * p[c];
        }
    }
    for (int c = 0; samples && c < 3; c++) {
        double mean = sum[c] / (double)samples;
        var += sumsq[c] / (double)samples - mean * mean;
    }
    same = same_first > same_centre ? same_first : same_centre;
    blank = !samples || same * 10000 >= samples * BLANK_SAME_PER_10000 || var < BLANK_MAX_VARIANCE;
    free(b->px);
    b->px = NULL;
    return blank;
}

bool tk_frame_blank(const struct tk_frame *f, char *reason, size_t n)
{
    char ignored[8];
    struct blank_acc b;
    bool blank;

    if (frame_check(f, ignored, sizeof(ignored)) < 0) {
        if (reason && n)
            snprintf(reason, n, "the frame was empty");
        return true;
    }
    blank_begin(&b, f->width, f->height);
    blank_rows(&b, f->rgb, f->stride, f->height);
    blank = blank_end(&b);
    if (blank && reason && n)
        snprintf(reason, n, "%s", BLANK_REASON);
    return blank;
}

/* Blur. */

int tk_blur_default_radius(int width)
{
    int r = width / 100;
    return r < 4 ? 4 : r;
}

/*
 * One box pass over n values of one channel, read from src every sstep
 * bytes and written to dst every dstep bytes, with the edges extended. The
 * running sum makes the cost independent of the radius.
 */
static void box_line(const unsigned char *src, int sstep, unsigned char *dst, int dstep, int n,
                     int r, uint32_t mul)
{
    uint32_t sum;

    sum = (uint32_t)(r + 1) * src[0];
    for (int i = 1; i <= r; i++)
        sum += src[(size_t)(i < n ? i : n - 1) * sstep];
    for (int i = 0; i < n; i++) {
        int add = i + r + 1, sub = i - r;
        dst[(size_t)i * dstep] = (unsigned char)(((uint64_t)sum * mul + (1u << 23)) >> 24);
        sum += src[(size_t)(add < n ? add : n - 1) * sstep];
        sum -= src[(size_t)(sub > 0 ? sub : 0) * sstep];
    }
}

/* Columns are blurred in strips this wide, copied out so the reads stay in cache. */
#define STRIP 32

/* Three passes of a box filter of radius r, horizontal then vertical, in place. */
static void box_blur3(struct tk_frame *f, int r)
{
    int w = f->width, h = f->height;
    uint32_t mul = (uint32_t)(((1u << 24) + (2u * r + 1) / 2) / (2u * r + 1));
    unsigned char *line = xmalloc((size_t)w * 3);
    unsigned char *strip = xmalloc((size_t)h * STRIP * 3);

    for (int pass = 0; pass < 3; pass++) {
        for (int y = 0; y < h; y++) {
            unsigned char *row = f->rgb + (size_t)y * f->stride;
            memcpy(line, row, (size_t)w * 3);
            for (int c = 0; c < 3; c++)
                box_line(line + c, 3, row + c, 3, w, r, mul);
        }
        for (int x0 = 0; x0 < w; x0 += STRIP) {
            int sw = w - x0 < STRIP ? w - x0 : STRIP, bytes = sw * 3;
            for (int y = 0; y < h; y++)
                memcpy(strip + (size_t)y * bytes, f->rgb + (size_t)y * f->stride + x0 * 3, bytes);
            for (int b = 0; b < bytes; b++)
                box_line(strip + b, bytes, f->rgb + (size_t)x0 * 3 + b, f->stride, h, r, mul);
        }
    }
    free(strip);
    free(line);
}

/* Averages k x k blocks of f into a new frame (the last blocks may be partial). */
static void downscale(const struct tk_frame *f, int k, struct tk_frame *ret_small)
{
    struct tk_frame s = {.width = (f->width + k - 1) / k, .height = (f->height + k - 1) / k};
    uint32_t *acc;

    s.stride = s.width * 3;
    s.rgb = xmalloc((size_t)s.stride * s.height);
    acc = xmalloc((size_t)s.stride * sizeof(*acc));
    for (int sy = 0; sy < s.height; sy++) {
        int y0 = sy * k, y1 = y0 + k < f->height ? y0 + k : f->height;
        memset(acc, 0, (size_t)s.stride * sizeof(*acc));
        for (int y = y0; y < y1; y++) {
            const unsigned char *row = f->rgb + (size_t)y * f->stride;
            for (int sx = 0; sx < s.width; sx++) {
                int x0 = sx * k, x1 = x0 + k < f->width ? x0 + k : f->width;
                uint32_t *a = acc + sx * 3;
                for (int x = x0; x < x1; x++) {
                    a[0] += row[x * 3];
                    a[1] += row[x * 3 + 1];
                    a[2] += row[x * 3 + 2];
                }
            }
        }
        for (int sx = 0; sx < s.width; sx++) {
            int bw = (sx * k + k < f->width ? k : f->width - sx * k);
            uint32_t n = (uint32_t)(bw * (y1 - y0));
            for (int c = 0; c < 3; c++)
                s.rgb[(size_t)sy * s.stride + sx * 3 + c] =
                    (unsigned char)((acc[sx * 3 + c] + n / 2) / n);
        }
    }
    free(acc);
    *ret_small = s;
}

/*
 * Where output pixel i (of a side scaled up k times from n pixels) samples:
 * the lower source index and the weight of the next one, in 1/256.
 */
static void upscale_taps(int out_n, int n, int k, int *idx, int *wt)
{
    for (int i = 0; i < out_n; i++) {
        int fx = ((2 * i + 1) * 128) / k - 128;
        if (fx < 0)
            fx = 0;
        idx[i] = fx >> 8;
        wt[i] = fx & 255;
        if (idx[i] >= n - 1) {
            idx[i] = n - 1;
            wt[i] = 0;
        }
    }
}

/* Scales s up k times into f, bilinearly: smooth enough that no block edge shows. */
static void upscale(const struct tk_frame *s, int k, struct tk_frame *f)
{
    int w = f->width, h = f->height, cached[2] = {-1, -1};
    int *xi = xmalloc((size_t)w * sizeof(int)), *xw = xmalloc((size_t)w * sizeof(int));
    int *yi = xmalloc((size_t)h * sizeof(int)), *yw = xmalloc((size_t)h * sizeof(int));
    uint16_t *rows[2];

    rows[0] = xmalloc((size_t)w * 3 * sizeof(uint16_t));
    rows[1] = xmalloc((size_t)w * 3 * sizeof(uint16_t));
    upscale_taps(w, s->width, k, xi, xw);
    upscale_taps(h, s->height, k, yi, yw);
    for (int y = 0; y < h; y++) {
        int src[2] = {yi[y], yi[y] + 1 < s->height ? yi[y] + 1 : yi[y]};
        unsigned char *out = f->rgb + (size_t)y * f->stride;
        /* Each source row is widened once (in 1/8 units), and reused for k output rows. */
        for (int j = 0; j < 2; j++) {
            const unsigned char *in;
            if (cached[j] == src[j])
                continue;
            if (cached[1 - j] == src[j]) {
                uint16_t *t = rows[0];
                rows[0] = rows[1];
                rows[1] = t;
                cached[1 - j] = cached[j];
                cached[j] = src[j];
                continue;
            }
            in = s->rgb + (size_t)src[j] * s->stride;
            for (int x = 0; x < w; x++) {
                const unsigned char *a = in + xi[x] * 3;
                const unsigned char *b = xi[x] + 1 < s->width ? a + 3 : a;
                for (int c = 0; c < 3; c++)
                    rows[j][x * 3 + c] = (uint16_t)((a[c] * (256 - xw[x]) + b[c] * xw[x]) >> 5);
            }
            cached[j] = src[j];
        }
        for (int x = 0; x < w * 3; x++)
            out[x] =
                (unsigned char)((rows[0][x] * (256 - yw[y]) + rows[1][x] * yw[y] + 1024) >> 11);
    }
    free(rows[0]);
    free(rows[1]);
    free(xi);
    free(xw);
    free(yi);
    free(yw);
}

void tk_frame_blur(struct tk_frame *f, int radius)
{
    char ignored[8];
    struct tk_frame small;
    int r, k;

    if (frame_check(f, ignored, sizeof(ignored)) < 0)
        return;
    r = radius > 0 ? radius : tk_blur_default_radius(f->width);
    if (r > 1000)
        r = 1000; /* keeps (2r + 1) * 255 * mul inside 64 bits with room to spare */
    /*
     * A wide blur is done on a copy scaled down k times (k ~ r / 4) and
     * scaled back up: the same look as blurring at full size, for a
     * fraction of the work, since the blurred image has no detail left
     * that the small copy could lose.
     */
    k = r / 4;
    if (k < 2) {
        box_blur3(f, r);
        return;
    }
    downscale(f, k, &small);
    box_blur3(&small, (r + k / 2) / k);
    upscale(&small, k, f);
    tk_frame_release(&small);
}

/* Encoding. */

static int encode_jpeg(const struct tk_frame *f, int quality, void **ret_bytes, size_t *ret_len,
                       char *err, size_t errlen)
{
    tjhandle tj = tjInitCompress();
    unsigned long cap, len;
    unsigned char *buf;
    int rc = 0;

    if (!tj) {
        snprintf(err, errlen, "cannot start the jpeg encoder: %s", tjGetErrorStr2(NULL));
        return -EIO;
    }
    /*
     * A buffer of the worst-case size from malloc, so that the result is
     * the caller's to free() and TurboJPEG never reallocates mid-encode.
     */
    cap = tjBufSize(f->width, f->height, TJSAMP_420);
    buf = xmalloc(cap);
    len = cap;
    if (tjCompress2(tj, f->rgb, f->width, f->stride, f->height, TJPF_RGB, &buf, &len, TJSAMP_420,
                    quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) != 0) {
        snprintf(err, errlen, "cannot encode the jpeg: %s", tjGetErrorStr2(tj));
        free(buf);
        rc = -EIO;
        goto out;
    }
    *ret_bytes = xrealloc(buf, len);
    *ret_len = len;
out:
    tjDestroy(tj);
    return rc;
}

static int encode_webp(const struct tk_frame *f, int quality, void **ret_bytes, size_t *ret_len,
                       char *err, size_t errlen)
{
    uint8_t *out = NULL;
    size_t len = WebPEncodeRGB(f->rgb, f->width, f->height, f->stride, (float)quality, &out);

    if (len == 0 || !out) {
        snprintf(err, errlen, "cannot encode the webp image");
        WebPFree(out);
        return -EIO;
    }
    /* Copied so that the caller frees every result the same way, with free(). */
    *ret_bytes = xmalloc(len);
    memcpy(*ret_bytes, out, len);
    *ret_len = len;
    WebPFree(out);
    return 0;
}

int tk_shot_encode(const struct tk_frame *f, const struct tk_encode_opts *o, void **ret_bytes,
                   size_t *ret_len, char *err, size_t errlen)
{
    static const struct tk_encode_opts defaults;
    struct tk_frame blurred = {0};
    const struct tk_frame *src = f;
    int quality, rc;

    if (!o)
        o = &defaults;
    rc = frame_check(f, err, errlen);
    if (rc < 0)
        return rc;
    quality = o->quality ? o->quality : TK_SHOT_QUALITY_DEFAULT;
    if (quality < 1 || quality > 100) {
        snprintf(err, errlen, "the image quality must be 1 to 100, not %d", quality);
        return -EINVAL;
    }
    if (o->blur) {
        tk_frame_copy(f, &blurred);
        tk_frame_blur(&blurred, o->blur_radius);
        src = &blurred;
    }
    switch (o->format) {
    case TK_SHOT_JPEG:
        rc = encode_jpeg(src, quality, ret_bytes, ret_len, err, errlen);
        break;
    case TK_SHOT_WEBP:
        rc = encode_webp(src, quality, ret_bytes, ret_len, err, errlen);
        break;
    default:
        snprintf(err, errlen, "unknown image format %d", (int)o->format);
        rc = -EINVAL;
        break;
    }
    tk_frame_release(&blurred);
    return rc;
}

/* The worker thread. */

struct tk_shot_job {
    pthread_t thread;
    bool started;
    int done; /* read and written with __atomic builtins */
    struct tk_frame frame;
    struct tk_encode_opts opts;
    int rc;
    void *bytes;
    size_t len;
    char err[256];
};

static void *job_main(void *arg)
{
    struct tk_shot_job *job = arg;

    job->rc =
        tk_shot_encode(&job->frame, &job->opts, &job->bytes, &job->len, job->err, sizeof(job->err));
    /* The pixels are not needed any more; free them now rather than at finish. */
    tk_frame_release(&job->frame);
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

struct tk_shot_job *tk_shot_encode_start(struct tk_frame *f, const struct tk_encode_opts *o)
{
    struct tk_shot_job *job = xcalloc(1, sizeof(*job));

    job->frame = *f;
    memset(f, 0, sizeof(*f));
    if (o)
        job->opts = *o;
    if (pthread_create(&job->thread, NULL, job_main, job) == 0)
        job->started = true;
    else
        job_main(job);
    return job;
}

bool tk_shot_job_done(struct tk_shot_job *job)
{
    return __atomic_load_n(&job->done, __ATOMIC_ACQUIRE) != 0;
}

int tk_shot_job_finish(struct tk_shot_job *job, void **ret_bytes, size_t *ret_len, char *err,
                       size_t errlen)
{
    int rc;

    if (job->started)
        pthread_join(job->thread, NULL);
    rc = job->rc;
    if (rc == 0) {
        *ret_bytes = job->bytes;
        *ret_len = job->len;
    } else if (err && errlen) {
        snprintf(err, errlen, "%s", job->err);
    }
    free(job);
    return rc;
}

/* A JPEG made stripe by stripe (libjpeg's scanline API; capture.h). */

struct jpeg_fail {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
};

static void jpeg_fail_exit(j_common_ptr c)
{
    struct jpeg_fail *f = (struct jpeg_fail *)c->err;

    (*c->err->format_message)(c, f->msg);
    longjmp(f->jb, 1);
}

static void jpeg_quiet(j_common_ptr c)
{
    /* Warnings are not for the terminal of the person tracking. */
}

/*
 * The output: one malloc'd buffer grown by half with realloc, which glibc
 * does in place (mremap) once it is large, where jpeg_mem_dest() would
 * hold the old and a doubled new buffer at once while it copies.
 */
struct grow_dest {
    struct jpeg_destination_mgr pub;
    unsigned char *buf;
    size_t cap, len;
};

#define DEST_FIRST (64 * 1024)

static void dest_init(j_compress_ptr c)
{
    struct grow_dest *d = (struct grow_dest *)c->dest;

    d->cap = DEST_FIRST;
    d->buf = xmalloc(d->cap);
    d->pub.next_output_byte = d->buf;
    d->pub.free_in_buffer = d->cap;
}

static boolean dest_grow(j_compress_ptr c)
{
    struct grow_dest *d = (struct grow_dest *)c->dest;
    size_t used = d->cap; /* libjpeg asks when the buffer is full */

    d->cap += d->cap / 2;
    d->buf = xrealloc(d->buf, d->cap);
    d->pub.next_output_byte = d->buf + used;
    d->pub.free_in_buffer = d->cap - used;
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    struct grow_dest *d = (struct grow_dest *)c->dest;

    d->len = d->cap - d->pub.free_in_buffer;
}

struct tk_shot_stream {
    struct jpeg_compress_struct cinfo;
    struct jpeg_fail fail;
    struct grow_dest dest;
    struct blank_acc blank;
    int width, height, quality;
    bool failed;
};

static int stream_failed(struct tk_shot_stream *s, char *err, size_t errlen)
{
    s->failed = true;
    snprintf(err, errlen, "cannot encode the jpeg: %s", s->fail.msg);
    return -EIO;
}

int tk_shot_stream_begin(int width, int height, int quality, struct tk_shot_stream **ret,
                         char *err, size_t errlen)
{
    struct tk_shot_stream *s;

    if (width <= 0 || height <= 0 || width > TK_FRAME_MAX_SIDE || height > TK_FRAME_MAX_SIDE ||
        (int64_t)width * height > TK_FRAME_MAX_PIXELS) {
        snprintf(err, errlen, "the frame is too large or empty (%dx%d)", width, height);
        return -EINVAL;
    }
    s = xcalloc(1, sizeof(*s));
    s->width = width;
    s->height = height;
    /* Kept in s, not in a local: nothing a longjmp could leave stale. */
    s->quality = quality <= 0 ? TK_SHOT_QUALITY_DEFAULT : quality > 100 ? 100 : quality;
    s->cinfo.err = jpeg_std_error(&s->fail.pub);
    s->fail.pub.error_exit = jpeg_fail_exit;
    s->fail.pub.output_message = jpeg_quiet;
    if (setjmp(s->fail.jb)) {
        int rc = stream_failed(s, err, errlen);
        tk_shot_stream_abort(s);
        return rc;
    }
    jpeg_create_compress(&s->cinfo);
    s->dest.pub.init_destination = dest_init;
    s->dest.pub.empty_output_buffer = dest_grow;
    s->dest.pub.term_destination = dest_term;
    s->cinfo.dest = &s->dest.pub;
    s->cinfo.image_width = (JDIMENSION)width;
    s->cinfo.image_height = (JDIMENSION)height;
    s->cinfo.input_components = 3;
    s->cinfo.in_color_space = JCS_RGB;
    /* What tk_shot_encode asks of TurboJPEG: 4:2:0 (libjpeg's default), the quality, fast DCT. */
    jpeg_set_defaults(&s->cinfo);
    jpeg_set_quality(&s->cinfo, s->quality, TRUE);
    s->cinfo.dct_method = JDCT_FASTEST;
    jpeg_start_compress(&s->cinfo, TRUE);
    blank_begin(&s->blank, width, height);
    *ret = s;
    return 0;
}

int tk_shot_stream_rows(struct tk_shot_stream *s, const unsigned char *rgb, int stride, int n,
                        char *err, size_t errlen)
{
    if (s->failed) {
        snprintf(err, errlen, "the jpeg encoder failed earlier");
        return -EIO;
    }
    if (n < 0 || stride < s->width * 3 || n > s->height - s->blank.next_row) {
        snprintf(err, errlen, "%d rows do not fit the %dx%d frame (%d of its rows are in)", n,
                 s->width, s->height, s->blank.next_row);
        return -EINVAL;
    }
    if (setjmp(s->fail.jb))
        return stream_failed(s, err, errlen);
    for (int i = 0; i < n; i++) {
        /* libjpeg reads the row only; its API has no const. */
        JSAMPROW row = (JSAMPROW)(uintptr_t)(rgb + (size_t)i * stride);
        jpeg_write_scanlines(&s->cinfo, &row, 1);
    }
    blank_rows(&s->blank, rgb, stride, n);
    return 0;
}

int tk_shot_stream_end(struct tk_shot_stream *s, bool *ret_blank, void **ret_bytes,
                       size_t *ret_len, char *err, size_t errlen)
{
    /* volatile: gcc cannot tell that the longjmp never finds it changed. */
    volatile int rc = 0;
    bool blank;

    if (s->failed) {
        snprintf(err, errlen, "the jpeg encoder failed earlier");
        rc = -EIO;
        goto out;
    }
    if (s->blank.next_row != s->height) {
        snprintf(err, errlen, "the frame is incomplete (%d of %d rows)", s->blank.next_row,
                 s->height);
        rc = -EINVAL;
        goto out;
    }
    if (setjmp(s->fail.jb)) {
        rc = stream_failed(s, err, errlen);
        goto out;
    }
    jpeg_finish_compress(&s->cinfo);
    blank = blank_end(&s->blank);
    *ret_blank = blank;
    if (blank) {
        snprintf(err, errlen, "%s", BLANK_REASON);
    } else {
        *ret_bytes = xrealloc(s->dest.buf, s->dest.len);
        *ret_len = s->dest.len;
        s->dest.buf = NULL;
    }
out:
    tk_shot_stream_abort(s);
    return rc;
}

void tk_shot_stream_abort(struct tk_shot_stream *s)
{
    if (!s)
        return;
    jpeg_destroy_compress(&s->cinfo);
    free(s->dest.buf);
    free(s->blank.px);
    free(s);
}

static int sink_begin(void *ud, int width, int height, char *err, size_t errlen)
{
    struct tk_shot_sink *sk = ud;

    return tk_shot_stream_begin(width, height, sk->quality, &sk->stream, err, errlen);
}

static int sink_rows(void *ud, const unsigned char *rgb, int stride, int n, char *err,
                     size_t errlen)
{
    return tk_shot_stream_rows(((struct tk_shot_sink *)ud)->stream, rgb, stride, n, err, errlen);
}

void tk_shot_sink_init(struct tk_shot_sink *sk, int quality)
{
    *sk = (struct tk_shot_sink){
        .sink = {.begin = sink_begin, .rows = sink_rows, .ud = sk}, .quality = quality};
}
