#include "tests/load/load_options.h"

#include <cstdlib>
#include <functional>
#include <map>

namespace ft::load {
namespace {

bool ParseInt(const std::string& text, int* out) {
  char* end = nullptr;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || value < 0 || value > 1'000'000) return false;
  *out = static_cast<int>(value);
  return true;
}

bool ParseDouble(const std::string& text, double* out) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value >= 0) || value > 1e6) return false;
  *out = value;
  return true;
}

}  // namespace

std::string ParseLoadOptions(int argc, char** argv, LoadOptions* options,
                             std::vector<std::string>* rest) {
  std::map<std::string, int*> ints = {{"--submissions", &options->submissions},
                                      {"--clients", &options->clients},
                                      {"--watchers", &options->watchers},
                                      {"--local-workers", &options->local_workers},
                                      {"--rounds", &options->rounds},
                                      {"--max-steps", &options->max_steps},
                                      {"--train-rows", &options->train_rows}};
  std::map<std::string, double*> doubles = {
      {"--submit-rate", &options->submit_rate},
      {"--run-seconds", &options->run_seconds},
      {"--settle-seconds", &options->settle_seconds},
      {"--deadline-seconds", &options->deadline_seconds},
      {"--submit-p99-bar-ms", &options->submit_p99_bar_ms},
      {"--lag-p99-bar-ms", &options->lag_p99_bar_ms}};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--check") {
      options->check = true;
      continue;
    }
    if (arg.rfind("--ftd-flag=", 0) == 0) {
      options->ftd_flags.push_back(arg.substr(11));
      continue;
    }
    std::string name = arg;
    std::string value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    const bool known = ints.count(name) > 0 || doubles.count(name) > 0;
    if (!known) {
      rest->push_back(arg);
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) return name + ": needs a value";
      value = argv[++i];
    }
    if (auto it = ints.find(name); it != ints.end()) {
      if (!ParseInt(value, it->second)) return name + ": expected a whole number, got '" + value + "'";
    } else if (!ParseDouble(value, doubles[name])) {
      return name + ": expected a number >= 0, got '" + value + "'";
    }
  }
  if (options->clients < 1) return "--clients: at least 1";
  if (options->rounds < 1) return "--rounds: at least 1";
  if (options->submissions < options->clients) return "--submissions: at least --clients";
  if (options->watchers > options->submissions) return "--watchers: at most --submissions";
  return "";
}

}  // namespace ft::load
