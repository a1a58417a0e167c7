/*
 * StintTimerPage (stint-timer-page.h). update() recomputes every label from
 * the session and the engine's status; it runs on every session change and
 * once a second, so no widget holds state that could go stale. The few
 * things the page remembers itself are what the user typed and the last
 * message worth a banner.
 */
#include "desktop/stint-timer-page.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "desktop/stint-activity-bars.h"
#include "desktop/stint-contract.h"

#define THUMB_W 720
#define THUMB_H 450
#define MEMO_NOTE_S 4

typedef enum {
    MESSAGE_INFO,
    MESSAGE_WARNING,
} MessageKind;

typedef enum {
    BANNER_NONE,
    BANNER_BUSY,
    BANNER_ENGINE,
    BANNER_MESSAGE,
    BANNER_SETTINGS,
} BannerKind;

struct _StintTimerPage {
    GtkWidget parent_instance;
    StintSession *session;

    GtkWidget *scroller;
    GtkRevealer *banner_revealer;
    GtkWidget *banner;
    GtkImage *banner_icon;
    GtkLabel *banner_label;
    GtkButton *banner_button;
    GtkDropDown *contract_dropdown;
    GtkWidget *no_contracts_label;
    GtkLabel *state_label;
    GtkLabel *today_label;
    GtkLabel *week_label;
    GtkLevelBar *week_level;
    GtkWidget *toggle_button;
    GtkImage *toggle_icon;
    GtkLabel *memo_hint;
    GtkEntry *memo_entry;
    GtkWidget *memo_menu_button;
    GtkPopover *memo_popover;
    GtkListBox *memo_list;
    GtkFlowBox *tags_box;
    GtkLabel *segment_label;
    StintActivityBars *bars;
    GtkLabel *activity_label;
    GtkWidget *low_activity_label;
    GtkWidget *shot_card;
    GtkLabel *shot_time_label;
    GtkStack *shot_stack;
    GtkPicture *shot_picture;
    GtkWidget *delete_button;

    gboolean updating; /* programmatic changes: handlers stay quiet */
    gboolean starting; /* a start waits for the server: the button says so */
    char *message;     /* the banner's sentence, until dismissed */
    MessageKind message_kind;
    gint64 message_until; /* an information goes by itself after a while; a warning stays */
    gboolean settings_error_dismissed;
    BannerKind banner_kind;

    char *applied_memo; /* the memo the engine has, while tracking */
    gint64 memo_note_until;
    GPtrArray *tag_buttons; /* GtkToggleButton, one per tag of the selected contract */
    char *tags_for;         /* the contract the tag buttons are for */
    GStrv memos_shown;      /* what the recent-memos list holds */
    char *memos_for;

    char *shot_loaded; /* the screenshot file the picture shows */
    GCancellable *shot_cancellable;
};

G_DEFINE_TYPE(StintTimerPage, stint_timer_page, GTK_TYPE_WIDGET)

/* ---- helpers ---- */

static StintContract *selected_contract(StintTimerPage *self)
{
    return STINT_CONTRACT(gtk_drop_down_get_selected_item(self->contract_dropdown));
}

#define INFO_SHOWN_S 12

static void set_message(StintTimerPage *self, MessageKind kind, const char *message)
{
    g_free(self->message);
    self->message = g_strdup(message);
    self->message_kind = kind;
    self->message_until =
        kind == MESSAGE_INFO ? g_get_monotonic_time() + INFO_SHOWN_S * G_USEC_PER_SEC : 0;
}

static char *format_clock(gint64 t, gboolean seconds)
{
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local(t);

    return dt ? g_date_time_format(dt, seconds ? "%H:%M:%S" : "%H:%M") : g_strdup("");
}

/* Sets a tooltip only when it changes: update() runs once a second. */
static void set_tooltip(GtkWidget *w, const char *text)
{
    const char *old = gtk_widget_get_tooltip_text(w);

    if (g_strcmp0(old, text) != 0)
        gtk_widget_set_tooltip_text(w, text);
}

static void set_css(GtkWidget *w, const char *cls, gboolean on)
{
    if (on)
        gtk_widget_add_css_class(w, cls);
    else
        gtk_widget_remove_css_class(w, cls);
}

/* The tags switched on, NULL-terminated; the strings belong to the buttons. */
static const char **selected_tags(StintTimerPage *self)
{
    GPtrArray *tags = g_ptr_array_new();

    for (guint i = 0; i < self->tag_buttons->len; i++) {
        GtkToggleButton *b = self->tag_buttons->pdata[i];
        if (gtk_toggle_button_get_active(b))
            g_ptr_array_add(tags, (gpointer)gtk_button_get_label(GTK_BUTTON(b)));
    }
    g_ptr_array_add(tags, NULL);
    return (const char **)g_ptr_array_free(tags, FALSE);
}

/* ---- the contract picker ---- */

