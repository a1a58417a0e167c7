/*
 * stint contracts: list, offer, show, accept, pause, resume, end and edit
 * hourly contracts. The subcommands are a table like the commands are; each
 * parses its own options. Amounts and hours are parsed here, exactly, into
 * the integer minor units and seconds of the API.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/output.h"
#include "lib/json.h"
#include "lib/xalloc.h"

/* Larger rates are surely typos: a million an hour in major units. */
#define MAX_RATE_MAJOR 1000000LL
/* A week has 168 hours; "none" means the same to the server. */
#define MAX_LIMIT_S (168LL * 3600)
#define MAX_TAGS 64

static const char usage[] =
    "usage: stint contracts [list] [--json]\n"
    "       stint contracts show ID [--json]\n"
    "       stint contracts offer --freelancer EMAIL --title TITLE --rate AMOUNT\n"
    "                             --currency CODE [--limit HOURS|none] [--no-manual]\n"
    "                             [--no-screenshots] [--no-memo-required]\n"
    "                             [--tags TAG,TAG...] [--tag-required] [--json]\n"
    "       stint contracts accept|pause|resume|end ID [--json]\n"
    "       stint contracts edit ID [--title TITLE] [--limit HOURS|none]\n"
    "                            [--tags TAG,TAG...] [--tag-required|--no-tag-required]\n"
    "                            [--manual|--no-manual] [--screenshots|--no-screenshots]\n"
    "                            [--json]\n"
    "\n"
    "AMOUNT is the hourly rate in major units (45.00 is 4500 cents of USD).\n"
    "HOURS is the weekly limit, a whole or decimal number up to 168, or 'none'.\n"
    "A client offers; the freelancer accepts; the client pauses, resumes and\n"
    "edits; either ends. A cut of the limit applies from next Monday 00:00 UTC,\n"
    "a raise at once.\n";

/*
 * Parses a non-negative decimal with at most digits fraction digits into
 * minor units ("45.5" with 2 digits is 4550). Returns 0 or -EINVAL.
 */
static int parse_amount(const char *s, int digits, long long max_major, long long *ret)
{
    long long major = 0, minor = 0;
    int frac = 0;
    const char *p = s;

    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    for (; isdigit((unsigned char)*p); p++) {
        major = major * 10 + (*p - '0');
        if (major > max_major)
            return -EINVAL;
    }
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -EINVAL;
        for (; isdigit((unsigned char)*p); p++) {
            if (++frac > digits)
                return -EINVAL;
            minor = minor * 10 + (*p - '0');
        }
    }
    if (*p)
        return -EINVAL;
    for (; frac < digits; frac++)
        minor *= 10;
    for (int i = 0; i < digits; i++)
        major *= 10;
    *ret = major + minor;
    return 0;
}

/*
 * Parses --limit: "none" (ret_none set), or hours with up to two decimals
 * ("12.5" is 45000 s), at most 168. Returns 0 or -EINVAL.
 */
static int parse_limit(const char *s, bool *ret_none, long long *ret_s)
{
    long long centi;

    if (strcmp(s, "none") == 0) {
        *ret_none = true;
        *ret_s = 0;
        return 0;
    }
    if (parse_amount(s, 2, 168, &centi) < 0 || centi * 36 > MAX_LIMIT_S)
        return -EINVAL;
    *ret_none = false;
    *ret_s = centi * 36; /* hundredths of an hour are 36 s each */
    return 0;
}

/* Turns "a, b,c" into ["a","b","c"]; empty items are dropped. NULL when over MAX_TAGS. */
static json_t *parse_tags(const char *s)
{
    json_t *tags = json_array();
    char *copy = xstrdup(s);
    char *save = NULL;

    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end = t + strlen(t);
        while (isspace((unsigned char)*t))
            t++;
        while (end > t && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!*t)
            continue;
        if (json_array_size(tags) >= MAX_TAGS || json_array_append_new(tags, json_string(t)) < 0) {
            json_decref(tags);
            tags = NULL;
            break;
        }
    }
    free(copy);
    return tags;
}

