/*
 * The money arithmetic and small helpers of billing.h.
 */
#include "server/billing.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

int64_t billing_amount(int64_t seconds, int64_t hourly_rate_cents)
{
    /* seconds <= 7 * 86400 and a rate <= 1e8: the product fits an int64_t. */
    if (seconds <= 0 || hourly_rate_cents <= 0)
        return 0;
    return (seconds * hourly_rate_cents + 1800) / 3600;
}

int64_t billing_fee(int64_t amount_cents, int fee_bp)
{
    if (amount_cents <= 0 || fee_bp <= 0)
        return 0;
    return (amount_cents * fee_bp + 5000) / 10000;
}

int billing_refuse(struct billing_refusal *ref, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    ref->status = status;
    ref->code = code;
    va_start(ap, fmt);
    vsnprintf(ref->msg, sizeof(ref->msg), fmt, ap);
    va_end(ap);
    return -EPERM;
}

void billing_csv_field(FILE *f, const char *s)
{
    bool formula =
        s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r';
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    if (formula)
        fputc('\'', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
