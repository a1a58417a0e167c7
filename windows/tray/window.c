/*
 * The tray app's main window and its engine (window.h). The state a user
 * sees is drawn from tk_engine_status() after every tick; the engine's
 * events add what a status cannot say (a screenshot's file, the idle
 * prompt, a limit crossed, why the timer stopped) and the balloons.
 *
 * Each notable change is also written as one line to standard error
 * ("stint-tracker: tracking", "stint-tracker: idle prompt"), which is how
 * the tests under Wine follow the app without reading its pixels.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <commctrl.h>

#include "windows/tray/window.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include <jansson.h>
#include <turbojpeg.h>

#include "lib/signin.h"
#include "lib/xalloc.h"
#include "tracker/engine.h"
#include "tracker/settings.h"
#include "tracker/upload-pass.h"
#include "windows/tray/api.h"
#include "windows/tray/autostart.h"
#include "windows/tray/text.h"
#include "windows/tray/tray.h"

enum {
    IDC_TITLE = 100,
    IDC_SERVER_L,
    IDC_SERVER,
    IDC_EMAIL_L,
    IDC_EMAIL,
    IDC_PASS_L,
    IDC_PASS,
    IDC_SIGNIN,
    IDC_SIGNIN_MSG,
    IDC_IDLE_MSG,
    IDC_KEEP,
    IDC_DISCARD,
    IDC_IDLE_STOP,
    IDC_CONTRACT_L,
    IDC_CONTRACT,
    IDC_MEMO_L,
    IDC_MEMO,
    IDC_TAGS_L,
    IDC_TAGS,
    IDC_START,
    IDC_TOTALS,
    IDC_LIMIT,
    IDC_BARS_L,
    IDC_BARS,
    IDC_SHOT_L,
    IDC_SHOT,
    IDC_DELETE,
    IDC_STATUS,
    IDC_AUTOSTART,
    IDC_SIGNOUT,
    IDC_LAST,
};

enum {
    CMD_TOGGLE = 1000,
    CMD_MEMO,
    CMD_OPEN,
    CMD_QUIT,
    CMD_CONTRACT0 = 1100, /* + index in the menu's list of contracts */
};

#ifndef NIN_SELECT
#define NIN_SELECT (WM_USER + 0)
#define NIN_KEYSELECT (WM_USER + 1)
#endif

#define TIMER_TICK 1
#define MAX_CONTRACTS 64
#define WIDTH 440 /* the window's client width at 96 DPI */

struct app {
    HWND wnd;
    HWND c[IDC_LAST - IDC_TITLE];
    HFONT font, bold;
    int dpi;
    bool signed_in;
    struct st_signin si;
    struct tk_settings set;
    struct tk_engine *e;
    char engine_err[256];
    json_t *contracts; /* the active ones, in the picker's order */
    struct tk_status st;
    enum tray_state state;
    bool error; /* the timer stopped by itself for a reason that is not idle */
    bool was_online;
    int logged_queued; /* the queue's length when it was last written to standard error */
    bool idle_open;
    time_t idle_opened;
    int64_t idle_since;
    int limit_percent;
    char shot_segment[37];
    HBITMAP thumb;
    int thumb_w, thumb_h;
};

static struct app app;

