// ftd's Prometheus metrics (the catalogue is in docs/operations.md, "Metrics"). Families are built once
// from an injected registry and child series are cached. Per-job series exist while the job runs
// and for a grace period after it ends (so that its last values are scraped), then are removed,
// keeping cardinality bounded however many jobs pass through.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/sched/clock.h"
#include "server/sched/job_observer.h"

namespace ft::metrics {

// What the housekeeping loop measures about the daemon itself.
struct DaemonSnapshot {
  int local_workers_alive = 0;  // local ftworker processes running
  int workers_connected = 0;    // workers (local or remote) heard from within the lease timeout
  std::map<std::string, double> lease_heartbeat_ages;  // seconds, by running job id
  bool serving = false;                                // grpc.health.v1 status
  std::optional<uint64_t> home_filesystem_avail_bytes;
  std::optional<uint64_t> home_filesystem_size_bytes;
};

class ServerMetrics : public sched::JobObserver {
 public:
  ServerMetrics(prometheus::Registry& registry, sched::Clock* clock, absl::Duration grace);

  // Seeds the per-state gauges from the store at start.
  void SetJobCounts(const std::map<ft::v1::JobState, int64_t>& counts);

  void OnJobSubmitted(const ft::v1::Job& job) override;
  void OnJobStateChanged(const ft::v1::Job& job, ft::v1::JobState from) override;
  void OnJobEvents(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                   const std::vector<double>& step_seconds) override;
  void OnRankProgress(const std::string& job_id, uint32_t rank,
                      const ft::v1::TrainingProgress& progress) override;

  // One finished RPC: counted by method and status code, timed by method.
  void OnRpc(const std::string& method, const std::string& code, double seconds);
  void SetWorkers(int alive);
  void SetDaemon(const DaemonSnapshot& snapshot);

  // Removes series of jobs that ended more than `grace` ago.
  void RemoveExpiredJobSeries();
  size_t job_series_count();

 private:
  struct JobSeries {
    std::string job_id;
    prometheus::Gauge* running = nullptr;
    prometheus::Gauge* last_progress = nullptr;
    prometheus::Gauge* loss = nullptr;
    prometheus::Gauge* learning_rate = nullptr;
    prometheus::Gauge* grad_norm = nullptr;
    prometheus::Gauge* samples_per_second = nullptr;
    prometheus::Gauge* tokens_per_second = nullptr;
    prometheus::Gauge* step = nullptr;
    prometheus::Gauge* loss_scale = nullptr;
    prometheus::Gauge* memory = nullptr;
    prometheus::Gauge* memory_peak = nullptr;
    prometheus::Counter* steps = nullptr;
    prometheus::Counter* skipped_steps = nullptr;
    prometheus::Counter* samples = nullptr;
    prometheus::Counter* tokens = nullptr;
    prometheus::Gauge* heartbeat_age = nullptr;    // while a lease is held
    prometheus::Gauge* checkpoint_bytes = nullptr;  // after the first checkpoint
    std::map<std::string, prometheus::Gauge*> accuracy;   // by split
    std::map<std::string, prometheus::Gauge*> eval_loss;  // by split
    std::map<std::string, prometheus::Gauge*> macro_f1;   // by split
    prometheus::Gauge* world_size = nullptr;              // while running
    std::map<uint32_t, prometheus::Gauge*> rank_step;     // data parallel, by rank
    std::map<uint32_t, prometheus::Gauge*> rank_communication;  // data parallel, by rank
    uint64_t last_step = 0;
    uint64_t last_skipped = 0;
    uint64_t last_samples = 0;
    uint64_t last_tokens = 0;
    uint32_t attempt = 0;
    std::optional<absl::Time> ended_at;
  };
  JobSeries& SeriesLocked(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StartAttemptLocked(JobSeries& series, uint32_t attempt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnProgressLocked(JobSeries& series, const ft::v1::TrainingProgress& p)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnEvaluationLocked(const std::string& job_id, JobSeries& series,
                          const ft::v1::Evaluation& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void OnCheckpointLocked(const std::string& job_id, JobSeries& series,
                          const ft::v1::CheckpointSaved& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ObserveQueueWaitLocked(const ft::v1::Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSeriesLocked(JobSeries& series) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  sched::Clock* clock_;
  const absl::Duration grace_;

  // Jobs and queue.
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Gauge& queue_depth_;
  prometheus::Counter& submitted_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Histogram& queue_wait_;
  prometheus::Family<prometheus::Histogram>& job_duration_;
  // Per job.
  prometheus::Family<prometheus::Gauge>& job_running_;
  prometheus::Family<prometheus::Gauge>& job_last_progress_;
  prometheus::Family<prometheus::Gauge>& job_loss_;
  prometheus::Family<prometheus::Gauge>& job_learning_rate_;
  prometheus::Family<prometheus::Gauge>& job_grad_norm_;
  prometheus::Family<prometheus::Gauge>& job_samples_per_second_;
  prometheus::Family<prometheus::Gauge>& job_tokens_per_second_;
  prometheus::Family<prometheus::Gauge>& job_step_;
  prometheus::Family<prometheus::Gauge>& job_loss_scale_;
  prometheus::Family<prometheus::Gauge>& job_memory_;
  prometheus::Family<prometheus::Gauge>& job_memory_peak_;
  prometheus::Family<prometheus::Counter>& job_steps_;
  prometheus::Family<prometheus::Counter>& job_skipped_steps_;
  prometheus::Family<prometheus::Counter>& job_samples_;
  prometheus::Family<prometheus::Counter>& job_tokens_;
  prometheus::Family<prometheus::Gauge>& job_heartbeat_age_;
  prometheus::Family<prometheus::Gauge>& job_checkpoint_bytes_;
  prometheus::Family<prometheus::Gauge>& job_accuracy_;
  prometheus::Family<prometheus::Gauge>& job_eval_loss_;
  prometheus::Family<prometheus::Gauge>& job_macro_f1_;
  prometheus::Family<prometheus::Gauge>& job_world_size_;
  prometheus::Family<prometheus::Gauge>& job_rank_step_;
  prometheus::Family<prometheus::Gauge>& job_rank_communication_;
  // Training, across jobs.
  prometheus::Histogram& step_duration_;
  prometheus::Histogram& checkpoint_duration_;
  prometheus::Counter& checkpoint_bytes_total_;
  // RPCs.
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
  // The daemon.
  prometheus::Gauge& workers_;
  prometheus::Gauge& workers_connected_;
  prometheus::Gauge& serving_;
  prometheus::Gauge& home_avail_;
  prometheus::Gauge& home_size_;

  absl::Mutex mu_;
  std::map<ft::v1::JobState, prometheus::Gauge*> state_gauges_ ABSL_GUARDED_BY(mu_);
  std::map<ft::v1::JobState, prometheus::Histogram*> duration_by_state_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, JobSeries> series_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> queued_since_ ABSL_GUARDED_BY(mu_);  // by queued job id
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> rpc_counters_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Histogram*> rpc_histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::metrics
