#include "common/chat/operators.h"

#include <cmath>

#include "common/chat/builtins.h"
#include "common/chat/py_string.h"
#include "common/chat/render_error.h"

namespace ft::chat {
namespace {

[[noreturn]] void TypeError(const std::string& message) { throw RenderError("TypeError: " + message); }

[[noreturn]] void Overflow() {
  throw RenderError("integer overflow (Python's integers are unbounded; ours are 64-bit)");
}

// a op b on int64, refusing what would overflow.
int64_t Checked(char op, int64_t a, int64_t b) {
  int64_t r = 0;
  const bool overflow = op == '+'   ? __builtin_add_overflow(a, b, &r)
                        : op == '-' ? __builtin_sub_overflow(a, b, &r)
                                    : __builtin_mul_overflow(a, b, &r);
  if (overflow) Overflow();
  return r;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t FloorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

Value Repeat(const Value& sequence, int64_t times) {
  if (sequence.is_string()) {
    std::string out;
    for (int64_t i = 0; i < times; ++i) out += sequence.text();
    return Value::String(std::move(out));
  }
  ValueList out;
  for (int64_t i = 0; i < times; ++i) {
    out.insert(out.end(), sequence.items().begin(), sequence.items().end());
  }
  return sequence.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(out))
                                                : Value::List(std::move(out));
}

// Python's ordering of two values; throws TypeError where Python does.
int Order(const Value& a, const Value& b, const std::string& op) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) {
      const double x = a.number();
      const double y = b.number();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.integer() < b.integer() ? -1 : a.integer() > b.integer() ? 1 : 0;
  }
  if (a.is_string() && b.is_string()) {
    // UTF-8 byte order is code point order.
    const int c = a.text().compare(b.text());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.kind() == b.kind() && a.is_sequence()) {
    const std::size_t n = std::min(a.items().size(), b.items().size());
    for (std::size_t i = 0; i < n; ++i) {
      if (!Equals(a.items()[i], b.items()[i])) return Order(a.items()[i], b.items()[i], op);
    }
    return a.items().size() < b.items().size() ? -1 : a.items().size() > b.items().size() ? 1 : 0;
  }
  FailIfUndefined(a);
  FailIfUndefined(b);
  TypeError("'" + op + "' not supported between instances of '" + a.TypeName() + "' and '" +
            b.TypeName() + "'");
}

}  // namespace

void FailIfUndefined(const Value& value) {
  if (value.is_undefined()) {
    throw RenderError("UndefinedError: '" + value.text() + "' is undefined");
  }
}

Value GetAttr(const Value& object, const std::string& name) {
  FailIfUndefined(object);
  if (object.kind() == Value::Kind::kNamespace) {
    const Value* member = object.Find(Value::String(name));
    return member != nullptr ? *member : Value::Undefined(name);
  }
  if (HasMethod(object, name)) {
    return Value::Callable(name, std::make_shared<const Value>(object));
  }
  if (object.kind() == Value::Kind::kDict) {
    const Value* member = object.Find(Value::String(name));
    if (member != nullptr) return *member;
  }
  return Value::Undefined(name);
}

Value GetItem(const Value& object, const Value& key) {
  FailIfUndefined(object);
  std::string undefined_name = key.is_string() ? key.text() : key.Repr();
  if (object.kind() == Value::Kind::kDict) {
    const Value* member = object.Find(key);
    if (member != nullptr) return *member;
  } else if ((object.is_sequence() || object.is_string()) &&
             (key.is_int() || key.is_bool())) {
    if (object.is_string()) {
      const std::vector<char32_t> cps = DecodeUtf8(object.text());
      int64_t i = key.integer();
      if (i < 0) i += static_cast<int64_t>(cps.size());
      if (i >= 0 && i < static_cast<int64_t>(cps.size())) {
        std::string out;
        AppendUtf8(cps[i], out);
        return Value::String(std::move(out));
      }
    } else {
      int64_t i = key.integer();
      const int64_t size = static_cast<int64_t>(object.items().size());
      if (i < 0) i += size;
      if (i >= 0 && i < size) return object.items()[i];
    }
  }
  if (key.is_string() && object.kind() != Value::Kind::kNamespace) {
    return GetAttr(object, key.text());
  }
  return Value::Undefined(undefined_name);
}

Value Slice(const Value& object, const Value* start, const Value* stop, const Value* step) {
  FailIfUndefined(object);
  if (!object.is_string() && !object.is_sequence()) return Value::Undefined("slice");
  auto bound = [](const Value* v) -> const Value* {
    return v == nullptr || v->is_none() ? nullptr : v;
  };
  start = bound(start);
  stop = bound(stop);
  step = bound(step);
  for (const Value* v : {start, stop, step}) {
    if (v != nullptr && !v->is_int() && !v->is_bool()) {
      TypeError("slice indices must be integers or None");
    }
  }
  const std::vector<char32_t> cps =
      object.is_string() ? DecodeUtf8(object.text()) : std::vector<char32_t>();
  const int64_t size =
      object.is_string() ? static_cast<int64_t>(cps.size()) : static_cast<int64_t>(object.items().size());
  const int64_t s = step == nullptr ? 1 : step->integer();
  if (s == 0) throw RenderError("ValueError: slice step cannot be zero");
  // CPython's PySlice_AdjustIndices.
  auto adjust = [&](const Value* v, int64_t fallback) {
    if (v == nullptr) return fallback;
    int64_t i = v->integer();
    if (i < 0) {
      i += size;
      if (i < 0) i = s < 0 ? -1 : 0;
    } else if (i >= size) {
      i = s < 0 ? size - 1 : size;
    }
    return i;
  };
  const int64_t begin = adjust(start, s < 0 ? size - 1 : 0);
  const int64_t end = adjust(stop, s < 0 ? -1 : size);
  std::vector<int64_t> picked;
  for (int64_t i = begin; s > 0 ? i < end : i > end; i += s) picked.push_back(i);
  if (object.is_string()) {
    std::string out;
    for (int64_t i : picked) AppendUtf8(cps[i], out);
    return Value::String(std::move(out));
  }
  ValueList out;
  for (int64_t i : picked) out.push_back(object.items()[i]);
  return object.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(out))
                                              : Value::List(std::move(out));
}

