#include "server/api/finetune_service.h"

#include "common/util/status_macros.h"
#include "server/api/call_auth.h"
#include "server/api/download_reactor.h"
#include "server/api/rpc_recorder.h"
#include "server/api/watch_reactor.h"

namespace ft::api {
namespace {

// A WatchJob stream refused before it started.
class RefusedWatch : public grpc::ServerWriteReactor<ft::v1::JobEvent> {
 public:
  RefusedWatch(metrics::ServerMetrics* metrics, const absl::Status& status) {
    const grpc::Status refused = ToGrpcStatus(status);
    if (metrics != nullptr) metrics->OnRpc("WatchJob", GrpcCodeName(refused.error_code()), -1);
    Finish(refused);
  }
  void OnDone() override { delete this; }
};

// A DownloadArtifact stream refused before it started.
class RefusedDownload : public grpc::ServerWriteReactor<ft::v1::ArtifactChunk> {
 public:
  RefusedDownload(metrics::ServerMetrics* metrics, const absl::Status& status) {
    const grpc::Status refused = ToGrpcStatus(status);
    if (metrics != nullptr) {
      metrics->OnRpc("DownloadArtifact", GrpcCodeName(refused.error_code()), -1);
    }
    Finish(refused);
  }
  void OnDone() override { delete this; }
};

absl::Status NoArtifacts() {
  return absl::UnimplementedError("this server does not offer artifacts");
}

}  // namespace

absl::StatusOr<ft::v1::Job> FinetuneServiceImpl::VisibleJob(const std::string& job_id,
                                                            const auth::Principal& who) {
  FT_ASSIGN_OR_RETURN(ft::v1::Job job, manager_->Get(job_id));
  FT_RETURN_IF_ERROR(CheckJobAccess(job, who));
  return job;
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::SubmitJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::SubmitJobRequest* request,
                                                         ft::v1::SubmitJobResponse* response) {
  return FinishUnaryOn(calls_, context, metrics_, "SubmitJob",
                       [this, context, request, response]() -> absl::Status {
                         FT_ASSIGN_OR_RETURN(auth::Principal who,
                                             AuthenticateCall(context, auth_, auth::Api::kPublic));
                         absl::StatusOr<store::CreateJobResult> result =
                             manager_->Submit(request->spec(), request->request_id(), who.user);
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
    FT_ASSIGN_OR_RETURN(auth::Principal who, AuthenticateCall(context, auth_, auth::Api::kPublic));
    absl::StatusOr<ft::v1::Job> job = VisibleJob(request->job_id(), who);
    if (!job.ok()) return job.status();
    *response = std::move(*job);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::ListJobs(grpc::CallbackServerContext* context,
                                                        const ft::v1::ListJobsRequest* request,
                                                        ft::v1::ListJobsResponse* response) {
  return FinishUnary(context, metrics_, "ListJobs", [&]() -> absl::Status {
    FT_ASSIGN_OR_RETURN(auth::Principal who, AuthenticateCall(context, auth_, auth::Api::kPublic));
    std::vector<ft::v1::JobState> states;
    for (int state : request->states()) states.push_back(static_cast<ft::v1::JobState>(state));
    absl::StatusOr<store::JobPage> page = manager_->List(
        states, static_cast<int>(std::min<uint32_t>(request->page_size(), 1'000'000)),
        request->page_token(), VisibleOwner(who));
    if (!page.ok()) return page.status();
    for (auto& job : page->jobs) *response->add_jobs() = std::move(job);
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::CancelJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::CancelJobRequest* request,
                                                         ft::v1::Job* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "CancelJob", [this, context, request, response]() -> absl::Status {
        FT_ASSIGN_OR_RETURN(auth::Principal who,
                            AuthenticateCall(context, auth_, auth::Api::kPublic));
        FT_RETURN_IF_ERROR(VisibleJob(request->job_id(), who).status());
        absl::StatusOr<ft::v1::Job> job = manager_->Cancel(request->job_id(), request->reason());
        if (!job.ok()) return job.status();
        *response = std::move(*job);
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<ft::v1::JobEvent>* FinetuneServiceImpl::WatchJob(
    grpc::CallbackServerContext* context, const ft::v1::WatchJobRequest* request) {
  absl::StatusOr<auth::Principal> who = AuthenticateCall(context, auth_, auth::Api::kPublic);
  if (!who.ok()) return new RefusedWatch(metrics_, who.status());
  if (absl::StatusOr<ft::v1::Job> job = VisibleJob(request->job_id(), *who); !job.ok()) {
    return new RefusedWatch(metrics_, job.status());
  }
  std::unique_ptr<WatcherLimits::Slot> slot;
  if (watchers_ != nullptr) {
    absl::StatusOr<std::unique_ptr<WatcherLimits::Slot>> acquired =
        watchers_->Acquire(request->job_id());
    if (!acquired.ok()) return new RefusedWatch(metrics_, acquired.status());
    slot = std::move(*acquired);
  }
  return WatchReactor::Start(store_, hub_, metrics_, request->job_id(), request->after_seq(),
                             std::move(slot));
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::DeleteJob(grpc::CallbackServerContext* context,
                                                         const ft::v1::DeleteJobRequest* request,
                                                         ft::v1::DeleteJobResponse* response) {
  return FinishUnaryOn(
      calls_, context, metrics_, "DeleteJob", [this, context, request, response]() -> absl::Status {
        FT_ASSIGN_OR_RETURN(auth::Principal who,
                            AuthenticateCall(context, auth_, auth::Api::kPublic));
        FT_RETURN_IF_ERROR(VisibleJob(request->job_id(), who).status());
        FT_ASSIGN_OR_RETURN(
            const uint64_t freed,
            manager_->Delete(
                request->job_id(),
                "DeleteJob by " + (who.user.empty() ? std::string("anonymous") : who.user)));
        response->set_freed_bytes(freed);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* FinetuneServiceImpl::ListArtifacts(
    grpc::CallbackServerContext* context, const ft::v1::ListArtifactsRequest* request,
    ft::v1::ListArtifactsResponse* response) {
  return FinishUnaryOn(artifact_io_, context, metrics_, "ListArtifacts",
                       [this, context, request, response]() -> absl::Status {
                         FT_ASSIGN_OR_RETURN(auth::Principal who,
                                             AuthenticateCall(context, auth_, auth::Api::kPublic));
                         FT_ASSIGN_OR_RETURN(ft::v1::Job job, VisibleJob(request->job_id(), who));
                         if (artifacts_ == nullptr) return NoArtifacts();
                         FT_ASSIGN_OR_RETURN(std::vector<ft::v1::Artifact> artifacts,
                                             artifacts_->List(job));
                         for (auto& artifact : artifacts)
                           *response->add_artifacts() = std::move(artifact);
                         return absl::OkStatus();
                       });
}

grpc::ServerWriteReactor<ft::v1::ArtifactChunk>* FinetuneServiceImpl::DownloadArtifact(
    grpc::CallbackServerContext* context, const ft::v1::DownloadArtifactRequest* request) {
  absl::StatusOr<auth::Principal> who = AuthenticateCall(context, auth_, auth::Api::kPublic);
  if (!who.ok()) return new RefusedDownload(metrics_, who.status());
  absl::StatusOr<ft::v1::Job> job = VisibleJob(request->job_id(), *who);
  if (!job.ok()) return new RefusedDownload(metrics_, job.status());
  if (artifacts_ == nullptr) return new RefusedDownload(metrics_, NoArtifacts());
  return DownloadReactor::Start(artifact_io_, metrics_, request->offset(),
                                [catalog = artifacts_, job = std::move(*job),
                                 name = request->name()] { return catalog->Open(job, name); });
}

}  // namespace ft::api
