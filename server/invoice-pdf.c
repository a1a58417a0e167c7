/*
 * The invoice as a one-page A4 PDF, drawn with cairo: who bills whom, the
 * contract and its rate, one line per day of the week with hours and
 * amount, the total the client pays, the platform's fee and what the
 * freelancer receives, and how the charge stands. Only layout lives here;
 * every figure comes from struct invoice (invoices.c).
 */
#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/utc.h"
#include "lib/week.h"
#include "lib/xalloc.h"
#include "server/invoices.h"

#define PAGE_W 595.0 /* A4 in points */
#define PAGE_H 842.0
#define MARGIN 56.0
#define FONT "DejaVu Sans"

struct out_buf {
    char *data;
    size_t len, cap;
};

static cairo_status_t on_write(void *closure, const unsigned char *data, unsigned int length)
{
    struct out_buf *b = closure;

    if (b->len + length > b->cap) {
        size_t cap = b->cap ? b->cap : 16384;
        while (cap < b->len + length)
            cap *= 2;
        b->data = xrealloc(b->data, cap);
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, length);
    b->len += length;
    return CAIRO_STATUS_SUCCESS;
}

static void font(cairo_t *cr, double size, bool bold)
{
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/* Cuts s (UTF-8) to fit max_w, ending it with "..." when cut; out holds len bytes. */
static void fit(cairo_t *cr, const char *s, double max_w, char *out, size_t len)
{
    cairo_text_extents_t e;
    size_t n;

    snprintf(out, len, "%s", s);
    cairo_text_extents(cr, out, &e);
    if (e.x_advance <= max_w)
        return;
    n = strlen(out);
    while (n > 0) {
        n--;
        while (n > 0 && ((unsigned char)out[n] & 0xc0) == 0x80)
            n--; /* never cut inside a UTF-8 sequence */
        if (n + 4 > len)
            continue;
        memcpy(out + n, "...", 4);
        cairo_text_extents(cr, out, &e);
        if (e.x_advance <= max_w)
            return;
    }
}

static void text_at(cairo_t *cr, double x, double y, const char *s)
{
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, s);
}

static void text_right(cairo_t *cr, double right, double y, const char *s)
{
    cairo_text_extents_t e;

    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, right - e.x_advance, y);
    cairo_show_text(cr, s);
}

static void rule_from(cairo_t *cr, double x, double y, double gray, double width)
{
    cairo_set_source_rgb(cr, gray, gray, gray);
    cairo_set_line_width(cr, width);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, PAGE_W - MARGIN, y);
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
}

static void rule(cairo_t *cr, double y, double gray, double width)
{
    rule_from(cr, MARGIN, y, gray, width);
}

static void hms(int64_t s, char *out, size_t len)
{
    snprintf(out, len, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
             (long long)(s % 60));
}

static const char *const weekdays[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                        "Friday", "Saturday", "Sunday"};

#define TOTALS_X 250.0

/* One line of the totals block: a label on the left of the amount column. */
static void total_line(cairo_t *cr, double *y, const char *label, int64_t cents,
                       const char *currency, bool bold)
{
    char money[64], cut[256];
    cairo_text_extents_t e;

    invoices_format_money(cents, currency, money, sizeof(money));
    font(cr, 10.5, bold);
    cairo_text_extents(cr, money, &e);
    fit(cr, label, PAGE_W - MARGIN - TOTALS_X - e.x_advance - 12, cut, sizeof(cut));
    text_at(cr, TOTALS_X, *y, cut);
    text_right(cr, PAGE_W - MARGIN, *y, money);
    *y += 17;
}

