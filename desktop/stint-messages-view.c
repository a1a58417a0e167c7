/*
 * StintMessagesView (stint-messages-view.h): the widgets of the Messages
 * page: rows for rooms and messages are rebuilt from StintMessages when it
 * says something changed (a thread is at most a few pages; rebuilding is
 * cheaper than it is clever). User text is never parsed as markup: it is
 * escaped, and only http(s) links become <a> elements (stint-text.h).
 */
#include "desktop/stint-messages-view.h"

#include <string.h>

#include "desktop/stint-text.h"

#define GROUP_GAP_S (5 * 60)
#define TYPING_SHOWN_S 4
#define BOTTOM_SLACK 40.0

struct _StintMessagesView {
    GtkWidget parent_instance;
    StintMessages *messages;
    GCancellable *cancellable;
    char *room_id;
    GFile *attachment;
    char *sending_text;
    gboolean sending;
    gboolean stick_bottom;
    guint scroll_tick;
    GtkWindow *watched_root;
    guint typing_source;
    char *typing_name;

    GtkStack *nav;
    GtkLabel *connection_label;
    GtkStack *rooms_stack;
    GtkListBox *rooms_list;
    GtkLabel *empty_title;
    GtkLabel *empty_text;
    GtkLabel *room_title;
    GtkLabel *room_subtitle;
    GtkScrolledWindow *thread_scroller;
    GtkButton *older_button;
    GtkLabel *thread_placeholder;
    GtkListBox *thread_list;
    GtkRevealer *notice_revealer;
    GtkLabel *notice_label;
    GtkWidget *attachment_box;
    GtkLabel *attachment_label;
    GtkWidget *attach_button;
    GtkEntry *composer_entry;
    GtkStack *send_stack;
    GtkSpinner *send_spinner;
};

G_DEFINE_TYPE(StintMessagesView, stint_messages_view, GTK_TYPE_WIDGET)

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void remove_all(GtkListBox *list)
{
    GtkWidget *child;

    while ((child = gtk_widget_get_first_child(GTK_WIDGET(list))))
        gtk_list_box_remove(list, child);
}

/* ---- text ---- */

static GDateTime *local_time(const char *stamp)
{
    g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
    g_autoptr(GDateTime) t = stamp ? g_date_time_new_from_iso8601(stamp, utc) : NULL;

    return t ? g_date_time_to_local(t) : NULL;
}

static int days_ago(GDateTime *t)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    int y1, m1, d1, y2, m2, d2;
    g_autoptr(GDateTime) a = NULL;
    g_autoptr(GDateTime) b = NULL;

    g_date_time_get_ymd(now, &y1, &m1, &d1);
    g_date_time_get_ymd(t, &y2, &m2, &d2);
    a = g_date_time_new_utc(y1, m1, d1, 0, 0, 0);
    b = g_date_time_new_utc(y2, m2, d2, 0, 0, 0);
    return (int)(g_date_time_difference(a, b) / G_TIME_SPAN_DAY);
}

/* A room's last activity: the clock today, else the date. */
static char *short_when(const char *stamp)
{
    g_autoptr(GDateTime) t = local_time(stamp);
    int days;

    if (!t)
        return g_strdup("");
    days = days_ago(t);
    if (days == 0)
        return g_date_time_format(t, "%H:%M");
    if (days == 1)
        return g_strdup("Yesterday");
    if (days > 1 && days < 7)
        return g_date_time_format(t, "%a");
    return g_date_time_format(t, "%b %-d");
}

static char *day_title(GDateTime *t)
{
    int days = days_ago(t);
    g_autoptr(GDateTime) now = g_date_time_new_now_local();

    if (days == 0)
        return g_strdup("Today");
    if (days == 1)
        return g_strdup("Yesterday");
    if (g_date_time_get_year(t) == g_date_time_get_year(now))
        return g_date_time_format(t, "%A, %B %-d");
    return g_date_time_format(t, "%A, %B %-d, %Y");
}

/* Whether markup is well-formed, as GtkLabel's own parser of <a> wants it. */
static gboolean well_formed(const char *markup)
{
    static const GMarkupParser none = {NULL, NULL, NULL, NULL, NULL};
    g_autofree char *doc = g_strconcat("<markup>", markup, "</markup>", NULL);
    GMarkupParseContext *ctx = g_markup_parse_context_new(&none, 0, NULL, NULL);
    gboolean ok = g_markup_parse_context_parse(ctx, doc, -1, NULL) &&
                  g_markup_parse_context_end_parse(ctx, NULL);

    g_markup_parse_context_free(ctx);
    return ok;
}

/*
 * Shows text with its links. Checked before use, so a surprise can only ever
 * show the text as it is (then without links: links is emptied).
 */
