/*
 * Decoding uploaded screenshots (JPEG through libturbojpeg, WebP through
 * libwebp) and making their thumbnails, both from one decode; and the
 * thumbnails of PNG files in messages (through cairo).
 *
 * Every byte of the compressed stream is decoded, but straight to a size
 * near the thumbnail's: libjpeg-turbo's scaled IDCT (down to 1/8) and
 * libwebp's rescaler still read and check all the entropy-coded data, so a
 * truncated or corrupt file fails exactly as a full-size decode would, while
 * the pixel buffer stays small. A box filter then brings the JPEG case to
 * the exact thumbnail size.
 *
 * Not for: anything about who uploads or where the bytes go (api-screenshots.c).
 */
#include "server/image.h"

#include <errno.h>
#include <cairo.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>
#include <webp/decode.h>

#include "lib/xalloc.h"

/* Pixels decoded for the thumbnail: RGB, 3 bytes a pixel, no padding. */
struct rgb {
    unsigned char *px;
    int w, h;
};

const char *image_type_mime(enum image_type t)
{
    switch (t) {
    case IMAGE_JPEG:
        return "image/jpeg";
    case IMAGE_WEBP:
        return "image/webp";
    }
    return "application/octet-stream";
}

void image_thumb_size(int w, int h, int *ret_w, int *ret_h)
{
    int64_t tw, th;

    if (w <= IMAGE_THUMB_W && h <= IMAGE_THUMB_H) {
        tw = w;
        th = h;
    } else if ((int64_t)w * IMAGE_THUMB_H >= (int64_t)h * IMAGE_THUMB_W) {
        /* Wider than the box: the width decides. */
        tw = IMAGE_THUMB_W;
        th = ((int64_t)h * IMAGE_THUMB_W + w / 2) / w;
    } else {
        th = IMAGE_THUMB_H;
        tw = ((int64_t)w * IMAGE_THUMB_H + h / 2) / h;
    }
    *ret_w = tw < 1 ? 1 : (int)tw;
    *ret_h = th < 1 ? 1 : (int)th;
}

/* Checks a header's dimensions against the caps, before anything is allocated for them. */
static int check_dimensions(int w, int h)
{
    if (w <= 0 || h <= 0)
        return -EINVAL;
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (int64_t)w * h > IMAGE_MAX_PIXELS)
        return -E2BIG;
    return 0;
}

static bool is_jpeg(const unsigned char *p, size_t len)
{
    return len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff;
}

static bool is_webp(const unsigned char *p, size_t len)
{
    return len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0;
}

/*
 * libjpeg carries on past damage and reports a warning, filling what it
 * could not decode with grey. Most warnings mean exactly that (a scan cut
 * short, a bad Huffman code, the data ending before EOI), so the image did
 * not decode; a few are about metadata and leave every pixel intact. Those
 * are accepted, and only for a stream that really ends with EOI. TurboJPEG
 * keeps the text of the first warning, so that is what is judged; a later
 * warning in the same file goes unseen, which at worst lets through a
 * picture with grey areas, never a body that is not a JPEG.
 */
static bool jpeg_warning_harmless(tjhandle tj, const unsigned char *p, size_t len)
{
    static const char *const harmless[] = {
        " extraneous bytes before marker", /* padding between segments */
        "Corrupt JPEG data: bad ICC marker",
        "Warning: unknown JFIF revision number",
        "Unknown Adobe color transform code",
    };
    const char *msg;

    if (tjGetErrorCode(tj) != TJERR_WARNING)
        return false;
    if (len < 4 || p[len - 2] != 0xff || p[len - 1] != 0xd9)
        return false;
    if (!(msg = tjGetErrorStr2(tj)))
        return false;
    for (size_t i = 0; i < sizeof(harmless) / sizeof(harmless[0]); i++)
        if (strstr(msg, harmless[i]))
            return true;
    return false;
}

