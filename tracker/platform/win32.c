/*
 * The Windows platform backend (tk_platform_native on Windows; the build
 * picks this file for a Windows host): input counts from low-level hooks
 * (WH_KEYBOARD_LL, WH_MOUSE_LL), idle time from GetLastInputInfo stretched
 * over a locked session and a suspend, monitors from EnumDisplayMonitors and
 * screen capture with GDI (BitBlt with CAPTUREBLT, in stripes).
 *
 * The hooks live on a thread of their own that runs a message loop, since
 * Windows calls a low-level hook on the thread that installed it, from that
 * thread's message loop; the same thread owns a hidden window that receives
 * the session (WTS_SESSION_LOCK/UNLOCK) and power (WM_POWERBROADCAST)
 * notifications. The counts cross to the caller's thread through
 * interlocked counters, so fd() is -1 and the caller drains on its tick.
 *
 * Semantics, matched to x11.c: a key press counts once when the key goes
 * down; auto-repeat while it is held does not count (XInput2 reports no raw
 * press for the X server's software repeat either). To tell a repeat the
 * hook remembers the virtual-key code of the one key being held last, only
 * until it is released, and never reports it. Button presses count 1 each,
 * wheel steps count 1 per WHEEL_DELTA (a fine-grained wheel adds up its
 * deltas), motion at most once per TK_MOTION_WINDOW_MS of the hook's event
 * time. Input flagged LLKHF_INJECTED / LLMHF_INJECTED (SendInput, mouse
 * jigglers, remote-control tools) counts as synthetic, as XTEST input does
 * on X11.
 *
 * Privacy: the hooks read the event type, flags and time; the key code only
 * as above, the pointer position never. Pixels are read only in
 * capture_rect()'s callers, and capture_rect() counts its calls (win32.h).
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <wtsapi32.h>

#include "tracker/platform/win32.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "tracker/platform/platform.h"

#ifndef LLKHF_LOWER_IL_INJECTED
#define LLKHF_LOWER_IL_INJECTED 0x00000002
#endif
#ifndef LLMHF_LOWER_IL_INJECTED
#define LLMHF_LOWER_IL_INJECTED 0x00000002
#endif

/* Input counted by the hook thread, drained by the caller's thread. */
struct counts {
    volatile LONG keys, mouse, synthetic;
};

struct tk_platform_ctx {
    HANDLE thread;
    DWORD thread_id;
    HANDLE ready; /* set by the thread once its hooks are in (or failed) */
    int open_rc;  /* the thread's answer to open(), read after ready */
    char open_err[128];
    volatile LONG dead; /* the hook thread has ended */
    struct counts c;

    /* The hook thread's own state; no other thread reads it. */
    HHOOK kb, ms;
    HWND wnd;
    DWORD held_vk; /* the key held last, while it is held (0: none); only for telling a repeat */
    bool motion_seen;
    DWORD last_motion; /* hook time (ms) of the last motion counted */
    int wheel_rest;    /* wheel delta not yet making a whole step */

    /* Session and power state: written by the hook thread, read by idle_ms(). */
    CRITICAL_SECTION lock;
    bool session_registered;
    bool locked;
    ULONGLONG locked_since;  /* GetTickCount64() */
    bool suspended;          /* suspended, and no input since the resume */
    int64_t suspended_since; /* wall clock, ms since 1601 (the tick may stop during sleep) */
    DWORD resumed_tick;      /* GetTickCount() at the resume */

    bool dpi_aware; /* per-monitor aware: physical pixels */
};

static volatile LONG capture_calls;

int tk_win32_capture_calls(void)
{
    return (int)InterlockedCompareExchange(&capture_calls, 0, 0);
}

/* The context whose hooks run on this thread (a hook procedure gets no user data). */
static __thread struct tk_platform_ctx *hook_ctx;

static int64_t wall_ms(void)
{
    FILETIME ft;
    ULARGE_INTEGER u;

    GetSystemTimeAsFileTime(&ft);
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    return (int64_t)(u.QuadPart / 10000);
}

/* Input. */

static void count(struct tk_platform_ctx *ctx, volatile LONG *what, bool synthetic)
{
    InterlockedIncrement(what);
    if (synthetic)
        InterlockedIncrement(&ctx->c.synthetic);
}

