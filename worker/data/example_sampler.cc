#include "worker/data/example_sampler.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace ft::train {
namespace {

// SplitMix64's finalizer: spreads (seed, epoch) over the generator's seed space so that nearby
// seeds and epochs give unrelated sequences.
uint64_t Mix(uint64_t value) {
  value += 0x9E3779B97F4A7C15ULL;
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

}  // namespace

uint64_t UniformBelow(std::mt19937_64& generator, uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("UniformBelow needs a positive bound");
  // Reject the lowest (2^64 mod bound) values so the rest divide evenly into `bound` classes.
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t value = generator();
    if (value >= threshold) return value % bound;
  }
}

std::vector<std::size_t> EpochOrder(std::size_t n, uint64_t seed, int64_t epoch) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 generator(Mix(Mix(seed) ^ static_cast<uint64_t>(epoch)));
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(UniformBelow(generator, i));
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

std::size_t Window::rows(std::size_t micro_batch) const {
  return packed() ? examples_per_row.at(micro_batch).size() : micro_batches.at(micro_batch).size();
}

std::size_t Window::size() const {
  std::size_t total = 0;
  for (const auto& micro_batch : micro_batches) total += micro_batch.size();
  return total;
}

std::vector<Window> PlanWindows(const std::vector<std::size_t>& order, int64_t micro_batch_size,
                                int64_t accumulation_steps) {
  if (micro_batch_size < 1 || accumulation_steps < 1) {
    throw std::invalid_argument("micro_batch_size and accumulation_steps must be at least 1");
  }
  const std::size_t micro = static_cast<std::size_t>(micro_batch_size);
  const std::size_t window_size = micro * static_cast<std::size_t>(accumulation_steps);
  std::vector<Window> windows;
  for (std::size_t window_begin = 0; window_begin < order.size(); window_begin += window_size) {
    const std::size_t window_end = std::min(order.size(), window_begin + window_size);
    Window window;
    for (std::size_t begin = window_begin; begin < window_end; begin += micro) {
      const std::size_t end = std::min(window_end, begin + micro);
      window.micro_batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                        order.begin() + static_cast<std::ptrdiff_t>(end));
    }
    windows.push_back(std::move(window));
  }
  return windows;
}

int64_t StepsPerEpoch(std::size_t n, int64_t micro_batch_size, int64_t accumulation_steps) {
  const int64_t window_size = micro_batch_size * accumulation_steps;
  return (static_cast<int64_t>(n) + window_size - 1) / window_size;
}

}  // namespace ft::train
