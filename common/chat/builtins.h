// The filters, tests, global functions and Python methods a chat template may use, with the
// behaviour of Jinja 3.1 and transformers' additions (tojson, raise_exception, strftime_now).
// The Is* lists are what the parser accepts; anything else is refused there, naming it.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/chat/value.h"

namespace ft::chat {

using Kwargs = std::vector<std::pair<std::string, Value>>;

bool IsSupportedFilter(const std::string& name);
bool IsSupportedTest(const std::string& name);
bool IsSupportedGlobal(const std::string& name);
bool IsSupportedMethod(const std::string& name);

// Whether Python's getattr(object, name) finds a method (str, dict and list methods).
bool HasMethod(const Value& object, const std::string& name);

// Each throws RenderError where Jinja raises.
Value ApplyFilter(const std::string& name, const Value& input, const ValueList& args,
                  const Kwargs& kwargs);
bool ApplyTest(const std::string& name, const Value& input, const ValueList& args);
// A Callable value: a global function or a method bound to its receiver.
Value CallCallable(const Value& callable, const ValueList& args, const Kwargs& kwargs);

}  // namespace ft::chat
