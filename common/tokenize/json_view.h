// Read-only view of a node of tokenizer.json that knows its JSON path, so that every refusal
// names the file and the place: `tokenizer.json: pre_tokenizer.pretokenizers[1].type "Foo" is
// not supported`.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace ft::tokenize {

// A tokenizer file that cannot be read, parsed or supported; the message names file and place.
class TokenizerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JsonView {
 public:
  JsonView(const nlohmann::json& json, std::string file, std::string path)
      : json_(&json), file_(std::move(file)), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *json_; }
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  bool is_null() const { return json_->is_null(); }

  // Member `key`; a null view when absent (so optional fields read as their defaults).
  JsonView operator[](const std::string& key) const;
  bool Has(const std::string& key) const;
  // Element i of an array.
  JsonView At(std::size_t i) const;
  std::size_t Size() const;  // of an array or object; refuses other kinds

  std::string String() const;
  std::string String(const std::string& fallback) const;  // fallback when null
  bool Bool(bool fallback) const;
  int64_t Int() const;
  int64_t Int(int64_t fallback) const;
  void ExpectArray() const;
  void ExpectObject() const;

  // Throws TokenizerError "<file>: <path> <what>".
  [[noreturn]] void Fail(const std::string& what) const;
  // The `type` member, refused when it is not one of the names the caller knows.
  [[noreturn]] void Unsupported(const std::string& kind_of_thing) const;

 private:
  static const nlohmann::json& Null();
  const nlohmann::json* json_;
  std::string file_;
  std::string path_;
};

}  // namespace ft::tokenize
