/*
 * Random (version 4) UUIDs in their canonical lowercase text form, and a
 * check of that form for ids that arrive from outside.
 */
#ifndef STINT_UUID_H
#define STINT_UUID_H

#include <stdbool.h>

#define ST_UUID_LEN 36

/* Writes a new random UUID and its NUL into out. */
void st_uuid_new(char out[ST_UUID_LEN + 1]);
/* True when s is a UUID in 8-4-4-4-12 hex form (either case). */
bool st_uuid_valid(const char *s);

#endif
