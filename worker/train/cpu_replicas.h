// Data parallelism inside one process, for training on a CPU with several threads.
//
// On a CPU, N single-threaded computations of half (a 1/N) of the rows each beat one computation
// of all rows on N threads: each op's threads no longer meet at a barrier, OpenBLAS's threads no
// longer spin between matrix products, and the small element-wise ops stop paying for a thread
// team. On the 2-core machine of docs/performance.md two single-threaded ranks train 1.3x faster
// than one process with 2 threads. CpuReplicas does that in one process: replica 0 is the model
// itself, replicas 1..N-1 are modules of the same architecture whose parameters and buffers share
// the model's storage (no copy of the weights; the optimizer's in-place update reaches all) but
// are their own autograd leaves, so that each has its own gradient. Every micro-batch's rows are
// cut into N contiguous slices, replica i computes slice i on its own thread with one intra-op
// and one BLAS thread, and at the end of the window the replicas' gradients are added into the
// model's in replica order: the same gradient as AccumulateWindow up to rounding, and the same
// bits on every run.
//
// A forward that draws random numbers (dropout) draws, on each replica, from that replica's
// own generator (thread_generator.h), seeded for every micro-batch from one draw of the
// trainer's: the same masks on every run and after a resume, though not the masks that one model
// would draw.
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "worker/data/micro_batch.h"
#include "worker/models/trainable_model.h"
#include "worker/train/train_step.h"

namespace ft::train {

class CpuReplicas {
 public:
  // `extra`: N - 1 modules built like `model` (same architecture and the same parameter and
  // buffer names); their random weights are dropped for views of `model`'s storage.
  // `threads_outside`: the intra-op and BLAS threads to restore after each window.
  // `forward_draws_random`: the training forward draws random numbers (dropout).
  CpuReplicas(models::TrainableModelImpl& model, std::vector<models::TrainableModel> extra,
              int threads_outside, bool forward_draws_random = false);
  ~CpuReplicas();
  CpuReplicas(const CpuReplicas&) = delete;
  CpuReplicas& operator=(const CpuReplicas&) = delete;

  int count() const { return static_cast<int>(extra_.size()) + 1; }

  // AccumulateWindow's contract (train_step.h), the rows of each micro-batch split between the
  // replicas: the model's .grad gets the window's gradient added; the replicas' own gradients
  // are left undefined.
  WindowResult AccumulateWindow(const std::vector<MicroBatch>& micro_batches,
                                int64_t loss_divisor,
                                const std::function<bool()>& stop_requested = nullptr,
                                const StepPrecision& precision = {},
                                double label_smoothing = 0.0);

  // Runs task(replica, index) for every replica at once (index 0: the model, on this thread),
  // each thread with one intra-op and one BLAS thread; waits for all of them and rethrows the
  // first exception. The evaluation uses it with a ReplicaSum.
  void ForEachReplica(const std::function<void(models::TrainableModelImpl&, int)>& task);

 private:
  // One thread per extra replica, fed one task at a time.
  class Worker {
   public:
    Worker();
    ~Worker();
    void Start(std::function<void()> task);
    void Wait();  // rethrows the task's exception

   private:
    void Loop();
    std::mutex mutex_;
    std::condition_variable changed_;
    std::function<void()> task_;
    bool busy_ = false;
    bool stopping_ = false;
    std::exception_ptr error_;
    std::thread thread_;
  };

  void AliasParameters();  // again whenever the model's tensors were replaced
  // ForEachReplica's dispatch alone: the caller has aliased and set the threads.
  void RunOnEachReplica(const std::function<void(models::TrainableModelImpl&, int)>& task);
  void AddReplicaGradients();

  models::TrainableModelImpl& model_;
  std::vector<models::TrainableModel> extra_;
  int threads_outside_;
  bool forward_draws_random_;
  // The model's tensors by name, in named_parameters() / named_buffers() order, and each
  // replica's tensors with the same names.
  std::vector<std::string> names_;
  std::vector<std::vector<torch::Tensor>> replica_tensors_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

// Adds up partial sums computed on the replicas' threads, as a gang's all-reduce does across
// processes: every replica's thread calls Sum with its own tensors (the same shapes), and when
// the last one arrives each gets the total, added in replica order. Abort releases the waiting
// threads (their tensors then hold what they had) when some replica will never arrive: it
// stopped or failed.
class ReplicaSum {
 public:
  explicit ReplicaSum(int count) : partial_(static_cast<std::size_t>(count), nullptr) {}
  void Sum(int replica, std::vector<torch::Tensor>& sums);
  void Abort();

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<std::vector<torch::Tensor>*> partial_;
  int arrived_ = 0;
  bool finished_ = false;
};

// The row ranges [begin, end) of `rows` rows cut into `parts` contiguous slices, the first ones
// one row longer when it does not divide; empty slices are left out.
std::vector<std::pair<int64_t, int64_t>> RowSlices(int64_t rows, int parts);

}  // namespace ft::train
