// ftd's Prometheus metrics. Families are built once from an injected registry; per-job series
// exist while the job runs and for a grace period after it ends (so its last values are scraped),
// then are removed, keeping cardinality bounded.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "sched/clock.h"
#include "sched/job_observer.h"

namespace ft::metrics {

class ServerMetrics : public sched::JobObserver {
 public:
  ServerMetrics(prometheus::Registry& registry, sched::Clock* clock, absl::Duration grace);

  // Seeds the per-state gauges from the store at start.
  void SetJobCounts(const std::map<ft::v1::JobState, int64_t>& counts);

  void OnJobSubmitted(const ft::v1::Job& job) override;
  void OnJobStateChanged(const ft::v1::Job& job, ft::v1::JobState from) override;
  void OnJobEvents(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                   const std::vector<double>& step_seconds) override;

  // One finished RPC: counted by method and status code, timed by method.
  void OnRpc(const std::string& method, const std::string& code, double seconds);
  void SetWorkers(int alive);

  // Removes series of jobs that ended more than `grace` ago.
  void RemoveExpiredJobSeries();
  size_t job_series_count();

 private:
  struct JobSeries {
    prometheus::Gauge* loss = nullptr;
    prometheus::Gauge* learning_rate = nullptr;
    prometheus::Gauge* samples_per_second = nullptr;
    prometheus::Gauge* step = nullptr;
    prometheus::Counter* samples = nullptr;
    prometheus::Counter* tokens = nullptr;
    std::map<std::string, prometheus::Gauge*> accuracy;   // by split
    std::map<std::string, prometheus::Gauge*> eval_loss;  // by split
    std::map<std::string, prometheus::Gauge*> macro_f1;   // by split
    uint64_t last_samples = 0;
    uint64_t last_tokens = 0;
    uint32_t attempt = 0;
    std::optional<absl::Time> ended_at;
  };
  JobSeries& SeriesLocked(const std::string& job_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSeriesLocked(const std::string& job_id, JobSeries& series)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  sched::Clock* clock_;
  const absl::Duration grace_;

  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Gauge& queue_depth_;
  prometheus::Counter& submitted_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Gauge>& job_loss_;
  prometheus::Family<prometheus::Gauge>& job_learning_rate_;
  prometheus::Family<prometheus::Gauge>& job_samples_per_second_;
  prometheus::Family<prometheus::Gauge>& job_step_;
  prometheus::Family<prometheus::Counter>& job_samples_;
  prometheus::Family<prometheus::Counter>& job_tokens_;
  prometheus::Family<prometheus::Gauge>& job_accuracy_;
  prometheus::Family<prometheus::Gauge>& job_eval_loss_;
  prometheus::Family<prometheus::Gauge>& job_macro_f1_;
  prometheus::Histogram& step_duration_;
  prometheus::Family<prometheus::Counter>& rpcs_;
  prometheus::Family<prometheus::Histogram>& rpc_duration_;
  prometheus::Gauge& workers_;

  absl::Mutex mu_;
  std::map<ft::v1::JobState, prometheus::Gauge*> state_gauges_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, JobSeries> series_ ABSL_GUARDED_BY(mu_);
  std::map<std::pair<std::string, std::string>, prometheus::Counter*> rpc_counters_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Histogram*> rpc_histograms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::metrics
