#include "train/micro_batch.h"

#include <algorithm>
#include <stdexcept>

#include "tokenize/byte_tokenizer.h"

namespace ft::train {

MicroBatch CollateMicroBatch(const TokenizedSplit& split, const std::vector<std::size_t>& indices,
                             const torch::Device& device) {
  if (indices.empty()) throw std::invalid_argument("cannot collate an empty micro-batch");
  std::size_t longest = 0;
  for (std::size_t index : indices) longest = std::max(longest, split.input_ids.at(index).size());

  const int64_t rows = static_cast<int64_t>(indices.size());
  const int64_t columns = static_cast<int64_t>(longest);
  torch::Tensor input_ids =
      torch::full({rows, columns}, tokenize::ByteTokenizer::kPadId, torch::kInt64);
  torch::Tensor attention_mask = torch::zeros({rows, columns}, torch::kInt64);
  torch::Tensor labels = torch::empty({rows}, torch::kInt64);
  int64_t* ids_data = input_ids.data_ptr<int64_t>();
  int64_t* mask_data = attention_mask.data_ptr<int64_t>();
  int64_t* labels_data = labels.data_ptr<int64_t>();

  MicroBatch batch;
  for (int64_t row = 0; row < rows; ++row) {
    const std::vector<int64_t>& ids = split.input_ids[indices[row]];
    std::copy(ids.begin(), ids.end(), ids_data + row * columns);
    std::fill_n(mask_data + row * columns, ids.size(), 1);
    labels_data[row] = split.labels[indices[row]];
    batch.tokens += static_cast<int64_t>(ids.size());
  }
  batch.examples = rows;
  batch.input_ids = input_ids.to(device);
  batch.attention_mask = attention_mask.to(device);
  batch.labels = labels.to(device);
  return batch;
}

}  // namespace ft::train
