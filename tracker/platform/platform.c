/*
 * What every build of the platform layer shares, whichever backends it
 * holds: the defaults of the optional functions of struct tk_platform.
 */
#include "tracker/platform/platform.h"

#include <stdio.h>

void tk_platform_describe(const struct tk_platform *p, struct tk_platform_ctx *ctx, char *out,
                          size_t outlen)
{
    if (p->describe && ctx)
        p->describe(ctx, out, outlen);
    else
        snprintf(out, outlen, "%s", p->name);
}

enum tk_measure tk_platform_measure(const struct tk_platform *p, struct tk_platform_ctx *ctx)
{
    return p->measure && ctx ? p->measure(ctx) : TK_MEASURE_COUNTS;
}
