#include "client/lib/display/terminal_style.h"

#include "absl/strings/str_cat.h"
#include "client/lib/format/text_util.h"

namespace ft::client {

bool ShouldColor(absl::string_view mode, bool is_terminal, bool no_color, absl::string_view term) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  return is_terminal && !no_color && term != "dumb";
}

std::string Palette::Paint(Color color, absl::string_view text) const {
  if (!enabled_ || color == Color::kNone || text.empty()) return std::string(text);
  const char* code = "0";
  switch (color) {
    case Color::kRed:
      code = "31";
      break;
    case Color::kGreen:
      code = "32";
      break;
    case Color::kYellow:
      code = "33";
      break;
    case Color::kBlue:
      code = "34";
      break;
    case Color::kCyan:
      code = "36";
      break;
    case Color::kBold:
      code = "1";
      break;
    case Color::kDim:
      code = "2";
      break;
    case Color::kNone:
      break;
  }
  return absl::StrCat("\033[", code, "m", text, "\033[0m");
}

std::string Palette::State(ft::v1::JobState state) const {
  Color color = Color::kNone;
  switch (state) {
    case ft::v1::SUCCEEDED:
      color = Color::kGreen;
      break;
    case ft::v1::FAILED:
      color = Color::kRed;
      break;
    case ft::v1::CANCELLED:
    case ft::v1::CANCELLING:
      color = Color::kYellow;
      break;
    case ft::v1::RUNNING:
      color = Color::kCyan;
      break;
    case ft::v1::QUEUED:
      color = Color::kBlue;
      break;
    default:
      break;
  }
  return Paint(color, StateName(state));
}

}  // namespace ft::client
