/*
 * The frame pipeline between a platform's capture() and the uploader: blank
 * check, blur and encoding (see capture.h). Pure computation on RGB bytes;
 * it knows no display and no network.
 */
#include "tracker/capture.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include "lib/xalloc.h"

#define BLANK_REASON "the screen was blank (a single colour)"

void tk_frame_release(struct tk_frame *f)
{
    if (!f)
        return;
    free(f->rgb);
    memset(f, 0, sizeof(*f));
}

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

bool tk_frame_blank(const struct tk_frame *f, char *reason, size_t n)
{
    char ignored[8];
    uint64_t samples = 0, same_first = 0, same_centre = 0, same;
    double sum[3] = {0}, sumsq[3] = {0}, var = 0;
    int step;
    const unsigned char *first, *centre;

    if (frame_check(f, ignored, sizeof(ignored)) < 0) {
        if (reason && n)
            snprintf(reason, n, "the frame was empty");
        return true;
    }
    /* A square grid step that gives about BLANK_SAMPLES points. */
    step = 1;
    while ((int64_t)(f->width / step) * (f->height / step) > BLANK_SAMPLES)
        step++;
    first = f->rgb;
    centre = f->rgb + (size_t)(f->height / 2) * f->stride + (size_t)(f->width / 2) * 3;
    for (int y = 0; y < f->height; y += step) {
        const unsigned char *row = f->rgb + (size_t)y * f->stride;
        for (int x = 0; x < f->width; x += step) {
            const unsigned char *p = row + (size_t)x * 3;
            samples++;
            same_first += same_px(p, first);
            same_centre += same_px(p, centre);
            for (int c = 0; c < 3; c++) {
                sum[c] += p[c];
                sumsq[c] += (double)p[c] * p[c];
            }
        }
    }
    for (int c = 0; c < 3; c++) {
        double mean = sum[c] / (double)samples;
        var += sumsq[c] / (double)samples - mean * mean;
    }
    same = same_first > same_centre ? same_first : same_centre;
    if (same * 10000 >= samples * BLANK_SAME_PER_10000 || var < BLANK_MAX_VARIANCE) {
        if (reason && n)
            snprintf(reason, n, "%s", BLANK_REASON);
        return true;
    }
    return false;
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
