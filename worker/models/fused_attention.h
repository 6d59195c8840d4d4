// Attention in one pass per (batch, head) on the CPU, forward and backward: softmax(scale q k^T,
// masked) v with the probabilities kept for backward, parallel over batch x heads, never going
// through LibTorch's batched products (one OpenBLAS call per head, the least efficient GEMMs of an
// fp32 training step) or separate passes over [batch, heads, queries, keys] for scaling, masking
// and softmax (docs/performance.md). The loops are in attention_kernel.h.
//
// Covers float32 CPU tensors outside autocast, head_dim a multiple of 8, on CPUs with AVX2 and
// FMA (FusedAttentionApplies); callers keep LibTorch's ops for the rest (CUDA, bf16/fp16).
#pragma once

#include <torch/types.h>

namespace ft::models {

// query [batch, heads, queries, dim], key and value [batch, heads, keys, dim]; mask broadcastable
// to [batch, heads, queries, keys] (a float32 additive bias or a bool blocked mask).
bool FusedAttentionApplies(const torch::Tensor& query, const torch::Tensor& key,
                           const torch::Tensor& value, const torch::Tensor& mask);

// softmax(scale q k^T + bias) v as [batch, queries, heads * dim] (heads side by side, the layout
// the output projection takes). The gradient passes through every score, blocked ones included,
// as through baddbmm(bias, q, k^T): BLOOM's attention with its ALiBi-and-mask bias.
torch::Tensor FusedAttentionWithBias(const torch::Tensor& query, const torch::Tensor& key,
                                     const torch::Tensor& value, const torch::Tensor& bias,
                                     double scale);

// The same with scores.masked_fill(blocked, lowest float): blocked scores pass no gradient, and a
// fully blocked row (a padding query) attends uniformly.
torch::Tensor FusedAttentionBlocked(const torch::Tensor& query, const torch::Tensor& key,
                                    const torch::Tensor& value, const torch::Tensor& blocked,
                                    double scale);

}  // namespace ft::models
