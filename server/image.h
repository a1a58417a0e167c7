/*
 * Screenshot images: deciding what an uploaded body is by decoding it, and
 * making the small JPEG the Work Diary shows in its grid. Also the
 * thumbnails of image files in messages (JPEG, WebP and PNG).
 *
 * The type comes from the bytes (magic numbers), never from a Content-Type
 * header, and a body is accepted only when the whole image decodes. JPEG goes
 * through libturbojpeg, WebP through libwebp. Dimensions are read from the
 * header and capped (IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS) before any pixel
 * buffer is allocated, so a small file cannot ask for gigabytes.
 *
 * Not for: storing images (blob.h) or deciding who may upload (api-screenshots.c).
 *
 * Errors: -EINVAL for anything that is not a JPEG or WebP that decodes
 * (unknown magic, truncated or corrupt data, animated WebP, CMYK JPEG),
 * -E2BIG for an image whose header claims more than the caps. Nothing is
 * printed. Out-parameters are written only on success.
 *
 * Threads: every function is reentrant; each call uses its own decoder.
 */
#ifndef STINT_IMAGE_H
#define STINT_IMAGE_H

#include <stddef.h>

enum image_type {
    IMAGE_JPEG = 1,
    IMAGE_WEBP = 2,
};

#define IMAGE_MAX_SIDE 16384                /* pixels, width or height */
#define IMAGE_MAX_PIXELS (50 * 1000 * 1000) /* width * height */
#define IMAGE_THUMB_W 320
#define IMAGE_THUMB_H 200
#define IMAGE_THUMB_QUALITY 75

struct image_info {
    enum image_type type;
    int width;
    int height;
};

/* The media type of t ("image/jpeg", "image/webp"); a static string. */
const char *image_type_mime(enum image_type t);

/*
 * Decodes data once, and does both jobs from that one decode: checks it
 * (as image_verify) and, when ret_thumb is not NULL, makes its thumbnail
 * (as image_thumbnail). ret_info may be NULL. On success *ret_thumb is a
 * new buffer of *ret_thumb_len bytes that the caller frees with free().
 */
int image_process(const void *data, size_t len, struct image_info *ret_info, void **ret_thumb,
                  size_t *ret_thumb_len);

/*
 * Checks that data is a JPEG or WebP image that decodes completely, and
 * returns its type and dimensions. data is borrowed. Any of the ret_
 * pointers may be NULL.
 */
int image_verify(const void *data, size_t len, enum image_type *ret_type, int *ret_w, int *ret_h);

/*
 * Decodes data (checked as image_verify does) and encodes a JPEG of quality
 * IMAGE_THUMB_QUALITY that fits IMAGE_THUMB_W x IMAGE_THUMB_H with the
 * aspect ratio kept; smaller images keep their size. On success *ret_jpeg
 * is a new buffer the caller frees with free().
 */
int image_thumbnail(const void *data, size_t len, void **ret_jpeg, size_t *ret_len);

/* The size of the thumbnail of a w x h image: fits the box, aspect kept, never enlarged. */
void image_thumb_size(int w, int h, int *ret_w, int *ret_h);

/*
 * PNG, for files that messages carry (screenshots stay JPEG or WebP).
 *
 * image_png_size reads the dimensions from the IHDR chunk that every PNG
 * starts with: -EINVAL when data does not start as a PNG does, -E2BIG when
 * they pass IMAGE_MAX_SIDE or IMAGE_MAX_PIXELS. Any ret_ pointer may be NULL.
 *
 * image_png_thumbnail checks those first, so nothing is decoded for a
 * header over the caps, then decodes the whole image (cairo) and encodes
 * its thumbnail as image_thumbnail does, transparency laid over white.
 * -EINVAL for a PNG that does not decode. On success *ret_jpeg is a new
 * buffer the caller frees with free(). The decoded image takes 4 bytes a
 * pixel while the call runs.
 */
int image_png_size(const void *data, size_t len, int *ret_w, int *ret_h);
int image_png_thumbnail(const void *data, size_t len, void **ret_jpeg, size_t *ret_len);

#endif
