// Load test: checks what one WatchJob client received (possibly over several streams, resuming
// from the last seq it had) against the job's whole stored event log.
#pragma once

#include <string>
#include <vector>

#include "ft/v1/event.pb.h"

namespace ft::load {

// "" when `received` is exactly `stored`: seq 1, 2, ... with no gap, repeat or reordering, each
// event equal to the stored one, and the last one the job's terminal state change. Otherwise the
// first problem found, in words naming the seq.
std::string CheckWatchedEvents(const std::vector<ft::v1::JobEvent>& received,
                               const std::vector<ft::v1::JobEvent>& stored);

// True for a state change into SUCCEEDED, FAILED or CANCELLED.
bool IsTerminalEvent(const ft::v1::JobEvent& event);

}  // namespace ft::load
