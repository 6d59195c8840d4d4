// gRPC adapter for the internal WorkerService (leases, heartbeats, event reports).
#pragma once

#include "ft/v1/worker_service.grpc.pb.h"
#include "server/api/blocking_call_pool.h"
#include "server/auth/authenticator.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/job_manager.h"

namespace ft::api {

class WorkerServiceImpl final : public ft::v1::WorkerService::CallbackService {
 public:
  // Every call needs a token of role worker (`auth` null: no authentication).
  WorkerServiceImpl(sched::JobManager* manager, metrics::ServerMetrics* metrics,
                    const auth::Authenticator* auth = nullptr,
                    BlockingCallPool* calls = nullptr)
      : manager_(manager), metrics_(metrics), auth_(auth), calls_(calls) {}

  grpc::ServerUnaryReactor* AcquireJob(grpc::CallbackServerContext* context,
                                       const ft::v1::AcquireJobRequest* request,
                                       ft::v1::AcquireJobResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const ft::v1::HeartbeatRequest* request,
                                      ft::v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* ReportEvents(grpc::CallbackServerContext* context,
                                         const ft::v1::ReportEventsRequest* request,
                                         ft::v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* CompleteJob(grpc::CallbackServerContext* context,
                                        const ft::v1::CompleteJobRequest* request,
                                        ft::v1::CompleteJobResponse* response) override;

 private:
  sched::JobManager* manager_;
  metrics::ServerMetrics* metrics_;
  const auth::Authenticator* auth_;
  BlockingCallPool* calls_;  // handlers that write run here; null: inline
};

}  // namespace ft::api
