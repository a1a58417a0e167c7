/*
 * stintd: the server. Parses the command line and configuration, opens the
 * store, and either serves HTTP until SIGINT/SIGTERM or runs one of the
 * offline commands (admin add, check).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/config.h"
#include "lib/log.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/admin-billing.h"
#include "server/auth.h"
#include "server/billing.h"
#include "server/blob.h"
#include "server/check.h"
#include "server/demo.h"
#include "server/http.h"
#include "server/invoices.h"
#include "server/jobs.h"
#include "server/server.h"
#include "server/store.h"
#include "server/hub.h"
#include "server/users.h"
#include "server/web.h"

static char log_level[16] = "info";
static char listen_spec[80] = "127.0.0.1:8080";

static struct server srv = {
    .cfg = {
        .data_dir = "./stint-data",
        .segment_s = 600,
        .signup_enabled = true,
        .threads = 32,
        .connection_timeout_s = 30,
        .platform_fee_bp = BILLING_FEE_BP_DEFAULT,
        .max_file_mb = 100,
        .ws_max_connections = 20000,
        .turn_ttl_s = 86400,
    },
};

static const struct st_config_key config_keys[] = {
    {"listen", "STINTD_LISTEN", ST_CONFIG_STRING, listen_spec, sizeof(listen_spec), 0, 0},
    {"data", "STINTD_DATA", ST_CONFIG_STRING, srv.cfg.data_dir, sizeof(srv.cfg.data_dir), 0, 0},
    {"segment_seconds", "STINTD_SEGMENT_SECONDS", ST_CONFIG_INT, &srv.cfg.segment_s, 0, 10,
     86400},
    {"signup", "STINTD_SIGNUP", ST_CONFIG_BOOL, &srv.cfg.signup_enabled, 0, 0, 0},
    {"threads", "STINTD_THREADS", ST_CONFIG_INT, &srv.cfg.threads, 0, 1, 256},
    {"connection_timeout", "STINTD_CONNECTION_TIMEOUT", ST_CONFIG_INT,
     &srv.cfg.connection_timeout_s, 0, 1, 3600},
    {"log_level", "STINTD_LOG_LEVEL", ST_CONFIG_STRING, log_level, sizeof(log_level), 0, 0},
    {"platform_fee_bp", "STINTD_PLATFORM_FEE_BP", ST_CONFIG_INT, &srv.cfg.platform_fee_bp, 0, 0,
     BILLING_FEE_BP_MAX},
    {"web_dir", "STINTD_WEB_DIR", ST_CONFIG_STRING, srv.cfg.web_dir, sizeof(srv.cfg.web_dir), 0, 0},
    {"max_file_mb", "STINTD_MAX_FILE_MB", ST_CONFIG_INT, &srv.cfg.max_file_mb, 0, 1, 16384},
    {"ws_max_connections", "STINTD_WS_MAX_CONNECTIONS", ST_CONFIG_INT,
     &srv.cfg.ws_max_connections, 0, 1, 1000000},
    {"stun_urls", "STINTD_STUN_URLS", ST_CONFIG_STRING, srv.cfg.stun_urls,
     sizeof(srv.cfg.stun_urls), 0, 0},
    {"turn_urls", "STINTD_TURN_URLS", ST_CONFIG_STRING, srv.cfg.turn_urls,
     sizeof(srv.cfg.turn_urls), 0, 0},
    {"turn_secret", "STINTD_TURN_SECRET", ST_CONFIG_STRING, srv.cfg.turn_secret,
     sizeof(srv.cfg.turn_secret), 0, 0},
    {"turn_ttl", "STINTD_TURN_TTL", ST_CONFIG_INT, &srv.cfg.turn_ttl_s, 0, 60, 7 * 86400},
    {NULL, NULL, 0, NULL, 0, 0, 0},
};

static volatile sig_atomic_t stop_requested;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: stintd [OPTIONS]                      serve the API\n"
            "       stintd [OPTIONS] admin add --email E --name N --password-stdin\n"
            "       stintd [OPTIONS] admin verify EMAIL | billing EMAIL STATE |\n"
            "                        charge ID paid|failed | settle DISPUTE [SEGMENT...]\n"
            "       stintd [OPTIONS] check                verify the store's invariants\n"
            "\n"
            "options:\n"
            "  --listen ADDR:PORT      where to listen (default 127.0.0.1:8080; port 0 picks one)\n"
            "  --data DIR              where the store lives (default ./stint-data)\n"
            "  --config FILE           settings file, 'name = value' lines\n"
            "                          (default DIR/stintd.conf when it exists)\n"
            "  --segment-seconds N     segment length (default 600; divides 86400, multiple of 10)\n"
            "  --test-clock            enable POST /api/v1/admin/clock (tests only)\n"
            "  --no-signup             turn off POST /api/v1/signup\n"
            "  --demo                  on an empty store, create demo accounts and a contract\n"
            "  --threads N             HTTP worker threads (default 32)\n"
            "  --platform-fee-bp N     the platform's fee in basis points (default 1000: 10%%)\n"
            "  --max-file-mb N         the largest file a message may carry (default 100)\n"
            "  --web-dir DIR           the web app's files (default: the source tree's web/ when\n"
            "                          run from the build dir, else the installed one)\n"
            "  --log-level LEVEL       debug, info, warn or error\n"
            "  -h, --help              show this help\n"
            "\n"
            "Every option is also a setting (listen, data, segment_seconds, signup, threads,\n"
            "connection_timeout, log_level, platform_fee_bp, web_dir, max_file_mb,\n"
            "ws_max_connections, stun_urls, turn_urls, turn_secret, turn_ttl; see\n"
            "docs/calls.md) in the config file and an\n"
            "environment variable (STINTD_LISTEN, STINTD_DATA, ...). Flags win over the\n"
            "environment, which wins over the file.\n");
}

static int parse_listen(const char *spec)
{
    const char *colon = strrchr(spec, ':');
    char *end;
    long port;

    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof(srv.cfg.listen_addr))
        return -EINVAL;
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return -EINVAL;
    memcpy(srv.cfg.listen_addr, spec, (size_t)(colon - spec));
    srv.cfg.listen_addr[colon - spec] = '\0';
    srv.cfg.listen_port = (int)port;
    return 0;
}

static void on_signal(int sig)
{
    stop_requested = 1;
}

static int serve(bool demo)
{
    int port, r;
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    if (demo && (r = demo_seed(&srv)) < 0) {
        st_error("cannot seed the demo data");
        return 1;
    }
    /* The weekly cycle: catches up on whatever fell due while stintd was down. */
    if ((r = jobs_start(&srv)) < 0) {
        st_error("cannot start the scheduler: %s", strerror(-r));
        return 1;
    }
    /* The real-time hub (hub.h) before HTTP, which hands it upgraded sockets. */
    if ((r = hub_start(&srv)) < 0) {
        jobs_stop(&srv);
        st_error("cannot start the WebSocket hub: %s", strerror(-r));
        return 1;
    }
    if ((r = http_start(&srv, &port)) < 0) {
        hub_stop(&srv);
        jobs_stop(&srv);
        st_error("cannot listen on %s:%d: %s", srv.cfg.listen_addr, srv.cfg.listen_port,
                 strerror(-r));
        return 1;
    }
    printf("listening on http://%s:%d\n", srv.cfg.listen_addr, port);
    fflush(stdout);
    st_info("stintd %s serving '%s' (segments of %d s)", STINT_VERSION, srv.cfg.data_dir,
            srv.cfg.segment_s);

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    sigemptyset(&set);
    while (!stop_requested)
        sigsuspend(&set);
    st_info("stopping");
    hub_stop(&srv); /* closes every WebSocket (1001) so that http_stop does not wait */
    http_stop();
    jobs_stop(&srv);
    invoices_pdf_shutdown();
    return 0;
}