static const char *string_or_empty(json_t *s)
{
    return json_is_string(s) ? json_string_value(s) : "";
}

/* Checks a 3-letter ISO 4217 code and upper-cases it in place. Returns 0 or -EINVAL. */
static int currency_normalize(char *s)
{
    if (strlen(s) != 3)
        return -EINVAL;
    for (char *p = s; *p; p++) {
        if (!isalpha((unsigned char)*p))
            return -EINVAL;
        *p = (char)toupper((unsigned char)*p);
    }
    return 0;
}

/* "40 h", "12.5 h" or "none". */
static void format_limit(json_t *limit, char *out, size_t len)
{
    if (!json_is_integer(limit)) {
        snprintf(out, len, "none");
        return;
    }
    long long s = json_integer_value(limit);
    long long centi = (s * 100 + 1800) / 3600; /* hundredths of an hour, rounded */
    if (centi % 100 == 0)
        snprintf(out, len, "%lld h", centi / 100);
    else if (centi % 10 == 0)
        snprintf(out, len, "%lld.%lld h", centi / 100, centi / 10 % 10);
    else
        snprintf(out, len, "%lld.%02lld h", centi / 100, centi % 100);
}

static void format_rate(json_t *contract, char out[CLI_MONEY_LEN + 4])
{
    char money[CLI_MONEY_LEN];

    cli_format_money(st_json_int(contract, "hourly_rate_cents", 0),
                     st_json_str(contract, "currency", ""), money);
    snprintf(out, CLI_MONEY_LEN + 4, "%s/h", money);
}

static char *party(json_t *contract, const char *role)
{
    return xstrdup(st_json_str(json_object_get(contract, role), "name", "?"));
}

/* One "label   value" line; the value came from the server, so it is cleaned. */
static void print_field(const char *label, const char *value)
{
    char *clean = cli_clean(value);

    printf("%-13s %s\n", label, clean);
    free(clean);
}

static void print_contract(json_t *ct)
{
    char rate[CLI_MONEY_LEN + 4], limit[32];
    char *client = party(ct, "client"), *freelancer = party(ct, "freelancer");
    json_t *tags = json_object_get(ct, "tags");
    char *tag_list = xstrdup("");
    char *tag_line;

    for (size_t i = 0; i < json_array_size(tags); i++) {
        char *next =
            xasprintf("%s%s%s", tag_list, i ? ", " : "", string_or_empty(json_array_get(tags, i)));
        free(tag_list);
        tag_list = next;
    }
    tag_line = xasprintf("%s%s", *tag_list ? tag_list : "(none)",
                         st_json_bool(ct, "tag_required", false) ? " (one required)" : "");
    format_rate(ct, rate);
    format_limit(json_object_get(ct, "weekly_limit_s"), limit, sizeof(limit));

    print_field("contract", st_json_str(ct, "id", ""));
    print_field("title", st_json_str(ct, "title", ""));
    print_field("state", st_json_str(ct, "state", ""));
    print_field("client", client);
    print_field("freelancer", freelancer);
    print_field("rate", rate);
    print_field("weekly limit", limit);
    print_field("manual time",
                st_json_bool(ct, "manual_time_allowed", true) ? "allowed" : "not allowed");
    print_field("screenshots", st_json_bool(ct, "screenshots_enabled", true) ? "on" : "off");
    print_field("memo", st_json_bool(ct, "memo_required", true) ? "required" : "optional");
    print_field("tags", tag_line);
    print_field("created", st_json_str(ct, "created_at", ""));
    free(tag_line);
    free(tag_list);
    free(client);
    free(freelancer);
}

/* What the option parsers return when parsing goes on, and when an option is not theirs. */
#define GO_ON (-1)
#define NOT_MINE (-2)

/* Parses the options every subcommand shares; returns GO_ON or an exit status. */
static int common_option(struct cli_ctx *ctx, int c, char **argv)
{
    switch (c) {
    case 'j':
        ctx->json = true;
        return GO_ON;
    case 'h':
        cli_print_usage(&cmd_contracts, false);
        return CLI_OK;
    default:
        return cli_bad_option(&cmd_contracts, c, argv);
    }
}

