/*
 * Unit tests for the tracker's frame pipeline and test doubles: capture.c
 * (JPEG and WebP encoding, the blank check, blur, the worker-thread
 * encoder), the fake platform backend (fake.c: scripted input, frames, and
 * the count of capture calls the privacy tests rely on) and the clocks
 * (clock.c). The X11 backend is tested against a real Xvfb in
 * tests/integration/test_x11.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>
#include <webp/decode.h>

#include "tracker/capture.h"
#include "tracker/clock.h"
#include "tracker/platform/fake.h"
#include "tracker/platform/platform.h"

#define BLANK "the screen was blank (a single colour)"

/* A w x h frame with stride padding, filled with a busy pattern (gradients, checks, specks). */
static struct tk_frame busy_frame(int w, int h)
{
    struct tk_frame f = {.width = w, .height = h, .stride = w * 3 + 7};
    unsigned int seed = 99;

    f.rgb = calloc((size_t)f.stride, (size_t)h);
    assert_non_null(f.rgb);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned char *p = f.rgb + (size_t)y * f.stride + x * 3;
            seed = seed * 1103515245u + 12345u;
            p[0] = (unsigned char)(x * 255 / w);
            p[1] = (unsigned char)((((x / 8) + (y / 8)) % 2) ? 220 : 30);
            p[2] = (unsigned char)((y * 255 / h) ^ ((seed >> 16) & 0x1f));
        }
    }
    return f;
}

/* A picture a lossy encoder should keep close: gradients and large blocks, no noise. */
static struct tk_frame smooth_frame(int w, int h)
{
    struct tk_frame f = busy_frame(w, h);

    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned char *p = f.rgb + (size_t)y * f.stride + x * 3;
            p[1] = (unsigned char)((((x / 32) + (y / 32)) % 2) ? 180 : 60);
            p[2] = (unsigned char)(y * 255 / h);
        }
    }
    return f;
}

static struct tk_frame uniform_frame(int w, int h, unsigned char r, unsigned char g,
                                     unsigned char b)
{
    struct tk_frame f = {.width = w, .height = h, .stride = w * 3};

    f.rgb = malloc((size_t)f.stride * h);
    assert_non_null(f.rgb);
    for (int i = 0; i < w * h; i++) {
        f.rgb[i * 3] = r;
        f.rgb[i * 3 + 1] = g;
        f.rgb[i * 3 + 2] = b;
    }
    return f;
}

static const unsigned char *px(const struct tk_frame *f, int x, int y)
{
    return f->rgb + (size_t)y * f->stride + x * 3;
}

/* Mean absolute difference per channel between a frame and packed RGB of the same size. */
static double mean_diff(const struct tk_frame *f, const unsigned char *rgb)
{
    double sum = 0;

    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width * 3; x++)
            sum +=
                abs((int)f->rgb[(size_t)y * f->stride + x] - rgb[((size_t)y * f->width) * 3 + x]);
    return sum / ((double)f->width * f->height * 3);
}

