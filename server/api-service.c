/*
 * GET /health and GET /config: what a client asks before anything else.
 */
#include "lib/utc.h"
#include "server/api.h"
#include "server/hub.h"
#include "server/server.h"

void api_health(struct http_req *req, struct http_resp *resp)
{
    /* websockets: the connections the hub holds (tests and benchmarks watch it). */
    http_reply_json(resp, 200,
                    json_pack("{s:s,s:s,s:I}", "status", "ok", "version", STINT_VERSION,
                              "websockets", (json_int_t)hub_connections(req->srv->hub)));
}

void api_config(struct http_req *req, struct http_resp *resp)
{
    char now[ST_TIME_STRLEN];

    /* The server's clock: clients cut "today" and "this week" as the rules do. */
    st_utc_format(server_now(req->srv), now);
    http_reply_json(resp, 200,
                    json_pack("{s:i,s:i,s:s,s:b,s:s}", "segment_s", req->srv->cfg.segment_s,
                              "max_screenshot_bytes", SERVER_MAX_SCREENSHOT, "week_lock",
                              "monday 12:00 UTC", "signup", req->srv->cfg.signup_enabled, "now",
                              now));
}
