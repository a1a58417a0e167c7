/*
 * The client's saved sign-in: $XDG_CONFIG_HOME/stint/auth.json (else
 * ~/.config/stint/auth.json) holding the server URL and the bearer token.
 * The directory is created 0700 and the file written 0600 through a
 * temporary file and rename, so a crash never leaves half a token and no
 * other user can read it. Not for the tracker's journal (that lives under
 * $XDG_DATA_HOME/stint).
 *
 * These functions return errors and print nothing; the command decides.
 */
#ifndef STINT_CLI_STATE_H
#define STINT_CLI_STATE_H

/* auth.json is small; a larger file is refused rather than read. */
#define CLI_STATE_MAX_BYTES (64 * 1024)

struct cli_state {
    char *server; /* base URL the token belongs to; owned */
    char *token;  /* owned */
    char *email;  /* who signed in; owned, may be NULL */
};

/*
 * Returns the path of auth.json, newly allocated, or NULL when neither
 * $XDG_CONFIG_HOME (absolute) nor a home directory is known.
 */
char *cli_state_path(void);

/*
 * Reads auth.json into ret. Returns 0; -ENOENT when nobody is signed in;
 * -EFBIG when the file is over CLI_STATE_MAX_BYTES; -EINVAL when it is not
 * what cli_state_save wrote; another negative errno when it cannot be read.
 * ret is written only on success.
 */
int cli_state_load(struct cli_state *ret);

/* Writes st atomically with mode 0600. Returns 0 or a negative errno. */
int cli_state_save(const struct cli_state *st);

/* Removes auth.json. Returns 0 (also when there was none) or a negative errno. */
int cli_state_remove(void);

/* Frees the strings of st (wiping the token first); st itself is not freed. */
void cli_state_release(struct cli_state *st);

#endif
