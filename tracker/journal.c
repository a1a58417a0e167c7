/*
 * The journal on SQLite: schema, the lock file, durable writes of buckets
 * and screenshots, recovery after a crash, and the queries the uploader and
 * `stint status` need. Every write is one transaction committed with
 * synchronous=FULL in WAL mode: when a function returns 0, the data is on
 * disk. Not for: the rules of recording or uploading.
 */
#include "tracker/journal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/os.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"

#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 10000
#define KEEP_DONE_S (2 * 86400)
#define KEEP_REFUSED_S (30 * 86400)

struct tk_journal {
    sqlite3 *db;
    char *dir;
    int lock_fd; /* -1 when this connection does not hold the lock */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS segments ("
    "  id TEXT PRIMARY KEY,"
    "  account TEXT NOT NULL,"
    "  contract_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  start INTEGER NOT NULL,"
    "  seg_s INTEGER NOT NULL,"
    "  memo TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  flags INTEGER NOT NULL DEFAULT 0,"
    "  state INTEGER NOT NULL,"
    "  version INTEGER NOT NULL DEFAULT 0,"
    "  tracked_s INTEGER NOT NULL DEFAULT 0,"
    "  shot_status INTEGER NOT NULL DEFAULT 0,"
    "  shot_taken_at INTEGER NOT NULL DEFAULT 0,"
    "  shot_reason TEXT NOT NULL DEFAULT '',"
    "  shot_file TEXT NOT NULL DEFAULT '',"
    "  shot_bytes INTEGER NOT NULL DEFAULT 0,"
    "  acked_version INTEGER NOT NULL DEFAULT 0,"
    "  acked_s INTEGER NOT NULL DEFAULT 0,"
    "  shot_acked INTEGER NOT NULL DEFAULT 0,"
    "  refused TEXT NOT NULL DEFAULT '',"
    "  updated_at INTEGER NOT NULL DEFAULT 0,"
    "  measure INTEGER NOT NULL DEFAULT 0,"
    "  has_active_s INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS segments_slot ON segments(account, contract_id, start);"
    "CREATE INDEX IF NOT EXISTS segments_state ON segments(state, start);"
    "CREATE TABLE IF NOT EXISTS buckets ("
    "  segment_id TEXT NOT NULL REFERENCES segments(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  tracked_ms INTEGER NOT NULL,"
    "  keys INTEGER NOT NULL,"
    "  mouse INTEGER NOT NULL,"
    "  synthetic INTEGER NOT NULL,"
    "  active_s INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (segment_id, idx));";

/*
 * From schema 1 (before active seconds) to 2: the segment's activity
 * measure (enum st_measure) and whether its buckets know active_s. Rows
 * written by schema 1 read as counts without active seconds, as they were.
 */
static const char migrate_1_to_2[] =
    "ALTER TABLE segments ADD COLUMN measure INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE segments ADD COLUMN has_active_s INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE buckets ADD COLUMN active_s INTEGER NOT NULL DEFAULT 0;";

const char *tk_seg_state_name(enum tk_seg_state s)
{
    switch (s) {
    case TK_SEG_OPEN:
        return "open";
    case TK_SEG_HELD:
        return "held";
    case TK_SEG_QUEUED:
        return "queued";
    case TK_SEG_DONE:
        return "done";
    case TK_SEG_REFUSED:
        return "refused";
    }
    return "?";
}

void tk_seg_release(struct tk_seg *seg)
{
    st_segment_release(&seg->s);
    memset(seg, 0, sizeof(*seg));
}

void tk_seg_sync_seconds(struct tk_seg *seg)
{
    int bucket_s = seg->seg_s / ST_SEG_BUCKETS;

    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        const struct st_bucket *b = &seg->s.b[i];
        int64_t s = seg->ms[i] > 0 ? (seg->ms[i] + 500) / 1000 : 0;
        /*
         * Input in a bucket the timer touched only for an instant (a start
         * just before its end): the server takes no input without time, so
         * such a bucket counts one second rather than losing its input.
         */
        if (s == 0 && (b->keys || b->mouse || b->active_s))
            s = 1;
        seg->s.b[i].tracked_s = (int)(s > bucket_s ? bucket_s : s);
        /* A discarded idle stretch may take seconds that were active: none outlives its time. */
        if (seg->s.b[i].active_s > seg->s.b[i].tracked_s)
            seg->s.b[i].active_s = seg->s.b[i].tracked_s;
    }
}

char *tk_journal_default_dir(void)
{
    return st_os_data_dir();
}


static int db_error(struct tk_journal *j, int rc)
{
    if (rc == SQLITE_FULL)
        return -ENOSPC;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return -EBUSY;
    (void)j;
    return -EIO;
}

static int exec(struct tk_journal *j, const char *sql)
{
    int rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : db_error(j, rc);
}

static sqlite3_stmt *prepare(struct tk_journal *j, const char *sql)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(j->db, sql, -1, &st, NULL) != SQLITE_OK) {
        /* Every statement is a constant of this file: failing here is a bug. */
        fprintf(stderr, "stint: journal: cannot prepare '%s': %s\n", sql, sqlite3_errmsg(j->db));
        abort();
    }
    return st;
}

