/*
 * The requests of the tracker, on libcurl (libtracker-net): one upload
 * pass, the reads a start needs, and tk_transport_curl, the transport that
 * runs them in this process. The helper process (`stint _upload`) runs the
 * same two functions and reports through a tk_helper sink
 * (tracker/transport.h).
 */
#ifndef STINT_TRACKER_UPLOAD_PASS_H
#define STINT_TRACKER_UPLOAD_PASS_H

#include <stdbool.h>

#include "tracker/journal.h"
#include "tracker/net.h"
#include "tracker/transport.h"

/*
 * Sends every queued segment of a->account it can, oldest first: PUT the
 * segment (when the server lacks this version of it), PUT its screenshot
 * (when the server lacks the bytes), then marks it done if the recorder did
 * not change it meanwhile. A failure to reach the server ends the pass; a
 * refusal marks that one segment and goes on. After a pass that went well,
 * reads the totals (when a->totals) and prunes the journal. Leaves the
 * outcome in the journal's meta "upload_state" for `stint status`.
 */
enum tk_pass_outcome tk_pass_run(struct tk_net *net, struct tk_journal *j,
                                 const struct tk_pass_args *a, const struct tk_pass_sink *sink);

/* GET /config (when want_segment_s), the contract and /me, into info (contract_id set). */
void tk_fetch_start_run(struct tk_net *net, bool want_segment_s, struct tk_start_info *info);

/* libcurl on the uploader's thread. */
extern const struct tk_transport tk_transport_curl;

#endif
