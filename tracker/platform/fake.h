/*
 * Controls for the fake platform backend (tests only): what the next drain
 * returns, the idle time, the frame capture returns, and how often each
 * function was called (to prove that nothing is captured while stopped).
 * Process-global and mutex-protected: tests drive it from their thread
 * while the engine reads it from its own.
 */
#ifndef STINT_TRACKER_FAKE_H
#define STINT_TRACKER_FAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "tracker/platform/platform.h"

/* Adds input the next drain() reports. */
void tk_fake_add_activity(int keys, int mouse, int synthetic);
/* Adds active seconds the next drain() reports (an active-seconds desktop, as Wayland). */
void tk_fake_add_active_seconds(int seconds);
/* What measure() says from now on (TK_MEASURE_COUNTS after a reset). */
void tk_fake_set_measure(enum tk_measure m);
void tk_fake_set_idle_ms(int64_t ms);
/*
 * What capture() returns: a busy test pattern (0), a uniform frame (1), or an
 * error (2). The fake desktop has two monitors of TK_FAKE_MONITOR_W x
 * TK_FAKE_MONITOR_H side by side, so TK_MONITOR_ALL gives a frame twice as wide.
 */
#define TK_FAKE_CAPTURE_BUSY 0
#define TK_FAKE_CAPTURE_UNIFORM 1
#define TK_FAKE_CAPTURE_ERROR 2
#define TK_FAKE_MONITOR_W 320
#define TK_FAKE_MONITOR_H 200
void tk_fake_set_capture_mode(int mode);
/* How many times capture() was called since the last reset. */
int tk_fake_capture_calls(void);
/* The monitor argument of the last capture() call (TK_MONITOR_ALL after a reset). */
int tk_fake_last_capture_monitor(void);
/* Makes open() fail as it does without a display ("no display: ..."), until reset. */
void tk_fake_set_open_fails(bool fails);
/* Back to the start: no activity, idle 0, busy frames, counts 0, open works, counts measure. */
void tk_fake_reset(void);

#endif
