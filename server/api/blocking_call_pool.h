// Threads of ftd's own for unary handlers that block (a SQLite write waits for its group fsync,
// store/wal_sync.h). gRPC runs callback handlers on its few polling threads (max(2, cores / 2)
// in gRPC 1.51): a handler that blocks there stalls every other call, and at most two writes
// could wait for a sync together. Handlers run here instead and finish their reactor from here.
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/api/rpc_recorder.h"

namespace ft::api {

class BlockingCallPool {
 public:
  explicit BlockingCallPool(int threads);
  ~BlockingCallPool();  // runs every task already queued, then joins
  BlockingCallPool(const BlockingCallPool&) = delete;
  BlockingCallPool& operator=(const BlockingCallPool&) = delete;

  void Run(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  absl::CondVar work_or_stop_;  // signalled on each new task and on stopping
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

// FinishUnary (rpc_recorder.h) with `body` run on `pool` (inline when `pool` is null). `body`
// must capture by value: it runs after the handler has returned. The request, the response and
// the context stay valid until the reactor is finished.
template <typename Body>
grpc::ServerUnaryReactor* FinishUnaryOn(BlockingCallPool* pool,
                                        grpc::CallbackServerContext* context,
                                        metrics::ServerMetrics* metrics, const char* method,
                                        Body body) {
  if (pool == nullptr) return FinishUnary(context, metrics, method, std::move(body));
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  pool->Run([reactor, recorder = RpcRecorder(metrics, method), body = std::move(body)]() mutable {
    reactor->Finish(recorder.Done(ToGrpcStatus(body())));
  });
  return reactor;
}

}  // namespace ft::api
