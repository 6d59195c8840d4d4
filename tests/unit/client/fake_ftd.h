// An in-process fake FinetuneService and a fixture that points ftctl's verbs at it, shared by
// the client command tests.
#pragma once

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"

namespace ft::client {

// One WatchJob call's behaviour: send the events up to `until_seq`, then end with `status`.
struct WatchStep {
  uint64_t until_seq;
  grpc::Status status;
};

class FakeFinetuneService final : public ft::v1::FinetuneService::Service {
 public:
  grpc::Status SubmitJob(grpc::ServerContext*, const ft::v1::SubmitJobRequest* request,
                         ft::v1::SubmitJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    submits_.push_back(*request);
    if (submit_failures_ > 0) {
      --submit_failures_;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "try again");
    }
    if (request->spec().micro_batch_size() == 0) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "spec.micro_batch_size: must be 1..4096, got 0");
    }
    for (const auto& [id, job] : jobs_) {
      if (job.request_id() == request->request_id()) {
        *response->mutable_job() = job;
        response->set_created(false);
        return grpc::Status::OK;
      }
    }
    ft::v1::Job& job = AddJobLocked(ft::v1::QUEUED);
    *job.mutable_spec() = request->spec();
    job.set_request_id(request->request_id());
    *response->mutable_job() = job;
    response->set_created(true);
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext*, const ft::v1::GetJobRequest* request,
                      ft::v1::Job* response) override {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(request->job_id());
    if (it == jobs_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job");
    *response = it->second;
    return grpc::Status::OK;
  }

  grpc::Status ListJobs(grpc::ServerContext*, const ft::v1::ListJobsRequest* request,
                        ft::v1::ListJobsResponse* response) override {
    absl::MutexLock lock(&mu_);
    list_page_sizes_.push_back(request->page_size());
    // Newest first; at most 2 per page, to exercise paging.
    std::vector<const ft::v1::Job*> all;
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) all.push_back(&it->second);
    const size_t start = request->page_token().empty() ? 0 : std::stoul(request->page_token());
    const size_t end = std::min(all.size(), start + std::min<size_t>(request->page_size(), 2));
    for (size_t i = start; i < end; ++i) *response->add_jobs() = *all[i];
    if (end < all.size()) response->set_next_page_token(std::to_string(end));
    return grpc::Status::OK;
  }

  grpc::Status CancelJob(grpc::ServerContext*, const ft::v1::CancelJobRequest* request,
                         ft::v1::Job* response) override {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(request->job_id());
    if (it == jobs_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job");
    if (it->second.state() == ft::v1::CANCELLED) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "already ended");
    }
    it->second.set_state(ft::v1::CANCELLED);
    it->second.set_error(request->reason());
    *response = it->second;
    return grpc::Status::OK;
  }

  grpc::Status WatchJob(grpc::ServerContext* context, const ft::v1::WatchJobRequest* request,
                        grpc::ServerWriter<ft::v1::JobEvent>* writer) override {
    std::vector<ft::v1::JobEvent> to_send;
    grpc::Status end = grpc::Status::OK;
    bool block = false;
    {
      absl::MutexLock lock(&mu_);
      watch_after_seqs_.push_back(request->after_seq());
      const size_t call = watch_after_seqs_.size() - 1;
      uint64_t until = UINT64_MAX;
      if (call < watch_steps_.size()) {
        until = watch_steps_[call].until_seq;
        end = watch_steps_[call].status;
      }
      block = block_watch_;
      const uint64_t after = replay_everything_ ? 0 : request->after_seq();
      for (const auto& event : events_) {
        if (event.seq() > after && event.seq() <= until) to_send.push_back(event);
      }
    }
    for (const auto& event : to_send) {
      writer->Write(event);
      if (event.has_state_change()) {
        absl::MutexLock lock(&mu_);
        jobs_[event.job_id()].set_state(event.state_change().to());
      }
    }
    while (block && !context->IsCancelled()) absl::SleepFor(absl::Milliseconds(5));
    return end;
  }

  // Test set-up and inspection.
  ft::v1::Job& AddJob(ft::v1::JobState state) {
    absl::MutexLock lock(&mu_);
    return AddJobLocked(state);
  }
  void SetEvents(std::vector<ft::v1::JobEvent> events) {
    absl::MutexLock lock(&mu_);
    events_ = std::move(events);
    jobs_[events_.front().job_id()].set_last_event_seq(events_.back().seq());
  }
  // What GetJob says about the log: a running job has not stored its final events yet.
  void SetLastEventSeq(const std::string& job_id, uint64_t seq) {
    absl::MutexLock lock(&mu_);
    jobs_[job_id].set_last_event_seq(seq);
  }
  void SetWatchSteps(std::vector<WatchStep> steps) {
    absl::MutexLock lock(&mu_);
    watch_steps_ = std::move(steps);
  }
  void SetSubmitFailures(int n) {
    absl::MutexLock lock(&mu_);
    submit_failures_ = n;
  }
  void SetReplayEverything(bool replay) {
    absl::MutexLock lock(&mu_);
    replay_everything_ = replay;
  }
  void SetBlockWatch(bool block) {
    absl::MutexLock lock(&mu_);
    block_watch_ = block;
  }
  std::vector<ft::v1::SubmitJobRequest> submits() {
    absl::MutexLock lock(&mu_);
    return submits_;
  }
  std::vector<uint64_t> watch_after_seqs() {
    absl::MutexLock lock(&mu_);
    return watch_after_seqs_;
  }
  std::vector<uint32_t> list_page_sizes() {
    absl::MutexLock lock(&mu_);
    return list_page_sizes_;
  }

 private:
  ft::v1::Job& AddJobLocked(ft::v1::JobState state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string id = "job-" + std::to_string(jobs_.size() + 1);
    ft::v1::Job& job = jobs_[id];
    job.set_id(id);
    job.set_state(state);
    job.set_attempt(1);
    job.mutable_spec()->set_model("scratch:bloom-tiny");
    return job;
  }

  absl::Mutex mu_;
  std::map<std::string, ft::v1::Job> jobs_ ABSL_GUARDED_BY(mu_);  // "job-N" sorts by N below 10
  std::vector<ft::v1::SubmitJobRequest> submits_ ABSL_GUARDED_BY(mu_);
  int submit_failures_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<ft::v1::JobEvent> events_ ABSL_GUARDED_BY(mu_);
  std::vector<WatchStep> watch_steps_ ABSL_GUARDED_BY(mu_);
  std::vector<uint64_t> watch_after_seqs_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> list_page_sizes_ ABSL_GUARDED_BY(mu_);
  bool replay_everything_ ABSL_GUARDED_BY(mu_) = false;
  bool block_watch_ ABSL_GUARDED_BY(mu_) = false;
};

