#include "worker/train/cpu_replicas.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>
#include <ATen/record_function.h>
#include <dlfcn.h>

#include <optional>
#include <stdexcept>
#include <utility>

#include "worker/models/thread_generator.h"
#include "worker/train/compute_threads.h"

namespace ft::train {
namespace {

// The calling thread's OpenMP team size. LibTorch's own at::set_num_threads would also change the
// process-wide default that new threads start from; the OpenMP call changes this thread only.
// LibTorch loads libgomp, so the symbol is there when LibTorch uses OpenMP.
void SetThisThreadsIntraOpThreads(int threads) {
  using SetNumThreads = void (*)(int);
  static const auto set =
      reinterpret_cast<SetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  at::get_num_threads();  // LibTorch's per-thread first-use setup, which would overwrite ours
  if (set != nullptr) {
    set(threads);
  } else {
    at::set_num_threads(threads);
  }
}

// Replica 0 computes on the trainer's thread: single-threaded for the window, as the others.
class SingleThreadedWindow {
 public:
  explicit SingleThreadedWindow(int threads_outside) : threads_outside_(threads_outside) {
    SetThisThreadsIntraOpThreads(1);
    SetBlasThreads(1);  // process-wide: every replica's matrix products run on its own thread
  }
  ~SingleThreadedWindow() {
    SetThisThreadsIntraOpThreads(threads_outside_);
    SetBlasThreads(threads_outside_);
  }
  SingleThreadedWindow(const SingleThreadedWindow&) = delete;
  SingleThreadedWindow& operator=(const SingleThreadedWindow&) = delete;

 private:
  int threads_outside_;
};

std::vector<std::pair<std::string, torch::Tensor>> NamedTensors(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : module.named_parameters()) tensors.emplace_back(item.key(), item.value());
  for (const auto& item : module.named_buffers()) tensors.emplace_back(item.key(), item.value());
  return tensors;
}

}  // namespace

std::vector<std::pair<int64_t, int64_t>> RowSlices(int64_t rows, int parts) {
  std::vector<std::pair<int64_t, int64_t>> slices;
  int64_t begin = 0;
  for (int part = 0; part < parts; ++part) {
    const int64_t size = rows / parts + (part < rows % parts ? 1 : 0);
    if (size > 0) slices.emplace_back(begin, begin + size);
    begin += size;
  }
  return slices;
}

CpuReplicas::Worker::Worker() : thread_([this] { Loop(); }) {}

CpuReplicas::Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void CpuReplicas::Worker::Start(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = std::move(task);
    busy_ = true;
    error_ = nullptr;
  }
  changed_.notify_all();
}

void CpuReplicas::Worker::Wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !busy_; });
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
}

void CpuReplicas::Worker::Loop() {
  SetThisThreadsIntraOpThreads(1);
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return busy_ || stopping_; });
    if (stopping_) return;
    std::function<void()> task = std::move(task_);
    lock.unlock();
    std::exception_ptr error;
    try {
      task();
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    busy_ = false;
    changed_.notify_all();
  }
}

CpuReplicas::CpuReplicas(models::TrainableModelImpl& model,
                         std::vector<models::TrainableModel> extra, int threads_outside,
                         bool forward_draws_random)
    : model_(model),
      extra_(std::move(extra)),
      threads_outside_(threads_outside),
      forward_draws_random_(forward_draws_random) {
  for (const auto& [name, tensor] : NamedTensors(model_)) names_.push_back(name);
  for (models::TrainableModel& replica : extra_) {
    std::vector<torch::Tensor> tensors;
    const auto named = NamedTensors(*replica);
    for (std::size_t i = 0; i < named.size(); ++i) {
      if (i >= names_.size() || named[i].first != names_[i]) {
        throw std::logic_error("a CPU replica's tensors differ from the model's at " +
                               (i < names_.size() ? names_[i] : named[i].first));
      }
      tensors.push_back(named[i].second);
    }
    if (tensors.size() != names_.size()) {
      throw std::logic_error("a CPU replica has fewer tensors than the model");
    }
    replica_tensors_.push_back(std::move(tensors));
    workers_.push_back(std::make_unique<Worker>());
  }
  AliasParameters();
}

CpuReplicas::~CpuReplicas() = default;

void CpuReplicas::AliasParameters() {
  const auto model_tensors = NamedTensors(model_);
  if (model_tensors.size() != names_.size()) {
    throw std::logic_error("the model's tensors changed after its CPU replicas were made");
  }
  torch::NoGradGuard no_grad;
  for (std::size_t r = 0; r < extra_.size(); ++r) {
    extra_[r]->train(model_.is_training());
    for (std::size_t i = 0; i < names_.size(); ++i) {
      const torch::Tensor& source = model_tensors[i].second;
      torch::Tensor& replica = replica_tensors_[r][i];
      if (replica.data_ptr() != source.data_ptr() || replica.sizes() != source.sizes() ||
          replica.scalar_type() != source.scalar_type()) {
        replica.set_data(source);
      }
      if (replica.requires_grad() != source.requires_grad()) {
        replica.requires_grad_(source.requires_grad());
      }
    }
  }
}

