/*
 * The state every handler of stintd shares: configuration, the store, the
 * blob store, the clock and the login limiter. One struct server per
 * process, created in main.c and read-only afterwards except where a field
 * says otherwise.
 */
#ifndef STINT_SERVER_H
#define STINT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

struct store;
struct blob_store;
struct ratelimit;
struct jobs;
struct hub;

#define SERVER_MAX_SCREENSHOT (4 * 1024 * 1024)
#define SERVER_MAX_JSON (1024 * 1024)
/* A segment may start this far past the server's clock (client clocks drift). */
#define SERVER_FUTURE_SKEW_S 120

struct server_config {
    char listen_addr[64];
    int listen_port;
    char data_dir[512];
    int segment_s;
    bool signup_enabled;
    bool test_clock;
    int threads;
    int connection_timeout_s;
    int platform_fee_bp; /* the platform's fee in basis points (1000 = 10 %) */
    char web_dir[512];   /* the web app's static files (web.c) */
    int max_file_mb;        /* the largest file POST /files takes, in MB (10^6 bytes) */
    int ws_max_connections; /* WebSockets the hub holds at once */
    /* Calls' ICE servers (turn.h): space-separated URLs, and TURN's shared secret. */
    char stun_urls[512];
    char turn_urls[512];
    char turn_secret[256];
    int turn_ttl_s; /* how long a TURN credential is good for */
};

struct server {
    struct server_config cfg;
    struct store *store;
    struct blob_store *blobs;
    struct ratelimit *login_limiter;
    /* Test clock: when set, the time every rule reads (see server_now). */
    int64_t clock_offset_s;
    /* The scheduler of the weekly cycle (jobs.h) while serving; NULL otherwise. */
    struct jobs *jobs;
    /* The WebSocket hub (hub.h) while serving; NULL otherwise (then events
     * are only stored, and replayed to the next connection). */
    struct hub *hub;
};

/*
 * The time every rule of the server reads: the real UTC clock, moved by
 * the test clock's offset when stintd runs with --test-clock.
 */
int64_t server_now(const struct server *srv);

#endif
