#include "common/chat/parser.h"

#include <cstdlib>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "common/chat/builtins.h"

namespace ft::chat {
namespace {

// Thrown inside the parser only; Parse() returns it as InvalidArgument.
struct ParseError {
  std::string message;
};

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Body ParseTemplate() {
    std::string end;
    Body body = ParseBody({}, &end);
    return body;
  }

 private:
  [[noreturn]] void Fail(int line, const std::string& what) {
    throw ParseError{absl::StrCat("chat_template line ", line, ": ", what)};
  }

  const Token& Peek(std::size_t ahead = 0) const {
    static const Token kEnd{Token::Kind::kBlockEnd, "", 0};
    return pos_ + ahead < tokens_.size() ? tokens_[pos_ + ahead] : kEnd;
  }
  int Line() const { return pos_ < tokens_.size() ? tokens_[pos_].line : LastLine(); }
  int LastLine() const { return tokens_.empty() ? 1 : tokens_.back().line; }
  bool AtEnd() const { return pos_ >= tokens_.size(); }
  const Token& Next() {
    if (AtEnd()) Fail(LastLine(), "unexpected end of template");
    return tokens_[pos_++];
  }
  bool IsOp(const std::string& op, std::size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() && Peek(ahead).kind == Token::Kind::kOperator &&
           Peek(ahead).value == op;
  }
  bool IsName(const std::string& name, std::size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() && Peek(ahead).kind == Token::Kind::kName &&
           Peek(ahead).value == name;
  }
  bool SkipOp(const std::string& op) {
    if (!IsOp(op)) return false;
    ++pos_;
    return true;
  }
  bool SkipName(const std::string& name) {
    if (!IsName(name)) return false;
    ++pos_;
    return true;
  }
  void ExpectOp(const std::string& op) {
    if (!SkipOp(op)) Fail(Line(), absl::StrCat("expected '", op, "'", Found()));
  }
  std::string ExpectName() {
    if (AtEnd() || Peek().kind != Token::Kind::kName) Fail(Line(), "expected a name" + Found());
    return Next().value;
  }
  void ExpectBlockEnd() {
    if (AtEnd() || Peek().kind != Token::Kind::kBlockEnd) {
      Fail(Line(), "expected the end of the tag" + Found());
    }
    ++pos_;
  }
  std::string Found() const {
    if (AtEnd()) return " at the end of the template";
    switch (Peek().kind) {
      case Token::Kind::kBlockEnd:
        return ", found the end of the tag";
      case Token::Kind::kVarEnd:
        return ", found '}}'";
      default:
        return ", found '" + Peek().value + "'";
    }
  }

  // Statements up to one of the block tags in `ends` (consumed; its name stored in *end).
  Body ParseBody(const std::vector<std::string>& ends, std::string* end) {
    Body body;
    while (!AtEnd()) {
      const Token& token = Next();
      if (token.kind == Token::Kind::kText) {
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = Stmt::Kind::kText;
        stmt->line = token.line;
        stmt->text = token.value;
        body.push_back(std::move(stmt));
      } else if (token.kind == Token::Kind::kVarBegin) {
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = Stmt::Kind::kOutput;
        stmt->line = token.line;
        stmt->expr = ParseTupleOrExpression();
        if (AtEnd() || Peek().kind != Token::Kind::kVarEnd) {
          Fail(Line(), "expected '}}'" + Found());
        }
        ++pos_;
        body.push_back(std::move(stmt));
      } else if (token.kind == Token::Kind::kBlockBegin) {
        const int line = Line();
        const std::string tag = ExpectName();
        for (const std::string& e : ends) {
          if (tag == e) {
            *end = tag;
            return body;
          }
        }
        body.push_back(ParseStatement(tag, line));
      } else {
        Fail(token.line, "unexpected token '" + token.value + "'");
      }
    }
    if (!ends.empty()) {
      Fail(LastLine(), absl::StrCat("missing {% ", ends.back(), " %}"));
    }
    return body;
  }

