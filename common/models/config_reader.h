// Reads typed fields of a parsed config.json, refusing wrong types and out-of-range values with a
// ModelFolderError that names the file and the field. Standard library + nlohmann_json only.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/models/model_folder.h"

namespace ft::models {

class ConfigReader {
 public:
  // `what` names the configuration class in "missing" errors ("a BloomConfig").
  ConfigReader(const nlohmann::json& json, const std::string& file, std::string what)
      : json_(json), file_(file), what_(std::move(what)) {}

  [[noreturn]] void Fail(const std::string& message) const {
    throw ModelFolderError(/*not_found=*/false, file_ + ": " + message);
  }

  const nlohmann::json& json() const { return json_; }

  // The integer under the first of `names` present, nullopt when none is; refuses two spellings
  // with different values.
  std::optional<int64_t> Integer(std::initializer_list<const char*> names) const {
    std::optional<int64_t> value;
    const char* found = nullptr;
    for (const char* name : names) {
      const auto it = json_.find(name);
      if (it == json_.end() || it->is_null()) continue;
      if (!it->is_number_integer())
        Fail(std::string(name) + ": expected an integer, got " + it->dump());
      const int64_t here = it->get<int64_t>();
      if (value && *value != here) {
        Fail(std::string(found) + " (" + std::to_string(*value) + ") and " + name + " (" +
             std::to_string(here) + ") disagree");
      }
      if (!value) found = name;
      value = here;
    }
    return value;
  }

  int64_t Required(std::initializer_list<const char*> names, int64_t min, int64_t max) const {
    const std::optional<int64_t> value = Integer(names);
    const std::string name = *names.begin();
    if (!value) Fail(name + ": missing (" + what_ + " needs it)");
    return InRange(name, *value, min, max);
  }

  int64_t Optional(std::initializer_list<const char*> names, int64_t fallback, int64_t min,
                   int64_t max) const {
    const std::optional<int64_t> value = Integer(names);
    return value ? InRange(*names.begin(), *value, min, max) : fallback;
  }

  double Real(const char* name, double fallback, double min, double max) const {
    const auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return fallback;
    if (!it->is_number()) Fail(std::string(name) + ": expected a number, got " + it->dump());
    const double value = it->get<double>();
    if (!(value > min && value <= max)) {
      Fail(std::string(name) + ": must be in (" + std::to_string(min) + ", " + std::to_string(max) +
           "], got " + it->dump());
    }
    return value;
  }

  // A dropout rate: a number in [0, 1).
  double Rate(const char* name, double fallback) const {
    const auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return fallback;
    if (!it->is_number()) Fail(std::string(name) + ": expected a number, got " + it->dump());
    const double value = it->get<double>();
    if (!(value >= 0 && value < 1)) {
      Fail(std::string(name) + ": a dropout rate must be in [0, 1), got " + it->dump());
    }
    return value;
  }

  bool Boolean(const char* name, bool fallback) const {
    const auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) Fail(std::string(name) + ": expected true or false, got " + it->dump());
    return it->get<bool>();
  }

  std::string String(const char* name, const std::string& fallback) const {
    const auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return fallback;
    if (!it->is_string()) Fail(std::string(name) + ": expected a string, got " + it->dump());
    return it->get<std::string>();
  }

 private:
  int64_t InRange(const std::string& name, int64_t value, int64_t min, int64_t max) const {
    if (value < min || value > max) {
      Fail(name + ": must be " + std::to_string(min) + ".." + std::to_string(max) + ", got " +
           std::to_string(value));
    }
    return value;
  }

  const nlohmann::json& json_;
  const std::string& file_;
  std::string what_;
};

}  // namespace ft::models
