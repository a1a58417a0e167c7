/*
 * Operator endpoints. For now the test clock: with `stintd --test-clock`,
 * an admin may move the server's clock (every rule reads server_now), so
 * tests can cross week boundaries and locks; the scheduler runs whatever
 * fell due before the answer. Without the flag the route answers 404 as
 * if it did not exist.
 */
#include "lib/json.h"
#include "lib/utc.h"
#include "server/api.h"
#include "server/jobs.h"
#include "server/server.h"

#include <string.h>
#include <time.h>

#define CLOCK_MAX_JUMP_S (50LL * 366 * 86400)

void api_admin_clock(struct http_req *req, struct http_resp *resp)
{
    static const struct st_json_field fields[] = {
        {"now", ST_JSON_STRING, true, false, 1, 40},
        {NULL, 0, false, false, 0, 0},
    };
    char stamp[ST_TIME_STRLEN];
    json_t *body;
    int64_t t;

    if (!req->srv->cfg.test_clock) {
        http_reply_not_found(resp);
        return;
    }
    if (strcmp(req->user.role, "admin") != 0) {
        http_reply_error(resp, 403, "forbidden", "only an admin moves the test clock");
        return;
    }
    if (!(body = http_json_body(req, resp, fields)))
        return;
    if (st_utc_parse(st_json_str(body, "now", ""), &t) < 0) {
        http_reply_error(resp, 400, "invalid_argument", "'now' is not an RFC 3339 time");
        json_decref(body);
        return;
    }
    /*
     * Every transition between the old and the new time runs before the
     * answer, so a jump of centuries would hold the request for hours:
     * tests never need more than a few decades.
     */
    if (t < server_now(req->srv) - CLOCK_MAX_JUMP_S ||
        t > server_now(req->srv) + CLOCK_MAX_JUMP_S) {
        http_reply_error(resp, 400, "invalid_argument",
                         "the test clock moves at most %d days at a time",
                         (int)(CLOCK_MAX_JUMP_S / 86400));
        json_decref(body);
        return;
    }
    __atomic_store_n(&req->srv->clock_offset_s, t - (int64_t)time(NULL), __ATOMIC_RELAXED);
    /* Every transition due at the new time runs before the answer. */
    jobs_run_due(req->srv);
    jobs_kick(req->srv);
    st_utc_format(server_now(req->srv), stamp);
    http_reply_json(resp, 200, json_pack("{s:s}", "now", stamp));
    json_decref(body);
}
