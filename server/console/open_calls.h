// The console's long calls into ftd (event streams, downloads) that are open now, so that
// shutdown can end them: each holds a thread of the HTTP server, which stops only once they
// return.
#pragma once

#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"

namespace ft::console {

enum class Admission { kAdmitted, kStopping, kFull };

class OpenCalls {
 public:
  // Registers `context` unless shutting down or `max` (> 0) calls are open already.
  Admission Add(grpc::ClientContext* context, int max = 0);
  void Remove(grpc::ClientContext* context);
  // Cancels every open call and admits no more.
  void CancelAll();
  int size() const;

 private:
  mutable absl::Mutex mu_;
  std::set<grpc::ClientContext*> open_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

// Add() for a scope: the call is removed when it ends.
class OpenCall {
 public:
  OpenCall(OpenCalls* calls, grpc::ClientContext* context, int max = 0)
      : calls_(calls), context_(context), admission_(calls->Add(context, max)) {}
  ~OpenCall() {
    if (admission_ == Admission::kAdmitted) calls_->Remove(context_);
  }
  OpenCall(const OpenCall&) = delete;
  OpenCall& operator=(const OpenCall&) = delete;

  Admission admission() const { return admission_; }

 private:
  OpenCalls* calls_;
  grpc::ClientContext* context_;
  const Admission admission_;
};

}  // namespace ft::console
