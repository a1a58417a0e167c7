/*
 * Unit tests of tk_transport_helper, the transport that runs each upload
 * pass in a short-lived helper process. The helpers here are real
 * processes: small shell scripts standing in for `stint _upload` that
 * write good, bad or no lines, die, hang or read their stdin. What must
 * hold: the token arrives on stdin and never in argv; every report of a
 * good helper reaches the sink in order; a helper that dies, writes a line
 * that is not ours, an endless line or anything after its outcome ends the
 * pass as "offline" with a sentence for the user, never a crash or a hang;
 * cancelling kills a helper that hangs; a start's answers make the round
 * trip through tk_helper_write_start and tk_helper_read_start; the token
 * is read back from a pipe whole, capped, and refused when empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/str.h"
#include "lib/xalloc.h"
#include "tracker/transport.h"

#define TOKEN "tok-3f9a1c77e2"
#define CONTRACT "0f0e0d0c-0b0a-4908-8706-050403020100"

/* What the sink was told, in order, as text. */
struct record {
    char log[8192];
    int online, errors, acked, refused, totals, auth, progress;
    char last_error[256];
    struct tk_totals t;
    struct tk_refused r;
    struct tk_acked a;
};

static void note(struct record *rec, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct record *rec, const char *fmt, ...)
{
    size_t used = strlen(rec->log);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rec->log + used, sizeof(rec->log) - used, fmt, ap);
    va_end(ap);
}

static void s_online(void *ud, bool online)
{
    struct record *rec = ud;
    rec->online++;
    note(rec, "online=%d;", online);
}

static void s_error(void *ud, const char *msg)
{
    struct record *rec = ud;
    rec->errors++;
    snprintf(rec->last_error, sizeof(rec->last_error), "%s", msg);
    note(rec, "error;");
}

static void s_acked(void *ud, const struct tk_acked *a)
{
    struct record *rec = ud;
    rec->acked++;
    rec->a = *a;
    note(rec, "acked;");
}

static void s_refused(void *ud, const struct tk_refused *r)
{
    struct record *rec = ud;
    rec->refused++;
    rec->r = *r;
    note(rec, "refused;");
}

static void s_totals(void *ud, const struct tk_totals *t)
{
    struct record *rec = ud;
    rec->totals++;
    rec->t = *t;
    note(rec, "totals;");
}

static void s_auth(void *ud)
{
    struct record *rec = ud;
    rec->auth++;
    note(rec, "auth;");
}

static void s_progress(void *ud)
{
    struct record *rec = ud;
    rec->progress++;
    note(rec, "progress;");
}

static bool s_cancelled(void *ud)
{
    return false;
}

static struct tk_pass_sink sink_for(struct record *rec)
{
    memset(rec, 0, sizeof(*rec));
    return (struct tk_pass_sink){.online = s_online,
                                 .error = s_error,
                                 .acked = s_acked,
                                 .refused = s_refused,
                                 .totals = s_totals,
                                 .auth_failed = s_auth,
                                 .progress = s_progress,
                                 .cancelled = s_cancelled,
                                 .ud = rec};
}

struct fx {
    char dir[64];
    char script[128];
    void *ctx;
};

/* Writes the helper script (a body of sh) and opens a transport on it. */
static void helper(struct fx *f, const char *body)
{
    struct tk_transport_cfg cfg = {.server = "http://127.0.0.1:9",
                                   .token = TOKEN,
                                   .account = "http://127.0.0.1:9 me@example.com",
                                   .dir = f->dir,
                                   .helper = f->script};
    FILE *out = fopen(f->script, "w");
    char err[256];

    assert_non_null(out);
    fprintf(out, "#!/bin/sh\nD='%s'\n%s\n", f->dir, body);
    fclose(out);
    assert_int_equal(chmod(f->script, 0700), 0);
    assert_int_equal(tk_transport_helper.open(&cfg, NULL, &f->ctx, err, sizeof(err)), 0);
}

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/stint-transport-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->script, sizeof(f->script), "%s/helper.sh", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->dir);

    tk_transport_helper.close(f->ctx);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f);
    return 0;
}

