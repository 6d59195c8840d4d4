// gRPC adapter for the public FinetuneService: translates messages and statuses, nothing else.
#pragma once

#include "ft/v1/finetune_service.grpc.pb.h"
#include "metrics/server_metrics.h"
#include "sched/event_hub.h"
#include "sched/job_manager.h"
#include "store/job_store.h"

namespace ft::api {

class FinetuneServiceImpl final : public ft::v1::FinetuneService::CallbackService {
 public:
  FinetuneServiceImpl(sched::JobManager* manager, store::JobStore* store, sched::EventHub* hub,
                      metrics::ServerMetrics* metrics)
      : manager_(manager), store_(store), hub_(hub), metrics_(metrics) {}

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* context,
                                      const ft::v1::SubmitJobRequest* request,
                                      ft::v1::SubmitJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const ft::v1::GetJobRequest* request,
                                   ft::v1::Job* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const ft::v1::ListJobsRequest* request,
                                     ft::v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const ft::v1::CancelJobRequest* request,
                                      ft::v1::Job* response) override;
  grpc::ServerWriteReactor<ft::v1::JobEvent>* WatchJob(
      grpc::CallbackServerContext* context, const ft::v1::WatchJobRequest* request) override;

 private:
  sched::JobManager* manager_;
  store::JobStore* store_;
  sched::EventHub* hub_;
  metrics::ServerMetrics* metrics_;
};

}  // namespace ft::api