static void set_week_text(GtkLabel *label, StintContract *c)
{
    g_autofree char *text = stint_contract_dup_week_text(c);

    gtk_label_set_label(label, text);
}

static void on_row_week_changed(StintContract *c, GParamSpec *pspec, GtkLabel *label)
{
    set_week_text(label, c);
}

static void contract_row_setup(GtkSignalListItemFactory *factory, GtkListItem *item,
                               gpointer user_data)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *title = gtk_label_new(NULL);
    GtkWidget *subtitle = gtk_label_new(NULL);
    GtkWidget *week = gtk_label_new(NULL);

    gtk_widget_add_css_class(row, "contract-row");
    gtk_label_set_xalign(GTK_LABEL(title), 0);
    gtk_label_set_ellipsize(GTK_LABEL(title), PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(title, "contract-title");
    gtk_label_set_xalign(GTK_LABEL(subtitle), 0);
    gtk_label_set_ellipsize(GTK_LABEL(subtitle), PANGO_ELLIPSIZE_END);
    gtk_widget_add_css_class(subtitle, "dim-label");
    gtk_widget_add_css_class(subtitle, "caption");
    gtk_widget_set_hexpand(text, TRUE);
    gtk_widget_set_valign(week, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(week, "numeric");
    gtk_widget_add_css_class(week, "contract-week");
    gtk_box_append(GTK_BOX(text), title);
    gtk_box_append(GTK_BOX(text), subtitle);
    gtk_box_append(GTK_BOX(row), text);
    gtk_box_append(GTK_BOX(row), week);
    gtk_list_item_set_child(item, row);
}

static void contract_row_bind(GtkSignalListItemFactory *factory, GtkListItem *item,
                              gpointer user_data)
{
    StintContract *c = gtk_list_item_get_item(item);
    GtkWidget *row = gtk_list_item_get_child(item);
    GtkWidget *text = gtk_widget_get_first_child(row);
    GtkWidget *title = gtk_widget_get_first_child(text);
    GtkWidget *subtitle = gtk_widget_get_next_sibling(title);
    GtkWidget *week = gtk_widget_get_next_sibling(text);
    g_autofree char *sub = stint_contract_dup_subtitle(c);
    gulong id;

    gtk_label_set_label(GTK_LABEL(title), stint_contract_get_title(c));
    gtk_label_set_label(GTK_LABEL(subtitle), sub);
    set_week_text(GTK_LABEL(week), c);
    id = g_signal_connect(c, "notify::week-seconds", G_CALLBACK(on_row_week_changed), week);
    g_object_set_data(G_OBJECT(item), "stint-week-handler", GSIZE_TO_POINTER(id));
}

static void contract_row_unbind(GtkSignalListItemFactory *factory, GtkListItem *item,
                                gpointer user_data)
{
    StintContract *c = gtk_list_item_get_item(item);
    gulong id = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(item), "stint-week-handler"));

    if (c && id)
        g_signal_handler_disconnect(c, id);
    g_object_set_data(G_OBJECT(item), "stint-week-handler", NULL);
}

/* ---- tags and memos of the selected contract ---- */

static void on_tag_toggled(GtkToggleButton *button, StintTimerPage *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);
    g_autoptr(GError) error = NULL;
    g_autofree const char **tags = NULL;

    if (self->updating || !engine || !stint_session_is_tracking(self->session))
        return;
    tags = selected_tags(self);
    if (!stint_engine_set_tags(engine, tags, &error)) {
        self->updating = TRUE;
        gtk_toggle_button_set_active(button, !gtk_toggle_button_get_active(button));
        self->updating = FALSE;
        set_message(self, MESSAGE_WARNING, error->message);
    }
    stint_timer_page_update(self);
}

static void rebuild_tags(StintTimerPage *self, StintContract *c)
{
    const char *const *tags = c ? stint_contract_get_tags(c) : NULL;
    const char *id = c ? stint_contract_get_id(c) : NULL;

    if (g_strcmp0(id, self->tags_for) == 0)
        return;
    g_free(self->tags_for);
    self->tags_for = g_strdup(id);
    for (guint i = 0; i < self->tag_buttons->len; i++)
        gtk_flow_box_remove(self->tags_box,
                            gtk_widget_get_parent(GTK_WIDGET(self->tag_buttons->pdata[i])));
    g_ptr_array_set_size(self->tag_buttons, 0);
    for (size_t i = 0; tags && tags[i]; i++) {
        GtkWidget *b = gtk_toggle_button_new_with_label(tags[i]);
        gtk_widget_add_css_class(b, "tag");
        g_signal_connect(b, "toggled", G_CALLBACK(on_tag_toggled), self);
        gtk_flow_box_append(self->tags_box, b);
        g_ptr_array_add(self->tag_buttons, b);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->tags_box), tags && tags[0]);
}

