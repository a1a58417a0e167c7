/*
 * "Start at sign-in": the tray app's value "stint tracker" under
 * HKCU\Software\Microsoft\Windows\CurrentVersion\Run, which Windows reads
 * when the user signs in. The value runs this very program with
 * --background (the icon only, no window).
 */
#ifndef STINT_TRAY_AUTOSTART_H
#define STINT_TRAY_AUTOSTART_H

#include <stdbool.h>

bool tray_autostart_enabled(void);
/* Adds or removes the value; 0 or a negative errno. */
int tray_autostart_set(bool on);

#endif
