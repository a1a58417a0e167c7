/*
 * bench-diary: how long the Work Diary of one busy week takes to answer
 * when the store holds a million segments.
 *
 * It fills a fresh data dir through the server's own store and row code
 * (store_open, users_insert, contracts_insert, segments_insert: the schema
 * and rows stintd writes), many contracts times many weeks, every week of
 * every contract full (1008 slots of 600 s, one device, each with a
 * screenshot). Then it starts the real stintd on that dir and times
 * GET /api/v1/contracts/{id}/diary for one week and for one day of the
 * first contract over one keep-alive connection: the day asks for the
 * whole week too, since the week rules (overlap, limit) need it.
 *
 * usage: bench-diary --stintd PATH [--dir DIR] [--segments N] [--requests N]
 * Without --dir a temporary dir is filled and removed. With --dir, a dir
 * this program filled before (it leaves DIR/bench-diary.txt: the segment
 * count, a token, the contract) is used as it is, else DIR is filled and
 * kept, so that repeated runs skip the fill.
 * Output: key=value lines (rates in rows/s, latencies in ms).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench/bench-http.h"
#include "lib/segment.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"
#include "server/auth.h"
#include "server/contracts.h"
#include "server/segments.h"
#include "server/store.h"
#include "server/users.h"

#define SEG_S 600
#define SLOTS_PER_WEEK (7 * 86400 / SEG_S)
#define WEEKS 10
/* Monday 2026-03-02 00:00 UTC: the first week; the timed one. */
#define WEEK0 1772409600LL
#define WEEK_S (7 * 86400LL)
#define BATCH 20000

struct fill {
    struct user client, freelancer;
    char token[AUTH_TOKEN_LEN + 1];
    int ncontracts;
    char (*contracts)[37];
    long next, total; /* segments written so far, and the goal */
    unsigned seed;
};

