// `ftctl health`: asks ftd's grpc.health.v1.Health service whether it serves (the job store
// answers and a worker is connected). For container health checks and scripts.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace ft::client {

struct HealthArgs {
  std::string service;  // "" (the server as a whole) or e.g. "ft.v1.FinetuneService"
  bool watch = false;   // follow status changes until interrupted or the stream ends
};

// Prints the status (SERVING, NOT_SERVING, ...) on `out`, one line per change with --watch.
// Exit codes: 0 SERVING; 1 any other status; 2 an unknown service (NOT_FOUND); 3 ftd unreachable
// or past the deadline. `timeout` bounds Check (and, with watch, the wait for the first answer).
int RunHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& server,
              const HealthArgs& args, absl::Duration timeout, std::ostream& out,
              std::ostream& err);

}  // namespace ft::client