/* The smallest libjpeg-turbo scale (at most 1/1) whose output still covers tw x th. */
static tjscalingfactor jpeg_pick_scale(int w, int h, int tw, int th)
{
    tjscalingfactor best = {1, 1};
    int64_t best_area = (int64_t)w * h;
    tjscalingfactor *sf;
    int n;

    if (!(sf = tjGetScalingFactors(&n)))
        return best;
    for (int i = 0; i < n; i++) {
        int sw, sh;
        if (sf[i].num > sf[i].denom)
            continue;
        sw = TJSCALED(w, sf[i]);
        sh = TJSCALED(h, sf[i]);
        if (sw >= tw && sh >= th && (int64_t)sw * sh < best_area) {
            best = sf[i];
            best_area = (int64_t)sw * sh;
        }
    }
    return best;
}

static int decode_jpeg(const unsigned char *p, size_t len, struct image_info *info,
                       struct rgb *ret_px)
{
    tjhandle tj = tjInitDecompress();
    struct rgb out = {NULL, 0, 0};
    int w, h, subsamp, colorspace, tw, th, r;
    tjscalingfactor sf;

    if (!tj)
        return -ENOMEM;
    /* The header reader warns too (padding between segments), with the dimensions set. */
    w = h = 0;
    if (tjDecompressHeader3(tj, p, (unsigned long)len, &w, &h, &subsamp, &colorspace) < 0 &&
        !jpeg_warning_harmless(tj, p, len)) {
        r = -EINVAL;
        goto out;
    }
    if ((r = check_dimensions(w, h)) < 0)
        goto out;
    image_thumb_size(w, h, &tw, &th);
    sf = jpeg_pick_scale(w, h, tw, th);
    out.w = TJSCALED(w, sf);
    out.h = TJSCALED(h, sf);
    out.px = xmalloc((size_t)out.w * (size_t)out.h * 3);
    /* TJFLAG_LIMITSCANS: a progressive file with thousands of tiny scans is a CPU bomb. */
    if (tjDecompress2(tj, p, (unsigned long)len, out.px, out.w, 0, out.h, TJPF_RGB,
                      TJFLAG_LIMITSCANS) < 0) {
        if (!jpeg_warning_harmless(tj, p, len)) {
            r = -EINVAL;
            goto out;
        }
    }
    info->type = IMAGE_JPEG;
    info->width = w;
    info->height = h;
    *ret_px = out;
    out.px = NULL;
    r = 0;
out:
    free(out.px);
    tjDestroy(tj);
    return r;
}

static int decode_webp(const unsigned char *p, size_t len, struct image_info *info,
                       struct rgb *ret_px)
{
    WebPDecoderConfig cfg;
    struct rgb out = {NULL, 0, 0};
    int r;

    if (!WebPInitDecoderConfig(&cfg))
        return -EIO; /* a libwebp whose ABI does not match the headers */
    if (WebPGetFeatures(p, len, &cfg.input) != VP8_STATUS_OK)
        return -EINVAL;
    /* A screenshot is one frame; animations would need the demuxer and are not one. */
    if (cfg.input.has_animation)
        return -EINVAL;
    if ((r = check_dimensions(cfg.input.width, cfg.input.height)) < 0)
        return r;
    image_thumb_size(cfg.input.width, cfg.input.height, &out.w, &out.h);
    out.px = xmalloc((size_t)out.w * (size_t)out.h * 3);
    if (out.w != cfg.input.width || out.h != cfg.input.height) {
        cfg.options.use_scaling = 1;
        cfg.options.scaled_width = out.w;
        cfg.options.scaled_height = out.h;
    }
    cfg.output.colorspace = MODE_RGB;
    cfg.output.is_external_memory = 1;
    cfg.output.u.RGBA.rgba = out.px;
    cfg.output.u.RGBA.stride = out.w * 3;
    cfg.output.u.RGBA.size = (size_t)out.w * (size_t)out.h * 3;
    if (WebPDecode(p, len, &cfg) != VP8_STATUS_OK) {
        WebPFreeDecBuffer(&cfg.output);
        free(out.px);
        return -EINVAL;
    }
    WebPFreeDecBuffer(&cfg.output); /* external memory: releases nothing of ours */
    info->type = IMAGE_WEBP;
    info->width = cfg.input.width;
    info->height = cfg.input.height;
    *ret_px = out;
    return 0;
}

/*
 * Area-averaging resize from src down to tw x th (tw <= src->w, th <= src->h):
 * each output pixel is the mean of the source rectangle it covers, so
 * screenshot text turns grey rather than into aliasing noise.
 */
