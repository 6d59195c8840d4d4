#include "lib/progress_bar.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "lib/text_util.h"

namespace ft::client {
namespace {

constexpr int kMaxBarCells = 40;
constexpr int kMinBarCells = 5;

std::string Bar(double fraction, int cells) {
  fraction = std::clamp(fraction, 0.0, 1.0);
  const int filled = static_cast<int>(std::floor(fraction * cells));
  std::string bar = "[";
  bar.append(filled, '=');
  if (filled < cells) {
    bar += '>';
    bar.append(cells - filled - 1, ' ');
  }
  bar += ']';
  return bar;
}

}  // namespace

std::string RenderProgressBar(const ft::v1::TrainingProgress& p, std::optional<double> val_accuracy,
                              int width) {
  const int room = std::max(width - 1, 0);
  const bool has_total = p.total_steps() > 0;
  const double fraction =
      has_total ? static_cast<double>(p.step()) / static_cast<double>(p.total_steps()) : 0;

  // The step is padded to the width of the total, so that the bar does not shift as it grows.
  std::string head;
  if (has_total) {
    const int digits = static_cast<int>(absl::StrCat(p.total_steps()).size());
    head = absl::StrFormat("step %*d/%d", digits, p.step(), p.total_steps());
  } else {
    head = absl::StrCat("step ", p.step());
  }
  std::string tail;
  if (has_total) absl::StrAppendFormat(&tail, "%3.0f%% ", 100.0 * std::clamp(fraction, 0.0, 1.0));
  absl::StrAppendFormat(&tail, "loss %.4f", p.loss());
  if (val_accuracy) absl::StrAppendFormat(&tail, " val %.2f%%", 100.0 * *val_accuracy);
  absl::StrAppendFormat(&tail, " %.1f samples/s %.0f tok/s", p.samples_per_second(),
                        p.tokens_per_second());
  if (std::isfinite(p.eta_seconds()) && p.eta_seconds() >= 0) {
    absl::StrAppend(&tail, " eta ", FormatDuration(p.eta_seconds()));
  }

  std::string line;
  // "<head> [bar] <tail>": the two spaces and the brackets take 4 columns besides the cells.
  const int bar_cells = std::min(
      kMaxBarCells, room - static_cast<int>(head.size()) - static_cast<int>(tail.size()) - 4);
  if (has_total && bar_cells >= kMinBarCells) {
    line = absl::StrCat(head, " ", Bar(fraction, bar_cells), " ", tail);
  } else {
    line = absl::StrCat(head, " ", tail);
  }
  if (static_cast<int>(line.size()) > room) line.resize(room);
  return line;
}

}  // namespace ft::client
