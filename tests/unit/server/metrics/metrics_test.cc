// ServerMetrics on a real prometheus::Registry, driven by a real JobManager (FakeClock, store in a
// temp dir). Values are read back by collecting the registry, as a scrape would.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/util/time_util.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::metrics {
namespace {

using ft::testing::TempDir;
using ft::v1::Job;
using ft::v1::JobEvent;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::map<std::string, std::string>;

constexpr absl::Duration kGrace = absl::Seconds(60);

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Write("train.csv", ft::testing::SmallCsv());
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    metrics_ = std::make_unique<ServerMetrics>(registry_, &clock_, kGrace);
    sched::JobManagerOptions options;
    options.base_dir = dir_.path().string();
    options.lease_timeout = absl::Seconds(15);
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                             metrics_.get(), nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  std::vector<MetricFamily> Collect() { return registry_.Collect(); }

  std::optional<MetricFamily> Family(const std::string& name) {
    for (MetricFamily& family : Collect()) {
      if (family.name == name) return family;
    }
    return std::nullopt;
  }

  static bool HasLabels(const ClientMetric& metric, const Labels& labels) {
    for (const auto& [name, value] : labels) {
      bool found = false;
      for (const auto& label : metric.label)
        found = found || (label.name == name && label.value == value);
      if (!found) return false;
    }
    return true;
  }

  // The one series of `name` with `labels` (a subset match); nullopt when absent. A family
  // without series is not collected at all (prometheus-cpp skips it), so absent family = absent.
  std::optional<ClientMetric> Series(const std::string& name, const Labels& labels = {}) {
    std::optional<MetricFamily> family = Family(name);
    if (!family) return std::nullopt;
    std::optional<ClientMetric> found;
    for (const ClientMetric& metric : family->metric) {
      if (!HasLabels(metric, labels)) continue;
      EXPECT_FALSE(found.has_value()) << name << ": more than one series matches";
      found = metric;
    }
    return found;
  }

  // A gauge's or counter's value; NaN (failing the comparison) when the series is absent.
  double Value(const std::string& name, const Labels& labels = {}) {
    std::optional<MetricFamily> family = Family(name);
    std::optional<ClientMetric> metric = Series(name, labels);
    if (!family || !metric) {
      ADD_FAILURE() << "no series " << name;
      return std::nan("");
    }
    return family->type == MetricType::Counter ? metric->counter.value : metric->gauge.value;
  }

  bool Exists(const std::string& name, const Labels& labels) {
    return Series(name, labels).has_value();
  }

  double Jobs(const std::string& state) { return Value("ft_jobs", {{"state", state}}); }

  Job Submit() {
    auto result = manager_->Submit(ft::testing::ValidSpec(csv_), "");
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->job : Job();
  }

  sched::Lease Acquire(const std::string& worker = "w1") {
    auto lease = manager_->Acquire(worker);
    EXPECT_TRUE(lease.ok() && lease->has_value());
    return lease.ok() && lease->has_value() ? **lease : sched::Lease();
  }

  void Report(const sched::Lease& lease, std::vector<JobEvent> events,
              std::vector<double> steps = {}) {
    auto result = manager_->Report(lease.lease_id, lease.job.id(), std::move(events), steps);
    ASSERT_TRUE(result.ok()) << result.status();
  }

  TempDir dir_;
  std::string csv_;
  prometheus::Registry registry_;
  sched::FakeClock clock_;
  sched::EventHub hub_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<sched::JobManager> manager_;
};

