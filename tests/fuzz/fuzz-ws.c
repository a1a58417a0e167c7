/*
 * libFuzzer target: the WebSocket hub's per-connection code (server/hub.c
 * through hub-test.h) on bytes a client could send after the handshake:
 * wslay's frame parsing, the close codes, hello, replay and the message
 * handler, with no socket and no thread. A real store under $TMPDIR
 * (removed at exit) holds a client A and a freelancer F with a contract,
 * so a room "c-<contract>" and a few events exist.
 *
 * Input: the first byte picks the mode, the rest is the data.
 *   0: frames before any hello;  1: frames after A's hello;
 *   2: frames after A's hello with since "0" (the replay runs);
 *   3: the data is one text message to the handler, after A's hello.
 * "$R" in the data becomes the room's id (so typing reaches the member check).
 *
 * What counts as a bug besides what the sanitizers catch: a close code
 * outside the ones docs/api.md names.
 */
#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/blob.h"
#include "server/http.h"
#include "server/hub-test.h"
#include "server/server.h"
#include "server/store.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct server srv;
static struct hub *hub;
static char tmpdir[512];
static char token_a[128], token_f[128], room_id[64];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-ws: %s\n", what);
    abort();
}

/* Runs one request through the route table as http.c would; returns its JSON (new ref). */
static json_t *call(const char *method, const char *path, const char *body, const char *token,
                    int want)
{
    char *params[HTTP_MAX_PARAMS];
    int n = 0, status = 0;
    const struct route *route = http_route_find(method, path, params, &n, &status);
    struct http_req req = {0};
    struct http_resp resp = {.status = 500, .fd = -1};
    json_t *out;

    if (!route)
        fail("setup: no route");
    req.srv = &srv;
    req.method = method;
    req.path = path;
    for (int i = 0; i < n; i++)
        req.params[i] = params[i];
    req.nparams = n;
    req.body = body;
    req.body_len = strlen(body);
    req.content_type = "application/json";
    if (token) {
        req.authenticated = auth_user_from_token(&srv, token, &req.user) == 0;
        auth_token_hash(token, req.token_hash);
    }
    route->fn(&req, &resp);
    if (resp.status != want) {
        fprintf(stderr, "fuzz-ws: setup: %s %s answered %d\n", method, path, resp.status);
        abort();
    }
    out = json_incref(resp.json);
    json_decref(resp.json);
    free(resp.data);
    for (int i = 0; i < resp.nheaders; i++)
        free(resp.header_values[i]);
    for (int i = 0; i < n; i++)
        free(params[i]);
    return out;
}

static void signup(const char *role, const char *email, char *ret_token, size_t len)
{
    char body[512];
    json_t *out;

    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"fuzzing the hub\",\"name\":\"%s\",\"role\":\"%s\"}",
             email, role, role);
    json_decref(call("POST", "/api/v1/signup", body, NULL, 201));
    snprintf(body, sizeof(body), "{\"email\":\"%s\",\"password\":\"fuzzing the hub\"}", email);
    out = call("POST", "/api/v1/login", body, NULL, 200);
    snprintf(ret_token, len, "%s", json_string_value(json_object_get(out, "token")));
    json_decref(out);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void cleanup(void)
{
    hub_test_free(hub);
    blob_free(srv.blobs);
    store_free(srv.store);
    ratelimit_free(srv.login_limiter);
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char body[512], path[160];
    char *blobdir;
    json_t *out;
    const char *cid;

    st_log_set_level(ST_LOG_ERROR);
    if (auth_init() < 0)
        fail("cannot initialise libsodium");
    snprintf(tmpdir, sizeof(tmpdir), "%s/stint-fuzz-ws-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        fail("cannot make a temporary directory");
    snprintf(srv.cfg.data_dir, sizeof(srv.cfg.data_dir), "%s", tmpdir);
    srv.cfg.segment_s = 60;
    srv.cfg.signup_enabled = true;
    srv.cfg.threads = 1;
    if (store_open(tmpdir, &srv.store) < 0)
        fail("cannot open the store");
    blobdir = xasprintf("%s/blobs", tmpdir);
    if (blob_open(blobdir, &srv.blobs) < 0)
        fail("cannot open the blob store");
    free(blobdir);
    srv.login_limiter = ratelimit_new();
    atexit(cleanup);

    signup("client", "a@fuzz.example", token_a, sizeof(token_a));
    signup("freelancer", "f@fuzz.example", token_f, sizeof(token_f));
    out = call("POST", "/api/v1/contracts",
               "{\"freelancer_email\":\"f@fuzz.example\",\"title\":\"Fuzzing\","
               "\"hourly_rate_cents\":4500,\"currency\":\"USD\"}",
               token_a, 201);
    cid = json_string_value(json_object_get(json_object_get(out, "contract"), "id"));
    if (!cid)
        fail("setup: no contract id");
    snprintf(room_id, sizeof(room_id), "c-%s", cid);
    json_decref(out);
    snprintf(path, sizeof(path), "/api/v1/rooms/%s/messages", room_id);
    for (int i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "{\"text\":\"message %d\"}", i);
        json_decref(call("POST", path, body, i % 2 ? token_f : token_a, 201));
    }
    hub = hub_test_new(&srv);
    if (!hub)
        fail("cannot make the hub");
    return 0;
}

/* The data with "$R" replaced by the room's id (a new buffer). */
static uint8_t *expand(const uint8_t *data, size_t size, size_t *ret_len)
{
    size_t rl = strlen(room_id), cap = size + 1, n = 0;
    uint8_t *out;

    for (size_t i = 0; i + 1 < size; i++)
        if (data[i] == '$' && data[i + 1] == 'R')
            cap += rl;
    out = xmalloc(cap);
    for (size_t i = 0; i < size; i++) {
        if (i + 1 < size && data[i] == '$' && data[i + 1] == 'R') {
            memcpy(out + n, room_id, rl);
            n += rl;
            i++;
        } else {
            out[n++] = data[i];
        }
    }
    *ret_len = n;
    return out;
}

/* The codes the hub closes with (docs/api.md); -1: dropped, 0: still open. */
static void check_code(int code)
{
    switch (code) {
    case -1:
    case 0:
    case 1002:
    case 1007:
    case 1008:
    case 1009:
    case 1011:
        return;
    default:
        fprintf(stderr, "fuzz-ws: close code %d\n", code);
        fail("a close code docs/api.md does not name");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf;
    size_t len;
    int mode, code;

    if (size < 1 || size > 256 * 1024)
        return 0;
    mode = data[0] % 4;
    buf = expand(data + 1, size - 1, &len);
    switch (mode) {
    case 0:
        code = hub_test_frames(hub, NULL, NULL, buf, len);
        break;
    case 1:
        code = hub_test_frames(hub, token_a, NULL, buf, len);
        break;
    case 2:
        code = hub_test_frames(hub, token_a, "0", buf, len);
        break;
    default:
        code = hub_test_message(hub, token_a, buf, len);
        break;
    }
    check_code(code);
    free(buf);
    return 0;
}
