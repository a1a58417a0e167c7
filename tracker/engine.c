/*
 * The engine: owns the journal (and its lock), the platform connection,
 * the recorder and the upload thread, and adds the rules that need all of
 * them: the contract's terms before the timer starts, the disk quota, the
 * weekly-limit warnings and the totals for today and this week. Every call
 * runs on the face's thread; the upload thread only wakes it through a
 * pipe. Not for: the recording rules themselves (recorder.c).
 */
#include "tracker/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/os.h"
#include "lib/tz.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "tracker/journal.h"
#include "tracker/recorder.h"
#include "tracker/transport.h"
#include "tracker/uploader.h"

struct tk_engine {
    struct tk_engine_opts o;
    char *server, *token, *account, *display, *dir, *helper;
    char *journal_account; /* "server email": the key of our rows */
    tk_event_fn cb;
    void *userdata;

    struct tk_journal *j;
    struct tk_uploader *up;
    struct st_os_waker *waker; /* rung by the upload thread */

    struct tk_platform_ctx *pctx;
    struct tk_recorder *rec;
    int segment_s;
    char device_id[37];

    char contract_id[37];
    struct tk_terms terms;
    bool have_terms;
    char tz[72];

    int quota_warned;   /* 0, 80 or 100: the last quota level reported */
    int64_t limit_week; /* the week the limit warnings below are for */
    int limit_warned;   /* 0, 90 or 100 */
    int refused_total;
    int64_t started; /* UTC seconds of the last start */
};

/* ---- events ---- */

static void emit(struct tk_engine *e, const struct tk_event *ev)
{
    if (e->cb)
        e->cb(ev, e->userdata);
}

static void emit_simple(struct tk_engine *e, enum tk_event_type type, int percent,
                        const char *message)
{
    struct tk_event ev = {.type = type, .percent = percent, .message = message};
    emit(e, &ev);
}

static int64_t now_s(struct tk_engine *e)
{
    return e->o.clock->wall_ms(e->o.clock) / 1000;
}

static void check_quota(struct tk_engine *e, bool running);
static void check_limit(struct tk_engine *e);

/* Everything the recorder reports passes here first. */
static void on_recorder_event(const struct tk_event *ev, void *userdata)
{
    struct tk_engine *e = userdata;

    emit(e, ev);
    switch (ev->type) {
    case TK_EVENT_SEGMENT:
        if (e->up)
            tk_uploader_kick(e->up);
        break;
    case TK_EVENT_BUCKET:
        check_limit(e);
        check_quota(e, true);
        break;
    case TK_EVENT_SCREENSHOT:
        check_quota(e, true);
        break;
    case TK_EVENT_STOPPED:
        tk_journal_meta_set(e->j, "tracking", "");
        if (e->up)
            tk_uploader_kick(e->up);
        break;
    default:
        break;
    }
}

/* Called on the upload thread: only wakes the main thread. */
static void on_upload_notify(void *userdata)
{
    struct tk_engine *e = userdata;

    st_os_waker_ring(e->waker);
}

/* ---- totals, limit, quota ---- */

static void totals(struct tk_engine *e, int64_t *ret_today, int64_t *ret_week, bool *ret_known)
{
    struct tk_upload_status us = {0};
    const struct st_tz *tz = st_tz_get(e->tz[0] ? e->tz : "UTC");
    const struct tk_seg *cur = e->rec ? tk_recorder_segment(e->rec) : NULL;
    int64_t now = now_s(e), week = st_week_start(now), day, today = 0, wk = 0;
    int y, m, d;

    if (!tz)
        tz = st_tz_get("UTC");
    st_tz_local_date(tz, now, &y, &m, &d);
    day = st_tz_day_start(tz, y, m, d);
    if (e->up)
        tk_uploader_status(e->up, &us);
    *ret_known = us.totals_known && us.week_start == week && us.day_start == day;
    if (*ret_known) {
        today = us.today_s;
        wk = us.week_s;
    }
    if (e->contract_id[0]) {
        const char *except = cur ? cur->s.id : NULL;
        wk += tk_journal_unsent_s(e->j, e->journal_account, e->contract_id, week, week + ST_WEEK_S,
                                  except);
        today += tk_journal_unsent_s(e->j, e->journal_account, e->contract_id, day, day + 25 * 3600,
                                     except);
        if (cur && strcmp(cur->s.contract_id, e->contract_id) == 0) {
            struct tk_seg copy = *cur;
            int64_t unsent;
            tk_seg_sync_seconds(&copy);
            unsent = st_segment_tracked(&copy.s) - cur->acked_s;
            if (unsent > 0) {
                if (cur->s.start >= week)
                    wk += unsent;
                if (cur->s.start >= day)
                    today += unsent;
            }
        }
    }
    *ret_today = today;
    *ret_week = wk;
}

