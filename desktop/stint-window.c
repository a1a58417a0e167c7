/*
 * StintWindow (stint-window.h): picks the page, keeps the status bar and
 * the idle prompt in step with the session, and ticks once a second for
 * the clocks.
 */
#include "desktop/stint-window.h"

#include <time.h>

#include "desktop/stint-application.h"
#include "desktop/stint-idle-dialog.h"
#include "desktop/stint-messages-view.h"
#include "desktop/stint-signin-page.h"
#include "desktop/stint-timer-page.h"

struct _StintWindow {
    GtkApplicationWindow parent_instance;
    StintSession *session;
    GtkStack *stack;
    StintSigninPage *signin_page;
    StintTimerPage *timer_page;
    GtkLabel *subtitle_label;
    GtkWidget *status_bar;
    GtkWidget *status_dot;
    GtkLabel *status_label;
    GtkLabel *queue_label;
    StintIdleDialog *idle_dialog;
    StintMessages *messages;
    StintMessagesView *messages_view; /* built when Messages is first opened */
    GtkToggleButton *messages_button;
    GtkLabel *messages_badge;
    guint clock;
    gboolean was_signed_in;
    gboolean timing; /* $STINT_TRACKER_TIMING: log when the window became usable */
    gboolean timing_done;
};

G_DEFINE_TYPE(StintWindow, stint_window, GTK_TYPE_APPLICATION_WINDOW)

static void update_status(StintWindow *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);
    struct tk_status st = {0};
    const char *text = "";
    g_autofree char *queue = NULL;
    StintConnection conn = stint_session_get_connection(self->session);

    if (engine)
        stint_engine_get_status(engine, &st);
    switch (conn) {
    case STINT_CONNECTION_ONLINE:
        text = "Online";
        break;
    case STINT_CONNECTION_UPLOADING:
        text = "Uploading…";
        break;
    case STINT_CONNECTION_OFFLINE:
        text = "Offline: your time is kept on this computer";
        break;
    }
    gtk_label_set_label(self->status_label, text);
    /* Only what changes: restyling once a second for nothing costs CPU. */
    {
        static const char *const classes[] = {"offline", "online", "uploading"};
        for (size_t i = 0; i < G_N_ELEMENTS(classes); i++) {
            gboolean on = (size_t)conn == i;
            if (on != gtk_widget_has_css_class(self->status_dot, classes[i])) {
                if (on)
                    gtk_widget_add_css_class(self->status_dot, classes[i]);
                else
                    gtk_widget_remove_css_class(self->status_dot, classes[i]);
            }
        }
    }
    if (!engine)
        queue = g_strdup("");
    else if (st.queued == 0)
        queue = g_strdup("All uploaded");
    else
        queue = g_strdup_printf("%d segment%s queued", st.queued, st.queued == 1 ? "" : "s");
    gtk_label_set_label(self->queue_label, queue);
    if (g_strcmp0(gtk_widget_get_tooltip_text(self->status_bar),
                  st.last_error[0] ? st.last_error : NULL) != 0)
        gtk_widget_set_tooltip_text(self->status_bar, st.last_error[0] ? st.last_error : NULL);
}

/* The idle prompt is open exactly while the engine's is. */
static void update_idle_dialog(StintWindow *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);
    struct tk_status st = {0};

    if (engine)
        stint_engine_get_status(engine, &st);
    if ((!st.running || !st.idle_prompt) && self->idle_dialog) {
        gtk_window_destroy(GTK_WINDOW(self->idle_dialog));
        self->idle_dialog = NULL;
    }
}

static void update(StintWindow *self)
{
    gboolean signed_in = stint_session_is_signed_in(self->session);
    const char *email = stint_session_get_email(self->session);
    const char *page = "timer";

    if (!signed_in)
        gtk_toggle_button_set_active(self->messages_button, FALSE);
    gtk_widget_set_visible(GTK_WIDGET(self->messages_button), signed_in);
    if (!signed_in)
        page = "signin";
    else if (gtk_toggle_button_get_active(self->messages_button))
        page = "messages";
    gtk_stack_set_visible_child_name(self->stack, page);
    gtk_widget_set_visible(self->status_bar, signed_in);
    gtk_label_set_label(self->subtitle_label, signed_in && email ? email : "");
    gtk_widget_set_visible(GTK_WIDGET(self->subtitle_label), signed_in && email);
    if (signed_in != self->was_signed_in) {
        self->was_signed_in = signed_in;
        if (!signed_in) {
            stint_signin_page_set_session(self->signin_page, self->session);
            stint_signin_page_focus(self->signin_page);
        } else {
            gtk_window_set_default_widget(GTK_WINDOW(self), NULL);
            stint_timer_page_focus_memo(self->timer_page);
        }
    }
    update_status(self);
    update_idle_dialog(self);
    {
        GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self), "toggle-tracking");
        g_simple_action_set_enabled(G_SIMPLE_ACTION(a),
                                    signed_in && stint_timer_page_can_toggle(self->timer_page));
    }
}

