/*
 * The tracker's clocks, behind an interface tests can drive. Durations come
 * from the monotonic clock; the wall clock only labels time (DOMAIN.md
 * "Time and clocks"). A jump of the wall clock against the monotonic one is
 * how the recorder detects clock_jump.
 */
#ifndef STINT_TRACKER_CLOCK_H
#define STINT_TRACKER_CLOCK_H

#include <stdint.h>

struct tk_clock {
    int64_t (*wall_ms)(const struct tk_clock *c); /* UTC, ms since the epoch */
    int64_t (*mono_ms)(const struct tk_clock *c); /* monotonic ms, any origin */
    void *ctx;
};

/* CLOCK_REALTIME and CLOCK_MONOTONIC. */
extern const struct tk_clock tk_clock_real;

/*
 * A clock for tests: the wall clock starts at wall_ms and the monotonic one
 * at 0; both move only when told. Safe to read from one thread while a test
 * moves it from another (the fields are accessed atomically), though a
 * reader that reads both clocks across an advance may see them apart; tests
 * move the clock between the engine's ticks.
 */
struct tk_fake_clock {
    struct tk_clock clock; /* first, so &fake->clock is the interface */
    int64_t wall;
    int64_t mono;
};

void tk_fake_clock_init(struct tk_fake_clock *f, int64_t wall_ms);
/* Moves both clocks forward by ms (time passing). */
void tk_fake_clock_advance(struct tk_fake_clock *f, int64_t ms);
/* Moves only the wall clock (a user or NTP changing the time). */
void tk_fake_clock_jump_wall(struct tk_fake_clock *f, int64_t ms);

#endif