static int64_t weekly_limit(struct tk_engine *e)
{
    struct tk_upload_status us = {0};

    if (e->up) {
        tk_uploader_status(e->up, &us);
        if (us.totals_known)
            return us.weekly_limit_s;
    }
    return e->have_terms ? e->terms.weekly_limit_s : -1;
}

static void check_limit(struct tk_engine *e)
{
    int64_t limit = weekly_limit(e), today, week, wstart = st_week_start(now_s(e));
    bool known;
    char msg[200], used[32], lim[32];
    int level;

    if (limit < 0 || !e->contract_id[0])
        return;
    if (wstart != e->limit_week) {
        e->limit_week = wstart;
        e->limit_warned = 0;
    }
    totals(e, &today, &week, &known);
    level = limit == 0 || week >= limit ? 100 : week * 10 >= limit * 9 ? 90 : 0;
    if (level <= e->limit_warned)
        return;
    e->limit_warned = level;
    snprintf(used, sizeof(used), "%lld:%02lld", (long long)(week / 3600),
             (long long)(week % 3600 / 60));
    snprintf(lim, sizeof(lim), "%lld:%02lld", (long long)(limit / 3600),
             (long long)(limit % 3600 / 60));
    if (level == 100)
        snprintf(msg, sizeof(msg),
                 "the weekly limit of this contract is reached (%s of %s): time over it is "
                 "kept but not billed",
                 used, lim);
    else
        snprintf(msg, sizeof(msg), "90%% of this contract's weekly limit is used (%s of %s)", used,
                 lim);
    emit_simple(e, TK_EVENT_LIMIT, level, msg);
}

static void check_quota(struct tk_engine *e, bool running)
{
    struct tk_journal_stats st;
    int level;
    char msg[300];

    if (tk_journal_stats(e->j, NULL, &st) < 0)
        return;
    level = st.disk_bytes >= e->o.quota_bytes            ? 100
            : st.disk_bytes * 10 >= e->o.quota_bytes * 8 ? 80
                                                         : 0;
    if (level < e->quota_warned) {
        e->quota_warned = level; /* uploads made room: warn again next time */
        return;
    }
    if (level == e->quota_warned)
        return;
    e->quota_warned = level;
    if (level == 80) {
        snprintf(msg, sizeof(msg),
                 "the local journal uses %lld KiB, 80%% of its %lld KiB quota: it empties as "
                 "uploads reach the server",
                 (long long)(st.disk_bytes / 1024), (long long)(e->o.quota_bytes / 1024));
        emit_simple(e, TK_EVENT_QUOTA, 80, msg);
    } else if (level == 100) {
        snprintf(msg, sizeof(msg),
                 "the local journal is full (%lld KiB of its %lld KiB quota)%s; nothing recorded "
                 "is lost: it uploads when the server can be reached",
                 (long long)(st.disk_bytes / 1024), (long long)(e->o.quota_bytes / 1024),
                 running ? ": tracking stopped" : "");
        emit_simple(e, TK_EVENT_QUOTA, 100, msg);
        if (running && e->rec && tk_recorder_running(e->rec))
            tk_recorder_stop(e->rec, TK_STOP_QUOTA, "the local journal reached its disk quota");
    }
}

/* ---- terms ---- */

static char *cache_key(struct tk_engine *e, const char *what, const char *id)
{
    return xasprintf("%s:%s:%s", what, e->journal_account, id ? id : "");
}