/* Requests and prints {"contract"} (or, with --json, the whole answer). */
static int call_and_show(struct cli_ctx *ctx, const char *method, const char *path, json_t *req,
                         const char *done)
{
    struct cli_client client = {0};
    json_t *resp = NULL;
    json_t *ct;
    int r;

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_call(&client, method, path, req, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    ct = json_object_get(resp, "contract");
    if (done) {
        char *id = cli_clean(st_json_str(ct, "id", "?"));
        char *state = cli_clean(st_json_str(ct, "state", "?"));
        printf("contract %s %s; it is now %s\n", id, done, state);
        free(id);
        free(state);
    }
    {
        json_t *eff = json_object_get(json_object_get(resp, "effective"), "weekly_limit_s");
        const char *from = st_json_str(eff, "from", NULL);
        if (eff) {
            char limit[32];
            char *c_from = cli_clean(from ? from : "now");
            format_limit(json_object_get(eff, "value"), limit, sizeof(limit));
            printf("weekly limit %s applies from %s\n", limit, c_from);
            free(c_from);
        }
    }
    if (!done)
        print_contract(ct);
out:
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

static int do_list(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const char *const headers[] = {"ID",         "TITLE", "STATE",     "CLIENT",
                                          "FREELANCER", "RATE",  "LIMIT/WEEK"};
    struct cli_client client = {0};
    struct cli_table *table;
    json_t *resp = NULL, *contracts, *ct;
    size_t i;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1)
        if ((r = common_option(ctx, c, argv)) != GO_ON)
            return r;
    if (optind < argc)
        return cli_usage_error(&cmd_contracts, "unexpected argument '%s'", argv[optind]);

    r = cli_client_open(ctx, true, &client);
    if (r != CLI_OK)
        return r;
    r = cli_call(&client, "GET", "/contracts", NULL, &resp);
    if (r != CLI_OK)
        goto out;
    if (ctx->json) {
        cli_print_json(resp);
        goto out;
    }
    contracts = json_object_get(resp, "contracts");
    if (json_array_size(contracts) == 0) {
        printf("no contracts\n");
        goto out;
    }
    table = cli_table_new(7, headers);
    cli_table_set_max(table, 1, 32);
    cli_table_set_max(table, 3, 20);
    cli_table_set_max(table, 4, 20);
    cli_table_set_right(table, 5);
    cli_table_set_right(table, 6);
    for (i = 0; i < json_array_size(contracts); i++) {
        ct = json_array_get(contracts, i);
        char rate[CLI_MONEY_LEN + 4], limit[32];
        char *client_name = party(ct, "client"), *freelancer = party(ct, "freelancer");
        format_rate(ct, rate);
        format_limit(json_object_get(ct, "weekly_limit_s"), limit, sizeof(limit));
        const char *cells[] = {st_json_str(ct, "id", ""),
                               st_json_str(ct, "title", ""),
                               st_json_str(ct, "state", ""),
                               client_name,
                               freelancer,
                               rate,
                               limit};
        cli_table_add(table, cells);
        free(client_name);
        free(freelancer);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
out:
    json_decref(resp);
    cli_client_release(&client);
    return r;
}

/* Reads the one ID argument of show/accept/pause/resume/end/edit. */
static int one_id(int argc, char **argv, const char **ret_id)
{
    if (optind >= argc)
        return cli_usage_error(&cmd_contracts, "%s: the contract ID is missing", argv[0]);
    if (optind + 1 < argc)
        return cli_usage_error(&cmd_contracts, "%s: unexpected argument '%s'", argv[0],
                               argv[optind + 1]);
    if (!argv[optind][0])
        return cli_usage_error(&cmd_contracts, "%s: the contract ID is empty", argv[0]);
    *ret_id = argv[optind];
    return CLI_OK;
}

/* show ID, and the state changes accept/pause/resume/end ID. */
static int do_one(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static const struct {
        const char *verb, *suffix, *done;
    } actions[] = {
        {"show", "", NULL},
        {"accept", "/accept", "accepted"},
        {"pause", "/pause", "paused"},
        {"resume", "/resume", "resumed"},
        {"end", "/end", "ended"},
    };
    const char *id = NULL;
    char *path;
    int c, r;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1)
        if ((r = common_option(ctx, c, argv)) != GO_ON)
            return r;
    r = one_id(argc, argv, &id);
    if (r != CLI_OK)
        return r;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        if (strcmp(argv[0], actions[i].verb) != 0)
            continue;
        path = cli_path("/contracts/", id, actions[i].suffix);
        r = call_and_show(ctx, actions[i].done ? "POST" : "GET", path, NULL, actions[i].done);
        free(path);
        return r;
    }
    return CLI_USAGE; /* not reached: the table of subcommands routes only these verbs */
}

