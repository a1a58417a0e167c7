/*
 * The upload thread. One pass sends every queued segment it can, oldest
 * first: PUT the segment (when the server lacks this version of it), PUT
 * its screenshot (when the server lacks the bytes), then mark it done if
 * the recorder did not change it meanwhile. A failure to reach the server
 * ends the pass and backs off; a refusal marks that one segment and goes
 * on. Not for: deciding what is recorded.
 */
#include "tracker/uploader.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/json.h"
#include "lib/tz.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "tracker/net.h"

#define MAX_REFUSED 32
#define MAX_SHOT_BYTES (4 * 1024 * 1024)

struct tk_uploader {
    struct tk_journal *j; /* our own connection */
    struct tk_net net;
    char *account;
    int backoff_min_ms, backoff_max_ms;
    void (*notify)(void *userdata);
    void *userdata;

    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Under lock: */
    bool quit;
    bool kicked;
    char contract_id[37];
    char tz[72];
    bool totals_dirty;
    struct tk_upload_status st;
    struct tk_refused refused[MAX_REFUSED];
    int n_refused;

    /* The thread's own: */
    int attempts;
    int64_t totals_at; /* monotonic ms of the last totals read */
};

enum outcome { UP_OK, UP_OFFLINE, UP_AUTH, UP_REFUSED };

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(struct tk_uploader *u)
{
    if (u->notify)
        u->notify(u->userdata);
}

static void set_error(struct tk_uploader *u, const char *msg)
{
    pthread_mutex_lock(&u->lock);
    st_strlcpy(u->st.last_error, msg, sizeof(u->st.last_error));
    pthread_mutex_unlock(&u->lock);
}

static void set_online(struct tk_uploader *u, bool online)
{
    pthread_mutex_lock(&u->lock);
    u->st.online = online;
    u->st.tried = true;
    if (online && !u->st.auth_failed)
        u->st.last_error[0] = '\0';
    pthread_mutex_unlock(&u->lock);
}

/* What a status that is not 2xx means for a segment: try later, or never. */
static enum outcome classify(long status)
{
    if (status == 401)
        return UP_AUTH;
    if (status == 408 || status == 429 || status >= 500)
        return UP_OFFLINE;
    return UP_REFUSED;
}

static void add_refused(struct tk_uploader *u, const struct tk_seg *seg, const char *why)
{
    pthread_mutex_lock(&u->lock);
    if (u->n_refused == MAX_REFUSED) {
        memmove(&u->refused[0], &u->refused[1], sizeof(u->refused[0]) * (MAX_REFUSED - 1));
        u->n_refused--;
    }
    struct tk_refused *r = &u->refused[u->n_refused++];
    memset(r, 0, sizeof(*r));
    snprintf(r->id, sizeof(r->id), "%s", seg->s.id);
    snprintf(r->contract_id, sizeof(r->contract_id), "%s", seg->s.contract_id);
    r->start = seg->s.start;
    r->tracked_s = st_segment_tracked(&seg->s);
    st_strlcpy(r->reason, why, sizeof(r->reason));
    pthread_mutex_unlock(&u->lock);
}

/* Keeps the cached totals in step with what the server just took. */
static void count_acked(struct tk_uploader *u, const struct tk_seg *seg, int delta)
{
    char when[32];
    int64_t now = (int64_t)time(NULL);

    /* For `stint status`, which reads the journal, not this thread. */
    snprintf(when, sizeof(when), "%lld", (long long)now);
    tk_journal_meta_set(u->j, "last_upload", when);
    pthread_mutex_lock(&u->lock);
    u->st.last_upload = now;
    if (u->st.totals_known && strcmp(seg->s.contract_id, u->contract_id) == 0 && delta > 0) {
        if (seg->s.start >= u->st.week_start && seg->s.start < u->st.week_start + ST_WEEK_S)
            u->st.week_s += delta;
        if (seg->s.start >= u->st.day_start && seg->s.start < u->st.day_start + 25 * 3600)
            u->st.today_s += delta;
    }
    pthread_mutex_unlock(&u->lock);
}