static LRESULT CALLBACK keyboard_hook(int code, WPARAM wp, LPARAM lp)
{
    struct tk_platform_ctx *ctx = hook_ctx;

    if (code == HC_ACTION && ctx) {
        const KBDLLHOOKSTRUCT *k = (const KBDLLHOOKSTRUCT *)lp;
        bool synthetic = (k->flags & (LLKHF_INJECTED | LLKHF_LOWER_IL_INJECTED)) != 0;

        if (wp == WM_KEYDOWN || wp == WM_SYSKEYDOWN) {
            if (k->vkCode != ctx->held_vk) /* else the key's auto-repeat */
                count(ctx, &ctx->c.keys, synthetic);
            ctx->held_vk = k->vkCode;
        } else if ((wp == WM_KEYUP || wp == WM_SYSKEYUP) && k->vkCode == ctx->held_vk) {
            ctx->held_vk = 0;
        }
    }
    return CallNextHookEx(NULL, code, wp, lp);
}

static LRESULT CALLBACK mouse_hook(int code, WPARAM wp, LPARAM lp)
{
    struct tk_platform_ctx *ctx = hook_ctx;

    if (code == HC_ACTION && ctx) {
        const MSLLHOOKSTRUCT *m = (const MSLLHOOKSTRUCT *)lp;
        bool synthetic = (m->flags & (LLMHF_INJECTED | LLMHF_LOWER_IL_INJECTED)) != 0;
        int delta;

        switch (wp) {
        case WM_LBUTTONDOWN:
        case WM_RBUTTONDOWN:
        case WM_MBUTTONDOWN:
        case WM_XBUTTONDOWN:
            count(ctx, &ctx->c.mouse, synthetic);
            break;
        case WM_MOUSEWHEEL:
        case WM_MOUSEHWHEEL:
            /* The wheel's delta is the high word of mouseData, signed. */
            delta = (short)HIWORD(m->mouseData);
            ctx->wheel_rest += delta < 0 ? -delta : delta;
            while (ctx->wheel_rest >= WHEEL_DELTA) {
                ctx->wheel_rest -= WHEEL_DELTA;
                count(ctx, &ctx->c.mouse, synthetic);
            }
            break;
        case WM_MOUSEMOVE:
            if (ctx->motion_seen && m->time - ctx->last_motion < TK_MOTION_WINDOW_MS)
                break;
            ctx->motion_seen = true;
            ctx->last_motion = m->time;
            count(ctx, &ctx->c.mouse, synthetic);
            break;
        default:
            break;
        }
    }
    return CallNextHookEx(NULL, code, wp, lp);
}

/* The hidden window: session and power notifications. */

static LRESULT CALLBACK notify_proc(HWND wnd, UINT msg, WPARAM wp, LPARAM lp)
{
    struct tk_platform_ctx *ctx = (struct tk_platform_ctx *)GetWindowLongPtrW(wnd, GWLP_USERDATA);

    if (!ctx)
        return DefWindowProcW(wnd, msg, wp, lp);
    switch (msg) {
    case WM_WTSSESSION_CHANGE:
        EnterCriticalSection(&ctx->lock);
        if (wp == WTS_SESSION_LOCK || wp == WTS_CONSOLE_DISCONNECT || wp == WTS_REMOTE_DISCONNECT) {
            /* Locked, or switched away from (fast user switching). */
            if (!ctx->locked)
                ctx->locked_since = GetTickCount64();
            ctx->locked = true;
        } else if (wp == WTS_SESSION_UNLOCK || wp == WTS_CONSOLE_CONNECT ||
                   wp == WTS_REMOTE_CONNECT) {
            ctx->locked = false;
        }
        LeaveCriticalSection(&ctx->lock);
        return 0;
    case WM_POWERBROADCAST:
        EnterCriticalSection(&ctx->lock);
        if (wp == PBT_APMSUSPEND) {
            if (!ctx->suspended)
                ctx->suspended_since = wall_ms();
            ctx->suspended = true;
            ctx->resumed_tick = 0;
        } else if (wp == PBT_APMRESUMEAUTOMATIC || wp == PBT_APMRESUMESUSPEND) {
            /* Still idle from the suspend until the user touches something. */
            ctx->resumed_tick = GetTickCount();
        }
        LeaveCriticalSection(&ctx->lock);
        return TRUE;
    case WM_CLOSE:
        DestroyWindow(wnd);
        return 0;
    case WM_DESTROY:
        PostQuitMessage(0);
        return 0;
    default:
        return DefWindowProcW(wnd, msg, wp, lp);
    }
}