inline ft::v1::JobEvent State(uint64_t seq, ft::v1::JobState from, ft::v1::JobState to,
                              const std::string& reason = "") {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_state_change()->set_from(from);
  event.mutable_state_change()->set_to(to);
  event.mutable_state_change()->set_reason(reason);
  return event;
}

inline ft::v1::JobEvent Progress(uint64_t seq, uint64_t step) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_total_steps(20);
  return event;
}

inline ft::v1::JobEvent Eval(uint64_t seq, const std::string& split, double accuracy) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_evaluation()->set_split(split);
  event.mutable_evaluation()->set_accuracy(accuracy);
  event.mutable_evaluation()->set_examples(10);
  return event;
}

// A job's whole life: submitted, started, two progress reports, an evaluation, then `final`.
inline std::vector<ft::v1::JobEvent> Life(ft::v1::JobState final) {
  return {State(1, ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED, "submitted"),
          State(2, ft::v1::QUEUED, ft::v1::RUNNING, "attempt 1 started on worker local-0"),
          Progress(3, 10),
          Progress(4, 20),
          Eval(5, "validation", 0.8),
          State(6, ft::v1::RUNNING, final, "done")};
}

class FakeFtdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = ft::v1::FinetuneService::NewStub(channel_);
    ftd_.stub = stub_.get();
    ftd_.server = "in-process";
    ftd_.timeout = absl::Seconds(5);
    console_.out = &out_;
    console_.err = &err_;
  }
  void TearDown() override { server_->Shutdown(); }

  SubmitArgs Submit() {
    SubmitArgs args;
    args.flags.model = "scratch:bloom-tiny";
    args.flags.train = "data/sms.csv";
    args.cwd = "/home/me";
    return args;
  }

  FakeFinetuneService service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ft::v1::FinetuneService::Stub> stub_;
  FtdConnection ftd_;
  std::ostringstream out_;
  std::ostringstream err_;
  Console console_;
};

}  // namespace ft::client
