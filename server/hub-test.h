/*
 * The hub's per-connection code without its thread or sockets, for the
 * fuzzer (tests/fuzz/fuzz-ws.c): bytes go in as if a client had sent them
 * after the handshake, and what the hub would send is dropped. The same
 * functions (frame parsing by wslay, the message handler, replay, typing)
 * run as in stintd, on the store of srv.
 *
 * Not for stintd itself: it uses hub_start() (hub.h).
 */
#ifndef STINT_HUB_TEST_H
#define STINT_HUB_TEST_H

#include <stddef.h>
#include <stdint.h>

struct server;
struct hub;

/* A hub with no thread (srv->hub is left alone). Free with hub_test_free(). */
struct hub *hub_test_new(struct server *srv);
void hub_test_free(struct hub *hub);

/*
 * One connection: when token is not NULL it first says hello with it (and
 * since, when not NULL). Then data is read as the client's frames, to its
 * end. Returns the close code the hub chose (0 when it is still open).
 */
int hub_test_frames(struct hub *hub, const char *token, const char *since, const uint8_t *data,
                    size_t len);

/*
 * One connection that said hello with token: text is passed to the message
 * handler as one text message. Returns the close code the hub chose, or 0.
 */
int hub_test_message(struct hub *hub, const char *token, const uint8_t *text, size_t len);

#endif