static void set_text_with_links(GtkLabel *label, const char *text, GPtrArray *links)
{
    g_autofree char *markup = stint_text_linkify(text, links);

    if (links->len > 0 && well_formed(markup)) {
        gtk_label_set_markup(label, markup);
    } else {
        gtk_label_set_text(label, text);
        g_ptr_array_set_size(links, 0);
    }
}

static char *initials(const char *title)
{
    GString *out = g_string_new(NULL);
    int n = 0;
    gboolean word_start = TRUE;

    for (const char *p = title ? title : ""; *p && n < 2; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_isalnum(c)) {
            if (word_start) {
                g_string_append_unichar(out, g_unichar_toupper(c));
                n++;
            }
            word_start = FALSE;
        } else {
            word_start = TRUE;
        }
    }
    if (n == 0)
        g_string_append_c(out, '#');
    return g_string_free(out, FALSE);
}

/* ---- the room list ---- */

static GtkWidget *label_new(const char *text, const char *const *classes)
{
    GtkWidget *label = gtk_label_new(text);

    gtk_label_set_xalign(GTK_LABEL(label), 0);
    for (; classes && *classes; classes++)
        gtk_widget_add_css_class(label, *classes);
    return label;
}

static GtkWidget *room_row(StintMessagesView *self, json_t *room)
{
    const char *id = str(room, "id");
    const char *title = str(room, "title");
    const char *preview = stint_messages_get_preview(self->messages, id);
    json_int_t unread = json_integer_value(json_object_get(room, "unread"));
    gboolean archived = json_is_true(json_object_get(room, "archived"));
    const char *at = str(room, "last_message_at");
    g_autofree char *when = short_when(at ? at : str(room, "created_at"));
    g_autofree char *ini = initials(title);
    g_autofree char *avatar_class = g_strdup_printf("avatar-%u", g_str_hash(id) % 6);
    g_autofree char *badge_text = NULL;
    GtkWidget *row = gtk_list_box_row_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
    GtkWidget *avatar = gtk_label_new(ini);
    GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *top = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *bottom = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *title_label = label_new(title ? title : "", (const char *[]){"room-title", NULL});
    GtkWidget *when_label = label_new(when, (const char *[]){"caption", "room-when", NULL});
    GtkWidget *preview_label = label_new(archived  ? "Archived"
                                         : preview ? preview
                                         : at      ? ""
                                                   : "No messages yet",
                                         (const char *[]){"caption", "room-preview", NULL});
    GtkWidget *badge = NULL;

    gtk_widget_add_css_class(box, "room-row");
    gtk_widget_add_css_class(avatar, "room-avatar");
    gtk_widget_add_css_class(avatar, avatar_class);
    gtk_widget_set_valign(avatar, GTK_ALIGN_CENTER);
    gtk_widget_set_valign(text, GTK_ALIGN_CENTER);
    gtk_widget_set_hexpand(text, TRUE);
    gtk_label_set_ellipsize(GTK_LABEL(title_label), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(title_label, TRUE);
    gtk_label_set_ellipsize(GTK_LABEL(preview_label), PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(preview_label, TRUE);
    gtk_box_append(GTK_BOX(top), title_label);
    gtk_box_append(GTK_BOX(top), when_label);
    gtk_box_append(GTK_BOX(bottom), preview_label);
    if (unread > 0) {
        badge_text = unread > 99 ? g_strdup("99+") : g_strdup_printf("%d", (int)unread);
        badge = gtk_label_new(badge_text);
        gtk_widget_add_css_class(badge, "unread-badge");
        gtk_widget_add_css_class(title_label, "unread");
        gtk_widget_add_css_class(when_label, "unread");
        gtk_widget_add_css_class(preview_label, "unread");
        gtk_box_append(GTK_BOX(bottom), badge);
    }
    if (archived)
        gtk_widget_add_css_class(box, "archived");
    gtk_box_append(GTK_BOX(text), top);
    gtk_box_append(GTK_BOX(text), bottom);
    gtk_box_append(GTK_BOX(box), avatar);
    gtk_box_append(GTK_BOX(box), text);
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
    g_object_set_data_full(G_OBJECT(row), "room-id", g_strdup(id), g_free);
    g_object_set_data_full(G_OBJECT(row), "state",
                           json_pack("{s:s,s:s,s:s,s:s,s:s?}", "id", id, "title",
                                     gtk_label_get_text(GTK_LABEL(title_label)), "preview",
                                     gtk_label_get_text(GTK_LABEL(preview_label)), "time", when,
                                     "unread", badge_text),
                           (GDestroyNotify)json_decref);
    return row;
}

static void update_rooms(StintMessagesView *self)
{
    json_t *rooms = stint_messages_get_rooms(self->messages);
    gboolean connected = stint_messages_is_connected(self->messages);
    gboolean loaded = stint_messages_rooms_loaded(self->messages);
    json_t *room;
    size_t i;

    remove_all(self->rooms_list);
    json_array_foreach(rooms, i, room)
    {
        if (str(room, "id"))
            gtk_list_box_append(self->rooms_list, room_row(self, room));
    }
    if (json_array_size(rooms) > 0) {
        gtk_stack_set_visible_child_name(self->rooms_stack, "list");
    } else {
        gtk_label_set_label(self->empty_title,
                            loaded ? "No conversations yet" : "Connecting to the server…");
        gtk_label_set_label(self->empty_text,
                            loaded ? "Each contract has a room for you and your client. Rooms "
                                     "show here as soon as there is one."
                                   : "Your rooms show here once the server answers.");
        gtk_stack_set_visible_child_name(self->rooms_stack, "empty");
    }
    gtk_label_set_label(self->connection_label, connected ? "" : "Offline · reconnecting");
    gtk_widget_set_visible(GTK_WIDGET(self->connection_label), !connected && loaded);
}

/* ---- the thread ---- */

static void on_save_response(GtkNativeDialog *dialog, int response, StintMessagesView *self);

static void on_save_clicked(GtkButton *button, StintMessagesView *self)
{
    json_t *file = g_object_get_data(G_OBJECT(button), "file");
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkFileChooserNative *chooser;
    g_autofree char *name = g_strdup(str(file, "name"));

    chooser =
        gtk_file_chooser_native_new("Save File", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                    GTK_FILE_CHOOSER_ACTION_SAVE, "_Save", "_Cancel");
    if (name) {
        g_strdelimit(name, "/\\", '_');
        gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(chooser), name);
    }
    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
    g_object_set_data_full(G_OBJECT(chooser), "file", json_incref(file),
                           (GDestroyNotify)json_decref);
    g_signal_connect(chooser, "response", G_CALLBACK(on_save_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

static GtkWidget *file_box(StintMessagesView *self, json_t *file)
{
    const char *type = str(file, "type");
    json_int_t size = json_integer_value(json_object_get(file, "size"));
    g_autofree char *size_text = g_format_size(size > 0 ? (guint64)size : 0);
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 10);
    GtkWidget *icon = gtk_image_new_from_icon_name(type && g_str_has_prefix(type, "image/")
                                                       ? "image-x-generic-symbolic"
                                                       : "text-x-generic-symbolic");
    GtkWidget *text = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *name = label_new(str(file, "name"), (const char *[]){"file-name", NULL});
    GtkWidget *meta = label_new(size_text, (const char *[]){"caption", "dim-label", NULL});
    GtkWidget *save = gtk_button_new_from_icon_name("document-save-symbolic");

    gtk_widget_add_css_class(box, "message-file");
    gtk_widget_set_halign(box, GTK_ALIGN_START);
    gtk_image_set_pixel_size(GTK_IMAGE(icon), 24);
    gtk_widget_add_css_class(icon, "file-icon");
    gtk_label_set_ellipsize(GTK_LABEL(name), PANGO_ELLIPSIZE_MIDDLE);
    gtk_label_set_max_width_chars(GTK_LABEL(name), 28);
    gtk_widget_set_valign(text, GTK_ALIGN_CENTER);
    gtk_box_append(GTK_BOX(text), name);
    gtk_box_append(GTK_BOX(text), meta);
    gtk_widget_set_tooltip_text(save, "Save…");
    gtk_widget_set_valign(save, GTK_ALIGN_CENTER);
    gtk_widget_add_css_class(save, "flat");
    gtk_widget_add_css_class(save, "circular");
    g_object_set_data_full(G_OBJECT(save), "file", json_incref(file), (GDestroyNotify)json_decref);
    g_signal_connect(save, "clicked", G_CALLBACK(on_save_clicked), self);
    gtk_box_append(GTK_BOX(box), icon);
    gtk_box_append(GTK_BOX(box), text);
    gtk_box_append(GTK_BOX(box), save);
    return box;
}

static GtkWidget *day_row(GDateTime *t)
{
    g_autofree char *title = day_title(t);
    GtkWidget *row = gtk_list_box_row_new();
    GtkWidget *label = gtk_label_new(title);

    gtk_widget_add_css_class(label, "day-separator");
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), label);
    gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
    return row;
}

static GtkWidget *message_row(StintMessagesView *self, json_t *msg, GDateTime *t,
                              gboolean with_header)
{
    json_t *author = json_object_get(msg, "author");
    const char *name = str(author, "name");
    gboolean own = g_strcmp0(str(author, "id"), stint_messages_get_user_id(self->messages)) == 0;
    gboolean deleted = json_is_true(json_object_get(msg, "deleted"));
    gboolean edited = !deleted && str(msg, "edited_at") != NULL;
    const char *text = str(msg, "text");
    json_t *files = json_object_get(msg, "files");
    g_autofree char *clock = t ? g_date_time_format(t, "%H:%M") : g_strdup("");
    GtkWidget *row = gtk_list_box_row_new();
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 3);
    GtkWidget *text_label = NULL;
    json_t *file;
    json_t *file_state = json_array();
    json_t *link_state = json_array();
    g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func(g_free);
    size_t i;

    gtk_widget_add_css_class(box, "message");
    if (own)
        gtk_widget_add_css_class(box, "own");
    if (with_header) {
        GtkWidget *head = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
        GtkWidget *who =
            label_new(name ? name : "Someone", (const char *[]){"message-author", NULL});
        GtkWidget *when = label_new(clock, (const char *[]){"caption", "dim-label", NULL});
        gtk_label_set_ellipsize(GTK_LABEL(who), PANGO_ELLIPSIZE_END);
        gtk_box_append(GTK_BOX(head), who);
        gtk_box_append(GTK_BOX(head), when);
        gtk_box_append(GTK_BOX(box), head);
        gtk_widget_add_css_class(box, "first");
    }
    if (deleted) {
        text_label =
            label_new("This message was deleted", (const char *[]){"message-deleted", NULL});
        gtk_box_append(GTK_BOX(box), text_label);
    } else if (text && *text) {
        text_label = label_new(NULL, (const char *[]){"message-text", NULL});
        gtk_label_set_wrap(GTK_LABEL(text_label), TRUE);
        gtk_label_set_wrap_mode(GTK_LABEL(text_label), PANGO_WRAP_WORD_CHAR);
        gtk_label_set_selectable(GTK_LABEL(text_label), TRUE);
        gtk_widget_set_can_focus(text_label, FALSE);
        set_text_with_links(GTK_LABEL(text_label), text, links);
        gtk_box_append(GTK_BOX(box), text_label);
    }
    if (edited) {
        GtkWidget *mark = label_new("edited", (const char *[]){"caption", "dim-label", NULL});
        gtk_widget_set_tooltip_text(mark, "This message was edited");
        gtk_box_append(GTK_BOX(box), mark);
    }
    json_array_foreach(deleted ? NULL : files, i, file)
    {
        gtk_box_append(GTK_BOX(box), file_box(self, file));
        json_array_append_new(file_state,
                              json_pack("{s:s?,s:s?,s:O?}", "id", str(file, "id"), "name",
                                        str(file, "name"), "size", json_object_get(file, "size")));
    }
    for (guint k = 0; k < links->len; k++)
        json_array_append_new(link_state, json_string(g_ptr_array_index(links, k)));
    gtk_list_box_row_set_child(GTK_LIST_BOX_ROW(row), box);
    gtk_list_box_row_set_activatable(GTK_LIST_BOX_ROW(row), FALSE);
    gtk_widget_set_focusable(row, FALSE);
    g_object_set_data_full(G_OBJECT(row), "state",
                           json_pack("{s:s?,s:s?,s:s,s:s,s:b,s:b,s:b,s:o,s:o}", "id",
                                     str(msg, "id"), "author", name, "time", clock, "text",
                                     text_label ? gtk_label_get_text(GTK_LABEL(text_label)) : "",
                                     "own", own, "edited", edited, "deleted", deleted, "files",
                                     file_state, "links", link_state),
                           (GDestroyNotify)json_decref);
    return row;
}

