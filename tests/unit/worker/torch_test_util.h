// Shared helpers for the LibTorch tests of the training core.
#pragma once

#include <ATen/Parallel.h>
#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "common/models/model_catalog.h"
#include "worker/data/job_data.h"
#include "worker/models/bloom_model.h"
#include "worker/train/compute_threads.h"

namespace ft::testing {

// The process-wide thread counts that decide a matmul's summation order, hence its float32
// rounding: LibTorch's intra-op threads and OpenBLAS's own pool (train/compute_threads.h).
// RunTrainingJob sets both from TrainOptions::threads.
struct ComputeThreads {
  int torch = 0;
  int blas = 0;  // 0: no OpenBLAS in the process

  static ComputeThreads Current() { return {at::get_num_threads(), train::BlasThreads()}; }
  void Apply() const {
    at::set_num_threads(torch);
    if (blas > 0) train::SetBlasThreads(blas);
  }
};

// A test whose float32 figures depend on the summation order pins the thread counts it runs with,
// and gives the previous ones back, so that neither its verdict nor a later test's depends on the
// machine or on which tests ran before it.
class ScopedIntraOpThreads {
 public:
  explicit ScopedIntraOpThreads(int threads) : previous_(ComputeThreads::Current()) {
    ComputeThreads{threads, threads}.Apply();
  }
  ~ScopedIntraOpThreads() { previous_.Apply(); }
  ScopedIntraOpThreads(const ScopedIntraOpThreads&) = delete;
  ScopedIntraOpThreads& operator=(const ScopedIntraOpThreads&) = delete;

 private:
  ComputeThreads previous_;
};

inline models::BloomConfig TinyConfig() {
  return models::FindScratchModel("scratch:bloom-tiny")->bloom;
}

// Random byte-token sequences of the given lengths with labels in [0, num_labels).
inline train::TokenizedSplit RandomSplit(const std::vector<int64_t>& lengths, int64_t num_labels,
                                         uint64_t seed) {
  std::mt19937_64 generator(seed);
  train::TokenizedSplit split;
  split.name = "train";
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    std::vector<int64_t> ids;
    for (int64_t t = 0; t < lengths[i]; ++t)
      ids.push_back(4 + static_cast<int64_t>(generator() % 256));
    split.input_ids.push_back(ids);
    split.labels.push_back(static_cast<int64_t>(generator() % num_labels));
  }
  return split;
}

// The tiny scratch BLOOM with 3 labels, initialised from the seed, in the given dtype. Pins the
// process-wide thread counts first: they decide how float32 rounds, and another test may have
// changed them.
inline models::BloomForSequenceClassification TinyBloomClassifier(
    uint64_t seed = 3, torch::ScalarType dtype = torch::kFloat32) {
  train::SetComputeThreads(1);
  torch::manual_seed(seed);
  models::BloomForSequenceClassification model(TinyConfig(), 3);
  model->to(dtype);
  return model;
}

// 24 examples of 1 to 30 tokens and 3 labels: micro-batches of them pad differently from one
// batch of all of them.
inline const train::TokenizedSplit& MixedLengthSplit() {
  static const train::TokenizedSplit split = RandomSplit(
      {5, 17, 9, 30, 2, 12, 21, 8, 14, 3, 26, 11, 6, 19, 7, 4, 23, 10, 15, 1, 28, 13, 9, 16}, 3,
      11);
  return split;
}

// max |a - b| / max |b| (0 when b is all zero and a equals it).
inline double RelativeMaxDifference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = b.abs().max().item<double>();
  const double difference = (a - b).abs().max().item<double>();
  if (scale == 0) return difference == 0 ? 0.0 : INFINITY;
  return difference / scale;
}

}  // namespace ft::testing