static void rebuild_memos(StintTimerPage *self, StintContract *c)
{
    const char *id = c ? stint_contract_get_id(c) : NULL;
    const char *const *memos = stint_session_get_recent_memos(self->session, id);
    GtkWidget *child;

    if (g_strcmp0(id, self->memos_for) == 0 && self->memos_shown &&
        g_strv_equal((const char *const *)self->memos_shown, memos))
        return;
    g_free(self->memos_for);
    self->memos_for = g_strdup(id);
    g_strfreev(self->memos_shown);
    self->memos_shown = g_strdupv((char **)memos);
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->memo_list))))
        gtk_list_box_remove(self->memo_list, child);
    for (size_t i = 0; memos[i]; i++) {
        GtkWidget *label = gtk_label_new(memos[i]);
        gtk_label_set_xalign(GTK_LABEL(label), 0);
        gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
        gtk_label_set_max_width_chars(GTK_LABEL(label), 40);
        gtk_list_box_append(self->memo_list, label);
    }
    gtk_widget_set_sensitive(self->memo_menu_button, memos[0] != NULL);
}

static void apply_memo(StintTimerPage *self)
{
    StintEngine *engine = stint_session_get_engine(self->session);
    const char *memo = gtk_editable_get_text(GTK_EDITABLE(self->memo_entry));
    g_autoptr(GError) error = NULL;

    if (!engine || !stint_session_is_tracking(self->session) ||
        g_strcmp0(memo, self->applied_memo) == 0)
        return;
    if (!stint_engine_set_memo(engine, memo, &error)) {
        set_message(self, MESSAGE_WARNING, error->message);
        gtk_widget_add_css_class(GTK_WIDGET(self->memo_entry), "error");
    } else {
        g_free(self->applied_memo);
        self->applied_memo = g_strdup(memo);
        self->memo_note_until = g_get_monotonic_time() + MEMO_NOTE_S * G_USEC_PER_SEC;
    }
    stint_timer_page_update(self);
}

static void on_memo_activate(StintTimerPage *self)
{
    if (stint_session_is_tracking(self->session))
        apply_memo(self);
    else
        gtk_widget_activate_action(GTK_WIDGET(self), "win.toggle-tracking", NULL);
}

static void on_memo_changed(StintTimerPage *self)
{
    gtk_widget_remove_css_class(GTK_WIDGET(self->memo_entry), "error");
}

static void on_memo_focus_leave(GtkEventControllerFocus *focus, StintTimerPage *self)
{
    apply_memo(self);
}

static void on_memo_row_activated(StintTimerPage *self, GtkListBoxRow *row)
{
    GtkWidget *label = gtk_list_box_row_get_child(row);

    gtk_editable_set_text(GTK_EDITABLE(self->memo_entry), gtk_label_get_label(GTK_LABEL(label)));
    gtk_popover_popdown(self->memo_popover);
    apply_memo(self);
    gtk_widget_grab_focus(GTK_WIDGET(self->memo_entry));
}

static void on_contract_selected(GtkDropDown *dropdown, GParamSpec *pspec, StintTimerPage *self)
{
    if (!self->updating)
        set_message(self, MESSAGE_INFO, NULL);
    stint_timer_page_update(self);
}

/* ---- start and stop ---- */

static void on_started(GObject *source, GAsyncResult *res, gpointer user_data)
{
    StintTimerPage *self = user_data; /* a reference, taken at the start */
    g_autoptr(GError) error = NULL;

    self->starting = FALSE;
    if (stint_session_start_finish(STINT_SESSION(source), res, &error)) {
        set_message(self, MESSAGE_INFO, NULL);
    } else if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        set_message(self, MESSAGE_WARNING, error->message);
        if (strstr(error->message, "memo")) {
            gtk_widget_add_css_class(GTK_WIDGET(self->memo_entry), "error");
            gtk_widget_grab_focus(GTK_WIDGET(self->memo_entry));
        }
    }
    stint_timer_page_update(self);
    g_object_unref(self);
}

gboolean stint_timer_page_can_toggle(StintTimerPage *self)
{
    if (!self->session)
        return FALSE;
    if (stint_session_is_tracking(self->session))
        return TRUE;
    return !self->starting && stint_session_get_engine(self->session) && selected_contract(self);
}

