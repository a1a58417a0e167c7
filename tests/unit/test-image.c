/*
 * Unit tests for image.c: what an uploaded screenshot must be to be kept
 * (a JPEG or WebP that decodes, within the size caps) and the thumbnail made
 * from it. Every image is made here with libturbojpeg or libwebp, so the
 * tests carry no binary fixtures.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/encode.h>
#include <webp/types.h>

#include "server/image.h"

/* A w x h RGB picture: the left half red, the right half blue, with a faint gradient. */
static unsigned char *make_rgb(int w, int h)
{
    unsigned char *px = malloc((size_t)w * h * 3);

    assert_non_null(px);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * w + x) * 3;
            bool left = x < w / 2;
            p[0] = left ? 230 : 10;
            p[1] = (unsigned char)(20 + (y * 20) / h);
            p[2] = left ? 10 : 230;
        }
    }
    return px;
}

/* Encodes a test picture as JPEG; the caller frees the result with free(). */
static unsigned char *make_jpeg_flags(int w, int h, int subsamp, int flags, size_t *ret_len)
{
    unsigned char *px = make_rgb(w, h), *jpeg = NULL, *out;
    unsigned long len = 0;
    tjhandle tj = tjInitCompress();

    assert_non_null(tj);
    assert_int_equal(tjCompress2(tj, px, w, 0, h, TJPF_RGB, &jpeg, &len, subsamp, 90, flags), 0);
    out = malloc(len);
    assert_non_null(out);
    memcpy(out, jpeg, len);
    tjFree(jpeg);
    tjDestroy(tj);
    free(px);
    *ret_len = len;
    return out;
}

static unsigned char *make_jpeg_sub(int w, int h, int subsamp, size_t *ret_len)
{
    return make_jpeg_flags(w, h, subsamp, 0, ret_len);
}

static unsigned char *make_jpeg(int w, int h, size_t *ret_len)
{
    return make_jpeg_sub(w, h, TJSAMP_420, ret_len);
}

/* Encodes a test picture as WebP; the caller frees the result with free(). */
static unsigned char *make_webp_mode(int w, int h, bool lossless, size_t *ret_len)
{
    unsigned char *px = make_rgb(w, h), *webp = NULL, *out;
    size_t len = lossless ? WebPEncodeLosslessRGB(px, w, h, w * 3, &webp)
                          : WebPEncodeRGB(px, w, h, w * 3, 80, &webp);

    assert_true(len > 0);
    out = malloc(len);
    assert_non_null(out);
    memcpy(out, webp, len);
    WebPFree(webp);
    free(px);
    *ret_len = len;
    return out;
}

static unsigned char *make_webp(int w, int h, size_t *ret_len)
{
    return make_webp_mode(w, h, false, ret_len);
}

/* Decodes a thumbnail (it must be a JPEG) to RGB at its own size. */
static unsigned char *decode_thumb(const void *jpeg, size_t len, int *ret_w, int *ret_h)
{
    tjhandle tj = tjInitDecompress();
    int w, h, sub, cs;
    unsigned char *px;

    assert_non_null(tj);
    assert_int_equal(tjDecompressHeader3(tj, jpeg, len, &w, &h, &sub, &cs), 0);
    px = malloc((size_t)w * h * 3);
    assert_non_null(px);
    assert_int_equal(tjDecompress2(tj, jpeg, len, px, w, 0, h, TJPF_RGB, 0), 0);
    tjDestroy(tj);
    *ret_w = w;
    *ret_h = h;
    return px;
}

/* Finds the SOF0 marker of a baseline JPEG made by make_jpeg. */
static size_t find_sof0(const unsigned char *p, size_t len)
{
    for (size_t i = 2; i + 9 < len; i++)
        if (p[i] == 0xff && p[i + 1] == 0xc0)
            return i;
    fail_msg("no SOF0 marker");
    return 0;
}

/* Rewrites the dimensions a JPEG's header claims, leaving its data as it is. */
static void patch_jpeg_size(unsigned char *p, size_t len, int w, int h)
{
    size_t sof = find_sof0(p, len);

    /* FF C0, length (2), precision (1), height (2), width (2) */
    p[sof + 5] = (unsigned char)(h >> 8);
    p[sof + 6] = (unsigned char)h;
    p[sof + 7] = (unsigned char)(w >> 8);
    p[sof + 8] = (unsigned char)w;
}