static int fill_people(struct store_tx *tx, void *arg)
{
    struct fill *f = arg;
    char hash[AUTH_TOKEN_HASH_LEN + 1];
    struct store_stmt *st;
    int r;

    snprintf(f->client.email, sizeof(f->client.email), "client@bench.example");
    snprintf(f->client.name, sizeof(f->client.name), "Bench Client");
    snprintf(f->client.role, sizeof(f->client.role), "client");
    snprintf(f->client.timezone, sizeof(f->client.timezone), "UTC");
    f->freelancer = f->client;
    snprintf(f->freelancer.email, sizeof(f->freelancer.email), "freelancer@bench.example");
    snprintf(f->freelancer.name, sizeof(f->freelancer.name), "Bench Freelancer");
    snprintf(f->freelancer.role, sizeof(f->freelancer.role), "freelancer");
    /* Nobody logs in with a password: the token below is made directly. */
    if ((r = users_insert(tx, &f->client, "-")) < 0 ||
        (r = users_insert(tx, &f->freelancer, "-")) < 0)
        return r;
    auth_new_token(f->token, hash);
    st = store_prepare(tx, "INSERT INTO tokens (hash, user_id, device, created_at)"
                           " VALUES (?, ?, ?, ?)");
    store_bind_text(st, 1, hash);
    store_bind_text(st, 2, f->freelancer.id);
    store_bind_text(st, 3, "bench");
    store_bind_int(st, 4, WEEK0);
    if ((r = store_run(st)) < 0)
        return r;
    for (int i = 0; i < f->ncontracts; i++) {
        struct contract c = {0};
        snprintf(c.client_id, sizeof(c.client_id), "%s", f->client.id);
        snprintf(c.freelancer_id, sizeof(c.freelancer_id), "%s", f->freelancer.id);
        snprintf(c.title, sizeof(c.title), "Contract %d", i);
        snprintf(c.state, sizeof(c.state), "active");
        snprintf(c.currency, sizeof(c.currency), "USD");
        c.hourly_rate_cents = 4500;
        c.screenshots_enabled = true;
        c.tags = json_pack("[s,s]", "design", "dev");
        r = contracts_insert(tx, &c, CONTRACT_NO_LIMIT, WEEK0 - 86400);
        memcpy(f->contracts[i], c.id, sizeof(c.id));
        contracts_release(&c);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Writes the next BATCH segments: contract-major, then week, then slot. */
static int fill_segments(struct store_tx *tx, void *arg)
{
    struct fill *f = arg;
    json_t *tags = json_pack("[s]", "design");
    int r = 0;

    for (int n = 0; n < BATCH && f->next < f->total; n++, f->next++) {
        long k = f->next, per_contract = (long)WEEKS * SLOTS_PER_WEEK;
        struct seg_row row = {0};

        st_uuid_new(row.s.id);
        snprintf(row.s.contract_id, sizeof(row.s.contract_id), "%s",
                 f->contracts[k / per_contract]);
        snprintf(row.s.device_id, sizeof(row.s.device_id), "laptop");
        snprintf(row.freelancer_id, sizeof(row.freelancer_id), "%s", f->freelancer.id);
        row.s.start = WEEK0 + (k % per_contract) * SEG_S;
        for (int b = 0; b < ST_SEG_BUCKETS; b++) {
            f->seed = f->seed * 1103515245u + 12345u;
            row.s.b[b].tracked_s = 60;
            row.s.b[b].keys = (int)((f->seed >> 16) % 120);
            row.s.b[b].mouse = (int)((f->seed >> 8) % 300);
        }
        row.s.memo = "Working on the diary benchmark";
        row.s.tags = tags;
        row.s.shot_status = ST_SHOT_OK;
        row.s.shot_taken_at = row.s.start + 250;
        row.seg_s = SEG_S;
        row.received_at = row.s.start + SEG_S + 5;
        if ((r = segments_insert(tx, &row, row.received_at)) < 0)
            break;
    }
    json_decref(tags);
    if (r == 0) {
        /* Every segment has its screenshot (the blob ids need not exist for the diary). */
        struct store_stmt *st = store_prepare(
            tx, "UPDATE segments SET shot_blob = id || id, thumb_blob = id || 'thumb',"
                " shot_type = 'image/jpeg', shot_bytes = 180000 WHERE shot_blob IS NULL");
        r = store_run(st);
    }
    return r;
}

/* DIR/bench-diary.txt: "SEGMENTS TOKEN CONTRACT", for a later run on the same dir. */
static void write_note(const char *dir, long segments, const struct fill *f)
{
    char *path = xasprintf("%s/bench-diary.txt", dir);
    FILE *fp = fopen(path, "w");

    if (fp) {
        fprintf(fp, "%ld %s %s\n", segments, f->token, f->contracts[0]);
        fclose(fp);
    }
    free(path);
}

/* Reads the note of a dir filled with as many segments; true when it matches. */
static bool read_note(const char *dir, long segments, struct fill *f)
{
    char *path = xasprintf("%s/bench-diary.txt", dir), token[128], contract[64];
    FILE *fp = fopen(path, "r");
    long n = 0;
    bool ok = false;

    free(path);
    if (!fp)
        return false;
    if (fscanf(fp, "%ld %127s %63s", &n, token, contract) == 3 && n == segments &&
        strlen(token) == AUTH_TOKEN_LEN && strlen(contract) == 36) {
        memcpy(f->token, token, AUTH_TOKEN_LEN + 1);
        f->contracts = xcalloc(1, sizeof(*f->contracts));
        memcpy(f->contracts[0], contract, 37);
        ok = true;
    }
    fclose(fp);
    return ok;
}

/* Starts stintd on dir; returns its pid and fills url. */
static pid_t start_stintd(const char *stintd, const char *dir, char *url, size_t urlsz)
{
    int fds[2];
    pid_t pid;
    FILE *out;
    char line[256];

    if (pipe(fds) < 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(stintd, stintd, "--data", dir, "--listen", "127.0.0.1:0", "--log-level", "error",
              (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    out = fdopen(fds[0], "r");
    url[0] = '\0';
    while (fgets(line, sizeof(line), out)) {
        size_t n = strcspn(line + 13, "\n");
        if (strncmp(line, "listening on ", 13) == 0 && n < urlsz) {
            memcpy(url, line + 13, n);
            url[n] = '\0';
            break;
        }
    }
    fclose(out);
    return url[0] ? pid : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Times n GETs of path; prints one line named what. */
static int time_gets(struct bh_conn *c, const char *what, const char *path, const char *token,
                     int n)
{
    double *lat = xmalloc((size_t)n * sizeof(double)), sum = 0;
    size_t bytes = 0;
    int st = 0;

    for (int i = 0; i < 20; i++) /* warm the page cache and the statement caches */
        bh_request(c, "GET", path, token, NULL, 0, NULL, NULL);
    for (int i = 0; i < n; i++) {
        double t0 = bh_now();
        st = bh_request(c, "GET", path, token, NULL, 0, NULL, &bytes);
        lat[i] = bh_now() - t0;
        sum += lat[i];
        if (st != 200) {
            fprintf(stderr, "bench-diary: GET %s: %d\n", path, st);
            free(lat);
            return -1;
        }
    }
    qsort(lat, (size_t)n, sizeof(double), cmp_double);
    printf("diary view=%s requests=%d bytes=%zu mean_ms=%.2f p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f\n",
           what, n, bytes, sum / n * 1e3, lat[n / 2] * 1e3, lat[(size_t)(n * 0.99)] * 1e3,
           lat[n - 1] * 1e3);
    fflush(stdout);
    free(lat);
    return 0;
}

/*
 * The cache's miss path: one GET for each (contract, week) pair in turn, so
 * that no read finds its week rendered already. Run before the warm views.
 */
static int time_cold(struct bh_conn *c, const char *token, int n)
{
    const char *body;
    size_t len;
    json_t *list, *contracts;
    char path[256], from[11], to[11];
    double *lat = xmalloc((size_t)n * sizeof(double)), sum = 0;
    size_t bytes = 0, nc;
    int st, done = 0, rc = -1;

    st = bh_request(c, "GET", "/api/v1/contracts", token, NULL, 0, &body, &len);
    list = st == 200 ? json_loadb(body, len, 0, NULL) : NULL;
    contracts = json_object_get(list, "contracts");
    nc = json_array_size(contracts);
    if (!nc) {
        fprintf(stderr, "bench-diary: GET /contracts: %d\n", st);
        goto out;
    }
    for (int w = 0; w < WEEKS && done < n; w++) {
        time_t t0 = (time_t)(WEEK0 + (int64_t)w * 7 * 86400), t1 = t0 + 6 * 86400;
        struct tm a, b;
        gmtime_r(&t0, &a);
        gmtime_r(&t1, &b);
        strftime(from, sizeof(from), "%Y-%m-%d", &a);
        strftime(to, sizeof(to), "%Y-%m-%d", &b);
        for (size_t i = 0; i < nc && done < n; i++) {
            const char *id = json_string_value(json_object_get(json_array_get(contracts, i), "id"));
            double t;
            snprintf(path, sizeof(path), "/api/v1/contracts/%s/diary?from=%s&to=%s&tz=UTC", id,
                     from, to);
            t = bh_now();
            st = bh_request(c, "GET", path, token, NULL, 0, NULL, &bytes);
            lat[done] = bh_now() - t;
            sum += lat[done++];
            if (st != 200) {
                fprintf(stderr, "bench-diary: GET %s: %d\n", path, st);
                goto out;
            }
        }
    }
    qsort(lat, (size_t)done, sizeof(double), cmp_double);
    printf("diary view=week-cold requests=%d bytes=%zu mean_ms=%.2f p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f\n",
           done, bytes, sum / done * 1e3, lat[done / 2] * 1e3,
           lat[(size_t)(done * 0.99)] * 1e3, lat[done - 1] * 1e3);
    fflush(stdout);
    rc = 0;
out:
    json_decref(list);
    free(lat);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-diary --stintd PATH [--dir DIR] [--segments N] "
                    "[--requests N]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"stintd", required_argument, NULL, 's'},
        {"dir", required_argument, NULL, 'd'},
        {"segments", required_argument, NULL, 'n'},
        {"requests", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *stintd = NULL, *dir = NULL;
    long segments = 1000000;
    int requests = 1000, c, rc = 1;
    char tmpl[] = "/tmp/stint-bench-diary.XXXXXX", url[128], host[64], path[256];
    struct fill f = {.seed = 7};
    struct store *s = NULL;
    struct bh_conn *conn = NULL;
    pid_t pid = -1;
    int port;
    double t0;

    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 's':
            stintd = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'n':
            segments = atol(optarg);
            break;
        case 'r':
            requests = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (!stintd || segments < SLOTS_PER_WEEK || requests < 1)
        usage();
    if (!dir) {
        if (!mkdtemp(tmpl)) {
            perror("mkdtemp");
            return 1;
        }
        rmdir(tmpl);
    }
    if (dir && read_note(dir, segments, &f)) {
        printf("diary fill segments=%ld reused=%s\n", segments, dir);
        goto serve;
    }
    if (auth_init() < 0 || store_open(dir ? dir : tmpl, &s) < 0) {
        fprintf(stderr, "bench-diary: cannot open a store in '%s'\n", dir ? dir : tmpl);
        return 1;
    }

    f.total = segments;
    f.ncontracts =
        (int)((segments + (long)WEEKS * SLOTS_PER_WEEK - 1) / ((long)WEEKS * SLOTS_PER_WEEK));
    f.contracts = xcalloc((size_t)f.ncontracts, sizeof(*f.contracts));
    t0 = bh_now();
    if (store_write(s, fill_people, &f) < 0)
        goto out;
    while (f.next < f.total)
        if (store_write(s, fill_segments, &f) < 0)
            goto out;
    printf("diary fill segments=%ld contracts=%d weeks=%d seconds=%.1f rate=%.0f\n", f.total,
           f.ncontracts, WEEKS, bh_now() - t0, (double)f.total / (bh_now() - t0));
    fflush(stdout);
    store_free(s);
    s = NULL;
    if (dir)
        write_note(dir, segments, &f);

serve:
    pid = start_stintd(stintd, dir ? dir : tmpl, url, sizeof(url));
    if (pid < 0 || bh_parse_url(url, host, &port) < 0 || !(conn = bh_connect(host, port))) {
        fprintf(stderr, "bench-diary: cannot start or reach '%s'\n", stintd);
        goto out;
    }
    if (time_cold(conn, f.token, requests) < 0)
        goto out;
    snprintf(path, sizeof(path), "/api/v1/contracts/%s/diary?from=2026-03-02&to=2026-03-08&tz=UTC",
             f.contracts[0]);
    if (time_gets(conn, "week", path, f.token, requests) < 0)
        goto out;
    snprintf(path, sizeof(path), "/api/v1/contracts/%s/diary?from=2026-03-04&to=2026-03-04&tz=UTC",
             f.contracts[0]);
    if (time_gets(conn, "day", path, f.token, requests) < 0)
        goto out;
    rc = 0;
out:
    bh_close(conn);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    store_free(s);
    free(f.contracts);
    if (!dir) {
        char cmd[sizeof(tmpl) + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
            fprintf(stderr, "bench-diary: cannot remove '%s'\n", tmpl);
    }
    return rc;
}
