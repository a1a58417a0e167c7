/*
 * The keyring: where the sign-in's token goes when a Secret Service
 * (GNOME Keyring, KeePassXC, ...) answers on the session bus; on Windows,
 * the Credential Manager (secret-wincred.c, which the build picks instead
 * of secret-dl.c; what follows about modules and buses is Linux's). lib/signin.c
 * is the only caller; the CLI and the desktop app reach it through there.
 * Not for: the rest of the sign-in (server, email), which stays in
 * auth.json, nor for any other secret.
 *
 * The backend, secret-libsecret.c on libsecret-1 and GLib, is a module of
 * its own (stint-secret.so) that secret-dl.c loads with dlopen the first
 * time a call needs it, so a program that never touches the keyring (`stint
 * track` with the token in auth.json) never maps GLib. The module comes
 * from $STINT_SECRET_MODULE when set, else from the build tree for a
 * program run from its build tree, else from LIBDIR/stint. A module that is
 * missing or does not load means "no keyring" (said once at debug level):
 * the token then stays in auth.json, as in a build without libsecret.
 *
 * Before loading anything, a call with STINT_NO_KEYRING=1 in the
 * environment, or without a session bus configured (neither
 * $DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus), is "no keyring": a
 * terminal without a desktop never loads the module nor autolaunches a bus.
 * The module then checks, with a deadline of ST_SECRET_PROBE_MS, that the
 * service's name has an owner on the bus: a bus without the service, or one
 * that does not answer in time, is "no keyring" too. A service that is only
 * activatable is not started: a fresh keyring would ask for a password
 * where nobody may see it.
 *
 * The token is stored under the schema "dev.stint.Token" with the
 * attributes server and email; there is at most one such item, as there is
 * one sign-in. Calls are synchronous, return 0 or a negative errno, print
 * nothing but that debug line, and may be made from any one thread at a
 * time. The module, once loaded, stays loaded.
 */
#ifndef STINT_SECRET_H
#define STINT_SECRET_H

#include <stdbool.h>

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
 * *ret_token newly allocated with malloc (wipe it before freeing it:
 * st_signin_release does); -ENOENT when the keyring holds none; -ENOKEY
 * when there is no keyring or it did not answer.
 */
int st_secret_lookup(const char *server, const char *email, char **ret_token);

/* Removes every token of ours. 0 also when there was none; -ENOKEY when there is no keyring. */
int st_secret_clear(void);

/*
 * Whether the token may go to auth.json when the keyring does not take it:
 * true on Linux (secret-dl.c: a terminal without a desktop has no keyring);
 * false on Windows (secret-wincred.c: the Credential Manager is always
 * there, and a token is never written to a plain file; signing in fails).
 */
bool st_secret_file_allowed(void);

/*
 * The module's side: stint-secret.so exports one function,
 * ST_SECRET_MODULE_ENTRY, returning its operations, which have the
 * contracts above (the caller has already checked STINT_NO_KEYRING and the
 * bus). The name carries the version of this struct: a module built for
 * another version has no such symbol and counts as missing.
 */
struct st_secret_ops {
    int (*store)(const char *server, const char *email, const char *token);
    int (*lookup)(const char *server, const char *email, char **ret_token);
    int (*clear)(void);
};

#define ST_SECRET_MODULE_ENTRY "stint_secret_module_v1"
const struct st_secret_ops *stint_secret_module_v1(void);

#endif
