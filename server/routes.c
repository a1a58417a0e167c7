/*
 * The route table: every endpoint of the API, its handler, whether it needs
 * a token, how large a body it takes and which query parameters it accepts.
 * Matching is first-fit on method and path (see http.c).
 */
#include <stddef.h>

#include "server/api.h"
#include "server/hub.h"
#include "server/server.h"
#include "server/web.h"

static const char *const diary_query[] = {"from", "to", "tz", NULL};
static const char *const shot_query[] = {"size", NULL};
static const char *const timesheet_query[] = {"week", "format", NULL};
static const char *const dispute_query[] = {"state", NULL};
static const char *const invoice_query[] = {"contract", NULL};
static const char *const messages_query[] = {"before", "limit", NULL};
static const char *const search_query[] = {"q", "limit", NULL};

#define V1 "/api/v1"

const struct route http_routes[] = {
    {"GET", V1 "/health", api_health, 0, 0, NULL},
    {"GET", V1 "/config", api_config, 0, 0, NULL},

    {"POST", V1 "/signup", api_signup, 0, 0, NULL},
    {"POST", V1 "/login", api_login, 0, 0, NULL},
    {"POST", V1 "/logout", api_logout, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/me", api_me, ROUTE_AUTH, 0, NULL},

    {"POST", V1 "/contracts", api_contracts_create, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/contracts", api_contracts_list, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/contracts/:id", api_contracts_get, ROUTE_AUTH, 0, NULL},
    {"PATCH", V1 "/contracts/:id", api_contracts_patch, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/contracts/:id/accept", api_contracts_accept, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/contracts/:id/pause", api_contracts_pause, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/contracts/:id/resume", api_contracts_resume, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/contracts/:id/end", api_contracts_end, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/contracts/:id/manual", api_manual_create, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/contracts/:id/diary", api_diary, ROUTE_AUTH, 0, diary_query},

    {"PUT", V1 "/segments/:id", api_segments_put, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/segments/:id", api_segments_get, ROUTE_AUTH, 0, NULL},
    {"PATCH", V1 "/segments/:id", api_segments_patch, ROUTE_AUTH, 0, NULL},
    {"DELETE", V1 "/segments/:id", api_segments_delete, ROUTE_AUTH, 0, NULL},
    {"PUT", V1 "/segments/:id/screenshot", api_screenshot_put, ROUTE_AUTH | ROUTE_RAW_BODY,
     SERVER_MAX_SCREENSHOT, NULL},
    {"GET", V1 "/segments/:id/screenshot", api_screenshot_get, ROUTE_AUTH, 0, shot_query},

    {"POST", V1 "/admin/clock", api_admin_clock, ROUTE_AUTH, 0, NULL},

    {"GET", V1 "/contracts/:id/timesheets", api_timesheets_for_contract, ROUTE_AUTH, 0,
     timesheet_query},
    {"GET", V1 "/timesheets/:id", api_timesheets_get, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/timesheets/:id/approve", api_timesheets_approve, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/timesheets/:id/dispute", api_timesheets_dispute, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/disputes", api_disputes_list, ROUTE_AUTH, 0, dispute_query},
    {"GET", V1 "/disputes/:id", api_disputes_get, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/disputes/:id/respond", api_disputes_respond, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/disputes/:id/settle", api_disputes_settle, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/invoices", api_invoices_list, ROUTE_AUTH, 0, invoice_query},
    /* ":id" takes "ID.pdf" and "ID.csv" too; the handler splits the suffix. */
    {"GET", V1 "/invoices/:id", api_invoices_get, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/ledger", api_ledger, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/admin/users/:id/verify", api_admin_verify, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/admin/users/:id/billing", api_admin_billing, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/admin/charges/:id", api_admin_charge, ROUTE_AUTH, 0, NULL},

    {"GET", V1 "/rooms", api_rooms_list, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/rooms", api_rooms_create, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/rooms/:id", api_rooms_get, ROUTE_AUTH, 0, NULL},
    {"PATCH", V1 "/rooms/:id", api_rooms_patch, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/rooms/:id/members", api_rooms_add_member, ROUTE_AUTH, 0, NULL},
    {"DELETE", V1 "/rooms/:id/members/:user", api_rooms_remove_member, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/rooms/:id/files", api_rooms_files, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/rooms/:id/calls", api_rooms_calls, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/calls/ice", api_calls_ice, ROUTE_AUTH, 0, NULL},
    {"POST", V1 "/rooms/:id/read", api_rooms_read, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/rooms/:id/messages", api_messages_list, ROUTE_AUTH, 0, messages_query},
    {"POST", V1 "/rooms/:id/messages", api_messages_create, ROUTE_AUTH, 0, NULL},
    {"PATCH", V1 "/messages/:id", api_messages_patch, ROUTE_AUTH, 0, NULL},
    {"DELETE", V1 "/messages/:id", api_messages_delete, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/search", api_search, ROUTE_AUTH, 0, search_query},
    /* The body goes to the handler as it arrives, capped at max_file_mb. */
    {"POST", V1 "/files", api_files_upload, ROUTE_AUTH | ROUTE_RAW_BODY | ROUTE_STREAM, 0, NULL},
    {"GET", V1 "/files/:id", api_files_get, ROUTE_AUTH, 0, NULL},
    {"GET", V1 "/files/:id/thumb", api_files_thumb, ROUTE_AUTH, 0, NULL},
    /* The token comes in the first WebSocket message, not a header (browsers cannot set one). */
    {"GET", V1 "/ws", api_ws, ROUTE_UPGRADE, 0, NULL},

    /* The web app (web.c), after the API: "/" and single-segment file names only. */
    {"GET", "/", web_serve, 0, 0, NULL},
    {"HEAD", "/", web_serve, 0, 0, NULL},
    {"GET", "/:file", web_serve, 0, 0, NULL},
    {"HEAD", "/:file", web_serve, 0, 0, NULL},

    {NULL, NULL, NULL, 0, 0, NULL},
};
