// gRPC adapter for the public FinetuneService: translates messages and statuses, authenticates
// each call and keeps each user to their own jobs (call_auth.h).
#pragma once

#include "ft/v1/finetune_service.grpc.pb.h"
#include "server/api/blocking_call_pool.h"
#include "server/api/watcher_limits.h"
#include "server/artifacts/artifact_catalog.h"
#include "server/auth/authenticator.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"

namespace ft::api {

class FinetuneServiceImpl final : public ft::v1::FinetuneService::CallbackService {
 public:
  FinetuneServiceImpl(sched::JobManager* manager, store::JobStore* store, sched::EventHub* hub,
                      metrics::ServerMetrics* metrics, const auth::Authenticator* auth = nullptr,
                      WatcherLimits* watchers = nullptr, BlockingCallPool* calls = nullptr,
                      artifacts::ArtifactCatalog* artifacts = nullptr,
                      BlockingCallPool* artifact_io = nullptr)
      : manager_(manager),
        store_(store),
        hub_(hub),
        metrics_(metrics),
        auth_(auth),
        watchers_(watchers),
        calls_(calls),
        artifacts_(artifacts),
        artifact_io_(artifact_io) {}

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
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* context,
                                      const ft::v1::DeleteJobRequest* request,
                                      ft::v1::DeleteJobResponse* response) override;
  grpc::ServerUnaryReactor* ListArtifacts(grpc::CallbackServerContext* context,
                                          const ft::v1::ListArtifactsRequest* request,
                                          ft::v1::ListArtifactsResponse* response) override;
  grpc::ServerWriteReactor<ft::v1::ArtifactChunk>* DownloadArtifact(
      grpc::CallbackServerContext* context,
      const ft::v1::DownloadArtifactRequest* request) override;

 private:
  // The caller's job, or NOT_FOUND when it is unknown or another user's.
  absl::StatusOr<ft::v1::Job> VisibleJob(const std::string& job_id, const auth::Principal& who);

  sched::JobManager* manager_;
  store::JobStore* store_;
  sched::EventHub* hub_;
  metrics::ServerMetrics* metrics_;
  const auth::Authenticator* auth_;        // null: no authentication (in-process tests)
  WatcherLimits* watchers_;                // null: no bound
  BlockingCallPool* calls_;                // handlers that write run here; null: inline
  artifacts::ArtifactCatalog* artifacts_;  // null: the artifact RPCs answer UNIMPLEMENTED
  BlockingCallPool* artifact_io_;          // hashing and opening files; null: inline
};

}  // namespace ft::api