static const wchar_t NOTIFY_CLASS[] = L"stint-platform-notify";

static DWORD WINAPI hook_thread(void *arg)
{
    struct tk_platform_ctx *ctx = arg;
    HINSTANCE inst = GetModuleHandleW(NULL);
    WNDCLASSW wc = {.lpfnWndProc = notify_proc, .hInstance = inst, .lpszClassName = NOTIFY_CLASS};
    MSG msg;

    hook_ctx = ctx;
    /* Registered by the first context; a second registration fails harmlessly. */
    RegisterClassW(&wc);
    /* A top-level window (never shown): a message-only one gets no power broadcasts. */
    ctx->wnd =
        CreateWindowExW(0, NOTIFY_CLASS, L"stint", WS_POPUP, 0, 0, 0, 0, NULL, NULL, inst, NULL);
    if (!ctx->wnd) {
        ctx->open_rc = -EIO;
        snprintf(ctx->open_err, sizeof(ctx->open_err),
                 "cannot create the tracker's hidden window (error %lu)", GetLastError());
        goto fail;
    }
    SetWindowLongPtrW(ctx->wnd, GWLP_USERDATA, (LONG_PTR)ctx);
    ctx->session_registered = WTSRegisterSessionNotification(ctx->wnd, NOTIFY_FOR_THIS_SESSION);
    ctx->kb = SetWindowsHookExW(WH_KEYBOARD_LL, keyboard_hook, inst, 0);
    ctx->ms = SetWindowsHookExW(WH_MOUSE_LL, mouse_hook, inst, 0);
    if (!ctx->kb || !ctx->ms) {
        ctx->open_rc = -ENOTSUP;
        snprintf(ctx->open_err, sizeof(ctx->open_err), "cannot install the input hooks (error %lu)",
                 GetLastError());
        goto fail;
    }
    SetEvent(ctx->ready);
    while (GetMessageW(&msg, NULL, 0, 0) > 0) {
        TranslateMessage(&msg);
        DispatchMessageW(&msg);
    }
    ctx->open_rc = 0;
fail:
    if (ctx->kb)
        UnhookWindowsHookEx(ctx->kb);
    if (ctx->ms)
        UnhookWindowsHookEx(ctx->ms);
    if (ctx->wnd && ctx->session_registered)
        WTSUnRegisterSessionNotification(ctx->wnd);
    if (ctx->wnd && IsWindow(ctx->wnd))
        DestroyWindow(ctx->wnd);
    ctx->kb = ctx->ms = NULL;
    hook_ctx = NULL;
    InterlockedExchange(&ctx->dead, 1);
    SetEvent(ctx->ready);
    return 0;
}

/*
 * Per-monitor DPI awareness, so that a display scaled to 150% is captured
 * in its physical pixels, whole. Windows 10 1703 has the V2 context; older
 * systems (and Wine) fall back to system awareness. It is the process's
 * setting: it succeeds only before the process's first window, and fails
 * harmlessly when the tray app's manifest has set it already, so the
 * awareness is read back rather than assumed.
 */
typedef BOOL(WINAPI *set_ctx_fn)(HANDLE);
typedef HANDLE(WINAPI *get_ctx_fn)(void);
typedef int(WINAPI *awareness_fn)(HANDLE);

static bool make_dpi_aware(void)
{
    HMODULE user = GetModuleHandleW(L"user32.dll");
    set_ctx_fn set = NULL;
    get_ctx_fn get = NULL;
    awareness_fn aw = NULL;

    if (user) {
        set = (set_ctx_fn)(void (*)(void))GetProcAddress(user, "SetProcessDpiAwarenessContext");
        get = (get_ctx_fn)(void (*)(void))GetProcAddress(user, "GetThreadDpiAwarenessContext");
        aw = (awareness_fn)(void (*)(void))GetProcAddress(user,
                                                          "GetAwarenessFromDpiAwarenessContext");
    }
    if (set) {
        /* DPI_AWARENESS_CONTEXT_PER_MONITOR_AWARE_V2, then _PER_MONITOR_AWARE */
        if (!set((HANDLE)(intptr_t)-4))
            set((HANDLE)(intptr_t)-3);
    } else {
        SetProcessDPIAware();
    }
    if (get && aw)
        return aw(get()) == 2; /* DPI_AWARENESS_PER_MONITOR_AWARE */
    return false;
}