TEST_F(MetricsTest, NamesFollowConventions) {
  // Give every family a series: prometheus-cpp does not export families without one.
  Job job = Submit();
  sched::Lease lease = Acquire();
  Report(lease,
         {ft::testing::ProgressEvent(1, 1.0, 8, 80),
          ft::testing::EvaluationEvent("validation", 1, 1.0, 0.5)},
         {0.1});
  ft::v1::JobEvent checkpoint;
  checkpoint.mutable_checkpoint_saved()->set_bytes(10);
  Report(lease, {checkpoint});
  metrics_->OnRpc("GetJob", "OK", 0.001);
  metrics_->SetDaemon({1, 1, {{job.id(), 0.5}}, true, 100, 1000});
  const std::vector<MetricFamily> families = Collect();
  std::set<std::string> names;
  for (const MetricFamily& family : families) {
    names.insert(family.name);
    EXPECT_TRUE(absl::StartsWith(family.name, "ft_")) << family.name;
    EXPECT_FALSE(family.help.empty()) << family.name;
    if (family.type == MetricType::Counter) {
      EXPECT_TRUE(absl::EndsWith(family.name, "_total")) << family.name;
    } else {
      EXPECT_FALSE(absl::EndsWith(family.name, "_total")) << family.name;
    }
    if (family.type == MetricType::Histogram) {
      EXPECT_TRUE(absl::EndsWith(family.name, "_seconds")) << family.name;
    }
    for (const char* bad : {"_count", "_sum", "_bucket"}) {
      EXPECT_FALSE(absl::EndsWith(family.name, bad)) << family.name;
    }
  }
  for (const char* expected :
       {"ft_jobs", "ft_queue_depth", "ft_jobs_submitted_total", "ft_jobs_finished_total",
        "ft_job_training_loss", "ft_job_learning_rate", "ft_job_samples_per_second",
        "ft_job_optimizer_step", "ft_job_samples_processed_total", "ft_job_tokens_processed_total",
        "ft_job_accuracy_ratio", "ft_job_evaluation_loss", "ft_optimizer_step_duration_seconds",
        "ft_rpc_requests_total", "ft_rpc_duration_seconds", "ft_workers_alive",
        "ft_job_queue_wait_seconds", "ft_job_duration_seconds", "ft_job_running",
        "ft_job_last_progress_timestamp_seconds", "ft_job_grad_norm", "ft_job_tokens_per_second",
        "ft_job_loss_scale", "ft_job_device_memory_bytes", "ft_job_device_memory_peak_bytes",
        "ft_job_optimizer_steps_total", "ft_job_skipped_steps_total",
        "ft_job_lease_heartbeat_age_seconds", "ft_job_checkpoint_size_bytes",
        "ft_checkpoint_save_duration_seconds", "ft_checkpoint_written_bytes_total",
        "ft_workers_connected", "ft_serving", "ft_home_filesystem_avail_bytes",
        "ft_home_filesystem_size_bytes"}) {
    EXPECT_EQ(names.count(expected), 1u) << expected;
  }

  // The same, as a scraper sees it.
  std::ostringstream text;
  prometheus::TextSerializer().Serialize(text, families);
  int counters = 0;
  for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
    if (!absl::StartsWith(line, "# TYPE ")) continue;
    std::vector<std::string> parts = absl::StrSplit(line, ' ');
    ASSERT_EQ(parts.size(), 4u) << line;
    if (parts[3] == "counter") {
      ++counters;
      EXPECT_TRUE(absl::EndsWith(parts[2], "_total")) << line;
    }
  }
  // submitted, finished, samples, tokens, steps, skipped steps, checkpoint bytes, rpc requests
  EXPECT_EQ(counters, 8);
}

TEST_F(MetricsTest, AllStatesStartAtZero) {
  for (const char* state :
       {"queued", "running", "cancelling", "succeeded", "failed", "cancelled"}) {
    EXPECT_EQ(Jobs(state), 0) << state;
  }
  EXPECT_EQ(Value("ft_queue_depth"), 0);
  for (const char* state : {"succeeded", "failed", "cancelled"}) {
    EXPECT_EQ(Value("ft_jobs_finished_total", {{"state", state}}), 0) << state;
  }
  EXPECT_FALSE(Exists("ft_jobs", {{"state", "job_state_unspecified"}}));
}

