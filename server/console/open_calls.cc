#include "server/console/open_calls.h"

namespace ft::console {

Admission OpenCalls::Add(grpc::ClientContext* context, int max) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return Admission::kStopping;
  if (max > 0 && static_cast<int>(open_.size()) >= max) return Admission::kFull;
  open_.insert(context);
  return Admission::kAdmitted;
}

void OpenCalls::Remove(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  open_.erase(context);
}

void OpenCalls::CancelAll() {
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  for (grpc::ClientContext* context : open_) context->TryCancel();
}

int OpenCalls::size() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(open_.size());
}

}  // namespace ft::console
