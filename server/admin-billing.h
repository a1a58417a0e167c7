/*
 * `stintd admin verify|billing|charge|settle ...`: the operator's billing
 * actions run offline on the store (admin-billing.c). The same actions are
 * in the API for an admin's token.
 */
#ifndef STINT_ADMIN_BILLING_H
#define STINT_ADMIN_BILLING_H

#include <stdbool.h>

struct server;

/* True when name is one of these commands. */
bool admin_billing_is_cmd(const char *name);

/* argv[0] is the command name. Returns the exit status (0, 1 failed, 2 usage). */
int admin_billing_cmd(struct server *srv, int argc, char **argv);

#endif
