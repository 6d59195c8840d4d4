#include "worker/data/packing.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ft::train {
namespace {

// A window's rows cut into micro-batches of `per_micro_batch` rows.
Window CutRows(const std::vector<std::vector<std::size_t>>& rows, int64_t per_micro_batch) {
  if (per_micro_batch < 1) throw std::invalid_argument("micro_batch_size must be at least 1");
  Window window;
  const auto step = static_cast<std::size_t>(per_micro_batch);
  for (std::size_t first = 0; first < rows.size(); first += step) {
    const std::size_t end = std::min(rows.size(), first + step);
    std::vector<std::size_t> examples;
    std::vector<std::size_t> examples_per_row;
    for (std::size_t row = first; row < end; ++row) {
      examples.insert(examples.end(), rows[row].begin(), rows[row].end());
      examples_per_row.push_back(rows[row].size());
    }
    window.micro_batches.push_back(std::move(examples));
    window.examples_per_row.push_back(std::move(examples_per_row));
  }
  return window;
}

// The rows of a packed window, in order.
std::vector<std::vector<std::size_t>> RowsOf(const Window& window) {
  std::vector<std::vector<std::size_t>> rows;
  for (std::size_t m = 0; m < window.micro_batches.size(); ++m) {
    auto next = window.micro_batches[m].begin();
    for (std::size_t count : window.examples_per_row.at(m)) {
      rows.emplace_back(next, next + static_cast<std::ptrdiff_t>(count));
      next += static_cast<std::ptrdiff_t>(count);
    }
  }
  return rows;
}

}  // namespace

std::vector<std::vector<std::size_t>> PackRows(const std::vector<std::size_t>& examples,
                                               const std::vector<std::size_t>& lengths,
                                               std::size_t row_length) {
  std::vector<std::vector<std::size_t>> rows;
  std::vector<std::size_t> room;  // room[r]: tokens row r can still take
  for (std::size_t example : examples) {
    const std::size_t length = lengths.at(example);
    if (length > row_length) {
      throw std::invalid_argument("example " + std::to_string(example) + " has " +
                                  std::to_string(length) + " tokens, more than a packed row's " +
                                  std::to_string(row_length));
    }
    // Best fit: the fullest row that still holds the example (the first of equals).
    std::size_t best = rows.size();
    for (std::size_t row = 0; row < rows.size(); ++row) {
      if (room[row] >= length && (best == rows.size() || room[row] < room[best])) best = row;
    }
    if (best == rows.size()) {
      rows.emplace_back();
      room.push_back(row_length);
    }
    rows[best].push_back(example);
    room[best] -= length;
  }
  return rows;
}

Window PackWindow(const Window& window, const std::vector<std::size_t>& lengths,
                  std::size_t row_length, int64_t rows_per_micro_batch) {
  std::vector<std::size_t> examples;
  for (const auto& micro_batch : window.micro_batches) {
    examples.insert(examples.end(), micro_batch.begin(), micro_batch.end());
  }
  std::vector<std::vector<std::size_t>> rows = PackRows(examples, lengths, row_length);
  // Longest rows first, so that each micro-batch holds rows of similar length and pads little.
  const auto tokens = [&lengths](const std::vector<std::size_t>& row) {
    std::size_t total = 0;
    for (std::size_t example : row) total += lengths[example];
    return total;
  };
  std::stable_sort(rows.begin(), rows.end(),
                   [&tokens](const auto& a, const auto& b) { return tokens(a) > tokens(b); });
  return CutRows(rows, rows_per_micro_batch);
}

std::vector<Window> PackWindows(const std::vector<Window>& windows,
                                const std::vector<std::size_t>& lengths, std::size_t row_length,
                                int64_t rows_per_micro_batch) {
  std::vector<Window> packed;
  packed.reserve(windows.size());
  for (const Window& window : windows) {
    packed.push_back(PackWindow(window, lengths, row_length, rows_per_micro_batch));
  }
  return packed;
}

Window RecutPackedWindow(const Window& window, int64_t rows_per_micro_batch) {
  return CutRows(RowsOf(window), rows_per_micro_batch);
}

}  // namespace ft::train
