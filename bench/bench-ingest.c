/*
 * bench-ingest: how many durable segment uploads per second a running
 * stintd takes, and at what latency, with N concurrent tracker-like clients.
 *
 * It starts nothing: bench/ingest.sh starts a release stintd with
 * --test-clock on a fresh data dir, with an admin made offline, and points
 * this program at it. Here we sign up a client and a freelancer, offer and
 * accept one contract per client, move the test clock to Monday 11:00 of a
 * week (so the previous week, still open until 12:00, and the morning give
 * 1074 past slots), and then every client PUTs distinct segments over its
 * own keep-alive connection for --seconds: client i uploads to contract i,
 * slot k % 1074, device "bench-i-(k / 1074)", so no two uploads share an id
 * or a (contract, device, slot).
 *
 * With --pid (stintd's), it also reads the CPU time stintd's threads used
 * during the timed part from /proc: the writer (the threads named
 * "stintd": the writer thread, the main thread sleeps) and the HTTP workers
 * ("MHD-worker"). Per upload, these are steadier than the rate on a
 * machine shared with other work.
 *
 * Output: one line of key=value pairs (rates in segments/s, latencies in ms,
 * CPU in microseconds per acknowledged upload).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench-http.h"
#include "lib/utc.h"
#include "lib/uuid.h"
#include "lib/xalloc.h"

#define SEG_S 600
/* Monday 2026-03-02 00:00 UTC: the week the uploads start in. */
#define WEEK0 1772409600LL
#define WEEK_S (7 * 86400LL)
/* Slots open at Monday 11:00 of the next week: all of WEEK0 and 66 of the next. */
#define NSLOTS (1008 + 66)
#define MAX_CLIENTS 1024

struct opts {
    char host[64];
    int port;
    const char *admin_email, *admin_password;
    int clients;
    double seconds;
    int pid; /* stintd's, for its CPU times; 0: none */
};

/* CPU seconds used so far by pid's threads named "stintd" and by the others. */
static void cpu_times(int pid, double *ret_writer, double *ret_http)
{
    char path[64], buf[512];
    double hz = (double)sysconf(_SC_CLK_TCK);
    struct dirent *e;
    DIR *d;

    *ret_writer = *ret_http = 0;
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    if (!(d = opendir(path)))
        return;
    while ((e = readdir(d))) {
        unsigned long ut, st;
        char *comm_end;
        FILE *f;
        size_t n;

        if (e->d_name[0] == '.')
            continue;
        snprintf(buf, sizeof(buf), "/proc/%d/task/%s/stat", pid, e->d_name);
        if (!(f = fopen(buf, "r")))
            continue;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* pid (comm) state ppid ... field 14 utime, 15 stime */
        comm_end = strrchr(buf, ')');
        if (!comm_end || sscanf(comm_end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                                &ut, &st) != 2)
            continue;
        if (strncmp(buf + strcspn(buf, "(") + 1, "stintd)", 7) == 0)
            *ret_writer += (double)(ut + st) / hz;
        else
            *ret_http += (double)(ut + st) / hz;
    }
    closedir(d);
}

struct client {
    int idx;
    const struct opts *o;
    const char *token;
    char contract[40];
    pthread_barrier_t *go;
    volatile bool *stop;
    double *lat; /* seconds per acknowledged upload */
    size_t nlat, cap;
    long failed;
    int first_error; /* the first status or error that was not a 2xx */
};

static void die(const char *what, int status, const char *body)
{
    fprintf(stderr, "bench-ingest: %s: %d %s\n", what, status, body ? body : "");
    exit(1);
}

/* One setup request; returns the parsed answer (a new reference). */
static json_t *call(struct bh_conn *c, const char *method, const char *path, const char *token,
                    json_t *body, int want)
{
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    const char *rb;
    size_t rl;
    int st = bh_request(c, method, path, token, s, s ? strlen(s) : 0, &rb, &rl);
    json_t *out;

    free(s);
    json_decref(body);
    if (st != want)
        die(path, st, st > 0 ? rb : strerror(-st));
    out = json_loadb(rb, rl, 0, NULL);
    if (!out)
        die(path, st, "answer is not JSON");
    return out;
}

