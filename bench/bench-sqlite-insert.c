/*
 * bench-sqlite-insert: the floor under stintd's ingest figure. Inserts the
 * rows an upload inserts (the segments table of server/schema.c, the INSERT
 * of server/segments.c) straight into SQLite with the server's settings
 * (WAL, synchronous=FULL, foreign keys on), on the same disk, in three ways:
 * one transaction per row (one fsync each, as with no group commit), and
 * batches of 32 and 1024 rows per transaction (what group commit can reach).
 *
 * Each mode starts on a fresh database, so none pays for another's rows.
 *
 * Usage: bench-sqlite-insert DIR [SECONDS-PER-MODE]. DIR is created and
 * left behind; bench/ingest.sh removes it. For what-if runs, the SQL in
 * $BENCH_SQLITE_SQL runs before the schema is made (pragmas) and the SQL
 * in $BENCH_SQLITE_AFTER after it (say, dropping an index);
 * BENCH_SQLITE_IDS=ordered uses time-ordered ids (as UUIDv7) instead of
 * random version 4 UUIDs.
 * Output: one key=value line per mode.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/uuid.h"
#include "server/schema.h"

#define SEG_S 600
#define WEEK0 1772409600LL

static const char insert_sql[] =
    "INSERT INTO segments (id, contract_id, freelancer_id, device_id, start, seg_s,"
    " minutes, tracked_s, keys, mouse, synthetic, activity, memo, tags, flags, manual,"
    " shot_status, shot_reason, shot_taken_at, received_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "bench-sqlite-insert: %s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

static void exec(sqlite3 *db, const char *sql)
{
    must(db, sqlite3_exec(db, sql, NULL, NULL, NULL), sql);
}

static bool ordered_ids;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/*
 * Inserts rows in transactions of 'batch' rows for 'seconds'; prints the
 * figures. Rows go to distinct slots of one contract, device by device, as
 * a tracker's would; the insert is the one of segments_insert().
 */
