/*
 * StintIdleDialog (stint-idle-dialog.h): three buttons and a countdown
 * re-drawn once a second.
 */
#include "desktop/stint-idle-dialog.h"

#include <time.h>

#include "tracker/engine.h"

struct _StintIdleDialog {
    GtkWindow parent_instance;
    GtkLabel *since_label;
    GtkLabel *countdown_label;
    GtkWidget *keep_button;
    gint64 idle_since;
    gint64 deadline;
    guint tick;
};

G_DEFINE_TYPE(StintIdleDialog, stint_idle_dialog, GTK_TYPE_WINDOW)

enum { SIGNAL_ANSWERED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void update(StintIdleDialog *self)
{
    gint64 now = time(NULL), left = MAX(0, self->deadline - now);
    gint64 idle_min = MAX(0, now - self->idle_since) / 60;
    g_autoptr(GDateTime) since = g_date_time_new_from_unix_local(self->idle_since);
    g_autofree char *clock = since ? g_date_time_format(since, "%H:%M") : g_strdup("?");
    g_autofree char *text = NULL;

    if (idle_min >= 1)
        text = g_strdup_printf("No keyboard or mouse input since %s (%" G_GINT64_FORMAT " min).",
                               clock, idle_min);
    else
        text = g_strdup_printf("No keyboard or mouse input since %s.", clock);
    gtk_label_set_label(self->since_label, text);
    g_free(text);
    text = g_strdup_printf("Without an answer, the timer stops in %" G_GINT64_FORMAT ":%02d and "
                           "the idle time is discarded.",
                           left / 60, (int)(left % 60));
    gtk_label_set_label(self->countdown_label, text);
}

static gboolean on_tick(gpointer user_data)
{
    update(user_data);
    return G_SOURCE_CONTINUE;
}

static void answer(StintIdleDialog *self, enum tk_idle_answer a)
{
    g_signal_emit(self, signals[SIGNAL_ANSWERED], 0, (int)a);
}

static void on_keep_clicked(StintIdleDialog *self)
{
    answer(self, TK_IDLE_KEEP);
}

static void on_discard_clicked(StintIdleDialog *self)
{
    answer(self, TK_IDLE_DISCARD);
}

static void on_stop_clicked(StintIdleDialog *self)
{
    answer(self, TK_IDLE_STOP);
}

static void stint_idle_dialog_dispose(GObject *object)
{
    StintIdleDialog *self = STINT_IDLE_DIALOG(object);

    g_clear_handle_id(&self->tick, g_source_remove);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_IDLE_DIALOG);
    G_OBJECT_CLASS(stint_idle_dialog_parent_class)->dispose(object);
}

static void stint_idle_dialog_class_init(StintIdleDialogClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_idle_dialog_dispose;
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/dev/stint/Tracker/stint-idle-dialog.ui");
    gtk_widget_class_bind_template_child(widget_class, StintIdleDialog, since_label);
    gtk_widget_class_bind_template_child(widget_class, StintIdleDialog, countdown_label);
    gtk_widget_class_bind_template_child(widget_class, StintIdleDialog, keep_button);
    gtk_widget_class_bind_template_callback(widget_class, on_keep_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_discard_clicked);
    gtk_widget_class_bind_template_callback(widget_class, on_stop_clicked);
    signals[SIGNAL_ANSWERED] = g_signal_new("answered", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                            0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void stint_idle_dialog_init(StintIdleDialog *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}

StintIdleDialog *stint_idle_dialog_new(GtkWindow *parent, gint64 idle_since, gint64 deadline)
{
    StintIdleDialog *self =
        g_object_new(STINT_TYPE_IDLE_DIALOG, "transient-for", parent, "application",
                     parent ? gtk_window_get_application(parent) : NULL, NULL);

    self->idle_since = idle_since;
    self->deadline = deadline;
    update(self);
    self->tick = g_timeout_add_seconds(1, on_tick, self);
    gtk_window_set_default_widget(GTK_WINDOW(self), self->keep_button);
    gtk_widget_grab_focus(self->keep_button);
    return self;
}