static void update_thread(StintMessagesView *self)
{
    json_t *thread = stint_messages_get_thread(self->messages, self->room_id);
    const char *error = stint_messages_get_thread_error(self->messages, self->room_id);
    json_t *msg, *prev = NULL;
    size_t i;
    g_autoptr(GDateTime) prev_t = NULL;

    remove_all(self->thread_list);
    json_array_foreach(thread, i, msg)
    {
        GDateTime *t = local_time(str(msg, "created_at"));
        gboolean new_day = !prev_t || (t && days_ago(prev_t) != days_ago(t));
        gboolean header =
            new_day || !prev || json_is_true(json_object_get(prev, "deleted")) ||
            g_strcmp0(str(json_object_get(prev, "author"), "id"),
                      str(json_object_get(msg, "author"), "id")) != 0 ||
            (t && prev_t && g_date_time_difference(t, prev_t) > GROUP_GAP_S * G_TIME_SPAN_SECOND);
        if (new_day && t)
            gtk_list_box_append(self->thread_list, day_row(t));
        gtk_list_box_append(self->thread_list, message_row(self, msg, t, header));
        prev = msg;
        g_clear_pointer(&prev_t, g_date_time_unref);
        prev_t = t;
    }
    gtk_widget_set_visible(GTK_WIDGET(self->older_button),
                           stint_messages_has_older(self->messages, self->room_id));
    gtk_widget_set_sensitive(GTK_WIDGET(self->older_button),
                             !stint_messages_is_loading(self->messages, self->room_id));
    if (!thread)
        gtk_label_set_label(self->thread_placeholder, error ? error : "Loading the conversation…");
    else if (json_array_size(thread) == 0)
        gtk_label_set_label(self->thread_placeholder, "No messages yet. Say hello!");
    gtk_widget_set_visible(GTK_WIDGET(self->thread_placeholder),
                           !thread || json_array_size(thread) == 0);
}

