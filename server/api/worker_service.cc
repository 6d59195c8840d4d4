#include "server/api/worker_service.h"

#include "common/util/status_macros.h"
#include "server/api/call_auth.h"
#include "server/api/rpc_recorder.h"

namespace ft::api {
grpc::ServerUnaryReactor* WorkerServiceImpl::AcquireJob(grpc::CallbackServerContext* context,
                                                        const ft::v1::AcquireJobRequest* request,
                                                        ft::v1::AcquireJobResponse* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "AcquireJob",
      [this, context, request, response]() -> absl::Status {
        FT_RETURN_IF_ERROR(AuthenticateCall(context, auth_, auth::Api::kWorker).status());
        absl::StatusOr<std::optional<sched::Lease>> lease = manager_->Acquire(request->worker_id());
        if (!lease.ok()) return lease.status();
        response->set_heartbeat_interval_ms(
            static_cast<uint32_t>(absl::ToInt64Milliseconds(manager_->heartbeat_interval())));
        response->set_lease_timeout_ms(
            static_cast<uint32_t>(absl::ToInt64Milliseconds(manager_->lease_timeout())));
        if (!lease->has_value()) return absl::OkStatus();
        response->set_lease_id((*lease)->lease_id);
        response->set_rank((*lease)->rank);
        response->set_world_size((*lease)->world_size);
        response->set_rendezvous_key((*lease)->rendezvous_key);
        *response->mutable_job() = std::move((*lease)->job);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::Heartbeat(grpc::CallbackServerContext* context,
                                                       const ft::v1::HeartbeatRequest* request,
                                                       ft::v1::HeartbeatResponse* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "Heartbeat", [this, context, request, response]() -> absl::Status {
        FT_RETURN_IF_ERROR(AuthenticateCall(context, auth_, auth::Api::kWorker).status());
        absl::StatusOr<bool> cancel = manager_->Heartbeat(request->lease_id(), request->job_id());
        if (!cancel.ok()) return cancel.status();
        response->set_cancel_requested(*cancel);
        FT_ASSIGN_OR_RETURN(const sched::StoreAddress store,
                            manager_->Rendezvous(request->lease_id(), request->job_id(),
                                                 {request->store_host(), request->store_port()}));
        response->set_store_host(store.host);
        response->set_store_port(store.port);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::ReportEvents(
    grpc::CallbackServerContext* context, const ft::v1::ReportEventsRequest* request,
    ft::v1::HeartbeatResponse* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "ReportEvents",
      [this, context, request, response]() -> absl::Status {
        FT_RETURN_IF_ERROR(AuthenticateCall(context, auth_, auth::Api::kWorker).status());
        std::vector<ft::v1::JobEvent> events(request->events().begin(), request->events().end());
        std::vector<double> step_seconds(request->step_seconds().begin(),
                                         request->step_seconds().end());
        absl::StatusOr<bool> cancel = manager_->Report(request->lease_id(), request->job_id(),
                                                       std::move(events), step_seconds);
        if (!cancel.ok()) return cancel.status();
        response->set_cancel_requested(*cancel);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* WorkerServiceImpl::CompleteJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::CompleteJobRequest* request,
                                                         ft::v1::CompleteJobResponse* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "CompleteJob",
      [this, context, request, response]() -> absl::Status {
        FT_RETURN_IF_ERROR(AuthenticateCall(context, auth_, auth::Api::kWorker).status());
        return manager_->Complete(request->lease_id(), request->job_id(), request->final_state(),
                                  request->error());
      });
}

}  // namespace ft::api
