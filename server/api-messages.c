/* Placeholder. */
#include "server/api.h"
void api_messages_list(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_messages_create(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_messages_patch(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_messages_delete(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_search(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
