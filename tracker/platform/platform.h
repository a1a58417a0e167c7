/*
 * The tracker's window on the desktop: activity counts, idle time, monitors
 * and screen capture, behind one table of functions per backend (x11.c,
 * wayland.c, win32.c, fake.c). The engine only ever calls through struct
 * tk_platform, so a new backend changes no caller. On Linux the backend is
 * chosen at run time (select.c: Wayland when the session is one and its
 * compositor answers, else X11); the build chooses it elsewhere (win32.c).
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
    /*
     * Active seconds (TK_MEASURE_ACTIVE_SECONDS backends only): how many
     * whole seconds, ended since the last drain, had any input. Wayland
     * gives no global counts; a compositor's idle notification with a 1 s
     * timeout tells which seconds had input. Counts backends leave it 0.
     */
    int active_s;
};

/*
 * What a backend measures activity with. Counts: keys and mouse as above
 * (X11, Windows). Active seconds: only active_s; keys, mouse and synthetic
 * are then unavailable (not zero) and stay 0 (Wayland).
 */
enum tk_measure {
    TK_MEASURE_COUNTS = 0,
    TK_MEASURE_ACTIVE_SECONDS = 1,
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

/* The largest frame any backend hands over (capture.h refuses larger ones too). */
#define TK_FRAME_MAX_SIDE 16383                /* pixels; WebP's own limit too */
#define TK_FRAME_MAX_PIXELS (50 * 1000 * 1000) /* width * height, as the server caps */

/* Frees f's pixels and zeroes f; f may be NULL or already released (platform.c). */
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
    /* How this connection measures activity. NULL: TK_MEASURE_COUNTS. */
    enum tk_measure (*measure)(struct tk_platform_ctx *ctx);
    /*
     * One line for `stint status` and the app's diagnostics: the backend,
     * the routes in use and why others were not taken ("wayland (sway):
     * capture wlr-screencopy; idle org_kde_kwin_idle (ext_idle_notifier_v1
     * not offered)"). NULL: the name alone.
     */
    void (*describe)(struct tk_platform_ctx *ctx, char *out, size_t outlen);
};

/*
 * The backend for this system. On Linux it is select.c's, which picks X11
 * or Wayland when it opens (and describe() says which and why); elsewhere
 * the build's one (win32.c on Windows).
 */
extern const struct tk_platform tk_platform_native;
/* The X11 backend itself (x11.c), for tests and benchmarks that want it whatever the session. */
extern const struct tk_platform tk_platform_x11;
/*
 * The Wayland backend (wayland.c): wlr-screencopy capture and active
 * seconds from the compositor's idle notification. select.c tries it first.
 */
extern const struct tk_platform tk_platform_wayland;

/*
 * capture() for a backend that reads in stripes: runs its capture_rows
 * into one whole frame (the caller's, freed with tk_frame_release). What
 * a backend's capture() is unless it has a reason to differ (x11.c
 * prefaults the frame's pages first).
 */
int tk_platform_capture_whole(int (*capture_rows)(struct tk_platform_ctx *ctx, int monitor,
                                                  const struct tk_rows_sink *sink, char *err,
                                                  size_t errlen),
                              struct tk_platform_ctx *ctx, int monitor,
                              struct tk_frame *ret_frame, char *err, size_t errlen);

/* describe(), or the name when a backend has none. */
void tk_platform_describe(const struct tk_platform *p, struct tk_platform_ctx *ctx, char *out,
                          size_t outlen);
/* measure(), or TK_MEASURE_COUNTS when a backend has none. */
enum tk_measure tk_platform_measure(const struct tk_platform *p, struct tk_platform_ctx *ctx);
/* The fake backend for tests (fake.c): scripted activity, idle and frames. */
extern const struct tk_platform tk_platform_fake;

#endif