void stint_timer_page_toggle(StintTimerPage *self)
{
    StintContract *c = selected_contract(self);
    g_autofree char *memo = NULL;
    g_autofree const char **tags = NULL;

    if (!self->session)
        return;
    if (stint_session_is_tracking(self->session)) {
        apply_memo(self);
        stint_session_stop(self->session);
        stint_timer_page_update(self);
        return;
    }
    if (!stint_timer_page_can_toggle(self))
        return;
    /* The contract's rules, checked here first so the answer comes at once and in place. */
    memo = g_strstrip(g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->memo_entry))));
    tags = selected_tags(self);
    if (stint_contract_get_memo_required(c) && !*memo) {
        set_message(self, MESSAGE_WARNING,
                    "This contract requires a memo: say what you are working on.");
        gtk_widget_add_css_class(GTK_WIDGET(self->memo_entry), "error");
        gtk_widget_grab_focus(GTK_WIDGET(self->memo_entry));
        stint_timer_page_update(self);
        return;
    }
    if (stint_contract_get_tag_required(c) && !tags[0]) {
        set_message(self, MESSAGE_WARNING,
                    "This contract requires a tag: pick one below the memo.");
        stint_timer_page_update(self);
        return;
    }
    /*
     * The engine reads the contract's terms from the server before the timer
     * runs (cached when offline), on a worker thread: the window says
     * "Starting…" and the button waits meanwhile, but nothing freezes.
     */
    self->starting = TRUE;
    set_message(self, MESSAGE_INFO, NULL);
    g_free(self->applied_memo);
    self->applied_memo = g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->memo_entry)));
    stint_session_start_async(self->session, stint_contract_get_id(c), self->applied_memo, tags,
                              on_started, g_object_ref(self));
    stint_timer_page_update(self);
}

void stint_timer_page_focus_memo(StintTimerPage *self)
{
    gtk_widget_grab_focus(GTK_WIDGET(self->memo_entry));
}

/* ---- the screenshot ---- */

static void load_thumbnail_thread(GTask *task, gpointer source, gpointer data,
                                  GCancellable *cancellable)
{
    GError *error = NULL;
    GdkPixbuf *pb = gdk_pixbuf_new_from_file_at_scale(data, THUMB_W, THUMB_H, TRUE, &error);

    if (pb)
        g_task_return_pointer(task, pb, g_object_unref);
    else
        g_task_return_error(task, error);
}

static void on_thumbnail_loaded(GObject *source, GAsyncResult *res, gpointer user_data)
{
    StintTimerPage *self;
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkPixbuf) pb = g_task_propagate_pointer(G_TASK(res), &error);
    g_autoptr(GdkTexture) texture = NULL;

    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    self = STINT_TIMER_PAGE(source);
    if (!pb) {
        gtk_stack_set_visible_child_name(self->shot_stack, "none");
        return;
    }
    texture = gdk_texture_new_for_pixbuf(pb);
    gtk_picture_set_paintable(self->shot_picture, GDK_PAINTABLE(texture));
    gtk_stack_set_visible_child_name(self->shot_stack, "shot");
}

static void show_screenshot(StintTimerPage *self, const char *path)
{
    GTask *task;

    if (g_strcmp0(path, self->shot_loaded) == 0)
        return;
    g_free(self->shot_loaded);
    self->shot_loaded = g_strdup(path);
    g_cancellable_cancel(self->shot_cancellable);
    g_clear_object(&self->shot_cancellable);
    if (!path) {
        gtk_picture_set_paintable(self->shot_picture, NULL);
        gtk_stack_set_visible_child_name(self->shot_stack, "none");
        return;
    }
    self->shot_cancellable = g_cancellable_new();
    task = g_task_new(self, self->shot_cancellable, on_thumbnail_loaded, NULL);
    g_task_set_task_data(task, g_strdup(path), g_free);
    g_task_run_in_thread(task, load_thumbnail_thread);
    g_object_unref(task);
}

static void on_deleted(GObject *source, GAsyncResult *res, gpointer user_data)
{
    StintTimerPage *self = user_data;
    g_autoptr(GError) error = NULL;

    if (!stint_session_delete_last_segment_finish(STINT_SESSION(source), res, &error))
        set_message(self, MESSAGE_WARNING, error->message);
    else
        set_message(self, MESSAGE_INFO,
                    "The segment is deleted: its time and its screenshot are gone from the Work "
                    "Diary.");
    stint_timer_page_update(self);
    g_object_unref(self);
}

static void on_delete_response(GtkDialog *dialog, int response, StintTimerPage *self)
{
    gtk_window_destroy(GTK_WINDOW(dialog));
    if (response == GTK_RESPONSE_ACCEPT && self->session)
        stint_session_delete_last_segment_async(self->session, NULL, on_deleted,
                                                g_object_ref(self));
    g_object_unref(self);
}

static void delete_segment_activated(GtkWidget *widget, const char *action, GVariant *param)
{
    StintTimerPage *self = STINT_TIMER_PAGE(widget);
    GtkRoot *root = gtk_widget_get_root(widget);
    gint64 start = stint_session_get_last_shot_segment_start(self->session);
    g_autofree char *from = format_clock(start, FALSE);
    GtkWidget *dialog, *button;

    if (!stint_session_get_last_shot_segment(self->session))
        return;
    dialog = gtk_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                    GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                    GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "Delete this segment?");
    gtk_message_dialog_format_secondary_text(
        GTK_MESSAGE_DIALOG(dialog),
        "The segment that started at %s leaves the Work Diary for good: its time and its "
        "screenshot are deleted, and the client is not billed for it.",
        from);
    gtk_dialog_add_button(GTK_DIALOG(dialog), "Cancel", GTK_RESPONSE_CANCEL);
    button = gtk_dialog_add_button(GTK_DIALOG(dialog), "Delete Segment", GTK_RESPONSE_ACCEPT);
    gtk_widget_add_css_class(button, "destructive-action");
    gtk_dialog_set_default_response(GTK_DIALOG(dialog), GTK_RESPONSE_CANCEL);
    g_signal_connect(dialog, "response", G_CALLBACK(on_delete_response), g_object_ref(self));
    gtk_window_present(GTK_WINDOW(dialog));
}