static void on_session_changed(StintSession *session, StintWindow *self)
{
    update(self);
}

/* ---- Messages: the header button with the unread count, and the page built on demand ---- */

static StintMessagesView *ensure_messages_view(StintWindow *self)
{
    if (!self->messages_view) {
        self->messages_view = stint_messages_view_new(self->messages);
        gtk_stack_add_named(self->stack, GTK_WIDGET(self->messages_view), "messages");
    }
    return self->messages_view;
}

static void on_messages_toggled(StintWindow *self)
{
    if (gtk_toggle_button_get_active(self->messages_button))
        ensure_messages_view(self);
    update(self);
    if (gtk_toggle_button_get_active(self->messages_button))
        stint_messages_view_focus(self->messages_view);
    else if (stint_session_is_signed_in(self->session))
        stint_timer_page_focus_memo(self->timer_page);
}

static void on_messages_changed(StintMessages *messages, StintWindow *self)
{
    int unread = stint_messages_get_unread_total(messages);
    g_autofree char *text = unread > 99 ? g_strdup("99+") : g_strdup_printf("%d", unread);
    g_autofree char *tip =
        unread ? g_strdup_printf("Messages (%d unread)", unread) : g_strdup("Messages");

    gtk_label_set_label(self->messages_badge, text);
    gtk_widget_set_visible(GTK_WIDGET(self->messages_badge), unread > 0);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->messages_button), tip);
}

void stint_window_show_messages(StintWindow *self, const char *room_id)
{
    if (!stint_session_is_signed_in(self->session))
        return;
    ensure_messages_view(self);
    gtk_toggle_button_set_active(self->messages_button, TRUE);
    if (room_id)
        stint_messages_view_open_room(self->messages_view, room_id);
    stint_messages_view_focus(self->messages_view);
}

StintMessagesView *stint_window_get_messages_view(StintWindow *self)
{
    return self->messages_view;
}

/*
 * For bench/desktop.py: the monotonic time (µs, the clock every process
 * shares) of the first frame painted with the contract picker filled, the
 * moment the window can be used.
 */
static void on_after_paint(GdkFrameClock *clock, StintWindow *self)
{
    if (self->timing_done || !stint_session_contracts_loaded(self->session))
        return;
    self->timing_done = TRUE;
    g_printerr("stint-tracker: timing: usable at %" G_GINT64_FORMAT " us\n",
               g_get_monotonic_time());
    g_signal_handlers_disconnect_by_func(clock, on_after_paint, self);
}

static void on_map(GtkWidget *widget, StintWindow *self)
{
    GdkFrameClock *clock = gtk_widget_get_frame_clock(widget);

    g_printerr("stint-tracker: timing: mapped at %" G_GINT64_FORMAT " us\n",
               g_get_monotonic_time());
    if (clock)
        g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), self);
}

static void on_idle_answered(StintIdleDialog *dialog, int answer, StintWindow *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);

    if (engine)
        stint_engine_answer_idle(engine, (enum tk_idle_answer)answer);
    g_application_withdraw_notification(g_application_get_default(), "idle");
    update(self);
}

static void on_engine_event(StintSession *session, gpointer event, StintWindow *self)
{
    const struct tk_event *ev = event;

    if (ev->type == TK_EVENT_IDLE && !self->idle_dialog) {
        self->idle_dialog =
            stint_idle_dialog_new(GTK_WINDOW(self), ev->idle_since, time(NULL) + TK_IDLE_ANSWER_S);
        g_signal_connect(self->idle_dialog, "answered", G_CALLBACK(on_idle_answered), self);
        gtk_window_present(GTK_WINDOW(self->idle_dialog));
    }
    stint_timer_page_engine_event(self->timer_page, ev);
    update(self);
}

static void on_signed_out(StintSession *session, const char *reason, StintWindow *self)
{
    stint_signin_page_set_message(self->signin_page, reason);
}

static gboolean on_clock(gpointer user_data)
{
    StintWindow *self = user_data;

    if (gtk_widget_get_visible(GTK_WIDGET(self))) {
        stint_timer_page_update(self->timer_page);
        update(self);
    }
    return G_SOURCE_CONTINUE;
}

