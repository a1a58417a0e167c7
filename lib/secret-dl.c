/*
 * lib/secret.h for the programs: decides whether the keyring may be asked
 * at all (STINT_NO_KEYRING, a session bus configured) and, only when it
 * may, loads the keyring module (secret-libsecret.c as stint-secret.so)
 * once and hands the call over. A module that cannot be loaded is "no
 * keyring". Not for: talking to the keyring (the module does).
 */
#include "lib/secret.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

/* lib/meson.build passes the real paths; these are for a build without them. */
#ifndef STINT_SECRET_MODULE_BUILD
#define STINT_SECRET_MODULE_BUILD ""
#endif
#ifndef STINT_SECRET_MODULE_INSTALLED
#define STINT_SECRET_MODULE_INSTALLED "/usr/local/lib/stint/stint-secret.so"
#endif
#ifndef STINT_BUILD_ROOT
#define STINT_BUILD_ROOT ""
#endif

static pthread_once_t module_once = PTHREAD_ONCE_INIT;
static const struct st_secret_ops *module_ops; /* NULL: no keyring module */

static bool disabled(void)
{
    const char *v = getenv("STINT_NO_KEYRING");

    return v && *v && strcmp(v, "0") != 0;
}

/*
 * Whether a session bus is configured at all. Without one GLib would try
 * to autolaunch a bus (dbus-launch), which a command must not do.
 */
static bool bus_configured(void)
{
    const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    struct stat sb;
    bool found = false;

    if (addr && *addr)
        return true;
    if (runtime && runtime[0] == '/') {
        char *path = xasprintf("%s/bus", runtime);
        found = stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode);
        free(path);
    }
    return found;
}

/*
 * The build tree's module for a program that runs from its build tree (the
 * tests, `make run`), else the installed one. Both sides are resolved, so
 * that a build dir reached through a link still matches.
 */
static const char *default_path(void)
{
    static const char build_module[] = STINT_SECRET_MODULE_BUILD;
    char exe[PATH_MAX], root[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    /* No module in the build tree (no libsecret-1): the installed one, if any. */
    if (build_module[0] && len > 0 && realpath(STINT_BUILD_ROOT, root)) {
        size_t rn = strlen(root);
        exe[len] = '\0';
        if (strncmp(exe, root, rn) == 0 && exe[rn] == '/')
            return build_module;
    }
    return STINT_SECRET_MODULE_INSTALLED;
}

static void module_load(void)
{
    const char *path = getenv("STINT_SECRET_MODULE");
    const struct st_secret_ops *(*entry)(void);
    void *handle;

    if (!path || !*path)
        path = default_path();
    /* RTLD_LOCAL: GLib's and libsecret's symbols stay the module's business. */
    handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        st_debug("no keyring: cannot load '%s': %s", path, dlerror());
        return;
    }
    *(void **)&entry = dlsym(handle, ST_SECRET_MODULE_ENTRY);
    if (!entry || !(module_ops = entry())) {
        st_debug("no keyring: '%s' is not a stint keyring module (no %s)", path,
                 ST_SECRET_MODULE_ENTRY);
        dlclose(handle);
        return;
    }
    st_debug("keyring module '%s' loaded", path);
}

/* The module's operations when the keyring may be asked and the module loads; else NULL. */
static const struct st_secret_ops *module(void)
{
    if (disabled() || !bus_configured())
        return NULL;
    pthread_once(&module_once, module_load);
    return module_ops;
}

int st_secret_store(const char *server, const char *email, const char *token)
{
    const struct st_secret_ops *ops = module();

    return ops ? ops->store(server, email, token) : -ENOKEY;
}

int st_secret_lookup(const char *server, const char *email, char **ret_token)
{
    const struct st_secret_ops *ops = module();

    return ops ? ops->lookup(server, email, ret_token) : -ENOKEY;
}

int st_secret_clear(void)
{
    const struct st_secret_ops *ops = module();

    return ops ? ops->clear() : -ENOKEY;
}

bool st_secret_file_allowed(void)
{
    return true;
}
