#include "worker/eval/class_metrics.h"

#include <stdexcept>

namespace ft::train {
namespace {

double Ratio(int64_t numerator, int64_t denominator) {
  return denominator > 0 ? static_cast<double>(numerator) / static_cast<double>(denominator) : 0.0;
}

}  // namespace

void FillClassMetrics(const std::vector<int64_t>& confusion,
                      const std::vector<std::string>& label_names, EvalReport& report) {
  const std::size_t n = label_names.size();
  if (confusion.size() != n * n) {
    throw std::invalid_argument("confusion matrix has " + std::to_string(confusion.size()) +
                                " entries for " + std::to_string(n) + " classes");
  }
  std::vector<int64_t> support(n, 0);
  std::vector<int64_t> predicted(n, 0);
  int64_t total = 0;
  int64_t correct = 0;
  for (std::size_t t = 0; t < n; ++t) {
    for (std::size_t p = 0; p < n; ++p) {
      const int64_t count = confusion[t * n + p];
      support[t] += count;
      predicted[p] += count;
      total += count;
      if (t == p) correct += count;
    }
  }
  report.classes.clear();
  double f1_sum = 0;
  int64_t f1_classes = 0;
  for (std::size_t c = 0; c < n; ++c) {
    ClassMetrics metrics;
    metrics.label = label_names[c];
    metrics.support = support[c];
    metrics.predicted = predicted[c];
    const int64_t true_positives = confusion[c * n + c];
    metrics.precision = Ratio(true_positives, predicted[c]);
    metrics.recall = Ratio(true_positives, support[c]);
    const double sum = metrics.precision + metrics.recall;
    metrics.f1 = sum > 0 ? 2 * metrics.precision * metrics.recall / sum : 0.0;
    if (support[c] > 0 || predicted[c] > 0) {
      f1_sum += metrics.f1;
      ++f1_classes;
    }
    report.classes.push_back(std::move(metrics));
  }
  report.macro_f1 = f1_classes > 0 ? f1_sum / static_cast<double>(f1_classes) : 0.0;
  report.accuracy = Ratio(correct, total);
  report.confusion = confusion;
}

}  // namespace ft::train
