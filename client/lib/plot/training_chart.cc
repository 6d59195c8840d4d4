#include "client/lib/plot/training_chart.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "client/lib/format/text_util.h"

namespace ft::client {
namespace {

struct ProgressPoint {
  double loss = 0;
  uint64_t samples_seen = 0;
};

// A job's curves keyed by step; a later report of the same step (a resumed attempt) wins.
struct Curves {
  std::map<uint64_t, ProgressPoint> progress;
  std::map<uint64_t, double> validation;
};

Curves CollectCurves(const JobLog& job) {
  Curves curves;
  for (const ft::v1::JobEvent& event : job.events) {
    if (event.has_progress()) {
      curves.progress[event.progress().step()] = {event.progress().loss(),
                                                  event.progress().samples_seen()};
    } else if (event.has_evaluation() && event.evaluation().split() == "validation") {
      curves.validation[event.evaluation().step()] = event.evaluation().accuracy();
    }
  }
  return curves;
}

// Examples seen after `step`: exact at a progress report, linear in between (from 0 at step 0),
// and at the last report's rate beyond it.
double ExamplesAt(const std::map<uint64_t, ProgressPoint>& progress, uint64_t step,
                  const JobLabel& label) {
  if (progress.empty()) {
    return static_cast<double>(step) * label.micro_batch_size * label.accumulation_steps;
  }
  auto after = progress.lower_bound(step);
  if (after != progress.end() && after->first == step) {
    return static_cast<double>(after->second.samples_seen);
  }
  double step0 = 0, samples0 = 0;
  if (after != progress.begin()) {
    const auto before = std::prev(after);
    step0 = static_cast<double>(before->first);
    samples0 = static_cast<double>(before->second.samples_seen);
  }
  double step1, samples1;
  if (after != progress.end()) {
    step1 = static_cast<double>(after->first);
    samples1 = static_cast<double>(after->second.samples_seen);
  } else {
    // Beyond the last report: continue at its average rate.
    const auto last = std::prev(progress.end());
    const double rate = last->first > 0 ? static_cast<double>(last->second.samples_seen) /
                                              static_cast<double>(last->first)
                                        : 0;
    return samples0 + (static_cast<double>(step) - step0) * rate;
  }
  if (step1 <= step0) return samples1;
  return samples0 + (static_cast<double>(step) - step0) / (step1 - step0) * (samples1 - samples0);
}

std::optional<ft::v1::JobState> LastState(const JobLog& job) {
  for (auto it = job.events.rbegin(); it != job.events.rend(); ++it) {
    if (it->has_state_change()) return it->state_change().to();
  }
  return std::nullopt;
}

std::optional<double> LastAccuracy(const JobLog& job, const std::string& split) {
  for (auto it = job.events.rbegin(); it != job.events.rend(); ++it) {
    if (it->has_evaluation() && it->evaluation().split() == split) {
      return it->evaluation().accuracy();
    }
  }
  return std::nullopt;
}

std::string Percent(double fraction) {
  if (!std::isfinite(fraction)) return "?";
  return absl::StrFormat("%.1f %%", 100.0 * fraction);
}

}  // namespace

std::string JobLegend(const JobLog& job) {
  std::string text = job.job_id;
  if (!job.label.display_name.empty()) {
    absl::StrAppend(&text, " ", job.label.display_name);
  } else if (job.label.micro_batch_size > 0) {
    absl::StrAppend(&text, " mb ", job.label.micro_batch_size, " x acc ",
                    std::max<uint32_t>(job.label.accumulation_steps, 1));
  }
  const std::optional<ft::v1::JobState> state = LastState(job);
  if (state && *state != ft::v1::SUCCEEDED) absl::StrAppend(&text, " (", StateName(*state), ")");
  std::vector<std::string> accuracies;
  if (auto validation = LastAccuracy(job, "validation")) {
    accuracies.push_back(absl::StrCat("val ", Percent(*validation)));
  }
  if (auto test = LastAccuracy(job, "test")) {
    accuracies.push_back(absl::StrCat("test ", Percent(*test)));
  }
  absl::StrAppend(&text, " \u2014 ",
                  accuracies.empty() ? "no evaluation yet" : absl::StrJoin(accuracies, ", "));
  return text;
}

Chart BuildTrainingChart(const std::vector<JobLog>& jobs, const TrainingChartOptions& options) {
  const bool by_examples = options.x == PlotX::kExamples;
  Chart chart;
  chart.title = options.title.empty()
                    ? (jobs.size() == 1 ? absl::StrCat("Job ", jobs.front().job_id)
                                        : "Training loss and validation accuracy")
                    : options.title;
  chart.x_title = by_examples ? "training examples seen" : "optimizer step";
  ChartPanel loss;
  loss.title = "training loss";
  ChartPanel accuracy;
  accuracy.title = "validation accuracy (%)";
  accuracy.markers = true;
  accuracy.y_floor = 0;
  accuracy.y_ceiling = 100;

  for (const JobLog& job : jobs) {
    chart.legend.push_back(JobLegend(job));
    const Curves curves = CollectCurves(job);
    int skipped_loss = 0, skipped_accuracy = 0;
    ChartSeries& loss_series = loss.series.emplace_back();
    for (const auto& [step, point] : curves.progress) {
      const double x =
          by_examples ? static_cast<double>(point.samples_seen) : static_cast<double>(step);
      if (!AddFinitePoint(loss_series, x, point.loss)) ++skipped_loss;
    }
    ChartSeries& accuracy_series = accuracy.series.emplace_back();
    for (const auto& [step, value] : curves.validation) {
      const double x =
          by_examples ? ExamplesAt(curves.progress, step, job.label) : static_cast<double>(step);
      if (!AddFinitePoint(accuracy_series, x, 100.0 * value)) ++skipped_accuracy;
    }
    if (skipped_loss > 0) {
      chart.notes.push_back(absl::StrCat(job.job_id, ": ", skipped_loss,
                                         " non-finite training loss value(s) not drawn"));
    }
    if (skipped_accuracy > 0) {
      chart.notes.push_back(absl::StrCat(job.job_id, ": ", skipped_accuracy,
                                         " non-finite validation accuracy value(s) not drawn"));
    }
  }
  chart.panels.push_back(std::move(loss));
  chart.panels.push_back(std::move(accuracy));
  return chart;
}

}  // namespace ft::client
