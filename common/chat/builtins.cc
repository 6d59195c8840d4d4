#include "common/chat/builtins.h"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <set>

#include "common/chat/operators.h"
#include "common/chat/py_json.h"
#include "common/chat/py_string.h"
#include "common/chat/render_error.h"

namespace ft::chat {
namespace {

const std::set<std::string>& Filters() {
  static const std::set<std::string> kNames = {
      "capitalize", "count",     "d",      "default", "first",      "float", "indent",
      "int",        "items",     "join",   "last",    "length",     "list",  "lower",
      "map",        "reject",    "rejectattr",        "replace",    "safe",  "select",
      "selectattr", "string",    "title",  "tojson",  "trim",       "upper"};
  return kNames;
}

const std::set<std::string>& Tests() {
  static const std::set<std::string> kNames = {
      "boolean", "callable", "defined", "divisibleby", "eq",     "equalto", "even",    "false",
      "float",   "ge",       "gt",      "greaterthan", "in",     "integer", "iterable", "le",
      "lessthan", "lower",   "lt",      "mapping",     "ne",     "none",    "number",  "odd",
      "sameas",  "sequence", "string",  "true",        "undefined", "upper", "==",     "!=",
      "<",       "<=",       ">",       ">="};
  return kNames;
}

const std::set<std::string>& Globals() {
  static const std::set<std::string> kNames = {"dict", "namespace", "raise_exception", "range",
                                               "strftime_now"};
  return kNames;
}

const std::set<std::string>& StrMethodsSupported() {
  static const std::set<std::string> kNames = {
      "capitalize", "endswith", "join",  "lower", "lstrip", "replace", "rstrip",
      "split",      "startswith", "strip", "title", "upper"};
  return kNames;
}

const std::set<std::string>& DictMethodsSupported() {
  static const std::set<std::string> kNames = {"get", "items", "keys", "values"};
  return kNames;
}

// Every method name of Python's str, dict and list: getattr finds these before any dict key.
const std::set<std::string>& StrMethods() {
  static const std::set<std::string> kNames = {
      "capitalize", "casefold",  "center",    "count",     "encode",     "endswith",
      "expandtabs", "find",      "format",    "format_map", "index",     "isalnum",
      "isalpha",    "isascii",   "isdecimal", "isdigit",   "isidentifier", "islower",
      "isnumeric",  "isprintable", "isspace", "istitle",   "isupper",    "join",
      "ljust",      "lower",     "lstrip",    "maketrans", "partition",  "removeprefix",
      "removesuffix", "replace", "rfind",     "rindex",    "rjust",      "rpartition",
      "rsplit",     "rstrip",    "split",     "splitlines", "startswith", "strip",
      "swapcase",   "title",     "translate", "upper",     "zfill"};
  return kNames;
}

const std::set<std::string>& DictMethods() {
  static const std::set<std::string> kNames = {"clear", "copy",    "fromkeys",   "get",
                                               "items", "keys",    "pop",        "popitem",
                                               "setdefault", "update", "values"};
  return kNames;
}

const std::set<std::string>& ListMethods() {
  static const std::set<std::string> kNames = {"append", "clear", "copy",   "count",
                                               "extend", "index", "insert", "pop",
                                               "remove", "reverse", "sort"};
  return kNames;
}

[[noreturn]] void Fail(const std::string& message) { throw RenderError(message); }

// Argument `index` by position or keyword `name`; null when neither was given.
const Value* Arg(const ValueList& args, const Kwargs& kwargs, std::size_t index,
                 const std::string& name) {
  if (index < args.size()) return &args[index];
  for (const auto& [key, value] : kwargs) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::string AsciiOnly(const std::string& what, const std::string& text,
                      std::string (*map)(std::string_view)) {
  if (!AsciiCaseMappable(text)) {
    Fail("unsupported: " + what + " of non-ASCII text (Python maps all of Unicode)");
  }
  return map(text);
}

int64_t RequireInt(const Value& v, const std::string& what) {
  if (!v.is_int() && !v.is_bool()) Fail("TypeError: " + what + " must be an integer");
  return v.integer();
}

// Python's int(str): optional sign, underscores between digits, surrounding whitespace.
bool ParsePythonInt(const std::string& text, int64_t* out) {
  const std::string t = PyStrip(text, nullptr, true, true);
  std::string digits;
  std::size_t i = 0;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) digits.push_back(t[i++]);
  if (i >= t.size()) return false;
  for (; i < t.size(); ++i) {
    if (t[i] >= '0' && t[i] <= '9') {
      digits.push_back(t[i]);
    } else if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
               std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    } else {
      return false;
    }
  }
  errno = 0;
  *out = std::strtoll(digits.c_str(), nullptr, 10);
  return errno != ERANGE;
}

bool ParsePythonFloat(const std::string& text, double* out) {
  std::string t = PyStrip(text, nullptr, true, true);
  if (t.empty()) return false;
  std::string cleaned;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_' && i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
        std::isdigit(static_cast<unsigned char>(t[i + 1]))) {
      continue;
    }
    cleaned.push_back(t[i]);
  }
  char* end = nullptr;
  *out = std::strtod(cleaned.c_str(), &end);
  if (end != cleaned.c_str() + cleaned.size()) return false;
  // strtod also reads hexadecimal; Python's float() does not.
  return cleaned.find_first_of("xX") == std::string::npos;
}

