#include "common/tokenize/json_view.h"

namespace ft::tokenize {

const nlohmann::json& JsonView::Null() {
  static const nlohmann::json null;
  return null;
}

JsonView JsonView::operator[](const std::string& key) const {
  const std::string path = path_.empty() ? key : path_ + "." + key;
  if (!json_->is_object()) return JsonView(Null(), file_, path);
  const auto found = json_->find(key);
  return JsonView(found == json_->end() ? Null() : *found, file_, path);
}

bool JsonView::Has(const std::string& key) const {
  return json_->is_object() && json_->contains(key) && !(*json_)[key].is_null();
}

JsonView JsonView::At(std::size_t i) const {
  ExpectArray();
  if (i >= json_->size()) Fail("has no element " + std::to_string(i));
  return JsonView((*json_)[i], file_, path_ + "[" + std::to_string(i) + "]");
}

std::size_t JsonView::Size() const {
  if (!json_->is_array() && !json_->is_object()) Fail("must be an array or an object");
  return json_->size();
}

std::string JsonView::String() const {
  if (!json_->is_string())
    Fail(json_->is_null() ? "is missing (a string is expected)" : "must be a string");
  return json_->get<std::string>();
}

std::string JsonView::String(const std::string& fallback) const {
  return json_->is_null() ? fallback : String();
}

bool JsonView::Bool(bool fallback) const {
  if (json_->is_null()) return fallback;
  if (!json_->is_boolean()) Fail("must be true or false");
  return json_->get<bool>();
}

int64_t JsonView::Int() const {
  if (!json_->is_number_integer())
    Fail(json_->is_null() ? "is missing (an integer is expected)" : "must be an integer");
  return json_->get<int64_t>();
}

int64_t JsonView::Int(int64_t fallback) const { return json_->is_null() ? fallback : Int(); }

void JsonView::ExpectArray() const {
  if (!json_->is_array())
    Fail(json_->is_null() ? "is missing (an array is expected)" : "must be an array");
}

void JsonView::ExpectObject() const {
  if (!json_->is_object())
    Fail(json_->is_null() ? "is missing (an object is expected)" : "must be an object");
}

void JsonView::Fail(const std::string& what) const {
  throw TokenizerError(file_ + ": " + (path_.empty() ? std::string("(top level)") : path_) + " " +
                       what);
}

void JsonView::Unsupported(const std::string& kind_of_thing) const {
  const JsonView type = (*this)["type"];
  if (!type.json().is_string()) type.Fail("is missing (the " + kind_of_thing + "'s type)");
  type.Fail("\"" + type.String() + "\" is not supported");
}

}  // namespace ft::tokenize
