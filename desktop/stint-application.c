/*
 * StintApplication (stint-application.h): actions, shortcuts, signals,
 * notifications, the background mode and the quit question. What the
 * window shows is the window's business; what the tracker does is the
 * session's.
 */
#include "desktop/stint-application.h"

#include <glib-unix.h>
#include <signal.h>

#include "desktop/stint-preferences-window.h"
#include "desktop/stint-window.h"

#define FLUSH_WAIT_US (10 * G_USEC_PER_SEC)
#define FLUSH_POLL_MS 200

struct _StintApplication {
    GtkApplication parent_instance;
    StintSession *session;
    StintMessages *messages;
    guint messages_notified; /* for tests: notifications sent for messages */
    json_t *last_message_notification;
    StintWindow *window;
    guint dbus_id;
    guint signal_sources[4];
    guint flush_source;
    gint64 flush_deadline;
    gboolean in_background; /* the window was closed while the timer ran */
    GtkWidget *quit_dialog;
};

G_DEFINE_TYPE(StintApplication, stint_application, GTK_TYPE_APPLICATION)

static const char state_xml[] = "<node>"
                                "  <interface name='dev.stint.Tracker.State'>"
                                "    <method name='Get'>"
                                "      <arg type='s' name='state' direction='out'/>"
                                "    </method>"
                                "    <method name='Sync'/>"
                                "  </interface>"
                                "</node>";

StintApplication *stint_application_new(void)
{
    return g_object_new(STINT_TYPE_APPLICATION, "application-id", STINT_APP_ID, "flags",
                        G_APPLICATION_DEFAULT_FLAGS, NULL);
}

StintSession *stint_application_get_session(StintApplication *self)
{
    return self->session;
}

StintMessages *stint_application_get_messages(StintApplication *self)
{
    return self->messages;
}

static void send(StintApplication *self, const char *id, const char *title, const char *body,
                 GNotificationPriority priority)
{
    g_autoptr(GNotification) n = g_notification_new(title);
    g_autoptr(GIcon) icon = g_themed_icon_new(STINT_APP_ID);

    g_notification_set_body(n, body);
    g_notification_set_icon(n, icon);
    g_notification_set_priority(n, priority);
    g_notification_set_default_action(n, "app.show");
    g_application_send_notification(G_APPLICATION(self), id, n);
}

/* ---- the window ---- */

static void present_window(StintApplication *self)
{
    self->in_background = FALSE;
    g_application_withdraw_notification(G_APPLICATION(self), "background");
    gtk_window_present(GTK_WINDOW(self->window));
}

/*
 * Closing the window while the timer runs hides it instead: the app keeps
 * tracking (the hidden window keeps the GtkApplication alive) and a
 * notification with "Open" and "Stop" says so. GTK 4 has no tray icon.
 */
static gboolean on_close_request(GtkWindow *window, StintApplication *self)
{
    g_autoptr(GNotification) n = NULL;
    g_autoptr(GIcon) icon = NULL;

    if (!stint_session_is_tracking(self->session))
        return FALSE;
    gtk_widget_set_visible(GTK_WIDGET(window), FALSE);
    self->in_background = TRUE;
    n = g_notification_new("stint is still tracking");
    icon = g_themed_icon_new(STINT_APP_ID);
    g_notification_set_body(n, "The timer keeps running in the background. Open stint to see "
                               "it or to stop it.");
    g_notification_set_icon(n, icon);
    g_notification_set_priority(n, G_NOTIFICATION_PRIORITY_HIGH);
    g_notification_set_default_action(n, "app.show");
    g_notification_add_button(n, "Open", "app.show");
    g_notification_add_button(n, "Stop Timer", "app.stop");
    g_application_send_notification(G_APPLICATION(self), "background", n);
    return TRUE;
}

