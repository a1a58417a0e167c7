/*
 * The backend of lib/secret.h for builds without libsecret-1: there is
 * never a keyring, so lib/signin.c keeps the token in its 0600 file.
 */
#include "lib/secret.h"

#include <errno.h>

int st_secret_store(const char *server, const char *email, const char *token)
{
    return -ENOKEY;
}

int st_secret_lookup(const char *server, const char *email, char **ret_token)
{
    return -ENOKEY;
}

int st_secret_clear(void)
{
    return -ENOKEY;
}
