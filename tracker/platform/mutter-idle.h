/*
 * GNOME's idle route for the Wayland backend (wayland.c): mutter offers no
 * Wayland idle protocol (43 has none), but tells idle and activity on the
 * session bus, org.gnome.Mutter.IdleMonitor: an idle watch fires when the
 * user has been idle for 1 s, a user-active watch at the next input. This
 * file turns those into the same "idled" / "resumed" notifications the
 * Wayland protocols give.
 *
 * libdbus is loaded with dlopen() only when this route is tried, so the X11
 * path and wlroots sessions never map it (docs/benchmarks.md, footprint).
 *
 * Threads: a tk_mutter_idle is used from one thread at a time (wayland.c
 * opens it on the caller's thread and then reads it on its idle thread).
 * Errors: negative errno-style codes, with a lowercase sentence in err.
 */
#ifndef STINT_TRACKER_MUTTER_IDLE_H
#define STINT_TRACKER_MUTTER_IDLE_H

#include <stdbool.h>
#include <stddef.h>

struct tk_mutter_idle;

/*
 * Connects to the session bus ($DBUS_SESSION_BUS_ADDRESS) and, when
 * org.gnome.Mutter.IdleMonitor is there, sets a 1 s idle watch and a
 * user-active watch. -ENOENT when the name is not on the bus, -ENXIO
 * without a session bus or libdbus, -EIO when mutter refused a watch.
 */
int tk_mutter_idle_open(struct tk_mutter_idle **ret_mi, char *err, size_t errlen);
/* The connection's fd: readable when a notification may be waiting. */
int tk_mutter_idle_fd(struct tk_mutter_idle *mi);
/*
 * Reads what arrived and calls cb(ud, true) for each "idled" and
 * cb(ud, false) for each "resumed", in order; never blocks for long (a
 * re-armed watch is one round trip). 0, or -EPIPE when the bus is gone.
 */
int tk_mutter_idle_dispatch(struct tk_mutter_idle *mi, void (*cb)(void *ud, bool idled),
                            void *ud);
/* Closes the connection (the watches go with it). Accepts NULL. */
void tk_mutter_idle_close(struct tk_mutter_idle *mi);

#endif
