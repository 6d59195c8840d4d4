#include "worker/models/fused_attention.h"

#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include "worker/models/attention_kernel.h"

namespace ft::models {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The rows of a 4-d tensor whose last dimension is contiguous.
template <typename T>
HeadRows<T> RowsOf(const torch::Tensor& t) {
  return {reinterpret_cast<T*>(t.data_ptr()), t.stride(0), t.stride(1), t.stride(2)};
}

// [batch, rows, heads * dim] (or [batch, rows, heads, dim]) seen as [batch, heads, rows, dim].
template <typename T = float>
HeadRows<T> HeadsSideBySide(const torch::Tensor& t, int64_t heads, int64_t rows, int64_t dim) {
  return {t.data_ptr<float>(), rows * heads * dim, dim, heads * dim};
}

AttentionShape ShapeOf(const torch::Tensor& query, const torch::Tensor& key, double scale) {
  AttentionShape shape;
  shape.batch = query.size(0);
  shape.heads = query.size(1);
  shape.queries = query.size(2);
  shape.keys = key.size(2);
  shape.dim = query.size(3);
  shape.scale = static_cast<float>(scale);
  return shape;
}

ScoreMask MaskOf(const torch::Tensor& mask, bool additive) {
  ScoreMask result;
  if (additive) {
    result.bias = RowsOf<const float>(mask);
  } else {
    result.blocked = RowsOf<const uint8_t>(mask);
  }
  return result;
}

torch::Tensor LastDimContiguous(const torch::Tensor& t) {
  return t.stride(-1) == 1 ? t : t.contiguous();
}

class FusedAttentionFunction : public torch::autograd::Function<FusedAttentionFunction> {
 public:
  // mask: expanded to [batch, heads, queries, keys], last dimension contiguous.
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& query,
                               const torch::Tensor& key, const torch::Tensor& value,
                               const torch::Tensor& mask, bool additive, double scale) {
    const AttentionShape shape = ShapeOf(query, key, scale);
    const torch::Tensor probabilities = torch::empty(
        {shape.batch, shape.heads, shape.queries, shape.PaddedKeys()}, query.options());
    torch::Tensor output =
        torch::empty({shape.batch, shape.queries, shape.heads * shape.dim}, query.options());
    AttentionForward(shape, RowsOf<const float>(query), RowsOf<const float>(key),
                     RowsOf<const float>(value), MaskOf(mask, additive),
                     probabilities.data_ptr<float>(),
                     HeadsSideBySide(output, shape.heads, shape.queries, shape.dim));
    context->save_for_backward({query, key, value, mask, probabilities});
    context->saved_data["additive"] = additive;
    context->saved_data["scale"] = scale;
    return output;
  }

  static variable_list backward(AutogradContext* context, variable_list grads) {
    const variable_list saved = context->get_saved_variables();
    const torch::Tensor& query = saved[0];
    const torch::Tensor& key = saved[1];
    const torch::Tensor& value = saved[2];
    const AttentionShape shape = ShapeOf(query, key, context->saved_data["scale"].toDouble());
    const torch::Tensor grad_output = grads[0].to(torch::kFloat32).contiguous();
    // Gradients laid out as the fused projections produce their inputs ([batch, rows, heads,
    // dim]), handed back as [batch, heads, rows, dim] views.
    const torch::Tensor grad_query =
        torch::empty({shape.batch, shape.queries, shape.heads, shape.dim}, query.options());
    const torch::Tensor grad_key =
        torch::empty({shape.batch, shape.keys, shape.heads, shape.dim}, key.options());
    const torch::Tensor grad_value = torch::empty_like(grad_key);
    const AttentionGradients gradients{
        HeadsSideBySide(grad_query, shape.heads, shape.queries, shape.dim),
        HeadsSideBySide(grad_key, shape.heads, shape.keys, shape.dim),
        HeadsSideBySide(grad_value, shape.heads, shape.keys, shape.dim)};
    AttentionBackward(
        shape, HeadsSideBySide<const float>(grad_output, shape.heads, shape.queries, shape.dim),
        saved[4].data_ptr<float>(), RowsOf<const float>(query), RowsOf<const float>(key),
        RowsOf<const float>(value), MaskOf(saved[3], context->saved_data["additive"].toBool()),
        gradients);
    return {grad_query.transpose(1, 2),
            grad_key.transpose(1, 2),
            grad_value.transpose(1, 2),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

torch::Tensor Run(const torch::Tensor& query, const torch::Tensor& key, const torch::Tensor& value,
                  const torch::Tensor& mask, bool additive, double scale) {
  TORCH_CHECK(AttentionKernelSupported(), "the fused attention needs a CPU with AVX2 and FMA");
  const torch::Tensor expanded_mask =
      LastDimContiguous(mask.expand({query.size(0), query.size(1), query.size(2), key.size(2)}));
  return FusedAttentionFunction::apply(LastDimContiguous(query), LastDimContiguous(key),
                                       LastDimContiguous(value), expanded_mask, additive, scale);
}

bool Float32Cpu(const torch::Tensor& t) {
  return t.defined() && t.device().is_cpu() && t.layout() == torch::kStrided &&
         t.scalar_type() == torch::kFloat32;
}

}  // namespace

bool FusedAttentionApplies(const torch::Tensor& query, const torch::Tensor& key,
                           const torch::Tensor& value, const torch::Tensor& mask) {
  if (!AttentionKernelSupported() || at::autocast::is_cpu_enabled()) return false;
  if (!Float32Cpu(query) || !Float32Cpu(key) || !Float32Cpu(value)) return false;
  if (!mask.defined() || !mask.device().is_cpu() || mask.requires_grad()) return false;
  if (mask.scalar_type() != torch::kFloat32 && mask.scalar_type() != torch::kBool) return false;
  if (query.dim() != 4 || key.sizes() != value.sizes() || key.dim() != 4 || mask.dim() > 4) {
    return false;
  }
  return query.size(3) % 8 == 0 && query.numel() > 0 && key.numel() > 0 &&
         query.size(0) == key.size(0) && query.size(1) == key.size(1) &&
         query.size(3) == key.size(3);
}

torch::Tensor FusedAttentionWithBias(const torch::Tensor& query, const torch::Tensor& key,
                                     const torch::Tensor& value, const torch::Tensor& bias,
                                     double scale) {
  TORCH_CHECK(bias.scalar_type() == torch::kFloat32, "the attention bias must be float32");
  return Run(query, key, value, bias, /*additive=*/true, scale);
}

torch::Tensor FusedAttentionBlocked(const torch::Tensor& query, const torch::Tensor& key,
                                    const torch::Tensor& value, const torch::Tensor& blocked,
                                    double scale) {
  TORCH_CHECK(blocked.scalar_type() == torch::kBool, "the blocked mask must be bool");
  return Run(query, key, value, blocked, /*additive=*/false, scale);
}

}  // namespace ft::models
