/* Placeholder until the hub lands: no connections, events only stored. */
#include "server/hub.h"

#include "server/http.h"
#include "server/server.h"

int hub_start(struct server *srv)
{
    srv->hub = NULL;
    return 0;
}

void hub_stop(struct server *srv)
{
    srv->hub = NULL;
}

void hub_notify(struct hub *hub)
{
    (void)hub;
}

size_t hub_connections(struct hub *hub)
{
    (void)hub;
    return 0;
}

void api_ws(struct http_req *req, struct http_resp *resp)
{
    http_reply_error(resp, 501, "internal", "not yet");
}