/* Runs a statement that returns no rows, then finalizes it. */
static int run(struct tk_journal *j, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : db_error(j, rc);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

static void copy_col(sqlite3_stmt *st, int col, char *dst, size_t n)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    snprintf(dst, n, "%s", s ? (const char *)s : "");
}

/* Takes the lock file; -EBUSY with the holder's pid in err when another has it. */
static int take_lock(struct tk_journal *j, char *err, size_t errlen)
{
    char *path = xasprintf("%s/%s", j->dir, TK_JOURNAL_LOCK);
    char buf[32];
    int fd, r = 0;

    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        goto out;
    }
    if ((r = st_os_lock(fd, true)) < 0) {
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        if (r == -EBUSY)
            snprintf(err, errlen,
                     "another stint tracker (pid %d) is using '%s'; stop it first, or use "
                     "another XDG_DATA_HOME",
                     atoi(buf), j->dir);
        else
            snprintf(err, errlen, "cannot lock '%s': %s", path, strerror(-r));
        close(fd);
        goto out;
    }
    snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, strlen(buf), 0) < 0) {
        /* The pid is a courtesy for the message above; the flock is the lock. */
    }
    j->lock_fd = fd;
out:
    free(path);
    return r;
}

int tk_journal_lock_holder(const char *dir)
{
    char *path = xasprintf("%s/%s", dir, TK_JOURNAL_LOCK);
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int pid = 0;

    free(path);
    if (fd < 0)
        return 0;
    /* A shared lock succeeds only when no tracker holds the exclusive one. */
    if (st_os_lock(fd, false) == -EBUSY) {
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        pid = atoi(buf);
        if (pid <= 0)
            pid = 1; /* held, pid unknown */
    }
    close(fd);
    return pid;
}

static int open_db(struct tk_journal *j, bool create, char *err, size_t errlen)
{
    char *path = xasprintf("%s/%s", j->dir, TK_JOURNAL_FILE);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int rc, r = 0;

    rc = sqlite3_open_v2(path, &j->db, flags, NULL);
    if (rc != SQLITE_OK) {
        r = rc == SQLITE_CANTOPEN && !create ? -ENOENT : -EIO;
        snprintf(err, errlen, "cannot open '%s': %s", path,
                 j->db ? sqlite3_errmsg(j->db) : "out of memory");
        goto out;
    }
    sqlite3_busy_timeout(j->db, BUSY_TIMEOUT_MS);
    /* A commit is on disk when it returns; the WAL is checkpointed and kept under 1 MiB. */
    if (exec(j, "PRAGMA journal_mode=WAL") < 0 || exec(j, "PRAGMA synchronous=FULL") < 0 ||
        exec(j, "PRAGMA foreign_keys=ON") < 0 || exec(j, "PRAGMA wal_autocheckpoint=200") < 0 ||
        exec(j, "PRAGMA journal_size_limit=1048576") < 0) {
        r = -EIO;
        snprintf(err, errlen, "cannot set up '%s': %s", path, sqlite3_errmsg(j->db));
    }
out:
    free(path);
    return r;
}

/*
 * Brings the journal to SCHEMA_VERSION: creates it (create) or migrates it.
 * A reader that may not create still migrates, so that an older journal
 * reads with this stint's statements.
 */
