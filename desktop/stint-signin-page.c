/*
 * StintSigninPage (stint-signin-page.h): the form, the spinner while the
 * request runs, and the server's answer in words.
 */
#include "desktop/stint-signin-page.h"

struct _StintSigninPage {
    GtkWidget parent_instance;
    StintSession *session;
    GCancellable *cancellable;
    GtkWidget *box;
    GtkEntry *server_entry;
    GtkEntry *email_entry;
    GtkWidget *password_entry;
    GtkLabel *message_label;
    GtkWidget *sign_in_button;
    GtkLabel *button_label;
    GtkSpinner *spinner;
};

G_DEFINE_TYPE(StintSigninPage, stint_signin_page, GTK_TYPE_WIDGET)

static void set_busy(StintSigninPage *self, gboolean busy)
{
    gtk_widget_set_visible(GTK_WIDGET(self->spinner), busy);
    gtk_spinner_set_spinning(self->spinner, busy);
    gtk_label_set_label(self->button_label, busy ? "Signing In…" : "Sign In");
    gtk_widget_set_sensitive(self->sign_in_button, !busy);
    /* The entries stay sensitive: taking the focus away from a typing user is worse. */
}

void stint_signin_page_set_message(StintSigninPage *self, const char *message)
{
    gtk_label_set_label(self->message_label, message ? message : "");
    gtk_widget_set_visible(GTK_WIDGET(self->message_label), message && *message);
}

const char *stint_signin_page_get_message(StintSigninPage *self)
{
    return gtk_label_get_label(self->message_label);
}

static void on_signed_in(GObject *source, GAsyncResult *res, gpointer user_data)
{
    StintSigninPage *self = user_data;
    g_autoptr(GError) error = NULL;

    if (!stint_session_sign_in_finish(STINT_SESSION(source), res, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_object_unref(self);
            return;
        }
        stint_signin_page_set_message(self, error->message);
        set_busy(self, FALSE);
        gtk_widget_grab_focus(self->password_entry);
        g_object_unref(self);
        return;
    }
    set_busy(self, FALSE);
    stint_signin_page_set_message(self, NULL);
    gtk_editable_set_text(GTK_EDITABLE(self->password_entry), "");
    g_object_unref(self);
}

static void on_sign_in_clicked(StintSigninPage *self)
{
    const char *server = gtk_editable_get_text(GTK_EDITABLE(self->server_entry));
    const char *email = gtk_editable_get_text(GTK_EDITABLE(self->email_entry));
    const char *password = gtk_editable_get_text(GTK_EDITABLE(self->password_entry));

    if (!*email || !*password) {
        stint_signin_page_set_message(self, "Enter your email and password.");
        gtk_widget_grab_focus(!*email ? GTK_WIDGET(self->email_entry) : self->password_entry);
        return;
    }
    set_busy(self, TRUE);
    stint_signin_page_set_message(self, NULL);
    g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    self->cancellable = g_cancellable_new();
    stint_session_sign_in_async(self->session, server, email, password, self->cancellable,
                                on_signed_in, g_object_ref(self));
}

void stint_signin_page_focus(StintSigninPage *self)
{
    GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));

    if (GTK_IS_WINDOW(root))
        gtk_window_set_default_widget(GTK_WINDOW(root), self->sign_in_button);
    if (!*gtk_editable_get_text(GTK_EDITABLE(self->server_entry)))
        gtk_widget_grab_focus(GTK_WIDGET(self->server_entry));
    else if (!*gtk_editable_get_text(GTK_EDITABLE(self->email_entry)))
        gtk_widget_grab_focus(GTK_WIDGET(self->email_entry));
    else
        gtk_widget_grab_focus(self->password_entry);
}

void stint_signin_page_set_session(StintSigninPage *self, StintSession *session)
{
    g_autofree char *server = stint_session_dup_default_server();
    const char *email = stint_session_get_email(session);

    g_set_object(&self->session, session);
    gtk_editable_set_text(GTK_EDITABLE(self->server_entry), server);
    if (email)
        gtk_editable_set_text(GTK_EDITABLE(self->email_entry), email);
}

static void stint_signin_page_dispose(GObject *object)
{
    StintSigninPage *self = STINT_SIGNIN_PAGE(object);

    if (self->cancellable)
        g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->session);
    gtk_widget_dispose_template(GTK_WIDGET(self), STINT_TYPE_SIGNIN_PAGE);
    G_OBJECT_CLASS(stint_signin_page_parent_class)->dispose(object);
}

static void stint_signin_page_class_init(StintSigninPageClass *klass)
{
    GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);

    G_OBJECT_CLASS(klass)->dispose = stint_signin_page_dispose;
    gtk_widget_class_set_layout_manager_type(widget_class, GTK_TYPE_BIN_LAYOUT);
    gtk_widget_class_set_template_from_resource(widget_class,
                                                "/dev/stint/Tracker/stint-signin-page.ui");
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, box);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, server_entry);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, email_entry);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, password_entry);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, message_label);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, sign_in_button);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, button_label);
    gtk_widget_class_bind_template_child(widget_class, StintSigninPage, spinner);
    gtk_widget_class_bind_template_callback(widget_class, on_sign_in_clicked);
}

static void stint_signin_page_init(StintSigninPage *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
}
