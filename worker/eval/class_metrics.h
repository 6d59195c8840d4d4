// Per-class precision, recall and F1, macro-F1 and accuracy from a confusion matrix: what
// accuracy alone hides on imbalanced data. Standard library only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/train/train_job.h"

namespace ft::train {

// Fills report.classes, report.macro_f1, report.accuracy and report.confusion from `confusion`
// (row-major, label_names.size() squared, [true * n + predicted]). Conventions for empty
// denominators, as scikit-learn's zero_division=0:
//   - a class never predicted has precision 0;
//   - a class that never occurs in the split (support 0) has recall 0;
//   - F1 is 0 when precision + recall is 0.
// Macro-F1 averages F1 over the classes that occur in the split or are predicted at least once (a
// class that is neither says nothing about this split), like scikit-learn's f1_score(average=
// "macro") without `labels`. Throws std::invalid_argument when the sizes disagree.
void FillClassMetrics(const std::vector<int64_t>& confusion,
                      const std::vector<std::string>& label_names, EvalReport& report);

}  // namespace ft::train
