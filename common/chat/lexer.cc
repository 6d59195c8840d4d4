#include "common/chat/lexer.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/chat/py_string.h"

namespace ft::chat {
namespace {

bool IsSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// Python's \s over the text (Jinja's lstrip check uses re's \s on str).
bool AllPythonSpace(const std::string& text) {
  if (text.empty()) return false;
  for (char32_t c : DecodeUtf8(text)) {
    if (!IsPythonSpace(c)) return false;
  }
  return true;
}

std::string NormalizeNewlines(const std::string& source) {
  std::string out;
  out.reserve(source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(source[i]);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  absl::StatusOr<std::vector<Token>> Run() {
    bool line_starting = true;
    while (pos_ < src_.size()) {
      std::size_t tag = src_.find('{', pos_);
      while (tag != std::string::npos && tag + 1 < src_.size() && src_[tag + 1] != '{' &&
             src_[tag + 1] != '%' && src_[tag + 1] != '#') {
        tag = src_.find('{', tag + 1);
      }
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        Emit(Token::Kind::kText, src_.substr(pos_), pos_);
        break;
      }
      const char type = src_[tag + 1];
      const char sign = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      std::string text = src_.substr(pos_, tag - pos_);
      if (sign == '-') {
        text = PyStrip(text, nullptr, false, true);
      } else if (sign != '+' && type != '{') {
        const std::size_t line_begin = text.rfind('\n') + 1;  // npos + 1 == 0
        if ((line_begin > 0 || line_starting) && AllPythonSpace(text.substr(line_begin))) {
          text.erase(line_begin);
        }
      }
      if (!text.empty()) Emit(Token::Kind::kText, text, pos_);
      pos_ = tag + 2;
      if (type == '#') {
        if (sign == '-' || sign == '+') ++pos_;
        absl::Status status = SkipComment(tag);
        if (!status.ok()) return status;
      } else if (type == '{') {
        if (sign == '-') ++pos_;
        Emit(Token::Kind::kVarBegin, "", tag);
        absl::Status status = LexExpression(/*block=*/false, tag);
        if (!status.ok()) return status;
      } else {
        if (sign == '-' || sign == '+') ++pos_;
        if (IsRawTag()) {
          return absl::InvalidArgumentError(
              absl::StrCat("chat_template line ", LineOf(tag), ": unsupported tag 'raw'"));
        }
        Emit(Token::Kind::kBlockBegin, "", tag);
        absl::Status status = LexExpression(/*block=*/true, tag);
        if (!status.ok()) return status;
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    return std::move(tokens_);
  }

 private:
  int LineOf(std::size_t offset) {
    while (line_pos_ < offset && line_pos_ < src_.size()) {
      if (src_[line_pos_] == '\n') ++line_;
      ++line_pos_;
    }
    return line_;
  }

  void Emit(Token::Kind kind, std::string value, std::size_t offset) {
    tokens_.push_back(Token{kind, std::move(value), LineOf(offset)});
  }

  bool IsRawTag() const {
    std::size_t p = pos_;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    if (src_.compare(p, 3, "raw") != 0) return false;
    p += 3;
    return p >= src_.size() || !IsNameChar(src_[p]);
  }

  // Past `-%}` / `-}}` / `-#}`, Jinja's end pattern also consumes the whitespace that follows.
  void SkipSpaceAfterEnd() {
    while (pos_ < src_.size()) {
      std::size_t length = 1;
      const unsigned char c = static_cast<unsigned char>(src_[pos_]);
      if (c >= 0x80) {
        length = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        const std::vector<char32_t> cp = DecodeUtf8(src_.substr(pos_, length));
        if (cp.size() != 1 || !IsPythonSpace(cp[0])) return;
      } else if (!IsPythonSpace(c)) {
        return;
      }
      pos_ += length;
    }
  }

  absl::Status SkipComment(std::size_t begin) {
    for (std::size_t p = pos_; p < src_.size(); ++p) {
      if ((src_[p] == '+' || src_[p] == '-') && src_.compare(p + 1, 2, "#}") == 0) {
        pos_ = p + 3;
        if (src_[p] == '-') SkipSpaceAfterEnd();
        return absl::OkStatus();
      }
      if (src_.compare(p, 2, "#}") == 0) {
        pos_ = p + 2;
        if (pos_ < src_.size() && src_[pos_] == '\n') ++pos_;  // trim_blocks
        return absl::OkStatus();
      }
    }
    return absl::InvalidArgumentError(
        absl::StrCat("chat_template line ", LineOf(begin), ": comment is not closed with #}"));
  }

  absl::Status LexExpression(bool block, std::size_t begin) {
    const char close = block ? '%' : '}';
    int depth = 0;  // inside (), [] or {} the closing delimiters are operators, as in Jinja
    while (true) {
      while (pos_ < src_.size() && IsSpace(src_[pos_])) ++pos_;
      if (pos_ >= src_.size()) {
        return absl::InvalidArgumentError(absl::StrCat("chat_template line ", LineOf(begin),
                                                       ": tag is not closed with ",
                                                       block ? "%}" : "}}"));
      }
      if (depth == 0) {
        if (src_[pos_] == '-' && src_.compare(pos_ + 1, 1, std::string(1, close)) == 0 &&
            src_.compare(pos_ + 2, 1, "}") == 0) {
          Emit(block ? Token::Kind::kBlockEnd : Token::Kind::kVarEnd, "", pos_);
          pos_ += 3;
          SkipSpaceAfterEnd();
          return absl::OkStatus();
        }
        if (block && src_.compare(pos_, 3, "+%}") == 0) {
          Emit(Token::Kind::kBlockEnd, "", pos_);
          pos_ += 3;
          return absl::OkStatus();
        }
        if (src_[pos_] == close && src_.compare(pos_ + 1, 1, "}") == 0) {
          Emit(block ? Token::Kind::kBlockEnd : Token::Kind::kVarEnd, "", pos_);
          pos_ += 2;
          if (block && pos_ < src_.size() && src_[pos_] == '\n') ++pos_;  // trim_blocks
          return absl::OkStatus();
        }
      }
      const std::size_t start = pos_;
      const char c = src_[pos_];
      if (IsNameStart(c)) {
        while (pos_ < src_.size() && IsNameChar(src_[pos_])) ++pos_;
        Emit(Token::Kind::kName, src_.substr(start, pos_ - start), start);
      } else if (IsDigit(c)) {
        absl::Status status = LexNumber(start);
        if (!status.ok()) return status;
      } else if (c == '\'' || c == '"') {
        absl::Status status = LexString(start);
        if (!status.ok()) return status;
      } else {
        static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* two : kTwo) {
          if (src_.compare(pos_, 2, two) == 0) op = two;
        }
        if (op.empty()) {
          if (std::string("+-/*%~[](){}<>=.:|,").find(c) == std::string::npos) {
            return absl::InvalidArgumentError(absl::StrCat(
                "chat_template line ", LineOf(pos_), ": unexpected character '", std::string(1, c),
                "'"));
          }
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        pos_ += op.size();
        Emit(Token::Kind::kOperator, op, start);
      }
    }
  }

  absl::Status LexNumber(std::size_t start) {
    auto digits = [&] {
      while (pos_ < src_.size() &&
             (IsDigit(src_[pos_]) ||
              (src_[pos_] == '_' && pos_ + 1 < src_.size() && IsDigit(src_[pos_ + 1])))) {
        ++pos_;
      }
    };
    digits();
    bool is_float = false;
    const bool after_dot = start > 0 && src_[start - 1] == '.';  // `x.0.1` is two lookups
    if (!after_dot && pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1])) {
      is_float = true;
      ++pos_;
      digits();
    }
    if (!after_dot && pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      std::size_t p = pos_ + 1;
      if (p < src_.size() && (src_[p] == '+' || src_[p] == '-')) ++p;
      if (p < src_.size() && IsDigit(src_[p])) {
        is_float = true;
        pos_ = p;
        digits();
      }
    }
    std::string text;
    for (std::size_t i = start; i < pos_; ++i) {
      if (src_[i] != '_') text.push_back(src_[i]);
    }
    Emit(is_float ? Token::Kind::kFloat : Token::Kind::kInt, text, start);
    return absl::OkStatus();
  }

  // Jinja unescapes string literals with Python's "unicode-escape" codec.
  absl::Status LexString(std::size_t start) {
    const char quote = src_[pos_++];
    std::string value;
    while (true) {
      if (pos_ >= src_.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("chat_template line ", LineOf(start), ": string is not closed"));
      }
      const char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c != '\\' || pos_ + 1 >= src_.size()) {
        value.push_back(c);
        ++pos_;
        continue;
      }
      const char e = src_[pos_ + 1];
      pos_ += 2;
      auto hex = [&](int count) -> absl::Status {
        if (pos_ + count > src_.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("chat_template line ", LineOf(start), ": truncated \\x/\\u escape"));
        }
        const std::string digits = src_.substr(pos_, count);
        for (char d : digits) {
          if (!std::isxdigit(static_cast<unsigned char>(d))) {
            return absl::InvalidArgumentError(
                absl::StrCat("chat_template line ", LineOf(start), ": bad \\x/\\u escape"));
          }
        }
        pos_ += count;
        AppendUtf8(static_cast<char32_t>(std::strtoul(digits.c_str(), nullptr, 16)), value);
        return absl::OkStatus();
      };
      absl::Status status;
      switch (e) {
        case '\n':
          break;
        case '\\':
        case '\'':
        case '"':
          value.push_back(e);
          break;
        case 'n':
          value.push_back('\n');
          break;
        case 't':
          value.push_back('\t');
          break;
        case 'r':
          value.push_back('\r');
          break;
        case 'a':
          value.push_back('\a');
          break;
        case 'b':
          value.push_back('\b');
          break;
        case 'f':
          value.push_back('\f');
          break;
        case 'v':
          value.push_back('\v');
          break;
        case 'x':
          status = hex(2);
          break;
        case 'u':
          status = hex(4);
          break;
        case 'U':
          status = hex(8);
          break;
        case 'N':
          return absl::InvalidArgumentError(absl::StrCat(
              "chat_template line ", LineOf(start), ": unsupported \\N{...} escape"));
        default:
          if (e >= '0' && e <= '7') {
            int code = e - '0';
            for (int k = 0; k < 2 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7';
                 ++k) {
              code = code * 8 + (src_[pos_++] - '0');
            }
            AppendUtf8(static_cast<char32_t>(code), value);
          } else {
            value.push_back('\\');  // unknown escapes stay as written
            value.push_back(e);
          }
      }
      if (!status.ok()) return status;
    }
    Emit(Token::Kind::kString, value, start);
    return absl::OkStatus();
  }

  std::string src_;
  std::size_t pos_ = 0;
  std::size_t line_pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

absl::StatusOr<std::vector<Token>> Tokenize(const std::string& source) {
  return Lexer(NormalizeNewlines(source)).Run();
}

}  // namespace ft::chat