static int read_password_stdin(char *buf, size_t n)
{
    size_t len;

    if (!fgets(buf, (int)n, stdin))
        return -EINVAL;
    len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    else if (len == n - 1)
        return -E2BIG;
    return 0;
}

struct admin_insert {
    struct user u;
    const char *hash;
};

static int insert_admin(struct store_tx *tx, void *arg)
{
    struct admin_insert *a = arg;
    return users_insert(tx, &a->u, a->hash);
}

static int admin_cmd(int argc, char **argv)
{
    static const struct option opts[] = {
        {"email", required_argument, NULL, 'e'},
        {"name", required_argument, NULL, 'n'},
        {"password-stdin", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    struct admin_insert a = {0};
    char pw[1100], hash[AUTH_HASH_LEN];
    const char *email = NULL, *name = NULL;
    bool pw_stdin = false;
    int c, r;

    if (argc >= 2 && admin_billing_is_cmd(argv[1]))
        return admin_billing_cmd(&srv, argc - 1, argv + 1);
    if (argc < 2 || strcmp(argv[1], "add") != 0) {
        fprintf(stderr, "stintd: usage: stintd admin add --email E --name N --password-stdin\n");
        return 2;
    }
    optind = 1;
    argv++;
    argc--;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'e':
            email = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'p':
            pw_stdin = true;
            break;
        default:
            return 2;
        }
    }
    if (!email || !name || !pw_stdin) {
        fprintf(stderr, "stintd: admin add needs --email, --name and --password-stdin\n");
        return 2;
    }
    snprintf(a.u.email, sizeof(a.u.email), "%s", email);
    if (strlen(email) > USER_EMAIL_MAX || users_normalize_email(a.u.email) < 0) {
        fprintf(stderr, "stintd: '%s' is not an email address\n", email);
        return 2;
    }
    if (strlen(name) == 0 || strlen(name) > USER_NAME_MAX) {
        fprintf(stderr, "stintd: the name must be 1 to %d characters\n", USER_NAME_MAX);
        return 2;
    }
    snprintf(a.u.name, sizeof(a.u.name), "%s", name);
    if (read_password_stdin(pw, sizeof(pw)) < 0 || strlen(pw) < 10) {
        fprintf(stderr, "stintd: the password (one line on stdin) must be 10 to 1024 "
                        "characters\n");
        return 2;
    }
    snprintf(a.u.role, sizeof(a.u.role), "admin");
    snprintf(a.u.timezone, sizeof(a.u.timezone), "UTC");
    a.u.created_at = time(NULL);
    if (auth_hash_password(pw, hash) < 0) {
        fprintf(stderr, "stintd: cannot hash the password: out of memory\n");
        return 1;
    }
    a.hash = hash;
    r = store_write(srv.store, insert_admin, &a);
    if (r == -EEXIST) {
        fprintf(stderr, "stintd: an account with email '%s' already exists\n", a.u.email);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "stintd: cannot write to the store in '%s'\n", srv.cfg.data_dir);
        return 1;
    }
    printf("admin %s <%s> created\n", a.u.id, a.u.email);
    return 0;
}

