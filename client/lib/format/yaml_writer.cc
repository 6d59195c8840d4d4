#include "client/lib/format/yaml_writer.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace ft::client {
namespace {

using Json = nlohmann::ordered_json;

// Words that YAML 1.1 readers (PyYAML among them) turn into booleans or null.
bool IsReservedWord(const std::string& key) {
  static const char* const kWords[] = {"y",   "n",    "yes",   "no",   "on",
                                       "off", "true", "false", "null", "~"};
  const std::string lower = absl::AsciiStrToLower(key);
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* word) { return lower == word; });
}

std::string Key(const std::string& key) {
  const bool plain =
      !key.empty() && (std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_') &&
      std::all_of(key.begin(), key.end(),
                  [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  return plain && !IsReservedWord(key) ? key : Json(key).dump();
}

// A scalar, or an empty container in flow style.
std::string Scalar(const Json& value) {
  if (value.is_object()) return "{}";
  if (value.is_array()) return "[]";
  // Strings with JSON escapes are YAML double-quoted scalars; numbers, booleans and null read
  // back as themselves.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsBlock(const Json& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

void Write(const Json& value, int indent, std::string* out);

// An item of a sequence: "- " then the item, its first line on the dash's line.
void WriteItem(const Json& item, int indent, std::string* out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (!IsBlock(item)) {
    absl::StrAppend(out, pad, "- ", Scalar(item), "\n");
    return;
  }
  std::string nested;
  Write(item, indent + 2, &nested);
  // The nested block starts with indent + 2 spaces: the dash takes the place of the first two.
  absl::StrAppend(out, pad, "- ", nested.substr(static_cast<size_t>(indent) + 2));
}

void Write(const Json& value, int indent, std::string* out) {
  const std::string pad(static_cast<size_t>(indent), ' ');
  if (!IsBlock(value)) {
    absl::StrAppend(out, pad, Scalar(value), "\n");
    return;
  }
  if (value.is_array()) {
    for (const Json& item : value) WriteItem(item, indent, out);
    return;
  }
  for (const auto& [key, child] : value.items()) {
    if (!IsBlock(child)) {
      absl::StrAppend(out, pad, Key(key), ": ", Scalar(child), "\n");
    } else if (child.is_object()) {
      absl::StrAppend(out, pad, Key(key), ":\n");
      Write(child, indent + 2, out);
    } else {
      absl::StrAppend(out, pad, Key(key), ":\n");
      for (const Json& item : child) WriteItem(item, indent + 2, out);
    }
  }
}

}  // namespace

absl::StatusOr<std::string> JsonToYaml(absl::string_view json) {
  Json parsed = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  std::string out;
  Write(parsed, 0, &out);
  return out;
}

absl::StatusOr<std::string> MessageToYaml(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print as JSON: ", status.ToString()));
  }
  return JsonToYaml(json);
}

}  // namespace ft::client
