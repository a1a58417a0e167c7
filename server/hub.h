/*
 * The real-time channel: GET /api/v1/ws upgrades (through libmicrohttpd's
 * upgrade) to a WebSocket that one hub thread serves with wslay, on epoll,
 * for every connection at once. The protocol is in docs/api.md
 * ("Real-time events").
 *
 * Writers never talk to connections: they append events (events.h) in
 * their transaction and, once store_write() has returned, call
 * hub_notify(). The hub then reads the new events from the store in id
 * order and queues each one for the connections of the users who may see
 * it, so delivery order is commit order. A connection that reconnects with
 * `since` is fed from the store until it has caught up, then live.
 *
 * Threads: hub_notify() and hub_adopt() may be called from any thread;
 * everything else happens on the hub's own thread.
 */
#ifndef STINT_HUB_H
#define STINT_HUB_H

#include <stddef.h>

struct server;
struct hub;
struct http_req;
struct http_resp;

/* Starts the hub thread; sets srv->hub. 0 or a negative errno. */
int hub_start(struct server *srv);
/* Closes every connection (1001 "going away"), stops the thread, frees srv->hub. Accepts a stopped hub. */
void hub_stop(struct server *srv);

/* New events were committed: wake the hub to send them. Accepts srv->hub == NULL. */
void hub_notify(struct hub *hub);

/* Connections open now (for /health and the benchmarks). */
size_t hub_connections(struct hub *hub);

/*
 * The handler of GET /api/v1/ws (routes.c, flag ROUTE_UPGRADE): checks the
 * WebSocket handshake headers and answers 101 through http.c's upgrade
 * path, or 400/426 with a JSON error when it is not a WebSocket request.
 */
void api_ws(struct http_req *req, struct http_resp *resp);

#endif
