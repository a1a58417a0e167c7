/* Placeholder. */
#include "server/api.h"
void api_rooms_list(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_create(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_get(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_patch(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_add_member(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_remove_member(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_read(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
