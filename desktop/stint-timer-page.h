/*
 * StintTimerPage: the tracker itself: the contract picker, the big
 * start/stop button with today's and this week's time, the memo (with
 * recent memos) and tags, the current segment's activity bars, the last
 * screenshot with "delete this segment", and a banner for what needs
 * attention (another tracker, a refused start, the weekly limit).
 *
 * It reads everything from the session and changes nothing but through
 * it. Its actions: "page.delete-segment" (asks first), "page.retry".
 */
#ifndef STINT_TIMER_PAGE_H
#define STINT_TIMER_PAGE_H

#include <gtk/gtk.h>
#include <jansson.h>

#include "desktop/stint-session.h"

G_BEGIN_DECLS

#define STINT_TYPE_TIMER_PAGE (stint_timer_page_get_type())
G_DECLARE_FINAL_TYPE(StintTimerPage, stint_timer_page, STINT, TIMER_PAGE, GtkWidget)

void stint_timer_page_set_session(StintTimerPage *self, StintSession *session);
/* Starts the timer with what the page shows, or stops it. */
void stint_timer_page_toggle(StintTimerPage *self);
/* Whether the start/stop button can be used now. */
gboolean stint_timer_page_can_toggle(StintTimerPage *self);
void stint_timer_page_focus_memo(StintTimerPage *self);
/* Re-reads the session (also called once a second for the clock). */
void stint_timer_page_update(StintTimerPage *self);
/* Takes note of an engine event (a limit warning, a failed screenshot). */
void stint_timer_page_engine_event(StintTimerPage *self, const struct tk_event *ev);
/* What the page shows, for tests. */
json_t *stint_timer_page_dup_state(StintTimerPage *self);

G_END_DECLS

#endif