static int create_schema(struct tk_journal *j, bool create, char *err, size_t errlen)
{
    sqlite3_stmt *st = prepare(j, "PRAGMA user_version");
    int version = 0, r;

    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version > SCHEMA_VERSION) {
        snprintf(err, errlen,
                 "the journal in '%s' was written by a newer stint (schema %d); upgrade stint",
                 j->dir, version);
        return -EINVAL;
    }
    if (version == SCHEMA_VERSION || (version == 0 && !create))
        return 0;
    if ((r = exec(j, "BEGIN IMMEDIATE")) < 0)
        goto fail;
    if ((r = exec(j, version == 1 ? migrate_1_to_2 : schema)) < 0 ||
        (r = exec(j, "PRAGMA user_version = 2")) < 0) {
        exec(j, "ROLLBACK");
        goto fail;
    }
    if ((r = exec(j, "COMMIT")) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "cannot create the journal in '%s': %s", j->dir, sqlite3_errmsg(j->db));
    return r;
}

int tk_journal_open(const char *dir, int flags, struct tk_journal **ret_j, char *err, size_t errlen)
{
    struct tk_journal *j = xcalloc(1, sizeof(*j));
    bool readonly = flags & TK_JOURNAL_READONLY;
    char *shots = NULL;
    int r;

    j->dir = xstrdup(dir);
    j->lock_fd = -1;
    if (!readonly) {
        shots = xasprintf("%s/%s", dir, TK_JOURNAL_SHOTS);
        if ((r = st_mkdir_p(shots)) < 0) {
            snprintf(err, errlen, "cannot create '%s': %s", shots, strerror(-r));
            goto fail;
        }
    }
    if ((flags & TK_JOURNAL_LOCKED) && (r = take_lock(j, err, errlen)) < 0)
        goto fail;
    if ((r = open_db(j, !readonly, err, errlen)) < 0)
        goto fail;
    if ((r = create_schema(j, !readonly, err, errlen)) < 0)
        goto fail;
    free(shots);
    *ret_j = j;
    return 0;
fail:
    free(shots);
    tk_journal_free(j);
    return r;
}

int tk_journal_clone(struct tk_journal *j, struct tk_journal **ret_j, char *err, size_t errlen)
{
    return tk_journal_open(j->dir, 0, ret_j, err, errlen);
}

void tk_journal_free(struct tk_journal *j)
{
    if (!j)
        return;
    if (j->db)
        sqlite3_close_v2(j->db);
    if (j->lock_fd >= 0)
        close(j->lock_fd); /* closing the descriptor releases the flock */
    free(j->dir);
    free(j);
}

const char *tk_journal_dir(const struct tk_journal *j)
{
    return j->dir;
}

/* ---- meta ---- */

