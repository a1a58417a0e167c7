/*
 * StintIdleDialog: the idle prompt (DOMAIN.md "Idle"): no input since a
 * moment; keep that time, discard it, or stop. It counts down the five
 * minutes the engine waits before it stops by itself and discards the
 * idle time; the rule is the engine's, the dialog only asks and shows.
 *
 * Signal "answered" (gint: an enum tk_idle_answer). The owner closes the
 * dialog when the engine's prompt closes (answered or timed out).
 */
#ifndef STINT_IDLE_DIALOG_H
#define STINT_IDLE_DIALOG_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define STINT_TYPE_IDLE_DIALOG (stint_idle_dialog_get_type())
G_DECLARE_FINAL_TYPE(StintIdleDialog, stint_idle_dialog, STINT, IDLE_DIALOG, GtkWindow)

/* idle_since: UTC seconds of the last input; deadline: when the engine stops unanswered. */
StintIdleDialog *stint_idle_dialog_new(GtkWindow *parent, gint64 idle_since, gint64 deadline);

G_END_DECLS

#endif
