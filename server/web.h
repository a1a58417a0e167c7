/*
 * The web app's static files: stintd serves the directory web_dir (the
 * repo's web/, installed to DATADIR/stint/web) at "/". Only plain files
 * directly in that directory, with a known extension, are served; there is
 * no build step and no directory listing.
 *
 * Not for: anything under /api/v1 (routes.c lists the API first).
 */
#ifndef STINT_WEB_H
#define STINT_WEB_H

#include <stddef.h>

#include "server/http.h"

/* The longest file name served ("diary.js"), without the leading '/'. */
#define WEB_NAME_MAX 64

/*
 * The default web_dir: the source tree's web/ when this stintd runs from
 * its build directory (so that editing web/ needs only a reload), the
 * installed DATADIR/stint/web otherwise. Writes a NUL-terminated path.
 */
void web_default_dir(char *buf, size_t n);

/*
 * GET (or HEAD) "/" and "/:file": index.html for "/", else the named file.
 * A name that is not a plain file of web_dir with a known extension is a
 * 404. Replies with ETag, Cache-Control: no-cache (revalidate; 304 on a
 * matching If-None-Match) and a strict Content-Security-Policy.
 */
void web_serve(struct http_req *req, struct http_resp *resp);

#endif
