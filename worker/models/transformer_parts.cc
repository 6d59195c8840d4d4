#include "worker/models/transformer_parts.h"

#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/utils.h>

#include <limits>
#include <stdexcept>

#include "worker/models/fused_attention.h"
#include "worker/models/tanh_gelu.h"
#include "worker/models/thread_generator.h"

namespace ft::models {

adapters::AdaptableLinear MakeLinear(int64_t in, int64_t out, bool bias) {
  return adapters::AdaptableLinear(torch::nn::LinearOptions(in, out).bias(bias));
}

torch::nn::LayerNorm MakeLayerNorm(int64_t width, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({width}).eps(eps));
}

std::shared_ptr<torch::nn::Module> Group(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

torch::Tensor Dropout(const torch::Tensor& x, double rate, bool training) {
  return training && rate > 0 ? ThisThreadsDropout(x, rate) : x;
}

torch::Tensor Activate(const std::string& name, const torch::Tensor& x) {
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return TanhGelu(x);
  if (name == "relu") return torch::relu(x);
  if (name == "silu") return torch::silu(x);
  throw std::runtime_error("activation '" + name + "' is not implemented");
}

torch::Tensor PositionsInExamples(const torch::Tensor& attention_mask) {
  const int64_t seq = attention_mask.size(1);
  const torch::Tensor index =
      torch::arange(seq, attention_mask.options().dtype(torch::kInt64)).expand_as(attention_mask);
  // An example starts where the mask's value changes (and at column 0).
  torch::Tensor starts = torch::ones_like(attention_mask, torch::kBool);
  starts.narrow(1, 1, seq - 1)
      .copy_(attention_mask.narrow(1, 1, seq - 1) != attention_mask.narrow(1, 0, seq - 1));
  const torch::Tensor start_index =
      std::get<0>(torch::cummax(torch::where(starts, index, torch::zeros_like(index)), 1));
  return index - start_index;
}

torch::Tensor AttentionBlockedMask(const torch::Tensor& attention_mask, bool causal,
                                   int64_t sliding_window, RowLayout rows) {
  const int64_t batch = attention_mask.size(0);
  const int64_t seq = attention_mask.size(1);
  torch::Tensor blocked = (attention_mask == 0).view({batch, 1, 1, seq});
  if (rows == RowLayout::kPacked) {
    // Block-diagonal: a query sees only the keys of its own example.
    blocked = blocked | (attention_mask.view({batch, 1, seq, 1}) !=
                         attention_mask.view({batch, 1, 1, seq}));
  }
  if (causal) {
    const torch::Tensor positions =
        torch::arange(seq, attention_mask.options().dtype(torch::kInt64));
    const torch::Tensor distance = positions.view({seq, 1}) - positions.view({1, seq});  // q - k
    torch::Tensor not_allowed = distance < 0;
    if (sliding_window > 0) not_allowed = not_allowed | (distance >= sliding_window);
    blocked = blocked | not_allowed.view({1, 1, seq, seq});
  } else {
    blocked = blocked.expand({batch, 1, seq, seq});
  }
  return blocked;
}

torch::Tensor ScaledDotProductAttention(const torch::Tensor& query, const torch::Tensor& key,
                                        const torch::Tensor& value, const torch::Tensor& blocked,
                                        double scale, double dropout) {
  if (dropout == 0 && FusedAttentionApplies(query, key, value, blocked)) {
    return FusedAttentionBlocked(query, key, value, blocked, scale);
  }
  return AttentionBlockedOps(query, key, value, blocked, scale, dropout);
}

torch::Tensor AttentionWithBias(const torch::Tensor& query, const torch::Tensor& key,
                                const torch::Tensor& value, const torch::Tensor& bias,
                                double scale) {
  if (FusedAttentionApplies(query, key, value, bias)) {
    return FusedAttentionWithBias(query, key, value, bias, scale);
  }
  return AttentionWithBiasOps(query, key, value, bias, scale);
}

namespace {

// softmax in at least float32 (Hugging Face upcasts half precision the same way), then times
// value, heads side by side: [batch, queries, heads * dim].
torch::Tensor SoftmaxTimesValue(const torch::Tensor& scores, const torch::Tensor& value,
                                double dropout = 0) {
  const torch::Tensor probabilities =
      torch::softmax(scores, -1, torch::promote_types(scores.scalar_type(), torch::kFloat32))
          .to(value.scalar_type());
  // The callers pass 0 outside training.
  return torch::matmul(Dropout(probabilities, dropout, /*training=*/true), value)
      .transpose(1, 2)
      .reshape({scores.size(0), scores.size(2), -1});
}

}  // namespace

torch::Tensor AttentionBlockedOps(const torch::Tensor& query, const torch::Tensor& key,
                                  const torch::Tensor& value, const torch::Tensor& blocked,
                                  double scale, double dropout) {
  torch::Tensor scores = torch::matmul(query, key.transpose(-1, -2)) * scale;
  // Blocked scores get float32's lowest finite value rather than -inf: a fully blocked row (a
  // padding query) gives a uniform distribution instead of NaN. bf16 and fp16 scores (autocast)
  // are widened first, as the softmax would widen them anyway: that value overflows them.
  scores = scores.to(torch::promote_types(scores.scalar_type(), torch::kFloat32))
               .masked_fill(blocked, std::numeric_limits<float>::lowest());
  return SoftmaxTimesValue(scores, value, dropout);
}

torch::Tensor AttentionWithBiasOps(const torch::Tensor& query, const torch::Tensor& key,
                                   const torch::Tensor& value, const torch::Tensor& bias,
                                   double scale) {
  const int64_t batch = query.size(0);
  const int64_t heads = query.size(1);
  const int64_t queries = query.size(2);
  const int64_t keys = key.size(2);
  const int64_t dim = query.size(3);
  // bias + query key^T * scale as one kernel (Hugging Face computes it the same way): scaling,
  // adding the bias and masking as separate passes over [batch, heads, queries, keys] took as
  // long as the product itself on the CPU.
  const torch::Tensor scores =
      torch::baddbmm(bias.expand({batch, heads, queries, keys}).reshape({-1, queries, keys}),
                     query.reshape({batch * heads, queries, dim}),
                     key.transpose(-1, -2).reshape({batch * heads, dim, keys}),
                     /*beta=*/1.0, /*alpha=*/scale)
          .view({batch, heads, queries, keys});
  return SoftmaxTimesValue(scores, value);
}

torch::Tensor LastTokenPositions(const torch::Tensor& attention_mask) {
  const int64_t seq = attention_mask.size(1);
  const torch::Tensor positions = torch::arange(seq, attention_mask.options().dtype(torch::kInt64));
  // argmax of position * mask: the last 1, for right and left padding alike.
  return (positions * attention_mask.to(torch::kInt64)).argmax(-1);
}

torch::Tensor TakePositions(const torch::Tensor& hidden, const torch::Tensor& positions) {
  const int64_t batch = hidden.size(0);
  return hidden.gather(1, positions.view({batch, 1, 1}).expand({batch, 1, hidden.size(2)}));
}

torch::Tensor TakeQueryRows(const torch::Tensor& blocked, const torch::Tensor& positions) {
  const int64_t batch = positions.size(0);
  const int64_t heads = blocked.size(1);
  const int64_t seq = blocked.size(-1);
  return blocked.expand({batch, heads, seq, seq})
      .gather(2, positions.view({batch, 1, 1, 1}).expand({batch, heads, 1, seq}));
}

RmsNormImpl::RmsNormImpl(int64_t width, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({width}));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  const torch::Tensor wide = x.to(torch::kFloat32);
  const torch::Tensor normed = wide * torch::rsqrt(wide.pow(2).mean(-1, /*keepdim=*/true) + eps_);
  return weight * normed.to(x.scalar_type());
}

