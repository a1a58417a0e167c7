/*
 * The handlers of the API, one group per api-<resource>.c file; routes.c
 * maps methods and paths to them. Each replies through http.h.
 */
#ifndef STINT_API_H
#define STINT_API_H

#include "server/http.h"

/* api-service.c */
void api_health(struct http_req *req, struct http_resp *resp);
void api_config(struct http_req *req, struct http_resp *resp);

/* api-accounts.c */
void api_signup(struct http_req *req, struct http_resp *resp);
void api_login(struct http_req *req, struct http_resp *resp);
void api_logout(struct http_req *req, struct http_resp *resp);
void api_me(struct http_req *req, struct http_resp *resp);

/* api-contracts.c */
void api_contracts_create(struct http_req *req, struct http_resp *resp);
void api_contracts_list(struct http_req *req, struct http_resp *resp);
void api_contracts_get(struct http_req *req, struct http_resp *resp);
void api_contracts_patch(struct http_req *req, struct http_resp *resp);
void api_contracts_accept(struct http_req *req, struct http_resp *resp);
void api_contracts_pause(struct http_req *req, struct http_resp *resp);
void api_contracts_resume(struct http_req *req, struct http_resp *resp);
void api_contracts_end(struct http_req *req, struct http_resp *resp);

/* api-segments.c */
void api_segments_put(struct http_req *req, struct http_resp *resp);
void api_segments_get(struct http_req *req, struct http_resp *resp);
void api_segments_patch(struct http_req *req, struct http_resp *resp);
void api_segments_delete(struct http_req *req, struct http_resp *resp);
void api_manual_create(struct http_req *req, struct http_resp *resp);

/* api-screenshots.c */
void api_screenshot_put(struct http_req *req, struct http_resp *resp);
void api_screenshot_get(struct http_req *req, struct http_resp *resp);

/* api-admin.c */
void api_admin_clock(struct http_req *req, struct http_resp *resp);

/* api-diary.c */
void api_diary(struct http_req *req, struct http_resp *resp);

/* api-billing.c */
void api_timesheets_for_contract(struct http_req *req, struct http_resp *resp);
void api_timesheets_get(struct http_req *req, struct http_resp *resp);
void api_timesheets_approve(struct http_req *req, struct http_resp *resp);
void api_timesheets_dispute(struct http_req *req, struct http_resp *resp);
void api_disputes_list(struct http_req *req, struct http_resp *resp);
void api_disputes_get(struct http_req *req, struct http_resp *resp);
void api_disputes_respond(struct http_req *req, struct http_resp *resp);
void api_disputes_settle(struct http_req *req, struct http_resp *resp);
void api_invoices_list(struct http_req *req, struct http_resp *resp);
void api_invoices_get(struct http_req *req, struct http_resp *resp);
void api_ledger(struct http_req *req, struct http_resp *resp);
void api_admin_verify(struct http_req *req, struct http_resp *resp);
void api_admin_billing(struct http_req *req, struct http_resp *resp);
void api_admin_charge(struct http_req *req, struct http_resp *resp);

/* api-rooms.c */
/*
 * Replies for an error of rooms.h / messages.h: 404 (a room one is not in
 * looks like none), 403, 409 and 400 with the module's sentence, else the
 * store's error. Shared by api-rooms.c and api-messages.c.
 */
void api_reply_room_error(struct http_resp *resp, int r, const char *why);
void api_rooms_list(struct http_req *req, struct http_resp *resp);
void api_rooms_create(struct http_req *req, struct http_resp *resp);
void api_rooms_get(struct http_req *req, struct http_resp *resp);
void api_rooms_patch(struct http_req *req, struct http_resp *resp);
void api_rooms_add_member(struct http_req *req, struct http_resp *resp);
void api_rooms_remove_member(struct http_req *req, struct http_resp *resp);
void api_rooms_read(struct http_req *req, struct http_resp *resp);

/* api-messages.c */
void api_messages_list(struct http_req *req, struct http_resp *resp);
void api_messages_create(struct http_req *req, struct http_resp *resp);
void api_messages_patch(struct http_req *req, struct http_resp *resp);
void api_messages_delete(struct http_req *req, struct http_resp *resp);
void api_search(struct http_req *req, struct http_resp *resp);

/* api-files.c */
void api_files_upload(struct http_req *req, struct http_resp *resp); /* ROUTE_STREAM */
void api_files_get(struct http_req *req, struct http_resp *resp);
void api_files_thumb(struct http_req *req, struct http_resp *resp);
void api_rooms_files(struct http_req *req, struct http_resp *resp); /* GET /rooms/:id/files */
void api_rooms_calls(struct http_req *req, struct http_resp *resp); /* GET /rooms/:id/calls */
void api_calls_ice(struct http_req *req, struct http_resp *resp);   /* GET /calls/ice */

#endif