static enum outcome put_segment(struct tk_uploader *u, struct tk_seg *seg)
{
    struct tk_net_reply reply = {0};
    json_t *body = st_segment_to_json(&seg->s);
    char *text = json_dumps(body, JSON_COMPACT);
    char *path = xasprintf("/segments/%s", seg->s.id);
    char err[512], why[400];
    enum outcome o;
    int r;

    r = tk_net_request(&u->net, "PUT", path, text, strlen(text), "application/json", 30, &reply,
                       err, sizeof(err));
    if (r < 0) {
        set_error(u, err);
        o = UP_OFFLINE;
        goto out;
    }
    set_online(u, true);
    if (reply.status >= 200 && reply.status < 300) {
        int tracked = st_segment_tracked(&seg->s);
        tk_journal_ack(u->j, seg->s.id, seg->version, tracked);
        count_acked(u, seg, tracked - seg->acked_s);
        seg->acked_s = tracked;
        o = UP_OK;
        goto out;
    }
    o = classify(reply.status);
    snprintf(why, sizeof(why), "%s%s%s", reply.code, reply.code[0] ? ": " : "", reply.message);
    if (o == UP_REFUSED) {
        tk_journal_refuse(u->j, seg->s.id, why);
        add_refused(u, seg, why);
    } else {
        set_error(u, why);
    }
out:
    tk_net_reply_release(&reply);
    free(path);
    free(text);
    json_decref(body);
    return o;
}

/* Reads a screenshot file whole; NULL when it is gone or too large. */
static void *read_shot(const char *dir, const char *rel, size_t *ret_len)
{
    char *path = xasprintf("%s/%s", dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    char *buf = NULL;
    size_t done = 0;

    free(path);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) < 0 || sb.st_size <= 0 || sb.st_size > MAX_SHOT_BYTES)
        goto out;
    buf = xmalloc((size_t)sb.st_size);
    while (done < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + done, (size_t)sb.st_size - done);
        if (n <= 0) {
            free(buf);
            buf = NULL;
            goto out;
        }
        done += (size_t)n;
    }
    *ret_len = done;
out:
    close(fd);
    return buf;
}

static enum outcome put_shot(struct tk_uploader *u, struct tk_seg *seg)
{
    struct tk_net_reply reply = {0};
    size_t len = 0;
    void *bytes = read_shot(tk_journal_dir(u->j), seg->shot_file, &len);
    char *path = xasprintf("/segments/%s/screenshot", seg->s.id);
    bool webp = strstr(seg->shot_file, ".webp") != NULL;
    char err[512], why[400];
    enum outcome o = UP_OK;
    int r;

    if (!bytes) {
        /* The file is gone (deleted by hand): nothing to send; the server says no_screenshot. */
        tk_journal_ack_shot(u->j, seg->s.id);
        goto out;
    }
    r = tk_net_request(&u->net, "PUT", path, bytes, len, webp ? "image/webp" : "image/jpeg", 120,
                       &reply, err, sizeof(err));
    if (r < 0) {
        set_error(u, err);
        o = UP_OFFLINE;
        goto out;
    }
    set_online(u, true);
    if (reply.status >= 200 && reply.status < 300) {
        tk_journal_ack_shot(u->j, seg->s.id);
        goto out;
    }
    o = classify(reply.status);
    snprintf(why, sizeof(why), "screenshot: %s%s%s", reply.code, reply.code[0] ? ": " : "",
             reply.message);
    if (o == UP_REFUSED) {
        /*
         * The segment itself is on the server; only its picture was refused
         * (screenshots turned off meanwhile, another picture already there).
         * Say so once and keep the file until it is pruned.
         */
        set_error(u, why);
        tk_journal_ack_shot(u->j, seg->s.id);
        o = UP_OK;
    } else {
        set_error(u, why);
    }
out:
    tk_net_reply_release(&reply);
    free(path);
    free(bytes);
    return o;
}

static enum outcome upload_one(struct tk_uploader *u, struct tk_seg *seg)
{
    enum outcome o;

