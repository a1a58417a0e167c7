/*
 * The tray app's main window: the sign-in view (server, email, password)
 * or the tracker view (contract, memo, tags, start/stop, today and this
 * week, the current segment's ten bars, the last screenshot with "delete
 * segment", online/queue status, the idle prompt, the weekly-limit banner,
 * "start at sign-in"), and the notification-area icon that belongs to it.
 * It drives the engine (tracker/engine.h) from its own WM_TIMER, re-armed
 * with tk_engine_timeout_ms() after every tick.
 *
 * Standard controls only, each with a label before it in tab order, so
 * that a screen reader names it and Alt+letter reaches it; Ctrl+Space
 * starts and stops, Ctrl+M goes to the memo. Closing the window hides it
 * (tracking goes on, the icon stays); Quit in the icon's menu asks first
 * while the timer runs.
 */
#ifndef STINT_TRAY_WINDOW_H
#define STINT_TRAY_WINDOW_H

#include <stdbool.h>

#include <windows.h>

/* The window class, which a second instance looks for to bring the first forward. */
#define TRAY_WINDOW_CLASS L"stint-tracker-window"
/* Sent by a second instance: show the window and bring it to the front. */
#define TRAY_MSG_SHOW (WM_APP + 2)

/* Creates the window (hidden when background) and its icon. NULL with a message box on failure. */
HWND tray_window_create(HINSTANCE inst, bool background);
/* The accelerators for the message loop (TranslateAcceleratorW). */
HACCEL tray_window_accelerators(void);

#endif
