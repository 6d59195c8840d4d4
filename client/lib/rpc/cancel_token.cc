#include "client/lib/rpc/cancel_token.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace ft::client {

void CancelToken::Arm(bool armed) {
  absl::MutexLock lock(&mu_);
  armed_ = armed;
}

bool CancelToken::Cancel() {
  absl::MutexLock lock(&mu_);
  if (!armed_ || cancelled_) return false;
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
  return true;
}

bool CancelToken::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CancelToken::Track(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  return !cancelled_;
}

bool CancelToken::SleepFor(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&cancelled_), duration);
  return !cancelled_;
}

void CancelOnSignals(CancelToken* token, bool newline_on_exit) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread([token, signals, newline_on_exit] {
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (token->Cancel()) continue;
      if (newline_on_exit) (void)!write(STDERR_FILENO, "\n", 1);
      std::_Exit(128 + sig);
    }
  }).detach();
}

}  // namespace ft::client