/* ---- the banner ---- */

static void on_banner_clicked(StintTimerPage *self)
{
    switch (self->banner_kind) {
    case BANNER_BUSY:
    case BANNER_ENGINE:
        stint_session_retry_engine(self->session);
        break;
    case BANNER_SETTINGS:
        self->settings_error_dismissed = TRUE;
        break;
    default:
        set_message(self, MESSAGE_INFO, NULL);
        break;
    }
    stint_timer_page_update(self);
}

static void retry_activated(GtkWidget *widget, const char *action, GVariant *param)
{
    StintTimerPage *self = STINT_TIMER_PAGE(widget);

    stint_session_retry_engine(self->session);
}

static void update_banner(StintTimerPage *self)
{
    const char *engine_error = stint_session_get_engine_error(self->session);
    const char *settings_error = stint_session_get_settings_error(self->session);
    g_autofree char *text = NULL;
    const char *button = "Dismiss", *icon = "dialog-warning-symbolic";
    gboolean warning = TRUE;

    if (stint_session_is_busy(self->session)) {
        int pid = 0;
        const char *p = engine_error ? strstr(engine_error, "(pid ") : NULL;
        if (p)
            pid = atoi(p + 5);
        self->banner_kind = BANNER_BUSY;
        if (pid > 0)
            text = g_strdup_printf("Another stint tracker (process %d, stint track in a terminal "
                                   "or another app) is recording on this computer. Only one may "
                                   "record at a time: stop it, and this app takes over.",
                                   pid);
        else
            text = g_strdup_printf("Another stint tracker is recording on this computer (%s). "
                                   "Only one may record at a time.",
                                   engine_error);
        button = NULL;
        icon = "dialog-information-symbolic";
    } else if (engine_error) {
        self->banner_kind = BANNER_ENGINE;
        text = g_strdup_printf("The tracker cannot start: %s.", engine_error);
        button = "Try Again";
    } else if (self->message && self->message_until &&
               g_get_monotonic_time() > self->message_until) {
        set_message(self, MESSAGE_INFO, NULL);
        self->banner_kind = BANNER_NONE;
    } else if (self->message) {
        self->banner_kind = BANNER_MESSAGE;
        text = g_strdup(self->message);
        warning = self->message_kind == MESSAGE_WARNING;
        if (!warning)
            icon = "dialog-information-symbolic";
    } else if (settings_error && !self->settings_error_dismissed) {
        self->banner_kind = BANNER_SETTINGS;
        text = g_strdup_printf("tracker.conf: %s. The defaults are used until it is fixed.",
                               settings_error);
    } else {
        self->banner_kind = BANNER_NONE;
    }
    if (text) {
        /* The engine's sentences start in lowercase; a banner is a sentence. */
        text[0] = g_ascii_toupper(text[0]);
        gtk_label_set_label(self->banner_label, text);
        gtk_widget_set_visible(GTK_WIDGET(self->banner_button), button != NULL);
        if (button)
            gtk_button_set_label(self->banner_button, button);
        gtk_image_set_from_icon_name(self->banner_icon, icon);
        set_css(self->banner, "warning", warning);
    }
    gtk_revealer_set_reveal_child(self->banner_revealer, text != NULL);
}

/* ---- update ---- */

static void select_contract(StintTimerPage *self, const char *id)
{
    GListModel *model = stint_session_get_contracts(self->session);
    guint n = g_list_model_get_n_items(model);

    for (guint i = 0; i < n; i++) {
        g_autoptr(StintContract) c = g_list_model_get_item(model, i);
        if (g_strcmp0(stint_contract_get_id(c), id) == 0) {
            if (gtk_drop_down_get_selected(self->contract_dropdown) != i) {
                self->updating = TRUE;
                gtk_drop_down_set_selected(self->contract_dropdown, i);
                self->updating = FALSE;
            }
            return;
        }
    }
}

