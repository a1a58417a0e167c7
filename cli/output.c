/*
 * Text formatting for the command-line client. Everything that reaches the
 * terminal from the server passes through cli_clean first.
 */
#include "cli/output.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/os.h"
#include "lib/str.h"
#include "lib/xalloc.h"

/* More cells than this make a table refuse rows rather than grow forever. */
#define TABLE_MAX_COLS 16

bool cli_fancy(void)
{
    static int fancy = -1;

    if (fancy < 0)
        fancy = isatty(STDOUT_FILENO) && st_os_utf8_text();
    return fancy;
}

static bool utf8_locale(void)
{
    return st_os_utf8_text();
}

void cli_format_duration(long long seconds, char out[CLI_DURATION_LEN])
{
    const char *sign = "";

    if (seconds < 0) {
        sign = "-";
        seconds = -seconds;
    }
    snprintf(out, CLI_DURATION_LEN, "%s%lld:%02lld:%02lld", sign, seconds / 3600, seconds / 60 % 60,
             seconds % 60);
}

int cli_currency_digits(const char *currency)
{
    /* ISO 4217 minor units that are not 2; everything else has cents. */
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                       "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                       "VND", "VUV", "XAF", "XOF", "XPF", NULL};
    static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};

    if (!currency)
        return 2;
    for (int i = 0; zero[i]; i++)
        if (strcasecmp(currency, zero[i]) == 0)
            return 0;
    for (int i = 0; three[i]; i++)
        if (strcasecmp(currency, three[i]) == 0)
            return 3;
    return 2;
}

void cli_format_money(long long cents, const char *currency, char out[CLI_MONEY_LEN])
{
    int digits = cli_currency_digits(currency);
    long long scale = digits == 0 ? 1 : digits == 3 ? 1000 : 100;
    const char *sign = cents < 0 ? "-" : "";
    unsigned long long v = cents < 0 ? 0ULL - (unsigned long long)cents : (unsigned long long)cents;
    char cur[8];

    snprintf(cur, sizeof(cur), "%s", currency ? currency : "");
    for (char *p = cur; *p; p++)
        if (!isalpha((unsigned char)*p))
            *p = '?';
    if (digits == 0)
        snprintf(out, CLI_MONEY_LEN, "%s%llu %s", sign, v, cur);
    else
        snprintf(out, CLI_MONEY_LEN, "%s%llu.%0*llu %s", sign, v / (unsigned long long)scale,
                 digits, v % (unsigned long long)scale, cur);
}

void cli_format_bars(int level, char *out, size_t len)
{
    bool fancy = cli_fancy();
    const char *on = fancy ? "\u25ae" : "#";
    const char *off = fancy ? "\u25af" : ".";
    size_t used = 0;

    if (level < 0)
        level = 0;
    if (level > 10)
        level = 10;
    out[0] = '\0';
    for (int i = 0; i < 10; i++) {
        const char *s = i < level ? on : off;
        size_t n = strlen(s);
        if (used + n + 1 > len)
            break;
        memcpy(out + used, s, n + 1);
        used += n;
    }
}

char *cli_clean(const char *s)
{
    size_t len = strlen(s);
    char *out = xmalloc(len + 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;

    while (*p) {
        long cp;
        size_t n = st_utf8_decode(p, &cp);
        /* C0, DEL, C1 and broken sequences all become '?'. */
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
            out[o++] = '?';
        } else {
            memcpy(out + o, p, n);
            o += n;
        }
        p += n;
    }
    out[o] = '\0';
    return out;
}

static size_t cp_width(long cp)
{
    int w;

    if (!utf8_locale() || cp < 0)
        return 1;
    w = st_os_char_width((uint32_t)cp);
    return w < 0 ? 1 : (size_t)w;
}

size_t cli_text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t width = 0;

    while (*p) {
        long cp;
        p += st_utf8_decode(p, &cp);
        width += cp_width(cp);
    }
    return width;
}

/* Returns s cut to max columns with an ellipsis, newly allocated. */
static char *truncate_to(const char *s, size_t max)
{
    bool fancy = cli_fancy();
    const char *ellipsis = fancy ? "\u2026" : "...";
    size_t ell_w = fancy ? 1 : 3;
    const unsigned char *p = (const unsigned char *)s;
    size_t width = 0;
    char *out;

    if (cli_text_width(s) <= max)
        return xstrdup(s);
    if (max <= ell_w)
        return xstrdup(ellipsis);
    while (*p) {
        long cp;
        size_t n = st_utf8_decode(p, &cp);
        size_t w = cp_width(cp);
        if (width + w > max - ell_w)
            break;
        width += w;
        p += n;
    }
    out = xasprintf("%.*s%s", (int)((const char *)p - s), s, ellipsis);
    return out;
}

const char *cli_strerror(int errnum)
{
    static char buf[128];

    snprintf(buf, sizeof(buf), "%s", strerror(errnum));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

void cli_print_json(json_t *v)
{
    if (v)
        json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    else
        fputs("{}", stdout);
    fputc('\n', stdout);
}

struct cli_table {
    int ncols;
    size_t max[TABLE_MAX_COLS];
    bool right[TABLE_MAX_COLS];
    char **cells; /* nrows * ncols, row 0 is the header */
    size_t nrows;
    size_t cap;
};

struct cli_table *cli_table_new(int ncols, const char *const *headers)
{
    struct cli_table *t = xcalloc(1, sizeof(*t));

    if (ncols < 1 || ncols > TABLE_MAX_COLS)
        abort();
    t->ncols = ncols;
    cli_table_add(t, headers);
    return t;
}

void cli_table_set_max(struct cli_table *t, int col, size_t max_width)
{
    if (col >= 0 && col < t->ncols)
        t->max[col] = max_width;
}

void cli_table_set_right(struct cli_table *t, int col)
{
    if (col >= 0 && col < t->ncols)
        t->right[col] = true;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = xrealloc(t->cells, t->cap * (size_t)t->ncols * sizeof(char *));
    }
    for (int i = 0; i < t->ncols; i++)
        t->cells[t->nrows * (size_t)t->ncols + (size_t)i] = cli_clean(cells[i] ? cells[i] : "");
    t->nrows++;
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
    size_t width[TABLE_MAX_COLS] = {0};
    char **shown = xcalloc(t->nrows * (size_t)t->ncols, sizeof(char *));

    for (size_t r = 0; r < t->nrows; r++) {
        for (int c = 0; c < t->ncols; c++) {
            size_t i = r * (size_t)t->ncols + (size_t)c;
            shown[i] = t->max[c] ? truncate_to(t->cells[i], t->max[c]) : xstrdup(t->cells[i]);
            size_t w = cli_text_width(shown[i]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t r = 0; r < t->nrows; r++) {
        /* Trailing empty cells would only leave trailing blanks. */
        int last = t->ncols - 1;
        while (last > 0 && shown[r * (size_t)t->ncols + (size_t)last][0] == '\0')
            last--;
        for (int c = 0; c <= last; c++) {
            const char *s = shown[r * (size_t)t->ncols + (size_t)c];
            size_t pad = width[c] - cli_text_width(s);
            if (c > 0)
                fputs("  ", f);
            if (t->right[c])
                fprintf(f, "%*s", (int)pad, "");
            fputs(s, f);
            if (!t->right[c] && c < last)
                fprintf(f, "%*s", (int)pad, "");
        }
        fputc('\n', f);
    }
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(shown[i]);
    free(shown);
}

void cli_table_free(struct cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