static enum tk_pass_outcome pass(struct fx *f, struct record *rec, bool totals)
{
    struct tk_pass_sink sink = sink_for(rec);
    struct tk_pass_args a = {.account = "http://127.0.0.1:9 me@example.com",
                             .contract_id = CONTRACT,
                             .tz = "Europe/Berlin",
                             .totals = totals};

    return tk_transport_helper.pass(f->ctx, &a, &sink);
}

static char *slurp(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *in = fopen(path, "r");
    char *buf = xcalloc(1, 4096);

    free(path);
    if (in) {
        size_t n = fread(buf, 1, 4095, in);
        buf[n] = '\0';
        fclose(in);
    }
    return buf;
}

/* A good helper's reports reach the sink in order; the token came on stdin, not in argv. */
static void test_reports_in_order_and_token_on_stdin(void **state)
{
    struct fx *f = *state;
    struct record rec;
    char *stdin_text, *args;

    helper(f, "cat > \"$D/stdin\"\n"
              "printf '%s\\n' \"$@\" > \"$D/args\"\n"
              "echo '{\"online\":true}'\n"
              "echo '{\"acked\":{\"contract_id\":\"" CONTRACT
              "\",\"start\":1795000200,\"delta\":540,\"at\":1795000900}}'\n"
              "echo '{\"progress\":true}'\n"
              "echo '{\"refused\":{\"id\":\"11111111-2222-4333-8444-555555555555\","
              "\"contract_id\":\"" CONTRACT "\",\"start\":1795000800,\"tracked_s\":60,"
              "\"reason\":\"locked: the week is locked\"}}'\n"
              "echo '{\"progress\":true}'\n"
              "echo '{\"totals\":{\"contract_id\":\"" CONTRACT "\",\"week_start\":1794873600,"
              "\"day_start\":1794956400,\"week_s\":7200,\"today_s\":3600,\"weekly_limit_s\":-1}}'\n"
              "echo '{\"outcome\":\"ok\"}'\n");
    assert_int_equal(pass(f, &rec, true), TK_PASS_OK);
    assert_string_equal(rec.log, "online=1;acked;progress;refused;progress;totals;");
    assert_string_equal(rec.a.contract_id, CONTRACT);
    assert_int_equal(rec.a.delta, 540);
    assert_int_equal(rec.r.tracked_s, 60);
    assert_string_equal(rec.r.reason, "locked: the week is locked");
    assert_int_equal(rec.t.week_s, 7200);
    assert_int_equal(rec.t.today_s, 3600);
    assert_int_equal(rec.t.weekly_limit_s, -1);

    stdin_text = slurp(f->dir, "stdin");
    args = slurp(f->dir, "args");
    assert_string_equal(stdin_text, TOKEN "\n");
    assert_null(strstr(args, TOKEN));
    /* What the pass is for is in argv: the journal, the account, the totals' contract and zone. */
    assert_non_null(strstr(args, "_upload\n"));
    assert_non_null(strstr(args, f->dir));
    assert_non_null(strstr(args, "--totals\n" CONTRACT "\n--tz\nEurope/Berlin\n"));
    free(stdin_text);
    free(args);

    /* Without totals asked, the helper is not asked for them either. */
    assert_int_equal(pass(f, &rec, false), TK_PASS_OK);
    args = slurp(f->dir, "args");
    assert_null(strstr(args, "--totals"));
    free(args);
}

static void test_outcomes_offline_and_auth(void **state)
{
    struct fx *f = *state;
    struct record rec;

    helper(f, "cat >/dev/null\n"
              "if [ -e \"$D/second\" ]; then echo '{\"outcome\":\"auth\"}'; exit 0; fi\n"
              ": > \"$D/second\"\n"
              "echo '{\"online\":false}'\n"
              "echo '{\"error\":\"connection refused (http://127.0.0.1:9)\"}'\n"
              "echo '{\"outcome\":\"offline\"}'\n");
    assert_int_equal(pass(f, &rec, false), TK_PASS_OFFLINE);
    assert_string_equal(rec.log, "online=0;error;");
    assert_string_equal(rec.last_error, "connection refused (http://127.0.0.1:9)");
    assert_int_equal(pass(f, &rec, false), TK_PASS_AUTH);
}