static void draw(cairo_t *cr, const struct invoice *inv)
{
    char buf[512], cut[512], money[64], week[9], date[11], issued[ST_TIME_STRLEN];
    double y, col_w = (PAGE_W - 2 * MARGIN) / 2 - 10;
    int y0, m0, d0, y1, m1, d1;

    st_iso_week_format(inv->week_start, week);
    st_civil_from_days(inv->week_start / ST_DAY_S, &y0, &m0, &d0);
    st_civil_from_days(inv->week_start / ST_DAY_S + 6, &y1, &m1, &d1);
    st_utc_format(inv->issued_at, issued);
    snprintf(date, sizeof(date), "%.10s", issued);

    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);

    /* Heading: what this is and its number. */
    font(cr, 26, true);
    text_at(cr, MARGIN, 84, "Invoice");
    font(cr, 11, true);
    snprintf(buf, sizeof(buf), "No. %06lld", (long long)inv->number);
    text_right(cr, PAGE_W - MARGIN, 66, buf);
    font(cr, 10, false);
    snprintf(buf, sizeof(buf), "Issued %s", date);
    text_right(cr, PAGE_W - MARGIN, 81, buf);
    snprintf(buf, sizeof(buf), "Work week %s (%04d-%02d-%02d to %04d-%02d-%02d, UTC)", week, y0, m0,
             d0, y1, m1, d1);
    text_right(cr, PAGE_W - MARGIN, 95, buf);
    rule(cr, 110, 0.2, 1.2);

    /* The parties. */
    font(cr, 9, true);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text_at(cr, MARGIN, 134, "FROM (FREELANCER)");
    text_at(cr, MARGIN + col_w + 20, 134, "BILL TO (CLIENT)");
    cairo_set_source_rgb(cr, 0, 0, 0);
    font(cr, 12, true);
    fit(cr, inv->freelancer_name, col_w, cut, sizeof(cut));
    text_at(cr, MARGIN, 152, cut);
    fit(cr, inv->client_name, col_w, cut, sizeof(cut));
    text_at(cr, MARGIN + col_w + 20, 152, cut);

    /* The contract. */
    font(cr, 9, true);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text_at(cr, MARGIN, 184, "CONTRACT");
    text_at(cr, MARGIN + col_w + 20, 184, "HOURLY RATE");
    cairo_set_source_rgb(cr, 0, 0, 0);
    font(cr, 11, false);
    fit(cr, inv->title, col_w, cut, sizeof(cut));
    text_at(cr, MARGIN, 201, cut);
    invoices_format_money(inv->hourly_rate_cents, inv->currency, money, sizeof(money));
    snprintf(buf, sizeof(buf), "%s per hour", money);
    text_at(cr, MARGIN + col_w + 20, 201, buf);

    /* One line per day. */
    y = 240;
    font(cr, 9, true);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    text_at(cr, MARGIN, y, "DAY");
    text_at(cr, MARGIN + 110, y, "DATE");
    text_right(cr, 400, y, "HOURS (H:MM:SS)");
    text_right(cr, PAGE_W - MARGIN, y, "AMOUNT");
    cairo_set_source_rgb(cr, 0, 0, 0);
    rule(cr, y + 7, 0.6, 0.6);
    y += 25;
    font(cr, 10.5, false);
    for (int d = 0; d < 7; d++) {
        const struct invoice_line *l = &inv->lines[d];
        invoices_line_date(l, date);
        text_at(cr, MARGIN, y, weekdays[d]);
        text_at(cr, MARGIN + 110, y, date);
        hms(l->billable_s, buf, sizeof(buf));
        text_right(cr, 400, y, buf);
        invoices_format_money(l->amount_cents, inv->currency, money, sizeof(money));
        text_right(cr, PAGE_W - MARGIN, y, money);
        y += 20;
    }
    rule(cr, y - 10, 0.6, 0.6);
    y += 8;
    font(cr, 10.5, true);
    text_at(cr, MARGIN, y, "Billable hours");
    hms(inv->billable_s, buf, sizeof(buf));
    text_right(cr, 400, y, buf);
    invoices_format_money(inv->amount_cents, inv->currency, money, sizeof(money));
    text_right(cr, PAGE_W - MARGIN, y, money);
    y += 34;

    /* Totals: what the client pays, the fee, what the freelancer receives. */
    total_line(cr, &y, "Subtotal", inv->amount_cents, inv->currency, false);
    if (inv->refunded_cents || inv->refunded_s) {
        char dur[32];
        hms(inv->refunded_s, dur, sizeof(dur));
        snprintf(cut, sizeof(cut), "Refund of disputed time (%s)", dur);
        total_line(cr, &y, cut, -inv->refunded_cents, inv->currency, false);
    }
    rule_from(cr, TOTALS_X, y - 11, 0.6, 0.6);
    y += 4;
    total_line(cr, &y, "Total due from the client", inv->net_cents, inv->currency, true);
    y += 6;
    snprintf(cut, sizeof(cut), "Platform fee %d.%02d%% (the freelancer pays)", inv->fee_bp / 100,
             inv->fee_bp % 100);
    total_line(cr, &y, cut, -inv->fee_cents, inv->currency, false);
    total_line(cr, &y, "Freelancer receives", inv->payout_cents, inv->currency, true);

    /* How the charge stands. */
    y += 18;
    rule(cr, y - 12, 0.85, 0.6);
    font(cr, 10, false);
    if (strcmp(inv->charge_state, "paid") == 0) {
        snprintf(buf, sizeof(buf), "Payment: paid by the client.");
    } else if (strcmp(inv->charge_state, "failed") == 0) {
        invoices_format_money(inv->protected_cents, inv->currency, money, sizeof(money));
        snprintf(buf, sizeof(buf),
                 "Payment: the client's charge failed; Hourly Payment Protection pays %s.", money);
    } else if (strcmp(inv->charge_state, "void") == 0) {
        snprintf(buf, sizeof(buf), "Payment: nothing is due after the refund.");
    } else {
        invoices_format_money(inv->due_cents, inv->currency, money, sizeof(money));
        snprintf(buf, sizeof(buf), "Payment: %s due from the client (pending).", money);
    }
    text_at(cr, MARGIN, y, buf);
    y += 15;
    snprintf(buf, sizeof(buf), "Timesheet state: %s.", inv->timesheet_state);
    text_at(cr, MARGIN, y, buf);

    /* Footer: how the figures were made, and the ids to quote. */
    font(cr, 8, false);
    cairo_set_source_rgb(cr, 0.4, 0.4, 0.4);
    text_at(cr, MARGIN, PAGE_H - 70,
            "Hours are the exact seconds tracked and billable (over-limit time is never billed).");
    text_at(cr, MARGIN, PAGE_H - 58,
            "Each day's amount is rounded half up to the currency's minor unit, once per line.");
    snprintf(buf, sizeof(buf), "Invoice %s - contract %s - timesheet %s", inv->id, inv->contract_id,
             inv->timesheet_id);
    fit(cr, buf, PAGE_W - 2 * MARGIN, cut, sizeof(cut));
    text_at(cr, MARGIN, PAGE_H - 46, cut);
    text_right(cr, PAGE_W - MARGIN, PAGE_H - 30, "stint");
}

int invoices_to_pdf(const struct invoice *inv, char **ret_data, size_t *ret_len)
{
    struct out_buf b = {0};
    cairo_surface_t *surface;
    cairo_t *cr;
    cairo_status_t status;

    surface = cairo_pdf_surface_create_for_stream(on_write, &b, PAGE_W, PAGE_H);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(surface);
        free(b.data);
        return -EIO;
    }
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, "Invoice");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "stint");
    cr = cairo_create(surface);
    draw(cr, inv);
    cairo_show_page(cr);
    status = cairo_status(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (status == CAIRO_STATUS_SUCCESS)
        status = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (status != CAIRO_STATUS_SUCCESS) {
        free(b.data);
        return -EIO;
    }
    *ret_data = b.data;
    *ret_len = b.len;
    return 0;
}

void invoices_pdf_shutdown(void)
{
    /* Font caches live until the process ends; give them back so leak checkers see none. */
    cairo_debug_reset_static_data();
    FcFini();
}