static void stint_application_activate(GApplication *app)
{
    StintApplication *self = STINT_APPLICATION(app);

    if (!self->window) {
        self->window = stint_window_new(self, self->session);
        g_signal_connect(self->window, "close-request", G_CALLBACK(on_close_request), self);
        g_object_add_weak_pointer(G_OBJECT(self->window), (gpointer *)&self->window);
    }
    present_window(self);
}

/* ---- session events → notifications ---- */

static void on_engine_event(StintSession *session, gpointer event, StintApplication *self)
{
    const struct tk_event *ev = event;

    switch (ev->type) {
    case TK_EVENT_IDLE: {
        g_autoptr(GNotification) n = g_notification_new("Are you still working?");
        g_autoptr(GIcon) icon = g_themed_icon_new(STINT_APP_ID);
        g_autoptr(GDateTime) since = g_date_time_new_from_unix_local(ev->idle_since);
        g_autofree char *clock = g_date_time_format(since, "%H:%M");
        g_autofree char *body = g_strdup_printf(
            "No keyboard or mouse input since %s. Keep that time, discard it, or stop? Without "
            "an answer in 5 minutes the timer stops and the idle time is discarded.",
            clock);
        g_notification_set_body(n, body);
        g_notification_set_icon(n, icon);
        g_notification_set_priority(n, G_NOTIFICATION_PRIORITY_URGENT);
        g_notification_set_default_action(n, "app.show");
        g_notification_add_button_with_target(n, "Keep", "app.idle-answer", "s", "keep");
        g_notification_add_button_with_target(n, "Discard", "app.idle-answer", "s", "discard");
        g_notification_add_button_with_target(n, "Stop", "app.idle-answer", "s", "stop");
        g_application_send_notification(G_APPLICATION(self), "idle", n);
        /* The question needs an answer: show the window with the prompt even from the background.
         */
        if (self->window)
            present_window(self);
        break;
    }
    case TK_EVENT_LIMIT:
        send(self, "limit",
             ev->percent >= 100 ? "Weekly limit reached" : "Weekly limit almost reached",
             ev->message ? ev->message : "", G_NOTIFICATION_PRIORITY_HIGH);
        break;
    case TK_EVENT_QUOTA:
        send(self, "quota", "Local storage", ev->message ? ev->message : "",
             G_NOTIFICATION_PRIORITY_HIGH);
        break;
    case TK_EVENT_SCREENSHOT:
        if (!ev->path)
            send(self, "capture", "No screenshot for this segment",
                 ev->message ? ev->message : "the capture failed", G_NOTIFICATION_PRIORITY_NORMAL);
        break;
    case TK_EVENT_REFUSED:
        send(self, "refused", "A segment was refused", ev->message ? ev->message : "",
             G_NOTIFICATION_PRIORITY_HIGH);
        break;
    case TK_EVENT_STOPPED:
        g_application_withdraw_notification(G_APPLICATION(self), "idle");
        if (ev->reason != TK_STOP_USER)
            send(self, "stopped", "The timer stopped", ev->message ? ev->message : "",
                 G_NOTIFICATION_PRIORITY_HIGH);
        /* Nothing runs any more: a hidden window comes back, so the app never lingers unseen. */
        if (self->in_background && self->window)
            present_window(self);
        break;
    default:
        break;
    }
}

static void on_connection_lost(StintSession *session, StintApplication *self)
{
    send(self, "connection", "Connection to the server lost",
         "stint keeps recording. Your time waits on this computer and uploads when the server "
         "can be reached again.",
         G_NOTIFICATION_PRIORITY_NORMAL);
}