static void terms_from_json(json_t *c, struct tk_terms *t)
{
    json_t *tags = json_object_get(c, "tags");
    json_t *limit = json_object_get(c, "weekly_limit_s");

    memset(t, 0, sizeof(*t));
    t->memo_required = st_json_bool(c, "memo_required", true);
    t->tag_required = st_json_bool(c, "tag_required", false);
    t->screenshots_enabled = st_json_bool(c, "screenshots_enabled", true);
    t->weekly_limit_s = json_is_integer(limit) ? json_integer_value(limit) : -1;
    snprintf(t->state, sizeof(t->state), "%s", st_json_str(c, "state", ""));
    for (size_t i = 0; i < json_array_size(tags) && t->ntags < ST_SEG_TAGS_MAX; i++) {
        const char *s = json_string_value(json_array_get(tags, i));
        if (s)
            snprintf(t->tags[t->ntags++], sizeof(t->tags[0]), "%s", s);
    }
}

struct tk_start_info *tk_engine_fetch_start(struct tk_engine *e, const char *contract_id)
{
    struct tk_start_info *info = xcalloc(1, sizeof(*info));
    struct tk_transport_cfg cfg = {.server = e->server,
                                   .token = e->token,
                                   .account = e->journal_account,
                                   .dir = e->dir,
                                   .helper = e->helper};

    snprintf(info->contract_id, sizeof(info->contract_id), "%s", contract_id);
    info->contract_r = -EAGAIN;
    /* Only what tk_engine_new() set and nothing changes is read here: see engine.h. */
    if (e->o.offline)
        return info;
    e->o.transport->fetch_start(&cfg, !e->o.segment_s, info);
    return info;
}

void tk_start_info_free(struct tk_start_info *info)
{
    if (!info)
        return;
    json_decref(info->contract);
    free(info);
}

/*
 * Takes the segment length, the contract's terms and the account's zone
 * from info, caching each in the journal; falls back to the cache for what
 * the server did not answer.
 */
static int load_terms(struct tk_engine *e, const struct tk_start_info *info, char *err,
                      size_t errlen)
{
    const char *contract_id = info->contract_id;
    const char *neterr = info->neterr;
    char *key, *cached;
    json_t *c = NULL;
    int r = 0;

    if (!info->fetched) {
        if (!e->have_terms || strcmp(e->contract_id, contract_id) != 0) {
            snprintf(err, errlen, "no terms for contract '%s'", contract_id);
            return -ENOENT;
        }
        if (!e->segment_s)
            e->segment_s = e->o.segment_s ? e->o.segment_s : 600;
        return 0;
    }

    /* The segment length. */
    if (e->o.segment_s) {
        e->segment_s = e->o.segment_s;
    } else if (info->segment_s) {
        char v[32];
        e->segment_s = info->segment_s;
        key = cache_key(e, "segment_s", NULL);
        snprintf(v, sizeof(v), "%d", e->segment_s);
        tk_journal_meta_set(e->j, key, v);
        free(key);
    } else {
        key = cache_key(e, "segment_s", NULL);
        cached = tk_journal_meta_get(e->j, key);
        free(key);
        e->segment_s = cached ? atoi(cached) : 0;
        free(cached);
    }
    if (!e->segment_s) {
        snprintf(err, errlen,
                 "%s, and no segment length is saved from an earlier run: connect once first",
                 neterr[0] ? neterr : "cannot read the server's settings");
        return -EHOSTUNREACH;
    }
    if (!st_segment_len_valid(e->segment_s)) {
        snprintf(err, errlen, "the server's segment length of %d s is not valid", e->segment_s);
        return -EINVAL;
    }

    /* The contract. */
    key = cache_key(e, "contract", contract_id);
    if (info->contract) {
        char *text = json_dumps(info->contract, JSON_COMPACT);
        c = json_incref(info->contract);
        tk_journal_meta_set(e->j, key, text);
        free(text);
    } else if (info->contract_r == 0 && info->contract_status == 401) {
        snprintf(err, errlen, "not signed in: %s: run 'stint login'", info->contract_message);
        r = -EACCES;
    } else if (info->contract_r == 0 &&
               (info->contract_status == 404 || info->contract_status == 403)) {
        snprintf(err, errlen, "no contract '%s' of yours on this server", contract_id);
        r = -ENOENT;
    } else {
        cached = tk_journal_meta_get(e->j, key);
        c = cached ? json_loads(cached, 0, NULL) : NULL;
        free(cached);
        if (!c) {
            snprintf(err, errlen,
                     "%s, and this contract's terms are not saved from an earlier run: "
                     "connect once first",
                     info->contract_r == 0 ? info->contract_message
                     : neterr[0]           ? neterr
                                           : "the server cannot be reached");
            r = -EHOSTUNREACH;
        }
    }
    free(key);
    if (r < 0)
        goto out;
    terms_from_json(c, &e->terms);
    e->have_terms = true;
    snprintf(e->contract_id, sizeof(e->contract_id), "%s", contract_id);

    /* The account's zone, for "today". */
    key = cache_key(e, "tz", NULL);
    if (info->tz[0]) {
        snprintf(e->tz, sizeof(e->tz), "%s", info->tz);
        tk_journal_meta_set(e->j, key, e->tz);
    } else {
        cached = tk_journal_meta_get(e->j, key);
        snprintf(e->tz, sizeof(e->tz), "%s", cached ? cached : "UTC");
        free(cached);
    }
    free(key);
out:
    json_decref(c);
    return r;
}