char *tk_journal_meta_get(struct tk_journal *j, const char *key)
{
    sqlite3_stmt *st = prepare(j, "SELECT value FROM meta WHERE key = ?");
    char *v = NULL;

    bind_text(st, 1, key);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

int tk_journal_meta_set(struct tk_journal *j, const char *key, const char *value)
{
    sqlite3_stmt *st = prepare(j, "INSERT INTO meta(key, value) VALUES (?, ?)"
                                  " ON CONFLICT(key) DO UPDATE SET value = excluded.value");

    bind_text(st, 1, key);
    bind_text(st, 2, value);
    return run(j, st);
}

int tk_journal_device_id(struct tk_journal *j, char out[37])
{
    char *v = tk_journal_meta_get(j, "device_id");
    int r = 0;

    if (v && st_uuid_valid(v)) {
        snprintf(out, 37, "%s", v);
    } else {
        st_uuid_new(out);
        r = tk_journal_meta_set(j, "device_id", out);
    }
    free(v);
    return r;
}

/* ---- segments ---- */

#define SEG_COLUMNS                                                                                \
    "id, account, contract_id, device_id, start, seg_s, memo, tags, flags, state, version,"        \
    " shot_status, shot_taken_at, shot_reason, shot_file, shot_bytes, acked_version, acked_s,"     \
    " shot_acked, refused, measure, has_active_s"

static void read_row(sqlite3_stmt *st, struct tk_seg *seg)
{
    const char *tags;

    memset(seg, 0, sizeof(*seg));
    copy_col(st, 0, seg->s.id, sizeof(seg->s.id));
    copy_col(st, 1, seg->account, sizeof(seg->account));
    copy_col(st, 2, seg->s.contract_id, sizeof(seg->s.contract_id));
    copy_col(st, 3, seg->s.device_id, sizeof(seg->s.device_id));
    seg->s.start = sqlite3_column_int64(st, 4);
    seg->seg_s = sqlite3_column_int(st, 5);
    seg->s.memo = xstrdup((const char *)sqlite3_column_text(st, 6));
    tags = (const char *)sqlite3_column_text(st, 7);
    seg->s.tags = json_loads(tags ? tags : "[]", 0, NULL);
    if (!json_is_array(seg->s.tags)) {
        json_decref(seg->s.tags);
        seg->s.tags = json_array();
    }
    seg->s.flags = (unsigned)sqlite3_column_int(st, 8);
    seg->state = (enum tk_seg_state)sqlite3_column_int(st, 9);
    seg->version = sqlite3_column_int64(st, 10);
    seg->s.shot_status = (enum st_shot_status)sqlite3_column_int(st, 11);
    seg->s.shot_taken_at = sqlite3_column_int64(st, 12);
    copy_col(st, 13, seg->s.shot_reason, sizeof(seg->s.shot_reason));
    copy_col(st, 14, seg->shot_file, sizeof(seg->shot_file));
    seg->shot_bytes = sqlite3_column_int64(st, 15);
    seg->acked_version = sqlite3_column_int64(st, 16);
    seg->acked_s = sqlite3_column_int(st, 17);
    seg->shot_acked = sqlite3_column_int(st, 18) != 0;
    copy_col(st, 19, seg->refused, sizeof(seg->refused));
    seg->s.measure = sqlite3_column_int(st, 20) == ST_MEASURE_ACTIVE_SECONDS
                         ? ST_MEASURE_ACTIVE_SECONDS
                         : ST_MEASURE_COUNTS;
    seg->s.has_active_s =
        sqlite3_column_int(st, 21) != 0 || seg->s.measure == ST_MEASURE_ACTIVE_SECONDS;
}

static int read_buckets(struct tk_journal *j, struct tk_seg *seg)
{
    sqlite3_stmt *st = prepare(j, "SELECT idx, tracked_ms, keys, mouse, synthetic, active_s"
                                  " FROM buckets"
                                  " WHERE segment_id = ?");
    int rc;

    bind_text(st, 1, seg->s.id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int i = sqlite3_column_int(st, 0);
        if (i < 0 || i >= ST_SEG_BUCKETS)
            continue;
        seg->ms[i] = sqlite3_column_int64(st, 1);
        seg->s.b[i].keys = sqlite3_column_int(st, 2);
        seg->s.b[i].mouse = sqlite3_column_int(st, 3);
        seg->s.b[i].synthetic = sqlite3_column_int(st, 4);
        seg->s.b[i].active_s = seg->s.has_active_s ? sqlite3_column_int(st, 5) : 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(j, rc);
    tk_seg_sync_seconds(seg);
    return 0;
}

/* Steps st (already bound, selecting SEG_COLUMNS) to its first row into ret_seg. */
static int load_one(struct tk_journal *j, sqlite3_stmt *st, struct tk_seg *ret_seg)
{
    struct tk_seg seg;
    int rc = sqlite3_step(st), r;

    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        return rc == SQLITE_DONE ? -ENOENT : db_error(j, rc);
    }
    read_row(st, &seg);
    sqlite3_finalize(st);
    if ((r = read_buckets(j, &seg)) < 0) {
        tk_seg_release(&seg);
        return r;
    }
    *ret_seg = seg;
    return 0;
}

int tk_journal_seg_find(struct tk_journal *j, const char *account, const char *contract_id,
                        int64_t start, struct tk_seg *ret_seg)
{
    sqlite3_stmt *st = prepare(j, "SELECT " SEG_COLUMNS " FROM segments WHERE account = ? AND"
                                  " contract_id = ? AND start = ? AND state <> 4"
                                  " ORDER BY rowid DESC LIMIT 1");

    bind_text(st, 1, account);
    bind_text(st, 2, contract_id);
    sqlite3_bind_int64(st, 3, start);
    return load_one(j, st, ret_seg);
}

int tk_journal_seg_get(struct tk_journal *j, const char *id, struct tk_seg *ret_seg)
{
    sqlite3_stmt *st = prepare(j, "SELECT " SEG_COLUMNS " FROM segments WHERE id = ?");

    bind_text(st, 1, id);
    return load_one(j, st, ret_seg);
}

int tk_journal_seg_put(struct tk_journal *j, struct tk_seg *seg)
{
    sqlite3_stmt *st;
    char *tags = json_dumps(seg->s.tags ? seg->s.tags : json_array(), JSON_COMPACT);
    int r;

    tk_seg_sync_seconds(seg);
    if ((r = exec(j, "BEGIN IMMEDIATE")) < 0)
        goto out;
    st = prepare(j, "INSERT INTO segments(id, account, contract_id, device_id, start, seg_s, memo,"
                    " tags, flags, state, version, tracked_s, shot_status, shot_taken_at,"
                    " shot_reason, shot_file, shot_bytes, updated_at, measure, has_active_s)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13, ?14, ?15,"
                    " ?16, strftime('%s','now'), ?17, ?18)"
                    " ON CONFLICT(id) DO UPDATE SET memo = ?7, tags = ?8, flags = ?9,"
                    " state = CASE WHEN state = 4 THEN 4 ELSE ?10 END, version = version + 1,"
                    " tracked_s = ?11, shot_status = ?12, shot_taken_at = ?13, shot_reason = ?14,"
                    " shot_file = ?15, shot_bytes = ?16, updated_at = strftime('%s','now'),"
                    " measure = ?17, has_active_s = ?18");
    bind_text(st, 1, seg->s.id);
    bind_text(st, 2, seg->account);
    bind_text(st, 3, seg->s.contract_id);
    bind_text(st, 4, seg->s.device_id);
    sqlite3_bind_int64(st, 5, seg->s.start);
    sqlite3_bind_int(st, 6, seg->seg_s);
    bind_text(st, 7, seg->s.memo);
    bind_text(st, 8, tags);
    sqlite3_bind_int(st, 9, (int)seg->s.flags);
    sqlite3_bind_int(st, 10, (int)seg->state);
    sqlite3_bind_int(st, 11, st_segment_tracked(&seg->s));
    sqlite3_bind_int(st, 12, (int)seg->s.shot_status);
    sqlite3_bind_int64(st, 13, seg->s.shot_taken_at);
    bind_text(st, 14, seg->s.shot_reason);
    bind_text(st, 15, seg->shot_file);
    sqlite3_bind_int64(st, 16, seg->shot_bytes);
    sqlite3_bind_int(st, 17, (int)seg->s.measure);
    sqlite3_bind_int(st, 18, seg->s.has_active_s);
    if ((r = run(j, st)) < 0)
        goto rollback;
    /* Buckets only grow, except when a discarded idle stretch empties one: rewrite them all. */
    st = prepare(j, "DELETE FROM buckets WHERE segment_id = ?");
    bind_text(st, 1, seg->s.id);
    if ((r = run(j, st)) < 0)
        goto rollback;
    for (int i = 0; i < ST_SEG_BUCKETS; i++) {
        const struct st_bucket *b = &seg->s.b[i];
        if (!seg->ms[i] && !b->keys && !b->mouse && !b->active_s)
            continue;
        st = prepare(j, "INSERT INTO buckets(segment_id, idx, tracked_ms, keys, mouse,"
                        " synthetic, active_s) VALUES (?, ?, ?, ?, ?, ?, ?)");
        bind_text(st, 1, seg->s.id);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_int64(st, 3, seg->ms[i]);
        sqlite3_bind_int(st, 4, b->keys);
        sqlite3_bind_int(st, 5, b->mouse);
        sqlite3_bind_int(st, 6, b->synthetic);
        sqlite3_bind_int(st, 7, b->active_s);
        if ((r = run(j, st)) < 0)
            goto rollback;
    }
    st = prepare(j, "SELECT version FROM segments WHERE id = ?");
    bind_text(st, 1, seg->s.id);
    if (sqlite3_step(st) == SQLITE_ROW)
        seg->version = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if ((r = exec(j, "COMMIT")) < 0)
        goto rollback;
    goto out;
rollback:
    exec(j, "ROLLBACK");
out:
    free(tags);
    return r;
}

static void unlink_shot(struct tk_journal *j, const char *rel)
{
    if (rel && rel[0]) {
        char *path = xasprintf("%s/%s", j->dir, rel);
        unlink(path);
        free(path);
    }
}

int tk_journal_seg_delete(struct tk_journal *j, const char *id)
{
    sqlite3_stmt *st = prepare(j, "SELECT shot_file FROM segments WHERE id = ?");
    char file[64] = "";
    int r;

    bind_text(st, 1, id);
    if (sqlite3_step(st) == SQLITE_ROW)
        copy_col(st, 0, file, sizeof(file));
    sqlite3_finalize(st);
    st = prepare(j, "DELETE FROM segments WHERE id = ?");
    bind_text(st, 1, id);
    if ((r = run(j, st)) < 0)
        return r;
    unlink_shot(j, file);
    return 0;
}

int tk_journal_seg_ids(struct tk_journal *j, const char *account, enum tk_seg_state state,
                       char (**ret_ids)[37], size_t *ret_n)
{
    sqlite3_stmt *st = prepare(j, "SELECT id FROM segments WHERE (?1 IS NULL OR account = ?1)"
                                  " AND state = ?2 ORDER BY start, rowid");
    char(*ids)[37] = NULL;
    size_t n = 0, cap = 0;
    int rc;

    if (account)
        bind_text(st, 1, account);
    sqlite3_bind_int(st, 2, (int)state);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            ids = xrealloc(ids, cap * sizeof(*ids));
        }
        copy_col(st, 0, ids[n], sizeof(ids[n]));
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(ids);
        return db_error(j, rc);
    }
    *ret_ids = ids;
    *ret_n = n;
    return 0;
}