/* A message from someone else while the window is not in front: a notification opening the room. */
static void on_message_arrived(StintMessages *messages, const char *room_id, gpointer message,
                               StintApplication *self)
{
    json_t *msg = message;
    json_t *room = stint_messages_find_room(messages, room_id);
    const char *name = json_string_value(json_object_get(json_object_get(msg, "author"), "name"));
    const char *title = json_string_value(json_object_get(room, "title"));
    const char *text = json_string_value(json_object_get(msg, "text"));
    json_t *files = json_object_get(msg, "files");
    g_autoptr(GNotification) n = NULL;
    g_autoptr(GIcon) icon = NULL;
    g_autofree char *id = g_strconcat("message-", room_id, NULL);
    g_autofree char *heading = NULL;
    g_autofree char *body = NULL;

    if (self->window && gtk_widget_get_visible(GTK_WIDGET(self->window)) &&
        gtk_window_is_active(GTK_WINDOW(self->window)))
        return;
    heading = title ? g_strdup_printf("%s · %s", name ? name : "Someone", title)
                    : g_strdup(name ? name : "New message");
    if (text && *text && g_utf8_strlen(text, -1) > 200) {
        g_autofree char *cut = g_utf8_substring(text, 0, 200);
        body = g_strconcat(cut, "…", NULL);
    } else if (text && *text) {
        body = g_strdup(text);
    } else {
        const char *file = json_string_value(json_object_get(json_array_get(files, 0), "name"));
        body = g_strdup_printf("Sent a file: %s", file ? file : "file");
    }
    n = g_notification_new(heading);
    icon = g_themed_icon_new(STINT_APP_ID);
    g_notification_set_body(n, body);
    g_notification_set_icon(n, icon);
    g_notification_set_priority(n, G_NOTIFICATION_PRIORITY_NORMAL);
    g_notification_set_default_action_and_target(n, "app.open-room", "s", room_id);
    g_application_send_notification(G_APPLICATION(self), id, n);
    self->messages_notified++;
    json_decref(self->last_message_notification);
    self->last_message_notification =
        json_pack("{s:s,s:s,s:s}", "title", heading, "body", body, "room_id", room_id);
}

/* ---- quitting ---- */

static gboolean flush_poll(gpointer user_data)
{
    StintApplication *self = user_data;
    StintEngine *engine = stint_session_get_engine(self->session);
    struct tk_status st = {0};

    if (engine)
        stint_engine_get_status(engine, &st);
    if (!engine || (st.queued == 0 && !st.uploading) || (!st.online && !st.uploading) ||
        g_get_monotonic_time() >= self->flush_deadline) {
        self->flush_source = 0;
        g_application_quit(G_APPLICATION(self));
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Stops the timer, gives the uploader a moment to send the last segment (as `stint track` does),
 * quits. */
static void stop_and_quit(StintApplication *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);

    if (self->flush_source)
        return;
    stint_session_stop(self->session);
    if (!engine) {
        g_application_quit(G_APPLICATION(self));
        return;
    }
    stint_engine_kick(engine);
    self->flush_deadline = g_get_monotonic_time() + FLUSH_WAIT_US;
    self->flush_source = g_timeout_add(FLUSH_POLL_MS, flush_poll, self);
}

static void on_quit_response(GtkDialog *dialog, int response, StintApplication *self)
{
    gtk_window_destroy(GTK_WINDOW(dialog));
    self->quit_dialog = NULL;
    if (response == GTK_RESPONSE_ACCEPT)
        stop_and_quit(self);
}

static void quit_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;
    GtkWidget *stop;

    if (!stint_session_is_tracking(self->session)) {
        stop_and_quit(self);
        return;
    }
    if (self->quit_dialog) {
        gtk_window_present(GTK_WINDOW(self->quit_dialog));
        return;
    }
    if (self->window)
        present_window(self);
    self->quit_dialog =
        gtk_message_dialog_new(self->window ? GTK_WINDOW(self->window) : NULL,
                               GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                               GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "Stop tracking and quit?");
    gtk_window_set_title(GTK_WINDOW(self->quit_dialog), "Quit stint Tracker");
    gtk_window_set_application(GTK_WINDOW(self->quit_dialog), GTK_APPLICATION(self));
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(self->quit_dialog),
        "The timer is running. Quitting stops it; the time recorded so far is kept and "
        "uploaded. To keep tracking, close the window instead.");
    gtk_dialog_add_button(GTK_DIALOG(self->quit_dialog), "Cancel", GTK_RESPONSE_CANCEL);
    stop =
        gtk_dialog_add_button(GTK_DIALOG(self->quit_dialog), "Stop and Quit", GTK_RESPONSE_ACCEPT);
    gtk_widget_add_css_class(stop, "destructive-action");
    gtk_dialog_set_default_response(GTK_DIALOG(self->quit_dialog), GTK_RESPONSE_CANCEL);
    g_signal_connect(self->quit_dialog, "response", G_CALLBACK(on_quit_response), self);
    gtk_window_present(GTK_WINDOW(self->quit_dialog));
}