static void update_header(StintMessagesView *self)
{
    json_t *room = stint_messages_find_room(self->messages, self->room_id);
    json_t *members = json_object_get(room, "members");
    const char *me = stint_messages_get_user_id(self->messages);
    g_autoptr(GString) others = g_string_new(NULL);
    json_t *m;
    size_t i;
    int n = 0;

    gtk_label_set_label(self->room_title, room ? str(room, "title") : "");
    if (self->typing_name) {
        g_autofree char *t = g_strdup_printf("%s is typing…", self->typing_name);
        gtk_label_set_label(self->room_subtitle, t);
        return;
    }
    json_array_foreach(members, i, m)
    {
        if (g_strcmp0(str(m, "user_id"), me) == 0 || !str(m, "name"))
            continue;
        if (n++ < 3)
            g_string_append_printf(others, "%s%s", others->len ? ", " : "", str(m, "name"));
    }
    if (n > 3)
        g_string_append_printf(others, " and %d more", n - 3);
    if (!room)
        gtk_label_set_label(self->room_subtitle, "This room is no longer yours");
    else if (json_is_true(json_object_get(room, "archived")))
        gtk_label_set_label(self->room_subtitle, "Archived");
    else if (others->len) {
        g_autofree char *t = g_strdup_printf("with %s", others->str);
        gtk_label_set_label(self->room_subtitle, t);
    } else
        gtk_label_set_label(self->room_subtitle, "Only you");
    gtk_widget_set_sensitive(GTK_WIDGET(self->composer_entry),
                             room && !json_is_true(json_object_get(room, "archived")));
}