    if (seg->acked_version != seg->version) {
        o = put_segment(u, seg);
        if (o != UP_OK)
            return o;
    }
    if (seg->s.shot_status == ST_SHOT_OK && seg->shot_file[0] && !seg->shot_acked) {
        o = put_shot(u, seg);
        if (o != UP_OK)
            return o;
    }
    tk_journal_finish(u->j, seg->s.id, seg->version);
    return UP_OK;
}

/* Sends what is queued until the queue is empty or the server is out of reach. */
static enum outcome pass(struct tk_uploader *u, int *ret_sent)
{
    char(*skip)[37] = NULL;
    size_t n_skip = 0;
    enum outcome o = UP_OK;

    *ret_sent = 0;
    for (;;) {
        struct tk_seg seg;
        int r;

        pthread_mutex_lock(&u->lock);
        bool quit = u->quit;
        pthread_mutex_unlock(&u->lock);
        if (quit)
            break;
        r = tk_journal_next_upload(u->j, u->account, skip, n_skip, &seg);
        if (r == -ENOENT)
            break;
        if (r < 0) {
            set_error(u, "cannot read the journal");
            o = UP_OFFLINE;
            break;
        }
        o = upload_one(u, &seg);
        if (o == UP_REFUSED) {
            /* Marked refused in the journal; go on with the others. */
            tk_seg_release(&seg);
            notify(u);
            o = UP_OK;
            continue;
        }
        if (o == UP_OK) {
            /* Changed meanwhile and still queued? Then the next pass sends it again. */
            skip = xrealloc(skip, (n_skip + 1) * sizeof(*skip));
            snprintf(skip[n_skip++], 37, "%s", seg.s.id);
            (*ret_sent)++;
            tk_seg_release(&seg);
            notify(u);
            continue;
        }
        tk_seg_release(&seg);
        break;
    }
    free(skip);
    return o;
}

/* Reads the contract's totals for this week (UTC) and today (the zone). */
static void read_totals(struct tk_uploader *u)
{
    char contract[37], zone_name[72], err[512];
    const struct st_tz *zone;
    struct tk_net_reply week = {0}, day = {0}, ct = {0};
    int64_t now = (int64_t)time(NULL), wstart, dstart;
    char from[11], to[11], today[11];
    int y, m, d;
    char *path = NULL;

    pthread_mutex_lock(&u->lock);
    snprintf(contract, sizeof(contract), "%s", u->contract_id);
    snprintf(zone_name, sizeof(zone_name), "%s", u->tz[0] ? u->tz : "UTC");
    u->totals_dirty = false;
    pthread_mutex_unlock(&u->lock);
    if (!contract[0])
        return;
    zone = st_tz_get(zone_name);
    if (!zone)
        zone = st_tz_get("UTC");

    wstart = st_week_start(now);
    st_civil_from_days(wstart / ST_DAY_S, &y, &m, &d);
    st_date_format(y, m, d, from);
    st_civil_from_days(wstart / ST_DAY_S + 6, &y, &m, &d);
    st_date_format(y, m, d, to);
    st_tz_local_date(zone, now, &y, &m, &d);
    st_date_format(y, m, d, today);
    dstart = st_tz_day_start(zone, y, m, d);

    path = xasprintf("/contracts/%s/diary?from=%s&to=%s&tz=UTC", contract, from, to);
    if (tk_net_request(&u->net, "GET", path, NULL, 0, NULL, 30, &week, err, sizeof(err)) < 0)
        goto offline;
    free(path);
    path = xasprintf("/contracts/%s/diary?from=%s&to=%s&tz=%s", contract, today, today, zone_name);
    if (tk_net_request(&u->net, "GET", path, NULL, 0, NULL, 30, &day, err, sizeof(err)) < 0)
        goto offline;
    free(path);
    path = xasprintf("/contracts/%s", contract);
    if (tk_net_request(&u->net, "GET", path, NULL, 0, NULL, 30, &ct, err, sizeof(err)) < 0)
        goto offline;
    set_online(u, true);
    if (week.status == 200 && day.status == 200 && ct.status == 200) {
        json_t *wt = json_object_get(week.body, "totals");
        json_t *dt = json_object_get(day.body, "totals");
        json_t *limit = json_object_get(json_object_get(ct.body, "contract"), "weekly_limit_s");
        pthread_mutex_lock(&u->lock);
        if (strcmp(contract, u->contract_id) == 0) {
            u->st.totals_known = true;
            u->st.week_start = wstart;
            u->st.day_start = dstart;
            u->st.week_s = st_json_int(wt, "tracked_s", 0) + st_json_int(wt, "manual_s", 0);
            u->st.today_s = st_json_int(dt, "tracked_s", 0) + st_json_int(dt, "manual_s", 0);
            u->st.weekly_limit_s = json_is_integer(limit) ? json_integer_value(limit) : -1;
        }
        pthread_mutex_unlock(&u->lock);
    } else if (week.status == 401 || day.status == 401) {
        pthread_mutex_lock(&u->lock);
        u->st.auth_failed = true;
        snprintf(u->st.last_error, sizeof(u->st.last_error),
                 "the server no longer accepts this sign-in: run 'stint login'");
        pthread_mutex_unlock(&u->lock);
    }
    u->totals_at = mono_ms();
    notify(u);
    goto out;
offline:
    set_online(u, false);
    set_error(u, err);
out:
    free(path);
    tk_net_reply_release(&week);
    tk_net_reply_release(&day);
    tk_net_reply_release(&ct);
}