/* SIGINT, SIGTERM, SIGHUP: stop cleanly (the partial bucket is written) and quit without asking. */
static gboolean on_terminate(gpointer user_data)
{
    stop_and_quit(user_data);
    return G_SOURCE_CONTINUE;
}

/* `stint sync` asks a running tracker to upload now with SIGUSR1. */
static gboolean on_usr1(gpointer user_data)
{
    StintApplication *self = user_data;
    StintEngine *engine = stint_session_get_engine(self->session);

    if (engine)
        stint_engine_kick(engine);
    return G_SOURCE_CONTINUE;
}

/* ---- the other actions ---- */

static void about_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;
    static const char *authors[] = {"The stint contributors", NULL};
    StintEngine *engine = stint_session_get_engine(self->session);
    /* Diagnostics: which desktop backend tracks here, its routes, and why not the others. */
    g_autofree char *desktop = engine ? stint_engine_describe_platform(engine) : NULL;
    g_autofree char *info = g_strdup_printf("Desktop: %s", desktop ? desktop : "not signed in");

    gtk_show_about_dialog(
        self->window ? GTK_WINDOW(self->window) : NULL, "program-name", "stint Tracker",
        "logo-icon-name", STINT_APP_ID, "version", STINT_VERSION, "comments",
        "Tracks time on hourly contracts for a self-hosted stint server: activity counts, one "
        "screenshot per 10 minutes, and nothing while the timer is stopped.",
        "system-information", info, "license-type", GTK_LICENSE_MIT_X11, "authors", authors,
        NULL);
}

static void preferences_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;
    StintPreferencesWindow *prefs = stint_preferences_window_new(self->session);

    if (self->window)
        gtk_window_set_transient_for(GTK_WINDOW(prefs), GTK_WINDOW(self->window));
    gtk_window_present(GTK_WINDOW(prefs));
}

static void sign_out_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;

    stint_session_sign_out(self->session);
}

static void on_segment_deleted(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;

    if (!stint_session_delete_last_segment_finish(STINT_SESSION(source), res, &error))
        g_warning("cannot delete the last segment: %s", error->message);
}

/*
 * What the thumbnail's "Delete Segment" does once confirmed, without the
 * question: for scripts and the tests (gdbus ... org.gtk.Actions.Activate).
 */
static void delete_last_segment_activated(GSimpleAction *action, GVariant *param,
                                          gpointer user_data)
{
    StintApplication *self = user_data;

    stint_session_delete_last_segment_async(self->session, NULL, on_segment_deleted, NULL);
}

static void show_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    g_application_activate(G_APPLICATION(user_data));
}

static void stop_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;

    stint_session_stop(self->session);
}

static void idle_answer_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;
    StintEngine *engine = stint_session_get_engine(self->session);
    const char *answer = g_variant_get_string(param, NULL);
    enum tk_idle_answer a;

    if (g_str_equal(answer, "keep"))
        a = TK_IDLE_KEEP;
    else if (g_str_equal(answer, "discard"))
        a = TK_IDLE_DISCARD;
    else if (g_str_equal(answer, "stop"))
        a = TK_IDLE_STOP;
    else
        return;
    if (engine)
        stint_engine_answer_idle(engine, a);
    g_application_withdraw_notification(G_APPLICATION(self), "idle");
}

static void open_messages_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;

    g_application_activate(G_APPLICATION(self));
    if (self->window)
        stint_window_show_messages(self->window, NULL);
}