static int win32_open(const char *display, struct tk_platform_ctx **ret_ctx, char *err,
                      size_t errlen)
{
    struct tk_platform_ctx *ctx;
    int rc;

    (void)display; /* one desktop: the session's */
    ctx = xcalloc(1, sizeof(*ctx));
    InitializeCriticalSection(&ctx->lock);
    ctx->dpi_aware = make_dpi_aware();
    ctx->ready = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!ctx->ready) {
        snprintf(err, errlen, "cannot create an event (error %lu)", GetLastError());
        rc = -EIO;
        goto fail;
    }
    ctx->thread = CreateThread(NULL, 0, hook_thread, ctx, 0, &ctx->thread_id);
    if (!ctx->thread) {
        snprintf(err, errlen, "cannot start the input thread (error %lu)", GetLastError());
        rc = -EIO;
        goto fail;
    }
    WaitForSingleObject(ctx->ready, INFINITE);
    if (InterlockedCompareExchange(&ctx->dead, 0, 0)) {
        WaitForSingleObject(ctx->thread, INFINITE);
        snprintf(err, errlen, "%s", ctx->open_err);
        rc = ctx->open_rc < 0 ? ctx->open_rc : -EIO;
        goto fail;
    }
    *ret_ctx = ctx;
    return 0;
fail:
    if (ctx->thread)
        CloseHandle(ctx->thread);
    if (ctx->ready)
        CloseHandle(ctx->ready);
    DeleteCriticalSection(&ctx->lock);
    free(ctx);
    return rc;
}

static void win32_close(struct tk_platform_ctx *ctx)
{
    if (!ctx)
        return;
    if (!InterlockedCompareExchange(&ctx->dead, 0, 0))
        PostMessageW(ctx->wnd, WM_CLOSE, 0, 0);
    WaitForSingleObject(ctx->thread, INFINITE);
    CloseHandle(ctx->thread);
    CloseHandle(ctx->ready);
    DeleteCriticalSection(&ctx->lock);
    free(ctx);
}

static int win32_fd(struct tk_platform_ctx *ctx)
{
    (void)ctx;
    return -1;
}

static int win32_drain(struct tk_platform_ctx *ctx, struct tk_activity *acc)
{
    acc->keys += (int)InterlockedExchange(&ctx->c.keys, 0);
    acc->mouse += (int)InterlockedExchange(&ctx->c.mouse, 0);
    acc->synthetic += (int)InterlockedExchange(&ctx->c.synthetic, 0);
    return InterlockedCompareExchange(&ctx->dead, 0, 0) ? -EPIPE : 0;
}

/*
 * The desktop's idle time, and while the session is locked (or switched
 * away from) or since a suspend with no input after it, at least the time
 * since that began: the engine's idle rules then treat it as idle time.
 */
static int64_t win32_idle_ms(struct tk_platform_ctx *ctx)
{
    LASTINPUTINFO li = {.cbSize = sizeof(li)};
    int64_t idle, since = 0;

    if (!GetLastInputInfo(&li))
        return -EIO;
    idle = (int64_t)(DWORD)(GetTickCount() - li.dwTime);
    EnterCriticalSection(&ctx->lock);
    if (ctx->suspended && ctx->resumed_tick && (LONG)(li.dwTime - ctx->resumed_tick) > 0)
        ctx->suspended = false; /* input since the resume */
    if (ctx->locked)
        since = (int64_t)(GetTickCount64() - ctx->locked_since);
    if (ctx->suspended) {
        int64_t s = wall_ms() - ctx->suspended_since;
        since = s > since ? s : since;
    }
    LeaveCriticalSection(&ctx->lock);
    return idle > since ? idle : since;
}

/* Monitors. */

struct monitor_list {
    struct tk_monitor *out;
    int max, n;
};

