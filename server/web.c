/*
 * Serves the web app's static files from web_dir (see web.h). The router
 * hands over "/" and single-segment names it has already checked; this
 * file checks them again, because it is the one that touches the disk:
 * no '/', no leading '.', no "..", a known extension, a regular file
 * opened without following links.
 *
 * Not for: the API, or any file outside web_dir.
 */
#include "server/web.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "server/server.h"

#ifndef STINT_WEB_DIR_SOURCE
#define STINT_WEB_DIR_SOURCE "web"
#endif
#ifndef STINT_WEB_DIR_INSTALLED
#define STINT_WEB_DIR_INSTALLED "/usr/local/share/stint/web"
#endif
#ifndef STINT_BUILD_ROOT
#define STINT_BUILD_ROOT ""
#endif

/*
 * Scripts, styles, images and fetches come from this origin only; blob: and
 * data: images are the screenshots the app fetches with its token. No
 * inline script or style, no plugins, no framing.
 */
#define WEB_CSP                                                                                    \
    "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self';"         \
    " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"                 \
    " frame-ancestors 'none'"

static const struct {
    const char *ext;
    const char *type;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webmanifest", "application/manifest+json"},
};

void web_default_dir(char *buf, size_t n)
{
    char exe[PATH_MAX], root[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

    /* Both sides resolved, so that a build dir reached through a link still matches. */
    if (len > 0 && realpath(STINT_BUILD_ROOT, root)) {
        size_t rn = strlen(root);
        exe[len] = '\0';
        if (strncmp(exe, root, rn) == 0 && exe[rn] == '/') {
            snprintf(buf, n, "%s", STINT_WEB_DIR_SOURCE);
            return;
        }
    }
    snprintf(buf, n, "%s", STINT_WEB_DIR_INSTALLED);
}

static bool name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > WEB_NAME_MAX || name[0] == '.' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return false;
    }
    return true;
}

static const char *type_for(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (!dot)
        return NULL;
    for (size_t i = 0; i < sizeof(web_types) / sizeof(web_types[0]); i++)
        if (strcmp(dot, web_types[i].ext) == 0)
            return web_types[i].type;
    return NULL;
}

void web_serve(struct http_req *req, struct http_resp *resp)
{
    static int warned;
    const char *name = req->nparams ? req->params[0] : "index.html";
    const char *type = type_for(name), *inm;
    char etag[64];
    struct stat st;
    int dirfd = -1, fd = -1;

    if (!name_valid(name) || !type) {
        http_reply_not_found(resp);
        return;
    }
    dirfd = open(req->srv->cfg.web_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd >= 0)
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (!req->nparams && !__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
            st_warn("the web app is missing: no index.html in '%s' (see --web-dir)",
                    req->srv->cfg.web_dir);
        http_reply_not_found(resp);
        goto out;
    }
    /* Files change only on an upgrade or an edit: revalidate, but cheaply. */
    snprintf(etag, sizeof(etag), "\"%llx-%llx-%llx\"", (unsigned long long)st.st_mtim.tv_sec,
             (unsigned long long)st.st_mtim.tv_nsec, (unsigned long long)st.st_size);
    http_add_header(resp, "Cache-Control", "no-cache");
    http_add_header(resp, "ETag", etag);
    inm = http_header(req, "If-None-Match");
    if (inm && strcmp(inm, etag) == 0) {
        http_reply_empty(resp, 304);
        goto out;
    }
    http_add_header(resp, "Content-Security-Policy", WEB_CSP);
    http_add_header(resp, "Referrer-Policy", "no-referrer");
    http_reply_fd(resp, 200, type, fd, (size_t)st.st_size);
    fd = -1;
out:
    if (fd >= 0)
        close(fd);
    if (dirfd >= 0)
        close(dirfd);
}