static void box_resize(const struct rgb *src, unsigned char *dst, int tw, int th)
{
    for (int y = 0; y < th; y++) {
        int y0 = (int)((int64_t)y * src->h / th);
        int y1 = (int)((int64_t)(y + 1) * src->h / th);
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((int64_t)x * src->w / tw);
            int x1 = (int)((int64_t)(x + 1) * src->w / tw);
            uint64_t sum[3] = {0, 0, 0};
            uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
            for (int sy = y0; sy < y1; sy++) {
                const unsigned char *row = src->px + ((size_t)sy * src->w + x0) * 3;
                for (int sx = x0; sx < x1; sx++, row += 3) {
                    sum[0] += row[0];
                    sum[1] += row[1];
                    sum[2] += row[2];
                }
            }
            for (int c = 0; c < 3; c++)
                dst[((size_t)y * tw + x) * 3 + c] = (unsigned char)((sum[c] + n / 2) / n);
        }
    }
}

/* Resizes px to its thumbnail size (when needed) and encodes it as JPEG. */
static int encode_thumb(const struct rgb *px, int tw, int th, void **ret_jpeg, size_t *ret_len)
{
    unsigned char *scaled = NULL, *jpeg = NULL;
    const unsigned char *in = px->px;
    unsigned long cap, jpeg_len;
    tjhandle tj;
    int r = -EIO;

    if (px->w != tw || px->h != th) {
        scaled = xmalloc((size_t)tw * (size_t)th * 3);
        box_resize(px, scaled, tw, th);
        in = scaled;
    }
    if (!(tj = tjInitCompress())) {
        free(scaled);
        return -ENOMEM;
    }
    cap = tjBufSize(tw, th, TJSAMP_420);
    if (cap == (unsigned long)-1)
        goto out;
    /* Our own buffer and TJFLAG_NOREALLOC, so the caller frees it with free(). */
    jpeg = xmalloc(cap);
    jpeg_len = cap;
    if (tjCompress2(tj, in, tw, 0, th, TJPF_RGB, &jpeg, &jpeg_len, TJSAMP_420, IMAGE_THUMB_QUALITY,
                    TJFLAG_NOREALLOC) < 0)
        goto out;
    *ret_jpeg = jpeg;
    *ret_len = jpeg_len;
    jpeg = NULL;
    r = 0;
out:
    free(jpeg);
    free(scaled);
    tjDestroy(tj);
    return r;
}

int image_process(const void *data, size_t len, struct image_info *ret_info, void **ret_thumb,
                  size_t *ret_thumb_len)
{
    const unsigned char *p = data;
    struct image_info info;
    struct rgb px = {NULL, 0, 0};
    int tw, th, r;

    if (!data || len == 0)
        return -EINVAL;
    if (is_jpeg(p, len))
        r = decode_jpeg(p, len, &info, &px);
    else if (is_webp(p, len))
        r = decode_webp(p, len, &info, &px);
    else
        r = -EINVAL;
    if (r < 0)
        return r;
    if (ret_thumb) {
        image_thumb_size(info.width, info.height, &tw, &th);
        r = encode_thumb(&px, tw, th, ret_thumb, ret_thumb_len);
    }
    free(px.px);
    if (r == 0 && ret_info)
        *ret_info = info;
    return r;
}

int image_verify(const void *data, size_t len, enum image_type *ret_type, int *ret_w, int *ret_h)
{
    struct image_info info;
    int r = image_process(data, len, &info, NULL, NULL);

    if (r < 0)
        return r;
    if (ret_type)
        *ret_type = info.type;
    if (ret_w)
        *ret_w = info.width;
    if (ret_h)
        *ret_h = info.height;
    return 0;
}

int image_thumbnail(const void *data, size_t len, void **ret_jpeg, size_t *ret_len)
{
    return image_process(data, len, NULL, ret_jpeg, ret_len);
}

/* ---- PNG (files in messages), through cairo ---- */

