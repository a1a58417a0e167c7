/*
 * The zone the user sees when no --tz is given: their account's (GET /me).
 * Apart from zone.c because it talks to the server, which zone.c's
 * formatting does not: stint-recorder links zone.c and no HTTP client.
 */
#include "cli/zone.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/output.h"
#include "lib/json.h"

int cli_zone_resolve(struct cli_client *c, const char *option, const struct st_tz **ret_tz)
{
    const struct st_tz *tz;
    json_t *me = NULL;
    const char *name;
    int r;

    if (option) {
        tz = st_tz_get(option);
        if (!tz) {
            fprintf(stderr, "stint: unknown time zone '%s' (use an IANA name like Europe/Berlin)\n",
                    option);
            return CLI_USAGE;
        }
        *ret_tz = tz;
        return CLI_OK;
    }
    r = cli_call(c, "GET", "/me", NULL, &me);
    if (r != CLI_OK)
        return r;
    name = st_json_str(json_object_get(me, "user"), "timezone", NULL);
    if (!name || !*name)
        name = "UTC";
    tz = st_tz_get(name);
    if (!tz) {
        char *clean = cli_clean(name);
        fprintf(stderr,
                "stint: your account's time zone '%s' is unknown on this machine; "
                "use --tz\n",
                clean);
        free(clean);
        r = CLI_FAILED;
        goto out;
    }
    *ret_tz = tz;
    r = CLI_OK;
out:
    json_decref(me);
    return r;
}

/* Local wall-clock seconds (as if the zone were UTC) to the UTC instant. */