int main(int argc, char **argv)
{
    enum { OPT_LISTEN = 256, OPT_DATA, OPT_CONFIG, OPT_SEGMENT, OPT_TEST_CLOCK, OPT_NO_SIGNUP,
           OPT_DEMO, OPT_THREADS, OPT_LOG_LEVEL, OPT_FEE, OPT_WEB_DIR,
           OPT_MAX_FILE };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"data", required_argument, NULL, OPT_DATA},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"segment-seconds", required_argument, NULL, OPT_SEGMENT},
        {"test-clock", no_argument, NULL, OPT_TEST_CLOCK},
        {"no-signup", no_argument, NULL, OPT_NO_SIGNUP},
        {"demo", no_argument, NULL, OPT_DEMO},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
        {"platform-fee-bp", required_argument, NULL, OPT_FEE},
        {"web-dir", required_argument, NULL, OPT_WEB_DIR},
        {"max-file-mb", required_argument, NULL, OPT_MAX_FILE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    /* Flags are collected first and applied last: they win over file and env. */
    const char *flag_name[16], *flag_value[16];
    int nflags = 0, c, r, rc = 1;
    const char *config_path = NULL;
    bool demo = false, config_given;
    char err[512], *default_config = NULL;
    enum st_log_level level;

    web_default_dir(srv.cfg.web_dir, sizeof(srv.cfg.web_dir));
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        const char *name = NULL;
        switch (c) {
        case OPT_LISTEN:
            name = "listen";
            break;
        case OPT_DATA:
            name = "data";
            break;
        case OPT_SEGMENT:
            name = "segment_seconds";
            break;
        case OPT_THREADS:
            name = "threads";
            break;
        case OPT_LOG_LEVEL:
            name = "log_level";
            break;
        case OPT_FEE:
            name = "platform_fee_bp";
            break;
        case OPT_WEB_DIR:
            name = "web_dir";
            break;
        case OPT_MAX_FILE:
            name = "max_file_mb";
            break;
        case OPT_NO_SIGNUP:
            flag_name[nflags] = "signup";
            flag_value[nflags++] = "false";
            continue;
        case OPT_CONFIG:
            config_path = optarg;
            continue;
        case OPT_TEST_CLOCK:
            srv.cfg.test_clock = true;
            continue;
        case OPT_DEMO:
            demo = true;
            continue;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
        if (nflags == 16) {
            fprintf(stderr, "stintd: too many options\n");
            return 2;
        }
        flag_name[nflags] = name;
        flag_value[nflags++] = optarg;
    }

    /*
     * The default config file lives in the data dir, so find that dir the
     * way the layers would (flag, else environment, else default) first.
     */
    config_given = config_path != NULL;
    if (!config_path) {
        const char *dir = getenv("STINTD_DATA") ? getenv("STINTD_DATA") : srv.cfg.data_dir;
        for (int i = 0; i < nflags; i++)
            if (strcmp(flag_name[i], "data") == 0)
                dir = flag_value[i];
        default_config = xasprintf("%s/stintd.conf", dir);
        config_path = default_config;
    }
    r = st_config_load_file(config_keys, config_path, err, sizeof(err));
    if (r == -ENOENT && config_given) {
        fprintf(stderr, "stintd: cannot open config file '%s'\n", config_path);
        return 2;
    }
    if (r < 0 && r != -ENOENT) {
        fprintf(stderr, "stintd: %s\n", err);
        return 2;
    }
    if (st_config_load_env(config_keys, err, sizeof(err)) < 0) {
        fprintf(stderr, "stintd: %s\n", err);
        return 2;
    }
    for (int i = 0; i < nflags; i++) {
        if (st_config_set(config_keys, flag_name[i], flag_value[i], err, sizeof(err)) < 0) {
            fprintf(stderr, "stintd: --%s: %s\n", flag_name[i], err);
            return 2;
        }
    }
    free(default_config);
    if (parse_listen(listen_spec) < 0) {
        fprintf(stderr, "stintd: listen address '%s' is not ADDR:PORT\n", listen_spec);
        return 2;
    }
    if (!st_segment_len_valid(srv.cfg.segment_s)) {
        fprintf(stderr,
                "stintd: segment length %d s must be a multiple of 10 that divides 86400\n",
                srv.cfg.segment_s);
        return 2;
    }
    if (st_log_parse_level(log_level, &level) < 0) {
        fprintf(stderr, "stintd: log level '%s' is not debug, info, warn or error\n", log_level);
        return 2;
    }
    st_log_set_level(level);
    if (auth_init() < 0) {
        fprintf(stderr, "stintd: cannot initialise libsodium\n");
        return 1;
    }
    if (store_open(srv.cfg.data_dir, &srv.store) < 0) {
        fprintf(stderr, "stintd: cannot open the store in '%s'\n", srv.cfg.data_dir);
        return 1;
    }
    {
        char *blobdir = xasprintf("%s/blobs", srv.cfg.data_dir);
        r = blob_open(blobdir, &srv.blobs);
        free(blobdir);
        if (r < 0) {
            fprintf(stderr, "stintd: cannot open the blob store in '%s/blobs'\n",
                    srv.cfg.data_dir);
            goto out;
        }
    }
    srv.login_limiter = ratelimit_new();

    if (optind < argc && strcmp(argv[optind], "admin") == 0) {
        rc = admin_cmd(argc - optind, argv + optind);
    } else if (optind < argc && strcmp(argv[optind], "check") == 0) {
        rc = check_store(&srv);
    } else if (optind < argc) {
        fprintf(stderr, "stintd: unknown command '%s'\n", argv[optind]);
        usage(stderr);
        rc = 2;
    } else {
        rc = serve(demo);
    }
out:
    ratelimit_free(srv.login_limiter);
    blob_free(srv.blobs);
    store_free(srv.store);
    return rc;
}