static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int image_png_size(const void *data, size_t len, int *ret_w, int *ret_h)
{
    const unsigned char *p = data;
    uint32_t w, h;
    int r;

    /* The signature, then the IHDR chunk: length 13, "IHDR", width, height, ... */
    if (!data || len < 33 || memcmp(p, png_signature, 8) != 0 || be32(p + 8) != 13 ||
        memcmp(p + 12, "IHDR", 4) != 0)
        return -EINVAL;
    w = be32(p + 16);
    h = be32(p + 20);
    if (w == 0 || h == 0)
        return -EINVAL;
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE)
        return -E2BIG; /* before the cast: a width of 2^31 must not turn negative */
    if ((r = check_dimensions((int)w, (int)h)) < 0)
        return r;
    if (ret_w)
        *ret_w = (int)w;
    if (ret_h)
        *ret_h = (int)h;
    return 0;
}

struct png_source {
    const unsigned char *p;
    size_t left;
};

static cairo_status_t png_read(void *closure, unsigned char *out, unsigned int n)
{
    struct png_source *src = closure;

    if (n > src->left)
        return CAIRO_STATUS_READ_ERROR;
    memcpy(out, src->p, n);
    src->p += n;
    src->left -= n;
    return CAIRO_STATUS_SUCCESS;
}

/*
 * box_resize for a cairo surface: premultiplied ARGB32 (or RGB24, opaque)
 * down to tw x th RGB, laid over white (premultiplied: c + 255 - alpha).
 */
static void argb_box_resize(const unsigned char *px, int stride, int w, int h, bool alpha,
                            unsigned char *dst, int tw, int th)
{
    for (int y = 0; y < th; y++) {
        int y0 = (int)((int64_t)y * h / th);
        int y1 = (int)((int64_t)(y + 1) * h / th);
        for (int x = 0; x < tw; x++) {
            int x0 = (int)((int64_t)x * w / tw);
            int x1 = (int)((int64_t)(x + 1) * w / tw);
            uint64_t sum[3] = {0, 0, 0};
            uint64_t n = (uint64_t)(y1 - y0) * (uint64_t)(x1 - x0);
            for (int sy = y0; sy < y1; sy++) {
                const unsigned char *row = px + (size_t)sy * (size_t)stride;
                for (int sx = x0; sx < x1; sx++) {
                    uint32_t v;
                    unsigned a;
                    memcpy(&v, row + (size_t)sx * 4, 4);
                    a = alpha ? v >> 24 : 255;
                    sum[0] += ((v >> 16) & 0xff) + 255 - a;
                    sum[1] += ((v >> 8) & 0xff) + 255 - a;
                    sum[2] += (v & 0xff) + 255 - a;
                }
            }
            for (int c = 0; c < 3; c++) {
                uint64_t m = (sum[c] + n / 2) / n;
                dst[((size_t)y * tw + x) * 3 + c] = (unsigned char)(m > 255 ? 255 : m);
            }
        }
    }
}

int image_png_thumbnail(const void *data, size_t len, void **ret_jpeg, size_t *ret_len)
{
    struct png_source src = {data, len};
    cairo_surface_t *s;
    cairo_format_t fmt;
    struct rgb small = {NULL, 0, 0};
    int w, h, r;

    if ((r = image_png_size(data, len, &w, &h)) < 0)
        return r;
    s = cairo_image_surface_create_from_png_stream(png_read, &src);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        r = cairo_surface_status(s) == CAIRO_STATUS_NO_MEMORY ? -ENOMEM : -EINVAL;
        goto out;
    }
    cairo_surface_flush(s);
    fmt = cairo_image_surface_get_format(s);
    if ((fmt != CAIRO_FORMAT_ARGB32 && fmt != CAIRO_FORMAT_RGB24) ||
        cairo_image_surface_get_width(s) != w || cairo_image_surface_get_height(s) != h ||
        !cairo_image_surface_get_data(s)) {
        r = -EINVAL;
        goto out;
    }
    image_thumb_size(w, h, &small.w, &small.h);
    small.px = xmalloc((size_t)small.w * (size_t)small.h * 3);
    argb_box_resize(cairo_image_surface_get_data(s), cairo_image_surface_get_stride(s), w, h,
                    fmt == CAIRO_FORMAT_ARGB32, small.px, small.w, small.h);
    r = encode_thumb(&small, small.w, small.h, ret_jpeg, ret_len);
out:
    free(small.px);
    cairo_surface_destroy(s);
    return r;
}
