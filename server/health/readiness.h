// When ftd answers SERVING on grpc.health.v1: its job store answers queries and at least one
// worker (local or remote) has been heard from within the lease timeout. Plain logic, no gRPC.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace ft::health {

struct ReadinessInputs {
  absl::Status store;         // the result of a cheap query on the job store
  int workers_connected = 0;  // WorkerRegistry::Connected
};

struct Readiness {
  bool serving = false;
  std::string reason;  // why not, for the log; "" when serving
};

Readiness Evaluate(const ReadinessInputs& inputs);

}  // namespace ft::health
