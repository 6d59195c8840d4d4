#include "server/health/readiness.h"

#include "absl/strings/str_cat.h"

namespace ft::health {

Readiness Evaluate(const ReadinessInputs& inputs) {
  Readiness readiness;
  if (!inputs.store.ok()) {
    readiness.reason = absl::StrCat("job store: ", inputs.store.message());
  } else if (inputs.workers_connected < 1) {
    readiness.reason = "no worker connected";
  } else {
    readiness.serving = true;
  }
  return readiness;
}

}  // namespace ft::health
