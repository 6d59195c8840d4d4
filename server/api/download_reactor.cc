#include "server/api/download_reactor.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "server/api/grpc_status.h"

namespace ft::api {

DownloadReactor* DownloadReactor::Start(
    BlockingCallPool* pool, metrics::ServerMetrics* metrics, uint64_t offset,
    std::function<absl::StatusOr<artifacts::OpenArtifact>()> open) {
  auto* reactor = new DownloadReactor(metrics, offset);
  if (pool == nullptr) {
    reactor->Opened(open());
  } else {
    pool->Run([reactor, open = std::move(open)] { reactor->Opened(open()); });
  }
  return reactor;
}

void DownloadReactor::Opened(absl::StatusOr<artifacts::OpenArtifact> opened) {
  if (!opened.ok()) {
    FinishOnce(ToGrpcStatus(opened.status()));
  } else if (next_offset_ > opened->file.size()) {
    FinishOnce(ToGrpcStatus(absl::OutOfRangeError(
        absl::StrCat("offset ", next_offset_, " is past the end of ", opened->artifact.name(), " (",
                     opened->file.size(), " bytes)"))));
  } else {
    file_ = std::move(*opened);
    WriteNext();
  }
  bool cancelled;
  {
    absl::MutexLock lock(&mu_);
    opening_ = false;
    cancelled = cancelled_;
  }
  // A cancel that came while opening left the finishing to here (FinishOnce ignores a second).
  if (cancelled) FinishOnce(grpc::Status::CANCELLED);
  Release();
}

void DownloadReactor::Release() {
  if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void DownloadReactor::WriteNext() {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;  // cancelled while the last write was in flight
  }
  const uint64_t size = file_.file.size();
  // The first message is sent even for an empty file or an offset at the end: it carries the
  // artifact's size and digest.
  if (next_offset_ >= size && sent_any_) return FinishOnce(grpc::Status::OK);
  chunk_.Clear();
  if (!sent_any_) *chunk_.mutable_artifact() = file_.artifact;
  chunk_.set_offset(next_offset_);
  const uint64_t want = std::min<uint64_t>(kChunkBytes, size - next_offset_);
  std::string* data = chunk_.mutable_data();
  data->resize(want);
  uint64_t got = 0;
  while (got < want) {
    const ssize_t n = pread(file_.file.fd(), data->data() + got, want - got,
                            static_cast<off_t>(next_offset_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Shorter than at the open: the file was truncated or replaced meanwhile.
      return FinishOnce(ToGrpcStatus(absl::UnavailableError(
          absl::StrCat(file_.artifact.name(), " changed while it was read; download it again"))));
    }
    got += static_cast<uint64_t>(n);
  }
  next_offset_ += want;
  sent_any_ = true;
  StartWrite(&chunk_);
}

void DownloadReactor::OnWriteDone(bool ok) {
  if (!ok) return FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed"));
  WriteNext();
}

void DownloadReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    cancelled_ = true;
    if (opening_) return;  // Opened finishes it
  }
  FinishOnce(grpc::Status::CANCELLED);
}

void DownloadReactor::FinishOnce(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
  }
  if (metrics_ != nullptr) {
    metrics_->OnRpc("DownloadArtifact", GrpcCodeName(status.error_code()), -1);
  }
  Finish(status);
}

void DownloadReactor::OnDone() { Release(); }

}  // namespace ft::api