/* Helpers that misbehave: each pass ends "offline" with a sentence, and nothing crashes. */
static void test_broken_helpers_end_the_pass_offline(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *body;
        const char *said; /* in the error the user sees */
    } cases[] = {
        {"cat >/dev/null; exit 3", "stopped before it was done (exit status 3)"},
        {"cat >/dev/null; kill -9 $$", "stopped before it was done (signal 9)"},
        {"cat >/dev/null; echo '{\"online\":true}'", "stopped before it was done (exit status 0)"},
        {"cat >/dev/null; echo 'Segmentation fault'; echo '{\"outcome\":\"ok\"}'",
         "wrote what it should not"},
        {"cat >/dev/null; echo '{\"acked\":{\"contract_id\":7}}'", "wrote what it should not"},
        {"cat >/dev/null; echo '{\"online\":true,\"error\":\"two\"}'", "wrote what it should not"},
        {"cat >/dev/null; echo '{\"outcome\":\"ok\"}'; echo '{\"online\":true}'",
         "wrote what it should not"},
        {"cat >/dev/null; echo '{\"outcome\":\"maybe\"}'", "wrote what it should not"},
        /* An endless line: cut at the cap, the helper killed; the pass does not wait for it. */
        {"cat >/dev/null; exec yes x | tr -d '\\n'", "wrote what it should not"},
        {"cat >/dev/null; echo '{\"totals\":{\"contract_id\":\"" CONTRACT "\",\"week_start\":0,"
         "\"day_start\":0,\"week_s\":-5,\"today_s\":0,\"weekly_limit_s\":-1}}'",
         "wrote what it should not"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct record rec;

        tk_transport_helper.close(f->ctx);
        f->ctx = NULL;
        helper(f, cases[i].body);
        assert_int_equal(pass(f, &rec, false), TK_PASS_OFFLINE);
        if (!strstr(rec.last_error, cases[i].said))
            fail_msg("case %zu: error '%s' lacks '%s'", i, rec.last_error, cases[i].said);
        assert_int_equal(rec.totals, 0);
    }
}

static void test_missing_helper_is_said(void **state)
{
    struct fx *f = *state;
    struct record rec;

    helper(f, "exit 0");
    assert_int_equal(unlink(f->script), 0);
    assert_int_equal(pass(f, &rec, false), TK_PASS_OFFLINE);
    assert_non_null(strstr(rec.last_error, "cannot run the upload helper"));
    assert_non_null(strstr(rec.last_error, f->script));
}

struct canceller {
    void *ctx;
    const char *flag; /* the helper writes it once it runs */
};

static void *cancel_soon(void *arg)
{
    struct canceller *c = arg;
    struct timespec ts = {0, 10 * 1000 * 1000};

    while (access(c->flag, F_OK) != 0)
        nanosleep(&ts, NULL);
    tk_transport_helper.cancel(c->ctx);
    return NULL;
}

/* A helper that hangs is killed by cancel; the pass returns at once, quietly. */
static void test_cancel_kills_a_hanging_helper(void **state)
{
    struct fx *f = *state;
    struct record rec;
    char *flag = xasprintf("%s/running", f->dir);
    struct canceller c;
    struct timespec t0, t1;
    pthread_t th;

    helper(f, "cat >/dev/null; : > \"$D/running\"; echo '{\"online\":true}'; exec sleep 600");
    c = (struct canceller){.ctx = f->ctx, .flag = flag};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(pthread_create(&th, NULL, cancel_soon, &c), 0);
    assert_int_equal(pass(f, &rec, false), TK_PASS_OFFLINE);
    pthread_join(th, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 60);
    assert_string_equal(rec.log, "online=1;"); /* no complaint for a cancel */
    /* Cancelled for good: no further helper runs. */
    assert_int_equal(unlink(flag), 0);
    assert_int_equal(pass(f, &rec, false), TK_PASS_OFFLINE);
    assert_int_equal(access(flag, F_OK), -1);
    free(flag);
}