ValueList Iterate(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return value.items();
    case Value::Kind::kDict: {
      ValueList keys;
      for (const auto& [k, v] : value.pairs()) keys.push_back(k);
      return keys;
    }
    case Value::Kind::kString: {
      ValueList chars;
      for (char32_t c : DecodeUtf8(value.text())) {
        std::string one;
        AppendUtf8(c, one);
        chars.push_back(Value::String(std::move(one)));
      }
      return chars;
    }
    default:
      TypeError("'" + value.TypeName() + "' object is not iterable");
  }
}

int64_t Length(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(CodePointCount(value.text()));
    case Value::Kind::kList:
    case Value::Kind::kTuple:
      return static_cast<int64_t>(value.items().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(value.pairs().size());
    default:
      TypeError("object of type '" + value.TypeName() + "' has no len()");
  }
}

Value BinaryOp(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") return Value::String(a.Str() + b.Str());
  FailIfUndefined(a);
  FailIfUndefined(b);
  const bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
  const bool numbers = a.is_number() && b.is_number();
  if (op == "+") {
    if (ints) return Value::Int(Checked('+', a.integer(), b.integer()));
    if (numbers) return Value::Float(a.number() + b.number());
    if (a.is_string() && b.is_string()) return Value::String(a.text() + b.text());
    if (a.is_sequence() && a.kind() == b.kind()) {
      ValueList items = a.items();
      items.insert(items.end(), b.items().begin(), b.items().end());
      return a.kind() == Value::Kind::kTuple ? Value::Tuple(std::move(items))
                                             : Value::List(std::move(items));
    }
    if (a.is_string()) TypeError("can only concatenate str (not \"" + b.TypeName() + "\") to str");
  } else if (op == "-") {
    if (ints) return Value::Int(Checked('-', a.integer(), b.integer()));
    if (numbers) return Value::Float(a.number() - b.number());
  } else if (op == "*") {
    if (ints) return Value::Int(Checked('*', a.integer(), b.integer()));
    if (numbers) return Value::Float(a.number() * b.number());
    if ((a.is_string() || a.is_sequence()) && (b.is_int() || b.is_bool())) {
      return Repeat(a, b.integer());
    }
    if ((b.is_string() || b.is_sequence()) && (a.is_int() || a.is_bool())) {
      return Repeat(b, a.integer());
    }
  } else if (op == "/") {
    if (numbers) {
      if (b.number() == 0) throw RenderError("ZeroDivisionError: division by zero");
      return Value::Float(a.number() / b.number());
    }
  } else if (op == "//" || op == "%") {
    if (numbers) {
      if (b.number() == 0) throw RenderError("ZeroDivisionError: integer division or modulo by zero");
      if (ints) {
        if (a.integer() == INT64_MIN && b.integer() == -1) Overflow();
        return Value::Int(op == "//" ? FloorDiv(a.integer(), b.integer())
                                     : FloorMod(a.integer(), b.integer()));
      }
      // CPython's float_divmod.
      const double x = a.number();
      const double y = b.number();
      double mod = std::fmod(x, y);
      double div = (x - mod) / y;
      if (mod != 0) {
        if ((y < 0) != (mod < 0)) {
          mod += y;
          div -= 1.0;
        }
      } else {
        mod = std::copysign(0.0, y);
      }
      if (op == "%") return Value::Float(mod);
      double floordiv;
      if (div != 0) {
        floordiv = std::floor(div);
        if (div - floordiv > 0.5) floordiv += 1.0;
      } else {
        floordiv = std::copysign(0.0, x / y);
      }
      return Value::Float(floordiv);
    }
    if (op == "%" && a.is_string()) {
      throw RenderError("unsupported: printf-style string formatting with '%'");
    }
  } else if (op == "**") {
    if (ints && b.integer() >= 0) {
      int64_t result = 1;
      for (int64_t i = 0; i < b.integer(); ++i) {
        result = Checked('*', result, a.integer());
      }
      return Value::Int(result);
    }
    if (numbers) return Value::Float(std::pow(a.number(), b.number()));
  }
  TypeError("unsupported operand type(s) for " + op + ": '" + a.TypeName() + "' and '" +
            b.TypeName() + "'");
}

bool CompareOp(const std::string& op, const Value& a, const Value& b) {
  if (op == "==") return Equals(a, b);
  if (op == "!=") return !Equals(a, b);
  if (op == "in" || op == "not in") {
    bool found = false;
    if (b.is_string()) {
      FailIfUndefined(a);
      if (!a.is_string()) {
        TypeError("'in <string>' requires string as left operand, not " + a.TypeName());
      }
      found = b.text().find(a.text()) != std::string::npos;
    } else if (b.is_mapping()) {
      found = b.Find(a) != nullptr;
    } else {
      for (const Value& item : Iterate(b)) {
        if (Equals(item, a)) {
          found = true;
          break;
        }
      }
    }
    return op == "in" ? found : !found;
  }
  const int order = Order(a, b, op);
  if (op == "<") return order < 0;
  if (op == "<=") return order <= 0;
  if (op == ">") return order > 0;
  return order >= 0;
}

}  // namespace ft::chat
