#include "client/lib/display/progress_bar.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/display/sparkline.h"
#include "client/lib/format/text_util.h"

namespace ft::client {
namespace {

constexpr int kMaxBarCells = 40;
constexpr int kMinBarCells = 5;
constexpr int kMinTrend = 8;  // fewer values of the loss trend say too little to be worth a place

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
                              int width, const std::vector<double>& loss_trend,
                              SparkGlyphs glyphs) {
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
  // The tail in three parts, so that the trend can follow the loss and tokens/s can give way.
  std::string loss;
  if (has_total) absl::StrAppendFormat(&loss, "%3.0f%% ", 100.0 * std::clamp(fraction, 0.0, 1.0));
  absl::StrAppendFormat(&loss, "loss %.4f", p.loss());
  std::string rate;
  if (val_accuracy) absl::StrAppendFormat(&rate, " val %.2f%%", 100.0 * *val_accuracy);
  absl::StrAppendFormat(&rate, " %.1f samples/s", p.samples_per_second());
  const std::string tokens = absl::StrFormat(" %.0f tok/s", p.tokens_per_second());
  std::string eta;
  if (std::isfinite(p.eta_seconds()) && p.eta_seconds() >= 0) {
    eta = absl::StrCat(" eta ", FormatDuration(p.eta_seconds()));
  }
  const int head_columns = static_cast<int>(head.size());  // the text is ASCII: a column a byte

  // With a trend: "<head> [<bar>] <loss> <trend><rest>", the trend as long as fits (up to every
  // value given, at least 8 of them), the bar only in the room left; on a narrow terminal the
  // tokens/s go before the trend does.
  const int min_trend = std::min<int>(static_cast<int>(loss_trend.size()), kMinTrend);
  if (loss_trend.size() >= 2) {
    for (const std::string& rest : {rate + tokens + eta, rate + eta}) {
      const int text_columns = head_columns + 1 + static_cast<int>(loss.size() + rest.size());
      const int trend_room = room - text_columns - 1;
      if (trend_room < min_trend) continue;
      const int shown = std::min(static_cast<int>(loss_trend.size()), trend_room);
      const Sparkline trend =
          RenderSparkline(std::vector<double>(loss_trend.end() - shown, loss_trend.end()), glyphs);
      const std::string tail = absl::StrCat(loss, " ", trend.text, rest);
      // "<head> [bar] <tail>": the spaces and brackets take 3 columns besides the cells.
      const int bar_cells = std::min(kMaxBarCells, room - text_columns - 1 - shown - 3);
      if (has_total && bar_cells >= kMinBarCells) {
        return absl::StrCat(head, " ", Bar(fraction, bar_cells), " ", tail);
      }
      return absl::StrCat(head, " ", tail);
    }
  }

  const std::string tail = loss + rate + tokens + eta;
  std::string line;
  // "<head> [bar] <tail>": the two spaces and the brackets take 4 columns besides the cells.
  const int bar_cells =
      std::min(kMaxBarCells, room - head_columns - static_cast<int>(tail.size()) - 4);
  if (has_total && bar_cells >= kMinBarCells) {
    line = absl::StrCat(head, " ", Bar(fraction, bar_cells), " ", tail);
  } else {
    line = absl::StrCat(head, " ", tail);
  }
  if (static_cast<int>(line.size()) > room) line.resize(room);
  return line;
}

}  // namespace ft::client
