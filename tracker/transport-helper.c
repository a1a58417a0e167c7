/*
 * tk_transport_helper: each upload pass and each start's reads run in a
 * short-lived helper process (`HELPER _upload ...`, cli/cmd-upload.c), so
 * the recorder that runs for hours maps no libcurl and no TLS library.
 *
 * The helper gets the token on its stdin (never in argv, which other users
 * can read) and writes what the pass reports as JSON lines on its stdout,
 * one object with one member each, the outcome last:
 *
 *   {"online":true}  {"error":"..."}  {"progress":true}  {"auth_failed":true}
 *   {"acked":{"contract_id":..,"start":..,"delta":..,"at":..}}
 *   {"refused":{"id":..,"contract_id":..,"start":..,"tracked_s":..,"reason":..}}
 *   {"totals":{"contract_id":..,"week_start":..,"day_start":..,"week_s":..,
 *              "today_s":..,"weekly_limit_s":..}}
 *   {"outcome":"ok"|"offline"|"auth"}
 *
 * or, for a start, one line {"start":{...}} (tk_helper_write_start). A
 * helper that dies, writes a line that is not one of these, or a line over
 * TK_HELPER_MAX_LINE ends the pass as if the server were out of reach: the
 * uploader backs off and tries again, and what the helper had acknowledged
 * in the journal stays acknowledged (the PUTs are idempotent).
 *
 * The helper runs in its own process group, so a Ctrl-C at the terminal
 * reaches the recorder, which then asks for a last pass, and not a pass
 * under way. Cancelling kills the helper with SIGTERM.
 */
#include "tracker/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/str.h"
#include "lib/xalloc.h"

extern char **environ;

/* ---- the wire ---- */

static void write_line(FILE *f, json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT);

    if (text) {
        fputs(text, f);
        fputc('\n', f);
        fflush(f);
    }
    free(text);
    json_decref(v);
}

static void w_online(void *ud, bool online)
{
    write_line(ud, json_pack("{s:b}", "online", online));
}

static void w_error(void *ud, const char *msg)
{
    write_line(ud, json_pack("{s:s}", "error", msg));
}

static void w_acked(void *ud, const struct tk_acked *a)
{
    write_line(ud, json_pack("{s:{s:s,s:I,s:i,s:I}}", "acked", "contract_id", a->contract_id,
                             "start", (json_int_t)a->start, "delta", a->delta, "at",
                             (json_int_t)a->at));
}

static void w_refused(void *ud, const struct tk_refused *r)
{
    write_line(ud, json_pack("{s:{s:s,s:s,s:I,s:i,s:s}}", "refused", "id", r->id, "contract_id",
                             r->contract_id, "start", (json_int_t)r->start, "tracked_s",
                             r->tracked_s, "reason", r->reason));
}

static void w_totals(void *ud, const struct tk_totals *t)
{
    write_line(ud, json_pack("{s:{s:s,s:I,s:I,s:I,s:I,s:I}}", "totals", "contract_id",
                             t->contract_id, "week_start", (json_int_t)t->week_start, "day_start",
                             (json_int_t)t->day_start, "week_s", (json_int_t)t->week_s, "today_s",
                             (json_int_t)t->today_s, "weekly_limit_s",
                             (json_int_t)t->weekly_limit_s));
}

static void w_auth_failed(void *ud)
{
    write_line(ud, json_pack("{s:b}", "auth_failed", true));
}

static void w_progress(void *ud)
{
    write_line(ud, json_pack("{s:b}", "progress", true));
}

static bool w_cancelled(void *ud)
{
    return false; /* the helper is killed instead */
}

void tk_helper_sink_init(struct tk_pass_sink *sink, FILE *f)
{
    *sink = (struct tk_pass_sink){.online = w_online,
                                  .error = w_error,
                                  .acked = w_acked,
                                  .refused = w_refused,
                                  .totals = w_totals,
                                  .auth_failed = w_auth_failed,
                                  .progress = w_progress,
                                  .cancelled = w_cancelled,
                                  .ud = f};
}