/* From a message's notification: the window in front with that room. */
static void open_room_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintApplication *self = user_data;
    const char *room_id = g_variant_get_string(param, NULL);
    g_autofree char *id = g_strconcat("message-", room_id, NULL);

    g_application_activate(G_APPLICATION(self));
    g_application_withdraw_notification(G_APPLICATION(self), id);
    if (self->window)
        stint_window_show_messages(self->window, room_id);
}

/* For scripts and tests: what the Messages page's composer and Save buttons do. */
static StintMessagesView *messages_view(StintApplication *self)
{
    return self->window ? stint_window_get_messages_view(self->window) : NULL;
}

static void messages_send_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintMessagesView *view = messages_view(user_data);

    if (view)
        stint_messages_view_send_text(view, g_variant_get_string(param, NULL));
}

static void messages_attach_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintMessagesView *view = messages_view(user_data);
    g_autoptr(GFile) file = g_file_new_for_path(g_variant_get_string(param, NULL));

    if (view)
        stint_messages_view_attach(view, file);
}

static void messages_save_activated(GSimpleAction *action, GVariant *param, gpointer user_data)
{
    StintMessagesView *view = messages_view(user_data);
    const char *file_id, *path;
    g_autoptr(GFile) dest = NULL;

    g_variant_get(param, "(&s&s)", &file_id, &path);
    dest = g_file_new_for_path(path);
    if (view)
        stint_messages_view_save_file(view, file_id, dest);
}

static void update_action_states(StintSession *session, StintApplication *self)
{
    GAction *a = g_action_map_lookup_action(G_ACTION_MAP(self), "sign-out");

    g_simple_action_set_enabled(G_SIMPLE_ACTION(a), stint_session_is_signed_in(session) &&
                                                        !stint_session_is_tracking(session));
    a = g_action_map_lookup_action(G_ACTION_MAP(self), "stop");
    g_simple_action_set_enabled(G_SIMPLE_ACTION(a), stint_session_is_tracking(session));
}

static const GActionEntry app_actions[] = {
    {"quit", quit_activated, NULL, NULL, NULL, {0}},
    {"about", about_activated, NULL, NULL, NULL, {0}},
    {"preferences", preferences_activated, NULL, NULL, NULL, {0}},
    {"sign-out", sign_out_activated, NULL, NULL, NULL, {0}},
    {"show", show_activated, NULL, NULL, NULL, {0}},
    {"delete-last-segment", delete_last_segment_activated, NULL, NULL, NULL, {0}},
    {"stop", stop_activated, NULL, NULL, NULL, {0}},
    {"idle-answer", idle_answer_activated, "s", NULL, NULL, {0}},
    {"open-messages", open_messages_activated, NULL, NULL, NULL, {0}},
    {"open-room", open_room_activated, "s", NULL, NULL, {0}},
    {"messages-send", messages_send_activated, "s", NULL, NULL, {0}},
    {"messages-attach", messages_attach_activated, "s", NULL, NULL, {0}},
    {"messages-save", messages_save_activated, "(ss)", NULL, NULL, {0}},
};

/* ---- D-Bus: the state for tests and scripts ---- */

/*
 * Sync() answers once every window on screen has painted a frame, so that
 * a test's screenshot shows what Get() said (GTK paints on the next frame).
 */
struct sync_window {
    struct sync_paint *sync;
    GdkFrameClock *clock;
    gulong handler;
};

struct sync_paint {
    GDBusMethodInvocation *invocation;
    GPtrArray *windows; /* struct sync_window, still to paint */
    guint timeout;
};

static void sync_window_free(struct sync_window *w)
{
    g_signal_handler_disconnect(w->clock, w->handler);
    g_object_unref(w->clock);
    g_free(w);
}

/* Answers and frees; after a second at the latest, in case a window never paints. */
static gboolean sync_done(gpointer user_data)
{
    struct sync_paint *sync = user_data;

    g_dbus_method_invocation_return_value(sync->invocation, NULL);
    g_ptr_array_unref(sync->windows);
    if (sync->timeout)
        g_source_remove(sync->timeout);
    g_free(sync);
    return G_SOURCE_REMOVE;
}