static BOOL CALLBACK monitor_cb(HMONITOR mon, HDC dc, LPRECT r, LPARAM lp)
{
    struct monitor_list *l = (struct monitor_list *)lp;
    MONITORINFOEXW mi = {.cbSize = sizeof(mi)};
    struct tk_monitor *m;

    (void)dc;
    (void)r;
    if (l->n >= l->max)
        return FALSE;
    if (!GetMonitorInfoW(mon, (MONITORINFO *)&mi))
        return TRUE;
    m = &l->out[l->n];
    memset(m, 0, sizeof(*m));
    m->index = l->n;
    m->x = mi.rcMonitor.left;
    m->y = mi.rcMonitor.top;
    m->width = mi.rcMonitor.right - mi.rcMonitor.left;
    m->height = mi.rcMonitor.bottom - mi.rcMonitor.top;
    m->primary = (mi.dwFlags & MONITORINFOF_PRIMARY) != 0;
    if (!WideCharToMultiByte(CP_UTF8, 0, mi.szDevice, -1, m->name, (int)sizeof(m->name), NULL,
                             NULL))
        snprintf(m->name, sizeof(m->name), "monitor");
    l->n++;
    return TRUE;
}

static int win32_monitors(struct tk_platform_ctx *ctx, struct tk_monitor *out, int max)
{
    struct monitor_list l = {.out = out, .max = max};

    (void)ctx;
    if (max <= 0)
        return 0;
    if (!EnumDisplayMonitors(NULL, NULL, monitor_cb, (LPARAM)&l) && l.n == 0)
        return -EIO;
    if (l.n == 0) {
        /* No monitor reported: the primary screen as one. */
        memset(&out[0], 0, sizeof(out[0]));
        snprintf(out[0].name, sizeof(out[0].name), "screen");
        out[0].width = GetSystemMetrics(SM_CXSCREEN);
        out[0].height = GetSystemMetrics(SM_CYSCREEN);
        out[0].primary = true;
        return out[0].width > 0 && out[0].height > 0 ? 1 : -EIO;
    }
    return l.n;
}

/* Capture. */

/*
 * The rectangle to capture, in virtual-screen coordinates (which may be
 * negative left of or above the primary monitor): the chosen monitor or the
 * bounding box of all. Counts the call (the privacy tests read the count).
 */
static int capture_rect(struct tk_platform_ctx *ctx, int monitor, RECT *ret, char *err,
                        size_t errlen)
{
    struct tk_monitor mon[TK_MAX_MONITORS];
    RECT r;
    int n;

    InterlockedIncrement(&capture_calls);
    n = win32_monitors(ctx, mon, TK_MAX_MONITORS);
    if (n <= 0) {
        snprintf(err, errlen, "cannot capture the screen: no monitor found");
        return n < 0 ? n : -EIO;
    }
    if (monitor != TK_MONITOR_ALL && (monitor < 0 || monitor >= n)) {
        snprintf(err, errlen, "no monitor %d (there are %d)", monitor, n);
        return -EINVAL;
    }
    if (monitor == TK_MONITOR_ALL) {
        r.left = mon[0].x, r.top = mon[0].y;
        r.right = mon[0].x + mon[0].width, r.bottom = mon[0].y + mon[0].height;
        for (int i = 1; i < n; i++) {
            r.left = mon[i].x < r.left ? mon[i].x : r.left;
            r.top = mon[i].y < r.top ? mon[i].y : r.top;
            r.right = mon[i].x + mon[i].width > r.right ? mon[i].x + mon[i].width : r.right;
            r.bottom = mon[i].y + mon[i].height > r.bottom ? mon[i].y + mon[i].height : r.bottom;
        }
    } else {
        r.left = mon[monitor].x, r.top = mon[monitor].y;
        r.right = r.left + mon[monitor].width, r.bottom = r.top + mon[monitor].height;
    }
    if (r.right <= r.left || r.bottom <= r.top) {
        snprintf(err, errlen, "cannot capture the screen: the monitor has no area");
        return -EIO;
    }
    if (r.right - r.left > TK_FRAME_MAX_SIDE || r.bottom - r.top > TK_FRAME_MAX_SIDE ||
        (int64_t)(r.right - r.left) * (r.bottom - r.top) > TK_FRAME_MAX_PIXELS) {
        snprintf(err, errlen, "cannot capture the screen: %ldx%ld is too large", r.right - r.left,
                 r.bottom - r.top);
        return -EINVAL;
    }
    *ret = r;
    return 0;
}

/*
 * The screen is copied in stripes of STRIPE_ROWS rows into a DIB section
 * (32 bits a pixel, top-down, so BGRX in memory), each converted to RGB and
 * handed on before the next is copied: a capture holds one stripe, never
 * the whole screen. CAPTUREBLT includes layered windows (tooltips,
 * translucent windows), which a plain SRCCOPY leaves out.
 */
#define STRIPE_ROWS 64