/* Leaves the outcome of a pass in the journal for `stint status` and `stint sync`. */
static void save_state(struct tk_uploader *u, enum outcome o)
{
    char err[256];
    json_t *v;
    char *text;

    pthread_mutex_lock(&u->lock);
    snprintf(err, sizeof(err), "%s", o == UP_OK ? "" : u->st.last_error);
    pthread_mutex_unlock(&u->lock);
    v = json_pack("{s:b,s:s,s:I}", "online", o != UP_OFFLINE, "error", err, "at",
                  (json_int_t)time(NULL));
    text = json_dumps(v, JSON_COMPACT);
    tk_journal_meta_set(u->j, "upload_state", text);
    free(text);
    json_decref(v);
}

static int64_t backoff_ms(struct tk_uploader *u)
{
    int64_t d = u->backoff_min_ms;

    for (int i = 1; i < u->attempts && d < u->backoff_max_ms; i++)
        d *= 2;
    if (d > u->backoff_max_ms)
        d = u->backoff_max_ms;
    /* Jitter: anywhere in [d/2, d], so that many trackers do not retry in step. */
    return d / 2 + (int64_t)arc4random_uniform((uint32_t)(d / 2 + 1));
}

static void *run(void *arg)
{
    struct tk_uploader *u = arg;
    int64_t wait_ms = 0;

    for (;;) {
        enum outcome o;
        int sent = 0;

        pthread_mutex_lock(&u->lock);
        if (wait_ms > 0 && !u->quit && !u->kicked) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += wait_ms / 1000;
            ts.tv_nsec += (wait_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            u->st.next_try_ms = u->attempts ? wait_ms : 0;
            while (!u->quit && !u->kicked &&
                   pthread_cond_timedwait(&u->cond, &u->lock, &ts) != ETIMEDOUT)
                ;
        }
        if (u->kicked)
            u->attempts = 0;
        u->kicked = false;
        u->st.next_try_ms = 0;
        u->st.busy = true;
        if (u->quit) {
            pthread_mutex_unlock(&u->lock);
            break;
        }
        pthread_mutex_unlock(&u->lock);

        o = pass(u, &sent);
        if (o == UP_OK) {
            bool dirty;
            pthread_mutex_lock(&u->lock);
            dirty = u->totals_dirty;
            pthread_mutex_unlock(&u->lock);
            if (dirty || u->totals_at == 0 || mono_ms() - u->totals_at >= TK_TOTALS_EVERY_MS)
                read_totals(u);
            tk_journal_prune(u->j, (int64_t)time(NULL));
        }
        save_state(u, o);
        pthread_mutex_lock(&u->lock);
        u->st.busy = false;
        if (o == UP_OFFLINE) {
            u->st.online = false;
            u->st.tried = true;
            u->attempts++;
            wait_ms = backoff_ms(u);
        } else if (o == UP_AUTH) {
            u->st.auth_failed = true;
            snprintf(u->st.last_error, sizeof(u->st.last_error),
                     "the server no longer accepts this sign-in: run 'stint login'");
            u->attempts++;
            wait_ms = u->backoff_max_ms;
        } else {
            u->attempts = 0;
            u->st.auth_failed = false;
            wait_ms = TK_TOTALS_EVERY_MS;
        }
        pthread_mutex_unlock(&u->lock);
        notify(u);
    }
    return NULL;
}

