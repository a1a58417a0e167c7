/*
 * The server's clock: the one place every time rule reads "now" from.
 * Real UTC time, shifted by the test clock's offset (api-admin.c) when
 * stintd runs with --test-clock.
 */
#include <time.h>

#include "server/server.h"

int64_t server_now(const struct server *srv)
{
    return (int64_t)time(NULL) + __atomic_load_n(&srv->clock_offset_s, __ATOMIC_RELAXED);
}
