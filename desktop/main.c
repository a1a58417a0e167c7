/*
 * stint-tracker: the desktop app. Everything is in StintApplication; this
 * only runs it.
 */
#include <locale.h>

#include "desktop/stint-application.h"

int main(int argc, char **argv)
{
    g_autoptr(StintApplication) app = NULL;

    setlocale(LC_ALL, "");
    app = stint_application_new();
    return g_application_run(G_APPLICATION(app), argc, argv);
}
