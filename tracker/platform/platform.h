/*
 * The tracker's window on the desktop: activity counts, idle time, monitors
 * and screen capture, behind one table of functions per backend (x11.c,
 * fake.c; later wayland.c, win32.c, macos.c). The engine only ever calls
 * through struct tk_platform, so a new backend changes no caller.
 *
 * Privacy: a backend counts events and never stores or reports which key
 * was pressed or where the pointer was; key codes are dropped in the event
 * handler itself. Nothing here captures unless tk_platform.capture is
 * called, and the engine calls it only while the timer runs.
 *
 * Threads: one tk_platform_ctx is used from one thread at a time.
 *
 * Errors: functions that fail return a negative errno-style code (-ENXIO no
 * display, -ECONNREFUSED the display would not open, -ENOTSUP a missing
 * extension or unsupported visual, -EPIPE the connection was lost, -EINVAL
 * a bad argument, -EIO a request the server refused) and, where they take
 * one, a lowercase sentence in err.
 */
#ifndef STINT_TRACKER_PLATFORM_H
#define STINT_TRACKER_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Input counted since the last drain. Every button press counts 1 (clicks,
 * and scroll steps, which X11 reports as buttons 4-7); key presses count 1
 * each; which key or button, and where, is never kept.
 *
 * Motion is coalesced so that a long drag does not dwarf every click and key:
 * at most one motion event is counted per TK_MOTION_WINDOW_MS of the
 * desktop's event time (the first motion after a quiet window counts, the
 * rest of that window does not), so motion adds at most 10 a second.
 */
struct tk_activity {
    int keys;      /* key presses */
    int mouse;     /* button presses + scroll steps + motion events (motion coalesced, above) */
    int synthetic; /* of keys + mouse, how many came from XTEST-like devices */
};

#define TK_MOTION_WINDOW_MS 100

struct tk_monitor {
    int index;
    char name[64];
    int x, y, width, height;
    bool primary;
};

#define TK_MAX_MONITORS 16

/*
 * A captured frame: 8-bit RGB (3 bytes a pixel, R first), rows of stride
 * bytes. Owned by the caller after capture, who frees the pixels with
 * tk_frame_release(). The encoder, blur and blank check are in capture.h.
 */
struct tk_frame {
    int width, height, stride;
    unsigned char *rgb;
};

/* Frees f's pixels and zeroes f; f may be NULL or already released. */
void tk_frame_release(struct tk_frame *f);

/*
 * Where capture_rows() hands the screen over, stripe by stripe. begin()
 * comes once with the size, then rows() with the rows top to bottom, each
 * time the next n of them (packed RGB, stride bytes apart, valid during
 * the call only). Either returns < 0 to stop the capture (with a sentence
 * in err), which capture_rows() then returns.
 */
struct tk_rows_sink {
    int (*begin)(void *ud, int width, int height, char *err, size_t errlen);
    int (*rows)(void *ud, const unsigned char *rgb, int stride, int n, char *err, size_t errlen);
    void *ud;
};

/* Which monitors to capture: all (-1) or one index from monitors(). */
#define TK_MONITOR_ALL (-1)

struct tk_platform_ctx;

struct tk_platform {
    const char *name;
    /*
     * Connects to the desktop (display may be NULL for the default).
     * Returns 0 or a negative error with a sentence in err ("no display:
     * $DISPLAY is not set", "the X server has no XInput2").
     */
    int (*open)(const char *display, struct tk_platform_ctx **ret_ctx, char *err, size_t errlen);
    void (*close)(struct tk_platform_ctx *ctx);
    /*
     * A file descriptor that becomes readable when input events arrive, or
     * -1. A backend may read events into its own queue during any other
     * call (Xlib does), so callers also drain on their regular tick.
     */
    int (*fd)(struct tk_platform_ctx *ctx);
    /* Reads pending events and adds them to *acc; never blocks. 0 or < 0 (connection lost). */
    int (*drain)(struct tk_platform_ctx *ctx, struct tk_activity *acc);
    /* Milliseconds since the last user input, as the desktop counts it; < 0 on error. */
    int64_t (*idle_ms)(struct tk_platform_ctx *ctx);
    /* Lists monitors; returns how many (≤ max) or < 0. */
    int (*monitors)(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max);
    /*
     * Captures the chosen monitor(s) (TK_MONITOR_ALL: the bounding box of
     * all). 0 and a frame, or < 0 with the reason in err. A blank frame is
     * still returned as a frame: the caller checks it with tk_frame_blank()
     * (capture.h) and never uploads one that is blank.
     */
    int (*capture)(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                   char *err, size_t errlen);
    /*
     * The same capture handed to sink in stripes as it is read, so that
     * the whole screen is never in memory at once (the recorder encodes
     * JPEG as the rows come: capture.h, tk_shot_stream). Counts as a
     * capture call. NULL when a backend has only capture().
     */
    int (*capture_rows)(struct tk_platform_ctx *ctx, int monitor, const struct tk_rows_sink *sink,
                        char *err, size_t errlen);
};

/* The backend the build chose for this system (x11.c on Linux). */
extern const struct tk_platform tk_platform_native;
/* The fake backend for tests (fake.c): scripted activity, idle and frames. */
extern const struct tk_platform tk_platform_fake;

#endif
