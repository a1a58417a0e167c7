/*
 * libFuzzer target: one request, in process, from the route table to the
 * handler's reply, with no socket and no libmicrohttpd. A real store and
 * blob store live in a directory under $TMPDIR (removed at exit) holding a
 * client A, a freelancer F, a stranger freelancer X, an active contract
 * between A and F, and a segment with a screenshot.
 *
 * Input: a first line "METHOD PATH [WHO]", the rest is the body. WHO is the
 * caller: A, F (the default), X, Z (an admin), or - for no one. The server
 * runs with the test clock, so an admin may move time (and with it the
 * billing cycle). In the path and the body
 * "$C" becomes the contract's id, "$S" the segment's and "$T" the start of
 * the current slot (RFC 3339), so the fuzzer reaches past the lookups and
 * the time rules. A query ("?...") is dropped: http_query() sees
 * no connection and answers NULL.
 *
 * One known slow path is kept out: moving the test clock far ahead makes
 * the scheduler run every weekly transition in between inside the request
 * (years of them); such inputs are skipped (see too_far_ahead).
 *
 * What counts as a bug besides what the sanitizers catch: a 500 (bad input
 * is never a 500), a status outside 2xx-5xx, an error reply that is not
 * {"error":{"code","message"}}. The request layer (sizes, tokens) is not
 * covered here: tests/integration/test_badinput.py drives it over sockets.
 */
#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <turbojpeg.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/blob.h"
#include "server/http.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

#define MAX_LINE 4096
#define SEG_S 60
/* Writes (end, delete...) wear the fixture out: a new contract and segment now and then. */
#define REFRESH_EVERY 2000

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct server srv;
static char tmpdir[512];
static struct user user_a, user_f, user_x, user_z;
static char contract_id[ST_UUID_LEN + 1], segment_id[ST_UUID_LEN + 1];
static unsigned long runs;

static void fail(const char *what)
{
    fprintf(stderr, "fuzz-request: %s\n", what);
    abort();
}

/* Frees what a handler left in resp (http.c's own release is private to it). */
static void resp_free(struct http_resp *resp)
{
    json_decref(resp->json);
    free(resp->data);
    if (resp->fd >= 0)
        close(resp->fd);
    for (int i = 0; i < resp->nheaders; i++)
        free(resp->header_values[i]);
}

#define CLOCK_AHEAD_MAX_S (400 * 86400)

/* A test clock move more than CLOCK_AHEAD_MAX_S past the real time (see the top). */
static bool too_far_ahead(const struct route *route, const char *body, size_t len)
{
    json_t *obj;
    int64_t t;
    bool far = false;

    if (route->fn != api_admin_clock)
        return false;
    obj = json_loadb(body, len, 0, NULL);
    if (json_is_string(json_object_get(obj, "now")) &&
        st_utc_parse(json_string_value(json_object_get(obj, "now")), &t) == 0)
        far = t > (int64_t)time(NULL) + CLOCK_AHEAD_MAX_S;
    json_decref(obj);
    return far;
}

/*
 * Runs one request the way http.c would after reading it: route lookup,
 * body cap, token. Returns the status (0 when the request layer would have
 * refused it before any handler: 4xx from routing, a body over the cap, no
 * caller on a route that needs one); the reply's JSON in ret_json if asked.
 */
static int call(const char *method, const char *path, const void *body, size_t len,
                const struct user *as, json_t **ret_json)
{
    char *params[HTTP_MAX_PARAMS];
    int n = 0, status = 0;
    const struct route *route = http_route_find(method, path, params, &n, &status);
    struct http_req req = {0};
    struct http_resp resp = {.status = 500, .fd = -1};
    char *copy;

    if (!route)
        return 0;
    if (len > (route->max_body ? route->max_body : SERVER_MAX_JSON) ||
        ((route->flags & ROUTE_AUTH) && !as) || too_far_ahead(route, body, len)) {
        for (int i = 0; i < n; i++)
            free(params[i]);
        return 0;
    }
    copy = xmalloc(len + 1);
    if (len)
        memcpy(copy, body, len);
    copy[len] = '\0';
    req.srv = &srv;
    req.method = method;
    req.path = path;
    for (int i = 0; i < n; i++)
        req.params[i] = params[i];
    req.nparams = n;
    req.body = copy;
    req.body_len = len;
    req.content_type = (route->flags & ROUTE_RAW_BODY) ? "image/jpeg" : "application/json";
    if (as && (route->flags & ROUTE_AUTH)) {
        req.authenticated = true;
        req.user = *as;
        memset(req.token_hash, 'a', 64);
    }
    req.conn = NULL;

    route->fn(&req, &resp);

    if (resp.status < 200 || resp.status > 599)
        fail("a reply status outside 200-599");
    if (resp.status == 500) {
        fprintf(stderr, "%s %s -> 500\n", method, path);
        fail("bad input must never be a 500");
    }
    if (resp.status >= 400) {
        json_t *e = json_object_get(resp.json, "error");
        if (!json_is_string(json_object_get(e, "code")) ||
            !json_is_string(json_object_get(e, "message")))
            fail("an error reply that is not {\"error\":{\"code\",\"message\"}}");
    }
    if (ret_json)
        *ret_json = json_incref(resp.json);
    status = resp.status;
    resp_free(&resp);
    free(copy);
    for (int i = 0; i < n; i++)
        free(params[i]);
    return status;
}

