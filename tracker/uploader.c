/*
 * The upload thread: decides when a pass runs (at once when kicked, after a
 * backoff with jitter when the server was out of reach, else once a period:
 * the transport's, or TK_TOTALS_EVERY_MS) and keeps the status the engine
 * shows. The pass itself runs through a transport (tracker/transport.h):
 * libcurl on this thread, or a helper process. Not for: deciding what is
 * recorded.
 */
#include "tracker/uploader.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/os.h"
#include "lib/str.h"
#include "lib/week.h"
#include "lib/xalloc.h"

#define MAX_REFUSED 32

struct tk_uploader {
    struct tk_journal *j; /* our own connection */
    const struct tk_transport *transport;
    void *tctx;
    char *account;
    int backoff_min_ms, backoff_max_ms, totals_every_ms;
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

/* ---- the sink a pass reports to ---- */

static void sink_online(void *ud, bool online)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    u->st.online = online;
    u->st.tried = true;
    if (online && !u->st.auth_failed)
        u->st.last_error[0] = '\0';
    pthread_mutex_unlock(&u->lock);
}

static void sink_error(void *ud, const char *msg)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    st_strlcpy(u->st.last_error, msg, sizeof(u->st.last_error));
    pthread_mutex_unlock(&u->lock);
}

/* Keeps the cached totals in step with what the server just took. */
static void sink_acked(void *ud, const struct tk_acked *a)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    u->st.last_upload = a->at;
    if (u->st.totals_known && strcmp(a->contract_id, u->contract_id) == 0 && a->delta > 0) {
        if (a->start >= u->st.week_start && a->start < u->st.week_start + ST_WEEK_S)
            u->st.week_s += a->delta;
        if (a->start >= u->st.day_start && a->start < u->st.day_start + 25 * 3600)
            u->st.today_s += a->delta;
    }
    pthread_mutex_unlock(&u->lock);
}

static void sink_refused(void *ud, const struct tk_refused *r)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    if (u->n_refused == MAX_REFUSED) {
        memmove(&u->refused[0], &u->refused[1], sizeof(u->refused[0]) * (MAX_REFUSED - 1));
        u->n_refused--;
    }
    u->refused[u->n_refused++] = *r;
    pthread_mutex_unlock(&u->lock);
}

static void sink_totals(void *ud, const struct tk_totals *t)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    if (strcmp(t->contract_id, u->contract_id) == 0) {
        u->st.totals_known = true;
        u->st.week_start = t->week_start;
        u->st.day_start = t->day_start;
        u->st.week_s = t->week_s;
        u->st.today_s = t->today_s;
        u->st.weekly_limit_s = t->weekly_limit_s;
    }
    pthread_mutex_unlock(&u->lock);
}

static void sink_auth_failed(void *ud)
{
    struct tk_uploader *u = ud;

    pthread_mutex_lock(&u->lock);
    u->st.auth_failed = true;
    snprintf(u->st.last_error, sizeof(u->st.last_error),
             "the server no longer accepts this sign-in: run 'stint login'");
    pthread_mutex_unlock(&u->lock);
}

static void sink_progress(void *ud)
{
    notify(ud);
}

static bool sink_cancelled(void *ud)
{
    struct tk_uploader *u = ud;
    bool quit;

    pthread_mutex_lock(&u->lock);
    quit = u->quit;
    pthread_mutex_unlock(&u->lock);
    return quit;
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
    const struct tk_pass_sink sink = {.online = sink_online,
                                      .error = sink_error,
                                      .acked = sink_acked,
                                      .refused = sink_refused,
                                      .totals = sink_totals,
                                      .auth_failed = sink_auth_failed,
                                      .progress = sink_progress,
                                      .cancelled = sink_cancelled,
                                      .ud = u};
    int64_t wait_ms = 0;

    for (;;) {
        enum tk_pass_outcome o;
        char contract[37], tz[72];
        struct tk_pass_args a = {.account = u->account, .contract_id = contract, .tz = tz};

        pthread_mutex_lock(&u->lock);
        if (wait_ms > 0 && !u->quit && !u->kicked) {
            struct timespec ts;
            st_os_cond_deadline(wait_ms, &ts);
            u->st.next_try_ms = u->attempts ? wait_ms : 0;
            while (!u->quit && !u->kicked &&
                   st_os_cond_timedwait(&u->cond, &u->lock, &ts) != ETIMEDOUT)
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
        snprintf(contract, sizeof(contract), "%s", u->contract_id);
        snprintf(tz, sizeof(tz), "%s", u->tz);
        a.totals = contract[0] && (u->totals_dirty || u->totals_at == 0 ||
                                   mono_ms() - u->totals_at >= u->totals_every_ms);
        if (a.totals)
            u->totals_dirty = false;
        pthread_mutex_unlock(&u->lock);

        o = u->transport->pass(u->tctx, &a, &sink);
        if (o == TK_PASS_OK && a.totals) {
            u->totals_at = mono_ms();
            notify(u);
        }
        pthread_mutex_lock(&u->lock);
        u->st.busy = false;
        if (o == TK_PASS_OFFLINE) {
            u->st.online = false;
            u->st.tried = true;
            u->attempts++;
            wait_ms = backoff_ms(u);
        } else if (o == TK_PASS_AUTH) {
            u->st.auth_failed = true;
            snprintf(u->st.last_error, sizeof(u->st.last_error),
                     "the server no longer accepts this sign-in: run 'stint login'");
            u->attempts++;
            wait_ms = u->backoff_max_ms;
        } else {
            u->attempts = 0;
            u->st.auth_failed = false;
            wait_ms = u->totals_every_ms;
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
    struct tk_transport_cfg cfg = {.server = o->server,
                                   .token = o->token,
                                   .account = o->account,
                                   .dir = tk_journal_dir(j),
                                   .helper = o->helper};
    int r;

    u->transport = o->transport;
    if ((r = tk_journal_clone(j, &u->j, err, errlen)) < 0) {
        free(u);
        return r;
    }
    if ((r = u->transport->open(&cfg, u->j, &u->tctx, err, errlen)) < 0) {
        tk_journal_free(u->j);
        free(u);
        return r;
    }
    u->account = xstrdup(o->account ? o->account : "");
    u->backoff_min_ms = o->backoff_min_ms > 0 ? o->backoff_min_ms : TK_BACKOFF_MIN_MS;
    u->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : TK_BACKOFF_MAX_MS;
    u->totals_every_ms = o->totals_every_ms > 0             ? o->totals_every_ms
                         : u->transport->totals_every_ms > 0 ? u->transport->totals_every_ms
                                                             : TK_TOTALS_EVERY_MS;
    u->notify = o->notify;
    u->userdata = o->userdata;
    u->st.weekly_limit_s = -1;
    pthread_mutex_init(&u->lock, NULL);
    st_os_cond_init(&u->cond);
    r = pthread_create(&u->thread, NULL, run, u);
    if (r != 0) {
        snprintf(err, errlen, "cannot start the upload thread: %s", strerror(r));
        u->transport->close(u->tctx);
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
    u->transport->cancel(u->tctx);
    pthread_join(u->thread, NULL);
    u->transport->close(u->tctx);
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