static HWND ctl(int id)
{
    return app.c[id - IDC_TITLE];
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    va_list ap;

    fputs("stint-tracker: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

static int px(int v)
{
    return MulDiv(v, app.dpi, 96);
}

static void set_text8(int id, const char *utf8)
{
    wchar_t *w = tray_wide(utf8);

    SetWindowTextW(ctl(id), w);
    free(w);
}

/* Controls. */

struct control {
    int id;
    const wchar_t *cls;
    const wchar_t *text;
    DWORD style;
};

static const struct control controls[] = {
    {IDC_TITLE, L"STATIC", L"Sign in to your stint server", SS_LEFT},
    {IDC_SERVER_L, L"STATIC", L"&Server:", SS_LEFT},
    {IDC_SERVER, L"EDIT", L"", WS_TABSTOP | WS_BORDER | ES_AUTOHSCROLL},
    {IDC_EMAIL_L, L"STATIC", L"&Email:", SS_LEFT},
    {IDC_EMAIL, L"EDIT", L"", WS_TABSTOP | WS_BORDER | ES_AUTOHSCROLL},
    {IDC_PASS_L, L"STATIC", L"&Password:", SS_LEFT},
    {IDC_PASS, L"EDIT", L"", WS_TABSTOP | WS_BORDER | ES_AUTOHSCROLL | ES_PASSWORD},
    {IDC_SIGNIN, L"BUTTON", L"S&ign in", WS_TABSTOP | BS_DEFPUSHBUTTON},
    {IDC_SIGNIN_MSG, L"STATIC", L"", SS_LEFT},
    {IDC_IDLE_MSG, L"STATIC", L"", SS_LEFT},
    {IDC_KEEP, L"BUTTON", L"&Keep", WS_TABSTOP | BS_PUSHBUTTON},
    {IDC_DISCARD, L"BUTTON", L"&Discard", WS_TABSTOP | BS_PUSHBUTTON},
    {IDC_IDLE_STOP, L"BUTTON", L"Stop t&imer", WS_TABSTOP | BS_PUSHBUTTON},
    {IDC_CONTRACT_L, L"STATIC", L"&Contract:", SS_LEFT},
    {IDC_CONTRACT, L"COMBOBOX", L"", WS_TABSTOP | WS_VSCROLL | CBS_DROPDOWNLIST},
    {IDC_MEMO_L, L"STATIC", L"&Memo:", SS_LEFT},
    {IDC_MEMO, L"EDIT", L"", WS_TABSTOP | WS_BORDER | ES_AUTOHSCROLL},
    {IDC_TAGS_L, L"STATIC", L"T&ags:", SS_LEFT},
    {IDC_TAGS, L"EDIT", L"", WS_TABSTOP | WS_BORDER | ES_AUTOHSCROLL},
    {IDC_START, L"BUTTON", L"&Start", WS_TABSTOP | BS_PUSHBUTTON},
    {IDC_TOTALS, L"STATIC", L"", SS_LEFT},
    {IDC_LIMIT, L"STATIC", L"", SS_LEFT},
    {IDC_BARS_L, L"STATIC", L"This segment:", SS_LEFT},
    {IDC_BARS, L"STATIC", L"", SS_OWNERDRAW},
    {IDC_SHOT_L, L"STATIC", L"Last screenshot:", SS_LEFT},
    {IDC_SHOT, L"STATIC", L"", SS_OWNERDRAW},
    {IDC_DELETE, L"BUTTON", L"De&lete segment", WS_TABSTOP | BS_PUSHBUTTON},
    {IDC_STATUS, L"STATIC", L"", SS_LEFT},
    {IDC_AUTOSTART, L"BUTTON", L"Start at sign-i&n", WS_TABSTOP | BS_AUTOCHECKBOX},
    {IDC_SIGNOUT, L"BUTTON", L"Sign &out", WS_TABSTOP | BS_PUSHBUTTON},
};

static bool in_signin_view(int id)
{
    return id >= IDC_TITLE && id <= IDC_SIGNIN_MSG;
}

static bool in_idle_group(int id)
{
    return id >= IDC_IDLE_MSG && id <= IDC_IDLE_STOP;
}

static void make_fonts(void)
{
    NONCLIENTMETRICSW m = {.cbSize = sizeof(m)};
    LOGFONTW lf;

    if (app.font)
        DeleteObject(app.font);
    if (app.bold)
        DeleteObject(app.bold);
    SystemParametersInfoW(SPI_GETNONCLIENTMETRICS, sizeof(m), &m, 0);
    lf = m.lfMessageFont;
    /* The metrics are for the system's DPI; the window may be on another monitor. */
    lf.lfHeight = -MulDiv(9, app.dpi, 72);
    app.font = CreateFontIndirectW(&lf);
    lf.lfWeight = FW_BOLD;
    app.bold = CreateFontIndirectW(&lf);
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        int id = controls[i].id;
        HFONT f = id == IDC_TITLE || id == IDC_START || id == IDC_IDLE_MSG || id == IDC_LIMIT
                      ? app.bold
                      : app.font;
        SendMessageW(ctl(id), WM_SETFONT, (WPARAM)f, TRUE);
    }
}

/* Places the visible controls top to bottom and fits the window's height to them. */
static void layout(void)
{
    int x = 16, w = WIDTH - 32, lw = 110, y = 16, row = 26;
    RECT r;

#define PLACE(id, X, Y, W, H) SetWindowPos(ctl(id), NULL, px(X), px(Y), px(W), px(H), SWP_NOZORDER)
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        int id = controls[i].id;
        bool show = app.signed_in ? !in_signin_view(id) && (!in_idle_group(id) || app.idle_open)
                                  : in_signin_view(id);
        ShowWindow(ctl(id), show ? SW_SHOWNA : SW_HIDE);
    }
    if (!app.signed_in) {
        PLACE(IDC_TITLE, x, y, w, 22);
        y += 34;
        PLACE(IDC_SERVER_L, x, y + 4, lw, 20);
        PLACE(IDC_SERVER, x + lw, y, w - lw, 24);
        y += row + 6;
        PLACE(IDC_EMAIL_L, x, y + 4, lw, 20);
        PLACE(IDC_EMAIL, x + lw, y, w - lw, 24);
        y += row + 6;
        PLACE(IDC_PASS_L, x, y + 4, lw, 20);
        PLACE(IDC_PASS, x + lw, y, w - lw, 24);
        y += row + 12;
        PLACE(IDC_SIGNIN, x + w - 120, y, 120, 30);
        y += 42;
        PLACE(IDC_SIGNIN_MSG, x, y, w, 54);
        y += 60;
    } else {
        if (app.idle_open) {
            PLACE(IDC_IDLE_MSG, x, y, w, 58);
            y += 62;
            PLACE(IDC_KEEP, x, y, 120, 30);
            PLACE(IDC_DISCARD, x + 134, y, 120, 30);
            PLACE(IDC_IDLE_STOP, x + 268, y, 140, 30);
            y += 44;
        }
        PLACE(IDC_CONTRACT_L, x, y + 4, lw, 20);
        PLACE(IDC_CONTRACT, x + lw, y, w - lw, 300);
        y += row + 8;
        PLACE(IDC_MEMO_L, x, y + 4, lw, 20);
        PLACE(IDC_MEMO, x + lw, y, w - lw, 24);
        y += row + 6;
        PLACE(IDC_TAGS_L, x, y + 4, lw, 20);
        PLACE(IDC_TAGS, x + lw, y, w - lw, 24);
        y += row + 10;
        PLACE(IDC_START, x, y, w, 38);
        y += 48;
        PLACE(IDC_TOTALS, x, y, w, 20);
        y += 26;
        /* The limit's banner takes room only when there is something to say. */
        ShowWindow(ctl(IDC_LIMIT), app.limit_percent >= 90 ? SW_SHOWNA : SW_HIDE);
        if (app.limit_percent >= 90) {
            PLACE(IDC_LIMIT, x, y, w, 20);
            y += 26;
        }
        PLACE(IDC_BARS_L, x, y, w, 20);
        y += 22;
        PLACE(IDC_BARS, x, y, w, 44);
        y += 54;
        PLACE(IDC_SHOT_L, x, y, w, 20);
        y += 22;
        PLACE(IDC_SHOT, x, y, w, 200);
        y += 206;
        PLACE(IDC_DELETE, x + w - 140, y, 140, 28);
        y += 38;
        PLACE(IDC_STATUS, x, y, w, 20);
        y += 28;
        PLACE(IDC_AUTOSTART, x, y, 200, 24);
        PLACE(IDC_SIGNOUT, x + w - 100, y, 100, 28);
        y += 40;
    }
#undef PLACE
    r = (RECT){0, 0, px(WIDTH), px(y)};
    AdjustWindowRectEx(&r, (DWORD)GetWindowLongW(app.wnd, GWL_STYLE), FALSE,
                       (DWORD)GetWindowLongW(app.wnd, GWL_EXSTYLE));
    SetWindowPos(app.wnd, NULL, 0, 0, r.right - r.left, r.bottom - r.top,
                 SWP_NOMOVE | SWP_NOZORDER | SWP_NOACTIVATE);
    InvalidateRect(app.wnd, NULL, TRUE);
}