static void must(int got, int want, const char *what)
{
    if (got != want) {
        fprintf(stderr, "fuzz-request: setup: %s answered %d, not %d\n", what, got, want);
        abort();
    }
}

struct load_user {
    const char *id;
    struct user *u;
};

static int load_user(struct store_tx *tx, void *arg)
{
    struct load_user *lu = arg;
    return users_get(tx, lu->id, lu->u);
}

static void signup(const char *role, const char *email, struct user *ret)
{
    char body[512];
    json_t *out = NULL;
    struct load_user lu = {.u = ret};

    snprintf(body, sizeof(body),
             "{\"email\":\"%s\",\"password\":\"fuzzing the server\",\"name\":\"%s\","
             "\"role\":\"%s\"}",
             email, role, role);
    must(call("POST", "/api/v1/signup", body, strlen(body), NULL, &out), 201, "signup");
    lu.id = json_string_value(json_object_get(json_object_get(out, "user"), "id"));
    if (!lu.id || store_read(srv.store, load_user, &lu) < 0)
        fail("setup: cannot load a new user");
    json_decref(out);
}

struct admin_insert {
    struct user *u;
    const char *hash;
};

static int insert_admin(struct store_tx *tx, void *arg)
{
    struct admin_insert *ai = arg;
    return users_insert(tx, ai->u, ai->hash);
}

/* Admins are made offline (stintd admin add), never through the API: the same here. */
static void make_admin(struct user *ret)
{
    char hash[AUTH_HASH_LEN];
    struct admin_insert ai = {.u = ret, .hash = hash};

    snprintf(ret->email, sizeof(ret->email), "z@fuzz.example");
    snprintf(ret->name, sizeof(ret->name), "Admin");
    snprintf(ret->role, sizeof(ret->role), "admin");
    snprintf(ret->timezone, sizeof(ret->timezone), "UTC");
    snprintf(ret->billing_state, sizeof(ret->billing_state), "none");
    ret->created_at = server_now(&srv);
    if (auth_hash_password("fuzzing the server", hash) < 0 ||
        store_write(srv.store, insert_admin, &ai) < 0)
        fail("setup: cannot make the admin");
}

static unsigned char *make_jpeg(size_t *ret_len)
{
    unsigned char px[16 * 16 * 3], *jpeg = NULL;
    unsigned long len = 0;
    tjhandle tj = tjInitCompress();

    for (size_t i = 0; i < sizeof(px); i++)
        px[i] = (unsigned char)(i % 3 == 0 ? 255 : 0);
    if (!tj || tjCompress2(tj, px, 16, 0, 16, TJPF_RGB, &jpeg, &len, TJSAMP_420, 80, 0) != 0)
        fail("setup: cannot make a JPEG");
    tjDestroy(tj);
    *ret_len = len;
    return jpeg;
}

