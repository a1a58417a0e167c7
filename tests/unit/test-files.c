/*
 * Unit tests for files.c and the PNG half of image.c: what a file's name
 * becomes (no path parts, controls, reserved characters, hidden-file dots,
 * at most 255 bytes cut between characters), X-Filename decoding, the
 * Content-Disposition of a download, type sniffing, and PNG dimensions read
 * (and capped) before anything is decoded. PNGs are made here with cairo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cairo.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "lib/json.h"
#include "server/files.h"
#include "server/image.h"

static void expect_name(const char *in, const char *want)
{
    char out[FILES_NAME_MAX + 1];

    assert_int_equal(files_name_sanitize(in, strlen(in), out), 0);
    assert_string_equal(out, want);
}

static void test_name_path_parts(void **state)
{
    (void)state;
    expect_name("../../etc/passwd", "passwd");
    expect_name("..\\..\\boot.ini", "boot.ini");
    expect_name("a/b/c.txt", "c.txt");
    expect_name("C:\\Users\\ann\\report.pdf", "report.pdf");
    expect_name("dir/", "file");
    expect_name("/", "file");
    expect_name("plain.txt", "plain.txt");
}

static void test_name_dots_spaces_reserved(void **state)
{
    (void)state;
    expect_name("..", "file");
    expect_name("...hidden", "hidden");
    expect_name(" . .x. . ", "x");
    expect_name("a.tar.gz", "a.tar.gz");
    expect_name("mid dle.txt", "mid dle.txt");
    expect_name("we:ird*?\"<>|.txt", "weird.txt");
    expect_name("", "file");
}

static void test_name_controls(void **state)
{
    (void)state;
    expect_name("a\x01\x1f\x7f"
                "b\x1b[0m.txt",
                "ab[0m.txt");
    expect_name("tab\there\r\n", "tabhere");
    /* C1 controls (U+0085, U+009B) and bidi overrides (U+202E, U+2066). */
    expect_name("c1\xc2\x85\xc2\x9bx", "c1x");
    expect_name("invoice\xe2\x80\xae"
                "fdp.exe",
                "invoicefdp.exe");
    expect_name("\xe2\x81\xa6"
                "a",
                "a");
    /* What is left after dropping may start with a dot: dropped too. */
    expect_name("\x01.profile", "profile");
}

static void test_name_unicode_and_length(void **state)
{
    char in[1024], want[512];
    char out[FILES_NAME_MAX + 1];

    (void)state;
    expect_name("שלום.txt", "שלום.txt");
    expect_name("😀 party.png", "😀 party.png");
    memset(in, 'x', 300);
    in[300] = '\0';
    memset(want, 'x', 255);
    want[255] = '\0';
    expect_name(in, want);
    /* 200 two-byte characters: cut to 127 of them (254 bytes), never half of one. */
    for (int i = 0; i < 200; i++)
        memcpy(in + 2 * i, "é", 2);
    in[400] = '\0';
    assert_int_equal(files_name_sanitize(in, 400, out), 0);
    assert_int_equal(strlen(out), 254);
    assert_true(st_utf8_valid(out, strlen(out)));
    /* A cut that leaves a trailing space or dot trims it. */
    memset(in, 'y', 254);
    in[254] = ' ';
    memcpy(in + 255, "tail", 5);
    assert_int_equal(files_name_sanitize(in, strlen(in), out), 0);
    assert_int_equal(strlen(out), 254);
    assert_int_equal(out[253], 'y');
}

static void test_name_invalid_utf8(void **state)
{
    char out[FILES_NAME_MAX + 1];

    (void)state;
    assert_int_equal(files_name_sanitize("a\xff"
                                         "b",
                                         3, out),
                     -EINVAL);
    assert_int_equal(files_name_sanitize("\xc3", 1, out), -EINVAL);
    assert_int_equal(files_name_sanitize("\xc0\xaf", 2, out), -EINVAL);     /* overlong '/' */
    assert_int_equal(files_name_sanitize("\xed\xa0\x80", 3, out), -EINVAL); /* surrogate */
    assert_int_equal(files_name_sanitize("a\0b", 3, out), -EINVAL);
}

