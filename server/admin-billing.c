/*
 * The operator's billing commands, offline: `stintd admin verify`,
 * `billing`, `charge` and `settle` do on the store what the admin
 * endpoints do (api-billing.c), through the same rules (invoices.c,
 * disputes.c), then run whatever transition of the cycle became due.
 * They may run while stintd serves the same data dir: the store keeps
 * them apart, and each transition is claimed in the store.
 *
 * Not for: adding admins (main.c) or anything the API does not offer.
 */
#include "server/admin-billing.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/uuid.h"
#include "server/billing.h"
#include "server/disputes.h"
#include "server/invoices.h"
#include "server/jobs.h"
#include "server/segments.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

struct op {
    struct server *srv;
    const char *what; /* "verify", "billing", "charge", "settle" */
    const char *target;
    const char *value;
    json_t *ids;
    struct billing_refusal ref;
    char invoice_id[37];
};

/* The offline operator: an admin with no account (recorded as no actor). */
static const struct user operator_user = {.id = "", .role = "admin"};

static int run_op(struct store_tx *tx, void *arg)
{
    struct op *op = arg;
    int64_t now = server_now(op->srv);
    struct store_stmt *st;
    struct user u;
    int r;

    if (strcmp(op->what, "charge") == 0) {
        return invoices_charge_mark(tx, op->target, strcmp(op->value, "paid") == 0, now, &op->ref,
                                    op->invoice_id);
    }
    if (strcmp(op->what, "settle") == 0) {
        struct dispute d;
        r = disputes_settle(tx, op->target, &operator_user, op->ids, now, &op->ref, &d);
        if (r == 0)
            disputes_release(&d);
        return r;
    }
    if ((r = users_get_by_email(tx, op->target, &u, NULL)) < 0)
        return r;
    if (strcmp(op->what, "verify") == 0) {
        if (strcmp(u.role, "freelancer") != 0)
            return billing_refuse(&op->ref, 409, "conflict", "'%s' is not a freelancer",
                                  op->target);
        st = store_prepare(tx, "UPDATE users SET id_verified = 1 WHERE id = ?");
        store_bind_text(st, 1, u.id);
    } else {
        if (strcmp(u.role, "client") != 0)
            return billing_refuse(&op->ref, 409, "conflict", "'%s' is not a client", op->target);
        st = store_prepare(tx, "UPDATE users SET billing_state = ? WHERE id = ?");
        store_bind_text(st, 1, op->value);
        store_bind_text(st, 2, u.id);
    }
    if ((r = store_run(st)) < 0)
        return r;
    return segments_audit(tx, now, NULL,
                          strcmp(op->what, "verify") == 0 ? "user.verify" : "user.billing", u.id,
                          NULL);
}

bool admin_billing_is_cmd(const char *name)
{
    return strcmp(name, "verify") == 0 || strcmp(name, "billing") == 0 ||
           strcmp(name, "charge") == 0 || strcmp(name, "settle") == 0;
}

static int usage_error(void)
{
    fprintf(stderr, "stintd: usage: stintd admin verify EMAIL\n"
                    "               stintd admin billing EMAIL verified|failed|none\n"
                    "               stintd admin charge CHARGE_ID paid|failed\n"
                    "               stintd admin settle DISPUTE_ID [SEGMENT_ID...]\n");
    return 2;
}

int admin_billing_cmd(struct server *srv, int argc, char **argv)
{
    struct op op = {.srv = srv, .what = argv[0]};
    int r;

    if (argc < 2)
        return usage_error();
    op.target = argv[1];
    if (strcmp(op.what, "verify") == 0) {
        if (argc != 2)
            return usage_error();
    } else if (strcmp(op.what, "billing") == 0) {
        if (argc != 3 || (strcmp(argv[2], "verified") != 0 && strcmp(argv[2], "failed") != 0 &&
                          strcmp(argv[2], "none") != 0))
            return usage_error();
        op.value = argv[2];
    } else if (strcmp(op.what, "charge") == 0) {
        if (argc != 3 || (strcmp(argv[2], "paid") != 0 && strcmp(argv[2], "failed") != 0) ||
            !st_uuid_valid(argv[1]))
            return usage_error();
        op.value = argv[2];
    } else if (strcmp(op.what, "settle") == 0) {
        if (!st_uuid_valid(argv[1]))
            return usage_error();
        op.ids = json_array();
        for (int i = 2; i < argc; i++)
            json_array_append_new(op.ids, json_string(argv[i]));
    } else {
        return usage_error();
    }
    r = store_write(srv->store, run_op, &op);
    json_decref(op.ids);
    if (r == -ENOENT) {
        fprintf(stderr, "stintd: admin %s: '%s' not found\n", op.what, op.target);
        return 1;
    }
    if (r == -EPERM) {
        fprintf(stderr, "stintd: admin %s: %s\n", op.what, op.ref.msg);
        return 1;
    }
    if (r < 0) {
        fprintf(stderr, "stintd: admin %s: cannot write to the store in '%s'\n", op.what,
                srv->cfg.data_dir);
        return 1;
    }
    /* A settled dispute or a marked charge may make billing due now. */
    if (strcmp(op.what, "charge") == 0 || strcmp(op.what, "settle") == 0)
        jobs_run_due(srv);
    printf("admin %s %s: done\n", op.what, op.target);
    return 0;
}
