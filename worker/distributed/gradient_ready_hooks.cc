#include "worker/distributed/gradient_ready_hooks.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <stdexcept>
#include <string>

namespace ft::distributed {
namespace {

class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(std::size_t index, const GradientReadyHooks::OnReady* on_ready)
      : index_(index), on_ready_(on_ready) {}
  // inputs: what flowed into the accumulation node (the engine keeps them for post hooks).
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& inputs) override {
    (*on_ready_)(index_, !inputs.empty() && inputs[0].defined());
    return outputs;
  }

 private:
  std::size_t index_;
  const GradientReadyHooks::OnReady* on_ready_;
};

}  // namespace

GradientReadyHooks::GradientReadyHooks(const std::vector<torch::Tensor>& parameters,
                                       OnReady on_ready)
    : on_ready_(std::move(on_ready)) {
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (!parameters[i].requires_grad() || !parameters[i].is_leaf()) {
      throw std::invalid_argument("gradient hooks: parameter " + std::to_string(i) +
                                  " is not a leaf that requires a gradient");
    }
    accumulators_.push_back(torch::autograd::impl::grad_accumulator(parameters[i]));
    hook_keys_.push_back(
        accumulators_.back()->add_post_hook(std::make_unique<ReadyHook>(i, &on_ready_)));
  }
}

GradientReadyHooks::~GradientReadyHooks() {
  for (std::size_t i = 0; i < accumulators_.size(); ++i) {
    accumulators_[i]->del_post_hook(hook_keys_[i]);
  }
}

}  // namespace ft::distributed