static void test_name_from_header(void **state)
{
    char out[FILES_NAME_MAX + 1], big[FILES_NAME_HEADER_MAX + 2];

    (void)state;
    assert_int_equal(files_name_from_header("%C3%A9t%C3%A9%20plan.pdf", out), 0);
    assert_string_equal(out, "été plan.pdf");
    assert_int_equal(files_name_from_header("..%2F..%2Fetc%2Fpasswd", out), 0);
    assert_string_equal(out, "passwd");
    assert_int_equal(files_name_from_header("a+b.txt", out), 0);
    assert_string_equal(out, "a+b.txt"); /* encodeURIComponent's '+' is a plus */
    assert_int_equal(files_name_from_header(NULL, out), -EINVAL);
    assert_int_equal(files_name_from_header("", out), -EINVAL);
    assert_int_equal(files_name_from_header("%", out), -EINVAL);
    assert_int_equal(files_name_from_header("a%2", out), -EINVAL);
    assert_int_equal(files_name_from_header("a%zz", out), -EINVAL);
    assert_int_equal(files_name_from_header("a%00b", out), -EINVAL);
    assert_int_equal(files_name_from_header("%FF", out), -EINVAL);
    memset(big, 'a', FILES_NAME_HEADER_MAX);
    big[FILES_NAME_HEADER_MAX] = '\0';
    assert_int_equal(files_name_from_header(big, out), 0);
    assert_int_equal(strlen(out), FILES_NAME_MAX);
    big[FILES_NAME_HEADER_MAX] = 'a';
    big[FILES_NAME_HEADER_MAX + 1] = '\0';
    assert_int_equal(files_name_from_header(big, out), -EINVAL);
}

static void test_disposition(void **state)
{
    char *d;

    (void)state;
    d = files_disposition("report.pdf");
    assert_string_equal(d, "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf");
    free(d);
    d = files_disposition("été 100%.txt");
    assert_string_equal(d, "attachment; filename=\"_t_ 100_.txt\"; "
                           "filename*=UTF-8''%C3%A9t%C3%A9%20100%25.txt");
    free(d);
    d = files_disposition("😀;x'y");
    assert_string_equal(d, "attachment; filename=\"_;x'y\"; filename*=UTF-8''%F0%9F%98%80%3Bx%27y");
    free(d);
}

/* ---- PNG ---- */

struct buf {
    unsigned char *p;
    size_t len;
};

static cairo_status_t buf_write(void *closure, const unsigned char *data, unsigned int n)
{
    struct buf *b = closure;

    b->p = realloc(b->p, b->len + n);
    assert_non_null(b->p);
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return CAIRO_STATUS_SUCCESS;
}

/* A w x h PNG: opaque red, or (clear) fully transparent. */
static struct buf make_png(int w, int h, bool clear)
{
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_t *cr = cairo_create(s);
    struct buf b = {NULL, 0};

