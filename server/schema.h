/*
 * The database schema as an ordered list of migrations in portable SQL.
 * A store backend applies, in order, those its database has not seen yet.
 */
#ifndef STINT_SCHEMA_H
#define STINT_SCHEMA_H

/* NULL-terminated; entry i moves the schema from version i to i + 1. */
extern const char *const schema_migrations[];

#endif