/* The screenshot's thumbnail. */

static void thumb_drop(void)
{
    if (app.thumb)
        DeleteObject(app.thumb);
    app.thumb = NULL;
}

/* Decodes the JPEG at path, scaled down by libjpeg-turbo to at most the box's width. */
static void thumb_load(const char *path)
{
    wchar_t *wp = tray_wide(path);
    FILE *f = _wfopen(wp, L"rb");
    unsigned char *jpg = NULL, *bits = NULL;
    long n;
    tjhandle tj = NULL;
    int w, h, sub, cs, nsf;
    tjscalingfactor *sf;
    int want = px(WIDTH - 32), tw = 0, th = 0;
    BITMAPINFO bi = {0};
    HDC dc;

    free(wp);
    thumb_drop();
    if (!f)
        return;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || n > 8 * 1024 * 1024 ||
        fseek(f, 0, SEEK_SET) != 0)
        goto out;
    jpg = xmalloc((size_t)n);
    if (fread(jpg, 1, (size_t)n, f) != (size_t)n)
        goto out;
    tj = tjInitDecompress();
    if (!tj || tjDecompressHeader3(tj, jpg, (unsigned long)n, &w, &h, &sub, &cs) != 0)
        goto out;
    sf = tjGetScalingFactors(&nsf);
    for (int i = 0; sf && i < nsf; i++) {
        int sw = TJSCALED(w, sf[i]), sh = TJSCALED(h, sf[i]);
        if (sw <= want && sh <= px(200) && sw > tw) {
            tw = sw;
            th = sh;
        }
    }
    if (tw <= 0)
        goto out;
    bi.bmiHeader.biSize = sizeof(bi.bmiHeader);
    bi.bmiHeader.biWidth = tw;
    bi.bmiHeader.biHeight = -th;
    bi.bmiHeader.biPlanes = 1;
    bi.bmiHeader.biBitCount = 32;
    bi.bmiHeader.biCompression = BI_RGB;
    dc = GetDC(app.wnd);
    app.thumb = CreateDIBSection(dc, &bi, DIB_RGB_COLORS, (void **)&bits, NULL, 0);
    ReleaseDC(app.wnd, dc);
    if (!app.thumb)
        goto out;
    if (tjDecompress2(tj, jpg, (unsigned long)n, bits, tw, tw * 4, th, TJPF_BGRX, 0) != 0) {
        thumb_drop();
        goto out;
    }
    app.thumb_w = tw;
    app.thumb_h = th;
out:
    if (tj)
        tjDestroy(tj);
    free(jpg);
    fclose(f);
    InvalidateRect(ctl(IDC_SHOT), NULL, TRUE);
}

/* Drawing the owner-drawn parts: the bars and the thumbnail. */

static void draw_bars(const DRAWITEMSTRUCT *d)
{
    RECT r = d->rcItem;
    int w = r.right - r.left, h = r.bottom - r.top, gap = px(4);
    int bw = (w - 9 * gap) / 10;
    HBRUSH bg = GetSysColorBrush(COLOR_BTNFACE);

    FillRect(d->hDC, &r, bg);
    for (int i = 0; i < 10; i++) {
        const struct st_bucket *b = &app.st.buckets[i];
        int n = b->keys + b->mouse;
        int level = n == 0 ? 0 : n < 20 ? 1 : n < 100 ? 2 : 3;
        int bh = b->tracked_s <= 0 ? px(4) : level == 0 ? px(8) : h * level / 3;
        COLORREF c = b->tracked_s <= 0 ? RGB(220, 220, 220)
                     : level == 0      ? RGB(160, 160, 160)
                                       : RGB(22, 163, 74);
        HBRUSH br = CreateSolidBrush(c);
        RECT bar = {r.left + i * (bw + gap), r.bottom - bh, r.left + i * (bw + gap) + bw, r.bottom};
        FillRect(d->hDC, &bar, br);
        DeleteObject(br);
    }
}

static void draw_shot(const DRAWITEMSTRUCT *d)
{
    RECT r = d->rcItem;
    HDC mem;
    HGDIOBJ old;

    FillRect(d->hDC, &r, GetSysColorBrush(COLOR_BTNFACE));
    if (!app.thumb) {
        SetBkMode(d->hDC, TRANSPARENT);
        SelectObject(d->hDC, app.font);
        DrawTextW(d->hDC, L"No screenshot yet in this run.", -1, &r,
                  DT_LEFT | DT_TOP | DT_SINGLELINE);
        return;
    }
    mem = CreateCompatibleDC(d->hDC);
    old = SelectObject(mem, app.thumb);
    BitBlt(d->hDC, r.left, r.top, app.thumb_w, app.thumb_h, mem, 0, 0, SRCCOPY);
    SelectObject(mem, old);
    DeleteDC(mem);
}

/* What the window shows, from the engine's status. */

static void local_hm(int64_t utc, wchar_t *out, size_t n)
{
    time_t t = (time_t)utc;
    struct tm tm;

    if (localtime_s(&tm, &t) != 0)
        swprintf(out, n, L"?");
    else
        swprintf(out, n, L"%02d:%02d", tm.tm_hour, tm.tm_min);
}

