// Per-class precision/recall/F1 and the confusion matrix of an evaluation, as text tables for
// `ftctl get`.
#pragma once

#include <string>

#include "ft/v1/progress.pb.h"

namespace ft::client {

// One row per class, aligned:
//   LABEL  PRECISION  RECALL  F1      SUPPORT  PREDICTED
//   ham    0.9800     0.9900  0.9850  434      438
// Empty when the evaluation has no per-class metrics (an older worker).
std::string FormatClassTable(const ft::v1::Evaluation& evaluation);

// Rows are true labels, columns predicted labels, both in label order:
//   TRUE \ PREDICTED  ham  spam
//   ham               430  4
//   spam              8    58
// Empty when the evaluation has no confusion matrix or its size does not match the classes.
std::string FormatConfusionMatrix(const ft::v1::Evaluation& evaluation);

}  // namespace ft::client