static gboolean is_seen(StintMessagesView *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));

    return self->room_id && gtk_widget_get_mapped(GTK_WIDGET(self)) &&
           g_strcmp0(gtk_stack_get_visible_child_name(self->nav), "thread") == 0 &&
           GTK_IS_WINDOW(root) && gtk_window_is_active(GTK_WINDOW(root));
}

static void maybe_mark_read(StintMessagesView *self)
{
    if (is_seen(self))
        stint_messages_mark_read(self->messages, self->room_id);
}

/* ---- the composer's notices ---- */

static void show_notice(StintMessagesView *self, const char *text, gboolean error)
{
    if (!text) {
        gtk_revealer_set_reveal_child(self->notice_revealer, FALSE);
        return;
    }
    gtk_label_set_label(self->notice_label, text);
    if (error)
        gtk_widget_add_css_class(GTK_WIDGET(self->notice_label), "error");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self->notice_label), "error");
    gtk_revealer_set_reveal_child(self->notice_revealer, TRUE);
}

/* ---- model signals ---- */

static void on_changed(StintMessages *messages, StintMessagesView *self)
{
    update_rooms(self);
    if (self->room_id) {
        update_header(self);
        /* The room went away (removed from it): back to the list. */
        if (!stint_messages_find_room(messages, self->room_id) &&
            stint_messages_rooms_loaded(messages))
            stint_messages_view_open_room(self, NULL);
    }
}

static void on_thread_changed(StintMessages *messages, const char *room_id, StintMessagesView *self)
{
    if (g_strcmp0(room_id, self->room_id) != 0)
        return;
    update_thread(self);
    maybe_mark_read(self);
}

static gboolean typing_over(gpointer user_data)
{
    StintMessagesView *self = user_data;

    self->typing_source = 0;
    g_clear_pointer(&self->typing_name, g_free);
    if (self->room_id)
        update_header(self);
    return G_SOURCE_REMOVE;
}

static void on_typing(StintMessages *messages, const char *room_id, const char *name,
                      StintMessagesView *self)
{
    if (g_strcmp0(room_id, self->room_id) != 0)
        return;
    g_free(self->typing_name);
    self->typing_name = g_strdup(name);
    g_clear_handle_id(&self->typing_source, g_source_remove);
    self->typing_source = g_timeout_add_seconds(TYPING_SHOWN_S, typing_over, self);
    update_header(self);
}

/* ---- scrolling: a thread sticks to its newest message unless the user scrolled up ---- */

static gboolean scroll_to_bottom(GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
    StintMessagesView *self = STINT_MESSAGES_VIEW(widget);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(self->thread_scroller);

    self->scroll_tick = 0;
    if (self->stick_bottom)
        gtk_adjustment_set_value(adj,
                                 gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj));
    return G_SOURCE_REMOVE;
}

/*
 * The viewport says its new size while it allocates, after it placed the
 * content: the scroll waits for the next frame, or it would not be seen.
 */
