#include "worker/models/activation_checkpoint.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include <cstdint>
#include <mutex>

#include "worker/models/thread_generator.h"
#include "worker/models/transformer_parts.h"
#include "worker/train/autocast_state.h"

namespace ft::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Sets the autocast state the forward ran under (CPU and CUDA) for the recomputation, and restores
// the backward's own (autocast is normally off during backward) when the scope ends.
class RecordedAutocast {
 public:
  struct State {
    train::AutocastState cpu;
    train::AutocastState cuda;
  };
  static State Current() {
    return {train::GetAutocast(c10::DeviceType::CPU), train::GetAutocast(c10::DeviceType::CUDA)};
  }
  explicit RecordedAutocast(const State& state) : saved_(Current()) { Apply(state); }
  ~RecordedAutocast() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    Apply(saved_);
  }
  RecordedAutocast(const RecordedAutocast&) = delete;
  RecordedAutocast& operator=(const RecordedAutocast&) = delete;

 private:
  static void Apply(const State& state) {
    train::SetAutocast(c10::DeviceType::CPU, state.cpu);
    train::SetAutocast(c10::DeviceType::CUDA, state.cuda);
  }
  State saved_;
  // Nesting is counted so that the cast-weight cache of this scope is dropped at its end.
  const int64_t nesting_ = at::autocast::increment_nesting();
};

// On the CPU, this thread's: a CPU replica's forward draws from its own (thread_generator.h).
at::Generator DrawingGenerator(const c10::Device& device) {
  return device.is_cpu() ? ThisThreadsCpuGenerator()
                         : at::globalContext().defaultGenerator(device);
}

torch::Tensor GeneratorState(const c10::Device& device) {
  at::Generator generator = DrawingGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void SetGeneratorState(const c10::Device& device, const torch::Tensor& state) {
  at::Generator generator = DrawingGenerator(device);
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// The recomputation must draw the random numbers the forward drew (dropout masks), or the
// gradients belong to another forward pass: the generators are set to the states the forward
// started from, and put back when the scope ends, so that the backward's own draws and everything
// after it are as without checkpointing (torch.utils.checkpoint's preserve_rng_state). The CPU
// generator always, and the block's GPU's when it runs on one.
class ReplayedRng {
 public:
  struct State {
    torch::Tensor cpu;
    torch::Tensor gpu;  // undefined on the CPU
  };
  static State Current(const c10::Device& device) {
    return {GeneratorState(c10::Device(c10::kCPU)),
            device.is_cpu() ? torch::Tensor() : GeneratorState(device)};
  }
  ReplayedRng(const c10::Device& device, const State& state)
      : device_(device), saved_(Current(device)) {
    Apply(state);
  }
  ~ReplayedRng() { Apply(saved_); }
  ReplayedRng(const ReplayedRng&) = delete;
  ReplayedRng& operator=(const ReplayedRng&) = delete;

 private:
  void Apply(const State& state) const {
    SetGeneratorState(c10::Device(c10::kCPU), state.cpu);
    if (state.gpu.defined()) SetGeneratorState(device_, state.gpu);
  }
  const c10::Device device_;
  const State saved_;
};

class CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
 public:
  // Runs with gradient recording off (Function::apply does that): nothing of the block's
  // intermediate tensors is kept.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& hidden,
                               std::vector<torch::Tensor> context, int64_t block_address) {
    const RecordedAutocast::State autocast = RecordedAutocast::Current();
    ctx->saved_data["block"] = block_address;
    ctx->saved_data["cpu_autocast"] = autocast.cpu.enabled;
    ctx->saved_data["cpu_dtype"] = static_cast<int64_t>(autocast.cpu.dtype);
    ctx->saved_data["gpu_autocast"] = autocast.cuda.enabled;
    ctx->saved_data["gpu_dtype"] = static_cast<int64_t>(autocast.cuda.dtype);
    const ReplayedRng::State rng = ReplayedRng::Current(hidden.device());
    ctx->saved_data["cpu_rng"] = rng.cpu;
    if (rng.gpu.defined()) ctx->saved_data["gpu_rng"] = rng.gpu;
    std::vector<torch::Tensor> saved = {hidden};
    saved.insert(saved.end(), context.begin(), context.end());
    ctx->save_for_backward(saved);
    return Block(block_address).BlockForward(hidden, context);
  }

  // Recomputes the block with gradients on and back-propagates through it: the block's
  // parameters receive their gradients directly (as in an ordinary backward), the input's is
  // returned. One gradient per forward argument, undefined for those that need none.
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const torch::Tensor input = saved[0].detach().requires_grad_(saved[0].requires_grad());
    RecordedAutocast::State autocast;
    autocast.cpu.enabled = ctx->saved_data["cpu_autocast"].toBool();
    autocast.cpu.dtype = static_cast<at::ScalarType>(ctx->saved_data["cpu_dtype"].toInt());
    autocast.cuda.enabled = ctx->saved_data["gpu_autocast"].toBool();
    autocast.cuda.dtype = static_cast<at::ScalarType>(ctx->saved_data["gpu_dtype"].toInt());
    torch::Tensor output;
    {
      torch::AutoGradMode enable_grad(true);
      RecordedAutocast recorded(autocast);
      ReplayedRng::State rng{ctx->saved_data["cpu_rng"].toTensor(), torch::Tensor()};
      if (ctx->saved_data.count("gpu_rng") != 0) rng.gpu = ctx->saved_data["gpu_rng"].toTensor();
      const ReplayedRng replayed(input.device(), rng);
      const std::vector<torch::Tensor> context(saved.begin() + 1, saved.end());
      output = Block(ctx->saved_data["block"].toInt()).BlockForward(input, context);
    }
    torch::autograd::backward({output}, {grad_outputs[0]});
    return {input.requires_grad() ? input.grad() : torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }

 private:
  // Autograd's saved data holds IValues, which cannot hold a module reference: the block travels
  // as its address. The model outlives every backward pass through it.
  static CheckpointableBlock& Block(int64_t address) {
    return *reinterpret_cast<CheckpointableBlock*>(static_cast<intptr_t>(address));
  }
};

}  // namespace

