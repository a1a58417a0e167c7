/*
 * The demo data `make run` starts with: a client, a freelancer and an
 * active contract between them, created only on an empty store.
 */
#include "server/demo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "server/auth.h"
#include "server/contracts.h"
#include "server/server.h"
#include "server/store.h"
#include "server/users.h"

#define DEMO_CLIENT_EMAIL "client@demo.stint"
#define DEMO_CLIENT_PASSWORD "demo-client-pw"
#define DEMO_FREELANCER_EMAIL "freelancer@demo.stint"
#define DEMO_FREELANCER_PASSWORD "demo-freelancer-pw"

struct demo {
    struct server *srv;
    char client_hash[AUTH_HASH_LEN];
    char freelancer_hash[AUTH_HASH_LEN];
    struct contract c;
    bool seeded;
};

static int seed(struct store_tx *tx, void *arg)
{
    struct demo *d = arg;
    int64_t now = server_now(d->srv);
    struct store_stmt *st = store_prepare(tx, "SELECT COUNT(*) FROM users");
    struct user client = {0}, freelancer = {0};
    int r;

    if ((r = store_step(st)) < 0)
        return r;
    if (store_col_int(st, 0) > 0)
        return 0;
    snprintf(client.email, sizeof(client.email), DEMO_CLIENT_EMAIL);
    snprintf(client.name, sizeof(client.name), "Dana Client");
    snprintf(client.role, sizeof(client.role), "client");
    snprintf(client.timezone, sizeof(client.timezone), "America/New_York");
    client.created_at = now;
    snprintf(freelancer.email, sizeof(freelancer.email), DEMO_FREELANCER_EMAIL);
    snprintf(freelancer.name, sizeof(freelancer.name), "Frankie Freelancer");
    snprintf(freelancer.role, sizeof(freelancer.role), "freelancer");
    snprintf(freelancer.timezone, sizeof(freelancer.timezone), "Europe/Berlin");
    freelancer.created_at = now;
    if ((r = users_insert(tx, &client, d->client_hash)) < 0 ||
        (r = users_insert(tx, &freelancer, d->freelancer_hash)) < 0)
        return r;
    snprintf(d->c.client_id, sizeof(d->c.client_id), "%s", client.id);
    snprintf(d->c.freelancer_id, sizeof(d->c.freelancer_id), "%s", freelancer.id);
    snprintf(d->c.title, sizeof(d->c.title), "Landing page redesign");
    snprintf(d->c.state, sizeof(d->c.state), "active");
    snprintf(d->c.currency, sizeof(d->c.currency), "USD");
    d->c.hourly_rate_cents = 4500;
    d->c.manual_time_allowed = true;
    d->c.screenshots_enabled = true;
    d->c.memo_required = true;
    d->c.tags = json_pack("[s,s,s]", "design", "development", "meeting");
    if ((r = contracts_insert(tx, &d->c, 40 * 3600, now)) < 0)
        return r;
    d->seeded = true;
    return 0;
}

int demo_seed(struct server *srv)
{
    struct demo d = {.srv = srv};
    int r;

    if (auth_hash_password(DEMO_CLIENT_PASSWORD, d.client_hash) < 0 ||
        auth_hash_password(DEMO_FREELANCER_PASSWORD, d.freelancer_hash) < 0)
        return -ENOMEM;
    r = store_write(srv->store, seed, &d);
    if (r < 0 || !d.seeded) {
        contracts_release(&d.c);
        return r;
    }
    printf("demo data created:\n"
           "  client      %s  password %s\n"
           "  freelancer  %s  password %s\n"
           "  contract    %s  \"%s\" ($45.00/h, 40 h a week, active)\n",
           DEMO_CLIENT_EMAIL, DEMO_CLIENT_PASSWORD, DEMO_FREELANCER_EMAIL,
           DEMO_FREELANCER_PASSWORD, d.c.id, d.c.title);
    contracts_release(&d.c);
    return 0;
}
