/*
 * StintPreferencesWindow (stint-preferences-window.h): widgets ↔ struct
 * tk_settings, saved through the session on every change. The monitor
 * list comes from the platform layer (XRandR on X11).
 */
#include "desktop/stint-preferences-window.h"

#include <string.h>

#include "desktop/stint-autostart.h"

struct _StintPreferencesWindow {
    GtkWindow parent_instance;
    StintSession *session;
    struct tk_settings settings;
    int monitor_index[TK_MAX_MONITORS + 2]; /* dropdown position → monitor index (-1: all) */
    guint n_monitor_entries;
    gboolean loading;

    GtkLabel *note_label;
    GtkSwitch *thumbnail_switch;
    GtkDropDown *monitor_dropdown;
    GtkSwitch *blur_switch;
    GtkSpinButton *idle_spin;
    GtkSwitch *autostart_switch;
    GtkLabel *data_dir_label;
    GtkWidget *data_dir_reset;
    GtkSpinButton *quota_spin;
    GtkFileChooserNative *chooser;
};

G_DEFINE_TYPE(StintPreferencesWindow, stint_preferences_window, GTK_TYPE_WINDOW)

static void show_note(StintPreferencesWindow *self, const char *text)
{
    gtk_label_set_label(self->note_label, text ? text : "");
    gtk_widget_set_visible(GTK_WIDGET(self->note_label), text && *text);
}

static void show_data_dir(StintPreferencesWindow *self)
{
    g_autofree char *dir = tk_settings_data_dir_dup(&self->settings);

    gtk_label_set_label(self->data_dir_label, dir ? dir : "");
    gtk_widget_set_sensitive(self->data_dir_reset, self->settings.data_dir[0] != '\0');
}

static void save(StintPreferencesWindow *self)
{
    g_autoptr(GError) error = NULL;

    if (!stint_session_set_settings(self->session, &self->settings, &error)) {
        show_note(self, error->message);
        return;
    }
    if (stint_session_is_tracking(self->session))
        show_note(self, "The timer is running: changes apply the next time it starts.");
    else
        show_note(self, NULL);
}

static void on_changed(StintPreferencesWindow *self)
{
    guint sel;
    g_autoptr(GError) error = NULL;

    if (self->loading)
        return;
    self->settings.show_thumbnail = gtk_switch_get_active(self->thumbnail_switch);
    self->settings.blur = gtk_switch_get_active(self->blur_switch);
    /* The default is written as "not set" (0), so a later change of the default reaches everyone.
     */
    self->settings.idle_minutes = gtk_spin_button_get_value_as_int(self->idle_spin);
    if (self->settings.idle_minutes == TK_IDLE_THRESHOLD_DEFAULT_S / 60)
        self->settings.idle_minutes = 0;
    self->settings.quota_kb = gtk_spin_button_get_value_as_int(self->quota_spin) * 1024;
    if ((int64_t)self->settings.quota_kb * 1024 == TK_QUOTA_DEFAULT_BYTES)
        self->settings.quota_kb = 0;
    sel = gtk_drop_down_get_selected(self->monitor_dropdown);
    if (sel < self->n_monitor_entries && self->monitor_index[sel] >= 0)
        g_snprintf(self->settings.monitor, sizeof(self->settings.monitor), "%d",
                   self->monitor_index[sel]);
    else
        g_strlcpy(self->settings.monitor, "all", sizeof(self->settings.monitor));
    if (gtk_switch_get_active(self->autostart_switch) != stint_autostart_is_enabled() &&
        !stint_autostart_set(gtk_switch_get_active(self->autostart_switch), &error)) {
        show_note(self, error->message);
        return;
    }
    save(self);
}

static void on_folder_chosen(GtkNativeDialog *dialog, int response, StintPreferencesWindow *self)
{
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = file ? g_file_get_path(file) : NULL;
        if (path && strlen(path) < sizeof(self->settings.data_dir)) {
            g_strlcpy(self->settings.data_dir, path, sizeof(self->settings.data_dir));
            show_data_dir(self);
            save(self);
        }
    }
    g_clear_object(&self->chooser);
}