torch::Tensor CheckpointedBlockForward(CheckpointableBlock& block, const torch::Tensor& hidden,
                                       const std::vector<torch::Tensor>& context) {
  // An autograd function whose inputs need no gradient is left out of the graph, and the block's
  // parameters would get none: with a frozen base (LoRA) the first block's input, the embedding,
  // needs none. It is marked as needing one, as PEFT's enable_input_require_grads does.
  const torch::Tensor input = hidden.requires_grad() || !torch::GradMode::is_enabled()
                                  ? hidden
                                  : hidden.detach().requires_grad_(true);
  return CheckpointedBlock::apply(input, context,
                                  static_cast<int64_t>(reinterpret_cast<intptr_t>(&block)));
}

torch::Tensor RunBlocks(torch::nn::ModuleList& blocks, torch::Tensor hidden,
                        const std::vector<torch::Tensor>& context, bool checkpoint,
                        const torch::Tensor& output_positions) {
  const std::size_t count = blocks->size();
  for (std::size_t index = 0; index < count; ++index) {
    auto* block = dynamic_cast<CheckpointableBlock*>(blocks[index].get());
    TORCH_CHECK(block != nullptr, "block ", index, " cannot run as a CheckpointableBlock");
    if (index + 1 == count && output_positions.defined()) {
      std::vector<torch::Tensor> with_positions = context;
      with_positions.push_back(output_positions);
      return block->BlockForward(hidden, with_positions);
    }
    hidden = checkpoint ? CheckpointedBlockForward(*block, hidden, context)
                        : block->BlockForward(hidden, context);
  }
  return output_positions.defined() ? TakePositions(hidden, output_positions) : hidden;
}

}  // namespace ft::models
