// Lets Ctrl-C end `ftctl watch` cleanly: the signal thread cancels the stream being read (or wakes
// a reconnect back-off), and the watch loop then finishes the progress line and says what happened.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"

namespace ft::client {

class CancelToken {
 public:
  // Marks whether someone is watching the token. Cancel() does nothing while disarmed.
  void Arm(bool armed);

  // Cancels the tracked call and wakes SleepFor. Returns false, changing nothing, when the token
  // is not armed or already cancelled (the caller should then just exit).
  bool Cancel();

  bool cancelled() const;

  // Sets the call that Cancel() must cancel (nullptr: none). Returns false when already
  // cancelled, in which case the call must not be started.
  bool Track(grpc::ClientContext* context);

  // Sleeps for `duration`; returns false early when cancelled.
  bool SleepFor(absl::Duration duration);

 private:
  mutable absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// Blocks SIGINT and SIGTERM in the calling thread and every thread it starts afterwards (call it
// before gRPC starts any), and starts a thread that takes them: the first cancels `token` when it
// is armed; otherwise, or at a second signal, the process exits with 128 + the signal number
// (130 for Ctrl-C), after a newline on stderr when `newline_on_exit` (to end a half-drawn
// progress line).
void CancelOnSignals(CancelToken* token, bool newline_on_exit);

}  // namespace ft::client