int tk_journal_write_shot(struct tk_journal *j, const char *seg_id, const char *ext,
                          const void *bytes, size_t len, char rel_path[64])
{
    char rel[64];
    char *path, *tmp, *dir = xasprintf("%s/%s", j->dir, TK_JOURNAL_SHOTS);
    const char *p = bytes;
    size_t done = 0;
    int fd, r = 0;

    snprintf(rel, sizeof(rel), "%s/%s.%s", TK_JOURNAL_SHOTS, seg_id, ext);
    path = xasprintf("%s/%s", j->dir, rel);
    tmp = xasprintf("%s.tmp", path);
    st_mkdir_p(dir);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        r = -errno;
        goto out;
    }
    while (done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            break;
        }
        done += (size_t)n;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0)
        r = st_os_replace(tmp, path);
    if (r < 0) {
        unlink(tmp);
        goto out;
    }
    if ((r = tk_journal_meta_set(j, "last_shot", rel)) < 0)
        goto out;
    snprintf(rel_path, 64, "%s", rel);
out:
    free(dir);
    free(path);
    free(tmp);
    return r;
}

/* Deletes files in shots/ that no segment names (a crash between the file and its row). */
static void remove_orphans(struct tk_journal *j)
{
    char *dir = xasprintf("%s/%s", j->dir, TK_JOURNAL_SHOTS);
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d) {
        free(dir);
        return;
    }
    while ((e = readdir(d))) {
        char rel[300];
        sqlite3_stmt *st;
        bool named;

        if (e->d_name[0] == '.')
            continue;
        snprintf(rel, sizeof(rel), "%s/%s", TK_JOURNAL_SHOTS, e->d_name);
        st = prepare(j, "SELECT 1 FROM segments WHERE shot_file = ?");
        bind_text(st, 1, rel);
        named = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
        if (!named)
            unlink_shot(j, rel);
    }
    closedir(d);
    free(dir);
}

