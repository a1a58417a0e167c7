/*
 * The saved sign-in that the CLI (`stint login`) and the desktop app share:
 * $XDG_CONFIG_HOME/stint/auth.json (else ~/.config/stint/auth.json) holding
 * the server URL and the email, and the bearer token either in the
 * keyring (lib/secret.h: a Secret Service on the session bus, when one
 * runs and STINT_NO_KEYRING is not set; the file then says
 * "token_in": "keyring") or, without a keyring, in the file itself. One
 * file is the one source of truth: signing in with either face signs the
 * other in too, whichever store holds the token. The directory is created
 * 0700 and the file written 0600 through a temporary file and rename, so a
 * crash never leaves half a token and no other user can read it. Not for
 * the tracker's journal (that lives under $XDG_DATA_HOME/stint).
 *
 * These functions return errors and print nothing; the command decides.
 */
#ifndef STINT_SIGNIN_H
#define STINT_SIGNIN_H

/* auth.json is small; a larger file is refused rather than read. */
#define ST_SIGNIN_MAX_BYTES (64 * 1024)
/* The value of "token_in" when the token is in the keyring. */
#define ST_SIGNIN_IN_KEYRING "keyring"

struct st_signin {
    char *server; /* base URL the token belongs to; owned */
    char *token;  /* owned */
    char *email;  /* who signed in; owned, may be NULL */
};

/*
 * Returns the path of auth.json, newly allocated, or NULL when neither
 * $XDG_CONFIG_HOME (absolute) nor a home directory is known.
 */
char *st_signin_path(void);

/*
 * Reads the sign-in into ret, the token from wherever auth.json says.
 * Returns 0; -ENOENT when nobody is signed in (also when the keyring no
 * longer holds the token); -EFBIG when the file is over
 * ST_SIGNIN_MAX_BYTES; -EINVAL when it is not what st_signin_save wrote;
 * -ENOKEY when the token is in the keyring and no keyring answers now
 * (-EACCES: it is locked); another negative errno when the file cannot be
 * read. ret is written only on success.
 */
int st_signin_load(struct st_signin *ret);

/*
 * Like st_signin_load, but leaves the token where it is (ret->token is
 * NULL): for the server URL or the email, without asking the keyring.
 */
int st_signin_peek(struct st_signin *ret);

/*
 * Saves st: the token in the keyring when one answers (else in the file,
 * where st_secret_file_allowed(); on Windows the Credential Manager's
 * refusal is returned and nothing is written), then auth.json atomically
 * with mode 0600. Returns 0 or a negative errno.
 */
int st_signin_save(const struct st_signin *st);

/*
 * Forgets the sign-in: removes our token from the keyring (when one
 * answers) and auth.json. Returns 0 (also when there was none) or a
 * negative errno when auth.json cannot be removed.
 */
int st_signin_remove(void);

/* Frees the strings of st (wiping the token first); st itself is not freed. */
void st_signin_release(struct st_signin *st);

#endif