static void on_adjustment_grew(GtkAdjustment *adj, GParamSpec *pspec, StintMessagesView *self)
{
    if (self->stick_bottom && !self->scroll_tick)
        self->scroll_tick =
            gtk_widget_add_tick_callback(GTK_WIDGET(self), scroll_to_bottom, NULL, NULL);
}

static void on_adjustment_moved(GtkAdjustment *adj, StintMessagesView *self)
{
    self->stick_bottom = gtk_adjustment_get_value(adj) >= gtk_adjustment_get_upper(adj) -
                                                              gtk_adjustment_get_page_size(adj) -
                                                              BOTTOM_SLACK;
}

/* ---- actions of the user ---- */

static void on_room_activated(StintMessagesView *self, GtkListBoxRow *row)
{
    const char *id = g_object_get_data(G_OBJECT(row), "room-id");

    if (id)
        stint_messages_view_open_room(self, id);
}

static void on_back_clicked(StintMessagesView *self)
{
    stint_messages_view_open_room(self, NULL);
}

/* Escape in a thread goes back to the rooms. */
static gboolean on_escape(GtkWidget *widget, GVariant *args, gpointer user_data)
{
    StintMessagesView *self = STINT_MESSAGES_VIEW(widget);

    if (!self->room_id)
        return FALSE;
    stint_messages_view_open_room(self, NULL);
    stint_messages_view_focus(self);
    return TRUE;
}

static void on_older_clicked(StintMessagesView *self)
{
    self->stick_bottom = FALSE;
    stint_messages_load_older(self->messages, self->room_id);
    gtk_widget_set_sensitive(GTK_WIDGET(self->older_button), FALSE);
}

static void set_sending(StintMessagesView *self, gboolean sending)
{
    self->sending = sending;
    gtk_stack_set_visible_child_name(self->send_stack, sending ? "spinner" : "button");
    gtk_spinner_set_spinning(self->send_spinner, sending);
    gtk_widget_set_sensitive(self->attach_button, !sending);
}

static void on_sent(GObject *source, GAsyncResult *res, gpointer user_data)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = stint_messages_send_finish(STINT_MESSAGES(source), res, &error);
    StintMessagesView *self = user_data;

    if (!ok && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
    set_sending(self, FALSE);
    if (ok) {
        if (g_strcmp0(gtk_editable_get_text(GTK_EDITABLE(self->composer_entry)),
                      self->sending_text) == 0)
            gtk_editable_set_text(GTK_EDITABLE(self->composer_entry), "");
        g_clear_object(&self->attachment);
        gtk_widget_set_visible(self->attachment_box, FALSE);
        show_notice(self, NULL, FALSE);
        self->stick_bottom = TRUE;
    } else {
        g_autofree char *text = g_strdup_printf("Not sent: %s", error->message);
        show_notice(self, text, TRUE);
    }
    g_clear_pointer(&self->sending_text, g_free);
}

static void on_composer_activate(StintMessagesView *self)
{
    const char *text = gtk_editable_get_text(GTK_EDITABLE(self->composer_entry));
    g_autofree char *trimmed = g_strstrip(g_strdup(text));

    if (self->sending || !self->room_id || (!*trimmed && !self->attachment))
        return;
    set_sending(self, TRUE);
    g_free(self->sending_text);
    self->sending_text = g_strdup(text);
    self->stick_bottom = TRUE;
    stint_messages_send_async(self->messages, self->room_id, trimmed, self->attachment,
                              self->cancellable, on_sent, self);
}

static void on_composer_changed(StintMessagesView *self)
{
    if (self->room_id && *gtk_editable_get_text(GTK_EDITABLE(self->composer_entry)))
        stint_messages_typing(self->messages, self->room_id);
}

static void on_detach_clicked(StintMessagesView *self)
{
    g_clear_object(&self->attachment);
    gtk_widget_set_visible(self->attachment_box, FALSE);
}

static void on_attach_response(GtkNativeDialog *dialog, int response, StintMessagesView *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        if (file)
            stint_messages_view_attach(self, file);
    }
    g_object_unref(dialog);
}

static void on_attach_clicked(StintMessagesView *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
    GtkFileChooserNative *chooser =
        gtk_file_chooser_native_new("Attach a File", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                    GTK_FILE_CHOOSER_ACTION_OPEN, "_Attach", "_Cancel");

    gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(chooser), TRUE);
    g_signal_connect(chooser, "response", G_CALLBACK(on_attach_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(chooser));
}

struct saving {
    StintMessagesView *self;
    char *name;
    char *where;
};

static void on_saved(GObject *source, GAsyncResult *res, gpointer user_data)
{
    struct saving *s = user_data;
    g_autoptr(GError) error = NULL;
    gboolean ok = stint_messages_save_file_finish(STINT_MESSAGES(source), res, &error);

    if (ok || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_autofree char *text =
            ok ? g_strdup_printf("Saved “%s” in %s", s->name, s->where)
               : g_strdup_printf("Could not save “%s”: %s", s->name, error->message);
        show_notice(s->self, text, !ok);
    }
    g_free(s->name);
    g_free(s->where);
    g_free(s);
}

