// Server side of one DownloadArtifact stream. Opening the file (and hashing it, which takes
// seconds for gigabytes) runs on a BlockingCallPool, not on gRPC's few polling threads; then it
// reads and writes one chunk at a time, each read only once the previous write is done, so
// ftd holds at most one chunk per download however large the file and however slow the client.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ft/v1/artifact.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/api/blocking_call_pool.h"
#include "server/artifacts/artifact_catalog.h"
#include "server/metrics/server_metrics.h"

namespace ft::api {

class DownloadReactor : public grpc::ServerWriteReactor<ft::v1::ArtifactChunk> {
 public:
  // Bytes of file data per message: large enough that per-message costs vanish, small enough to
  // stay far below gRPC's message limits.
  static constexpr uint64_t kChunkBytes = 1 << 20;

  // Starts the stream: `open` runs on `pool` (inline when null) and either yields the file or
  // the status the stream ends with. The reactor deletes itself when gRPC is done with it.
  static DownloadReactor* Start(BlockingCallPool* pool, metrics::ServerMetrics* metrics,
                                uint64_t offset,
                                std::function<absl::StatusOr<artifacts::OpenArtifact>()> open);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  DownloadReactor(metrics::ServerMetrics* metrics, uint64_t offset)
      : metrics_(metrics), next_offset_(offset) {}
  // Called once the open is done (on the pool's thread): starts the first write or finishes.
  void Opened(absl::StatusOr<artifacts::OpenArtifact> opened);
  // Drops one of the two references (gRPC's, ended by OnDone; the opening's, ended by Opened):
  // a cancel during the open can make gRPC call OnDone while Opened still runs.
  void Release();
  // Reads the next chunk and writes it, or finishes after the last one.
  void WriteNext();
  void FinishOnce(const grpc::Status& status);

  metrics::ServerMetrics* const metrics_;
  artifacts::OpenArtifact file_;  // set once, by Opened, before the first write
  uint64_t next_offset_;          // touched only by the one write in flight
  ft::v1::ArtifactChunk chunk_;   // the message being written: alive until OnWriteDone
  bool sent_any_ = false;
  std::atomic<int> references_{2};

  absl::Mutex mu_;
  bool opening_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ft::api
