// TSan builds only (FT_SANITIZE=thread): tells ThreadSanitizer about absl::Mutex.
//
// Debian's abseil is not built with -fsanitize=thread, so its Mutex takes and releases the lock
// with atomics TSan never sees: every access our code makes under an absl::Mutex would be
// reported as a race. abseil built with TSan annotates the Mutex itself (__tsan_mutex_* around the
// lock and unlock). This file does the same from outside: it defines the out-of-line Mutex and
// CondVar members our code and gRPC call, so the dynamic linker binds those calls here (the
// executable's definitions win over libabsl_synchronization.so's), annotates, and calls the
// library's own definition found with dlsym(RTLD_NEXT). The mutex's inline constructor already
// calls __tsan_mutex_create. Accesses between a pre_ and a post_ annotation are ignored by TSan,
// as in abseil's own annotations (Await's conditions run there, in whichever thread unlocks).
#include <dlfcn.h>
#include <sanitizer/tsan_interface.h>

#include <cstdio>
#include <cstdlib>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

// The library's definition of a member function, by mangled name.
template <typename Fn>
Fn Real(const char* mangled) {
  void* symbol = dlsym(RTLD_NEXT, mangled);
  if (symbol == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found in abseil: %s\n", mangled, dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(symbol);
}

// The mangled names carry abseil's inline namespace (Debian: debian3); this file is only built
// against that abseil, and Real() aborts loudly if it ever changes.
#define FT_ABSL_NS "N4absl7debian3"

using MutexFn = void (*)(absl::Mutex*);
using TryFn = bool (*)(absl::Mutex*);
using AwaitFn = void (*)(absl::Mutex*, const absl::Condition&);
using AwaitTimeoutFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Duration);
using AwaitDeadlineFn = bool (*)(absl::Mutex*, const absl::Condition&, absl::Time);
using WaitFn = void (*)(absl::CondVar*, absl::Mutex*);
using WaitTimeoutFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Duration);
using WaitDeadlineFn = bool (*)(absl::CondVar*, absl::Mutex*, absl::Time);

// abseil's members call each other through the PLT too (AwaitWithTimeout calls
// AwaitWithDeadline, which lands here again): only the outermost call of a thread annotates.
thread_local int depth = 0;
struct Call {
  Call() : outer(depth++ == 0) {}
  ~Call() { --depth; }
  const bool outer;
};

void PreLock(void* mu, unsigned flags, const Call& call) {
  if (call.outer) __tsan_mutex_pre_lock(mu, flags);
}
void PostLock(void* mu, unsigned flags, const Call& call) {
  if (call.outer) __tsan_mutex_post_lock(mu, flags, 0);
}
void PreUnlock(void* mu, unsigned flags, const Call& call) {
  if (call.outer) __tsan_mutex_pre_unlock(mu, flags);
}
void PostUnlock(void* mu, unsigned flags, const Call& call) {
  if (call.outer) __tsan_mutex_post_unlock(mu, flags);
}

// Around a call that releases `mu` and takes it again before returning (Await, CondVar::Wait).
struct ReleasedDuring {
  ReleasedDuring(void* mu, unsigned read) : mu(mu), read(read) {
    PreUnlock(mu, read, call);
    PostUnlock(mu, read, call);
  }
  ~ReleasedDuring() {
    PreLock(mu, read, call);
    PostLock(mu, read, call);
  }
  Call call;
  void* mu;
  unsigned read;
};

}  // namespace

namespace absl {

void Mutex::Lock() {
  static const auto real = Real<MutexFn>("_Z" FT_ABSL_NS "5Mutex4LockEv");
  const Call call;
  PreLock(this, 0, call);
  real(this);
  PostLock(this, 0, call);
}

void Mutex::Unlock() {
  static const auto real = Real<MutexFn>("_Z" FT_ABSL_NS "5Mutex6UnlockEv");
  const Call call;
  PreUnlock(this, 0, call);
  real(this);
  PostUnlock(this, 0, call);
}

void Mutex::ReaderLock() {
  static const auto real = Real<MutexFn>("_Z" FT_ABSL_NS "5Mutex10ReaderLockEv");
  const Call call;
  PreLock(this, __tsan_mutex_read_lock, call);
  real(this);
  PostLock(this, __tsan_mutex_read_lock, call);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<MutexFn>("_Z" FT_ABSL_NS "5Mutex12ReaderUnlockEv");
  const Call call;
  PreUnlock(this, __tsan_mutex_read_lock, call);
  real(this);
  PostUnlock(this, __tsan_mutex_read_lock, call);
}

bool Mutex::TryLock() {
  static const auto real = Real<TryFn>("_Z" FT_ABSL_NS "5Mutex7TryLockEv");
  const Call call;
  PreLock(this, __tsan_mutex_try_lock, call);
  const bool locked = real(this);
  PostLock(this, locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed, call);
  return locked;
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<TryFn>("_Z" FT_ABSL_NS "5Mutex13ReaderTryLockEv");
  const unsigned read = __tsan_mutex_read_lock;
  const Call call;
  PreLock(this, read | __tsan_mutex_try_lock, call);
  const bool locked = real(this);
  PostLock(this, read | (locked ? __tsan_mutex_try_lock : __tsan_mutex_try_lock_failed), call);
  return locked;
}

void Mutex::Await(const Condition& cond) {
  static const auto real = Real<AwaitFn>("_Z" FT_ABSL_NS "5Mutex5AwaitERKNS0_9ConditionE");
  ReleasedDuring released(this, 0);
  real(this, cond);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<AwaitTimeoutFn>(
      "_Z" FT_ABSL_NS "5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE");
  ReleasedDuring released(this, 0);
  return real(this, cond, timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<AwaitDeadlineFn>(
      "_Z" FT_ABSL_NS "5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE");
  ReleasedDuring released(this, 0);
  return real(this, cond, deadline);
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = Real<WaitFn>("_Z" FT_ABSL_NS "7CondVar4WaitEPNS0_5MutexE");
  ReleasedDuring released(mu, 0);
  real(this, mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Real<WaitTimeoutFn>(
      "_Z" FT_ABSL_NS "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  ReleasedDuring released(mu, 0);
  return real(this, mu, timeout);
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<WaitDeadlineFn>(
      "_Z" FT_ABSL_NS "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  ReleasedDuring released(mu, 0);
  return real(this, mu, deadline);
}

}  // namespace absl
