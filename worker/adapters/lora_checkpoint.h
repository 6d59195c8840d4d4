// What a LoRA job's checkpoints hold of the model: the trainable tensors only (updates and head),
// never the frozen base, which the job rebuilds from its model; and a hash of that base, so that
// a checkpoint is refused on top of another base. Include only from Torch translation units.
#pragma once

#include <torch/nn/module.h>
#include <torch/serialize/archive.h>

#include <string>

namespace ft::adapters {

void SaveTrainableTensors(torch::nn::Module& model, torch::serialize::OutputArchive& archive);
// Throws c10::Error naming the tensor when the archive lacks one.
void LoadTrainableTensors(torch::nn::Module& model, torch::serialize::InputArchive& archive);

// A content hash of every frozen parameter (names, dtypes, shapes and bytes), 16 hex digits.
std::string FrozenWeightsHash(torch::nn::Module& model);

}  // namespace ft::adapters