static void update_bars(StintTimerPage *self, const struct tk_status *st)
{
    g_autofree char *from = NULL, *to = NULL, *text = NULL;
    gboolean seconds = st->segment_s % 60 != 0;
    int current = -1, closed_tracked = 0, closed_input = 0;

    if (!st->running || st->segment_start <= 0 || st->segment_s <= 0) {
        stint_activity_bars_set_buckets(self->bars, NULL, -1);
        gtk_label_set_label(self->segment_label, "");
        gtk_label_set_label(self->activity_label,
                            "One bar per tenth of the segment, green with keyboard or mouse "
                            "input. Counts only, never what was typed.");
        gtk_widget_set_visible(self->low_activity_label, FALSE);
        return;
    }
    current = (int)((time(NULL) - st->segment_start) * ST_SEG_BUCKETS / st->segment_s);
    current = CLAMP(current, 0, ST_SEG_BUCKETS - 1);
    stint_activity_bars_set_buckets(self->bars, st->buckets, current);
    from = format_clock(st->segment_start, seconds);
    to = format_clock(st->segment_start + st->segment_s, seconds);
    text = g_strdup_printf("%s – %s", from, to);
    gtk_label_set_label(self->segment_label, text);
    g_free(text);
    text = g_strdup_printf("Activity %d of 10", st->activity);
    gtk_label_set_label(self->activity_label, text);
    for (int i = 0; i < current; i++) {
        if (st->buckets[i].tracked_s > 0) {
            closed_tracked++;
            closed_input +=
                st->buckets[i].keys || st->buckets[i].mouse || st->buckets[i].active_s > 0;
        }
    }
    /* A hint, not an alarm: reading and thinking are work too. */
    gtk_widget_set_visible(self->low_activity_label,
                           closed_tracked >= 4 && closed_input * 2 < closed_tracked);
}

static void update_shot(StintTimerPage *self, const struct tk_status *st)
{
    const struct tk_settings *set = stint_session_get_settings(self->session);
    const char *segment = stint_session_get_last_shot_segment(self->session);
    gboolean current = st->running && stint_session_get_last_shot_segment_start(self->session) ==
                                          st->segment_start;
    g_autofree char *at = NULL;

    gtk_widget_set_visible(self->shot_card, set->show_thumbnail);
    if (!set->show_thumbnail) {
        show_screenshot(self, NULL);
        return;
    }
    show_screenshot(self, stint_session_get_last_shot_path(self->session));
    if (segment) {
        at = format_clock(stint_session_get_last_shot_at(self->session), st->segment_s % 60 != 0);
        gtk_label_set_label(self->shot_time_label, at);
    } else {
        gtk_label_set_label(self->shot_time_label, "");
    }
    gtk_widget_set_visible(self->delete_button, segment != NULL);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "page.delete-segment", segment && !current);
    set_tooltip(self->delete_button, current ? "This segment is still being recorded: it can be "
                                               "deleted once it ends."
                                             : "Remove this segment's time and screenshot from the "
                                               "Work Diary");
}