static const char *const outcome_names[] = {
    [TK_PASS_OK] = "ok", [TK_PASS_OFFLINE] = "offline", [TK_PASS_AUTH] = "auth"};

void tk_helper_write_outcome(FILE *f, enum tk_pass_outcome o)
{
    write_line(f, json_pack("{s:s}", "outcome", outcome_names[o]));
}

void tk_helper_write_start(FILE *f, const struct tk_start_info *info)
{
    write_line(f, json_pack("{s:{s:b,s:i,s:s,s:i,s:I,s:s,s:O?,s:s}}", "start", "fetched",
                            info->fetched, "segment_s", info->segment_s, "neterr", info->neterr,
                            "contract_r", info->contract_r, "contract_status",
                            (json_int_t)info->contract_status, "contract_message",
                            info->contract_message, "contract", info->contract, "tz", info->tz));
}

/* Copies a string member into a fixed buffer; false when it is missing or not a string. */
static bool get_str(json_t *o, const char *key, char *out, size_t len)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return false;
    st_strlcpy(out, json_string_value(v), len);
    return true;
}

static bool get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return false;
    *ret = json_integer_value(v);
    return true;
}

#define ANY_TIME_MIN (-((int64_t)1 << 40))
#define ANY_TIME_MAX ((int64_t)1 << 40)

int tk_helper_read_start(const char *line, struct tk_start_info *info)
{
    json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    json_t *s = json_object_get(root, "start");
    json_t *contract = json_object_get(s, "contract");
    int64_t seg = 0, r = 0, status = 0;
    int ret = -EINVAL;

    if (!json_is_object(s) || !json_is_boolean(json_object_get(s, "fetched")) ||
        !get_int(s, "segment_s", 0, INT32_MAX, &seg) ||
        !get_int(s, "contract_r", -4095, 0, &r) || !get_int(s, "contract_status", 0, 999, &status) ||
        !get_str(s, "neterr", info->neterr, sizeof(info->neterr)) ||
        !get_str(s, "contract_message", info->contract_message, sizeof(info->contract_message)) ||
        !get_str(s, "tz", info->tz, sizeof(info->tz)) ||
        (contract && !json_is_object(contract) && !json_is_null(contract)))
        goto out;
    info->fetched = json_is_true(json_object_get(s, "fetched"));
    info->segment_s = (int)seg;
    info->contract_r = (int)r;
    info->contract_status = (long)status;
    info->contract = json_is_object(contract) ? json_incref(contract) : NULL;
    ret = 0;
out:
    json_decref(root);
    return ret;
}

int tk_helper_apply_line(const char *line, const struct tk_pass_sink *sink,
                         enum tk_pass_outcome *ret_o)
{
    json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
    const char *key;
    json_t *v;
    int ret = -EINVAL;