// Python's str.splitlines().
std::vector<std::string> SplitLines(const std::string& text) {
  std::vector<std::string> lines;
  const std::vector<char32_t> cps = DecodeUtf8(text);
  std::vector<char32_t> line;
  for (std::size_t i = 0; i < cps.size(); ++i) {
    const char32_t c = cps[i];
    const bool breaks = c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x1C ||
                        c == 0x1D || c == 0x1E || c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!breaks) {
      line.push_back(c);
      continue;
    }
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') ++i;
    lines.push_back(EncodeUtf8(line));
    line.clear();
  }
  if (!line.empty()) lines.push_back(EncodeUtf8(line));
  return lines;
}

// Jinja's make_attrgetter: "a.b.0" looks up each part with getitem (digits as integers).
Value AttributeOf(const Value& item, const Value& attribute) {
  if (!attribute.is_string()) return GetItem(item, attribute);
  Value current = item;
  std::size_t start = 0;
  const std::string& path = attribute.text();
  while (true) {
    const std::size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    int64_t index = 0;
    const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos &&
                        ParsePythonInt(part, &index);
    current = GetItem(current, digits ? Value::Int(index) : Value::String(part));
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

Value SelectOrReject(const Value& input, const ValueList& args, bool by_attribute, bool select) {
  ValueList out;
  std::size_t next = 0;
  Value attribute;
  if (by_attribute) {
    if (args.empty()) Fail("TypeError: missing attribute for selectattr/rejectattr");
    attribute = args[0];
    next = 1;
  }
  std::string test;
  ValueList test_args;
  if (next < args.size()) {
    if (!args[next].is_string()) Fail("TypeError: the test name must be a string");
    test = args[next].text();
    if (!IsSupportedTest(test)) Fail("unsupported test '" + test + "'");
    test_args.assign(args.begin() + next + 1, args.end());
  }
  for (const Value& item : Iterate(input)) {
    const Value subject = by_attribute ? AttributeOf(item, attribute) : item;
    const bool passes = test.empty() ? subject.Truthy() : ApplyTest(test, subject, test_args);
    if (passes == select) out.push_back(item);
  }
  return Value::List(std::move(out));
}

Value Map(const Value& input, const ValueList& args, const Kwargs& kwargs) {
  ValueList out;
  const Value* attribute = Arg({}, kwargs, 0, "attribute");
  if (attribute != nullptr) {
    const Value* fallback = Arg({}, kwargs, 0, "default");
    for (const Value& item : Iterate(input)) {
      Value v = AttributeOf(item, *attribute);
      if (v.is_undefined() && fallback != nullptr) v = *fallback;
      out.push_back(std::move(v));
    }
    return Value::List(std::move(out));
  }
  if (args.empty() || !args[0].is_string()) Fail("TypeError: map needs a filter name or attribute=");
  const std::string filter = args[0].text();
  if (!IsSupportedFilter(filter)) Fail("unsupported filter '" + filter + "'");
  const ValueList rest(args.begin() + 1, args.end());
  for (const Value& item : Iterate(input)) out.push_back(ApplyFilter(filter, item, rest, kwargs));
  return Value::List(std::move(out));
}

Value ToJson(const Value& input, const ValueList& args, const Kwargs& kwargs) {
  JsonDumpOptions options;
  if (const Value* v = Arg(args, kwargs, 0, "ensure_ascii")) options.ensure_ascii = v->Truthy();
  if (const Value* v = Arg(args, kwargs, 1, "indent"); v != nullptr && !v->is_none()) {
    if (v->is_string()) {
      options.indent = v->text();
    } else {
      options.indent = std::string(std::max<int64_t>(0, RequireInt(*v, "indent")), ' ');
    }
  }
  if (const Value* v = Arg(args, kwargs, 2, "separators"); v != nullptr && !v->is_none()) {
    if (!v->is_sequence() || v->items().size() != 2 || !v->items()[0].is_string() ||
        !v->items()[1].is_string()) {
      Fail("TypeError: separators must be a pair of strings");
    }
    options.separators = std::make_pair(v->items()[0].text(), v->items()[1].text());
  }
  if (const Value* v = Arg(args, kwargs, 3, "sort_keys")) options.sort_keys = v->Truthy();
  return Value::String(PyJsonDumps(input, options));
}

Value Indent(const Value& input, const ValueList& args, const Kwargs& kwargs) {
  std::string indention = "    ";
  if (const Value* v = Arg(args, kwargs, 0, "width")) {
    indention = v->is_string() ? v->text() : std::string(std::max<int64_t>(0, RequireInt(*v, "width")), ' ');
  }
  const Value* first = Arg(args, kwargs, 1, "first");
  const Value* blank = Arg(args, kwargs, 2, "blank");
  const std::vector<std::string> lines = SplitLines(input.Str() + "\n");
  std::string out;
  if (blank != nullptr && blank->Truthy()) {
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) out += "\n" + indention;
      out += lines[i];
    }
  } else {
    out = lines.empty() ? "" : lines[0];
    for (std::size_t i = 1; i < lines.size(); ++i) {
      out += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
    }
  }
  if (first != nullptr && first->Truthy()) out = indention + out;
  return Value::String(std::move(out));
}