static void toggle_tracking_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintWindow *self = user_data;

    stint_timer_page_toggle(self->timer_page);
    update(self);
}

static void focus_memo_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintWindow *self = user_data;

    if (stint_session_is_signed_in(self->session))
        stint_timer_page_focus_memo(self->timer_page);
}

static const GActionEntry win_actions[] = {
    {"toggle-tracking", toggle_tracking_activated, NULL, NULL, NULL, {0}},
    {"focus-memo", focus_memo_activated, NULL, NULL, NULL, {0}},
};

json_t *stint_window_dup_state(StintWindow *self)
{
    json_t *page = stint_timer_page_dup_state(self->timer_page);
    json_t *win =
        json_pack("{s:s,s:s,s:b,s:b,s:s,s:s}", "signin_message",
                  stint_signin_page_get_message(self->signin_page), "page",
                  gtk_stack_get_visible_child_name(self->stack), "visible",
                  gtk_widget_get_mapped(GTK_WIDGET(self)), "idle_prompt",
                  self->idle_dialog != NULL && gtk_widget_get_mapped(GTK_WIDGET(self->idle_dialog)),
                  "status", gtk_label_get_label(self->status_label), "queue_text",
                  gtk_label_get_label(self->queue_label));

    json_object_update(page, win);
    json_decref(win);
    json_object_set_new(page, "active", json_boolean(gtk_window_is_active(GTK_WINDOW(self))));
    json_object_set_new(page, "moving",
                        json_boolean(gtk_stack_get_transition_running(self->stack)));
    json_object_set_new(page, "messages_badge",
                        gtk_widget_get_visible(GTK_WIDGET(self->messages_badge))
                            ? json_string(gtk_label_get_label(self->messages_badge))
                            : json_null());
    json_object_set_new(page, "messages",
                        self->messages_view ? stint_messages_view_dup_state(self->messages_view)
                                            : json_null());
    return page;
}

static void stint_window_dispose(GObject *object)
{
    StintWindow *self = STINT_WINDOW(object);

    g_clear_handle_id(&self->clock, g_source_remove);
    if (self->idle_dialog)
        gtk_window_destroy(GTK_WINDOW(self->idle_dialog));
    self->idle_dialog = NULL;
    if (self->session)
        g_signal_handlers_disconnect_by_data(self->session, self);
    g_clear_object(&self->session);
    if (self->messages)
        g_signal_handlers_disconnect_by_data(self->messages, self);
    g_clear_object(&self->messages);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_WINDOW);
    G_OBJECT_CLASS(stint_window_parent_class)->dispose(object);
}

static void stint_window_class_init(StintWindowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_window_dispose;
    g_type_ensure(STINT_TYPE_SIGNIN_PAGE);
    g_type_ensure(STINT_TYPE_TIMER_PAGE);
    gtk_widget_class_set_template_from_resource(widget_class, "/dev/stint/Tracker/stint-window.ui");
    gtk_widget_class_bind_template_child(widget_class, StintWindow, stack);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, signin_page);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, timer_page);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, subtitle_label);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, status_bar);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, status_dot);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, status_label);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, queue_label);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, messages_button);
    gtk_widget_class_bind_template_child(widget_class, StintWindow, messages_badge);
    gtk_widget_class_bind_template_callback(widget_class, on_messages_toggled);
}

static void stint_window_init(StintWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions),
                                    self);
}

StintWindow *stint_window_new(StintApplication *app, StintSession *session)
{
    StintWindow *self = g_object_new(STINT_TYPE_WINDOW, "application", app, NULL);

    self->session = g_object_ref(session);
    self->messages = g_object_ref(stint_application_get_messages(app));
    g_signal_connect(self->messages, "changed", G_CALLBACK(on_messages_changed), self);
    on_messages_changed(self->messages, self);
    self->was_signed_in = !stint_session_is_signed_in(session); /* so update() sets the focus */
    stint_signin_page_set_session(self->signin_page, session);
    stint_timer_page_set_session(self->timer_page, session);
    g_signal_connect(session, "changed", G_CALLBACK(on_session_changed), self);
    g_signal_connect(session, "engine-event", G_CALLBACK(on_engine_event), self);
    g_signal_connect(session, "signed-out", G_CALLBACK(on_signed_out), self);
    self->clock = g_timeout_add_seconds(1, on_clock, self);
    if (g_getenv("STINT_TRACKER_TIMING") && !self->timing) {
        self->timing = TRUE;
        g_signal_connect(self, "map", G_CALLBACK(on_map), self);
    }
    update(self);
    return self;
}