int tk_journal_recover(struct tk_journal *j)
{
    sqlite3_stmt *st;
    int n = 0, r;

    if ((r = exec(j, "BEGIN IMMEDIATE")) < 0)
        return r;
    /* A segment that never reached the server and holds no time is nothing to upload. */
    st = prepare(j, "DELETE FROM segments WHERE state IN (0, 1) AND tracked_s = 0"
                    " AND acked_version = 0");
    if ((r = run(j, st)) < 0)
        goto rollback;
    st = prepare(j, "UPDATE segments SET shot_status = 2,"
                    " shot_reason = 'the tracker was interrupted before the screenshot'"
                    " WHERE state = 0 AND shot_status = 0");
    if ((r = run(j, st)) < 0)
        goto rollback;
    st = prepare(j, "UPDATE segments SET state = 2, version = version + 1 WHERE state IN (0, 1)");
    if ((r = run(j, st)) < 0)
        goto rollback;
    n = sqlite3_changes(j->db);
    if ((r = exec(j, "COMMIT")) < 0)
        goto rollback;
    remove_orphans(j);
    return n;
rollback:
    exec(j, "ROLLBACK");
    return r;
}

/* ---- the uploader's side ---- */

int tk_journal_next_upload(struct tk_journal *j, const char *account, char (*skip)[37],
                           size_t n_skip, struct tk_seg *ret_seg)
{
    char *sql = xstrdup("SELECT " SEG_COLUMNS " FROM segments WHERE state = 2"
                        " AND (?1 IS NULL OR account = ?1)");
    sqlite3_stmt *st;
    int r;

    for (size_t i = 0; i < n_skip; i++) {
        /* %d, not %zu: mingw's gcc checks xasprintf's format against msvcrt's printf. */
        char *next = xasprintf("%s AND id <> ?%d", sql, (int)i + 2);
        free(sql);
        sql = next;
    }
    {
        char *next = xasprintf("%s ORDER BY start, rowid LIMIT 1", sql);
        free(sql);
        sql = next;
    }
    st = prepare(j, sql);
    free(sql);
    if (account)
        bind_text(st, 1, account);
    for (size_t i = 0; i < n_skip; i++)
        bind_text(st, (int)i + 2, skip[i]);
    r = load_one(j, st, ret_seg);
    return r;
}