TEST_F(MetricsTest, JobGaugesFollowSubmitAndStateChanges) {
  Job a = Submit();
  Job b = Submit();
  Job c = Submit();
  EXPECT_EQ(Jobs("queued"), 3);
  EXPECT_EQ(Value("ft_queue_depth"), 3);
  EXPECT_EQ(Value("ft_jobs_submitted_total"), 3);

  sched::Lease la = Acquire();
  EXPECT_EQ(Jobs("queued"), 2);
  EXPECT_EQ(Jobs("running"), 1);
  EXPECT_EQ(Value("ft_queue_depth"), 2);

  ASSERT_TRUE(manager_->Cancel(c.id(), "").ok());
  EXPECT_EQ(Jobs("queued"), 1);
  EXPECT_EQ(Jobs("cancelled"), 1);
  EXPECT_EQ(Value("ft_queue_depth"), 1);
  EXPECT_EQ(Value("ft_jobs_finished_total", {{"state", "cancelled"}}), 1);

  ASSERT_TRUE(manager_->Cancel(a.id(), "").ok());
  EXPECT_EQ(Jobs("running"), 0);
  EXPECT_EQ(Jobs("cancelling"), 1);
  ASSERT_TRUE(manager_->Complete(la.lease_id, a.id(), ft::v1::CANCELLED, "").ok());
  EXPECT_EQ(Jobs("cancelling"), 0);
  EXPECT_EQ(Jobs("cancelled"), 2);

  sched::Lease lb = Acquire();
  EXPECT_EQ(Value("ft_queue_depth"), 0);
  ASSERT_TRUE(manager_->Complete(lb.lease_id, b.id(), ft::v1::FAILED, "boom").ok());
  EXPECT_EQ(Jobs("failed"), 1);
  EXPECT_EQ(Jobs("running"), 0);
  EXPECT_EQ(Value("ft_jobs_finished_total", {{"state", "failed"}}), 1);
  EXPECT_EQ(Value("ft_jobs_finished_total", {{"state", "succeeded"}}), 0);
  EXPECT_EQ(Value("ft_jobs_submitted_total"), 3);

  // A refused submit counts nothing.
  ft::v1::JobSpec bad = ft::testing::ValidSpec(csv_);
  bad.set_epochs(0);
  EXPECT_FALSE(manager_->Submit(bad, "").ok());
  EXPECT_EQ(Value("ft_jobs_submitted_total"), 3);
  EXPECT_EQ(Jobs("queued"), 0);
}

TEST_F(MetricsTest, RequeueMovesTheJobBackToTheQueue) {
  Submit();
  Acquire();
  clock_.Advance(absl::Seconds(16));
  manager_->Tick();
  EXPECT_EQ(Jobs("running"), 0);
  EXPECT_EQ(Jobs("queued"), 1);
  EXPECT_EQ(Value("ft_queue_depth"), 1);
}

TEST_F(MetricsTest, SetJobCountsSeedsTheGauges) {
  metrics_->SetJobCounts({{ft::v1::QUEUED, 4}, {ft::v1::SUCCEEDED, 7}});
  EXPECT_EQ(Jobs("queued"), 4);
  EXPECT_EQ(Jobs("succeeded"), 7);
  EXPECT_EQ(Jobs("running"), 0);
  EXPECT_EQ(Value("ft_queue_depth"), 4);
  metrics_->SetJobCounts({});
  EXPECT_EQ(Jobs("succeeded"), 0);
  EXPECT_EQ(Value("ft_queue_depth"), 0);
}