static void refresh(void)
{
    wchar_t buf[512], a[32], b[32], c[32], tip[128];
    enum tray_state state;

    if (!app.e)
        memset(&app.st, 0, sizeof(app.st));
    else
        tk_engine_status(app.e, &app.st);
    SetWindowTextW(ctl(IDC_START),
                   app.st.running ? L"S&top  (Ctrl+Space)" : L"&Start  (Ctrl+Space)");
    EnableWindow(ctl(IDC_CONTRACT), !app.st.running);
    tray_hm(app.st.today_s, a, 32);
    tray_hm(app.st.week_s, b, 32);
    if (app.st.weekly_limit_s >= 0 && app.st.running) {
        tray_hm(app.st.weekly_limit_s, c, 32);
        swprintf(buf, 512, L"Today %ls    This week %ls of %ls", a, b, c);
    } else {
        swprintf(buf, 512, L"Today %ls    This week %ls", a, b);
    }
    SetWindowTextW(ctl(IDC_TOTALS), buf);
    if (app.limit_percent >= 100)
        SetWindowTextW(ctl(IDC_LIMIT), L"The weekly limit is reached: more time is not billed.");
    else if (app.limit_percent >= 90)
        SetWindowTextW(ctl(IDC_LIMIT), L"90% of the weekly limit is used.");
    else
        SetWindowTextW(ctl(IDC_LIMIT), L"");
    if (app.engine_err[0]) {
        wchar_t *w = tray_wide(app.engine_err);
        swprintf(buf, 512, L"%ls", w);
        free(w);
    } else if (!app.st.online && app.st.last_error[0]) {
        wchar_t *w = tray_wide(app.st.last_error);
        swprintf(buf, 512, L"Offline (%ls)    %d waiting", w, app.st.queued);
        free(w);
    } else {
        wchar_t queue[64];
        if (app.st.queued == 0)
            swprintf(queue, 64, L"nothing waiting to upload");
        else
            swprintf(queue, 64, L"%d segment%ls waiting to upload", app.st.queued,
                     app.st.queued == 1 ? L"" : L"s");
        swprintf(buf, 512, L"%ls  ·  %ls",
                 app.st.uploading && app.st.queued ? L"Uploading…"
                 : app.st.online                   ? L"Online"
                                                   : L"Offline",
                 queue);
    }
    SetWindowTextW(ctl(IDC_STATUS), buf);
    if (app.idle_open) {
        long left = TK_IDLE_ANSWER_S - (long)(time(NULL) - app.idle_opened);
        local_hm(app.idle_since, a, 32);
        if (left < 0)
            left = 0;
        swprintf(buf, 512,
                 L"No keyboard or mouse input since %ls. Keep that time (flagged idle), "
                 L"discard it, or stop the timer? Without an answer the timer stops in %ld:%02ld.",
                 a, left / 60, left % 60);
        SetWindowTextW(ctl(IDC_IDLE_MSG), buf);
    }
    InvalidateRect(ctl(IDC_BARS), NULL, FALSE);

    /* Offline: the server did not answer, and something waits for it. */
    state = app.error                                                       ? TRAY_ERROR
            : !app.st.running                                               ? TRAY_STOPPED
            : !app.st.online && (app.st.queued > 0 || app.st.last_error[0]) ? TRAY_OFFLINE
                                                                            : TRAY_TRACKING;
    swprintf(tip, 128, L"stint: %ls",
             state == TRAY_ERROR     ? L"stopped (error)"
             : state == TRAY_STOPPED ? L"stopped"
             : state == TRAY_OFFLINE ? L"tracking, offline"
                                     : L"tracking");
    tray_set(app.wnd, state, tip);
    if (state != app.state)
        say("icon %s", state == TRAY_ERROR     ? "error"
                       : state == TRAY_STOPPED ? "stopped"
                       : state == TRAY_OFFLINE ? "offline"
                                               : "tracking");
    app.state = state;
}

static void arm_timer(void)
{
    SetTimer(app.wnd, TIMER_TICK, app.e ? (UINT)tk_engine_timeout_ms(app.e) : 1000, NULL);
}

static void bring_forward(void)
{
    ShowWindow(app.wnd, SW_SHOW);
    if (IsIconic(app.wnd))
        ShowWindow(app.wnd, SW_RESTORE);
    SetForegroundWindow(app.wnd);
}

static void idle_show(bool open)
{
    app.idle_open = open;
    layout();
    refresh();
    if (open) {
        bring_forward();
        SetFocus(ctl(IDC_KEEP));
    } else {
        HWND f = GetFocus();
        /* The answered prompt's buttons are hidden now: the focus goes to Start/Stop. */
        if (!f || f == app.wnd || f == ctl(IDC_KEEP) || f == ctl(IDC_DISCARD) ||
            f == ctl(IDC_IDLE_STOP))
            SetFocus(ctl(IDC_START));
    }
}

/* The engine's events. */