int tk_journal_ack(struct tk_journal *j, const char *id, int64_t version, int acked_s)
{
    sqlite3_stmt *st = prepare(j, "UPDATE segments SET acked_version = ?2,"
                                  " acked_s = MAX(acked_s, ?3) WHERE id = ?1");

    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    sqlite3_bind_int(st, 3, acked_s);
    return run(j, st);
}

int tk_journal_ack_shot(struct tk_journal *j, const char *id)
{
    sqlite3_stmt *st = prepare(j, "UPDATE segments SET shot_acked = 1 WHERE id = ?");
    int r;

    bind_text(st, 1, id);
    if ((r = run(j, st)) < 0)
        return r;
    return tk_journal_prune(j, 0);
}

int tk_journal_finish(struct tk_journal *j, const char *id, int64_t version)
{
    sqlite3_stmt *st = prepare(j, "UPDATE segments SET state = 3 WHERE id = ? AND version = ?"
                                  " AND state = 2");

    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, version);
    return run(j, st);
}

int tk_journal_refuse(struct tk_journal *j, const char *id, const char *reason)
{
    sqlite3_stmt *st = prepare(j, "UPDATE segments SET state = 4, refused = ? WHERE id = ?");

    bind_text(st, 1, reason);
    bind_text(st, 2, id);
    return run(j, st);
}

int tk_journal_prune(struct tk_journal *j, int64_t now)
{
    char *last = tk_journal_meta_get(j, "last_shot");
    sqlite3_stmt *st;
    int rc, r = 0;

    /* Files the server has, except the last one, which `stint screenshot --last` shows. */
    st = prepare(j, "SELECT id, shot_file FROM segments WHERE shot_acked = 1 AND shot_file <> ''"
                    " AND shot_file <> ?");
    bind_text(st, 1, last);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char file[64];
        copy_col(st, 1, file, sizeof(file));
        unlink_shot(j, file);
    }
    sqlite3_finalize(st);
    st = prepare(j, "UPDATE segments SET shot_file = '', shot_bytes = 0 WHERE shot_acked = 1"
                    " AND shot_file <> '' AND shot_file <> ?");
    bind_text(st, 1, last);
    if ((r = run(j, st)) < 0)
        goto out;
    if (now > 0) {
        st = prepare(j, "SELECT shot_file FROM segments WHERE ((state = 3 AND start < ?1) OR"
                        " (state = 4 AND start < ?2)) AND shot_file <> ''");
        sqlite3_bind_int64(st, 1, now - KEEP_DONE_S);
        sqlite3_bind_int64(st, 2, now - KEEP_REFUSED_S);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char file[64];
            copy_col(st, 0, file, sizeof(file));
            unlink_shot(j, file);
        }
        sqlite3_finalize(st);
        st = prepare(j, "DELETE FROM segments WHERE (state = 3 AND start < ?1) OR"
                        " (state = 4 AND start < ?2)");
        sqlite3_bind_int64(st, 1, now - KEEP_DONE_S);
        sqlite3_bind_int64(st, 2, now - KEEP_REFUSED_S);
        r = run(j, st);
    }
