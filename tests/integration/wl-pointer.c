/*
 * A test client that moves the pointer of a wlroots compositor through
 * zwlr_virtual_pointer_v1, as a user's mouse would: test_wayland.py uses it
 * (with wtype for keys) to make input at chosen moments and check the
 * active seconds the Wayland backend measures.
 *
 *   wl-pointer MOTIONS   sends MOTIONS relative motions of 5 pixels, then
 *                        waits until the compositor has them; exits 0, or 1
 *                        with a sentence when the compositor lacks the protocol
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wayland-client.h>

#include "tracker/platform/wlr-virtual-pointer-unstable-v1-client-protocol.h"

static struct wl_seat *seat;
static struct zwlr_virtual_pointer_manager_v1 *manager;

static void global(void *data, struct wl_registry *reg, uint32_t id, const char *iface,
                   uint32_t version)
{
    if (strcmp(iface, wl_seat_interface.name) == 0 && !seat)
        seat = wl_registry_bind(reg, id, &wl_seat_interface, 1);
    else if (strcmp(iface, zwlr_virtual_pointer_manager_v1_interface.name) == 0)
        manager = wl_registry_bind(reg, id, &zwlr_virtual_pointer_manager_v1_interface, 1);
}

static void global_remove(void *data, struct wl_registry *reg, uint32_t id)
{
}

static const struct wl_registry_listener listener = {.global = global,
                                                     .global_remove = global_remove};

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    struct wl_display *dpy = wl_display_connect(NULL);
    struct zwlr_virtual_pointer_v1 *ptr;
    struct wl_registry *reg;
    struct timespec ts;

    if (!dpy) {
        fprintf(stderr, "wl-pointer: cannot connect to the compositor\n");
        return 1;
    }
    reg = wl_display_get_registry(dpy);
    wl_registry_add_listener(reg, &listener, NULL);
    wl_display_roundtrip(dpy);
    if (!seat || !manager) {
        fprintf(stderr, "wl-pointer: the compositor offers no zwlr_virtual_pointer_manager_v1\n");
        if (seat)
            wl_seat_destroy(seat);
        if (manager)
            zwlr_virtual_pointer_manager_v1_destroy(manager);
        wl_registry_destroy(reg);
        wl_display_disconnect(dpy);
        return 1;
    }
    ptr = zwlr_virtual_pointer_manager_v1_create_virtual_pointer(manager, seat);
    for (int i = 0; i < n; i++) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        zwlr_virtual_pointer_v1_motion(ptr, (uint32_t)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000),
                                       wl_fixed_from_int(i % 2 ? -5 : 5), wl_fixed_from_int(5));
        zwlr_virtual_pointer_v1_frame(ptr);
    }
    wl_display_roundtrip(dpy);
    zwlr_virtual_pointer_v1_destroy(ptr);
    zwlr_virtual_pointer_manager_v1_destroy(manager);
    wl_seat_destroy(seat);
    wl_registry_destroy(reg);
    wl_display_roundtrip(dpy);
    wl_display_disconnect(dpy);
    return 0;
}
