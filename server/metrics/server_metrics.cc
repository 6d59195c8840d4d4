#include "metrics/server_metrics.h"

#include "absl/strings/ascii.h"
#include "sched/job_manager.h"

namespace ft::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

std::string StateLabel(ft::v1::JobState state) {
  return absl::AsciiStrToLower(ft::v1::JobState_Name(state));
}

// Optimizer steps range from milliseconds (tiny models on a GPU) to a minute (large models on a
// CPU): roughly 2.5x apart so that quantiles stay within a factor of ~1.6 across that range.
prometheus::Histogram::BucketBoundaries StepBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60};
}

// Unary RPCs take ~0.1 ms (reads) to tens of ms (a durable SQLite commit, dataset header read).
prometheus::Histogram::BucketBoundaries RpcBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1};
}

}  // namespace

ServerMetrics::ServerMetrics(prometheus::Registry& registry, sched::Clock* clock,
                             absl::Duration grace)
    : clock_(clock),
      grace_(grace),
      jobs_(BuildGauge().Name("ft_jobs").Help("Jobs by state").Register(registry)),
      queue_depth_(BuildGauge()
                       .Name("ft_queue_depth")
                       .Help("Jobs waiting for a worker")
                       .Register(registry)
                       .Add({})),
      submitted_(BuildCounter()
                     .Name("ft_jobs_submitted_total")
                     .Help("Jobs accepted by SubmitJob")
                     .Register(registry)
                     .Add({})),
      finished_(BuildCounter()
                    .Name("ft_jobs_finished_total")
                    .Help("Jobs that reached a final state, by state")
                    .Register(registry)),
      job_loss_(BuildGauge()
                    .Name("ft_job_training_loss")
                    .Help("Mean training loss per example over the last progress interval")
                    .Register(registry)),
      job_learning_rate_(BuildGauge()
                             .Name("ft_job_learning_rate")
                             .Help("Current learning rate")
                             .Register(registry)),
      job_samples_per_second_(BuildGauge()
                                  .Name("ft_job_samples_per_second")
                                  .Help("Training throughput over the last progress interval")
                                  .Register(registry)),
      job_step_(BuildGauge()
                    .Name("ft_job_optimizer_step")
                    .Help("Optimizer steps done in the current attempt")
                    .Register(registry)),
      job_samples_(BuildCounter()
                       .Name("ft_job_samples_processed_total")
                       .Help("Training examples processed")
                       .Register(registry)),
      job_tokens_(BuildCounter()
                      .Name("ft_job_tokens_processed_total")
                      .Help("Non-padding training tokens processed")
                      .Register(registry)),
      job_accuracy_(BuildGauge()
                        .Name("ft_job_accuracy_ratio")
                        .Help("Latest evaluation accuracy (0..1) by split")
                        .Register(registry)),
      job_eval_loss_(BuildGauge()
                         .Name("ft_job_evaluation_loss")
                         .Help("Latest evaluation loss by split")
                         .Register(registry)),
      job_macro_f1_(BuildGauge()
                        .Name("ft_job_macro_f1")
                        .Help("Latest evaluation macro-F1 (0..1, mean per-class F1) by split")
                        .Register(registry)),
      step_duration_(BuildHistogram()
                         .Name("ft_optimizer_step_duration_seconds")
                         .Help("Wall time of one optimizer step (all its micro-batches)")
                         .Register(registry)
                         .Add({}, StepBuckets())),
      rpcs_(BuildCounter()
                .Name("ft_rpc_requests_total")
                .Help("Finished RPCs by method and status code")
                .Register(registry)),
      rpc_duration_(BuildHistogram()
                        .Name("ft_rpc_duration_seconds")
                        .Help("RPC handling time by method (unary RPCs)")
                        .Register(registry)),
      workers_(BuildGauge()
                   .Name("ft_workers_alive")
                   .Help("Local worker processes running")
                   .Register(registry)
                   .Add({})) {
  absl::MutexLock lock(&mu_);
  for (ft::v1::JobState state : {ft::v1::QUEUED, ft::v1::RUNNING, ft::v1::CANCELLING,
                                 ft::v1::SUCCEEDED, ft::v1::FAILED, ft::v1::CANCELLED}) {
    state_gauges_[state] = &jobs_.Add({{"state", StateLabel(state)}});
    if (sched::IsFinal(state)) finished_.Add({{"state", StateLabel(state)}});
  }
}

void ServerMetrics::SetJobCounts(const std::map<ft::v1::JobState, int64_t>& counts) {
  absl::MutexLock lock(&mu_);
  for (auto& [state, gauge] : state_gauges_) {
    auto it = counts.find(state);
    gauge->Set(it == counts.end() ? 0 : static_cast<double>(it->second));
  }
  queue_depth_.Set(state_gauges_[ft::v1::QUEUED]->Value());
}

void ServerMetrics::OnJobSubmitted(const ft::v1::Job& job) {
  absl::MutexLock lock(&mu_);
  submitted_.Increment();
  state_gauges_[ft::v1::QUEUED]->Increment();
  queue_depth_.Increment();
}