Value IntFilter(const Value& input, const ValueList& args, const Kwargs& kwargs) {
  const Value* fallback = Arg(args, kwargs, 0, "default");
  const Value def = fallback != nullptr ? *fallback : Value::Int(0);
  if (const Value* base = Arg(args, kwargs, 1, "base"); base != nullptr && base->integer() != 10) {
    Fail("unsupported: int filter with a base other than 10");
  }
  if (input.is_int() || input.is_bool()) return Value::Int(input.integer());
  if (input.is_float()) {
    const double d = input.number();
    if (d != d || d >= 9.2e18 || d <= -9.2e18) return def;
    return Value::Int(static_cast<int64_t>(d));
  }
  if (input.is_string()) {
    int64_t i = 0;
    if (ParsePythonInt(input.text(), &i)) return Value::Int(i);
    double d = 0;
    if (ParsePythonFloat(input.text(), &d) && d == d && d < 9.2e18 && d > -9.2e18) {
      return Value::Int(static_cast<int64_t>(d));
    }
  }
  return def;
}

Value FloatFilter(const Value& input, const ValueList& args, const Kwargs& kwargs) {
  const Value* fallback = Arg(args, kwargs, 0, "default");
  const Value def = fallback != nullptr ? *fallback : Value::Float(0.0);
  if (input.is_number()) return Value::Float(input.number());
  double d = 0;
  if (input.is_string() && ParsePythonFloat(input.text(), &d)) return Value::Float(d);
  return def;
}

