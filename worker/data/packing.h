// Packing for causal_lm jobs (JobSpec.packing): each window's examples are laid end to end in rows
// of at most max_seq_length tokens, and the rows, not the examples, are cut into micro-batches of
// micro_batch_size rows. The window keeps its examples (micro_batch_size x accumulation_steps of
// them), so its loss divisor, the window's target tokens, and therefore its gradient are those of
// the unpacked window: packing changes how many rows are computed, not what is learned. A window
// then has as many micro-batches as its rows need, often fewer than accumulation_steps.
//
// Rows are filled best-fit decreasing, as TRL's "bfd" packing does: the examples, longest first
// (the epoch plan's order inside a window), each go into the row with the least room left that
// still holds them, else into a new row. Every example fits a row: max_seq_length truncated it.
// The model keeps attention and positions inside each example (micro_batch.h's attention mask).
// Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/data/example_sampler.h"

namespace ft::train {

// The examples of `window`, in its order, as rows: lists of examples laid end to end, each row at
// most row_length tokens (lengths[i]: example i's tokens). Throws std::invalid_argument for an
// example longer than row_length.
std::vector<std::vector<std::size_t>> PackRows(const std::vector<std::size_t>& examples,
                                               const std::vector<std::size_t>& lengths,
                                               std::size_t row_length);

// `window` packed: PackRows over all its examples, the rows sorted by their tokens (longest
// first, ties in order) and cut into micro-batches of rows_per_micro_batch rows (the last may
// hold fewer).
Window PackWindow(const Window& window, const std::vector<std::size_t>& lengths,
                  std::size_t row_length, int64_t rows_per_micro_batch);

// PackWindow for every window of an epoch's plan.
std::vector<Window> PackWindows(const std::vector<Window>& windows,
                                const std::vector<std::size_t>& lengths, std::size_t row_length,
                                int64_t rows_per_micro_batch);

// A packed window's rows cut again into micro-batches of rows_per_micro_batch rows (after a CUDA
// out-of-memory error lowered the micro-batch).
Window RecutPackedWindow(const Window& window, int64_t rows_per_micro_batch);

}  // namespace ft::train
