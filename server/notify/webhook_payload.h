// What a webhook says: the event type and the JSON body, made once when the event is stored
// (the outbox keeps the bytes, so every retry sends the same body).
//
//   {"id": "<delivery id>", "type": "job.succeeded", "created": "<event time, RFC 3339>",
//    "job": {"id", "state", "owner", "model", "display_name", "attempt", "error",
//            "output_dir"},
//    "event": <the JobEvent as the API's JSON: seq, time, stateChange {from, to, reason} or
//              evaluation {...}>}
#pragma once

#include <optional>
#include <string>

#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"

namespace ft::notify {

// "job.queued", "job.running", "job.succeeded", "job.failed", "job.cancelling", "job.cancelled"
// for a state change; "job.evaluation" for an evaluation when `evaluations` is set; nullopt for
// every other event (progress, log lines, checkpoints are not sent).
std::optional<std::string> WebhookEventType(const ft::v1::JobEvent& event, bool evaluations);

std::string WebhookBody(const std::string& delivery_id, const std::string& event_type,
                        const ft::v1::Job& job, const ft::v1::JobEvent& event);

}  // namespace ft::notify
