/* Placeholder. */
#include "server/api.h"
void api_files_upload(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_files_get(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_files_thumb(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
void api_rooms_files(struct http_req *req, struct http_resp *resp)
{
    if (req->phase == HTTP_STREAM_NONE || req->phase == HTTP_STREAM_BEGIN)
        http_reply_error(resp, 501, "internal", "not yet");
}
