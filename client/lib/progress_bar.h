// The single status line `ftctl watch` redraws in place on a terminal, e.g.
//   step  40/200 [=======>    ]  20% loss 0.6931 val 81.20% 312.5 samples/s 20480 tok/s eta 51s
#pragma once

#include <optional>
#include <string>

#include "ft/v1/progress.pb.h"

namespace ft::client {

// Renders the line to fit in `width` - 1 columns (the last column is left free so the terminal
// never wraps, which would break the in-place redraw). The bar takes the room the text leaves,
// up to 40 cells; it is dropped when under 5 cells fit, and the text is cut when even that is too
// wide. `val_accuracy` is the latest validation accuracy (0..1), if any.
std::string RenderProgressBar(const ft::v1::TrainingProgress& progress,
                              std::optional<double> val_accuracy, int width);

}  // namespace ft::client