Value CallStrMethod(const std::string& self, const std::string& name, const ValueList& args,
                    const Kwargs& kwargs) {
  auto optional_string = [&](std::size_t index, const std::string& key) -> const std::string* {
    const Value* v = Arg(args, kwargs, index, key);
    if (v == nullptr || v->is_none()) return nullptr;
    if (!v->is_string()) Fail("TypeError: " + name + " arg must be None or str");
    return &v->text();
  };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    return Value::String(PyStrip(self, optional_string(0, "chars"), name != "rstrip",
                                 name != "lstrip"));
  }
  if (name == "startswith" || name == "endswith") {
    const Value* affix = Arg(args, kwargs, 0, "prefix");
    if (affix == nullptr) Fail("TypeError: " + name + "() takes at least 1 argument");
    ValueList options = affix->kind() == Value::Kind::kTuple ? affix->items() : ValueList{*affix};
    for (const Value& option : options) {
      if (!option.is_string()) Fail("TypeError: " + name + " first arg must be str or a tuple of str");
      const std::string& a = option.text();
      if (a.size() <= self.size() &&
          (name == "startswith" ? self.compare(0, a.size(), a) == 0
                                : self.compare(self.size() - a.size(), a.size(), a) == 0)) {
        return Value::Bool(true);
      }
    }
    return Value::Bool(false);
  }
  if (name == "split") {
    const std::string* sep = optional_string(0, "sep");
    if (sep != nullptr && sep->empty()) Fail("ValueError: empty separator");
    const Value* maxsplit = Arg(args, kwargs, 1, "maxsplit");
    ValueList parts;
    for (std::string& part : PySplit(self, sep, maxsplit ? RequireInt(*maxsplit, "maxsplit") : -1)) {
      parts.push_back(Value::String(std::move(part)));
    }
    return Value::List(std::move(parts));
  }
  if (name == "replace") {
    const Value* old = Arg(args, kwargs, 0, "old");
    const Value* replacement = Arg(args, kwargs, 1, "new");
    const Value* count = Arg(args, kwargs, 2, "count");
    if (old == nullptr || replacement == nullptr || !old->is_string() || !replacement->is_string()) {
      Fail("TypeError: replace() takes two strings");
    }
    return Value::String(PyReplace(self, old->text(), replacement->text(),
                                   count ? RequireInt(*count, "count") : -1));
  }
  if (name == "join") {
    const Value* items = Arg(args, kwargs, 0, "iterable");
    if (items == nullptr) Fail("TypeError: join() takes exactly one argument");
    std::string out;
    bool first = true;
    for (const Value& item : Iterate(*items)) {
      if (!item.is_string()) Fail("TypeError: sequence item: expected str instance, " + item.TypeName() + " found");
      if (!first) out += self;
      out += item.text();
      first = false;
    }
    return Value::String(std::move(out));
  }
  if (name == "upper") return Value::String(AsciiOnly("upper()", self, AsciiUpper));
  if (name == "lower") return Value::String(AsciiOnly("lower()", self, AsciiLower));
  if (name == "title") return Value::String(AsciiOnly("title()", self, PyTitle));
  if (name == "capitalize") return Value::String(AsciiOnly("capitalize()", self, PyCapitalize));
  Fail("unsupported method str." + name + "()");
}

Value CallDictMethod(const Value& self, const std::string& name, const ValueList& args,
                     const Kwargs& kwargs) {
  if (name == "items") {
    ValueList out;
    for (const auto& [k, v] : self.pairs()) out.push_back(Value::Tuple({k, v}));
    return Value::List(std::move(out));
  }
  if (name == "keys" || name == "values") {
    ValueList out;
    for (const auto& [k, v] : self.pairs()) out.push_back(name == "keys" ? k : v);
    return Value::List(std::move(out));
  }
  if (name == "get") {
    const Value* key = Arg(args, kwargs, 0, "key");
    if (key == nullptr) Fail("TypeError: get expected at least 1 argument");
    const Value* found = self.Find(*key);
    if (found != nullptr) return *found;
    const Value* fallback = Arg(args, kwargs, 1, "default");
    return fallback != nullptr ? *fallback : Value::None();
  }
  Fail("unsupported method dict." + name + "()");
}

Value CallGlobal(const std::string& name, const ValueList& args, const Kwargs& kwargs) {
  if (name == "raise_exception") {
    throw RenderError(args.empty() ? std::string() : args[0].Str(), /*raised_by_template=*/true);
  }
  if (name == "range") {
    if (args.empty() || args.size() > 3) Fail("TypeError: range expected 1 to 3 arguments");
    int64_t start = 0;
    int64_t stop = 0;
    int64_t step = 1;
    if (args.size() == 1) {
      stop = RequireInt(args[0], "range()");
    } else {
      start = RequireInt(args[0], "range()");
      stop = RequireInt(args[1], "range()");
      if (args.size() == 3) step = RequireInt(args[2], "range()");
    }
    if (step == 0) Fail("ValueError: range() arg 3 must not be zero");
    ValueList out;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      // The sandbox's MAX_RANGE.
      if (out.size() >= 100000) Fail("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
      out.push_back(Value::Int(i));
    }
    return Value::List(std::move(out));
  }
  if (name == "namespace" || name == "dict") {
    ValuePairs members;
    if (!args.empty()) {
      if (args.size() > 1 || args[0].kind() != Value::Kind::kDict) {
        Fail("TypeError: " + name + "() takes one mapping and keyword arguments");
      }
      members = args[0].pairs();
    }
    for (const auto& [key, value] : kwargs) {
      bool replaced = false;
      for (auto& member : members) {
        if (member.first.is_string() && member.first.text() == key) {
          member.second = value;
          replaced = true;
        }
      }
      if (!replaced) members.emplace_back(Value::String(key), value);
    }
    return name == "dict" ? Value::Dict(std::move(members)) : Value::Namespace(std::move(members));
  }
  if (name == "strftime_now") {
    if (args.empty() || !args[0].is_string()) Fail("TypeError: strftime_now takes a format string");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buffer[512];
    const std::size_t n = std::strftime(buffer, sizeof(buffer), args[0].text().c_str(), &local);
    return Value::String(std::string(buffer, n));
  }
  Fail("unsupported function '" + name + "'");
}