/* Checks a memo against the terms; -EINVAL with the rule in err. */
static int check_memo(struct tk_engine *e, const char *memo, char *err, size_t errlen)
{
    if (memo && st_utf8_length(memo) > ST_SEG_MEMO_MAX) {
        snprintf(err, errlen, "the memo is longer than %d characters", ST_SEG_MEMO_MAX);
        return -EINVAL;
    }
    if (e->terms.memo_required && (!memo || !memo[0])) {
        snprintf(err, errlen, "this contract requires a memo: say what you are working on");
        return -EINVAL;
    }
    return 0;
}

/* Checks tags against the terms: well-formed, the contract's own, one when required. */
static int check_tags(struct tk_engine *e, json_t *tags, char *err, size_t errlen)
{
    char msg[256];
    size_t len;

    if (json_array_size(tags) > 0 && st_segment_check_tags(tags, msg, sizeof(msg)) < 0) {
        snprintf(err, errlen, "%s", msg);
        return -EINVAL;
    }
    if (e->terms.tag_required && json_array_size(tags) == 0) {
        len = (size_t)snprintf(err, errlen, "this contract requires a tag");
        for (int i = 0; i < e->terms.ntags && len < errlen; i++)
            len += (size_t)snprintf(err + len, errlen - len, "%s%s",
                                    i ? ", " : ", one of: ", e->terms.tags[i]);
        return -EINVAL;
    }
    for (size_t i = 0; i < json_array_size(tags); i++) {
        const char *t = json_string_value(json_array_get(tags, i));
        bool known = false;
        for (int k = 0; k < e->terms.ntags; k++)
            known = known || strcmp(e->terms.tags[k], t) == 0;
        if (!known) {
            snprintf(err, errlen, "'%s' is not one of this contract's tags", t);
            return -EINVAL;
        }
    }
    return 0;
}

static json_t *tags_json(const char *const *tags)
{
    json_t *a = json_array();

    for (size_t i = 0; tags && tags[i]; i++)
        json_array_append_new(a, json_string(tags[i]));
    return a;
}

/* ---- the public side ---- */

int tk_engine_new(const struct tk_engine_opts *opts, tk_event_fn cb, void *userdata,
                  struct tk_engine **ret_e, char *err, size_t errlen)
{
    struct tk_engine *e = xcalloc(1, sizeof(*e));
    int r;

    e->o = *opts;
    e->server = xstrdup(opts->server ? opts->server : "");
    e->token = xstrdup(opts->token ? opts->token : "");
    e->account = xstrdup(opts->account ? opts->account : "");
    e->display = opts->display ? xstrdup(opts->display) : NULL;
    e->helper = opts->helper ? xstrdup(opts->helper) : NULL;
    e->journal_account = tk_engine_account_key(e->server, e->account);
    e->o.server = e->server;
    e->o.token = e->token;
    e->o.account = e->account;
    e->o.display = e->display;
    e->o.helper = e->helper;
    if (!e->o.offline && !e->o.transport) {
        snprintf(err, errlen, "no way to reach the server was given (tk_engine_opts.transport)");
        r = -EINVAL;
        goto fail;
    }
    if (!e->o.platform)
        e->o.platform = &tk_platform_native;
    if (!e->o.clock)
        e->o.clock = &tk_clock_real;
    if (e->o.quota_bytes <= 0)
        e->o.quota_bytes = TK_QUOTA_DEFAULT_BYTES;
    e->cb = cb;
    e->userdata = userdata;

