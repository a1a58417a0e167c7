/*
 * `stintd check`: verifies the store's invariants offline and reports each
 * breach on stderr. Exit status 0 when all hold, 1 otherwise.
 */
#ifndef STINT_CHECK_H
#define STINT_CHECK_H

struct server;

int check_store(struct server *srv);

#endif