static void run(sqlite3 *db, sqlite3_stmt *ins, int batch, double seconds, long *slot)
{
    static const char minutes[] = "60,31,120,0;60,12,80,0;60,40,20,0;60,3,150,0;60,0,90,0;"
                                  "60,22,60,0;60,9,10,0;60,17,33,0;60,28,71,0;60,5,140,0";
    size_t cap = 1 << 16, ntx = 0;
    double *lat = malloc(cap * sizeof(double)), t0 = now(), t;
    long rows = 0;

    do {
        double tx0 = now();
        if (batch > 1)
            exec(db, "BEGIN IMMEDIATE");
        for (int i = 0; i < batch; i++, rows++) {
            char id[ST_UUID_LEN + 1], dev[32];
            long k = (*slot)++;

            if (ordered_ids) /* like UUIDv7: time-ordered, so inserts append to the index */
                snprintf(id, sizeof(id), "%08lx-0000-7000-8000-%012llx",
                         (unsigned long)(k >> 16) & 0xffffffffUL,
                         (unsigned long long)k & 0xffffffffffffULL);
            else
                st_uuid_new(id);
            snprintf(dev, sizeof(dev), "bench-%ld", k / 1008);
            sqlite3_bind_text(ins, 1, id, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(ins, 2, "c0000000-0000-4000-8000-000000000001", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 3, "f0000000-0000-4000-8000-000000000001", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 4, dev, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(ins, 5, WEEK0 + (k % 1008) * SEG_S);
            sqlite3_bind_int(ins, 6, SEG_S);
            sqlite3_bind_text(ins, 7, minutes, -1, SQLITE_STATIC);
            sqlite3_bind_int(ins, 8, 600);
            sqlite3_bind_int(ins, 9, 167);
            sqlite3_bind_int(ins, 10, 774);
            sqlite3_bind_int(ins, 11, 0);
            sqlite3_bind_int(ins, 12, 10);
            sqlite3_bind_text(ins, 13, "Benchmarking the ingest path", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 14, "[]", -1, SQLITE_STATIC);
            sqlite3_bind_text(ins, 15, "[]", -1, SQLITE_STATIC);
            sqlite3_bind_int(ins, 16, 0);
            sqlite3_bind_null(ins, 17);
            sqlite3_bind_null(ins, 18);
            sqlite3_bind_null(ins, 19);
            sqlite3_bind_int64(ins, 20, WEEK0);
            sqlite3_bind_int64(ins, 21, WEEK0);
            must(db, sqlite3_step(ins), "insert");
            sqlite3_reset(ins);
        }
        if (batch > 1)
            exec(db, "COMMIT");
        t = now();
        if (ntx == cap)
            lat = realloc(lat, (cap *= 2) * sizeof(double));
        lat[ntx++] = t - tx0;
    } while (t - t0 < seconds);
    qsort(lat, ntx, sizeof(double), cmp_double);
    printf("mode=%s batch=%d rows=%ld seconds=%.2f rate=%.0f commit_p50_ms=%.2f "
           "commit_p99_ms=%.2f\n",
           batch == 1 ? "txn-per-row" : "batched", batch, rows, t - t0, (double)rows / (t - t0),
           lat[ntx / 2] * 1e3, lat[(size_t)((double)ntx * 0.99)] * 1e3);
    fflush(stdout);
    free(lat);
}

/* A fresh database DIR/insert-BATCH.db with the server's schema and settings. */
static sqlite3 *open_db(const char *dir, int batch)
{
    char path[4096];
    sqlite3 *db;

    snprintf(path, sizeof(path), "%s/insert-%d.db", dir, batch);
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        fprintf(stderr, "bench-sqlite-insert: cannot open '%s'\n", path);
        exit(1);
    }
    exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
    if (getenv("BENCH_SQLITE_SQL")) /* what-if experiments: extra pragmas, dropped indexes */
        exec(db, getenv("BENCH_SQLITE_SQL"));
    for (int i = 0; schema_migrations[i]; i++)
        exec(db, schema_migrations[i]);
    /* The rows the segments' foreign keys point at. */
    exec(db, "INSERT INTO users (id, email, name, role, timezone, pw_hash, created_at) VALUES"
             " ('u0000000-0000-4000-8000-000000000001', 'c@x', 'C', 'client', 'UTC', '-', 0),"
             " ('f0000000-0000-4000-8000-000000000001', 'f@x', 'F', 'freelancer', 'UTC', '-', 0);"
             "INSERT INTO contracts (id, client_id, freelancer_id, title, state,"
             " hourly_rate_cents, currency, manual_time_allowed, screenshots_enabled,"
             " memo_required, tags, tag_required, created_at, updated_at) VALUES"
             " ('c0000000-0000-4000-8000-000000000001', 'u0000000-0000-4000-8000-000000000001',"
             " 'f0000000-0000-4000-8000-000000000001', 'Bench', 'active', 4500, 'USD', 1, 0, 0,"
             " '[]', 0, 0, 0);");
    if (getenv("BENCH_SQLITE_AFTER"))
        exec(db, getenv("BENCH_SQLITE_AFTER"));
    return db;
}

int main(int argc, char **argv)
{
    static const int batches[] = {1, 32, 1024};
    double seconds = argc > 2 ? atof(argv[2]) : 3;

    if (argc < 2) {
        fprintf(stderr, "usage: bench-sqlite-insert DIR [SECONDS-PER-MODE]\n");
        return 2;
    }
    if (mkdir(argv[1], 0700) < 0 && errno != EEXIST) {
        perror(argv[1]);
        return 1;
    }
    ordered_ids = getenv("BENCH_SQLITE_IDS") && strcmp(getenv("BENCH_SQLITE_IDS"), "ordered") == 0;
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        sqlite3 *db = open_db(argv[1], batches[i]);
        sqlite3_stmt *ins;
        long slot = 0;

        must(db, sqlite3_prepare_v3(db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT, &ins, NULL),
             "prepare");
        run(db, ins, batches[i], seconds, &slot);
        sqlite3_finalize(ins);
        sqlite3_close(db);
    }
    return 0;
}