enum {
    OPT_FREELANCER = 256,
    OPT_TITLE,
    OPT_RATE,
    OPT_CURRENCY,
    OPT_LIMIT,
    OPT_TAGS,
    OPT_TAG_REQUIRED,
    OPT_NO_TAG_REQUIRED,
    OPT_MANUAL,
    OPT_NO_MANUAL,
    OPT_SCREENSHOTS,
    OPT_NO_SCREENSHOTS,
    OPT_NO_MEMO_REQUIRED,
};

/*
 * The terms offer and edit share, set into req as they are parsed. Returns
 * GO_ON when c was one of them, NOT_MINE when not, else an exit status.
 */
static int term_option(int c, json_t *req)
{
    switch (c) {
    case OPT_TITLE:
        if (!*optarg)
            return cli_usage_error(&cmd_contracts, "--title is empty");
        if (json_object_set_new(req, "title", json_string(optarg)) < 0)
            return cli_usage_error(&cmd_contracts, "--title is not UTF-8 text");
        return GO_ON;
    case OPT_LIMIT: {
        bool none;
        long long s;
        if (parse_limit(optarg, &none, &s) < 0)
            return cli_usage_error(&cmd_contracts,
                                   "--limit is hours from 0 to 168 or 'none', not '%s'", optarg);
        json_object_set_new(req, "weekly_limit_s", none ? json_null() : json_integer(s));
        return GO_ON;
    }
    case OPT_TAGS: {
        json_t *tags = parse_tags(optarg);
        if (!tags)
            return cli_usage_error(&cmd_contracts, "--tags: too many or not UTF-8 text");
        json_object_set_new(req, "tags", tags);
        return GO_ON;
    }
    case OPT_TAG_REQUIRED:
    case OPT_NO_TAG_REQUIRED:
        json_object_set_new(req, "tag_required", json_boolean(c == OPT_TAG_REQUIRED));
        return GO_ON;
    case OPT_MANUAL:
    case OPT_NO_MANUAL:
        json_object_set_new(req, "manual_time_allowed", json_boolean(c == OPT_MANUAL));
        return GO_ON;
    case OPT_SCREENSHOTS:
    case OPT_NO_SCREENSHOTS:
        json_object_set_new(req, "screenshots_enabled", json_boolean(c == OPT_SCREENSHOTS));
        return GO_ON;
    default:
        return NOT_MINE;
    }
}