  std::unique_ptr<Stmt> ParseStatement(const std::string& tag, int line) {
    auto stmt = std::make_unique<Stmt>();
    stmt->line = line;
    if (tag == "if") {
      stmt->kind = Stmt::Kind::kIf;
      ExprPtr condition = ParseExpression();
      ExpectBlockEnd();
      while (true) {
        std::string end;
        Body body = ParseBody({"elif", "else", "endif"}, &end);
        stmt->branches.emplace_back(std::move(condition), std::move(body));
        if (end == "elif") {
          condition = ParseExpression();
          ExpectBlockEnd();
          continue;
        }
        ExpectBlockEnd();
        if (end == "else") {
          stmt->else_body = ParseBody({"endif"}, &end);
          ExpectBlockEnd();
        }
        break;
      }
    } else if (tag == "for") {
      stmt->kind = Stmt::Kind::kFor;
      const bool parenthesized = SkipOp("(");
      stmt->targets.push_back(ExpectName());
      while (SkipOp(",")) {
        if (IsName("in")) break;
        stmt->targets.push_back(ExpectName());
      }
      if (parenthesized) ExpectOp(")");
      if (!SkipName("in")) Fail(Line(), "expected 'in'" + Found());
      stmt->expr = ParseTupleOrExpression(/*with_condexpr=*/false);
      if (SkipName("if")) stmt->filter = ParseExpression();
      if (IsName("recursive")) Fail(Line(), "unsupported recursive for loop");
      ExpectBlockEnd();
      ++loop_depth_;
      std::string end;
      stmt->body = ParseBody({"else", "endfor"}, &end);
      ExpectBlockEnd();
      if (end == "else") {
        stmt->else_body = ParseBody({"endfor"}, &end);
        ExpectBlockEnd();
      }
    } else if (tag == "set") {
      stmt->kind = Stmt::Kind::kSet;
      stmt->targets.push_back(ExpectName());
      if (SkipOp(".")) {
        stmt->attribute = ExpectName();
      } else {
        while (SkipOp(",")) stmt->targets.push_back(ExpectName());
      }
      if (!IsOp("=")) {
        if (!AtEnd() && Peek().kind == Token::Kind::kBlockEnd) {
          Fail(line, "unsupported tag 'set' with a block body (use set x = ...)");
        }
        ExpectOp("=");
      }
      ++pos_;
      stmt->expr = ParseTupleOrExpression();
      ExpectBlockEnd();
    } else if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) Fail(line, "'" + tag + "' outside a for loop");
      stmt->kind = tag == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      ExpectBlockEnd();
    } else if (tag == "generation") {
      stmt->kind = Stmt::Kind::kGeneration;
      ExpectBlockEnd();
      std::string end;
      stmt->body = ParseBody({"endgeneration"}, &end);
      ExpectBlockEnd();
    } else {
      Fail(line, "unsupported tag '" + tag + "'");
    }
    if (tag == "for") --loop_depth_;
    return stmt;
  }

  ExprPtr Make(Expr::Kind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // Jinja's parse_tuple: `a, b` without brackets is a tuple (in {{ }}, set and for).
  ExprPtr ParseTupleOrExpression(bool with_condexpr = true) {
    const int line = Line();
    ExprPtr first = with_condexpr ? ParseExpression() : ParseOr();
    if (!IsOp(",")) return first;
    ExprPtr tuple = Make(Expr::Kind::kTuple, line);
    tuple->args.push_back(std::move(first));
    while (SkipOp(",")) {
      if (AtEnd() || Peek().kind == Token::Kind::kBlockEnd || Peek().kind == Token::Kind::kVarEnd ||
          IsName("if")) {
        break;
      }
      tuple->args.push_back(with_condexpr ? ParseExpression() : ParseOr());
    }
    return tuple;
  }

  ExprPtr ParseExpression() {
    const int line = Line();
    ExprPtr expr = ParseOr();
    while (SkipName("if")) {
      ExprPtr cond = Make(Expr::Kind::kCondExpr, line);
      cond->a = ParseOr();
      cond->b = std::move(expr);
      if (SkipName("else")) cond->c = ParseExpression();
      expr = std::move(cond);
    }
    return expr;
  }

  ExprPtr Binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    ExprPtr e = Make(Expr::Kind::kBinary, line);
    e->name = op;
    e->a = std::move(left);
    e->b = std::move(right);
    return e;
  }

  ExprPtr ParseOr() {
    ExprPtr left = ParseAnd();
    while (IsName("or")) {
      const int line = Line();
      ++pos_;
      left = Binary("or", std::move(left), ParseAnd(), line);
    }
    return left;
  }

  ExprPtr ParseAnd() {
    ExprPtr left = ParseNot();
    while (IsName("and")) {
      const int line = Line();
      ++pos_;
      left = Binary("and", std::move(left), ParseNot(), line);
    }
    return left;
  }

  ExprPtr ParseNot() {
    if (IsName("not")) {
      const int line = Line();
      ++pos_;
      ExprPtr e = Make(Expr::Kind::kUnary, line);
      e->name = "not";
      e->a = ParseNot();
      return e;
    }
    return ParseCompare();
  }

  ExprPtr ParseCompare() {
    const int line = Line();
    ExprPtr first = ParseMath1();
    ExprPtr compare;
    while (true) {
      std::string op;
      if (IsOp("==") || IsOp("!=") || IsOp("<") || IsOp("<=") || IsOp(">") || IsOp(">=")) {
        op = Next().value;
      } else if (IsName("in")) {
        ++pos_;
        op = "in";
      } else if (IsName("not") && IsName("in", 1)) {
        pos_ += 2;
        op = "not in";
      } else {
        break;
      }
      if (!compare) {
        compare = Make(Expr::Kind::kCompare, line);
        compare->a = std::move(first);
      }
      compare->ops.push_back(op);
      compare->args.push_back(ParseMath1());
    }
    return compare ? std::move(compare) : std::move(first);
  }

  ExprPtr ParseMath1() {
    ExprPtr left = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      const int line = Line();
      const std::string op = Next().value;
      left = Binary(op, std::move(left), ParseConcat(), line);
    }
    return left;
  }

  ExprPtr ParseConcat() {
    ExprPtr left = ParseMath2();
    while (IsOp("~")) {
      const int line = Line();
      ++pos_;
      left = Binary("~", std::move(left), ParseMath2(), line);
    }
    return left;
  }

  ExprPtr ParseMath2() {
    ExprPtr left = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      const int line = Line();
      const std::string op = Next().value;
      left = Binary(op, std::move(left), ParsePow(), line);
    }
    return left;
  }

  ExprPtr ParsePow() {
    ExprPtr left = ParseUnary(true);
    while (IsOp("**")) {
      const int line = Line();
      ++pos_;
      left = Binary("**", std::move(left), ParseUnary(true), line);
    }
    return left;
  }

  ExprPtr ParseUnary(bool with_filter) {
    const int line = Line();
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      node = Make(Expr::Kind::kUnary, line);
      node->name = Next().value;
      node->a = ParseUnary(false);
    } else {
      node = ParsePrimary();
    }
    node = ParsePostfix(std::move(node));
    if (with_filter) node = ParseFilterExpr(std::move(node));
    return node;
  }

  ExprPtr ParsePrimary() {
    const int line = Line();
    const Token& token = Next();
    switch (token.kind) {
      case Token::Kind::kName: {
        const std::string& n = token.value;
        if (n == "true" || n == "True") return Const(Value::Bool(true), line);
        if (n == "false" || n == "False") return Const(Value::Bool(false), line);
        if (n == "none" || n == "None") return Const(Value::None(), line);
        ExprPtr e = Make(Expr::Kind::kName, line);
        e->name = n;
        return e;
      }
      case Token::Kind::kString: {
        std::string text = token.value;
        while (!AtEnd() && Peek().kind == Token::Kind::kString) text += Next().value;
        return Const(Value::String(std::move(text)), line);
      }
      case Token::Kind::kInt: {
        errno = 0;
        const long long v = std::strtoll(token.value.c_str(), nullptr, 10);
        if (errno == ERANGE) Fail(line, "integer literal " + token.value + " is too large");
        return Const(Value::Int(v), line);
      }
      case Token::Kind::kFloat:
        return Const(Value::Float(std::strtod(token.value.c_str(), nullptr)), line);
      case Token::Kind::kOperator:
        if (token.value == "(") {
          if (SkipOp(")")) return Make(Expr::Kind::kTuple, line);
          ExprPtr inner = ParseExpression();
          if (IsOp(",")) {
            ExprPtr tuple = Make(Expr::Kind::kTuple, line);
            tuple->args.push_back(std::move(inner));
            while (SkipOp(",")) {
              if (IsOp(")")) break;
              tuple->args.push_back(ParseExpression());
            }
            inner = std::move(tuple);
          }
          ExpectOp(")");
          return inner;
        }
        if (token.value == "[") {
          ExprPtr list = Make(Expr::Kind::kList, line);
          while (!SkipOp("]")) {
            if (!list->args.empty()) ExpectOp(",");
            if (SkipOp("]")) break;
            list->args.push_back(ParseExpression());
          }
          return list;
        }
        if (token.value == "{") {
          ExprPtr dict = Make(Expr::Kind::kDict, line);
          while (!SkipOp("}")) {
            if (!dict->args.empty()) ExpectOp(",");
            if (SkipOp("}")) break;
            dict->args.push_back(ParseExpression());
            ExpectOp(":");
            dict->args.push_back(ParseExpression());
          }
          return dict;
        }
        break;
      default:
        break;
    }
    Fail(line, "unexpected '" + token.value + "'");
  }

  ExprPtr Const(Value v, int line) {
    ExprPtr e = Make(Expr::Kind::kConst, line);
    e->value = std::move(v);
    return e;
  }

  ExprPtr ParsePostfix(ExprPtr node) {
    while (true) {
      const int line = Line();
      if (IsOp(".")) {
        ++pos_;
        ExprPtr e = Make(Expr::Kind::kGetAttr, line);
        if (!AtEnd() && Peek().kind == Token::Kind::kInt) {
          // `x.0` is x[0] in Jinja.
          e->kind = Expr::Kind::kGetItem;
          e->b = Const(Value::Int(std::strtoll(Next().value.c_str(), nullptr, 10)), line);
        } else {
          e->name = ExpectName();
        }
        e->a = std::move(node);
        node = std::move(e);
      } else if (IsOp("[")) {
        ++pos_;
        node = ParseSubscript(std::move(node), line);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node), line);
      } else {
        return node;
      }
    }
  }

  ExprPtr ParseSubscript(ExprPtr node, int line) {
    ExprPtr parts[3];
    bool slice = false;
    for (int i = 0; i < 3; ++i) {
      if (!IsOp(":") && !IsOp("]")) parts[i] = ParseExpression();
      if (i < 2 && SkipOp(":")) {
        slice = true;
        continue;
      }
      break;
    }
    ExpectOp("]");
    ExprPtr e = Make(slice ? Expr::Kind::kSlice : Expr::Kind::kGetItem, line);
    e->a = std::move(node);
    e->b = std::move(parts[0]);
    e->c = std::move(parts[1]);
    e->d = std::move(parts[2]);
    if (!slice && !e->b) Fail(line, "empty subscript");
    return e;
  }

  void ParseArguments(Expr& call) {
    ExpectOp("(");
    while (!SkipOp(")")) {
      if (!call.args.empty() || !call.kwargs.empty()) ExpectOp(",");
      if (SkipOp(")")) break;
      if (IsOp("*") || IsOp("**")) Fail(Line(), "unsupported *args/**kwargs in a call");
      if (!AtEnd() && Peek().kind == Token::Kind::kName && IsOp("=", 1)) {
        std::string key = Next().value;
        ++pos_;
        call.kwargs.emplace_back(std::move(key), ParseExpression());
      } else {
        if (!call.kwargs.empty()) Fail(Line(), "positional argument after a keyword argument");
        call.args.push_back(ParseExpression());
      }
    }
  }

  ExprPtr ParseCall(ExprPtr callee, int line) {
    if (callee->kind == Expr::Kind::kName) {
      if (!IsSupportedGlobal(callee->name)) Fail(line, "unsupported function '" + callee->name + "'");
    } else if (callee->kind == Expr::Kind::kGetAttr) {
      if (!IsSupportedMethod(callee->name)) Fail(line, "unsupported method '" + callee->name + "'");
    } else {
      Fail(line, "unsupported call of an expression");
    }
    ExprPtr e = Make(Expr::Kind::kCall, line);
    e->a = std::move(callee);
    ParseArguments(*e);
    return e;
  }

  ExprPtr ParseFilterExpr(ExprPtr node) {
    while (true) {
      const int line = Line();
      if (IsOp("|")) {
        ++pos_;
        ExprPtr e = Make(Expr::Kind::kFilter, line);
        e->name = ExpectName();
        if (!IsSupportedFilter(e->name)) Fail(line, "unsupported filter '" + e->name + "'");
        e->a = std::move(node);
        if (IsOp("(")) ParseArguments(*e);
        node = std::move(e);
      } else if (IsName("is")) {
        ++pos_;
        ExprPtr e = Make(Expr::Kind::kTest, line);
        e->negated = SkipName("not");
        e->name = ExpectName();
        if (!IsSupportedTest(e->name)) Fail(line, "unsupported test '" + e->name + "'");
        e->a = std::move(node);
        if (IsOp("(")) {
          ParseArguments(*e);
        } else if (!AtEnd() && !IsName("else") && !IsName("or") && !IsName("and") &&
                   !IsName("if") && !IsName("in") && !IsName("is") && !IsName("not") &&
                   (Peek().kind == Token::Kind::kName || Peek().kind == Token::Kind::kString ||
                    Peek().kind == Token::Kind::kInt || Peek().kind == Token::Kind::kFloat ||
                    IsOp("[") || IsOp("{"))) {
          // `x is divisibleby 3`, `x is sameas none`: one argument without parentheses.
          e->args.push_back(ParsePostfix(ParsePrimary()));
        }
        node = std::move(e);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node), line);
      } else {
        return node;
      }
    }
  }

  const std::vector<Token>& tokens_;
  std::size_t pos_ = 0;
  int loop_depth_ = 0;

  friend absl::StatusOr<Body> Parse(const std::vector<Token>& tokens);
};

}  // namespace

absl::StatusOr<Body> Parse(const std::vector<Token>& tokens) {
  Parser parser(tokens);
  try {
    return parser.ParseTemplate();
  } catch (const ParseError& error) {
    return absl::InvalidArgumentError(error.message);
  }
}

}  // namespace ft::chat
