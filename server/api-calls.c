/*
 * Calls over HTTP: the ICE servers a client should use (GET /calls/ice)
 * and a room's call history (GET /rooms/{id}/calls). The calls themselves
 * are signaled over the WebSocket (calls.h). A room's calls exist only for
 * its members: anyone else gets the 404 of a room that does not exist.
 */
#include <errno.h>

#include "server/api.h"
#include "server/calls.h"
#include "server/rooms.h"
#include "server/server.h"
#include "server/store.h"
#include "server/turn.h"

#define CALLS_PAGE 50

void api_calls_ice(struct http_req *req, struct http_resp *resp)
{
    http_reply_json(resp, 200,
                    turn_ice_servers(&req->srv->cfg, req->user.id, server_now(req->srv)));
}

struct calls_page {
    struct http_req *req;
    json_t *out;
};

static int calls_page_read(struct store_tx *tx, void *arg)
{
    struct calls_page *cp = arg;
    struct room r;
    int rc = rooms_get_for(tx, cp->req->params[0], cp->req->user.id, &r);

    if (rc < 0)
        return rc;
    return calls_list_json(tx, r.id, CALLS_PAGE, &cp->out);
}

void api_rooms_calls(struct http_req *req, struct http_resp *resp)
{
    struct calls_page cp = {.req = req};
    int rc = store_read(req->srv->store, calls_page_read, &cp);

    if (rc < 0) {
        api_reply_room_error(resp, rc, "");
        return;
    }
    http_reply_json(resp, 200, cp.out);
}
