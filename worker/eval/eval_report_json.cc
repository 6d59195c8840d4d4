#include "worker/eval/eval_report_json.h"

#include <cstddef>
#include <vector>

namespace ft::train {

using Json = nlohmann::ordered_json;

Json EvalReportJson(const EvalReport& report) {
  Json classes = Json::array();
  for (const ClassMetrics& c : report.classes) {
    classes.push_back(Json{{"label", c.label},
                           {"precision", c.precision},
                           {"recall", c.recall},
                           {"f1", c.f1},
                           {"support", c.support},
                           {"predicted", c.predicted}});
  }
  Json confusion = Json::array();
  const std::size_t n = report.classes.size();
  if (n > 0 && report.confusion.size() == n * n) {
    for (std::size_t row = 0; row < n; ++row) {
      confusion.push_back(std::vector<int64_t>(report.confusion.begin() + row * n,
                                               report.confusion.begin() + (row + 1) * n));
    }
  }
  return Json{{"split", report.split},       {"step", report.step},
              {"loss", report.loss},         {"accuracy", report.accuracy},
              {"examples", report.examples}, {"macro_f1", report.macro_f1},
              {"classes", classes},          {"confusion", confusion},
              {"perplexity", report.perplexity}, {"target_tokens", report.target_tokens}};
}

EvalReport EvalReportFromJson(const Json& json) {
  EvalReport report;
  report.split = json.at("split").get<std::string>();
  report.step = json.at("step").get<int64_t>();
  report.loss = json.at("loss").get<double>();
  report.accuracy = json.at("accuracy").get<double>();
  report.examples = json.at("examples").get<int64_t>();
  report.macro_f1 = json.value("macro_f1", 0.0);
  report.perplexity = json.value("perplexity", 0.0);
  report.target_tokens = json.value("target_tokens", int64_t{0});
  for (const Json& c : json.value("classes", Json::array())) {
    ClassMetrics metrics;
    metrics.label = c.at("label").get<std::string>();
    metrics.precision = c.at("precision").get<double>();
    metrics.recall = c.at("recall").get<double>();
    metrics.f1 = c.at("f1").get<double>();
    metrics.support = c.at("support").get<int64_t>();
    metrics.predicted = c.at("predicted").get<int64_t>();
    report.classes.push_back(std::move(metrics));
  }
  for (const Json& row : json.value("confusion", Json::array())) {
    for (const Json& count : row) report.confusion.push_back(count.get<int64_t>());
  }
  return report;
}

}  // namespace ft::train
