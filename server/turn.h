/*
 * ICE servers for calls: the STUN and TURN URLs of stintd's config, and
 * short-lived TURN credentials in the "TURN REST API" scheme that coturn's
 * `use-auth-secret` understands: username "EXPIRY:USER_ID" (EXPIRY in
 * seconds since the epoch), password base64(HMAC-SHA1(secret, username)).
 * The TURN server checks the HMAC with the same shared secret and refuses
 * the name once EXPIRY has passed; stintd stores nothing. Setting it up:
 * docs/calls.md.
 *
 * Not for: the calls themselves (calls.h).
 */
#ifndef STINT_TURN_H
#define STINT_TURN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct server_config;

#define TURN_PASSWORD_LEN 28 /* base64 of a 20-byte SHA-1 HMAC */
#define TURN_URLS_MAX 8      /* URLs taken from one setting */

/* The password of username under secret, NUL-terminated. */
void turn_password(const char *secret, const char *username, char ret[TURN_PASSWORD_LEN + 1]);

/*
 * {"ice_servers":[{"urls":[...]}, {"urls":[...],"username","credential"}],
 * "ttl_s":N} for user_id at now (seconds): a STUN entry when stun_urls is
 * set, a TURN entry when turn_urls and turn_secret both are; an empty list
 * otherwise. A new reference.
 */
json_t *turn_ice_servers(const struct server_config *cfg, const char *user_id, int64_t now);

#endif
