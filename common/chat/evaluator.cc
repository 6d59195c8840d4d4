#include "common/chat/evaluator.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/chat/builtins.h"
#include "common/chat/operators.h"
#include "common/chat/render_error.h"

namespace ft::chat {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Evaluator {
 public:
  explicit Evaluator(const ValuePairs& context) : context_(context) { scopes_.emplace_back(); }

  Flow Exec(const Body& body) {
    for (const auto& stmt : body) {
      const Flow flow = Exec(*stmt);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  RenderOutput& output() { return output_; }
  int line() const { return line_; }

 private:
  Flow Exec(const Stmt& stmt) {
    line_ = stmt.line;
    switch (stmt.kind) {
      case Stmt::Kind::kText:
        output_.text += stmt.text;
        return Flow::kNormal;
      case Stmt::Kind::kOutput:
        output_.text += Eval(*stmt.expr).Str();
        return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (const auto& [condition, body] : stmt.branches) {
          if (Eval(*condition).Truthy()) return Exec(body);
        }
        return Exec(stmt.else_body);
      case Stmt::Kind::kFor:
        ExecFor(stmt);
        return Flow::kNormal;
      case Stmt::Kind::kSet:
        ExecSet(stmt);
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kGeneration: {
        const std::size_t begin = output_.text.size();
        const Flow flow = Exec(stmt.body);
        output_.generation_spans.emplace_back(begin, output_.text.size());
        return flow;
      }
    }
    return Flow::kNormal;
  }

  void Bind(const std::vector<std::string>& targets, const Value& value,
            std::map<std::string, Value>& scope) {
    if (targets.size() == 1) {
      scope[targets[0]] = value;
      return;
    }
    FailIfUndefined(value);
    const ValueList items = Iterate(value);
    if (items.size() != targets.size()) {
      throw RenderError(absl::StrCat("ValueError: cannot unpack ", items.size(), " values into ",
                                     targets.size(), " names"));
    }
    for (std::size_t i = 0; i < items.size(); ++i) scope[targets[i]] = items[i];
  }

  void ExecSet(const Stmt& stmt) {
    const Value value = Eval(*stmt.expr);
    if (stmt.attribute.empty()) {
      Bind(stmt.targets, value, scopes_.back());
      return;
    }
    const Value target = Lookup(stmt.targets[0]);
    if (target.kind() != Value::Kind::kNamespace) {
      throw RenderError("TemplateRuntimeError: cannot assign attribute on non-namespace object");
    }
    for (auto& member : target.mutable_pairs()) {
      if (member.first.is_string() && member.first.text() == stmt.attribute) {
        member.second = value;
        return;
      }
    }
    target.mutable_pairs().emplace_back(Value::String(stmt.attribute), value);
  }

  void ExecFor(const Stmt& stmt) {
    const Value iterable = Eval(*stmt.expr);
    ValueList items = Iterate(iterable);
    if (stmt.filter) {
      ValueList kept;
      for (const Value& item : items) {
        scopes_.emplace_back();
        Bind(stmt.targets, item, scopes_.back());
        const bool keep = Eval(*stmt.filter).Truthy();
        scopes_.pop_back();
        if (keep) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      Exec(stmt.else_body);
      return;
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      scopes_.emplace_back();
      Bind(stmt.targets, items[i], scopes_.back());
      ValuePairs loop = {
          {Value::String("index"), Value::Int(i + 1)},
          {Value::String("index0"), Value::Int(i)},
          {Value::String("revindex"), Value::Int(length - i)},
          {Value::String("revindex0"), Value::Int(length - i - 1)},
          {Value::String("first"), Value::Bool(i == 0)},
          {Value::String("last"), Value::Bool(i == length - 1)},
          {Value::String("length"), Value::Int(length)},
          {Value::String("depth"), Value::Int(1)},
          {Value::String("depth0"), Value::Int(0)},
      };
      if (i > 0) loop.emplace_back(Value::String("previtem"), items[i - 1]);
      if (i + 1 < length) loop.emplace_back(Value::String("nextitem"), items[i + 1]);
      scopes_.back()["loop"] = Value::Dict(std::move(loop));
      const Flow flow = Exec(stmt.body);
      scopes_.pop_back();
      line_ = stmt.line;
      if (flow == Flow::kBreak) break;
    }
  }

  Value Lookup(const std::string& name) const {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      const auto found = scope->find(name);
      if (found != scope->end()) return found->second;
    }
    for (const auto& [key, value] : context_) {
      if (key.is_string() && key.text() == name) return value;
    }
    if (IsSupportedGlobal(name)) return Value::Callable(name, nullptr);
    return Value::Undefined(name);
  }

  void EvalArguments(const Expr& call, ValueList& args, Kwargs& kwargs) {
    for (const auto& arg : call.args) args.push_back(Eval(*arg));
    for (const auto& [key, arg] : call.kwargs) kwargs.emplace_back(key, Eval(*arg));
  }

  Value Eval(const Expr& e) {
    line_ = e.line;
    switch (e.kind) {
      case Expr::Kind::kConst:
        return e.value;
      case Expr::Kind::kName:
        return Lookup(e.name);
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        ValueList items;
        for (const auto& arg : e.args) items.push_back(Eval(*arg));
        return e.kind == Expr::Kind::kList ? Value::List(std::move(items))
                                           : Value::Tuple(std::move(items));
      }
      case Expr::Kind::kDict: {
        ValuePairs pairs;
        for (std::size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value key = Eval(*e.args[i]);
          Value value = Eval(*e.args[i + 1]);
          bool replaced = false;
          for (auto& pair : pairs) {
            if (Equals(pair.first, key)) {
              pair.second = value;
              replaced = true;
            }
          }
          if (!replaced) pairs.emplace_back(std::move(key), std::move(value));
        }
        return Value::Dict(std::move(pairs));
      }
      case Expr::Kind::kGetAttr:
        return GetAttr(Eval(*e.a), e.name);
      case Expr::Kind::kGetItem: {
        const Value object = Eval(*e.a);
        return GetItem(object, Eval(*e.b));
      }
      case Expr::Kind::kSlice: {
        const Value object = Eval(*e.a);
        const Value start = e.b ? Eval(*e.b) : Value::None();
        const Value stop = e.c ? Eval(*e.c) : Value::None();
        const Value step = e.d ? Eval(*e.d) : Value::None();
        return Slice(object, &start, &stop, &step);
      }
      case Expr::Kind::kCall: {
        const Value callee = Eval(*e.a);
        ValueList args;
        Kwargs kwargs;
        EvalArguments(e, args, kwargs);
        line_ = e.line;
        return CallCallable(callee, args, kwargs);
      }
      case Expr::Kind::kFilter: {
        const Value input = Eval(*e.a);
        ValueList args;
        Kwargs kwargs;
        EvalArguments(e, args, kwargs);
        line_ = e.line;
        return ApplyFilter(e.name, input, args, kwargs);
      }
      case Expr::Kind::kTest: {
        const Value input = Eval(*e.a);
        ValueList args;
        for (const auto& arg : e.args) args.push_back(Eval(*arg));
        line_ = e.line;
        return Value::Bool(ApplyTest(e.name, input, args) != e.negated);
      }
      case Expr::Kind::kUnary: {
        const Value operand = Eval(*e.a);
        if (e.name == "not") return Value::Bool(!operand.Truthy());
        FailIfUndefined(operand);
        if (!operand.is_number()) {
          throw RenderError("TypeError: bad operand type for unary " + e.name + ": '" +
                            operand.TypeName() + "'");
        }
        if (e.name == "+") return operand.is_float() ? operand : Value::Int(operand.integer());
        if (operand.is_float()) return Value::Float(-operand.number());
        return BinaryOp("-", Value::Int(0), operand);
      }
      case Expr::Kind::kBinary: {
        Value left = Eval(*e.a);
        if (e.name == "and") return left.Truthy() ? Eval(*e.b) : left;
        if (e.name == "or") return left.Truthy() ? left : Eval(*e.b);
        const Value right = Eval(*e.b);
        line_ = e.line;
        return BinaryOp(e.name, left, right);
      }
      case Expr::Kind::kCompare: {
        Value left = Eval(*e.a);
        for (std::size_t i = 0; i < e.ops.size(); ++i) {
          Value right = Eval(*e.args[i]);
          line_ = e.line;
          if (!CompareOp(e.ops[i], left, right)) return Value::Bool(false);
          left = std::move(right);
        }
        return Value::Bool(true);
      }
      case Expr::Kind::kCondExpr:
        if (Eval(*e.a).Truthy()) return Eval(*e.b);
        return e.c ? Eval(*e.c) : Value::Undefined("conditional expression");
    }
    return Value();
  }

  const ValuePairs& context_;
  std::vector<std::map<std::string, Value>> scopes_;
  RenderOutput output_;
  int line_ = 0;
};

}  // namespace

absl::StatusOr<RenderOutput> RenderBody(const Body& body, const ValuePairs& context) {
  Evaluator evaluator(context);
  try {
    evaluator.Exec(body);
  } catch (const RenderError& error) {
    if (error.raised_by_template()) {
      return absl::InvalidArgumentError(absl::StrCat("chat_template raised: ", error.what()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("chat_template line ", evaluator.line(), ": ", error.what()));
  }
  return std::move(evaluator.output());
}

}  // namespace ft::chat
