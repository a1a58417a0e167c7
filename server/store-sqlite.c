/*
 * The SQLite implementation of store.h: WAL mode, synchronous=FULL, one
 * writer thread doing group commit, and a pool of reader connections.
 *
 * Not for: schema (schema.c) or queries (the api-*.c files).
 */
#include "server/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "server/schema.h"

#define CACHE_SIZE 512
#define MAX_READERS 32
#define MAX_GROUP 1024

struct cached_stmt {
    const char *sql;
    sqlite3_stmt *st;
    bool used; /* touched in the current transaction: reset at its end */
};

struct conn {
    sqlite3 *db;
    struct cached_stmt cache[CACHE_SIZE];
    int ncache;
    struct conn *next_free;
};

struct store_tx {
    struct conn *c;
};

struct job {
    store_fn fn;
    void *arg;
    int result;
    bool done;
    struct job *next;
};

struct store {
    char *path;

    struct conn *writer;
    pthread_t writer_thread;
    pthread_mutex_t mu;
    pthread_cond_t cv_work;
    pthread_cond_t cv_done;
    int waiting; /* callers inside store_write: store_free waits for them to leave */
    struct job *head, *tail;
    bool stopping;

    pthread_mutex_t rmu;
    pthread_cond_t rcv;
    struct conn *free_readers;
    int nreaders;

    struct store_stats stats;
};

static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
        return 0;
    case SQLITE_ROW:
        return 1;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_FULL:
        return -ENOSPC;
    default:
        return -EIO;
    }
}

static int exec_sql(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        st_error("sqlite: %s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return map_rc(rc) < 0 ? map_rc(rc) : -EIO;
    }
    return 0;
}

static struct conn *conn_open(const char *path, bool readonly)
{
    struct conn *c = xcalloc(1, sizeof(*c));
    int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;

    if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
        st_error("cannot open '%s': %s", path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    sqlite3_busy_timeout(c->db, 10000);
    if (!readonly) {
        if (exec_sql(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                            "PRAGMA foreign_keys=ON;") < 0) {
            sqlite3_close(c->db);
            free(c);
            return NULL;
        }
    }
    return c;
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->ncache; i++)
        sqlite3_finalize(c->cache[i].st);
    sqlite3_close(c->db);
    free(c);
}

static void conn_reset_used(struct conn *c)
{
    for (int i = 0; i < c->ncache; i++) {
        if (c->cache[i].used) {
            sqlite3_reset(c->cache[i].st);
            sqlite3_clear_bindings(c->cache[i].st);
            c->cache[i].used = false;
        }
    }
}

struct store_stmt *store_prepare(struct store_tx *tx, const char *sql)
{
    struct conn *c = tx->c;
    sqlite3_stmt *st;
    int i;

    for (i = 0; i < c->ncache; i++)
        if (c->cache[i].sql == sql)
            break;
    if (i == c->ncache) {
        if (c->ncache == CACHE_SIZE) {
            st_error("statement cache full");
            abort();
        }
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            st_error("cannot prepare '%s': %s", sql, sqlite3_errmsg(c->db));
            abort();
        }
        c->cache[i].sql = sql;
        c->cache[i].st = st;
        c->ncache++;
    }
    st = c->cache[i].st;
    if (c->cache[i].used) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    c->cache[i].used = true;
    return (struct store_stmt *)st;
}

void store_bind_int(struct store_stmt *st, int idx, int64_t v)
{
    sqlite3_bind_int64((sqlite3_stmt *)st, idx, v);
}

