/*
 * What happens to a captured frame before it may leave the machine: the
 * blank check (a uniform frame is a failed capture, never a screenshot), the
 * optional blur, and the encoding to JPEG (TurboJPEG, the default) or WebP.
 *
 * Not for: taking the frame (platform.h) or deciding when to take it (the
 * recorder); nothing here talks to a display.
 *
 * Ownership: frames are borrowed unless a function says it takes them.
 * Encoded bytes are a new buffer the caller frees with free().
 *
 * Errors: -EINVAL for a frame that is empty, malformed or larger than
 * TK_FRAME_MAX_SIDE / TK_FRAME_MAX_PIXELS, -EIO when the encoder fails; a
 * lowercase sentence in err. Out-parameters are written only on success.
 *
 * Threads: every function is reentrant (each call has its own encoder), so
 * tk_shot_encode() may run on any thread; tk_shot_encode_start() runs it on a
 * worker thread of its own, for WebP, which takes hundreds of milliseconds
 * on a full-HD frame where JPEG takes a few.
 */
#ifndef STINT_TRACKER_CAPTURE_H
#define STINT_TRACKER_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

#include "tracker/platform/platform.h"


enum tk_shot_format {
    TK_SHOT_JPEG = 0, /* the default */
    TK_SHOT_WEBP = 1,
};

#define TK_SHOT_QUALITY_DEFAULT 70

/* How to encode. A zeroed struct means JPEG at the default quality, no blur. */
struct tk_encode_opts {
    enum tk_shot_format format;
    int quality;     /* 1..100; 0 means TK_SHOT_QUALITY_DEFAULT */
    bool blur;       /* blur before encoding (the freelancer's choice) */
    int blur_radius; /* pixels; 0 means tk_blur_default_radius() */
};

/*
 * Encodes f as the options say (blurring a private copy when asked; f is
 * not changed). On success *ret_bytes is a new buffer of *ret_len bytes,
 * freed by the caller with free().
 */
int tk_shot_encode(const struct tk_frame *f, const struct tk_encode_opts *o, void **ret_bytes,
                   size_t *ret_len, char *err, size_t errlen);

/*
 * The same, on a worker thread, for callers that must not wait (WebP).
 * Takes f's pixels (f is left released) and copies *o. Never returns NULL:
 * if no thread can be started, the encoding is done before returning.
 */
struct tk_shot_job;
struct tk_shot_job *tk_shot_encode_start(struct tk_frame *f, const struct tk_encode_opts *o);
/* Whether the job has finished, so that tk_shot_job_finish() will not wait. */
bool tk_shot_job_done(struct tk_shot_job *job);
/*
 * Waits for the job, frees it, and returns what tk_shot_encode() would
 * have returned, with the same out-parameters.
 */
int tk_shot_job_finish(struct tk_shot_job *job, void **ret_bytes, size_t *ret_len, char *err,
                       size_t errlen);

/*
 * Whether f is blank: a sample of its pixels is at least 99.9% one colour
 * (that of the first or the centre pixel), or has almost no variance (a
 * single colour with noise, such as a black frame from a compositor that
 * refused). A white page with a line of text is not blank. Writes the
 * reason, "the screen was blank (a single colour)", to reason when blank. An
 * empty or malformed frame is blank too ("the frame was empty").
 */
bool tk_frame_blank(const struct tk_frame *f, char *reason, size_t n);

/*
 * Blurs f in place with three passes of a separable box filter of the
 * given radius (close to a Gaussian of sigma = radius), so that text is
 * unreadable. radius <= 0 means tk_blur_default_radius(f->width).
 */
void tk_frame_blur(struct tk_frame *f, int radius);
/* The default blur radius for a frame this wide: width / 100, at least 4. */
int tk_blur_default_radius(int width);

/*
 * A JPEG made stripe by stripe, for a capture that never holds the whole
 * screen (platform.h, capture_rows): rows go in top to bottom, the blank
 * check samples them on the way (the same samples and verdict as
 * tk_frame_blank() on the whole frame), and libjpeg compresses them as
 * they come with the settings of tk_shot_encode() (4:2:0, the quality,
 * fast DCT). What it holds is the encoder's few rows, the blank check's
 * samples (about 200 KB) and the output, never a frame. JPEG without blur
 * only: blur needs neighbouring rows and WebP the whole picture, so those
 * go through tk_shot_encode().
 *
 * begin: -EINVAL for a size that is empty or over the caps. rows: n more
 * rows of packed RGB, stride bytes apart; -EINVAL past the frame's height.
 * end: frees s; -EINVAL when rows are missing; else 0 with *ret_blank, and
 * when not blank the JPEG in *ret_bytes (freed with free()); when blank the
 * reason is in err. A stream that fails stays failed. abort frees a stream
 * that will not be ended (NULL is fine).
 */
struct tk_shot_stream;
int tk_shot_stream_begin(int width, int height, int quality, struct tk_shot_stream **ret,
                         char *err, size_t errlen);
int tk_shot_stream_rows(struct tk_shot_stream *s, const unsigned char *rgb, int stride, int n,
                        char *err, size_t errlen);
int tk_shot_stream_end(struct tk_shot_stream *s, bool *ret_blank, void **ret_bytes,
                       size_t *ret_len, char *err, size_t errlen);
void tk_shot_stream_abort(struct tk_shot_stream *s);

/*
 * The stream as a platform's row sink (platform.h, capture_rows): begin()
 * starts sk->stream at the capture's size, rows() feeds it. After the
 * capture, end sk->stream (or abort it when the capture failed; it may
 * still be NULL).
 */
struct tk_shot_sink {
    struct tk_rows_sink sink;
    struct tk_shot_stream *stream;
    int quality;
};
void tk_shot_sink_init(struct tk_shot_sink *sk, int quality);

/* Copies src into a new frame (stride = width * 3). */
void tk_frame_copy(const struct tk_frame *src, struct tk_frame *ret_dst);

#endif