static void test_jpeg_valid(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg(640, 480, &len);
    enum image_type type = 0;
    int w = 0, h = 0;

    assert_int_equal(image_verify(jpeg, len, &type, &w, &h), 0);
    assert_int_equal(type, IMAGE_JPEG);
    assert_int_equal(w, 640);
    assert_int_equal(h, 480);
    assert_string_equal(image_type_mime(type), "image/jpeg");
    free(jpeg);
}

static void test_jpeg_grayscale_and_444(void **state)
{
    size_t len;
    unsigned char *gray = make_jpeg_sub(333, 111, TJSAMP_GRAY, &len);
    int w = 0, h = 0;

    assert_int_equal(image_verify(gray, len, NULL, &w, &h), 0);
    assert_int_equal(w, 333);
    assert_int_equal(h, 111);
    free(gray);

    unsigned char *full = make_jpeg_sub(1001, 999, TJSAMP_444, &len);
    assert_int_equal(image_verify(full, len, NULL, &w, &h), 0);
    assert_int_equal(w, 1001);
    assert_int_equal(h, 999);
    free(full);
}

static void test_progressive_and_lossless(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg_flags(1280, 720, TJSAMP_420, TJFLAG_PROGRESSIVE, &len);
    unsigned char *webp;
    enum image_type type = 0;
    int w = 0, h = 0;

    assert_int_equal(image_verify(jpeg, len, &type, &w, &h), 0);
    assert_int_equal(type, IMAGE_JPEG);
    assert_int_equal(w, 1280);
    /* Cut in a later scan: the first scans decoded, the image did not. */
    assert_int_equal(image_verify(jpeg, len * 3 / 4, NULL, NULL, NULL), -EINVAL);
    free(jpeg);

    webp = make_webp_mode(640, 400, true, &len);
    assert_int_equal(image_verify(webp, len, &type, &w, &h), 0);
    assert_int_equal(type, IMAGE_WEBP);
    assert_int_equal(w, 640);
    assert_int_equal(h, 400);
    assert_int_equal(image_verify(webp, len - 8, NULL, NULL, NULL), -EINVAL);
    free(webp);
}

static void test_webp_valid(void **state)
{
    size_t len;
    unsigned char *webp = make_webp(800, 600, &len);
    enum image_type type = 0;
    int w = 0, h = 0;

    assert_int_equal(image_verify(webp, len, &type, &w, &h), 0);
    assert_int_equal(type, IMAGE_WEBP);
    assert_int_equal(w, 800);
    assert_int_equal(h, 600);
    assert_string_equal(image_type_mime(type), "image/webp");
    free(webp);
}

static void test_jpeg_truncated(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg(640, 480, &len);
    /* Cut inside the headers, inside the scan, and just before the EOI marker. */
    size_t cuts[] = {2, 10, 100, len / 4, len / 2, len * 3 / 4, len - 10, len - 2, len - 1};

    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int w = -1;
        assert_int_equal(image_verify(jpeg, cuts[i], NULL, &w, NULL), -EINVAL);
        assert_int_equal(w, -1); /* out-parameters untouched on failure */
    }
    free(jpeg);
}

static void test_webp_truncated(void **state)
{
    size_t len;
    unsigned char *webp = make_webp(800, 600, &len);
    size_t cuts[] = {12, 30, len / 2, len - 10, len - 1};

    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
        assert_int_equal(image_verify(webp, cuts[i], NULL, NULL, NULL), -EINVAL);
    free(webp);
}

