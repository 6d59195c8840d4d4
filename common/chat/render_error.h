// Internal to the evaluator and its builtins: a failure while rendering (a type error, an
// undefined value used as data, raise_exception). Render() turns it into an absl::Status at the
// library's edge, so no exception leaves common/chat.
#pragma once

#include <stdexcept>
#include <string>

namespace ft::chat {

class RenderError : public std::runtime_error {
 public:
  explicit RenderError(const std::string& message, bool raised_by_template = false)
      : std::runtime_error(message), raised_by_template_(raised_by_template) {}
  // True for raise_exception(): the message is the template author's.
  bool raised_by_template() const { return raised_by_template_; }

 private:
  bool raised_by_template_;
};

}  // namespace ft::chat