/* A new active contract between A and F, and a segment of it with a screenshot. */
static void new_contract_and_segment(void)
{
    char body[2048], path[128], start[ST_TIME_STRLEN], shot[ST_TIME_STRLEN];
    int64_t now = server_now(&srv), slot = now - now % SEG_S;
    json_t *out = NULL;
    unsigned char *jpeg;
    size_t jpeg_len;
    int k = 0;

    snprintf(body, sizeof(body),
             "{\"freelancer_email\":\"%s\",\"title\":\"Fuzzing\",\"hourly_rate_cents\":4500,"
             "\"currency\":\"USD\",\"tags\":[\"design\",\"code\"]}",
             user_f.email);
    must(call("POST", "/api/v1/contracts", body, strlen(body), &user_a, &out), 201, "contract");
    snprintf(contract_id, sizeof(contract_id), "%s",
             json_string_value(json_object_get(json_object_get(out, "contract"), "id")));
    json_decref(out);
    snprintf(path, sizeof(path), "/api/v1/contracts/%s/accept", contract_id);
    must(call("POST", path, "", 0, &user_f, NULL), 200, "accept");

    st_uuid_new(segment_id);
    st_utc_format(slot, start);
    st_utc_format(slot + 1, shot);
    k = snprintf(body, sizeof(body),
                 "{\"id\":\"%s\",\"contract_id\":\"%s\",\"device_id\":\"fuzz\",\"start\":\"%s\","
                 "\"memo\":\"Fuzzing\",\"tags\":[\"design\"],\"flags\":[],"
                 "\"screenshot\":{\"taken_at\":\"%s\",\"status\":\"ok\"},\"minutes\":[",
                 segment_id, contract_id, start, shot);
    for (int i = 0; i < 10; i++)
        k += snprintf(body + k, sizeof(body) - (size_t)k,
                      "%s{\"tracked_s\":6,\"keys\":3,\"mouse\":4,\"synthetic\":0}", i ? "," : "");
    snprintf(body + k, sizeof(body) - (size_t)k, "]}");
    snprintf(path, sizeof(path), "/api/v1/segments/%s", segment_id);
    must(call("PUT", path, body, strlen(body), &user_f, NULL), 201, "segment");

    jpeg = make_jpeg(&jpeg_len);
    snprintf(path, sizeof(path), "/api/v1/segments/%s/screenshot", segment_id);
    must(call("PUT", path, jpeg, jpeg_len, &user_f, NULL), 201, "screenshot");
    tjFree(jpeg);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void cleanup(void)
{
    blob_free(srv.blobs);
    store_free(srv.store);
    ratelimit_free(srv.login_limiter);
    nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *blobdir;

    st_log_set_level(ST_LOG_ERROR);
    if (auth_init() < 0)
        fail("cannot initialise libsodium");
    snprintf(tmpdir, sizeof(tmpdir), "%s/stint-fuzz-XXXXXX",
             getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir))
        fail("cannot make a temporary directory");
    snprintf(srv.cfg.data_dir, sizeof(srv.cfg.data_dir), "%s", tmpdir);
    srv.cfg.segment_s = SEG_S;
    srv.cfg.signup_enabled = true;
    srv.cfg.test_clock = true;
    srv.cfg.threads = 1;
    if (store_open(tmpdir, &srv.store) < 0)
        fail("cannot open the store");
    blobdir = xasprintf("%s/blobs", tmpdir);
    if (blob_open(blobdir, &srv.blobs) < 0)
        fail("cannot open the blob store");
    free(blobdir);
    srv.login_limiter = ratelimit_new();
    atexit(cleanup);

    signup("client", "a@fuzz.example", &user_a);
    signup("freelancer", "f@fuzz.example", &user_f);
    signup("freelancer", "x@fuzz.example", &user_x);
    make_admin(&user_z);
    new_contract_and_segment();
    return 0;
}

/* Copies src into a new string with "$C", "$S" and "$T" replaced (see the top). */
static char *expand(const uint8_t *src, size_t len, size_t *ret_len)
{
    size_t cap = len + 1, n = 0;
    char *out = xmalloc(cap);

    int64_t now = server_now(&srv);
    char slot[ST_TIME_STRLEN];

    st_utc_format(now - now % SEG_S, slot);
    for (size_t i = 0; i < len; i++) {
        const char *sub = NULL;
        if (src[i] == '$' && i + 1 < len) {
            if (src[i + 1] == 'C')
                sub = contract_id;
            else if (src[i + 1] == 'S')
                sub = segment_id;
            else if (src[i + 1] == 'T')
                sub = slot;
        }
        if (n + ST_UUID_LEN + 1 > cap) {
            cap = cap * 2 + ST_UUID_LEN + 1;
            out = xrealloc(out, cap);
        }
        if (sub) {
            memcpy(out + n, sub, strlen(sub));
            n += strlen(sub);
            i++;
        } else {
            out[n++] = (char)src[i];
        }
    }
    out[n] = '\0';
    *ret_len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < MAX_LINE ? size : MAX_LINE);
    size_t line_len = nl ? (size_t)(nl - data) : size, body_len = 0, path_len;
    char *line, *body, *method, *path, *who, *save = NULL, *q;
    const struct user *as = &user_f;

    if (line_len >= MAX_LINE)
        return 0;
    if (++runs % REFRESH_EVERY == 0)
        new_contract_and_segment();
    line = expand(data, line_len, &path_len);
    body = nl ? expand(nl + 1, size - line_len - 1, &body_len) : xcalloc(1, 1);

    method = strtok_r(line, " ", &save);
    path = method ? strtok_r(NULL, " ", &save) : NULL;
    who = path ? strtok_r(NULL, " ", &save) : NULL;
    if (!method || !path)
        goto out;
    if (who)
        as = strcmp(who, "A") == 0   ? &user_a
             : strcmp(who, "X") == 0 ? &user_x
             : strcmp(who, "Z") == 0 ? &user_z
             : strcmp(who, "-") == 0 ? NULL
                                     : &user_f;
    if ((q = strchr(path, '?')))
        *q = '\0';
    call(method, path, body, body_len, as, NULL);
out:
    free(line);
    free(body);
    return 0;
}
