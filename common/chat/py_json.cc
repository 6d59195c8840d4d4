#include "common/chat/py_json.h"

#include <algorithm>
#include <cstdio>

#include "common/chat/py_string.h"
#include "common/chat/render_error.h"

namespace ft::chat {
namespace {

void AppendJsonString(const std::string& text, bool ensure_ascii, std::string& out) {
  out.push_back('"');
  char buffer[16];
  for (char32_t c : DecodeUtf8(text)) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
          if (c >= 0x10000) {
            const char32_t v = c - 0x10000;
            std::snprintf(buffer, sizeof(buffer), "\\u%04x\\u%04x",
                          static_cast<unsigned>(0xD800 | (v >> 10)),
                          static_cast<unsigned>(0xDC00 | (v & 0x3FF)));
          } else {
            std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
          }
          out += buffer;
        } else {
          AppendUtf8(c, out);
        }
    }
  }
  out.push_back('"');
}

std::string FloatJson(double d) {
  if (d != d) return "NaN";
  if (d == 1.0 / 0.0) return "Infinity";
  if (d == -1.0 / 0.0) return "-Infinity";
  return PyFloatRepr(d);
}

class Dumper {
 public:
  explicit Dumper(const JsonDumpOptions& options) : options_(options) {
    if (options.separators) {
      item_separator_ = options.separators->first;
      key_separator_ = options.separators->second;
    } else {
      item_separator_ = options.indent ? "," : ", ";
      key_separator_ = ": ";
    }
  }

  void Dump(const Value& value, int level, std::string& out) const {
    switch (value.kind()) {
      case Value::Kind::kNone:
        out += "null";
        return;
      case Value::Kind::kBool:
        out += value.boolean() ? "true" : "false";
        return;
      case Value::Kind::kInt:
        out += std::to_string(value.integer());
        return;
      case Value::Kind::kFloat:
        out += FloatJson(value.number());
        return;
      case Value::Kind::kString:
        AppendJsonString(value.text(), options_.ensure_ascii, out);
        return;
      case Value::Kind::kList:
      case Value::Kind::kTuple: {
        if (value.items().empty()) {
          out += "[]";
          return;
        }
        out += "[";
        for (std::size_t i = 0; i < value.items().size(); ++i) {
          out += i == 0 ? Newline(level + 1) : item_separator_ + Newline(level + 1);
          Dump(value.items()[i], level + 1, out);
        }
        out += Newline(level) + "]";
        return;
      }
      case Value::Kind::kDict: {
        if (value.pairs().empty()) {
          out += "{}";
          return;
        }
        std::vector<std::pair<std::string, const Value*>> members;
        for (const auto& [key, member] : value.pairs()) members.emplace_back(Key(key), &member);
        if (options_.sort_keys) {
          std::stable_sort(members.begin(), members.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        out += "{";
        for (std::size_t i = 0; i < members.size(); ++i) {
          out += i == 0 ? Newline(level + 1) : item_separator_ + Newline(level + 1);
          AppendJsonString(members[i].first, options_.ensure_ascii, out);
          out += key_separator_;
          Dump(*members[i].second, level + 1, out);
        }
        out += Newline(level) + "}";
        return;
      }
      default:
        throw RenderError("Object of type " + value.TypeName() + " is not JSON serializable");
    }
  }

 private:
  std::string Newline(int level) const {
    if (!options_.indent) return "";
    std::string out = "\n";
    for (int i = 0; i < level; ++i) out += *options_.indent;
    return out;
  }

  static std::string Key(const Value& key) {
    switch (key.kind()) {
      case Value::Kind::kString:
        return key.text();
      case Value::Kind::kBool:
        return key.boolean() ? "true" : "false";
      case Value::Kind::kNone:
        return "null";
      case Value::Kind::kInt:
        return std::to_string(key.integer());
      case Value::Kind::kFloat:
        return FloatJson(key.number());
      default:
        throw RenderError("keys must be str, int, float, bool or None, not " + key.TypeName());
    }
  }

  const JsonDumpOptions& options_;
  std::string item_separator_;
  std::string key_separator_;
};

}  // namespace

std::string PyJsonDumps(const Value& value, const JsonDumpOptions& options) {
  std::string out;
  Dumper(options).Dump(value, 0, out);
  return out;
}

}  // namespace ft::chat
