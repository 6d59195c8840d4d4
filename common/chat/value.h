// The values a chat template computes with, with Python's and Jinja2's semantics: undefined,
// None, bool, int, float, str, list, tuple, dict (insertion-ordered), namespace() objects, and
// callables (the template's globals and the methods of str, dict and list).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::chat {

class Value;
using ValueList = std::vector<Value>;
using ValuePairs = std::vector<std::pair<Value, Value>>;

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kTuple,
    kDict,
    kNamespace,  // namespace(): a dict whose attributes `set ns.x = ...` may assign
    kCallable,   // a global function, or a method bound to its receiver
  };

  Value() = default;  // undefined
  static Value Undefined(std::string name);
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(ValueList items);
  static Value Tuple(ValueList items);
  static Value Dict(ValuePairs items);
  static Value Namespace(ValuePairs items);
  // A global function (`range`) or a method (`strip`) bound to `receiver`.
  static Value Callable(std::string name, std::shared_ptr<const Value> receiver);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return is_int() || is_float() || is_bool(); }  // Python's Number
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_sequence() const { return kind_ == Kind::kList || kind_ == Kind::kTuple; }
  bool is_mapping() const { return kind_ == Kind::kDict || kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  bool boolean() const { return b_; }
  int64_t integer() const { return is_bool() ? (b_ ? 1 : 0) : i_; }
  double number() const { return is_float() ? d_ : static_cast<double>(integer()); }
  // For strings: the text. For undefined: the name it was looked up as. For callables: the name.
  const std::string& text() const { return s_; }
  const ValueList& items() const { return *list_; }
  const ValuePairs& pairs() const { return *dict_; }
  ValuePairs& mutable_pairs() const { return *dict_; }  // namespaces only
  const Value* receiver() const { return receiver_.get(); }

  // Member of a dict or namespace by key; null when absent.
  const Value* Find(const Value& key) const;

  // Python's bool(x); undefined is false.
  bool Truthy() const;
  // Python's str(x) as Jinja prints it: undefined prints nothing, None "None", lists as repr.
  std::string Str() const;
  // Python's repr(x).
  std::string Repr() const;
  // The Python type name, for error messages ("str", "list", ...).
  std::string TypeName() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  int64_t i_ = 0;
  double d_ = 0;
  std::string s_;
  std::shared_ptr<const ValueList> list_;
  std::shared_ptr<ValuePairs> dict_;
  std::shared_ptr<const Value> receiver_;
};

// Python's ==, with Jinja's undefined (equal only to undefined).
bool Equals(const Value& a, const Value& b);

}  // namespace ft::chat
