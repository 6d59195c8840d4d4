#include "worker/data/epoch_plan.h"

#include <algorithm>
#include <random>
#include <stdexcept>

#include "worker/data/packing.h"

namespace ft::train {
namespace {

// A generator for the window shuffle, unrelated to EpochOrder's (seed, epoch) stream.
std::mt19937_64 WindowShuffleGenerator(uint64_t seed, int64_t epoch) {
  std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                         static_cast<uint32_t>(epoch), static_cast<uint32_t>(epoch >> 32),
                         0x67726F75u /* "grou" */};
  return std::mt19937_64(sequence);
}

void SortLongestFirst(std::vector<std::size_t>::iterator begin,
                      std::vector<std::size_t>::iterator end,
                      const std::vector<std::size_t>& lengths) {
  std::stable_sort(begin, end,
                   [&lengths](std::size_t a, std::size_t b) { return lengths[a] > lengths[b]; });
}

}  // namespace

std::vector<std::size_t> LengthGroupedOrder(const std::vector<std::size_t>& lengths,
                                            uint64_t seed, int64_t epoch,
                                            std::size_t window_size) {
  if (window_size == 0) throw std::invalid_argument("window_size must be at least 1");
  std::vector<std::size_t> order = EpochOrder(lengths.size(), seed, epoch);
  const std::size_t megabatch = window_size * kWindowsPerMegabatch;
  for (std::size_t begin = 0; begin < order.size(); begin += megabatch) {
    const std::size_t end = std::min(order.size(), begin + megabatch);
    SortLongestFirst(order.begin() + static_cast<std::ptrdiff_t>(begin),
                     order.begin() + static_cast<std::ptrdiff_t>(end), lengths);
  }
  // Shuffle the full windows as blocks; a short last window keeps its place at the end.
  const std::size_t full_windows = order.size() / window_size;
  std::vector<std::size_t> window_order(full_windows);
  for (std::size_t i = 0; i < full_windows; ++i) window_order[i] = i;
  std::mt19937_64 generator = WindowShuffleGenerator(seed, epoch);
  for (std::size_t i = full_windows; i > 1; --i) {
    std::swap(window_order[i - 1], window_order[UniformBelow(generator, i)]);
  }
  std::vector<std::size_t> grouped;
  grouped.reserve(order.size());
  for (std::size_t window : window_order) {
    const auto begin = order.begin() + static_cast<std::ptrdiff_t>(window * window_size);
    grouped.insert(grouped.end(), begin, begin + static_cast<std::ptrdiff_t>(window_size));
  }
  grouped.insert(grouped.end(),
                 order.begin() + static_cast<std::ptrdiff_t>(full_windows * window_size),
                 order.end());
  return grouped;
}

std::vector<Window> PlanEpoch(const std::vector<std::size_t>& lengths,
                              const EpochPlanOptions& options, int64_t epoch) {
  if (options.micro_batch_size < 1 || options.accumulation_steps < 1) {
    throw std::invalid_argument("micro_batch_size and accumulation_steps must be at least 1");
  }
  const auto window_size =
      static_cast<std::size_t>(options.micro_batch_size * options.accumulation_steps);
  std::vector<std::size_t> order =
      options.group_by_length ? LengthGroupedOrder(lengths, options.seed, epoch, window_size)
                              : EpochOrder(lengths.size(), options.seed, epoch);
  for (std::size_t begin = 0; begin < order.size(); begin += window_size) {
    const std::size_t end = std::min(order.size(), begin + window_size);
    SortLongestFirst(order.begin() + static_cast<std::ptrdiff_t>(begin),
                     order.begin() + static_cast<std::ptrdiff_t>(end), lengths);
  }
  return PlanWindows(order, options.micro_batch_size, options.accumulation_steps);
}

PaddingCount CountPadding(const std::vector<Window>& windows,
                          const std::vector<std::size_t>& lengths) {
  PaddingCount count;
  for (const Window& window : windows) {
    for (std::size_t m = 0; m < window.micro_batches.size(); ++m) {
      const std::vector<std::size_t>& micro_batch = window.micro_batches[m];
      // Row lengths: an example each, or a packed row's examples end to end.
      std::size_t longest = 0;
      std::size_t next = 0;
      for (std::size_t row = 0; row < window.rows(m); ++row) {
        const std::size_t examples = window.packed() ? window.examples_per_row[m][row] : 1;
        std::size_t row_tokens = 0;
        for (std::size_t e = 0; e < examples; ++e) row_tokens += lengths[micro_batch[next++]];
        longest = std::max(longest, row_tokens);
        count.tokens += static_cast<int64_t>(row_tokens);
      }
      count.slots += static_cast<int64_t>(longest * window.rows(m));
    }
  }
  return count;
}

Window RecutWindow(const Window& window, int64_t micro_batch_size) {
  if (window.packed()) return RecutPackedWindow(window, micro_batch_size);
  std::vector<std::size_t> examples;
  for (const auto& micro_batch : window.micro_batches) {
    examples.insert(examples.end(), micro_batch.begin(), micro_batch.end());
  }
  const std::vector<Window> cut =
      PlanWindows(examples, micro_batch_size,
                  (static_cast<int64_t>(examples.size()) + micro_batch_size - 1) / micro_batch_size);
  return cut.empty() ? Window{} : cut.front();
}

int64_t LargestDivisorAtMost(int64_t total, int64_t limit) {
  for (int64_t divisor = std::min(total, limit); divisor > 1; --divisor) {
    if (total % divisor == 0) return divisor;
  }
  return 1;
}

}  // namespace ft::train
