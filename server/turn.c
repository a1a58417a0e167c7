/*
 * TURN credentials and the ICE server list (turn.h): nettle's HMAC-SHA1
 * and base64, and the URL settings split on spaces and commas.
 */
#include "server/turn.h"

#include <nettle/base64.h>
#include <nettle/hmac.h>
#include <stdio.h>
#include <string.h>

#include "server/server.h"

void turn_password(const char *secret, const char *username, char ret[TURN_PASSWORD_LEN + 1])
{
    struct hmac_sha1_ctx ctx;
    uint8_t digest[SHA1_DIGEST_SIZE];

    hmac_sha1_set_key(&ctx, strlen(secret), (const uint8_t *)secret);
    hmac_sha1_update(&ctx, strlen(username), (const uint8_t *)username);
    hmac_sha1_digest(&ctx, SHA1_DIGEST_SIZE, digest);
    base64_encode_raw(ret, SHA1_DIGEST_SIZE, digest);
    ret[TURN_PASSWORD_LEN] = '\0';
}

/* The URLs of a setting ("a b,c"), at most TURN_URLS_MAX; NULL when there is none. */
static json_t *url_list(const char *setting)
{
    json_t *urls = json_array();
    const char *p = setting;

    while (*p && json_array_size(urls) < TURN_URLS_MAX) {
        size_t n;
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        n = strcspn(p, " ,\t");
        if (n)
            json_array_append_new(urls, json_stringn(p, n));
        p += n;
    }
    if (json_array_size(urls) == 0) {
        json_decref(urls);
        return NULL;
    }
    return urls;
}

json_t *turn_ice_servers(const struct server_config *cfg, const char *user_id, int64_t now)
{
    json_t *servers = json_array();
    json_t *stun = url_list(cfg->stun_urls);
    json_t *turn = cfg->turn_secret[0] ? url_list(cfg->turn_urls) : NULL;

    if (stun)
        json_array_append_new(servers, json_pack("{s:o}", "urls", stun));
    if (turn) {
        char username[80], password[TURN_PASSWORD_LEN + 1];
        snprintf(username, sizeof(username), "%lld:%s", (long long)(now + cfg->turn_ttl_s),
                 user_id);
        turn_password(cfg->turn_secret, username, password);
        json_array_append_new(servers, json_pack("{s:o,s:s,s:s}", "urls", turn, "username",
                                                 username, "credential", password));
    }
    return json_pack("{s:o,s:i}", "ice_servers", servers, "ttl_s", turn ? cfg->turn_ttl_s : 0);
}