static void on_event(const struct tk_event *ev, void *ud)
{
    wchar_t buf[256], *msg;

    (void)ud;
    switch (ev->type) {
    case TK_EVENT_STARTED:
        app.error = false;
        say("tracking");
        break;
    case TK_EVENT_STOPPED:
        say("stopped (%s)", ev->message ? ev->message : "by the user");
        if (app.idle_open)
            idle_show(false);
        if (ev->reason != TK_STOP_USER) {
            msg = tray_wide(ev->message ? ev->message : "the timer stopped");
            tray_balloon(app.wnd, L"The timer stopped", msg, ev->reason != TK_STOP_IDLE);
            free(msg);
            app.error = ev->reason != TK_STOP_IDLE;
        }
        break;
    case TK_EVENT_SEGMENT:
        say("segment %s closed", ev->segment_id ? ev->segment_id : "?");
        break;
    case TK_EVENT_SCREENSHOT:
        if (ev->path) {
            snprintf(app.shot_segment, sizeof(app.shot_segment), "%s",
                     ev->segment_id ? ev->segment_id : "");
            thumb_load(ev->path);
            local_hm(ev->at, buf, 256);
            {
                wchar_t label[64];
                swprintf(label, 64, L"Last screenshot, %ls:", buf);
                SetWindowTextW(ctl(IDC_SHOT_L), label);
            }
            EnableWindow(ctl(IDC_DELETE), TRUE);
            say("screenshot taken");
        } else {
            msg = tray_wide(ev->message ? ev->message : "no screenshot");
            tray_balloon(app.wnd, L"No screenshot for this segment", msg, true);
            free(msg);
            say("screenshot failed: %s", ev->message ? ev->message : "?");
        }
        break;
    case TK_EVENT_IDLE:
        app.idle_since = ev->idle_since;
        app.idle_opened = time(NULL);
        idle_show(true);
        tray_balloon(app.wnd, L"Are you still working?",
                     L"No input for a while: keep, discard or stop in the stint window.", false);
        say("idle prompt");
        break;
    case TK_EVENT_LIMIT:
        app.limit_percent = ev->percent;
        layout();
        swprintf(buf, 256, L"%d%% of this contract's weekly limit is used.", ev->percent);
        tray_balloon(app.wnd, L"Weekly limit", buf, false);
        say("limit %d%%", ev->percent);
        break;
    case TK_EVENT_QUOTA:
        swprintf(buf, 256, L"%d%% of the disk quota for unsent time is used.", ev->percent);
        tray_balloon(app.wnd, L"Disk quota", buf, ev->percent >= 100);
        break;
    case TK_EVENT_UPLOAD: {
        struct tk_status st;
        tk_engine_status(app.e, &st);
        if (app.was_online && !st.online && st.running) {
            tray_balloon(app.wnd, L"Connection lost",
                         L"Your time is kept on this computer and uploads when the server is "
                         L"back.",
                         false);
            say("offline");
        }
        if (st.online != app.was_online || st.queued != app.logged_queued)
            say("upload: %s, %d queued%s%s", st.online ? "online" : "offline", st.queued,
                st.last_error[0] ? ": " : "", st.last_error);
        app.was_online = st.online;
        app.logged_queued = st.queued;
        break;
    }
    case TK_EVENT_REFUSED:
        msg = tray_wide(ev->message ? ev->message : "refused");
        tray_balloon(app.wnd, L"The server refused a segment", msg, true);
        free(msg);
        break;
    default:
        break;
    }
}

/* Signing in and out, the engine and the contracts. */

static void engine_close(void)
{
    if (app.e) {
        tk_engine_free(app.e);
        app.e = NULL;
    }
}

static void contracts_load(void)
{
    json_t *all = NULL, *c;
    size_t i;
    char err[256];

    SendMessageW(ctl(IDC_CONTRACT), CB_RESETCONTENT, 0, 0);
    json_decref(app.contracts);
    app.contracts = json_array();
    if (tray_api_contracts(app.si.server, app.si.token, &all, err, sizeof(err)) < 0) {
        snprintf(app.engine_err, sizeof(app.engine_err), "cannot list the contracts: %s", err);
        say("contracts: %s", err);
        return;
    }
    json_array_foreach(all, i, c)
    {
        const char *state = json_string_value(json_object_get(c, "state"));
        const char *title = json_string_value(json_object_get(c, "title"));
        const char *client =
            json_string_value(json_object_get(json_object_get(c, "client"), "name"));
        char *line;
        wchar_t *w;

        if (!state || strcmp(state, "active") != 0 || !title ||
            json_array_size(app.contracts) >= MAX_CONTRACTS)
            continue;
        json_array_append(app.contracts, c);
        line = client ? xasprintf("%s (%s)", title, client) : xstrdup(title);
        w = tray_wide(line);
        SendMessageW(ctl(IDC_CONTRACT), CB_ADDSTRING, 0, (LPARAM)w);
        free(w);
        free(line);
    }
    json_decref(all);
    if (json_array_size(app.contracts) > 0)
        SendMessageW(ctl(IDC_CONTRACT), CB_SETCURSEL, 0, 0);
    say("%d active contract%s", (int)json_array_size(app.contracts),
        json_array_size(app.contracts) == 1 ? "" : "s");
}

static json_t *contract_chosen(void)
{
    LRESULT i = SendMessageW(ctl(IDC_CONTRACT), CB_GETCURSEL, 0, 0);

    return i == CB_ERR ? NULL : json_array_get(app.contracts, (size_t)i);
}

/* The memo's and the tags' labels say what the chosen contract requires. */
static void contract_changed(void)
{
    json_t *c = contract_chosen(), *tags = c ? json_object_get(c, "tags") : NULL;
    bool memo_req = c && json_is_true(json_object_get(c, "memo_required"));
    bool tag_req = c && json_is_true(json_object_get(c, "tag_required"));

    SetWindowTextW(ctl(IDC_MEMO_L), memo_req ? L"&Memo (required):" : L"&Memo:");
    SetWindowTextW(ctl(IDC_TAGS_L), tag_req                 ? L"T&ags (required):"
                                    : json_array_size(tags) ? L"T&ags:"
                                                            : L"T&ags (none):");
    EnableWindow(ctl(IDC_TAGS), json_array_size(tags) > 0);
}

static void signed_in_view(void)
{
    char err[256];
    struct tk_engine_opts o = {0};

    app.signed_in = true;
    app.engine_err[0] = 0;
    tk_settings_init(&app.set);
    if (tk_settings_load(&app.set, err, sizeof(err)) < 0)
        snprintf(app.engine_err, sizeof(app.engine_err), "%s", err);
    o.server = app.si.server;
    o.token = app.si.token;
    o.account = app.si.email;
    o.transport = &tk_transport_curl;
    tk_settings_apply(&app.set, &o);
    if (tk_engine_new(&o, on_event, NULL, &app.e, err, sizeof(err)) < 0) {
        snprintf(app.engine_err, sizeof(app.engine_err), "the tracker cannot start: %s", err);
        say("engine: %s", err);
        app.e = NULL;
    }
    contracts_load();
    contract_changed();
    SendMessageW(ctl(IDC_AUTOSTART), BM_SETCHECK,
                 tray_autostart_enabled() ? BST_CHECKED : BST_UNCHECKED, 0);
    layout();
    refresh();
    arm_timer();
    say("signed in as %s", app.si.email ? app.si.email : "?");
}