void store_bind_text(struct store_stmt *st, int idx, const char *v)
{
    if (v)
        sqlite3_bind_text((sqlite3_stmt *)st, idx, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null((sqlite3_stmt *)st, idx);
}

void store_bind_blob(struct store_stmt *st, int idx, const void *v, size_t len)
{
    sqlite3_bind_blob64((sqlite3_stmt *)st, idx, v, len, SQLITE_TRANSIENT);
}

void store_bind_null(struct store_stmt *st, int idx)
{
    sqlite3_bind_null((sqlite3_stmt *)st, idx);
}

int store_step(struct store_stmt *st)
{
    int rc = sqlite3_step((sqlite3_stmt *)st);
    int r = map_rc(rc);

    /*
     * Only a broken UNIQUE or PRIMARY KEY means "exists"; a NOT NULL or
     * FOREIGN KEY failure is a bug, which must not pass for a conflict.
     */
    if (r == -EEXIST) {
        int ext = sqlite3_extended_errcode(sqlite3_db_handle((sqlite3_stmt *)st));
        if (ext != SQLITE_CONSTRAINT_UNIQUE && ext != SQLITE_CONSTRAINT_PRIMARYKEY &&
            ext != SQLITE_CONSTRAINT_ROWID)
            r = -EIO;
    }
    if (r < 0 && r != -EEXIST)
        st_error("sqlite step: %s (%s)", sqlite3_errmsg(sqlite3_db_handle((sqlite3_stmt *)st)),
                 sqlite3_sql((sqlite3_stmt *)st));
    return r;
}

int store_run(struct store_stmt *st)
{
    int r = store_step(st);

    sqlite3_reset((sqlite3_stmt *)st);
    return r == 1 ? 0 : r;
}

int64_t store_col_int(struct store_stmt *st, int idx)
{
    return sqlite3_column_int64((sqlite3_stmt *)st, idx);
}

const char *store_col_text(struct store_stmt *st, int idx)
{
    return (const char *)sqlite3_column_text((sqlite3_stmt *)st, idx);
}

const void *store_col_blob(struct store_stmt *st, int idx, size_t *ret_len)
{
    const void *p = sqlite3_column_blob((sqlite3_stmt *)st, idx);

    *ret_len = (size_t)sqlite3_column_bytes((sqlite3_stmt *)st, idx);
    return p;
}

bool store_col_null(struct store_stmt *st, int idx)
{
    return sqlite3_column_type((sqlite3_stmt *)st, idx) == SQLITE_NULL;
}

int64_t store_changes(struct store_tx *tx)
{
    return sqlite3_changes64(tx->c->db);
}

static int migrate(struct conn *c)
{
    sqlite3_stmt *st;
    int version = 0, r = 0;

    if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -EIO;
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);

    for (int i = version; schema_migrations[i]; i++) {
        char pragma[64];

        if ((r = exec_sql(c->db, "BEGIN IMMEDIATE")) < 0)
            return r;
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
        if ((r = exec_sql(c->db, schema_migrations[i])) < 0 ||
            (r = exec_sql(c->db, pragma)) < 0) {
            exec_sql(c->db, "ROLLBACK");
            return r;
        }
        if ((r = exec_sql(c->db, "COMMIT")) < 0)
            return r;
    }
    return 0;
}

/* Every job of the group that has not failed on its own fails with err. */
static void fail_group(struct job *jobs, int err)
{
    for (struct job *j = jobs; j; j = j->next)
        if (j->result >= 0)
            j->result = err;
}

/* Runs one group: every queued job inside one transaction, one commit. */
static void run_group(struct store *s, struct job *jobs)
{
    struct store_tx tx = {.c = s->writer};
    sqlite3 *db = s->writer->db;
    int commit_rc;
    uint64_t n = 0;

    for (struct job *j = jobs; j; j = j->next)
        j->result = 0;
    if (exec_sql(db, "BEGIN IMMEDIATE") < 0) {
        fail_group(jobs, -EIO);
        return;
    }
    for (struct job *j = jobs; j; j = j->next) {
        n++;
        if (exec_sql(db, "SAVEPOINT job") < 0) {
            j->result = -EIO;
            continue;
        }
        j->result = j->fn(&tx, j->arg);
        conn_reset_used(s->writer);
        if (sqlite3_get_autocommit(db)) {
            /*
             * SQLite rolled the whole transaction back by itself (it may on
             * a full disk, an I/O error or out of memory): the jobs before
             * this one are gone too, and the next "SAVEPOINT job" would
             * open a new transaction that its "RELEASE" commits on its own,
             * durable but reported as failed. Stop here and fail the whole
             * group with this job's error; callers retry.
             */
            int err = j->result < 0 ? j->result : -EIO;
            for (struct job *k = j->next; k; k = k->next)
                k->result = err;
            fail_group(jobs, err);
            goto out;
        }
        if (j->result < 0)
            exec_sql(db, "ROLLBACK TO job");
        exec_sql(db, "RELEASE job");
    }
    commit_rc = exec_sql(db, "COMMIT");
    if (commit_rc < 0) {
        /* Nothing of this group is durable: tell every caller. */
        if (!sqlite3_get_autocommit(db))
            exec_sql(db, "ROLLBACK");
        fail_group(jobs, commit_rc);
    }
out:
    /* store_get_stats reads these under the lock from other threads. */
    pthread_mutex_lock(&s->mu);
    s->stats.commits++;
    s->stats.writes += n;
    if (n > s->stats.max_group)
        s->stats.max_group = n;
    pthread_mutex_unlock(&s->mu);
}

