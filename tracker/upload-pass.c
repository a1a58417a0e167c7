/*
 * One upload pass and a start's reads, against the server, on libcurl.
 * What happens is told to a sink (tracker/transport.h): the uploader's
 * status when the pass runs on its thread, JSON lines on stdout when it
 * runs in the helper process. Not for: scheduling (uploader.c decides when
 * a pass runs and how long to back off).
 */
#include "tracker/upload-pass.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/json.h"
#include "lib/str.h"
#include "lib/tz.h"
#include "lib/utc.h"
#include "lib/week.h"
#include "lib/xalloc.h"

#define MAX_SHOT_BYTES (4 * 1024 * 1024)
#define START_TIMEOUT_S 5

enum outcome { UP_OK, UP_OFFLINE, UP_AUTH, UP_REFUSED };

/* One pass's own state: what the sink is told, plus the last complaint for upload_state. */
struct pass {
    struct tk_net *net;
    struct tk_journal *j;
    const struct tk_pass_sink *sink;
    char last_error[256];
};

static void say_error(struct pass *p, const char *msg)
{
    st_strlcpy(p->last_error, msg, sizeof(p->last_error));
    p->sink->error(p->sink->ud, msg);
}

static void say_online(struct pass *p, bool online)
{
    p->sink->online(p->sink->ud, online);
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

static void say_refused(struct pass *p, const struct tk_seg *seg, const char *why)
{
    struct tk_refused r = {0};

    snprintf(r.id, sizeof(r.id), "%s", seg->s.id);
    snprintf(r.contract_id, sizeof(r.contract_id), "%s", seg->s.contract_id);
    r.start = seg->s.start;
    r.tracked_s = st_segment_tracked(&seg->s);
    st_strlcpy(r.reason, why, sizeof(r.reason));
    p->sink->refused(p->sink->ud, &r);
}

static void say_acked(struct pass *p, const struct tk_seg *seg, int delta)
{
    struct tk_acked a = {.start = seg->s.start, .delta = delta, .at = (int64_t)time(NULL)};
    char when[32];

    /* For `stint status`, which reads the journal, not the uploader. */
    snprintf(when, sizeof(when), "%lld", (long long)a.at);
    tk_journal_meta_set(p->j, "last_upload", when);
    snprintf(a.contract_id, sizeof(a.contract_id), "%s", seg->s.contract_id);
    p->sink->acked(p->sink->ud, &a);
}

static enum outcome put_segment(struct pass *p, struct tk_seg *seg)
{
    struct tk_net_reply reply = {0};
    json_t *body = st_segment_to_json(&seg->s);
    char *text = json_dumps(body, JSON_COMPACT);
    char *path = xasprintf("/segments/%s", seg->s.id);
    char err[512], why[400];
    enum outcome o;
    int r;

    r = tk_net_request(p->net, "PUT", path, text, strlen(text), "application/json", 30, &reply,
                       err, sizeof(err));
    if (r < 0) {
        say_error(p, err);
        o = UP_OFFLINE;
        goto out;
    }
    say_online(p, true);
    if (reply.status >= 200 && reply.status < 300) {
        int tracked = st_segment_tracked(&seg->s);
        tk_journal_ack(p->j, seg->s.id, seg->version, tracked);
        say_acked(p, seg, tracked - seg->acked_s);
        seg->acked_s = tracked;
        o = UP_OK;
        goto out;
    }
    o = classify(reply.status);
    snprintf(why, sizeof(why), "%s%s%s", reply.code, reply.code[0] ? ": " : "", reply.message);
    if (o == UP_REFUSED) {
        tk_journal_refuse(p->j, seg->s.id, why);
        say_refused(p, seg, why);
    } else {
        say_error(p, why);
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

static enum outcome put_shot(struct pass *p, struct tk_seg *seg)
{
    struct tk_net_reply reply = {0};
    size_t len = 0;
    void *bytes = read_shot(tk_journal_dir(p->j), seg->shot_file, &len);
    char *path = xasprintf("/segments/%s/screenshot", seg->s.id);
    bool webp = strstr(seg->shot_file, ".webp") != NULL;
    char err[512], why[400];
    enum outcome o = UP_OK;
    int r;

    if (!bytes) {
        /* The file is gone (deleted by hand): nothing to send; the server says no_screenshot. */
        tk_journal_ack_shot(p->j, seg->s.id);
        goto out;
    }
    r = tk_net_request(p->net, "PUT", path, bytes, len, webp ? "image/webp" : "image/jpeg", 120,
                       &reply, err, sizeof(err));
    if (r < 0) {
        say_error(p, err);
        o = UP_OFFLINE;
        goto out;
    }
    say_online(p, true);
    if (reply.status >= 200 && reply.status < 300) {
        tk_journal_ack_shot(p->j, seg->s.id);
        goto out;
    }
    o = classify(reply.status);
    snprintf(why, sizeof(why), "screenshot: %s%s%s", reply.code, reply.code[0] ? ": " : "",
             reply.message);
    say_error(p, why);
    if (o == UP_REFUSED) {
        /*
         * The segment itself is on the server; only its picture was refused
         * (screenshots turned off meanwhile, another picture already there).
         * Say so once and keep the file until it is pruned.
         */
        tk_journal_ack_shot(p->j, seg->s.id);
        o = UP_OK;
    }
out:
    tk_net_reply_release(&reply);
    free(path);
    free(bytes);
    return o;
}

static enum outcome upload_one(struct pass *p, struct tk_seg *seg)
{
    enum outcome o;

    if (seg->acked_version != seg->version) {
        o = put_segment(p, seg);
        if (o != UP_OK)
            return o;
    }
    if (seg->s.shot_status == ST_SHOT_OK && seg->shot_file[0] && !seg->shot_acked) {
        o = put_shot(p, seg);
        if (o != UP_OK)
            return o;
    }
    tk_journal_finish(p->j, seg->s.id, seg->version);
    return UP_OK;
}

/* Sends what is queued until the queue is empty or the server is out of reach. */
static enum outcome send_queue(struct pass *p, const char *account)
{
    char(*skip)[37] = NULL;
    size_t n_skip = 0;
    enum outcome o = UP_OK;

    for (;;) {
        struct tk_seg seg;
        int r;

        if (p->sink->cancelled(p->sink->ud))
            break;
        r = tk_journal_next_upload(p->j, account, skip, n_skip, &seg);
        if (r == -ENOENT)
            break;
        if (r < 0) {
            say_error(p, "cannot read the journal");
            o = UP_OFFLINE;
            break;
        }
        o = upload_one(p, &seg);
        if (o == UP_REFUSED || o == UP_OK) {
            /*
             * Refused: marked in the journal; go on with the others. Sent:
             * changed meanwhile and still queued? Then the next pass sends
             * it again.
             */
            if (o == UP_OK) {
                skip = xrealloc(skip, (n_skip + 1) * sizeof(*skip));
                snprintf(skip[n_skip++], 37, "%s", seg.s.id);
            }
            o = UP_OK;
            tk_seg_release(&seg);
            p->sink->progress(p->sink->ud);
            continue;
        }
        tk_seg_release(&seg);
        break;
    }
    free(skip);
    return o;
}

/* Reads the contract's totals for this week (UTC) and today (the zone). */
static void read_totals(struct pass *p, const char *contract, const char *zone_name)
{
    const struct st_tz *zone = st_tz_get(zone_name && *zone_name ? zone_name : "UTC");
    struct tk_net_reply week = {0}, day = {0}, ct = {0};
    int64_t now = (int64_t)time(NULL), wstart, dstart;
    char from[11], to[11], today[11], err[512];
    int y, m, d;
    char *path = NULL;

    if (!zone) {
        zone = st_tz_get("UTC");
        zone_name = "UTC";
    }
    if (!zone_name || !*zone_name)
        zone_name = "UTC";
    wstart = st_week_start(now);
    st_civil_from_days(wstart / ST_DAY_S, &y, &m, &d);
    st_date_format(y, m, d, from);
    st_civil_from_days(wstart / ST_DAY_S + 6, &y, &m, &d);
    st_date_format(y, m, d, to);
    st_tz_local_date(zone, now, &y, &m, &d);
    st_date_format(y, m, d, today);
    dstart = st_tz_day_start(zone, y, m, d);

    path = xasprintf("/contracts/%s/diary?from=%s&to=%s&tz=UTC", contract, from, to);
    if (tk_net_request(p->net, "GET", path, NULL, 0, NULL, 30, &week, err, sizeof(err)) < 0)
        goto offline;
    free(path);
    path = xasprintf("/contracts/%s/diary?from=%s&to=%s&tz=%s", contract, today, today, zone_name);
    if (tk_net_request(p->net, "GET", path, NULL, 0, NULL, 30, &day, err, sizeof(err)) < 0)
        goto offline;
    free(path);
    path = xasprintf("/contracts/%s", contract);
    if (tk_net_request(p->net, "GET", path, NULL, 0, NULL, 30, &ct, err, sizeof(err)) < 0)
        goto offline;
    say_online(p, true);
    if (week.status == 200 && day.status == 200 && ct.status == 200) {
        json_t *wt = json_object_get(week.body, "totals");
        json_t *dt = json_object_get(day.body, "totals");
        json_t *limit = json_object_get(json_object_get(ct.body, "contract"), "weekly_limit_s");
        struct tk_totals t = {
            .week_start = wstart,
            .day_start = dstart,
            .week_s = st_json_int(wt, "tracked_s", 0) + st_json_int(wt, "manual_s", 0),
            .today_s = st_json_int(dt, "tracked_s", 0) + st_json_int(dt, "manual_s", 0),
            .weekly_limit_s = json_is_integer(limit) ? json_integer_value(limit) : -1,
        };
        snprintf(t.contract_id, sizeof(t.contract_id), "%s", contract);
        p->sink->totals(p->sink->ud, &t);
    } else if (week.status == 401 || day.status == 401) {
        p->sink->auth_failed(p->sink->ud);
    }
    goto out;
offline:
    say_online(p, false);
    say_error(p, err);
out:
    free(path);
    tk_net_reply_release(&week);
    tk_net_reply_release(&day);
    tk_net_reply_release(&ct);
}

/* Leaves the outcome of a pass in the journal for `stint status` and `stint sync`. */
static void save_state(struct pass *p, enum outcome o)
{
    json_t *v = json_pack("{s:b,s:s,s:I}", "online", o != UP_OFFLINE, "error",
                          o == UP_OK ? "" : p->last_error, "at", (json_int_t)time(NULL));
    char *text = json_dumps(v, JSON_COMPACT);

    tk_journal_meta_set(p->j, "upload_state", text);
    free(text);
    json_decref(v);
}

enum tk_pass_outcome tk_pass_run(struct tk_net *net, struct tk_journal *j,
                                 const struct tk_pass_args *a, const struct tk_pass_sink *sink)
{
    struct pass p = {.net = net, .j = j, .sink = sink};
    enum outcome o = send_queue(&p, a->account);

    if (o == UP_OK) {
        if (a->totals && a->contract_id && a->contract_id[0])
            read_totals(&p, a->contract_id, a->tz);
        tk_journal_prune(j, (int64_t)time(NULL));
    }
    save_state(&p, o);
    return o == UP_OFFLINE ? TK_PASS_OFFLINE : o == UP_AUTH ? TK_PASS_AUTH : TK_PASS_OK;
}

void tk_fetch_start_run(struct tk_net *net, bool want_segment_s, struct tk_start_info *info)
{
    struct tk_net_reply rep = {0};
    char meerr[256];
    char *path;
    bool online = false;
    int r;

    info->fetched = true;
    info->contract_r = -EAGAIN;
    if (want_segment_s) {
        r = tk_net_request(net, "GET", "/config", NULL, 0, NULL, START_TIMEOUT_S, &rep,
                           info->neterr, sizeof(info->neterr));
        if (r == 0 && rep.status == 200) {
            online = true;
            info->segment_s = (int)st_json_int(rep.body, "segment_s", 0);
        }
        tk_net_reply_release(&rep);
        /* No answer at all: the contract would wait as long again for nothing. */
        if (r < 0)
            return;
    }
    path = xasprintf("/contracts/%s", info->contract_id);
    info->contract_r = tk_net_request(net, "GET", path, NULL, 0, NULL, START_TIMEOUT_S, &rep,
                                      info->neterr, sizeof(info->neterr));
    free(path);
    if (info->contract_r == 0) {
        info->contract_status = rep.status;
        snprintf(info->contract_message, sizeof(info->contract_message), "%s", rep.message);
        if (rep.status == 200 && json_is_object(json_object_get(rep.body, "contract"))) {
            info->contract = json_incref(json_object_get(rep.body, "contract"));
            online = true;
        }
    }
    tk_net_reply_release(&rep);
    if (online &&
        tk_net_request(net, "GET", "/me", NULL, 0, NULL, START_TIMEOUT_S, &rep, meerr,
                       sizeof(meerr)) == 0 &&
        rep.status == 200) {
        const char *tz = st_json_str(json_object_get(rep.body, "user"), "timezone", "UTC");
        snprintf(info->tz, sizeof(info->tz), "%s", tz && *tz ? tz : "UTC");
    }
    tk_net_reply_release(&rep);
}

/* ---- tk_transport_curl ---- */

struct curl_ctx {
    struct tk_net net;
    struct tk_journal *j;
};

static int curl_open(const struct tk_transport_cfg *cfg, struct tk_journal *j, void **ret_ctx,
                     char *err, size_t errlen)
{
    struct curl_ctx *c = xcalloc(1, sizeof(*c));

    if (tk_net_init(&c->net, cfg->server, cfg->token) < 0) {
        snprintf(err, errlen, "cannot start libcurl");
        free(c);
        return -ENOMEM;
    }
    c->j = j;
    *ret_ctx = c;
    return 0;
}

static void curl_close(void *ctx)
{
    struct curl_ctx *c = ctx;

    if (!c)
        return;
    tk_net_release(&c->net);
    free(c);
}

static enum tk_pass_outcome curl_pass(void *ctx, const struct tk_pass_args *a,
                                      const struct tk_pass_sink *sink)
{
    struct curl_ctx *c = ctx;

    return tk_pass_run(&c->net, c->j, a, sink);
}

static void curl_cancel(void *ctx)
{
    /* The pass looks at sink->cancelled between segments; a request ends within its timeout. */
}

static void curl_fetch_start(const struct tk_transport_cfg *cfg, bool want_segment_s,
                             struct tk_start_info *info)
{
    struct tk_net net;

    if (tk_net_init(&net, cfg->server, cfg->token) < 0) {
        info->fetched = true;
        info->contract_r = -EAGAIN;
        snprintf(info->neterr, sizeof(info->neterr), "cannot start libcurl");
        return;
    }
    tk_fetch_start_run(&net, want_segment_s, info);
    tk_net_release(&net);
}

const struct tk_transport tk_transport_curl = {
    .name = "curl",
    .open = curl_open,
    .close = curl_close,
    .pass = curl_pass,
    .cancel = curl_cancel,
    .fetch_start = curl_fetch_start,
};