int tk_uploader_start(struct tk_journal *j, const struct tk_uploader_opts *o,
                      struct tk_uploader **ret_u, char *err, size_t errlen)
{
    struct tk_uploader *u = xcalloc(1, sizeof(*u));
    pthread_condattr_t ca;
    int r;

    if ((r = tk_journal_clone(j, &u->j, err, errlen)) < 0) {
        free(u);
        return r;
    }
    if (tk_net_init(&u->net, o->server, o->token) < 0) {
        snprintf(err, errlen, "cannot start libcurl");
        tk_journal_free(u->j);
        free(u);
        return -ENOMEM;
    }
    u->account = xstrdup(o->account ? o->account : "");
    u->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : TK_BACKOFF_MIN_MS;
    u->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : TK_BACKOFF_MAX_MS;
    u->notify = o->notify;
    u->userdata = o->userdata;
    u->st.weekly_limit_s = -1;
    pthread_mutex_init(&u->lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&u->cond, &ca);
    pthread_condattr_destroy(&ca);
    r = pthread_create(&u->thread, NULL, run, u);
    if (r != 0) {
        snprintf(err, errlen, "cannot start the upload thread: %s", strerror(r));
        tk_net_release(&u->net);
        tk_journal_free(u->j);
        pthread_mutex_destroy(&u->lock);
        pthread_cond_destroy(&u->cond);
        free(u->account);
        free(u);
        return -r;
    }
    *ret_u = u;
    return 0;
}

void tk_uploader_stop(struct tk_uploader *u)
{
    if (!u)
        return;
    pthread_mutex_lock(&u->lock);
    u->quit = true;
    pthread_cond_signal(&u->cond);
    pthread_mutex_unlock(&u->lock);
    pthread_join(u->thread, NULL);
    tk_net_release(&u->net);
    tk_journal_free(u->j);
    pthread_mutex_destroy(&u->lock);
    pthread_cond_destroy(&u->cond);
    free(u->account);
    free(u);
}

void tk_uploader_kick(struct tk_uploader *u)
{
    pthread_mutex_lock(&u->lock);
    u->kicked = true;
    pthread_cond_signal(&u->cond);
    pthread_mutex_unlock(&u->lock);
}

void tk_uploader_watch(struct tk_uploader *u, const char *contract_id, const char *tz)
{
    pthread_mutex_lock(&u->lock);
    if (strcmp(u->contract_id, contract_id ? contract_id : "") != 0)
        u->st.totals_known = false;
    snprintf(u->contract_id, sizeof(u->contract_id), "%s", contract_id ? contract_id : "");
    snprintf(u->tz, sizeof(u->tz), "%s", tz ? tz : "");
    u->totals_dirty = true;
    u->kicked = true;
    pthread_cond_signal(&u->cond);
    pthread_mutex_unlock(&u->lock);
}

void tk_uploader_status(struct tk_uploader *u, struct tk_upload_status *ret)
{
    pthread_mutex_lock(&u->lock);
    *ret = u->st;
    if (u->kicked)
        ret->busy = true;
    pthread_mutex_unlock(&u->lock);
}

int tk_uploader_take_refused(struct tk_uploader *u, struct tk_refused *out, int max)
{
    int n;

    pthread_mutex_lock(&u->lock);
    n = u->n_refused < max ? u->n_refused : max;
    memcpy(out, u->refused, sizeof(*out) * (size_t)n);
    memmove(&u->refused[0], &u->refused[n], sizeof(u->refused[0]) * (size_t)(u->n_refused - n));
    u->n_refused -= n;
    pthread_mutex_unlock(&u->lock);
    return n;
}