static void save_to(StintMessagesView *self, json_t *file, GFile *dest)
{
    struct saving *s = g_new0(struct saving, 1);
    g_autoptr(GFile) parent = g_file_get_parent(dest);

    s->self = self;
    s->name = g_strdup(str(file, "name") ? str(file, "name") : "file");
    s->where = parent ? g_file_get_parse_name(parent) : g_strdup("/");
    stint_messages_save_file_async(self->messages, file, dest, self->cancellable, on_saved, s);
}

static void on_save_response(GtkNativeDialog *dialog, int response, StintMessagesView *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) dest = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        if (dest)
            save_to(self, g_object_get_data(G_OBJECT(dialog), "file"), dest);
    }
    g_object_unref(dialog);
}

static void on_root_active(GtkWindow *window, GParamSpec *pspec, StintMessagesView *self)
{
    maybe_mark_read(self);
}

static void on_map(GtkWidget *widget, StintMessagesView *self)
{
    GtkRoot *root = gtk_widget_get_root(widget);

    /* The view lives in one window; the handler goes with either of them. */
    if (GTK_IS_WINDOW(root) && (GtkWindow *)root != self->watched_root) {
        self->watched_root = GTK_WINDOW(root);
        g_signal_connect_object(root, "notify::is-active", G_CALLBACK(on_root_active), self, 0);
    }
    maybe_mark_read(self);
}

/* ---- the API ---- */

void stint_messages_view_open_room(StintMessagesView *self, const char *room_id)
{
    g_clear_handle_id(&self->typing_source, g_source_remove);
    g_clear_pointer(&self->typing_name, g_free);
    if (!room_id || !stint_messages_find_room(self->messages, room_id)) {
        g_clear_pointer(&self->room_id, g_free);
        remove_all(self->thread_list);
        gtk_stack_set_visible_child_name(self->nav, "rooms");
        update_rooms(self);
        return;
    }
    if (g_strcmp0(room_id, self->room_id) != 0) {
        g_free(self->room_id);
        self->room_id = g_strdup(room_id);
        gtk_editable_set_text(GTK_EDITABLE(self->composer_entry), "");
        on_detach_clicked(self);
        show_notice(self, NULL, FALSE);
    }
    self->stick_bottom = TRUE;
    stint_messages_load_thread(self->messages, room_id);
    update_header(self);
    update_thread(self);
    gtk_stack_set_visible_child_name(self->nav, "thread");
    maybe_mark_read(self);
}

const char *stint_messages_view_get_room(StintMessagesView *self)
{
    return self->room_id;
}

void stint_messages_view_focus(StintMessagesView *self)
{
    if (self->room_id)
        gtk_widget_grab_focus(GTK_WIDGET(self->composer_entry));
    else
        gtk_widget_grab_focus(GTK_WIDGET(self->rooms_list));
}

void stint_messages_view_send_text(StintMessagesView *self, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(self->composer_entry), text);
    on_composer_activate(self);
}

void stint_messages_view_attach(StintMessagesView *self, GFile *file)
{
    g_autofree char *name = g_file_get_basename(file);
    g_autofree char *shown = g_filename_display_name(name ? name : "file");

    g_set_object(&self->attachment, file);
    gtk_label_set_label(self->attachment_label, shown);
    gtk_widget_set_visible(self->attachment_box, TRUE);
}

void stint_messages_view_save_file(StintMessagesView *self, const char *file_id, GFile *dest)
{
    json_t *thread = stint_messages_get_thread(self->messages, self->room_id);
    json_t *msg, *file;
    size_t i, k;

    json_array_foreach(thread, i, msg)
    {
        json_array_foreach(json_object_get(msg, "files"), k, file)
        {
            if (g_strcmp0(str(file, "id"), file_id) == 0) {
                save_to(self, file, dest);
                return;
            }
        }
    }
    show_notice(self, "That file is not in this conversation.", TRUE);
}

static json_t *rows_state(GtkListBox *list)
{
    json_t *rows = json_array();

    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(list)); c;
         c = gtk_widget_get_next_sibling(c)) {
        json_t *s = g_object_get_data(G_OBJECT(c), "state");
        if (s)
            json_array_append(rows, s);
    }
    return rows;
}

