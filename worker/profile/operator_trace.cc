#include "worker/profile/operator_trace.h"

#include <torch/csrc/autograd/profiler_legacy.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ft::profile {
namespace legacy = torch::autograd::profiler;
namespace {

// Chrome trace "complete" events, one per matched push/pop, with timestamps in microseconds from
// the start mark. LibTorch's own writer (writeProfilerEventsToStream) rounds them to whole
// microseconds, as long as many operators take, which spoils the self times derived from nesting.
void WriteChromeTrace(std::ostream& out, const legacy::thread_event_lists& lists) {
  const legacy::LegacyEvent* start = nullptr;
  for (const auto& list : lists) {
    for (const legacy::LegacyEvent& event : list) {
      if (start == nullptr && event.kind() == legacy::EventKind::Mark &&
          std::string(event.name()) == "__start_profile") {
        start = &event;
      }
    }
  }
  out << "[";
  if (start == nullptr) {
    out << "]\n";
    return;
  }
  bool first = true;
  for (const auto& list : lists) {
    std::map<std::pair<at::RecordFunctionHandle, int>, const legacy::LegacyEvent*> open;
    for (const legacy::LegacyEvent& event : list) {
      if (event.kind() == legacy::EventKind::PushRange) {
        open[{event.handle(), event.nodeId()}] = &event;
      } else if (event.kind() == legacy::EventKind::PopRange) {
        const auto found = open.find({event.handle(), event.nodeId()});
        if (found == open.end()) continue;  // opened before the recording started
        const legacy::LegacyEvent& push = *found->second;
        open.erase(found);
        char times[128];
        std::snprintf(times, sizeof(times), "\"ts\": %.3f, \"dur\": %.3f, \"tid\": %llu",
                      start->cpuElapsedUs(push), push.cpuElapsedUs(event),
                      static_cast<unsigned long long>(push.threadId()));
        // Operator and scope names hold no quotes or backslashes.
        out << (first ? "\n" : ",\n") << "{\"name\": \"" << push.name()
            << "\", \"ph\": \"X\", " << times << ", \"pid\": \"CPU\"}";
        first = false;
      }
    }
  }
  out << "\n]\n";
}

}  // namespace

OperatorTrace::~OperatorTrace() {
  if (recording_) legacy::disableProfilerLegacy();
}

bool OperatorTrace::Start() {
  if (recording_) return false;
  // CPU timestamps only: no input shapes, memory or stacks, which cost time per operator.
  legacy::enableProfilerLegacy(
      torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
  recording_ = true;
  return true;
}

bool OperatorTrace::StopAndWrite(const std::string& path) {
  if (!recording_) return false;
  recording_ = false;
  const legacy::thread_event_lists lists = legacy::disableProfilerLegacy();
  std::ofstream out(path);
  if (!out) throw std::runtime_error("--profile-trace: cannot write " + path);
  WriteChromeTrace(out, lists);
  out.close();
  if (!out) throw std::runtime_error("--profile-trace: writing " + path + " failed");
  return true;
}

}  // namespace ft::profile
