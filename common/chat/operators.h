// Jinja2's operations on values: attribute and item lookup (each falling back to the other, as
// Environment.getattr/getitem do), slicing, iteration, and Python's operators. Failures throw
// RenderError (render_error.h) with Python's message where it matters.
#pragma once

#include <string>

#include "common/chat/value.h"

namespace ft::chat {

// Throws "'name' is undefined" when `value` is undefined (using undefined as data).
void FailIfUndefined(const Value& value);

Value GetAttr(const Value& object, const std::string& name);
Value GetItem(const Value& object, const Value& key);
// object[start:stop:step]; a null bound is omitted.
Value Slice(const Value& object, const Value* start, const Value* stop, const Value* step);
// The items a for loop visits: list and tuple items, dict keys, a string's characters.
ValueList Iterate(const Value& value);
// Python's len().
int64_t Length(const Value& value);

// + - * / // % ** ~ (Jinja's concatenation).
Value BinaryOp(const std::string& op, const Value& a, const Value& b);
// == != < <= > >= in, "not in".
bool CompareOp(const std::string& op, const Value& a, const Value& b);

}  // namespace ft::chat
