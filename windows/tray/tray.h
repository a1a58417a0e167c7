/*
 * The notification-area icon: one per window, showing the state (icons.h)
 * with a tooltip, and balloons (NIF_INFO; Windows 10 and 11 show them as
 * toasts). Clicks on it arrive at the window as TRAY_MSG with the mouse
 * message in lParam (the window opens itself or its menu).
 */
#ifndef STINT_TRAY_TRAY_H
#define STINT_TRAY_TRAY_H

#include <stdbool.h>

#include <windows.h>

#include "windows/tray/icons.h"

#define TRAY_MSG (WM_APP + 1)

/* Adds the icon to wnd's notification area; false when the shell refused it. */
bool tray_add(HWND wnd, enum tray_state state, const wchar_t *tip);
/* Changes the state and the tooltip (no change: nothing is sent). */
void tray_set(HWND wnd, enum tray_state state, const wchar_t *tip);
/* A balloon with a title and a text; error: the error icon, else the information one. */
void tray_balloon(HWND wnd, const wchar_t *title, const wchar_t *text, bool error);
/* Adds the icon again after Explorer restarted (the "TaskbarCreated" message). */
void tray_readd(HWND wnd);
void tray_remove(HWND wnd);

#endif