    if (!json_is_object(root) || json_object_size(root) != 1)
        goto out;
    json_object_foreach(root, key, v)
    {
        if (strcmp(key, "online") == 0 && json_is_boolean(v)) {
            sink->online(sink->ud, json_is_true(v));
            ret = 0;
        } else if (strcmp(key, "error") == 0 && json_is_string(v)) {
            char msg[256];
            st_strlcpy(msg, json_string_value(v), sizeof(msg));
            sink->error(sink->ud, msg);
            ret = 0;
        } else if (strcmp(key, "progress") == 0 && json_is_true(v)) {
            sink->progress(sink->ud);
            ret = 0;
        } else if (strcmp(key, "auth_failed") == 0 && json_is_true(v)) {
            sink->auth_failed(sink->ud);
            ret = 0;
        } else if (strcmp(key, "acked") == 0) {
            struct tk_acked a = {0};
            int64_t delta;
            if (get_str(v, "contract_id", a.contract_id, sizeof(a.contract_id)) &&
                get_int(v, "start", ANY_TIME_MIN, ANY_TIME_MAX, &a.start) &&
                get_int(v, "delta", INT32_MIN, INT32_MAX, &delta) &&
                get_int(v, "at", ANY_TIME_MIN, ANY_TIME_MAX, &a.at)) {
                a.delta = (int)delta;
                sink->acked(sink->ud, &a);
                ret = 0;
            }
        } else if (strcmp(key, "refused") == 0) {
            struct tk_refused r = {0};
            int64_t tracked;
            if (get_str(v, "id", r.id, sizeof(r.id)) &&
                get_str(v, "contract_id", r.contract_id, sizeof(r.contract_id)) &&
                get_int(v, "start", ANY_TIME_MIN, ANY_TIME_MAX, &r.start) &&
                get_int(v, "tracked_s", 0, INT32_MAX, &tracked) &&
                get_str(v, "reason", r.reason, sizeof(r.reason))) {
                r.tracked_s = (int)tracked;
                sink->refused(sink->ud, &r);
                ret = 0;
            }
        } else if (strcmp(key, "totals") == 0) {
            struct tk_totals t = {0};
            if (get_str(v, "contract_id", t.contract_id, sizeof(t.contract_id)) &&
                get_int(v, "week_start", ANY_TIME_MIN, ANY_TIME_MAX, &t.week_start) &&
                get_int(v, "day_start", ANY_TIME_MIN, ANY_TIME_MAX, &t.day_start) &&
                get_int(v, "week_s", 0, ANY_TIME_MAX, &t.week_s) &&
                get_int(v, "today_s", 0, ANY_TIME_MAX, &t.today_s) &&
                get_int(v, "weekly_limit_s", -1, ANY_TIME_MAX, &t.weekly_limit_s)) {
                sink->totals(sink->ud, &t);
                ret = 0;
            }
        } else if (strcmp(key, "outcome") == 0 && json_is_string(v)) {
            for (size_t i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++)
                if (strcmp(json_string_value(v), outcome_names[i]) == 0) {
                    *ret_o = (enum tk_pass_outcome)i;
                    ret = 1;
                }
        }
    }
out:
    json_decref(root);
    return ret;
}

/* ---- the process ---- */

struct helper {
    char *program;
    char *server, *token, *account, *dir;
    pthread_mutex_t lock;
    pid_t pid;      /* under lock: the helper running, 0 when none */
    bool cancelled; /* under lock */
};

/*
 * Starts `program _upload ARGS...` with one end of a socket pair as its
 * stdin and stdout, sends it the token and closes our sending side.
 * Returns our end, or -errno with err filled.
 */
static int spawn(struct helper *h, char *const *argv, pid_t *ret_pid, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, deflt;
    int sv[2], r;
    pid_t pid;
    size_t len = strlen(h->token);

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot start the upload helper: %s", strerror(errno));
        return r;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, sv[1], STDOUT_FILENO);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&deflt);
    sigaddset(&deflt, SIGINT);
    sigaddset(&deflt, SIGTERM);
    sigaddset(&deflt, SIGHUP);
    sigaddset(&deflt, SIGUSR1);
    sigaddset(&deflt, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &deflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    r = posix_spawn(&pid, h->program, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (r != 0) {
        snprintf(err, errlen, "cannot run the upload helper '%s': %s", h->program, strerror(r));
        close(sv[0]);
        return -r;
    }
    /* The token, then end of input. MSG_NOSIGNAL: a helper that died early is no SIGPIPE. */
    if (send(sv[0], h->token, len, MSG_NOSIGNAL) != (ssize_t)len ||
        send(sv[0], "\n", 1, MSG_NOSIGNAL) != 1) {
        /* It will say nothing; the reader sees the end at once. */
    }
    shutdown(sv[0], SHUT_WR);
    *ret_pid = pid;
    return sv[0];
}

/* Waits for a helper that has closed its output; describes an exit that was not 0. */
static void reap(pid_t pid, char *why, size_t len)
{
    int status = 0;

    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status))
        snprintf(why, len, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(why, len, "signal %d", WTERMSIG(status));
    else
        snprintf(why, len, "status %d", status);
}