Conv1DImpl::Conv1DImpl(int64_t in, int64_t out) {
  weight = register_parameter("weight", torch::empty({in, out}));
  bias = register_parameter("bias", torch::zeros({out}));
}

torch::Tensor Conv1DImpl::forward(const torch::Tensor& x) {
  return WithUpdate(x, torch::matmul(BaseInput(x), weight) + bias);
}

namespace {

// Drawn in float32 whatever the weight's dtype, then rounded: a block already held in bfloat16
// (block_dtype.h) gets the values, and leaves the generator where, a float32 build would.
void FillNormal(torch::Tensor& weight, double std) {
  if (weight.scalar_type() == torch::kFloat32) {
    weight.normal_(0.0, std);
    return;
  }
  weight.copy_(torch::empty(weight.sizes(), weight.options().dtype(torch::kFloat32))
                   .normal_(0.0, std));
}

}  // namespace

void InitializeHfWeights(torch::nn::Module& model, double std) {
  torch::NoGradGuard no_grad;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (auto* linear = module->as<torch::nn::LinearImpl>()) {
      FillNormal(linear->weight, std);
      if (linear->bias.defined()) linear->bias.zero_();
    } else if (auto* conv = module->as<Conv1DImpl>()) {
      FillNormal(conv->weight, std);
      conv->bias.zero_();
    } else if (auto* embedding = module->as<torch::nn::EmbeddingImpl>()) {
      embedding->weight.normal_(0.0, std);
    } else if (auto* layer_norm = module->as<torch::nn::LayerNormImpl>()) {
      layer_norm->weight.fill_(1.0);
      layer_norm->bias.zero_();
    } else if (auto* rms_norm = module->as<RmsNormImpl>()) {
      rms_norm->weight.fill_(1.0);
    }
  }
}

}  // namespace ft::models