    e->dir = opts->data_dir ? xstrdup(opts->data_dir) : tk_journal_default_dir();
    if (!e->dir) {
        snprintf(err, errlen, "no home directory: set XDG_DATA_HOME");
        r = -ENOENT;
        goto fail;
    }
    e->o.data_dir = e->dir;
    if ((r = tk_journal_open(e->dir, TK_JOURNAL_LOCKED, &e->j, err, errlen)) < 0)
        goto fail;
    if ((r = tk_journal_recover(e->j)) < 0) {
        snprintf(err, errlen, "cannot recover the journal in '%s'", e->dir);
        goto fail;
    }
    tk_journal_meta_set(e->j, "tracking", "");
    if ((r = tk_journal_device_id(e->j, e->device_id)) < 0) {
        snprintf(err, errlen, "cannot write the journal in '%s'", e->dir);
        goto fail;
    }
    if ((r = st_os_waker_new(&e->waker)) < 0) {
        snprintf(err, errlen, "cannot set up the event loop: %s", strerror(-r));
        goto fail;
    }

    if (!e->o.offline) {
        struct tk_uploader_opts uo = {.transport = e->o.transport,
                                      .helper = e->helper,
                                      .server = e->server,
                                      .token = e->token,
                                      .account = e->journal_account,
                                      .notify = on_upload_notify,
                                      .userdata = e};
        if ((r = tk_uploader_start(e->j, &uo, &e->up, err, errlen)) < 0)
            goto fail;
    }
    *ret_e = e;
    return 0;
fail:
    tk_engine_free(e);
    return r;
}

void tk_engine_free(struct tk_engine *e)
{
    if (!e)
        return;
    if (e->rec) {
        if (tk_recorder_running(e->rec))
            tk_recorder_stop(e->rec, TK_STOP_USER, NULL);
        tk_recorder_free(e->rec);
    }
    tk_uploader_stop(e->up);
    if (e->pctx)
        e->o.platform->close(e->pctx);
    tk_journal_free(e->j);
    st_os_waker_free(e->waker);
    if (e->token) {
        explicit_bzero(e->token, strlen(e->token));
        free(e->token);
    }
    free(e->server);
    free(e->account);
    free(e->display);
    free(e->helper);
    free(e->dir);
    free(e->journal_account);
    free(e);
}

void tk_engine_set_terms(struct tk_engine *e, const char *contract_id, const struct tk_terms *t)
{
    e->terms = *t;
    e->have_terms = true;
    snprintf(e->contract_id, sizeof(e->contract_id), "%s", contract_id);
}

static int open_platform(struct tk_engine *e, char *err, size_t errlen)
{
    int r;

    if (e->pctx)
        return 0;
    r = e->o.platform->open(e->display, &e->pctx, err, errlen);
    if (r < 0)
        e->pctx = NULL;
    return r;
}

void tk_engine_describe_platform(struct tk_engine *e, char *out, size_t outlen)
{
    struct tk_platform_ctx *pctx = e->pctx;
    char err[512];

    if (!pctx && e->o.platform->open(e->display, &pctx, err, sizeof(err)) < 0) {
        snprintf(out, outlen, "none: %s", err);
        return;
    }
    tk_platform_describe(e->o.platform, pctx, out, outlen);
    if (pctx != e->pctx)
        e->o.platform->close(pctx);
}

int tk_engine_start(struct tk_engine *e, const char *contract_id, const char *memo,
                    const char *const *tags, char *err, size_t errlen)
{
    struct tk_start_info *info;
    int r;

    if (e->rec && tk_recorder_running(e->rec)) {
        snprintf(err, errlen, "the timer already runs");
        return -EALREADY;
    }
    /* A clear "no display" before any network. */
    if ((r = open_platform(e, err, errlen)) < 0)
        return r;
    info = tk_engine_fetch_start(e, contract_id);
    r = tk_engine_start_with(e, info, memo, tags, err, errlen);
    tk_start_info_free(info);
    return r;
}