json_t *stint_messages_view_dup_state(StintMessagesView *self)
{
    gboolean thread = g_strcmp0(gtk_stack_get_visible_child_name(self->nav), "thread") == 0;

    return json_pack(
        "{s:s,s:s?,s:s,s:s,s:s?,s:o,s:o,s:b,s:s,s:s?,s:b,s:s?,s:b,s:b}", "page",
        thread ? "thread" : "rooms", "room_id", self->room_id, "room_title",
        gtk_label_get_label(self->room_title), "room_subtitle",
        gtk_label_get_label(self->room_subtitle), "connection",
        gtk_widget_get_visible(GTK_WIDGET(self->connection_label))
            ? gtk_label_get_label(self->connection_label)
            : NULL,
        "rooms", rows_state(self->rooms_list), "thread", rows_state(self->thread_list), "older",
        gtk_widget_get_visible(GTK_WIDGET(self->older_button)), "composer",
        gtk_editable_get_text(GTK_EDITABLE(self->composer_entry)), "attachment",
        gtk_widget_get_visible(self->attachment_box) ? gtk_label_get_label(self->attachment_label)
                                                     : NULL,
        "sending", self->sending, "notice",
        gtk_revealer_get_reveal_child(self->notice_revealer)
            ? gtk_label_get_label(self->notice_label)
            : NULL,
        "read_here", is_seen(self), "moving", gtk_stack_get_transition_running(self->nav));
}

/* ---- the object ---- */

static void stint_messages_view_dispose(GObject *object)
{
    StintMessagesView *self = STINT_MESSAGES_VIEW(object);

    if (self->cancellable)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_handle_id(&self->typing_source, g_source_remove);
    if (self->scroll_tick)
        gtk_widget_remove_tick_callback(GTK_WIDGET(self), self->scroll_tick);
    self->scroll_tick = 0;
    if (self->messages)
        g_signal_handlers_disconnect_by_data(self->messages, self);
    g_clear_object(&self->messages);
    g_clear_object(&self->attachment);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_MESSAGES_VIEW);
    G_OBJECT_CLASS(stint_messages_view_parent_class)->dispose(object);
}

static void stint_messages_view_finalize(GObject *object)
{
    StintMessagesView *self = STINT_MESSAGES_VIEW(object);

    g_free(self->room_id);
    g_free(self->sending_text);
    g_free(self->typing_name);
    G_OBJECT_CLASS(stint_messages_view_parent_class)->finalize(object);
}

static void stint_messages_view_class_init(StintMessagesViewClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_messages_view_dispose;
    G_OBJECT_CLASS(klass)->finalize = stint_messages_view_finalize;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/dev/stint/Tracker/stint-messages-view.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, StintMessagesView, name)
    BIND(nav);
    BIND(connection_label);
    BIND(rooms_stack);
    BIND(rooms_list);
    BIND(empty_title);
    BIND(empty_text);
    BIND(room_title);
    BIND(room_subtitle);
    BIND(thread_scroller);
    BIND(older_button);
    BIND(thread_placeholder);
    BIND(thread_list);
    BIND(notice_revealer);
    BIND(notice_label);
    BIND(attachment_box);
    BIND(attachment_label);
    BIND(attach_button);
    BIND(composer_entry);
    BIND(send_stack);
    BIND(send_spinner);
#undef BIND
    gtk_widget_class_bind_template_callback(widget_class, on_room_activated);
    gtk_widget_class_bind_template_callback(widget_class, on_back_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_older_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_composer_activate);
    gtk_widget_class_bind_template_callback(widget_class, on_composer_changed);
    gtk_widget_class_bind_template_callback(widget_class, on_attach_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_detach_clicked);
}

static void stint_messages_view_init(StintMessagesView *self)
{
    GtkAdjustment *adj;
    GtkEventController *keys;

    gtk_widget_init_template(GTK_WIDGET(self));
    self->cancellable = g_cancellable_new();
    self->stick_bottom = TRUE;
    adj = gtk_scrolled_window_get_vadjustment(self->thread_scroller);
    g_signal_connect(adj, "notify::upper", G_CALLBACK(on_adjustment_grew), self);
    g_signal_connect(adj, "notify::page-size", G_CALLBACK(on_adjustment_grew), self);
    g_signal_connect(adj, "value-changed", G_CALLBACK(on_adjustment_moved), self);
    g_signal_connect(self, "map", G_CALLBACK(on_map), self);
    keys = gtk_shortcut_controller_new();
    gtk_shortcut_controller_add_shortcut(
        GTK_SHORTCUT_CONTROLLER(keys),
        gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_Escape, 0),
                         gtk_callback_action_new(on_escape, NULL, NULL)));
    gtk_widget_add_controller(GTK_WIDGET(self), keys);
}

StintMessagesView *stint_messages_view_new(StintMessages *messages)
{
    StintMessagesView *self = g_object_new(STINT_TYPE_MESSAGES_VIEW, NULL);

    self->messages = g_object_ref(messages);
    g_signal_connect(messages, "changed", G_CALLBACK(on_changed), self);
    g_signal_connect(messages, "thread-changed", G_CALLBACK(on_thread_changed), self);
    g_signal_connect(messages, "typing", G_CALLBACK(on_typing), self);
    update_rooms(self);
    return self;
}
