#include "tests/load/event_stream_check.h"

#include "google/protobuf/util/message_differencer.h"

namespace ft::load {

bool IsTerminalEvent(const ft::v1::JobEvent& event) {
  if (!event.has_state_change()) return false;
  const ft::v1::JobState to = event.state_change().to();
  return to == ft::v1::SUCCEEDED || to == ft::v1::FAILED || to == ft::v1::CANCELLED;
}

std::string CheckWatchedEvents(const std::vector<ft::v1::JobEvent>& received,
                               const std::vector<ft::v1::JobEvent>& stored) {
  for (size_t i = 0; i < received.size(); ++i) {
    const uint64_t expected_seq = i + 1;
    if (received[i].seq() != expected_seq) {
      return "event " + std::to_string(i) + " has seq " + std::to_string(received[i].seq()) +
             ", expected " + std::to_string(expected_seq) + " (gap, repeat or reordering)";
    }
    if (i >= stored.size()) {
      return "seq " + std::to_string(expected_seq) + " was received but not stored (only " +
             std::to_string(stored.size()) + " stored)";
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(received[i], stored[i])) {
      return "seq " + std::to_string(expected_seq) + " differs from the stored event";
    }
  }
  if (received.size() < stored.size()) {
    return "received " + std::to_string(received.size()) + " events of " +
           std::to_string(stored.size()) + " stored";
  }
  if (received.empty() || !IsTerminalEvent(received.back())) {
    return "the stream did not end with the job's terminal event";
  }
  return "";
}

}  // namespace ft::load