int tk_engine_start_with(struct tk_engine *e, const struct tk_start_info *info, const char *memo,
                         const char *const *tags, char *err, size_t errlen)
{
    const char *contract_id = info->contract_id;
    json_t *tj = tags_json(tags);
    int r;

    if (e->rec && tk_recorder_running(e->rec)) {
        snprintf(err, errlen, "the timer already runs");
        r = -EALREADY;
        goto out;
    }
    if ((r = open_platform(e, err, errlen)) < 0)
        goto out;
    if ((r = load_terms(e, info, err, errlen)) < 0)
        goto out;
    if (e->terms.state[0] && strcmp(e->terms.state, "active") != 0) {
        snprintf(err, errlen, "the contract is %s; only an active contract takes time",
                 e->terms.state);
        r = -EPERM;
        goto out;
    }
    if ((r = check_memo(e, memo, err, errlen)) < 0 || (r = check_tags(e, tj, err, errlen)) < 0)
        goto out;
    e->quota_warned = 0;
    check_quota(e, false);
    if (e->quota_warned >= 100) {
        snprintf(err, errlen,
                 "the local journal is full (its disk quota is reached): run 'stint sync' "
                 "when the server can be reached, or raise the quota");
        r = -ENOSPC;
        goto out;
    }
    /* A new recorder for every start: the segment length may have changed meanwhile. */
    tk_recorder_free(e->rec);
    e->rec = NULL;
    {
        struct tk_recorder_opts ro = {.clock = e->o.clock,
                                      .platform = e->o.platform,
                                      .pctx = e->pctx,
                                      .journal = e->j,
                                      .account = e->journal_account,
                                      .device_id = e->device_id,
                                      .segment_s = e->segment_s,
                                      .idle_threshold_s = e->o.idle_threshold_s,
                                      .monitor = e->o.monitor,
                                      .encode = e->o.encode};
        e->rec = tk_recorder_new(&ro, on_recorder_event, e);
    }
    if ((r = tk_recorder_start(e->rec, contract_id, memo, tj, e->terms.screenshots_enabled)) < 0) {
        snprintf(err, errlen, "cannot start the timer: %s",
                 r == -EPIPE ? "the display connection was lost" : "the journal cannot be written");
        goto out;
    }
    /*
     * The display's fd is not watched: counts need only a bucket's
     * resolution, and the recorder ticks at every bucket's end and at least
     * once a second (tk_engine_timeout_ms), draining input each time.
     * Waking for each event would cost a tracker at 10 events a second
     * three times the CPU (bench/footprint.sh).
     */
    if (e->up)
        tk_uploader_watch(e->up, contract_id, e->tz);
    {
        json_t *t = json_pack("{s:s,s:s,s:O,s:I,s:i,s:i}", "contract_id", contract_id, "memo",
                              memo ? memo : "", "tags", tj, "since", (json_int_t)now_s(e), "pid",
                              (int)getpid(), "segment_s", e->segment_s);
        char *text = json_dumps(t, JSON_COMPACT);
        tk_journal_meta_set(e->j, "tracking", text);
        free(text);
        json_decref(t);
    }
    e->started = now_s(e);
    check_limit(e);
    r = 0;
out:
    json_decref(tj);
    return r;
}

int tk_engine_stop(struct tk_engine *e)
{
    if (!e->rec || !tk_recorder_running(e->rec))
        return -EALREADY;
    return tk_recorder_stop(e->rec, TK_STOP_USER, NULL);
}

int tk_engine_set_memo(struct tk_engine *e, const char *memo, char *err, size_t errlen)
{
    int r = check_memo(e, memo, err, errlen);

    if (r == 0 && e->rec)
        r = tk_recorder_set_memo(e->rec, memo);
    return r;
}

