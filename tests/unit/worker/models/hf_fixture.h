// Reading the Hugging Face reference fixtures (tests/fixtures/hf, written by
// tests/gpu/hf_reference.py on a lent GPU host): their folder, JSON, and nested lists as tensors.
// Torch test translation units only.
#pragma once

#include <gtest/gtest.h>
#include <torch/ordered_dict.h>
#include <torch/types.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ft::testing {

inline std::filesystem::path HfFixtureRoot() {
  const char* source = std::getenv("FT_SOURCE_DIR");
  return std::filesystem::path(source != nullptr ? source : FT_SOURCE_DIR_FALLBACK) /
         "tests/fixtures/hf";
}

inline nlohmann::json ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  return nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}

// A JSON list of equally long lists of numbers as a [rows, columns] tensor.
inline torch::Tensor JsonMatrix(const nlohmann::json& rows, torch::ScalarType dtype) {
  std::vector<double> values;
  const auto height = static_cast<int64_t>(rows.size());
  const auto width = static_cast<int64_t>(rows[0].size());
  for (const nlohmann::json& row : rows) {
    for (const nlohmann::json& value : row) values.push_back(value.get<double>());
  }
  return torch::tensor(values, torch::kFloat64).view({height, width}).to(dtype);
}

inline double MaxDifference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

inline double RelativeDifference(double ours, double theirs) {
  return std::abs(ours - theirs) / std::max(1.0, std::abs(theirs));
}

// The largest differences of one forward + backward from transformers', per quantity.
struct ParityFigures {
  double logits = 0;
  double loss = 0;
  double grad_norm = 0;         // relative
  double tensor_grad_norm = 0;  // relative, the worst tensor
  std::vector<std::string> names_only_here;
  std::vector<std::string> names_only_there;
};

// Each parameter's gradient norm (those with a gradient), and the norm of them all.
struct GradientNorms {
  double total = 0;
  std::map<std::string, double> per_tensor;
};

inline GradientNorms NormsOfGradients(
    const torch::OrderedDict<std::string, torch::Tensor>& parameters) {
  GradientNorms norms;
  torch::Tensor sum = torch::zeros({}, torch::kFloat64);
  for (const auto& item : parameters) {
    if (!item.value().grad().defined()) continue;
    const torch::Tensor grad = item.value().grad().to(torch::kFloat64);
    norms.per_tensor[item.key()] = grad.norm().item<double>();
    sum += grad.pow(2).sum();
  }
  norms.total = sum.sqrt().item<double>();
  return norms;
}

// The gradient-norm figures against the fixture's "grad_norm" and "grad_norms" (under
// transformers' parameter names).
inline void CompareGradientNorms(const GradientNorms& ours, const nlohmann::json& theirs,
                                 ParityFigures& figures) {
  figures.grad_norm = RelativeDifference(ours.total, theirs["grad_norm"].get<double>());
  for (const auto& [name, norm] : theirs["grad_norms"].items()) {
    const auto it = ours.per_tensor.find(name);
    if (it == ours.per_tensor.end()) {
      figures.names_only_there.push_back(name);
      continue;
    }
    figures.tensor_grad_norm =
        std::max(figures.tensor_grad_norm, RelativeDifference(it->second, norm.get<double>()));
  }
  for (const auto& [name, norm] : ours.per_tensor) {
    if (!theirs["grad_norms"].contains(name)) figures.names_only_here.push_back(name);
  }
}

inline void ExpectParity(const ParityFigures& figures, const std::string& where,
                         double tolerance) {
  EXPECT_LE(figures.logits, tolerance) << where << " logits";
  EXPECT_LE(figures.loss, tolerance) << where << " loss";
  EXPECT_LE(figures.grad_norm, tolerance) << where << " gradient norm (relative)";
  EXPECT_LE(figures.tensor_grad_norm, tolerance) << where << " per-tensor gradient norm";
  EXPECT_TRUE(figures.names_only_here.empty())
      << where << ": we have gradients transformers has not, e.g. " << figures.names_only_here[0];
  EXPECT_TRUE(figures.names_only_there.empty())
      << where << ": transformers has parameters we lack, e.g. " << figures.names_only_there[0];
}

}  // namespace ft::testing
