#include "client/lib/format/class_metrics_format.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/lib/format/text_util.h"

namespace ft::client {

std::string FormatClassTable(const ft::v1::Evaluation& evaluation) {
  if (evaluation.classes_size() == 0) return "";
  std::vector<std::vector<std::string>> rows;
  for (const ft::v1::ClassMetrics& c : evaluation.classes()) {
    rows.push_back({c.label(), absl::StrFormat("%.4f", c.precision()),
                    absl::StrFormat("%.4f", c.recall()), absl::StrFormat("%.4f", c.f1()),
                    absl::StrCat(c.support()), absl::StrCat(c.predicted())});
  }
  return RenderTable({"LABEL", "PRECISION", "RECALL", "F1", "SUPPORT", "PREDICTED"}, rows);
}

std::string FormatConfusionMatrix(const ft::v1::Evaluation& evaluation) {
  const int n = evaluation.classes_size();
  if (n == 0 || evaluation.confusion_size() != n * n) return "";
  std::vector<std::string> header = {"TRUE \\ PREDICTED"};
  for (const ft::v1::ClassMetrics& c : evaluation.classes()) header.push_back(c.label());
  std::vector<std::vector<std::string>> rows;
  for (int t = 0; t < n; ++t) {
    std::vector<std::string> row = {evaluation.classes(t).label()};
    for (int p = 0; p < n; ++p) row.push_back(absl::StrCat(evaluation.confusion(t * n + p)));
    rows.push_back(std::move(row));
  }
  return RenderTable(header, rows);
}

}  // namespace ft::client