void CpuReplicas::AddReplicaGradients() {
  RECORD_FUNCTION("ft::replica_gradients", std::vector<c10::IValue>());
  torch::NoGradGuard no_grad;
  const auto model_tensors = NamedTensors(model_);
  for (std::size_t i = 0; i < names_.size(); ++i) {
    torch::Tensor target = model_tensors[i].second;
    for (std::vector<torch::Tensor>& replica : replica_tensors_) {
      torch::Tensor gradient = replica[i].grad();
      if (!gradient.defined()) continue;
      if (target.grad().defined()) {
        target.mutable_grad().add_(gradient);
      } else {
        target.mutable_grad() = gradient;
      }
      replica[i].mutable_grad() = torch::Tensor();
    }
  }
}

void CpuReplicas::ForEachReplica(
    const std::function<void(models::TrainableModelImpl&, int)>& task) {
  AliasParameters();
  SingleThreadedWindow single_threaded(threads_outside_);
  RunOnEachReplica(task);
}

void CpuReplicas::RunOnEachReplica(
    const std::function<void(models::TrainableModelImpl&, int)>& task) {
  // The trainer thread's grad mode and profiler go with each task, as autograd does.
  const at::ThreadLocalState state;
  for (std::size_t r = 0; r < extra_.size(); ++r) {
    workers_[r]->Start([&, r] {
      at::ThreadLocalStateGuard guard(state);
      task(*extra_[r], static_cast<int>(r + 1));
    });
  }
  std::exception_ptr error;
  try {
    task(model_, 0);
  } catch (...) {
    error = std::current_exception();
  }
  // Every worker is waited for: their tasks reference the caller's frame.
  for (std::unique_ptr<Worker>& worker : workers_) {
    try {
      worker->Wait();
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

WindowResult CpuReplicas::AccumulateWindow(const std::vector<MicroBatch>& micro_batches,
                                           int64_t loss_divisor,
                                           const std::function<bool()>& stop_requested,
                                           const StepPrecision& precision,
                                           double label_smoothing) {
  WindowResult result;
  AliasParameters();
  {
    SingleThreadedWindow single_threaded(threads_outside_);
    for (const MicroBatch& batch : micro_batches) {
      if (stop_requested && stop_requested()) {
        result.stopped = true;
        break;
      }
      const auto slices = RowSlices(batch.input_ids.size(0), count());
      std::vector<torch::Tensor> losses(slices.size());
      const uint64_t seed =
          forward_draws_random_ ? models::DrawSeed(models::ThisThreadsCpuGenerator()) : 0;
      RunOnEachReplica([&](models::TrainableModelImpl& replica, int index) {
        const auto r = static_cast<std::size_t>(index);
        if (r >= slices.size()) return;  // fewer rows than replicas
        std::optional<models::OwnCpuGenerator> own_generator;
        if (forward_draws_random_) own_generator.emplace(models::StreamSeed(seed, index));
        const MicroBatch slice = SliceRows(batch, slices[r].first, slices[r].second);
        losses[r] = AccumulateMicroBatch(replica, slice, loss_divisor, precision, label_smoothing);
      });
      for (const torch::Tensor& loss : losses) {
        result.loss_sum = result.loss_sum.defined() ? result.loss_sum + loss : loss;
      }
    }
  }
  AddReplicaGradients();
  if (!result.loss_sum.defined()) result.loss_sum = torch::zeros({});
  return result;
}

void ReplicaSum::Sum(int replica, std::vector<torch::Tensor>& sums) {
  std::unique_lock<std::mutex> lock(mutex_);
  partial_[static_cast<std::size_t>(replica)] = &sums;
  if (++arrived_ < static_cast<int>(partial_.size())) {
    done_.wait(lock, [this] { return finished_; });
    return;
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < sums.size(); ++i) {
    torch::Tensor total = (*partial_[0])[i].clone();
    for (std::size_t r = 1; r < partial_.size(); ++r) total.add_((*partial_[r])[i]);
    for (std::vector<torch::Tensor>* partial : partial_) (*partial)[i].copy_(total);
  }
  finished_ = true;
  done_.notify_all();
}

void ReplicaSum::Abort() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    finished_ = true;
  }
  done_.notify_all();
}

}  // namespace ft::train