    if (!clear) {
        cairo_set_source_rgb(cr, 1, 0, 0);
        cairo_paint(cr);
    }
    cairo_destroy(cr);
    assert_int_equal(cairo_surface_write_to_png_stream(s, buf_write, &b), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
    return b;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void test_png_header(void **state)
{
    struct buf b = make_png(300, 120, false);
    int w = 0, h = 0;

    (void)state;
    assert_int_equal(image_png_size(b.p, b.len, &w, &h), 0);
    assert_int_equal(w, 300);
    assert_int_equal(h, 120);
    assert_int_equal(image_png_size(b.p, 20, &w, &h), -EINVAL); /* cut inside IHDR */
    assert_int_equal(image_png_size("GIF89a..........................", 33, NULL, NULL), -EINVAL);
    /* Dimensions past the caps, or impossible, are refused from the header alone. */
    put_be32(b.p + 16, IMAGE_MAX_SIDE + 1);
    assert_int_equal(image_png_size(b.p, b.len, NULL, NULL), -E2BIG);
    put_be32(b.p + 16, 0x80000000u);
    assert_int_equal(image_png_size(b.p, b.len, NULL, NULL), -E2BIG);
    put_be32(b.p + 16, 10000);
    put_be32(b.p + 20, 10000); /* 100 megapixels */
    assert_int_equal(image_png_size(b.p, b.len, NULL, NULL), -E2BIG);
    assert_int_equal(image_png_thumbnail(b.p, b.len, NULL, NULL), -E2BIG);
    put_be32(b.p + 16, 0);
    assert_int_equal(image_png_size(b.p, b.len, NULL, NULL), -EINVAL);
    free(b.p);
}

static void jpeg_size(const void *data, size_t len, int *ret_w, int *ret_h)
{
    tjhandle tj = tjInitDecompress();
    int ss, cs;

    assert_int_equal(tjDecompressHeader3(tj, data, (unsigned long)len, ret_w, ret_h, &ss, &cs), 0);
    tjDestroy(tj);
}

/* The mean of the first channel of a JPEG's pixels. */
static int jpeg_mean_red(const void *data, size_t len)
{
    tjhandle tj = tjInitDecompress();
    int w, h, ss, cs;
    unsigned char *px;
    uint64_t sum = 0;

    assert_int_equal(tjDecompressHeader3(tj, data, (unsigned long)len, &w, &h, &ss, &cs), 0);
    px = malloc((size_t)w * h * 3);
    assert_int_equal(tjDecompress2(tj, data, (unsigned long)len, px, w, 0, h, TJPF_RGB, 0), 0);
    for (size_t i = 0; i < (size_t)w * h; i++)
        sum += px[i * 3];
    free(px);
    tjDestroy(tj);
    return (int)(sum / ((uint64_t)w * h));
}

static void test_png_thumbnail(void **state)
{
    struct buf b = make_png(640, 480, false), clear = make_png(100, 60, true);
    void *jpeg = NULL;
    size_t len = 0;
    int w, h;

    (void)state;
    assert_int_equal(image_png_thumbnail(b.p, b.len, &jpeg, &len), 0);
    jpeg_size(jpeg, len, &w, &h);
    assert_int_equal(w, 267);
    assert_int_equal(h, 200);
    assert_true(jpeg_mean_red(jpeg, len) > 240);
    free(jpeg);
    /* Transparent pixels are laid over white: small images keep their size. */
    assert_int_equal(image_png_thumbnail(clear.p, clear.len, &jpeg, &len), 0);
    jpeg_size(jpeg, len, &w, &h);
    assert_int_equal(w, 100);
    assert_int_equal(h, 60);
    assert_true(jpeg_mean_red(jpeg, len) > 240);
    free(jpeg);
    /* Cut short or damaged after a good header: refused, nothing returned. */
    jpeg = NULL;
    assert_int_equal(image_png_thumbnail(b.p, b.len / 2, &jpeg, &len), -EINVAL);
    assert_null(jpeg);
    memset(b.p + 40, 0x5a, b.len - 60);
    assert_int_equal(image_png_thumbnail(b.p, b.len, &jpeg, &len), -EINVAL);
    assert_null(jpeg);
    free(b.p);
    free(clear.p);
}

static void test_sniff(void **state)
{
    char t[FILES_TYPE_MAX + 1];
    struct buf png = make_png(10, 10, false);
    static const char html[] = "<!DOCTYPE html><html><head><title>x</title></head></html>\n";
    static const char pdf[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n";
    unsigned char noise[4096];

    (void)state;
    files_sniff(png.p, png.len, t);
    assert_string_equal(t, "image/png");
    files_sniff(html, sizeof(html) - 1, t);
    assert_string_equal(t, "text/html");
    files_sniff(pdf, sizeof(pdf) - 1, t);
    assert_string_equal(t, "application/pdf");
    files_sniff("hello world\n", 12, t);
    assert_string_equal(t, "text/plain");
    for (size_t i = 0; i < sizeof(noise); i++)
        noise[i] = (unsigned char)((i * 2654435761u) >> 13);
    files_sniff(noise, sizeof(noise), t);
    assert_string_equal(t, "application/octet-stream");
    free(png.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_path_parts),   cmocka_unit_test(test_name_dots_spaces_reserved),
        cmocka_unit_test(test_name_controls),     cmocka_unit_test(test_name_unicode_and_length),
        cmocka_unit_test(test_name_invalid_utf8), cmocka_unit_test(test_name_from_header),
        cmocka_unit_test(test_disposition),       cmocka_unit_test(test_png_header),
        cmocka_unit_test(test_png_thumbnail),     cmocka_unit_test(test_sniff),
    };

    return cmocka_run_group_tests_name("files", tests, NULL, NULL);
}