static void *writer_main(void *arg)
{
    struct store *s = arg;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        struct job *group, *last;
        int n = 0;

        while (!s->head && !s->stopping)
            pthread_cond_wait(&s->cv_work, &s->mu);
        if (!s->head && s->stopping)
            break;
        /* Take up to MAX_GROUP jobs; later ones wait for the next commit. */
        group = last = s->head;
        for (n = 1; last->next && n < MAX_GROUP; n++)
            last = last->next;
        s->head = last->next;
        if (!s->head)
            s->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->mu);

        run_group(s, group);

        pthread_mutex_lock(&s->mu);
        for (struct job *j = group; j;) {
            struct job *next = j->next;
            j->done = true; /* j may be gone once done is seen: read next first */
            j = next;
        }
        pthread_cond_broadcast(&s->cv_done);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int store_open(const char *dir, struct store **ret_store)
{
    struct store *s;
    int r;

    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        st_error("cannot create '%s': %s", dir, strerror(errno));
        return -errno;
    }
    s = xcalloc(1, sizeof(*s));
    s->path = xasprintf("%s/stint.db", dir);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_work, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    pthread_mutex_init(&s->rmu, NULL);
    pthread_cond_init(&s->rcv, NULL);

    s->writer = conn_open(s->path, false);
    if (!s->writer) {
        r = -EIO;
        goto fail;
    }
    if ((r = migrate(s->writer)) < 0) {
        st_error("cannot migrate '%s'", s->path);
        goto fail;
    }
    if (pthread_create(&s->writer_thread, NULL, writer_main, s) != 0) {
        r = -EAGAIN;
        goto fail;
    }
    *ret_store = s;
    return 0;
fail:
    conn_close(s->writer);
    free(s->path);
    free(s);
    return r;
}

void store_free(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->writer_thread, NULL);
    /* Every job is done; wait for their callers to leave store_write. */
    pthread_mutex_lock(&s->mu);
    while (s->waiting > 0)
        pthread_cond_wait(&s->cv_done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    st_debug("store: %llu writes in %llu commits (largest group %llu)",
             (unsigned long long)s->stats.writes, (unsigned long long)s->stats.commits,
             (unsigned long long)s->stats.max_group);
    conn_close(s->writer);
    while (s->free_readers) {
        struct conn *c = s->free_readers;
        s->free_readers = c->next_free;
        conn_close(c);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_done);
    pthread_mutex_destroy(&s->rmu);
    pthread_cond_destroy(&s->rcv);
    free(s->path);
    free(s);
}

int store_write(struct store *s, store_fn fn, void *arg)
{
    struct job j = {.fn = fn, .arg = arg};

    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return -ESHUTDOWN;
    }
    if (s->tail)
        s->tail->next = &j;
    else
        s->head = &j;
    s->tail = &j;
    s->waiting++;
    pthread_cond_signal(&s->cv_work);
    while (!j.done)
        pthread_cond_wait(&s->cv_done, &s->mu);
    /* The last one out tells store_free, which may be waiting to tear down. */
    if (--s->waiting == 0 && s->stopping)
        pthread_cond_broadcast(&s->cv_done);
    pthread_mutex_unlock(&s->mu);
    return j.result;
}

static struct conn *reader_get(struct store *s)
{
    struct conn *c = NULL;

    pthread_mutex_lock(&s->rmu);
    for (;;) {
        if (s->free_readers) {
            c = s->free_readers;
            s->free_readers = c->next_free;
            break;
        }
        if (s->nreaders < MAX_READERS) {
            s->nreaders++;
            pthread_mutex_unlock(&s->rmu);
            c = conn_open(s->path, true);
            pthread_mutex_lock(&s->rmu);
            if (!c)
                s->nreaders--;
            break;
        }
        pthread_cond_wait(&s->rcv, &s->rmu);
    }
    pthread_mutex_unlock(&s->rmu);
    return c;
}

static void reader_put(struct store *s, struct conn *c)
{
    pthread_mutex_lock(&s->rmu);
    c->next_free = s->free_readers;
    s->free_readers = c;
    pthread_cond_signal(&s->rcv);
    pthread_mutex_unlock(&s->rmu);
}

int store_read(struct store *s, store_fn fn, void *arg)
{
    struct conn *c = reader_get(s);
    struct store_tx tx;
    int r;

    if (!c)
        return -EIO;
    tx.c = c;
    if (exec_sql(c->db, "BEGIN") < 0) {
        reader_put(s, c);
        return -EIO;
    }
    r = fn(&tx, arg);
    conn_reset_used(c);
    exec_sql(c->db, "COMMIT");
    reader_put(s, c);
    return r;
}

void store_get_stats(struct store *s, struct store_stats *ret_stats)
{
    pthread_mutex_lock(&s->mu);
    *ret_stats = s->stats;
    pthread_mutex_unlock(&s->mu);
}