static void signed_out_view(const char *why)
{
    app.signed_in = false;
    app.idle_open = false;
    set_text8(IDC_SIGNIN_MSG, why ? why : "");
    layout();
    refresh();
    SetFocus(ctl(IDC_SERVER));
    say("signed out view");
}

static void do_signin(void)
{
    char *server = tray_window_text(ctl(IDC_SERVER));
    char *email = tray_window_text(ctl(IDC_EMAIL));
    char *pass = tray_window_text(ctl(IDC_PASS));
    char err[256], *token = NULL;
    size_t n = strlen(server);
    struct st_signin si = {0};
    int rc;

    while (n > 0 && server[n - 1] == '/')
        server[--n] = 0;
    if (!*server || !*email || !*pass) {
        set_text8(IDC_SIGNIN_MSG, "Fill in the server, your email and your password.");
        goto out;
    }
    SetWindowTextW(ctl(IDC_SIGNIN_MSG), L"Signing in…");
    UpdateWindow(app.wnd);
    rc = tray_api_login(server, email, pass, &token, err, sizeof(err));
    if (rc < 0) {
        set_text8(IDC_SIGNIN_MSG, err);
        say("sign-in refused: %s", err);
        goto out;
    }
    si.server = server;
    si.email = email;
    si.token = token;
    if ((rc = st_signin_save(&si)) < 0) {
        snprintf(err, sizeof(err), "cannot save the sign-in: %s", strerror(-rc));
        set_text8(IDC_SIGNIN_MSG, err);
        goto out;
    }
    SetWindowTextW(ctl(IDC_PASS), L"");
    st_signin_release(&app.si);
    app.si.server = server;
    app.si.email = email;
    app.si.token = token;
    server = email = token = NULL;
    signed_in_view();
out:
    if (pass) {
        memset(pass, 0, strlen(pass));
        free(pass);
    }
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    free(server);
    free(email);
}

/* Asks before the timer stops for quitting or signing out; true: go on. */
static bool confirm_stop(const wchar_t *what)
{
    if (!app.st.running)
        return true;
    return MessageBoxW(app.wnd, what, L"stint", MB_YESNO | MB_ICONQUESTION | MB_DEFBUTTON2) ==
           IDYES;
}

static void do_signout(void)
{
    if (!confirm_stop(L"The timer is running. Stop it and sign out?"))
        return;
    engine_close();
    st_signin_remove();
    st_signin_release(&app.si);
    json_decref(app.contracts);
    app.contracts = NULL;
    thumb_drop();
    signed_out_view(NULL);
}

/* Splits the tags field at commas into a NULL-terminated list (the strings in buf). */
static int split_tags(char *buf, const char *tags[ST_SEG_TAGS_MAX + 1])
{
    int n = 0;

    for (char *p = strtok(buf, ","); p && n < ST_SEG_TAGS_MAX; p = strtok(NULL, ",")) {
        while (*p == ' ')
            p++;
        for (size_t l = strlen(p); l > 0 && p[l - 1] == ' '; l--)
            p[l - 1] = 0;
        if (*p)
            tags[n++] = p;
    }
    tags[n] = NULL;
    return n;
}

static void do_toggle(void)
{
    json_t *c;
    char *memo, *tagbuf, err[256];
    const char *tags[ST_SEG_TAGS_MAX + 1];
    const char *id;
    int rc;

    if (!app.signed_in || !app.e)
        return;
    tk_engine_status(app.e, &app.st);
    if (app.st.running) {
        tk_engine_stop(app.e);
        refresh();
        return;
    }
    c = contract_chosen();
    id = c ? json_string_value(json_object_get(c, "id")) : NULL;
    if (!id) {
        snprintf(app.engine_err, sizeof(app.engine_err), "choose a contract first");
        refresh();
        return;
    }
    memo = tray_window_text(ctl(IDC_MEMO));
    tagbuf = tray_window_text(ctl(IDC_TAGS));
    split_tags(tagbuf, tags);
    app.engine_err[0] = 0;
    if (app.limit_percent) {
        app.limit_percent = 0;
        layout();
    }
    rc = tk_engine_start(app.e, id, memo, tags[0] ? tags : NULL, err, sizeof(err));
    if (rc < 0) {
        snprintf(app.engine_err, sizeof(app.engine_err), "%s", err);
        say("start refused: %s", err);
        if (rc == -EINVAL)
            SetFocus(ctl(IDC_MEMO));
    } else {
        app.was_online = true;
    }
    free(memo);
    free(tagbuf);
    refresh();
    arm_timer();
}

static void do_memo_changed(void)
{
    char *memo, err[256];

    if (!app.e)
        return;
    tk_engine_status(app.e, &app.st);
    if (!app.st.running)
        return;
    memo = tray_window_text(ctl(IDC_MEMO));
    if (tk_engine_set_memo(app.e, memo, err, sizeof(err)) < 0)
        snprintf(app.engine_err, sizeof(app.engine_err), "%s", err);
    free(memo);
}

static void do_idle(enum tk_idle_answer a)
{
    if (app.e && tk_engine_answer_idle(app.e, a) == 0)
        say("idle answered %s", a == TK_IDLE_KEEP      ? "keep"
                                : a == TK_IDLE_DISCARD ? "discard"
                                                       : "stop");
    idle_show(false);
}