static unsigned char *decode_jpeg(const void *data, size_t len, int *ret_w, int *ret_h)
{
    tjhandle tj = tjInitDecompress();
    int w, h, sub, cs;
    unsigned char *out;

    assert_non_null(tj);
    assert_int_equal(tjDecompressHeader3(tj, data, len, &w, &h, &sub, &cs), 0);
    assert_int_equal(sub, TJSAMP_420);
    out = malloc((size_t)w * h * 3);
    assert_non_null(out);
    assert_int_equal(tjDecompress2(tj, data, len, out, w, 0, h, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    *ret_w = w;
    *ret_h = h;
    return out;
}

static void test_jpeg_roundtrip(void **state)
{
    struct tk_frame f = smooth_frame(333, 187);
    struct tk_encode_opts o = {0};
    void *jpeg = NULL;
    size_t len = 0;
    char err[128] = "";
    int w, h;
    unsigned char *back;

    assert_int_equal(tk_shot_encode(&f, &o, &jpeg, &len, err, sizeof(err)), 0);
    assert_true(len > 1000);
    assert_int_equal(((unsigned char *)jpeg)[0], 0xff);
    assert_int_equal(((unsigned char *)jpeg)[1], 0xd8);
    back = decode_jpeg(jpeg, len, &w, &h);
    assert_int_equal(w, 333);
    assert_int_equal(h, 187);
    /* Lossy, but the same picture. */
    assert_true(mean_diff(&f, back) < 6.0);
    free(back);
    free(jpeg);
    tk_frame_release(&f);
}

static void test_jpeg_quality(void **state)
{
    struct tk_frame f = busy_frame(320, 200);
    struct tk_encode_opts lo = {.quality = 20}, hi = {.quality = 95}, def = {0};
    void *a, *b, *c;
    size_t la, lb, lc;
    char err[128];

    assert_int_equal(tk_shot_encode(&f, &lo, &a, &la, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_encode(&f, &hi, &b, &lb, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_encode(&f, NULL, &c, &lc, err, sizeof(err)), 0);
    assert_true(la < lc);
    assert_true(lc < lb);
    /* NULL options are the zeroed defaults. */
    free(c);
    assert_int_equal(tk_shot_encode(&f, &def, &c, &lc, err, sizeof(err)), 0);
    assert_true(la < lc && lc < lb);
    free(a);
    free(b);
    free(c);
    tk_frame_release(&f);
}

static void test_webp_roundtrip(void **state)
{
    struct tk_frame f = smooth_frame(301, 211);
    struct tk_encode_opts o = {.format = TK_SHOT_WEBP};
    void *webp = NULL;
    size_t len = 0;
    char err[128];
    int w = 0, h = 0;
    uint8_t *back;

    assert_int_equal(tk_shot_encode(&f, &o, &webp, &len, err, sizeof(err)), 0);
    assert_memory_equal(webp, "RIFF", 4);
    assert_memory_equal((char *)webp + 8, "WEBP", 4);
    assert_true(WebPGetInfo(webp, len, &w, &h));
    assert_int_equal(w, 301);
    assert_int_equal(h, 211);
    back = WebPDecodeRGB(webp, len, &w, &h);
    assert_non_null(back);
    assert_true(mean_diff(&f, back) < 6.0);
    WebPFree(back);
    free(webp);
    tk_frame_release(&f);
}

static void test_encode_rejects(void **state)
{
    struct tk_frame f = busy_frame(64, 48), bad;
    struct tk_encode_opts o = {0};
    void *out = (void *)0x1;
    size_t len = 77;
    char err[128];

    bad = f;
    bad.rgb = NULL;
    assert_int_equal(tk_shot_encode(&bad, &o, &out, &len, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the frame is empty");
    bad = f;
    bad.stride = 64 * 3 - 1;
    assert_int_equal(tk_shot_encode(&bad, &o, &out, &len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "stride"));
    bad = f;
    bad.width = TK_FRAME_MAX_SIDE + 1; /* never read: the cap is checked first */
    assert_int_equal(tk_shot_encode(&bad, &o, &out, &len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "too large"));
    o.quality = 101;
    assert_int_equal(tk_shot_encode(&f, &o, &out, &len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "quality"));
    o.quality = 0;
    o.format = (enum tk_shot_format)7;
    assert_int_equal(tk_shot_encode(&f, &o, &out, &len, err, sizeof(err)), -EINVAL);
    /* Out-parameters are written only on success. */
    assert_ptr_equal(out, (void *)0x1);
    assert_int_equal(len, 77);
    tk_frame_release(&f);
}

static void test_blank_uniform(void **state)
{
    struct tk_frame f = uniform_frame(1920, 1080, 0, 0, 0);
    struct tk_frame g = uniform_frame(100, 60, 40, 90, 200);
    char reason[64] = "";

    assert_true(tk_frame_blank(&f, reason, sizeof(reason)));
    assert_string_equal(reason, BLANK);
    reason[0] = '\0';
    assert_true(tk_frame_blank(&g, reason, sizeof(reason)));
    assert_string_equal(reason, BLANK);
    /* The reason is optional. */
    assert_true(tk_frame_blank(&g, NULL, 0));
    tk_frame_release(&f);
    tk_frame_release(&g);
}

static void test_blank_busy(void **state)
{
    struct tk_frame f = busy_frame(1920, 1080);
    char reason[64] = "untouched";

    assert_false(tk_frame_blank(&f, reason, sizeof(reason)));
    assert_string_equal(reason, "untouched");
    tk_frame_release(&f);
}

static void test_blank_noise_and_windows(void **state)
{
    struct tk_frame f = uniform_frame(640, 400, 20, 20, 20);
    char reason[64];
    unsigned int seed = 7;

    /* A single colour with a little sensor-like noise is still blank. */
    for (int i = 0; i < 640 * 400 * 3; i++) {
        seed = seed * 1103515245u + 12345u;
        f.rgb[i] = (unsigned char)(20 + ((seed >> 16) & 1));
    }
    assert_true(tk_frame_blank(&f, reason, sizeof(reason)));
    /* A panel in the corner does not make the rest of a black screen less blank. */
    memset(f.rgb, 0, (size_t)640 * 400 * 3);
    for (int y = 0; y < 2; y++)
        memset(f.rgb + (size_t)y * f.stride, 200, 100 * 3);
    assert_true(tk_frame_blank(&f, reason, sizeof(reason)));
    /* A white page with one line of text (under half a percent of it) is a real screen. */
    memset(f.rgb, 255, (size_t)640 * 400 * 3);
    for (int y = 200; y < 206; y++)
        for (int x = 40; x < 600; x += 3)
            memset(f.rgb + (size_t)y * f.stride + x * 3, 0, 3);
    assert_false(tk_frame_blank(&f, reason, sizeof(reason)));
    /* A window over 5% of a dark desktop is a real screen. */
    memset(f.rgb, 20, (size_t)640 * 400 * 3);
    for (int y = 100; y < 180; y++)
        for (int x = 100; x < 260; x++)
            memset(f.rgb + (size_t)y * f.stride + x * 3, (x + y) % 2 ? 240 : 120, 3);
    assert_false(tk_frame_blank(&f, reason, sizeof(reason)));
    tk_frame_release(&f);

    /* An empty frame is blank, with its own reason. */
    f = (struct tk_frame){0};
    assert_true(tk_frame_blank(&f, reason, sizeof(reason)));
    assert_string_equal(reason, "the frame was empty");
}

/*
 * Streams f in stripes of `stripe` rows; returns tk_shot_stream_end's
 * result with its outputs.
 */
static int stream_frame(const struct tk_frame *f, int quality, int stripe, bool *blank,
                        void **bytes, size_t *len, char *err, size_t errlen)
{
    struct tk_shot_stream *s = NULL;

    assert_int_equal(tk_shot_stream_begin(f->width, f->height, quality, &s, err, errlen), 0);
    for (int top = 0; top < f->height; top += stripe) {
        int n = f->height - top < stripe ? f->height - top : stripe;
        assert_int_equal(tk_shot_stream_rows(s, f->rgb + (size_t)top * f->stride, f->stride, n,
                                             err, errlen),
                         0);
    }
    return tk_shot_stream_end(s, blank, bytes, len, err, errlen);
}

/* Made stripe by stripe, the JPEG is the one TurboJPEG makes from the whole frame. */
static void test_stream_jpeg_is_the_whole_frames(void **state)
{
    static const int stripes[] = {1, 7, 128, 1000};
    struct tk_frame f = busy_frame(333, 187);
    struct tk_encode_opts o = {.quality = 70};
    void *whole = NULL;
    size_t whole_len = 0;
    char err[128] = "";

    assert_int_equal(tk_shot_encode(&f, &o, &whole, &whole_len, err, sizeof(err)), 0);
    for (size_t i = 0; i < sizeof(stripes) / sizeof(stripes[0]); i++) {
        void *jpeg = NULL;
        size_t len = 0;
        bool blank = true;
        int w, h;
        unsigned char *back, *ref;

        assert_int_equal(stream_frame(&f, 70, stripes[i], &blank, &jpeg, &len, err, sizeof(err)),
                         0);
        assert_false(blank);
        back = decode_jpeg(jpeg, len, &w, &h);
        assert_int_equal(w, 333);
        assert_int_equal(h, 187);
        ref = decode_jpeg(whole, whole_len, &w, &h);
        /* The same codec with the same settings: the same pixels once decoded. */
        assert_memory_equal(back, ref, (size_t)333 * 187 * 3);
        free(back);
        free(ref);
        free(jpeg);
    }
    free(whole);
    tk_frame_release(&f);
}

/* The blank check on the way gives tk_frame_blank's verdict, whatever the stripes. */
static void test_stream_blank_check(void **state)
{
    struct tk_frame frames[4];
    bool want[4];
    char reason[64];

    frames[0] = uniform_frame(1920, 1080, 0, 0, 0);
    frames[1] = busy_frame(1920, 1080);
    /* A white page with one short line of text: a real screen. */
    frames[2] = uniform_frame(640, 400, 255, 255, 255);
    for (int y = 200; y < 206; y++)
        for (int x = 40; x < 600; x += 3)
            memset(frames[2].rgb + (size_t)y * frames[2].stride + x * 3, 0, 3);
    /* Black with a panel in the corner: blank, judged against the centre pixel. */
    frames[3] = uniform_frame(640, 400, 0, 0, 0);
    for (int y = 0; y < 2; y++)
        memset(frames[3].rgb + (size_t)y * frames[3].stride, 200, 100 * 3);
    for (int i = 0; i < 4; i++)
        want[i] = tk_frame_blank(&frames[i], NULL, 0);
    assert_true(want[0]);
    assert_false(want[1]);
    assert_false(want[2]);
    assert_true(want[3]);
    for (int i = 0; i < 4; i++) {
        for (int stripe = 1; stripe <= 401; stripe += 100) {
            void *jpeg = NULL;
            size_t len = 0;
            bool blank = !want[i];
            reason[0] = '\0';
            assert_int_equal(
                stream_frame(&frames[i], 70, stripe, &blank, &jpeg, &len, reason, sizeof(reason)),
                0);
            assert_int_equal(blank, want[i]);
            if (blank) {
                assert_null(jpeg);
                assert_string_equal(reason, BLANK);
            } else {
                assert_non_null(jpeg);
                assert_true(len > 1000);
            }
            free(jpeg);
        }
        tk_frame_release(&frames[i]);
    }
}

/* Bad sizes and rows out of place are errors, not crashes. */
static void test_stream_rejects(void **state)
{
    struct tk_frame f = busy_frame(64, 40);
    struct tk_shot_stream *s = NULL;
    void *jpeg = NULL;
    size_t len = 0;
    bool blank = false;
    char err[128];

    assert_int_equal(tk_shot_stream_begin(0, 10, 70, &s, err, sizeof(err)), -EINVAL);
    assert_int_equal(tk_shot_stream_begin(TK_FRAME_MAX_SIDE + 1, 10, 70, &s, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(tk_shot_stream_begin(10000, 10000, 70, &s, err, sizeof(err)), -EINVAL);

    /* More rows than the frame has. */
    assert_int_equal(tk_shot_stream_begin(64, 40, 70, &s, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_stream_rows(s, f.rgb, f.stride, 30, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_stream_rows(s, f.rgb, f.stride, 11, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "do not fit"));
    /* A stride narrower than a row. */
    assert_int_equal(tk_shot_stream_rows(s, f.rgb, 64 * 3 - 1, 1, err, sizeof(err)), -EINVAL);
    /* Rows missing at the end. */
    assert_int_equal(tk_shot_stream_end(s, &blank, &jpeg, &len, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "incomplete (30 of 40 rows)"));
    assert_null(jpeg);
    /* Given up half way: nothing leaks (ASan). */
    assert_int_equal(tk_shot_stream_begin(64, 40, 70, &s, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_stream_rows(s, f.rgb, f.stride, 20, err, sizeof(err)), 0);
    tk_shot_stream_abort(s);
    tk_shot_stream_abort(NULL);
    tk_frame_release(&f);
}

/* The fake backend's capture_rows hands over its frame, row for row. */
static void test_fake_capture_rows(void **state)
{
    struct tk_platform_ctx *ctx = NULL;
    struct tk_frame whole = {0};
    void *jpeg = NULL, *ref = NULL;
    size_t len = 0, ref_len = 0;
    bool blank = true;
    char err[128];
    struct tk_shot_sink sk;
    struct tk_encode_opts o = {.quality = 70};
    int calls;

    assert_int_equal(tk_platform_fake.open(NULL, &ctx, err, sizeof(err)), 0);
    calls = tk_fake_capture_calls();
    assert_int_equal(tk_platform_fake.capture(ctx, TK_MONITOR_ALL, &whole, err, sizeof(err)), 0);
    tk_shot_sink_init(&sk, 70);
    assert_int_equal(tk_platform_fake.capture_rows(ctx, TK_MONITOR_ALL, &sk.sink, err, sizeof(err)),
                     0);
    assert_int_equal(tk_fake_capture_calls(), calls + 2); /* each counts */
    assert_int_equal(tk_shot_stream_end(sk.stream, &blank, &jpeg, &len, err, sizeof(err)), 0);
    assert_false(blank);
    assert_int_equal(tk_shot_encode(&whole, &o, &ref, &ref_len, err, sizeof(err)), 0);
    {
        int w, h;
        unsigned char *a = decode_jpeg(jpeg, len, &w, &h);
        unsigned char *b = decode_jpeg(ref, ref_len, &w, &h);
        assert_memory_equal(a, b, (size_t)w * h * 3);
        free(a);
        free(b);
    }
    free(jpeg);
    free(ref);
    tk_frame_release(&whole);
    tk_platform_fake.close(ctx);
}

/* Left half black, right half white: a sharp vertical edge at x = w / 2. */
static struct tk_frame edge_frame(int w, int h)
{
    struct tk_frame f = uniform_frame(w, h, 0, 0, 0);

    for (int y = 0; y < h; y++)
        memset(f.rgb + (size_t)y * f.stride + (w / 2) * 3, 255, (size_t)(w - w / 2) * 3);
    return f;
}

static void check_blurred_edge(int w, int h, int radius)
{
    struct tk_frame f = edge_frame(w, h);
    int mid = w / 2, y = h / 2;

    tk_frame_blur(&f, radius);
    /* The edge is soft: the pixels either side of it are now greys. */
    assert_true(px(&f, mid - 1, y)[0] > 40);
    assert_true(px(&f, mid, y)[0] < 215);
    assert_true(px(&f, mid - 1, y)[0] < px(&f, mid + 1, y)[0]);
    /* Far from the edge the colours stay. */
    assert_true(px(&f, 0, y)[0] < 8);
    assert_true(px(&f, w - 1, y)[0] > 247);
    /* A vertical edge blurs the same in every row, and all channels alike. */
    assert_int_equal(px(&f, mid, 0)[0], px(&f, mid, h - 1)[0]);
    assert_int_equal(px(&f, mid, y)[0], px(&f, mid, y)[2]);
    tk_frame_release(&f);
}

static void test_blur_softens_edge(void **state)
{
    check_blurred_edge(64, 40, 3);    /* full-size box filter */
    check_blurred_edge(640, 400, 0);  /* default radius 6: still full size */
    check_blurred_edge(1920, 200, 0); /* default radius 19: scaled down and back up */
    check_blurred_edge(333, 97, 25);  /* sizes that do not divide evenly */
    assert_int_equal(tk_blur_default_radius(1920), 19);
    assert_int_equal(tk_blur_default_radius(100), 4);
}

static void test_blur_option_keeps_source(void **state)
{
    struct tk_frame f = edge_frame(320, 200), copy;
    struct tk_encode_opts sharp = {.quality = 95},
                          blurred = {.quality = 95, .blur = true, .blur_radius = 8};
    void *a, *b;
    size_t la, lb;
    char err[128];
    int w, h;
    unsigned char *da, *db;

    tk_frame_copy(&f, &copy);
    assert_int_equal(tk_shot_encode(&f, &sharp, &a, &la, err, sizeof(err)), 0);
    assert_int_equal(tk_shot_encode(&f, &blurred, &b, &lb, err, sizeof(err)), 0);
    assert_memory_equal(f.rgb, copy.rgb, (size_t)320 * 200 * 3);
    da = decode_jpeg(a, la, &w, &h);
    db = decode_jpeg(b, lb, &w, &h);
    /* Four pixels left of the edge: black when sharp, grey when blurred. */
    assert_true(da[(100 * 320 + 156) * 3] < 30);
    assert_true(db[(100 * 320 + 156) * 3] > 60);
    free(da);
    free(db);
    free(a);
    free(b);
    tk_frame_release(&f);
    tk_frame_release(&copy);
}

static void test_encode_worker(void **state)
{
    struct tk_frame f = busy_frame(400, 300), bad = {0};
    struct tk_encode_opts o = {.format = TK_SHOT_WEBP, .quality = 60};
    struct tk_shot_job *job;
    void *bytes = NULL;
    size_t len = 0;
    char err[128] = "";
    int w, h;

    job = tk_shot_encode_start(&f, &o);
    assert_non_null(job);
    /* The job took the pixels. */
    assert_null(f.rgb);
    for (int i = 0; i < 3000 && !tk_shot_job_done(job); i++)
        usleep(1000);
    assert_true(tk_shot_job_done(job));
    assert_int_equal(tk_shot_job_finish(job, &bytes, &len, err, sizeof(err)), 0);
    assert_true(WebPGetInfo(bytes, len, &w, &h));
    assert_int_equal(w, 400);
    assert_int_equal(h, 300);
    free(bytes);

    /* Errors come back through finish, which also waits if the job is still running. */
    job = tk_shot_encode_start(&bad, NULL);
    assert_int_equal(tk_shot_job_finish(job, &bytes, &len, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the frame is empty");
}

/* The fake backend. */

static int reset_fake(void **state)
{
    tk_fake_reset();
    return 0;
}

static void test_fake_counts_captures(void **state)
{
    const struct tk_platform *p = &tk_platform_fake;
    struct tk_platform_ctx *ctx = NULL;
    struct tk_monitor mon[TK_MAX_MONITORS];
    struct tk_activity acc = {0};
    struct tk_frame f = {0};
    char err[128], reason[64];

    assert_int_equal(p->open(NULL, &ctx, err, sizeof(err)), 0);
    /* A stopped timer: everything but capture. No capture call is counted. */
    assert_int_equal(p->drain(ctx, &acc), 0);
    assert_true(p->idle_ms(ctx) >= 0);
    assert_int_equal(p->monitors(ctx, mon, TK_MAX_MONITORS), 2);
    assert_int_equal(p->fd(ctx), -1);
    assert_int_equal(tk_fake_capture_calls(), 0);

    assert_int_equal(p->capture(ctx, TK_MONITOR_ALL, &f, err, sizeof(err)), 0);
    assert_int_equal(f.width, 2 * TK_FAKE_MONITOR_W);
    assert_int_equal(f.height, TK_FAKE_MONITOR_H);
    assert_false(tk_frame_blank(&f, reason, sizeof(reason)));
    tk_frame_release(&f);
    assert_int_equal(tk_fake_capture_calls(), 1);
    assert_int_equal(tk_fake_last_capture_monitor(), TK_MONITOR_ALL);

    assert_int_equal(p->capture(ctx, 1, &f, err, sizeof(err)), 0);
    assert_int_equal(f.width, TK_FAKE_MONITOR_W);
    tk_frame_release(&f);
    assert_int_equal(tk_fake_last_capture_monitor(), 1);

    tk_fake_set_capture_mode(TK_FAKE_CAPTURE_UNIFORM);
    assert_int_equal(p->capture(ctx, 0, &f, err, sizeof(err)), 0);
    assert_true(tk_frame_blank(&f, reason, sizeof(reason)));
    assert_string_equal(reason, BLANK);
    tk_frame_release(&f);

    tk_fake_set_capture_mode(TK_FAKE_CAPTURE_ERROR);
    assert_true(p->capture(ctx, 0, &f, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "cannot capture"));
    assert_null(f.rgb);

    /* A monitor that does not exist is refused, and still counted. */
    assert_int_equal(p->capture(ctx, 2, &f, err, sizeof(err)), -EINVAL);
    assert_int_equal(tk_fake_capture_calls(), 5);
    tk_fake_reset();
    assert_int_equal(tk_fake_capture_calls(), 0);
    p->close(ctx);
}

static void test_fake_activity_and_idle(void **state)
{
    const struct tk_platform *p = &tk_platform_fake;
    struct tk_platform_ctx *ctx = NULL;
    struct tk_activity acc = {0};
    char err[128];

    assert_int_equal(p->open(":0", &ctx, err, sizeof(err)), 0);
    tk_fake_add_activity(3, 4, 1);
    tk_fake_add_activity(2, 0, 2);
    tk_fake_set_idle_ms(12345);
    assert_int_equal(p->drain(ctx, &acc), 0);
    assert_int_equal(acc.keys, 5);
    assert_int_equal(acc.mouse, 4);
    assert_int_equal(acc.synthetic, 3);
    assert_int_equal(p->idle_ms(ctx), 12345);
    /* A drain reports each input once, and adds to what the caller has. */
    assert_int_equal(p->drain(ctx, &acc), 0);
    assert_int_equal(acc.keys, 5);
    p->close(ctx);

    tk_fake_set_open_fails(true);
    ctx = NULL;
    assert_int_equal(p->open(NULL, &ctx, err, sizeof(err)), -ENXIO);
    assert_non_null(strstr(err, "no display"));
    assert_null(ctx);
}

struct adder {
    int rounds;
};

static void *add_activity_thread(void *arg)
{
    struct adder *a = arg;

    for (int i = 0; i < a->rounds; i++)
        tk_fake_add_activity(1, 2, 1);
    return NULL;
}

static void test_fake_threads(void **state)
{
    const struct tk_platform *p = &tk_platform_fake;
    struct tk_platform_ctx *ctx = NULL;
    struct tk_activity acc = {0};
    struct adder a = {.rounds = 20000};
    pthread_t t;
    char err[128];

    assert_int_equal(p->open(NULL, &ctx, err, sizeof(err)), 0);
    assert_int_equal(pthread_create(&t, NULL, add_activity_thread, &a), 0);
    for (int i = 0; i < 1000; i++)
        p->drain(ctx, &acc);
    pthread_join(t, NULL);
    p->drain(ctx, &acc);
    assert_int_equal(acc.keys, 20000);
    assert_int_equal(acc.mouse, 40000);
    assert_int_equal(acc.synthetic, 20000);
    p->close(ctx);
}

static void test_frame_release(void **state)
{
    struct tk_frame f = busy_frame(8, 8);

    tk_frame_release(&f);
    assert_null(f.rgb);
    assert_int_equal(f.width, 0);
    tk_frame_release(&f);
    tk_frame_release(NULL);
}

/* Clocks. */

static void test_fake_clock(void **state)
{
    struct tk_fake_clock fc;
    const struct tk_clock *c = &fc.clock;

    tk_fake_clock_init(&fc, 1700000000000);
    assert_int_equal(c->wall_ms(c), 1700000000000);
    assert_int_equal(c->mono_ms(c), 0);
    tk_fake_clock_advance(&fc, 60000);
    assert_int_equal(c->wall_ms(c), 1700000060000);
    assert_int_equal(c->mono_ms(c), 60000);
    /* A jump moves the wall clock alone: that difference is what clock_jump detects. */
    tk_fake_clock_jump_wall(&fc, -3600000);
    assert_int_equal(c->wall_ms(c), 1700000060000 - 3600000);
    assert_int_equal(c->mono_ms(c), 60000);
    assert_int_equal((c->wall_ms(c) - c->mono_ms(c)) - 1700000000000, -3600000);
}

static void test_real_clock(void **state)
{
    const struct tk_clock *c = &tk_clock_real;
    int64_t m1 = c->mono_ms(c), w = c->wall_ms(c), m2;

    assert_true(w / 1000 - (int64_t)time(NULL) <= 1);
    assert_true((int64_t)time(NULL) - w / 1000 <= 1);
    usleep(20000);
    m2 = c->mono_ms(c);
    assert_true(m2 - m1 >= 19);
    assert_true(m2 - m1 < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_roundtrip),
        cmocka_unit_test(test_jpeg_quality),
        cmocka_unit_test(test_webp_roundtrip),
        cmocka_unit_test(test_encode_rejects),
        cmocka_unit_test(test_blank_uniform),
        cmocka_unit_test(test_blank_busy),
        cmocka_unit_test(test_blank_noise_and_windows),
        cmocka_unit_test(test_stream_jpeg_is_the_whole_frames),
        cmocka_unit_test(test_stream_blank_check),
        cmocka_unit_test(test_stream_rejects),
        cmocka_unit_test_setup(test_fake_capture_rows, reset_fake),
        cmocka_unit_test(test_blur_softens_edge),
        cmocka_unit_test(test_blur_option_keeps_source),
        cmocka_unit_test(test_encode_worker),
        cmocka_unit_test_setup(test_fake_counts_captures, reset_fake),
        cmocka_unit_test_setup(test_fake_activity_and_idle, reset_fake),
        cmocka_unit_test_setup(test_fake_threads, reset_fake),
        cmocka_unit_test(test_frame_release),
        cmocka_unit_test(test_fake_clock),
        cmocka_unit_test(test_real_clock),
    };

    return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
