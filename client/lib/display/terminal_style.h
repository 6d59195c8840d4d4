// Colours for ftctl's output: on only for a terminal (or --color always), off under NO_COLOR
// (https://no-color.org) unless --color always, and never for TERM=dumb.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

enum class Color { kNone, kRed, kGreen, kYellow, kBlue, kCyan, kBold, kDim };

// Decides once, at start-up. `mode` is auto, always or never; `is_terminal` whether stdout is
// one; `no_color` whether NO_COLOR is set and non-empty; `term` $TERM (empty when unset).
bool ShouldColor(absl::string_view mode, bool is_terminal, bool no_color, absl::string_view term);

// Paints text with SGR escapes when enabled; a disabled palette returns the text unchanged.
class Palette {
 public:
  Palette() = default;
  explicit Palette(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }
  std::string Paint(Color color, absl::string_view text) const;
  // The state's name coloured by its meaning: SUCCEEDED green, FAILED red, CANCELLED and
  // CANCELLING yellow, RUNNING cyan, QUEUED blue.
  std::string State(ft::v1::JobState state) const;

 private:
  bool enabled_ = false;
};

}  // namespace ft::client