TEST_F(MetricsTest, PerJobSeriesAppearOnEventsAndExpireAfterGrace) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  const Labels id = {{"job_id", job.id()}};
  Report(lease, {ft::testing::ProgressEvent(2, 0.5, 64, 1000)});
  EXPECT_DOUBLE_EQ(Value("ft_job_training_loss", id), 0.5);
  EXPECT_DOUBLE_EQ(Value("ft_job_optimizer_step", id), 2);
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 64);
  EXPECT_DOUBLE_EQ(Value("ft_job_tokens_processed_total", id), 1000);
  EXPECT_DOUBLE_EQ(Value("ft_job_learning_rate", id), 1e-3);
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_per_second", id), 50);

  Report(lease, {ft::testing::ProgressEvent(4, 0.25, 128, 2100),
                 ft::testing::EvaluationEvent("validation", 4, 0.3, 0.75),
                 ft::testing::EvaluationEvent("test", 4, 0.35, 0.6)});
  EXPECT_DOUBLE_EQ(Value("ft_job_training_loss", id), 0.25);
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 128);
  EXPECT_DOUBLE_EQ(Value("ft_job_tokens_processed_total", id), 2100);
  EXPECT_DOUBLE_EQ(Value("ft_job_accuracy_ratio", {{"job_id", job.id()}, {"split", "validation"}}),
                   0.75);
  EXPECT_DOUBLE_EQ(Value("ft_job_accuracy_ratio", {{"job_id", job.id()}, {"split", "test"}}), 0.6);
  EXPECT_DOUBLE_EQ(Value("ft_job_evaluation_loss", {{"job_id", job.id()}, {"split", "test"}}),
                   0.35);
  Report(lease, {ft::testing::EvaluationEvent("validation", 6, 0.2, 0.8)});
  EXPECT_DOUBLE_EQ(Value("ft_job_accuracy_ratio", {{"job_id", job.id()}, {"split", "validation"}}),
                   0.8);

  // Log lines alone create or change nothing.
  Report(lease, {ft::testing::LogEvent("hi")});
  EXPECT_DOUBLE_EQ(Value("ft_job_training_loss", id), 0.25);

  ASSERT_TRUE(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, "").ok());
  EXPECT_EQ(Value("ft_jobs_finished_total", {{"state", "succeeded"}}), 1);
  // Still scrapeable right after the end...
  metrics_->RemoveExpiredJobSeries();
  EXPECT_TRUE(Exists("ft_job_training_loss", id));
  clock_.Advance(kGrace - absl::Seconds(1));
  metrics_->RemoveExpiredJobSeries();
  EXPECT_TRUE(Exists("ft_job_training_loss", id));
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 128);
  EXPECT_EQ(metrics_->job_series_count(), 1u);

  // ...and gone after the grace period, every per-job family.
  clock_.Advance(absl::Seconds(2));
  metrics_->RemoveExpiredJobSeries();
  EXPECT_EQ(metrics_->job_series_count(), 0u);
  for (const char* name :
       {"ft_job_training_loss", "ft_job_learning_rate", "ft_job_samples_per_second",
        "ft_job_optimizer_step", "ft_job_samples_processed_total", "ft_job_tokens_processed_total",
        "ft_job_accuracy_ratio", "ft_job_evaluation_loss"}) {
    EXPECT_FALSE(Exists(name, id)) << name;
  }
  // Job-state metrics are not per job and stay.
  EXPECT_EQ(Jobs("succeeded"), 1);
}

TEST_F(MetricsTest, RunningJobsSeriesAreNeverExpired) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  Report(lease, {ft::testing::ProgressEvent(1, 1.0, 8)});
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(kGrace);
    ASSERT_TRUE(manager_->Heartbeat(lease.lease_id, job.id()).ok());
    metrics_->RemoveExpiredJobSeries();
  }
  EXPECT_TRUE(Exists("ft_job_training_loss", {{"job_id", job.id()}}));
}

TEST_F(MetricsTest, OnlyExpiredJobsLoseTheirSeries) {
  Job a = Submit();
  Job b = Submit();
  sched::Lease la = Acquire();
  sched::Lease lb = Acquire("w2");
  Report(la, {ft::testing::ProgressEvent(1, 1.0, 8)});
  Report(lb, {ft::testing::ProgressEvent(1, 2.0, 8)});
  ASSERT_TRUE(manager_->Complete(la.lease_id, a.id(), ft::v1::FAILED, "x").ok());
  clock_.Advance(kGrace + absl::Seconds(1));
  ASSERT_TRUE(manager_->Heartbeat(lb.lease_id, b.id()).ok());
  metrics_->RemoveExpiredJobSeries();
  EXPECT_FALSE(Exists("ft_job_training_loss", {{"job_id", a.id()}}));
  EXPECT_DOUBLE_EQ(Value("ft_job_training_loss", {{"job_id", b.id()}}), 2.0);
}

