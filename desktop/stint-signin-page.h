/*
 * StintSigninPage: the sign-in form (server, email, password). It signs
 * in through the session, which saves the sign-in where `stint login`
 * does; the window switches pages when the session says it is signed in.
 */
#ifndef STINT_SIGNIN_PAGE_H
#define STINT_SIGNIN_PAGE_H

#include <gtk/gtk.h>

#include "desktop/stint-session.h"

G_BEGIN_DECLS

#define STINT_TYPE_SIGNIN_PAGE (stint_signin_page_get_type())
G_DECLARE_FINAL_TYPE(StintSigninPage, stint_signin_page, STINT, SIGNIN_PAGE, GtkWidget)

void stint_signin_page_set_session(StintSigninPage *self, StintSession *session);
/* Shows a sentence above the form (why the user is signed out); NULL hides it. */
void stint_signin_page_set_message(StintSigninPage *self, const char *message);
/* The sentence shown, or "". */
const char *stint_signin_page_get_message(StintSigninPage *self);
/* Puts the focus in the first empty field. */
void stint_signin_page_focus(StintSigninPage *self);

G_END_DECLS

#endif
