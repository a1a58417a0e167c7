/*
 * The keyring: where the sign-in's token goes when a Secret Service
 * (GNOME Keyring, KeePassXC, ...) answers on the session bus. lib/signin.c
 * is the only caller; the CLI and the desktop app reach it through there.
 * Not for: the rest of the sign-in (server, email), which stays in
 * auth.json, nor for any other secret.
 *
 * The build picks one backend: secret-libsecret.c (libsecret-1) or
 * secret-none.c, which has no keyring at all. Each call first checks, with
 * a deadline of ST_SECRET_PROBE_MS, that the service's name has an owner on
 * the session bus: no bus, a bus without the service, or a bus that does
 * not answer in time all mean "no keyring", so a terminal without a desktop
 * never waits. A service that is only activatable is not started: a fresh
 * keyring would ask for a password where nobody may see it.
 * STINT_NO_KEYRING=1 in the environment means "no keyring" too.
 *
 * The token is stored under the schema "dev.stint.Token" with the
 * attributes server and email; there is at most one such item, as there is
 * one sign-in. Calls are synchronous, return 0 or a negative errno, print
 * nothing, and may be made from any one thread at a time.
 */
#ifndef STINT_SECRET_H
#define STINT_SECRET_H

/* How long the check for a Secret Service may take before it counts as absent. */
#define ST_SECRET_PROBE_MS 1000
/* How long one keyring operation may take (an unlock prompt counts as failure past it). */
#define ST_SECRET_OP_MS 10000

/*
 * Stores token for server and email (may be NULL), replacing any token of
 * ours. -ENOKEY when there is no keyring; another negative errno when the
 * keyring refused or did not answer.
 */
int st_secret_store(const char *server, const char *email, const char *token);

/*
 * Looks the token of server and email (may be NULL) up: 0 with
 * *ret_token newly allocated (wipe it before freeing it: st_signin_release
 * does); -ENOENT when the keyring holds none; -ENOKEY when there is no
 * keyring or it did not answer.
 */
int st_secret_lookup(const char *server, const char *email, char **ret_token);

/* Removes every token of ours. 0 also when there was none; -ENOKEY when there is no keyring. */
int st_secret_clear(void);

#endif