static gboolean sync_timeout(gpointer user_data)
{
    struct sync_paint *sync = user_data;

    sync->timeout = 0;
    return sync_done(sync);
}

static void on_sync_painted(GdkFrameClock *clock, struct sync_window *w)
{
    struct sync_paint *sync = w->sync;

    g_ptr_array_remove(sync->windows, w);
    if (sync->windows->len == 0)
        sync_done(sync);
}

static void sync_paint(StintApplication *self, GDBusMethodInvocation *invocation)
{
    struct sync_paint *sync = g_new0(struct sync_paint, 1);

    sync->invocation = invocation;
    sync->windows = g_ptr_array_new_with_free_func((GDestroyNotify)sync_window_free);
    for (GList *l = gtk_application_get_windows(GTK_APPLICATION(self)); l; l = l->next) {
        GdkFrameClock *clock = gtk_widget_get_frame_clock(l->data);
        struct sync_window *w;
        if (!clock || !gtk_widget_get_mapped(l->data))
            continue;
        w = g_new0(struct sync_window, 1);
        w->sync = sync;
        w->clock = g_object_ref(clock);
        w->handler = g_signal_connect(clock, "after-paint", G_CALLBACK(on_sync_painted), w);
        g_ptr_array_add(sync->windows, w);
        gtk_widget_queue_draw(l->data);
    }
    if (sync->windows->len == 0) {
        sync_done(sync);
        return;
    }
    sync->timeout = g_timeout_add_seconds(1, sync_timeout, sync);
}

static void state_method_call(GDBusConnection *connection, const char *sender,
                              const char *object_path, const char *interface_name,
                              const char *method_name, GVariant *parameters,
                              GDBusMethodInvocation *invocation, gpointer user_data)
{
    StintApplication *self = user_data;
    json_t *state;
    char *text;

    if (g_str_equal(method_name, "Sync")) {
        sync_paint(self, invocation);
        return;
    }
    state = stint_session_dup_state(self->session);

    if (self->window) {
        json_t *w = stint_window_dup_state(self->window);
        json_object_set_new(state, "window", w);
    }
    json_object_set_new(state, "background", json_boolean(self->in_background));
    json_object_set_new(state, "quit_dialog", json_boolean(self->quit_dialog != NULL));
    json_object_set_new(state, "messages", stint_messages_dup_state(self->messages));
    json_object_set_new(state, "message_notifications",
                        json_pack("{s:i,s:O?}", "sent", (int)self->messages_notified, "last",
                                  self->last_message_notification));
    text = json_dumps(state, JSON_COMPACT);
    g_dbus_method_invocation_return_value(invocation, g_variant_new("(s)", text ? text : "{}"));
    free(text);
    json_decref(state);
}

static const GDBusInterfaceVTable state_vtable = {state_method_call, NULL, NULL, {0}};

static gboolean stint_application_dbus_register(GApplication *app, GDBusConnection *connection,
                                                const char *object_path, GError **error)
{
    StintApplication *self = STINT_APPLICATION(app);
    g_autoptr(GDBusNodeInfo) node = NULL;

    if (!G_APPLICATION_CLASS(stint_application_parent_class)
             ->dbus_register(app, connection, object_path, error))
        return FALSE;
    node = g_dbus_node_info_new_for_xml(state_xml, error);
    if (!node)
        return FALSE;
    self->dbus_id = g_dbus_connection_register_object(connection, object_path, node->interfaces[0],
                                                      &state_vtable, self, NULL, error);
    return self->dbus_id != 0;
}

static void stint_application_dbus_unregister(GApplication *app, GDBusConnection *connection,
                                              const char *object_path)
{
    StintApplication *self = STINT_APPLICATION(app);

    if (self->dbus_id)
        g_dbus_connection_unregister_object(connection, self->dbus_id);
    self->dbus_id = 0;
    G_APPLICATION_CLASS(stint_application_parent_class)
        ->dbus_unregister(app, connection, object_path);
}