int tk_engine_set_tags(struct tk_engine *e, const char *const *tags, char *err, size_t errlen)
{
    json_t *tj = tags_json(tags);
    int r = check_tags(e, tj, err, errlen);

    if (r == 0 && e->rec)
        r = tk_recorder_set_tags(e->rec, tj);
    json_decref(tj);
    return r;
}

int tk_engine_answer_idle(struct tk_engine *e, enum tk_idle_answer answer)
{
    return e->rec ? tk_recorder_answer_idle(e->rec, answer) : -ENOENT;
}

int tk_engine_fd(struct tk_engine *e)
{
    return e->waker ? st_os_waker_fd(e->waker) : -1;
}

int tk_engine_timeout_ms(struct tk_engine *e)
{
    int t = e->rec ? tk_recorder_timeout_ms(e->rec) : -1;

    return t < 0 || t > 1000 ? 1000 : t;
}

int tk_engine_tick(struct tk_engine *e)
{
    bool woke;
    int r = 0;

    /* The waker says the uploader has news; the platform's fd is emptied by its drain. */
    woke = st_os_waker_drain(e->waker);
    if (e->rec && tk_recorder_running(e->rec))
        r = tk_recorder_tick(e->rec);
    if (e->up) {
        struct tk_refused refused[8];
        int n;
        while ((n = tk_uploader_take_refused(e->up, refused, 8)) > 0) {
            for (int i = 0; i < n; i++) {
                char msg[400];
                struct tk_event ev = {.type = TK_EVENT_REFUSED,
                                      .segment_id = refused[i].id,
                                      .segment_start = refused[i].start,
                                      .message = msg};
                snprintf(msg, sizeof(msg), "the server refused a segment for good: %s",
                         refused[i].reason);
                e->refused_total++;
                emit(e, &ev);
            }
        }
    }
    if (woke) {
        emit_simple(e, TK_EVENT_UPLOAD, 0, NULL);
        check_quota(e, e->rec && tk_recorder_running(e->rec));
        check_limit(e);
    }
    return r;
}

void tk_engine_status(struct tk_engine *e, struct tk_status *ret)
{
    struct tk_status s = {0};
    struct tk_upload_status us = {0};
    struct tk_journal_stats js = {0};
    const struct tk_seg *cur = e->rec ? tk_recorder_segment(e->rec) : NULL;

    s.running = e->rec && tk_recorder_running(e->rec);
    snprintf(s.contract_id, sizeof(s.contract_id), "%s", e->contract_id);
    s.segment_s = e->segment_s;
    snprintf(s.tz, sizeof(s.tz), "%s", e->tz[0] ? e->tz : "UTC");
    s.run_started = s.running ? e->started : 0;
    if (cur) {
        struct tk_seg copy = *cur;
        tk_seg_sync_seconds(&copy);
        s.segment_start = cur->s.start;
        memcpy(s.buckets, copy.s.b, sizeof(s.buckets));
        s.activity = st_segment_activity(&copy.s);
        s.measure = copy.s.measure;
    }
    s.idle_prompt = e->rec && tk_recorder_idle_prompt(e->rec, &s.idle_since);
    totals(e, &s.today_s, &s.week_s, &s.totals_known);
    s.weekly_limit_s = weekly_limit(e);
    if (tk_journal_stats(e->j, e->journal_account, &js) == 0) {
        s.queued = js.queued;
        s.queued_shots = js.shots_queued;
        s.refused = js.refused;
    }
    {
        struct tk_journal_stats all;
        if (tk_journal_stats(e->j, NULL, &all) == 0)
            s.disk_bytes = all.disk_bytes;
    }
    s.quota_bytes = e->o.quota_bytes;
    if (e->up) {
        tk_uploader_status(e->up, &us);
        s.online = us.online;
        s.uploading = us.busy;
        s.last_upload = us.last_upload;
        snprintf(s.last_error, sizeof(s.last_error), "%s", us.last_error);
    }
    *ret = s;
}

void tk_engine_kick(struct tk_engine *e)
{
    if (e->up)
        tk_uploader_kick(e->up);
}

const char *tk_engine_data_dir(struct tk_engine *e)
{
    return e->dir;
}

char *tk_engine_account_key(const char *server, const char *email)
{
    return xasprintf("%s %s", server ? server : "", email ? email : "");
}