static void do_delete(void)
{
    char err[256];
    wchar_t *w;

    if (!app.shot_segment[0] || !app.signed_in)
        return;
    if (MessageBoxW(app.wnd, L"Delete this segment? Its time and screenshot leave the Work Diary.",
                    L"stint", MB_YESNO | MB_ICONWARNING | MB_DEFBUTTON2) != IDYES)
        return;
    if (tray_api_delete_segment(app.si.server, app.si.token, app.shot_segment, err, sizeof(err)) <
        0) {
        w = tray_wide(err);
        MessageBoxW(app.wnd, w, L"The segment was not deleted", MB_OK | MB_ICONERROR);
        free(w);
        return;
    }
    say("segment %s deleted", app.shot_segment);
    app.shot_segment[0] = 0;
    thumb_drop();
    EnableWindow(ctl(IDC_DELETE), FALSE);
}

static void do_quit(void)
{
    if (!confirm_stop(L"The timer is running. Stop it and quit stint?"))
        return;
    DestroyWindow(app.wnd);
}

/* The icon's menu: contracts, start/stop, memo, open, quit. */
static void show_menu(void)
{
    HMENU m = CreatePopupMenu(), cm = CreatePopupMenu();
    LRESULT cur = SendMessageW(ctl(IDC_CONTRACT), CB_GETCURSEL, 0, 0);
    size_t n = app.contracts ? json_array_size(app.contracts) : 0;
    POINT p;

    for (size_t i = 0; i < n; i++) {
        wchar_t item[256];
        SendMessageW(ctl(IDC_CONTRACT), CB_GETLBTEXT, i, (LPARAM)item);
        AppendMenuW(
            cm, MF_STRING | ((LRESULT)i == cur ? MF_CHECKED : 0) | (app.st.running ? MF_GRAYED : 0),
            CMD_CONTRACT0 + i, item);
    }
    AppendMenuW(m, MF_POPUP | (n ? 0 : MF_GRAYED), (UINT_PTR)cm, L"&Contracts");
    AppendMenuW(m, MF_STRING | (app.signed_in && app.e ? 0 : MF_GRAYED), CMD_TOGGLE,
                app.st.running ? L"S&top" : L"&Start");
    AppendMenuW(m, MF_STRING | (app.signed_in ? 0 : MF_GRAYED), CMD_MEMO, L"&Memo…");
    AppendMenuW(m, MF_STRING, CMD_OPEN, L"&Open stint");
    AppendMenuW(m, MF_SEPARATOR, 0, NULL);
    AppendMenuW(m, MF_STRING, CMD_QUIT, L"&Quit");
    SetMenuDefaultItem(m, CMD_OPEN, FALSE);
    GetCursorPos(&p);
    SetForegroundWindow(app.wnd);
    TrackPopupMenu(m, TPM_RIGHTBUTTON, p.x, p.y, 0, app.wnd, NULL);
    PostMessageW(app.wnd, WM_NULL, 0, 0);
    DestroyMenu(m);
}

static void on_command(int id, int code)
{
    switch (id) {
    case IDOK: /* Enter: sign in, or apply the memo */
        if (!app.signed_in)
            do_signin();
        else if (GetFocus() == ctl(IDC_MEMO))
            do_memo_changed();
        break;
    case IDC_SIGNIN:
        do_signin();
        break;
    case IDC_START:
    case CMD_TOGGLE:
        do_toggle();
        break;
    case IDC_KEEP:
        do_idle(TK_IDLE_KEEP);
        break;
    case IDC_DISCARD:
        do_idle(TK_IDLE_DISCARD);
        break;
    case IDC_IDLE_STOP:
        do_idle(TK_IDLE_STOP);
        break;
    case IDC_DELETE:
        do_delete();
        break;
    case IDC_SIGNOUT:
        do_signout();
        break;
    case IDC_AUTOSTART: {
        bool on = SendMessageW(ctl(IDC_AUTOSTART), BM_GETCHECK, 0, 0) == BST_CHECKED;
        int rc = tray_autostart_set(on);
        if (rc < 0) {
            SendMessageW(ctl(IDC_AUTOSTART), BM_SETCHECK, on ? BST_UNCHECKED : BST_CHECKED, 0);
            snprintf(app.engine_err, sizeof(app.engine_err),
                     "cannot change the start at sign-in: %s", strerror(-rc));
        }
        say("start at sign-in %s%s", on ? "on" : "off", rc < 0 ? " refused" : "");
        break;
    }
    case IDC_CONTRACT:
        if (code == CBN_SELCHANGE)
            contract_changed();
        break;
    case IDC_MEMO:
        if (code == EN_KILLFOCUS)
            do_memo_changed();
        break;
    case CMD_MEMO:
        bring_forward();
        SetFocus(ctl(IDC_MEMO));
        SendMessageW(ctl(IDC_MEMO), EM_SETSEL, 0, -1);
        break;
    case CMD_OPEN:
        bring_forward();
        break;
    case CMD_QUIT:
        do_quit();
        break;
    default:
        if (id >= CMD_CONTRACT0 && id < CMD_CONTRACT0 + MAX_CONTRACTS) {
            SendMessageW(ctl(IDC_CONTRACT), CB_SETCURSEL, (WPARAM)(id - CMD_CONTRACT0), 0);
            contract_changed();
        }
        break;
    }
}

static UINT taskbar_created;

