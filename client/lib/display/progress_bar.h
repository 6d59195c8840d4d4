// The single status line `ftctl watch` redraws in place on a terminal, e.g.
//   step  40/200 [=======>    ]  20% loss 0.6931 ▇▆▅▅▃▂ val 81.20% 312.5 samples/s 20480 tok/s eta
//   51s
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/lib/display/sparkline.h"
#include "ft/v1/progress.pb.h"

namespace ft::client {

// Renders the line to fit in `width` - 1 columns (the last column is left free so the terminal
// never wraps, which would break the in-place redraw). The bar takes the room the text leaves,
// up to 40 cells; it is dropped when under 5 cells fit, and the text is cut when even that is too
// wide. `val_accuracy` is the latest validation accuracy (0..1), if any.
// `loss_trend`, the recent losses (oldest first), is drawn as a sparkline after the loss when at
// least 2 are given: as many of the newest as fit (at least 8, or all when fewer), before the bar
// gets the room left; on a narrow terminal the tokens/s are left out to make room for it, and
// when even that is not enough the line is drawn as without a trend.
std::string RenderProgressBar(const ft::v1::TrainingProgress& progress,
                              std::optional<double> val_accuracy, int width,
                              const std::vector<double>& loss_trend = {},
                              SparkGlyphs glyphs = SparkGlyphs::kAscii);

}  // namespace ft::client
