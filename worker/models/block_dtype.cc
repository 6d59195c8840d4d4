#include "worker/models/block_dtype.h"

#include "worker/adapters/lora_layer.h"

namespace ft::models {
namespace {

thread_local torch::ScalarType block_dtype = torch::kFloat32;

}  // namespace

FrozenBlockDtype::FrozenBlockDtype(torch::ScalarType dtype) : previous_(block_dtype) {
  block_dtype = dtype;
}

FrozenBlockDtype::~FrozenBlockDtype() { block_dtype = previous_; }

void SettleBlock(torch::nn::Module& block) {
  if (block_dtype == torch::kFloat32) return;
  for (const auto& module : block.modules(/*include_self=*/true)) {
    if (auto* layer = dynamic_cast<adapters::LoraLayer*>(module.get())) {
      layer->SetBaseDtype(block_dtype);
    }
  }
}

}  // namespace ft::models
