/*
 * The few server requests the tray app makes itself (the engine makes the
 * rest): signing in, listing the contracts and deleting a segment. Each is
 * one blocking libcurl request with a 10 s limit, made from the UI thread
 * on a user's action (the window shows "Signing in…" meanwhile). Answers
 * over 1 MiB are refused.
 *
 * Errors: 0 or a negative errno with a sentence for the user in err
 * (-ECONNREFUSED the server cannot be reached, -EACCES a refused sign-in,
 * -EPROTO an answer that is not what the API promises).
 */
#ifndef STINT_TRAY_API_H
#define STINT_TRAY_API_H

#include <stddef.h>

#include <jansson.h>

/* POST /login; the token in *ret_token (newly allocated). */
int tray_api_login(const char *server, const char *email, const char *password, char **ret_token,
                   char *err, size_t errlen);
/* GET /contracts; the "contracts" array in *ret (a new reference). */
int tray_api_contracts(const char *server, const char *token, json_t **ret, char *err,
                       size_t errlen);
/* DELETE /segments/{id}. */
int tray_api_delete_segment(const char *server, const char *token, const char *id, char *err,
                            size_t errlen);

#endif
