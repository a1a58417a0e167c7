/*
 * Demo data for `make run`: on an empty store, a client, a freelancer and
 * an active contract between them, with their credentials printed.
 */
#ifndef STINT_DEMO_H
#define STINT_DEMO_H

struct server;

/* Seeds when the store has no users; 0 (also when it already had some) or < 0. */
int demo_seed(struct server *srv);

#endif
