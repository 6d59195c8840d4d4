// The chart `ftctl plot` draws from jobs' event logs: training loss and validation accuracy
// against the optimizer step (or the training examples seen), one series per job, with the final
// validation and test accuracy in the legend.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/lib/plot/chart.h"
#include "ft/v1/event.pb.h"

namespace ft::client {

// What the legend says about a job besides its id; zeros and empty strings when unknown.
struct JobLabel {
  std::string display_name;
  uint32_t micro_batch_size = 0;
  uint32_t accumulation_steps = 0;
};

struct JobLog {
  std::string job_id;
  JobLabel label;
  std::vector<ft::v1::JobEvent> events;  // in seq order
};

enum class PlotX { kStep, kExamples };

struct TrainingChartOptions {
  PlotX x = PlotX::kStep;
  std::string title;  // empty: a default naming what is drawn
};

// "job-3 mb 1 x acc 16" (or "job-3 <display name>"), then the state when the job has not
// succeeded, then "- val 71.2 %, test 70.9 %" from its last evaluations.
std::string JobLegend(const JobLog& job);

// One loss series and one validation-accuracy series (in %) per job. A step reported twice (a
// re-queued job resumed from a checkpoint) is drawn once, with its newest value. Non-finite values
// are left out and counted in the chart's notes. With PlotX::kExamples an evaluation's x is the
// examples seen at its step, interpolated between progress reports.
Chart BuildTrainingChart(const std::vector<JobLog>& jobs, const TrainingChartOptions& options);

}  // namespace ft::client