bool IsAsciiLowerText(const std::string& text, bool upper) {
  if (!AsciiCaseMappable(text)) Fail("unsupported: lower/upper test of non-ASCII text");
  bool cased = false;
  for (char c : text) {
    if (c >= 'a' && c <= 'z') {
      if (upper) return false;
      cased = true;
    } else if (c >= 'A' && c <= 'Z') {
      if (!upper) return false;
      cased = true;
    }
  }
  return cased;
}

}  // namespace

bool IsSupportedFilter(const std::string& name) { return Filters().count(name) > 0; }
bool IsSupportedTest(const std::string& name) { return Tests().count(name) > 0; }
bool IsSupportedGlobal(const std::string& name) { return Globals().count(name) > 0; }
bool IsSupportedMethod(const std::string& name) {
  return StrMethodsSupported().count(name) > 0 || DictMethodsSupported().count(name) > 0;
}

bool HasMethod(const Value& object, const std::string& name) {
  switch (object.kind()) {
    case Value::Kind::kString:
      return StrMethods().count(name) > 0;
    case Value::Kind::kDict:
      return DictMethods().count(name) > 0;
    case Value::Kind::kList:
      return ListMethods().count(name) > 0;
    case Value::Kind::kTuple:
      return name == "count" || name == "index";
    default:
      return false;
  }
}

Value CallCallable(const Value& callable, const ValueList& args, const Kwargs& kwargs) {
  if (!callable.is_callable()) {
    FailIfUndefined(callable);
    Fail("TypeError: '" + callable.TypeName() + "' object is not callable");
  }
  const Value* receiver = callable.receiver();
  if (receiver == nullptr) return CallGlobal(callable.text(), args, kwargs);
  if (receiver->is_string()) return CallStrMethod(receiver->text(), callable.text(), args, kwargs);
  if (receiver->kind() == Value::Kind::kDict) {
    return CallDictMethod(*receiver, callable.text(), args, kwargs);
  }
  // The immutable sandbox refuses list.append and the other mutating methods.
  Fail("SecurityError: access to attribute '" + callable.text() + "' of '" + receiver->TypeName() +
       "' object is unsafe.");
}

Value ApplyFilter(const std::string& name, const Value& input, const ValueList& args,
                  const Kwargs& kwargs) {
  if (name == "default" || name == "d") {
    const Value* fallback = Arg(args, kwargs, 0, "default_value");
    const Value* boolean = Arg(args, kwargs, 1, "boolean");
    const bool use_fallback =
        input.is_undefined() || (boolean != nullptr && boolean->Truthy() && !input.Truthy());
    if (!use_fallback) return input;
    return fallback != nullptr ? *fallback : Value::String("");
  }
  if (name == "trim") {
    const Value* chars = Arg(args, kwargs, 0, "chars");
    const std::string* set = chars != nullptr && chars->is_string() ? &chars->text() : nullptr;
    return Value::String(PyStrip(input.Str(), set, true, true));
  }
  if (name == "length" || name == "count") return Value::Int(Length(input));
  if (name == "upper") return Value::String(AsciiOnly("upper", input.Str(), AsciiUpper));
  if (name == "lower") return Value::String(AsciiOnly("lower", input.Str(), AsciiLower));
  if (name == "capitalize") return Value::String(AsciiOnly("capitalize", input.Str(), PyCapitalize));
  if (name == "title") return Value::String(AsciiOnly("title", input.Str(), JinjaTitle));
  if (name == "string" || name == "safe") return Value::String(input.Str());
  if (name == "replace") {
    const Value* old = Arg(args, kwargs, 0, "old");
    const Value* replacement = Arg(args, kwargs, 1, "new");
    const Value* count = Arg(args, kwargs, 2, "count");
    if (old == nullptr || replacement == nullptr) Fail("TypeError: replace needs old and new");
    return Value::String(PyReplace(input.Str(), old->Str(), replacement->Str(),
                                   count != nullptr && !count->is_none() ? RequireInt(*count, "count") : -1));
  }
  if (name == "join") {
    const Value* separator = Arg(args, kwargs, 0, "d");
    const Value* attribute = Arg(args, kwargs, 1, "attribute");
    std::string out;
    bool first = true;
    for (const Value& item : Iterate(input)) {
      if (!first) out += separator != nullptr ? separator->Str() : "";
      out += (attribute != nullptr && !attribute->is_none() ? AttributeOf(item, *attribute) : item).Str();
      first = false;
    }
    return Value::String(std::move(out));
  }
  if (name == "list") return Value::List(Iterate(input));
  if (name == "first" || name == "last") {
    const ValueList items = Iterate(input);
    if (items.empty()) return Value::Undefined(name == "first" ? "first item" : "last item");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "int") return IntFilter(input, args, kwargs);
  if (name == "float") return FloatFilter(input, args, kwargs);
  if (name == "items") {
    if (input.is_undefined()) return Value::List({});
    if (input.kind() != Value::Kind::kDict) Fail("TypeError: Can only get item pairs from a mapping.");
    return CallDictMethod(input, "items", {}, {});
  }
  if (name == "tojson") return ToJson(input, args, kwargs);
  if (name == "selectattr" || name == "rejectattr") {
    return SelectOrReject(input, args, /*by_attribute=*/true, name == "selectattr");
  }
  if (name == "select" || name == "reject") {
    return SelectOrReject(input, args, /*by_attribute=*/false, name == "select");
  }
  if (name == "map") return Map(input, args, kwargs);
  if (name == "indent") return Indent(input, args, kwargs);
  Fail("unsupported filter '" + name + "'");
}

