#include "worker/data/micro_batch.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "common/tokenize/byte_tokenizer.h"

namespace ft::train {

MicroBatch CollateMicroBatch(const TokenizedSplit& split, const std::vector<std::size_t>& indices,
                             const torch::Device& device) {
  return CollatePackedMicroBatch(split, indices, std::vector<std::size_t>(indices.size(), 1),
                                 device);
}

MicroBatch CollatePackedMicroBatch(const TokenizedSplit& split,
                                   const std::vector<std::size_t>& indices,
                                   const std::vector<std::size_t>& examples_per_row,
                                   const torch::Device& device) {
  if (indices.empty()) throw std::invalid_argument("cannot collate an empty micro-batch");
  std::size_t placed = 0;
  std::size_t longest = 0;
  for (std::size_t count : examples_per_row) {
    std::size_t row_tokens = 0;
    for (std::size_t e = 0; e < count; ++e) {
      row_tokens += split.input_ids.at(indices.at(placed++)).size();
    }
    longest = std::max(longest, row_tokens);
  }
  if (placed != indices.size()) {
    throw std::invalid_argument("a packed micro-batch's rows hold " + std::to_string(placed) +
                                " examples, not its " + std::to_string(indices.size()));
  }

  // Filled element by element rather than with torch::full/zeros: no intra-op parallelism, so
  // that collating on the prefetch thread never competes with the model for LibTorch's pool.
  const auto rows = static_cast<int64_t>(examples_per_row.size());
  const auto columns = static_cast<int64_t>(longest);
  torch::Tensor input_ids = torch::empty({rows, columns}, torch::kInt64);
  torch::Tensor attention_mask = torch::empty({rows, columns}, torch::kInt64);
  const bool causal_lm = split.causal_lm();
  torch::Tensor labels =
      causal_lm ? torch::empty({rows, columns}, torch::kInt64) : torch::empty({rows}, torch::kInt64);
  int64_t* ids_data = input_ids.data_ptr<int64_t>();
  int64_t* mask_data = attention_mask.data_ptr<int64_t>();
  int64_t* labels_data = labels.data_ptr<int64_t>();

  MicroBatch batch;
  std::size_t next = 0;
  for (int64_t row = 0; row < rows; ++row) {
    int64_t* row_ids = ids_data + row * columns;
    int64_t* row_mask = mask_data + row * columns;
    int64_t* row_labels = causal_lm ? labels_data + row * columns : nullptr;
    int64_t filled = 0;
    for (std::size_t e = 0; e < examples_per_row[static_cast<std::size_t>(row)]; ++e) {
      const std::size_t index = indices[next++];
      const TokenSpan ids = split.input_ids[index];
      const auto length = static_cast<int64_t>(ids.size());
      ids.CopyTo(row_ids + filled);
      std::fill(row_mask + filled, row_mask + filled + length, static_cast<int64_t>(e + 1));
      if (!causal_lm) {
        labels_data[row] = split.labels[index];
      } else {
        const TokenSpan targets = split.target_mask[index];
        for (int64_t t = 0; t < length; ++t) {
          const bool target = targets[static_cast<std::size_t>(t)] != 0;
          row_labels[filled + t] = target ? ids[static_cast<std::size_t>(t)] : kIgnoredLabel;
          batch.targets += target ? 1 : 0;
        }
      }
      filled += length;
    }
    std::fill(row_ids + filled, row_ids + columns, tokenize::ByteTokenizer::kPadId);
    std::fill(row_mask + filled, row_mask + columns, int64_t{0});
    if (causal_lm) std::fill(row_labels + filled, row_labels + columns, kIgnoredLabel);
    batch.tokens += filled;
  }
  if (!causal_lm) batch.targets = rows;
  batch.examples = static_cast<int64_t>(indices.size());
  batch.packed = batch.examples > rows;
  batch.input_ids = input_ids;
  batch.attention_mask = attention_mask;
  batch.labels = labels;
  return ToDevice(std::move(batch), device);
}

MicroBatch CollateWindowMicroBatch(const TokenizedSplit& split, const Window& window,
                                   std::size_t m, const torch::Device& device) {
  if (!window.packed()) return CollateMicroBatch(split, window.micro_batches.at(m), device);
  return CollatePackedMicroBatch(split, window.micro_batches.at(m), window.examples_per_row.at(m),
                                 device);
}

MicroBatch SliceRows(const MicroBatch& batch, int64_t begin, int64_t end) {
  MicroBatch slice;
  slice.packed = batch.packed;
  const torch::Tensor mask = batch.attention_mask.slice(0, begin, end);
  const torch::Tensor real = mask.ne(0);
  // Right padding: the longest row's length is the last column any row uses.
  const int64_t longest = real.any(0).nonzero().max().item<int64_t>() + 1;
  slice.input_ids = batch.input_ids.slice(0, begin, end).narrow(1, 0, longest);
  slice.attention_mask = mask.narrow(1, 0, longest);
  slice.tokens = real.sum().item<int64_t>();
  slice.examples = batch.packed ? mask.amax(1).sum().item<int64_t>() : end - begin;
  if (batch.labels.dim() == 2) {  // a causal LM's token labels
    slice.labels = batch.labels.slice(0, begin, end).narrow(1, 0, longest);
    slice.targets = slice.labels.ne(kIgnoredLabel).sum().item<int64_t>();
  } else {
    slice.labels = batch.labels.slice(0, begin, end);
    slice.targets = end - begin;
  }
  return slice;
}

MicroBatch ToDevice(MicroBatch batch, const torch::Device& device) {
  if (batch.input_ids.device() == device) return batch;
  // From pinned memory (the prefetcher pins for CUDA) the copies overlap with compute.
  const bool non_blocking = batch.input_ids.is_pinned();
  batch.input_ids = batch.input_ids.to(device, non_blocking);
  batch.attention_mask = batch.attention_mask.to(device, non_blocking);
  batch.labels = batch.labels.to(device, non_blocking);
  return batch;
}

}  // namespace ft::train
