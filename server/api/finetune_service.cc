#include "api/finetune_service.h"

#include "api/rpc_recorder.h"
#include "api/watch_reactor.h"

namespace ft::api {
grpc::ServerUnaryReactor* FinetuneServiceImpl::SubmitJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::SubmitJobRequest* request,
                                                         ft::v1::SubmitJobResponse* response) {
  return FinishUnary(context, metrics_, "SubmitJob", [&]() -> absl::Status {
    absl::StatusOr<store::CreateJobResult> result =
        manager_->Submit(request->spec(), request->request_id());
    if (!result.ok()) return result.status();
    *response->mutable_job() = std::move(result->job);
    response->set_created(result->created);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::GetJob(grpc::CallbackServerContext* context,
                                                      const ft::v1::GetJobRequest* request,
                                                      ft::v1::Job* response) {
  return FinishUnary(context, metrics_, "GetJob", [&]() -> absl::Status {
    absl::StatusOr<ft::v1::Job> job = manager_->Get(request->job_id());
    if (!job.ok()) return job.status();
    *response = std::move(*job);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::ListJobs(grpc::CallbackServerContext* context,
                                                        const ft::v1::ListJobsRequest* request,
                                                        ft::v1::ListJobsResponse* response) {
  return FinishUnary(context, metrics_, "ListJobs", [&]() -> absl::Status {
    std::vector<ft::v1::JobState> states;
    for (int state : request->states()) states.push_back(static_cast<ft::v1::JobState>(state));
    absl::StatusOr<store::JobPage> page = manager_->List(
        states, static_cast<int>(std::min<uint32_t>(request->page_size(), 1'000'000)),
        request->page_token());
    if (!page.ok()) return page.status();
    for (auto& job : page->jobs) *response->add_jobs() = std::move(job);
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::CancelJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::CancelJobRequest* request,
                                                         ft::v1::Job* response) {
  return FinishUnary(context, metrics_, "CancelJob", [&]() -> absl::Status {
    absl::StatusOr<ft::v1::Job> job = manager_->Cancel(request->job_id(), request->reason());
    if (!job.ok()) return job.status();
    *response = std::move(*job);
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<ft::v1::JobEvent>* FinetuneServiceImpl::WatchJob(
    grpc::CallbackServerContext* context, const ft::v1::WatchJobRequest* request) {
  return WatchReactor::Start(store_, hub_, metrics_, request->job_id(), request->after_seq());
}

}  // namespace ft::api