/* A start's answers survive the trip through the wire, and bad lines are refused. */
static void test_start_round_trip(void **state)
{
    struct fx *f = *state;
    struct tk_start_info in = {.fetched = true,
                               .segment_s = 600,
                               .contract_r = 0,
                               .contract_status = 200,
                               .contract_message = "HTTP 200",
                               .tz = "Asia/Kolkata"};
    struct tk_start_info out = {0};
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    struct tk_transport_cfg cfg = {.server = "http://127.0.0.1:9", .token = TOKEN,
                                   .helper = f->script};

    in.contract = json_pack("{s:s,s:b,s:[s,s]}", "state", "active", "memo_required", true,
                            "tags", "design", "review");
    tk_helper_write_start(mem, &in);
    fclose(mem);
    assert_int_equal(tk_helper_read_start(line, &out), 0);
    assert_true(out.fetched);
    assert_int_equal(out.segment_s, 600);
    assert_int_equal(out.contract_status, 200);
    assert_string_equal(out.tz, "Asia/Kolkata");
    assert_true(json_equal(out.contract, in.contract));
    json_decref(out.contract);

    assert_int_equal(tk_helper_read_start("{\"start\":{\"segment_s\":\"600\"}}", &out), -EINVAL);
    assert_int_equal(tk_helper_read_start("not json", &out), -EINVAL);

    /* Through a helper process: what it wrote is what the start gets; a dead one is said. */
    {
        FILE *script = fopen(f->script, "w");
        struct tk_start_info got = {0};
        snprintf(got.contract_id, sizeof(got.contract_id), "%s", CONTRACT);
        assert_non_null(script);
        fprintf(script, "#!/bin/sh\ncat >/dev/null\necho '%s'\n", strtok(line, "\n"));
        fclose(script);
        assert_int_equal(chmod(f->script, 0700), 0);
        tk_transport_helper.fetch_start(&cfg, true, &got);
        assert_int_equal(got.segment_s, 600);
        assert_true(json_equal(got.contract, in.contract));
        json_decref(got.contract);

        script = fopen(f->script, "w");
        fprintf(script, "#!/bin/sh\nexit 1\n");
        fclose(script);
        memset(&got, 0, sizeof(got));
        tk_transport_helper.fetch_start(&cfg, true, &got);
        assert_null(got.contract);
        assert_int_equal(got.contract_r, -EAGAIN);
        assert_non_null(strstr(got.neterr, "the upload helper failed (exit status 1)"));
    }
    json_decref(in.contract);
    free(line);
}

/* What a pipe holds, read back as the recorder and the helper read their token. */
static char *secret_from(const char *text, size_t len, size_t max)
{
    int p[2];
    char *got;

    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], text, len), (ssize_t)len);
    close(p[1]);
    got = st_read_secret_line(p[0], max);
    close(p[0]);
    return got;
}

/* The token handover: the first line, capped; empty or too long is refused. */
static void test_secret_line(void **state)
{
    char *got, *big = xmalloc(70);

    got = secret_from(TOKEN "\n", strlen(TOKEN) + 1, 4096);
    assert_string_equal(got, TOKEN);
    free(got);
    got = secret_from(TOKEN, strlen(TOKEN), 4096); /* no newline: the end is the boundary */
    assert_string_equal(got, TOKEN);
    free(got);
    got = secret_from("first\nsecond\n", 13, 4096);
    assert_string_equal(got, "first");
    free(got);
    assert_null(secret_from("", 0, 4096));
    assert_null(secret_from("\n" TOKEN "\n", strlen(TOKEN) + 2, 4096));
    /* Exactly the cap fits; one more byte does not, newline or not. */
    memset(big, 'a', 64);
    big[64] = '\n';
    got = secret_from(big, 65, 64);
    assert_non_null(got);
    assert_int_equal(strlen(got), 64);
    free(got);
    assert_null(secret_from(big, 64, 63));
    assert_null(secret_from(big, 65, 63));
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reports_in_order_and_token_on_stdin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_outcomes_offline_and_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_helpers_end_the_pass_offline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_helper_is_said, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_kills_a_hanging_helper, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_round_trip, setup, teardown),
        cmocka_unit_test(test_secret_line),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
