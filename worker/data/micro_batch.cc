#include "worker/data/micro_batch.h"

#include <algorithm>
#include <stdexcept>

#include "common/tokenize/byte_tokenizer.h"

namespace ft::train {

MicroBatch CollateMicroBatch(const TokenizedSplit& split, const std::vector<std::size_t>& indices,
                             const torch::Device& device) {
  if (indices.empty()) throw std::invalid_argument("cannot collate an empty micro-batch");
  std::size_t longest = 0;
  for (std::size_t index : indices) longest = std::max(longest, split.input_ids.at(index).size());

  // Filled element by element rather than with torch::full/zeros: no intra-op parallelism, so
  // that collating on the prefetch thread never competes with the model for LibTorch's pool.
  const int64_t rows = static_cast<int64_t>(indices.size());
  const int64_t columns = static_cast<int64_t>(longest);
  torch::Tensor input_ids = torch::empty({rows, columns}, torch::kInt64);
  torch::Tensor attention_mask = torch::empty({rows, columns}, torch::kInt64);
  const bool causal_lm = split.causal_lm();
  torch::Tensor labels =
      causal_lm ? torch::empty({rows, columns}, torch::kInt64) : torch::empty({rows}, torch::kInt64);
  int64_t* ids_data = input_ids.data_ptr<int64_t>();
  int64_t* mask_data = attention_mask.data_ptr<int64_t>();
  int64_t* labels_data = labels.data_ptr<int64_t>();

  MicroBatch batch;
  for (int64_t row = 0; row < rows; ++row) {
    const TokenSpan ids = split.input_ids[indices[row]];
    const auto length = static_cast<int64_t>(ids.size());
    ids.CopyTo(ids_data + row * columns);
    std::fill(ids_data + row * columns + length, ids_data + (row + 1) * columns,
              tokenize::ByteTokenizer::kPadId);
    std::fill(mask_data + row * columns, mask_data + row * columns + length, int64_t{1});
    std::fill(mask_data + row * columns + length, mask_data + (row + 1) * columns, int64_t{0});
    batch.tokens += length;
    if (!causal_lm) {
      labels_data[row] = split.labels[indices[row]];
      continue;
    }
    const TokenSpan targets = split.target_mask[indices[row]];
    int64_t* row_labels = labels_data + row * columns;
    for (int64_t t = 0; t < length; ++t) {
      const bool target = targets[static_cast<std::size_t>(t)] != 0;
      row_labels[t] = target ? ids[static_cast<std::size_t>(t)] : kIgnoredLabel;
      batch.targets += target ? 1 : 0;
    }
    std::fill(row_labels + length, row_labels + columns, kIgnoredLabel);
  }
  if (!causal_lm) batch.targets = rows;
  batch.examples = rows;
  batch.input_ids = input_ids;
  batch.attention_mask = attention_mask;
  batch.labels = labels;
  return ToDevice(std::move(batch), device);
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