static void on_choose_folder(StintPreferencesWindow *self)
{
    self->chooser =
        gtk_file_chooser_native_new("Data Folder", GTK_WINDOW(self),
                                    GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Select", "_Cancel");
    g_signal_connect(self->chooser, "response", G_CALLBACK(on_folder_chosen), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void on_reset_folder(StintPreferencesWindow *self)
{
    self->settings.data_dir[0] = '\0';
    show_data_dir(self);
    save(self);
}

/* "All screens" and one entry per monitor the display has, as XRandR names them. */
static void load_monitors(StintPreferencesWindow *self)
{
    struct tk_monitor mons[TK_MAX_MONITORS];
    struct tk_platform_ctx *ctx = NULL;
    GtkStringList *list = gtk_string_list_new(NULL);
    int n = 0, chosen = tk_settings_monitor(&self->settings);
    guint selected = 0;
    char err[256];

    gtk_string_list_append(list, "All screens");
    self->monitor_index[0] = TK_MONITOR_ALL;
    self->n_monitor_entries = 1;
    if (tk_platform_native.open(NULL, &ctx, err, sizeof(err)) == 0) {
        n = tk_platform_native.monitors(ctx, mons, TK_MAX_MONITORS);
        tk_platform_native.close(ctx);
    }
    for (int i = 0; i < n; i++) {
        g_autofree char *label =
            g_strdup_printf("%s (%d×%d)%s", mons[i].name, mons[i].width, mons[i].height,
                            mons[i].primary ? ", primary" : "");
        gtk_string_list_append(list, label);
        self->monitor_index[self->n_monitor_entries] = mons[i].index;
        if (mons[i].index == chosen)
            selected = self->n_monitor_entries;
        self->n_monitor_entries++;
    }
    if (chosen != TK_MONITOR_ALL && selected == 0) {
        g_autofree char *label = g_strdup_printf("Monitor %d (not connected)", chosen);
        gtk_string_list_append(list, label);
        self->monitor_index[self->n_monitor_entries] = chosen;
        selected = self->n_monitor_entries++;
    }
    gtk_drop_down_set_model(self->monitor_dropdown, G_LIST_MODEL(list));
    gtk_drop_down_set_selected(self->monitor_dropdown, selected);
    g_object_unref(list);
}

static void stint_preferences_window_dispose(GObject *object)
{
    StintPreferencesWindow *self = STINT_PREFERENCES_WINDOW(object);

    if (self->chooser)
        gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    g_clear_object(&self->session);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_PREFERENCES_WINDOW);
    G_OBJECT_CLASS(stint_preferences_window_parent_class)->dispose(object);
}

static void stint_preferences_window_class_init(StintPreferencesWindowClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_preferences_window_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/dev/stint/Tracker/stint-preferences-window.ui");
#define BIND(name) gtk_widget_class_bind_template_child(widget_class, StintPreferencesWindow, name)
    BIND(note_label);
    BIND(thumbnail_switch);
    BIND(monitor_dropdown);
    BIND(blur_switch);
    BIND(idle_spin);
    BIND(autostart_switch);
    BIND(data_dir_label);
    BIND(data_dir_reset);
    BIND(quota_spin);
#undef BIND
    gtk_widget_class_bind_template_callback(widget_class, on_changed);
    gtk_widget_class_bind_template_callback(widget_class, on_choose_folder);
    gtk_widget_class_bind_template_callback(widget_class, on_reset_folder);
    gtk_widget_class_add_binding_action(widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void stint_preferences_window_init(StintPreferencesWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

StintPreferencesWindow *stint_preferences_window_new(StintSession *session)
{
    StintPreferencesWindow *self = g_object_new(STINT_TYPE_PREFERENCES_WINDOW, NULL);
    const struct tk_settings *s = stint_session_get_settings(session);

    self->session = g_object_ref(session);
    self->settings = *s;
    self->loading = TRUE;
    gtk_switch_set_active(self->thumbnail_switch, s->show_thumbnail);
    gtk_switch_set_active(self->blur_switch, s->blur);
    gtk_spin_button_set_value(self->idle_spin,
                              s->idle_minutes ? s->idle_minutes : TK_IDLE_THRESHOLD_DEFAULT_S / 60);
    gtk_spin_button_set_value(self->quota_spin, s->quota_kb ? s->quota_kb / 1024
                                                            : TK_QUOTA_DEFAULT_BYTES / 1024 / 1024);
    gtk_switch_set_active(self->autostart_switch, stint_autostart_is_enabled());
    load_monitors(self);
    show_data_dir(self);
    if (stint_session_get_settings_error(session))
        show_note(self, stint_session_get_settings_error(session));
    else if (stint_session_is_tracking(session))
        show_note(self, "The timer is running: changes apply the next time it starts.");
    self->loading = FALSE;
    return self;
}