void ServerMetrics::OnJobStateChanged(const ft::v1::Job& job, ft::v1::JobState from) {
  absl::MutexLock lock(&mu_);
  if (auto it = state_gauges_.find(from); it != state_gauges_.end()) it->second->Decrement();
  if (auto it = state_gauges_.find(job.state()); it != state_gauges_.end()) {
    it->second->Increment();
  }
  queue_depth_.Set(state_gauges_[ft::v1::QUEUED]->Value());
  if (sched::IsFinal(job.state())) {
    finished_.Add({{"state", StateLabel(job.state())}}).Increment();
    auto it = series_.find(job.id());
    if (it != series_.end()) it->second.ended_at = clock_->Now();
  } else if (job.state() == ft::v1::RUNNING) {
    SeriesLocked(job.id()).ended_at.reset();
  }
}

ServerMetrics::JobSeries& ServerMetrics::SeriesLocked(const std::string& job_id) {
  auto it = series_.find(job_id);
  if (it != series_.end()) return it->second;
  const prometheus::Labels labels = {{"job_id", job_id}};
  JobSeries series;
  series.loss = &job_loss_.Add(labels);
  series.learning_rate = &job_learning_rate_.Add(labels);
  series.samples_per_second = &job_samples_per_second_.Add(labels);
  series.step = &job_step_.Add(labels);
  series.samples = &job_samples_.Add(labels);
  series.tokens = &job_tokens_.Add(labels);
  return series_.emplace(job_id, std::move(series)).first->second;
}

void ServerMetrics::OnJobEvents(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                                const std::vector<double>& step_seconds) {
  absl::MutexLock lock(&mu_);
  for (double seconds : step_seconds) step_duration_.Observe(seconds);
  bool reports = false;
  for (const ft::v1::JobEvent& event : events) {
    reports = reports || event.has_progress() || event.has_evaluation();
  }
  if (!reports) return;  // state changes and log lines have no per-job series
  JobSeries& series = SeriesLocked(job.id());
  if (series.attempt != job.attempt()) {
    // A new attempt restarts its own counts; the counters keep growing.
    series.attempt = job.attempt();
    series.last_samples = 0;
    series.last_tokens = 0;
  }
  for (const ft::v1::JobEvent& event : events) {
    if (event.has_progress()) {
      const auto& p = event.progress();
      series.loss->Set(p.loss());
      series.learning_rate->Set(p.learning_rate());
      series.samples_per_second->Set(p.samples_per_second());
      series.step->Set(static_cast<double>(p.step()));
      if (p.samples_seen() > series.last_samples) {
        series.samples->Increment(static_cast<double>(p.samples_seen() - series.last_samples));
        series.last_samples = p.samples_seen();
      }
      if (p.tokens_seen() > series.last_tokens) {
        series.tokens->Increment(static_cast<double>(p.tokens_seen() - series.last_tokens));
        series.last_tokens = p.tokens_seen();
      }
    } else if (event.has_evaluation()) {
      const auto& e = event.evaluation();
      const prometheus::Labels labels = {{"job_id", job.id()}, {"split", e.split()}};
      auto& accuracy = series.accuracy[e.split()];
      if (accuracy == nullptr) accuracy = &job_accuracy_.Add(labels);
      accuracy->Set(e.accuracy());
      auto& loss = series.eval_loss[e.split()];
      if (loss == nullptr) loss = &job_eval_loss_.Add(labels);
      loss->Set(e.loss());
      if (e.classes_size() > 0) {  // evaluations from workers that compute per-class metrics
        auto& macro_f1 = series.macro_f1[e.split()];
        if (macro_f1 == nullptr) macro_f1 = &job_macro_f1_.Add(labels);
        macro_f1->Set(e.macro_f1());
      }
    }
  }
}

void ServerMetrics::OnRpc(const std::string& method, const std::string& code, double seconds) {
  absl::MutexLock lock(&mu_);
  auto& counter = rpc_counters_[{method, code}];
  if (counter == nullptr) counter = &rpcs_.Add({{"method", method}, {"code", code}});
  counter->Increment();
  if (seconds < 0) return;  // streams are counted, not timed
  auto& histogram = rpc_histograms_[method];
  if (histogram == nullptr) histogram = &rpc_duration_.Add({{"method", method}}, RpcBuckets());
  histogram->Observe(seconds);
}

void ServerMetrics::SetWorkers(int alive) { workers_.Set(alive); }

void ServerMetrics::RemoveSeriesLocked(const std::string& job_id, JobSeries& series) {
  job_loss_.Remove(series.loss);
  job_learning_rate_.Remove(series.learning_rate);
  job_samples_per_second_.Remove(series.samples_per_second);
  job_step_.Remove(series.step);
  job_samples_.Remove(series.samples);
  job_tokens_.Remove(series.tokens);
  for (auto& [split, gauge] : series.accuracy) job_accuracy_.Remove(gauge);
  for (auto& [split, gauge] : series.eval_loss) job_eval_loss_.Remove(gauge);
  for (auto& [split, gauge] : series.macro_f1) job_macro_f1_.Remove(gauge);
}

void ServerMetrics::RemoveExpiredJobSeries() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.ended_at && now - *it->second.ended_at >= grace_) {
      RemoveSeriesLocked(it->first, it->second);
      it = series_.erase(it);
    } else {
      ++it;
    }
  }
}

size_t ServerMetrics::job_series_count() {
  absl::MutexLock lock(&mu_);
  return series_.size();
}

}  // namespace ft::metrics