static int grab_rows(const RECT *r, const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    int w = r->right - r->left, h = r->bottom - r->top;
    int rows = h < STRIPE_ROWS ? h : STRIPE_ROWS;
    BITMAPINFO bi = {0};
    HDC screen = NULL, mem = NULL;
    HBITMAP bmp = NULL;
    HGDIOBJ old = NULL;
    void *bits = NULL;
    unsigned char *rgb = NULL;
    int rc;

    if ((rc = sink->begin(sink->ud, w, h, err, errlen)) < 0)
        return rc;
    rc = -EIO;
    screen = GetDC(NULL);
    if (!screen) {
        snprintf(err, errlen, "cannot capture the screen: no screen device context");
        goto out;
    }
    mem = CreateCompatibleDC(screen);
    bi.bmiHeader.biSize = sizeof(bi.bmiHeader);
    bi.bmiHeader.biWidth = w;
    bi.bmiHeader.biHeight = -rows; /* top-down */
    bi.bmiHeader.biPlanes = 1;
    bi.bmiHeader.biBitCount = 32;
    bi.bmiHeader.biCompression = BI_RGB;
    bmp = mem ? CreateDIBSection(screen, &bi, DIB_RGB_COLORS, &bits, NULL, 0) : NULL;
    if (!bmp || !bits) {
        snprintf(err, errlen, "cannot capture the screen: cannot make a %dx%d bitmap", w, rows);
        goto out;
    }
    old = SelectObject(mem, bmp);
    rgb = xmalloc((size_t)w * 3 * rows);
    rc = 0;
    for (int top = 0; top < h && rc == 0; top += rows) {
        int sy = top + rows <= h ? top : h - rows; /* the stripe read */
        int skip = top - sy;                       /* its rows handed over already */
        int fresh = rows - skip;

        if (!BitBlt(mem, 0, 0, w, rows, screen, r->left, r->top + sy, SRCCOPY | CAPTUREBLT)) {
            snprintf(err, errlen, "cannot capture the screen: BitBlt failed (error %lu)",
                     GetLastError());
            rc = -EIO;
            break;
        }
        GdiFlush();
        for (int y = 0; y < fresh; y++) {
            const unsigned char *src = (const unsigned char *)bits + (size_t)(skip + y) * w * 4;
            unsigned char *dst = rgb + (size_t)y * w * 3;
            for (int x = 0; x < w; x++) {
                dst[0] = src[2];
                dst[1] = src[1];
                dst[2] = src[0];
                src += 4;
                dst += 3;
            }
        }
        rc = sink->rows(sink->ud, rgb, w * 3, fresh, err, errlen);
    }
out:
    free(rgb);
    if (old)
        SelectObject(mem, old);
    if (bmp)
        DeleteObject(bmp);
    if (mem)
        DeleteDC(mem);
    if (screen)
        ReleaseDC(NULL, screen);
    return rc;
}

static int win32_capture_rows(struct tk_platform_ctx *ctx, int monitor,
                              const struct tk_rows_sink *sink, char *err, size_t errlen)
{
    RECT r;
    int rc;

    if ((rc = capture_rect(ctx, monitor, &r, err, errlen)) < 0)
        return rc;
    return grab_rows(&r, sink, err, errlen);
}

static int win32_capture(struct tk_platform_ctx *ctx, int monitor, struct tk_frame *ret_frame,
                         char *err, size_t errlen)
{
    return tk_platform_capture_whole(win32_capture_rows, ctx, monitor, ret_frame, err, errlen);
}

static void win32_describe(struct tk_platform_ctx *ctx, char *out, size_t outlen)
{
    snprintf(out, outlen,
             "win32: input WH_KEYBOARD_LL/WH_MOUSE_LL hooks; idle GetLastInputInfo%s; "
             "capture GDI BitBlt (%s)",
             ctx->session_registered ? " + session lock and suspend"
                                     : " + suspend (no session notifications)",
             ctx->dpi_aware ? "per-monitor DPI aware" : "not per-monitor DPI aware");
}

const struct tk_platform tk_platform_native = {
    .name = "win32",
    .open = win32_open,
    .close = win32_close,
    .fd = win32_fd,
    .drain = win32_drain,
    .idle_ms = win32_idle_ms,
    .monitors = win32_monitors,
    .capture = win32_capture,
    .capture_rows = win32_capture_rows,
    .describe = win32_describe,
};
