#include "server/metrics/server_metrics.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/spec/data_parallel_validation.h"
#include "common/util/time_util.h"
#include "server/sched/job_manager.h"

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

// Queue waits: ~0 on an idle worker (the next AcquireJob poll) up to hours behind a backlog.
prometheus::Histogram::BucketBoundaries QueueWaitBuckets() {
  return {0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400};
}

// Job run times: seconds (smoke tests, early failures) to a day (large models on a CPU).
prometheus::Histogram::BucketBoundaries JobDurationBuckets() {
  return {1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400};
}

// A checkpoint is written and fsynced in ~10 ms (tiny models) to minutes (GBs of weights plus
// AdamW state on a slow disk).
prometheus::Histogram::BucketBoundaries CheckpointBuckets() {
  return {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
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
      queue_wait_(BuildHistogram()
                      .Name("ft_job_queue_wait_seconds")
                      .Help("Time a job waited in the queue before a worker took it (each attempt)")
                      .Register(registry)
                      .Add({}, QueueWaitBuckets())),
      job_duration_(BuildHistogram()
                        .Name("ft_job_duration_seconds")
                        .Help("Run time of a job's final attempt, from its start on a worker to "
                              "its end, by final state")
                        .Register(registry)),
      job_running_(BuildGauge()
                       .Name("ft_job_running")
                       .Help("1 while the job runs on a worker (or is being cancelled), else 0")
                       .Register(registry)),
      job_last_progress_(BuildGauge()
                             .Name("ft_job_last_progress_timestamp_seconds")
                             .Help("Unix time of the job's latest progress report, or of its "
                                   "attempt's start before the first one")
                             .Register(registry)),
      job_loss_(BuildGauge()
                    .Name("ft_job_training_loss")
                    .Help("Mean training loss per example over the last progress interval")
                    .Register(registry)),
      job_learning_rate_(BuildGauge()
                             .Name("ft_job_learning_rate")
                             .Help("Current learning rate")
                             .Register(registry)),
      job_grad_norm_(BuildGauge()
                         .Name("ft_job_grad_norm")
                         .Help("Global gradient norm before clipping, at the last reported step")
                         .Register(registry)),
      job_samples_per_second_(BuildGauge()
                                  .Name("ft_job_samples_per_second")
                                  .Help("Training throughput over the last progress interval")
                                  .Register(registry)),
      job_tokens_per_second_(BuildGauge()
                                 .Name("ft_job_tokens_per_second")
                                 .Help("Non-padding tokens per second over the last progress "
                                       "interval")
                                 .Register(registry)),
      job_step_(BuildGauge()
                    .Name("ft_job_optimizer_step")
                    .Help("Optimizer steps done in the current attempt")
                    .Register(registry)),
      job_loss_scale_(BuildGauge()
                          .Name("ft_job_loss_scale")
                          .Help("fp16 dynamic loss scale (0 when the job does not scale)")
                          .Register(registry)),
      job_memory_(BuildGauge()
                      .Name("ft_job_device_memory_bytes")
                      .Help("Device memory in use by the job: CUDA used memory, or the worker's "
                            "resident set on the CPU")
                      .Register(registry)),
      job_memory_peak_(BuildGauge()
                           .Name("ft_job_device_memory_peak_bytes")
                           .Help("Highest device memory in use in the current attempt")
                           .Register(registry)),
      job_steps_(BuildCounter()
                     .Name("ft_job_optimizer_steps_total")
                     .Help("Optimizer steps taken")
                     .Register(registry)),
      job_skipped_steps_(BuildCounter()
                             .Name("ft_job_skipped_steps_total")
                             .Help("fp16 optimizer steps skipped for an inf/NaN gradient")
                             .Register(registry)),
      job_samples_(BuildCounter()
                       .Name("ft_job_samples_processed_total")
                       .Help("Training examples processed")
                       .Register(registry)),
      job_tokens_(BuildCounter()
                      .Name("ft_job_tokens_processed_total")
                      .Help("Non-padding training tokens processed")
                      .Register(registry)),
      job_heartbeat_age_(BuildGauge()
                             .Name("ft_job_lease_heartbeat_age_seconds")
                             .Help("Seconds since the job's worker last renewed its lease")
                             .Register(registry)),
      job_checkpoint_bytes_(BuildGauge()
                                .Name("ft_job_checkpoint_size_bytes")
                                .Help("Size of the job's latest checkpoint")
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
      job_world_size_(BuildGauge()
                          .Name("ft_job_world_size")
                          .Help("Workers training the job together (spec.world_size), while it "
                                "runs")
                          .Register(registry)),
      // A rank label only on data-parallel jobs: world_size series per running job, gone with
      // the job's other series.
      job_rank_step_(BuildGauge()
                         .Name("ft_job_rank_step_seconds")
                         .Help("Data parallel: mean optimizer-step wall time of each rank over "
                               "its last progress interval")
                         .Register(registry)),
      job_rank_communication_(BuildGauge()
                                  .Name("ft_job_rank_communication_seconds")
                                  .Help("Data parallel: mean time per optimizer step each rank "
                                        "spent in the gradient all-reduce after its backward "
                                        "(the part not overlapped) over its last progress "
                                        "interval")
                                  .Register(registry)),
      step_duration_(BuildHistogram()
                         .Name("ft_optimizer_step_duration_seconds")
                         .Help("Wall time of one optimizer step (all its micro-batches)")
                         .Register(registry)
                         .Add({}, StepBuckets())),
      checkpoint_duration_(BuildHistogram()
                               .Name("ft_checkpoint_save_duration_seconds")
                               .Help("Time to write and commit one checkpoint")
                               .Register(registry)
                               .Add({}, CheckpointBuckets())),
      checkpoint_bytes_total_(BuildCounter()
                                  .Name("ft_checkpoint_written_bytes_total")
                                  .Help("Bytes of committed checkpoints")
                                  .Register(registry)
                                  .Add({})),
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
                   .Add({})),
      workers_connected_(BuildGauge()
                             .Name("ft_workers_connected")
                             .Help("Workers, local or remote, heard from within the lease timeout")
                             .Register(registry)
                             .Add({})),
      serving_(BuildGauge()
                   .Name("ft_serving")
                   .Help("1 when grpc.health.v1 answers SERVING (store open, a worker "
                         "connected), else 0")
                   .Register(registry)
                   .Add({})),
      home_avail_(BuildGauge()
                      .Name("ft_home_filesystem_avail_bytes")
                      .Help("Free bytes for ftd on the filesystem of its home folder")
                      .Register(registry)
                      .Add({})),
      home_size_(BuildGauge()
                     .Name("ft_home_filesystem_size_bytes")
                     .Help("Size of the filesystem of ftd's home folder")
                     .Register(registry)
                     .Add({})) {
  absl::MutexLock lock(&mu_);
  for (ft::v1::JobState state : {ft::v1::QUEUED, ft::v1::RUNNING, ft::v1::CANCELLING,
                                 ft::v1::SUCCEEDED, ft::v1::FAILED, ft::v1::CANCELLED}) {
    state_gauges_[state] = &jobs_.Add({{"state", StateLabel(state)}});
    if (sched::IsFinal(state)) {
      finished_.Add({{"state", StateLabel(state)}});
      duration_by_state_[state] =
          &job_duration_.Add({{"state", StateLabel(state)}}, JobDurationBuckets());
    }
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
  queued_since_[job.id()] = clock_->Now();
}

void ServerMetrics::ObserveQueueWaitLocked(const ft::v1::Job& job) {
  auto it = queued_since_.find(job.id());
  std::optional<absl::Time> since;
  if (it != queued_since_.end()) {
    since = it->second;
  } else if (job.attempt() <= 1 && job.has_create_time()) {
    since = FromProtoTime(job.create_time());  // queued before this ftd started
  }
  if (since) queue_wait_.Observe(std::max(0.0, absl::ToDoubleSeconds(clock_->Now() - *since)));
}

void ServerMetrics::OnJobStateChanged(const ft::v1::Job& job, ft::v1::JobState from) {
  absl::MutexLock lock(&mu_);
  if (auto it = state_gauges_.find(from); it != state_gauges_.end()) it->second->Decrement();
  if (auto it = state_gauges_.find(job.state()); it != state_gauges_.end()) {
    it->second->Increment();
  }
  queue_depth_.Set(state_gauges_[ft::v1::QUEUED]->Value());
  const absl::Time now = clock_->Now();
  if (from == ft::v1::QUEUED && job.state() == ft::v1::RUNNING) ObserveQueueWaitLocked(job);
  if (job.state() == ft::v1::QUEUED) {
    queued_since_[job.id()] = now;  // re-queued for a new attempt
  } else {
    queued_since_.erase(job.id());
  }

  if (sched::IsFinal(job.state())) {
    finished_.Add({{"state", StateLabel(job.state())}}).Increment();
    if (job.has_start_time() && from != ft::v1::QUEUED) {
      const double seconds = absl::ToDoubleSeconds(now - FromProtoTime(job.start_time()));
      duration_by_state_[job.state()]->Observe(std::max(0.0, seconds));
    }
    auto it = series_.find(job.id());
    if (it != series_.end()) {
      it->second.ended_at = now;
      it->second.running->Set(0);
    }
  } else if (job.state() == ft::v1::RUNNING) {
    JobSeries& series = SeriesLocked(job.id());
    series.ended_at.reset();
    StartAttemptLocked(series, job.attempt());
    series.running->Set(1);
    if (series.world_size == nullptr) {
      series.world_size = &job_world_size_.Add({{"job_id", job.id()}});
    }
    series.world_size->Set(spec::WorldSize(job.spec()));
    series.last_progress->Set(absl::ToDoubleSeconds(now - absl::UnixEpoch()));
  } else if (job.state() == ft::v1::QUEUED) {
    auto it = series_.find(job.id());
    if (it != series_.end()) it->second.running->Set(0);
  }
}

ServerMetrics::JobSeries& ServerMetrics::SeriesLocked(const std::string& job_id) {
  auto it = series_.find(job_id);
  if (it != series_.end()) return it->second;
  const prometheus::Labels labels = {{"job_id", job_id}};
  JobSeries series;
  series.running = &job_running_.Add(labels);
  series.last_progress = &job_last_progress_.Add(labels);
  // The loss gauge appears with the first report that has one (a 0 before it would draw a
  // false point on the loss curve).
  series.learning_rate = &job_learning_rate_.Add(labels);
  series.grad_norm = &job_grad_norm_.Add(labels);
  series.samples_per_second = &job_samples_per_second_.Add(labels);
  series.tokens_per_second = &job_tokens_per_second_.Add(labels);
  series.step = &job_step_.Add(labels);
  series.loss_scale = &job_loss_scale_.Add(labels);
  series.memory = &job_memory_.Add(labels);
  series.memory_peak = &job_memory_peak_.Add(labels);
  series.steps = &job_steps_.Add(labels);
  series.skipped_steps = &job_skipped_steps_.Add(labels);
  series.samples = &job_samples_.Add(labels);
  series.tokens = &job_tokens_.Add(labels);
  series.job_id = job_id;
  return series_.emplace(job_id, std::move(series)).first->second;
}

void ServerMetrics::StartAttemptLocked(JobSeries& series, uint32_t attempt) {
  if (series.attempt == attempt) return;
  // A new attempt restarts its own counts; the counters keep growing.
  series.attempt = attempt;
  series.last_step = 0;
  series.last_skipped = 0;
  series.last_samples = 0;
  series.last_tokens = 0;
}

void ServerMetrics::OnProgressLocked(JobSeries& series, const ft::v1::TrainingProgress& p) {
  series.last_progress->Set(absl::ToDoubleSeconds(clock_->Now() - absl::UnixEpoch()));
  if (p.samples_seen() > 0) {
    if (series.loss == nullptr) series.loss = &job_loss_.Add({{"job_id", series.job_id}});
    series.loss->Set(p.loss());
  }
  series.learning_rate->Set(p.learning_rate());
  series.grad_norm->Set(p.grad_norm());
  series.samples_per_second->Set(p.samples_per_second());
  series.tokens_per_second->Set(p.tokens_per_second());
  series.step->Set(static_cast<double>(p.step()));
  series.loss_scale->Set(p.loss_scale());
  series.memory->Set(static_cast<double>(p.device_memory_bytes()));
  series.memory_peak->Set(static_cast<double>(p.device_memory_peak_bytes()));
  // Counters grow by what the attempt's running totals grew; stale reports move nothing.
  const auto advance = [](prometheus::Counter* counter, uint64_t now, uint64_t& last) {
    if (now <= last) return;
    counter->Increment(static_cast<double>(now - last));
    last = now;
  };
  advance(series.steps, p.step(), series.last_step);
  advance(series.skipped_steps, p.skipped_steps(), series.last_skipped);
  advance(series.samples, p.samples_seen(), series.last_samples);
  advance(series.tokens, p.tokens_seen(), series.last_tokens);
}

void ServerMetrics::OnEvaluationLocked(const std::string& job_id, JobSeries& series,
                                       const ft::v1::Evaluation& e) {
  const prometheus::Labels labels = {{"job_id", job_id}, {"split", e.split()}};
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

void ServerMetrics::OnCheckpointLocked(const std::string& job_id, JobSeries& series,
                                       const ft::v1::CheckpointSaved& c) {
  checkpoint_duration_.Observe(c.seconds());
  checkpoint_bytes_total_.Increment(static_cast<double>(c.bytes()));
  if (series.checkpoint_bytes == nullptr) {
    series.checkpoint_bytes = &job_checkpoint_bytes_.Add({{"job_id", job_id}});
  }
  series.checkpoint_bytes->Set(static_cast<double>(c.bytes()));
}

void ServerMetrics::OnJobEvents(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                                const std::vector<double>& step_seconds) {
  absl::MutexLock lock(&mu_);
  for (double seconds : step_seconds) step_duration_.Observe(seconds);
  bool reports = false;
  for (const ft::v1::JobEvent& event : events) {
    reports = reports || event.has_progress() || event.has_evaluation() ||
              event.has_checkpoint_saved();
  }
  if (!reports) return;  // state changes and log lines have no per-job series
  JobSeries& series = SeriesLocked(job.id());
  StartAttemptLocked(series, job.attempt());
  for (const ft::v1::JobEvent& event : events) {
    if (event.has_progress()) {
      OnProgressLocked(series, event.progress());
    } else if (event.has_evaluation()) {
      OnEvaluationLocked(job.id(), series, event.evaluation());
    } else if (event.has_checkpoint_saved()) {
      OnCheckpointLocked(job.id(), series, event.checkpoint_saved());
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

void ServerMetrics::SetDaemon(const DaemonSnapshot& snapshot) {
  workers_.Set(snapshot.local_workers_alive);
  workers_connected_.Set(snapshot.workers_connected);
  serving_.Set(snapshot.serving ? 1 : 0);
  if (snapshot.home_filesystem_avail_bytes) {
    home_avail_.Set(static_cast<double>(*snapshot.home_filesystem_avail_bytes));
  }
  if (snapshot.home_filesystem_size_bytes) {
    home_size_.Set(static_cast<double>(*snapshot.home_filesystem_size_bytes));
  }
  absl::MutexLock lock(&mu_);
  for (auto& [job_id, series] : series_) {
    auto age = snapshot.lease_heartbeat_ages.find(job_id);
    if (age != snapshot.lease_heartbeat_ages.end() && !series.ended_at) {
      if (series.heartbeat_age == nullptr) {
        series.heartbeat_age = &job_heartbeat_age_.Add({{"job_id", job_id}});
      }
      series.heartbeat_age->Set(age->second);
    } else if (series.heartbeat_age != nullptr) {
      job_heartbeat_age_.Remove(series.heartbeat_age);
      series.heartbeat_age = nullptr;
    }
  }
}

void ServerMetrics::RemoveSeriesLocked(JobSeries& series) {
  job_running_.Remove(series.running);
  job_last_progress_.Remove(series.last_progress);
  if (series.loss != nullptr) job_loss_.Remove(series.loss);
  job_learning_rate_.Remove(series.learning_rate);
  job_grad_norm_.Remove(series.grad_norm);
  job_samples_per_second_.Remove(series.samples_per_second);
  job_tokens_per_second_.Remove(series.tokens_per_second);
  job_step_.Remove(series.step);
  job_loss_scale_.Remove(series.loss_scale);
  job_memory_.Remove(series.memory);
  job_memory_peak_.Remove(series.memory_peak);
  job_steps_.Remove(series.steps);
  job_skipped_steps_.Remove(series.skipped_steps);
  job_samples_.Remove(series.samples);
  job_tokens_.Remove(series.tokens);
  if (series.heartbeat_age != nullptr) job_heartbeat_age_.Remove(series.heartbeat_age);
  if (series.checkpoint_bytes != nullptr) job_checkpoint_bytes_.Remove(series.checkpoint_bytes);
  for (auto& [split, gauge] : series.accuracy) job_accuracy_.Remove(gauge);
  for (auto& [split, gauge] : series.eval_loss) job_eval_loss_.Remove(gauge);
  for (auto& [split, gauge] : series.macro_f1) job_macro_f1_.Remove(gauge);
  if (series.world_size != nullptr) job_world_size_.Remove(series.world_size);
  for (auto& [rank, gauge] : series.rank_step) job_rank_step_.Remove(gauge);
  for (auto& [rank, gauge] : series.rank_communication) job_rank_communication_.Remove(gauge);
}

void ServerMetrics::OnRankProgress(const std::string& job_id, uint32_t rank,
                                   const ft::v1::TrainingProgress& progress) {
  absl::MutexLock lock(&mu_);
  JobSeries& series = SeriesLocked(job_id);
  const prometheus::Labels labels = {{"job_id", job_id}, {"rank", absl::StrCat(rank)}};
  prometheus::Gauge*& step = series.rank_step[rank];
  if (step == nullptr) step = &job_rank_step_.Add(labels);
  step->Set(progress.step_seconds());
  prometheus::Gauge*& communication = series.rank_communication[rank];
  if (communication == nullptr) communication = &job_rank_communication_.Add(labels);
  communication->Set(progress.communication_seconds());
}

void ServerMetrics::RemoveExpiredJobSeries() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  for (auto it = series_.begin(); it != series_.end();) {
    if (it->second.ended_at && now - *it->second.ended_at >= grace_) {
      RemoveSeriesLocked(it->second);
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
