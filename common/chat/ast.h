// The parsed form of a chat template: expressions and statements of the Jinja2 subset that
// common/chat renders (see parser.h for what is refused).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/chat/value.h"

namespace ft::chat {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kConst,    // value
    kName,     // name
    kList,     // args
    kTuple,    // args
    kDict,     // pairs of args: key0, value0, key1, value1, ...
    kGetAttr,  // a.name
    kGetItem,  // a[b]
    kSlice,    // a[b:c:d], each of b, c, d may be null
    kCall,     // a(args, kwargs)
    kFilter,   // a | name(args, kwargs)
    kTest,     // a is [not] name(args)
    kUnary,    // op a: "not", "-", "+"
    kBinary,   // a op b: + - * / // % ** ~ and or
    kCompare,  // a ops[0] args[0] ops[1] args[1] ...: == != < <= > >= in "not in"
    kCondExpr  // b if a else c (c null: undefined)
  };
  Kind kind;
  int line = 0;
  Value value;
  std::string name;  // kName, kGetAttr, kFilter, kTest; the operator for kUnary and kBinary
  ExprPtr a, b, c, d;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;
  bool negated = false;  // kTest: `is not`
};

struct Stmt;
using Body = std::vector<std::unique_ptr<Stmt>>;

struct Stmt {
  enum class Kind {
    kText,        // text
    kOutput,      // {{ expr }}
    kIf,          // branches (condition, body), else_body
    kFor,         // for targets in expr [if filter]: body [else: else_body]
    kSet,         // set targets = expr, or set targets[0].attribute = expr
    kBreak,
    kContinue,
    kGeneration,  // transformers' {% generation %}: renders its body
  };
  Kind kind;
  int line = 0;
  std::string text;
  ExprPtr expr;
  ExprPtr filter;
  std::vector<std::string> targets;
  std::string attribute;  // kSet on a namespace: `set ns.attribute = ...`
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body body;
  Body else_body;
};

}  // namespace ft::chat