static void test_random_bytes(void **state)
{
    unsigned char buf[8192];
    unsigned seed = 12345;

    for (size_t i = 0; i < sizeof(buf); i++) {
        seed = seed * 1103515245u + 12345u;
        buf[i] = (unsigned char)(seed >> 16);
    }
    assert_int_equal(image_verify(buf, sizeof(buf), NULL, NULL, NULL), -EINVAL);
    /* Random data behind each format's magic bytes. */
    memcpy(buf, "\xff\xd8\xff\xe0", 4);
    assert_int_equal(image_verify(buf, sizeof(buf), NULL, NULL, NULL), -EINVAL);
    memcpy(buf, "RIFF\x00\x10\x00\x00WEBPVP8 ", 16);
    assert_int_equal(image_verify(buf, sizeof(buf), NULL, NULL, NULL), -EINVAL);
    /* Nothing at all. */
    assert_int_equal(image_verify(buf, 0, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(image_verify(NULL, 0, NULL, NULL, NULL), -EINVAL);
}

static void test_png_rejected(void **state)
{
    /* A complete, valid 1x1 PNG: a real image, but not a type stint stores. */
    static const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
        0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99,
        0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
    };
    void *thumb = NULL;
    size_t thumb_len = 0;

    assert_int_equal(image_verify(png, sizeof(png), NULL, NULL, NULL), -EINVAL);
    assert_int_equal(image_thumbnail(png, sizeof(png), &thumb, &thumb_len), -EINVAL);
    assert_null(thumb);
}

static void test_jpeg_huge_header(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg(16, 16, &len);
    void *thumb = NULL;
    size_t thumb_len = 0;

    /* 60000 x 60000 would be 10 GB of RGB: refused from the header alone. */
    patch_jpeg_size(jpeg, len, 60000, 60000);
    assert_int_equal(image_verify(jpeg, len, NULL, NULL, NULL), -E2BIG);
    assert_int_equal(image_thumbnail(jpeg, len, &thumb, &thumb_len), -E2BIG);
    assert_null(thumb);
    /* Each cap on its own: one side too long; the area too large. */
    patch_jpeg_size(jpeg, len, IMAGE_MAX_SIDE + 1, 16);
    assert_int_equal(image_verify(jpeg, len, NULL, NULL, NULL), -E2BIG);
    patch_jpeg_size(jpeg, len, 10000, 6000);
    assert_int_equal(image_verify(jpeg, len, NULL, NULL, NULL), -E2BIG);
    /* Within the caps the header passes, and the missing scan data then fails the decode. */
    patch_jpeg_size(jpeg, len, 16000, 3000);
    assert_int_equal(image_verify(jpeg, len, NULL, NULL, NULL), -EINVAL);
    free(jpeg);
}

/* A harmless warning (padding between segments) keeps the image; a scan cut short does not. */
static void test_jpeg_warnings(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg(320, 240, &len);
    unsigned char *padded = malloc(len + 3);
    size_t app0_end;
    int w = 0, h = 0;

    assert_non_null(padded);
    /* FF D8, then the APP0 (JFIF) segment: FF E0 and a length that counts itself. */
    assert_int_equal(jpeg[2], 0xff);
    assert_int_equal(jpeg[3], 0xe0);
    app0_end = 4 + ((size_t)jpeg[4] << 8 | jpeg[5]);
    memcpy(padded, jpeg, app0_end);
    memcpy(padded + app0_end, "\x00\x00\x00", 3);
    memcpy(padded + app0_end + 3, jpeg + app0_end, len - app0_end);
    assert_int_equal(image_verify(padded, len + 3, NULL, &w, &h), 0);
    assert_int_equal(w, 320);
    assert_int_equal(h, 240);

    /* The same padding, but the EOI marker missing: the data ran out. */
    assert_int_equal(image_verify(padded, len + 1, NULL, NULL, NULL), -EINVAL);

    /* Scan data that ends early although the file ends with EOI. */
    patch_jpeg_size(jpeg, len, 320, 480);
    assert_int_equal(image_verify(jpeg, len, NULL, NULL, NULL), -EINVAL);
    free(padded);
    free(jpeg);
}

static void test_thumb_size(void **state)
{
    int w, h;

    image_thumb_size(1920, 1080, &w, &h);
    assert_int_equal(w, 320);
    assert_int_equal(h, 180);
    image_thumb_size(1000, 2000, &w, &h);
    assert_int_equal(w, 100);
    assert_int_equal(h, 200);
    image_thumb_size(1600, 1000, &w, &h); /* the box's own aspect */
    assert_int_equal(w, 320);
    assert_int_equal(h, 200);
    image_thumb_size(100, 50, &w, &h); /* never enlarged */
    assert_int_equal(w, 100);
    assert_int_equal(h, 50);
    image_thumb_size(16000, 10, &w, &h); /* never below one pixel */
    assert_int_equal(w, 320);
    assert_int_equal(h, 1);
    image_thumb_size(5, 16000, &w, &h);
    assert_int_equal(w, 1);
    assert_int_equal(h, 200);
}

/* Makes the thumbnail of data and checks it decodes as a JPEG of want_w x want_h. */
static unsigned char *check_thumb(const void *data, size_t len, int want_w, int want_h)
{
    void *thumb = NULL;
    size_t thumb_len = 0;
    int w, h;
    enum image_type type;
    unsigned char *px;

    assert_int_equal(image_thumbnail(data, len, &thumb, &thumb_len), 0);
    assert_non_null(thumb);
    assert_true(thumb_len > 0);
    assert_int_equal(image_verify(thumb, thumb_len, &type, &w, &h), 0);
    assert_int_equal(type, IMAGE_JPEG);
    px = decode_thumb(thumb, thumb_len, &w, &h);
    assert_int_equal(w, want_w);
    assert_int_equal(h, want_h);
    free(thumb);
    return px;
}

/* The thumbnail still shows the picture: red on the left, blue on the right. */
static void assert_red_left_blue_right(const unsigned char *px, int w, int h)
{
    const unsigned char *l = px + ((size_t)(h / 2) * w + w / 8) * 3;
    const unsigned char *r = px + ((size_t)(h / 2) * w + w - 1 - w / 8) * 3;

    assert_true(l[0] > 180 && l[2] < 60);
    assert_true(r[0] < 60 && r[2] > 180);
}

static void test_thumbnail_jpeg(void **state)
{
    struct {
        int w, h, tw, th;
    } cases[] = {
        {1920, 1080, 320, 180}, {1000, 2000, 100, 200}, {3840, 2160, 320, 180},
        {100, 50, 100, 50},     {641, 401, 320, 200},   {5000, 40, 320, 3},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t len;
        unsigned char *jpeg = make_jpeg(cases[i].w, cases[i].h, &len);
        unsigned char *px = check_thumb(jpeg, len, cases[i].tw, cases[i].th);
        if (cases[i].th >= 10)
            assert_red_left_blue_right(px, cases[i].tw, cases[i].th);
        free(px);
        free(jpeg);
    }
}

static void test_thumbnail_webp(void **state)
{
    size_t len;
    unsigned char *webp = make_webp(1600, 1000, &len);
    unsigned char *px = check_thumb(webp, len, 320, 200);

    assert_red_left_blue_right(px, 320, 200);
    free(px);
    free(webp);
    webp = make_webp(200, 150, &len);
    px = check_thumb(webp, len, 200, 150);
    free(px);
    free(webp);
}

static void test_process_one_decode(void **state)
{
    size_t len;
    unsigned char *jpeg = make_jpeg(2560, 1440, &len);
    struct image_info info;
    void *thumb = NULL;
    size_t thumb_len = 0;
    int w, h;

    assert_int_equal(image_process(jpeg, len, &info, &thumb, &thumb_len), 0);
    assert_int_equal(info.type, IMAGE_JPEG);
    assert_int_equal(info.width, 2560);
    assert_int_equal(info.height, 1440);
    assert_int_equal(image_verify(thumb, thumb_len, NULL, &w, &h), 0);
    assert_int_equal(w, 320);
    assert_int_equal(h, 180);
    free(thumb);
    /* A bad body leaves the out-parameters alone. */
    thumb = NULL;
    assert_int_equal(image_process(jpeg, len / 2, &info, &thumb, &thumb_len), -EINVAL);
    assert_null(thumb);
    free(jpeg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* what is kept */
        cmocka_unit_test(test_jpeg_valid),
        cmocka_unit_test(test_jpeg_grayscale_and_444),
        cmocka_unit_test(test_webp_valid),
        cmocka_unit_test(test_progressive_and_lossless),
        /* what is refused */
        cmocka_unit_test(test_jpeg_truncated),
        cmocka_unit_test(test_webp_truncated),
        cmocka_unit_test(test_random_bytes),
        cmocka_unit_test(test_png_rejected),
        cmocka_unit_test(test_jpeg_huge_header),
        cmocka_unit_test(test_jpeg_warnings),
        /* thumbnails */
        cmocka_unit_test(test_thumb_size),
        cmocka_unit_test(test_thumbnail_jpeg),
        cmocka_unit_test(test_thumbnail_webp),
        cmocka_unit_test(test_process_one_decode),
    };

    return cmocka_run_group_tests_name("image", tests, NULL, NULL);
}