/*
 * Reads the helper's lines until it closes its end, handing each to fn
 * (which returns < 0 to give up on it). 0, or -EPROTO after a line that fn
 * refused or one over the cap (the helper is then killed).
 */
static int read_lines(struct helper *h, int fd, pid_t pid, int (*fn)(const char *line, void *arg),
                      void *arg)
{
    size_t cap = 4096, used = 0;
    char *buf = xmalloc(cap);
    int r = 0;

    for (;;) {
        char *nl;
        ssize_t n;

        if (used == cap) {
            if (cap >= TK_HELPER_MAX_LINE) {
                r = -EPROTO;
                break;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        n = read(fd, buf + used, cap - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        used += (size_t)n;
        while ((nl = memchr(buf, '\n', used)) != NULL) {
            *nl = '\0';
            if (r == 0 && fn(buf, arg) < 0)
                r = -EPROTO;
            used -= (size_t)(nl + 1 - buf);
            memmove(buf, nl + 1, used);
        }
        if (r < 0)
            break;
    }
    if (r < 0) {
        pthread_mutex_lock(&h->lock);
        kill(-pid, SIGKILL); /* its process group: whatever it started too */
        pthread_mutex_unlock(&h->lock);
    }
    free(buf);
    return r;
}

static int helper_open(const struct tk_transport_cfg *cfg, struct tk_journal *j, void **ret_ctx,
                       char *err, size_t errlen)
{
    const char *program = cfg->helper;
    struct helper *h;

    if (!program || !*program) {
        snprintf(err, errlen, "no upload helper is set");
        return -EINVAL;
    }
    h = xcalloc(1, sizeof(*h));
    h->program = xstrdup(program);
    h->server = xstrdup(cfg->server ? cfg->server : "");
    h->token = xstrdup(cfg->token ? cfg->token : "");
    h->account = xstrdup(cfg->account ? cfg->account : "");
    h->dir = xstrdup(cfg->dir ? cfg->dir : "");
    pthread_mutex_init(&h->lock, NULL);
    *ret_ctx = h;
    return 0;
}

static void helper_close(void *ctx)
{
    struct helper *h = ctx;

    if (!h)
        return;
    explicit_bzero(h->token, strlen(h->token));
    free(h->token);
    free(h->program);
    free(h->server);
    free(h->account);
    free(h->dir);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

struct pass_read {
    const struct tk_pass_sink *sink;
    enum tk_pass_outcome o;
    bool ended; /* the outcome line came */
};

static int pass_line(const char *line, void *arg)
{
    struct pass_read *pr = arg;
    int r;

    if (pr->ended)
        return -EPROTO; /* nothing after the outcome */
    r = tk_helper_apply_line(line, pr->sink, &pr->o);
    if (r == 1)
        pr->ended = true;
    return r < 0 ? r : 0;
}

static enum tk_pass_outcome helper_pass(void *ctx, const struct tk_pass_args *a,
                                        const struct tk_pass_sink *sink)
{
    struct helper *h = ctx;
    struct pass_read pr = {.sink = sink, .o = TK_PASS_OFFLINE};
    char *argv[16];
    int n = 0, fd, r;
    pid_t pid = 0;
    char err[512], why[64];
    bool cancelled;

    argv[n++] = h->program;
    argv[n++] = "_upload";
    argv[n++] = "--server";
    argv[n++] = h->server;
    argv[n++] = "--account";
    argv[n++] = h->account;
    argv[n++] = "--dir";
    argv[n++] = h->dir;
    if (a->totals && a->contract_id && a->contract_id[0]) {
        argv[n++] = "--totals";
        argv[n++] = (char *)a->contract_id;
        argv[n++] = "--tz";
        argv[n++] = (char *)(a->tz && *a->tz ? a->tz : "UTC");
    }
    argv[n] = NULL;

    pthread_mutex_lock(&h->lock);
    cancelled = h->cancelled;
    pthread_mutex_unlock(&h->lock);
    if (cancelled)
        return TK_PASS_OFFLINE;
    fd = spawn(h, argv, &pid, err, sizeof(err));
    if (fd < 0) {
        sink->online(sink->ud, false);
        sink->error(sink->ud, err);
        return TK_PASS_OFFLINE;
    }
    pthread_mutex_lock(&h->lock);
    h->pid = pid;
    if (h->cancelled)
        kill(-pid, SIGTERM); /* cancelled while it was starting */
    pthread_mutex_unlock(&h->lock);

    r = read_lines(h, fd, pid, pass_line, &pr);
    close(fd);
    pthread_mutex_lock(&h->lock);
    h->pid = 0;
    cancelled = h->cancelled;
    pthread_mutex_unlock(&h->lock);
    reap(pid, why, sizeof(why));
    if (pr.ended && r == 0)
        return pr.o;
    if (!cancelled) {
        snprintf(err, sizeof(err), "the upload helper %s (%s); retrying",
                 r < 0 ? "wrote what it should not" : "stopped before it was done", why);
        sink->error(sink->ud, err);
    }
    return TK_PASS_OFFLINE;
}

static void helper_cancel(void *ctx)
{
    struct helper *h = ctx;

    pthread_mutex_lock(&h->lock);
    h->cancelled = true;
    if (h->pid > 0)
        kill(-h->pid, SIGTERM);
    pthread_mutex_unlock(&h->lock);
}

struct start_read {
    struct tk_start_info *info;
    bool got;
};

static int start_line(const char *line, void *arg)
{
    struct start_read *sr = arg;

    if (sr->got || tk_helper_read_start(line, sr->info) < 0)
        return -EPROTO;
    sr->got = true;
    return 0;
}

static void helper_fetch_start(const struct tk_transport_cfg *cfg, bool want_segment_s,
                               struct tk_start_info *info)
{
    struct tk_transport_cfg c = *cfg;
    struct start_read sr = {.info = info};
    struct helper *h = NULL;
    char *argv[10];
    char err[512], why[64];
    int n = 0, fd, r;
    pid_t pid;

    info->fetched = true;
    info->contract_r = -EAGAIN;
    if (helper_open(&c, NULL, (void **)&h, err, sizeof(err)) < 0) {
        snprintf(info->neterr, sizeof(info->neterr), "%s", err);
        return;
    }
    argv[n++] = h->program;
    argv[n++] = "_upload";
    argv[n++] = "--server";
    argv[n++] = h->server;
    argv[n++] = "--start";
    argv[n++] = info->contract_id;
    if (want_segment_s)
        argv[n++] = "--config";
    argv[n] = NULL;
    fd = spawn(h, argv, &pid, err, sizeof(err));
    if (fd < 0) {
        snprintf(info->neterr, sizeof(info->neterr), "%s", err);
        helper_close(h);
        return;
    }
    r = read_lines(h, fd, pid, start_line, &sr);
    close(fd);
    reap(pid, why, sizeof(why));
    if (r < 0 || !sr.got) {
        json_decref(info->contract);
        info->contract = NULL;
        info->fetched = true;
        info->contract_r = -EAGAIN;
        snprintf(info->neterr, sizeof(info->neterr), "the upload helper failed (%s)", why);
    }
    helper_close(h);
}

const struct tk_transport tk_transport_helper = {
    .name = "helper",
    /*
     * A helper costs a process start (about 25 ms of CPU with libcurl and
     * OpenSSL): the totals are read again every 5 minutes while nothing
     * happens, not every minute. Every upload still updates them at once.
     */
    .totals_every_ms = 5 * 60 * 1000,
    .open = helper_open,
    .close = helper_close,
    .pass = helper_pass,
    .cancel = helper_cancel,
    .fetch_start = helper_fetch_start,
};
