/*
 * One video frame from a PipeWire stream (pw-frame.c), for the ScreenCast
 * capture route of the Wayland backend (screencast.c): connect to a
 * PipeWire remote (an fd the portal opened, or the user's default daemon),
 * ask node `node` for raw BGRx/RGBx (BGRA/RGBA) video in shared memory,
 * copy the first frame that arrives, disconnect.
 *
 * libpipewire-0.3 is loaded with dlopen() on the first call, so the
 * recorder maps it only when this route is used (as mutter-idle.c does
 * with libdbus). Not for: DMA-BUF frames (none are asked for), streams of
 * more than one frame, cursors.
 *
 * Threads: one call at a time per process (pw_init is done once).
 * Errors: negative errno-style codes, with a lowercase sentence in err.
 */
#ifndef STINT_TRACKER_PW_FRAME_H
#define STINT_TRACKER_PW_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct tk_pw_frame {
    int width, height, stride;
    int rgb_first; /* 1: bytes R, G, B, X in memory (RGBx); 0: B, G, R, X (BGRx) */
    unsigned char *px; /* stride * height bytes, malloc()ed; free() it */
};

/*
 * Takes one frame from node `node` on the PipeWire remote `fd` (taken
 * over and closed; -1: the default daemon of $XDG_RUNTIME_DIR), waiting
 * at most timeout_ms. 0; -ENXIO without libpipewire; -ETIMEDOUT when no
 * frame came in time; -EIO when the stream failed; -EINVAL for a frame
 * larger than the capture caps (capture.h).
 */
int tk_pw_take_frame(int fd, uint32_t node, int timeout_ms, struct tk_pw_frame *ret_frame,
                     char *err, size_t errlen);

#endif