bool ApplyTest(const std::string& name, const Value& input, const ValueList& args) {
  auto arg = [&]() -> const Value& {
    if (args.empty()) Fail("TypeError: test '" + name + "' needs an argument");
    return args[0];
  };
  if (name == "defined") return !input.is_undefined();
  if (name == "undefined") return input.is_undefined();
  if (name == "none") return input.is_none();
  if (name == "boolean") return input.is_bool();
  if (name == "true") return input.is_bool() && input.boolean();
  if (name == "false") return input.is_bool() && !input.boolean();
  if (name == "integer") return input.is_int();
  if (name == "float") return input.is_float();
  if (name == "number") return input.is_number();
  if (name == "string") return input.is_string();
  if (name == "mapping") return input.kind() == Value::Kind::kDict;
  if (name == "callable") return input.is_callable();
  if (name == "iterable") {
    return input.is_undefined() || input.is_string() || input.is_sequence() ||
           input.kind() == Value::Kind::kDict;
  }
  if (name == "sequence") {
    return input.is_undefined() || input.is_string() || input.is_sequence() ||
           input.kind() == Value::Kind::kDict;
  }
  if (name == "lower" || name == "upper") return IsAsciiLowerText(input.Str(), name == "upper");
  if (name == "odd" || name == "even") {
    const int64_t v = RequireInt(input, name);
    return ((v % 2 != 0) ? name == "odd" : name == "even");
  }
  if (name == "divisibleby") {
    const int64_t d = RequireInt(arg(), "divisibleby");
    if (d == 0) Fail("ZeroDivisionError: integer division or modulo by zero");
    return RequireInt(input, "divisibleby") % d == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return CompareOp("==", input, arg());
  if (name == "ne" || name == "!=") return CompareOp("!=", input, arg());
  if (name == "lt" || name == "lessthan" || name == "<") return CompareOp("<", input, arg());
  if (name == "le" || name == "<=") return CompareOp("<=", input, arg());
  if (name == "gt" || name == "greaterthan" || name == ">") return CompareOp(">", input, arg());
  if (name == "ge" || name == ">=") return CompareOp(">=", input, arg());
  if (name == "in") return CompareOp("in", input, arg());
  if (name == "sameas") {
    const Value& other = arg();
    if (input.is_none() || other.is_none()) return input.is_none() && other.is_none();
    if (input.is_bool() || other.is_bool()) {
      return input.is_bool() && other.is_bool() && input.boolean() == other.boolean();
    }
    if (input.is_mapping() && other.is_mapping()) return &input.pairs() == &other.pairs();
    if (input.is_sequence() && other.is_sequence()) return &input.items() == &other.items();
    return false;
  }
  Fail("unsupported test '" + name + "'");
}

}  // namespace ft::chat