static LRESULT CALLBACK wnd_proc(HWND wnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_COMMAND:
        on_command(LOWORD(wp), HIWORD(wp));
        return 0;
    case WM_TIMER:
        if (wp == TIMER_TICK) {
            if (app.e)
                tk_engine_tick(app.e);
            refresh();
            arm_timer();
        }
        return 0;
    case WM_DRAWITEM: {
        const DRAWITEMSTRUCT *d = (const DRAWITEMSTRUCT *)lp;
        if (d->CtlID == IDC_BARS)
            draw_bars(d);
        else if (d->CtlID == IDC_SHOT)
            draw_shot(d);
        return TRUE;
    }
    case WM_CTLCOLORSTATIC:
        if ((HWND)lp == ctl(IDC_LIMIT) || (HWND)lp == ctl(IDC_IDLE_MSG)) {
            SetTextColor((HDC)wp, (HWND)lp == ctl(IDC_LIMIT) ? RGB(180, 83, 9) : RGB(0, 0, 0));
            SetBkColor((HDC)wp, GetSysColor(COLOR_BTNFACE));
            return (LRESULT)GetSysColorBrush(COLOR_BTNFACE);
        }
        break;
    case TRAY_MSG:
        switch (LOWORD(lp)) {
        case WM_LBUTTONUP:
        case NIN_SELECT:
        case NIN_KEYSELECT:
            bring_forward();
            break;
        case WM_RBUTTONUP:
        case WM_CONTEXTMENU:
            show_menu();
            break;
        default:
            break;
        }
        return 0;
    case TRAY_MSG_SHOW:
        bring_forward();
        return 0;
    case WM_DPICHANGED: {
        const RECT *r = (const RECT *)lp;
        app.dpi = HIWORD(wp);
        make_fonts();
        SetWindowPos(wnd, NULL, r->left, r->top, r->right - r->left, r->bottom - r->top,
                     SWP_NOZORDER | SWP_NOACTIVATE);
        layout();
        return 0;
    }
    case WM_CLOSE:
        /* Closing the window keeps tracking: the icon stays, Quit is in its menu. */
        ShowWindow(wnd, SW_HIDE);
        say("window closed; the icon stays");
        return 0;
    case WM_DESTROY:
        KillTimer(wnd, TIMER_TICK);
        engine_close();
        tray_remove(wnd);
        thumb_drop();
        PostQuitMessage(0);
        return 0;
    default:
        if (msg == taskbar_created && taskbar_created) {
            tray_readd(wnd);
            return 0;
        }
        break;
    }
    return DefWindowProcW(wnd, msg, wp, lp);
}

typedef UINT(WINAPI *dpi_for_window_fn)(HWND);

HWND tray_window_create(HINSTANCE inst, bool background)
{
    WNDCLASSEXW wc = {.cbSize = sizeof(wc)};
    HMODULE user = GetModuleHandleW(L"user32.dll");
    dpi_for_window_fn dpi_for_window =
        user ? (dpi_for_window_fn)(void (*)(void))GetProcAddress(user, "GetDpiForWindow") : NULL;
    HICON big;
    int rc;

    wc.lpfnWndProc = wnd_proc;
    wc.hInstance = inst;
    wc.hCursor = LoadCursorW(NULL, (LPCWSTR)IDC_ARROW);
    wc.hbrBackground = (HBRUSH)(COLOR_BTNFACE + 1);
    wc.lpszClassName = TRAY_WINDOW_CLASS;
    big = tray_icon_make(TRAY_TRACKING, GetSystemMetrics(SM_CXICON));
    wc.hIcon = big;
    wc.hIconSm = tray_icon_make(TRAY_TRACKING, GetSystemMetrics(SM_CXSMICON));
    if (!RegisterClassExW(&wc))
        return NULL;
    taskbar_created = RegisterWindowMessageW(L"TaskbarCreated");
    app.wnd = CreateWindowExW(WS_EX_CONTROLPARENT, TRAY_WINDOW_CLASS, L"stint",
                              WS_OVERLAPPED | WS_CAPTION | WS_SYSMENU | WS_MINIMIZEBOX,
                              CW_USEDEFAULT, CW_USEDEFAULT, 480, 600, NULL, NULL, inst, NULL);
    if (!app.wnd)
        return NULL;
    app.dpi = dpi_for_window ? (int)dpi_for_window(app.wnd) : 96;
    if (app.dpi <= 0)
        app.dpi = 96;
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        const struct control *c = &controls[i];
        app.c[c->id - IDC_TITLE] =
            CreateWindowExW(0, c->cls, c->text, WS_CHILD | c->style, 0, 0, 10, 10, app.wnd,
                            (HMENU)(INT_PTR)c->id, inst, NULL);
    }
    SendMessageW(ctl(IDC_SERVER), EM_SETLIMITTEXT, 512, 0);
    SendMessageW(ctl(IDC_EMAIL), EM_SETLIMITTEXT, 254, 0);
    SendMessageW(ctl(IDC_PASS), EM_SETLIMITTEXT, 1024, 0);
    SendMessageW(ctl(IDC_MEMO), EM_SETLIMITTEXT, ST_SEG_MEMO_MAX, 0);
    SendMessageW(ctl(IDC_TAGS), EM_SETLIMITTEXT, 1024, 0);
    EnableWindow(ctl(IDC_DELETE), FALSE);
    make_fonts();
    tray_add(app.wnd, TRAY_STOPPED, L"stint: stopped");
    app.state = TRAY_STOPPED;

    rc = st_signin_load(&app.si);
    if (rc == 0) {
        signed_in_view();
    } else {
        struct st_signin peek = {0};
        if (st_signin_peek(&peek) == 0) {
            set_text8(IDC_SERVER, peek.server);
            set_text8(IDC_EMAIL, peek.email);
            st_signin_release(&peek);
        }
        signed_out_view(rc == -ENOENT ? NULL : "Sign in again: the saved sign-in cannot be read.");
    }
    arm_timer();
    if (!background) {
        ShowWindow(app.wnd, SW_SHOW);
        UpdateWindow(app.wnd);
    }
    return app.wnd;
}

HACCEL tray_window_accelerators(void)
{
    ACCEL a[] = {
        {FVIRTKEY | FCONTROL, VK_SPACE, CMD_TOGGLE},
        {FVIRTKEY | FCONTROL, 'M', CMD_MEMO},
    };

    return CreateAcceleratorTableW(a, 2);
}