void stint_timer_page_update(StintTimerPage *self)
{
    StintEngine *engine;
    StintContract *c;
    struct tk_status st = {0};
    gboolean tracking;
    gint64 today, week, limit;
    g_autofree char *text = NULL, *week_text = NULL, *limit_text = NULL;
    guint n;

    if (!self->session)
        return;
    engine = stint_session_get_engine(self->session);
    if (engine)
        stint_engine_get_status(engine, &st);
    tracking = st.running;
    if (tracking)
        select_contract(self, st.contract_id);
    c = selected_contract(self);
    n = g_list_model_get_n_items(stint_session_get_contracts(self->session));

    gtk_widget_set_sensitive(GTK_WIDGET(self->contract_dropdown),
                             !tracking && !self->starting && n > 0);
    gtk_widget_set_visible(self->no_contracts_label,
                           stint_session_contracts_loaded(self->session) && n == 0);
    rebuild_tags(self, c);
    rebuild_memos(self, c);

    /* Today and this week: the engine's figures for its contract include what is not uploaded. */
    /*
     * The engine's figures for its contract also count what is not uploaded;
     * with nothing queued the server's own (refreshed after a delete) are as good.
     */
    if (c && engine && g_strcmp0(st.contract_id, stint_contract_get_id(c)) == 0 &&
        (st.running || (st.totals_known && st.queued > 0) ||
         stint_session_get_today_seconds(self->session, stint_contract_get_id(c)) < 0)) {
        today = st.today_s;
        week = st.week_s;
    } else {
        today = c ? stint_session_get_today_seconds(self->session, stint_contract_get_id(c)) : 0;
        week = c ? stint_contract_get_week_seconds(c) : 0;
    }
    /* While the timer runs the seconds tick too, so it is plain that it runs. */
    if (tracking)
        text = g_strdup_printf("%" G_GINT64_FORMAT ":%02d:%02d", today / 3600,
                               (int)(today % 3600 / 60), (int)(today % 60));
    else
        text = stint_format_duration(MAX(today, 0));
    gtk_label_set_label(self->today_label, text);
    limit = c ? stint_contract_get_weekly_limit(c) : -1;
    week_text = stint_format_duration(MAX(week, 0));
    if (!c) {
        gtk_label_set_label(self->week_label, "–");
    } else if (limit >= 0) {
        limit_text = stint_format_duration(limit);
        g_free(text);
        text = g_strdup_printf("%s of %s h", week_text, limit_text);
        gtk_label_set_label(self->week_label, text);
        gtk_level_bar_set_value(self->week_level,
                                limit > 0 ? CLAMP((double)MAX(week, 0) / (double)limit, 0, 1) : 1);
    } else {
        g_free(text);
        text = g_strdup_printf("%s h (no limit)", week_text);
        gtk_label_set_label(self->week_label, text);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->week_level), limit > 0);
    set_css(GTK_WIDGET(self->week_label), "over", limit >= 0 && week >= limit);

    /* The state line and the big button. */
    g_free(text);
    if (tracking && st.idle_prompt) {
        g_autofree char *since = format_clock(st.idle_since, FALSE);
        text = g_strdup_printf("Idle since %s", since);
    } else if (tracking) {
        g_autofree char *since = format_clock(st.run_started, FALSE);
        text = g_strdup_printf("Tracking since %s", since);
    } else if (self->starting) {
        text = g_strdup("Starting…");
    } else if (stint_session_is_busy(self->session)) {
        text = g_strdup("Another tracker is running");
    } else {
        text = g_strdup("Not tracking");
    }
    gtk_label_set_label(self->state_label, text);
    set_css(GTK_WIDGET(self->state_label), "tracking", tracking && !st.idle_prompt);
    set_css(GTK_WIDGET(self->state_label), "idle", tracking && st.idle_prompt);
    set_css(self->toggle_button, "start", !tracking);
    set_css(self->toggle_button, "stop", tracking);
    {
        const char *icon =
            tracking ? "media-playback-stop-symbolic" : "media-playback-start-symbolic";
        if (g_strcmp0(gtk_image_get_icon_name(self->toggle_icon), icon) != 0)
            gtk_image_set_from_icon_name(self->toggle_icon, icon);
    }
    set_tooltip(self->toggle_button,
                tracking ? "Stop the timer (Ctrl+Space)" : "Start the timer (Ctrl+Space)");

    /* The memo's hint: required or not, or that a change was taken. */
    if (g_get_monotonic_time() < self->memo_note_until)
        gtk_label_set_label(self->memo_hint, "updated: applies from this segment on");
    else
        gtk_label_set_label(self->memo_hint, !c                                    ? ""
                                             : stint_contract_get_memo_required(c) ? "required"
                                                                                   : "optional");

    update_bars(self, &st);
    update_shot(self, &st);
    update_banner(self);
}

void stint_timer_page_engine_event(StintTimerPage *self, const struct tk_event *ev)
{
    g_autofree char *text = NULL;

    switch (ev->type) {
    case TK_EVENT_LIMIT:
    case TK_EVENT_QUOTA:
    case TK_EVENT_REFUSED:
        set_message(self, MESSAGE_WARNING, ev->message);
        break;
    case TK_EVENT_SCREENSHOT:
        if (!ev->path) {
            text = g_strdup_printf("No screenshot for this segment: %s. It is marked so in the "
                                   "Work Diary; nothing is faked.",
                                   ev->message ? ev->message : "the capture failed");
            set_message(self, MESSAGE_INFO, text);
        }
        break;
    case TK_EVENT_STOPPED:
        if (ev->reason != TK_STOP_USER) {
            text = g_strdup_printf("The timer stopped: %s.", ev->message ? ev->message : "");
            set_message(self, MESSAGE_WARNING, text);
        }
        break;
    default:
        break;
    }
    stint_timer_page_update(self);
}

/* ---- state for tests ---- */

json_t *stint_timer_page_dup_state(StintTimerPage *self)
{
    StintContract *c = selected_contract(self);
    g_autofree const char **tags = selected_tags(self);
    json_t *tag_list = json_array();

    for (size_t i = 0; tags[i]; i++)
        json_array_append_new(tag_list, json_string(tags[i]));
    return json_pack(
        "{s:s?,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:b,s:b,s:s?,s:b,s:b,s:s,s:b,s:s,s:b,s:b}",
        "contract_id", c ? stint_contract_get_id(c) : NULL, "state",
        gtk_label_get_label(self->state_label), "today", gtk_label_get_label(self->today_label),
        "week", gtk_label_get_label(self->week_label), "memo",
        gtk_editable_get_text(GTK_EDITABLE(self->memo_entry)), "memo_hint",
        gtk_label_get_label(self->memo_hint), "tags", tag_list, "bars",
        stint_activity_bars_dup_state(self->bars), "shot_card_visible",
        gtk_widget_get_visible(self->shot_card), "shot_shown",
        gtk_widget_get_visible(self->shot_card) &&
            g_strcmp0(gtk_stack_get_visible_child_name(self->shot_stack), "shot") == 0,
        "banner",
        gtk_revealer_get_reveal_child(self->banner_revealer)
            ? gtk_label_get_label(self->banner_label)
            : NULL,
        "low_activity", gtk_widget_get_visible(self->low_activity_label), "can_toggle",
        stint_timer_page_can_toggle(self), "segment", gtk_label_get_label(self->segment_label),
        "delete_enabled",
        gtk_widget_get_visible(self->delete_button) && gtk_widget_is_sensitive(self->delete_button),
        "activity_text", gtk_label_get_label(self->activity_label), "starting", self->starting,
        "toggle_sensitive", gtk_widget_is_sensitive(self->toggle_button));
}

