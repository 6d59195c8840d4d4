// Process-wide spdlog setup shared by ftd, ftworker and ftctl.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace ft {

struct LoggingOptions {
  std::string level = "info";  // trace, debug, info, warn, error
  bool json = false;           // one JSON object per line instead of the human format
  std::string name;            // process name shown in each line ("ftd", "ftworker")
};

// Configures the default spdlog logger (stderr). INVALID_ARGUMENT for an unknown level.
absl::Status SetUpLogging(const LoggingOptions& options);

}  // namespace ft
