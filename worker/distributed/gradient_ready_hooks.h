// When does the backward finish a parameter's gradient? Autograd accumulates a leaf's gradient
// in one node per parameter (AccumulateGrad), which runs once per backward, after every use of
// the parameter in the graph has contributed (a tied parameter included). A hook after that node
// is the moment the gradient is final, the signal that DDP's Reducer overlaps its all-reduce on.
// A parameter the backward does not reach gets no call; one it reaches with nothing flowing in (an
// undefined incoming gradient) gets a call that says so. Reentrant activation checkpointing
// (worker/models/activation_checkpoint.h) hands a block's parameters their gradients in a nested
// backward: the hook still fires, but the outer graph does not show those parameters, so
// "unreached by the graph" cannot be read as "will get no gradient" (DDP's find_unused_parameters
// makes that mistake with reentrant checkpointing).
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace torch::autograd {
struct Node;
}  // namespace torch::autograd

namespace ft::distributed {

class GradientReadyHooks {
 public:
  // on_ready(i, received) runs on the backward's thread each time parameters[i]'s accumulation
  // node ran; its .grad is then final for that backward. received: a gradient flowed in (the
  // node added or stored one), as opposed to an undefined one (the node left .grad as it was).
  using OnReady = std::function<void(std::size_t parameter, bool received)>;
  GradientReadyHooks(const std::vector<torch::Tensor>& parameters, OnReady on_ready);
  ~GradientReadyHooks();  // removes the hooks: they point at this object
  GradientReadyHooks(const GradientReadyHooks&) = delete;
  GradientReadyHooks& operator=(const GradientReadyHooks&) = delete;

 private:
  // Held, as DDP's Reducer holds them: autograd keeps only a weak pointer to a leaf's node, and
  // a node recreated between two backwards would have lost the hook.
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators_;
  std::vector<uintptr_t> hook_keys_;
  OnReady on_ready_;
};

}  // namespace ft::distributed
