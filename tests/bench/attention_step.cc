// Fused CPU attention (worker/models/fused_attention.h) against the LibTorch operators it
// replaces, forward + backward, on BLOOM's shapes: query, key and value sliced from one fused
// projection as BLOOM does, its ALiBi-and-mask bias over right-padded rows (a quarter of the
// tokens padding), the gradient reaching the projection. Repeats alternate the two sides in one
// process; best and median per side and their ratio.
//
//   attention_step [--repeats N] [--threads N]
#include <ATen/Parallel.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "worker/models/bloom_model.h"
#include "worker/models/fused_attention.h"
#include "worker/models/transformer_parts.h"

namespace {

struct Shape {
  const char* model;
  int64_t batch;
  int64_t heads;
  int64_t dim;
  int64_t seq;
};

using Attention = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&,
                                              const torch::Tensor&, const torch::Tensor&, double)>;

// One forward + backward, in seconds.
double TimeStep(const Attention& attention, const torch::Tensor& fused, const torch::Tensor& bias,
                const torch::Tensor& upstream, double scale) {
  const torch::Tensor input = fused.detach().requires_grad_(true);
  const auto start = std::chrono::steady_clock::now();
  const torch::Tensor output =
      attention(input.select(3, 0).transpose(1, 2), input.select(3, 1).transpose(1, 2),
                input.select(3, 2).transpose(1, 2), bias, scale);
  output.backward(upstream);
  const auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(end - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void Measure(const Shape& shape, int repeats) {
  torch::manual_seed(1);
  torch::Tensor mask = torch::ones({shape.batch, shape.seq}, torch::kInt64);
  for (int64_t row = 0; row < shape.batch; row += 2) {
    mask[row].narrow(0, shape.seq / 2, shape.seq / 2).zero_();  // half the rows half padding
  }
  const torch::Tensor alibi = ft::models::BuildAlibi(mask, shape.heads, torch::kFloat32);
  const torch::Tensor bias = ft::models::BloomAttentionBias(
      alibi, ft::models::AttentionBlockedMask(mask, /*causal=*/true));
  const torch::Tensor fused = torch::randn({shape.batch, shape.seq, shape.heads, 3, shape.dim});
  const torch::Tensor upstream = torch::randn({shape.batch, shape.seq, shape.heads * shape.dim});
  const double scale = 1.0 / std::sqrt(static_cast<double>(shape.dim));
  const Attention fused_path = ft::models::FusedAttentionWithBias;
  const Attention ops_path = ft::models::AttentionWithBiasOps;
  std::vector<double> fused_times;
  std::vector<double> ops_times;
  for (int warm = 0; warm < 2; ++warm) {
    TimeStep(fused_path, fused, bias, upstream, scale);
    TimeStep(ops_path, fused, bias, upstream, scale);
  }
  for (int r = 0; r < repeats; ++r) {
    fused_times.push_back(TimeStep(fused_path, fused, bias, upstream, scale));
    ops_times.push_back(TimeStep(ops_path, fused, bias, upstream, scale));
  }
  const double fused_best = *std::min_element(fused_times.begin(), fused_times.end());
  const double ops_best = *std::min_element(ops_times.begin(), ops_times.end());
  std::printf(
      "%-10s %3lld x %3lld heads x dim %3lld, seq %4lld | ops %8.3f / %8.3f ms | fused "
      "%8.3f / %8.3f ms | ops/fused best %.2fx, median %.2fx\n",
      shape.model, static_cast<long long>(shape.batch), static_cast<long long>(shape.heads),
      static_cast<long long>(shape.dim), static_cast<long long>(shape.seq), 1e3 * ops_best,
      1e3 * Median(ops_times), 1e3 * fused_best, 1e3 * Median(fused_times), ops_best / fused_best,
      Median(ops_times) / Median(fused_times));
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--repeats") == 0) {
      repeats = std::atoi(argv[i + 1]);
    } else if (std::strcmp(argv[i], "--threads") == 0) {
      at::set_num_threads(std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: attention_step [--repeats N] [--threads N]\n");
      return 2;
    }
  }
  std::printf("threads %d, repeats %d (alternated), best / median, forward + backward\n",
              at::get_num_threads(), repeats);
  const std::vector<Shape> shapes = {
      {"bloom-small", 16, 8, 32, 32},  {"bloom-small", 16, 8, 32, 64},
      {"bloom-small", 16, 8, 32, 128}, {"bloom-560m", 8, 16, 64, 64},
      {"bloom-560m", 8, 16, 64, 128},  {"bloom-560m", 4, 16, 64, 512},
  };
  for (const Shape& shape : shapes) Measure(shape, repeats);
  return 0;
}