/* ---- lifetime ---- */

static void on_session_changed(StintSession *session, StintTimerPage *self)
{
    stint_timer_page_update(self);
}

static void on_contracts_changed(GListModel *model, guint position, guint removed, guint added,
                                 StintTimerPage *self)
{
    stint_timer_page_update(self);
}

void stint_timer_page_set_session(StintTimerPage *self, StintSession *session)
{
    g_set_object(&self->session, session);
    gtk_drop_down_set_model(self->contract_dropdown, stint_session_get_contracts(session));
    g_signal_connect_object(session, "changed", G_CALLBACK(on_session_changed), self, 0);
    g_signal_connect_object(stint_session_get_contracts(session), "items-changed",
                            G_CALLBACK(on_contracts_changed), self, 0);
    stint_timer_page_update(self);
}

static void stint_timer_page_dispose(GObject *object)
{
    StintTimerPage *self = STINT_TIMER_PAGE(object);

    if (self->shot_cancellable)
        g_cancellable_cancel(self->shot_cancellable);
    g_clear_object(&self->shot_cancellable);
    g_clear_object(&self->session);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_TIMER_PAGE);
    G_OBJECT_CLASS(stint_timer_page_parent_class)->dispose(object);
}

static void stint_timer_page_finalize(GObject *object)
{
    StintTimerPage *self = STINT_TIMER_PAGE(object);

    g_free(self->message);
    g_free(self->applied_memo);
    g_ptr_array_unref(self->tag_buttons);
    g_free(self->tags_for);
    g_strfreev(self->memos_shown);
    g_free(self->memos_for);
    g_free(self->shot_loaded);
    G_OBJECT_CLASS(stint_timer_page_parent_class)->finalize(object);
}

static void stint_timer_page_class_init(StintTimerPageClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_timer_page_dispose;
    G_OBJECT_CLASS(klass)->finalize = stint_timer_page_finalize;
    g_type_ensure(STINT_TYPE_ACTIVITY_BARS);
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/dev/stint/Tracker/stint-timer-page.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, StintTimerPage, name)
    BIND(scroller);
    BIND(banner_revealer);
    BIND(banner);
    BIND(banner_icon);
    BIND(banner_label);
    BIND(banner_button);
    BIND(contract_dropdown);
    BIND(no_contracts_label);
    BIND(state_label);
    BIND(today_label);
    BIND(week_label);
    BIND(week_level);
    BIND(toggle_button);
    BIND(toggle_icon);
    BIND(memo_hint);
    BIND(memo_entry);
    BIND(memo_menu_button);
    BIND(memo_popover);
    BIND(memo_list);
    BIND(tags_box);
    BIND(segment_label);
    BIND(bars);
    BIND(activity_label);
    BIND(low_activity_label);
    BIND(shot_card);
    BIND(shot_time_label);
    BIND(shot_stack);
    BIND(shot_picture);
    BIND(delete_button);
#undef BIND
    gtk_widget_class_bind_template_callback(widget_class, on_banner_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_memo_activate);
    gtk_widget_class_bind_template_callback(widget_class, on_memo_changed);
    gtk_widget_class_bind_template_callback(widget_class, on_memo_row_activated);
    gtk_widget_class_install_action(widget_class, "page.delete-segment", NULL,
                                    delete_segment_activated);
    gtk_widget_class_install_action(widget_class, "page.retry", NULL, retry_activated);
}

static void stint_timer_page_init(StintTimerPage *self)
{
    GtkListItemFactory *factory;
    GtkEventController *focus;

    gtk_widget_init_template(GTK_WIDGET(self));
    self->tag_buttons = g_ptr_array_new();

    factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(contract_row_setup), self);
    g_signal_connect(factory, "bind", G_CALLBACK(contract_row_bind), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(contract_row_unbind), self);
    gtk_drop_down_set_factory(self->contract_dropdown, factory);
    g_object_unref(factory);
    g_signal_connect(self->contract_dropdown, "notify::selected", G_CALLBACK(on_contract_selected),
                     self);

    focus = gtk_event_controller_focus_new();
    g_signal_connect(focus, "leave", G_CALLBACK(on_memo_focus_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self->memo_entry), focus);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "page.delete-segment", FALSE);
}