static char *login(struct bh_conn *c, const char *email, const char *password)
{
    json_t *a = call(c, "POST", "/api/v1/login", NULL,
                     json_pack("{s:s,s:s}", "email", email, "password", password), 200);
    char *t = xstrdup(json_string_value(json_object_get(a, "token")));

    json_decref(a);
    return t;
}

static void set_clock(struct bh_conn *c, const char *admin, int64_t t)
{
    char stamp[ST_TIME_STRLEN];

    st_utc_format(t, stamp);
    json_decref(
        call(c, "POST", "/api/v1/admin/clock", admin, json_pack("{s:s}", "now", stamp), 200));
}

static void signup(struct bh_conn *c, const char *email, const char *role)
{
    json_decref(call(c, "POST", "/api/v1/signup", NULL,
                     json_pack("{s:s,s:s,s:s,s:s}", "email", email, "password", "bench password 1",
                               "name", "Bench", "role", role),
                     201));
}

static void setup(const struct opts *o, struct client *cl, char **ret_token)
{
    struct bh_conn *c = bh_connect(o->host, o->port);
    char id[ST_UUID_LEN + 1], client_email[80], fl_email[80], *admin, *client, *fl;

    if (!c)
        die("connect", -errno, strerror(errno));
    st_uuid_new(id);
    snprintf(client_email, sizeof(client_email), "client-%.8s@bench.example", id);
    snprintf(fl_email, sizeof(fl_email), "freelancer-%.8s@bench.example", id);
    admin = login(c, o->admin_email, o->admin_password);
    set_clock(c, admin, WEEK0 + 60);
    signup(c, client_email, "client");
    signup(c, fl_email, "freelancer");
    client = login(c, client_email, "bench password 1");
    fl = login(c, fl_email, "bench password 1");
    for (int i = 0; i < o->clients; i++) {
        json_t *a = call(c, "POST", "/api/v1/contracts", client,
                         json_pack("{s:s,s:s,s:i,s:s,s:b,s:b}", "freelancer_email", fl_email,
                                   "title", "Bench", "hourly_rate_cents", 4500, "currency", "USD",
                                   "screenshots_enabled", 0, "memo_required", 0),
                         201);
        char path[128];
        snprintf(cl[i].contract, sizeof(cl[i].contract), "%s",
                 json_string_value(json_object_get(json_object_get(a, "contract"), "id")));
        json_decref(a);
        snprintf(path, sizeof(path), "/api/v1/contracts/%s/accept", cl[i].contract);
        json_decref(call(c, "POST", path, fl, NULL, 200));
    }
    set_clock(c, admin, WEEK0 + WEEK_S + 11 * 3600);
    free(admin);
    free(client);
    *ret_token = fl;
    bh_close(c);
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    struct bh_conn *c = bh_connect(cl->o->host, cl->o->port);
    char body[2048], path[64], id[ST_UUID_LEN + 1], start[ST_TIME_STRLEN];
    unsigned seed = (unsigned)cl->idx * 2654435761u + 1;

    if (!c)
        die("connect", -errno, strerror(errno));
    pthread_barrier_wait(cl->go);
    for (long k = 0; !*cl->stop; k++) {
        int n = 0, tracked = 30 + (int)(k % 31), st;
        double t0;

        st_uuid_new(id);
        st_utc_format(WEEK0 + (k % NSLOTS) * SEG_S, start);
        n += snprintf(body + n, sizeof(body) - (size_t)n,
                      "{\"contract_id\":\"%s\",\"device_id\":\"bench-%d-%ld\",\"start\":\"%s\","
                      "\"minutes\":[",
                      cl->contract, cl->idx, k / NSLOTS, start);
        for (int b = 0; b < 10; b++) {
            seed = seed * 1103515245u + 12345u;
            n += snprintf(body + n, sizeof(body) - (size_t)n,
                          "%s{\"tracked_s\":%d,\"keys\":%u,\"mouse\":%u,\"synthetic\":0}",
                          b ? "," : "", tracked, (seed >> 16) % 90, (seed >> 8) % 200);
        }
        n += snprintf(body + n, sizeof(body) - (size_t)n,
                      "],\"memo\":\"Benchmarking the ingest path\",\"tags\":[],\"flags\":[]}");
        snprintf(path, sizeof(path), "/api/v1/segments/%s", id);
        t0 = bh_now();
        st = bh_request(c, "PUT", path, cl->token, body, (size_t)n, NULL, NULL);
        if (st == 200 || st == 201) {
            if (cl->nlat == cl->cap) {
                cl->cap = cl->cap ? cl->cap * 2 : 4096;
                cl->lat = xrealloc(cl->lat, cl->cap * sizeof(double));
            }
            cl->lat[cl->nlat++] = bh_now() - t0;
        } else {
            if (!cl->failed)
                cl->first_error = st;
            cl->failed++;
        }
    }
    bh_close(c);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-ingest --url http://HOST:PORT --admin-email E "
                    "--admin-password P [--clients N] [--seconds S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"url", required_argument, NULL, 'u'},
        {"admin-email", required_argument, NULL, 'e'},
        {"admin-password", required_argument, NULL, 'p'},
        {"clients", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"pid", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    struct opts o = {.clients = 1, .seconds = 5};
    const char *url = NULL;
    struct client *cl;
    pthread_t *th;
    pthread_barrier_t go;
    volatile bool stop = false;
    char *token;
    double t0, elapsed, *all, w0 = 0, h0 = 0, w1 = 0, h1 = 0;
    size_t total = 0;
    long failed = 0;
    int c, first_error = 0;

    while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'e':
            o.admin_email = optarg;
            break;
        case 'p':
            o.admin_password = optarg;
            break;
        case 'c':
            o.clients = atoi(optarg);
            break;
        case 's':
            o.seconds = atof(optarg);
            break;
        case 'P':
            o.pid = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (!url || !o.admin_email || !o.admin_password || o.clients < 1 || o.clients > MAX_CLIENTS ||
        o.seconds <= 0 || bh_parse_url(url, o.host, &o.port) < 0)
        usage();

    cl = xcalloc((size_t)o.clients, sizeof(*cl));
    th = xcalloc((size_t)o.clients, sizeof(*th));
    setup(&o, cl, &token);
    pthread_barrier_init(&go, NULL, (unsigned)o.clients + 1);
    for (int i = 0; i < o.clients; i++) {
        cl[i].idx = i;
        cl[i].o = &o;
        cl[i].token = token;
        cl[i].go = &go;
        cl[i].stop = &stop;
        pthread_create(&th[i], NULL, client_main, &cl[i]);
    }
    if (o.pid)
        cpu_times(o.pid, &w0, &h0);
    pthread_barrier_wait(&go);
    t0 = bh_now();
    while (bh_now() - t0 < o.seconds) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    stop = true;
    for (int i = 0; i < o.clients; i++)
        pthread_join(th[i], NULL);
    elapsed = bh_now() - t0;
    if (o.pid)
        cpu_times(o.pid, &w1, &h1);

    for (int i = 0; i < o.clients; i++) {
        total += cl[i].nlat;
        failed += cl[i].failed;
        if (!first_error)
            first_error = cl[i].first_error;
    }
    all = xmalloc((total + 1) * sizeof(double));
    total = 0;
    for (int i = 0; i < o.clients; i++) {
        memcpy(all + total, cl[i].lat, cl[i].nlat * sizeof(double));
        total += cl[i].nlat;
        free(cl[i].lat);
    }
    qsort(all, total, sizeof(double), cmp_double);
    printf("clients=%d ok=%zu failed=%ld seconds=%.2f rate=%.0f p50_ms=%.2f p99_ms=%.2f "
           "max_ms=%.2f",
           o.clients, total, failed, elapsed, (double)total / elapsed,
           total ? all[total / 2] * 1e3 : 0, total ? all[(size_t)((double)total * 0.99)] * 1e3 : 0,
           total ? all[total - 1] * 1e3 : 0);
    if (o.pid && total)
        printf(" writer_cpu_us=%.0f http_cpu_us=%.0f", (w1 - w0) / (double)total * 1e6,
               (h1 - h0) / (double)total * 1e6);
    printf("\n");
    if (failed)
        fprintf(stderr, "bench-ingest: %ld uploads failed (first: %d)\n", failed, first_error);
    free(all);
    free(cl);
    free(th);
    free(token);
    return failed ? 1 : 0;
}