/* ---- lifetime ---- */

static void load_css(void)
{
    g_autoptr(GtkCssProvider) css = gtk_css_provider_new();

    gtk_css_provider_load_from_resource(css, "/dev/stint/Tracker/style.css");
    gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                               GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void stint_application_startup(GApplication *app)
{
    StintApplication *self = STINT_APPLICATION(app);
    static const char *const quit_accels[] = {"<Control>q", NULL};
    static const char *const prefs_accels[] = {"<Control>comma", NULL};
    static const char *const toggle_accels[] = {"<Control>space", NULL};
    static const char *const memo_accels[] = {"<Control>m", NULL};
    static const char *const close_accels[] = {"<Control>w", NULL};

    G_APPLICATION_CLASS(stint_application_parent_class)->startup(app);
    g_action_map_add_action_entries(G_ACTION_MAP(self), app_actions, G_N_ELEMENTS(app_actions),
                                    self);
    gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.quit", quit_accels);
    gtk_application_set_accels_for_action(GTK_APPLICATION(self), "app.preferences", prefs_accels);
    gtk_application_set_accels_for_action(GTK_APPLICATION(self), "win.toggle-tracking",
                                          toggle_accels);
    gtk_application_set_accels_for_action(GTK_APPLICATION(self), "win.focus-memo", memo_accels);
    gtk_application_set_accels_for_action(GTK_APPLICATION(self), "window.close", close_accels);
    gtk_window_set_default_icon_name(STINT_APP_ID);
    load_css();

    self->session = stint_session_new();
    g_signal_connect(self->session, "engine-event", G_CALLBACK(on_engine_event), self);
    g_signal_connect(self->session, "connection-lost", G_CALLBACK(on_connection_lost), self);
    g_signal_connect(self->session, "changed", G_CALLBACK(update_action_states), self);
    stint_session_restore(self->session);
    update_action_states(self->session, self);
    self->messages = stint_messages_new(self->session);
    g_signal_connect(self->messages, "message-arrived", G_CALLBACK(on_message_arrived), self);

    self->signal_sources[0] = g_unix_signal_add(SIGINT, on_terminate, self);
    self->signal_sources[1] = g_unix_signal_add(SIGTERM, on_terminate, self);
    self->signal_sources[2] = g_unix_signal_add(SIGHUP, on_terminate, self);
    self->signal_sources[3] = g_unix_signal_add(SIGUSR1, on_usr1, self);
}

static void stint_application_shutdown(GApplication *app)
{
    StintApplication *self = STINT_APPLICATION(app);

    for (size_t i = 0; i < G_N_ELEMENTS(self->signal_sources); i++)
        g_clear_handle_id(&self->signal_sources[i], g_source_remove);
    g_clear_handle_id(&self->flush_source, g_source_remove);
    if (self->session)
        g_signal_handlers_disconnect_by_data(self->session, self);
    if (self->messages)
        g_signal_handlers_disconnect_by_data(self->messages, self);
    G_APPLICATION_CLASS(stint_application_parent_class)->shutdown(app);
    /* Before the session: it stops following it and closes the event stream. */
    g_clear_object(&self->messages);
    g_clear_pointer(&self->last_message_notification, json_decref);
    /* Last: freeing the engine stops a timer that still runs and closes the journal. */
    g_clear_object(&self->session);
}

static void stint_application_class_init(StintApplicationClass *klass)
{
    GApplicationClass *app_class = G_APPLICATION_CLASS(klass);

    app_class->activate = stint_application_activate;
    app_class->startup = stint_application_startup;
    app_class->shutdown = stint_application_shutdown;
    app_class->dbus_register = stint_application_dbus_register;
    app_class->dbus_unregister = stint_application_dbus_unregister;
}

static void stint_application_init(StintApplication *self)
{
}