out:
    free(last);
    return r;
}

/* ---- status ---- */

static int64_t db_bytes(struct tk_journal *j)
{
    sqlite3_stmt *st = prepare(j, "SELECT page_count * page_size FROM pragma_page_count(),"
                                  " pragma_page_size()");
    int64_t n = 0;

    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int tk_journal_stats(struct tk_journal *j, const char *account, struct tk_journal_stats *ret)
{
    sqlite3_stmt *st =
        prepare(j, "SELECT"
                   " COALESCE(SUM(state = 0), 0),"
                   " COALESCE(SUM(state IN (1, 2)), 0),"
                   " COALESCE(SUM(state IN (1, 2) AND shot_status = 1 AND shot_acked = 0"
                   "   AND shot_file <> ''), 0),"
                   " COALESCE(SUM(state = 4), 0),"
                   " COALESCE(SUM(CASE WHEN state IN (0, 1, 2) AND tracked_s > acked_s"
                   "   THEN tracked_s - acked_s ELSE 0 END), 0),"
                   " COALESCE(SUM(CASE WHEN shot_file <> '' THEN shot_bytes ELSE 0 END), 0)"
                   " FROM segments WHERE (?1 IS NULL OR account = ?1)");
    struct tk_journal_stats s = {0};
    int rc;

    if (account)
        bind_text(st, 1, account);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        s.open = sqlite3_column_int(st, 0);
        s.queued = sqlite3_column_int(st, 1);
        s.shots_queued = sqlite3_column_int(st, 2);
        s.refused = sqlite3_column_int(st, 3);
        s.queued_s = sqlite3_column_int64(st, 4);
        s.shot_bytes = sqlite3_column_int64(st, 5);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_error(j, rc);
    /* Every shot file counts against the quota, whoever it belongs to. */
    if (account) {
        st = prepare(j, "SELECT COALESCE(SUM(shot_bytes), 0) FROM segments WHERE shot_file <> ''");
        if (sqlite3_step(st) == SQLITE_ROW)
            s.disk_bytes = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    } else {
        s.disk_bytes = s.shot_bytes;
    }
    /*
     * The database as SQLite sees it (page_count, WAL frames included), not
     * the files' sizes: the WAL file is reused rather than shrunk, and is
     * bounded by journal_size_limit anyway.
     */
    s.disk_bytes += db_bytes(j);
    *ret = s;
    return 0;
}

int64_t tk_journal_unsent_s(struct tk_journal *j, const char *account, const char *contract_id,
                            int64_t from, int64_t to, const char *except_id)
{
    sqlite3_stmt *st = prepare(j, "SELECT COALESCE(SUM(MAX(tracked_s - acked_s, 0)), 0)"
                                  " FROM segments WHERE account = ? AND contract_id = ?"
                                  " AND start >= ? AND start < ? AND state <> 4 AND id <> ?");
    int64_t n = 0;

    bind_text(st, 1, account);
    bind_text(st, 2, contract_id);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    bind_text(st, 5, except_id ? except_id : "");
    if (sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int tk_journal_refused(struct tk_journal *j, const char *account, struct tk_refused *out, int max)
{
    sqlite3_stmt *st = prepare(j, "SELECT id, contract_id, start, tracked_s, refused FROM segments"
                                  " WHERE state = 4 AND (?1 IS NULL OR account = ?1)"
                                  " ORDER BY start DESC LIMIT ?2");
    int n = 0, rc;

    if (account)
        bind_text(st, 1, account);
    sqlite3_bind_int(st, 2, max);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
        struct tk_refused *r = &out[n++];
        copy_col(st, 0, r->id, sizeof(r->id));
        copy_col(st, 1, r->contract_id, sizeof(r->contract_id));
        r->start = sqlite3_column_int64(st, 2);
        r->tracked_s = sqlite3_column_int(st, 3);
        copy_col(st, 4, r->reason, sizeof(r->reason));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return db_error(j, rc);
    return n;
}