TEST_F(MetricsTest, CountersNeverDecreaseAcrossARequeuedAttempt) {
  Job job = Submit();
  const Labels id = {{"job_id", job.id()}};
  sched::Lease first = Acquire("w1");
  Report(first, {ft::testing::ProgressEvent(5, 1.0, 100, 5000)});
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 100);

  // The worker goes silent: the job is re-queued and starts over as attempt 2.
  clock_.Advance(absl::Seconds(16));
  manager_->Tick();
  ASSERT_EQ(manager_->Get(job.id())->attempt(), 2u);
  sched::Lease second = Acquire("w2");
  Report(second, {ft::testing::ProgressEvent(1, 2.0, 30, 1500)});
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 130);
  EXPECT_DOUBLE_EQ(Value("ft_job_tokens_processed_total", id), 6500);
  EXPECT_DOUBLE_EQ(Value("ft_job_optimizer_step", id), 1);  // a gauge: the attempt's own step
  Report(second, {ft::testing::ProgressEvent(3, 1.5, 80, 4000)});
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 180);
  EXPECT_DOUBLE_EQ(Value("ft_job_tokens_processed_total", id), 9000);

  // A stale or repeated report never moves a counter backwards.
  Report(second, {ft::testing::ProgressEvent(3, 1.5, 80, 4000)});
  Report(second, {ft::testing::ProgressEvent(2, 1.5, 50, 2000)});
  EXPECT_DOUBLE_EQ(Value("ft_job_samples_processed_total", id), 180);
  EXPECT_DOUBLE_EQ(Value("ft_job_tokens_processed_total", id), 9000);
}

TEST_F(MetricsTest, RequeuedJobKeepsItsSeriesUntilItEnds) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  Report(lease, {ft::testing::ProgressEvent(1, 1.0, 8)});
  clock_.Advance(absl::Seconds(16));
  manager_->Tick();  // re-queued, not ended
  clock_.Advance(kGrace * 2);
  metrics_->RemoveExpiredJobSeries();
  EXPECT_TRUE(Exists("ft_job_training_loss", {{"job_id", job.id()}}));
}

TEST_F(MetricsTest, StepHistogramObservesStepSeconds) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  Report(lease, {ft::testing::ProgressEvent(3, 1.0, 8)}, {0.02, 0.3, 0.3});
  Report(lease, {}, {7.0});  // step times may come without events
  std::optional<ClientMetric> h = Series("ft_optimizer_step_duration_seconds");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->histogram.sample_count, 4u);
  EXPECT_NEAR(h->histogram.sample_sum, 7.62, 1e-9);
  std::map<double, uint64_t> cumulative;
  for (const auto& bucket : h->histogram.bucket)
    cumulative[bucket.upper_bound] = bucket.cumulative_count;
  EXPECT_EQ(cumulative[0.01], 0u);
  EXPECT_EQ(cumulative[0.025], 1u);
  EXPECT_EQ(cumulative[0.25], 1u);
  EXPECT_EQ(cumulative[0.5], 3u);
  EXPECT_EQ(cumulative[5], 3u);
  EXPECT_EQ(cumulative[10], 4u);
  // Buckets are increasing and cumulative.
  double last_bound = -1;
  uint64_t last_count = 0;
  for (const auto& bucket : h->histogram.bucket) {
    EXPECT_GT(bucket.upper_bound, last_bound);
    EXPECT_GE(bucket.cumulative_count, last_count);
    last_bound = bucket.upper_bound;
    last_count = bucket.cumulative_count;
  }
  EXPECT_EQ(last_count, 4u);
}

TEST_F(MetricsTest, RpcRequestsAreCountedByMethodAndCode) {
  metrics_->OnRpc("SubmitJob", "OK", 0.01);
  metrics_->OnRpc("SubmitJob", "OK", 0.02);
  metrics_->OnRpc("SubmitJob", "INVALID_ARGUMENT", 0.001);
  metrics_->OnRpc("WatchJob", "OK", -1);  // streams: counted, not timed
  EXPECT_EQ(Value("ft_rpc_requests_total", {{"method", "SubmitJob"}, {"code", "OK"}}), 2);
  EXPECT_EQ(Value("ft_rpc_requests_total", {{"method", "SubmitJob"}, {"code", "INVALID_ARGUMENT"}}),
            1);
  EXPECT_EQ(Value("ft_rpc_requests_total", {{"method", "WatchJob"}, {"code", "OK"}}), 1);
  EXPECT_FALSE(Exists("ft_rpc_requests_total", {{"method", "GetJob"}}));

  std::optional<ClientMetric> submit = Series("ft_rpc_duration_seconds", {{"method", "SubmitJob"}});
  ASSERT_TRUE(submit.has_value());
  EXPECT_EQ(submit->histogram.sample_count, 3u);
  EXPECT_NEAR(submit->histogram.sample_sum, 0.031, 1e-12);
  EXPECT_FALSE(Exists("ft_rpc_duration_seconds", {{"method", "WatchJob"}}));
}

