/*
 * A WebSocket client (RFC 6455) on libcurl and wslay: libcurl makes the
 * connection (http:// or https://, proxies and TLS as for any request) in
 * CONNECT_ONLY mode, this module sends the upgrade request and checks the
 * 101 answer, then wslay frames text messages over curl_easy_send/recv.
 * Masking keys come from libsodium's randombytes_buf.
 *
 * For clients of stintd's /api/v1/ws (stint watch; later the tracker). It
 * knows nothing of stint's events: it moves text messages. One connection
 * per struct cli_ws, used from one thread. Library-style: it does not
 * print; failures come back as a negative errno and a sentence in err.
 */
#ifndef STINT_CLI_WS_H
#define STINT_CLI_WS_H

#include <signal.h>
#include <stddef.h>

/* A message from the server larger than this closes the connection (1009). */
#define CLI_WS_MAX_MESSAGE (8u * 1024 * 1024)

struct cli_ws;

struct cli_ws_options {
    const char *user_agent; /* NULL: none */
    long connect_timeout_s; /* 0: 10 s, for the TCP/TLS connection and the 101 answer */
    /*
     * When not NULL and set non-zero (by a signal handler), a connect in
     * progress gives up with -ECANCELED.
     */
    volatile sig_atomic_t *cancel;
};

/*
 * Connects to url, an http:// or https:// URL (ws:// and wss:// are taken
 * too), and upgrades. Returns 0 and the connection in *ret_ws, or a
 * negative errno with why in err: -ECONNREFUSED and friends when no
 * connection came, -EPROTO when the server did not answer 101 with the
 * right Sec-WebSocket-Accept (then *ret_status, when not NULL, holds the
 * HTTP status), -ETIMEDOUT, -ECANCELED.
 */
int cli_ws_connect(const char *url, const struct cli_ws_options *opt, struct cli_ws **ret_ws,
                   long *ret_status, char *err, size_t errlen);

/* Queues a text message (copied) and sends what the socket takes now. 0 or negative errno. */
int cli_ws_send_text(struct cli_ws *ws, const char *text, size_t len);

/*
 * Waits for the next text message. Returns 0 and hands it over in
 * *ret_msg (newly allocated, NUL-terminated; *ret_len bytes, binary frames
 * are skipped), or:
 *   -ETIMEDOUT   nothing at all came from the server for timeout_ms
 *                (pings count; -1: wait for ever),
 *   -EINTR       a signal arrived while waiting,
 *   -ECONNRESET  the connection is closed or broken (see cli_ws_close_code),
 *   -EPROTO      the server broke the protocol.
 * While waiting, the signal mask is sigmask (NULL: unchanged), as with
 * ppoll(2): block a signal outside, pass a mask without it here, and the
 * signal interrupts only the wait, never a check that precedes it.
 * Pings are answered on the way.
 */
int cli_ws_recv(struct cli_ws *ws, int timeout_ms, const sigset_t *sigmask, char **ret_msg,
                size_t *ret_len);

/* The close code the server sent (1000, 1001, 1008 ...), or 0 when none came. */
int cli_ws_close_code(const struct cli_ws *ws);

/*
 * Sends a close frame (1000) when the connection is still up, without
 * waiting for the answer, and frees everything. Accepts NULL.
 */
void cli_ws_free(struct cli_ws *ws);

/* Exposed for the unit tests: SHA-1 of len bytes into out[20]. */
void cli_ws_sha1(const void *data, size_t len, unsigned char out[20]);

#endif
