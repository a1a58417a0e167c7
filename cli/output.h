/*
 * How the command-line client shows things: durations ("3:25:10"), money,
 * activity bars, aligned tables and pretty JSON, and the cleaning of text
 * that came from the server before it reaches a terminal. Formatting only:
 * no HTTP, no files.
 */
#ifndef STINT_CLI_OUTPUT_H
#define STINT_CLI_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CLI_DURATION_LEN 32
#define CLI_MONEY_LEN 48

/*
 * True when stdout is a terminal and the locale's character set is UTF-8:
 * then bars and ellipses use Unicode, otherwise plain ASCII.
 */
bool cli_fancy(void);

/* Formats whole seconds as "H:MM:SS" ("0:00:00", "3:25:10", "170:00:00"). */
void cli_format_duration(long long seconds, char out[CLI_DURATION_LEN]);

/*
 * The number of digits after the decimal point of an ISO 4217 currency
 * (2 for most, 0 for JPY, 3 for KWD ...).
 */
int cli_currency_digits(const char *currency);
/* Formats minor units as "45.00 USD" (or "4500 JPY"). */
void cli_format_money(long long cents, const char *currency, char out[CLI_MONEY_LEN]);

/*
 * Writes the ten activity bars of a level 0-10 into out ("▮▮▮▯▯▯▯▯▯▯", or
 * "###......." without Unicode); out holds at least 31 bytes.
 */
void cli_format_bars(int level, char *out, size_t len);

/*
 * Returns a copy of s, newly allocated, with control characters replaced by
 * '?', so that text from the server cannot drive the terminal.
 */
char *cli_clean(const char *s);
/* Columns that s takes on a terminal. */
size_t cli_text_width(const char *s);

/* strerror in lowercase ("connection refused"); the string is static. */
const char *cli_strerror(int errnum);

/* Prints v pretty (two-space indent, key order kept; NULL as {}) and a newline to stdout. */
void cli_print_json(json_t *v);

/*
 * A table printed with aligned columns. Cells are copied and cleaned; a
 * cell wider than the column's max width (0: no limit) is cut with an
 * ellipsis. Rows are printed in the order added.
 */
struct cli_table;

struct cli_table *cli_table_new(int ncols, const char *const *headers);
/* Caps a column's width. */
void cli_table_set_max(struct cli_table *t, int col, size_t max_width);
/* Aligns a column to the right (numbers, durations). */
void cli_table_set_right(struct cli_table *t, int col);
/* Appends a row of ncols cells; a NULL cell prints empty. */
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(const struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

#endif
