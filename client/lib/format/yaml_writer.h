// YAML for `-o yaml`: the same data as `-o json` (protobuf's JSON mapping), written as block YAML.
// Strings are written as double-quoted scalars with JSON escapes (valid YAML), so a value such as
// "no", "1e3" or "" keeps its type; keys are written bare when that cannot change them.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace ft::client {

// The JSON document as YAML (a trailing newline included). INVALID_ARGUMENT for bad JSON.
absl::StatusOr<std::string> JsonToYaml(absl::string_view json);

// The message in protobuf's JSON mapping (proto field names, every field), as YAML.
absl::StatusOr<std::string> MessageToYaml(const google::protobuf::Message& message);

}  // namespace ft::client
