// The order in which training examples are seen, and how it is cut into optimizer-step windows
// and micro-batches. The order depends only on the seed and the epoch, never on the micro-batch
// size or the accumulation steps, so that micro 2 x 4 steps and micro 8 x 1 step see the same
// examples in the same windows. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace ft::train {

// A uniformly distributed integer in [0, bound) from `generator`, by rejection sampling, so the
// result is the same on every standard library (std::uniform_int_distribution's is not).
uint64_t UniformBelow(std::mt19937_64& generator, uint64_t bound);

// A permutation of 0..n-1 for `epoch` (1-based): Fisher-Yates with a generator seeded from
// (seed, epoch).
std::vector<std::size_t> EpochOrder(std::size_t n, uint64_t seed, int64_t epoch);

// The examples of one optimizer step, as micro-batches of indices.
struct Window {
  std::vector<std::vector<std::size_t>> micro_batches;
  // Packed windows only (packing.h): examples_per_row[m][r] is how many of micro_batches[m]'s
  // examples, taken in order, lie end to end in row r. Empty: one example per row.
  std::vector<std::vector<std::size_t>> examples_per_row;

  std::size_t size() const;  // number of examples in the whole window
  bool packed() const { return !examples_per_row.empty(); }
  std::size_t rows(std::size_t micro_batch) const;  // rows of micro-batch `micro_batch`
};

// Cuts `order` into windows of micro_batch_size * accumulation_steps examples (the last window
// may be shorter), and each window into micro-batches of micro_batch_size (its last one may be
// shorter).
std::vector<Window> PlanWindows(const std::vector<std::size_t>& order, int64_t micro_batch_size,
                                int64_t accumulation_steps);

// Optimizer steps per epoch: ceil(n / (micro_batch_size * accumulation_steps)).
int64_t StepsPerEpoch(std::size_t n, int64_t micro_batch_size, int64_t accumulation_steps);

}  // namespace ft::train
