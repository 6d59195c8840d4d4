#include "common/util/logging.h"

#include <memory>

#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace ft {

absl::Status SetUpLogging(const LoggingOptions& options) {
  spdlog::level::level_enum level = spdlog::level::from_str(options.level);
  // from_str answers "off" for anything it does not know; only accept "off" when asked for.
  if (level == spdlog::level::off && options.level != "off") {
    return absl::InvalidArgumentError("--log-level: unknown level '" + options.level +
                                      "' (expected trace, debug, info, warn, error or off)");
  }
  auto logger = std::make_shared<spdlog::logger>(options.name,
                                                 std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (options.json) {
    logger->set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","process":"%n","pid":%P,"msg":"%v"})");
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%L%$ %n[%P] %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace ft