TEST_F(MetricsTest, WorkersGauge) {
  metrics_->SetWorkers(3);
  EXPECT_EQ(Value("ft_workers_alive"), 3);
  metrics_->SetWorkers(0);
  EXPECT_EQ(Value("ft_workers_alive"), 0);
}

TEST_F(MetricsTest, DaemonSnapshotSetsWorkerHealthAndDiskGauges) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  DaemonSnapshot snapshot;
  snapshot.local_workers_alive = 2;
  snapshot.workers_connected = 3;
  snapshot.lease_heartbeat_ages = {{job.id(), 4.5}};
  snapshot.serving = true;
  snapshot.home_filesystem_avail_bytes = 123;
  snapshot.home_filesystem_size_bytes = 1000;
  metrics_->SetDaemon(snapshot);
  EXPECT_EQ(Value("ft_workers_alive"), 2);
  EXPECT_EQ(Value("ft_workers_connected"), 3);
  EXPECT_EQ(Value("ft_serving"), 1);
  EXPECT_EQ(Value("ft_home_filesystem_avail_bytes"), 123);
  EXPECT_EQ(Value("ft_home_filesystem_size_bytes"), 1000);
  EXPECT_EQ(Value("ft_job_lease_heartbeat_age_seconds", {{"job_id", job.id()}}), 4.5);

  // Without a lease (the job ended) the heartbeat age goes at once; unknown disk keeps the last.
  ASSERT_TRUE(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, "").ok());
  snapshot = DaemonSnapshot();
  metrics_->SetDaemon(snapshot);
  EXPECT_FALSE(Exists("ft_job_lease_heartbeat_age_seconds", {{"job_id", job.id()}}));
  EXPECT_EQ(Value("ft_serving"), 0);
  EXPECT_EQ(Value("ft_workers_connected"), 0);
  EXPECT_EQ(Value("ft_home_filesystem_avail_bytes"), 123);
}

