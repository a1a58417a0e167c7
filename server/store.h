/*
 * The storage interface of stintd: transactions over portable SQL.
 *
 * Handlers write their SQL once, in the subset that both SQLite and
 * PostgreSQL speak ("?" placeholders, INTEGER/TEXT/BLOB columns, no
 * engine-specific functions); each backend (store-sqlite.c now,
 * store-pg.c later) runs it. No SQLite type appears here.
 *
 * Writes go through store_write(): one writer runs queued write functions
 * back to back inside a single transaction and commits them together (group
 * commit), so concurrent uploads share one fsync. store_write() returns only
 * after that commit is durable, so a caller may acknowledge at once.
 * Reads run on a pool of reader connections and see a consistent snapshot.
 *
 * Threads: store_write() and store_read() may be called from any thread.
 * A struct store_tx and its statements belong to the function they were
 * passed to and must not escape it.
 */
#ifndef STINT_STORE_H
#define STINT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct store_tx;
struct store_stmt;

/* Opens (creating it if needed) the store in directory dir and migrates the schema. */
int store_open(const char *dir, struct store **ret_store);
/*
 * Stops the writer (finishing queued writes, whose callers it lets return)
 * and closes everything. Accepts NULL. No new store_write() or store_read()
 * may start once it has been called.
 */
void store_free(struct store *s);

/*
 * A unit of work. Returns 0 or a positive value on success, a negative error
 * code on failure; on failure inside store_write() all its changes are
 * rolled back (the others in the same group are not affected).
 */
typedef int (*store_fn)(struct store_tx *tx, void *arg);

/* Runs fn in a write transaction; returns fn's result once it is durable, or -EIO. */
int store_write(struct store *s, store_fn fn, void *arg);
/* Runs fn in a read-only snapshot; returns fn's result. */
int store_read(struct store *s, store_fn fn, void *arg);

/*
 * Returns the prepared statement for sql (a string literal: statements are
 * cached by it), reset and with no bindings. A statement that does not
 * compile is a programming error and aborts.
 */
struct store_stmt *store_prepare(struct store_tx *tx, const char *sql);
/* Binders; idx counts from 1. Text and blobs are copied. A NULL text binds NULL. */
void store_bind_int(struct store_stmt *st, int idx, int64_t v);
void store_bind_text(struct store_stmt *st, int idx, const char *v);
void store_bind_blob(struct store_stmt *st, int idx, const void *v, size_t len);
void store_bind_null(struct store_stmt *st, int idx);
/*
 * Advances: 1 when a row is ready, 0 when done, -EEXIST on a uniqueness
 * violation, -EIO on any other failure.
 */
int store_step(struct store_stmt *st);
/* Runs a statement that returns no rows; 0, -EEXIST or -EIO. */
int store_run(struct store_stmt *st);
/* Column readers for the current row; idx counts from 0. Text is borrowed until the next step. */
int64_t store_col_int(struct store_stmt *st, int idx);
const char *store_col_text(struct store_stmt *st, int idx); /* NULL for SQL NULL */
const void *store_col_blob(struct store_stmt *st, int idx, size_t *ret_len);
bool store_col_null(struct store_stmt *st, int idx);
/* Rows changed by the last statement run in this transaction. */
int64_t store_changes(struct store_tx *tx);

/* Figures for the health endpoint and benchmarks. */
struct store_stats {
    uint64_t commits;      /* group commits done */
    uint64_t writes;       /* write functions run */
    uint64_t max_group;    /* the largest group seen */
};
void store_get_stats(struct store *s, struct store_stats *ret_stats);

#endif