static int do_offer(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"freelancer", required_argument, NULL, OPT_FREELANCER},
        {"title", required_argument, NULL, OPT_TITLE},
        {"rate", required_argument, NULL, OPT_RATE},
        {"currency", required_argument, NULL, OPT_CURRENCY},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"tags", required_argument, NULL, OPT_TAGS},
        {"tag-required", no_argument, NULL, OPT_TAG_REQUIRED},
        {"no-manual", no_argument, NULL, OPT_NO_MANUAL},
        {"no-screenshots", no_argument, NULL, OPT_NO_SCREENSHOTS},
        {"no-memo-required", no_argument, NULL, OPT_NO_MEMO_REQUIRED},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    json_t *req = json_object();
    const char *rate = NULL;
    char currency[8] = "";
    long long cents;
    int c, r = CLI_OK;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (c) {
        case OPT_FREELANCER:
            if (json_object_set_new(req, "freelancer_email", json_string(optarg)) < 0) {
                r = cli_usage_error(&cmd_contracts, "--freelancer is not UTF-8 text");
                goto out;
            }
            break;
        case OPT_RATE:
            rate = optarg;
            break;
        case OPT_CURRENCY:
            snprintf(currency, sizeof(currency), "%s", optarg);
            if (currency_normalize(currency) < 0) {
                r = cli_usage_error(&cmd_contracts,
                                    "--currency is a 3-letter ISO 4217 code, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_NO_MEMO_REQUIRED:
            json_object_set_new(req, "memo_required", json_false());
            break;
        default:
            r = term_option(c, req);
            if (r == NOT_MINE)
                r = common_option(ctx, c, argv);
            if (r != GO_ON)
                goto out;
            break;
        }
    }
    if (optind < argc) {
        r = cli_usage_error(&cmd_contracts, "offer: unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!json_object_get(req, "freelancer_email") || !json_object_get(req, "title") || !rate ||
        !currency[0]) {
        r = cli_usage_error(&cmd_contracts,
                            "offer: --freelancer, --title, --rate and --currency are required");
        goto out;
    }
    if (parse_amount(rate, cli_currency_digits(currency), MAX_RATE_MAJOR, &cents) < 0) {
        r = cli_usage_error(&cmd_contracts,
                            "--rate is an amount like 45.00 (at most %d decimals for %s), not '%s'",
                            cli_currency_digits(currency), currency, rate);
        goto out;
    }
    json_object_set_new(req, "hourly_rate_cents", json_integer(cents));
    json_object_set_new(req, "currency", json_string(currency));
    r = call_and_show(ctx, "POST", "/contracts", req, NULL);
out:
    json_decref(req);
    return r;
}

static int do_edit(struct cli_ctx *ctx, int argc, char **argv)
{
    static const struct option options[] = {
        {"title", required_argument, NULL, OPT_TITLE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"tags", required_argument, NULL, OPT_TAGS},
        {"tag-required", no_argument, NULL, OPT_TAG_REQUIRED},
        {"no-tag-required", no_argument, NULL, OPT_NO_TAG_REQUIRED},
        {"manual", no_argument, NULL, OPT_MANUAL},
        {"no-manual", no_argument, NULL, OPT_NO_MANUAL},
        {"screenshots", no_argument, NULL, OPT_SCREENSHOTS},
        {"no-screenshots", no_argument, NULL, OPT_NO_SCREENSHOTS},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    json_t *req = json_object();
    const char *id = NULL;
    char *path;
    int c, r = CLI_OK;

    while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        r = term_option(c, req);
        if (r == NOT_MINE)
            r = common_option(ctx, c, argv);
        if (r != GO_ON)
            goto out;
    }
    r = one_id(argc, argv, &id);
    if (r != CLI_OK)
        goto out;
    if (json_object_size(req) == 0) {
        r = cli_usage_error(&cmd_contracts, "edit: nothing to change");
        goto out;
    }
    path = cli_path("/contracts/", id, "");
    r = call_and_show(ctx, "PATCH", path, req, NULL);
    free(path);
out:
    json_decref(req);
    return r;
}

static const struct {
    const char *name;
    int (*run)(struct cli_ctx *ctx, int argc, char **argv);
} subcommands[] = {
    {"list", do_list}, {"show", do_one},   {"offer", do_offer}, {"accept", do_one},
    {"pause", do_one}, {"resume", do_one}, {"end", do_one},     {"edit", do_edit},
};

static int run(struct cli_ctx *ctx, int argc, char **argv)
{
    /* Without a subcommand (or with only options), list. */
    if (argc < 2 || argv[1][0] == '-')
        return do_list(ctx, argc, argv);
    for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
        if (strcmp(argv[1], subcommands[i].name) == 0) {
            optind = 0;
            return subcommands[i].run(ctx, argc - 1, argv + 1);
        }
    }
    return cli_usage_error(&cmd_contracts, "unknown subcommand '%s'", argv[1]);
}

const struct cli_command cmd_contracts = {
    .name = "contracts",
    .summary = "list, offer, accept, pause, resume, end and edit contracts",
    .usage = usage,
    .run = run,
};