// Queue wait is observed when a worker takes the job (each attempt); the run time of the final
// attempt when it ends, by final state; a job cancelled in the queue has no run time.
TEST_F(MetricsTest, QueueWaitAndJobDurationHistograms) {
  Job a = Submit();
  Job b = Submit();
  clock_.Advance(absl::Seconds(7));
  sched::Lease la = Acquire();
  std::optional<ClientMetric> wait = Series("ft_job_queue_wait_seconds");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(wait->histogram.sample_sum, 7);
  ASSERT_TRUE(manager_->Cancel(b.id(), "").ok());  // never ran

  clock_.Advance(absl::Seconds(16));  // the lease expires: re-queued, attempt 2
  manager_->Tick();
  clock_.Advance(absl::Seconds(3));
  sched::Lease second = Acquire("w2");
  wait = Series("ft_job_queue_wait_seconds");
  EXPECT_EQ(wait->histogram.sample_count, 2u);
  EXPECT_DOUBLE_EQ(wait->histogram.sample_sum, 10);

  clock_.Advance(absl::Seconds(42));
  ASSERT_TRUE(manager_->Complete(second.lease_id, a.id(), ft::v1::SUCCEEDED, "").ok());
  std::optional<ClientMetric> ok = Series("ft_job_duration_seconds", {{"state", "succeeded"}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(ok->histogram.sample_sum, 42);
  EXPECT_EQ(Series("ft_job_duration_seconds", {{"state", "cancelled"}})->histogram.sample_count,
            0u);
}

// Every field of a progress report and a checkpoint lands in its series; the running flag and the
// last-progress time follow the job (the stall alert reads both).
TEST_F(MetricsTest, ProgressCheckpointAndRunningSeries) {
  Job job = Submit();
  const Labels id = {{"job_id", job.id()}};
  sched::Lease lease = Acquire();
  const double started = absl::ToDoubleSeconds(clock_.Now() - absl::UnixEpoch());
  EXPECT_EQ(Value("ft_job_running", id), 1);
  EXPECT_EQ(Value("ft_job_last_progress_timestamp_seconds", id), started);

  clock_.Advance(absl::Seconds(30));
  JobEvent progress = ft::testing::ProgressEvent(4, 0.5, 32, 400);
  ft::v1::TrainingProgress* p = progress.mutable_progress();
  p->set_grad_norm(2.5);
  p->set_tokens_per_second(900);
  p->set_skipped_steps(1);
  p->set_loss_scale(32768);
  p->set_device_memory_bytes(5'000'000);
  p->set_device_memory_peak_bytes(7'000'000);
  JobEvent checkpoint;
  checkpoint.mutable_checkpoint_saved()->set_step(4);
  checkpoint.mutable_checkpoint_saved()->set_bytes(1'234'567);
  checkpoint.mutable_checkpoint_saved()->set_seconds(0.3);
  Report(lease, {progress, checkpoint});
  EXPECT_EQ(Value("ft_job_last_progress_timestamp_seconds", id), started + 30);
  EXPECT_EQ(Value("ft_job_grad_norm", id), 2.5);
  EXPECT_EQ(Value("ft_job_tokens_per_second", id), 900);
  EXPECT_EQ(Value("ft_job_loss_scale", id), 32768);
  EXPECT_EQ(Value("ft_job_device_memory_bytes", id), 5e6);
  EXPECT_EQ(Value("ft_job_device_memory_peak_bytes", id), 7e6);
  EXPECT_EQ(Value("ft_job_optimizer_steps_total", id), 4);
  EXPECT_EQ(Value("ft_job_skipped_steps_total", id), 1);
  EXPECT_EQ(Value("ft_job_checkpoint_size_bytes", id), 1'234'567);
  EXPECT_EQ(Value("ft_checkpoint_written_bytes_total"), 1'234'567);
  std::optional<ClientMetric> save = Series("ft_checkpoint_save_duration_seconds");
  ASSERT_TRUE(save.has_value());
  EXPECT_EQ(save->histogram.sample_count, 1u);
  EXPECT_DOUBLE_EQ(save->histogram.sample_sum, 0.3);

  p->set_step(6);
  p->set_skipped_steps(3);
  Report(lease, {progress});
  EXPECT_EQ(Value("ft_job_optimizer_steps_total", id), 6);
  EXPECT_EQ(Value("ft_job_skipped_steps_total", id), 3);

  ASSERT_TRUE(manager_->Complete(lease.lease_id, job.id(), ft::v1::FAILED, "x").ok());
  EXPECT_EQ(Value("ft_job_running", id), 0);
}

// Thousands of jobs pass through; the scrape does not grow with them. Each batch of 50 jobs runs,
// reports and ends; once the grace period has passed, /metrics has exactly as many series as after
// the first job, and while a batch runs at most 50 jobs' worth more.
TEST_F(MetricsTest, SeriesStayBoundedOverThousandsOfJobs) {
  constexpr int kJobs = 3000;
  constexpr int kBatch = 50;
  const auto scrape_series = [&]() {
    std::ostringstream text;
    prometheus::TextSerializer().Serialize(text, Collect());
    size_t lines = 0;
    size_t job_lines = 0;
    for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
      if (line.empty() || line[0] == '#') continue;
      ++lines;
      if (absl::StrContains(line, "job_id=")) ++job_lines;
    }
    return std::make_pair(lines, job_lines);
  };
  // Fed to the observer directly (as the job manager would), so that 3,000 jobs take no disk.
  const auto run_batch = [&](int first, int count) {
    std::vector<Job> jobs;
    for (int i = first; i < first + count; ++i) {
      Job job;
      job.set_id("job-" + std::to_string(i));
      job.set_attempt(1);
      job.set_state(ft::v1::QUEUED);
      metrics_->OnJobSubmitted(job);
      job.set_state(ft::v1::RUNNING);
      *job.mutable_start_time() = ToProtoTime(clock_.Now());
      metrics_->OnJobStateChanged(job, ft::v1::QUEUED);
      JobEvent checkpoint;
      checkpoint.mutable_checkpoint_saved()->set_bytes(100);
      metrics_->OnJobEvents(job,
                            {ft::testing::ProgressEvent(5, 0.5, 40, 400),
                             ft::testing::EvaluationEvent("validation", 5, 0.4, 0.8),
                             ft::testing::EvaluationEvent("test", 5, 0.4, 0.8), checkpoint},
                            {0.01, 0.02});
      jobs.push_back(job);
    }
    metrics_->SetDaemon({1, 1, {}, true, 1, 2});
    const auto running = scrape_series();
    for (Job& job : jobs) {
      job.set_state(std::stoi(job.id().substr(4)) % 7 == 0 ? ft::v1::FAILED : ft::v1::SUCCEEDED);
      metrics_->OnJobStateChanged(job, ft::v1::RUNNING);
    }
    clock_.Advance(kGrace);
    metrics_->RemoveExpiredJobSeries();
    return running;
  };
  run_batch(0, 1);
  const auto baseline = scrape_series();
  EXPECT_EQ(baseline.second, 0u);
  size_t peak = 0;
  for (int first = 1; first < kJobs; first += kBatch) {
    const auto running = run_batch(first, std::min(kBatch, kJobs - first));
    peak = std::max(peak, running.first);
    ASSERT_EQ(scrape_series(), baseline) << "after job " << first + kBatch - 1;
  }
  EXPECT_EQ(metrics_->job_series_count(), 0u);
  // A running job has 24 series (15 per-job gauges and counters, 3 per split, the checkpoint).
  EXPECT_GT(peak, baseline.first);
  EXPECT_LE(peak, baseline.first + kBatch * 24);
  EXPECT_EQ(Value("ft_jobs_submitted_total"), kJobs);
}

// ft_job_macro_f1{job_id, split} follows the latest evaluation carrying per-class metrics, and
// goes with the job's other series after the grace period.
TEST_F(MetricsTest, MacroF1BySplitUntilTheJobsSeriesExpire) {
  Job job = Submit();
  sched::Lease lease = Acquire();
  const Labels validation = {{"job_id", job.id()}, {"split", "validation"}};
  const Labels test = {{"job_id", job.id()}, {"split", "test"}};
  // An evaluation without per-class metrics (from an older worker) makes no macro-F1 series.
  Report(lease, {ft::testing::EvaluationEvent("validation", 2, 0.5, 0.87)});
  EXPECT_FALSE(Exists("ft_job_macro_f1", validation));

  const auto with_f1 = [](const std::string& split, uint64_t step, double macro_f1) {
    JobEvent event = ft::testing::EvaluationEvent(split, step, 0.4, 0.87);
    ft::v1::Evaluation* e = event.mutable_evaluation();
    for (const char* label : {"ham", "spam"}) e->add_classes()->set_label(label);
    e->set_macro_f1(macro_f1);
    return event;
  };
  Report(lease, {with_f1("validation", 4, 0.465)});
  EXPECT_DOUBLE_EQ(Value("ft_job_macro_f1", validation), 0.465);
  Report(lease, {with_f1("validation", 6, 0.72), with_f1("test", 6, 0.7)});
  EXPECT_DOUBLE_EQ(Value("ft_job_macro_f1", validation), 0.72);
  EXPECT_DOUBLE_EQ(Value("ft_job_macro_f1", test), 0.7);
  EXPECT_DOUBLE_EQ(Value("ft_job_accuracy_ratio", test), 0.87);

  ASSERT_TRUE(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, "").ok());
  metrics_->RemoveExpiredJobSeries();
  EXPECT_TRUE(Exists("ft_job_macro_f1", test));
  clock_.Advance(kGrace + absl::Seconds(1));
  metrics_->RemoveExpiredJobSeries();
  EXPECT_FALSE(Exists("ft_job_macro_f1", validation));
  EXPECT_FALSE(Exists("ft_job_macro_f1", test));
}

}  // namespace
}  // namespace ft::metrics
