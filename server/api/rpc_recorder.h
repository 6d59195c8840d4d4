// Times one RPC and records it in the metrics when it finishes.
#pragma once

#include <string>

#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "server/api/grpc_status.h"
#include "server/metrics/server_metrics.h"

namespace ft::api {

class RpcRecorder {
 public:
  RpcRecorder(metrics::ServerMetrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(absl::Now()) {}

  // Records and returns `status`.
  grpc::Status Done(const grpc::Status& status) const {
    if (metrics_ != nullptr) {
      metrics_->OnRpc(method_, GrpcCodeName(status.error_code()),
                      absl::ToDoubleSeconds(absl::Now() - start_));
    }
    return status;
  }

 private:
  metrics::ServerMetrics* metrics_;
  std::string method_;
  absl::Time start_;
};

// Runs `body` (returning absl::Status) and finishes the unary call with its status, recorded in
// the metrics under `method`.
template <typename Body>
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      metrics::ServerMetrics* metrics, const char* method,
                                      Body body) {
  RpcRecorder recorder(metrics, method);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(recorder.Done(ToGrpcStatus(body())));
  return reactor;
}

}  // namespace ft::api
